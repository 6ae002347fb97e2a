"""The desktop program (PySide6 + VTK): the only package that imports Qt or VTK widgets.

Widgets mirror the Qt-free logic below them: ``io`` loads, ``reformat`` makes the panoramic and
cross-sections, ``measure.LandmarkModel`` holds the landmarks with undo, ``indices`` computes the
results, ``report`` writes the PDF. Entry point: :func:`cbct_osteo.gui.app.run`.
"""
