"""Run batch cases in case-host processes with a time limit, and say plainly how each ended.

Why other processes: a native decoder that aborts (GDCM on a JPEG with Bits Stored below Bits
Allocated), segfaults or panics takes its whole process down. In a shared worker pool that
lost every case the pool held (8 good cases and one aborting case left 3 rows ok); here each
worker thread owns one host process (:mod:`cbct_osteo.batch.host`) that runs one case at a
time, so a crash ends the one case in flight, which is charged with it, and the next case gets
a fresh host. The same function runs inside a Dask task, so a Dask worker never dies of a case
either, and the task always returns a plain, picklable :class:`CaseOutcome` (a
``PanicException`` cannot be pickled and once hung Dask). A host imports the libraries once and
serves up to :data:`CASES_PER_HOST` cases.

How a case can end (the ``error`` cell of its row says which):

- a row from the host (``ok``, or ``error`` for anything the case raised, panics included);
- killed after ``timeout_s`` ("did not finish within N s while loading the scan");
- crashed by a signal ("crashed (SIGABRT, aborted) while loading the scan: <its last words>");
- exited without a row ("exited with status 7 without a result while measuring");
- killed from outside with SIGKILL (out of memory, a user, a lost machine): ``lost=True``, so
  the runner may try it again (``--retries``).

Hosts run in their own session (process group), so a timeout kills whatever they started,
and they exit by themselves when this process dies (end of file on their job pipe).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import cbct_osteo
from cbct_osteo.batch.case import STAGES, error_row
from cbct_osteo.batch.manifest import CaseSpec

#: Cases one host serves before a fresh one takes over (bounds any memory a long run accumulates).
CASES_PER_HOST = 20
#: Default per-case time limit (s): a 0.5 GB scan loads and measures in about a minute on a
#: laptop; ten times that is a case that will not finish.
DEFAULT_CASE_TIMEOUT_S = 600.0
#: How much of a crashed host's stderr goes into the row.
_STDERR_TAIL_CHARS = 300
_SIGKILL = getattr(signal, "SIGKILL", 9)
_SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class CaseOutcome:
    """What became of one case: its CSV row, and whether the process was lost (worth a retry)."""

    row: dict[str, str]
    lost: bool = False


class _LiveChildren:
    """The case hosts alive now (and which are running a case), so a stopping run can end them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._busy: set[int] = set()
        self.stopping = False

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)
            stop = self.stopping
        if stop:
            _kill(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)
            self._busy.discard(proc.pid)

    def mark_busy(self, proc: subprocess.Popen[bytes], busy: bool) -> None:
        with self._lock:
            (self._busy.add if busy else self._busy.discard)(proc.pid)

    def kill_all(self) -> None:
        """Kill every host (idle or running a case) and reap it."""
        with self._lock:
            self.stopping = True
            procs = list(self._procs)
        for proc in procs:
            _kill(proc)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)

    def pids(self, busy_only: bool = False) -> list[int]:
        """Process ids of the live hosts (only those running a case when ``busy_only``)."""
        with self._lock:
            return [p.pid for p in self._procs if not busy_only or p.pid in self._busy]


LIVE_CHILDREN = _LiveChildren()


def run_case_isolated(
    spec: CaseSpec,
    refine: bool = True,
    force: bool = False,
    timeout_s: float | None = DEFAULT_CASE_TIMEOUT_S,
    index_files: tuple[str, ...] = (),
    as_placed: tuple[tuple[str, str], ...] | None = None,
) -> CaseOutcome:
    """Run :func:`cbct_osteo.batch.case.run_case` for ``spec`` in this thread's case host; never raises.

    Parameters
    ----------
    timeout_s
        Seconds the case may take, a fresh host's start-up included; ``None`` or ``0`` for no limit.
    index_files
        Extra index definition files the host adds to the catalogue (``--index``).
    as_placed
        (side, id) measurements taken as placed (``--as-placed``); ``None``: the case's session decides.
    """
    try:
        return _host_for_this_thread().run(spec, refine, force, timeout_s or None, index_files, as_placed)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a task must return a row, never raise (Dask pickles errors)
        return CaseOutcome(error_row(spec, f"could not run the case: {type(exc).__name__}: {exc}"))


_THREAD = threading.local()


def _host_for_this_thread() -> CaseHost:
    host = getattr(_THREAD, "host", None)
    if host is None or not host.usable():
        host = CaseHost()
        _THREAD.host = host
    return host


