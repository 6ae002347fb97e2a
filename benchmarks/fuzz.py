"""Fuzz campaign against ``cbct_osteo.load``: seeded mutants of the shared corpus and phantoms.

Usage::

    .venv/bin/python benchmarks/fuzz.py --seed 1 --count 3000 [--time-budget 3600] [--keep DIR]

Each mutant is loaded in a forked child with an address-space limit and a timeout (see
tests/fuzz/harness.py for the mutators and the outcome categories). Prints a Markdown table per
mutation (loaded / own / foreign / abort / hang / memory) and the unacceptable cases; exits 1
when any input ends in anything but "loaded" or "own". ``--keep DIR`` copies those inputs there.
The short fixed-seed run of the test suite is tests/fuzz/test_fuzz.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"


def _harness():
    """tests/fuzz/harness.py as the package ``fuzz`` (tests/ first on the path: this script is also named fuzz)."""
    sys.path.insert(0, str(TESTS))
    import fuzz.harness

    return fuzz.harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=3000, help="mutants to run (round-robin over the mutators)")
    parser.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--keep", type=Path, default=None, help="copy unacceptable inputs into this folder")
    args = parser.parse_args(argv)
    harness = _harness()
    started = time.monotonic()

    def progress(index: int, campaign) -> None:
        if (index + 1) % 100 == 0:
            print(
                f"  {index + 1} inputs, {campaign.n_bad} unacceptable, {time.monotonic() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    with tempfile.TemporaryDirectory(prefix="cbct-osteo-fuzz-") as work:
        campaign = harness.run_campaign(
            args.seed,
            args.count,
            Path(work),
            time_budget_s=args.time_budget,
            keep_failures=args.keep,
            progress=progress,
        )
    print(
        f"seed {args.seed}: {campaign.n} inputs in {campaign.seconds:.0f} s "
        f"(slowest {campaign.worst_seconds:.1f} s, largest growth above the parent's resident set "
        f"{campaign.growth_bytes / 2**20:.0f} MiB, "
        f"memory limit {harness.MEMORY_LIMIT_BYTES / 2**20:.0f} MiB above the start, "
        f"timeout {harness.TIMEOUT_S:g} s; {campaign.not_written} mutants could not be written)"
    )
    print()
    print(campaign.table())
    for name, index, category, detail in campaign.failures:
        print(f"- {category}: {name} #{index}: {detail}")
    return 1 if campaign.n_bad else 0


if __name__ == "__main__":
    sys.exit(main())
