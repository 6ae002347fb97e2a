"""Ground truth of the anatomical mandible, found numerically from its implicit surfaces.

For each side, in the cross-section through the foramen (the plane perpendicular to the model's
arch there), following INDICES.md "Common geometry":

- ``border_outer`` B: the foot of the perpendicular from the foramen centre F to the inferior
  border: among rays from F within 50 degrees of straight down that meet the periosteal surface
  less than 6 mm above the border, the local minimum of the ray length nearest to straight
  down; the border tangent there is perpendicular to F - B;
- the measurement line: through B and F;
- ``border_inner``: where that line, going up from B, enters the cancellous core (the endosteal
  margin; with a porous cortex, the inner edge of the porous zone);
- ``foramen_superior`` / ``foramen_inferior``: where the line leaves the mental channel above and below F.

W = |border_inner - B|, S = |foramen_superior - B|, I = |foramen_inferior - B|. Every point is a
root of the model's signed distances found by bisection to 1e-6 mm, so the truth does not use
the measurement code, the voxel grid, or the closed forms the model was built from (a test
compares the two). BV/TV is the mineralised share of the 5 mm ROI square, sampled at 0.05 mm.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from cbct_osteo.phantom.anatomy import SIDES, MandibleModel
from cbct_osteo.phantom.scene import CHANNELS, Scene

ROI_SIZE_MM = 5.0
ROI_ABOVE_ENDOSTEUM_MM = 3.1  # ROI centre height above the endosteal margin (ROI spans +0.6 .. +5.6 mm)
ROI_LINGUAL_MM = -0.8  # ROI centre offset from the measurement line, along the buccal normal (mm)
ROI_SAMPLES = 100
BORDER_CONE_DEG = 50.0
BORDER_MAX_V_MM = 6.0

Field = Callable[[np.ndarray], np.ndarray]


def _bisect(f: Field, origin: np.ndarray, direction: np.ndarray, lo: float, hi: float) -> float:
    """The distance s in (lo, hi) where ``f(origin + s direction)`` changes sign (it must), to ~1e-8 mm.

    Each round samples the bracket at 64 points in one call (the fields are costly per call, cheap per point).
    """
    for _ in range(4):
        s = np.linspace(lo, hi, 65)
        values = f(origin[None] + s[:, None] * direction[None])
        exact = np.nonzero(values == 0.0)[0]
        if exact.size:  # a sample on the surface itself
            return float(s[exact[0]])
        change = np.nonzero(np.signbit(values[:-1]) != np.signbit(values[1:]))[0]
        if change.size == 0:
            break
        k = int(change[0])
        lo, hi = float(s[k]), float(s[k + 1])
    return 0.5 * (lo + hi)


def _first_crossing(
    f: Field, origin: np.ndarray, direction: np.ndarray, reach: float, step: float = 0.02, to_positive: bool = True
) -> float | None:
    """Distance of the first sign change of ``f`` along the ray (to positive, or to negative), or None."""
    s = np.arange(0.0, reach + step, step)
    values = f(origin[None] + s[:, None] * direction[None])
    change = (values[:-1] <= 0) & (values[1:] > 0) if to_positive else (values[:-1] > 0) & (values[1:] <= 0)
    hits = np.nonzero(change)[0]
    if hits.size == 0:
        return None
    k = int(hits[0])
    return _bisect(f, origin, direction, float(s[k]), float(s[k + 1]))


class ModelFields:
    """The model's signed distances as functions of patient points (N, 3)."""

    def __init__(self, model: MandibleModel) -> None:
        self.model = model

    def _tuv(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t, n = self.model.arch.arch_map(p[:, 0], p[:, 1])
        u, v = self.model.section_uv(t, n, p[:, 2])
        return t, u, v

    def body(self, p: np.ndarray) -> np.ndarray:
        return self.model.body_sdf(*self._tuv(p))

    def core(self, p: np.ndarray) -> np.ndarray:
        return self.model.core_sdf(*self._tuv(p))

    def compact(self, p: np.ndarray) -> np.ndarray:
        t, u, v = self._tuv(p)
        return self.model.core_sdf(t, u, v, extra_inset=self.model.porous_fraction * self.model.cortex_width(t))

    def channel(self, p: np.ndarray) -> np.ndarray:
        return self.model.channel_sdf(p[:, 0], p[:, 1], p[:, 2])

    def v(self, p: np.ndarray) -> np.ndarray:
        return self._tuv(p)[2]


def plane_axes(model: MandibleModel, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cross-section axes at arc position t: horizontal buccal normal, vertical, and the plane normal (tangent)."""
    nx, ny = model.arch.arch_normal(t)
    tx, ty = model.arch.arch_tangent(t)
    return np.array([float(nx), float(ny), 0.0]), np.array([0.0, 0.0, 1.0]), np.array([float(tx), float(ty), 0.0])


def border_foot(fields: ModelFields, centre: np.ndarray, normal: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The foot B of the perpendicular from ``centre`` to the inferior border, in the cross-section."""

    def distance(angle: float) -> float:
        direction = math.sin(angle) * normal - math.cos(angle) * up
        s = _first_crossing(fields.body, centre, direction, 45.0)
        if s is None:
            return math.inf
        if float(fields.v((centre + s * direction)[None])[0]) > BORDER_MAX_V_MM:
            return math.inf
        return s

    cone = math.radians(BORDER_CONE_DEG)
    angles = np.linspace(-cone, cone, 201)
    values = np.array([distance(a) for a in angles])
    # The foot is a local minimum of the ray length (the bottom arc is concave seen from F); the
    # border's corners with the buccal and lingual sides are closer still but are not perpendicular
    # feet. Take the interior local minimum nearest to straight down.
    minima = [
        k
        for k in range(1, angles.size - 1)
        if math.isfinite(values[k]) and values[k] <= values[k - 1] and values[k] <= values[k + 1]
    ]
    if not minima:
        raise ValueError("the inferior border below the foramen was not found")
    k = min(minima, key=lambda j: abs(angles[j]))
    lo, hi = angles[max(k - 1, 0)], angles[min(k + 1, angles.size - 1)]
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(36):  # golden-section search of the minimum distance (bracket / 3e7)
        a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
        if distance(a) < distance(b):
            hi = b
        else:
            lo = a
    angle = 0.5 * (lo + hi)
    direction = math.sin(angle) * normal - math.cos(angle) * up
    return centre + distance(angle) * direction


def side_truth(model: MandibleModel, side: str) -> dict[str, Any]:
    """True landmarks (patient mm) and W, S, I (mm) of one side, found on the model's surfaces."""
    fields = ModelFields(model)
    t_f = model.foramen_t(side)
    normal, up, tangent = plane_axes(model, t_f)
    _, centre, _ = model.foramen_points(side)
    foot = border_foot(fields, centre, normal, up)
    height = float(np.linalg.norm(centre - foot))
    line = (centre - foot) / height
    width = _first_crossing(fields.core, foot, line, height, to_positive=False)
    compact = _first_crossing(fields.compact, foot, line, height, to_positive=False) if model.porous_cortex else width
    above = _first_crossing(fields.channel, centre, line, 6.0)
    below = _first_crossing(fields.channel, centre, -line, 6.0)
    if width is None or above is None or below is None:
        raise ValueError(f"{side}: the endosteal margin or the foramen margins were not found on the measurement line")
    return {
        "t_mm": t_f,
        "direction": line,
        "tangent": tangent,
        "points": {
            "foramen_centre": centre,
            "foramen_superior": centre + above * line,
            "foramen_inferior": centre - below * line,
            "border_outer": foot,
            "border_inner": foot + width * line,
        },
        "W": width,
        "W_compact": compact,
        "S": height + above,
        "I": height - below,
        "height_mm": height,
    }


def roi_frame(model: MandibleModel, side: str, truth: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROI square centre and its in-plane axes (vertical, buccal normal), as the measurement samples it."""
    normal, up, _ = plane_axes(model, truth["t_mm"])
    inner = truth["points"]["border_inner"]
    centre = inner + ROI_ABOVE_ENDOSTEUM_MM * truth["direction"] + ROI_LINGUAL_MM * normal
    return centre, up, normal


def true_bone_fraction(
    scene: Scene,
    centre: np.ndarray,
    up: np.ndarray,
    normal: np.ndarray,
    size_mm: float = ROI_SIZE_MM,
    samples: int = ROI_SAMPLES,
) -> float:
    """Mineralised share (bone channel > 0.5) of the ROI square, sampled at cell centres."""
    offsets = (np.arange(samples) + 0.5) / samples * size_mm - size_mm / 2.0
    a, b = np.meshgrid(offsets, offsets, indexing="ij")
    points = centre[None] + a.reshape(-1, 1) * up[None] + b.reshape(-1, 1) * normal[None]
    bone = point_materials(scene, points)["bone"]
    return float(np.mean(bone > 0.5))


def point_materials(scene: Scene, points: np.ndarray) -> dict[str, np.ndarray]:
    """The mandible's materials at exact points (no partial volume, no supersampling)."""
    t, n = scene.model.arch.arch_map(points[:, 0], points[:, 1])
    values = [np.zeros(len(points)) for _ in CHANNELS]
    scene._mandible(values, t, n, points[:, 0], points[:, 1], points[:, 2], voxel=1e-4, supersample=False)
    return dict(zip(CHANNELS, values, strict=True))


def all_sides(model: MandibleModel) -> dict[str, dict[str, Any]]:
    return {side: side_truth(model, side) for side in SIDES}
