"""The report's tables as plain rows of display text, computed from the results JSON.

Kept apart from the PDF layout so the same rows feed the PDF, the tests and any other
output, and so rounding happens in one place: every number is shown with the decimals its
uncertainty supports (:func:`cbct_osteo.measure.quantity.format_value`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Collection, Mapping

from cbct_osteo.measure.quantity import decimals_for, format_value

#: Columns of the index table: patient's right first, as the images are shown (radiological view).
COLUMNS: tuple[str, ...] = ("right", "left", "mean")

#: Display names of units in the results JSON.
UNIT_WORDS: dict[str, str] = {"mm": "mm", "ratio": "ratio", "1": "–", "gray value": "gray value", "grade": "grade"}


@dataclass(frozen=True)
class IndexInfo:
    """What the catalogue says about one index: display name, citation keys and status text."""

    name: str
    citations: tuple[str, ...] = ()
    status: str = ""


@dataclass(frozen=True)
class Cell:
    """One value cell: the rounded number (or grade / dash) and the category word."""

    text: str
    category: str = ""


@dataclass(frozen=True)
class IndexRow:
    id: str
    name: str
    unit: str
    cells: dict[str, Cell]
    cutoff: str
    note: str


@dataclass(frozen=True)
class MeasurementRow:
    id: str
    unit: str
    cells: dict[str, str]
    method: str


def index_rows(results: Mapping[str, Any], info: Mapping[str, IndexInfo] | None = None) -> list[IndexRow]:
    """One row per index found in ``results`` (catalogue order when ``info`` gives it).

    The cutoff column shows the entry's cutoff (``–`` when none) and the note column the
    entry's ``status`` (e.g. "cutoff from a secondary source"), falling back to the catalogue's.
    """
    info = info or {}
    sides = results.get("sides", {}) or {}
    per_column: dict[str, Mapping[str, Any]] = {c: (sides.get(c, {}) or {}).get("indices", {}) or {} for c in ("right", "left")}
    per_column["mean"] = (results.get("mean", {}) or {}).get("indices", {}) or {}
    ids = _ordered_ids(info, *per_column.values())
    rows = []
    for index_id in ids:
        entries = {c: per_column[c].get(index_id) for c in COLUMNS}
        first = next((e for e in (entries["mean"], entries["right"], entries["left"]) if e), {})
        meta = info.get(index_id, IndexInfo(name=index_id))
        unit = str(first.get("unit", ""))
        cells = {c: _cell(entries[c]) for c in COLUMNS}
        status = meta.status or _result_status(first)
        rows.append(
            IndexRow(
                id=index_id,
                name=str(first.get("name") or meta.name or index_id),
                unit=UNIT_WORDS.get(unit, unit),
                cells=cells,
                cutoff=format_cutoff(first.get("cutoff"), first.get("direction")),
                note=status,
            )
        )
    return rows


def _result_status(entry: Mapping[str, Any]) -> str:
    """The note of an index the catalogue does not list (``--index`` file): its status and provenance."""
    status = str(entry.get("status") or "")
    summary = str((entry.get("provenance") or {}).get("summary") or "")
    return f"{status}: {summary}" if status and summary else status or summary


def measurement_rows(results: Mapping[str, Any], exclude: Collection[str] = ()) -> list[MeasurementRow]:
    """One row per measurement (W, S, I ...), right and left, value ± uncertainty and method.

    ``exclude``: ids already shown in the index table (the trabecular statistics are indices too).
    """
    sides = results.get("sides", {}) or {}
    per_side = {s: (sides.get(s, {}) or {}).get("measurements", {}) or {} for s in ("right", "left")}
    rows = []
    for mid in _ordered_ids({}, per_side["right"], per_side["left"]):
        if mid in exclude:
            continue
        entries = {s: per_side[s].get(mid) or {} for s in ("right", "left")}
        first = entries["right"] or entries["left"]
        unit = str(first.get("unit", ""))
        methods = sorted({str(e.get("method")) for e in entries.values() if e.get("method")})
        rows.append(
            MeasurementRow(
                id=mid,
                unit=UNIT_WORDS.get(unit, unit),
                cells={s: format_with_uncertainty(entries[s]) for s in ("right", "left")},
                method=", ".join(methods),
            )
        )
    return rows


def format_with_uncertainty(entry: Mapping[str, Any]) -> str:
    """``3.21 ± 0.05``; the value alone without an uncertainty; ``missing: border_inner`` when absent."""
    value = _number(entry.get("value"))
    if value is None:
        missing = entry.get("missing") or []
        return "missing: " + ", ".join(str(m).replace("_", " ") for m in missing) if missing else "–"
    unc = _number(entry.get("uncertainty"))
    text = format_value(value, unc)
    if unc is not None and unc > 0:
        text += f" ± {unc:.{decimals_for(unc)}f}"
    return text


def format_cutoff(cutoff: Any, direction: Any = None) -> str:
    """The cutoff as printed: ``< 3.1`` (at risk below) or ``> 3.1`` (at risk above), ``–`` when none.

    ``cutoff`` is the results JSON's number (the unit is the index's own) or a text; ``direction``
    is ``"below"`` (default: every cortical index is lower in osteoporosis) or ``"above"``.
    """
    if cutoff is None or cutoff == "":
        return "–"
    number = _number(cutoff)
    if number is None:
        return str(cutoff)
    return f"{'>' if direction == 'above' else '<'} {_plain_number(number)}"


def _cell(entry: Mapping[str, Any] | None) -> Cell:
    if not entry:
        return Cell("–", "")
    category = str(entry.get("category") or "")
    value = entry.get("value")
    if isinstance(value, str):  # a grade such as CTCI "C2"
        return Cell(value, category)
    number = _number(value)
    return Cell(format_value(number, _number(entry.get("uncertainty"))), category)


def _plain_number(value: float) -> str:
    """A cutoff as the source gives it: no trailing zeros, at most 3 decimals."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _ordered_ids(info: Mapping[str, IndexInfo], *mappings: Mapping[str, Any]) -> list[str]:
    present = [key for mapping in mappings for key in mapping]
    ordered = [key for key in info if key in present]
    for key in present:
        if key not in ordered:
            ordered.append(key)
    return ordered
