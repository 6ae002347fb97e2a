"""Write the fitted combined model as a site index: a definition file like resources/indices/castro2020.toml.

The model is fitted on side means (``W`` = mean of both sides' W ...), so it is written as a
``linear`` rule over measurement ids whose value is the log-odds of the target:
``score = intercept + sum(coef * measurement)`` with the standardisation folded into the
coefficients. The catalogue applies a rule per side and averages the sides, and the mean of
two linear scores is the linear score of the side means: the mean index is exactly the fitted
model. The cutoff is the Youden-optimal log-odds on the out-of-fold predictions (never on
the training fit), at risk ``above``. ``status = "site-derived"``; the ``[derivation]`` table
records the cohort, the cross-validated AUC with its interval, the date and the program version.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path
from typing import Any

from cbct_osteo import __version__
from cbct_osteo.indices.catalogue import (
    CATALOGUE_VERSION,
    MEASUREMENT_IDS,
    MEASUREMENTS_BY_ID,
    all_entries,
)
from cbct_osteo.indices.definition_file import SITE_DERIVED, load_index_file
from cbct_osteo.io.atomic import write_bytes_atomic
from cbct_osteo.io.errors import LoadError
from cbct_osteo.validate.analysis import Validation

DEFAULT_ID = "SITE"


class SiteIndexRefused(LoadError):
    """The data cannot support a site index (too few cases, features the scan cannot give)."""


def check_site_index(validation: Validation, force: bool) -> None:
    """Refuse a site index that the cohort cannot support, unless ``force``.

    Raises
    ------
    SiteIndexRefused
        No model; a feature that is not a measurement of the scan (age, a single side); or,
        without ``force``, fewer than 10 cases in either class.
    """
    model = validation.document["model"]
    out = validation.cohort.results_path
    if validation.model is None:
        raise SiteIndexRefused(
            out, f"no combined model could be fitted ({model.get('reason', '')}); no site index written"
        )
    not_scan = [f for f in model["features"] if f not in MEASUREMENT_IDS]
    if not_scan:
        raise SiteIndexRefused(
            out,
            f"a site index must be computable from the scan alone, but the model uses {not_scan}",
            "choose --features among the measurement ids " + ", ".join(MEASUREMENT_IDS),
        )
    if validation.document["warnings"] and not force:
        raise SiteIndexRefused(
            out,
            "site index refused: " + "; ".join(validation.document["warnings"]),
            "measure more cases, or use --force to write it anyway (the file then records the warning)",
        )


def site_index_document(
    validation: Validation, index_id: str = DEFAULT_ID, name: str | None = None, today: _dt.date | None = None
) -> dict[str, Any]:
    """The definition as a plain dict (the TOML tables), from a fitted :class:`Validation`."""
    model_fit = validation.model
    assert model_fit is not None
    summary = validation.document["model"]
    intercept, coefficients = model_fit.linear_rule()
    date = (today or _dt.date.today()).isoformat()
    n, positives = summary["n"], summary["positives"]
    auc, ci = summary["cv_auc"], summary["cv_auc_ci95"]
    landmarks: list[str] = []
    for measurement_id in coefficients:  # what the user places for it: the landmarks of the index built on it alone
        own = next(
            (e.landmarks for e in all_entries() if e.measurements == (measurement_id,)),
            MEASUREMENTS_BY_ID[measurement_id].landmarks,
        )
        landmarks += [k for k in own if k not in landmarks]
    cohort = validation.cohort
    reference_sites = ", ".join(validation.document["provenance"]["reference_sites"])
    return {
        "id": index_id,
        "name": name or f"Site index ({date})",
        "status": SITE_DERIVED,
        "citation": (
            f"Site-derived with cbct-osteo {__version__} 'validate' on {n} local cases ({positives} with "
            f"{validation.document['target_definition']}); not a published index."
        ),
        "population": f"{n} local cases of this site (reference sites: {reference_sites or 'not given'})",
        "accuracy": (
            f"cross-validated AUC {auc:.2f} [{ci[0]:.2f}, {ci[1]:.2f}] on the deriving cohort; not externally validated"
        ),
        "source": f"{cohort.results_path} + {cohort.reference_path}",
        "landmarks": landmarks,
        "measured_inputs": list(coefficients),
        "definition": {"form": "linear", "intercept": intercept, "coefficients": coefficients},
        # 0.001 log-odds is far below the cutoff's own uncertainty (its bootstrap interval spans ~2 log-odds)
        "cutoff": {"value": round(summary["youden_cutoff_logit"], 3), "direction": "above", "unit": "log-odds"},
        "derivation": {
            "n": n,
            "positives": positives,
            "target": cohort.target,
            "target_text": f"target {validation.document['target_definition']}",
            "auc": auc,
            "auc_ci95": ci,
            "cutoff_ci95": summary["youden_cutoff_logit_ci95"] or [],
            "cv": summary["cv"],
            "model": f"logistic regression, {summary['regularisation']}; score = log-odds from side means",
            "date": date,
            "software": f"cbct-osteo {__version__}",
            "catalogue": CATALOGUE_VERSION,
            "warnings": list(validation.document["warnings"]),
        },
    }


def write_site_index(
    validation: Validation,
    path: str | Path,
    *,
    force: bool = False,
    index_id: str = DEFAULT_ID,
    name: str | None = None,
) -> Path:
    """Check, write atomically, and read back the site-index file (so a file we write always loads)."""
    check_site_index(validation, force)
    document = site_index_document(validation, index_id, name)
    out = Path(path)
    write_bytes_atomic(out, to_toml(document).encode("utf-8"))
    load_index_file(out)
    return out


def to_toml(document: dict[str, Any]) -> str:
    """TOML of flat tables of strings, numbers and lists (all a definition file holds)."""
    header = (
        "# A site-derived index written by 'cbct-osteo validate --write-index'. It is NOT a published index:\n"
        "# it was fitted on the cohort named below and is only as good as that cohort. Use it with\n"
        "# 'cbct-osteo measure/report/batch --index THIS_FILE'.\n\n"
    )
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in document.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_value(value)}")
    for key, table in tables:
        nested = {k: v for k, v in table.items() if isinstance(v, dict)}
        lines += ["", f"[{key}]"] + [f"{k} = {_value(v)}" for k, v in table.items() if k not in nested]
        for sub, values in nested.items():
            lines += ["", f"[{key}.{sub}]"] + [f"{k} = {_value(v)}" for k, v in values.items()]
    return header + "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if not math.isfinite(float(value)):
            raise ValueError(f"cannot write the non-finite number {value!r} to a definition file")
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string
