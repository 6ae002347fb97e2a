"""All measurements of one scan from its landmarks: ``measure_case``.

Per side: W (cortical width), S and I (foramen margin heights), TRAB_MEAN, TRAB_SD, BV_TV, FD
(2D) and FD_3D. With ``refine=True`` (the default, ``"method": "edge"``) the cortical margins are
found by the edge fit along the measurement line, so a click 0.5 mm off still gives the true
width, and S and I are measured from the refined outer border; ``refine=False`` takes the
landmarks as placed (``"manual"``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cbct_osteo.io.landmarks_file import SIDES, LandmarkSet, SideLandmarks, degenerate_line
from cbct_osteo.measure.cortical import EdgeFit, edge_width, manual_width
from cbct_osteo.measure.foramen import height_above_border
from cbct_osteo.measure.geometry import MeasurementFrame, arch_from_points, measurement_frame
from cbct_osteo.measure.quantity import Measurement
from cbct_osteo.measure.sampling import voxel_extent_along
from cbct_osteo.measure.trabecular import GRAY, trabecular_measurements
from cbct_osteo.measure.validation import Issue, missing_inputs, validate_landmarks
from cbct_osteo.volume import Volume
from cbct_osteo.reformat.arch import ArchCurve

#: Ids measured per side, in report order. FD_3D is the 3D box-counting dimension on the cube.
MEASUREMENT_IDS: tuple[str, ...] = ("W", "S", "I", "TRAB_MEAN", "TRAB_SD", "BV_TV", "FD", "FD_3D")
UNITS = {"W": "mm", "S": "mm", "I": "mm", "TRAB_MEAN": GRAY, "TRAB_SD": GRAY, "BV_TV": "ratio", "FD": "1", "FD_3D": "1"}
TRABECULAR_IDS = ("TRAB_MEAN", "TRAB_SD", "BV_TV", "FD", "FD_3D")


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
        edge-proposed margins (patient mm) the user can accept or move; empty when not refined.
    method
        ``"edge"`` or ``"manual"``.
    issues
        What :func:`~cbct_osteo.measure.validation.validate_landmarks` found.
    """

    sides: dict[str, dict[str, Measurement]] = field(default_factory=dict)
    refined_points: dict[str, dict[str, tuple[float, float, float]]] = field(default_factory=dict)
    method: str = "edge"
    issues: list[Issue] = field(default_factory=list)

    def to_json(self) -> dict:
        """``{"sides": {side: {"measurements": {id: {...}}}}}``, the results JSON's measurement part."""
        return {"sides": {side: {"measurements": {k: m.to_json() for k, m in values.items()}}
                          for side, values in self.sides.items()}}


def _missing(mid: str, method: str, missing: tuple[str, ...]) -> Measurement:
    return Measurement(mid, None, UNITS[mid], method, missing=missing)


def _cortical(volume: Volume, marks: SideLandmarks, frame: MeasurementFrame, refine: bool,
              half_voxel: float) -> tuple[Measurement, EdgeFit | None]:
    outer, inner = marks.points["border_outer"], marks.points["border_inner"]
    manual = manual_width(frame, outer, inner)
    if refine:
        try:
            fit = edge_width(volume, frame, outer, inner)
        except (ValueError, RuntimeError) as exc:
            fit, problem = None, str(exc)
        else:
            problem = "" if math.isfinite(fit.width_mm) else "the edge fit did not converge"
        if fit is not None and not problem:
            details = {**fit.details(), "manual_value": round(manual, 4)}
            return Measurement("W", fit.width_mm, "mm", "edge", fit.uncertainty_mm, details=details), fit
        return Measurement("W", manual, "mm", "manual", half_voxel,
                           details={"edge_failed": problem or "edge fit failed"}), None
    return Measurement("W", manual, "mm", "manual", half_voxel), None


def _heights(marks: SideLandmarks, frame: MeasurementFrame, fit: EdgeFit | None, half_voxel: float,
             method: str) -> dict[str, Measurement]:
    border = fit.outer_xyz if fit is not None else marks.points["border_outer"]
    border_uncertainty = fit.uncertainty_mm if fit is not None else half_voxel
    uncertainty = math.hypot(half_voxel, border_uncertainty)
    result = {}
    for mid, kind in (("S", "foramen_superior"), ("I", "foramen_inferior")):
        if kind not in marks.points:
            result[mid] = _missing(mid, method, (kind,))
            continue
        value = height_above_border(frame, marks.points[kind], border)
        result[mid] = Measurement(mid, value, "mm", "edge" if fit is not None else "manual", uncertainty,
                                  details={"border": "edge-refined" if fit is not None else "as placed"})
    return result


