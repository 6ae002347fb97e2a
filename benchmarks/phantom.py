"""Benchmark: how long the mandible phantom takes to generate and write, and its peak memory.

Each case runs in a fresh Python process under ``/usr/bin/time`` (wall, CPU, peak RSS), so
import time is included, as a user of ``cbct-osteo phantom`` sees it. Run::

    .venv/bin/python benchmarks/phantom.py            # default and small phantoms
    .venv/bin/python benchmarks/phantom.py --large    # also 400x512x512 and 500x800x800 writes

and paste the table under "Phantom" in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

CASES = [
    ("make_phantom small (110x300x300, 0.35 mm)", "make", (110, 300, 300), 0.35, False),
    ("make_phantom default (140x360x360, 0.3 mm)", "make", (140, 360, 360), 0.3, False),
    ("write default, one file per slice", "write", (140, 360, 360), 0.3, False),
    ("write default, enhanced multi-frame", "write", (140, 360, 360), 0.3, True),
]
LARGE = [
    ("write 400x512x512, 0.2 mm", "write", (400, 512, 512), 0.2, False),
    ("write 500x800x800, 0.15 mm", "write", (500, 800, 800), 0.15, False),
]


def run_case(
    kind: str, shape: tuple[int, int, int], voxel: float, multiframe: bool, folder: str
) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MiB) of one generation in a fresh process."""
    if kind == "make":
        code = f"from cbct_osteo.phantom import make_phantom; make_phantom(shape={shape}, voxel_mm={voxel})"
    else:
        out = os.path.join(folder, f"p{shape[0]}_{multiframe}")
        code = (
            f"from cbct_osteo.phantom import write_phantom; "
            f"write_phantom({out!r}, shape={shape}, voxel_mm={voxel}, multiframe={multiframe})"
        )
    stats = os.path.join(folder, "time.txt")
    subprocess.run(["/usr/bin/time", "-o", stats, "-f", "%e %U %S %M", sys.executable, "-c", code], check=True)
    with open(stats) as stats_file:
        wall, user, system, peak_kib = stats_file.read().split()[-4:]
    return float(wall), float(user) + float(system), int(peak_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also write the 400x512x512 and 500x800x800 phantoms")
    args = parser.parse_args()
    cases = CASES + (LARGE if args.large else [])
    print(f"| case | wall s | CPU s | peak MiB |  (cores: {os.cpu_count()}, load avg {os.getloadavg()[0]:.1f})")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for label, kind, shape, voxel, multiframe in cases:
            wall, cpu, peak = run_case(kind, shape, voxel, multiframe, folder)
            print(f"| {label} | {wall:.1f} | {cpu:.1f} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
