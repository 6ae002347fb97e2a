"""The mandible's bone surface, one pipeline for the GUI's 3D view and the report's 3D figure.

Pure VTK filters on numpy, no rendering and no Qt, so it runs in a worker thread. Steps:

1. **Where**: the volume is cropped to the located mandible's box (:func:`cbct_osteo.locate.cached_location`,
   :func:`mandible_region`), so a head CT's spine and skull base never enter, and the crop is small
   enough to use fine voxels.
2. **Threshold**: :func:`cbct_osteo.locate.bone_threshold` (fixed in HU, histogram rule for CBCT).
3. **Upper jaw clip**: in occlusion the upper teeth touch the lower ones, so only voxels below
   the occlusal plane above the arch (:func:`occlusal_cut_height`) take part.
4. **Surface**: the crop resampled to about ``target_mm`` voxels (:data:`SURFACE_MM`,
   multithreaded VTK resize), flying edges, the largest connected piece, windowed-sinc
   smoothing, then, above :data:`MAX_TRIANGLES`, quadric clustering (a single pass over the
   mesh: quadric decimation took ~15 s on a fine mandible, clustering a fraction of a second).

Output points are patient LPS mm, like everything else, so landmarks drop onto the surface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPolyData
from vtkmodules.vtkCommonExecutionModel import vtkPolyDataAlgorithm
from vtkmodules.vtkCommonTransforms import vtkTransform
from vtkmodules.vtkFiltersCore import (
    vtkFlyingEdges3D,
    vtkPolyDataConnectivityFilter,
    vtkPolyDataNormals,
    vtkQuadricClustering,
    vtkWindowedSincPolyDataFilter,
)
from vtkmodules.vtkFiltersGeneral import vtkTransformFilter
from vtkmodules.vtkImagingCore import vtkImageResize

from cbct_osteo.locate import MandibleLocation, bone_threshold, cached_location, crop_slices, sub_volume
from cbct_osteo.volume import Volume, volume_up

#: Voxel size (mm) the surface is extracted at (finer scans are resampled to it, coarser kept).
SURFACE_MM = 0.4
#: Above this many triangles the mesh is clustered down (the view stays fluid in software GL).
MAX_TRIANGLES = 400_000
#: How far above the arch level (mm) the lower crowns are searched: a mandibular body is about
#: 30 mm high and lower crowns 7-11 mm, so wherever on the body the arch was drawn the lower
#: crowns end within this reach, while the maxilla usually lies beyond it. Also the cut's cap.
OCCLUSAL_REACH_MM = 25.0
#: A run of non-bone this long (mm) above the crowns ends the lower jaw on a vertical line.
OCCLUSAL_GAP_MM = 3.0
#: The cut lies this far above the crown tops found, so the cusps are not shaved off.
OCCLUSAL_MARGIN_MM = 2.0

Progress = Callable[[int, int], None]


@dataclass
class MandibleSurface:
    """A surface and what it was made with: threshold (gray value), cut height (mm along the
    vertical, ``None`` = no clip) and the location it was cropped to."""

    polydata: vtkPolyData
    threshold: float
    cut_height_mm: float | None
    location: MandibleLocation


def mandible_surface(
    volume: Volume,
    threshold: float | None = None,
    *,
    arch_xyz: np.ndarray | None = None,
    clip: bool = True,
    target_mm: float = SURFACE_MM,
    progress: Progress | None = None,
) -> MandibleSurface:
    """The bone surface of the located mandible.

    Parameters
    ----------
    threshold
        Bone gray value; default :func:`~cbct_osteo.locate.bone_threshold`.
    arch_xyz
        (N, 3) LPS mm along the dental arch for the occlusal clip (the user's arch, densely);
        default the located arch.
    clip
        Clip above the occlusal plane (the upper jaw). No clip without an arch.
    target_mm
        Voxel size of the surface.
    """
    location = cached_location(volume)
    value = bone_threshold(volume) if threshold is None else float(threshold)
    if arch_xyz is None and location.arch_points_mm is not None:
        arch_xyz = _dense(location.arch_points_mm)
    cut = occlusal_cut_height(volume, arch_xyz, value) if clip and arch_xyz is not None else None
    polydata = build_surface(
        mandible_region(volume, location), value, target_mm=target_mm, progress=progress, cut_height_mm=cut
    )
    return MandibleSurface(polydata, value, cut, location)


def mandible_region(volume: Volume, location: MandibleLocation) -> Volume:
    """The part of ``volume`` inside the located mandible's box (the whole volume when none was found).

    The box itself, without the crop margin: a metal pin or a styloid process touching the jaw
    would otherwise carry the surface out of it.
    """
    if location.bbox_mm is None:
        return volume
    return sub_volume(volume, crop_slices(volume, location.bbox_mm, 0.0, within=True))


def _dense(points: np.ndarray, step_mm: float = 1.0) -> np.ndarray:
    """Points every ~``step_mm`` along the polyline through ``points``."""
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    picks = np.linspace(0.0, along[-1], max(2, int(along[-1] / step_mm) + 1))
    return np.column_stack([np.interp(picks, along, points[:, k]) for k in range(3)])


def occlusal_cut_height(
    volume: Volume,
    arch_xyz: np.ndarray,
    threshold: float,
    reach_mm: float = OCCLUSAL_REACH_MM,
    gap_mm: float = OCCLUSAL_GAP_MM,
    margin_mm: float = OCCLUSAL_MARGIN_MM,
) -> float:
    """Height (mm along :func:`volume_up`, i.e. ``dot(xyz, up)``) of the occlusal plane above the arch.

    On the vertical line through each arch point the lower jaw is followed upward from the
    arch level: from its first bone voxel (gray value >= ``threshold``) until a gap of
    ``gap_mm`` without bone, or ``reach_mm`` above the arch level. Between the teeth this stops
    at the alveolar crest, on a tooth at its crown tip; the 90th percentile of these tops keeps
    nearly every crown while one line that runs on into touching upper teeth cannot raise the
    cut. The result is that height plus ``margin_mm``, capped at ``reach_mm`` above the arch
    level (the cap when no line meets bone).

    Parameters
    ----------
    volume
        The scan; gray values are sampled at the nearest voxel.
    arch_xyz
        (N, 3) points along the dental arch, patient LPS mm (densely, e.g. every 1 mm).
    threshold
        Bone gray value, the surface's threshold.
    """
    up = volume_up(volume)
    arch_xyz = np.asarray(arch_xyz, float).reshape(-1, 3)
    level = float(np.median(arch_xyz @ up))
    step_mm = min(volume.spacing)
    heights = np.arange(0.0, reach_mm + step_mm / 2, step_mm)  # above the arch level
    points = (arch_xyz - np.outer(arch_xyz @ up - level, up))[:, None, :] + heights[None, :, None] * up
    index = np.rint(volume.patient_to_index(points.reshape(-1, 3))).astype(np.int64)
    inside = np.all((index >= 0) & (index < np.asarray(volume.shape)), axis=1)
    bone: npt.NDArray[np.bool_] = np.zeros(len(index), bool)  # per sample, then (arch point, height)
    picked = index[inside]
    bone[inside] = np.asarray(volume.voxels[picked[:, 0], picked[:, 1], picked[:, 2]]) >= threshold
    bone = bone.reshape(len(arch_xyz), len(heights))
    gap = max(1, int(round(gap_mm / step_mm)))
    tops = []
    for line in bone:
        hits = np.flatnonzero(line)
        if hits.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(hits) > gap)  # a gap longer than gap_mm ends the lower jaw
        tops.append(heights[hits[breaks[0]] if breaks.size else hits[-1]])
    top = float(np.percentile(tops, 90)) + margin_mm if tops else reach_mm
    return level + min(top, reach_mm)


def build_surface(
    volume: Volume,
    threshold: float,
    target_mm: float = SURFACE_MM,
    progress: Progress | None = None,
    cut_height_mm: float | None = None,
) -> vtkPolyData:
    """Iso-surface of ``volume`` at ``threshold`` (gray value), largest piece, in patient mm.

    With ``cut_height_mm`` (mm along :func:`volume_up`, see :func:`occlusal_cut_height`) only
    voxels at least two surface voxels below the cut take part, so the surface, closed by a
    flat cap, stays below the cut. Returns an empty polydata when nothing exceeds the threshold.
    """
    report = progress or (lambda done, total: None)
    voxels = np.array(volume.voxels, dtype=np.float32)  # a copy: the clip writes into it
    if min(voxels.shape) < 2:
        return vtkPolyData()
    spacing = np.asarray(volume.spacing, float)
    resample = np.maximum(target_mm, spacing) / spacing  # output step in voxel-index units, >= 1
    if cut_height_mm is not None:
        up = volume_up(volume)
        along = (volume.affine[:3, :3].T @ up).astype(np.float32)  # height gained per (z, y, x) index step
        z, y, x = (np.arange(n, dtype=np.float32) for n in voxels.shape)
        # The iso-surface lies between the last kept voxel and the first dropped one, and resampling
        # and smoothing move it by a fraction of a voxel: dropping from two voxels below the cut keeps it below.
        limit = cut_height_mm - 2.0 * float(np.max(np.abs(along) * resample)) - float(volume.affine[:3, 3] @ up)
        dropped = min(float(voxels.min()), float(threshold)) - 1.0
        if along[1] == 0 and along[2] == 0:  # horizontal slices (an axial scan): drop whole slices
            voxels[along[0] * z > limit] = dropped
        else:
            voxels[along[0] * z[:, None, None] + along[1] * y[:, None] + along[2] * x > limit] = dropped
    nz, ny, nx = voxels.shape
    image = vtkImageData()
    image.SetDimensions(nx, ny, nz)  # VTK is x-fastest, which is numpy's C order for (z, y, x)
    image.SetSpacing(1.0, 1.0, 1.0)  # voxel-index units; the transform below maps to mm
    # vtk's numpy_support is plain Python without annotations
    image.GetPointData().SetScalars(numpy_to_vtk(voxels.ravel(), deep=False))
    report(1, 5)

    source = image
    if np.any(resample > 1.0 + 1e-6):
        resize = vtkImageResize()
        resize.SetInputData(image)
        resize.SetResizeMethodToOutputSpacing()
        resize.SetOutputSpacing(float(resample[2]), float(resample[1]), float(resample[0]))
        resize.InterpolateOn()
        resize.Update()
        source = resize.GetOutput()
    contour = vtkFlyingEdges3D()
    contour.SetInputData(source)
    contour.SetValue(0, float(threshold))
    contour.ComputeNormalsOff()
    contour.ComputeGradientsOff()
    contour.Update()
    if contour.GetOutput().GetNumberOfPoints() == 0:
        return vtkPolyData()
    report(2, 5)

    largest = vtkPolyDataConnectivityFilter()
    largest.SetInputConnection(contour.GetOutputPort())
    largest.SetExtractionModeToLargestRegion()
    smooth = vtkWindowedSincPolyDataFilter()
    smooth.SetInputConnection(largest.GetOutputPort())
    smooth.SetNumberOfIterations(10)
    smooth.SetPassBand(0.1)
    smooth.NonManifoldSmoothingOn()
    smooth.NormalizeCoordinatesOn()
    smooth.Update()
    report(3, 5)
    last: vtkPolyDataAlgorithm = smooth
    n_triangles = smooth.GetOutput().GetNumberOfCells()
    if n_triangles > MAX_TRIANGLES:
        cluster = vtkQuadricClustering()
        cluster.SetInputConnection(smooth.GetOutputPort())
        bins = _cluster_bins(smooth.GetOutput().GetBounds(), resample[::-1], n_triangles)
        cluster.SetNumberOfDivisions(*bins)
        cluster.Update()
        last = cluster
    report(4, 5)

    # (i, j, k) = (x, y, z) voxel indices -> patient LPS: columns of the affine in (x, y, z) index order.
    matrix = np.eye(4)
    matrix[:3, 0] = volume.affine[:3, 2]
    matrix[:3, 1] = volume.affine[:3, 1]
    matrix[:3, 2] = volume.affine[:3, 0]
    matrix[:3, 3] = volume.affine[:3, 3]
    transform = vtkTransform()
    transform.SetMatrix(matrix.ravel().tolist())
    to_patient = vtkTransformFilter()
    to_patient.SetInputConnection(last.GetOutputPort())
    to_patient.SetTransform(transform)
    normals = vtkPolyDataNormals()
    normals.SetInputConnection(to_patient.GetOutputPort())
    normals.SplittingOff()
    normals.ConsistencyOn()
    normals.Update()
    report(5, 5)
    result = vtkPolyData()
    result.DeepCopy(normals.GetOutput())
    return result


def _cluster_bins(bounds: tuple[float, ...], cell_xyz: np.ndarray, n_triangles: int) -> tuple[int, int, int]:
    """Clustering divisions that bring ``n_triangles`` down to about :data:`MAX_TRIANGLES`.

    A surface's triangle count scales with the square of the linear bin count, so the bins
    per axis are the mesh's cells (``cell_xyz``, voxel-index units like ``bounds``) scaled by
    sqrt(MAX / n).
    """
    extent = np.maximum(np.asarray(bounds, float).reshape(3, 2) @ np.array([-1.0, 1.0]), 1.0)
    scale = np.sqrt(MAX_TRIANGLES / n_triangles)
    x, y, z = (int(max(8, e / c * scale)) for e, c in zip(extent, cell_xyz, strict=True))
    return x, y, z
