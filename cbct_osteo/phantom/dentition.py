"""Teeth, dental metal and the maxillary teeth in occlusion, for the anatomical mandible.

Teeth stand in the section frame of :class:`~cbct_osteo.phantom.anatomy.MandibleModel`: a
tapered elliptic root from its apex to the alveolar crest (``v = H``), inside a periodontal
ligament space (0.2 mm, soft tissue) and a lamina dura (0.35 mm, bone), and an ellipsoidal crown
(enamel shell 1.2 mm over dentin, a pulp inside). Dental metal (``metal``):

- ``"none"``: natural teeth only;
- ``"fillings"``: occlusal amalgam fillings in both first molars and the right second premolar,
  and a full metal crown on the right second molar;
- ``"implant"``: the LEFT second premolar replaced by a threaded titanium implant (4 mm wide,
  11 mm long) with a ceramic crown, its apex about 3 mm above and 4 mm behind the left foramen.

The maxillary teeth (crowns and roots in a simple alveolar ridge and palate) close onto the
mandibular crowns; they matter for the projections (mass, streaks) more than for the indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cbct_osteo.phantom.geometry import _TEETH_PER_SIDE, _round_max

METAL_CHOICES = ("none", "fillings", "implant")
ENAMEL_MM = 1.2
PDL_MM = 0.2
LAMINA_DURA_MM = 0.35
CERVICAL_GAP_MM = 0.5  # crown starts this far above the crest


@dataclass(frozen=True)
class Tooth:
    """One mandibular tooth: signed arc position, mesiodistal width, crown height, root length (mm)."""

    t_mm: float
    width_mm: float
    crown_mm: float
    root_mm: float
    restoration: str = "natural"  # "natural", "filling", "metal crown" or "implant"

    @property
    def buccolingual_mm(self) -> float:
        return 5.0 if self.width_mm > 9 else 4.0


def mandibular_teeth(metal: str) -> tuple[Tooth, ...]:
    """The 14 mandibular teeth with the restorations of ``metal`` (one of :data:`METAL_CHOICES`)."""
    if metal not in METAL_CHOICES:
        raise ValueError(f"metal must be one of {', '.join(METAL_CHOICES)}, got {metal!r}")
    teeth = []
    for t, width, crown, root in _TEETH_PER_SIDE:
        for sign in (1.0, -1.0):
            kind = "natural"
            if metal == "fillings" and (t == 38.0 or (t == 29.0 and sign < 0)):
                kind = "filling"
            elif metal == "fillings" and t == 48.75 and sign < 0:
                kind = "metal crown"
            elif metal == "implant" and t == 29.0 and sign > 0:
                kind = "implant"
            teeth.append(Tooth(sign * t, width, crown, root, kind))
    return tuple(teeth)


def _ellipse_sdf(d1: np.ndarray, d2: np.ndarray, a1: np.ndarray | float, a2: np.ndarray | float) -> np.ndarray:
    """Approximate signed distance to an ellipse with semi-axes a1, a2 (exact on the axes' ends)."""
    q = np.sqrt((d1 / a1) ** 2 + (d2 / a2) ** 2)
    return (q - 1.0) * np.minimum(a1, a2)


def root_sdf(tooth: Tooth, dt: np.ndarray, u: np.ndarray, v: np.ndarray, crest: np.ndarray) -> np.ndarray:
    """Signed distance (mm) to the tapered root, from its apex up to just above the crest."""
    apex = crest - tooth.root_mm
    taper = np.sqrt(np.clip((v - apex) / tooth.root_mm, 0.0, 1.0))
    a_t = 0.33 * tooth.width_mm * taper + 1e-3
    a_u = 0.8 * tooth.buccolingual_mm * taper + 1e-3
    return np.asarray(
        np.maximum(np.maximum(_ellipse_sdf(dt, u, a_t, a_u), apex - v), v - (crest + CERVICAL_GAP_MM + 0.5))
    )


def _crown_profile(
    tooth: Tooth, dt: np.ndarray, u: np.ndarray, v: np.ndarray, crest: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Side distance, occlusal (incisal) height and relative height ``s`` (0 at the cervical line, 1 at the top).

    The crown is as wide as the root's neck at the cemento-enamel junction and widest at its
    contact areas (upper third); molars and premolars have an occlusal table with a central fossa
    between buccal and lingual cusps, incisors and canines a thin incisal edge.
    """
    cervical = crest + CERVICAL_GAP_MM
    s = np.clip((v - cervical) / tooth.crown_mm, 0.0, 1.0)
    rise = np.clip(s / 0.6, 0.0, 1.0)
    half_t = tooth.width_mm * (0.34 + 0.16 * rise * rise * (3.0 - 2.0 * rise))
    bulge = np.clip(s / 0.45, 0.0, 1.0)
    half_u = tooth.buccolingual_mm * (0.82 + 0.18 * bulge * bulge * (3.0 - 2.0 * bulge))
    posterior = tooth.width_mm >= 7.0 and abs(tooth.t_mm) > 18.0
    top = cervical + tooth.crown_mm
    if posterior:
        top = top - 1.4 * np.exp(-((u / (0.35 * tooth.buccolingual_mm)) ** 2))  # central fossa between cusps
    else:
        edge = np.clip((s - 0.45) / 0.55, 0.0, 1.0)
        half_u = half_u * (1.0 - 0.55 * edge * edge)  # labial and lingual faces meet at the incisal edge
    side = _ellipse_sdf(dt, u, half_t, half_u)
    return np.asarray(side), np.asarray(top), s


def crown_sdf(tooth: Tooth, dt: np.ndarray, u: np.ndarray, v: np.ndarray, crest: np.ndarray) -> np.ndarray:
    """Signed distance (mm, approximate) to the crown standing on the cervical line."""
    side, top, _ = _crown_profile(tooth, dt, u, v, crest)
    crown = _round_max(side, v - top, 1.2)
    return np.asarray(np.maximum(crown, crest + CERVICAL_GAP_MM - v))


def crown_dentin_sdf(tooth: Tooth, dt: np.ndarray, u: np.ndarray, v: np.ndarray, crest: np.ndarray) -> np.ndarray:
    """Signed distance (mm) to the crown's dentin: the enamel over it thins to nothing at the cervical line."""
    side, top, s = _crown_profile(tooth, dt, u, v, crest)
    enamel = ENAMEL_MM * np.clip(s / 0.35, 0.0, 1.0)
    dentin = _round_max(side + enamel, v - (top - ENAMEL_MM), 1.0)
    return np.asarray(np.maximum(dentin, crest - v))


def implant_sdf(tooth: Tooth, dt: np.ndarray, u: np.ndarray, v: np.ndarray, crest: np.ndarray) -> np.ndarray:
    """Signed distance (mm) to a threaded titanium implant (radius 2 mm, pitch 0.8 mm) with its abutment."""
    radial = np.hypot(dt, u)
    thread = 2.0 + 0.25 * np.sin(2.0 * np.pi * (v - crest) / 0.8)
    apex = crest - 11.0
    body = np.maximum(radial - np.where(v < crest, thread, 1.6), np.maximum(apex - v, v - (crest + 2.5)))
    return np.asarray(body)


def occlusal_filling_sdf(tooth: Tooth, dt: np.ndarray, u: np.ndarray, v: np.ndarray, crest: np.ndarray) -> np.ndarray:
    """Signed distance (mm) to an occlusal filling: the top 3 mm of the crown's middle."""
    top = crest + CERVICAL_GAP_MM + tooth.crown_mm
    box = np.maximum(np.abs(dt) - 0.28 * tooth.width_mm, np.abs(u) - 0.45 * tooth.buccolingual_mm)
    return np.asarray(np.maximum(np.maximum(box, top - 3.0 - v), crown_sdf(tooth, dt, u, v, crest) + 0.3))
