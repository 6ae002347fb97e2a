"""The mandible surface for the 3D view: threshold, largest component, decimate, smooth.

Pure VTK filters on a numpy volume, no rendering, so it runs in a worker thread. The volume is
first strided down to about ``target_mm`` voxels: a CBCT at 0.2 mm has ~250 M voxels and the
3D view only needs the shape; the slices keep full resolution. Output points are in patient
LPS mm, like everything else, so landmarks drop onto the surface without conversion.
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

from cbct_osteo.volume import Volume

MAX_TRIANGLES = 120_000


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


def build_surface(
    volume: Volume,
    threshold: float,
    target_mm: float = 0.7,
    progress: Callable[[int, int], None] | None = None,
) -> vtkPolyData:
    """Iso-surface of ``volume`` at ``threshold`` (gray value), largest component, in patient mm.

    Returns an empty polydata when nothing exceeds the threshold.
    """
    report = progress or (lambda done, total: None)
    step = downsample_factor(volume.spacing, target_mm)
    small = np.ascontiguousarray(volume.voxels[::step, ::step, ::step], dtype=np.float32)
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
