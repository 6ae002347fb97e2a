"""W on a simulated dental CBCT (anatomical mandible, cone-beam projections, FDK) against its truth.

Issue 15, "Done when": for cortices >= 1 mm at voxels <= 0.3 mm and border slopes <= 25 deg,
|W error| <= 0.15 mm; every other site within 0.3 mm or marked "uncertain"/"not measurable"; no
site silently wrong by more than 0.3 mm. The truth is the model's geometry (truth.json: found on
the model's surfaces, not by the measurement code); clicks are the true landmarks and the same
moved up to 0.5 mm. One fixed case (about 2 minutes to simulate): a 2.5 mm cortex on the right and
a 1.0 mm one on the left, the border sloping 25 deg along the arch and tilted 10 deg bucco-lingually.
The 1 mm cortex is thin for the scan (blur sigma ~0.37 mm, 2.7 samples along the line): the
mean-profile fit reads it within 0.06 mm, and it is marked "uncertain" at this resolution.
"""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.measure.case import measure_case

pytest.importorskip("itk", reason="itk-rtk (the [simulate] extra) is not installed")

#: The field holds the inferior border 6 mm above its lowest slice (cone-beam edge slices are poor).
CASE = {
    "shape": (110, 200, 200),
    "voxel_mm": 0.3,
    "seed": 5,
    "cortex_mm": (1.0, 2.5),
    "border_slope_deg": 25.0,
    "border_tilt_deg": 10.0,
    "fov": "small",
    "projections": 90,
}
TARGET_MM = 0.15
SILENT_MM = 0.3


@pytest.fixture(scope="session")
def simulated():
    from cbct_osteo.phantom.simulated import make_cbct_case

    return make_cbct_case(**CASE)


def _clicks(case, trial: int):
    marks = case.landmarks.copy()
    if trial:
        rng = np.random.default_rng(trial)
        for side in ("left", "right"):
            points = marks.sides[side].points
            for kind in ("border_outer", "border_inner"):
                points[kind] = tuple(np.add(points[kind], (0.0, 0.0, rng.uniform(-0.5, 0.5))))
    return marks


@pytest.mark.slow
@pytest.mark.parametrize("trial", [0, 1, 2, 3])
def test_w_on_the_simulated_cbct(simulated, trial):
    result = measure_case(simulated.volume, _clicks(simulated, trial))
    for side in ("left", "right"):
        truth = simulated.truth["sides"][side]["measurements"]["W"]["value"]
        w = result.sides[side]["W"]
        if w.quality == "ok":
            assert abs(w.value - truth) <= SILENT_MM, (side, w.value, truth)  # never silently wrong
        assert w.method == "edge" and w.value == pytest.approx(truth, abs=TARGET_MM), (side, w.value, truth, w.notes)
        assert abs(w.details["border_slope_along_deg"]) == pytest.approx(25.0, abs=5.0)
        if truth >= 2.0:  # well above the blur: an unconstrained fit, "ok" unless the clicks are far off
            assert w.quality == "ok" or any("differs from the placed points" in n for n in w.notes), (side, w.notes)
        else:  # 1 mm under ~0.37 mm blur (under 3 samples across): within target, but never "ok", and says why
            assert w.quality == "uncertain" and w.notes, (side, w.notes)


@pytest.mark.slow
def test_heights_on_the_simulated_cbct(simulated):
    result = measure_case(simulated.volume, simulated.landmarks)
    for side in ("left", "right"):
        for mid in ("S", "I"):
            truth = simulated.truth["sides"][side]["measurements"][mid]["value"]
            m = result.sides[side][mid]
            assert abs(m.value - truth) <= 2.0 * m.uncertainty, (side, mid, m.value, truth, m.uncertainty)


@pytest.fixture(scope="session")
def simulated_porous():
    from cbct_osteo.phantom.simulated import make_cbct_case

    return make_cbct_case(
        **{
            **CASE,
            "seed": 3,
            "cortex_mm": (2.5, 2.5),
            "border_slope_deg": 15.0,
            "border_tilt_deg": 6.0,
            "porous_cortex": True,
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize("trial", [0, 1])
def test_a_porous_cortex_is_marked(simulated_porous, trial):
    """A trabecularised endosteal zone (C2/C3): the truth's margin is the inner edge of the porous
    zone, the image shows a gradual fall and the fit stops at the compact part (1.5 of 2.5 mm).
    With clicks on the true margins (or moved as in trial 1) the disagreement marks it."""
    result = measure_case(simulated_porous.volume, _clicks(simulated_porous, trial))
    for side in ("left", "right"):
        truth = simulated_porous.truth["sides"][side]["measurements"]["W"]["value"]
        w = result.sides[side]["W"]
        if w.value is not None and abs(w.value - truth) > SILENT_MM:
            assert w.quality != "ok" and w.notes, (side, w.value, truth)


@pytest.mark.slow
def test_a_porous_cortex_graded_c2_is_marked_whatever_the_clicks(simulated_porous):
    """Trial 2 moves the inner click 0.7 mm down toward the compact part: the clicks then agree with
    the fit. The user's CTCI grade (C2) marks W uncertain (the profile check does too, see below)."""
    marks = _clicks(simulated_porous, 2)
    marks.grades = {"left": {"CTCI": "C2"}, "right": {"CTCI": "C2"}}
    result = measure_case(simulated_porous.volume, marks)
    for side in ("left", "right"):
        w = result.sides[side]["W"]
        assert w.quality == "uncertain" and any("graded C2" in n or "porous" in n for n in w.notes), w.notes


@pytest.mark.slow
def test_an_ungraded_porous_cortex_with_clicks_on_the_compact_part_is_marked(simulated_porous):
    """Trial 2 moves the inner click toward the compact part, so the clicks agree with the fit (1.5 of
    2.5 mm); no grade is given. The profile itself shows the porous zone: the endosteal fall (1.15 mm
    from 20 to 80 %) is twice the outer rise (0.55-0.6 mm), both seen through the same blur, so W is
    "uncertain" and says why."""
    result = measure_case(simulated_porous.volume, _clicks(simulated_porous, 2))
    for side in ("left", "right"):
        truth = simulated_porous.truth["sides"][side]["measurements"]["W"]["value"]
        w = result.sides[side]["W"]
        assert w.quality != "ok" or abs(w.value - truth) <= SILENT_MM, (side, w.value, truth)
        assert w.quality == "uncertain" and any("porous" in n for n in w.notes), (side, w.notes)
