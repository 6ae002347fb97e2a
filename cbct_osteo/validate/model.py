"""The combined model: one score from several measurements, judged only on cases it has not seen.

An L2-regularised logistic regression (scikit-learn ``Pipeline(StandardScaler,
LogisticRegression)``, ``C = 1``) on the chosen features. Its accuracy is the out-of-fold AUC of
repeated stratified k-fold cross-validation (every case is predicted by a model fitted without
it; the training AUC, which is optimistic, is never reported). The interval is a stratified
bootstrap of cases over the out-of-fold predictions. Calibration is judged on the same
out-of-fold probabilities (reliability curve, Brier score); the coefficients (log-odds per
standard deviation of the feature) get stratified-bootstrap percentile intervals.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from cbct_osteo.validate.statistics import CONFIDENCE, Orientation, analyse_index

REGULARISATION_C = 1.0
CV_FOLDS = 5
CV_REPEATS = 20
N_BOOTSTRAP_AUC = 2000
N_BOOTSTRAP_COEF = 300


@dataclass
class ModelFit:
    """The fitted pipeline (all usable cases) and its honest evaluation."""

    pipeline: Pipeline
    features: list[str]
    out_of_fold: np.ndarray  # (repeats, n) probabilities
    summary: dict[str, Any]

    @property
    def oof_probability(self) -> np.ndarray:
        probability: npt.NDArray[np.float64] = self.out_of_fold.mean(axis=0)
        return probability

    @property
    def oof_logit(self) -> np.ndarray:
        p = np.clip(self.out_of_fold, 1e-9, 1 - 1e-9)
        logit: npt.NDArray[np.float64] = np.log(p / (1 - p)).mean(axis=0)
        return logit

    def linear_rule(self) -> tuple[float, dict[str, float]]:
        """The fitted model as ``logit = intercept + sum(coef * raw feature value)`` (scaler folded in)."""
        scaler: StandardScaler = self.pipeline[0]
        logistic: LogisticRegression = self.pipeline[-1]
        per_unit = logistic.coef_[0] / scaler.scale_
        intercept = float(logistic.intercept_[0] - np.sum(per_unit * scaler.mean_))
        return intercept, {f: float(c) for f, c in zip(self.features, per_unit, strict=True)}


def new_pipeline() -> Pipeline:
    """Standardise, then logistic regression with scikit-learn's default (L2) penalty."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=REGULARISATION_C, max_iter=1000))


