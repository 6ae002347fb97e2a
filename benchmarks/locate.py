"""Mandible locator and 3D surface: time on large scans, against the surface pipeline it replaced.

Run by hand (needs the shared data next to the repository and ~2 GB of memory)::

    .venv/bin/python benchmarks/locate.py [--repeats N] [--skip-baseline]

Targets (issue 12): the locator <= 1 s on 400 x 512 x 512; the 3D mandible of a 400 x 512 x 512
CBCT at 0.25 mm within 2 s at <= 0.4 mm detail. Scans:

* ``head CT``: the real head CT (../shared/data/real_volumes/vhp_male_head_mandible, 202 x 512 x 512,
  0.5 x 0.49 x 0.49 mm), and the same scan with twice the slices (404 x 512 x 512, linear
  interpolation, 0.25 mm slices): the size of a large CBCT, with the spine and skull base in it.
* ``phantom CBCT``: the project phantom at 400 x 512 x 512, 0.25 mm (a dental field of view).

"baseline" is the pipeline before the locator (kept here verbatim, for this table only): the whole
volume strided to ``target_mm``, flying edges, the largest connected piece, quadric decimation to
120 000 triangles, windowed-sinc smoothing. "ours" is :func:`cbct_osteo.report.surface.mandible_surface`:
located crop, resize to 0.4 mm, flying edges, largest piece, smoothing, quadric clustering.
"In box" is the share of the surface's points inside the located mandible's box, "spine" whether
the surface reaches the C2/C3 vertebral body (head CT only).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
from scipy import ndimage
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkFiltersCore import (
    vtkFlyingEdges3D,
    vtkPolyDataConnectivityFilter,
    vtkQuadricDecimation,
    vtkWindowedSincPolyDataFilter,
)

from cbct_osteo import load
from cbct_osteo.locate import bone_threshold, locate_mandible
from cbct_osteo.report.surface import SURFACE_MM, mandible_surface
from cbct_osteo.volume import Volume

HEAD_CT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real_volumes" / "vhp_male_head_mandible"
#: The C2/C3 vertebral body of the head CT (x, y ranges, LPS mm; tests/report/test_surface.py).
SPINE_X_MM, SPINE_Y_MM = (-25.0, 5.0), (86.0, 110.0)


def baseline_surface(volume: Volume, threshold: float, target_mm: float):
    """The former GUI surface builder (no crop, no clip), in voxel-index units."""
    step = max(1, int(round(target_mm / max(min(volume.spacing), 1e-3))))
    small = np.ascontiguousarray(volume.voxels[::step, ::step, ::step], dtype=np.float32)
    nz, ny, nx = small.shape
    image = vtkImageData()
    image.SetDimensions(nx, ny, nz)
    image.SetSpacing(step, step, step)
    image.GetPointData().SetScalars(numpy_to_vtk(small.ravel(), deep=True))
    contour = vtkFlyingEdges3D()
    contour.SetInputData(image)
    contour.SetValue(0, float(threshold))
    contour.ComputeNormalsOff()
    largest = vtkPolyDataConnectivityFilter()
    largest.SetInputConnection(contour.GetOutputPort())
    largest.SetExtractionModeToLargestRegion()
    largest.Update()
    last = largest
    n_triangles = largest.GetOutput().GetNumberOfCells()
    if n_triangles > 120_000:
        decimate = vtkQuadricDecimation()
        decimate.SetInputConnection(largest.GetOutputPort())
        decimate.SetTargetReduction(1.0 - 120_000 / n_triangles)
        last = decimate
    smooth = vtkWindowedSincPolyDataFilter()
    smooth.SetInputConnection(last.GetOutputPort())
    smooth.SetNumberOfIterations(12)
    smooth.SetPassBand(0.1)
    smooth.Update()
    return smooth.GetOutput(), step * min(volume.spacing)


def twice_the_slices(volume: Volume) -> Volume:
    """The scan with a slice interpolated between each pair (linear), 0.5 -> 0.25 mm."""
    voxels = ndimage.zoom(volume.voxels, (2.0 * volume.shape[0] / volume.shape[0], 1.0, 1.0), order=1)
    affine = volume.affine.copy()
    affine[:3, 0] = volume.affine[:3, 0] * (volume.shape[0] - 1) / (voxels.shape[0] - 1)
    spacing = (volume.spacing[0] * (volume.shape[0] - 1) / (voxels.shape[0] - 1), *volume.spacing[1:])
    return Volume(voxels, spacing, affine, volume.meta)


def seconds(fn, repeats: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds (all threads of this process) of ``fn()``, and its last result.

    On a shared machine the wall time includes waiting for a core; the CPU time does not, and on
    an idle machine the wall time is about the CPU time (less where VTK runs filters on threads).
    """
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def surface_of_a_fresh_copy(volume: Volume):
    """The surface of a fresh volume object, so the location cached on ``volume`` is not reused: the surface
    pays for it."""
    return mandible_surface(Volume(volume.voxels, volume.spacing, volume.affine, volume.meta))


