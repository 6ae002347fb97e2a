"""The whole validation of a cohort: every catalogue index, the combined model, the warnings.

:func:`validate_cohort` returns the OUT.json document of ../shared/DESIGN.md
(``n, positives, excluded, indices{...}, model{...}``) plus what the report needs. Indices are
the numeric entries of the catalogue (a value formula, or a definition file with a rule), each
as ``mean_<id>`` and per side; grades (CTCI) and an unverified Castro index have no number to test.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cbct_osteo import __version__
from cbct_osteo.indices.catalogue import (
    CATALOGUE_VERSION,
    MEASUREMENT_IDS,
    IndexEntry,
    all_entries,
)
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.landmarks_file import SIDES
from cbct_osteo.validate.data import TARGETS, Cohort, used_measurements
from cbct_osteo.validate.model import ModelFit, fit_model
from cbct_osteo.validate.statistics import Orientation, analyse_index

#: Fewer cases than this in the smaller class: intervals too wide to choose a cutoff (issue 17).
MIN_CLASS_SIZE = 10
#: Default model features: the cortical width and the trabecular measurements (mean of both sides), plus age.
DEFAULT_FEATURES: tuple[str, ...] = ("W", "TRAB_MEAN", "TRAB_SD", "BV_TV", "FD")
PREFIXES: tuple[str, ...] = ("mean", *SIDES)


@dataclass
class Validation:
    """The OUT.json document, the cohort it came from and the fitted model (``None`` if none could be fitted)."""

    document: dict[str, Any]
    cohort: Cohort
    model: ModelFit | None
    feature_matrix: np.ndarray | None
    model_positive: np.ndarray | None
    #: Per analysed column, the cases it used (value present, measurements of ok quality).
    masks: dict[str, np.ndarray]


def numeric_entries(entries: tuple[IndexEntry, ...] | None = None) -> list[IndexEntry]:
    """Catalogue entries with a number to test (value formulas and defined definition files)."""
    return [e for e in (entries or all_entries()) if e.formula is not None and e.kind != "grade"]


def orientation(entry: IndexEntry) -> Orientation:
    """The at-risk side: the catalogue cutoff's direction; without a cutoff, lower values (stated as assumed)."""
    if entry.cutoff is not None:
        return Orientation(entry.cutoff.direction, "catalogue cutoff direction")
    return Orientation("below", "assumed: lower values at risk (the catalogue gives no cutoff for this index)")


