"""Read a batch RESULTS.csv and a DXA REFERENCE.csv, join them by case, and say what was left out.

The results are ``cbct-osteo batch`` output (``case_id,status,error``, ``<side>_<id>`` columns,
``<side>_<id>_quality`` per measurement); the reference has ``case_id,t_score`` and optionally
``bmd,site,age,sex``. A case enters the analysis only when it is in both files, its batch
status is ``ok`` and it has a T-score; every other case is counted under a named reason. Per
analysis column a case is further left out when a measurement it uses is not ``ok`` quality
(a missing quality column counts as ok: older batch files have none) or the value is empty.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cbct_osteo.indices.catalogue import MEASUREMENT_IDS, IndexEntry
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.landmarks_file import SIDES
from cbct_osteo.io.user_files import read_user_text

#: Targets: name -> (words, predicate on the T-score). WHO 1994: osteoporosis T <= -2.5; low BMD T < -1.
TARGETS: dict[str, str] = {
    "osteoporosis": "osteoporosis (DXA T-score \u2264 \u22122.5, WHO)",
    "low-bmd": "low bone mineral density (DXA T-score < \u22121, osteopenia or osteoporosis)",
}
REFERENCE_SITES: tuple[str, ...] = ("femoral_neck", "lumbar_spine", "total_hip")
#: A DXA T-score outside this range is a typing error, not a patient.
T_SCORE_RANGE: tuple[float, float] = (-8.0, 6.0)


def is_positive(t_score: np.ndarray, target: str) -> np.ndarray:
    """The target condition per case: ``T <= -2.5`` (osteoporosis) or ``T < -1`` (low-bmd)."""
    if target == "osteoporosis":
        return t_score <= -2.5
    if target == "low-bmd":
        return t_score < -1.0
    raise ValueError(f"target must be one of {tuple(TARGETS)}, got {target!r}")


@dataclass
class Cohort:
    """The joined cases: T-scores, the target, covariates and every numeric RESULTS column.

    ``values[column]`` is a float array (NaN = empty cell); ``quality[column]`` is True where
    the measurement column's ``_quality`` cell is ``ok`` or absent.
    """

    case_ids: list[str]
    t_score: np.ndarray
    positive: np.ndarray
    target: str
    age: np.ndarray
    sex: list[str]
    site: list[str]
    values: dict[str, np.ndarray]
    quality: dict[str, np.ndarray]
    excluded: dict[str, int] = field(default_factory=dict)
    results_path: str = ""
    reference_path: str = ""

    @property
    def n(self) -> int:
        return len(self.case_ids)

    @property
    def positives(self) -> int:
        return int(self.positive.sum())

    def measurement_ok(self, column: str) -> np.ndarray:
        """True where the measurement column's quality is ok (or not recorded)."""
        return self.quality.get(column, np.ones(self.n, dtype=bool))

    def usable(self, column: str, used_measurements: list[str]) -> tuple[np.ndarray, int, int]:
        """``(mask, left out for quality, left out as empty)`` for one analysis column."""
        value = self.values.get(column, np.full(self.n, np.nan))
        quality_ok = np.ones(self.n, dtype=bool)
        for measurement_column in used_measurements:
            quality_ok &= self.measurement_ok(measurement_column)
        present = np.isfinite(value)
        return present & quality_ok, int((~quality_ok).sum()), int((quality_ok & ~present).sum())


def used_measurements(column: str, entry: IndexEntry | None) -> list[str]:
    """The measurement columns an analysis column rests on: ``mean_CTMI`` -> ``left_W, right_W``."""
    prefix, _, item = column.partition("_")
    ids = list(entry.measurements) if entry is not None else ([item] if item in MEASUREMENT_IDS else [])
    sides = SIDES if prefix == "mean" else (prefix,)
    return [f"{side}_{m}" for side in sides for m in ids]


