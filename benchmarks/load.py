"""Benchmark: loading a CBCT-sized DICOM series, ours vs SimpleITK vs a plain pydicom loop.

Usage::

    .venv/bin/python benchmarks/load.py [--repeats 3] [--sizes 400x512x512 500x800x800]

For each size it writes an axial int16 series (one file per slice, Explicit VR Little
Endian, RescaleIntercept -1024, as CBCT exports are) into a temporary folder with
``cbct_osteo.phantom.write_phantom``, then loads it with each loader in a fresh subprocess,
several times, warm page cache. Each child reports the time spent in the load call (imports
excluded, as in a running GUI) and its peak resident memory (VmHWM, which includes the
interpreter and imported libraries); the parent also times the whole subprocess. The table
gives medians, the ratio of our load time to SimpleITK's, and peak memory relative to the
volume's own bytes.
Targets (issue 2): load time <= 0.5 x SimpleITK, peak memory <= 1.3 x volume bytes.
The temporary data is deleted afterwards.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

# The parent's tools (argparse, statistics, subprocess, ...) are imported inside the functions that
# use them: each child runs this file too, and what it imports is charged to the loader's peak memory
# (statistics alone pulls in decimal, fractions, random and hashlib).

LOADERS = ("cbct-osteo", "SimpleITK", "pydicom loop")


def write_series(folder: Path, shape: tuple[int, int, int], voxel_mm: float = 0.3) -> tuple[Path, str]:
    """Write the degraded phantom of ``shape`` (z, y, x); returns (folder of the DICOM files, what wrote it)."""
    from cbct_osteo.phantom import write_phantom

    write_phantom(folder, shape=shape, voxel_mm=voxel_mm, seed=0)
    return folder / "DICOM", "cbct_osteo.phantom.write_phantom (default, degraded)"


# -- children: one load each, in a fresh interpreter ---------------------------------------


def child(loader: str, folder: str) -> None:
    import numpy as np

    if loader == "cbct-osteo":
        from cbct_osteo.io.dicom_loader import load_series

        start = time.perf_counter()
        voxels = load_series(folder).voxels
    elif loader == "SimpleITK":
        import SimpleITK as sitk

        start = time.perf_counter()
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(folder))
        image = reader.Execute()
        voxels = sitk.GetArrayViewFromImage(image)  # a view: no copy charged to SimpleITK
    else:
        from pydicom import dcmread

        start = time.perf_counter()
        datasets = [dcmread(os.path.join(folder, name)) for name in os.listdir(folder)]
        datasets.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
        voxels = np.stack([ds.pixel_array for ds in datasets])
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak": peak_rss(), "shape": list(voxels.shape), "dtype": str(voxels.dtype)}))


def peak_rss() -> int:
    """Peak resident memory of this process (bytes).

    VmHWM belongs to the address space, which execve replaces; ``ru_maxrss`` is not reset by
    execve on Linux, so in a child it would report the benchmark parent's own peak (the
    phantom writer's) whenever that is larger.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_child(loader: str, folder: Path) -> dict:
    import subprocess

    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", loader, str(folder)], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - start
    return result


def warm_cache(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            while handle.read(1 << 22):
                pass


def main() -> None:
    import argparse
    import platform
    import shutil
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=["400x512x512", "500x800x800"])
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    rows = []
    for size in args.sizes:
        shape = tuple(int(v) for v in size.split("x"))
        tmp = Path(tempfile.mkdtemp(prefix="cbct-osteo-bench-"))
        try:
            start = time.perf_counter()
            series, writer = write_series(tmp / "series", shape)
            print(f"{size}: written by {writer} in {time.perf_counter() - start:.0f} s", flush=True)
            warm_cache(series)
            results = {loader: [] for loader in LOADERS}
            for _ in range(args.repeats):
                for loader in LOADERS:  # interleaved, so drift hits every loader alike
                    results[loader].append(run_child(loader, series))
            for loader in LOADERS:
                rows.append((size, loader, results[loader]))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print_table(rows, args.repeats)


def print_table(rows, repeats: int) -> None:
    import math
    import statistics

    mib = 2**20
    sitk = {size: statistics.median(r["seconds"] for r in res) for size, loader, res in rows if loader == "SimpleITK"}
    print(f"\nmedian of {repeats} runs, warm page cache; load = time in the load call, process = whole subprocess")
    print(
        "| volume (z x y x x, int16) | loader | result dtype | load s | x SimpleITK | process s | peak RSS MiB "
        "| peak / volume bytes |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size, loader, res in rows:
        seconds = statistics.median(r["seconds"] for r in res)
        process = statistics.median(r["process_seconds"] for r in res)
        peak = statistics.median(r["peak"] for r in res)
        volume = 2 * math.prod(int(v) for v in size.split("x"))  # the int16 volume's own bytes
        print(
            f"| {size} ({volume / mib:.0f} MiB) | {loader} | {res[0]['dtype']} | {seconds:.2f} "
            f"| {seconds / sitk[size]:.2f} | {process:.2f} | {peak / mib:.0f} | {peak / volume:.2f} |"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:  # a child: no argparse or other parent tools (see the imports above)
        child(*sys.argv[2:4])
    else:
        main()
