"""Landmarks with undo, and the measurements made from them (cortical width, S, I, trabecular)."""
