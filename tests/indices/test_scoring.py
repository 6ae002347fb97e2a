"""Formulas on hand-computed examples, categories, wording, screening text and the results JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cbct_osteo.indices import format_table, provenance, score_case
from cbct_osteo.indices.catalogue import CATALOGUE_VERSION, csv_columns, entry
from cbct_osteo.indices.scoring import LOW, NO_CUTOFF, NORMAL, NOT_COMPUTABLE, PENDING
from cbct_osteo.io.landmarks_file import LandmarkSet, SideLandmarks
from cbct_osteo.measure.quantity import Measurement
from cbct_osteo.volume import Volume, VolumeMeta, affine_from_axes


def mm(measurement_id, value, sigma=None, method="edge"):
    return Measurement(measurement_id, value, "mm", method, sigma)


def side(W=3.5, S=14.0, I=10.0, sW=0.05, sSI=0.1, trab=True):  # noqa: E741  (I: the inferior height's own name)
    values = {"W": mm("W", W, sW), "S": mm("S", S, sSI, "manual"), "I": mm("I", I, sSI, "manual")}
    if trab:
        values.update(
            TRAB_MEAN=Measurement("TRAB_MEAN", 812.5, "gray value", "roi mean"),
            TRAB_SD=Measurement("TRAB_SD", 143.0, "gray value", "roi sd"),
            BV_TV=Measurement("BV_TV", 0.42, "ratio", "otsu"),
            FD=Measurement("FD", 1.41, "1", "box counting", details={"r2": 0.99}),
        )
    return values


def test_ratio_formulas_and_uncertainty_by_hand():
    result = score_case({"left": side(W=2.5, S=14.0, I=10.0), "right": side()})
    cti_s = result.sides["left"].indices["CTI_S"]
    # 2.5 / 14 = 0.178571...; sigma = 0.178571 * sqrt((0.05/2.5)^2 + (0.1/14)^2) = 0.0037924
    assert cti_s.value == pytest.approx(0.1785714, abs=1e-7)
    assert cti_s.uncertainty == pytest.approx(0.0037924, abs=1e-7)
    cti_i = result.sides["left"].indices["CTI_I"]
    # 2.5 / 10 = 0.25; sigma = 0.25 * sqrt(0.02^2 + 0.01^2) = 0.0055902
    assert cti_i.value == pytest.approx(0.25) and cti_i.uncertainty == pytest.approx(0.0055902, abs=1e-7)
    assert cti_s.category == NO_CUTOFF and cti_s.cutoff is None
    ctmi = result.sides["left"].indices["CTMI"]
    assert ctmi.value == 2.5 and ctmi.uncertainty == 0.05 and ctmi.unit == "mm"
    for index_id, value in (("TRAB_MEAN", 812.5), ("TRAB_SD", 143.0), ("BV_TV", 0.42), ("FD", 1.41)):
        r = result.sides["left"].indices[index_id]
        assert r.value == value and r.category == NO_CUTOFF


@pytest.mark.parametrize(
    "w, category",
    # INDICES.md numbers: the 3.1 mm MI threshold (equal is not below), and the ends of the CBCT range 1.7-3.4 mm
    [(3.1, NORMAL), (3.09, LOW), (1.73, LOW), (3.37, NORMAL)],
)
def test_ctmi_category_against_cutoff(w, category):
    result = score_case({"left": side(W=w), "right": side(W=w)})
    assert result.sides["left"].indices["CTMI"].category == category
    assert result.mean["CTMI"].category == category
    assert "cutoff of 3.1 mm" in result.mean["CTMI"].message
    assert "cutoff to verify" in result.mean["CTMI"].message
    # "normal" means no more than this (INDICES.md): never a reassurance about DXA
    assert ("no sign of low bone density on this index" in result.mean["CTMI"].message) == (category == NORMAL)


def test_mean_of_both_sides_and_side_agreement():
    result = score_case({"left": side(W=2.8, sW=0.06), "right": side(W=3.0, sW=0.08)})
    mean = result.mean["CTMI"]
    # (2.8 + 3.0) / 2 = 2.9; sigma = sqrt(0.06^2 + 0.08^2) / 2 = 0.05; tolerance 3 * 0.1 = 0.3 > 0.2
    assert mean.value == pytest.approx(2.9) and mean.uncertainty == pytest.approx(0.05)
    assert mean.category == LOW
    assert mean.side_check.difference == pytest.approx(0.2) and mean.side_check.tolerance == pytest.approx(0.3)
    assert mean.side_check.agree
    apart = score_case({"left": side(W=2.0, sW=0.06), "right": side(W=3.0, sW=0.08)})
    assert not apart.mean["CTMI"].side_check.agree
    assert "check the landmarks" in apart.mean["CTMI"].message
    assert "differ more than the measurement uncertainty" in apart.screening.explanation


def test_not_computable_names_what_to_place():
    missing_inner = Measurement("W", None, "mm", "edge", missing=("border_inner",))
    result = score_case({"left": {**side(), "W": missing_inner}, "right": side()})
    left = result.sides["left"].indices["CTMI"]
    assert left.category == NOT_COMPUTABLE and left.value is None
    assert left.message == "not computable: place border_inner (left)"
    assert result.mean["CTMI"].message == "not computable: place border_inner (left)"
    assert result.screening.code == "incomplete"
    # the user's words: what to place where, no internal id, no nested parentheses
    assert result.screening.explanation == "CTMI is not computable: on the left side place inner margin of the cortex."
    assert "on the left side place inner margin of the cortex" in result.screening.recommendation
    assert "border_inner" not in result.screening.recommendation + result.screening.explanation


def test_not_computable_uses_the_landmarks_when_a_measurement_is_absent():
    landmarks = LandmarkSet()
    landmarks.sides["right"] = SideLandmarks(points={"foramen_centre": (1, 2, 3), "border_outer": (1, 2, 0)})
    result = score_case({"left": side(), "right": {}}, landmarks=landmarks)
    assert (
        result.sides["right"].indices["CTI_S"].message == "not computable: place border_inner, foramen_superior (right)"
    )
    assert result.sides["right"].indices["FD"].message == "not computable: place trab_roi (right)"


def test_zero_denominator_is_not_computable():
    result = score_case({"left": side(S=0.0), "right": side()})
    assert result.sides["left"].indices["CTI_S"].category == NOT_COMPUTABLE
    assert "zero" in result.sides["left"].indices["CTI_S"].message


def test_ctci_grades():
    result = score_case({"left": side(), "right": side()}, {"left": {"CTCI": "C1"}, "right": {"CTCI": "C3"}})
    assert result.sides["left"].indices["CTCI"].category == NORMAL
    assert result.sides["right"].indices["CTCI"].category == LOW
    assert result.mean["CTCI"].value == "C3" and result.mean["CTCI"].category == LOW
    assert "Also below their cutoffs: CTCI C3." in result.screening.explanation
    odd = score_case({"left": side(), "right": side()}, {"left": {"CTCI": "C4"}})
    assert odd.sides["left"].indices["CTCI"].category == NOT_COMPUTABLE
    assert odd.sides["right"].indices["CTCI"].message == "not computable: choose the CTCI grade (right)"


def test_castro_pending_and_screening_falls_back_on_ctmi():
    result = score_case({"left": side(W=2.5), "right": side(W=2.7)})
    assert result.mean["CASTRO"].category == PENDING
    assert result.screening.primary_index == "CTMI"
    assert result.screening.caveats[0] == (
        "The Castro et al. 2020 index is not used: its definition is pending verification from the primary "
        "source, so the screening uses CTMI."
    )
    assert "Castro" not in result.screening.explanation  # a caveat, not the finding


def test_screening_words():
    low = score_case({"left": side(W=2.5), "right": side(W=2.7)})
    assert low.screening.code == LOW
    assert "Refer for DXA" in low.screening.recommendation
    assert low.screening.explanation.startswith(
        "Refer for DXA: CTMI is 2.60 mm, the mean of both sides, below the cutoff of 3.1 mm."
    )
    assert "The CTMI cutoff of 3.1 mm is to verify" in " ".join(low.screening.caveats)
    normal = score_case({"left": side(W=4.0), "right": side(W=4.2)}, sex="M")
    assert normal.screening.code == NORMAL
    assert normal.screening.result == "No sign of low bone density on CTMI"
    assert "does not rule out osteoporosis" in normal.screening.recommendation
    assert "No DXA referral" not in normal.screening.recommendation + normal.screening.explanation
    assert normal.screening.explanation.startswith("No sign of low bone density on CTMI: 4.10 mm")
    assert "recorded as male" in " ".join(normal.screening.caveats)
    assert "recorded as male" not in " ".join(low.screening.caveats)
    one_side = score_case({"left": side(W=2.9), "right": side(W=3.5)})
    assert "Below the cutoff on one side only: CTMI left" in one_side.screening.explanation
    for result in (low, normal, one_side):
        text = result.screening.caveats[-1]  # the disclaimer closes the caveats, after the finding
        assert "screening aid, not a diagnosis" in text and "DXA is the reference standard" in text
        assert "T-score \u2264 \u22122.5 osteoporosis" in text and "\u22121 and \u22122.5 osteopenia" in text


@pytest.fixture(scope="module")
def tiny_volume():
    voxels = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    affine = affine_from_axes((0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (0.3, 0.25, 0.25))
    return Volume(voxels, (0.3, 0.25, 0.25), affine, VolumeMeta(series_uid="1.2.3.4"))


def test_results_json_shape(tiny_volume):
    sides = {"left": side(W=2.5), "right": side(W=3.2)}
    result = score_case(
        sides,
        {"left": {"CTCI": "C2"}, "right": {"CTCI": "C1"}},
        provenance=provenance(tiny_volume, sides, method="edge", refine=True),
    )
    document = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert set(document) == {"sides", "mean", "screening", "provenance"}
    w = document["sides"]["left"]["measurements"]["W"]
    assert w == {"value": 2.5, "unit": "mm", "method": "edge", "uncertainty": 0.05, "quality": "ok", "notes": []}
    assert document["sides"]["left"]["indices"]["CTMI"]["quality"] == "ok"
    ctmi = document["sides"]["right"]["indices"]["CTMI"]
    assert {"value", "unit", "cutoff", "category"} <= set(ctmi)
    assert ctmi["value"] == 3.2 and ctmi["cutoff"] == 3.1 and ctmi["category"] == "normal"
    assert ctmi["status"] == "to verify" and ctmi["cutoff_status"] == "to verify"
    assert document["mean"]["indices"]["CTMI"]["category"] == "low"  # (2.5 + 3.2) / 2 = 2.85
    assert document["mean"]["indices"]["CASTRO"]["category"] == "definition pending verification"
    assert set(document["screening"]) >= {"result", "explanation", "recommendation", "caveats"}
    prov = document["provenance"]
    assert prov["catalogue"] == CATALOGUE_VERSION and prov["series_uid"] == "1.2.3.4"
    assert prov["software"].startswith("cbct-osteo ") and prov["voxel_mm"] == [0.3, 0.25, 0.25]
    assert prov["methods"]["left"]["W"] == "edge" and prov["castro_status"] == "unverified"


def test_csv_row_and_table():
    result = score_case({"left": side(W=2.5), "right": side(W=3.2)}, {"left": {"CTCI": "C2"}})
    row = result.csv_row()
    assert set(row) <= set(csv_columns())
    assert row["left_W"] == "2.5" and row["right_CTMI"] == "3.2" and row["mean_CTMI"] == "2.85"
    assert row["left_CTI_S"] == "0.178571" and row["left_CTCI"] == "C2" and row["right_CTCI"] == ""
    assert row["mean_CTMI_category"] == "low" and row["screening"] == "low" and row["mean_CASTRO"] == ""
    table = format_table(result)
    assert "CTMI" in table and "2.50 \u00b1 0.05" in table and "Refer for DXA" in table
    assert entry("CTMI").cutoff.value == 3.1


def test_side_check_tolerance_is_capped():
    """A huge uncertainty (a collapsed fit once gave +-108 mm, tolerance 326 mm) must not make any
    difference between the sides 'agree': the tolerance is capped at half the mean."""
    apart = score_case({"left": side(W=1.0, sW=108.0), "right": side(W=3.0, sW=0.08)})
    check = apart.mean["CTMI"].side_check
    assert check.capped and check.tolerance == pytest.approx(0.5 * 2.0)
    assert not check.agree and "check the landmarks" in apart.mean["CTMI"].message
    assert any("too large to check their agreement" in n for n in apart.mean["CTMI"].notes)


def test_uncertain_and_not_measurable_inputs():
    lost = Measurement("W", None, "mm", "edge", quality="not measurable", notes=("not measurable: no endosteal step",))
    loose = Measurement("W", 3.6, "mm", "manual", 0.42, quality="uncertain", notes=("edge refinement not used (x)",))
    result = score_case({"left": {**side(), "W": lost}, "right": {**side(), "W": loose}})
    left, right = result.sides["left"].indices["CTMI"], result.sides["right"].indices["CTMI"]
    assert left.category == NOT_COMPUTABLE and "no endosteal step" in left.message and left.quality == "not measurable"
    assert (
        right.category == NORMAL
        and right.quality == "uncertain"
        and right.notes == ("W: edge refinement not used (x)",)
    )
    assert result.mean["CTMI"].category == NOT_COMPUTABLE and result.screening.code == "incomplete"
    assert "cannot be measured on this scan" in result.screening.recommendation