def share_in_box(points: np.ndarray, box: np.ndarray) -> float:
    return float(np.mean(np.all((points >= box[0] - 0.5) & (points <= box[1] + 0.5), axis=1))) if len(points) else 0.0


def reaches_spine(points: np.ndarray) -> bool:
    return bool(
        np.any(
            (points[:, 0] > SPINE_X_MM[0])
            & (points[:, 0] < SPINE_X_MM[1])
            & (points[:, 1] > SPINE_Y_MM[0])
            & (points[:, 1] < SPINE_Y_MM[1])
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-baseline", action="store_true", help="leave out the (slow) former pipeline")
    args = parser.parse_args(argv)

    from cbct_osteo.phantom import make_phantom

    head = load(HEAD_CT)
    scans = [
        ("head CT", head, True),
        ("head CT, 2x slices", twice_the_slices(head), True),
        ("phantom CBCT 0.25 mm", make_phantom(shape=(400, 512, 512), voxel_mm=0.25).volume, False),
    ]
    print(
        f"# python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpus; median of "
        f"{args.repeats}; load average at start {os.getloadavg()[0]:.1f}"
    )
    print()
    print(
        "| scan | voxels | locate wall / CPU (s) | found | surface wall / CPU (s) | detail (mm) | triangles | in box "
        "| spine |"
    )
    print("|---|---|---:|---|---:|---:|---:|---:|---|")
    for name, volume, has_spine in scans:
        locate_s, locate_cpu, location = seconds(partial(locate_mandible, volume), args.repeats)
        shape = "x".join(map(str, volume.shape))
        surface_s, surface_cpu, surface = seconds(partial(surface_of_a_fresh_copy, volume), args.repeats)
        points = vtk_to_numpy(surface.polydata.GetPoints().GetData())
        detail = max(SURFACE_MM, min(volume.spacing))
        spine = ("yes" if reaches_spine(points) else "no") if has_spine else "-"
        print(
            f"| {name}, ours | {shape} | {locate_s:.2f} / {locate_cpu:.2f} | {location.found} | "
            f"{surface_s:.2f} / {surface_cpu:.2f} | {detail:.2f} | "
            f"{surface.polydata.GetNumberOfCells():,} | {share_in_box(points, location.bbox_mm):.0%} | {spine} |"
        )
        if args.skip_baseline:
            continue
        threshold = bone_threshold(volume)
        for target in (0.7, 0.25):
            base_s, base_cpu, (mesh, detail) = seconds(partial(baseline_surface, volume, threshold, target), 1)
            index_xyz = vtk_to_numpy(mesh.GetPoints().GetData()) if mesh.GetNumberOfPoints() else np.zeros((0, 3))
            base_points = volume.index_to_patient(index_xyz[:, ::-1])
            spine = ("yes" if reaches_spine(base_points) else "no") if has_spine else "-"
            print(
                f"| {name}, baseline {target} mm | {shape} | - | - | {base_s:.2f} / {base_cpu:.2f} | {detail:.2f} | "
                f"{mesh.GetNumberOfCells():,} | {share_in_box(base_points, location.bbox_mm):.0%} | {spine} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
