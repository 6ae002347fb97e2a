"""A seeded, bounded fuzz campaign against ``cbct_osteo.load``.

Seeds are real files from the shared corpus (../shared/data: several transfer syntaxes, a
multi-frame MR, a gantry-tilt CT slice, a few slices of the Visible Human head CT) and small
phantom series (``cbct_osteo.phantom.write_phantom``, classic and Enhanced). Each mutant is
made by one of the :data:`MUTATORS` (byte flips, truncation, element length fields, huge
counts, NaN/inf/absurd geometry, rescale, mixed series, special files, compressed pixel data)
from ``random.Random(f"{seed}:{index}")``, so a campaign is reproducible mutant by mutant.

Every mutant is loaded in a *forked* child (the parent has imported everything once) whose
address space is limited (``RLIMIT_AS``) and whose wall time is bounded. The outcome is one of:

=========  =============================================================================
loaded     ``cbct_osteo.load`` returned a Volume
own        it raised :class:`~cbct_osteo.io.errors.LoadError` with a non-empty message
foreign    any other exception (a bug: the caller would see a traceback)
abort      the child died from a signal (abort, segfault) or without reporting
hang       it did not finish within the time limit
memory     MemoryError, or peak memory above the documented limit (a bug)
=========  =============================================================================

Only the first two are acceptable. ``benchmarks/fuzz.py`` is the command line;
``tests/fuzz/test_fuzz.py`` runs a short fixed-seed campaign.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cbct_osteo.io import limits
from fuzz.mutators import MUTATORS, prepare_seeds

OUTCOMES = ("loaded", "own", "foreign", "abort", "hang", "memory")
ACCEPTABLE = ("loaded", "own")
#: Peak memory an input may add to the process (policy: declared volume + fixed overhead; the
#: seeds declare at most a few MB, so this is the fixed overhead plus margin for 4 decoder threads).
MEMORY_LIMIT_BYTES = limits.FIXED_OVERHEAD_BYTES + 256 * 1024**2
#: Address space a child may add (``RLIMIT_AS``): beyond it allocations fail (-> "memory").
ADDRESS_SPACE_BYTES = 2 * 1024**3
TIMEOUT_S = 30.0

# -- running one input in a guarded child ---------------------------------------------------


@dataclass
class Outcome:
    """``growth_bytes``: the child's peak resident memory above what it started with (the forked
    parent's pages count in a child's RSS, so the absolute peak depends on the parent)."""

    category: str
    detail: str
    seconds: float
    growth_bytes: int


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _vm_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def run_case(target: Path | str, timeout_s: float = TIMEOUT_S, memory_limit: int = MEMORY_LIMIT_BYTES) -> Outcome:
    """Load ``target`` with ``cbct_osteo.load`` in a forked child; classify what happened."""
    import cbct_osteo
    from cbct_osteo.io.dicom_loader import UNEXPECTED
    from cbct_osteo.io.errors import LoadError

    read_end, write_end = os.pipe()
    base_rss = _rss_bytes()
    limit = _vm_bytes() + ADDRESS_SPACE_BYTES
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            try:
                volume = cbct_osteo.load(target)
                message = f"loaded {volume.shape} {volume.voxels.dtype}"
            except LoadError as exc:
                if not exc.problem.strip():
                    message = "foreign LoadError with an empty message"
                elif isinstance(exc.__cause__, MemoryError):  # refused by RLIMIT_AS: more than the policy allows
                    message = f"memory {exc}"
                elif exc.problem.startswith(UNEXPECTED):  # the loader's last-resort wrapper: a bug
                    cause = exc.__cause__
                    message = f"foreign {type(cause).__module__}.{type(cause).__name__} (wrapped): {exc}"
                else:
                    message = f"own {exc}"
            except MemoryError as exc:
                message = f"memory MemoryError {exc}"
            except BaseException as exc:  # noqa: BLE001 - any other exception is the finding the fuzzer reports
                message = f"foreign {type(exc).__module__}.{type(exc).__name__}: {exc}"
            os.write(write_end, message.encode("utf-8", "replace")[:4000])
        finally:
            os._exit(0)
    os.close(write_end)
    status, usage = _wait(pid, timeout_s)
    seconds = time.monotonic() - start
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().decode("utf-8", "replace") if status is not None else ""
    growth = max(0, usage.ru_maxrss * 1024 - base_rss) if usage is not None else 0
    if status is None:
        return Outcome("hang", f"no result after {timeout_s:g} s", seconds, growth)
    if os.WIFSIGNALED(status) or not report:
        code = os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        return Outcome("abort", f"child died (signal/exit {code}) {report}", seconds, growth)
    category, _, detail = report.partition(" ")
    if category in ("loaded", "own") and growth > memory_limit:
        return Outcome("memory", f"peak {growth / 2**20:.0f} MiB above the start: {detail}", seconds, growth)
    return Outcome(category, detail, seconds, growth)


def _wait(pid: int, timeout_s: float):
    """(status, rusage) of the child, or (None, None) after killing it at the timeout."""
    deadline = time.monotonic() + timeout_s
    delay = 0.002
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return None, None
        time.sleep(delay)
        delay = min(0.05, delay * 1.5)


def _special(folder: str, names: list[str]) -> list[str]:
    """Names in ``folder`` that copying would open and block on (FIFOs, sockets, devices)."""
    import stat

    def special(name: str) -> bool:
        try:
            mode = os.lstat(os.path.join(folder, name)).st_mode
        except OSError:
            return True
        return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))

    return [name for name in names if special(name)]


# -- a campaign ------------------------------------------------------------------------------


@dataclass
class Campaign:
    """Counts per (mutator, outcome), examples of every unacceptable outcome, timing."""

    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[tuple[str, int, str, str]] = field(default_factory=list)
    not_written: int = 0
    seconds: float = 0.0
    worst_seconds: float = 0.0
    growth_bytes: int = 0

    @property
    def n(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())

    @property
    def n_bad(self) -> int:
        return sum(c[o] for c in self.counts.values() for o in OUTCOMES if o not in ACCEPTABLE)

    def table(self) -> str:
        """A Markdown table: one row per mutator, one column per outcome, plus totals."""
        rows = ["| mutation | inputs | " + " | ".join(OUTCOMES) + " |", "|---|---|" + "---|" * len(OUTCOMES)]
        total = Counter()
        for name in MUTATORS:
            counts = self.counts.get(name, Counter())
            total.update(counts)
            rows.append(f"| {name} | {sum(counts.values())} | " + " | ".join(str(counts[o]) for o in OUTCOMES) + " |")
        rows.append(f"| **all** | {sum(total.values())} | " + " | ".join(str(total[o]) for o in OUTCOMES) + " |")
        return "\n".join(rows)


def run_campaign(
    seed: int,
    count: int,
    work: Path,
    *,
    time_budget_s: float | None = None,
    keep_failures: Path | None = None,
    progress: Callable[[int, Campaign], None] | None = None,
) -> Campaign:
    """Generate and run ``count`` mutants (round-robin over the mutators) from ``seed``.

    Stops early after ``time_budget_s`` seconds. Unacceptable mutants are copied under
    ``keep_failures`` (when given) for reproduction.
    """
    from cbct_osteo.io.guarded import start_server

    start_server()  # once here, so each child does not start its own
    seeds = prepare_seeds(work / "seeds")
    campaign = Campaign()
    names = list(MUTATORS)
    started = time.monotonic()
    for index in range(count):
        if time_budget_s is not None and time.monotonic() - started > time_budget_s:
            break
        name = names[index % len(names)]
        rng = random.Random(f"{seed}:{index}")
        out = work / f"m{index:06d}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                target = MUTATORS[name](rng, seeds, out)
        except Exception:  # noqa: BLE001 - a mutator could not write this mutant: not a loader result
            campaign.not_written += 1
            shutil.rmtree(out, ignore_errors=True)
            continue
        outcome = run_case(target)
        campaign.counts[name][outcome.category] += 1
        campaign.worst_seconds = max(campaign.worst_seconds, outcome.seconds)
        campaign.growth_bytes = max(campaign.growth_bytes, outcome.growth_bytes)
        if outcome.category not in ACCEPTABLE:
            campaign.failures.append((name, index, outcome.category, outcome.detail[:300]))
            if keep_failures is not None:
                shutil.copytree(out, keep_failures / out.name, dirs_exist_ok=True, symlinks=True, ignore=_special)
        shutil.rmtree(out, ignore_errors=True)
        if progress:
            progress(index, campaign)
    campaign.seconds = time.monotonic() - started
    return campaign
