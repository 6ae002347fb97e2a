"""Cohort batch mode: one manifest of scans in, one results CSV out, cases in parallel.

The same loop serves a local process pool (:mod:`concurrent.futures`) and a Dask cluster
(:mod:`distributed` futures): both offer ``submit`` and ``as_completed``, so only the small
:class:`_LocalRunner` / :class:`_DaskRunner` adapters differ. Each task loads its own volume
where it runs (workers need the paths on shared storage) and returns one CSV row; the client
appends rows as they arrive (flushed and fsynced), so an interrupted run keeps what finished
and ``resume=True`` skips those cases. A case that fails gets its error in its row; a case
whose worker died is resubmitted up to ``retries`` times, then recorded as an error.
"""
from __future__ import annotations

import concurrent.futures as cf
from concurrent.futures.process import BrokenProcessPool
import csv
import io
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from threadpoolctl import threadpool_limits

from cbct_osteo.indices.catalogue import csv_columns
from cbct_osteo.io.atomic import write_bytes_atomic
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.user_files import read_user_text

MANIFEST_REQUIRED: tuple[str, ...] = ("case_id", "volume", "landmarks")
MANIFEST_OPTIONAL: tuple[str, ...] = ("age", "sex")
EXECUTORS: tuple[str, ...] = ("local", "dask")
DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class CaseSpec:
    """One manifest row; ``volume`` and ``landmarks`` are absolute paths (as the workers see them)."""

    case_id: str
    volume: str
    landmarks: str
    age: str = ""
    sex: str = ""


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


# --- manifest --------------------------------------------------------------------------------------

def read_manifest(path: str | Path) -> list[CaseSpec]:
    """Read ``case_id,volume,landmarks[,age,sex]``; relative paths are relative to the manifest.

    Raises
    ------
    LoadError
        Naming the manifest and the line at fault (missing column, empty cell, duplicate id).
    """
    source = Path(path)
    text = read_user_text(source, "manifest", encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    absent = [c for c in MANIFEST_REQUIRED if c not in header]
    if absent:
        raise LoadError(source, f"manifest header lacks {', '.join(absent)} (expected {','.join(MANIFEST_REQUIRED)}[,age,sex])")
    base = source.resolve().parent
    cases: list[CaseSpec] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        empty = [c for c in MANIFEST_REQUIRED if not row.get(c)]
        if empty:
            raise LoadError(source, f"line {line}: empty {', '.join(empty)}")
        if row["case_id"] in seen:
            raise LoadError(source, f"line {line}: case_id {row['case_id']!r} appears twice")
        seen.add(row["case_id"])
        cases.append(
            CaseSpec(
                case_id=row["case_id"],
                volume=str(base / row["volume"]),
                landmarks=str(base / row["landmarks"]),
                age=row.get("age", ""),
                sex=row.get("sex", ""),
            )
        )
    return cases


# --- one case (runs in a worker process) -------------------------------------------------------

def run_case(spec: CaseSpec, refine: bool = True, force: bool = False) -> dict[str, str]:
    """Load, measure and score one case; never raises: a failure becomes an ``error`` row.

    BLAS/OpenMP are held to one thread: the batch is parallel across cases, and nested BLAS
    threads on the same cores made the edge fit several times slower.
    """
    with threadpool_limits(limits=1):
        return _run_case(spec, refine, force)


def _run_case(spec: CaseSpec, refine: bool, force: bool) -> dict[str, str]:
    from cbct_osteo import load
    from cbct_osteo.indices.case import analyse_case, check_landmarks_match
    from cbct_osteo.io.session_file import read_landmarks_or_session as read_landmarks

    row = _blank_row(spec)
    try:
        volume = load(spec.volume)
        landmarks = read_landmarks(spec.landmarks)
        if not force:
            check_landmarks_match(volume, landmarks, spec.landmarks)
        result = analyse_case(volume, landmarks, refine=refine, sex=spec.sex or None)
    except Exception as exc:  # noqa: BLE001 - the row must say what went wrong, whatever it was
        return error_row(spec, exc)
    row.update(result.csv_row())
    row["status"] = "ok"
    return row


def _blank_row(spec: CaseSpec) -> dict[str, str]:
    row = dict.fromkeys(csv_columns(), "")
    row.update(case_id=spec.case_id, age=spec.age, sex=spec.sex)
    return row


def error_row(spec: CaseSpec, exc: BaseException) -> dict[str, str]:
    """An ``error`` row whose ``error`` cell reads like the command line's messages."""
    row = _blank_row(spec)
    row["status"] = "error"
    text = str(exc) if isinstance(exc, LoadError) else f"{type(exc).__name__}: {exc}"
    row["error"] = " ".join(text.split())
    return row


# --- runners: the only executor-specific code ----------------------------------------------------

class _LocalRunner:
    """Processes on this machine. A crashed process breaks the pool; we start a new one."""

    lost_worker_errors: tuple[type[BaseException], ...] = (BrokenProcessPool, cf.CancelledError)

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = cf.ProcessPoolExecutor(max_workers=workers)

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        if getattr(self.pool, "_broken", False):
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = cf.ProcessPoolExecutor(max_workers=self.workers)
        return self.pool.submit(fn, *args)

    def as_completed(self, futures: Iterable[cf.Future]) -> Iterator[cf.Future]:
        return cf.as_completed(list(futures))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _DaskRunner:
    """A dask.distributed cluster: an existing client, a scheduler address, or a LocalCluster."""

    def __init__(self, client: Any = None, scheduler: str | None = None, workers: int | None = None, retries: int = DEFAULT_RETRIES) -> None:
        import distributed

        self._distributed = distributed
        self.retries = retries
        self._owns_client = client is None
        if client is None:
            if scheduler:
                client = distributed.Client(scheduler)
            else:
                cluster = distributed.LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True)
                client = distributed.Client(cluster)
        self.client = client
        self.lost_worker_errors = (distributed.KilledWorker, distributed.client.FutureCancelledError, cf.CancelledError)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        key = f"cbct-osteo-case-{args[0].case_id}-{uuid.uuid4().hex[:8]}"
        return self.client.submit(fn, *args, key=key, pure=False, retries=self.retries)

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        return iter(self._distributed.as_completed(list(futures)))

    def close(self) -> None:
        if self._owns_client:
            cluster = self.client.cluster
            self.client.close()
            if cluster is not None and not isinstance(cluster, str):
                cluster.close()


