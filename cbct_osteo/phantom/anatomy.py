"""An anatomical mandible as implicit (signed-distance) functions of patient millimetres.

The simple phantom (:mod:`.geometry`) extrudes one rectangle-like section along the arch with a
flat, horizontal border. This model varies along the arch the way a mandible does, so that a
measurement that only works on flattering geometry shows it:

- body height ``H`` (32 mm at the symphysis, 26 mm at the molars) and widths (wider at the molars);
- an inferior border rising posteriorly with a settable slope ``alpha`` at each foramen
  (``border_slope_deg``) and tilted in the cross-section by ``beta`` (``border_tilt_deg``);
- a curved section: sides narrowing to the alveolar crest, a bottom that is a circular arc;
- an inferior cortex whose width ``w(t)`` varies along the arch, set per side at the foramen
  (0.5-6 mm), optionally with a porous ("trabecularised", C2/C3) endosteal zone;
- the mandibular canal, rising to a mental foramen whose channel opens buccally and upward.

Coordinates (mm)
----------------
``t``: signed arc position along the catenary arch from the midline (+ = patient LEFT, +x);
``n``: horizontal offset along the arch normal (+ = buccal); ``z``: patient height. Each arch
position has a *section frame*: origin on the arch line at the border height ``z_B(t)``, ``u``
along the (tilted) border, buccal positive, ``v`` perpendicular to it, upward::

    u = n cos(beta) + (z - z_B) sin(beta)        v = -n sin(beta) + (z - z_B) cos(beta)

The bottom of the section is the circle of radius ``R`` centred at ``(u_C, R)``; its lowest
point ``(u_C, 0)`` lies on the section's own border tangent, and the endosteal margin of the
inferior cortex is the concentric circle of radius ``R - w``, so the cortex is ``w`` wide along
every normal of the bottom arc. At a foramen, ``u_C`` equals the foramen's ``u``: the
measurement line of INDICES.md (perpendicular to the border tangent, through the foramen
centre) is the section's ``v`` axis there. :mod:`.anatomy_truth` does not rely on this: it finds
the border point and the margins numerically from these functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cbct_osteo.phantom.geometry import _TEETH_PER_SIDE, Anatomy, _round_max

SIDES = ("left", "right")
#: Valid ranges of the public settings.
CORTEX_RANGE_MM = (0.5, 6.0)
SLOPE_RANGE_DEG = (0.0, 25.0)


def side_sign(side: str) -> float:
    """+1 for the patient's left (+t), -1 for the right."""
    return 1.0 if side == "left" else -1.0


def _interp(a: np.ndarray, knots: tuple[float, ...], values: tuple[float, ...]) -> np.ndarray:
    return np.asarray(np.interp(a, knots, values).astype(np.float64))


@dataclass(frozen=True)
class MentalForamen:
    """One mental foramen, in its side's section frame at ``|t| = t_mm``.

    ``u_mm``, ``v_mm``: centre of the foramen (mm; ``v`` is its height above the border).
    ``radius_mm``: radius of the mental canal's channel. The channel runs from the end of the
    mandibular canal (``inner_back_mm`` posterior, ``inner_drop_mm`` lower, at ``u = 0``) through
    the centre and ``outlet_mm`` beyond it, so it opens buccally, upward and anteriorly.
    """

    t_mm: float
    u_mm: float = 3.8
    v_mm: float = 13.5
    radius_mm: float = 1.3
    inner_back_mm: float = 4.0
    inner_drop_mm: float = 3.0
    outlet_mm: float = 3.5


