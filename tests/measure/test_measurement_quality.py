"""Measurements that know their limits: failed fits, degenerate input, resolution, sloping borders.

Truth comes from the synthetic volumes' geometry (measure_synthetic: the cortex is built as
partial-volume voxels from exact millimetre boundaries), never from the measured value.
"""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.io.landmarks_file import LandmarkSet, TrabecularRoi
from cbct_osteo.measure.case import measure_case
from cbct_osteo.measure.geometry import arch_from_points
from cbct_osteo.measure.profile_checks import visible_steps
from cbct_osteo.measure.trabecular import trabecular_measurements
from cbct_osteo.measure.validation import validate_landmarks

from measure_synthetic import coarser_slices, cortex_volume, rotation, straight_arch, tilted

BORDER_Z = -6.0


def landmarks(
    outer_z: float = BORDER_Z, inner_z: float = BORDER_Z + 2.5, matrix: np.ndarray | None = None, arch=None
) -> LandmarkSet:
    """Left-side landmarks on the vertical line x = 1, y = -2 (optionally rotated with the body)."""
    m = np.eye(3) if matrix is None else matrix
    points = {
        "foramen_centre": (1.0, -2.0, 4.0),
        "foramen_superior": (1.0, -2.0, 5.0),
        "foramen_inferior": (1.0, -2.0, 3.0),
        "border_outer": (1.0, -2.0, outer_z),
        "border_inner": (1.0, -2.0, inner_z),
    }
    marks = LandmarkSet(arch_points=[tuple(m @ p) for p in (arch or straight_arch())])
    marks.sides["left"].points.update({k: tuple(m @ np.asarray(p)) for k, p in points.items()})
    return marks


def on_vertical(matrix: np.ndarray, centre: np.ndarray, z_body: float) -> tuple[float, float, float]:
    """The point of the vertical through ``centre`` where the rotated body's height is ``z_body``:
    where a user clicks a margin in the cross-section through the foramen."""
    row = matrix.T[2]  # body z' = row . (x, y, z), linear in z
    z = (z_body - row[0] * centre[0] - row[1] * centre[1]) / row[2]
    return (float(centre[0]), float(centre[1]), float(z))


def tilted_landmarks(matrix: np.ndarray, arch, outer_off: float = 0.0, inner_off: float = 0.0) -> LandmarkSet:
    centre = matrix @ np.array([1.0, -2.0, 4.0])
    marks = LandmarkSet(arch_points=[tuple(matrix @ np.asarray(p)) for p in arch])
    outer, inner = on_vertical(matrix, centre, BORDER_Z), on_vertical(matrix, centre, BORDER_Z + 2.5)
    marks.sides["left"].points.update(
        {
            "foramen_centre": tuple(centre),
            "border_outer": (outer[0], outer[1], outer[2] + outer_off),
            "border_inner": (inner[0], inner[1], inner[2] + inner_off),
        }
    )
    return marks


@pytest.fixture(scope="module")
def cortex():
    return cortex_volume(2.5, voxel_mm=0.3, blur_mm=0.3, noise=30.0, seed=5)


def test_a_profile_without_endosteal_step_is_not_measurable():
    """Soft tissue, then bone as bright as cortex all the way up: there is no endosteal margin to see."""
    t = np.arange(-8.0, 8.0, 0.05)
    rng = np.random.default_rng(1)
    profiles = 100.0 + 1400.0 * (t >= 0.0)[None, :] + rng.normal(0, 20.0, (45, t.size))
    check = visible_steps(t, profiles, outer_t=0.0, inner_t=2.5)
    assert check.problem() is not None and "no endosteal step" in check.problem()
    with_step = profiles - 800.0 * (t >= 2.5)[None, :]
    assert visible_steps(t, with_step, outer_t=0.0, inner_t=2.5).problem() is None


def test_a_cortex_without_endosteal_step_in_the_volume_is_not_measurable():
    """The cortex runs 12 mm up (past the inner click and the whole search): W must not be invented."""
    volume = cortex_volume(12.0, voxel_mm=0.3, blur_mm=0.3, noise=30.0, seed=2)
    w = measure_case(volume, landmarks()).sides["left"]["W"]
    assert w.value is None and w.quality == "not measurable"
    assert any("no endosteal step" in n for n in w.notes), w.notes
    assert w.details["placed_value"] == pytest.approx(2.5)
    assert w.to_json()["quality"] == "not measurable"


def test_a_failed_fit_falls_back_to_the_placed_points_and_says_why(cortex):
    """Clicks 2 mm below the true endosteum: the edge is found outside the searched window."""
    w = measure_case(cortex, landmarks(inner_z=BORDER_Z + 4.5)).sides["left"]["W"]
    assert w.method == "manual" and w.quality == "uncertain"
    assert w.value == pytest.approx(4.5, abs=1e-6)  # the placed points
    assert w.details["edge_failed"] and any("edge refinement not used" in n for n in w.notes)
    assert w.uncertainty == pytest.approx(w.details["uncertainty_budget_mm"]["placement"], abs=1e-3)
    assert w.to_json()["edges_mm"]["source"] == "placed"


def test_coincident_margins_are_refused_with_a_clear_message(cortex):
    marks = landmarks(inner_z=BORDER_Z)
    w = measure_case(cortex, marks).sides["left"]["W"]
    assert w.value is None and w.quality == "not measurable"
    assert "coincide" in w.notes[0]
    issues = [i for i in validate_landmarks(marks) if i.landmark == "border_inner" and i.side == "left"]
    assert issues and issues[0].severity == "error" and "are the same point" in issues[0].message


