"""Joining RESULTS.csv with REFERENCE.csv: what is left out is counted; bad files are named with the row."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cbct_osteo.io.errors import LoadError
from cbct_osteo.validate.analysis import validate_cohort
from cbct_osteo.validate.data import read_cohort
from cbct_osteo.validate.synthetic import make_cohort, write_cohort_csvs


def rewrite(path: Path, edit) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows = edit(rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def test_left_out_cases_are_counted_by_reason(tmp_path):
    cohort = make_cohort(30, seed=1)
    results, reference = write_cohort_csvs(
        tmp_path, cohort, uncertain={"case004": "left_W", "case005": "right_TRAB_MEAN"}
    )

    def edit_results(rows):
        header = rows[0]
        rows[3][header.index("status")] = "error"  # case003: failed in the batch
        return rows + [["extra001", "ok"] + [""] * (len(header) - 2)]  # measured, no DXA

    rewrite(results, edit_results)
    rewrite(reference, lambda rows: [r for r in rows if r[0] != "case010"] + [["dxa_only", "-2.0", "", "60", "F"]])
    rewrite(reference, lambda rows: [r if r[0] != "case011" else [r[0], ""] + r[2:] for r in rows])
    data = read_cohort(results, reference)
    assert data.excluded == {"not_in_reference": 2, "not_in_results": 1, "batch_error": 1, "no_t_score": 1}
    assert data.n == 30 - 3 and "case004" in data.case_ids
    indices = validate_cohort(data, seed=0).document["indices"]
    assert indices["mean_CTMI"]["excluded"]["quality"] == 1  # case004's left W is uncertain
    assert indices["left_CTMI"]["excluded"]["quality"] == 1 and indices["right_CTMI"]["excluded"]["quality"] == 0
    assert indices["mean_CTMI"]["n"] == data.n - 1
    assert indices["mean_TRAB_MEAN"]["excluded"]["quality"] == 1 and indices["left_TRAB_MEAN"]["n"] == data.n
    assert indices["mean_CTI_S"]["n"] == data.n - 1  # CTI_S uses W as well


def test_missing_quality_columns_count_as_ok(tmp_path):
    results, reference = write_cohort_csvs(tmp_path, make_cohort(20, seed=2))
    rewrite(
        results, lambda rows: [[c for c, h in zip(r, rows[0], strict=True) if not h.endswith("_quality")] for r in rows]
    )
    data = read_cohort(results, reference)
    assert data.quality == {} and data.measurement_ok("left_W").all()
    assert np.isfinite(data.values["mean_CTMI"]).all()


@pytest.mark.parametrize(
    "edit, words",
    [
        (
            lambda rows: rows[:3] + [[rows[3][0], "minus two", *rows[3][2:]]] + rows[4:],
            ["REFERENCE.csv", "row 4", "minus two"],
        ),
        (lambda rows: rows + [rows[2]], ["REFERENCE.csv", "row 22", "already given in row 3"]),
        (lambda rows: [["patient", "t_score"]] + rows[1:], ["REFERENCE.csv", "header lacks case_id"]),
        (lambda rows: rows[:2] + [[rows[2][0], "-25", *rows[2][2:]]] + rows[3:], ["row 3", "outside", "Z-score"]),
        (
            lambda rows: rows[:2] + [[rows[2][0], rows[2][1], "wrist", *rows[2][3:]]] + rows[3:],
            ["row 3", "site 'wrist'"],
        ),
    ],
)
def test_bad_reference_files_are_named_with_the_row(tmp_path, edit, words):
    results, reference = write_cohort_csvs(tmp_path, make_cohort(20, seed=3))
    rewrite(reference, edit)
    with pytest.raises(LoadError) as caught:
        read_cohort(results, reference)
    for word in words:
        assert word in str(caught.value)


def test_bad_results_cell_is_named_with_row_and_column(tmp_path):
    results, reference = write_cohort_csvs(tmp_path, make_cohort(20, seed=4))

    def edit(rows):
        rows[5][rows[0].index("left_W")] = "3,2"
        return rows

    rewrite(results, edit)
    with pytest.raises(LoadError, match=r"RESULTS.csv: row 6, column left_W: '3,2' is not a number"):
        read_cohort(results, reference)
    with pytest.raises(LoadError, match="results CSV not found"):
        read_cohort(tmp_path / "nope.csv", reference)


def test_a_cohort_with_one_class_is_refused(tmp_path):
    cohort = make_cohort(20, seed=5)
    cohort.t_score[:] = 0.5
    results, reference = write_cohort_csvs(tmp_path, cohort)
    with pytest.raises(LoadError, match="every one of the 20 cases is negative"):
        validate_cohort(read_cohort(results, reference))