def stratified_resamples(positive: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_resamples, n)`` case indices, positives and negatives each drawn with replacement from their own class."""
    pos, neg = np.flatnonzero(positive), np.flatnonzero(~positive)
    return np.hstack([rng.choice(pos, (n_resamples, len(pos))), rng.choice(neg, (n_resamples, len(neg)))])


def cv_folds(positive: npt.NDArray[np.bool_]) -> int:
    """Folds of the stratified k-fold: min(5, the smaller class), at least 2."""
    return max(2, min(CV_FOLDS, int(positive.sum()), int((~positive).sum())))


def cross_validate(features: np.ndarray, positive: np.ndarray, seed: int) -> np.ndarray:
    """Out-of-fold probabilities, one row per repeat of stratified k-fold (k = :func:`cv_folds`)."""
    folds = cv_folds(positive)
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=CV_REPEATS, random_state=seed)
    out = np.full((CV_REPEATS, len(positive)), np.nan)
    for k, (train, test) in enumerate(splitter.split(features, positive)):
        model = new_pipeline().fit(features[train], positive[train])
        out[k // folds, test] = model.predict_proba(features[test])[:, 1]
    return out


def cv_auc_with_interval(out_of_fold: np.ndarray, positive: np.ndarray, seed: int) -> tuple[float, list[float]]:
    """Mean over repeats of the out-of-fold AUC, and its stratified case-bootstrap 95 % interval."""
    auc = float(np.mean([roc_auc_score(positive, row) for row in out_of_fold]))
    index = stratified_resamples(positive, N_BOOTSTRAP_AUC, np.random.default_rng(seed))
    n_pos = int(positive.sum())
    per_repeat = []
    for row in out_of_fold:
        drawn = row[index]
        u = stats.mannwhitneyu(
            drawn[:, :n_pos], drawn[:, n_pos:], axis=1, method="asymptotic", use_continuity=False
        ).statistic
        per_repeat.append(u / (n_pos * (drawn.shape[1] - n_pos)))
    replicates = np.mean(per_repeat, axis=0)
    alpha = (1 - CONFIDENCE) / 2
    return auc, [float(np.quantile(replicates, alpha)), float(np.quantile(replicates, 1 - alpha))]


def coefficient_intervals(
    features: np.ndarray, positive: np.ndarray, names: list[str], fitted: Pipeline, seed: int
) -> dict[str, dict[str, Any]]:
    """Standardised coefficients (log-odds per SD) with stratified-bootstrap percentile intervals."""
    index = stratified_resamples(positive, N_BOOTSTRAP_COEF, np.random.default_rng(seed))
    draws = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a resample with a constant column only warns
        for rows in index:
            draws.append(new_pipeline().fit(features[rows], positive[rows])[-1].coef_[0])
    draws_array = np.array(draws)
    alpha = (1 - CONFIDENCE) / 2
    coef = fitted[-1].coef_[0]
    return {
        name: {
            "per_sd": float(coef[i]),
            "ci95": [float(np.quantile(draws_array[:, i], alpha)), float(np.quantile(draws_array[:, i], 1 - alpha))],
            "odds_ratio_per_sd": float(np.exp(coef[i])),
        }
        for i, name in enumerate(names)
    }


def fit_model(features: np.ndarray, positive: np.ndarray, t_score: np.ndarray, names: list[str], seed: int) -> ModelFit:
    """Fit on every usable case and evaluate by repeated cross-validation (see the module notes).

    BLAS is held to one thread: the ~250 fits are tiny, and with two BLAS threads on the 2-core
    CI machine each took 90 ms instead of 5 ms (thread contention, measured).
    """
    with threadpool_limits(limits=1):
        return _fit_model(features, positive, t_score, names, seed)


def _fit_model(
    features: np.ndarray, positive: np.ndarray, t_score: np.ndarray, names: list[str], seed: int
) -> ModelFit:
    fitted = new_pipeline().fit(features, positive)
    out_of_fold = cross_validate(features, positive, seed)
    cv_auc, cv_ci = cv_auc_with_interval(out_of_fold, positive, seed + 7)
    probability = out_of_fold.mean(axis=0)
    bins = max(2, min(10, len(positive) // 10))
    observed, predicted = calibration_curve(positive, probability, n_bins=bins, strategy="quantile")
    fit = ModelFit(fitted, names, out_of_fold, {})
    logit = fit.oof_logit
    cutoff = analyse_index(
        logit, positive, t_score, Orientation("above", "model: higher log-odds = higher risk"), None, seed + 11
    )
    folds = cv_folds(positive)
    fit.summary = {
        "features": names,
        "n": len(positive),
        "positives": int(positive.sum()),
        "cv_auc": cv_auc,
        "cv_auc_ci95": cv_ci,
        "cv": f"{out_of_fold.shape[0]} x repeated stratified {folds}-fold",
        "brier": float(brier_score_loss(positive, probability)),
        "brier_reference": float(positive.mean() * (1 - positive.mean())),
        "calibration": {"predicted": [float(v) for v in predicted], "observed": [float(v) for v in observed]},
        "coefficients": coefficient_intervals(features, positive, names, fitted, seed + 13),
        "intercept": float(fitted[-1].intercept_[0]),
        "regularisation": f"L2, C = {REGULARISATION_C:g} on standardised features",
        "youden_cutoff_logit": cutoff["youden_cutoff"],
        "youden_cutoff_logit_ci95": cutoff["youden_cutoff_ci95"],
        "at_youden_cutoff": cutoff.get("at_youden_cutoff"),
        "roc": cutoff.get("roc"),
    }
    return fit
