"""The rest of the head around the anatomical mandible: rami, maxilla in occlusion, cervical spine, soft tissue.

These parts give the projections what a real head gives them (mass outside the field of view,
hence truncation; dense bone above and behind the field, hence streaks and scatter) and give
the mandible locator its context (rami, spine). They carry no ground truth. All functions are
signed distances (mm, negative inside) of patient LPS points.
"""

from __future__ import annotations

import math

import numpy as np

from cbct_osteo.phantom.anatomy import MandibleModel, side_sign

RAMUS_TILT_DEG = 8.0  # the ramus leans back from the vertical
CORTEX_RAMUS_MM = 1.8
SPINE_Y_MM = 54.0  # vertebral body centres (posterior, +y)
VERTEBRA_Z_MM = (-34.0, -17.0, 0.0)  # C4, C3, C2 body centres (C2's dens rises above)
AIRWAY_CENTRE_MM = (0.0, 38.0)
AIRWAY_SEMI_MM = (13.0, 5.0)
HEAD_CENTRE_MM = (0.0, 32.0)
HEAD_SEMI_MM = (68.0, 66.0)
FACE_SOFT_MM = 18.0  # lips and cheeks reach this far buccal of the arch line (~11 mm beyond the bone)


def _box(
    p1: np.ndarray,
    p2: np.ndarray,
    p3: np.ndarray,
    lo: tuple[float, float, float],
    hi: tuple[float, float, float],
    radius: float,
) -> np.ndarray:
    """Signed distance to a rounded box given per-axis local coordinates and bounds."""
    q = []
    for p, a, b in zip((p1, p2, p3), lo, hi, strict=True):
        centre, half = (a + b) / 2.0, (b - a) / 2.0 - radius
        q.append(np.abs(p - centre) - half)
    outside = np.sqrt(sum(np.maximum(c, 0.0) ** 2 for c in q))
    inside = np.minimum(np.maximum(np.maximum(q[0], q[1]), q[2]), 0.0)
    return outside + inside - radius


