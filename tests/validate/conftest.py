"""Synthetic cohorts with a stated W-T relation (known true AUC), written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from cbct_osteo.validate.synthetic import Relation, make_cohort, write_cohort_csvs

COHORT_SIZE = 60
COHORT_SEED = 3


@pytest.fixture(scope="session")
def cohort60(tmp_path_factory) -> tuple[Path, Path]:
    """RESULTS.csv and REFERENCE.csv of 60 synthetic cases from the default :class:`Relation`."""
    return write_cohort_csvs(
        tmp_path_factory.mktemp("cohort60"), make_cohort(COHORT_SIZE, Relation(), seed=COHORT_SEED)
    )


@pytest.fixture(scope="session")
def validated60(cohort60, tmp_path_factory):
    """``(outputs, seconds)`` of one full ``run_validation`` with ``--write-index`` on the 60-case cohort."""
    import time

    from cbct_osteo.validate import run_validation

    out = tmp_path_factory.mktemp("validated60")
    start = time.perf_counter()
    outputs = run_validation(
        *cohort60, out / "VALIDATION.pdf", json_path=out / "OUT.json", write_index=out / "SITE.toml"
    )
    return outputs, time.perf_counter() - start
