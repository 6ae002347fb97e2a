"""What is missing or implausible in a set of landmarks, in words a dentist understands.

The GUI lists these next to the guided steps; the command line prints them; the report notes
them. Severities: ``"missing"`` (a measurement cannot be made yet), ``"warning"`` (possible but
suspicious: check the landmark), ``"error"`` (geometrically impossible: the result would be wrong).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cbct_osteo.io.landmarks_file import SIDES, LandmarkSet, SideLandmarks, degenerate_line
from cbct_osteo.locate.threshold import thresholds
from cbct_osteo.measure.definitions import MEASUREMENTS_BY_ID, group_requirements
from cbct_osteo.measure.fractal import MIN_ROI_PIXELS
from cbct_osteo.measure.geometry import MIN_ARCH_POINTS, MIN_ARCH_SPACING_MM, arch_from_points
from cbct_osteo.measure.roi_placement import roi_placement
from cbct_osteo.measure.sampling import sample_points
from cbct_osteo.volume import Volume

#: Cortical widths above this (mm) are not anatomical (mandibular inferior cortex is ~1–7 mm).
MAX_PLAUSIBLE_WIDTH_MM = 10.0
#: Radius (mm) around the foramen centre searched for bone.
BONE_SEARCH_RADIUS_MM = 3.0
#: Below this fraction of bone voxels around the foramen centre it is "outside the bone".
MIN_BONE_FRACTION = 0.05

#: Margins closer than this on the measurement line (mm) do not define a cortical width.
MIN_LINE_MM = 0.1
#: Smallest trabecular ROI (mm) for box counting at the ROI's 0.1 mm pixels.
MIN_ROI_MM = MIN_ROI_PIXELS * 0.1

NAMES = {
    "foramen_centre": "the centre of the mental foramen",
    "foramen_superior": "the upper margin of the mental foramen",
    "foramen_inferior": "the lower margin of the mental foramen",
    "border_outer": "the lower border of the mandible (outer surface of the cortex)",
    "border_inner": "the inner (endosteal) margin of the lower cortex",
    "trab_roi": "the trabecular region of interest",
    "arch": "the dental arch",
}
#: What each group of measurements needs, in the order the guided workflow asks for it
#: (derived from the one list of measurements, :data:`cbct_osteo.measure.definitions.MEASUREMENTS`).
REQUIREMENTS: dict[str, tuple[str, ...]] = group_requirements()
MEASUREMENT_NAMES = {
    "W": "the cortical width W",
    "S": "the height S of the foramen's upper margin",
    "I": "the height I of its lower margin",
    "TRAB": "the trabecular measurements",
}


@dataclass(frozen=True)
class Issue:
    """One problem with the landmarks.

    Attributes
    ----------
    severity
        ``"missing"``, ``"warning"`` or ``"error"``.
    side
        ``"left"``, ``"right"`` or ``None`` (the arch).
    landmark
        The landmark concerned (a point kind, ``"trab_roi"`` or ``"arch"``).
    message
        A sentence for the user.
    """

    severity: str
    side: str | None
    landmark: str
    message: str


def _has(marks: SideLandmarks, landmarks: LandmarkSet, name: str) -> bool:
    """Placed and usable: a landmark on top of the lower border (a line of no length) counts as not placed."""
    if name == "arch":
        return len(landmarks.arch_points) >= MIN_ARCH_POINTS
    if name == "trab_roi":
        return marks.trab_roi is not None
    return name in marks.points and degenerate_line(marks, name) is None


def missing_inputs(landmarks: LandmarkSet, side: str, measurement: str) -> tuple[str, ...]:
    """The landmarks ``measurement`` (a group of ``REQUIREMENTS`` or a measurement id) still needs on ``side``."""
    marks = landmarks.sides.get(side, SideLandmarks())
    group = measurement if measurement in REQUIREMENTS else MEASUREMENTS_BY_ID[measurement].group
    return tuple(name for name in REQUIREMENTS[group] if not _has(marks, landmarks, name))


def _arch_issues(landmarks: LandmarkSet) -> list[Issue]:
    """Coincident consecutive arch points: the arch's direction between them is undefined."""
    points = np.asarray(landmarks.arch_points, float).reshape(-1, 3)
    if len(points) < 2:
        return []
    gaps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    close = [i + 1 for i, g in enumerate(gaps) if g < MIN_ARCH_SPACING_MM]
    if not close:
        return []
    listed = ", ".join(f"{i} and {i + 1}" for i in close[:3])
    return [
        Issue(
            "error",
            None,
            "arch",
            f"Arch points {listed} coincide (less than {MIN_ARCH_SPACING_MM:g} mm apart): remove the duplicate click.",
        )
    ]