# --- results file ------------------------------------------------------------------------------------

def _read_results(path: Path, columns: list[str]) -> list[dict[str, str]]:
    """Rows of an earlier run; a truncated last line (interrupted write) is dropped."""
    text = path.read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        return []
    if list(reader.fieldnames) != columns:
        raise LoadError(path, "was written with different columns (another cbct-osteo catalogue version)",
                        "write to a new --out file")
    rows = []
    for row in reader:
        if None in row or any(v is None for v in row.values()) or row.get("status") not in ("ok", "error"):
            continue
        rows.append(row)
    return rows


def _prepare_output(out: Path, columns: list[str], resume: bool) -> set[str]:
    """Create or rewrite the results file; return the case ids already finished (status ok)."""
    exists = out.exists() and out.stat().st_size > 0
    if exists and not resume:
        raise LoadError(out, "already exists", "use --resume to continue that run, or choose another --out")
    kept: list[dict[str, str]] = []
    if exists:
        seen: set[str] = set()
        for row in _read_results(out, columns):
            if row["status"] == "ok" and row["case_id"] not in seen:
                kept.append(row)
                seen.add(row["case_id"])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(kept)
    write_bytes_atomic(out, buffer.getvalue().encode("utf-8"))
    return {row["case_id"] for row in kept}


class _RowWriter:
    """Appends one row at a time and makes it durable before the next one."""

    def __init__(self, out: Path, columns: list[str]) -> None:
        self.handle = open(out, "a", encoding="utf-8", newline="")
        self.writer = csv.DictWriter(self.handle, fieldnames=columns, lineterminator="\n", extrasaction="ignore")

    def write(self, row: dict[str, str]) -> None:
        self.writer.writerow(row)
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


# --- the run -----------------------------------------------------------------------------------------

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
    progress: Progress | None = None,
    client: Any = None,
) -> BatchSummary:
    """Measure every case of ``manifest`` into ``out`` (one row per case, in order of completion).

    Parameters
    ----------
    executor
        ``"local"`` (processes on this machine) or ``"dask"`` (``scheduler`` address such as
        ``tcp://host:8786``; without one, a LocalCluster of ``workers`` processes).
    workers
        Local processes (default: CPU count). Each holds one volume in memory at a time.
    resume
        Keep the ``ok`` rows of an existing ``out`` and run only the other cases (earlier
        ``error`` rows are dropped and re-run, so every case still ends with one row).
    retries
        Resubmissions of a case whose worker died (dask also passes it as ``retries=``).
    client
        An existing ``distributed.Client`` to use instead of making one (tests, notebooks).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    cases = read_manifest(manifest)
    out_path = Path(out)
    columns = csv_columns()
    finished = _prepare_output(out_path, columns, resume)
    todo = [c for c in cases if c.case_id not in finished]
    start = time.perf_counter()
    counts = {"ok": 0, "error": 0}
    if not todo:
        return BatchSummary(len(cases), len(cases) - len(todo), 0, 0, 0.0, out_path)
    runner: _LocalRunner | _DaskRunner
    if executor == "local":
        runner = _LocalRunner(workers or os.cpu_count() or 1)
    else:
        runner = _DaskRunner(client=client, scheduler=scheduler, workers=workers, retries=retries)
    writer = _RowWriter(out_path, columns)
    try:
        pending = {runner.submit(run_case, spec, refine, force): spec for spec in todo}
        attempts: dict[str, int] = {}
        while pending:
            for future in runner.as_completed(list(pending)):
                spec = pending.pop(future)
                try:
                    row = future.result()
                except runner.lost_worker_errors as exc:
                    attempts[spec.case_id] = attempts.get(spec.case_id, 0) + 1
                    if attempts[spec.case_id] <= retries:
                        pending[runner.submit(run_case, spec, refine, force)] = spec
                        continue
                    row = error_row(spec, RuntimeError(f"worker lost {attempts[spec.case_id]} times ({type(exc).__name__}: {exc})"))
                except Exception as exc:  # noqa: BLE001 - e.g. a result that could not be sent back
                    row = error_row(spec, exc)
                writer.write(row)
                counts["ok" if row["status"] == "ok" else "error"] += 1
                if progress is not None:
                    progress(counts["ok"] + counts["error"], len(todo), row, time.perf_counter() - start)
    finally:
        writer.close()
        runner.close()
    return BatchSummary(len(cases), len(cases) - len(todo), counts["ok"], counts["error"], time.perf_counter() - start, out_path)


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
