"""The phantom's ground truth: ``truth.json`` and the true landmarks, derived from the geometry alone.

Because the inferior border is flat and horizontal, the measurement line at a foramen is the
vertical through its centre, and every index input is exact:
``W = W(t_f)``, ``S = h_f + r_f``, ``I = h_f - r_f`` (heights above the border), and ``BV_TV`` is
the bone fraction of the clean binary texture over the 5 mm ROI square of the cross-section.

Arc positions ``s_mm`` are arc lengths along the arch from its first point (``arch.points[0]``,
the patient's RIGHT posterior end, -x), as :class:`cbct_osteo.reformat.ArchCurve` measures them;
``s_from_midline_mm`` is the signed position from the chin (positive = left).

``gray_levels`` are the materials' ideal values in the written volume's units (after the
gray-value mapping, before blur, cupping, streaks and noise); ``units`` is ``"HU"`` (HU-like,
clean) or ``"gray value"`` (uncalibrated, the default).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cbct_osteo import __version__
from cbct_osteo.io.landmarks_file import LandmarkSet, SideLandmarks, TrabecularRoi
from cbct_osteo.phantom.geometry import Anatomy, Foramen
from cbct_osteo.phantom.render import MATERIALS, RESCALE_INTERCEPT, PhantomOptions
from cbct_osteo.phantom.texture import TrabecularTexture

ARCH_POINTS = 15
ROI_SIZE_MM = 5.0
ROI_N_MM = 0.0  # ROI centre offset from the arch (mid-core)
ROI_ABOVE_ENDOSTEUM_MM = 3.0  # ROI centre height above the endosteal margin (ROI spans +0.5 .. +5.5 mm)
ROI_SAMPLES = 100  # per side of the ROI square when measuring the true BV/TV
GENERATOR = "cbct-osteo phantom v1"


def rounded(value: float) -> float:
    return round(float(value), 6)


def rounded_point(p: np.ndarray) -> list[float]:
    return [rounded(v) for v in p]


def rounded_xyz(p: np.ndarray) -> tuple[float, float, float]:
    """A rounded 3-D point (mm) as the tuple the landmarks file types expect."""
    x, y, z = rounded_point(p)
    return x, y, z


def roi_centre(anatomy: Anatomy, side: str) -> np.ndarray:
    """Centre (LPS mm) of the true trabecular ROI in the cross-section through the foramen of ``side``."""
    foramen = anatomy.foramen(side)
    width = float(anatomy.inferior_width(foramen.t_mm))
    return anatomy.arch_point(foramen.t_mm, ROI_N_MM, width + ROI_ABOVE_ENDOSTEUM_MM)


def roi_points(anatomy: Anatomy, side: str, samples: int = ROI_SAMPLES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell-centred sample points (x, y, z arrays, mm) covering the ROI square in the cross-section plane."""
    foramen = anatomy.foramen(side)
    width = float(anatomy.inferior_width(foramen.t_mm))
    offsets = (np.arange(samples) + 0.5) / samples * ROI_SIZE_MM - ROI_SIZE_MM / 2
    du, dv = np.meshgrid(offsets, offsets, indexing="ij")
    n = ROI_N_MM + du
    h = width + ROI_ABOVE_ENDOSTEUM_MM + dv
    x0, y0 = anatomy.arch_xy(foramen.t_mm)
    nx, ny = anatomy.arch_normal(foramen.t_mm)
    return x0 + n * nx, y0 + n * ny, anatomy.border_z_mm + h


def true_landmarks(anatomy: Anatomy) -> LandmarkSet:
    """The true landmarks (series UID and fingerprint left empty for the caller to fill)."""
    half = anatomy.half_length_mm
    arch_t = np.linspace(-half, half, ARCH_POINTS)
    mid_height = anatomy.crest_height_mm / 2
    landmarks = LandmarkSet(arch_points=[rounded_xyz(anatomy.arch_point(t, 0.0, mid_height)) for t in arch_t])
    for foramen in anatomy.foramina:
        width = float(anatomy.inferior_width(foramen.t_mm))

        def at(h: float, foramen: Foramen = foramen) -> tuple[float, float, float]:
            return rounded_xyz(anatomy.arch_point(foramen.t_mm, foramen.landmark_n_mm, h))

        landmarks.sides[foramen.side] = SideLandmarks(
            points={
                "foramen_centre": at(foramen.height_mm),
                "foramen_superior": at(foramen.height_mm + foramen.radius_mm),
                "foramen_inferior": at(foramen.height_mm - foramen.radius_mm),
                "border_outer": at(0.0),
                "border_inner": at(width),
            },
            trab_roi=TrabecularRoi(
                centre=rounded_xyz(roi_centre(anatomy, foramen.side)), size_mm=ROI_SIZE_MM, shape="square"
            ),
        )
    return landmarks


