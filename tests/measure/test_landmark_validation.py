"""validate_landmarks: what is missing and what is implausible, in words."""

from __future__ import annotations

import copy

import pytest

from cbct_osteo.io.landmarks_file import LandmarkSet, TrabecularRoi
from cbct_osteo.measure.validation import validate_landmarks

from measure_synthetic import cortex_volume


def complete_left(x: float = 2.0) -> dict:
    return {
        "foramen_centre": (x, -3.0, 4.0),
        "foramen_superior": (x, -3.0, 5.2),
        "foramen_inferior": (x, -3.0, 2.8),
        "border_outer": (x, -3.0, -6.0),
        "border_inner": (x, -3.0, -3.0),
    }


@pytest.fixture
def good() -> LandmarkSet:
    marks = LandmarkSet(
        arch_points=[(-30.0, 10.0, 0.0), (-15.0, -5.0, 0.0), (0.0, -10.0, 0.0), (15.0, -5.0, 0.0), (30.0, 10.0, 0.0)]
    )
    marks.sides["left"].points.update(complete_left(20.0))
    marks.sides["left"].trab_roi = TrabecularRoi((20.0, -3.0, 0.0), 5.0)
    right = {k: (-v[0], v[1], v[2]) for k, v in complete_left(20.0).items()}
    marks.sides["right"].points.update(right)
    marks.sides["right"].trab_roi = TrabecularRoi((-20.0, -3.0, 0.0), 5.0)
    return marks


def kinds(issues, severity):
    return {(i.side, i.landmark) for i in issues if i.severity == severity}


def test_complete_plausible_landmarks_have_no_issue(good):
    assert validate_landmarks(good) == []


def test_missing_landmarks_say_what_they_are_needed_for():
    marks = LandmarkSet()
    marks.sides["left"].points.update({"foramen_centre": (20, 0, 4), "border_outer": (20, 0, -6)})
    issues = validate_landmarks(marks)
    assert kinds(issues, "missing") >= {
        (None, "arch"),
        ("left", "border_inner"),
        ("left", "foramen_superior"),
        ("left", "trab_roi"),
        ("right", "foramen_centre"),
    }
    inner = next(i for i in issues if i.landmark == "border_inner" and i.side == "left")
    assert "inner (endosteal) margin" in inner.message and "cortical width W" in inner.message
    assert ("left", "foramen_centre") not in kinds(issues, "missing")


def test_inner_margin_below_outer_border_is_an_error(good):
    good.sides["left"].points["border_inner"] = (20.0, -3.0, -7.0)
    issues = validate_landmarks(good)
    assert kinds(issues, "error") == {("left", "border_inner")}
    assert "below the outer border" in issues[0].message


def test_cortex_over_ten_mm_is_a_warning(good):
    good.sides["right"].points["border_inner"] = (-20.0, -3.0, 5.0)
    assert kinds(validate_landmarks(good), "warning") >= {("right", "border_inner")}
    assert any("11.0 mm" in i.message for i in validate_landmarks(good))


def test_foramen_superior_below_inferior_is_an_error(good):
    sides = good.sides["left"].points
    sides["foramen_superior"], sides["foramen_inferior"] = sides["foramen_inferior"], sides["foramen_superior"]
    assert kinds(validate_landmarks(good), "error") == {("left", "foramen_superior")}


def test_swapped_sides_are_detected_between_foramina(good):
    good.sides["left"], good.sides["right"] = good.sides["right"], good.sides["left"]
    issues = validate_landmarks(good)
    assert kinds(issues, "error") == {("left", "foramen_centre"), ("right", "foramen_centre")}
    assert "swapped" in issues[0].message


def test_single_foramen_on_the_wrong_half_of_the_arch(good):
    good.sides["right"].points.clear()
    good.sides["right"].trab_roi = None
    good.sides["left"].points.update(complete_left(-20.0))
    assert ("left", "foramen_centre") in kinds(validate_landmarks(good), "error")


def test_roi_overlapping_the_cortex_is_a_warning(good):
    good.sides["left"].trab_roi = TrabecularRoi((20.0, -3.0, -2.0), 5.0)  # bottom at -4.5, cortex top at -3
    issues = [i for i in validate_landmarks(good) if i.landmark == "trab_roi"]
    assert [(i.severity, i.side) for i in issues] == [("warning", "left")]
    assert "1.5 mm into the lower cortex" in issues[0].message


def test_foramen_outside_the_bone_with_the_volume():
    volume = cortex_volume(3.0, voxel_mm=0.4, extent=(24.0, 30.0, 8.0))
    marks = LandmarkSet(arch_points=[(-4.0, 0.0, 0.0), (0.0, 0.0, 0.0), (4.0, 0.0, 0.0)])
    marks.sides["left"].points.update(complete_left(1.0))  # inside the bar: bone around
    assert not [i for i in validate_landmarks(marks, volume) if i.severity != "missing"]
    marks.sides["left"].points["foramen_centre"] = (1.0, -13.5, 4.0)  # in air, 7 mm buccal of the bar
    issues = [
        i for i in validate_landmarks(marks, volume) if i.landmark == "foramen_centre" and i.severity != "missing"
    ]
    assert [(i.severity, i.side) for i in issues] == [("warning", "left")]
    assert "outside the mandible" in issues[0].message
    marks.sides["left"].points["foramen_centre"] = (1.0, -3.0, 40.0)
    issues = [
        i for i in validate_landmarks(marks, volume) if i.landmark == "foramen_centre" and i.severity != "missing"
    ]
    assert issues and "outside the scanned volume" in issues[0].message


def _image_issues(marks: LandmarkSet, volume, landmark: str) -> list:
    return [i for i in validate_landmarks(marks, volume) if i.landmark == landmark and i.severity != "missing"]


def test_foramen_in_the_cheek_of_a_real_head_ct_is_outside_the_bone(real_head_ct):
    """On a real CT (padding at -1200 HU) the bone around the foramen is bone, not "not air"."""
    marks = LandmarkSet()
    placed = (-32.54, 7.21, -199.26)  # the right mental foramen of tests/measure/test_real_head_ct.py
    marks.sides["right"].points["foramen_centre"] = placed
    assert not _image_issues(marks, real_head_ct, "foramen_centre")
    marks.sides["right"].points["foramen_centre"] = (placed[0] - 10.0, *placed[1:])  # 10 mm out, in the cheek
    issues = _image_issues(marks, real_head_ct, "foramen_centre")
    assert [(i.severity, i.side) for i in issues] == [("warning", "right")]
    assert "outside the mandible" in issues[0].message


def test_trabecular_roi_in_cbct_gray_values_counts_marrow_as_inside(small_phantom_noisy):
    """A true ROI in uncalibrated CBCT is inside the bone (marrow included); the same ROI in the air is not."""
    case = small_phantom_noisy
    assert case.volume.meta.units != "HU"
    marks = copy.deepcopy(case.landmarks)  # the phantom is shared by the session
    assert not _image_issues(marks, case.volume, "trab_roi")
    roi = marks.sides["left"].trab_roi
    low_corner = case.volume.index_to_patient((0, 0, 0))  # a corner of the field of view: air
    marks.sides["left"].trab_roi = TrabecularRoi(tuple(float(c) for c in low_corner), roi.size_mm, roi.shape)
    issues = _image_issues(marks, case.volume, "trab_roi")
    assert [(i.severity, i.side) for i in issues if "outside the bone" in i.message] == [("warning", "left")]
