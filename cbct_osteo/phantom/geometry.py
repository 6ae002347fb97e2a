"""The phantom's anatomy: a mandibular body extruded along a catenary dental arch.

Everything here is a closed-form function of patient LPS millimetres, independent of the voxel
grid, so any ``voxel_mm`` / ``shape`` renders the same mandible and the ground truth is exact.

Coordinates
-----------
The arch lies in an axial plane. Along it we use the signed arc position ``t`` (mm from the
midline, positive towards the patient's LEFT = +x) and the signed buccolingual offset ``n``
(mm along the horizontal normal, positive BUCCAL = away from the inside of the arch). Vertically
we use ``h`` = height above the flat, horizontal inferior border (mm). A voxel's ``(t, n)``
depends only on its (x, y), so the map is computed once per axial grid and reused for every
slice.

The arch is the catenary ``y = chin_y + c (cosh(x / c) - 1)``: its arc length from the midline
is ``c sinh(x / c)``, so positions along the arch are analytic, and its curvature (at most
``1 / c``) keeps the offset map unique well beyond the body's half width.

The shapes are described by signed distances (mm, negative inside) that are exact where the
ground truth is measured: the inferior border (``h = 0``), the endosteal margin of the
inferior cortex (``h = W(t)``) and the foramen walls; elsewhere they are close approximations,
used only to give boundary voxels their partial-volume fraction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class Foramen:
    """One mental foramen: a round channel (axis along the arch normal) from the canal to the buccal surface.

    ``t_mm`` is the signed arc position of its centre, ``height_mm`` the centre's height above
    the inferior border, ``landmark_n_mm`` the buccolingual offset of the ``foramen_centre``
    landmark (the middle of the buccal plate, where the foramen is a hole in cortical bone).
    """

    side: str
    t_mm: float
    height_mm: float
    radius_mm: float
    landmark_n_mm: float = 4.0


@dataclass(frozen=True)
class Tooth:
    """One tooth at signed arc position ``t_mm``: a tapered root in the alveolar bone and a crown above the crest."""

    t_mm: float
    width_mm: float
    crown_height_mm: float
    root_length_mm: float
    kind: str = "natural"  # "natural", "metal" (a metal crown) or "missing" (an empty extraction socket)


def _both_sides(teeth: tuple[tuple[float, float, float, float], ...]) -> tuple[Tooth, ...]:
    result = []
    for t, width, crown, root in teeth:
        for sign in (-1.0, 1.0):
            result.append(Tooth(sign * t, width, crown, root))
    return tuple(result)


#: Mandibular teeth per side from the midline: (centre t, mesiodistal width, crown height, root length), mm.
_TEETH_PER_SIDE = (
    (2.75, 5.5, 8.0, 12.5),  # central incisor
    (8.5, 6.0, 8.0, 13.0),  # lateral incisor
    (15.0, 7.0, 8.5, 15.5),  # canine
    (22.0, 7.0, 7.5, 13.0),  # first premolar
    (29.0, 7.0, 7.5, 13.0),  # second premolar
    (38.0, 11.0, 6.5, 13.0),  # first molar
    (48.75, 10.5, 6.5, 12.5),  # second molar
)


def _default_teeth() -> tuple[Tooth, ...]:
    teeth = []
    for tooth in _both_sides(_TEETH_PER_SIDE):
        if tooth.t_mm == -38.0:
            tooth = Tooth(tooth.t_mm, tooth.width_mm, tooth.crown_height_mm, tooth.root_length_mm, "metal")
        elif tooth.t_mm == 48.75:
            tooth = Tooth(tooth.t_mm, tooth.width_mm, tooth.crown_height_mm, tooth.root_length_mm, "missing")
        teeth.append(tooth)
    return tuple(teeth)


@dataclass(frozen=True)
class Anatomy:
    """All anatomical dimensions of the phantom (mm). One fixed instance, :data:`ANATOMY`, is used.

    The mandible is centred in x; ``chin_y_mm`` and ``border_z_mm`` centre its bounding box
    (body, teeth and a few mm of soft tissue) on the patient origin, which is the centre of
    every phantom's field of view.
    """

    catenary_c_mm: float = 28.0
    arch_half_width_mm: float = 46.0  # x of the posterior ends: 92 mm between them
    chin_y_mm: float = -21.5
    border_z_mm: float = -16.5
    crest_height_mm: float = 29.0
    # Outer (periosteal) half widths at the base, and where the body narrows (buccal, lingual).
    buccal_base_mm: float = 6.5
    lingual_base_mm: float = 6.0
    buccal_mid_mm: float = 4.6
    lingual_mid_mm: float = 4.8
    crest_half_mm: float = 3.6
    narrowing_from_h_mm: float = 4.0
    narrowing_to_h_mm: float = 10.0
    crest_taper_from_h_mm: float = 22.0
    base_corner_radius_mm: float = 2.0
    crest_corner_radius_mm: float = 1.5
    # Cortical plates.
    buccal_plate_mm: float = 1.3
    lingual_plate_mm: float = 1.1
    crest_plate_mm: float = 1.0
    endosteal_corner_radius_mm: float = 0.8
    # Inferior cortical width W(t) = w0 + w_sin sin(pi t / L) + w_cos cos(pi t / L).
    width_mean_mm: float = 2.8
    width_sin_mm: float = 0.4
    width_cos_mm: float = 0.5
    width_period_mm: float = 50.0
    # Mandibular canal.
    canal_radius_mm: float = 1.35
    canal_wall_mm: float = 0.35
    canal_n_mm: float = 0.0
    canal_posterior_height_mm: float = 9.5
    canal_descends_until_mm: float = 45.0
    foramina: tuple[Foramen, ...] = (
        Foramen("left", 25.0, 13.0, 1.3),
        Foramen("right", -24.0, 12.4, 1.4),
    )
    teeth: tuple[Tooth, ...] = _default_teeth()
    cervical_height_mm: float = 28.0  # where crowns start (just below the crest)
    # Soft tissue envelope.
    cheek_thickness_mm: float = 14.0  # soft tissue reaches n = +14 mm (lips, cheeks)
    vestibule_n_mm: float = 7.5  # the oral cavity lies lingual of this offset ...
    gum_height_mm: float = 30.0  # ... above the gums over the body,
    tongue_height_mm: float = 24.0  # ... and above the tongue inside the arch (n < -7 mm)
    soft_tissue_behind_mm: float = 10.0  # soft tissue ends this far behind the arch's posterior ends

    # ------------------------------------------------------------------ the arch curve
    @property
    def half_length_mm(self) -> float:
        """Arc length from the midline to each posterior end of the arch."""
        c = self.catenary_c_mm
        return c * math.sinh(self.arch_half_width_mm / c)

    @property
    def length_mm(self) -> float:
        return 2.0 * self.half_length_mm

    def arch_xy(self, t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Point (x, y) of the arch at signed arc position ``t`` (mm)."""
        c = self.catenary_c_mm
        u = np.asarray(t, dtype=float) / c
        return c * np.arcsinh(u), self.chin_y_mm + c * (np.sqrt(1.0 + u * u) - 1.0)

    def arch_tangent(self, t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Unit tangent (x, y), pointing towards +t (the patient's left)."""
        u = np.asarray(t, dtype=float) / self.catenary_c_mm
        root = np.sqrt(1.0 + u * u)
        return 1.0 / root, u / root

    def arch_normal(self, t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Unit horizontal normal (x, y), pointing buccal (away from the inside of the arch)."""
        tx, ty = self.arch_tangent(t)
        return ty, -tx

    def curvature(self, t: np.ndarray | float) -> np.ndarray:
        """Curvature (1/mm) of the arch at ``t``; offsets ``n`` stretch arc lengths by ``1 + curvature * n``."""
        u = np.asarray(t, dtype=float) / self.catenary_c_mm
        return 1.0 / (self.catenary_c_mm * (1.0 + u * u))

    def arch_point(self, t: float, n: float = 0.0, h: float = 0.0) -> np.ndarray:
        """Patient LPS point (x, y, z) at arc position ``t``, buccal offset ``n`` and height ``h`` above the border."""
        x, y = self.arch_xy(t)
        nx, ny = self.arch_normal(t)
        return np.array([float(x + n * nx), float(y + n * ny), self.border_z_mm + h])

    def arch_map(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Signed arc position ``t`` and buccal offset ``n`` (mm) of the closest arch point to each (x, y).

        The catenary is extended beyond the posterior ends (to |x| = 3 c) so every point of any
        field of view has a well-defined closest point. A dense polyline and a k-d tree give a
        first guess, two Newton steps on ``(C(t) - p) . T(t) = 0`` make it exact near the body.
        """
        c = self.catenary_c_mm
        t_max = c * math.sinh(3.0)
        step = 0.2
        samples = np.arange(-t_max, t_max + step, step)
        sx, sy = self.arch_xy(samples)
        tree = cKDTree(np.column_stack([sx, sy]))
        px = np.asarray(x, dtype=float).ravel()
        py = np.asarray(y, dtype=float).ravel()
        _, nearest = tree.query(np.column_stack([px, py]), workers=-1)
        t = samples[nearest]
        for _ in range(2):
            cx, cy = self.arch_xy(t)
            tx, ty = self.arch_tangent(t)
            dx, dy = cx - px, cy - py
            u = t / c
            scale = (1.0 + u * u) ** -1.5 / c
            dtx, dty = -u * scale, scale  # derivative of the unit tangent along t
            g = dx * tx + dy * ty
            dg = 1.0 + dx * dtx + dy * dty
            update = np.where(dg > 0.2, g / np.maximum(dg, 0.2), 0.0)
            t = t - np.clip(update, -step, step)
        cx, cy = self.arch_xy(t)
        nx, ny = self.arch_normal(t)
        n = (px - cx) * nx + (py - cy) * ny
        shape = np.shape(x)
        return t.reshape(shape), n.reshape(shape)

    # ------------------------------------------------------------------ the body profile
    def inferior_width(self, t: np.ndarray | float) -> np.ndarray:
        """True inferior cortical width W(t) in mm (smooth, 2.2–3.4 mm, thicker anteriorly and on the left)."""
        phase = np.pi * np.asarray(t, dtype=float) / self.width_period_mm
        return self.width_mean_mm + self.width_sin_mm * np.sin(phase) + self.width_cos_mm * np.cos(phase)

    def _half_width(self, h: np.ndarray, base: float, mid: float) -> np.ndarray:
        """Outer half width on one side at height ``h``: constant at the base, narrowing, then tapering to the crest."""
        a = self
        result: np.ndarray = np.interp(
            h,
            [a.narrowing_from_h_mm, a.narrowing_to_h_mm, a.crest_taper_from_h_mm, a.crest_height_mm],
            [base, mid, mid, a.crest_half_mm],
        )
        return result

    def _side_slope(self, h: np.ndarray, base: float, mid: float) -> np.ndarray:
        a = self
        slope = np.zeros_like(h)
        narrowing = (h > a.narrowing_from_h_mm) & (h < a.narrowing_to_h_mm)
        slope[narrowing] = (mid - base) / (a.narrowing_to_h_mm - a.narrowing_from_h_mm)
        taper = (h > a.crest_taper_from_h_mm) & (h < a.crest_height_mm)
        slope[taper] = (a.crest_half_mm - mid) / (a.crest_height_mm - a.crest_taper_from_h_mm)
        return slope

    def _sides_sdf(self, n: np.ndarray, h: np.ndarray, inset_buccal: float, inset_lingual: float) -> np.ndarray:
        a = self
        hb = self._half_width(h, a.buccal_base_mm, a.buccal_mid_mm) - inset_buccal
        hl = self._half_width(h, a.lingual_base_mm, a.lingual_mid_mm) - inset_lingual
        sb = self._side_slope(h, a.buccal_base_mm, a.buccal_mid_mm)
        sl = self._side_slope(h, a.lingual_base_mm, a.lingual_mid_mm)
        buccal = (n - hb) / np.sqrt(1.0 + sb * sb)
        lingual = (-n - hl) / np.sqrt(1.0 + sl * sl)
        result: np.ndarray = np.maximum(buccal, lingual)
        return result

    def body_sdf(self, t: np.ndarray, n: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Signed distance (mm) to the periosteal surface; exact on the flat inferior border ``h = 0``."""
        a = self
        sides = self._sides_sdf(n, h, 0.0, 0.0)
        sdf = _round_max(sides, -h, a.base_corner_radius_mm)
        sdf = _round_max(sdf, h - a.crest_height_mm, a.crest_corner_radius_mm)
        result: np.ndarray = np.maximum(sdf, np.abs(t) - a.half_length_mm)
        return result

    def core_sdf(self, t: np.ndarray, n: np.ndarray, h: np.ndarray, width: np.ndarray) -> np.ndarray:
        """Signed distance (mm) to the endosteal surface (the trabecular core); exact on ``h = W(t)``."""
        a = self
        sides = self._sides_sdf(n, h, a.buccal_plate_mm, a.lingual_plate_mm)
        sdf = _round_max(sides, width - h, a.endosteal_corner_radius_mm)
        sdf = _round_max(sdf, h - (a.crest_height_mm - a.crest_plate_mm), a.endosteal_corner_radius_mm)
        result: np.ndarray = np.maximum(sdf, np.abs(t) - (a.half_length_mm - a.buccal_plate_mm))
        return result

    # ------------------------------------------------------------------ canal and foramina
    def foramen(self, side: str) -> Foramen:
        for foramen in self.foramina:
            if foramen.side == side:
                return foramen
        raise KeyError(side)

    def canal_distance(self, t: np.ndarray, n: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Distance (mm) to the canal's centre line, which runs from the posterior ends to each foramen.

        The centre line lies at ``n = canal_n_mm``; its height is ``canal_posterior_height_mm``
        posteriorly and rises smoothly (cosine blend) to the foramen's height, where the canal
        ends in a hemispherical cap that opens into the foramen channel.
        """
        a = self
        distance = np.full(np.broadcast_shapes(t.shape, n.shape, h.shape), np.inf)
        for foramen in self.foramina:
            sign = 1.0 if foramen.t_mm > 0 else -1.0
            along = sign * t  # arc position on this side, increasing posteriorly
            start, end = abs(foramen.t_mm), a.canal_descends_until_mm
            blend = np.clip((along - start) / (end - start), 0.0, 1.0)
            rise_mm = a.canal_posterior_height_mm - foramen.height_mm
            centre_h = foramen.height_mm + rise_mm * (1 - np.cos(np.pi * blend)) / 2
            beyond_end = np.minimum(along - start, 0.0)  # > 0 mm anterior of the foramen: the cap
            side_distance = np.sqrt((n - a.canal_n_mm) ** 2 + (h - centre_h) ** 2 + beyond_end**2)
            distance = np.minimum(distance, np.where(along > 0, side_distance, np.inf))
        return distance

    def foramen_sdf(self, t: np.ndarray, n: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Signed distance (mm) to the foramen channels: round in the (arch, vertical) plane, open buccally."""
        sdf = np.full(np.broadcast_shapes(t.shape, n.shape, h.shape), np.inf)
        for foramen in self.foramina:
            stretch = 1.0 + float(self.curvature(foramen.t_mm)) * n
            along = (t - foramen.t_mm) * stretch
            radial = np.sqrt(along**2 + (h - foramen.height_mm) ** 2) - foramen.radius_mm
            sdf = np.minimum(sdf, np.maximum(radial, self.canal_n_mm - n))
        return sdf

    # ------------------------------------------------------------------ teeth
    def root_sdf(self, tooth: Tooth, t: np.ndarray, n: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Approximate signed distance (mm) to a tapered elliptic root from its apex up to the alveolar crest."""
        apex = self.crest_height_mm - tooth.root_length_mm
        taper = np.sqrt(np.clip((h - apex) / tooth.root_length_mm, 0.0, 1.0))
        a_t = 0.3 * tooth.width_mm * taper + 1e-3
        a_n = 2.8 * taper + 1e-3
        q = np.sqrt(((t - tooth.t_mm) / a_t) ** 2 + (n / a_n) ** 2)
        return np.maximum(np.maximum((q - 1.0) * np.minimum(a_t, a_n), apex - h), h - self.crest_height_mm)

    def crown_sdf(self, tooth: Tooth, t: np.ndarray, n: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Approximate signed distance (mm) to an ellipsoidal crown standing on the cervical line."""
        half_h = tooth.crown_height_mm / 2
        axes = (0.48 * tooth.width_mm, 4.2 if tooth.width_mm < 9 else 5.0, half_h)
        centre_h = self.cervical_height_mm + half_h
        q = np.sqrt(((t - tooth.t_mm) / axes[0]) ** 2 + (n / axes[1]) ** 2 + ((h - centre_h) / axes[2]) ** 2)
        return (q - 1.0) * min(axes)

    def crown_height_range(self, tooth: Tooth) -> tuple[float, float]:
        return self.cervical_height_mm, self.cervical_height_mm + tooth.crown_height_mm

    # ------------------------------------------------------------------ soft tissue
    def soft_tissue_outer_sdf(self, n: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Signed distance (mm) to the face's outer surface: soft tissue lies within ``cheek_thickness_mm``
        buccal of the arch (lips, cheeks) and in front of the pharynx.

        The soft tissue is this region minus the oral cavity (see :meth:`oral_cavity_floor`).
        """
        behind = self.chin_y_mm + self.arch_depth_mm + self.soft_tissue_behind_mm
        return np.maximum(n - self.cheek_thickness_mm, y - behind)

    def oral_cavity_floor(self, n: np.ndarray) -> np.ndarray:
        """Height (mm above the border) of the oral cavity's floor: the tongue inside the arch, the gums over the body.

        The cavity (air) lies lingual of ``vestibule_n_mm`` and above this floor.
        """
        return np.where(n < -7.0, self.tongue_height_mm, self.gum_height_mm)

    @property
    def arch_depth_mm(self) -> float:
        """Distance in y from the chin to the arch's posterior ends."""
        c = self.catenary_c_mm
        return c * (math.cosh(self.arch_half_width_mm / c) - 1.0)


def _round_max(a: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    """Intersection of two signed distances, the corner rounded to ``radius`` (exact where they meet square)."""
    corner = np.hypot(np.maximum(a + radius, 0.0), np.maximum(b + radius, 0.0))
    result: np.ndarray = np.minimum(np.maximum(a, b), 0.0) + corner - radius
    return result


#: The phantom's anatomy (fixed so every phantom and its truth agree).
ANATOMY = Anatomy()