def feature_column(
    cohort: Cohort, token: str, entries: tuple[IndexEntry, ...] | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(values, usable mask, description)`` of one model feature.

    ``W`` (a measurement id) is the mean of both sides (both must be present and ok quality);
    ``left_W`` or ``mean_CTMI`` is that RESULTS column; ``age`` comes from the reference.
    """
    if token == "age":
        return cohort.age, np.isfinite(cohort.age), "age (years, reference CSV)"
    if token in MEASUREMENT_IDS:
        columns = [f"{side}_{token}" for side in SIDES]
        stack = np.vstack([cohort.values.get(c, np.full(cohort.n, np.nan)) for c in columns])
        mask = np.all(np.isfinite(stack), axis=0)
        for column in columns:
            mask &= cohort.measurement_ok(column)
        return stack.mean(axis=0), mask, f"{token} (mean of both sides)"
    if token in cohort.values:
        entry = next((e for e in entries or all_entries() if token.partition("_")[2] == e.id), None)
        mask, _, _ = cohort.usable(token, used_measurements(token, entry))
        return cohort.values[token], mask, token
    raise LoadError(
        cohort.results_path,
        f"feature {token!r} is neither a measurement id ({', '.join(MEASUREMENT_IDS)}), "
        "'age', nor a column of the results CSV",
    )


def default_features(cohort: Cohort, with_age: bool = True) -> list[str]:
    """W and the trabecular measurements that have any value, plus age when the reference gives it."""
    chosen = [f for f in DEFAULT_FEATURES if feature_column(cohort, f)[1].any()]
    if with_age and np.isfinite(cohort.age).any():
        chosen.append("age")
    return chosen


def sample_size_warnings(positives: int, negatives: int) -> list[str]:
    """The sample-size honesty of issue 17: too few in either class to choose a cutoff."""
    found = []
    for count, word in ((positives, "positive"), (negatives, "negative")):
        if count < MIN_CLASS_SIZE:
            found.append(
                f"only {count} {word} case{'s' if count != 1 else ''} (fewer than {MIN_CLASS_SIZE}): the "
                "confidence intervals are too wide to choose a cutoff; treat every number as exploratory"
            )
    return found


def validate_cohort(
    cohort: Cohort, *, features: list[str] | None = None, seed: int = 0, entries: tuple[IndexEntry, ...] | None = None
) -> Validation:
    """Analyse every numeric index and fit the combined model on ``features`` (default :func:`default_features`)."""
    positives, negatives = cohort.positives, cohort.n - cohort.positives
    if positives == 0 or negatives == 0:
        raise LoadError(
            cohort.reference_path,
            f"every one of the {cohort.n} cases is "
            f"{'positive' if negatives == 0 else 'negative'} for {TARGETS[cohort.target]}: nothing to discriminate",
        )
    document: dict[str, Any] = {
        "n": cohort.n,
        "positives": positives,
        "excluded": dict(cohort.excluded),
        "target": cohort.target,
        "target_definition": TARGETS[cohort.target],
        "warnings": sample_size_warnings(positives, negatives),
        "indices": {},
    }
    index_seed = seed
    masks: dict[str, np.ndarray] = {}
    for entry in numeric_entries(entries):
        for prefix in PREFIXES:
            column = f"{prefix}_{entry.id}"
            if column not in cohort.values:
                continue
            mask, bad_quality, empty = cohort.usable(column, used_measurements(column, entry))
            masks[column] = mask
            index_seed += 3
            result = analyse_index(
                cohort.values[column][mask],
                cohort.positive[mask],
                cohort.t_score[mask],
                orientation(entry),
                entry.cutoff.value if entry.cutoff else None,
                index_seed,
            )
            result.update(
                name=entry.name,
                unit=entry.unit,
                status=entry.status,
                excluded={"quality": bad_quality, "no_value": empty},
            )
            document["indices"][column] = result
    names = features or default_features(cohort)
    model, matrix, model_positive = _model(cohort, names, seed, document)
    document["provenance"] = {
        "software": f"cbct-osteo {__version__}",
        "catalogue": CATALOGUE_VERSION,
        "results_csv": cohort.results_path,
        "reference_csv": cohort.reference_path,
        "reference_sites": sorted({s for s in cohort.site if s}),
        "seed": seed,
        "analysed_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return Validation(document, cohort, model, matrix, model_positive, masks)


def _model(
    cohort: Cohort, names: list[str], seed: int, document: dict[str, Any]
) -> tuple[ModelFit | None, npt.NDArray[np.float64] | None, npt.NDArray[np.bool_] | None]:
    """Fit the combined model on ``names`` and record it in ``document["model"]``.

    Returns the fit, its feature matrix and its target (complete cases only), or three ``None``
    when there are no features or fewer than 2 cases of either class.
    """
    columns = [feature_column(cohort, name) for name in names]
    mask = np.all([c[1] for c in columns], axis=0) if columns else np.zeros(cohort.n, bool)
    matrix = np.column_stack([c[0][mask] for c in columns]) if columns else np.empty((0, 0))
    positive = cohort.positive[mask]
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    base = {
        "features": names,
        "feature_descriptions": [c[2] for c in columns],
        "n": int(mask.sum()),
        "positives": n_pos,
        "excluded": int(cohort.n - mask.sum()),
    }
    if not names or n_pos < 2 or n_neg < 2:
        document["model"] = {
            **base,
            "cv_auc": None,
            "cv_auc_ci95": None,
            "brier": None,
            "coefficients": {},
            "reason": f"needs features and at least 2 positive and 2 negative complete cases (has {n_pos}, {n_neg})",
        }
        return None, None, None
    fit = fit_model(matrix, positive, cohort.t_score[mask], names, seed)
    document["model"] = {**base, **fit.summary}
    return fit, matrix, positive
