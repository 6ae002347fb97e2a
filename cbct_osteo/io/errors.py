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
        self.problem = problem or "unknown problem"
        self.hint = hint
        message = f"{self.path}: {self.problem}" if self.path else self.problem
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


def describe(exc: BaseException) -> str:
    """An exception as one informative line: its message, or its type when the message is empty.

    Some failures carry no text (``MemoryError()``, a bare ``ValueError``); a LoadError built
    from them must still say something.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def is_native_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is a Rust panic surfacing through pyo3 (``pyo3_runtime.PanicException``).

    pyo3 derives it from BaseException, so ``except Exception`` misses it (pylibjpeg-rle raises it
    on corrupt RLE data). It cannot be imported by name; it is recognised by its type's name and
    module, so KeyboardInterrupt and SystemExit are never caught by mistake.
    """
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"