def _missing_issues(landmarks: LandmarkSet) -> list[Issue]:
    issues: list[Issue] = _arch_issues(landmarks)
    if len(landmarks.arch_points) < MIN_ARCH_POINTS:
        issues.append(
            Issue(
                "missing",
                None,
                "arch",
                f"The dental arch needs at least {MIN_ARCH_POINTS} points "
                f"({len(landmarks.arch_points)} placed); cross-sections and the trabecular measurements need it.",
            )
        )
    for side in SIDES:
        needed: dict[str, list[str]] = {}
        for measurement in REQUIREMENTS:
            for name in missing_inputs(landmarks, side, measurement):
                if name != "arch":
                    needed.setdefault(name, []).append(MEASUREMENT_NAMES[measurement])
        marks = landmarks.sides.get(side, SideLandmarks())
        for name, uses in needed.items():
            listed = uses[0] if len(uses) == 1 else ", ".join(uses[:-1]) + " and " + uses[-1]
            problem = degenerate_line(marks, name)
            if problem is not None:
                issues.append(
                    Issue(
                        "error",
                        side,
                        name,
                        f"{side.capitalize()} side: {problem}; place {NAMES[name]} where it belongs "
                        f"(needed for {listed}).",
                    )
                )
                continue
            issues.append(
                Issue(
                    "missing",
                    side,
                    name,
                    f"{side.capitalize()} side: {NAMES[name]} is not placed yet (needed for {listed}).",
                )
            )
    return issues


def _up_direction(marks: SideLandmarks) -> np.ndarray:
    """From the border toward the foramen when both exist, else patient superior (+z)."""
    if "border_outer" in marks.points and "foramen_centre" in marks.points:
        d = np.subtract(marks.points["foramen_centre"], marks.points["border_outer"])
        if np.linalg.norm(d) > 1e-6:
            unit: np.ndarray = d / np.linalg.norm(d)
            return unit
    return np.array([0.0, 0.0, 1.0])


