"""The Castro definition file: an unverified file can never yield a category; a verified one would.

The rules written in these temporary files are TEST FIXTURES of the file format, not science:
their numbers are placeholders that exercise the parser and the scoring path.
"""

from __future__ import annotations

import math

import pytest

from cbct_osteo.indices.castro import load_castro_definition
from cbct_osteo.indices.catalogue import MEASUREMENT_IDS, build_catalogue
from cbct_osteo.indices.scoring import LOW, NORMAL, PENDING, score_case
from cbct_osteo.io.errors import LoadError
from cbct_osteo.measure.quantity import Measurement

HEADER = """
id = "CASTRO"
name = "fixture"
citation = "fixture citation, format test only"
population = "fixture"
accuracy = "fixture"
landmarks = ["border_outer", "border_inner", "trab_roi"]
measured_inputs = ["W", "FD"]
"""


def _write(tmp_path, text):
    path = tmp_path / "castro.toml"
    path.write_text(HEADER + text, encoding="utf-8")
    return path


def test_unverified_file_with_numbers_is_refused(tmp_path):
    path = _write(tmp_path, 'status = "unverified"\n[cutoff]\nvalue = 1.0\ndirection = "below"\n')
    with pytest.raises(LoadError, match="unverified but carries"):
        load_castro_definition(path)


def test_confirmed_file_must_be_complete(tmp_path):
    path = _write(tmp_path, 'status = "confirmed"\nsource = "x"\n[definition]\nform = "linear"\n')
    with pytest.raises(LoadError, match="coefficients"):
        load_castro_definition(path)
    path = _write(
        tmp_path,
        'status = "confirmed"\nsource = "x"\n[definition]\nform = "linear"\n'
        '[definition.coefficients]\nNOPE = 1.0\n[cutoff]\nvalue = 1.0\ndirection = "below"\n',
    )
    with pytest.raises(LoadError, match="unknown measurement"):
        load_castro_definition(path, MEASUREMENT_IDS)


def test_confirmed_rule_drives_category_and_screening(tmp_path):
    path = _write(
        tmp_path,
        'status = "confirmed"\nsource = "fixture"\n[definition]\nform = "logistic"\nintercept = 0.0\n'
        '[definition.coefficients]\nW = 1.0\n[cutoff]\nvalue = 0.9\ndirection = "below"\nunit = "1"\n',
    )
    entries = build_catalogue(load_castro_definition(path, MEASUREMENT_IDS))

    def w(value: float) -> dict[str, Measurement]:
        return {"W": Measurement("W", value, "mm", "edge", 0.05)}

    # logistic(1.0) = 0.731 < 0.9 -> low; logistic(3.0) = 0.953 -> normal
    low = score_case({"left": w(1.0), "right": w(1.0)}, entries=entries)
    assert math.isclose(low.sides["left"].indices["CASTRO"].value, 1 / (1 + math.exp(-1.0)))
    assert low.mean["CASTRO"].category == LOW
    assert low.screening.primary_index == "CASTRO" and low.screening.code == LOW
    normal = score_case({"left": w(3.0), "right": w(3.0)}, entries=entries)
    assert normal.mean["CASTRO"].category == NORMAL


def test_bundled_definition_is_pending():
    result = score_case({"left": {"W": Measurement("W", 2.0, "mm", "edge", 0.05)}})
    castro = result.sides["left"].indices["CASTRO"]
    assert castro.category == PENDING and castro.value is None
    assert castro.message.startswith("Castro et al. 2020: definition pending verification")
    assert castro.inputs["W"].value == 2.0
