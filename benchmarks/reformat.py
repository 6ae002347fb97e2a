"""Reformat latency: our engine against a plain ``scipy.ndimage.map_coordinates`` implementation.

Run by hand (needs ~1.5 GB of memory for the default 500 x 800 x 800 int16 volume)::

    .venv/bin/python benchmarks/reformat.py [--shape Z Y X] [--voxel MM] [--repeats N] [--phantom]

Targets (issue 3): cross-section 300 x 300 px <= 10 ms (scrubbing at 60 frames/s) and panoramic
1200 x 500 px with a 5 mm slab <= 150 ms. The volume is built in memory: by default uniform
noise (the access pattern, not the content, decides the speed), or the project phantom with
``--phantom``. The baseline computes every 3D sample point and calls ``map_coordinates``
(order 1, mode "constant") once, then averages or maximises across the slab. The last column
is the largest difference between the two images, showing both compute the same thing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from scipy import ndimage

from cbct_osteo.reformat import ArchCurve, background_value, cross_section, panoramic
from cbct_osteo.reformat._grid import centred_positions, slab_offsets
from cbct_osteo.volume import Volume, affine_from_axes


def synthetic_volume(shape: tuple[int, int, int], voxel_mm: float) -> Volume:
    rng = np.random.default_rng(0)
    voxels = rng.integers(-1000, 3000, size=shape, dtype=np.int16)
    extent = (np.asarray(shape[::-1]) - 1) * voxel_mm  # x, y, z
    affine = affine_from_axes(-extent / 2, [1, 0, 0], [0, 1, 0], [0, 0, 1], (voxel_mm,) * 3)
    return Volume(voxels, (voxel_mm,) * 3, affine)


def phantom_volume(shape: tuple[int, int, int], voxel_mm: float) -> tuple[Volume, ArchCurve]:
    from cbct_osteo.phantom import make_phantom

    case = make_phantom(shape=shape, voxel_mm=voxel_mm)
    return case.volume, ArchCurve.from_points(case.truth["phantom"]["arch"]["points"])


def horseshoe(volume: Volume) -> ArchCurve:
    """A 12-point U-shaped arch about 140 mm long, low in the middle of the volume."""
    centre = volume.index_to_patient((np.asarray(volume.shape) - 1) / 2.0)
    theta = np.linspace(0.05 * np.pi, 0.95 * np.pi, 12)
    points = np.column_stack([45 * np.cos(theta), 20 - 55 * np.sin(theta), np.full(12, -30.0)]) + centre
    return ArchCurve.from_points(points)


def baseline_extruded(volume: Volume, base: np.ndarray, up: np.ndarray, heights: np.ndarray, reduce: str) -> np.ndarray:
    """Plain approach: all (rows, cols, slab) points -> voxel indices -> one map_coordinates call."""
    points = base[None] + (heights[:, None, None] - base @ up)[..., None] * up
    inverse = np.linalg.inv(volume.affine)
    index = points.reshape(-1, 3) @ inverse[:3, :3].T + inverse[:3, 3]
    values = ndimage.map_coordinates(
        volume.voxels, index.T, order=1, mode="constant", cval=background_value(volume), output=np.float32
    ).reshape(points.shape[:-1])
    return values.mean(axis=2) if reduce == "mean" else values.max(axis=2)


def baseline_cross_section(
    volume: Volume, arch: ArchCurve, s: float, n: int, pixel: float, slab: float, mode: str, centre_z: float
) -> np.ndarray:
    across = centred_positions(n, pixel)
    base = (
        arch.point(s)
        + across[:, None, None] * arch.normal(s)
        + slab_offsets(volume, slab)[None, :, None] * arch.tangent(s)
    )
    return baseline_extruded(volume, base, arch.up, centre_z - centred_positions(n, pixel), mode)


def baseline_panoramic(
    volume: Volume, arch: ArchCurve, pixel: float, rows: int, slab: float, mode: str, centre_z: float
) -> np.ndarray:
    s = 0.5 * arch.length_mm + centred_positions(int(np.floor(arch.length_mm / pixel + 1e-6)) + 1, pixel)
    base = arch.point(s)[:, None] + slab_offsets(volume, slab)[None, :, None] * arch.normal(s)[:, None]
    return baseline_extruded(volume, base, arch.up, centre_z - centred_positions(rows, pixel), mode)


def median_ms(function: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    result = function()  # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(500, 800, 800), metavar=("Z", "Y", "X"))
    parser.add_argument("--voxel", type=float, default=0.3, help="voxel size in mm (default 0.3)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--phantom", action="store_true", help="use cbct_osteo.phantom.make_phantom")
    args = parser.parse_args()
    shape = tuple(args.shape)

    start = time.perf_counter()
    if args.phantom:
        volume, arch = phantom_volume(shape, args.voxel)
    else:
        volume = synthetic_volume(shape, args.voxel)
        arch = horseshoe(volume)
    built = time.perf_counter() - start
    start = time.perf_counter()
    background_value(volume)
    minimum_ms = 1e3 * (time.perf_counter() - start)
    centre_z = float(volume.index_to_patient((np.asarray(volume.shape) - 1) / 2.0)[2])
    s_mid = arch.length_mm / 2
    pano_pixel = arch.length_mm / 1199  # 1200 columns

    cases = [
        (
            "cross-section 300x300, thin",
            2,
            lambda: cross_section(volume, arch, s_mid, 30.0, 30.0, 0.1, centre_z_mm=centre_z).image,
            lambda: baseline_cross_section(volume, arch, s_mid, 300, 0.1, 0.0, "mean", centre_z),
        ),
        (
            "cross-section 300x300, 1 mm slab mean",
            2,
            lambda: cross_section(volume, arch, s_mid, 30.0, 30.0, 0.1, slab_mm=1.0, centre_z_mm=centre_z).image,
            lambda: baseline_cross_section(volume, arch, s_mid, 300, 0.1, 1.0, "mean", centre_z),
        ),
        (
            "panoramic 1200x500, 5 mm slab mean",
            1,
            lambda: panoramic(volume, arch, pano_pixel, 500 * pano_pixel, 5.0, "mean", centre_z_mm=centre_z).image,
            lambda: baseline_panoramic(volume, arch, pano_pixel, 500, 5.0, "mean", centre_z),
        ),
        (
            "panoramic 1200x500, 5 mm slab max",
            1,
            lambda: panoramic(volume, arch, pano_pixel, 500 * pano_pixel, 5.0, "max", centre_z_mm=centre_z).image,
            lambda: baseline_panoramic(volume, arch, pano_pixel, 500, 5.0, "max", centre_z),
        ),
        (
            "panoramic 1200x500, thin",
            1,
            lambda: panoramic(volume, arch, pano_pixel, 500 * pano_pixel, 0.0, centre_z_mm=centre_z).image,
            lambda: baseline_panoramic(volume, arch, pano_pixel, 500, 0.0, "mean", centre_z),
        ),
    ]
    print(
        f"# reformat benchmark: volume {shape} int16 at {args.voxel} mm "
        f"({'phantom' if args.phantom else 'synthetic noise'}), "
        f"arch {arch.length_mm:.1f} mm; built in {built:.1f} s"
    )
    print(
        f"# python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpus, {platform.machine()}; "
        f"median of {args.repeats}; volume minimum (background, cached once): {minimum_ms:.0f} ms; "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| case | image | ours (ms) | map_coordinates (ms) | speed-up | max abs diff |")
    print("|---|---|---:|---:|---:|---:|")
    for name, baseline_repeats, ours, baseline in cases:
        ours_ms, ours_image = median_ms(ours, args.repeats)
        base_ms, base_image = median_ms(baseline, max(1, min(args.repeats, 3 * baseline_repeats)))
        difference = float(np.max(np.abs(ours_image - base_image)))
        print(
            f"| {name} | {ours_image.shape[1]}x{ours_image.shape[0]} | {ours_ms:.1f} | {base_ms:.1f} | "
            f"{base_ms / ours_ms:.0f}x | {difference:.2g} |"
        )
    cubic_ms, _ = median_ms(
        lambda: cross_section(volume, arch, s_mid, 30.0, 30.0, 0.1, 0.0, "cubic", centre_z_mm=centre_z).image,
        args.repeats,
    )
    print(f"| cross-section 300x300, cubic | 300x300 | {cubic_ms:.1f} | - | - | - |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
