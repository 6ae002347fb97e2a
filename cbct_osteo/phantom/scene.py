"""Evaluate the anatomical head model on a voxel grid as material fractions for the X-ray simulation.

Each voxel gets three volume fractions: ``water`` (soft tissue, marrow, pulp: water-equivalent),
``bone`` (cortical-bone-equivalent; dentin and enamel count as denser bone) and ``metal``.
Boundaries get their partial-volume fraction from the signed distance of the voxel centre
(``clip(0.5 - d / voxel, 0, 1)``, exact for a plane through the voxel), and the trabecular
network is supersampled 2 x 2 x 2 per voxel, so the bone fraction of a voxel is what its volume
holds, not what its centre happens to hit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cbct_osteo.phantom import dentition as dent
from cbct_osteo.phantom import head, ramus
from cbct_osteo.phantom.anatomy import SIDES, MandibleModel
from cbct_osteo.phantom.texture import TrabecularTexture

#: A signed distance (mm) on x, y, z grids; the last argument is an inset (mm) of the surface.
BoxSdf = Callable[[np.ndarray, np.ndarray, np.ndarray, float], np.ndarray]

#: Material compositions (water fraction, cortical-bone fraction, metal fraction). Dentin and
#: enamel are cortical bone scaled by density (2.14 and 2.95 g/cm3 against 1.92 g/cm3, ICRU 46).
AIR = (0.0, 0.0, 0.0)
SOFT = (1.03, 0.0, 0.0)
MARROW = (1.0, 0.0, 0.0)
FAT = (0.92, 0.0, 0.0)
MUSCLE = (1.05, 0.0, 0.0)
FAT_LAYER_MM = 5.0
CORTEX = (0.0, 1.0, 0.0)
TRABECULA = (0.0, 0.95, 0.0)
DENTIN = (0.0, 1.12, 0.0)
ENAMEL = (0.0, 1.55, 0.0)
CERAMIC = (0.0, 1.9, 0.0)
METAL = (0.0, 0.0, 1.0)
CHANNELS = ("water", "bone", "metal")
BAND_N_MM = 13.0  # mandible band: |n| below this
CHUNK = 600_000  # points evaluated at once (bounds temporaries)
PORE_TEXTURE = (0.55, 0.9)  # bone fraction and spacing (mm) of the porous endosteal zone
CANAL_RADIUS_MM, CANAL_WALL_MM = 1.2, 0.3  # the mandibular canal in the ramus
RAMUS_TEXTURE = (0.45, 1.4)  # the rami's cancellous bone: denser and finer than the body's core
CERVICAL_ROOT_MM = 3.0  # roots are painted from this far below the crown's cervical line (the scalloped margin)


@dataclass(frozen=True)
class Grid:
    """An axial voxel grid: centre of voxel (0, 0, 0) at ``origin`` (x, y, z mm), isotropic ``voxel_mm``."""

    origin: tuple[float, float, float]
    voxel_mm: float
    shape: tuple[int, int, int]  # (z, y, x)

    def axis(self, k: int) -> np.ndarray:
        """Voxel centre coordinates (mm) along x (k=0), y (1) or z (2)."""
        count = self.shape[2 - k]
        return self.origin[k] + np.arange(count) * self.voxel_mm


@dataclass(frozen=True)
class SceneSettings:
    """What the scene contains besides the mandible (and its texture)."""

    metal: str = "none"
    bone_fraction: float = 0.3
    trab_spacing_mm: float = 1.8
    seed: int = 0
    maxilla: bool = True
    spine: bool = True


class Scene:
    """The head model with its textures, evaluated on any grid by :meth:`materials`."""

    def __init__(self, model: MandibleModel, settings: SceneSettings) -> None:
        self.model = model
        self.settings = settings
        self.teeth = dent.mandibular_teeth(settings.metal)
        self.texture = TrabecularTexture.generate(settings.seed, settings.bone_fraction, settings.trab_spacing_mm)
        self.pores = TrabecularTexture.generate(settings.seed + 7919, *PORE_TEXTURE)
        self.ramus_texture = TrabecularTexture.generate(settings.seed + 104729, *RAMUS_TEXTURE)

    # ------------------------------------------------------------------ public
    def materials(
        self, grid: Grid, exclude: tuple[np.ndarray, np.ndarray] | None = None, supersample: bool = True
    ) -> dict[str, np.ndarray]:
        """Material fractions (``water``, ``bone``, ``metal``: float32 (z, y, x)) on ``grid``.

        ``exclude`` = (low, high) corners (x, y, z mm) of a box left empty (the fine grid's
        region, when this is the coarse grid around it).
        """
        x, y, z = grid.axis(0), grid.axis(1), grid.axis(2)
        yy, xx = np.meshgrid(y, x, indexing="ij")
        t, n = self.model.arch.arch_map(xx, yy)
        out = {c: np.zeros(grid.shape, np.float32) for c in CHANNELS}
        voxel = grid.voxel_mm
        surface = head.soft_tissue_sdf(self.model, xx, yy, n)
        soft = _fraction(surface, voxel)
        # Subcutaneous fat (0.92 of water's attenuation) under the skin, muscle (1.05) deeper.
        density = np.where(
            surface > -FAT_LAYER_MM, FAT[0], np.where(surface > -FAT_LAYER_MM - 12.0, MUSCLE[0], SOFT[0])
        )
        airway = _fraction(head.airway_sdf(xx, yy), voxel)
        airway_top = float(np.min(head.occlusal_z(self.model, np.array([0.0]))))
        for k, zk in enumerate(z):
            open_air = airway if zk < airway_top else 0.0
            out["water"][k] = density * soft * (1.0 - open_air)
        for side in SIDES:  # the rami first: the body, painted over them, keeps its own surfaces where they meet
            self._paint_box(
                out,
                grid,
                ramus.ramus_box(self.model, side),
                functools.partial(ramus.ramus_sdf, self.model, side),
                supersample,
                canal=functools.partial(ramus.canal_distance, self.model, side),
                texture=self.ramus_texture,
            )
        self._paint_band(out, grid, t, n, supersample)
        if self.settings.spine:
            self._paint_box(
                out,
                grid,
                (np.array([-15.0, head.SPINE_Y_MM - 10.0, -45.0]), np.array([15.0, head.SPINE_Y_MM + 42.0, 22.0])),
                lambda px, py, pz, i: head.spine_sdf(px, py, pz, i),
                supersample,
                cortex_mm=1.0,
            )
        if exclude is not None:
            lo, hi = exclude
            ix = (x > lo[0]) & (x < hi[0])
            iy = (y > lo[1]) & (y < hi[1])
            iz = (z > lo[2]) & (z < hi[2])
            for c in CHANNELS:
                out[c][np.ix_(iz, iy, ix)] = 0.0
        return out

    # ------------------------------------------------------------------ the mandible and maxilla band
    def _paint_band(
        self, out: dict[str, np.ndarray], grid: Grid, t: np.ndarray, n: np.ndarray, supersample: bool
    ) -> None:
        m = self.model
        band = (np.abs(n) < BAND_N_MM) & (np.abs(t) < m.half_length_mm + 2.0)
        rows, cols = np.nonzero(band)
        if rows.size == 0:
            return
        bt, bn = t[band], n[band]
        x_axis, y_axis, z = grid.axis(0), grid.axis(1), grid.axis(2)
        zlo = m.border_z(bt) - 3.0
        zhi = head.occlusal_z(m, bt) + (40.0 if self.settings.maxilla else 0.0)
        per_slice = max(1, CHUNK // rows.size)
        for k0 in range(0, z.size, per_slice):
            k1 = min(z.size, k0 + per_slice)
            zz = z[k0:k1, None]
            inside = (zz >= zlo[None]) & (zz <= zhi[None])
            ks, js = np.nonzero(inside)
            if ks.size == 0:
                continue
            pt, pn, pz = bt[js], bn[js], z[k0 + ks]
            px, py = x_axis[cols[js]], y_axis[rows[js]]
            values = [out[c][k0 + ks, rows[js], cols[js]] for c in CHANNELS]
            self._mandible(values, pt, pn, px, py, pz, grid.voxel_mm, supersample)
            if self.settings.maxilla:
                self._maxilla(values, pt, pn, px, py, pz, grid.voxel_mm, supersample)
            for c, v in zip(CHANNELS, values, strict=True):
                out[c][k0 + ks, rows[js], cols[js]] = v

    def _mandible(
        self,
        values: list[np.ndarray],
        t: np.ndarray,
        n: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        z: np.ndarray,
        voxel: float,
        supersample: bool,
    ) -> None:
        m = self.model
        u, v = m.section_uv(t, n, z)
        body = _fraction(m.body_sdf(t, u, v), voxel)
        inner = [np.full(t.shape, c, np.float64) for c in CORTEX]
        core = _fraction(m.core_sdf(t, u, v), voxel)
        live = core > 0
        trab = np.zeros(t.shape)
        trab[live] = self._texture_fraction(self.texture, x[live], y[live], z[live], voxel, supersample)
        _paint(inner, core, _mix(trab, TRABECULA, MARROW))
        if m.porous_cortex:
            zone = _fraction(m.porous_zone_sdf(t, u, v), voxel)
            live = zone > 0
            pores = np.zeros(t.shape)
            pores[live] = self._texture_fraction(self.pores, x[live], y[live], z[live], voxel, supersample)
            _paint(inner, zone, _mix(pores, CORTEX, MARROW))
        canal = m.canal_distance(t, u, v)
        _paint(inner, _fraction(canal - m.canal_radius_mm - m.canal_wall_mm, voxel), CORTEX)
        _paint(inner, _fraction(canal - m.canal_radius_mm, voxel), SOFT)
        _paint(inner, _fraction(m.channel_sdf(x, y, z), voxel), SOFT)
        self._teeth(inner, body, t, u, v, voxel)
        _paint(values, body, inner)
        self._crowns(values, t, u, v, voxel)

    def _teeth(
        self, inner: list[np.ndarray], body: np.ndarray, t: np.ndarray, u: np.ndarray, v: np.ndarray, voxel: float
    ) -> None:
        """Roots, periodontal spaces, laminae durae and implants inside the alveolar bone."""
        crest = self.model.profile("height", t)
        for tooth in self.teeth:
            near = np.abs(t - tooth.t_mm) < 0.6 * tooth.width_mm + 1.5
            if not near.any():
                continue
            dt, uu, vv, cr = t[near] - tooth.t_mm, u[near], v[near], crest[near]
            part = [c[near] for c in inner]
            if tooth.restoration == "implant":
                _paint(
                    part, _fraction(dent.implant_sdf(tooth, dt, uu, vv, cr) - 0.15, voxel), CORTEX
                )  # osseointegration
                _paint(part, _fraction(dent.implant_sdf(tooth, dt, uu, vv, cr), voxel), METAL)
            else:
                root = dent.root_sdf(tooth, dt, uu, vv, cr)
                _paint(part, _fraction(root - dent.PDL_MM - dent.LAMINA_DURA_MM, voxel), CORTEX)
                _paint(part, _fraction(root - dent.PDL_MM, voxel), SOFT)
                _paint(part, _fraction(root, voxel), DENTIN)
                pulp = np.maximum(root + 1.0, cr - tooth.root_mm + 2.0 - vv)
                _paint(part, _fraction(pulp, voxel), SOFT)
            for c, p in zip(inner, part, strict=True):
                c[near] = p

    def _crowns(self, values: list[np.ndarray], t: np.ndarray, u: np.ndarray, v: np.ndarray, voxel: float) -> None:
        """Crowns (with pulp chambers and restorations) above the crest, over whatever is there."""
        crest = self.model.profile("height", t)
        for tooth in self.teeth:
            near = (np.abs(t - tooth.t_mm) < 0.6 * tooth.width_mm + 1.0) & (v > crest - CERVICAL_ROOT_MM)
            if not near.any():
                continue
            dt, uu, vv, cr = t[near] - tooth.t_mm, u[near], v[near], crest[near]
            part = [c[near] for c in values]
            crown = dent.crown_sdf(tooth, dt, uu, vv, cr)
            if tooth.restoration != "implant":  # the root's neck, above the scalloped alveolar margin
                cervical = (vv <= cr).astype(float)
                root = dent.root_sdf(tooth, dt, uu, vv, cr)
                _paint(part, _fraction(root, voxel) * cervical, DENTIN)
                _paint(part, _fraction(root + 1.0, voxel) * cervical, SOFT)
            if tooth.restoration == "implant":
                _paint(part, _fraction(crown, voxel), CERAMIC)
                _paint(part, _fraction(dent.implant_sdf(tooth, dt, uu, vv, cr), voxel), METAL)
            elif tooth.restoration == "metal crown":
                _paint(part, _fraction(crown, voxel), METAL)
            else:
                _paint(part, _fraction(crown, voxel), ENAMEL)
                _paint(part, _fraction(dent.crown_dentin_sdf(tooth, dt, uu, vv, cr), voxel), DENTIN)
                chamber = np.maximum(crown + 3.0, vv - (cr + 0.5 + 0.3 * tooth.crown_mm))
                _paint(part, _fraction(chamber, voxel), SOFT)
                root = dent.root_sdf(tooth, dt, uu, vv, cr)
                _paint(part, _fraction(np.maximum(root, crown), voxel) * (vv > cr).astype(float), DENTIN)
                if tooth.restoration == "filling":
                    _paint(part, _fraction(dent.occlusal_filling_sdf(tooth, dt, uu, vv, cr), voxel), METAL)
            for c, p in zip(values, part, strict=True):
                c[near] = p

    def _maxilla(
        self,
        values: list[np.ndarray],
        t: np.ndarray,
        n: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        z: np.ndarray,
        voxel: float,
        supersample: bool,
    ) -> None:
        """Upper crowns closing onto the lower ones, their roots, the alveolar ridge and the palate."""
        m = self.model
        occlusal = head.occlusal_z(m, t)
        above = z > occlusal - 1.0
        if not above.any():
            return
        t, n, x, y, z, occ = t[above], n[above], x[above], y[above], z[above], occlusal[above]
        part = [c[above] for c in values]
        ridge = head.maxilla_sdf(m, t, n, z)
        core = head.maxilla_sdf(m, t, n, z, inset=1.0)
        inner = [np.full(t.shape, c, np.float64) for c in CORTEX]
        trab = self._texture_fraction(self.texture, x, y, z, voxel, supersample=False)
        _paint(inner, _fraction(core, voxel), _mix(trab, TRABECULA, MARROW))
        _paint(inner, _fraction(head.maxillary_air_sdf(m, t, n, z), voxel), AIR)
        _paint(part, _fraction(ridge, voxel), inner)
        for tooth in self.teeth:
            near = np.abs(t - tooth.t_mm) < 0.6 * tooth.width_mm + 1.0
            if not near.any():
                continue
            dt, uu, zz, oc = t[near] - tooth.t_mm, n[near] - 0.8, z[near], occ[near]
            sub = [c[near] for c in part]
            # An upper tooth is a lower one mirrored about the occlusal contact (its crest at local v = 0).
            local_v = (oc - zz) + dent.CERVICAL_GAP_MM + tooth.crown_mm
            crest = np.zeros_like(zz)
            root = dent.root_sdf(tooth, dt, uu, local_v, crest)
            _paint(sub, _fraction(root - dent.PDL_MM, voxel), SOFT)
            _paint(sub, _fraction(root, voxel), DENTIN)
            crown = dent.crown_sdf(tooth, dt, uu, local_v, crest)
            _paint(sub, _fraction(crown, voxel), ENAMEL)
            _paint(sub, _fraction(dent.crown_dentin_sdf(tooth, dt, uu, local_v, crest), voxel), DENTIN)
            for c, p in zip(part, sub, strict=True):
                c[near] = p
        for c, p in zip(values, part, strict=True):
            c[above] = p

    # ------------------------------------------------------------------ boxes (rami, spine)
    def _paint_box(
        self,
        out: dict[str, np.ndarray],
        grid: Grid,
        box: tuple[np.ndarray, np.ndarray],
        sdf: BoxSdf,
        supersample: bool,
        cortex_mm: float = head.CORTEX_RAMUS_MM,
        canal: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
        texture: TrabecularTexture | None = None,
    ) -> None:
        """Paint one bone (cortical shell, trabecular core) given by ``sdf`` inside ``box``; ``canal``
        (distance to a canal's centre line, mm) hollows a canal with its cortical wall through it;
        ``texture`` is its trabecular network (default the body's)."""
        lo, hi = box
        axes = [grid.axis(k) for k in range(3)]
        picks = [np.nonzero((a >= lo[k]) & (a <= hi[k]))[0] for k, a in enumerate(axes)]
        if any(p.size == 0 for p in picks):
            return
        ix, iy, iz = picks
        for k0 in range(0, iz.size, max(1, CHUNK // (ix.size * iy.size))):
            ks = iz[k0 : k0 + max(1, CHUNK // (ix.size * iy.size))]
            pz, py, px = np.meshgrid(axes[2][ks], axes[1][iy], axes[0][ix], indexing="ij")
            outer = _fraction(sdf(px, py, pz, 0.0), grid.voxel_mm)
            if not np.any(outer > 0):
                continue
            core = _fraction(sdf(px, py, pz, cortex_mm), grid.voxel_mm)
            inner = [np.full(px.shape, c, np.float64) for c in CORTEX]
            trab = np.zeros(px.shape)
            live = core > 0
            trab[live] = self._texture_fraction(
                texture or self.texture, px[live], py[live], pz[live], grid.voxel_mm, supersample
            )
            _paint(inner, core, _mix(trab, TRABECULA, MARROW))
            if canal is not None:
                distance = canal(px, py, pz)
                _paint(inner, core * _fraction(distance - CANAL_RADIUS_MM - CANAL_WALL_MM, grid.voxel_mm), CORTEX)
                _paint(inner, _fraction(distance - CANAL_RADIUS_MM, grid.voxel_mm), SOFT)
            index = np.ix_(ks, iy, ix)
            values = [out[c][index].astype(np.float64) for c in CHANNELS]
            _paint(values, outer, inner)
            for c, v in zip(CHANNELS, values, strict=True):
                out[c][index] = v

    # ------------------------------------------------------------------ texture
    @staticmethod
    def _texture_fraction(
        texture: TrabecularTexture, x: np.ndarray, y: np.ndarray, z: np.ndarray, voxel: float, supersample: bool
    ) -> np.ndarray:
        """Bone fraction of each voxel: the texture averaged over 2 x 2 x 2 sub-samples (or at the centre)."""
        if x.size == 0:
            return np.zeros(0)
        if not supersample:
            return texture.bone(x, y, z).astype(np.float64)
        q = voxel / 4.0
        total = np.zeros(x.shape)
        for dx in (-q, q):
            for dy in (-q, q):
                for dz in (-q, q):
                    total += texture.bone(x + dx, y + dy, z + dz)
        return total / 8.0


def _fraction(sdf: np.ndarray, voxel: float) -> np.ndarray:
    return np.clip(0.5 - sdf / voxel, 0.0, 1.0)


def _mix(fraction: np.ndarray, a: tuple[float, ...], b: tuple[float, ...]) -> list[np.ndarray]:
    """Per-point material: ``fraction`` of ``a``, the rest ``b``."""
    return [fa * fraction + fb * (1.0 - fraction) for fa, fb in zip(a, b, strict=True)]


def _paint(values: list[np.ndarray], fraction: np.ndarray, material: tuple[float, ...] | list[np.ndarray]) -> None:
    """Replace the share ``fraction`` of each point by ``material`` (a constant triple or per-point arrays)."""
    for c in range(len(values)):
        values[c] = values[c] + fraction * (material[c] - values[c])
