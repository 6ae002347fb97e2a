"""The results table, built once from the results JSON and the catalogue, for every output.

The report (:mod:`cbct_osteo.report.table` re-exports these rows), the GUI's cutoff column and
the command line's text table all come from here, so they share one side order (patient's right
first, as the images are shown in radiological view), one cutoff wording (:func:`cutoff_text`),
one rounding rule (the decimals the uncertainty supports,
:func:`~cbct_osteo.measure.quantity.format_value`) and one way of showing a measurement's
quality: a value that is not "ok" carries its quality word, a "not measurable" one shows no
number, and the reasons travel in ``notes``. Experimental entries (BV_TV) are left out unless asked for.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from cbct_osteo.indices.catalogue import MEASUREMENTS_BY_ID, IndexEntry, all_entries
from cbct_osteo.measure.quantity import NOT_MEASURABLE, OK, decimals_for, format_value

#: Columns of the tables: patient's right first, as the images are shown (radiological view).
COLUMNS: tuple[str, ...] = ("right", "left", "mean")
SIDE_COLUMNS: tuple[str, ...] = ("right", "left")

#: Display names of units in the results JSON.
UNIT_WORDS: dict[str, str] = {"mm": "mm", "ratio": "ratio", "1": "–", "gray value": "gray value", "grade": "grade"}
DASH = "\u2013"


@dataclass(frozen=True)
class IndexInfo:
    """What the catalogue says about one index: display name, citation texts and status note."""

    name: str
    citations: tuple[str, ...] = ()
    status: str = ""


@dataclass(frozen=True)
class Cell:
    """One value cell: the rounded number (or grade, dash, quality word) and the category word."""

    text: str
    category: str = ""
    quality: str = OK


@dataclass(frozen=True)
class IndexRow:
    id: str
    name: str
    unit: str
    cells: dict[str, Cell]
    cutoff: str
    note: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MeasurementRow:
    id: str
    unit: str
    cells: dict[str, str]
    method: str
    quality: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def experimental_ids(entries: tuple[IndexEntry, ...] | None = None) -> frozenset[str]:
    """Ids of the experimental catalogue entries (left out of the report by default)."""
    return frozenset(e.id for e in (all_entries() if entries is None else entries) if e.experimental)


def format_cutoff(cutoff: Any, direction: Any = None, unit: str = "") -> str:
    """A threshold as printed: ``< 3.1`` (at risk below) or ``> 3.1`` (above), ``–`` when none.

    ``cutoff`` is a number or a text; ``direction`` ``"below"`` (default: every cortical index is
    lower in osteoporosis) or ``"above"``; ``unit`` is appended when given.
    """
    if cutoff is None or cutoff == "":
        return DASH
    number = _number(cutoff)
    if number is None:
        return str(cutoff)
    text = f"{'>' if direction == 'above' else '<'} {_plain_number(number)}"
    return f"{text} {unit}" if unit else text


def cutoff_text(entry: IndexEntry, with_status: bool = True, with_unit: bool = True) -> str:
    """How an index's cutoff is shown everywhere (tables, GUI): a threshold, the grades, or why there is none."""
    if entry.cutoff is not None:
        text = format_cutoff(entry.cutoff.value, entry.cutoff.direction, entry.cutoff.unit if with_unit else "")
        return f"{text} ({entry.cutoff.status})" if with_status else text
    if entry.kind == "grade":
        return "C2/C3"
    if entry.kind == "definition file" and entry.formula is None:
        return "pending verification"
    return "no validated cutoff"


def format_with_uncertainty(entry: Mapping[str, Any]) -> str:
    """``3.21 ± 0.05``; ``4.6 ± 0.4 uncertain``; ``not measurable``; ``missing: border inner`` when not placed."""
    value = _number(entry.get("value"))
    quality = str(entry.get("quality") or OK)
    if value is None:
        missing = entry.get("missing") or []
        if missing:
            return "missing: " + ", ".join(str(m).replace("_", " ") for m in missing)
        return NOT_MEASURABLE if entry.get("quality") == NOT_MEASURABLE else DASH
    unc = _number(entry.get("uncertainty"))
    text = format_value(value, unc)
    if unc is not None and unc > 0:
        text += f" \u00b1 {unc:.{decimals_for(unc)}f}"
    return text if quality == OK else f"{text} {quality}"


def _cell(entry: Mapping[str, Any] | None) -> Cell:
    if not entry:
        return Cell(DASH)
    category = str(entry.get("category") or "")
    quality = str(entry.get("quality") or OK)
    value = entry.get("value")
    if isinstance(value, str):  # a grade such as CTCI "C2"
        return Cell(value, category, quality)
    number = _number(value)
    if number is None:
        return Cell(DASH, category, quality)
    text = format_value(number, _number(entry.get("uncertainty")))
    return Cell(text if quality == OK else f"{text} ({quality})", category, quality)


def _notes(per_column: Mapping[str, Mapping[str, Any] | None]) -> tuple[str, ...]:
    """Each distinct note once, prefixed with the columns it applies to (``right, left: ...``)."""
    columns: dict[str, list[str]] = {}
    for column, item in per_column.items():
        for note in (item or {}).get("notes") or ():
            note = str(note).split(": ", 1)[1] if column == "mean" and str(note).startswith(SIDE_COLUMNS) else str(note)
            columns.setdefault(note, [])
            if column not in columns[note]:
                columns[note].append(column)
    return tuple(f"{', '.join(cols)}: {note}" for note, cols in columns.items())


