"""Small geometric helpers shared by the cross-section and panoramic reformats."""

from __future__ import annotations

import numpy as np

from cbct_osteo.volume import Volume


def height_range(volume: Volume, up: np.ndarray) -> tuple[float, float]:
    """Lowest and highest height (mm along ``up``) of the volume's corner voxel centres."""
    corners = np.array(np.meshgrid(*[[0, n - 1] for n in volume.shape], indexing="ij")).reshape(3, -1).T
    heights = volume.index_to_patient(corners) @ up
    return float(heights.min()), float(heights.max())


def centred_positions(count: int, pixel_mm: float) -> np.ndarray:
    """``count`` positions ``pixel_mm`` apart, symmetric about 0 (the image centre)."""
    return (np.arange(count) - (count - 1) / 2.0) * pixel_mm


def pixel_count(extent_mm: float, pixel_mm: float) -> int:
    """Number of pixels covering ``extent_mm`` (at least one)."""
    return max(1, int(round(extent_mm / pixel_mm)))


def slab_offsets(volume: Volume, slab_mm: float) -> np.ndarray:
    """Sample offsets (mm) across a slab, centred on 0, no farther apart than the finest voxel.

    A zero slab gives the single offset 0 (a thin reformat). The ends are included, so a 5 mm
    slab on 0.3 mm voxels samples 18 positions from -2.5 to +2.5 mm.
    """
    if slab_mm < 0 or not np.isfinite(slab_mm):
        raise ValueError(f"slab thickness must be a finite number >= 0 mm, got {slab_mm}")
    if slab_mm == 0:
        return np.zeros(1)
    count = int(np.ceil(slab_mm / min(volume.spacing) - 1e-9)) + 1
    return np.linspace(-slab_mm / 2.0, slab_mm / 2.0, count)


def check_pixel(pixel_mm: float) -> float:
    """Validate a pixel size in mm."""
    if not (np.isfinite(pixel_mm) and pixel_mm > 0):
        raise ValueError(f"pixel size must be a positive number of mm, got {pixel_mm}")
    return float(pixel_mm)
