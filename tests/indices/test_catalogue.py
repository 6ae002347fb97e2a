"""The catalogue is complete, cites its sources and matches INDICES.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cbct_osteo.indices import catalogue as cat
from cbct_osteo.indices import steps as guided
from cbct_osteo.indices.castro import DEFAULT_PATH, load_castro_definition
from cbct_osteo.io.landmarks_file import POINT_KINDS, SIDES

INDICES_MD = Path(__file__).resolve().parents[3] / "shared" / "science" / "INDICES.md"


@pytest.fixture(scope="module")
def indices_md() -> str:
    if not INDICES_MD.is_file():
        pytest.skip(f"INDICES.md not found at {INDICES_MD}")
    return INDICES_MD.read_text(encoding="utf-8")


def _table_row(text: str, index_id: str) -> str:
    match = re.search(rf"^\| `{index_id}` \|.*$", text, flags=re.MULTILINE)
    assert match, f"{index_id} has no row in INDICES.md"
    return match.group(0)


def test_every_input_is_a_landmark_kind_or_measurement():
    kinds = set(POINT_KINDS) | {"trab_roi"}
    for spec in cat.MEASUREMENTS:
        assert set(spec.landmarks) <= kinds, spec.id
    for e in cat.all_entries():
        assert set(e.landmarks) <= kinds, e.id
        assert set(e.measurements) <= set(cat.MEASUREMENT_IDS), e.id


def test_every_entry_has_citation_status_and_guidance():
    ids = [e.id for e in cat.all_entries()]
    assert len(ids) == len(set(ids))
    assert ids == ["CASTRO", "CTMI", "CTI_S", "CTI_I", "CTCI", "TRAB_MEAN", "TRAB_SD", "BV_TV", "FD"]
    for e in cat.all_entries():
        # published sources only (no internal file); an entry the program defines itself has none
        assert all(len(c) > 20 and "INDICES.md" not in c and "cbct-osteo" not in c for c in e.citations), e.id
        assert e.citations or e.cutoff is None, e.id
        assert e.status in cat.STATUSES, e.id
        assert e.guidance and e.population and e.accuracy, e.id
        assert e.kind in ("value", "grade", "definition file")
        if e.kind == "value":
            assert e.formula is not None


def test_cortical_table_ids_statuses_and_cutoffs_match_indices_md(indices_md):
    table_ids = re.findall(r"^\| `([A-Z_]+)` \|", indices_md, flags=re.MULTILINE)
    assert set(table_ids) <= {e.id for e in cat.all_entries()}
    for index_id in table_ids:
        row = _table_row(indices_md, index_id)
        e = cat.entry(index_id)
        assert e.status in row, (index_id, e.status)
        if e.cutoff is None and e.kind == "value":
            assert "no validated CBCT cutoff" in row
    ctmi = cat.entry("CTMI")
    row = _table_row(indices_md, "CTMI")
    assert f"{ctmi.cutoff.value:g} mm" in row and "to verify" in row
    assert ctmi.cutoff.direction == "below" and ctmi.cutoff.status == "to verify"
    assert ctmi.cutoff.note.startswith("a panoramic Mental Index threshold, used on CBCT without DXA validation")
    assert "Alkhader" in ctmi.cutoff.note and "247" not in ctmi.cutoff.population
    assert "C2/C3 suggest low BMD" in _table_row(indices_md, "CTCI")
    assert cat.CTCI_LOW_GRADES == ("C2", "C3")
    # No trabecular measurement has a validated CBCT cutoff (INDICES.md, FD: "report value only").
    assert "no validated CBCT cutoff: report value only" in indices_md
    for index_id in ("TRAB_MEAN", "TRAB_SD", "BV_TV", "FD", "CTI_S", "CTI_I"):
        assert cat.entry(index_id).cutoff is None


def test_castro_is_unverified_with_search_log_and_no_numbers():
    definition = load_castro_definition()
    assert definition.status == "unverified" and not definition.defined
    assert definition.cutoff is None and not definition.coefficients
    e = cat.entry("CASTRO")
    assert e.formula is None and e.cutoff is None
    assert set(e.landmarks) >= {"border_outer", "border_inner", "trab_roi"}
    log = DEFAULT_PATH.read_text(encoding="utf-8")
    assert log.count("http") >= 5 and "Search log" in log


def test_guided_steps_cover_every_landmark_on_both_sides():
    steps = guided.guided_steps()
    assert steps[0].kind == "arch" and steps[0].view == "axial"
    for side in SIDES:
        kinds = [s.kind for s in steps if s.side == side]
        assert kinds == [*POINT_KINDS, "trab_roi", "CTCI"]
    assert {s.view for s in steps} <= {"axial", "panoramic", "cross-section"}
    foramen = next(s for s in steps if s.side == "left" and s.kind == "foramen_centre")
    assert foramen.view == "panoramic" and foramen.instruction.startswith("Left side:")


def test_required_inputs_follow_measurements():
    assert cat.required_inputs("CTI_I") == {
        "landmarks": ("foramen_centre", "foramen_inferior", "border_outer", "border_inner"),
        "measurements": ("W", "I"),
        "grades": (),
    }
    assert cat.required_inputs("FD")["landmarks"] == ("trab_roi",)
    assert cat.required_inputs("CTCI") == {"landmarks": (), "measurements": (), "grades": ("CTCI",)}


def test_csv_columns_are_unique_and_named_as_designed():
    columns = cat.csv_columns()
    assert columns[:3] == ["case_id", "status", "error"]
    assert len(columns) == len(set(columns))
    for name in (
        "left_W",
        "right_S",
        "left_TRAB_MEAN",
        "right_CTMI",
        "left_CTCI",
        "mean_CTMI",
        "mean_CTMI_category",
        "mean_CASTRO",
        "screening",
        "age",
        "sex",
    ):
        assert name in columns
    assert columns.count("left_TRAB_MEAN") == 1
    for side in ("left", "right"):
        for measurement in cat.MEASUREMENT_IDS:
            assert columns.index(f"{side}_{measurement}_quality") == columns.index(f"{side}_{measurement}") + 1
    assert not any(
        c.endswith("_quality") and c.split("_", 1)[1][: -len("_quality")] not in cat.MEASUREMENT_IDS for c in columns
    ), "quality columns only for measurements"


def test_one_list_of_measurements_everywhere():
    """Catalogue, measure engine, validation and the user guide's table use the same list (issue 18)."""
    from cbct_osteo.measure import case, definitions, validation

    assert cat.MEASUREMENTS is definitions.MEASUREMENTS
    assert case.MEASUREMENT_IDS == cat.MEASUREMENT_IDS
    for spec in cat.MEASUREMENTS:
        assert set(spec.landmarks) <= set(validation.REQUIREMENTS[spec.group]), spec.id
    # W needs the foramen centre too (it defines the measurement line): one answer everywhere
    assert (
        cat.MEASUREMENTS_BY_ID["W"].landmarks
        == validation.REQUIREMENTS["W"]
        == ("foramen_centre", "border_outer", "border_inner")
    )
    guide = (Path(__file__).resolve().parents[2] / "docs" / "user-guide.md").read_text(encoding="utf-8")
    assert "| `W` Inferior cortical width | mm | `foramen_centre`, `border_outer`, `border_inner` |" in guide
