"""All measurements of one scan from its landmarks: ``measure_case``.

Per side: W (cortical width), S and I (foramen margin heights), TRAB_MEAN, TRAB_SD, BV_TV, FD
(2D) and FD_3D. With ``refine=True`` (the default, ``"method": "edge"``) the cortical margins are
found by the edge fit along the measurement line, so a click 0.5 mm off still gives the true
width, and S and I are measured from the refined outer border; ``refine=False`` takes the
landmarks as placed (``"manual"``). The foramen margins are always used as placed, and checked
against the lumen the image shows (:mod:`cbct_osteo.measure.foramen_margins`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from cbct_osteo.io.landmarks_file import SIDES, LandmarkSet, SideLandmarks
from cbct_osteo.measure.cortical import EdgeFit, edge_width, manual_width
from cbct_osteo.measure.definitions import MEASUREMENT_IDS, TRABECULAR_IDS, UNITS
from cbct_osteo.measure.foramen import height_above_border
from cbct_osteo.measure.foramen_margins import WALL_TO_MARGIN_MM, MarginCheck, check_margin
from cbct_osteo.measure.geometry import MeasurementFrame, arch_from_points, measurement_frame
from cbct_osteo.measure.margin_method import CORTICAL_IDS
from cbct_osteo.measure.quantity import NOT_MEASURABLE, OK, UNCERTAIN, Measurement, worst_quality
from cbct_osteo.measure.resolution import cortical_quality, line_resolution
from cbct_osteo.measure.roi_placement import mark_misplaced, roi_placement
from cbct_osteo.measure.trabecular import trabecular_measurements
from cbct_osteo.measure.uncertainty import height_sigma, placed_point_sigma, placed_width_sigma
from cbct_osteo.measure.validation import MIN_LINE_MM, Issue, missing_inputs, validate_landmarks
from cbct_osteo.reformat.arch import ArchCurve
from cbct_osteo.volume import Volume

NO_ARCH_NOTE = "no dental arch: the line was not projected into the cross-section"
#: S and I rest on the clicked border_outer when W's edge fit was not used (failed, or W not
#: measurable): that click is not checked, and 0.5 mm off it moves S and I by 0.5 mm.
UNREFINED_BORDER_NOTE = (
    "the inferior border end is as placed (W's edge refinement was not used there), so S and I carry "
    "the border click's own error: check border_outer"
)
#: An edge-fitted W whose one-sigma uncertainty exceeds this (mm) is "uncertain": at two sigma it
#: could be wrong by more than the 0.3 mm the program must never be silently wrong by.
UNCERTAIN_ABOVE_MM = 0.15

#: CTCI grades that describe a porous or eroded endosteal margin (INDICES.md, CTCI: C2, C3).
POROUS_GRADES = ("C2", "C3")
#: A fitted W further than this many combined sigmas from the placed points is kept but "uncertain"
#: (beyond AGREEMENT_SIGMAS it is not used): the image and the user disagree about a margin, which a
#: porous endosteal zone causes (simulated porous cortex: fit 1.5 mm to the compact part, truth 2.5 mm).
CHECK_CLICKS_SIGMAS = 2.0
#: A fitted blur sigma above this fraction of W makes W "uncertain": the cortex never reaches its
#: level in the image and width and density can no longer be told apart (on the accuracy study the
#: errors grow past 0.15 mm from about sigma = 0.4 W).
MAX_BLUR_TO_WIDTH = 0.4

__all__ = ["CORTICAL_IDS", "MEASUREMENT_IDS", "CaseMeasurements", "measure_case", "measure_side"]


@dataclass
class CaseMeasurements:
    """The measurements of one case.

    Attributes
    ----------
    sides
        ``sides[side][id] -> Measurement`` for every id in ``MEASUREMENT_IDS``; a measurement
        that could not be made has ``value=None`` and ``missing`` naming the landmarks it needs.
    refined_points
        ``refined_points[side] = {"border_outer": (x, y, z), "border_inner": (x, y, z)}``: the
        edge-proposed margins (patient mm) the user can accept or move; empty when not refined
        or when the fit was not used.
    method
        ``"edge"`` or ``"manual"``.
    issues
        What :func:`~cbct_osteo.measure.validation.validate_landmarks` found.
    """

    sides: dict[str, dict[str, Measurement]] = field(default_factory=dict)
    refined_points: dict[str, dict[str, tuple[float, float, float]]] = field(default_factory=dict)
    method: str = "edge"
    issues: list[Issue] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"sides": {side: {"measurements": {id: {...}}}}}``, the results JSON's measurement part."""
        return {
            "sides": {
                side: {"measurements": {k: m.to_json() for k, m in values.items()}}
                for side, values in self.sides.items()
            }
        }


