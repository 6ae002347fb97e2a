"""The index catalogue and the scoring that turns measurements into results and a screening.

``all_entries()`` lists the indices of INDICES.md as declarative entries; ``score_case`` scores
hand-made or measured :class:`~cbct_osteo.measure.quantity.Measurement` objects;
``analyse_case`` measures a volume with its landmarks and scores it. The cohort batch runner
is not science and lives in :mod:`cbct_osteo.batch`.
"""

from __future__ import annotations

from cbct_osteo.indices.case import analyse_case, provenance
from cbct_osteo.indices.catalogue import (
    CATALOGUE_VERSION,
    MEASUREMENT_IDS,
    MEASUREMENTS,
    Cutoff,
    IndexEntry,
    all_entries,
    csv_columns,
    entry,
    required_inputs,
)
from cbct_osteo.indices.scoring import CaseResult, IndexResult, Screening, score_case
from cbct_osteo.indices.steps import LandmarkStep, guided_steps
from cbct_osteo.indices.table import format_table, index_rows, measurement_rows

__all__ = [
    "CATALOGUE_VERSION",
    "MEASUREMENT_IDS",
    "MEASUREMENTS",
    "CaseResult",
    "Cutoff",
    "IndexEntry",
    "IndexResult",
    "LandmarkStep",
    "Screening",
    "analyse_case",
    "all_entries",
    "csv_columns",
    "entry",
    "format_table",
    "guided_steps",
    "provenance",
    "index_rows",
    "measurement_rows",
    "required_inputs",
    "score_case",
]
