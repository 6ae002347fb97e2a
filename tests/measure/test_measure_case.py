"""measure_case on a small synthetic cortex: missing inputs, methods, trabecular ROI, JSON."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.io.landmarks_file import LandmarkSet, TrabecularRoi
from cbct_osteo.measure.case import MEASUREMENT_IDS, measure_case
from cbct_osteo.measure.cortical import step_model
from cbct_osteo.measure.geometry import arch_from_points, measurement_frame

from measure_synthetic import CORTEX, cortex_volume, straight_arch


@pytest.fixture(scope="module")
def volume():
    return cortex_volume(2.5, voxel_mm=0.3, blur_mm=0.3, noise=30.0, seed=5)


def left_landmarks(offset_outer=0.0, offset_inner=0.0) -> LandmarkSet:
    marks = LandmarkSet(arch_points=straight_arch())
    marks.sides["left"].points.update(
        {
            "foramen_centre": (1.0, -2.0, 4.0),
            "foramen_superior": (1.0, -2.0, 5.0),
            "foramen_inferior": (1.2, -2.3, 3.0),
            "border_outer": (1.0, -2.0, -6.0 + offset_outer),
            "border_inner": (1.0, -2.0, -3.5 + offset_inner),
        }
    )
    marks.sides["left"].trab_roi = TrabecularRoi((1.0, 0.0, 0.5), 4.0, "square")
    return marks


def test_every_id_on_both_sides_and_missing_says_what(volume):
    result = measure_case(volume, left_landmarks())
    for side in ("left", "right"):
        assert tuple(result.sides[side]) == MEASUREMENT_IDS
    right = result.sides["right"]
    assert all(m.value is None for m in right.values())
    assert set(right["W"].missing) == {"foramen_centre", "border_outer", "border_inner"}
    assert right["TRAB_MEAN"].missing == ("trab_roi",)
    assert any(i.side == "right" and i.severity == "missing" for i in result.issues)
    document = result.to_json()
    assert document["sides"]["right"]["measurements"]["W"]["value"] is None
    assert document["sides"]["left"]["measurements"]["W"]["method"] == "edge"


def test_edge_width_and_heights_from_offset_clicks(volume):
    result = measure_case(volume, left_landmarks(offset_outer=0.45, offset_inner=-0.4))
    left = result.sides["left"]
    assert left["W"].value == pytest.approx(2.5, abs=0.1)
    assert left["W"].details["placed_value"] == pytest.approx(2.5 - 0.85, abs=1e-4)
    assert 0.0 < left["W"].details["fitted_sigma_mm"] < 0.6
    budget = left["W"].details["uncertainty_budget_mm"]
    assert set(budget) == {"fit", "lines", "sampling", "border_tilt", "model"}
    assert left["W"].uncertainty == pytest.approx(np.sqrt(sum(v * v for v in budget.values())), abs=1e-3)
    assert left["W"].quality == "ok" and left["W"].notes == ()
    document = left["W"].to_json()
    assert document["edges_mm"]["source"] == "edge"
    assert document["edges_mm"]["outer"][2] == pytest.approx(-6.0, abs=0.05)
    assert document["line_mm"][1] == pytest.approx([1.0, -2.0, 4.0])  # ends at the foramen centre
    assert left["S"].value == pytest.approx(11.0, abs=0.1)  # from the refined border at z = -6
    assert left["I"].value == pytest.approx(9.0, abs=0.1)  # margin 0.3 mm beside the line: height unchanged
    refined = result.refined_points["left"]
    assert refined["border_outer"][2] == pytest.approx(-6.0, abs=0.05)
    assert refined["border_inner"][2] == pytest.approx(-3.5, abs=0.1)


def test_missing_inner_margin_only_blocks_w(volume):
    marks = left_landmarks()
    del marks.sides["left"].points["border_inner"]
    left = measure_case(volume, marks).sides["left"]
    assert left["W"].value is None and left["W"].missing == ("border_inner",)
    assert left["S"].value == pytest.approx(11.0, abs=0.2) and left["S"].method == "manual"


def test_trabecular_needs_the_arch(volume):
    marks = left_landmarks()
    marks.arch_points = []
    left = measure_case(volume, marks).sides["left"]
    assert left["FD"].value is None and left["FD"].missing == ("arch",)
    assert left["W"].ok and any("no dental arch" in n for n in left["W"].notes)


def test_trabecular_values(volume):
    left = measure_case(volume, left_landmarks()).sides["left"]
    assert left["TRAB_MEAN"].unit == "gray value" and 300 < left["TRAB_MEAN"].value < 1100
    p = left["TRAB_MEAN"].details["percentiles"]
    assert p["p5"] < p["p50"] < p["p95"]
    assert 0.3 < left["BV_TV"].value < 0.7  # half the sponge is bone
    assert 1.0 < left["FD"].value < 2.0 and left["FD"].details["box_sizes_px"] == list(range(2, 11))
    assert 1.0 < left["FD_3D"].value < 3.0


def test_roi_in_the_cortex_has_no_trabecular_pattern_but_no_crash():
    volume = cortex_volume(6.0, voxel_mm=0.4, extent=(24.0, 20.0, 12.0))
    marks = LandmarkSet(arch_points=straight_arch())
    marks.sides["left"].trab_roi = TrabecularRoi((0.0, 0.0, -4.0), 2.0, "circle")  # all cortex: uniform
    left = measure_case(volume, marks).sides["left"]
    assert left["TRAB_MEAN"].value == pytest.approx(CORTEX, rel=1e-3)
    assert left["TRAB_SD"].value == pytest.approx(0.0, abs=1e-3)
    assert left["FD"].value is None and "no trabecular pattern" in left["FD"].details["problem"]


def test_measurement_frame_ignores_the_arch_tangent_component():
    arch = arch_from_points(straight_arch())
    frame = measurement_frame((0.0, 0.0, 10.0), (3.0, 0.0, 0.0), arch)  # border clicked 3 mm along the arch
    assert frame.direction == pytest.approx([0.0, 0.0, 1.0])
    assert frame.in_plane and abs(np.dot(frame.across, frame.tangent)) < 1e-12
    with pytest.raises(ValueError):
        measurement_frame((0.0, 0.0, 0.0), (5.0, 0.0, 0.0), arch)


def test_step_model_levels_and_edges():
    t = np.array([-10.0, 0.0, 1.5, 3.0, 10.0])
    values = step_model(np.array([100.0, 1500.0, 600.0, 0.0, 3.0, 0.2]), t)
    assert values == pytest.approx([100.0, 800.0, 1500.0, 1050.0, 600.0])


def test_roi_outside_the_scan_is_not_computable_with_a_reason() -> None:
    """An ROI placed off the scan gives no numbers and says why, instead of failing inside Otsu."""
    import numpy as np

    from cbct_osteo.io.landmarks_file import TrabecularRoi
    from cbct_osteo.measure.trabecular import trabecular_measurements
    from cbct_osteo.reformat import ArchCurve
    from cbct_osteo.volume import Volume

    volume = Volume(
        np.random.default_rng(0).integers(0, 1000, (20, 40, 40)).astype(np.int16),
        (0.5, 0.5, 0.5),
        np.diag([0.5, 0.5, 0.5, 1.0])[[2, 1, 0, 3]],
    )
    arch = ArchCurve.from_points([[2.0, 15.0, 5.0], [10.0, 5.0, 5.0], [18.0, 15.0, 5.0]])
    result = trabecular_measurements(volume, arch, TrabecularRoi(centre=(10.0, 5.0, 40.0), size_mm=5.0))
    assert {m.value for m in result.values()} == {None}
    assert "outside the scanned volume" in result["BV_TV"].details["reason"]
    inside = trabecular_measurements(volume, arch, TrabecularRoi(centre=(10.0, 10.0, 5.0), size_mm=4.0))
    assert inside["TRAB_MEAN"].ok and inside["BV_TV"].ok


def test_landmarks_outside_the_scan_give_no_width() -> None:
    """Landmarks from another scan must not yield a clamped-edge 'width' (and so a risk category)."""
    volume = cortex_volume(3.0, voxel_mm=0.4, extent=(24.0, 20.0, 12.0))
    marks = LandmarkSet(arch_points=straight_arch())
    for kind, z in (("foramen_centre", 200.0), ("border_outer", 190.0), ("border_inner", 193.0)):
        marks.sides["left"].points[kind] = (0.0, 0.0, z)
    left = measure_case(volume, marks).sides["left"]
    assert left["W"].value is None
    assert "outside the scanned volume" in left["W"].details["reason"]
