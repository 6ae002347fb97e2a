"""The rest of the head around the anatomical mandible: maxilla in occlusion, cervical spine, soft tissue.

The rami are in :mod:`.ramus`.

These parts give the projections what a real head gives them (mass outside the field of view,
hence truncation; dense bone above and behind the field, hence streaks and scatter) and give
the mandible locator its context (rami, spine). They carry no ground truth. All functions are
signed distances (mm, negative inside) of patient LPS points.
"""

from __future__ import annotations

import numpy as np

from cbct_osteo.phantom.anatomy import MandibleModel
from cbct_osteo.phantom.geometry import _round_max

CORTEX_RAMUS_MM = 1.8  # nominal cortex of the rami (see :func:`.ramus.ramus_sdf`) and other boxed bones
SPINE_Y_MM = 54.0  # vertebral body centres (posterior, +y)
VERTEBRA_Z_MM = (-34.0, -17.0, 0.0)  # C4, C3, C2 body centres (C2's dens rises above)
AIRWAY_CENTRE_MM = (0.0, 38.0)
AIRWAY_SEMI_MM = (13.0, 5.0)
HEAD_CENTRE_MM = (0.0, 32.0)
HEAD_SEMI_MM = (68.0, 66.0)
MAXILLA_HEIGHT_MM = 30.0  # alveolar process and maxillary body above the alveolar margin
SINUS_T_MM = 42.0  # arc position of the maxillary sinuses' centres (over the first and second molars)
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


def maxilla_base_z(model: MandibleModel, t: np.ndarray) -> np.ndarray:
    """Height (mm) of the maxillary alveolar margin: the mandibular one mirrored about the occlusal contact
    (septa reaching down between the upper teeth, the bone receding over each root)."""
    scallop = model.profile("height", t) - model.alveolar_crest(t)
    return np.asarray(occlusal_z(model, t) + 8.0 + scallop)


def maxilla_sdf(model: MandibleModel, t: np.ndarray, n: np.ndarray, z: np.ndarray, inset: float = 0.0) -> np.ndarray:
    """The maxillary alveolar process (above the upper crowns, widening upward, rounded) and the hard palate."""
    above = z - maxilla_base_z(model, t)
    # The maxilla's top (zygomatic buttress, sinus roof) is lower towards the tuberosity.
    top = occlusal_z(model, t) + 8.0 + MAXILLA_HEIGHT_MM * (1.0 - 0.2 * (np.abs(t) / model.half_length_mm) ** 2)
    half = 4.8 + 2.2 * np.clip(above / 12.0, 0.0, 1.0) - inset
    across = np.abs(n - 0.8) - half
    vertical = np.maximum(-above + inset, z - (top - inset))
    ridge = _round_max(across, vertical, max(2.5 - inset, 0.3))
    # The tuberosity is rounded and the maxilla's posterior wall leans back going up.
    back_wall = np.abs(t) - (model.half_length_mm - 6.0 + 0.25 * np.clip(above, 0.0, None) - inset)
    ridge = _round_max(ridge, back_wall, max(6.0 - inset, 0.3))
    palate = np.maximum(
        np.maximum(n + 3.0 + inset, np.abs(z - (occlusal_z(model, t) + 22.0)) - (1.8 - inset)),
        np.abs(t) - (model.half_length_mm - 12.0),
    )
    return np.asarray(np.minimum(ridge, palate))


def maxillary_air_sdf(model: MandibleModel, t: np.ndarray, n: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Air in the maxilla: the two maxillary sinuses above the premolars and molars, and the floor of
    the nasal cavity above the incisors' apices (behind the anterior wall)."""
    base_z = occlusal_z(model, t) + 8.0
    q = np.sqrt(((np.abs(t) - SINUS_T_MM) / 15.0) ** 2 + ((n - 1.5) / 6.0) ** 2 + ((z - base_z - 17.0) / 8.0) ** 2)
    sinus = (q - 1.0) * 6.0
    q = np.sqrt((t / 13.0) ** 2 + ((n + 5.0) / 8.0) ** 2 + ((z - base_z - 29.0) / 10.0) ** 2)
    nasal = (q - 1.0) * 8.0
    return np.asarray(np.minimum(sinus, nasal))
