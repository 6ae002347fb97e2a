"""The mandibular rami: gonial angle, antegonial notch, coronoid process, sigmoid notch, condyles.

Each ramus is drawn as an outline in its own vertical plane (``w`` posterior, ``h`` up, mm from
the body's posterior end on the inferior border) and given a thickness across it (``n``,
buccal positive) that varies the way a real ramus does: as wide as the body where it joins it,
a thickened inferior border at the angle, a thin plate (~5 mm) in the middle, a thinner
coronoid process, a condylar neck widening to the condylar head (an ellipsoid ~19 x 10 mm,
its long axis turned so the medial pole lies posterior). The outline has an adult mandible's
proportions: ramus height (condylion to gonion) ~55 mm, minimum breadth ~34 mm, a gonial
angle of 121.5 deg (tangents to the inferior and posterior borders on a lateral projection of
the hemimandible; adults ~120-125 deg), an antegonial notch, a sigmoid notch ~15 mm below the
line from the coronoid tip to the condyle, the coronoid tip ~4 mm below the condyle. The
mandibular canal continues from the body's end to the mandibular foramen on the lingual face,
in the middle of the ramus.

These shapes carry no ground truth (the truth is measured at the mental foramina); they are
signed distances (mm, < 0 inside) approximated from a 0.1 mm distance map of the outline.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from PIL import Image, ImageDraw
from scipy import interpolate, ndimage

from cbct_osteo.phantom.anatomy import MandibleModel, side_sign
from cbct_osteo.phantom.geometry import _round_max

#: The rami diverge posteriorly by this angle from the sagittal plane (bigonial ~100 mm).
DIVERGENCE_DEG = 8.0
#: The condyle's long axis is turned further (medial pole posterior), degrees about the vertical.
CONDYLE_TURN_DEG = 12.0
#: Outline of the ramus in its plane, (w, h) mm, counter-clockwise from the body's lower border.
#: Points with w < 0 lie inside the body (which is painted over the ramus).
OUTLINE_WH = (
    (-4.0, 4.5),
    (0.0, 0.0),
    (4.0, 0.9),
    (8.0, 1.7),  # antegonial notch (concave)
    (12.0, 1.9),
    (16.0, 1.6),
    (20.0, 2.1),
    (23.5, 3.6),  # gonial angle
    (26.5, 7.0),
    (28.6, 13.0),  # posterior border, leaning back ~25 deg from the vertical
    (33.4, 24.0),
    (37.7, 34.0),
    (41.6, 43.0),
    (43.5, 48.5),  # condylar neck
    (45.2, 53.0),
    (43.2, 55.5),
    (40.0, 53.5),
    (38.2, 49.5),  # pterygoid fovea, front of the neck
    (34.5, 46.0),
    (27.5, 43.5),  # deepest point of the sigmoid notch
    (22.0, 45.0),
    (17.0, 49.5),
    (13.0, 55.0),
    (10.5, 57.5),  # coronoid tip
    (8.5, 56.0),
    (7.0, 51.0),
    (5.2, 44.0),  # anterior border (temporal crest), concave forward
    (3.0, 37.0),
    (0.5, 32.0),
    (-3.0, 28.8),
    (-8.0, 26.6),  # external oblique line meets the retromolar crest
    (-14.0, 24.0),
    (-18.0, 19.0),
    (-17.0, 11.0),
    (-11.0, 7.0),
)
CONDYLE_CENTRE_WH = (42.8, 56.0)
CONDYLE_SEMI_MM = (4.8, 5.2, 9.6)  # (w, h, n): antero-posterior, vertical, medio-lateral
CONDYLE_N_MM = -1.2  # the head sits a little medial of the ramus plane
MAP_STEP_MM = 0.1
MAP_LO_WH = (-30.0, -15.0)
MAP_HI_WH = (60.0, 75.0)
#: Box (w, h, n) that holds the whole ramus (for painting).
BOX_LO = (-20.0, -4.0, -14.0)
BOX_HI = (53.0, 63.0, 14.0)
#: Mandibular canal in the ramus: from the body's end to the mandibular foramen (w, h, n), mm.
CANAL_START_WHN = (-2.0, 12.5, -0.3)
MANDIBULAR_FORAMEN_WHN = (18.0, 31.0, -4.5)


def ramus_frame(model: MandibleModel, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Origin (the body's posterior end on the border) and unit axes (w posterior, h up, n buccal) of one ramus."""
    sign = side_sign(side)
    t_end = sign * model.half_length_mm
    x, y = model.arch.arch_xy(t_end)
    a = math.radians(DIVERGENCE_DEG)
    back = np.array([sign * math.sin(a), math.cos(a), 0.0])
    buccal = np.array([sign * math.cos(a), -math.sin(a), 0.0])
    origin = np.array([float(x), float(y), float(model.border_z(t_end))])
    return origin, back, np.array([0.0, 0.0, 1.0]), buccal


@functools.cache
def _outline_distance_map() -> np.ndarray:
    """Signed distance (mm) to the smoothed outline on a ``MAP_STEP_MM`` grid (rows h, columns w)."""
    points = np.array(OUTLINE_WH + OUTLINE_WH[:1], float)
    chord = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    curve = interpolate.CubicSpline(chord, points, bc_type="periodic")
    w, h = curve(np.linspace(0.0, float(chord[-1]), 2000)).T
    cols = int(round((MAP_HI_WH[0] - MAP_LO_WH[0]) / MAP_STEP_MM)) + 1
    rows = int(round((MAP_HI_WH[1] - MAP_LO_WH[1]) / MAP_STEP_MM)) + 1
    picture = Image.new("1", (cols, rows), 0)
    polygon = [
        ((wi - MAP_LO_WH[0]) / MAP_STEP_MM, (hi - MAP_LO_WH[1]) / MAP_STEP_MM) for wi, hi in zip(w, h, strict=True)
    ]
    ImageDraw.Draw(picture).polygon(polygon, fill=1)
    inside = np.asarray(picture, dtype=bool)
    outside_d = ndimage.distance_transform_edt(~inside) * MAP_STEP_MM
    inside_d = ndimage.distance_transform_edt(inside) * MAP_STEP_MM
    return np.asarray(outside_d - inside_d + np.where(inside, 0.5, -0.5) * MAP_STEP_MM, np.float32)


