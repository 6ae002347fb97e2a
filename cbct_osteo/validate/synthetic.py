"""A synthetic cohort with a stated W-T relation, so the true AUC is known: test data and docs figures.

Each case draws a DXA T-score ``T ~ N(t_mean, t_sd)`` and per side an inferior cortical width
``W = a + b*T + e`` with ``e ~ N(0, noise_sd)`` (mm). The other measurements follow weaker
stated relations (below). Rows are scored by the program's own scoring
(:func:`cbct_osteo.indices.scoring.score_case`), so RESULTS.csv has exactly the batch columns.

Because ``(T, W)`` is bivariate normal, the AUC of W for ``T <= c`` is a trivariate normal
orthant probability (:func:`true_auc`): no simulation needed to know the right answer.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from cbct_osteo.indices.catalogue import (
    MEASUREMENTS,
    MEASUREMENTS_BY_ID,
    IndexEntry,
    csv_columns,
)
from cbct_osteo.indices.scoring import score_case
from cbct_osteo.io.landmarks_file import SIDES
from cbct_osteo.measure.quantity import Measurement

TARGET_THRESHOLDS: dict[str, float] = {"osteoporosis": -2.5, "low-bmd": -1.0}


@dataclass(frozen=True)
class Relation:
    """The stated relation of the synthetic cohort (defaults: about Poiana et al.'s r = 0.55 for CTMI).

    ``W = a_mm + b_mm_per_t * T + N(0, noise_sd_mm)`` per side; trabecular values follow
    ``TRAB_MEAN = 900 + trab_gray_per_t*T + N(0, 150)``, ``BV_TV = 0.45 + bv_tv_per_t*T + N(0, 0.08)``,
    ``FD = 1.35 + fd_per_t*T + N(0, 0.06)``; S, I and TRAB_SD do not depend on T.
    Setting every slope to 0 gives a cohort of pure noise.
    """

    a_mm: float = 3.8
    b_mm_per_t: float = 0.30
    noise_sd_mm: float = 0.6
    t_mean: float = -1.8
    t_sd: float = 1.2
    trab_gray_per_t: float = 40.0
    bv_tv_per_t: float = 0.02
    fd_per_t: float = 0.01

    def noise_only(self) -> Relation:
        return Relation(self.a_mm, 0.0, self.noise_sd_mm, self.t_mean, self.t_sd, 0.0, 0.0, 0.0)


def true_auc(relation: Relation, target: str = "osteoporosis", sides: int = 2) -> float:
    """The population AUC of W (mean of ``sides`` sides; low W = at risk) for the target.

    With ``D = W_pos - W_neg``: AUC = P(D < 0 | T_pos <= c, T_neg > c), and (D, T_pos, -T_neg)
    is trivariate normal, so AUC = Phi3((0, c, -c); mean (0, mu, -mu), cov) / (p (1 - p)).
    """
    c = TARGET_THRESHOLDS[target]
    mu, st, b = relation.t_mean, relation.t_sd, relation.b_mm_per_t
    noise_var = relation.noise_sd_mm**2 / sides
    cov = np.array(
        [
            [2 * (b * b * st * st + noise_var), b * st * st, b * st * st],
            [b * st * st, st * st, 0.0],
            [b * st * st, 0.0, st * st],
        ]
    )
    joint = stats.multivariate_normal(mean=[0.0, mu, -mu], cov=cov).cdf([0.0, c, -c])
    p = stats.norm.cdf(c, mu, st)
    return float(joint / (p * (1 - p)))


@dataclass
class SyntheticCohort:
    """Per case: T-score, age, sex and the measurements per side."""

    case_ids: list[str]
    t_score: np.ndarray
    age: np.ndarray
    sex: list[str]
    measurements: list[dict[str, dict[str, float]]]  # [case][side][measurement id]


def make_cohort(n: int, relation: Relation = Relation(), seed: int = 0) -> SyntheticCohort:
    """Draw ``n`` cases from ``relation``."""
    rng = np.random.default_rng(seed)
    t = rng.normal(relation.t_mean, relation.t_sd, n)
    age = np.round(rng.uniform(50, 80, n))
    cases = []
    for ti in t:
        sides = {}
        for side in SIDES:
            sides[side] = {
                "W": max(0.3, relation.a_mm + relation.b_mm_per_t * ti + rng.normal(0, relation.noise_sd_mm)),
                "S": rng.normal(13.0, 1.5),
                "I": rng.normal(9.0, 1.2),
                "TRAB_MEAN": 900 + relation.trab_gray_per_t * ti + rng.normal(0, 150),
                "TRAB_SD": rng.normal(250, 40),
                "BV_TV": float(np.clip(0.45 + relation.bv_tv_per_t * ti + rng.normal(0, 0.08), 0.05, 0.95)),
                "FD": 1.35 + relation.fd_per_t * ti + rng.normal(0, 0.06),
            }
        cases.append(sides)
    return SyntheticCohort([f"case{i + 1:03d}" for i in range(n)], t, age, ["F"] * n, cases)


def results_rows(
    cohort: SyntheticCohort, uncertain: dict[str, str] | None = None, entries: tuple[IndexEntry, ...] | None = None
) -> list[dict[str, str]]:
    """RESULTS.csv rows scored by the program's scoring; ``uncertain`` = {case_id: "left_W"} marks a quality.

    ``entries``: the catalogue to score with (e.g. with a site index, as ``batch --index`` does).
    """
    rows = []
    for case_id, sides, age, sex in zip(cohort.case_ids, cohort.measurements, cohort.age, cohort.sex, strict=True):
        measured = {
            side: {
                k: Measurement(k, float(v), MEASUREMENTS_BY_ID[k].unit, "synthetic", 0.05 if k in "WSI" else None)
                for k, v in values.items()
            }
            for side, values in sides.items()
        }
        row = dict.fromkeys(csv_columns(entries), "")
        row.update(score_case(measured, entries=entries).csv_row())
        row.update(case_id=case_id, status="ok", error="", age=f"{age:g}", sex=sex)
        for side in SIDES:
            for spec in MEASUREMENTS:
                row[f"{side}_{spec.id}_quality"] = "ok" if row.get(f"{side}_{spec.id}") else "not measurable"
        if uncertain and case_id in uncertain:
            row[f"{uncertain[case_id]}_quality"] = "uncertain"
        rows.append(row)
    return rows


def write_cohort_csvs(
    folder: str | Path,
    cohort: SyntheticCohort,
    *,
    uncertain: dict[str, str] | None = None,
    with_age: bool = True,
    entries: tuple[IndexEntry, ...] | None = None,
) -> tuple[Path, Path]:
    """Write ``RESULTS.csv`` (batch columns + ``_quality``) and ``REFERENCE.csv`` (case_id,t_score,site,age,sex)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rows = results_rows(cohort, uncertain, entries)
    columns = csv_columns(entries) + [f"{side}_{spec.id}_quality" for side in SIDES for spec in MEASUREMENTS]
    results = out / "RESULTS.csv"
    with open(results, "w", encoding="utf-8", newline="") as handle:
        dict_writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        dict_writer.writeheader()
        dict_writer.writerows(rows)
    reference = out / "REFERENCE.csv"
    with open(reference, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ["case_id", "t_score", "site", "age", "sex"] if with_age else ["case_id", "t_score", "site", "sex"]
        )
        for case_id, t, age, sex in zip(cohort.case_ids, cohort.t_score, cohort.age, cohort.sex, strict=True):
            cells = [case_id, f"{t:.2f}", "femoral_neck"] + ([f"{age:g}"] if with_age else []) + [sex]
            writer.writerow(cells)
    return results, reference


def rounded_t(t: np.ndarray) -> np.ndarray:
    """T-scores as written to REFERENCE.csv (two decimals, like a DXA report)."""
    return np.array([float(f"{v:.2f}") for v in t])
