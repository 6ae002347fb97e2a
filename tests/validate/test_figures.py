"""The validation figures: every index curve is drawn, and each can be told apart."""

from __future__ import annotations

import copy

import pytest

from cbct_osteo.validate.analysis import default_features, validate_cohort
from cbct_osteo.validate.data import read_cohort
from cbct_osteo.validate.figures import mean_columns, roc_figure


@pytest.fixture(scope="module")
def validation(cohort60):
    cohort = read_cohort(*cohort60, "osteoporosis")
    return validate_cohort(cohort, features=default_features(cohort, with_age=False), seed=0)


def _curves(figure) -> list:
    """The index curves: every line but the chance diagonal and the (black) combined model."""
    (axes,) = figure.axes
    return [line for line in axes.get_lines() if not line.get_label().startswith(("chance", "combined model"))]


@pytest.mark.parametrize("extra", [0, 13])
def test_roc_draws_every_index_curve_distinguishably(validation, extra):
    """Beyond the 8 palette colours (13 site indices more: 20 curves) each curve is drawn, in its own style."""
    validation = copy.copy(validation)
    document = copy.deepcopy(validation.document)
    first = document["indices"]["mean_CTMI"]
    for k in range(extra):  # e.g. site indices added with --index: more side-mean columns with a ROC
        document["indices"][f"mean_SITE{k}"] = {**first, "auc": 0.5 + k / 100}
    validation.document = document
    columns = mean_columns(document)
    assert len(columns) >= 7 + extra
    curves = _curves(roc_figure(validation))
    assert [line.get_label().split(":")[0] for line in curves] == [c.removeprefix("mean_") for c in columns]
    styles = [(line.get_color(), line.get_linestyle()) for line in curves]
    assert len(set(styles)) == len(curves), styles
