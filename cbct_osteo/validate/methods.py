"""The words of the validation report: the methods paragraph a researcher can paste, and the limits."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from cbct_osteo.validate.model import (
    CV_FOLDS,
    CV_REPEATS,
    N_BOOTSTRAP_AUC,
    N_BOOTSTRAP_COEF,
    REGULARISATION_C,
)
from cbct_osteo.validate.statistics import N_BOOTSTRAP


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover - every one is a dependency
        return "?"


def _quality_words(count: int) -> str:
    return "none in this cohort" if count == 0 else f"up to {count} case{'s' if count != 1 else ''} per index"


def methods_paragraph(document: dict[str, Any]) -> str:
    """One paragraph: software and catalogue versions, measurement and quality filter, target, statistics."""
    provenance = document["provenance"]
    excluded = document["excluded"]
    model = document.get("model") or {}
    sites = (
        ", ".join(s.replace("_", " ") for s in provenance.get("reference_sites", []))
        or "the site given in the reference file"
    )
    left_out = sum(excluded.values())
    quality = max((r.get("excluded", {}).get("quality", 0) for r in document["indices"].values()), default=0)
    features = ", ".join(model.get("feature_descriptions") or model.get("features") or []) or "none"
    return (
        f"Mandibular indices were measured on CBCT with {provenance['software']} (index catalogue "
        f"{provenance['catalogue']}) in batch mode; cortical margins were refined by edge detection along the "
        "measurement line through the mental foramen. Measurements whose recorded quality "
        f"was not \u201cok\u201d were excluded per index ({_quality_words(quality)}). "
        f"Of the cases in either file, {document['n']} had both a measurement and a DXA T-score ({sites}) and were "
        f"analysed ({left_out} left out: not measured, not in the reference file or without a T-score). The target "
        f"was {document['target_definition']}; {_cases(document['positives'])} positive. For each index (both "
        "sides' mean and each side) the area under the ROC curve (AUC) was computed with scikit-learn "
        f"{_version('scikit-learn')}, with a 95 % confidence interval from a stratified bootstrap ({N_BOOTSTRAP} "
        f"resamples, BCa; SciPy {_version('scipy')}). The direction of each index was fixed in advance (the published "
        "cutoff's direction, otherwise lower values at risk) and never chosen from the data. Sensitivity, specificity, "
        "positive and negative predictive value at the published cutoff are given with Wilson 95 % intervals "
        f"(statsmodels {_version('statsmodels')}); the Youden-optimal cutoff with a percentile bootstrap interval "
        f"({N_BOOTSTRAP} resamples); the correlation with the T-score as Pearson's r and Spearman's rho with "
        f"two-sided p-values. {_model_sentence(model, features)} Random seed {provenance['seed']}."
    )


#: Shown under the paragraph: what the program cannot know from RESULTS.csv.
CHECK_BEFORE_PASTING = (
    "Check before pasting: RESULTS.csv does not record whether the batch ran with --no-refine; the "
    "paragraph assumes the default edge refinement of the cortical margins."
)


def _cases(count: int) -> str:
    return f"{count} case was" if count == 1 else f"{count} cases were"


def _model_sentence(model: dict[str, Any], features: str) -> str:
    rule = f"an L2-regularised logistic regression (C = {REGULARISATION_C:g} on standardised features: {features})"
    if model.get("cv_auc") is None:
        return f"A combined model, {rule}, could not be fitted: {model.get('reason', 'no complete cases')}."
    folds = model.get("cv") or f"{CV_REPEATS} x repeated stratified {CV_FOLDS}-fold"
    return (
        f"A combined model, {rule}, was evaluated by {folds} cross-validation on {model['n']} complete cases: we "
        f"report the out-of-fold AUC (mean over repeats) with a stratified case-bootstrap 95 % interval "
        f"({N_BOOTSTRAP_AUC} resamples), the Brier score and a reliability plot of the out-of-fold probabilities, "
        f"and the coefficients with stratified-bootstrap percentile intervals ({N_BOOTSTRAP_COEF} resamples)."
    )


LIMITS: tuple[str, ...] = (
    "PPV and NPV depend on the prevalence of this cohort; they hold only for a population with the same prevalence.",
    (
        "The Youden-optimal cutoff is chosen on the same cases it is judged on; its accuracy there is optimistic. "
        "A cutoff for clinical use needs an independent cohort."
    ),
    (
        "The combined model's AUC is cross-validated (out-of-fold), not the training AUC; it is still an internal "
        "validation on one site, scanner and protocol."
    ),
    (
        "CBCT gray values are not calibrated Hounsfield units: trabecular gray-value results transfer to no other "
        "scanner or protocol."
    ),
    (
        "An AUC below 0.5 means the index runs opposite to the assumed direction in this cohort; the direction is "
        "never flipped after the fact."
    ),
)
