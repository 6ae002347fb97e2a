"""Model-free looks at the aligned cortical profiles: is a cortex there, and is its endosteal margin sharp?

The blurred-step fit (:mod:`cbct_osteo.measure.cortical`) assumes two sharp steps. These checks
test that assumption on the data alone, before and after the fit: :func:`visible_steps` (both
steps must exist at all, or W is not measurable) and :func:`transition_widths` (the endosteal
fall must be about as steep as the outer rise, or the endosteal zone is gradual, porous).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: A step is "visible" when it exceeds this many standard errors of the line-to-line scatter ...
STEP_SIGMAS = 4.0
#: ... and this fraction of the outer (soft tissue to cortex) contrast.
MIN_ENDOSTEAL_CONTRAST = 0.1


@dataclass(frozen=True)
class StepCheck:
    """Model-free look at the aligned profiles: are both borders of a cortex there at all?"""

    outer_contrast: float
    endosteal_contrast: float
    endosteal_se: float
    outer_se: float

    def problem(self) -> str | None:
        """Why the profile shows no measurable cortex, or ``None``."""
        if not self.outer_contrast > STEP_SIGMAS * self.outer_se or self.outer_contrast <= 0:
            return (
                f"no outer border step: the cortex is not brighter than the soft tissue below it "
                f"(contrast {self.outer_contrast:.0f} \u00b1 {self.outer_se:.0f} gray values)"
            )
        if (
            self.endosteal_contrast <= STEP_SIGMAS * self.endosteal_se
            or self.endosteal_contrast < MIN_ENDOSTEAL_CONTRAST * self.outer_contrast
        ):
            return (
                f"no endosteal step: the bone above the placed inner margin is as bright as the cortex "
                f"(cortex minus bone above {self.endosteal_contrast:.0f} \u00b1 {self.endosteal_se:.0f} gray values, "
                f"outer contrast {self.outer_contrast:.0f}), so the endosteal margin cannot be seen"
            )
        return None


def visible_steps(t: np.ndarray, profiles: np.ndarray, outer_t: float, inner_t: float) -> StepCheck:
    """Cortex, soft-tissue and trabecular levels per line around the placed margins.

    The cortex level of each line is its mean over the middle half of [outer, inner]; the soft
    tissue its median 1–3 mm below the outer margin; the bone above its median 1–3 mm above the
    inner margin. Contrasts are medians over lines, their standard errors from the line-to-line
    scatter (which includes trabecular texture), so the check needs no noise model.
    """
    low, high = min(outer_t, inner_t), max(outer_t, inner_t)
    quarter = max((high - low) / 4.0, 0.5 * (t[1] - t[0]))
    middle = (t >= low + quarter) & (t <= high - quarter)
    if not middle.any():
        middle = np.abs(t - (low + high) / 2) <= (t[1] - t[0])
    below = (t >= low - 3.0) & (t <= low - 1.0)
    above = (t >= high + 1.0) & (t <= high + 3.0)
    cortex = profiles[:, middle].mean(axis=1)
    soft = np.median(profiles[:, below], axis=1) if below.any() else profiles[:, 0]
    bone = np.median(profiles[:, above], axis=1) if above.any() else profiles[:, -1]
    n = profiles.shape[0]

    def contrast(d: np.ndarray) -> tuple[float, float]:
        spread = 1.4826 * float(np.median(np.abs(d - np.median(d)))) if n > 2 else float(np.abs(d).max())
        return float(np.median(d)), spread / np.sqrt(n) + 1e-6 * (abs(float(np.median(d))) + 1.0)

    outer_c, outer_se = contrast(cortex - soft)
    inner_c, inner_se = contrast(cortex - bone)
    return StepCheck(outer_c, inner_c, inner_se, outer_se)


def transition_widths(t: np.ndarray, profile: np.ndarray, outer_t: float, inner_t: float) -> tuple[float, float]:
    """20-80 % widths (mm) of the rise into the cortex and of the fall out of it, on the mean profile.

    Both edges are seen through the same blur, so on a cortex with a sharp endosteal margin they
    are about equally steep; a fall much wider than the rise is a gradual, porous (trabecularised)
    endosteal zone, which the two-step model cannot represent (INDICES.md CTCI C2/C3).
    """
    smooth = ndimage.gaussian_filter1d(profile, 2.0)
    inside = (t >= outer_t - 0.5) & (t <= inner_t + 0.5)
    if not inside.any():
        return float("nan"), float("nan")
    peak_i = int(np.flatnonzero(inside)[np.argmax(smooth[inside])])
    soft = (
        float(np.median(smooth[(t >= outer_t - 3.0) & (t <= outer_t - 1.0)]))
        if np.any(t <= outer_t - 1.0)
        else smooth[0]
    )
    deep = (t >= inner_t + 1.5) & (t <= inner_t + 3.5)
    bone = float(np.median(smooth[deep])) if deep.any() else float(smooth[-1])
    peak = float(smooth[peak_i])

    def crossing(levels: np.ndarray, start: int, step: int, value: float) -> float:
        i = start
        while 0 <= i + step < len(levels) and (levels[i + step] - value) * (levels[start] - value) > 0:
            i += step
        return float(t[min(max(i + step, 0), len(t) - 1)])

    rise = abs(
        crossing(smooth, peak_i, -1, soft + 0.8 * (peak - soft))
        - crossing(smooth, peak_i, -1, soft + 0.2 * (peak - soft))
    )
    fall = abs(
        crossing(smooth, peak_i, 1, bone + 0.2 * (peak - bone))
        - crossing(smooth, peak_i, 1, bone + 0.8 * (peak - bone))
    )
    return rise, fall
