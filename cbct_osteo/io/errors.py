"""The one error type the io layer raises.

Modelled on pydicom's errors: the message says which file, what was expected, what was
found, and what the user can do next. The GUI shows ``str(error)`` in a dialog; the command
line prints it and exits non-zero. Nothing else needs to be caught above ``io``.
"""
from __future__ import annotations

from pathlib import Path


class LoadError(Exception):
    """A file or folder could not be read into what the program needs.

    Parameters
    ----------
    path
        The file or folder at fault (shown first in the message).
    problem
        What is wrong, in words a dentist can act on.
    hint
        Optional: what to try next.
    """

    def __init__(self, path: str | Path | None, problem: str, hint: str = "") -> None:
        self.path = str(path) if path is not None else ""
        self.problem = problem
        self.hint = hint
        message = f"{self.path}: {problem}" if self.path else problem
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class LoadCancelled(LoadError):
    """The user cancelled a load (the ``cancel`` callback returned True).

    A subclass of :class:`LoadError` so callers that only want "did it load?" need one
    ``except``; the GUI catches it first to stay silent instead of showing an error dialog.
    """

    def __init__(self, path: str | Path | None, problem: str = "loading cancelled") -> None:
        super().__init__(path, problem)
