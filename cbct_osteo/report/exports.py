"""CSV and JSON exports of one case's results, with the same anonymisation as the PDF.

The CSV has exactly the batch mode's columns (:func:`cbct_osteo.indices.csv_columns`), one row
for the case, so single reports and cohort runs can be concatenated; its text cells are escaped
like the batch's (:mod:`cbct_osteo.io.csv_cells`: a patient ID such as ``=HYPERLINK(..)`` opens
as text). Both files are written atomically.
"""

from __future__ import annotations

import copy
import csv
import io
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cbct_osteo.io.atomic import write_bytes_atomic, write_json_atomic
from cbct_osteo.io.csv_cells import escape_row
from cbct_osteo.report.anonymise import redact, redact_document
from cbct_osteo.report.content import results_document
from cbct_osteo.report.header import ReportHeader

#: Provenance keys that identify the scan; dropped from anonymised JSON.
IDENTIFYING_PROVENANCE = ("series_uid", "study_uid", "volume_fingerprint", "source_files")


def csv_row(case_result_or_json: Any, *, case_id: str, age: str = "", sex: str = "") -> dict[str, str]:
    """The batch-mode CSV row of a case (``status`` ``ok``, no ``error``).

    Uses ``CaseResult.csv_row()`` when given a ``CaseResult``; for a results JSON document the
    same cells are read from its ``sides``/``mean``/``screening`` (values to 6 significant digits).
    """
    from cbct_osteo.indices import csv_columns

    columns = csv_columns(getattr(case_result_or_json, "entries", None))  # with any --index entries
    if hasattr(case_result_or_json, "csv_row"):
        cells = dict(case_result_or_json.csv_row())
    else:
        cells = _cells_from_json(results_document(case_result_or_json), set(columns))
    cells.update({"case_id": case_id, "status": "ok", "error": "", "age": age, "sex": sex})
    return {column: cells.get(column, "") for column in columns}


def write_results_csv(case_result_or_json: Any, path: str | Path, header: ReportHeader) -> Path:
    """Write the one-row CSV of a case; ``case_id`` is the header's case label (pseudonym when anonymised)."""
    age = header.age.split()[0] if header.age else ""
    row = csv_row(case_result_or_json, case_id=header.case_label, age=age, sex=header.sex)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(escape_row(row))
    return write_bytes_atomic(path, buffer.getvalue().encode("utf-8"))


def anonymised_results(
    results: Mapping[str, Any], case_label: str, scrub: Callable[[str], str] = lambda text: redact(text, ())
) -> dict[str, Any]:
    """A copy of the results JSON without scan identifiers, named by the case pseudonym.

    The identifying provenance keys are dropped, and every text (e.g. a load warning naming
    ``Zanetti_Mariana_dup.dcm``) goes through ``scrub`` (the header's: the scan's identifiers
    and anything shaped like a path, file name or UID, :func:`cbct_osteo.report.anonymise.redact`).
    """
    document = copy.deepcopy(dict(results))
    provenance = dict(document.get("provenance") or {})
    for key in IDENTIFYING_PROVENANCE:
        provenance.pop(key, None)
    document["provenance"] = provenance
    redacted: dict[str, Any] = redact_document(document, scrub)
    redacted["case"] = case_label
    return redacted


def write_results_json(case_result_or_json: Any, path: str | Path, header: ReportHeader) -> Path:
    """Write the results JSON; anonymised (see :func:`anonymised_results`) when the header is."""
    results = results_document(case_result_or_json)
    if header.anonymised:
        results = anonymised_results(results, header.case_label, header.scrub)
    return write_json_atomic(path, results)


def _cells_from_json(results: Mapping[str, Any], columns: set[str]) -> dict[str, str]:
    cells: dict[str, str] = {}
    for side, block in (results.get("sides") or {}).items():
        for group in ("measurements", "indices"):
            for item_id, item in ((block or {}).get(group) or {}).items():
                key = f"{side}_{item_id}"
                if key not in cells:
                    cells[key] = _cell(item.get("value"))
                    if group == "measurements":
                        cells[f"{key}_quality"] = str(item.get("quality") or "")
    for item_id, item in ((results.get("mean") or {}).get("indices") or {}).items():
        cells[f"mean_{item_id}"] = _cell(item.get("value"))
        cells[f"mean_{item_id}_category"] = str(item.get("category") or "")
    cells["screening"] = str((results.get("screening") or {}).get("code") or "")
    return {k: v for k, v in cells.items() if k in columns}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    number = float(value)
    return f"{number:.6g}" if math.isfinite(number) else ""