def _geometry_issues(landmarks: LandmarkSet, side: str) -> list[Issue]:
    marks = landmarks.sides.get(side, SideLandmarks())
    p = {k: np.asarray(v, float) for k, v in marks.points.items()}
    up = _up_direction(marks)
    label = side.capitalize()
    issues: list[Issue] = []
    if (
        "border_outer" in p
        and "foramen_centre" in p
        and np.dot(p["foramen_centre"] - p["border_outer"], [0, 0, 1]) <= 0
    ):
        issues.append(
            Issue(
                "error",
                side,
                "border_outer",
                f"{label} side: the lower border of the mandible is placed above the mental foramen.",
            )
        )
    if "border_outer" in p and "border_inner" in p and degenerate_line(marks, "border_inner") is None:
        height = float(np.dot(p["border_inner"] - p["border_outer"], up))
        if abs(height) < MIN_LINE_MM:
            issues.append(
                Issue(
                    "error",
                    side,
                    "border_inner",
                    f"{label} side: the inner cortical margin coincides with the outer border "
                    f"({abs(height):.2f} mm apart on the measurement line): place it at the top of the cortex.",
                )
            )
        elif height <= 0:
            issues.append(
                Issue(
                    "error",
                    side,
                    "border_inner",
                    f"{label} side: the inner cortical margin is below the outer border; "
                    "the inner margin belongs above the lower border, at the top of the cortex.",
                )
            )
        elif height > MAX_PLAUSIBLE_WIDTH_MM:
            issues.append(
                Issue(
                    "warning",
                    side,
                    "border_inner",
                    f"{label} side: the cortex would be {height:.1f} mm thick, more than "
                    f"{MAX_PLAUSIBLE_WIDTH_MM:.0f} mm; check the inner cortical margin.",
                )
            )
    if (
        "foramen_superior" in p
        and "foramen_inferior" in p
        and np.dot(p["foramen_superior"] - p["foramen_inferior"], up) <= 0
    ):
        issues.append(
            Issue(
                "error",
                side,
                "foramen_superior",
                f"{label} side: the upper margin of the mental foramen is placed below its lower margin.",
            )
        )
    if marks.trab_roi is not None and marks.trab_roi.size_mm < MIN_ROI_MM:
        issues.append(
            Issue(
                "error",
                side,
                "trab_roi",
                f"{label} side: the trabecular region is {marks.trab_roi.size_mm:g} mm across; box counting "
                f"needs at least {MIN_ROI_MM:g} mm ({MIN_ROI_PIXELS} pixels of 0.1 mm): make it larger.",
            )
        )
    if marks.trab_roi is not None and "border_inner" in p:
        roi = marks.trab_roi
        bottom = float(np.dot(np.asarray(roi.centre) - p["border_inner"], up)) - roi.size_mm / 2.0
        if bottom < 0:
            issues.append(
                Issue(
                    "warning",
                    side,
                    "trab_roi",
                    f"{label} side: the trabecular region reaches {-bottom:.1f} mm into the lower cortex; "
                    "move it up into the cancellous bone.",
                )
            )
    if marks.trab_roi is not None and "foramen_inferior" in p:
        roi = marks.trab_roi
        top = float(np.dot(np.asarray(roi.centre) - p["foramen_inferior"], up)) + roi.size_mm / 2.0
        if top > 0:
            issues.append(
                Issue(
                    "warning",
                    side,
                    "trab_roi",
                    f"{label} side: the trabecular region reaches {top:.1f} mm above the lower margin of the "
                    "mental foramen, into the canal; move it down, between the canal and the cortex.",
                )
            )
    return issues


def _sides_swapped(landmarks: LandmarkSet) -> list[Issue]:
    """Left (patient's left) is +x in patient coordinates; check foramina against each other and the arch."""
    centres = {s: landmarks.point(s, "foramen_centre") for s in SIDES}
    message = (
        "The left and right foramina seem swapped: the patient's left side is on the +x side "
        "(right of the image in the usual radiological display). Check which side each was placed on."
    )
    if centres["left"] is not None and centres["right"] is not None:
        if centres["left"][0] <= centres["right"][0]:
            return [Issue("error", side, "foramen_centre", message) for side in SIDES]
        return []
    try:
        arch = arch_from_points(landmarks.arch_points)
    except ValueError:  # coincident points: reported by _arch_issues
        return []
    if arch is None:
        return []
    midline_x = float(arch.point(arch.length_mm / 2.0)[0])
    issues = []
    for side, sign in (("left", 1.0), ("right", -1.0)):
        centre = centres[side]
        if centre is not None and sign * (centre[0] - midline_x) <= 0:
            issues.append(
                Issue(
                    "error",
                    side,
                    "foramen_centre",
                    f"{side.capitalize()} side: the mental foramen is on the other half of the arch; "
                    "the patient's left is the +x side. Was it placed on the wrong side?",
                )
            )
    return issues


#: Below this fraction of tissue voxels (above the air threshold) the trabecular ROI lies (mostly) outside the bone.
MIN_ROI_BONE_FRACTION = 0.25


