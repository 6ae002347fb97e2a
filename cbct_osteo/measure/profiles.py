"""Gray-value profiles across the inferior cortex that follow the local border.

The edge fit averages many parallel lines (across the cross-section and along the arch) to beat
noise and trabecular texture. That only works when every line meets the border at the same
position: on a border that slopes along the arch (or bucco-lingually) a line 4 mm along the arch
sees it up to 4 mm x tan(slope) higher, and a plain average smears both edges and biases W.

So the border is followed: on every line the outer edge (the strongest rise from soft tissue into
the cortex) is located, a plane ``t_edge = t0 + b * along + c * across`` is fitted to those edges
robustly, lines that disagree with the plane (they do not show the border where their neighbours
do: a foramen, a notch, a streak) are dropped, and every kept line is resampled shifted by the
plane so its edges align with the centre line's. When the border is not planar over the window
(the plane leaves large residuals) the window along the arch shrinks until it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from cbct_osteo.measure.geometry import MeasurementFrame
from cbct_osteo.measure.sampling import sample_points
from cbct_osteo.volume import Volume

#: Parallel-line offsets (mm) across the cross-section (buccolingual): the rounded inferior border
#: is still nearly flat within +-0.5 mm of the measurement line.
ACROSS_OFFSETS_MM: tuple[float, ...] = (-0.5, -0.25, 0.0, 0.25, 0.5)
#: Half-widths (mm) of the window along the arch, tried widest first. The cortex width changes
#: slowly along the arch; +-4 mm averages most trabecular texture away near the endosteum.
ALONG_HALF_WIDTHS_MM: tuple[float, ...] = (4.0, 2.0, 1.0)
ALONG_STEP_MM = 0.5
#: A line whose outer edge is further than this from the fitted plane is not used (mm).
MAX_LINE_DEVIATION_MM = 0.4
#: The plane is accepted when the kept lines' edges scatter less than this around it (mm) ...
MAX_PLANE_SCATTER_MM = 0.2
#: ... and at least this fraction of the lines is kept.
MIN_KEPT_FRACTION = 0.6
#: Steepest border slope followed (degrees); beyond it the line is far from perpendicular.
MAX_SLOPE_DEG = 40.0


@dataclass(frozen=True)
class BorderProfiles:
    """Aligned profiles and the local border geometry they were aligned to.

    Attributes
    ----------
    t
        Positions (mm) on the measurement line (from the foramen centre, positive toward it).
    profiles
        (lines, positions) gray values, each line shifted so the border sits at the same ``t``.
    across, along
        Each kept line's offset (mm) across the cross-section and along the arch.
    slope_along, slope_across
        Fitted border slopes dt/d(along) and dt/d(across) (dimensionless: mm per mm).
    slope_se
        Standard errors of (slope_along, slope_across).
    plane_scatter_mm
        Robust SD of the kept lines' edges around the plane (mm).
    along_half_mm
        Half-width of the window along the arch actually used (mm).
    dropped
        Number of lines left out because their edge disagreed with the plane.
    """

    t: np.ndarray
    profiles: np.ndarray
    across: np.ndarray
    along: np.ndarray
    slope_along: float
    slope_across: float
    slope_se: tuple[float, float]
    plane_scatter_mm: float
    along_half_mm: float
    dropped: int

    def details(self) -> dict[str, Any]:
        """The border-following facts for the measurement's details (JSON-ready)."""
        return {
            "border_slope_along_deg": round(float(np.degrees(np.arctan(self.slope_along))), 2),
            "border_slope_across_deg": round(float(np.degrees(np.arctan(self.slope_across))), 2),
            "lines_used": int(self.profiles.shape[0]),
            "lines_dropped": int(self.dropped),
            "along_window_mm": [-self.along_half_mm, self.along_half_mm],
            "across_window_mm": [float(min(ACROSS_OFFSETS_MM)), float(max(ACROSS_OFFSETS_MM))],
            "border_plane_scatter_mm": round(self.plane_scatter_mm, 3),
        }