def outline_sdf(w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Signed distance (mm) to the ramus outline in its plane."""
    table = _outline_distance_map()
    coords = np.stack([(h - MAP_LO_WH[1]) / MAP_STEP_MM, (w - MAP_LO_WH[0]) / MAP_STEP_MM])
    return np.asarray(ndimage.map_coordinates(table, coords, order=1, mode="nearest"))


def _smooth(x: np.ndarray) -> np.ndarray:
    """Smoothstep of ``x`` clipped to 0-1."""
    x = np.asarray(np.clip(x, 0.0, 1.0))
    return np.asarray(x * x * (3.0 - 2.0 * x))


def half_thickness(w: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Buccal and lingual half thickness (mm) of the ramus at (w, h).

    As wide as the body at the junction (w <= 0), tapering over 16 mm to the ramus: ~8 mm at the
    angle's thickened border, ~5 mm plate in the middle, ~3 mm coronoid, ~7 mm condylar neck.
    """
    junction_b = 7.6 - 2.6 * _smooth((h - 12.0) / 16.0)
    junction_l = 6.6 - 2.0 * _smooth((h - 12.0) / 16.0)
    plate = 4.0 - 1.5 * _smooth((h - 6.0) / 20.0)
    coronoid = _smooth((h - 38.0) / 12.0) * _smooth((24.0 - w) / 6.0)
    plate = plate - 1.0 * coronoid
    neck = _smooth((h - 40.0) / 10.0) * _smooth((w - 33.0) / 5.0)
    plate = plate + (3.4 - plate) * neck
    inside_body = 1.5 * _smooth(-(w + 1.0) / 4.0)  # in front of the junction the ramus stays inside the body
    junction_b, junction_l = junction_b - inside_body, junction_l - inside_body
    blend = _smooth(w / 16.0)
    return junction_b + (plate - junction_b) * blend, junction_l + (plate - junction_l) * blend


def ramus_sdf(
    model: MandibleModel, side: str, x: np.ndarray, y: np.ndarray, z: np.ndarray, inset: float = 0.0
) -> np.ndarray:
    """One ramus with its processes and condyle (mm, < 0 inside).

    ``inset`` > 0 gives the cancellous core: the surface moved in by ``inset`` on the buccal and
    lingual plates, 1.6 x ``inset`` along the inferior border of the angle (its thick cortex)
    and 0.6 x ``inset`` in the condylar head.
    """
    w, h, n = _local(model, side, x, y, z)
    edge_inset = inset * (1.0 + 0.6 * _smooth((10.0 - h) / 6.0))
    buccal, lingual = half_thickness(w, h)
    lateral = np.maximum(n - (buccal - inset), -(lingual - inset) - n)
    radius = np.clip(0.9 * np.minimum(buccal, lingual) - inset, 0.3, 4.5)  # a rounded, thick inferior border
    plate = _round_max(outline_sdf(w, h) + edge_inset, lateral, radius)
    return np.asarray(np.minimum(plate, _condyle_sdf(w, h, n, 0.6 * inset)))


def _condyle_sdf(w: np.ndarray, h: np.ndarray, n: np.ndarray, inset: float) -> np.ndarray:
    turn = math.radians(CONDYLE_TURN_DEG)
    dw, dn = w - CONDYLE_CENTRE_WH[0], n - CONDYLE_N_MM
    along_w = dw * math.cos(turn) + dn * math.sin(turn)
    along_n = -dw * math.sin(turn) + dn * math.cos(turn)
    a, b, c = (s - inset for s in CONDYLE_SEMI_MM)
    q = np.sqrt((along_w / a) ** 2 + ((h - CONDYLE_CENTRE_WH[1]) / b) ** 2 + (along_n / c) ** 2)
    return np.asarray((q - 1.0) * min(a, b, c))


def canal_distance(model: MandibleModel, side: str, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Distance (mm) to the centre line of the ramus part of the mandibular canal (ends at the mandibular foramen)."""
    w, h, n = _local(model, side, x, y, z)
    start, end = np.asarray(CANAL_START_WHN), np.asarray(MANDIBULAR_FORAMEN_WHN)
    axis = end - start
    p = np.stack([w - start[0], h - start[1], n - start[2]], axis=-1)
    s = np.clip(p @ axis / float(axis @ axis), 0.0, 1.0)
    return np.asarray(np.linalg.norm(p - s[..., None] * axis, axis=-1))


def ramus_box(model: MandibleModel, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned patient box (low, high corners, mm) that holds one ramus."""
    origin, back, up, buccal = ramus_frame(model, side)
    corners = np.array(
        [
            origin + w * back + h * up + q * buccal
            for w in (BOX_LO[0], BOX_HI[0])
            for h in (BOX_LO[1], BOX_HI[1])
            for q in (BOX_LO[2], BOX_HI[2])
        ]
    )
    return corners.min(axis=0), corners.max(axis=0)


def _local(
    model: MandibleModel, side: str, x: np.ndarray, y: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    origin, back, up, buccal = ramus_frame(model, side)
    px, py, pz = x - origin[0], y - origin[1], z - origin[2]
    return (
        px * back[0] + py * back[1],
        pz,
        px * buccal[0] + py * buccal[1],
    )