def _roi_in_image(landmarks: LandmarkSet, volume: Volume, threshold: float) -> list[Issue]:
    """A trabecular ROI with little bone or marrow in it lies outside the mandible (in air or the canal);
    one partly in soft tissue, on a root or on the cortex is found by :mod:`~cbct_osteo.measure.roi_placement`.

    "Bone or marrow" is tissue: above the program's air threshold
    (:func:`cbct_osteo.locate.tissue_threshold`), so cancellous bone counts whole, marrow spaces
    included (above the bone threshold, 12 % of a correct ROI on the real head CT and none on the
    CBCT phantom would count). The ROI on the cortex or in the canal is caught geometrically by
    :func:`_geometry_issues`. ``threshold`` is the tissue threshold.
    """
    try:
        arch = arch_from_points(landmarks.arch_points)
    except ValueError:  # coincident points: reported by _arch_issues
        arch = None
    issues = []
    for side in SIDES:
        roi = landmarks.sides.get(side, SideLandmarks()).trab_roi
        if roi is None:
            continue
        half = roi.size_mm / 2.0
        r = np.linspace(-half, half, 9)
        offsets = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)
        if roi.shape == "circle":
            offsets = offsets[np.linalg.norm(offsets, axis=1) <= half + 1e-9]
        fraction = float(np.mean(sample_points(volume, np.asarray(roi.centre) + offsets) >= threshold))
        if fraction < MIN_ROI_BONE_FRACTION:
            issues.append(
                Issue(
                    "warning",
                    side,
                    "trab_roi",
                    f"{side.capitalize()} side: the trabecular region lies outside the bone "
                    f"(only {fraction:.0%} of it is bone or marrow): move it into the cancellous bone.",
                )
            )
            continue
        placement = None if arch is None else roi_placement(volume, arch, roi, landmarks.sides[side])
        for message in placement.problems(side) if placement is not None else ():
            issues.append(Issue("warning", side, "trab_roi", message))
    return issues


def _outside_bone(landmarks: LandmarkSet, volume: Volume, threshold: float) -> list[Issue]:
    """A foramen centre with (almost) no bone within 3 mm lies outside the mandible.

    The foramen itself is a soft-tissue hole, so the centre's own gray value says little; the
    bone around it does. Bone is what lies above the program's one bone threshold
    (:func:`cbct_osteo.locate.bone_threshold`, as for the locator and the 3D surface): ``threshold``.
    """
    step = min(volume.spacing)
    r = np.arange(-BONE_SEARCH_RADIUS_MM, BONE_SEARCH_RADIUS_MM + 1e-9, max(step, 0.25))
    offsets = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)
    offsets = offsets[np.linalg.norm(offsets, axis=1) <= BONE_SEARCH_RADIUS_MM]
    issues = []
    for side in SIDES:
        centre = landmarks.point(side, "foramen_centre")
        if centre is None:
            continue
        index = volume.patient_to_index(centre)
        if np.any(index < -0.5) or np.any(index > np.asarray(volume.shape) - 0.5):
            issues.append(
                Issue(
                    "error",
                    side,
                    "foramen_centre",
                    f"{side.capitalize()} side: the mental foramen lies outside the scanned volume.",
                )
            )
            continue
        fraction = float(np.mean(sample_points(volume, np.asarray(centre) + offsets) >= threshold))
        if fraction < MIN_BONE_FRACTION:
            issues.append(
                Issue(
                    "warning",
                    side,
                    "foramen_centre",
                    f"{side.capitalize()} side: there is no bone within {BONE_SEARCH_RADIUS_MM:.0f} mm "
                    "of the mental foramen's centre; it seems to lie outside the mandible.",
                )
            )
    return issues


def validate_landmarks(landmarks: LandmarkSet, volume: Volume | None = None) -> list[Issue]:
    """Everything missing or implausible, per side.

    Parameters
    ----------
    landmarks
        The landmarks (patient LPS mm).
    volume
        When given, also checks the foramen against the image (inside the scan, bone around it).

    Returns
    -------
    list of Issue
        Missing landmarks first, then errors and warnings; empty when all is well.
    """
    issues = _missing_issues(landmarks)
    for side in SIDES:
        issues.extend(_geometry_issues(landmarks, side))
    issues.extend(_sides_swapped(landmarks))
    if volume is not None:
        tissue, bone = thresholds(volume)
        issues.extend(_outside_bone(landmarks, volume, bone))
        issues.extend(_roi_in_image(landmarks, volume, tissue))
    return issues
