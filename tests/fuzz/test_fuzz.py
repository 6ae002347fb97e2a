"""The short fixed-seed fuzz campaign: every mutant must load or raise the loader's own LoadError.

500 inputs (50 per mutator, see harness.py), about a minute on 2 cores (at most 110 s: on a
busy machine the campaign stops early, but at least half of it must run). A failure prints the
table and each bad case with its mutator and index; reproduce it with
``benchmarks/fuzz.py --seed 20261201 --count INDEX+1 --keep DIR``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.harness import MEMORY_LIMIT_BYTES, MUTATORS, run_campaign

SEED = 20261201
PER_MUTATOR = 50


@pytest.mark.slow
def test_short_fuzz_campaign_has_no_abort_hang_memory_or_foreign_exception(shared_data: Path, tmp_path: Path) -> None:
    campaign = run_campaign(SEED, PER_MUTATOR * len(MUTATORS), tmp_path, time_budget_s=110)
    report = campaign.table() + "\n" + "\n".join(f"{c}: {m} #{i}: {d}" for m, i, c, d in campaign.failures)
    assert campaign.n >= 0.5 * PER_MUTATOR * len(MUTATORS), report  # the time budget must not hide the run
    assert campaign.n_bad == 0, report
    # Both acceptable outcomes occur: the mutants are neither all harmless nor all rejected.
    totals = {o: sum(c[o] for c in campaign.counts.values()) for o in ("loaded", "own")}
    assert totals["loaded"] > 0 and totals["own"] > 0, report
    assert MEMORY_LIMIT_BYTES <= 1024**3
