"""One case of a batch: load, measure, score, into one CSV row. Runs inside the case's own process.

:func:`run_case` never raises: whatever goes wrong (a :class:`LoadError`, a bug, even a
``BaseException`` such as pyo3's ``PanicException`` from a Rust decoder) becomes an ``error``
row whose message reads like the command line's. It reports the stage it is in through
``on_stage``, so a crash that kills the process can still be told ("crashed while loading the
scan").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from threadpoolctl import threadpool_limits

from cbct_osteo.batch.manifest import CaseSpec
from cbct_osteo.errors import CbctOsteoError
from cbct_osteo.indices.catalogue import csv_columns

STAGES: dict[str, str] = {
    "start": "starting",
    "load": "loading the scan",
    "landmarks": "reading the landmarks",
    "match": "checking the landmarks belong to the scan",
    "measure": "measuring",
}


def run_case(
    spec: CaseSpec,
    refine: bool = True,
    force: bool = False,
    on_stage: Callable[[str], None] | None = None,
    index_files: tuple[str, ...] = (),
    as_placed: tuple[tuple[str, str], ...] | None = None,
) -> dict[str, str]:
    """Load, measure and score one case; a failure becomes an ``error`` row.

    BLAS/OpenMP are held to one thread: the batch is parallel across cases, and nested BLAS
    threads on the same cores made the edge fit several times slower. ``index_files`` are extra
    index definition files (``--index``), read here and cached per process. A GUI session as the
    case's landmarks is measured with its own margin choices unless ``refine=False`` or ``as_placed``
    (the command line's ``--no-refine`` / ``--as-placed``) say otherwise.
    """
    current = ["start"]

    def stage(name: str) -> None:
        current[0] = name
        if on_stage is not None:
            on_stage(name)

    with threadpool_limits(limits=1):
        try:
            return _run_case(spec, refine, force, stage, index_files, as_placed)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - the row must say what went wrong, whatever it was
            return error_row(spec, exc, doing=STAGES.get(current[0], current[0]))


def preload() -> None:
    """Import what a case needs, so a case host pays for it once, before its first case."""
    for module in ("cbct_osteo.indices.case", "cbct_osteo.io.session_file"):  # and with them measure, reformat, io
        importlib.import_module(module)


def _run_case(
    spec: CaseSpec,
    refine: bool,
    force: bool,
    stage: Callable[[str], None],
    index_files: tuple[str, ...] = (),
    as_placed: tuple[tuple[str, str], ...] | None = None,
) -> dict[str, str]:
    from cbct_osteo import load
    from cbct_osteo.indices.case import analyse_case, check_landmarks_match
    from cbct_osteo.indices.definition_file import cached_index_files
    from cbct_osteo.io.session_file import read_landmarks_and_settings
    from cbct_osteo.measure.margin_method import MarginMethod

    stage("load")
    volume = load(spec.volume)
    stage("landmarks")
    landmarks, settings = read_landmarks_and_settings(spec.landmarks)
    method = MarginMethod.from_settings(settings).overridden(no_refine=not refine, as_placed=as_placed)
    if not force:
        stage("match")
        check_landmarks_match(volume, landmarks, spec.landmarks)
    stage("measure")
    result = analyse_case(
        volume,
        landmarks,
        refine=method.refine,
        as_placed=method.as_placed,
        sex=spec.sex or None,
        extra_indices=cached_index_files(index_files),
    )
    row = blank_row(spec)
    row.update(result.csv_row())
    row["status"] = "ok"
    return row


def blank_row(spec: CaseSpec) -> dict[str, str]:
    """A row of the batch columns with only the manifest's cells filled."""
    row = dict.fromkeys(csv_columns(), "")
    row.update(case_id=spec.case_id, age=spec.age, sex=spec.sex)
    return row


def error_row(spec: CaseSpec, exc: BaseException | str, doing: str = "") -> dict[str, str]:
    """An ``error`` row whose ``error`` cell reads like the command line's messages (one line).

    Our own errors already name the file and the fault; anything else is a bug or a library
    failure, so the row also says what the case was ``doing`` (e.g. "loading the scan").
    """
    row = blank_row(spec)
    row["status"] = "error"
    where = f" while {doing}" if doing else ""
    if isinstance(exc, str):
        text = exc
    elif isinstance(exc, CbctOsteoError):
        text = str(exc)
    elif isinstance(exc, Exception):
        text = f"{type(exc).__name__}{where}: {exc}"
    else:  # e.g. pyo3_runtime.PanicException: a native library gave up
        text = f"a native library failed{where} ({type(exc).__name__}: {exc})"
    row["error"] = " ".join(text.split())
    return row