def line_grid(along_half_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """(across, along) offsets (mm) of every line of the grid, flattened."""
    along = np.arange(-along_half_mm, along_half_mm + 1e-9, ALONG_STEP_MM)
    oa, ot = np.meshgrid(np.asarray(ACROSS_OFFSETS_MM), along, indexing="ij")
    return oa.ravel(), ot.ravel()


def sample_lines(
    volume: Volume,
    frame: MeasurementFrame,
    t: np.ndarray,
    across: np.ndarray,
    along: np.ndarray,
    shift: np.ndarray | None = None,
) -> np.ndarray:
    """Gray values (lines, positions) on parallel lines, line ``i`` sampled at ``t + shift[i]``."""
    offsets = across[:, None] * frame.across + along[:, None] * frame.tangent  # (L, 3)
    tt = np.asarray(t, float)[None, :] + (0.0 if shift is None else np.asarray(shift, float)[:, None])
    points = frame.origin + offsets[:, None, :] + tt[:, :, None] * frame.direction
    return sample_points(volume, points)


def rising_edges(
    t: np.ndarray, profiles: np.ndarray, centre: np.ndarray, half_window: np.ndarray, smooth_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per line: position (mm) of the strongest rise within ``centre +- half_window``, and its gradient."""
    step = float(t[1] - t[0])
    gradient = ndimage.gaussian_filter1d(profiles, sigma=max(smooth_mm / step, 1.0), axis=1, order=1)
    inside = np.abs(t[None, :] - centre[:, None]) <= half_window[:, None]
    masked = np.where(inside, gradient, -np.inf)
    index = np.argmax(masked, axis=1)
    return t[index], masked[np.arange(len(index)), index]


def _robust_plane(
    across: np.ndarray, along: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``edges ~ t0 + b along + c across`` by iterated least squares with outlier rejection.

    Returns the coefficients (t0, b, c), their standard errors, the kept mask and the robust scatter.
    """
    design = np.column_stack([np.ones_like(along), along, across])
    keep = np.ones(len(edges), bool)
    coef = np.zeros(3)
    scatter = 0.0
    for _ in range(4):
        coef, *_ = np.linalg.lstsq(design[keep], edges[keep], rcond=None)
        residual = edges - design @ coef
        scatter = float(1.4826 * np.median(np.abs(residual[keep]))) if keep.any() else np.inf
        new_keep = np.abs(residual) <= max(3.0 * scatter, MAX_LINE_DEVIATION_MM / 2, 1e-6)
        new_keep &= np.abs(residual) <= MAX_LINE_DEVIATION_MM
        if new_keep.sum() < 4 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    residual = edges[keep] - design[keep] @ coef
    dof = max(int(keep.sum()) - 3, 1)
    try:
        cov = np.linalg.inv(design[keep].T @ design[keep]) * float(residual @ residual) / dof
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        se = np.full(3, np.inf)
    return coef, se, keep, scatter


def follow_border(
    volume: Volume, frame: MeasurementFrame, t: np.ndarray, outer_guess: float, window_mm: float, resolution_mm: float
) -> BorderProfiles:
    """Profiles aligned on the local border around the measurement line (see the module doc).

    Parameters
    ----------
    t
        Positions (mm) to sample on each line.
    outer_guess
        The user's outer-border click, as a position on the line (mm).
    window_mm
        Half-width of the edge search around the click on the centre line (mm).
    resolution_mm
        Sampling along the line (voxel extent, mm): sets the gradient smoothing.
    """
    limit = float(np.tan(np.radians(MAX_SLOPE_DEG)))
    smooth = max(0.2, 0.5 * resolution_mm)
    last: BorderProfiles | None = None
    for half in ALONG_HALF_WIDTHS_MM:
        across, along = line_grid(half)
        raw = sample_lines(volume, frame, t, across, along)
        centre_line = (across == 0.0) & (along == 0.0)
        centre_edge, _ = rising_edges(t, raw[centre_line], np.array([outer_guess]), np.array([window_mm]), smooth)
        reach = window_mm / 2 + limit * np.hypot(along, across)  # a slope up to MAX_SLOPE_DEG is followed
        edges, _ = rising_edges(t, raw, np.full(len(raw), centre_edge[0]), reach, smooth)
        coef, se, keep, scatter = _robust_plane(across, along, edges)
        coef[1:] = np.clip(coef[1:], -limit, limit)
        last = BorderProfiles(
            t,
            raw,
            across,
            along,
            float(coef[1]),
            float(coef[2]),
            (float(se[1]), float(se[2])),
            scatter,
            half,
            int((~keep).sum()),
        )
        if keep.mean() >= MIN_KEPT_FRACTION and scatter <= MAX_PLANE_SCATTER_MM:
            break
    assert last is not None
    across, along = last.across, last.along
    shift = last.slope_along * along + last.slope_across * across
    coef_keep = np.abs(edges - (coef[0] + shift)) <= MAX_LINE_DEVIATION_MM
    if coef_keep.sum() < 3:  # nothing agrees: keep the centre line's neighbourhood unshifted
        coef_keep = np.hypot(along, across) <= 0.5
        shift = np.zeros_like(shift)
    aligned = sample_lines(volume, frame, t, across[coef_keep], along[coef_keep], shift[coef_keep])
    return BorderProfiles(
        t,
        aligned,
        across[coef_keep],
        along[coef_keep],
        last.slope_along,
        last.slope_across,
        last.slope_se,
        last.plane_scatter_mm,
        last.along_half_mm,
        int((~coef_keep).sum()),
    )
