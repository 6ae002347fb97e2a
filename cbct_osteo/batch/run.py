"""The batch run: manifest in, one results row per case out, cases in parallel, each isolated.

The client reads the manifest, prepares (or resumes) the results file, submits every case to a
runner (:mod:`cbct_osteo.batch.runners`) and appends rows as they arrive. Every case ends with
exactly one row: its result, or an ``error`` row saying what went wrong (a case that aborts,
crashes, panics or hangs is charged to that case alone, see :mod:`cbct_osteo.batch.isolation`).
A case whose process or worker was lost from outside is resubmitted up to ``retries`` times.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cbct_osteo.batch.case import error_row
from cbct_osteo.batch.isolation import DEFAULT_CASE_TIMEOUT_S, CaseOutcome, run_case_isolated
from cbct_osteo.batch.manifest import CaseSpec, read_manifest
from cbct_osteo.batch.results_file import RowWriter, prepare_output
from cbct_osteo.batch.runners import DEFAULT_RETRIES, EXECUTORS, DaskRunner, LocalRunner
from cbct_osteo.indices.catalogue import csv_columns
from cbct_osteo.indices.definition_file import cached_index_files, catalogue_with


@dataclass(frozen=True)
class BatchSummary:
    total: int
    skipped: int
    ok: int
    errors: int
    elapsed_s: float
    out: Path


#: progress(done, total, row, elapsed_s) after each row is written.
Progress = Callable[[int, int, dict[str, str], float], None]


def run_batch(
    manifest: str | Path,
    out: str | Path,
    *,
    executor: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    refine: bool = True,
    force: bool = False,
    retries: int = DEFAULT_RETRIES,
    case_timeout_s: float | None = DEFAULT_CASE_TIMEOUT_S,
    progress: Progress | None = None,
    client: Any = None,
    index_files: tuple[str, ...] = (),
    as_placed: tuple[tuple[str, str], ...] | None = None,
) -> BatchSummary:
    """Measure every case of ``manifest`` into ``out`` (one row per case, in order of completion).

    Parameters
    ----------
    executor
        ``"local"`` (processes on this machine) or ``"dask"`` (``scheduler`` address such as
        ``tcp://host:8786``; without one, a LocalCluster of ``workers`` processes).
    workers
        Cases at a time (default: CPU count). Each holds one volume in memory.
    resume
        Keep the ``ok`` rows of an existing ``out`` and run only the other cases (earlier
        ``error`` rows are dropped and re-run, so every case still ends with one row).
    retries
        Resubmissions of a case whose process or worker was lost (killed from outside, machine
        gone); dask also passes it as ``retries=``. A case that crashes by itself is not retried.
    case_timeout_s
        Seconds one case may take before it is stopped and recorded as an error; ``None`` or 0: no limit.
    client
        An existing ``distributed.Client`` to use instead of making one (tests, notebooks).
    index_files
        Extra index definition files (``--index SITE.toml``): their columns are added to the CSV;
        each case host reads them itself (an entry's formula does not pickle).
    refine, as_placed
        ``refine=False`` (``--no-refine``) takes every margin as placed; ``as_placed`` (``--as-placed``)
        the (side, id) measurements taken as placed in every case. ``refine=True`` and ``as_placed=None``
        leave the choice to each case's GUI session (plain landmarks files: all edge-refined).

    Raises
    ------
    LoadError
        The manifest (or the results file to resume) cannot be read.
    WriteError
        The results file cannot be written (the rows already written are kept).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    cases = read_manifest(manifest)
    out_path = Path(out)
    index_files = tuple(str(Path(p).resolve()) for p in index_files)
    columns = csv_columns(catalogue_with(cached_index_files(index_files)) if index_files else None)
    finished = prepare_output(out_path, columns, resume)
    todo = [c for c in cases if c.case_id not in finished]
    start = time.perf_counter()
    counts = {"ok": 0, "error": 0}
    if not todo:
        return BatchSummary(len(cases), len(cases) - len(todo), 0, 0, 0.0, out_path)
    writer = RowWriter(out_path, columns)
    runner: LocalRunner | DaskRunner
    if executor == "local":
        runner = LocalRunner(workers or os.cpu_count() or 1)
    else:
        runner = DaskRunner(client=client, scheduler=scheduler, workers=workers, retries=retries)
    try:

        def submit(spec: CaseSpec) -> Any:
            return runner.submit(run_case_isolated, spec, refine, force, case_timeout_s, index_files, as_placed)

        pending = {submit(spec): spec for spec in todo}
        attempts: dict[str, int] = {}
        while pending:
            for future in runner.as_completed(list(pending)):
                spec = pending.pop(future)
                try:
                    outcome = future.result()
                    if not isinstance(outcome, CaseOutcome):
                        raise TypeError(f"a worker returned {type(outcome).__name__}, not a case outcome")
                    lost, row = outcome.lost, outcome.row
                except runner.lost_worker_errors as exc:
                    lost, row = True, error_row(spec, f"worker lost ({type(exc).__name__}: {exc})")
                except Exception as exc:  # noqa: BLE001 - e.g. a result that could not be sent back
                    lost, row = False, error_row(spec, exc)
                if lost:
                    attempts[spec.case_id] = attempts.get(spec.case_id, 0) + 1
                    if attempts[spec.case_id] <= retries:
                        pending[submit(spec)] = spec
                        continue
                    row["error"] = f"{row['error']} (tried {attempts[spec.case_id]} times)"
                writer.write(row)
                counts["ok" if row["status"] == "ok" else "error"] += 1
                if progress is not None:
                    progress(counts["ok"] + counts["error"], len(todo), row, time.perf_counter() - start)
    finally:
        writer.close()
        runner.close()
    return BatchSummary(
        len(cases), len(cases) - len(todo), counts["ok"], counts["error"], time.perf_counter() - start, out_path
    )


def format_progress(done: int, total: int, row: dict[str, str], elapsed_s: float) -> str:
    """``[12/40] case017 ok  3.1 cases/min, about 9 min left``."""
    rate = done / elapsed_s * 60.0 if elapsed_s > 0 else 0.0
    remaining = (total - done) / (rate / 60.0) if rate > 0 else float("inf")
    if done == total:
        left = f"done in {_duration(elapsed_s)}"
    else:
        left = f"about {_duration(remaining)} left"
    status = row["status"] + (f" ({row['error']})" if row.get("error") else "")
    return f"[{done}/{total}] {row['case_id']} {status}  {rate:.1f} cases/min, {left}"


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
