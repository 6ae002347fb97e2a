"""An image check of the placed foramen margins (S and I): is each click where the image shows the margin?

S and I are measured from the margins as placed (``foramen_superior``, ``foramen_inferior``); only the
border end is edge-refined. A margin clicked 0.5 mm off moves S or I by up to 0.5 mm, so an unchecked
click can be silently wrong by more than the 0.3 mm the program must never be silently wrong by.

The check: along the measurement line (averaged with its neighbours 0.25 mm across the
cross-section and along the arch, so one noisy voxel does not decide) the foramen is a dark lumen
between bone. Its two walls are the strongest gray-value rises leaving the lumen, found near each
click on the smoothed profile (gradient peak). The edge is *not* used as the margin: for a small,
curved lumen seen through a blur the gradient peaks of both walls lie inside the true margins (a
dark region whose boundary is convex seen from inside reads smaller than it is, by about
sigma^2 / (2 R) for a round channel and more where the channel runs obliquely through the plate;
on the program's simulated CBCT the image walls lie 0.0-0.25 mm inside the truth, never more than
0.02 mm outside). So the image bounds the margin from inside, and a click is accepted when it lies
no more than ``INSIDE_TOLERANCE_MM`` inside the image wall (a click in the dark lumen is not on the
margin) and no more than ``OUTSIDE_TOLERANCE_MM`` outside it (beyond that it lies in bone). Clicks
outside that window, or a lumen the image does not show, make S or I "uncertain" with both numbers;
the value is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from cbct_osteo.measure.geometry import MeasurementFrame
from cbct_osteo.measure.profiles import sample_lines
from cbct_osteo.volume import Volume

#: Offsets (mm) of the averaged lines, across the cross-section and along the arch (a plus shape).
NEIGHBOUR_MM = 0.25
#: Profile sampling step (mm) and smoothing of its gradient (mm, at least half a voxel).
STEP_MM = 0.05
MIN_SMOOTH_MM = 0.15
#: The wall is searched this far (mm) on either side of the click: two sigmas of a click (0.6 mm)
#: and the wall's inward offset.
SEARCH_MM = 1.0
#: A click this far inside the image wall (mm, toward the lumen) is in the lumen: about two
#: sigmas of the wall's position (interpolation and noise on the averaged profile).
INSIDE_TOLERANCE_MM = 0.1
#: A click this far outside the image wall (mm) may still be on the true margin (the wall reads
#: inside the truth, see the module docstring), but no further: this is the 0.3 mm the program
#: must never be silently wrong by.
OUTSIDE_TOLERANCE_MM = 0.3
#: The lumen must be darker than the bone beyond the wall by this many noise SDs to count as seen.
MIN_CONTRAST_SDS = 4.0


@dataclass(frozen=True)
class MarginCheck:
    """The image's wall of the foramen near one placed margin.

    Attributes
    ----------
    placed_t, image_t
        Positions (mm) on the measurement line (from the foramen centre, toward the foramen) of the
        click and of the image wall (``None`` when the image shows no wall near the click).
    outward_mm
        How far the click lies outside the image wall (mm; negative: inside, in the lumen).
    problem
        Why the click is not confirmed (empty when it is).
    """

    placed_t: float
    image_t: float | None
    outward_mm: float | None
    problem: str

    def details(self) -> dict[str, Any]:
        """JSON-ready facts for the measurement's details."""
        return {
            "placed_position_mm": round(self.placed_t, 3),
            "image_wall_position_mm": None if self.image_t is None else round(self.image_t, 3),
            "click_outside_image_wall_mm": None if self.outward_mm is None else round(self.outward_mm, 3),
            "accepted_window_mm": [-INSIDE_TOLERANCE_MM, OUTSIDE_TOLERANCE_MM],
        }


def _wall(volume: Volume, frame: MeasurementFrame, placed: float, outward: float, resolution_mm: float) -> float | None:
    """Position (mm) on the measurement line of the lumen wall nearest a click, or None when none is seen."""
    reach = abs(placed) + SEARCH_MM + 1.0
    t = np.arange(-reach, reach + STEP_MM / 2, STEP_MM)
    n = NEIGHBOUR_MM
    across = np.array([0.0, -n, n, 0.0, 0.0])
    along = np.array([0.0, 0.0, 0.0, -n, n])
    lines = sample_lines(volume, frame, t, across, along)
    profile = lines.mean(axis=0)
    smooth = max(MIN_SMOOTH_MM, 0.5 * resolution_mm) / STEP_MM
    gradient = outward * ndimage.gaussian_filter1d(profile, smooth, order=1)  # rise leaving the lumen
    level = ndimage.gaussian_filter1d(profile, smooth)
    # Between the lumen (toward the centre) and the bone: the search never crosses the centre.
    window = (np.abs(t - placed) <= SEARCH_MM) & (outward * t > 0.0)
    if not window.any():
        return None
    index = int(np.argmax(np.where(window, gradient, -np.inf)))
    image_t = float(t[index])
    edge_of_window = not window[max(index - 1, 0)] or not window[min(index + 1, len(t) - 1)]
    inside = level[(outward * (t - image_t) < 0) & (outward * t >= 0)]
    beyond = level[(outward * (t - image_t) > 0.3) & (outward * (t - image_t) < 0.8)]
    noise = float(np.std(lines - profile, axis=0).mean()) / np.sqrt(len(lines))
    contrast = (float(beyond.mean()) - float(inside.min())) if inside.size and beyond.size else 0.0
    if edge_of_window or gradient[index] <= 0 or contrast < MIN_CONTRAST_SDS * max(noise, 1e-9):
        return None
    return image_t


def check_margin(
    volume: Volume, frame: MeasurementFrame, margin_xyz: np.ndarray, superior: bool, resolution_mm: float
) -> MarginCheck:
    """Compare one placed foramen margin with the lumen wall the image shows near it.

    Parameters
    ----------
    margin_xyz
        The placed ``foramen_superior`` (``superior=True``) or ``foramen_inferior`` (patient mm).
    resolution_mm
        Sampling along the line (voxel extent, mm): sets the gradient smoothing.
    """
    placed = frame.position(margin_xyz)
    outward = 1.0 if superior else -1.0
    image_t = _wall(volume, frame, placed, outward, resolution_mm)
    if image_t is None:
        return MarginCheck(
            placed, None, None, "the image shows no wall of a dark foramen lumen within 1 mm of the click"
        )
    off = outward * (placed - image_t)
    problem = ""
    if off < -INSIDE_TOLERANCE_MM:
        problem = f"the click lies {-off:.2f} mm inside the foramen's lumen as the image shows it"
    elif off > OUTSIDE_TOLERANCE_MM:
        problem = f"the click lies {off:.2f} mm outside the foramen's wall as the image shows it (in bone)"
    return MarginCheck(placed, image_t, off, problem)
