"""``truth.json`` and ``landmarks.json`` of a simulated CBCT, from the anatomical model's geometry.

Same shape as the simple phantom's truth (``sides.<side>.measurements`` W, S, I, BV_TV with value
and unit), and a ``phantom`` block describing the model, the acquisition and where each number
comes from. ``s_mm`` positions are arc lengths from ``arch.points[0]`` (the patient's RIGHT end).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from cbct_osteo import __version__
from cbct_osteo.io.landmarks_file import LandmarkSet, SideLandmarks, TrabecularRoi
from cbct_osteo.phantom.anatomy import SIDES, MandibleModel
from cbct_osteo.phantom.anatomy_truth import (
    ROI_SIZE_MM,
    roi_frame,
    side_truth,
    true_bone_fraction,
)
from cbct_osteo.phantom.cbct_sim import (
    GRAY_GAIN,
    GRAY_OFFSET,
    MU_REF_PER_MM,
    SPECTRUM_DESCRIPTION,
    ProjectionGeometry,
    effective_mu_water,
)
from cbct_osteo.phantom.render import RESCALE_INTERCEPT
from cbct_osteo.phantom.scene import Scene
from cbct_osteo.phantom.truth import (
    rounded,
    rounded_point,
    rounded_xyz,
)  # one rounding of truth numbers for both phantoms

GENERATOR = "cbct-osteo simulated CBCT v1"
ARCH_POINTS = 15


def _arch_points(model: MandibleModel) -> list[tuple[float, float, float]]:
    """15 points along the arch at mid-body height, from the right end to the left."""
    half = model.half_length_mm - 2.0
    points = []
    for t in np.linspace(-half, half, ARCH_POINTS):
        x, y = model.arch.arch_xy(t)
        z = float(model.border_z(t) + model.profile("height", t) / 2.0)
        points.append((rounded(float(x)), rounded(float(y)), rounded(z)))
    return points


def true_sides(model: MandibleModel, scene: Scene) -> dict[str, dict[str, Any]]:
    """Per side: the true landmarks, W, S, I (see :func:`side_truth`), the ROI centre and the true BV/TV."""
    result = {}
    for side in SIDES:
        truth = side_truth(model, side)
        centre, up, normal = roi_frame(model, side, truth)
        truth["roi_centre"] = centre
        truth["BV_TV"] = true_bone_fraction(scene, centre, up, normal)
        result[side] = truth
    return result


def sim_landmarks(model: MandibleModel, sides: dict[str, dict[str, Any]]) -> LandmarkSet:
    """The true landmarks (series UID and fingerprint left for the caller)."""
    landmarks = LandmarkSet(arch_points=_arch_points(model))
    for side, truth in sides.items():
        landmarks.sides[side] = SideLandmarks(
            points={k: rounded_xyz(v) for k, v in truth["points"].items()},
            trab_roi=TrabecularRoi(centre=rounded_xyz(truth["roi_centre"]), size_mm=ROI_SIZE_MM, shape="square"),
        )
    return landmarks


def build_sim_truth(
    model: MandibleModel,
    sides: dict[str, dict[str, Any]],
    options: Any,
    landmarks: LandmarkSet,
    pg: ProjectionGeometry,
    field_radius_mm: float,
    centre: np.ndarray,
) -> dict[str, Any]:
    """The truth document of one simulated case."""
    half = model.half_length_mm
    out_sides: dict[str, Any] = {}
    foramina: dict[str, Any] = {}
    for side, truth in sides.items():
        out_sides[side] = {
            "measurements": {
                "W": {"value": rounded(truth["W"]), "unit": "mm"},
                "S": {"value": rounded(truth["S"]), "unit": "mm"},
                "I": {"value": rounded(truth["I"]), "unit": "mm"},
                "BV_TV": {"value": rounded(truth["BV_TV"]), "unit": "ratio"},
            }
        }
        foramen = model.foramen(side)
        foramina[side] = {
            "s_mm": rounded(truth["t_mm"] + half),
            "s_from_midline_mm": rounded(truth["t_mm"]),
            "centre": rounded_point(truth["points"]["foramen_centre"]),
            "channel_radius_mm": rounded(foramen.radius_mm),
            "height_above_border_mm": rounded(truth["height_mm"]),
            "measurement_direction": rounded_point(truth["direction"]),
            "W_compact_mm": rounded(truth["W_compact"]),
        }
    t = np.arange(-half, half + 1e-9, 1.0)
    acq = options.acquisition
    return {
        "sides": out_sides,
        "phantom": {
            "generator": f"{GENERATOR} (cbct-osteo {__version__})",
            "kind": "simulated CBCT",
            "voxel_mm": rounded(options.voxel_mm),
            "shape": [int(v) for v in options.shape],
            "seed": int(options.seed),
            "clean": False,
            "fov": options.fov,
            "field_centre_mm": rounded_point(centre),
            "field_diameter_mm": rounded(2 * field_radius_mm),
            "anatomy": {
                "cortex_mm_at_foramen": {"left": rounded(model.cortex_mm[0]), "right": rounded(model.cortex_mm[1])},
                "border_slope_deg": rounded(model.border_slope_deg),
                "border_tilt_deg": rounded(model.border_tilt_deg),
                "porous_cortex": model.porous_cortex,
                "porous_fraction_of_cortex": rounded(model.porous_fraction) if model.porous_cortex else 0.0,
                "metal": options.metal,
                "texture": {
                    "bone_fraction": rounded(options.bone_fraction),
                    "trab_spacing_mm": rounded(options.trab_spacing_mm),
                },
            },
            "arch": {
                "points": [list(p) for p in landmarks.arch_points],
                "length_mm": rounded(model.arch.length_mm),
                "curve": "catenary y = chin_y + c (cosh(x / c) - 1) in the axial plane; s_mm from the right end (-x)",
                "catenary_c_mm": rounded(model.arch.catenary_c_mm),
                "chin_y_mm": rounded(model.arch.chin_y_mm),
            },
            "width_profile": {
                "s_mm": [rounded(v + half) for v in t],
                "W_mm": [rounded(v) for v in model.cortex_width(t)],
                "note": "inferior cortical width along every normal of the bottom arc of each cross-section",
            },
            "foramina": foramina,
            "truth_method": (
                "roots of the model's signed distances in the cross-section (cbct_osteo.phantom.anatomy_truth)"
            ),
            "acquisition": {
                **{k: (rounded(v) if isinstance(v, float) else v) for k, v in dataclasses.asdict(acq).items()},
                "detector_columns": pg.columns,
                "detector_rows": pg.rows,
                "detector_pitch_mm": rounded(pg.pitch_mm),
                "spectrum": SPECTRUM_DESCRIPTION,
                "reconstruction": "FDK (RTK), Hann-windowed ramp",
            },
            "gray_map": {
                "formula": "gray = gain * 1000 * (mu / mu_ref - 1) + offset",
                "gain": GRAY_GAIN,
                "offset": GRAY_OFFSET,
                "mu_ref_per_mm": MU_REF_PER_MM,
                "effective_mu_water_per_mm": rounded(effective_mu_water()),
                "units": "gray value (uncalibrated)",
            },
            "rescale": {"slope": 1.0, "intercept": float(RESCALE_INTERCEPT)},
        },
    }