@dataclass(frozen=True)
class MandibleModel:
    """Every dimension of the anatomical mandible (mm, degrees). Build one with :func:`mandible_model`.

    Along-arch profiles are tables over ``a = |t|`` (mm from the midline), interpolated linearly.
    """

    cortex_mm: tuple[float, float] = (3.0, 2.6)  # inferior cortex width at the (left, right) foramen
    border_slope_deg: float = 10.0  # along the arch, at the foramina (rising posteriorly)
    border_tilt_deg: float = 6.0  # bucco-lingual tilt of the border in the cross-section
    porous_cortex: bool = False
    porous_fraction: float = 0.4  # share of the cortex width (endosteal side) that is porous
    foramina: tuple[MentalForamen, MentalForamen] = (
        MentalForamen(25.0, v_mm=13.5, radius_mm=1.3),
        MentalForamen(24.0, v_mm=12.8, radius_mm=1.4),
    )
    border_z_mm: float = -15.0  # border height z_B at the foramina
    arch: Anatomy = field(default_factory=lambda: Anatomy(catenary_c_mm=28.0, arch_half_width_mm=46.0, chin_y_mm=-22.0))
    # Along-arch tables (knots in a = |t| mm).
    knots: tuple[float, ...] = (0.0, 12.0, 24.0, 40.0, 55.0, 75.0)
    height: tuple[float, ...] = (32.0, 31.0, 29.0, 27.0, 26.0, 26.0)
    buccal_base: tuple[float, ...] = (7.5, 7.5, 8.5, 8.5, 8.0, 7.5)
    lingual_base: tuple[float, ...] = (7.0, 6.5, 6.5, 6.5, 7.0, 6.5)
    buccal_mid: tuple[float, ...] = (5.0, 4.8, 4.8, 5.8, 6.3, 6.0)
    lingual_mid: tuple[float, ...] = (5.0, 4.5, 4.5, 5.0, 5.5, 5.0)
    crest_half: tuple[float, ...] = (2.8, 3.0, 3.4, 4.4, 4.8, 4.5)
    bottom_radius: tuple[float, ...] = (18.0, 20.0, 22.0, 22.0, 20.0, 18.0)
    buccal_plate_mm: float = 1.6
    lingual_plate_mm: float = 1.9
    crest_plate_mm: float = 0.8
    # Alveolar crest: interdental septa peak this far below the nominal crest ``height`` (the teeth's
    # cemento-enamel junction is 0.5 mm above it); between the septa the bone dips towards each root
    # (to ~2 mm below the junction where it meets the root), the scalloped margin of a dentate jaw.
    septum_drop_mm: float = 0.5
    socket_dip_mm: float = 1.3
    outer_corner_mm: float = 3.5
    inner_corner_mm: float = 1.8
    slope_scale_front_mm: float = 6.0
    slope_scale_back_mm: float = 15.0
    antegonial_rise: float = 0.004  # extra rise (1/mm) behind a = 45 mm: z += k (a - 45)^2
    # Mandibular canal (section frame): height above the border along the arch, behind the foramen.
    canal_radius_mm: float = 1.3
    canal_wall_mm: float = 0.3
    canal_knots: tuple[float, ...] = (40.0, 55.0, 72.0)
    canal_height: tuple[float, ...] = (8.0, 8.5, 13.0)
    canal_u_mm: float = -0.3

    # ------------------------------------------------------------------ arch
    @property
    def half_length_mm(self) -> float:
        return self.arch.half_length_mm

    def foramen(self, side: str) -> MentalForamen:
        return self.foramina[SIDES.index(side)]

    def foramen_t(self, side: str) -> float:
        return side_sign(side) * self.foramen(side).t_mm

    # ------------------------------------------------------------------ along-arch profiles
    def _per_side(
        self, t: np.ndarray, left: np.ndarray | float, right: np.ndarray | float, blend_mm: float = 8.0
    ) -> np.ndarray:
        """Blend a left and a right value smoothly across the midline (within ``blend_mm``)."""
        s = np.clip(0.5 + np.asarray(t, float) / (2.0 * blend_mm), 0.0, 1.0)
        s = s * s * (3.0 - 2.0 * s)
        return np.asarray(right + s * (np.asarray(left) - np.asarray(right)))

    def profile(self, name: str, t: np.ndarray) -> np.ndarray:
        """An along-arch table (``height``, ``buccal_base``...) at arc positions ``t``."""
        return _interp(np.abs(np.asarray(t, float)), self.knots, getattr(self, name))

    def cortex_width(self, t: np.ndarray | float) -> np.ndarray:
        """True inferior cortical width ``w(t)`` (mm): the set value at each foramen, +-12 % along the arch."""
        t = np.asarray(t, float)
        a = np.abs(t)
        values = []
        for side in SIDES:
            f = self.foramen(side)
            values.append(self.cortex_mm[SIDES.index(side)] * (1.0 + 0.12 * np.sin((a - f.t_mm) / 12.0)))
        return self._per_side(t, values[0], values[1])

    def border_z(self, t: np.ndarray | float) -> np.ndarray:
        """Border height ``z_B(t)`` (mm): slope ``tan(alpha)`` at each foramen, rising posteriorly."""
        t = np.asarray(t, float)
        a = np.abs(t)
        slope = math.tan(math.radians(self.border_slope_deg))
        values = []
        for side in SIDES:
            x = a - self.foramen(side).t_mm
            scale = np.where(x < 0, self.slope_scale_front_mm, self.slope_scale_back_mm)
            values.append(slope * scale * np.tanh(x / scale))
        rise = self._per_side(t, values[0], values[1], blend_mm=2.0)
        return np.asarray(self.border_z_mm + rise + self.antegonial_rise * np.maximum(a - 45.0, 0.0) ** 2)

    def bottom_centre_u(self, t: np.ndarray | float) -> np.ndarray:
        """``u_C(t)``: the bottom arc's lowest point; equals the foramen's ``u`` at each foramen."""
        t = np.asarray(t, float)
        a = np.abs(t)
        values = [
            _interp(a, (0.0, 12.0, self.foramen(s).t_mm, 45.0, 75.0), (0.0, 2.0, self.foramen(s).u_mm, 2.0, 0.0))
            for s in SIDES
        ]
        return self._per_side(t, values[0], values[1])

    def alveolar_crest(self, t: np.ndarray) -> np.ndarray:
        """Height (mm above the border, section ``v``) of the alveolar bone's margin at arc positions ``t``:
        peaks at the interdental septa, dipping over each tooth (a flat-topped septum between broad teeth)."""
        t = np.asarray(t, float)
        a = np.abs(t)
        dip = np.zeros(a.shape)
        for centre, width, _, _ in _TEETH_PER_SIDE:
            x = np.clip(np.abs(a - centre) / (0.42 * width), 0.0, 1.0)
            dip = np.maximum(dip, np.sqrt(1.0 - x * x))
        return np.asarray(self.profile("height", t) - self.septum_drop_mm - self.socket_dip_mm * dip)

    # ------------------------------------------------------------------ section frame
    def section_uv(self, t: np.ndarray, n: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Section-frame ``(u, v)`` of points given by arch coordinates ``(t, n)`` and height ``z``."""
        beta = math.radians(self.border_tilt_deg)
        dz = z - self.border_z(t)
        return n * math.cos(beta) + dz * math.sin(beta), -n * math.sin(beta) + dz * math.cos(beta)

    def section_point(self, t: float, u: float, v: float) -> np.ndarray:
        """Patient LPS point (x, y, z) of section-frame ``(u, v)`` at arc position ``t``."""
        beta = math.radians(self.border_tilt_deg)
        n = u * math.cos(beta) - v * math.sin(beta)
        dz = u * math.sin(beta) + v * math.cos(beta)
        return np.asarray(
            self.arch.arch_point(t, n, 0.0) * np.array([1.0, 1.0, 0.0])
            + np.array([0.0, 0.0, float(self.border_z(t)) + dz])
        )

    def section_axes(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors (patient) of the section's ``u`` (buccal, along the border) and ``v`` (up) axes at ``t``."""
        beta = math.radians(self.border_tilt_deg)
        nx, ny = self.arch.arch_normal(t)
        normal = np.array([float(nx), float(ny), 0.0])
        up = np.array([0.0, 0.0, 1.0])
        return normal * math.cos(beta) + up * math.sin(beta), -normal * math.sin(beta) + up * math.cos(beta)

    # ------------------------------------------------------------------ body and cortex
    def _side_sdf(
        self,
        t: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        inset_b: float,
        inset_l: float,
        top_inset: np.ndarray | float,
        corner_mm: float,
    ) -> np.ndarray:
        """Distance-like function of the buccal and lingual sides (narrowing to the crest), mm."""
        height = self.profile("height", t)
        top = self.alveolar_crest(t)
        crest = self.profile("crest_half", t)
        result = None
        for base_name, mid_name, sign, inset in (
            ("buccal_base", "buccal_mid", 1.0, inset_b),
            ("lingual_base", "lingual_mid", -1.0, inset_l),
        ):
            base, mid = self.profile(base_name, t), self.profile(mid_name, t)
            # half width: base at the bottom, easing (smoothstep) to mid by 0.5 H, then to the crest.
            f = np.clip(v / np.maximum(height, 1.0), 0.0, 1.0)
            low = np.clip((f - 0.05) / 0.45, 0.0, 1.0)
            high = np.clip((f - 0.6) / 0.4, 0.0, 1.0)
            half = base + (mid - base) * low * low * (3 - 2 * low) + (crest - mid) * high * high * (3 - 2 * high)
            slope = (mid - base) * 6 * low * (1 - low) / (0.45 * height) * ((f > 0.05) & (f < 0.5)) + (
                crest - mid
            ) * 6 * high * (1 - high) / (0.4 * height) * (f > 0.6)
            d = (sign * u - (half - inset)) / np.sqrt(1.0 + slope * slope)
            result = d if result is None else np.maximum(result, d)
        assert result is not None  # the loop above runs at least once
        return _round_max(result, v - (top - top_inset), corner_mm)

    def _bottom_sdf(self, t: np.ndarray, u: np.ndarray, v: np.ndarray, inset: np.ndarray | float) -> np.ndarray:
        radius = self.profile("bottom_radius", t)
        return np.asarray(np.hypot(u - self.bottom_centre_u(t), v - radius) - (radius - inset))

    def body_sdf(self, t: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Signed distance (mm, < 0 inside) to the periosteal surface of the body; exact on the bottom arc."""
        sides = self._side_sdf(t, u, v, 0.0, 0.0, 0.0, 1.5)
        sdf = _round_max(sides, self._bottom_sdf(t, u, v, 0.0), self.outer_corner_mm)
        return np.asarray(np.maximum(sdf, np.abs(t) - self.half_length_mm))

    def core_sdf(
        self, t: np.ndarray, u: np.ndarray, v: np.ndarray, extra_inset: np.ndarray | float = 0.0
    ) -> np.ndarray:
        """Signed distance (mm) to the endosteal surface (the cancellous core); exact on the bottom arc.

        ``extra_inset`` thickens the inferior cortex (used for the compact part when it is porous).
        """
        # No crest plate under the ramus (from the retromolar region back): the ramus' bone continues there.
        crest_plate = self.crest_plate_mm * (1.0 - np.clip((np.abs(t) - 58.0) / 6.0, 0.0, 1.0))
        sides = self._side_sdf(t, u, v, self.buccal_plate_mm, self.lingual_plate_mm, crest_plate, self.inner_corner_mm)
        bottom = self._bottom_sdf(t, u, v, self.cortex_width(t) - extra_inset)
        sdf = _round_max(sides, bottom, self.inner_corner_mm)
        # Open at the posterior end: the ramus (painted under the body) continues the core there.
        return np.asarray(np.maximum(sdf, np.abs(t) - (self.half_length_mm + 1.0)))

    def porous_zone_sdf(self, t: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Signed distance to the porous endosteal zone of the inferior cortex (inf when not porous)."""
        if not self.porous_cortex:
            return np.full(np.broadcast_shapes(np.shape(t), np.shape(u)), np.inf)
        width = self.cortex_width(t)
        compact = self.core_sdf(t, u, v, extra_inset=self.porous_fraction * width)
        return np.asarray(np.maximum(compact, -self.core_sdf(t, u, v)))

    # ------------------------------------------------------------------ canal and foramina
    def foramen_points(self, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Patient points of the mental channel: inner end, foramen centre, outlet (beyond the buccal surface)."""
        f = self.foramen(side)
        sign = side_sign(side)
        centre = self.section_point(sign * f.t_mm, f.u_mm, f.v_mm)
        inner = self.section_point(sign * (f.t_mm + f.inner_back_mm), 0.0, f.v_mm - f.inner_drop_mm)
        direction = (centre - inner) / np.linalg.norm(centre - inner)
        return inner, centre, centre + f.outlet_mm * direction

    def canal_distance(self, t: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Distance (mm) to the mandibular canal's centre line (section frame).

        The centre line runs from the ramus to each mental channel."""
        distance = np.full(np.broadcast_shapes(np.shape(t), np.shape(u)), np.inf)
        a = np.abs(t)
        for side in SIDES:
            f = self.foramen(side)
            start = f.t_mm + f.inner_back_mm
            knots = (start,) + self.canal_knots
            heights = (f.v_mm - f.inner_drop_mm,) + self.canal_height
            centre_v = _interp(a, knots, heights)
            centre_u = _interp(a, (start, 45.0), (0.0, self.canal_u_mm))
            cap = np.minimum(a - start, 0.0)
            d = np.sqrt((u - centre_u) ** 2 + (v - centre_v) ** 2 + cap**2)
            on_side = (np.sign(t) == side_sign(side)) | (t == 0)
            distance = np.minimum(distance, np.where(on_side, d, np.inf))
        return distance

    def channel_sdf(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Signed distance (mm) to the mental channels (capsules from the canal's end out through each foramen)."""
        sdf = np.full(np.broadcast_shapes(np.shape(x), np.shape(y), np.shape(z)), np.inf)
        for side in SIDES:
            inner, _, outlet = self.foramen_points(side)
            axis = outlet - inner
            length2 = float(axis @ axis)
            px, py, pz = x - inner[0], y - inner[1], z - inner[2]
            s = np.clip((px * axis[0] + py * axis[1] + pz * axis[2]) / length2, 0.0, 1.0)
            d = np.sqrt((px - s * axis[0]) ** 2 + (py - s * axis[1]) ** 2 + (pz - s * axis[2]) ** 2)
            sdf = np.minimum(sdf, d - self.foramen(side).radius_mm)
        return sdf


def mandible_model(
    cortex_mm: tuple[float, float] = (3.0, 2.6),
    border_slope_deg: float = 10.0,
    border_tilt_deg: float = 6.0,
    porous_cortex: bool = False,
) -> MandibleModel:
    """The anatomical mandible with the given settings (validated).

    Parameters
    ----------
    cortex_mm
        Inferior cortical width at the (left, right) mental foramen, 0.5-6 mm each.
    border_slope_deg
        Slope of the inferior border along the arch at the foramina, 0-25 degrees.
    border_tilt_deg
        Bucco-lingual tilt of the inferior border in the cross-section, 0-25 degrees.
    porous_cortex
        A porous, trabecularised endosteal zone (40 % of the cortex width), the C2/C3 look.

    Raises
    ------
    ValueError
        For a value out of range.
    """
    try:
        left, right = (float(v) for v in cortex_mm)
    except (TypeError, ValueError):
        raise ValueError(f"cortex_mm must be two widths in mm (left, right), got {cortex_mm!r}") from None
    for name, value, (lo, hi) in (
        ("cortex width (left)", left, CORTEX_RANGE_MM),
        ("cortex width (right)", right, CORTEX_RANGE_MM),
        ("border slope", float(border_slope_deg), SLOPE_RANGE_DEG),
        ("border tilt", float(border_tilt_deg), SLOPE_RANGE_DEG),
    ):
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be within {lo:g}-{hi:g}, got {value:g}")
    return MandibleModel(
        cortex_mm=(left, right),
        border_slope_deg=float(border_slope_deg),
        border_tilt_deg=float(border_tilt_deg),
        porous_cortex=bool(porous_cortex),
    )