def _missing(mid: str, method: str, missing: tuple[str, ...]) -> Measurement:
    words = ", ".join(k.replace("_", " ") for k in missing)
    return Measurement(mid, None, UNITS[mid], method, missing=missing, notes=(f"place {words} first",))


def _point(xyz: Iterable[float]) -> list[float]:
    return [round(float(v), 4) for v in xyz]


def _drawing(frame: MeasurementFrame, outer: Iterable[float], inner: Iterable[float], source: str) -> dict[str, Any]:
    """What the GUI and report draw for W: the margins used and the measurement line."""
    return {
        "edges_mm": {"outer": _point(outer), "inner": _point(inner), "source": source},
        "line_mm": [_point(outer), _point(frame.origin)],
    }


def _cortical(
    volume: Volume,
    marks: SideLandmarks,
    frame: MeasurementFrame,
    refine: bool,
    resolution: float,
    cortex_level: tuple[str, float] | None = None,
) -> tuple[Measurement, EdgeFit | None]:
    """W with its quality; the fit is returned only when it was used."""
    outer, inner = marks.points["border_outer"], marks.points["border_inner"]
    placed = manual_width(frame, outer, inner)
    where = {"resolution_along_line_mm": round(resolution, 4), "placed_value": round(placed, 4)}
    if placed < MIN_LINE_MM:
        return Measurement(
            "W",
            None,
            "mm",
            "manual",
            details=where,
            quality=NOT_MEASURABLE,
            notes=(
                f"border_outer and border_inner coincide on the measurement line ({placed:.2f} mm apart): the cortical "
                "width is undefined; place the inner margin at the top of the cortex",
            ),
        ), None
    placed_sigma = placed_width_sigma(resolution)
    budget_placed = {"placement": round(placed_sigma, 4)}
    notes: list[str] = []
    quality, used = OK, None
    value, sigma, method, details = placed, placed_sigma, "manual", {**where, "uncertainty_budget_mm": budget_placed}
    drawing = _drawing(frame, outer, inner, "placed")
    if refine:
        fit = edge_width(
            volume, frame, outer, inner, resolution, cortex_level=cortex_level[1] if cortex_level else None
        )
        details = {**where, **fit.details()}
        if not fit.steps_visible:
            return Measurement(
                "W",
                None,
                "mm",
                "edge",
                details=details,
                quality=NOT_MEASURABLE,
                notes=(f"not measurable: {fit.problems[0]}",),
                geometry=drawing,
            ), None
        if fit.usable:
            value, sigma, method, used = fit.width_mm, fit.uncertainty_mm, "edge", fit
            drawing = _drawing(frame, fit.outer_xyz, fit.inner_xyz, "edge")
            if cortex_level is not None:
                quality = UNCERTAIN
                notes.append(
                    f"the cortex is thin for the scan's blur, so its gray level was fixed at {cortex_level[1]:.0f}, "
                    f"the level of the well-resolved cortex on the {cortex_level[0]} side (assumes the same "
                    "cortical density on both sides)"
                )
            if fit.cautions:
                quality = UNCERTAIN
                notes.extend(fit.cautions)
            combined = math.hypot(sigma, placed_sigma)
            if abs(value - placed) > CHECK_CLICKS_SIGMAS * combined:
                quality = UNCERTAIN
                notes.append(
                    f"the fitted width differs from the placed points by {value - placed:+.2f} mm (more than "
                    f"{CHECK_CLICKS_SIGMAS:g} combined uncertainties): check the endosteal margin; a porous, "
                    "trabecularised endosteal zone (C2/C3) makes it indistinct"
                )
            if sigma > UNCERTAIN_ABOVE_MM:
                quality = UNCERTAIN
                notes.append(f"the edge fit's uncertainty (\u00b1{sigma:.2f} mm) exceeds {UNCERTAIN_ABOVE_MM:g} mm")
            if fit.sigma_mm > MAX_BLUR_TO_WIDTH * value and cortex_level is None:
                quality = UNCERTAIN
                notes.append(
                    f"the cortex ({value:.1f} mm) is thin for the scan's blur (fitted sigma {fit.sigma_mm:.2f} mm): "
                    "its width and density trade off in the fit (Treece et al. 2010)"
                )
        else:
            details["edge_failed"] = list(fit.problems)
            details["uncertainty_budget_mm"] = budget_placed
            quality = UNCERTAIN
            notes.append(
                "edge refinement not used (" + "; ".join(fit.problems) + "): W is the distance between "
                "the placed points"
            )
    resolution_quality, note = cortical_quality(value, resolution)
    if note:
        notes.append(note)
    quality = worst_quality(quality, resolution_quality)
    if quality == NOT_MEASURABLE:
        return Measurement(
            "W", None, "mm", method, details=details, quality=quality, notes=tuple(notes), geometry=drawing
        ), None
    return Measurement(
        "W", value, "mm", method, sigma, details=details, quality=quality, notes=tuple(notes), geometry=drawing
    ), used


