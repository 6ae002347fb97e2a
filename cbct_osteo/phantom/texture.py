"""Trabecular texture: a reproducible sponge of bone sheets defined at every point in millimetres.

Band-pass filtered Gaussian noise has a dominant wavelength; the set where it is close to zero
(``|f| < q``) is a connected, labyrinth-like network of sheets and rods that looks like
cancellous bone on CT, and ``q`` sets its bone fraction exactly (a quantile). The noise is
synthesised once on a periodic tile (FFT) and sampled by trilinear interpolation at patient
coordinates, so the texture does not depend on the voxel grid: a finer phantom shows the same
trabeculae, only sharper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

TILE_SIZE = 128
SAMPLES_PER_WAVELENGTH = 10.0


@dataclass(frozen=True)
class TrabecularTexture:
    """The texture for one seed: a periodic noise tile and the threshold that gives ``bone_fraction``.

    Attributes
    ----------
    tile
        (128, 128, 128) float32 band-pass noise, indexed (z, y, x), periodic.
    step_mm
        Tile sample spacing in mm (wavelength / 10); the tile repeats every 128 steps.
    threshold
        Bone where ``|noise| < threshold``.
    bone_fraction, spacing_mm
        The requested bone volume fraction and dominant trabecular wavelength (mm).
    """

    tile: np.ndarray
    step_mm: float
    threshold: float
    bone_fraction: float
    spacing_mm: float

    @classmethod
    def generate(cls, seed: int, bone_fraction: float = 0.35, spacing_mm: float = 1.6) -> TrabecularTexture:
        """Synthesise the tile from ``seed`` (same seed, same texture on any machine).

        Parameters
        ----------
        bone_fraction
            Target bone volume fraction (BV/TV) of the trabecular core, 0.05–0.8.
        spacing_mm
            Dominant wavelength (centre-to-centre distance of neighbouring trabeculae), 0.4–4 mm.
        """
        if not 0.05 <= bone_fraction <= 0.8:
            raise ValueError(f"bone_fraction must be within 0.05–0.8, got {bone_fraction}")
        if not 0.4 <= spacing_mm <= 4.0:
            raise ValueError(f"trab_spacing_mm must be within 0.4–4 mm, got {spacing_mm}")
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x7EA8]))
        white = rng.standard_normal((TILE_SIZE,) * 3, dtype=np.float32)
        spectrum = np.fft.rfftn(white)
        k = [np.fft.fftfreq(TILE_SIZE)] * 2 + [np.fft.rfftfreq(TILE_SIZE)]
        kz, ky, kx = np.meshgrid(*k, indexing="ij", sparse=True)
        radius = np.sqrt(kz**2 + ky**2 + kx**2)
        k0 = 1.0 / SAMPLES_PER_WAVELENGTH  # cycles per tile sample
        spectrum *= np.exp(-0.5 * ((radius - k0) / (0.3 * k0)) ** 2).astype(np.float32)
        tile = np.fft.irfftn(spectrum, s=white.shape, axes=(0, 1, 2)).astype(np.float32)
        tile /= tile.std()
        threshold = float(np.quantile(np.abs(tile), bone_fraction))
        return cls(tile, spacing_mm / SAMPLES_PER_WAVELENGTH, threshold, bone_fraction, spacing_mm)

    def bone(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Boolean bone mask at patient points (mm); arrays broadcast together."""
        x, y, z = np.broadcast_arrays(x, y, z)
        coords = np.stack([z.ravel(), y.ravel(), x.ravel()]) / self.step_mm
        values = ndimage.map_coordinates(self.tile, coords, order=1, mode="grid-wrap", prefilter=False)
        mask: np.ndarray = (np.abs(values) < self.threshold).reshape(x.shape)
        return mask
