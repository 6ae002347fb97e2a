"""The report's tables: the rows of :mod:`cbct_osteo.indices.table`, the one results table.

Kept as the report's import point so the PDF layout, the exports and the tests read rows from
one place; nothing is recomputed here. Rounding, side order (patient's right first), cutoff
wording and the quality words all come from the indices' table, which the command line and the
GUI use too.
"""

from __future__ import annotations

from cbct_osteo.indices.table import (
    COLUMNS,
    UNIT_WORDS,
    Cell,
    IndexInfo,
    IndexRow,
    MeasurementRow,
    cutoff_text,
    experimental_ids,
    format_cutoff,
    format_with_uncertainty,
    index_rows,
    measurement_rows,
)

__all__ = [
    "COLUMNS",
    "UNIT_WORDS",
    "Cell",
    "IndexInfo",
    "IndexRow",
    "MeasurementRow",
    "cutoff_text",
    "experimental_ids",
    "format_cutoff",
    "format_with_uncertainty",
    "index_rows",
    "measurement_rows",
]
