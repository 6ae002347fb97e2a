"""Batch throughput: cases per minute, local processes vs a two-worker Dask LocalCluster.

Writes N small phantoms (DICOM + landmarks) to a temporary folder, then runs
``run_batch`` on the same manifest with ``executor="local"`` (2 processes) and
``executor="dask"`` (LocalCluster, 2 worker processes, 1 thread each), and prints a Markdown
table for benchmarks/RESULTS.md ("## Batch"). The cluster start-up is timed separately, since a
real deployment starts its cluster once for a whole cohort.

    .venv/bin/python benchmarks/batch.py [--cases 8] [--shape 96 192 192] [--voxel 0.5]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import tempfile
import time
from pathlib import Path

from cbct_osteo.batch import run_batch
from cbct_osteo.phantom import write_phantom


def write_cohort(folder: Path, cases: int, shape: tuple[int, int, int], voxel: float) -> Path:
    rows = []
    for i in range(cases):
        case_dir = write_phantom(folder / f"case{i:02d}", shape=shape, voxel_mm=voxel, seed=i)
        rows.append({"case_id": f"case{i:02d}", "volume": str(case_dir), "landmarks": str(case_dir / "landmarks.json")})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["case_id", "volume", "landmarks"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def timed_run(manifest: Path, out: Path, **kwargs) -> tuple[float, int]:
    start = time.perf_counter()
    summary = run_batch(manifest, out, **kwargs)
    return time.perf_counter() - start, summary.ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--shape", type=int, nargs=3, default=(96, 192, 192), metavar=("Z", "Y", "X"))
    parser.add_argument("--voxel", type=float, default=0.5)
    args = parser.parse_args()
    shape = tuple(args.shape)
    with tempfile.TemporaryDirectory(prefix="cbct-osteo-batch-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        manifest = write_cohort(folder, args.cases, shape, args.voxel)
        write_s = time.perf_counter() - start
        rows = []
        local_s, ok = timed_run(manifest, folder / "local1.csv", executor="local", workers=1)
        rows.append(("local, 1 process", local_s, ok))
        local_s, ok = timed_run(manifest, folder / "local.csv", executor="local", workers=2)
        rows.append(("local, 2 processes", local_s, ok))

        import distributed

        start = time.perf_counter()
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = distributed.Client(cluster)
        startup_s = time.perf_counter() - start
        try:
            dask_s, ok = timed_run(manifest, folder / "dask.csv", executor="dask", client=client)
        finally:
            client.close()
            cluster.close()
        rows.append(("dask LocalCluster, 2 workers", dask_s, ok))

    print(
        f"{args.cases} phantoms {shape[0]}x{shape[1]}x{shape[2]} at {args.voxel} mm "
        f"(written in {write_s:.1f} s); {os.cpu_count()} CPUs, Python {platform.python_version()}\n"
    )
    print("| executor | cases ok | wall time (s) | cases / min |")
    print("|---|---|---|---|")
    for name, seconds, ok in rows:
        print(f"| {name} | {ok}/{args.cases} | {seconds:.1f} | {ok / seconds * 60:.1f} |")
    print(f"\nLocalCluster start-up (not included above): {startup_s:.1f} s")


if __name__ == "__main__":
    main()
