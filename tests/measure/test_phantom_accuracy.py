"""Accuracy against the phantom's exact truth (issue 3, "Accuracy").

Phantoms at 0.2 and 0.3 mm voxels, clean and degraded (blur, noise, cupping, metal streaks,
uncalibrated gray), cropped to 40 x 50 x 60 mm around the front of the mandible (both foramina
and the 54 mm of arch between them, full body height) to stay fast.
"""
from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.measure.case import measure_case
from cbct_osteo.measure.cortical import edge_width
from cbct_osteo.measure.geometry import arch_from_points, measurement_frame
from cbct_osteo.measure.trabecular import trabecular_measurements
from cbct_osteo.phantom import make_phantom
from cbct_osteo.phantom.geometry import ANATOMY

FIELD_MM = (40.0, 50.0, 60.0)
CONDITIONS = [(0.2, True), (0.2, False), (0.3, True), (0.3, False)]
_cache: dict = {}


def phantom(voxel_mm: float, clean: bool, **options):
    """Session cache (a plain dict: parametrised tests share the four phantoms)."""
    key = (voxel_mm, clean, tuple(sorted(options.items())))
    if key not in _cache:
        shape = tuple(int(round(e / voxel_mm)) for e in FIELD_MM)
        _cache[key] = make_phantom(shape, voxel_mm, seed=1, clean=clean, **options)
    return _cache[key]


def true_width(case, t_mm: float) -> float:
    profile = case.truth["phantom"]["width_profile"]
    return float(np.interp(t_mm + ANATOMY.half_length_mm, profile["s_mm"], profile["W_mm"]))


@pytest.mark.parametrize("voxel_mm,clean", CONDITIONS)
def test_edge_width_along_the_arch_within_a_tenth_of_a_mm(voxel_mm, clean):
    case = phantom(voxel_mm, clean)
    arch = arch_from_points(case.landmarks.arch_points)
    rng = np.random.default_rng(7)
    errors = []
    for t in np.linspace(-27.0, 27.0, 22):  # 22 arch positions, 2.6 mm apart
        width = true_width(case, t)
        outer = ANATOMY.arch_point(t, 0.0, 0.0) + rng.uniform(-0.5, 0.5, 3)  # clicks up to 0.5 mm off
        inner = ANATOMY.arch_point(t, 0.0, width) + rng.uniform(-0.5, 0.5, 3)
        frame = measurement_frame(ANATOMY.arch_point(t, 0.0, 12.0), outer, arch)
        fit = edge_width(case.volume, frame, outer, inner)
        errors.append(fit.width_mm - width)
        assert fit.outer_xyz[2] == pytest.approx(ANATOMY.border_z_mm, abs=0.05)
    assert np.max(np.abs(errors)) < 0.1, np.round(errors, 3)


@pytest.mark.parametrize("voxel_mm,clean", CONDITIONS)
def test_case_at_the_foramina_matches_truth(voxel_mm, clean):
    case = phantom(voxel_mm, clean)
    result = measure_case(case.volume, case.landmarks)
    assert result.method == "edge"
    for side in ("left", "right"):
        truth = case.truth["sides"][side]["measurements"]
        measured = result.sides[side]
        assert measured["W"].method == "edge"
        assert measured["W"].value == pytest.approx(truth["W"]["value"], abs=0.1)
        assert measured["S"].value == pytest.approx(truth["S"]["value"], abs=0.15)
        assert measured["I"].value == pytest.approx(truth["I"]["value"], abs=0.15)
        outer = np.asarray(result.refined_points[side]["border_outer"])
        assert outer[2] == pytest.approx(ANATOMY.border_z_mm, abs=0.05)


@pytest.mark.parametrize("voxel_mm,clean", [(0.3, True), (0.3, False)])
@pytest.mark.parametrize("outer_off,inner_off", [(0.5, 0.5), (-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5)])
def test_clicks_half_a_mm_off_still_give_the_true_width(voxel_mm, clean, outer_off, inner_off):
    case = phantom(voxel_mm, clean)
    marks = case.landmarks.copy()
    for side in ("left", "right"):
        points = marks.sides[side].points
        points["border_outer"] = tuple(np.add(points["border_outer"], (0, 0, outer_off)))
        points["border_inner"] = tuple(np.add(points["border_inner"], (0, 0, inner_off)))
    refined = measure_case(case.volume, marks)
    manual = measure_case(case.volume, marks, refine=False)
    for side in ("left", "right"):
        true_w = case.truth["sides"][side]["measurements"]["W"]["value"]
        assert refined.sides[side]["W"].value == pytest.approx(true_w, abs=0.1)
        assert manual.sides[side]["W"].value == pytest.approx(true_w + inner_off - outer_off, abs=1e-6)
        assert manual.sides[side]["W"].method == "manual"
        assert manual.sides[side]["W"].uncertainty == pytest.approx(voxel_mm / 2)


def test_manual_measurements_from_true_landmarks_are_exact():
    case = phantom(0.3, True)
    result = measure_case(case.volume, case.landmarks, refine=False)
    assert result.method == "manual" and result.refined_points == {}
    for side in ("left", "right"):
        for mid in ("W", "S", "I"):
            assert result.sides[side][mid].value == pytest.approx(case.truth["sides"][side]["measurements"][mid]["value"], abs=1e-6)


def test_fractal_dimension_is_stable_under_noise():
    clean, noisy = phantom(0.3, True), phantom(0.3, True, noise_sd=60.0)
    arch = arch_from_points(clean.landmarks.arch_points)
    for side in ("left", "right"):
        roi = clean.landmarks.sides[side].trab_roi
        fd_clean = trabecular_measurements(clean.volume, arch, roi)["FD"]
        fd_noisy = trabecular_measurements(noisy.volume, arch, roi)["FD"]
        assert 1.0 < fd_clean.value < 2.0 and fd_clean.details["r_squared"] > 0.95
        assert fd_noisy.value == pytest.approx(fd_clean.value, abs=0.05)
