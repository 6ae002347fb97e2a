"""Diagnostic accuracy of one index against the DXA target, with honest intervals.

Everything here is a library call: ROC and AUC from scikit-learn, the stratified bootstrap
(positives and negatives resampled separately, so every replicate keeps the cohort's case
mix) from :func:`scipy.stats.bootstrap` with BCa intervals, Wilson intervals for
sensitivity, specificity, PPV and NPV from statsmodels, Pearson and Spearman from scipy.

An index is oriented by its at-risk direction (``"below"``: low values suggest low BMD,
e.g. CTMI). The direction is fixed before looking at the data, from the catalogue; it is never
flipped to make an AUC exceed 0.5 (an AUC below 0.5 then says the relation runs the other way).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats
from sklearn.metrics import roc_auc_score, roc_curve
from statsmodels.stats.proportion import proportion_confint

#: Bootstrap replicates for the AUC and the Youden cutoff (the interval's Monte-Carlo error is
#: about 0.005 for an AUC at this size).
N_BOOTSTRAP = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Orientation:
    """Which side of an index is at risk, and why we believe so."""

    direction: str  # "below" or "above"
    source: str  # "catalogue cutoff", "catalogue (lower in osteoporosis)" ...

    def risk_score(self, values: np.ndarray) -> np.ndarray:
        """A score that grows with risk (what roc_curve expects)."""
        return -values if self.direction == "below" else values

    def value_of(self, score_threshold: float) -> float:
        return -score_threshold if self.direction == "below" else score_threshold


def auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of a risk score (ties count one half)."""
    return float(roc_auc_score(positive, score))


def _auc_statistic(score_pos: np.ndarray, score_neg: np.ndarray, axis: int = -1) -> np.ndarray:
    """AUC = Mann-Whitney U / (n_pos * n_neg), vectorised over bootstrap replicates."""
    u = stats.mannwhitneyu(score_pos, score_neg, axis=axis, method="asymptotic", use_continuity=False).statistic
    pairs: int = score_pos.shape[axis] * score_neg.shape[axis]
    area: npt.NDArray[np.float64] = u / pairs
    return area


def bootstrap_interval(
    statistic: Callable[..., npt.NDArray[np.float64]],
    score_pos: np.ndarray,
    score_neg: np.ndarray,
    seed: int,
    vectorized: bool,
    n_resamples: int = N_BOOTSTRAP,
    methods: tuple[Literal["BCa", "percentile"], ...] = ("BCa", "percentile"),
) -> tuple[float, float] | None:
    """Stratified bootstrap interval (BCa, percentile when BCa is degenerate); ``None`` if undefined.

    A step statistic such as the Youden cutoff uses ``methods=("percentile",)``: BCa's
    acceleration assumes a smooth statistic.
    """
    rng = np.random.default_rng(seed)
    for method in methods:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = stats.bootstrap(
                (score_pos, score_neg),
                statistic,
                n_resamples=n_resamples,
                vectorized=vectorized,
                paired=False,
                confidence_level=CONFIDENCE,
                method=method,
                rng=rng,
            )
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        if math.isfinite(low) and math.isfinite(high):
            return low, high
    return None


def auc_interval(positive: np.ndarray, score: np.ndarray, seed: int) -> tuple[float, float] | None:
    """95 % stratified-bootstrap interval of the AUC."""
    return bootstrap_interval(_auc_statistic, score[positive], score[~positive], seed, vectorized=True)


def youden_threshold(positive: np.ndarray, score: np.ndarray) -> float:
    """The score threshold maximising sensitivity + specificity - 1 (cases with score >= it are positive)."""
    fpr, tpr, thresholds = roc_curve(positive, score)
    finite = np.isfinite(thresholds)
    best = int(np.argmax(np.where(finite, tpr - fpr, -np.inf)))
    return float(thresholds[best])


def _youden_statistic(score_pos: np.ndarray, score_neg: np.ndarray, axis: int = -1) -> np.ndarray:
    """:func:`youden_threshold` for a batch of bootstrap replicates at once (``(..., n)`` arrays).

    The same rule as ``roc_curve``'s thresholds: sort the scores descending, count true and false
    positives at the last case of each group of equal scores, take the first (highest) threshold
    with the largest TPR - FPR. Tested equal to :func:`youden_threshold`; vectorised because
    ``roc_curve`` per replicate costs ~1 ms, i.e. seconds per index.
    """
    score_pos, score_neg = np.moveaxis(score_pos, axis, -1), np.moveaxis(score_neg, axis, -1)
    n_pos, n_neg = score_pos.shape[-1], score_neg.shape[-1]
    scores = np.concatenate([score_pos, score_neg], axis=-1)
    labels = np.r_[np.ones(n_pos), np.zeros(n_neg)]
    order = np.argsort(-scores, axis=-1, kind="stable")
    ordered = np.take_along_axis(scores, order, axis=-1)
    is_positive = labels[order]
    j = np.cumsum(is_positive, axis=-1) / n_pos - np.cumsum(1 - is_positive, axis=-1) / n_neg
    last_of_tie = np.ones(ordered.shape, dtype=bool)
    last_of_tie[..., :-1] = ordered[..., :-1] != ordered[..., 1:]
    best = np.argmax(np.where(last_of_tie, j, -np.inf), axis=-1)
    return np.take_along_axis(ordered, best[..., None], axis=-1)[..., 0]


