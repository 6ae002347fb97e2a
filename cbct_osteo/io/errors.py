"""The error type the io layer raises for input it cannot read.

Modelled on pydicom's errors: the message says which file, what was expected, what was
found, and what the user can do next. The GUI shows ``str(error)`` in a dialog; the command
line prints it and exits non-zero. Writes raise :class:`cbct_osteo.errors.WriteError`; both
are :class:`cbct_osteo.errors.CbctOsteoError`, the one type to catch above ``io``.
"""

from __future__ import annotations

from pathlib import Path

from cbct_osteo.errors import Cancelled, CbctOsteoError


class LoadError(CbctOsteoError):
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


class LoadCancelled(LoadError, Cancelled):
    """The user cancelled a load (the ``cancel`` callback returned True).

    A :class:`LoadError` so callers that only want "did it load?" need one ``except``, and a
    :class:`~cbct_osteo.errors.Cancelled` so the GUI can stay silent for every cancellation.
    """

    def __init__(self, path: str | Path | None, problem: str = "loading cancelled", hint: str = "") -> None:
        CbctOsteoError.__init__(self, path, problem, hint)


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