class CaseHost:
    """One ``python -m cbct_osteo.batch.host`` process and the thread that reads its messages."""

    def __init__(self) -> None:
        self.err = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the host; _close_pipes() closes it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cbct_osteo.batch.host"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.err,
            env=_child_env(),
            start_new_session=os.name == "posix",
            close_fds=True,
        )
        LIVE_CHILDREN.add(self.proc)
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.cases = 0
        self.dead = False
        threading.Thread(target=self._read, name=f"case-host-{self.proc.pid}", daemon=True).start()

    def usable(self) -> bool:
        return not self.dead and self.proc.poll() is None and self.cases < CASES_PER_HOST

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if isinstance(message, dict):
                self.messages.put(message)
        self.messages.put(None)  # end of file: the host is gone

    def run(
        self,
        spec: CaseSpec,
        refine: bool,
        force: bool,
        timeout_s: float | None,
        index_files: tuple[str, ...] = (),
        as_placed: tuple[tuple[str, str], ...] | None = None,
    ) -> CaseOutcome:
        """Send one job and wait for its row, a crash or the deadline."""
        self.cases += 1
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self.err.seek(0, os.SEEK_END)
        err_start = self.err.tell()
        stages: list[str] = []
        LIVE_CHILDREN.mark_busy(self.proc, True)
        try:
            job = {
                "spec": spec.__dict__,
                "refine": refine,
                "force": force,
                "index_files": list(index_files),
                "as_placed": None if as_placed is None else [list(pair) for pair in as_placed],
            }
            return self._wait_for(spec, job, timeout_s, deadline, err_start, stages)
        finally:
            LIVE_CHILDREN.mark_busy(self.proc, False)

    def _wait_for(
        self,
        spec: CaseSpec,
        job: dict[str, Any],
        timeout_s: float | None,
        deadline: float | None,
        err_start: int,
        stages: list[str],
    ) -> CaseOutcome:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write((json.dumps(job) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except OSError:
            pass  # the host is gone; its end of file below says how
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            try:
                message = self.messages.get(timeout=None if remaining is None else max(remaining, 0.0))
            except queue.Empty:
                self.stop()
                return _outcome(spec, self.proc.wait(), True, timeout_s, stages, None, "")
            if message is None:
                returncode = self.proc.wait()
                last_words = _tail(self.err, err_start)
                self.stop()
                return _outcome(spec, returncode, False, timeout_s, stages, None, last_words)
            if isinstance(message.get("stage"), str):
                stages.append(message["stage"])
            elif isinstance(message.get("row"), dict):
                row = {str(k): str(v) for k, v in message["row"].items()}
                if self.cases >= CASES_PER_HOST:
                    self.close()
                return CaseOutcome(row)

    def stop(self) -> None:
        """Kill the host (and what it started); it serves no further case."""
        self.dead = True
        _kill(self.proc)
        self.proc.wait()
        LIVE_CHILDREN.discard(self.proc)
        self._close_pipes()

    def close(self) -> None:
        """Let an idle host go: it exits at the end of file on its job pipe."""
        self.dead = True
        LIVE_CHILDREN.discard(self.proc)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for stream in (self.proc.stdin, self.err):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


def _outcome(
    spec: CaseSpec,
    returncode: int,
    timed_out: bool,
    timeout_s: float | None,
    stages: list[str],
    row: dict[str, str] | None,
    stderr_tail: str,
) -> CaseOutcome:
    doing = STAGES.get(stages[-1], stages[-1]) if stages else STAGES["start"]
    if row is not None and not timed_out:
        return CaseOutcome(row)
    if timed_out:
        return CaseOutcome(
            error_row(
                spec,
                f"did not finish within {timeout_s:g} s while {doing}; "
                "the case was stopped (raise --case-timeout if the scan is just large)",
            )
        )
    last_words = f": {stderr_tail}" if stderr_tail else ""
    if returncode == -_SIGKILL:
        return CaseOutcome(
            error_row(
                spec, f"the case's process was killed (SIGKILL) while {doing}, by the system (out of memory?) or a user"
            ),
            lost=True,
        )
    if returncode < 0:
        return CaseOutcome(
            error_row(
                spec,
                f"the case's process crashed ({_signal_name(-returncode)}) while {doing}"
                f"; a library could not handle this case's files{last_words}",
            )
        )
    return CaseOutcome(
        error_row(
            spec, f"the case's process exited with status {returncode} without a result while {doing}{last_words}"
        )
    )


def _tail(stream: IO[bytes], start: int = 0) -> str:
    """The last lines the host wrote to stderr since ``start``, on one line, at most :data:`_STDERR_TAIL_CHARS`."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(start, size - 4096))
    lines = [line.strip() for line in stream.read().decode("utf-8", "replace").splitlines() if line.strip()]
    text = " ".join(lines[-3:])
    return text if len(text) <= _STDERR_TAIL_CHARS else "…" + text[-_STDERR_TAIL_CHARS:]


def _signal_name(number: int) -> str:
    try:
        sig = signal.Signals(number)
    except ValueError:
        return f"signal {number}"
    description = signal.strsignal(sig) or ""
    return f"{sig.name}, {description.lower()}" if description else sig.name


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the host and everything it started (its process group on POSIX)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _child_env() -> dict[str, str]:
    """This environment, with this very cbct_osteo first on the path and one BLAS thread per case."""
    env = dict(os.environ)
    package_root = str(Path(cbct_osteo.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    for name in _SINGLE_THREAD_ENV:
        env[name] = "1"
    return env