def proportion(count: int, total: int) -> tuple[float | None, list[float] | None]:
    """A proportion and its Wilson 95 % interval (``None`` when ``total`` is 0)."""
    if total == 0:
        return None, None
    low, high = proportion_confint(count, total, alpha=1 - CONFIDENCE, method="wilson")
    return count / total, [float(low), float(high)]


#: Each accuracy measure as (numerator count, denominator counts) of the 2x2 table.
PROPORTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sensitivity": ("tp", ("tp", "fn")),
    "specificity": ("tn", ("tn", "fp")),
    "ppv": ("tp", ("tp", "fp")),
    "npv": ("tn", ("tn", "fn")),
}


def at_cutoff(positive: np.ndarray, flagged: np.ndarray) -> dict[str, Any]:
    """Sensitivity, specificity, PPV and NPV of a rule that flags ``flagged`` cases, each with ``<name>_ci95`` (Wilson).

    ``counts`` holds the 2x2 table (tp, fp, fn, tn). PPV and NPV depend on the cohort's
    prevalence; they transfer only to a population with the same one.
    """
    counts = {
        "tp": int((flagged & positive).sum()),
        "fp": int((flagged & ~positive).sum()),
        "fn": int((~flagged & positive).sum()),
        "tn": int((~flagged & ~positive).sum()),
    }
    result: dict[str, Any] = {}
    for name, (numerator, denominator) in PROPORTIONS.items():
        value, interval = proportion(counts[numerator], sum(counts[k] for k in denominator))
        result[name], result[f"{name}_ci95"] = value, interval
    result["counts"] = counts
    return result


def correlations(values: np.ndarray, t_score: np.ndarray) -> dict[str, float | None]:
    """Pearson r and Spearman rho of the index with the T-score, with two-sided p-values."""
    if len(values) < 3 or np.ptp(values) == 0 or np.ptp(t_score) == 0:
        return {"pearson_r": None, "pearson_p": None, "spearman_rho": None, "spearman_p": None}
    pearson = stats.pearsonr(values, t_score)
    spearman = stats.spearmanr(values, t_score)
    return {
        "pearson_r": float(pearson.statistic),
        "pearson_p": float(pearson.pvalue),
        "spearman_rho": float(spearman.statistic),
        "spearman_p": float(spearman.pvalue),
    }


def analyse_index(
    values: np.ndarray,
    positive: np.ndarray,
    t_score: np.ndarray,
    orientation: Orientation,
    cutoff: float | None,
    seed: int,
) -> dict[str, Any]:
    """Every number of one index: AUC [CI], the ROC curve, Youden cutoff [CI], accuracy at the published cutoff, r, rho.

    Parameters
    ----------
    values
        The index per case, in its own unit (only usable cases).
    positive
        The DXA target per case.
    cutoff
        The catalogue's published cutoff in the index's unit, or ``None``.
    """
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    result: dict[str, Any] = {
        "n": len(values),
        "positives": n_pos,
        "direction": orientation.direction,
        "direction_source": orientation.source,
    }
    result.update(correlations(values, t_score))
    if cutoff is not None:
        flagged = values < cutoff if orientation.direction == "below" else values > cutoff
        result["at_published_cutoff"] = {
            "cutoff": cutoff,
            "rule": f"at risk if {orientation.direction} {cutoff:g}",
            **at_cutoff(positive, flagged),
        }
    else:
        result["at_published_cutoff"] = None
    if n_pos < 2 or n_neg < 2:
        result.update(
            auc=None,
            auc_ci95=None,
            youden_cutoff=None,
            youden_cutoff_ci95=None,
            roc=None,
            reason=f"needs at least 2 positive and 2 negative cases (has {n_pos} and {n_neg})",
        )
        return result
    score = orientation.risk_score(values)
    fpr, tpr, _ = roc_curve(positive, score)
    result["auc"] = auc(positive, score)
    result["auc_ci95"] = _list(auc_interval(positive, score, seed))
    threshold = youden_threshold(positive, score)
    result["youden_cutoff"] = orientation.value_of(threshold)
    result["youden_rule"] = f"at risk if {'<=' if orientation.direction == 'below' else '>='} the cutoff"
    interval = bootstrap_interval(
        _youden_statistic, score[positive], score[~positive], seed + 1, vectorized=True, methods=("percentile",)
    )
    result["youden_cutoff_ci95"] = sorted(orientation.value_of(v) for v in interval) if interval else None
    result["at_youden_cutoff"] = at_cutoff(positive, score >= threshold)
    result["roc"] = {"fpr": [float(v) for v in fpr], "tpr": [float(v) for v in tpr]}
    return result


def _list(interval: tuple[float, float] | None) -> list[float] | None:
    return [float(interval[0]), float(interval[1])] if interval is not None else None
