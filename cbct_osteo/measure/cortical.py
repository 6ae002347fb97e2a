"""Inferior cortical width W: manual and edge-assisted (blurred-step model fit), with its checks.

Manual: W is the distance between the two margin points the user placed, projected onto the
measurement line (INDICES.md, "Common geometry").

Edge-assisted (the default): the gray-value profile across the cortex is a piecewise-constant
density (soft tissue, cortex, trabecular bone) blurred by the scanner. Following Treece et al.
(2010) we fit exactly that model,

    f(t) = L0 + (L1 - L0) Φ((t - a)/σ) + (L2 - L1) Φ((t - a - W)/σ),

with Φ the normal CDF, by robust least squares on the mean of many parallel profiles aligned on the local
border (:mod:`cbct_osteo.measure.profiles`), starting from the gradient peaks near the user's
clicks. The fitted edges do not depend on the uncalibrated gray scale and, unlike a 50 %
threshold, stay unbiased when the cortex is thin relative to the blur.

A fit is only used when its assumptions hold (:func:`fit_problems`): no parameter at a bound,
a cortex brighter than both neighbours, levels inside the scan's range, a residual small against
the cortical contrast, both edges inside the searched windows, and a width that agrees with the
placed points within the combined uncertainty. A profile that shows no endosteal (or outer) step
at all cannot be measured, whatever was clicked (:func:`~cbct_osteo.measure.profile_checks.visible_steps`).

Reference: Treece GM, Gee AH, Mayhew PM, Poole KES. High resolution cortical bone thickness
measurement from clinical CT data. Med Image Anal 2010;14:276-290.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage, optimize, special

from cbct_osteo.measure.geometry import MeasurementFrame
from cbct_osteo.measure.profile_checks import transition_widths, visible_steps
from cbct_osteo.measure.profiles import BorderProfiles, follow_border
from cbct_osteo.measure.uncertainty import (
    AGREEMENT_SIGMAS,
    edge_budget,
    placed_width_sigma,
)
from cbct_osteo.volume import Volume

#: Profile sample step along the measurement line (mm).
PROFILE_STEP_MM = 0.05
#: Half-width (mm) of the window around each click in which the edge is searched.
SEARCH_WINDOW_MM = 1.5
#: Profile kept below the outer edge for the fit (soft-tissue level).
FIT_MARGIN_BELOW_MM = 2.0
#: Profile kept above the endosteal edge: short, so the trabecular level is the local one.
FIT_MARGIN_ABOVE_MM = 0.8
#: Profile sampled beyond the windows, for the model-free step check (mm).
CHECK_MARGIN_MM = 3.0
#: Upper bound of the fitted blur (mm): wider than any CBCT's point-spread function.
MAX_SIGMA_MM = 2.0
#: Smallest fitted width (mm).
MIN_WIDTH_MM = 0.1
#: An endosteal fall wider than this many outer rises is a gradual (porous) endosteal zone: sharp
#: margins gave at most 1.45 (phantom, simulated CBCT, real CT), the simulated porous cortex 2.0-2.2.
MAX_FALL_TO_RISE = 1.7
#: An outer rise wider than this many endosteal falls is not one sharp step either: both edges are
#: seen through the same blur, so a much wider rise means a second interface within the blur below
#: the border (skin and air close under the bone, an oblique or rounded border). The soft-tissue
#: level of the model is then not flat and the fitted outer edge - the border of W, S and I - moves
#: toward it (found on a simulated CBCT whose field's bottom read air 2 mm below the border: rise
#: 1.55 mm against a 0.6 mm fall, outer edge 0.36 mm low; with soft tissue there, as in a patient,
#: the rise is 0.45-0.6 mm). Same bound as the endosteal check, for the same reason.
MAX_RISE_TO_FALL = 1.7
#: Fitted levels may lie this fraction of the scan's value range beyond it (blurred thin cortices).
LEVEL_RANGE_MARGIN = 0.5
#: A fit whose RMS residual exceeds this fraction of the cortical contrast is not trusted.
MAX_RELATIVE_RESIDUAL = 0.35


@dataclass(frozen=True)
class EdgeFit:
    """Result of the edge-assisted cortical width.

    Attributes
    ----------
    width_mm
        Fitted cortical width W (mm), perpendicular to the border in the cross-section.
    uncertainty_mm
        One-sigma total uncertainty of W (mm), from :func:`~cbct_osteo.measure.uncertainty.edge_budget`.
    budget
        The terms of that uncertainty (mm), by name.
    outer_t, inner_t
        Positions (mm) of the outer and endosteal edges on the measurement line (``frame``).
    outer_xyz, inner_xyz
        The same edges as patient points (x, y, z) mm: the proposed border_outer/border_inner.
    outer_sigma_mm
        One-sigma uncertainty of the outer edge's position (mm): the border of S and I.
    sigma_mm
        Fitted Gaussian blur of the profile (mm).
    levels
        Fitted gray levels (soft tissue, cortex, trabecular).
    rms_residual
        Root-mean-square residual of the fit, in gray values.
    start
        Edge positions (outer_t, inner_t) found by the gradient peaks before fitting.
    problems
        Why the fit must not be used (empty when it may).
    cautions
        Why a usable fit is nevertheless uncertain (a gradual, porous endosteal zone; an outer
        border that is not one sharp step).
    outer_cautions
        The subset of ``cautions`` about the outer edge: they make S and I uncertain too.
    steps_visible
        False when the profile shows no endosteal (or outer) step at all: W is then not measurable.
    border
        The border-following facts (slopes, lines used).
    """

    width_mm: float
    uncertainty_mm: float
    outer_t: float
    inner_t: float
    outer_xyz: tuple[float, float, float]
    inner_xyz: tuple[float, float, float]
    sigma_mm: float
    levels: tuple[float, float, float]
    rms_residual: float
    start: tuple[float, float]
    outer_sigma_mm: float = 0.0
    problems: tuple[str, ...] = ()
    cautions: tuple[str, ...] = ()
    outer_cautions: tuple[str, ...] = ()
    steps_visible: bool = True
    budget: dict[str, float] = field(default_factory=dict)
    border: dict[str, Any] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return not self.problems and self.steps_visible

    def details(self) -> dict[str, Any]:
        """The fit's facts for ``Measurement.details`` (JSON-ready)."""
        return {
            "model": "blurred step (Treece et al. 2010)",
            "fitted_sigma_mm": round(self.sigma_mm, 4),
            "levels": [round(v, 2) for v in self.levels],
            "rms_residual": round(self.rms_residual, 3),
            "gradient_start_mm": [round(v, 3) for v in self.start],
            "outer_xyz": [round(v, 4) for v in self.outer_xyz],
            "inner_xyz": [round(v, 4) for v in self.inner_xyz],
            "uncertainty_budget_mm": {k: round(v, 4) for k, v in self.budget.items()},
            **self.border,
        }


