"""Reading the small text files users hand us (landmarks, sessions, manifests) with errors that name them."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cbct_osteo.io.errors import LoadError


def read_user_text(path: str | Path, what: str, encoding: str = "utf-8") -> str:
    """The text of ``path``; a missing or unreadable file raises :class:`LoadError` saying which ``what`` it was."""
    source = Path(path)
    try:
        return source.read_text(encoding=encoding)
    except FileNotFoundError:
        raise LoadError(source, f"{what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(source, f"cannot read {what}: {exc}") from None


def read_user_json(path: str | Path, what: str) -> Any:
    """The parsed JSON of ``path``; invalid JSON raises :class:`LoadError` with the line and column."""
    text = read_user_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(path, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def check_format_header(document: Any, source: str | Path, format_name: str, max_version: int,
                        noun: str, format_noun: str) -> int:
    """Check the ``format``/``version`` header of one of our JSON documents; return its version.

    Landmarks and session files share this rule: accept older versions, refuse newer ones with
    advice, and name the file. ``noun`` says what the file should be ("landmarks file"),
    ``format_noun`` names its version line ("landmarks format").
    """
    if document.get("format") != format_name:
        raise LoadError(source, f"is not a {noun} (format is {document.get('format')!r}, expected {format_name!r})")
    version = document.get("version")
    if not isinstance(version, int) or version < 1:
        raise LoadError(source, f"has an invalid {format_noun} version {version!r}")
    if version > max_version:
        raise LoadError(
            source,
            f"was written by a newer cbct-osteo ({format_noun} version {version}, this program reads up to {max_version})",
            "update cbct-osteo to open it",
        )
    return version