def _heights(
    volume: Volume,
    marks: SideLandmarks,
    frame: MeasurementFrame,
    fit: EdgeFit | None,
    resolution: float,
    method: str,
    checks: Mapping[str, MarginCheck],
) -> dict[str, Measurement]:
    """S and I from the placed margins and the (fitted or placed) border, each margin checked in the image.

    ``checks``: the image check of each placed margin, by id (:func:`_margin_checks`; it depends on
    neither the border nor the method, so one serves every border).

    The uncertainty of S or I is the image's (the margin check's one-sigma error, see
    :mod:`~cbct_osteo.measure.foramen_margins`) when the image confirms the click, else the
    click's placement error; with the border end's it is "uncertain" above ``UNCERTAIN_ABOVE_MM``.
    """
    border = fit.outer_xyz if fit is not None else marks.points["border_outer"]
    border_sigma = fit.outer_sigma_mm if fit is not None else placed_width_sigma(resolution) / math.sqrt(2.0)
    result = {}
    for mid, kind in (("S", "foramen_superior"), ("I", "foramen_inferior")):
        if kind not in marks.points:
            result[mid] = _missing(mid, method, (kind,))
            continue
        value = height_above_border(frame, marks.points[kind], border)
        notes: tuple[str, ...] = ()
        quality = OK
        if fit is not None and fit.outer_cautions:
            quality, notes = UNCERTAIN, fit.outer_cautions
        if fit is None and method == "edge":  # refinement asked for, but the border end is the click
            quality, notes = UNCERTAIN, (UNREFINED_BORDER_NOTE,)
        check = checks[mid]
        margin_sigma = check.sigma_mm
        if margin_sigma is None:
            uncertainty = height_sigma(resolution, border_sigma)
            budget = {"placement": placed_point_sigma(resolution)}
            quality = UNCERTAIN
            notes = (*notes, _margin_note(mid, kind, value, check))
        else:
            uncertainty = math.hypot(margin_sigma, border_sigma)
            budget = {"margin": check.wall_sd_mm or 0.0, "line": check.line_sd_mm or 0.0}
            if uncertainty > UNCERTAIN_ABOVE_MM:
                quality = UNCERTAIN
                notes = (*notes, _margin_precision_note())
        budget["border"] = border_sigma
        if value <= 0:
            quality, notes = (
                NOT_MEASURABLE,
                (f"{kind.replace('_', ' ')} lies {-value:.1f} mm below the inferior border: check the landmarks",),
            )
        result[mid] = Measurement(
            mid,
            value if quality != NOT_MEASURABLE else None,
            "mm",
            "edge" if fit is not None else "manual",
            uncertainty,
            details={
                "border": "edge-refined" if fit is not None else "as placed",
                "margin_check": check.details(),
                "uncertainty_budget_mm": {name: round(term, 4) for name, term in budget.items()},
            },
            quality=quality,
            notes=notes,
        )
    return result


def _margin_checks(
    volume: Volume, marks: SideLandmarks, frame: MeasurementFrame, resolution: float
) -> dict[str, MarginCheck]:
    """The image check of each placed foramen margin (S: superior, I: inferior), by id."""
    return {
        mid: check_margin(volume, frame, np.asarray(marks.points[kind], float), mid == "S", resolution)
        for mid, kind in (("S", "foramen_superior"), ("I", "foramen_inferior"))
        if kind in marks.points
    }


def _margin_note(mid: str, kind: str, value: float, check: MarginCheck) -> str:
    """Why S or I is "uncertain" when the image does not confirm its margin, with both numbers."""
    words = kind.replace("_", " ")
    if check.image_t is None or check.outward_mm is None:
        return f"{mid} = {value:.2f} mm from the {words} as placed, not confirmed by the image: {check.problem}"
    to_wall = value - (check.placed_t - check.image_t)
    return (
        f"{mid} = {value:.2f} mm from the {words} as placed, {to_wall:.2f} mm to the foramen's wall in the image "
        f"(the true margin lies at or just outside that wall): {check.problem}; check the {words}"
    )


