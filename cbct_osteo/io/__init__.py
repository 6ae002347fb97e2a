"""Input and output below the GUI: DICOM discovery and loading, landmarks and session files."""

from cbct_osteo.io.errors import LoadError

__all__ = ["LoadError"]
