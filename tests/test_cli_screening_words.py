"""Issue 16 finding 10 on the command line: the screening opens with the plain finding, caveats after it.

Runs the real ``measure`` command on a phantom case (its thin cortex screens "low") and on the same
case with a landmark removed (incomplete), and reads what it prints and the results JSON it writes:
``screening.explanation`` starts with the finding, has no nested parentheses and no internal ids; the
Castro and cutoff caveats are in ``screening.caveats`` and printed after the finding.
"""

from __future__ import annotations

import json
import re

from cbct_osteo.cli import main
from cbct_osteo.io.landmarks_file import read_landmarks, write_landmarks

INTERNAL_ID = re.compile(r"\b[A-Za-z]+_[A-Za-z_]+\b")  # CTI_S, border_outer, trab_roi ...


def max_paren_depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    return deepest


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
