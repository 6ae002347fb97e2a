"""Text cells that spreadsheet programs open as text, never as formulas (OWASP "CSV injection").

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken by
Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)`` in a case id would run
when a researcher opens the results). OWASP's advice is to prefix such cells with a single
quote, which those programs show as text. Plain numbers (``-0.25``) are left alone: they are
numbers to the spreadsheet too. A cell that already starts with a quote gets one more, so
:func:`unescape_cell` gives back exactly what was written.
"""

from __future__ import annotations

import math

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"


def escape_cell(text: str) -> str:
    """``text`` safe to put in a CSV that a spreadsheet will open (see the module docstring)."""
    if not text or _is_number(text):
        return text
    if text.startswith(FORMULA_TRIGGERS) or text.startswith(_QUOTE):
        return _QUOTE + text
    return text


def unescape_cell(text: str) -> str:
    """The original text of a cell written by :func:`escape_cell`."""
    if text.startswith(_QUOTE) and text[1:2] and (text[1:].startswith(FORMULA_TRIGGERS) or text[1] == _QUOTE):
        return text[1:]
    return text


def escape_row(row: dict[str, str]) -> dict[str, str]:
    """Every cell of ``row`` through :func:`escape_cell`."""
    return {key: escape_cell(value) for key, value in row.items()}


def _is_number(text: str) -> bool:
    """A finite decimal number as we write them (``-0.25``, ``1e-05``); ``-inf``, ``1_0``, `` 1`` are not."""
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and "_" not in text and text.strip() == text
