"""Research mode: validate the indices against DXA on your own cohort, and derive a site index.

``run_validation`` joins a ``cbct-osteo batch`` RESULTS.csv with a REFERENCE.csv of DXA T-scores
(:mod:`~cbct_osteo.validate.data`), tests every numeric index of the catalogue
(:mod:`~cbct_osteo.validate.statistics`), fits and cross-validates the combined model
(:mod:`~cbct_osteo.validate.model`), writes the report (:mod:`~cbct_osteo.validate.figures`,
:mod:`~cbct_osteo.validate.report`), the OUT.json of ../shared/DESIGN.md and, on request, the
site index (:mod:`~cbct_osteo.validate.site_index`). Qt-free; the command is ``cbct-osteo validate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cbct_osteo.io.atomic import write_json_atomic


@dataclass
class ValidationOutputs:
    """What a run wrote, and the document (OUT.json) it wrote."""

    document: dict[str, Any]
    pdf: Path
    figures: dict[str, Path]
    json: Path | None = None
    site_index: Path | None = None
    warnings: list[str] = field(default_factory=list)


def run_validation(
    results_csv: str | Path,
    reference_csv: str | Path,
    pdf: str | Path,
    *,
    json_path: str | Path | None = None,
    target: str = "osteoporosis",
    features: list[str] | None = None,
    seed: int = 0,
    write_index: str | Path | None = None,
    force: bool = False,
    index_id: str = "SITE",
    index_name: str | None = None,
    index_files: tuple[str, ...] = (),
) -> ValidationOutputs:
    """Validate, then write the PDF (+ PNG figures beside it), the JSON and the site index.

    Without ``features``, the model uses W and the trabecular measurements (both sides' mean) plus
    age when the reference gives it; with ``write_index`` age is left out, because a site index
    must be computable from the scan alone. ``index_files`` (``--index``) adds definition files
    to the indices tested: an earlier site index is validated on a new cohort this way (its
    ``<side>_<id>``/``mean_<id>`` columns come from ``batch --index``).

    Raises
    ------
    cbct_osteo.io.errors.LoadError
        For unreadable or malformed CSVs (naming the file and row), a cohort with one class
        only, and a refused site index (:class:`~cbct_osteo.validate.site_index.SiteIndexRefused`).
    """
    from cbct_osteo.indices.definition_file import catalogue_with, load_index_files
    from cbct_osteo.validate.analysis import default_features, validate_cohort
    from cbct_osteo.validate.data import read_cohort
    from cbct_osteo.validate.figures import save_figures
    from cbct_osteo.validate.report import write_validation_pdf
    from cbct_osteo.validate.site_index import check_site_index, write_site_index

    entries = catalogue_with(load_index_files(index_files)) if index_files else None
    cohort = read_cohort(results_csv, reference_csv, target)
    chosen = features or default_features(cohort, with_age=write_index is None)
    validation = validate_cohort(cohort, features=chosen, seed=seed, entries=entries)
    if write_index is not None:
        check_site_index(validation, force)  # refuse before writing anything
    pdf_path = Path(pdf)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    site_path = (
        write_site_index(validation, write_index, force=force, index_id=index_id, name=index_name)
        if write_index
        else None
    )
    document = finite(validation.document)
    if site_path is not None:
        document["site_index"] = str(site_path)
    figures = save_figures(validation, pdf_path)
    write_validation_pdf(document, figures, pdf_path, site_path)
    json_out = write_json_atomic(json_path, document) if json_path else None
    return ValidationOutputs(document, pdf_path, figures, json_out, site_path, list(document["warnings"]))


def finite(value: Any) -> Any:
    """The document with NaN/inf replaced by ``None`` (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value
