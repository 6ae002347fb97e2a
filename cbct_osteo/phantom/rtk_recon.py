"""Forward projection and FDK reconstruction with the Reconstruction Toolkit (PyPI ``itk-rtk``, optional).

RTK rotates the source around its image y axis; patient (z, y, x) arrays are handed to it as
numpy (y, z, x), i.e. RTK (x, y, z) = patient (x, z, y), so the rotation axis is the patient's z.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from cbct_osteo.phantom.cbct_sim import Acquisition, ProjectionGeometry
from cbct_osteo.phantom.scene import Grid

INSTALL_HINT = (
    "the CBCT simulation needs the Reconstruction Toolkit: pip install 'cbct-osteo[simulate]' (or pip install itk-rtk)"
)
HANN_CUT = 0.8  # Hann window of the ramp filter (fraction of Nyquist), a vendor-like "standard" kernel
#: RTK's projection extrapolation against truncation (fraction of the detector width): vendors correct
#: truncation partly, so the bright rim at the field's edge is reduced, not removed.
TRUNCATION_CORRECTION = 0.15


class SimulationUnavailable(RuntimeError):
    """itk-rtk is not installed."""


def _rtk() -> tuple[Any, Any]:
    # itk ships no type information: both modules are Any at this boundary.
    try:
        itk: Any = importlib.import_module("itk")
        rtk: Any = itk.RTK  # lazily loaded on first access, as `from itk import RTK` does
    except (ImportError, AttributeError) as exc:  # AttributeError: itk without the RTK module
        raise SimulationUnavailable(f"{INSTALL_HINT} ({exc})") from None
    return itk, rtk


def require_rtk() -> None:
    """Raise :class:`SimulationUnavailable` (with the install hint) unless itk-rtk can be imported."""
    _rtk()


def _image(itk: Any, array_zyx: np.ndarray, grid: Grid) -> Any:
    """A patient (z, y, x) array as an RTK image (numpy (y, z, x): RTK x = patient x, y = z, z = y)."""
    image = itk.image_from_array(np.ascontiguousarray(np.transpose(array_zyx, (1, 0, 2)), dtype=np.float32))
    image.SetSpacing([grid.voxel_mm] * 3)
    image.SetOrigin([float(grid.origin[0]), float(grid.origin[2]), float(grid.origin[1])])
    return image


def _geometry(rtk: Any, acq: Acquisition, pg: ProjectionGeometry) -> Any:
    geometry = rtk.ThreeDCircularProjectionGeometry.New()
    for angle in pg.angles_deg:
        geometry.AddProjection(acq.source_isocentre_mm, acq.source_detector_mm, float(angle), float(pg.offset_mm), 0.0)
    return geometry


def _empty_projections(itk: Any, rtk: Any, pg: ProjectionGeometry) -> Any:
    image_type = itk.Image[itk.F, 3]
    source = rtk.ConstantImageSource[image_type].New()
    source.SetOrigin([-(pg.columns - 1) / 2.0 * pg.pitch_mm, -(pg.rows - 1) / 2.0 * pg.pitch_mm, 0.0])
    source.SetSpacing([pg.pitch_mm, pg.pitch_mm, 1.0])
    source.SetSize([pg.columns, pg.rows, len(pg.angles_deg)])
    source.SetConstant(0.0)
    source.Update()
    return source.GetOutput()


def _crop(array: np.ndarray, grid: Grid) -> tuple[np.ndarray, Grid] | None:
    """The array cut to the box of its non-zero voxels (rays that miss a volume cost little), or None if empty."""
    spans = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.nonzero(np.any(array != 0, axis=other))[0]
        if hit.size == 0:
            return None
        spans.append((int(hit[0]), int(hit[-1]) + 1))
    (z0, z1), (y0, y1), (x0, x1) = spans
    origin = (
        grid.origin[0] + x0 * grid.voxel_mm,
        grid.origin[1] + y0 * grid.voxel_mm,
        grid.origin[2] + z0 * grid.voxel_mm,
    )
    return array[z0:z1, y0:y1, x0:x1], Grid(origin, grid.voxel_mm, (z1 - z0, y1 - y0, x1 - x0))


def forward_project(volumes: list[tuple[np.ndarray, Grid]], acq: Acquisition, pg: ProjectionGeometry) -> np.ndarray:
    """Sum of the line integrals (value x mm) of several volumes: (projections, rows, columns) float32."""
    itk, rtk = _rtk()
    image_type = itk.Image[itk.F, 3]
    geometry = _geometry(rtk, acq, pg)
    total = np.zeros((len(pg.angles_deg), pg.rows, pg.columns), np.float32)
    for array, grid in volumes:
        cropped = _crop(array, grid)
        if cropped is None:
            continue
        array, grid = cropped
        projector = rtk.JosephForwardProjectionImageFilter[image_type, image_type].New()
        projector.SetInput(0, _empty_projections(itk, rtk, pg))
        projector.SetInput(1, _image(itk, array, grid))
        projector.SetGeometry(geometry)
        projector.Update()
        total += itk.array_from_image(projector.GetOutput())
    return total


def reconstruct(line_integrals: np.ndarray, acq: Acquisition, pg: ProjectionGeometry, grid: Grid) -> np.ndarray:
    """FDK reconstruction (attenuation per mm) on ``grid``: patient (z, y, x) float32.

    Short scans (arc < 360 deg) get Parker weights; an offset detector gets displaced-detector weights.
    """
    itk, rtk = _rtk()
    image_type = itk.Image[itk.F, 3]
    geometry = _geometry(rtk, acq, pg)
    projections = itk.image_from_array(np.ascontiguousarray(line_integrals, dtype=np.float32))
    projections.SetSpacing([pg.pitch_mm, pg.pitch_mm, 1.0])
    projections.SetOrigin([-(pg.columns - 1) / 2.0 * pg.pitch_mm, -(pg.rows - 1) / 2.0 * pg.pitch_mm, 0.0])
    weighted = projections
    if pg.offset_mm:
        displaced = rtk.DisplacedDetectorImageFilter[image_type].New()
        displaced.SetInput(weighted)
        displaced.SetGeometry(geometry)
        displaced.Update()
        weighted = displaced.GetOutput()
    if acq.arc_deg < 359.0:
        parker = rtk.ParkerShortScanImageFilter[image_type].New()
        parker.SetInput(weighted)
        parker.SetGeometry(geometry)
        parker.Update()
        weighted = parker.GetOutput()
    target = rtk.ConstantImageSource[image_type].New()
    target.SetOrigin([float(grid.origin[0]), float(grid.origin[2]), float(grid.origin[1])])
    target.SetSpacing([grid.voxel_mm] * 3)
    nz, ny, nx = grid.shape
    target.SetSize([nx, nz, ny])
    target.SetConstant(0.0)
    fdk = rtk.FDKConeBeamReconstructionFilter[image_type].New()
    fdk.SetInput(0, target.GetOutput())
    fdk.SetInput(1, weighted)
    fdk.SetGeometry(geometry)
    fdk.GetRampFilter().SetHannCutFrequency(HANN_CUT)
    fdk.GetRampFilter().SetTruncationCorrection(0.0 if pg.offset_mm else TRUNCATION_CORRECTION)
    fdk.Update()
    volume = itk.array_from_image(fdk.GetOutput())  # numpy (y, z, x)
    return np.ascontiguousarray(np.transpose(volume, (1, 0, 2)))
