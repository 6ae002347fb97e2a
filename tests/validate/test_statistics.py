"""Per-index statistics against independent truth: sklearn's AUC, the analytic binormal AUC, coverage."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cbct_osteo.validate.statistics import Orientation, analyse_index, auc_interval
from cbct_osteo.validate.synthetic import Relation, make_cohort, true_auc

BELOW = Orientation("below", "test")


def mean_w(cohort) -> np.ndarray:
    return np.array([(m["left"]["W"] + m["right"]["W"]) / 2 for m in cohort.measurements])


def test_auc_equals_sklearn_on_the_same_numbers_including_ties():
    cohort = make_cohort(80, seed=11)
    w = np.round(mean_w(cohort), 1)  # rounding makes ties, which count one half in both
    positive = cohort.t_score <= -2.5
    result = analyse_index(w, positive, cohort.t_score, BELOW, 3.1, seed=0)
    assert result["auc"] == pytest.approx(roc_auc_score(positive, -w), abs=1e-12)
    above = analyse_index(w, positive, cohort.t_score, Orientation("above", "test"), None, seed=0)
    assert above["auc"] == pytest.approx(1 - result["auc"], abs=1e-12)  # the direction is applied, never flipped


def test_large_cohort_auc_matches_the_analytic_value():
    relation = Relation()
    cohort = make_cohort(20000, relation, seed=5)  # AUC standard error about 0.004
    positive = cohort.t_score <= -2.5
    truth = true_auc(relation, "osteoporosis", sides=2)
    assert 0.75 < truth < 0.87
    assert roc_auc_score(positive, -mean_w(cohort)) == pytest.approx(truth, abs=0.012)
    # one side has twice the noise variance: a lower, different true AUC, also matched
    left = np.array([m["left"]["W"] for m in cohort.measurements])
    assert roc_auc_score(positive, -left) == pytest.approx(true_auc(relation, sides=1), abs=0.012)


def test_bootstrap_interval_covers_the_true_auc_about_95_percent_of_the_time():
    relation = Relation()
    truth = true_auc(relation)
    draws = 160
    covered = 0
    for k in range(draws):
        cohort = make_cohort(60, relation, seed=1000 + k)
        positive = cohort.t_score <= -2.5
        low, high = auc_interval(positive, -mean_w(cohort), seed=k)
        covered += low <= truth <= high
    assert 0.88 <= covered / draws <= 0.995, f"coverage {covered / draws:.3f}"


def test_accuracy_at_the_published_cutoff_counts_the_cases():
    cohort = make_cohort(60, seed=2)
    w, t = mean_w(cohort), cohort.t_score
    positive = t <= -2.5
    result = analyse_index(w, positive, t, BELOW, 3.1, seed=0)["at_published_cutoff"]
    flagged = w < 3.1
    assert result["sensitivity"] == (flagged & positive).sum() / positive.sum()
    assert result["specificity"] == (~flagged & ~positive).sum() / (~positive).sum()
    assert result["ppv"] == (flagged & positive).sum() / flagged.sum()
    assert result["npv"] == (~flagged & ~positive).sum() / (~flagged).sum()
    assert result["counts"]["tp"] + result["counts"]["fn"] == positive.sum()
    for key in ("sensitivity", "specificity", "ppv", "npv"):
        low, high = result[f"{key}_ci95"]
        assert 0 <= low <= result[key] <= high <= 1
    # Wilson's interval, by its closed form (not statsmodels): 10 of 13 -> [0.4975, 0.9179]
    from cbct_osteo.validate.statistics import proportion

    p, z = 10 / 13, 1.959963984540054
    centre, half = (
        (p + z * z / 26) / (1 + z * z / 13),
        z / (1 + z * z / 13) * np.sqrt(p * (1 - p) / 13 + z * z / (4 * 169)),
    )
    assert proportion(10, 13)[1] == pytest.approx([centre - half, centre + half], abs=1e-9)


def test_youden_cutoff_separates_separable_data_and_correlations_have_p_values():
    t = np.linspace(-4, 1, 40)
    w = 3.0 + 0.5 * t  # W exactly linear in T: any cutoff between the classes is perfect
    positive = t <= -2.5
    result = analyse_index(w, positive, t, BELOW, None, seed=0)
    assert result["auc"] == 1.0
    cutoff = result["youden_cutoff"]
    assert w[positive].max() <= cutoff < w[~positive].min()
    assert result["at_youden_cutoff"]["sensitivity"] == 1.0
    assert result["pearson_r"] == pytest.approx(1.0) and result["pearson_p"] < 1e-10
    assert result["spearman_rho"] == pytest.approx(1.0)
    assert result["at_published_cutoff"] is None


def test_too_few_cases_in_a_class_gives_no_auc_but_a_reason():
    t = np.array([-3.0, -1.0, -0.5, 0.0, 0.4])
    result = analyse_index(3 + t, t <= -2.5, t, BELOW, 3.1, seed=0)
    assert result["auc"] is None and "at least 2 positive" in result["reason"]


def test_vectorised_youden_of_the_bootstrap_equals_roc_curve_s():
    from cbct_osteo.validate.statistics import _youden_statistic, youden_threshold

    rng = np.random.default_rng(7)
    for _ in range(200):
        n_pos, n_neg = rng.integers(2, 15), rng.integers(2, 40)
        pos, neg = np.round(rng.normal(0.8, 1, n_pos), 1), np.round(rng.normal(0, 1, n_neg), 1)  # with ties
        labels = np.r_[np.ones(n_pos, bool), np.zeros(n_neg, bool)]
        assert _youden_statistic(pos, neg) == youden_threshold(labels, np.r_[pos, neg])
    batch_pos, batch_neg = rng.normal(1, 1, (5, 8)), rng.normal(0, 1, (5, 20))
    expected = [
        youden_threshold(np.r_[np.ones(8, bool), np.zeros(20, bool)], np.r_[p, n])
        for p, n in zip(batch_pos, batch_neg, strict=True)
    ]
    assert list(_youden_statistic(batch_pos, batch_neg)) == expected
