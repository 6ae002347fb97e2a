"""An image check of the placed foramen margins (S and I): is each click where the image shows the margin?

S and I are measured from the margins as placed (``foramen_superior``, ``foramen_inferior``); only the
border end is edge-refined. A margin clicked 0.5 mm off moves S or I by up to 0.5 mm, so an unchecked
click can be silently wrong by more than the 0.3 mm the program must never be silently wrong by.

The check: along the measurement line (averaged with its neighbours 0.25 mm across the
cross-section and along the arch, so one noisy voxel does not decide) the foramen is a dark lumen
between bone. Its two walls are the strongest gray-value rises leaving the lumen, found near each
click on the smoothed profile (gradient peak), located where the profile crosses halfway between
the lumen's floor and the bone beyond. The wall is *not* used as the margin: a small, curved lumen
seen through a blur reads smaller than it is (a dark region whose boundary is convex seen from
inside, by about sigma^2 / (2 R) for a round channel and more where the channel runs obliquely
through the plate). On the program's simulated CBCT, on lines through the true foramen centre, the
true margin lies 0.07-0.24 mm outside the image's wall at the superior margin and 0.17-0.40 mm at the
inferior (benchmarks/RESULTS.md); ``WALL_TO_MARGIN_MM`` bounds it by 0-0.4 mm for both.

Two things limit how well the image confirms a click, and both enter its one-sigma error:

- where the true margin lies relative to the wall (``WALL_TO_MARGIN_MM``, taken as uniform over that
  range): a click ``x`` mm outside the wall is off the truth by ``x - m`` on average (``m`` the range's
  middle) with the range's spread about it;
- where the line crosses the foramen: the margins lie on the line through the placed foramen
  centre, and a channel crossed obliquely has margins that move with that line. The wall is found
  again on lines moved by the centre's placement error (``PLACEMENT_SD_MM``) across the
  cross-section and along the arch; the root mean square of the four moves is that term.

Combined with the border end's error this is the one-sigma error of S or I
(:mod:`cbct_osteo.measure.case` marks it "uncertain" above 0.15 mm, as for W). A click outside the
range, a lumen the image does not show, or a wall not seen on the moved lines confirms nothing: S or
I is then "uncertain" with the click's placement error. The value is never changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from cbct_osteo.measure.geometry import MeasurementFrame
from cbct_osteo.measure.profiles import sample_lines
from cbct_osteo.measure.uncertainty import PLACEMENT_SD_MM
from cbct_osteo.volume import Volume

#: Offsets (mm) of the averaged lines, across the cross-section and along the arch (a plus shape).
NEIGHBOUR_MM = 0.25
#: Profile sampling step (mm) and smoothing of the profile (mm, at least half a voxel). Where the
#: channel is crossed obliquely its edge is wide along the line and noise moves the wall: on a
#: synthetic 1.3 mm channel rising 35 deg (blur 0.4 mm, noise 1/20 of the contrast) the wall's SD
#: is 0.07 mm at 0.15 mm smoothing and 0.04 mm at 0.3 mm, which moves a straight channel's wall
#: 0.02 mm further inside (tests/measure/test_foramen_margins.py builds that channel).
STEP_MM = 0.05
MIN_SMOOTH_MM = 0.3
#: The wall is searched this far (mm) on either side of the click: two sigmas of a click (0.6 mm)
#: and the wall's inward offset.
SEARCH_MM = 1.0
#: The wall's half-level crossing is searched this far (mm) from its gradient peak.
HALF_LEVEL_REACH_MM = 0.5
#: Where the true margin lies relative to the image's wall (mm, outward from the lumen): 0 to 0.4 mm
#: outside. Calibrated on the accuracy study (lines through the true centre of the simulated CBCT:
#: 0.07-0.24 mm at the superior margin, 0.17-0.40 mm at the inferior, where the channel rises
#: obliquely to the foramen; one range for both, not one tuned per margin). A real scan's wall may
#: differ, so this bounds the check and is never a correction of the value.
WALL_TO_MARGIN_MM = (0.0, 0.4)
#: The lumen must be darker than the bone beyond the wall by this many noise SDs to count as seen.
MIN_CONTRAST_SDS = 4.0


@dataclass(frozen=True)
class MarginCheck:
    """The image's wall of the foramen near one placed margin, and how well it confirms the click.

    Attributes
    ----------
    placed_t, image_t
        Positions (mm) on the measurement line (from the foramen centre, toward the foramen) of the
        click and of the image wall (``None`` when the image shows no wall near the click).
    outward_mm
        How far the click lies outside the image wall (mm; negative: inside, in the lumen).
    image_xyz
        The image wall as a patient point (mm), for drawing it next to the click.
    line_sd_mm
        Root mean square move (mm) of the wall when the line moves by the centre's placement error
        across the cross-section and along the arch (``None`` when a moved line shows no wall).
    problem
        Why the image does not confirm the click (empty when it does).
    """

    placed_t: float
    image_t: float | None
    image_xyz: tuple[float, float, float] | None
    outward_mm: float | None
    line_sd_mm: float | None
    problem: str

    @property
    def wall_sd_mm(self) -> float | None:
        """One-sigma error (mm) of a confirmed click against the true margin: offset and spread of the range."""
        if self.outward_mm is None or self.problem:
            return None
        low, high = WALL_TO_MARGIN_MM
        return math.hypot(self.outward_mm - 0.5 * (low + high), (high - low) / math.sqrt(12.0))

    @property
    def sigma_mm(self) -> float | None:
        """One-sigma error (mm) of the placed margin on the image's evidence; None when not confirmed."""
        wall = self.wall_sd_mm
        if wall is None or self.line_sd_mm is None:
            return None
        return math.hypot(wall, self.line_sd_mm)

    def details(self) -> dict[str, Any]:
        """JSON-ready facts for the measurement's details."""

        def mm(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "placed_position_mm": mm(self.placed_t),
            "image_wall_position_mm": mm(self.image_t),
            "image_wall_mm": None if self.image_xyz is None else [round(v, 3) for v in self.image_xyz],
            "click_outside_image_wall_mm": mm(self.outward_mm),
            "true_margin_from_wall_mm": list(WALL_TO_MARGIN_MM),
            "wall_moves_with_line_mm": mm(self.line_sd_mm),
            "margin_sigma_mm": mm(self.sigma_mm),
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
    return _half_level(t, level, index, 0.5 * (float(inside.min()) + float(beyond.mean())))


def _half_level(t: np.ndarray, level: np.ndarray, index: int, half: float) -> float:
    """Where the smoothed profile crosses ``half`` nearest the gradient peak at ``index`` (mm).

    Located on the gray value, not on the gradient: where the channel is crossed obliquely the edge
    is wide along the line and its gradient peak flat, so noise moves the peak by tenths of a
    millimetre, while the level crossing moves by noise / slope (hundredths).
    """
    reach = int(round(HALF_LEVEL_REACH_MM / STEP_MM))
    low, high = max(index - reach, 0), min(index + reach, len(t) - 1)
    above = level[low : high + 1] >= half
    crossings = np.flatnonzero(above[1:] != above[:-1]) + low
    if crossings.size == 0:
        return float(t[index])
    k = int(crossings[np.argmin(np.abs(crossings + 0.5 - index))])
    fraction = (half - level[k]) / (level[k + 1] - level[k])
    return float(t[k] + fraction * (t[k + 1] - t[k]))


def _line_sd(
    volume: Volume, frame: MeasurementFrame, placed: float, outward: float, resolution_mm: float, image_t: float
) -> float | None:
    """Root mean square move (mm) of the wall when the line moves by the centre's placement error, or None."""
    moves = []
    for vector in (frame.across, frame.tangent):
        for sign in (-1.0, 1.0):
            origin = frame.origin + sign * PLACEMENT_SD_MM * vector
            moved = MeasurementFrame(origin, frame.direction, frame.across, frame.tangent, frame.in_plane)
            wall = _wall(volume, moved, placed, outward, resolution_mm)
            if wall is None:
                return None
            moves.append(wall - image_t)
    return float(np.sqrt(np.mean(np.square(moves))))


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
            placed, None, None, None, None, "the image shows no wall of a dark foramen lumen within 1 mm of the click"
        )
    off = outward * (placed - image_t)
    low, high = WALL_TO_MARGIN_MM
    line_sd = _line_sd(volume, frame, placed, outward, resolution_mm, image_t)
    problem = ""
    if off < low:
        problem = f"the click lies {-off:.2f} mm inside the foramen's wall as the image shows it (in the lumen)"
    elif off > high:
        problem = f"the click lies {off:.2f} mm outside the foramen's wall as the image shows it (in bone)"
    elif line_sd is None:
        problem = (
            f"the foramen's wall is not seen on lines {PLACEMENT_SD_MM:g} mm beside this one, so the margin "
            "depends on where the foramen centre is placed"
        )
    x, y, z = (float(v) for v in frame.point(image_t))
    return MarginCheck(placed, image_t, (x, y, z), off, line_sd, problem)
