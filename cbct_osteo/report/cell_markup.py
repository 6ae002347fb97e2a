"""The text of one report table cell: the value, its quality and its category, and the quality notes under a table.

Kept apart from the page layout so the wording rules (a quality word on its own line, each reason said once)
have one home and one test.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from cbct_osteo.measure.quantity import OK
from cbct_osteo.report import statements
from cbct_osteo.report.table import Cell, IndexRow, MeasurementRow

#: Category colours, the same on screen and in the report.
CATEGORY_COLOURS = {"low": "#b3261e", "normal": "#1b6e3a"}


#: Categories said once in the notes column rather than under every value.
_CATEGORIES_IN_NOTES = ("no validated cutoff", "definition pending verification")


def category_markup(category: str) -> str:
    if not category or category in _CATEGORIES_IN_NOTES:
        return ""
    colour = CATEGORY_COLOURS.get(category, "#5b6673")
    word = escape(statements.CATEGORY_WORDS.get(category, category))
    if category == "low":
        word = f"<b>{word}</b>"
    return f'<br/><font size="6.8" color="{colour}">{word}</font>'


_NOTE_COLUMNS = ("right", "left", "mean")


def grouped_quality_notes(rows: Sequence[MeasurementRow | IndexRow]) -> list[str]:
    """Each distinct quality note once, with the measurements and columns it applies to.

    Table notes read ``"right, left: <reason>"``; a reason shared by several measurements (the
    resolution limit of every texture measure, say) is printed once as
    ``"TRAB_SD, FD (right, left): <reason>."`` instead of once per measurement and side.
    """
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    for row in rows:
        for note in row.notes:
            head, sep, text = str(note).partition(": ")
            columns = [c.strip() for c in head.split(",")] if sep else []
            if not columns or any(c not in _NOTE_COLUMNS for c in columns):
                columns, text = [], str(note)
            text = text.removeprefix(f"{row.id}: ").rstrip(".")
            side, said, reason = text.partition(f" side: {row.id} is not measurable: ")
            if said and side in _NOTE_COLUMNS:  # the index's note repeats its measurement's reason
                columns, text = [side], reason
            text = text.removeprefix(f"{row.id} is not measurable: ")
            ids, where = grouped.setdefault(text, ([], []))
            if row.id not in ids:
                ids.append(row.id)
            where += [c for c in columns if c not in where]
    out = []
    for text, (ids, where) in grouped.items():
        place = f" ({', '.join(c for c in _NOTE_COLUMNS if c in where)})" if where else ""
        out.append(f"{', '.join(ids)}{place}: {text}.")
    return out


def value_markup(cell: Cell) -> str:
    """The value in bold and, when it is not "ok", its quality on a line of its own.

    A narrow column must never break a word ("4.6 (unce / rtain)"): the quality word gets its own line.
    """
    suffix = f" ({cell.quality})"
    if cell.quality != OK and cell.text.endswith(suffix):
        value = escape(cell.text[: -len(suffix)])
        return f'<b>{value}</b><br/><font size="6.8" color="#8a5a00"><i>{escape(cell.quality)}</i></font>'
    return f"<b>{escape(cell.text)}</b>"
