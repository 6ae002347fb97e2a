"""Cohort batch mode: one manifest of scans in, one results CSV out, cases in parallel.

Not science: this package only runs :func:`cbct_osteo.indices.analyse_case` over many cases,
robustly. Each case runs isolated in a case-host process (:mod:`cbct_osteo.batch.isolation`,
:mod:`cbct_osteo.batch.host`) under a time limit, on local threads or a Dask cluster
(:mod:`cbct_osteo.batch.runners`); rows are appended durably as cases finish
(:mod:`cbct_osteo.batch.results_file`), so ``resume=True`` continues an interrupted run. See docs/batch.md.
"""

from __future__ import annotations

from cbct_osteo.batch.case import error_row, run_case
from cbct_osteo.batch.isolation import DEFAULT_CASE_TIMEOUT_S, CaseOutcome, run_case_isolated
from cbct_osteo.batch.manifest import CaseSpec, read_manifest
from cbct_osteo.batch.run import BatchSummary, format_progress, run_batch
from cbct_osteo.batch.runners import DEFAULT_RETRIES, EXECUTORS

__all__ = [
    "DEFAULT_CASE_TIMEOUT_S",
    "DEFAULT_RETRIES",
    "EXECUTORS",
    "BatchSummary",
    "CaseOutcome",
    "CaseSpec",
    "error_row",
    "format_progress",
    "read_manifest",
    "run_batch",
    "run_case",
    "run_case_isolated",
]
