"""The results table (report, GUI and command line) generated from the catalogue.

One row per measurement and per index, in catalogue order, with left / right / mean shown to
the precision their uncertainty supports (:func:`~cbct_osteo.measure.quantity.format_value`).
"""
from __future__ import annotations

from dataclasses import dataclass

from cbct_osteo.indices.catalogue import MEASUREMENTS, IndexEntry, all_entries
from cbct_osteo.indices.scoring import CaseResult, IndexResult
from cbct_osteo.io.landmarks_file import SIDES
from cbct_osteo.measure.quantity import Measurement, format_value


@dataclass(frozen=True)
class ReportRow:
    """One table row; every cell is already a display string."""

    id: str
    name: str
    unit: str
    left: str
    right: str
    mean: str
    cutoff: str
    category: str
    status: str
    citation: str


def _cell(item: Measurement | IndexResult | None) -> str:
    if item is None:
        return "\u2013"
    if isinstance(item.value, str):
        return item.value
    text = format_value(item.value, item.uncertainty)
    if item.value is not None and item.uncertainty is not None:
        text += f" \u00b1 {format_value(item.uncertainty, item.uncertainty)}"
    return text


def measurement_rows(result: CaseResult) -> list[ReportRow]:
    """Rows for the measurements (W, S, I, trabecular); no mean, category or cutoff."""
    rows = []
    for spec in MEASUREMENTS:
        cells = {s: _cell(result.sides[s].measurements.get(spec.id)) if s in result.sides else "\u2013" for s in SIDES}
        rows.append(ReportRow(spec.id, spec.name, spec.unit, cells["left"], cells["right"], "", "", "", "", ""))
    return rows


def cutoff_text(entry: IndexEntry, with_status: bool = True) -> str:
    """How an index's cutoff is shown everywhere (table, GUI): a threshold, the grades, or why there is none."""
    if entry.cutoff is not None:
        sign = "<" if entry.cutoff.direction == "below" else ">"
        text = f"{sign} {entry.cutoff.value:g} {entry.cutoff.unit}"
        return f"{text} ({entry.cutoff.status})" if with_status else text
    if entry.kind == "grade":
        return "C2/C3"
    if entry.kind == "definition file" and entry.formula is None:
        return "pending verification"
    return "no validated cutoff"


def report_rows(result: CaseResult) -> list[ReportRow]:
    """Rows for the indices: per side, mean, cutoff with its status, category words, citation."""
    rows = []
    for e in result.entries or all_entries():
        per_side = {s: _cell(result.sides[s].indices.get(e.id)) if s in result.sides else "\u2013" for s in SIDES}
        mean = result.mean[e.id]
        cutoff = cutoff_text(e)
        rows.append(ReportRow(e.id, e.name, e.unit, per_side["left"], per_side["right"], _cell(mean), cutoff,
                              mean.message if mean.category not in ("low", "normal") else mean.category,
                              e.status, e.citations[0]))
    return rows


def format_table(result: CaseResult) -> str:
    """A plain-text table of measurements, indices and the screening, for the terminal."""
    lines = []
    header = f"{'id':<10} {'left':>14} {'right':>14} {'mean':>14}  {'unit':<10} {'cutoff':<26} category / status"
    lines.append(header)
    lines.append("-" * len(header))
    for row in measurement_rows(result):
        lines.append(f"{row.id:<10} {row.left:>14} {row.right:>14} {'':>14}  {row.unit:<10}")
    lines.append("")
    for row in report_rows(result):
        lines.append(f"{row.id:<10} {row.left:>14} {row.right:>14} {row.mean:>14}  {row.unit:<10} {row.cutoff:<26} "
                     f"{row.category} [{row.status}]")
    screening = result.screening
    lines += ["", f"Screening: {screening.result}", f"  {screening.explanation}", f"Recommendation: {screening.recommendation}"]
    return "\n".join(lines)
