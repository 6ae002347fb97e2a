"""W, S and I on one case of the accuracy study (benchmarks/accuracy.py) against its truth.

The case: the study's small field (30 x 70 x 70 mm at 0.3 mm), 3 mm cortices on a flat border
(slope 0 deg). Until the scanner's isocentre was put at the field centre, the cone missed the
field's lower 7 mm and the image read air 2 mm under the inferior border; the outer rise was then
air -> thin tissue -> bone and W, S and I were 0.35-0.5 mm off (caught as "uncertain" by the
outer-step check). With soft tissue under the border, as in a patient, issue 15's bounds hold:
|W error| <= 0.15 mm ("ok") for clicks on the truth and 0.5 mm off, S and I within 0.15 mm. S and
I are "ok" only when the image confirms their margins to a one-sigma 0.15 mm; on this channel (crossed
obliquely, its wall moving ~0.1 mm when the line moves 0.3 mm) it does not, so they are "uncertain"
with a stated uncertainty that covers the true error. The truth is the model's geometry (truth.json),
not the measurement code.
"""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.indices.case import analyse_case
from cbct_osteo.measure.sampling import sample_points

pytest.importorskip("itk", reason="itk-rtk (the [simulate] extra) is not installed")

#: benchmarks/accuracy.py's FIELD_MM (30, 70, 70) at 0.3 mm, its "voxel x cortex" settings.
CASE = {
    "shape": (100, 233, 233),
    "voxel_mm": 0.3,
    "fov": "small",
    "seed": 1,
    "cortex_mm": (3.0, 3.0),
    "border_slope_deg": 0.0,
    "photons": 20000.0,
    "bone_fraction": 0.3,
    "detector_blur_mm": 0.2,
    "projections": 180,
}
TARGET_MM = 0.15
SILENT_MM = 0.3


@pytest.fixture(scope="session")
def accuracy_case():
    from cbct_osteo.phantom.simulated import make_cbct_case

    return make_cbct_case(**CASE)


@pytest.mark.slow
def test_soft_tissue_not_air_under_the_border(accuracy_case):
    """1-6 mm under the true border point (straight down) the image shows the model's soft tissue."""
    from cbct_osteo.phantom.simulated import AIR_GRAY

    for side in ("left", "right"):
        border = np.asarray(accuracy_case.landmarks.sides[side].points["border_outer"])
        below = border[None, :] - np.linspace(1.0, 6.0, 11)[:, None] * np.array([0.0, 0.0, 1.0])
        values = sample_points(accuracy_case.volume, below)
        assert np.all(values > AIR_GRAY + 1000.0), (side, values.round())


@pytest.mark.slow
@pytest.mark.parametrize("offset_mm", [0.0, 0.5, -0.5])
def test_w_s_i_within_the_target(accuracy_case, offset_mm):
    marks = accuracy_case.landmarks.copy()
    for side in ("left", "right"):
        points = marks.sides[side].points
        for kind in ("border_outer", "border_inner"):
            points[kind] = tuple(np.add(points[kind], (0.0, 0.0, offset_mm)))
    result = analyse_case(accuracy_case.volume, marks).to_json()
    for side in ("left", "right"):
        for mid in ("W", "S", "I"):
            truth = accuracy_case.truth["sides"][side]["measurements"][mid]["value"]
            m = result["sides"][side]["measurements"][mid]
            assert m["value"] is not None, (side, mid, m)
            error = abs(m["value"] - truth)
            if m["quality"] == "ok":
                assert error <= SILENT_MM, (side, mid, m["value"], truth)  # never silently wrong
            assert error <= TARGET_MM, (side, mid, m["value"], truth)
            assert error <= 2.0 * m["uncertainty"], (side, mid, m)  # the stated uncertainty covers the error
        assert result["sides"][side]["measurements"]["W"]["quality"] == "ok", (side, result["sides"][side])
        for mid in ("S", "I"):  # the margins, clicked on the truth, are confirmed by the image ...
            m = result["sides"][side]["measurements"][mid]
            assert m["details"]["margin_check"]["margin_sigma_mm"] is not None, (side, mid, m)
            if m["quality"] != "ok":  # ... but may be known only to more than 0.15 mm, and the note says so
                assert m["uncertainty"] > 0.15 and any("foramen margin is known only" in note for note in m["notes"]), m


