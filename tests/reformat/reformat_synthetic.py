"""Synthetic volumes with analytic intensities and arch shapes for the reformat tests."""

from __future__ import annotations

import numpy as np

from cbct_osteo.volume import Volume, affine_from_axes

#: Intensity = RAMP @ (x, y, z) + RAMP_OFFSET: trilinear interpolation reproduces it exactly.
RAMP = np.array([2.0, -3.0, 5.0])
RAMP_OFFSET = 1000.0


def ramp_value(xyz: np.ndarray) -> np.ndarray:
    return np.asarray(xyz, float) @ RAMP + RAMP_OFFSET


def centred_affine(directions: np.ndarray, spacing_zyx: tuple, shape: tuple, centre_xyz) -> np.ndarray:
    """Affine with voxel axes (columns of ``directions``: x, y, slice) centred on ``centre_xyz``."""
    affine = affine_from_axes([0, 0, 0], directions[:, 0], directions[:, 1], directions[:, 2], spacing_zyx)
    middle = affine[:3, :3] @ ((np.asarray(shape) - 1) / 2.0)
    affine[:3, 3] = np.asarray(centre_xyz, float) - middle
    return affine


def ramp_volume(affine: np.ndarray, shape: tuple[int, int, int]) -> Volume:
    index = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), axis=-1)
    spacing = tuple(float(np.linalg.norm(affine[:3, k])) for k in range(3))
    volume = Volume(np.zeros(shape, np.float32), spacing, affine)
    volume.voxels[...] = ramp_value(volume.index_to_patient(index))
    return volume


def rotation(ax: float, ay: float, az: float) -> np.ndarray:
    """Rotation matrix from angles (degrees) about x, then y, then z."""
    a, b, c = np.radians([ax, ay, az])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def arch_points(z: float = 0.0, n: int = 10) -> np.ndarray:
    """A horseshoe (half ellipse, chin at -y) from the patient's right (-x) to left (+x)."""
    theta = np.linspace(0.05 * np.pi, 0.95 * np.pi, n)
    return np.column_stack([-22.0 * np.cos(theta), 8.0 - 20.0 * np.sin(theta), np.full(n, z)])