def _margin_precision_note() -> str:
    """Why S or I is "uncertain" although the image confirms its margin (the same words for every value,
    so the report says it once; the numbers are in the uncertainty and ``details.margin_check``)."""
    low, high = WALL_TO_MARGIN_MM
    return (
        f"the foramen margin is known only to worse than ±{UNCERTAIN_ABOVE_MM:g} mm (one sigma): it may lie "
        f"{low:g} to {high:g} mm outside the wall the image shows, and that wall moves "
        "with where the foramen centre is placed"
    )


def _outside_volume(volume: Volume, marks: SideLandmarks) -> list[str]:
    """The cortical landmarks of one side that lie outside the voxel grid.

    Intensities sampled there would be the edge voxels repeated, and a width "measured" on them
    is a number with no anatomy behind it; such sides are refused instead.
    """
    kinds = [
        k
        for k in ("foramen_centre", "foramen_superior", "foramen_inferior", "border_outer", "border_inner")
        if k in marks.points
    ]
    if not kinds:
        return []
    index = volume.patient_to_index([marks.points[k] for k in kinds])
    limit = np.asarray(volume.shape, float) - 1.0
    inside = np.all((index >= -0.5) & (index <= limit + 0.5), axis=1)
    return [k for k, ok in zip(kinds, inside, strict=True) if not ok]


def measure_side(
    volume: Volume,
    landmarks: LandmarkSet,
    side: str,
    arch: ArchCurve | None,
    refine: bool = True,
    cortex_level: tuple[str, float] | None = None,
    *,
    as_placed: Collection[str] = (),
    trabecular: Mapping[str, Measurement] | None = None,
) -> tuple[dict[str, Measurement], dict[str, tuple[float, float, float]]]:
    """Every measurement of one side, and the refined margin points (empty when not refined).

    ``cortex_level`` = (other side, gray level) fixes the cortical level of the edge fit.
    ``as_placed``: ids among W, S, I the user wants from the markers as placed although
    ``refine`` is on; the others keep the edge fit (S and I share W's fitted outer border).
    ``trabecular``: this side's trabecular measurements when already made (a re-measure with a
    fixed cortex level changes only W, S and I).
    """
    marks = landmarks.sides.get(side, SideLandmarks())
    method = "edge" if refine else "manual"
    result: dict[str, Measurement] = {}
    refined: dict[str, tuple[float, float, float]] = {}
    frame, degenerate = None, ""
    if "foramen_centre" in marks.points and "border_outer" in marks.points:
        try:
            frame = measurement_frame(marks.points["foramen_centre"], marks.points["border_outer"], arch)
        except ValueError as exc:
            degenerate = str(exc)
    fit = None
    outside = _outside_volume(volume, marks)
    if outside:
        reason = f"{', '.join(outside)} lie(s) outside the scanned volume: these landmarks were not placed on this scan"
        for mid in ("W", "S", "I"):
            result[mid] = Measurement(mid, None, UNITS[mid], method, details={"reason": reason}, notes=(reason,))
    elif degenerate:
        for mid in ("W", "S", "I"):
            result[mid] = Measurement(
                mid, None, UNITS[mid], method, details={"reason": degenerate}, notes=(degenerate,)
            )
    elif frame is None:
        for mid in ("W", "S", "I"):
            need = missing_inputs(landmarks, side, mid) or ("border_outer",)
            result[mid] = _missing(mid, method, need)
    else:
        resolution = line_resolution(volume, frame.direction)
        placed_ids = set(as_placed) & set(CORTICAL_IDS) if refine else set()
        if "border_inner" in marks.points:  # coincident margins come back "not measurable", with the reason
            fit_wanted = refine and placed_ids != set(CORTICAL_IDS)
            result["W"], fit = _cortical(volume, marks, frame, fit_wanted, resolution, cortex_level)
            if "W" in placed_ids and fit_wanted:  # W between the markers; S and I may still use the fitted border
                result["W"], _ = _cortical(volume, marks, frame, False, resolution)
            if fit is not None:
                refined = {"border_outer": fit.outer_xyz, "border_inner": fit.inner_xyz}
        else:
            result["W"] = _missing("W", method, ("border_inner",))
        grade = (landmarks.grades.get(side) or {}).get("CTCI")
        if grade in POROUS_GRADES and result["W"].ok and result["W"].quality == OK:
            result["W"] = replace(
                result["W"],
                quality=UNCERTAIN,
                notes=(
                    *result["W"].notes,
                    (
                        f"graded {grade} (porous or eroded endosteal margin): the endosteal margin is indistinct "
                        "and the fitted edge may stop at the compact part of the cortex"
                    ),
                ),
            )
        checks = _margin_checks(volume, marks, frame, resolution)
        result.update(_heights(volume, marks, frame, fit, resolution, method, checks))
        if fit is not None and placed_ids & {"S", "I"}:
            placed_heights = _heights(volume, marks, frame, None, resolution, "manual", checks)
            result.update({mid: placed_heights[mid] for mid in placed_ids & {"S", "I"}})
        if not frame.in_plane:
            for mid in ("W", "S", "I"):
                if result[mid].ok:
                    result[mid] = replace(result[mid], notes=(*result[mid].notes, NO_ARCH_NOTE))
    trab_missing = missing_inputs(landmarks, side, "TRAB")
    roi = marks.trab_roi
    if trabecular is not None:  # already measured on this side (they do not depend on the cortical fit)
        result.update({mid: trabecular[mid] for mid in TRABECULAR_IDS})
    elif trab_missing or arch is None or roi is None:  # (a missing ROI is in trab_missing)
        for mid in TRABECULAR_IDS:
            result[mid] = _missing(mid, "ROI", trab_missing or ("arch",))
    else:
        placement = roi_placement(volume, arch, roi, marks)  # soft tissue, roots, cortex in the ROI
        problems = placement.problems() if placement is not None else ()
        result.update(mark_misplaced(trabecular_measurements(volume, arch, roi), problems))
    return {mid: result[mid] for mid in MEASUREMENT_IDS}, refined


