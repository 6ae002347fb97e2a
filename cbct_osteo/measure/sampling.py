"""Trilinear sampling of a Volume at arbitrary patient points.

Every measurement here samples the volume along lines, squares or cubes that are oblique to
the voxel grid (the measurement line, the cross-section ROI). One vectorised call per shape
keeps this cheap: a profile grid or a 50³ ROI cube is a single ``map_coordinates`` call.
It is deliberately not :func:`cbct_osteo.reformat.sample_points`: the edge fits need float64
values and a profile that continues past the border (edge voxels repeated), where the reformat
sampler returns float32 images with a background value outside the scan.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from cbct_osteo.volume import Volume


def sample_points(volume: Volume, xyz: np.ndarray) -> np.ndarray:
    """Gray values at patient points, by trilinear interpolation.

    Parameters
    ----------
    volume
        The volume; its affine maps voxel indices (z, y, x) to patient LPS mm.
    xyz
        Points (..., 3) in patient LPS mm, (x, y, z) order.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``xyz.shape[:-1]``. Points outside the volume take the value of
        the nearest edge voxel, so a profile that grazes the border stays continuous.
    """
    points = np.asarray(xyz, dtype=float)
    index = volume.patient_to_index(points.reshape(-1, 3))
    values = ndimage.map_coordinates(volume.voxels, index.T, order=1, mode="nearest", output=np.float64)
    return values.reshape(points.shape[:-1])


def voxel_extent_along(volume: Volume, direction: np.ndarray) -> float:
    """Length (mm) of one voxel's projection onto a unit direction in patient space.

    For an axis-aligned direction it is the spacing along that axis; for a diagonal it grows,
    which is why a manual click's uncertainty (half of this) depends on the line's direction.
    """
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    axis_steps = volume.affine[:3, :3].T  # rows: patient-mm step of one voxel along z, y, x
    return float(np.sum(np.abs(axis_steps @ d)))
