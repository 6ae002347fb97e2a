"""``cbct-osteo validate`` end to end, and a site index used by ``report``, ``measure`` and ``batch --index``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from cbct_osteo.cli import main
from cbct_osteo.validate.synthetic import Relation, make_cohort, write_cohort_csvs

#: Fine enough (0.45 mm) that the trabecular inputs of the site index are measurable (texture is
#: "not measurable" above 0.5 mm voxels), small enough to measure in a few seconds.
SHAPE = (80, 220, 220)
VOXEL_MM = 0.45


def pdf_text(path: Path) -> str:
    """The PDF's text in reading order (table cells whole, whatever the column widths)."""
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def test_validate_on_60_cases_writes_pdf_png_and_json_in_under_30_s(validated60):
    outputs, seconds = validated60
    assert seconds < 30, f"validate took {seconds:.1f} s"
    document = json.loads(outputs.json.read_text(encoding="utf-8"))
    assert document["n"] == 60 and 10 <= document["positives"] < 30
    mean_ctmi = document["indices"]["mean_CTMI"]
    for key in (
        "auc",
        "auc_ci95",
        "youden_cutoff",
        "youden_cutoff_ci95",
        "at_published_cutoff",
        "pearson_r",
        "spearman_rho",
    ):
        assert key in mean_ctmi
    assert mean_ctmi["at_published_cutoff"]["cutoff"] == 3.1
    at = mean_ctmi["at_published_cutoff"]
    assert all(0 <= at[k] <= 1 and len(at[f"{k}_ci95"]) == 2 for k in ("sensitivity", "specificity", "ppv", "npv"))
    assert {"left_CTMI", "right_CTMI", "mean_BV_TV", "mean_FD"} <= set(document["indices"])
    assert "mean_CTCI" not in document["indices"] and "mean_CASTRO" not in document["indices"]
    model = document["model"]
    assert model["features"] == ["W", "TRAB_MEAN", "TRAB_SD", "BV_TV", "FD"]  # no age: a site index was written
    for key in ("cv_auc", "cv_auc_ci95", "brier", "coefficients"):
        assert model[key] is not None
    assert set(document["excluded"]) == {"not_in_reference", "not_in_results", "batch_error", "no_t_score"}
    for name in ("roc", "scatter", "calibration"):
        png = outputs.pdf.with_name(f"VALIDATION_{name}.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = pdf_text(outputs.pdf)
    for words in (
        "Validation of CBCT mandibular indices against DXA",
        "mean_CTMI",
        "Methods",
        "scikit-learn",
        "Wilson",
        "Combined model",
        "Cross-validated",
        "site-derived",
    ):
        assert words in text


def test_validate_command_reports_and_refuses_bad_input(cohort60, tmp_path, capsys):
    results, _ = cohort60
    assert (
        main(["validate", str(results), "--reference", str(tmp_path / "none.csv"), "-o", str(tmp_path / "V.pdf")]) == 2
    )
    assert "none.csv: reference CSV not found" in capsys.readouterr().err
    small = write_cohort_csvs(tmp_path / "small", make_cohort(30, Relation(t_mean=-0.5), seed=1))
    code = main(
        [
            "validate",
            str(small[0]),
            "--reference",
            str(small[1]),
            "-o",
            str(tmp_path / "V.pdf"),
            "--write-index",
            str(tmp_path / "SITE.toml"),
            "--features",
            "W",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "site index refused" in err and "--force" in err
    assert not (tmp_path / "SITE.toml").exists()


@pytest.fixture(scope="module")
def small_case(tmp_path_factory) -> Path:
    from cbct_osteo.phantom import write_phantom

    return write_phantom(tmp_path_factory.mktemp("case"), shape=SHAPE, voxel_mm=VOXEL_MM, seed=0)


def test_report_measure_and_batch_with_the_site_index(validated60, small_case, tmp_path, capsys):
    site = validated60[0].site_index
    landmarks = small_case / "landmarks.json"
    pdf = tmp_path / "report.pdf"
    report = ["report", str(small_case), "--landmarks", str(landmarks), "-o", str(pdf)]
    assert main([*report, "--index", str(site), "--no-3d", "--csv", str(tmp_path / "one.csv")]) == 0
    assert "mean_SITE" in (tmp_path / "one.csv").read_text(encoding="utf-8").splitlines()[0]
    text = " ".join(pdf_text(pdf).split())
    assert "Site index (" in text and "derived from 60 local cases (AUC" in text and "cross-validated" in text
    castro_lines = [line for line in pdf_text(pdf).splitlines() if "Site index" in line or "derived from 60" in line]
    assert not any("Castro" in line for line in castro_lines)
    out = tmp_path / "results.json"
    assert (
        main(["measure", str(small_case), "--landmarks", str(landmarks), "--json", str(out), "--index", str(site)]) == 0
    )
    document = json.loads(out.read_text(encoding="utf-8"))
    site_result = document["mean"]["indices"]["SITE"]
    assert site_result["status"] == "site-derived" and site_result["provenance"]["n"] == 60
    assert site_result["category"] in ("low", "normal") and site_result["unit"] == "log-odds"
    assert document["provenance"]["extra_indices"]["SITE"]["auc_ci95"]
    assert document["screening"]["primary_index"] == "CTMI"  # a site index never drives the screening
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"case_id,volume,landmarks\ncase0,{small_case},{landmarks}\n", encoding="utf-8")
    rows_path = tmp_path / "RESULTS.csv"
    assert main(["batch", str(manifest), "--out", str(rows_path), "--workers", "1", "--index", str(site)]) == 0
    with open(rows_path, newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert float(row["mean_SITE"]) == pytest.approx(site_result["value"], abs=1e-4)
    assert row["mean_SITE_category"] == site_result["category"]
    capsys.readouterr()
    assert main([*report, "--index", str(tmp_path / "no.toml")]) == 2
    assert "no.toml: index definition file not found" in capsys.readouterr().err
