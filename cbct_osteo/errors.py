"""The errors the program raises for its users, one type per kind of fault.

Modelled on pydicom's ``errors.py``: every message says which file, what is wrong and, where
it helps, what to do next. The GUI shows ``str(error)`` in a dialog; the command line prints it
and exits with status 2. Catch :class:`CbctOsteoError` to handle them all.

- :class:`cbct_osteo.io.errors.LoadError`: an input (scan, landmarks, session, manifest) cannot be read.
- :class:`WriteError`: an output file cannot be written (disk full, no permission).
- :class:`ExportError`: an export cannot be made from this data (e.g. DICOM without source files).
- :class:`PrintError`: the report cannot be printed.
- :class:`Cancelled`: the user stopped the operation; callers stay silent.
"""

from __future__ import annotations

from pathlib import Path


class CbctOsteoError(Exception):
    """A fault the user can act on.

    Parameters
    ----------
    path
        The file or folder at fault (shown first in the message), or ``None``.
    problem
        What is wrong, in words a dentist can act on.
    hint
        Optional: what to try next.
    """

    def __init__(self, path: str | Path | None, problem: str, hint: str = "") -> None:
        self.path = str(path) if path is not None else ""
        self.problem = problem or "unknown problem"  # never an empty message (e.g. from MemoryError())
        self.hint = hint
        message = f"{self.path}: {self.problem}" if self.path else self.problem
        if hint:
            message += f" ({hint})"
        super().__init__(message)

    def __reduce__(self) -> tuple[type, tuple[str | None, str, str]]:
        """Pickle by the constructor's arguments (the default would call ``cls(message)``)."""
        return (type(self), (self.path or None, self.problem, self.hint))


class WriteError(CbctOsteoError):
    """An output file could not be written; any earlier file of that name is unchanged."""


class ExportError(CbctOsteoError):
    """An export (DICOM SR, Encapsulated PDF, Secondary Capture) cannot be made from this case."""


class PrintError(CbctOsteoError):
    """The report could not be sent to the printer."""


class Cancelled(CbctOsteoError):
    """The user cancelled the operation (the ``cancel`` callback returned True); nothing was written."""

    def __init__(self, path: str | Path | None, problem: str = "cancelled", hint: str = "") -> None:
        super().__init__(path, problem, hint)
