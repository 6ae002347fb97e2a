"""Table rows and CSV/JSON exports from a scored case (score_case on known measurements)."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from cbct_osteo.indices import csv_columns, score_case
from cbct_osteo.measure.quantity import Measurement
from cbct_osteo.report.content import catalogue_info
from cbct_osteo.report.exports import csv_row, write_results_csv, write_results_json
from cbct_osteo.report.header import build_header
from cbct_osteo.report.table import format_cutoff, format_with_uncertainty, index_rows, measurement_rows


def _side(w: float, w_sd: float) -> dict[str, Measurement]:
    return {
        "W": Measurement("W", w, "mm", "edge", w_sd),
        "S": Measurement("S", 13.48, "mm", "edge", 0.1),
        "I": Measurement("I", 10.52, "mm", "edge", 0.1),
        "TRAB_MEAN": Measurement("TRAB_MEAN", 412.34, "gray value", "roi", 2.0),
        "TRAB_SD": Measurement("TRAB_SD", 44.1, "gray value", "roi", 0.5),
        "BV_TV": Measurement("BV_TV", 0.4123, "ratio", "otsu", 0.01),
        "FD": Measurement("FD", 1.4134, "1", "box counting", 0.02),
    }


@pytest.fixture(scope="module")
def scored():
    """Right W 2.813 ± 0.05 mm (below the 3.1 mm cutoff), left W 3.4 ± 0.2 mm (above it); all inputs present."""
    return score_case(
        {"right": _side(2.813, 0.05), "left": _side(3.4, 0.2)},
        {"right": {"CTCI": "C1"}, "left": {"CTCI": "C2"}},
        sex="F",
    )


def test_index_rows_round_to_uncertainty_and_carry_categories(scored):
    info, _ = catalogue_info()
    rows = {r.id: r for r in index_rows(scored.to_json(), info)}
    ctmi = rows["CTMI"]
    assert ctmi.cells["right"].text == "2.81" and ctmi.cells["right"].category == "low"  # ± 0.05 -> 2 decimals
    assert ctmi.cells["left"].text == "3.4" and ctmi.cells["left"].category == "normal"  # ± 0.2 -> 1 decimal
    mean = scored.mean["CTMI"]
    assert ctmi.cells["mean"].category == mean.category
    assert ctmi.cutoff == "< 3.1"
    assert "panoramic Mental Index threshold, used on CBCT without DXA validation" in ctmi.note
    assert rows["CTI_S"].cutoff == "no validated cutoff" and "no validated cutoff" in rows["CTI_S"].note
    assert "BV_TV" not in rows  # experimental: left out of the report by default
    assert "BV_TV" in {r.id for r in index_rows(scored.to_json(), info, include_experimental=True)}
    assert "pending verification" in rows["CASTRO"].note
    assert rows["CTCI"].cells["left"].text == "C2" and rows["CTCI"].cells["left"].category == "low"
    assert rows["FD"].cells["right"].text == "1.41"
    assert list(rows)[:2] == ["CASTRO", "CTMI"]  # catalogue order


def test_measurement_rows_show_value_uncertainty_and_method(scored):
    rows = {r.id: r for r in measurement_rows(scored.to_json(), exclude={"TRAB_MEAN", "TRAB_SD", "BV_TV", "FD"})}
    assert set(rows) == {"W", "S", "I"}
    assert rows["W"].cells["right"] == "2.81 ± 0.05"
    assert rows["W"].cells["left"] == "3.4 ± 0.2"
    assert rows["S"].cells["left"] == "13.5 ± 0.1"
    assert rows["W"].method == "edge"


def test_quality_is_printed_and_a_not_measurable_value_shows_no_number():
    uncertain = Measurement(
        "W",
        4.56,
        "mm",
        "manual",
        0.43,
        quality="uncertain",
        notes=("edge refinement not used (poor fit): W is the distance between the placed points",),
    )
    lost = Measurement("W", None, "mm", "edge", quality="not measurable", notes=("not measurable: no endosteal step",))
    result = score_case({"right": {**_side(2.9, 0.05), "W": uncertain}, "left": {**_side(2.9, 0.05), "W": lost}})
    rows = {r.id: r for r in measurement_rows(result.to_json())}
    assert rows["W"].cells == {"right": "4.6 ± 0.4 uncertain", "left": "not measurable"}
    assert rows["W"].quality == {"right": "uncertain", "left": "not measurable"}
    assert any(n.startswith("left: not measurable: no endosteal step") for n in rows["W"].notes)
    ctmi = {r.id: r for r in index_rows(result.to_json())}["CTMI"]
    assert ctmi.cells["right"].text == "4.6 (uncertain)" and ctmi.cells["left"].text == "–"
    assert ctmi.cells["left"].category == ctmi.cells["mean"].category == "not computable"
    assert result.screening.code == "incomplete"  # never rests on a measurement that is not measurable


def test_missing_values_say_what_is_missing():
    assert format_with_uncertainty({"value": None, "missing": ["border_inner"]}) == "missing: border inner"
    assert format_with_uncertainty({"value": None}) == "–"
    assert format_cutoff(None) == "–"
    assert format_cutoff(0.6, "above") == "> 0.6"


def test_csv_row_from_json_equals_case_result_row(scored):
    from_result = csv_row(scored, case_id="c1", age="70", sex="female")
    from_json = csv_row(scored.to_json(), case_id="c1", age="70", sex="female")
    assert from_json == from_result
    assert list(from_result) == csv_columns()
    assert from_result["right_W"] == "2.813" and from_result["mean_CTMI_category"] == scored.mean["CTMI"].category
    assert from_result["screening"] == scored.screening.code
    assert from_result["status"] == "ok"


def test_csv_quality_cells_come_from_the_results_json(scored):
    document = scored.to_json()
    document["sides"]["left"]["measurements"]["W"]["quality"] = "not measurable"
    document["sides"]["right"]["measurements"]["W"].pop("quality", None)
    row = csv_row(document, case_id="c1")
    assert row["left_W_quality"] == "not measurable"
    assert row["right_W_quality"] == ""  # absent in the JSON: empty cell


def test_anonymised_csv_and_json_carry_no_identifier(scored, tmp_path, patient_meta):
    meta = patient_meta
    document = scored.to_json()
    document["provenance"] = {"series_uid": meta.series_uid, "volume_fingerprint": "abc", "software": "cbct-osteo"}
    header = build_header(meta, (0.3, 0.3, 0.3), anonymise=True, today=dt.date(2026, 11, 26))
    csv_path = write_results_csv(document, tmp_path / "r.csv", header)
    json_path = write_results_json(document, tmp_path / "r.json", header)
    for path in (csv_path, json_path):
        text = path.read_text(encoding="utf-8")
        for identifier in ("Zanetti", "PHANTOM-0001", "1955", meta.study_uid, meta.series_uid):
            assert identifier not in text, (path.name, identifier)
    with csv_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and rows[0]["case_id"] == header.case_label and rows[0]["age"] == "69"
    assert json.loads(json_path.read_text())["case"] == header.case_label