def read_cohort(results_path: str | Path, reference_path: str | Path, target: str = "osteoporosis") -> Cohort:
    """Join RESULTS.csv and REFERENCE.csv into a :class:`Cohort`.

    Raises
    ------
    LoadError
        Naming the file and the row at fault (missing header column, duplicate case id, a
        T-score or number that does not parse, an unknown reference site), or when no case
        is left to analyse.
    """
    results_rows, results_header = _read_csv(Path(results_path), "results CSV", ("case_id", "status"))
    reference_rows, _ = _read_csv(Path(reference_path), "reference CSV", ("case_id", "t_score"))
    reference: dict[str, dict[str, str]] = {row["case_id"]: row for _, row in reference_rows}
    results: dict[str, dict[str, str]] = {row["case_id"]: row for _, row in results_rows}
    reference_lines = {row["case_id"]: line for line, row in reference_rows}
    results_lines = {row["case_id"]: line for line, row in results_rows}
    excluded = {"not_in_reference": 0, "not_in_results": 0, "batch_error": 0, "no_t_score": 0}
    excluded["not_in_results"] = sum(1 for case in reference if case not in results)
    ids: list[str] = []
    t_scores: list[float] = []
    for case_id, row in results.items():
        if case_id not in reference:
            excluded["not_in_reference"] += 1
            continue
        if (row.get("status") or "").strip().lower() != "ok":
            excluded["batch_error"] += 1
            continue
        text = (reference[case_id].get("t_score") or "").strip()
        if not text:
            excluded["no_t_score"] += 1
            continue
        t_scores.append(_t_score(text, Path(reference_path), reference_lines[case_id]))
        ids.append(case_id)
    if not ids:
        raise LoadError(
            results_path,
            f"no case is both measured (status ok) and in {reference_path} with a T-score "
            f"(left out: {_counts_text(excluded)})",
        )
    for case_id in ids:
        _check_site(reference[case_id], Path(reference_path), reference_lines[case_id])
    numeric = [
        c
        for c in results_header
        if c not in ("case_id", "status", "error", "screening", "sex", "age")
        and not c.endswith(("_quality", "_category"))
    ]
    values = {
        c: np.array([_number(results[i].get(c), Path(results_path), results_lines[i], c) for i in ids]) for c in numeric
    }
    quality = {
        c.removesuffix("_quality"): np.array([(results[i].get(c) or "ok").strip().lower() == "ok" for i in ids])
        for c in results_header
        if c.endswith("_quality")
    }
    t = np.array(t_scores)
    ages = np.array([_age(reference[i], results[i], Path(reference_path), reference_lines[i]) for i in ids])
    return Cohort(
        case_ids=ids,
        t_score=t,
        positive=is_positive(t, target),
        target=target,
        age=ages,
        sex=[(reference[i].get("sex") or results[i].get("sex") or "").strip() for i in ids],
        site=[(reference[i].get("site") or "").strip() for i in ids],
        values=values,
        quality=quality,
        excluded=excluded,
        results_path=str(results_path),
        reference_path=str(reference_path),
    )


def _read_csv(source: Path, what: str, required: tuple[str, ...]) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Rows as ``(line number, row)`` with stripped header names; refuses duplicates and short rows."""
    text = read_user_text(source, what, encoding="utf-8-sig")
    try:
        reader = csv.reader(io.StringIO(text))
        table = [row for row in reader]
    except csv.Error as exc:
        raise LoadError(source, f"is not a readable CSV ({exc})") from None
    if not table:
        raise LoadError(source, f"is empty (expected a header row with {','.join(required)})")
    header = [h.strip() for h in table[0]]
    absent = [c for c in required if c not in header]
    if absent:
        raise LoadError(source, f"header lacks {', '.join(absent)} (found: {','.join(header) or 'nothing'})")
    rows: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    for line, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise LoadError(source, f"row {line} has {len(cells)} cells but the header has {len(header)}")
        # strict=False: a row may be shorter than the header (trailing cells left empty); longer is refused above
        row = dict(zip(header, (c.strip() for c in cells), strict=False))
        case_id = row.get("case_id", "")
        if not case_id:
            raise LoadError(source, f"row {line} has no case_id")
        if case_id in seen:
            raise LoadError(source, f"row {line}: case_id {case_id!r} already given in row {seen[case_id]}")
        seen[case_id] = line
        rows.append((line, row))
    return rows, header


def _number(text: str | None, source: Path, line: int, column: str) -> float:
    if text is None or not text.strip():
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise LoadError(source, f"row {line}, column {column}: {text!r} is not a number") from None
    return value if math.isfinite(value) else math.nan


def _t_score(text: str, source: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LoadError(source, f"row {line}: t_score {text!r} is not a number") from None
    low, high = T_SCORE_RANGE
    if not low <= value <= high:
        raise LoadError(
            source, f"row {line}: t_score {value:g} is outside {low:g}..{high:g}; is it a BMD or a Z-score?"
        )
    return value


def _age(reference_row: dict[str, str], results_row: dict[str, str], source: Path, line: int) -> float:
    text = (reference_row.get("age") or results_row.get("age") or "").strip()
    if not text:
        return math.nan
    try:
        age = float(text)
    except ValueError:
        raise LoadError(source, f"row {line}: age {text!r} is not a number (years)") from None
    if not 0 < age < 130:
        raise LoadError(source, f"row {line}: age {age:g} is not a plausible age in years")
    return age


def _check_site(row: dict[str, str], source: Path, line: int) -> None:
    site = (row.get("site") or "").strip()
    if site and site not in REFERENCE_SITES:
        raise LoadError(source, f"row {line}: site {site!r} is not one of {', '.join(REFERENCE_SITES)}")


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items() if v) or "none"
