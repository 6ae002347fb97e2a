"""Small synthetic volumes with a known inferior cortex, for the measure tests.

A mandible-like bar runs along x (the "arch" is a straight line at y = 0): below ``border_z``
soft tissue, then a horizontal inferior cortex of width ``width_mm``, then trabecular bone (a
random sponge touching the endosteum) up to the top; buccal/lingual plates at |y| = 5..6 mm;
air beyond 9 mm. Voxel values are partial-volume averages (4x supersampling in z and y), then
blurred with a Gaussian PSF and given Gaussian noise, the way a CBCT sees a cortex.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from cbct_osteo.volume import Volume, affine_from_axes

SOFT, CORTEX, TRAB_BONE, MARROW, AIR = 100.0, 1500.0, 1100.0, 300.0, 0.0
SUPERSAMPLING = 4


def cortex_volume(
    width_mm: float,
    voxel_mm: float = 0.3,
    blur_mm: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
    border_z: float = -6.0,
    extent=(24.0, 20.0, 12.0),
) -> Volume:
    """A (z, y, x) volume centred on the origin; ``extent`` (z, y, x) in mm."""
    rng = np.random.default_rng(seed)
    nz, ny, nx = (int(round(e / voxel_mm)) for e in extent)
    sub = SUPERSAMPLING
    zf = (np.arange(nz * sub) + 0.5) / sub * voxel_mm - extent[0] / 2
    yf = (np.arange(ny * sub) + 0.5) / sub * voxel_mm - extent[1] / 2
    Z, Y = np.meshgrid(zf, yf, indexing="ij")
    inside = (np.abs(Y) < 6.0) & (border_z <= Z)
    plate = inside & ((np.abs(Y) >= 5.0) | (border_z + width_mm > Z))
    core = inside & ~plate
    section = np.where(np.abs(Y) < 9.0, SOFT, AIR)
    section = np.where(plate, CORTEX, section).astype(np.float32)
    # a sponge of ~1 mm cells, half bone, sampled on the fine grid so it meets the endosteum exactly
    coarse = ndimage.gaussian_filter(rng.standard_normal((nz, ny, nx)), 0.35 / voxel_mm)
    fine = ndimage.zoom(coarse, (sub, sub, 1), order=1, grid_mode=True, mode="grid-wrap")
    sponge = np.where(fine > 0.0, TRAB_BONE, MARROW).astype(np.float32)
    volume = np.where(core[:, :, None], sponge, section[:, :, None])
    volume = volume.reshape(nz, sub, ny, sub, nx).mean(axis=(1, 3))  # partial volume
    if blur_mm > 0:
        volume = ndimage.gaussian_filter(volume, blur_mm / voxel_mm)
    if noise > 0:
        volume = volume + rng.normal(0.0, noise, volume.shape)
    origin = (-extent[2] / 2 + voxel_mm / 2, -extent[1] / 2 + voxel_mm / 2, -extent[0] / 2 + voxel_mm / 2)
    affine = affine_from_axes(origin, (1, 0, 0), (0, 1, 0), (0, 0, 1), (voxel_mm,) * 3)
    return Volume(volume.astype(np.float32), (voxel_mm,) * 3, affine)


def straight_arch(z: float = 0.0) -> list[tuple[float, float, float]]:
    """Arch points along x at y = 0 (the bar's centre line)."""
    return [(x, 0.0, z) for x in np.linspace(-5.0, 5.0, 6)]


def rotation(axis: str, degrees: float) -> np.ndarray:
    """3x3 rotation about the patient x ("x": across the cross-section) or y axis, by ``degrees``."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    if axis == "y":  # tilts the x axis (the arch) toward z: a border sloping along the arch
        return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])  # "x": tilts y toward z (bucco-lingual)


def tilted(volume: Volume, matrix: np.ndarray) -> Volume:
    """The same voxels with the whole body rotated by ``matrix`` about the patient origin."""
    affine = volume.affine.copy()
    affine[:3, :] = matrix @ volume.affine[:3, :]
    return Volume(volume.voxels, volume.spacing, affine, volume.meta)


def coarser_slices(volume: Volume, factor: int) -> Volume:
    """The volume with ``factor`` consecutive slices averaged into one (thick, coarse slices)."""
    n = volume.shape[0] // factor * factor
    voxels = volume.voxels[:n].reshape(-1, factor, *volume.shape[1:]).mean(axis=1)
    affine = volume.affine.copy()
    affine[:3, 3] += volume.affine[:3, 0] * (factor - 1) / 2.0
    affine[:3, 0] *= factor
    spacing = (volume.spacing[0] * factor, volume.spacing[1], volume.spacing[2])
    return Volume(voxels.astype(np.float32), spacing, affine, volume.meta)