#: A foramen margin clicked this far off along the measurement line (mm): issue 15's 0.5 mm, and more.
MARGIN_OFF_MM = 0.6


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["foramen_superior", "foramen_inferior"])
@pytest.mark.parametrize("offset_mm", [MARGIN_OFF_MM, -MARGIN_OFF_MM])
def test_a_foramen_margin_clicked_off_is_not_silently_wrong(accuracy_case, kind, offset_mm):
    """S and I use the margins as placed: one clicked 0.6 mm off (into the lumen or into bone) is marked."""
    mid = "S" if kind == "foramen_superior" else "I"
    marks = accuracy_case.landmarks.copy()
    for side in ("left", "right"):
        points = marks.sides[side].points
        line = np.subtract(points["foramen_centre"], points["border_outer"])
        points[kind] = tuple(np.add(points[kind], offset_mm * line / np.linalg.norm(line)))
    result = analyse_case(accuracy_case.volume, marks).to_json()
    for side in ("left", "right"):
        truth = accuracy_case.truth["sides"][side]["measurements"][mid]["value"]
        m = result["sides"][side]["measurements"][mid]
        assert abs(m["value"] - truth) > SILENT_MM, (side, mid, m["value"], truth)  # the click's error is there
        assert m["quality"] == "uncertain", (side, mid, m)
        assert any("foramen's" in note and f"{m['value']:.2f} mm" in note for note in m["notes"]), m["notes"]
        assert m["details"]["margin_check"]["margin_sigma_mm"] is None, m  # not confirmed by the image
        other = result["sides"][side]["measurements"]["I" if mid == "S" else "S"]
        assert other["details"]["margin_check"]["margin_sigma_mm"] is not None, (side, other)  # on the truth


#: The foramen centre placed this far beside the true one, bucco-lingually (mm).
CENTRE_OFF_MM = 0.5


@pytest.mark.slow
@pytest.mark.parametrize("offset_mm", [CENTRE_OFF_MM, -CENTRE_OFF_MM])
def test_margins_clicked_on_a_line_beside_the_foramen_centre_are_not_silently_wrong(accuracy_case, offset_mm):
    """A centre placed 0.5 mm buccal or lingual, and both margins clicked exactly where that line leaves the
    mental channel (the model's geometry): the canal runs obliquely there, so those margins are not the true
    ones. S and I are never "ok" and off by more than 0.3 mm, the check sees the wall move with the line, and
    the stated uncertainty covers the error."""
    from cbct_osteo.phantom.anatomy import mandible_model
    from cbct_osteo.reformat import ArchCurve

    options = accuracy_case.options
    model = mandible_model(options.cortex_mm, options.border_slope_deg, options.border_tilt_deg, options.porous_cortex)
    arch = ArchCurve.from_points(np.array(accuracy_case.landmarks.arch_points))
    marks = accuracy_case.landmarks.copy()
    for side in ("left", "right"):
        points = marks.sides[side].points
        centre = np.asarray(points["foramen_centre"], float)
        centre = centre + offset_mm * np.asarray(arch.normal(arch.closest_arc_position(centre)))
        points["foramen_centre"] = tuple(centre)
        line = centre - np.asarray(points["border_outer"], float)
        line /= np.linalg.norm(line)
        t = np.arange(0.0, 5.0, 0.002)
        for kind, sign in (("foramen_superior", 1.0), ("foramen_inferior", -1.0)):
            along = centre[None, :] + sign * t[:, None] * line[None, :]
            inside = model.channel_sdf(along[:, 0], along[:, 1], along[:, 2]) < 0
            assert inside[0], (side, "the moved centre must still lie in the channel")
            points[kind] = tuple(along[int(np.argmax(~inside))])  # where this line leaves the channel
    result = analyse_case(accuracy_case.volume, marks).to_json()
    for side in ("left", "right"):
        for mid in ("S", "I"):
            m = result["sides"][side]["measurements"][mid]
            error = abs(m["value"] - accuracy_case.truth["sides"][side]["measurements"][mid]["value"])
            if m["quality"] == "ok":
                assert error <= SILENT_MM, (side, mid, m)
            assert error <= 2.0 * m["uncertainty"], (side, mid, error, m)
            assert m["details"]["margin_check"]["wall_moves_with_line_mm"] >= 0.03, (side, mid, m)
