"""The error budget of the cortical measurements (one-sigma terms, mm).

Replaces the old conventions (a fixed 0.05 mm floor for a fitted W, half a voxel for a click):
every term names a physical source and is reported with the measurement
(``details["uncertainty_budget_mm"]``), so a reader can see what limits each number. The total
drives the displayed precision (:func:`~cbct_osteo.measure.quantity.decimals_for`) and the
side-agreement check of the indices.

Terms of an edge-fitted W:

- ``fit``: the least-squares covariance of W, inflated by the number of profile samples per
  independent sample (samples 0.05 mm apart on a 0.3 mm grid are not independent);
- ``lines``: the leave-one-group-out (jackknife) spread of W over the averaged lines: trabecular
  texture at the endosteum and any mismatch between the blurred-step model and the anatomy;
- ``sampling``: interpolation of a blurred edge between voxel centres, 0.1 of the sampling step
  along the line (trilinear interpolation shifts a Gaussian-blurred edge by at most about a tenth
  of a voxel when the blur is at least half a voxel);
- ``border_tilt``: the uncertainty of the bucco-lingual border slope used to turn the distance
  along the line into the width perpendicular to the border;
- ``model``: what the blurred-step model leaves out (trabeculae fused to the endosteum, a
  non-Gaussian point-spread function). Calibrated on the program's accuracy study: on the
  phantom at 0.2 and 0.3 mm voxels, clean and degraded, the fitted W is 0.02-0.05 mm short of the
  truth at every site, more than the other terms explain; ``MODEL_SD_MM`` covers it.

A placed point (``manual``) has ``PLACEMENT_SD_MM`` of human placement error combined with the
uniform quantisation of the voxel it is placed in (step / sqrt 12); a width from two placed
points has sqrt 2 times that.
"""

from __future__ import annotations

import math

#: One-sigma error of a user's click on a cortical margin (mm): a click is expected within about
#: +-0.6 mm (2 sigma) of the margin on a blurred CBCT. Clicks 0.5 mm off are within it.
PLACEMENT_SD_MM = 0.3
#: Model term of an edge-fitted W (mm), from the accuracy study (see the module docstring).
MODEL_SD_MM = 0.05
#: Interpolation term, as a fraction of the sampling step along the line.
SAMPLING_FRACTION = 0.1
#: A fitted W is rejected when it differs from the placed points' W by more than this many
#: combined standard deviations (fit and placement): 3 sigma, so an honest click 0.5 mm off on
#: each margin (1 mm in W) is accepted and a collapsed fit is not.
AGREEMENT_SIGMAS = 3.0


def placed_point_sigma(resolution_mm: float) -> float:
    """One-sigma position error (mm) of one placed point along a line sampled every ``resolution_mm``."""
    return math.hypot(PLACEMENT_SD_MM, resolution_mm / math.sqrt(12.0))


def placed_width_sigma(resolution_mm: float) -> float:
    """One-sigma error (mm) of a distance between two placed points (independent errors)."""
    return math.sqrt(2.0) * placed_point_sigma(resolution_mm)


def edge_budget(
    variance_fit: float,
    step_mm: float,
    resolution_mm: float,
    jackknife_mm: float,
    width_mm: float,
    slope_across: float,
    slope_across_se: float,
) -> dict[str, float]:
    """The terms (mm) of an edge-fitted W's one-sigma uncertainty (see the module docstring)."""
    correlation = max(resolution_mm / step_mm, 1.0)
    fit = math.sqrt(variance_fit * correlation) if math.isfinite(variance_fit) and variance_fit >= 0 else math.inf
    tilt = abs(width_mm * slope_across / (1.0 + slope_across**2)) * slope_across_se
    return {
        "fit": fit,
        "lines": float(jackknife_mm),
        "sampling": SAMPLING_FRACTION * resolution_mm,
        "border_tilt": tilt if math.isfinite(tilt) else 0.0,
        "model": MODEL_SD_MM,
    }


def height_sigma(resolution_mm: float, border_sigma_mm: float) -> float:
    """One-sigma error (mm) of S or I: a placed foramen margin above the (fitted or placed) border."""
    return math.hypot(placed_point_sigma(resolution_mm), border_sigma_mm)
