"""Reading the small text files users hand us (landmarks, sessions, manifests) with errors that name them.

These files are small (a landmarks file is a few KB, a cohort manifest a few hundred KB), so
anything above :data:`MAX_USER_FILE_BYTES` is refused before it is read, and JSON that nests
deeper than Python can parse or holds a number of thousands of digits is a clear error, not
a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cbct_osteo.io.errors import LoadError

#: The largest landmarks, session or manifest file we read (bytes).
MAX_USER_FILE_BYTES = 64 * 1024 * 1024


def read_user_text(
    path: str | Path, what: str, encoding: str = "utf-8", max_bytes: int | None = MAX_USER_FILE_BYTES
) -> str:
    """The text of ``path``; a missing, unreadable or oversized file raises :class:`LoadError` naming ``what`` it was.

    Pipes (``--landmarks <(...)``) are read like files, up to the same size. ``max_bytes=None``
    reads any size (our own results files, which grow with the cohort).
    """
    source = Path(path)
    try:
        with open(source, "rb") as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise LoadError(source, f"{what} not found") from None
    except IsADirectoryError:
        raise LoadError(source, f"is a folder, not a {what}") from None
    except OSError as exc:
        raise LoadError(source, f"cannot read {what}: {exc.strerror or exc}") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise LoadError(source, f"is larger than {max_bytes / 1e6:g} MB, too large for a {what}")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise LoadError(source, f"cannot read {what}: not {encoding} text ({exc.reason} at byte {exc.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_user_json(path: str | Path, what: str) -> Any:
    """The parsed JSON of ``path``; invalid JSON raises :class:`LoadError` with the line and column."""
    text = read_user_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(path, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise LoadError(path, f"is not a {what}: its JSON nests too deeply") from None
    except ValueError:  # Python refuses integers of more than 4300 digits
        raise LoadError(path, f"is not a {what}: it holds a number too long to read (thousands of digits)") from None


def check_format_header(
    document: Any, source: str | Path, format_name: str, max_version: int, noun: str, format_noun: str
) -> int:
    """Check the ``format``/``version`` header of one of our JSON documents; return its version.

    Landmarks and session files share this rule: accept older versions, refuse newer ones with
    advice, and name the file. ``noun`` says what the file should be ("landmarks file"),
    ``format_noun`` names its version line ("landmarks format").
    """
    if document.get("format") != format_name:
        raise LoadError(source, f"is not a {noun} (format is {document.get('format')!r}, expected {format_name!r})")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise LoadError(source, f"has an invalid {format_noun} version {version!r}")
    if version > max_version:
        raise LoadError(
            source,
            f"was written by a newer cbct-osteo ({format_noun} version {version}, "
            f"this program reads up to {max_version})",
            "update cbct-osteo to open it",
        )
    return version
