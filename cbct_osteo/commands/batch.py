"""cbct-osteo batch MANIFEST.csv --out RESULTS.csv [--executor local|dask] [--scheduler ADDRESS] [--resume]
[--workers N] [--case-timeout S]

Measure a cohort. MANIFEST.csv has the header ``case_id,volume,landmarks`` and optional
``age,sex``; relative paths are relative to the manifest. RESULTS.csv gets one row per case,
written as each case finishes: ``case_id,status,error``, then ``<side>_<id>`` for every
measurement and index (+ ``<side>_<id>_quality`` per measurement), ``mean_<id>``
(+ ``mean_<id>_category``), ``screening``, ``age,sex``. Each case runs isolated in a host process:
a case that fails, crashes or runs past ``--case-timeout`` gets its error in its row and the
run goes on. ``--resume`` keeps the finished
rows of an interrupted run and measures the rest. ``--executor dask --scheduler
tcp://HOST:8786`` runs the cases on a Dask cluster whose workers can read the same paths
(see docs/batch.md); ``--executor dask`` without a scheduler starts a local cluster.
``--index SITE.toml`` adds an index definition file's columns (``<side>_<id>``, ``mean_<id>``).
A case whose landmarks are a GUI session is measured the way the GUI did (its edge refinement
and as-placed choices) unless ``--no-refine`` or ``--as-placed SIDE:ID`` say otherwise for every case.
"""

from __future__ import annotations

import argparse
import math
import sys

from cbct_osteo.commands.case_options import add_measure_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from cbct_osteo.batch import DEFAULT_CASE_TIMEOUT_S, DEFAULT_RETRIES, EXECUTORS

    parser.add_argument("manifest", help="CSV with case_id,volume,landmarks[,age,sex]")
    parser.add_argument("--out", required=True, metavar="RESULTS.csv", help="results CSV (one row per case)")
    parser.add_argument(
        "--executor", choices=EXECUTORS, default="local", help="local processes (default) or a Dask cluster"
    )
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786")
    parser.add_argument(
        "--workers", type=int, metavar="N", help="local processes or LocalCluster workers (default: CPU count)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="keep finished rows of RESULTS.csv and run the other cases"
    )
    add_measure_options(parser, force_help="measure even if a landmarks file was made on another scan")
    parser.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        metavar="N",
        help=f"resubmissions of a case whose process or worker was lost (default {DEFAULT_RETRIES})",
    )
    parser.add_argument(
        "--case-timeout",
        type=float,
        default=DEFAULT_CASE_TIMEOUT_S,
        metavar="SECONDS",
        help=f"stop a case that takes longer and record it as an error; 0 = no limit "
        f"(default {DEFAULT_CASE_TIMEOUT_S:g})",
    )


def run(args: argparse.Namespace) -> int:
    from cbct_osteo.batch import format_progress, run_batch
    from cbct_osteo.indices.definition_file import load_index_files

    if args.scheduler and args.executor != "dask":
        print("cbct-osteo batch: --scheduler needs --executor dask", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print("cbct-osteo batch: --workers must be at least 1", file=sys.stderr)
        return 2
    if not (args.case_timeout >= 0 and math.isfinite(args.case_timeout)):
        print("cbct-osteo batch: --case-timeout must be a number of seconds, 0 for no limit", file=sys.stderr)
        return 2
    if args.retries < 0:
        print("cbct-osteo batch: --retries must be 0 or more", file=sys.stderr)
        return 2

    load_index_files(args.index)  # a bad file fails here, before any case runs

    def progress(done: int, total: int, row: dict[str, str], elapsed: float) -> None:
        print(format_progress(done, total, row, elapsed), file=sys.stderr, flush=True)

    summary = run_batch(
        args.manifest,
        args.out,
        executor=args.executor,
        scheduler=args.scheduler,
        workers=args.workers,
        resume=args.resume,
        refine=not args.no_refine,
        force=args.force,
        retries=args.retries,
        case_timeout_s=args.case_timeout or None,
        progress=progress,
        index_files=tuple(args.index),
        as_placed=None if args.as_placed is None else tuple(args.as_placed),
    )
    skipped = f", {summary.skipped} already done" if summary.skipped else ""
    print(
        f"{summary.ok} ok, {summary.errors} errors{skipped} of {summary.total} cases -> {summary.out}", file=sys.stderr
    )
    return 0 if summary.errors == 0 else 1