def ramus_frame(model: MandibleModel, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Origin (the body's posterior end at the border) and axes (w posterior, h up, n buccal) of one ramus."""
    t_end = side_sign(side) * model.half_length_mm
    x, y = model.arch.arch_xy(t_end)
    tx, ty = model.arch.arch_tangent(t_end)
    sign = side_sign(side)
    back = np.array([sign * float(tx), sign * float(ty), 0.0])
    nx, ny = model.arch.arch_normal(t_end)
    buccal = np.array([float(nx), float(ny), 0.0])
    tilt = math.radians(RAMUS_TILT_DEG)
    up = np.array([0.0, 0.0, math.cos(tilt)]) + math.sin(tilt) * back
    origin = np.array([float(x), float(y), float(model.border_z(t_end))])
    return origin, back, up, buccal


def ramus_sdf(
    model: MandibleModel, side: str, x: np.ndarray, y: np.ndarray, z: np.ndarray, inset: float = 0.0
) -> np.ndarray:
    """One ramus with its coronoid process, condylar neck and condyle; ``inset`` shrinks it (the cancellous core)."""
    origin, back, up, buccal = ramus_frame(model, side)
    p = np.stack([x - origin[0], y - origin[1], z - origin[2]], axis=-1)
    w, h, n = p @ back, p @ up, p @ buccal
    i = inset
    parts = [
        _box(w, h, n, (-14.0 + i, 0.0 + i, -4.5 + i), (14.0 - i, 38.0 - i, 4.5 - i), max(3.0 - i, 0.5)),
        _box(w, h, n, (-14.0 + i, 28.0 + i, -2.5 + i), (-6.0 - i, 50.0 - i, 2.5 - i), max(2.0 - i, 0.3)),
        _box(w, h, n, (7.0 + i, 28.0 + i, -3.0 + i), (14.0 - i, 52.0 - i, 3.0 - i), max(2.0 - i, 0.3)),
    ]
    q = np.sqrt(((w - 10.5) / (4.5 - i)) ** 2 + ((h - 54.0) / (4.5 - i)) ** 2 + (n / (9.5 - i)) ** 2)
    parts.append((q - 1.0) * (4.5 - i))
    return np.asarray(np.minimum.reduce(parts))


def spine_sdf(x: np.ndarray, y: np.ndarray, z: np.ndarray, inset: float = 0.0) -> np.ndarray:
    """Three cervical vertebrae (bodies, dens, neural arches and spinous processes)."""
    parts = []
    for k, zc in enumerate(VERTEBRA_Z_MM):
        body = np.hypot(x / (9.0 - inset), (y - SPINE_Y_MM) / (8.0 - inset))
        parts.append(np.maximum((body - 1.0) * (8.0 - inset), np.abs(z - zc) - (6.5 - inset)))
        ring = np.hypot(x, y - (SPINE_Y_MM + 17.0))
        arch = np.maximum(np.abs(ring - 10.5) - (2.5 - inset), np.abs(z - zc) - (4.0 - inset))
        parts.append(np.maximum(arch, SPINE_Y_MM + 8.0 - y))
        parts.append(
            _box(
                x,
                y,
                z,
                (-2.5 + inset, SPINE_Y_MM + 26.0, zc - 3.5 + inset),
                (2.5 - inset, SPINE_Y_MM + 40.0 - inset, zc + 3.5 - inset),
                max(1.5 - inset, 0.3),
            )
        )
        if k == len(VERTEBRA_Z_MM) - 1:  # the dens of C2
            parts.append(
                np.maximum(np.hypot(x, y - SPINE_Y_MM + 1.0) - (5.0 - inset), np.abs(z - zc - 12.0) - (6.0 - inset))
            )
    return np.asarray(np.minimum.reduce(parts))


def soft_tissue_sdf(model: MandibleModel, x: np.ndarray, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The head and neck outline in an axial plane (face over the arch, an ellipse behind), minus nothing."""
    ellipse = np.hypot((x - HEAD_CENTRE_MM[0]) / HEAD_SEMI_MM[0], (y - HEAD_CENTRE_MM[1]) / HEAD_SEMI_MM[1])
    head = (ellipse - 1.0) * min(HEAD_SEMI_MM)
    face = np.maximum(n - FACE_SOFT_MM, y - HEAD_CENTRE_MM[1])
    return np.minimum(head, face)


def airway_sdf(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The oropharyngeal airway (an elliptic tube in front of the spine)."""
    q = np.hypot((x - AIRWAY_CENTRE_MM[0]) / AIRWAY_SEMI_MM[0], (y - AIRWAY_CENTRE_MM[1]) / AIRWAY_SEMI_MM[1])
    return (q - 1.0) * min(AIRWAY_SEMI_MM)


def occlusal_z(model: MandibleModel, t: np.ndarray, crown_mm: float = 8.0) -> np.ndarray:
    """Height (mm) of the occlusal contact: the mandibular crest plus the cervical gap and a mean crown."""
    return np.asarray(model.border_z(t) + model.profile("height", t) + 0.5 + crown_mm)


def maxilla_sdf(model: MandibleModel, t: np.ndarray, n: np.ndarray, z: np.ndarray, inset: float = 0.0) -> np.ndarray:
    """The maxillary alveolar ridge (above the upper crowns) and the hard palate inside the arch."""
    base = occlusal_z(model, t) + 8.0
    ridge = np.maximum(np.abs(n - 0.8) - (5.5 - inset), np.maximum(base - z + inset, z - (base + 24.0) + inset))
    ridge = np.maximum(ridge, np.abs(t) - (model.half_length_mm - 8.0 - inset))
    palate = np.maximum(
        np.maximum(n + 3.0 + inset, np.abs(z - (base + 14.0)) - (1.8 - inset)),
        np.abs(t) - (model.half_length_mm - 12.0),
    )
    return np.asarray(np.minimum(ridge, palate))