def manual_width(frame: MeasurementFrame, border_outer: npt.ArrayLike, border_inner: npt.ArrayLike) -> float:
    """|border_outer − border_inner| projected onto the measurement line (mm)."""
    return abs(frame.position(border_inner) - frame.position(border_outer))


def step_model(params: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The blurred two-edge profile; ``params`` = (L0, L1, L2, a, W, σ), positions in mm."""
    l0, l1, l2, a, width, sigma = params
    profile: np.ndarray = (
        l0 + (l1 - l0) * special.ndtr((t - a) / sigma) + (l2 - l1) * special.ndtr((t - a - width) / sigma)
    )
    return profile


def _gradient_edges(
    t: np.ndarray, profile: np.ndarray, outer_guess: float, inner_guess: float, window: float, smooth_mm: float
) -> tuple[float, float]:
    """Start values: the strongest rise near the outer click, the strongest fall near the inner one."""
    step = t[1] - t[0]
    gradient = ndimage.gaussian_filter1d(profile, sigma=max(smooth_mm / step, 1.0), order=1)
    near_outer = np.abs(t - outer_guess) <= window
    outer = t[near_outer][np.argmax(gradient[near_outer])]
    near_inner = (np.abs(t - inner_guess) <= window) & (t > outer + 0.2)
    if not near_inner.any():
        near_inner = t > outer + 0.2
    inner = t[near_inner][np.argmin(gradient[near_inner])]
    return float(outer), float(inner)


@dataclass(frozen=True)
class _Fit:
    params: np.ndarray  # (L0, L1, L2, a, W, sigma)
    covariance: np.ndarray  # (6, 6); NaN for a fixed cortex level
    start: tuple[float, float]
    rms: float
    lower: np.ndarray
    upper: np.ndarray


def _fit_mean_profile(
    tf: np.ndarray,
    yf: np.ndarray,
    outer0: float,
    inner0: float,
    voxel_mm: float,
    window: float,
    cortex_level: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The six-parameter model on a mean profile; returns params and their lower and upper bounds."""
    below = yf[tf < outer0 - 0.5]
    inside = yf[(tf > outer0) & (tf < inner0)]
    above = yf[tf > inner0 + 0.3]
    l0 = float(np.median(below)) if below.size else float(yf[0])
    l2 = float(np.median(above)) if above.size else float(yf[-1])
    peak = float(np.max(inside)) if inside.size else float(np.max(yf))
    width0 = max(inner0 - outer0, MIN_WIDTH_MM)
    sigma0 = max(0.5 * voxel_mm, 0.1)
    x0 = np.array([l0, peak, l2, outer0, width0, sigma0])
    span = max(abs(peak - l0), abs(peak - l2), 1e-6)
    noise = float(np.median(np.abs(np.diff(yf))) / 0.6745) + 1e-3 * span
    # A thin cortex under a wide blur never reaches its true level, so the cortex level may
    # exceed the observed peak, but not without limit: level and width trade off (the area
    # under the peak is what the data fix), and an unbounded fit collapses to a thin, bright line.
    lower = np.array([-np.inf, peak - 0.2 * span, -np.inf, outer0 - window, MIN_WIDTH_MM, 0.02])
    upper = np.array([np.inf, peak + 0.5 * span, np.inf, outer0 + window, width0 + 2 * window, MAX_SIGMA_MM])
    if cortex_level is not None:  # fixed (a bound of +-0.5 gray values: least_squares needs lower < upper)
        lower[1], upper[1] = cortex_level - 0.5, cortex_level + 0.5
    x0 = np.clip(x0, lower + 1e-9, upper - 1e-9)

    def residuals(p: np.ndarray) -> np.ndarray:
        scaled: np.ndarray = (step_model(p, tf) - yf) / span
        return scaled

    result = optimize.least_squares(
        residuals,
        x0,
        bounds=(lower, upper),
        loss="soft_l1",
        f_scale=max(noise / span, 1e-3),
        x_scale=np.array([1, 1, 1, 0.1, 0.1, 0.1]),
    )
    return result.x, lower, upper


def fit_edges(
    t: np.ndarray,
    profiles: np.ndarray,
    outer_guess: float,
    inner_guess: float,
    voxel_mm: float,
    window: float = SEARCH_WINDOW_MM,
    cortex_level: float | None = None,
) -> _Fit:
    """Fit the blurred-step model to the mean of aligned parallel profiles (lines, positions).

    The lines are aligned on the border (:func:`~cbct_osteo.measure.profiles.follow_border`), so
    their mean is the profile of one cortex with the noise and the trabecular texture averaged
    down; the model is fitted to that mean with a soft-L1 loss (against streaks and outliers).
    How much W depends on which lines were averaged is :func:`jackknife_width`'s job.

    A joint fit of every line with its own trabecular level (variable projection), used before,
    biased thin cortices: with one free level per line the shared edges and blur were chosen to
    absorb the line-to-line texture above the endosteum, and on a 1 mm cortex under a 0.3 mm blur
    (simulated CBCT) the fit narrowed W by 0.3 mm with its cortex level at the bound, where the
    mean-profile fit is within 0.03 mm.

    ``cortex_level`` fixes L1 (gray value) where the data cannot: a cortex thin relative to the
    blur trades width against level, and a level measured on a well-resolved cortex of the same
    scan removes that freedom (the cortical-density constraint of Treece et al.).
    """
    smooth = max(0.2, 0.5 * voxel_mm)
    outer0, inner0 = _gradient_edges(t, profiles.mean(axis=0), outer_guess, inner_guess, window, smooth)
    keep = (t >= outer0 - FIT_MARGIN_BELOW_MM) & (t <= inner0 + FIT_MARGIN_ABOVE_MM)
    tf, lines = t[keep], profiles[:, keep]
    mean = lines.mean(axis=0)
    params, lower, upper = _fit_mean_profile(tf, mean, outer0, inner0, voxel_mm, window, cortex_level)
    rms = _line_rms(params, tf, lines)
    free = [i for i in range(6) if not (cortex_level is not None and i == 1)]
    covariance = np.full((6, 6), np.nan)
    covariance[np.ix_(free, free)] = _covariance(params, tf, mean, free)
    return _Fit(params, covariance, (outer0, inner0), rms, lower, upper)


def _line_rms(params: np.ndarray, t: np.ndarray, lines: np.ndarray) -> float:
    """RMS residual (gray values) of the lines about the fitted model, each with its own trabecular level.

    The marrow and trabeculae above the endosteum differ from line to line; that texture is not a
    misfit of the two-step model, so each line's level above the endosteal edge is its own
    (least squares, the edges and blur kept as fitted) before the residual is taken.
    """
    l0, l1, _, a, width, sigma = params
    rise = special.ndtr((t - a) / sigma)
    fall = special.ndtr((t - a - width) / sigma)
    base = l0 + (l1 - l0) * rise - l1 * fall
    levels = (lines - base) @ fall / max(float(fall @ fall), 1e-12)
    residual = lines - base[None, :] - levels[:, None] * fall[None, :]
    return float(np.sqrt(np.mean(residual**2)))


def _covariance(params: np.ndarray, t: np.ndarray, mean: np.ndarray, free: list[int]) -> np.ndarray:
    """Gauss-Newton covariance of the free parameters from the mean profile's residual (gray values).

    The residual holds the averaged noise and the model's misfit; samples closer than the
    scan's sampling are not independent, which :func:`~cbct_osteo.measure.uncertainty.edge_budget`
    accounts for.
    """
    base = step_model(params, t)
    residual = mean - base
    columns = []
    for i in free:
        h = 1e-6 * max(abs(float(params[i])), 1e-3)
        shifted = params.copy()
        shifted[i] += h
        columns.append((step_model(shifted, t) - base) / h)
    jac = np.column_stack(columns)
    dof = max(residual.size - len(free), 1)
    try:
        cov: np.ndarray = np.linalg.inv(jac.T @ jac) * (float(residual @ residual) / dof)
    except np.linalg.LinAlgError:
        cov = np.full((len(free), len(free)), np.inf)
    return cov


def jackknife_width(
    t: np.ndarray, profiles: np.ndarray, fit: _Fit, voxel_mm: float, groups: int = 4, cortex_level: float | None = None
) -> float:
    """Leave-one-group-out spread of W (mm): how much W depends on which lines were averaged.

    Lines are split into ``groups`` interleaved groups; each refit (on the mean of the other
    groups) starts from the full fit. It captures what the covariance cannot: trabecular
    texture at the endosteum and any mismatch between the model and the anatomy.
    """
    n = profiles.shape[0]
    if n < 2 * groups:
        return 0.0
    outer0, inner0 = fit.params[3], fit.params[3] + fit.params[4]
    keep = (t >= outer0 - FIT_MARGIN_BELOW_MM) & (t <= inner0 + FIT_MARGIN_ABOVE_MM)
    widths = []
    for g in range(groups):
        rest = np.arange(n) % groups != g
        params, *_ = _fit_mean_profile(
            t[keep], profiles[rest][:, keep].mean(axis=0), outer0, inner0, voxel_mm, SEARCH_WINDOW_MM, cortex_level
        )
        widths.append(params[4])
    widths_arr = np.asarray(widths)
    return float(np.sqrt((groups - 1) / groups * np.sum((widths_arr - widths_arr.mean()) ** 2)))


def fit_problems(
    fit: _Fit,
    scan_range: tuple[float, float],
    outer_click: float,
    inner_click: float,
    window: float,
    level_fixed: bool = False,
) -> list[str]:
    """Why a fit must not be used: bounds, implausible levels, residual, edges outside the windows."""
    names = ["soft-tissue level", "cortex level", "trabecular level", "outer edge", "width", "blur"]
    problems: list[str] = []
    for i in (3, 4, 5) if level_fixed else (1, 3, 4, 5):
        span = fit.upper[i] - fit.lower[i] if np.isfinite(fit.upper[i] - fit.lower[i]) else 1.0
        tol = 1e-3 * span
        if fit.params[i] <= fit.lower[i] + tol or fit.params[i] >= fit.upper[i] - tol:
            bound = fit.lower[i] if fit.params[i] <= fit.lower[i] + tol else fit.upper[i]
            problems.append(f"the fitted {names[i]} reached its limit ({bound:.4g})")
    l0, l1, l2 = fit.params[:3]
    if not (l1 > l2 and l1 > l0):
        problems.append(
            f"implausible levels: the cortex ({l1:.0f}) is not brighter than both the soft tissue "
            f"({l0:.0f}) and the trabecular bone ({l2:.0f})"
        )
    lo, hi = scan_range
    # A thin cortex under blur never reaches its true level in the image, so the fitted cortex may
    # lie above the scan's maximum; what is implausible is a level far outside the whole range.
    margin = LEVEL_RANGE_MARGIN * (hi - lo)
    outside = [f"{names[i]} {fit.params[i]:.0f}" for i in range(3) if not lo - margin <= fit.params[i] <= hi + margin]
    if outside:
        problems.append(f"fitted levels outside the scan's range [{lo:.0f}, {hi:.0f}]: {', '.join(outside)}")
    contrast = l1 - max(l0, l2)
    if contrast > 0 and fit.rms > MAX_RELATIVE_RESIDUAL * contrast:
        problems.append(f"poor fit: RMS residual {fit.rms:.0f} is {fit.rms / contrast:.0%} of the cortical contrast")
    a, width = fit.params[3], fit.params[4]
    if abs(a - outer_click) > window:
        problems.append(
            f"the outer edge was found {a - outer_click:+.2f} mm from the placed point, outside the "
            f"\u00b1{window:g} mm searched"
        )
    if abs(a + width - inner_click) > window:
        problems.append(
            f"the endosteal edge was found {a + width - inner_click:+.2f} mm from the placed point, "
            f"outside the \u00b1{window:g} mm searched"
        )
    if not np.all(np.isfinite(fit.params)) or not np.isfinite(fit.covariance[4, 4]):
        problems.append("the edge fit did not converge")
    return problems


def _xyz(point: np.ndarray) -> tuple[float, float, float]:
    """A patient point (3,) as plain floats (x, y, z) mm, for the JSON-ready fit record."""
    x, y, z = (float(v) for v in point)
    return x, y, z


def edge_width(
    volume: Volume,
    frame: MeasurementFrame,
    border_outer: npt.ArrayLike,
    border_inner: npt.ArrayLike,
    resolution_mm: float,
    step_mm: float = PROFILE_STEP_MM,
    window: float = SEARCH_WINDOW_MM,
    cortex_level: float | None = None,
) -> EdgeFit:
    """Edge-assisted cortical width along the measurement line of ``frame``, with its checks.

    Parameters
    ----------
    volume
        The scan.
    frame
        The measurement line at the foramen (:func:`~cbct_osteo.measure.geometry.measurement_frame`).
    border_outer, border_inner
        The user's clicks (patient mm); their positions along the line centre the ±``window``
        mm edge searches, and the fitted width must agree with their distance.
    resolution_mm
        The scan's sampling along the line (mm; :func:`~cbct_osteo.measure.resolution.line_resolution`).
    cortex_level
        Optional fixed cortical gray level (see :func:`fit_edges`).

    Returns
    -------
    EdgeFit
        Always returned; ``usable`` says whether it may replace the placed points, ``problems``
        why not, ``steps_visible`` whether the image shows a cortex there at all.

    Raises
    ------
    ValueError
        For a degenerate line (the two clicks closer than a tenth of a millimetre).
    """
    t_outer, t_inner = frame.position(border_outer), frame.position(border_inner)
    if abs(t_inner - t_outer) < MIN_WIDTH_MM:
        raise ValueError("border_outer and border_inner coincide on the measurement line")
    low, high = min(t_outer, t_inner), max(t_outer, t_inner)
    reach = window + CHECK_MARGIN_MM
    t = np.arange(low - reach, high + reach, step_mm)
    border: BorderProfiles = follow_border(volume, frame, t, t_outer, window, resolution_mm)
    steps = visible_steps(t, border.profiles, t_outer, t_inner)
    fit = fit_edges(t, border.profiles, t_outer, t_inner, resolution_mm, window, cortex_level)
    l0, l1, l2, outer, width_line, sigma = (float(v) for v in fit.params)
    scan_range = (float(np.min(volume.voxels)), float(np.max(volume.voxels)))
    problems = fit_problems(fit, scan_range, t_outer, t_inner, window, level_fixed=cortex_level is not None)
    # W perpendicular to the border in the cross-section (INDICES.md: the measurement line is
    # perpendicular to the inferior border line of the cross-section): a line crossing a border
    # tilted bucco-lingually by atan(c) sees W / cos. A slope along the arch is not corrected:
    # the cross-section cuts such a cortex obliquely and W is what the cross-section shows (the
    # 3D thickness perpendicular to the border is kept in the details).
    tilt = float(np.hypot(1.0, border.slope_across))
    width = width_line / tilt
    jack = jackknife_width(t, border.profiles, fit, resolution_mm, cortex_level=cortex_level) / tilt
    budget = edge_budget(
        fit.covariance[4, 4] / tilt**2, step_mm, resolution_mm, jack, width, border.slope_across, border.slope_se[1]
    )
    total = float(np.sqrt(sum(v * v for v in budget.values())))
    placed = abs(t_inner - t_outer) / tilt
    combined = float(np.hypot(total, placed_width_sigma(resolution_mm)))
    if not problems and abs(width - placed) > AGREEMENT_SIGMAS * combined:
        problems.append(
            f"the fitted width {width:.2f} mm disagrees with the placed points ({placed:.2f} mm) by more "
            f"than {AGREEMENT_SIGMAS:g} combined uncertainties ({AGREEMENT_SIGMAS * combined:.2f} mm)"
        )
    step_problem = steps.problem()
    inner = outer + width_line
    rise, fall = transition_widths(t, border.profiles.mean(axis=0), outer, outer + width_line)
    cautions = []
    if np.isfinite(rise) and np.isfinite(fall) and fall > MAX_FALL_TO_RISE * max(rise, step_mm):
        cautions.append(
            f"the endosteal margin is gradual ({fall:.1f} mm from cortex to trabecular bone against "
            f"{rise:.1f} mm for the outer border): a porous, trabecularised endosteal zone (C2/C3); W to "
            "its inner edge may be larger than the fitted width"
        )
    outer_cautions = []
    if np.isfinite(rise) and np.isfinite(fall) and rise > MAX_RISE_TO_FALL * max(fall, step_mm):
        outer_cautions.append(
            f"the outer border is not one sharp step ({rise:.1f} mm from soft tissue to cortex against "
            f"{fall:.1f} mm for the endosteal margin): another interface (skin, air) lies within the blur below "
            "the border, so the fitted outer edge, and W, S and I measured from it, may be off by several "
            "tenths of a millimetre"
        )
    cautions.extend(outer_cautions)
    correlation = max(resolution_mm / step_mm, 1.0)
    var_outer = fit.covariance[3, 3] * correlation
    outer_sigma = float(np.hypot(np.sqrt(var_outer) if np.isfinite(var_outer) else np.inf, budget["sampling"]))
    return EdgeFit(
        width_mm=width,
        uncertainty_mm=total,
        outer_t=outer,
        inner_t=inner,
        outer_xyz=_xyz(frame.point(outer)),
        inner_xyz=_xyz(frame.point(inner)),
        sigma_mm=sigma,
        levels=(l0, l1, l2),
        rms_residual=fit.rms,
        start=fit.start,
        outer_sigma_mm=outer_sigma,
        cautions=tuple(cautions),
        outer_cautions=tuple(outer_cautions),
        problems=tuple(problems if step_problem is None else [step_problem, *problems]),
        steps_visible=step_problem is None,
        budget=budget,
        border={
            **border.details(),
            "width_along_line_mm": round(width_line, 4),
            "transition_mm": {"outer": round(rise, 3), "endosteal": round(fall, 3)},
            **({"cortex_level_fixed": round(cortex_level, 2)} if cortex_level is not None else {}),
            "width_perpendicular_3d_mm": round(
                width_line / float(np.sqrt(1.0 + border.slope_across**2 + border.slope_along**2)), 4
            ),
        },
    )