def test_coincident_arch_points_are_refused():
    points = straight_arch()
    points.insert(2, points[2])
    with pytest.raises(ValueError, match="arch points 2 and 3 coincide"):
        arch_from_points(points)
    issues = validate_landmarks(LandmarkSet(arch_points=points))
    assert any(i.landmark == "arch" and i.severity == "error" and "coincide" in i.message for i in issues)


def test_an_roi_too_small_for_box_counting_is_refused(cortex):
    arch = arch_from_points(straight_arch())
    result = trabecular_measurements(cortex, arch, TrabecularRoi((1.0, 0.0, 0.5), 1.5, "square"))
    assert result["FD"].value is None and "box counting needs at least 2 mm" in result["FD"].notes[0]
    marks = landmarks()
    marks.sides["left"].trab_roi = TrabecularRoi((1.0, 0.0, 0.5), 1.5, "square")
    assert any(i.landmark == "trab_roi" and i.severity == "error" for i in validate_landmarks(marks))


@pytest.mark.parametrize("factor, expected", [(10, "not measurable"), (5, "uncertain")])
def test_coarse_slices_cannot_resolve_the_cortex(cortex, factor, expected):
    """A vertical line crosses the slices: 3 mm slices hold a 2.5 mm cortex in one sample, 1.5 mm in 1.7."""
    coarse = coarser_slices(cortex, factor)
    w = measure_case(coarse, landmarks()).sides["left"]["W"]
    assert w.quality == expected, (w.value, w.notes)
    slice_mm = 0.3 * factor
    assert any("at this resolution" in n and f"{slice_mm:.2g} mm" in n for n in w.notes), w.notes
    if expected == "not measurable":
        assert w.value is None
    else:
        assert abs(w.value - 2.5) <= 2.0 * w.uncertainty  # the uncertainty covers the error


def test_texture_measures_on_coarse_voxels_are_marked(cortex):
    arch = arch_from_points(straight_arch())
    roi = TrabecularRoi((1.0, 0.0, 0.5), 4.0, "square")
    fine = trabecular_measurements(cortex, arch, roi)  # 0.3 mm voxels: partly resolved
    assert fine["FD"].quality == "uncertain" and "0.2 mm" in fine["FD"].notes[-1]
    assert fine["TRAB_MEAN"].quality == "ok"  # a mean gray value needs no texture
    coarse = trabecular_measurements(coarser_slices(cortex, 2), arch, roi)  # 0.6 mm slices
    for key in ("TRAB_SD", "BV_TV", "FD", "FD_3D"):
        assert coarse[key].value is None and coarse[key].quality == "not measurable", key
    assert coarse["TRAB_MEAN"].ok


@pytest.mark.parametrize("slope_deg", [10.0, 20.0, 25.0])
def test_a_border_sloping_along_the_arch_is_followed(slope_deg):
    """The body tilted about the bucco-lingual axis: the averaged lines +-4 mm along the arch see the
    border up to 4 tan(25 deg) = 1.9 mm apart. In the cross-section the cortex is cut obliquely and
    shows W / cos(slope) (INDICES.md: W is measured in the cross-section)."""
    volume = cortex_volume(2.5, voxel_mm=0.3, blur_mm=0.3, noise=30.0, seed=5, extent=(24.0, 20.0, 20.0))
    matrix = rotation("y", slope_deg)
    tilted_volume = tilted(volume, matrix)
    arch = [(x, 0.0, 0.0) for x in np.linspace(-8.0, 8.0, 6)]
    rng = np.random.default_rng(int(slope_deg))
    for trial in range(3):
        off_outer, off_inner = rng.uniform(-0.5, 0.5, 2) if trial else (0.0, 0.0)
        marks = tilted_landmarks(matrix, arch, off_outer, off_inner)
        w = measure_case(tilted_volume, marks).sides["left"]["W"]
        truth = 2.5 / np.cos(np.radians(slope_deg))
        assert w.method == "edge" and w.quality == "ok", w.notes
        assert w.value == pytest.approx(truth, abs=0.15), (slope_deg, trial)
        assert abs(w.details["border_slope_along_deg"]) == pytest.approx(slope_deg, abs=3.0)
        assert w.details["width_perpendicular_3d_mm"] == pytest.approx(2.5, abs=0.15)


def test_a_border_tilted_bucco_lingually_gives_the_perpendicular_width():
    """Body tilted 15 deg in the cross-section, clicks on a vertical line: the line crosses the cortex
    obliquely (2.59 mm along it); W is the width perpendicular to the border, 2.5 mm."""
    volume = cortex_volume(2.5, voxel_mm=0.3, blur_mm=0.3, noise=30.0, seed=5)
    matrix = rotation("x", 15.0)
    tilted_volume = tilted(volume, matrix)
    marks = tilted_landmarks(matrix, straight_arch())
    w = measure_case(tilted_volume, marks).sides["left"]["W"]
    assert w.details["placed_value"] == pytest.approx(2.5 / np.cos(np.radians(15.0)), abs=0.01)
    assert abs(w.details["border_slope_across_deg"]) == pytest.approx(15.0, abs=3.0)
    assert w.value == pytest.approx(2.5, abs=0.15) and w.quality == "ok"