def _outside_volume(volume: Volume, marks: SideLandmarks) -> list[str]:
    """The cortical landmarks of one side that lie outside the voxel grid.

    Intensities sampled there would be the edge voxels repeated, and a width "measured" on them
    is a number with no anatomy behind it; such sides are refused instead.
    """
    kinds = [k for k in ("foramen_centre", "foramen_superior", "foramen_inferior", "border_outer", "border_inner")
             if k in marks.points]
    if not kinds:
        return []
    index = volume.patient_to_index([marks.points[k] for k in kinds])
    limit = np.asarray(volume.shape, float) - 1.0
    inside = np.all((index >= -0.5) & (index <= limit + 0.5), axis=1)
    return [k for k, ok in zip(kinds, inside) if not ok]


def measure_side(volume: Volume, landmarks: LandmarkSet, side: str, arch: ArchCurve | None,
                 refine: bool = True) -> tuple[dict[str, Measurement], dict[str, tuple[float, float, float]]]:
    """Every measurement of one side, and the refined margin points (empty when not refined)."""
    marks = landmarks.sides.get(side, SideLandmarks())
    method = "edge" if refine else "manual"
    result: dict[str, Measurement] = {}
    refined: dict[str, tuple[float, float, float]] = {}
    frame = None
    if "foramen_centre" in marks.points and "border_outer" in marks.points:
        try:
            frame = measurement_frame(marks.points["foramen_centre"], marks.points["border_outer"], arch)
        except ValueError:
            frame = None
    fit = None
    outside = _outside_volume(volume, marks)
    if outside:
        reason = f"{', '.join(outside)} lie(s) outside the scanned volume: these landmarks were not placed on this scan"
        for mid in ("W", "S", "I"):
            result[mid] = Measurement(mid, None, UNITS[mid], method, details={"reason": reason})
    elif frame is None:
        for mid in ("W", "S", "I"):
            need = missing_inputs(landmarks, side, mid) or ("border_outer",)
            result[mid] = _missing(mid, method, need)
    else:
        half_voxel = 0.5 * voxel_extent_along(volume, frame.direction)
        w_missing = missing_inputs(landmarks, side, "W")  # also a line of no length (inner on the border)
        if not w_missing:
            result["W"], fit = _cortical(volume, marks, frame, refine, half_voxel)
            if fit is not None:
                refined = {"border_outer": fit.outer_xyz, "border_inner": fit.inner_xyz}
        else:
            result["W"] = _missing("W", method, w_missing)
            problem = degenerate_line(marks, "border_inner")
            if problem is not None:
                result["W"].details["reason"] = problem
        result.update(_heights(marks, frame, fit, half_voxel, method))
        if not frame.in_plane:
            for mid in ("W", "S", "I"):
                if result[mid].ok:
                    result[mid].details["note"] = "no dental arch: the line was not projected into the cross-section"
    trab_missing = missing_inputs(landmarks, side, "TRAB")
    if trab_missing or arch is None:
        for mid in TRABECULAR_IDS:
            result[mid] = _missing(mid, "ROI", trab_missing or ("arch",))
    else:
        result.update(trabecular_measurements(volume, arch, marks.trab_roi))
    return {mid: result[mid] for mid in MEASUREMENT_IDS}, refined


def measure_case(volume: Volume, landmarks: LandmarkSet, refine: bool = True) -> CaseMeasurements:
    """Measure both sides of one scan.

    Parameters
    ----------
    volume
        The scan; landmarks are patient LPS mm in its frame.
    landmarks
        What the user placed (any subset; missing inputs give ``value=None`` with ``missing``).
    refine
        Edge-assisted margins (default) or the landmarks as placed.

    Returns
    -------
    CaseMeasurements
    """
    try:
        arch = arch_from_points(landmarks.arch_points)
    except ValueError:
        arch = None
    case = CaseMeasurements(method="edge" if refine else "manual", issues=validate_landmarks(landmarks, volume))
    for side in SIDES:
        case.sides[side], refined = measure_side(volume, landmarks, side, arch, refine)
        if refined:
            case.refined_points[side] = refined
    return case
