"""The mandible surface for the 3D view: clip above the occlusal plane, threshold, largest component, decimate, smooth.

Pure VTK filters on a numpy volume, no rendering, so it runs in a worker thread. The volume is
first strided down to about ``target_mm`` voxels: a CBCT at 0.2 mm has ~250 M voxels and the
3D view only needs the shape; the slices keep full resolution. Output points are in patient
LPS mm, like everything else, so landmarks drop onto the surface without conversion.

A CBCT of the jaws usually holds the maxilla too, and in occlusion the upper teeth touch the
lower ones, so "largest component" alone can return both jaws as one piece. The surface is
therefore built only from voxels below a horizontal cut (along :func:`volume_up`) at the
occlusal plane estimated from the dental arch (:func:`occlusal_cut_height`).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from skimage.filters import threshold_multiotsu
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPolyData
from vtkmodules.vtkCommonTransforms import vtkTransform
from vtkmodules.vtkFiltersCore import (
    vtkFlyingEdges3D,
    vtkPolyDataConnectivityFilter,
    vtkPolyDataNormals,
    vtkQuadricDecimation,
    vtkWindowedSincPolyDataFilter,
)
from vtkmodules.vtkFiltersGeneral import vtkTransformFilter

from cbct_osteo.reformat import volume_up
from cbct_osteo.volume import Volume

MAX_TRIANGLES = 120_000
#: How far above the arch level (mm) the lower crowns are searched: a mandibular body is about
#: 30 mm high and lower crowns 7-11 mm, so wherever on the body the arch was drawn the lower
#: crowns end within this reach, while the maxilla usually lies beyond it. Also the cut's cap.
OCCLUSAL_REACH_MM = 25.0
#: A run of non-bone this long (mm) above the crowns ends the lower jaw on a vertical line.
OCCLUSAL_GAP_MM = 3.0
#: The cut lies this far above the crown tops found, so the cusps are not shaved off.
OCCLUSAL_MARGIN_MM = 2.0


def downsample_factor(spacing_zyx: tuple[float, float, float], target_mm: float = 0.7) -> int:
    """Integer stride that brings the finest voxel size up to about ``target_mm``."""
    return max(1, int(round(target_mm / max(min(spacing_zyx), 1e-3))))


def default_bone_threshold(volume: Volume, target_mm: float = 1.0) -> float:
    """A bone threshold from the histogram: the upper of three Otsu classes (air, soft tissue, bone).

    CBCT gray values are not calibrated, so no fixed number works across scanners; the
    three-class Otsu split of a coarse sample separates bone from soft tissue on our phantom
    and typical scans. The user can move it with the slider.
    """
    step = downsample_factor(volume.spacing, target_mm)
    sample = np.asarray(volume.voxels[::step, ::step, ::step], dtype=np.float32)
    try:
        return float(threshold_multiotsu(sample, classes=3)[-1])
    except ValueError:
        return float(np.percentile(sample, 90))


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
    bone = np.zeros(len(index), bool)
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
    target_mm: float = 0.7,
    progress: Callable[[int, int], None] | None = None,
    cut_height_mm: float | None = None,
) -> vtkPolyData:
    """Iso-surface of ``volume`` at ``threshold`` (gray value), largest component, in patient mm.

    With ``cut_height_mm`` (mm along :func:`volume_up`, see :func:`occlusal_cut_height`) only
    voxels at least two (downsampled) voxels below the cut take part, so the surface, closed by
    a flat cap, stays below the cut. Returns an empty polydata when nothing exceeds the threshold.
    """
    report = progress or (lambda done, total: None)
    step = downsample_factor(volume.spacing, target_mm)
    small = np.ascontiguousarray(volume.voxels[::step, ::step, ::step], dtype=np.float32)
    if cut_height_mm is not None:
        up = volume_up(volume)
        along = (volume.affine[:3, :3].T @ up * step).astype(np.float32)  # height gained per downsampled (z, y, x) index step
        z, y, x = (np.arange(n, dtype=np.float32) for n in small.shape)
        height = float(volume.affine[:3, 3] @ up) + along[0] * z[:, None, None] + along[1] * y[:, None] + along[2] * x
        # The iso-surface lies between the last kept voxel and the first dropped one, and smoothing
        # moves it by a fraction of a voxel: dropping from two voxels below the cut keeps it below.
        small[height > cut_height_mm - 2.0 * np.abs(along).max()] = min(float(small.min()), float(threshold)) - 1.0
    nz, ny, nx = small.shape
    image = vtkImageData()
    image.SetDimensions(nx, ny, nz)  # VTK is x-fastest, which is numpy's C order for (z, y, x)
    image.SetSpacing(step, step, step)  # in voxel-index units; the transform below maps to mm
    image.GetPointData().SetScalars(numpy_to_vtk(small.ravel(), deep=True))
    report(1, 5)

    contour = vtkFlyingEdges3D()
    contour.SetInputData(image)
    contour.SetValue(0, float(threshold))
    contour.ComputeNormalsOff()
    contour.Update()
    if contour.GetOutput().GetNumberOfPoints() == 0:
        return vtkPolyData()
    report(2, 5)

    largest = vtkPolyDataConnectivityFilter()
    largest.SetInputConnection(contour.GetOutputPort())
    largest.SetExtractionModeToLargestRegion()
    largest.Update()
    n_triangles = largest.GetOutput().GetNumberOfCells()
    report(3, 5)

    last = largest
    if n_triangles > MAX_TRIANGLES:
        decimate = vtkQuadricDecimation()
        decimate.SetInputConnection(largest.GetOutputPort())
        decimate.SetTargetReduction(1.0 - MAX_TRIANGLES / n_triangles)
        decimate.Update()
        last = decimate
    smooth = vtkWindowedSincPolyDataFilter()
    smooth.SetInputConnection(last.GetOutputPort())
    smooth.SetNumberOfIterations(12)
    smooth.SetPassBand(0.1)
    smooth.NonManifoldSmoothingOn()
    smooth.NormalizeCoordinatesOn()
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
    to_patient.SetInputConnection(smooth.GetOutputPort())
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