def index_rows(
    results: Mapping[str, Any], info: Mapping[str, IndexInfo] | None = None, *, include_experimental: bool = False
) -> list[IndexRow]:
    """One row per index in ``results`` (catalogue order), right / left / mean.

    ``info`` overrides the catalogue's name and status note per index (the report passes its
    own wording); the cutoff column is :func:`cutoff_text` without status and unit.
    """
    info = info or {}
    entries = {e.id: e for e in all_entries()}
    hidden = set() if include_experimental else experimental_ids()
    sides = results.get("sides", {}) or {}
    per_column: dict[str, Mapping[str, Any]] = {
        c: (sides.get(c, {}) or {}).get("indices", {}) or {} for c in SIDE_COLUMNS
    }
    per_column["mean"] = (results.get("mean", {}) or {}).get("indices", {}) or {}
    rows = []
    for index_id in _ordered_ids(list(entries) + list(info), *per_column.values()):
        if index_id in hidden:
            continue
        items = {c: per_column[c].get(index_id) for c in COLUMNS}
        first: Mapping[str, Any] = next((e for e in (items["mean"], items["right"], items["left"]) if e), {})
        entry = entries.get(index_id)
        meta = info.get(
            index_id, IndexInfo(name=entry.name if entry else index_id, status=entry.status if entry else "")
        )
        unit = str(first.get("unit", entry.unit if entry else ""))
        cutoff = (
            cutoff_text(entry, with_status=False, with_unit=False)
            if entry is not None
            else format_cutoff(first.get("cutoff"), first.get("direction"))
        )
        rows.append(
            IndexRow(
                id=index_id,
                name=str(first.get("name") or meta.name or index_id),
                unit=UNIT_WORDS.get(unit, unit),
                cells={c: _cell(items[c]) for c in COLUMNS},
                cutoff=cutoff,
                note=meta.status or _result_status(first),
                notes=_notes(items),
            )
        )
    return rows


def _result_status(entry: Mapping[str, Any]) -> str:
    """The note of an index the catalogue does not list (``--index`` file): its status and provenance."""
    status = str(entry.get("status") or "")
    summary = str((entry.get("provenance") or {}).get("summary") or "")
    return f"{status}: {summary}" if status and summary else status or summary


def measurement_rows(
    results: Mapping[str, Any], exclude: Collection[str] = (), *, include_experimental: bool = False
) -> list[MeasurementRow]:
    """One row per measurement (W, S, I ...), right and left: value ± uncertainty, quality, method.

    ``exclude``: ids already shown in the index table (the trabecular statistics are indices too).
    """
    hidden = set(exclude) | (set() if include_experimental else experimental_ids())
    sides = results.get("sides", {}) or {}
    per_side = {s: (sides.get(s, {}) or {}).get("measurements", {}) or {} for s in SIDE_COLUMNS}
    rows = []
    for mid in _ordered_ids(list(MEASUREMENTS_BY_ID), per_side["right"], per_side["left"]):
        if mid in hidden:
            continue
        items = {s: per_side[s].get(mid) or {} for s in SIDE_COLUMNS}
        first = items["right"] or items["left"]
        unit = str(first.get("unit", ""))
        methods = sorted({str(e.get("method")) for e in items.values() if e.get("method")})
        rows.append(
            MeasurementRow(
                id=mid,
                unit=UNIT_WORDS.get(unit, unit),
                cells={s: format_with_uncertainty(items[s]) for s in SIDE_COLUMNS},
                method=", ".join(methods),
                quality={s: str(items[s].get("quality") or "") for s in SIDE_COLUMNS},
                notes=_notes(items),
            )
        )
    return rows


def format_table(result: Any, *, include_experimental: bool = False) -> str:
    """A plain-text table of measurements, indices, their notes and the screening, for the terminal.

    ``result`` is a :class:`~cbct_osteo.indices.scoring.CaseResult` or its results JSON.
    """
    document = result.to_json() if hasattr(result, "to_json") else result
    header = f"{'id':<10} {'right':>22} {'left':>22} {'mean':>14}  {'unit':<10} {'cutoff':<20} category / status"
    lines = [header, "-" * len(header)]
    notes: list[str] = []
    for row in measurement_rows(document, include_experimental=include_experimental):
        lines.append(f"{row.id:<10} {row.cells['right']:>22} {row.cells['left']:>22} {'':>14}  {row.unit:<10}")
        notes += [f"{row.id} {n}" for n in row.notes]
    lines.append("")
    for irow in index_rows(document, include_experimental=include_experimental):
        mean = irow.cells["mean"]
        words = mean.category if mean.category in ("low", "normal") else (mean.category or "")
        lines.append(
            f"{irow.id:<10} {irow.cells['right'].text:>22} {irow.cells['left'].text:>22} {mean.text:>14}  "
            f"{irow.unit:<10} {irow.cutoff:<20} {words} [{irow.note}]"
        )
    screening = document.get("screening", {}) or {}
    if notes:
        lines += ["", "Notes:"] + [f"  {n}" for n in notes]
    lines += [
        "",
        f"Screening: {screening.get('result', '')}",
        f"  {screening.get('explanation', '')}",
        f"Recommendation: {screening.get('recommendation', '')}",
    ]
    caveats = [str(c) for c in screening.get("caveats") or ()]
    if caveats:  # where the index and its cutoff come from: after the finding, never before it
        lines += ["Limits of this screening:"] + [f"  - {c}" for c in caveats]
    return "\n".join(lines)


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


def _ordered_ids(order: list[str], *mappings: Mapping[str, Any]) -> list[str]:
    present = [key for mapping in mappings for key in mapping]
    ordered = list(dict.fromkeys(key for key in order if key in present))
    ordered += [key for key in dict.fromkeys(present) if key not in ordered]
    return ordered
