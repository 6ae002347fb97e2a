"""The combined model: cross-validated AUC is honest (noise gives about 0.5) and the linear rule is the model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cbct_osteo.validate.model import fit_model
from cbct_osteo.validate.synthetic import Relation, make_cohort, true_auc

FEATURES = ("W", "TRAB_MEAN", "TRAB_SD", "BV_TV", "FD")


def feature_matrix(cohort) -> np.ndarray:
    return np.array([[(m["left"][f] + m["right"][f]) / 2 for f in FEATURES] for m in cohort.measurements])


def test_cross_validated_auc_of_a_model_on_pure_noise_is_about_one_half():
    cohort = make_cohort(200, Relation().noise_only(), seed=21)
    x, positive = feature_matrix(cohort), cohort.t_score <= -2.5
    noise = np.random.default_rng(4).normal(size=(len(positive), 4))  # and four more columns of pure noise
    fit = fit_model(np.hstack([x, noise]), positive, cohort.t_score, [*FEATURES, "n1", "n2", "n3", "n4"], seed=0)
    summary = fit.summary
    training_auc = roc_auc_score(positive, fit.pipeline.predict_proba(np.hstack([x, noise]))[:, 1])
    assert training_auc > 0.6, "the training AUC is optimistic on noise; that is why it is never reported"
    assert 0.38 < summary["cv_auc"] < 0.62
    low, high = summary["cv_auc_ci95"]
    assert low < 0.5 < high


def test_cross_validated_auc_on_signal_is_near_the_true_auc_of_w():
    relation = Relation()
    cohort = make_cohort(300, relation, seed=8)
    x, positive = feature_matrix(cohort), cohort.t_score <= -2.5
    summary = fit_model(x, positive, cohort.t_score, list(FEATURES), seed=0).summary
    low, high = summary["cv_auc_ci95"]
    assert low < true_auc(relation) + 0.03 and high > true_auc(relation) - 0.03
    assert summary["coefficients"]["W"]["per_sd"] < 0  # thinner cortex, higher risk
    assert summary["coefficients"]["W"]["ci95"][1] < 0
    assert 0 < summary["brier"] < summary["brier_reference"]  # better than prevalence alone


def test_linear_rule_reproduces_the_fitted_pipeline():
    cohort = make_cohort(80, seed=9)
    x, positive = feature_matrix(cohort), cohort.t_score <= -2.5
    fit = fit_model(x, positive, cohort.t_score, list(FEATURES), seed=0)
    intercept, coefficients = fit.linear_rule()
    logit = intercept + x @ np.array([coefficients[f] for f in FEATURES])
    assert logit == pytest.approx(fit.pipeline.decision_function(x), abs=1e-9)
