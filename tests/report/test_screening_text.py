"""Issue 16 finding 10: the screening says the plain finding first; the method's caveats go to the limits.

Checked on the real PDF (text extracted with pypdf), on the scoring's own results for the
normal and incomplete branches, and on what the real ``measure`` command prints and writes (results
JSON ``screening.explanation`` and ``screening.caveats``); no nested parentheses, no internal ids in
what the user reads.
"""

from __future__ import annotations

import json
import re

from cbct_osteo.cli import main
from cbct_osteo.indices.catalogue import MEASUREMENTS_BY_ID
from cbct_osteo.indices.scoring import score_case
from cbct_osteo.io.landmarks_file import read_landmarks, write_landmarks
from cbct_osteo.measure.quantity import Measurement
from cbct_osteo.report.screening_text import screening_text

from .conftest import pdf_text

INTERNAL_ID = re.compile(r"\b[A-Za-z]+_[A-Za-z_]+\b")  # CTI_S, border_outer, trab_roi ...


def max_paren_depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    return deepest


def between(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i : text.index(end, i)]


def test_pdf_screening_box_opens_with_the_finding_and_keeps_caveats_for_the_limits(identified_pdf, phantom_case):
    text = pdf_text(identified_pdf[0])
    box = " ".join(between(text, "Screening result", "Indices").split())
    result = phantom_case.result.to_json()["screening"]
    assert result["code"] == "low"  # the phantom's thin cortex
    finding = box.split(result["result"], 1)[1].strip()
    assert finding.startswith("Refer for DXA: CTMI is"), finding
    assert "Castro" not in box and "pending" not in box and "to verify" not in box
    assert max_paren_depth(box) <= 1 and not INTERNAL_ID.search(box), box
    limits = " ".join(between(text, "Limits of this screening", "Citations").split())
    assert "The Castro et al. 2020 index is not used" in limits and "The CTMI cutoff of 3.1 mm is to verify" in limits


def scored(width_mm: float, grades=None, drop: tuple[str, ...] = ()):
    measured = {
        side: {
            mid: Measurement(mid, value, MEASUREMENTS_BY_ID[mid].unit, "edge", 0.05)
            for mid, value in {"W": width_mm, "S": 13.0, "I": 10.0}.items()
            if (side, mid) not in drop
        }
        for side in ("right", "left")
    }
    return score_case(measured, grades or {}).to_json()


def test_normal_finding_reads_no_sign_first_and_incomplete_names_what_is_missing_in_words():
    normal = screening_text(scored(3.6))
    assert normal.finding.startswith("No sign of low bone density on CTMI: 3.60 mm, the mean of both sides")
    assert any(c.startswith("The Castro et al. 2020 index is not used") for c in normal.caveats)
    incomplete = screening_text(scored(3.6, drop=(("left", "W"),)))
    for words in (incomplete.finding, incomplete.recommendation):
        assert "Castro" not in words and "screening aid" not in words
        assert max_paren_depth(words) <= 1 and not INTERNAL_ID.search(words), words


def run_measure(volume, landmarks, out, capsys) -> tuple[str, dict]:
    assert main(["measure", str(volume), "--landmarks", str(landmarks), "--json", str(out)]) == 0
    return capsys.readouterr().out, json.loads(out.read_text(encoding="utf-8"))


def test_measure_prints_the_finding_first_and_the_caveats_after_it(phantom_cohort, tmp_path, capsys):
    case = phantom_cohort["root"] / "case1"
    printed, document = run_measure(case, case / "landmarks.json", tmp_path / "r.json", capsys)
    screening = document["screening"]
    assert screening["code"] == "low"  # the phantom's cortex is thinner than the cutoff on both sides
    assert screening["explanation"].startswith("Refer for DXA: CTMI is ")
    assert "the mean of both sides, below the cutoff of 3.1 mm." in screening["explanation"]
    for words in (screening["explanation"], screening["recommendation"]):
        assert "Castro" not in words and "to verify" not in words
        assert max_paren_depth(words) <= 1 and not INTERNAL_ID.search(words), words
    caveats = screening["caveats"]
    assert caveats[0].startswith("The Castro et al. 2020 index is not used")
    assert any(c.startswith("The CTMI cutoff of 3.1 mm is to verify") for c in caveats)
    assert caveats[-1].startswith("This is a screening aid, not a diagnosis")
    block = printed[printed.index("Screening:") :]
    assert block.index("Refer for DXA: CTMI is") < block.index("Limits of this screening:") < block.index("Castro")


def test_an_incomplete_screening_says_what_to_place_in_words(phantom_cohort, tmp_path, capsys):
    case = phantom_cohort["root"] / "case1"
    landmarks = read_landmarks(case / "landmarks.json")
    del landmarks.sides["left"].points["border_inner"]
    path = write_landmarks(landmarks, tmp_path / "incomplete.json")
    printed, document = run_measure(case, path, tmp_path / "r.json", capsys)
    screening = document["screening"]
    assert screening["code"] == "incomplete"
    assert screening["explanation"].startswith("CTMI is not computable: on the left side place inner margin")
    for words in (screening["explanation"], screening["recommendation"], screening["result"]):
        assert max_paren_depth(words) <= 1 and not INTERNAL_ID.search(words), words
    assert "Castro" in " ".join(screening["caveats"]) and "Castro" not in screening["explanation"]
    assert "border_inner" not in printed[printed.index("Screening:") :]