def build_truth(
    anatomy: Anatomy,
    texture: TrabecularTexture,
    options: PhantomOptions,
    shape: tuple[int, int, int],
    voxel_mm: float,
    seed: int,
    landmarks: LandmarkSet,
) -> dict[str, Any]:
    """The ``truth.json`` document: true measurements per side, and the phantom's description."""
    half = anatomy.half_length_mm
    sides: dict[str, Any] = {}
    foramina: dict[str, Any] = {}
    for foramen in anatomy.foramina:
        width = float(anatomy.inferior_width(foramen.t_mm))
        bv_tv = float(texture.bone(*roi_points(anatomy, foramen.side)).mean())
        sides[foramen.side] = {
            "measurements": {
                "W": {"value": rounded(width), "unit": "mm"},
                "S": {"value": rounded(foramen.height_mm + foramen.radius_mm), "unit": "mm"},
                "I": {"value": rounded(foramen.height_mm - foramen.radius_mm), "unit": "mm"},
                "BV_TV": {"value": rounded(bv_tv), "unit": "ratio"},
            }
        }
        foramina[foramen.side] = {
            "s_mm": rounded(foramen.t_mm + half),
            "s_from_midline_mm": rounded(foramen.t_mm),
            "centre": rounded_point(anatomy.arch_point(foramen.t_mm, foramen.landmark_n_mm, foramen.height_mm)),
            "radius_mm": rounded(foramen.radius_mm),
            "height_above_border_mm": rounded(foramen.height_mm),
        }
    s = np.arange(0.0, anatomy.length_mm + 1e-9, 1.0)
    gray_levels: dict[str, float | str] = {name: rounded(options.gray(density)) for name, density in MATERIALS.items()}
    gray_levels["units"] = "HU" if options.gray_gain == 1 and options.gray_offset == 0 else "gray value"
    return {
        "sides": sides,
        "phantom": {
            "generator": f"{GENERATOR} (cbct-osteo {__version__})",
            "voxel_mm": rounded(voxel_mm),
            "shape": [int(v) for v in shape],
            "seed": int(seed),
            "clean": options.clean,
            "blur_sigma_mm": rounded(options.blur_sigma_mm),
            "noise_sd": rounded(options.noise_sd),
            "noise_model": options.noise_model,
            "cupping": rounded(options.cupping),
            "metal_streaks": rounded(options.metal_streaks),
            "texture": {
                "bone_fraction": rounded(options.bone_fraction),
                "trab_spacing_mm": rounded(options.trab_spacing_mm),
            },
            "arch": {
                "points": [list(p) for p in landmarks.arch_points],
                "length_mm": rounded(anatomy.length_mm),
                "curve": (
                    "catenary y = chin_y + c (cosh(x / c) - 1) in the axial plane; s_mm from points[0] (right end)"
                ),
                "catenary_c_mm": rounded(anatomy.catenary_c_mm),
                "chin_y_mm": rounded(anatomy.chin_y_mm),
            },
            "inferior_border_z_mm": rounded(anatomy.border_z_mm),
            "body_height_mm": rounded(anatomy.crest_height_mm),
            "width_profile": {
                "s_mm": [rounded(v) for v in s],
                "W_mm": [rounded(v) for v in anatomy.inferior_width(s - half)],
            },
            "foramina": foramina,
            "canal": {
                "radius_mm": rounded(anatomy.canal_radius_mm),
                "posterior_height_above_border_mm": rounded(anatomy.canal_posterior_height_mm),
            },
            "gray_levels": gray_levels,
            "rescale": {"slope": 1.0, "intercept": float(RESCALE_INTERCEPT)},
        },
    }