def measure_case(
    volume: Volume,
    landmarks: LandmarkSet,
    refine: bool = True,
    *,
    as_placed: Collection[tuple[str, str]] = (),
) -> CaseMeasurements:
    """Measure both sides of one scan.

    Parameters
    ----------
    volume
        The scan; landmarks are patient LPS mm in its frame.
    landmarks
        What the user placed (any subset; missing inputs give ``value=None`` with ``missing``).
    refine
        Edge-assisted margins (default) or the landmarks as placed.
    as_placed
        ``(side, id)`` pairs, id in W, S, I: measurements taken from the markers as placed
        (``"manual"``) although ``refine`` is on, e.g. where the user disagrees with the fit.

    Returns
    -------
    CaseMeasurements
    """
    try:
        arch = arch_from_points(landmarks.arch_points)
    except ValueError:  # coincident points: validate_landmarks says so
        arch = None
    case = CaseMeasurements(method="edge" if refine else "manual", issues=validate_landmarks(landmarks, volume))
    refined_by_side = {}
    placed = {side: {mid for s, mid in as_placed if s == side} for side in SIDES}
    for side in SIDES:
        case.sides[side], refined_by_side[side] = measure_side(
            volume, landmarks, side, arch, refine, as_placed=placed[side]
        )
    for side, other in zip(SIDES, reversed(SIDES), strict=True):
        level = _resolved_cortex_level(case.sides[other]["W"])
        if refine and level is not None and _thin_for_blur(case.sides[side]["W"]):
            trabecular = {mid: case.sides[side][mid] for mid in TRABECULAR_IDS}
            remeasured, refined = measure_side(
                volume, landmarks, side, arch, refine, (other, level), as_placed=placed[side], trabecular=trabecular
            )
            if remeasured["W"].method == "edge":  # the constrained fit passed its checks: use it
                case.sides[side], refined_by_side[side] = remeasured, refined
    case.refined_points = {side: points for side, points in refined_by_side.items() if points}
    return case


#: A cortex is "well resolved" (its fitted gray level can serve the other side) when W exceeds this
#: many fitted blur sigmas: the edges then no longer overlap and W and level are independent.
RESOLVED_WIDTH_SIGMAS = 4.0


def _resolved_cortex_level(w: Measurement) -> float | None:
    """The fitted cortical gray level of a well-resolved, edge-fitted W, or None."""
    sigma = w.details.get("fitted_sigma_mm")
    if w.method != "edge" or w.quality != OK or not w.ok or not sigma or "cortex_level_fixed" in w.details:
        return None
    return float(w.details["levels"][1]) if w.value >= RESOLVED_WIDTH_SIGMAS * sigma else None


def _thin_for_blur(w: Measurement) -> bool:
    """A W whose fit failed on the width-level trade-off (level at its bound, or thin for the blur)."""
    failed = w.details.get("edge_failed") or []
    return any("cortex level reached its limit" in p for p in failed) or any(
        "thin for the scan's blur" in n for n in w.notes
    )
