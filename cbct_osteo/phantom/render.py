"""Rendering the phantom on a voxel grid, slab by slab, with optional CBCT-like degradations.

The ideal image is a density in HU-like units (air -1000, soft tissue 40, cortical bone 1750 ...)
with partial-volume boundaries: a voxel cut by a surface gets the fraction ``0.5 - d / voxel``
of its inside material, ``d`` being the signed distance of its centre to the surface. The
degradations are then applied in the order a CBCT reconstruction produces them:

1. blur (finite resolution): an isotropic Gaussian of ``blur_sigma_mm``;
2. metal streaks: radial bright and dark lines through the metal crown, in its slices only;
3. cupping / beam hardening: a radial gain, lower in the middle of the field of view;
4. noise: white Gaussian, or Poisson-like (SD grows with attenuation), of ``noise_sd`` gray
   values in soft tissue;
5. uncalibrated gray values: ``gray = gray_gain * density + gray_offset``, stored as uint16
   with a RescaleIntercept, as CBCT devices do: the values are not Hounsfield units.

The arch map ``(t, n)`` is computed once per axial grid; the bone is only evaluated in the
band of pixels near the arch, and slabs of slices are rendered one at a time (the blur uses
overlap margins, the noise one generator per slice), so the result does not depend on the
slab size and a 500 x 800 x 800 phantom is written without holding it in memory.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from cbct_osteo.phantom.geometry import ANATOMY, Anatomy
from cbct_osteo.phantom.texture import TrabecularTexture
from cbct_osteo.volume import affine_from_axes

#: Densities of the materials in HU-like units (before the gray-value mapping).
MATERIALS: dict[str, float] = {
    "air": -1000.0,
    "soft_tissue": 40.0,
    "marrow": 30.0,
    "trabecular_bone": 1200.0,  # partial-volume averaged trabecular bone at CBCT resolution
    "cortical_bone": 1750.0,
    "dentin": 1900.0,
    "enamel": 2800.0,
    "metal": 10000.0,
}
#: DICOM RescaleIntercept of the stored uint16 pixels (RescaleSlope is 1): stored = value + 1024.
RESCALE_INTERCEPT = -1024
VALUE_MAX = 32767  # volume values are int16
CUPPING_RADIUS_MM = 60.0
STREAK_LINES = 10
BAND_CHUNK_VOXELS = 1_000_000


@dataclass(frozen=True)
class PhantomOptions:
    """Texture and degradation settings (keyword options of ``make_phantom``).

    Attributes
    ----------
    blur_sigma_mm
        Gaussian blur (finite resolution), mm. 0 = none.
    noise_sd
        Noise standard deviation in soft tissue, in output gray values. 0 = none.
    noise_model
        ``"gaussian"`` (same SD everywhere) or ``"poisson"`` (SD grows with the square root of attenuation).
    cupping
        Relative attenuation deficit at the centre of the field of view (beam hardening). 0 = none.
    metal_streaks
        Peak amplitude (HU-like units) of the streaks radiating from the metal crown. 0 = none.
    gray_gain, gray_offset
        Uncalibrated gray mapping ``gray = gain * density + offset``. (1, 0) = HU-like values.
    bone_fraction, trab_spacing_mm
        Trabecular texture: bone volume fraction and dominant wavelength (mm).
    """

    blur_sigma_mm: float = 0.3
    noise_sd: float = 60.0
    noise_model: str = "gaussian"
    cupping: float = 0.06
    metal_streaks: float = 500.0
    gray_gain: float = 1.25
    gray_offset: float = 380.0
    bone_fraction: float = 0.35
    trab_spacing_mm: float = 1.6

    @classmethod
    def resolve(cls, clean: bool, options: dict[str, Any]) -> PhantomOptions:
        """Defaults for ``clean`` (all degradations off) or degraded, overridden by ``options``.

        Raises
        ------
        TypeError
            For an unknown option name.
        ValueError
            For a value out of range.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            valid = ", ".join(sorted(names))
            raise TypeError(f"unknown phantom option(s) {', '.join(unknown)}; valid options: {valid}")
        off: dict[str, Any] = dict(blur_sigma_mm=0.0, noise_sd=0.0, cupping=0.0, metal_streaks=0.0)
        off.update(gray_gain=1.0, gray_offset=0.0)  # the gray mapping, identity
        base = cls(**off) if clean else cls()
        resolved = dataclasses.replace(base, **options)
        resolved.validate()
        return resolved

    def validate(self) -> None:
        checks = (
            (0.0 <= self.blur_sigma_mm <= 2.0, "blur_sigma_mm must be within 0–2 mm"),
            (0.0 <= self.noise_sd <= 1000.0, "noise_sd must be within 0–1000 gray values"),
            (self.noise_model in ("gaussian", "poisson"), "noise_model must be 'gaussian' or 'poisson'"),
            (0.0 <= self.cupping <= 0.5, "cupping must be within 0–0.5"),
            (0.0 <= self.metal_streaks <= 5000.0, "metal_streaks must be within 0–5000"),
            (0.1 <= self.gray_gain <= 10.0, "gray_gain must be within 0.1–10"),
            (abs(self.gray_offset) <= 5000.0, "gray_offset must be within ±5000"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(f"{message} (got {self})")

    @property
    def clean(self) -> bool:
        return (
            self.blur_sigma_mm == 0
            and self.noise_sd == 0
            and self.cupping == 0
            and self.metal_streaks == 0
            and self.gray_gain == 1
            and self.gray_offset == 0
        )

    def gray(self, density: float) -> float:
        """Output gray value of an ideal material density."""
        return self.gray_gain * density + self.gray_offset


def phantom_affine(shape: tuple[int, int, int], voxel_mm: float) -> np.ndarray:
    """The (z, y, x) -> LPS affine of an axial phantom whose field of view is centred on the patient origin."""
    centre = (np.asarray(shape, dtype=float) - 1.0) / 2.0 * voxel_mm
    origin = (-centre[2], -centre[1], -centre[0])
    return affine_from_axes(origin, (1, 0, 0), (0, 1, 0), (0, 0, 1), (voxel_mm,) * 3)


class Renderer:
    """Renders slabs of one phantom. Construction computes every per-grid map once.

    Parameters
    ----------
    shape
        Volume shape (Z, Y, X) in voxels.
    voxel_mm
        Isotropic voxel size, mm.
    seed
        Seeds the texture, the noise and the streak directions.
    options
        Texture and degradations.
    """

    def __init__(
        self,
        shape: tuple[int, int, int],
        voxel_mm: float,
        seed: int,
        options: PhantomOptions,
        anatomy: Anatomy = ANATOMY,
    ) -> None:
        nz, ny, nx = shape
        self.shape = (int(nz), int(ny), int(nx))
        self.voxel_mm = float(voxel_mm)
        self.seed = int(seed)
        self.options = options
        self.anatomy = anatomy
        self.affine = phantom_affine(self.shape, self.voxel_mm)
        self.texture = TrabecularTexture.generate(seed, options.bone_fraction, options.trab_spacing_mm)
        nz, ny, nx = self.shape
        v = self.voxel_mm
        self.x = (np.arange(nx) - (nx - 1) / 2.0) * v
        self.y = (np.arange(ny) - (ny - 1) / 2.0) * v
        self.z = (np.arange(nz) - (nz - 1) / 2.0) * v
        self.h = (self.z - anatomy.border_z_mm).astype(np.float32)
        yy, xx = np.meshgrid(self.y, self.x, indexing="ij")
        t, n = anatomy.arch_map(xx, yy)
        self.t, self.n = t.astype(np.float32), n.astype(np.float32)
        self._soft_2d = anatomy.soft_tissue_outer_sdf(self.n, yy).astype(np.float32)
        self._floor_2d = anatomy.oral_cavity_floor(self.n).astype(np.float32)
        band = (np.abs(self.n) <= 8.5) & (np.abs(self.t) <= anatomy.half_length_mm + 1.0)
        self.band_rows, self.band_cols = np.nonzero(band)
        self.band_t = self.t[band]
        self.band_n = self.n[band]
        self.band_x = xx[band]
        self.band_y = yy[band]
        self.band_width = anatomy.inferior_width(self.band_t).astype(np.float32)
        top = max(anatomy.crown_height_range(tooth)[1] for tooth in anatomy.teeth)
        self.bone_slices = np.nonzero((self.h > -1.5) & (self.h < top + 1.0))[0]
        radius = np.hypot(xx, yy)
        falloff = np.clip(1.0 - (radius / CUPPING_RADIUS_MM) ** 2, 0.0, None)
        self._gain = (1.0 - options.cupping * falloff).astype(np.float32)
        self._streaks, self._streak_weight = self._metal_streaks(xx, yy)

    # ------------------------------------------------------------------ public
    def blur_margin(self) -> int:
        """Slices of overlap a slab needs so its blur equals that of the whole volume."""
        sigma = self.options.blur_sigma_mm / self.voxel_mm
        return int(4.0 * sigma + 0.5) if sigma > 0 else 0

    def slab_size(self) -> int:
        """Slices per slab: about 6 million voxels, and at least two blur margins so overlap costs little."""
        return max(8, 2 * self.blur_margin(), int(6_000_000 // (self.shape[1] * self.shape[2])))

    def density(self, z0: int, z1: int) -> np.ndarray:
        """Ideal density (HU-like, float32) of slices ``z0:z1`` without any degradation."""
        a = self.anatomy
        m = MATERIALS
        # Soft tissue minus the oral cavity, as signed distances, built in place in one slab-sized array.
        volume = self._floor_2d[None] - self.h[z0:z1, None, None]
        np.maximum(volume, (self.n - a.vestibule_n_mm)[None], out=volume)  # the oral cavity's distance
        np.negative(volume, out=volume)
        np.maximum(volume, self._soft_2d[None], out=volume)
        volume *= np.float32(-1.0 / self.voxel_mm)
        volume += np.float32(0.5)
        np.clip(volume, 0.0, 1.0, out=volume)
        volume *= np.float32(m["soft_tissue"] - m["air"])
        volume += np.float32(m["air"])
        slices = self.bone_slices[(self.bone_slices >= z0) & (self.bone_slices < z1)]
        chunk = max(1, BAND_CHUNK_VOXELS // max(1, self.band_t.size))  # bounds the band's temporaries
        for start in range(0, slices.size, chunk):
            part = slices[start : start + chunk]
            index = (part[:, None] - z0, self.band_rows[None, :], self.band_cols[None, :])
            volume[index] = self._compose(volume[index], self._bone_band(part))
        return volume

    def render(self, z0: int, z1: int) -> np.ndarray:
        """Final int16 gray values of slices ``z0:z1`` (degradations as configured)."""
        o = self.options
        margin = self.blur_margin()
        lo, hi = max(0, z0 - margin), min(self.shape[0], z1 + margin)
        values = self.density(lo, hi)
        if o.blur_sigma_mm > 0:
            values = ndimage.gaussian_filter(values, o.blur_sigma_mm / self.voxel_mm, mode="nearest", truncate=4.0)
        values = values[z0 - lo : z0 - lo + (z1 - z0)]
        if o.metal_streaks > 0:
            for k in np.nonzero(self._streak_weight[z0:z1])[0]:
                values[k] += self._streak_weight[z0 + k] * self._streaks
        if o.cupping > 0:
            values -= np.float32(MATERIALS["air"])
            values *= self._gain[None]
            values += np.float32(MATERIALS["air"])
        if o.noise_sd > 0:
            self._add_noise(values, z0)
        values *= np.float32(o.gray_gain)
        values += np.float32(o.gray_offset)
        np.rint(values, out=values)
        np.clip(values, RESCALE_INTERCEPT, VALUE_MAX, out=values)
        return values.astype(np.int16)

    # ------------------------------------------------------------------ internals
    def _fraction(self, sdf: np.ndarray) -> np.ndarray:
        """Partial-volume fraction inside a surface from the signed distance (mm) of voxel centres."""
        return np.clip(0.5 - sdf / self.voxel_mm, 0.0, 1.0).astype(np.float32)

    def _bone_band(self, slices: np.ndarray) -> dict[str, Any]:
        """Material fractions of the band pixels in the given slices, each (len(slices), band size).

        ``"teeth"`` is the exception: a list of (band columns, root fraction, crown fraction, crown material).
        """
        a = self.anatomy
        h = self.h[slices][:, None]
        t, n = self.band_t[None, :], self.band_n[None, :]
        fractions: dict[str, Any] = {
            "body": self._fraction(a.body_sdf(t, n, h)),
            "core": self._fraction(a.core_sdf(t, n, h, self.band_width[None, :])),
        }
        canal = a.canal_distance(t, n, h)
        hole = self._fraction(canal - a.canal_radius_mm)
        fractions["wall"] = self._fraction(canal - a.canal_radius_mm - a.canal_wall_mm) - hole
        hole = np.maximum(hole, self._fraction(a.foramen_sdf(t, n, h)))
        bone = np.zeros(fractions["core"].shape, dtype=bool)
        inside = fractions["core"] > 0
        rows, cols = np.nonzero(inside)
        bone[rows, cols] = self.texture.bone(self.band_x[cols], self.band_y[cols], self.z[slices][rows])
        fractions["trab_bone"] = bone
        teeth = []
        for tooth in a.teeth:
            cols = np.nonzero(np.abs(self.band_t - tooth.t_mm) < 0.6 * tooth.width_mm + 1.0)[0]
            if cols.size == 0:
                continue
            tt, nn = self.band_t[cols][None, :], self.band_n[cols][None, :]
            root = self._fraction(a.root_sdf(tooth, tt, nn, h))
            if tooth.kind == "missing":  # an empty extraction socket
                hole[:, cols] = np.maximum(hole[:, cols], root)
                continue
            crown = self._fraction(a.crown_sdf(tooth, tt, nn, h))
            teeth.append((cols, root, crown, "metal" if tooth.kind == "metal" else "enamel"))
        fractions["hole"] = hole
        fractions["teeth"] = teeth
        return fractions

    def _compose(self, background: np.ndarray, f: dict[str, Any]) -> np.ndarray:
        """Mix the materials: cortical shell, trabecular core, canal wall, holes, then teeth on top."""
        m = MATERIALS
        trab = np.where(f["trab_bone"], m["trabecular_bone"], m["marrow"]).astype(np.float32)
        inner = m["cortical_bone"] + f["core"] * (trab - m["cortical_bone"])
        inner += f["wall"] * (m["cortical_bone"] - inner)
        inner += f["hole"] * (m["soft_tissue"] - inner)
        values: np.ndarray = background + f["body"] * (inner - background)
        for cols, root, crown, crown_material in f["teeth"]:
            part = values[:, cols]
            part += root * (m["dentin"] - part)
            part += crown * (m[crown_material] - part)
            values[:, cols] = part
        return values

    def _metal_streaks(self, xx: np.ndarray, yy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Streak pattern (Y, X) and its per-slice weight (Z,) for the metal crowns."""
        a = self.anatomy
        pattern = np.zeros(xx.shape, dtype=np.float32)
        weight = np.zeros(self.shape[0], dtype=np.float32)
        if self.options.metal_streaks <= 0:
            return pattern, weight
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x57EA]))
        for tooth in a.teeth:
            if tooth.kind != "metal":
                continue
            centre = a.arch_point(tooth.t_mm)
            dx, dy = xx - centre[0], yy - centre[1]
            radius = np.hypot(dx, dy)
            angle = np.arctan2(dy, dx)
            decay = (5.0 / np.maximum(radius, 5.0)) ** 0.8
            for line in range(STREAK_LINES):
                direction = rng.uniform(0, math.pi)
                sign = 1.0 if line % 2 else -1.0
                amplitude = self.options.metal_streaks * rng.uniform(0.5, 1.0)
                offset = np.mod(angle - direction + math.pi / 2, math.pi) - math.pi / 2
                pattern += (sign * amplitude * np.exp(-0.5 * (offset / 0.012) ** 2) * decay).astype(np.float32)
            lo, hi = a.crown_height_range(tooth)
            ramp = np.clip(np.minimum(self.h - lo, hi - self.h) / 1.0 + 0.5, 0.0, 1.0)
            weight = np.maximum(weight, ramp.astype(np.float32))
        return pattern, weight

    def _add_noise(self, values: np.ndarray, z0: int) -> None:
        """Add noise in place, one generator per slice (so slabs of any size give the same noise)."""
        o = self.options
        sd = np.float32(o.noise_sd / o.gray_gain)
        attenuation_soft = MATERIALS["soft_tissue"] - MATERIALS["air"]
        for k in range(values.shape[0]):
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x0015E, z0 + k]))
            noise = rng.standard_normal(values.shape[1:], dtype=np.float32)
            if o.noise_model == "poisson":
                attenuation = np.maximum(values[k] - MATERIALS["air"], 25.0)
                noise *= np.sqrt(attenuation / attenuation_soft)
            values[k] += sd * noise
