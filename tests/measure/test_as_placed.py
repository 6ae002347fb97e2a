"""Issue 16: "edge-refined / as placed" chosen per side and measurement (W, S, I share the cortical fit)."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.indices import analyse_case
from cbct_osteo.measure.case import measure_case
from cbct_osteo.measure.geometry import arch_from_points, measurement_frame


def dragged_inner(case, side: str, mm: float):
    """The true landmarks with ``side``'s endosteal marker moved ``mm`` up into the trabecular bone."""
    landmarks = case.landmarks.copy()
    x, y, z = landmarks.sides[side].points["border_inner"]
    landmarks.sides[side].points["border_inner"] = (x, y, z + mm)
    return landmarks


def placed_width(landmarks, side: str) -> float:
    points = landmarks.sides[side].points
    frame = measurement_frame(points["foramen_centre"], points["border_outer"], arch_from_points(landmarks.arch_points))
    return float(frame.position(points["border_inner"]) - frame.position(points["border_outer"]))


def test_as_placed_w_is_the_marker_distance_while_the_rest_stays_edge_refined(small_phantom):
    landmarks = dragged_inner(small_phantom, "right", 0.4)
    truth = small_phantom.truth["sides"]["right"]["measurements"]["W"]["value"]
    refined = measure_case(small_phantom.volume, landmarks).sides
    assert refined["right"]["W"].method == "edge" and refined["right"]["W"].value == pytest.approx(truth, abs=0.3)
    chosen = measure_case(small_phantom.volume, landmarks, as_placed=[("right", "W")]).sides
    assert chosen["right"]["W"].method == "manual"
    assert chosen["right"]["W"].value == pytest.approx(placed_width(landmarks, "right"), abs=1e-6)
    assert chosen["right"]["W"].value - truth > 0.25  # the 0.4 mm drag counts as placed
    # S and I of that side keep the fitted outer border, the other side is untouched
    for mid in ("S", "I"):
        assert chosen["right"][mid].method == "edge" and chosen["right"][mid].value == refined["right"][mid].value
    for mid in ("W", "S", "I"):
        assert chosen["left"][mid].method == refined["left"][mid].method == "edge"
        assert chosen["left"][mid].value == refined["left"][mid].value


def test_as_placed_heights_use_the_placed_border_and_reach_the_results_json(small_phantom):
    landmarks = small_phantom.landmarks.copy()
    x, y, z = landmarks.sides["left"].points["border_outer"]
    landmarks.sides["left"].points["border_outer"] = (x, y, z - 0.5)  # placed 0.5 mm below the true border
    refined = measure_case(small_phantom.volume, landmarks).sides["left"]
    chosen = measure_case(small_phantom.volume, landmarks, as_placed=[("left", "S")]).sides["left"]
    assert chosen["S"].method == "manual" and chosen["I"].method == "edge" and chosen["W"].method == "edge"
    assert chosen["S"].value - refined["S"].value == pytest.approx(0.5, abs=0.15)  # from the placed border
    assert chosen["I"].value == refined["I"].value
    document = analyse_case(small_phantom.volume, landmarks, as_placed=[("left", "S")]).to_json()
    assert document["provenance"]["as_placed"] == [["left", "S"]]
    assert document["provenance"]["methods"]["left"]["S"] == "manual"
    assert document["sides"]["left"]["measurements"]["S"]["method"] == "manual"
    assert np.isclose(document["sides"]["left"]["measurements"]["W"]["value"], refined["W"].value)
