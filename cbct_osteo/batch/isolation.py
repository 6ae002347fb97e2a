"""Run one batch case in a child process with a time limit, and say plainly how it ended.

Why a process per case: a native decoder that aborts (GDCM on a JPEG with Bits Stored below
Bits Allocated), segfaults or panics takes its whole process down. In a shared worker pool
that loses every case the worker held (a pool of 8 good cases and one aborting case lost 5
good ones); here it ends one child and one row. The same function runs inside a Dask task, so
a Dask worker never dies of a case either, and the task always returns a plain, picklable
:class:`CaseOutcome` (a ``PanicException`` cannot be pickled and once hung Dask).

How a case can end (the ``error`` cell of its row says which):

- a row from the child (``ok``, or ``error`` for anything the case raised, panics included);
- killed after ``timeout_s`` ("did not finish within N s while loading the scan");
- crashed by a signal ("crashed (SIGABRT, aborted) while loading the scan: <its last words>");
- exited without a row ("exited with status 7 without a result while measuring");
- killed from outside with SIGKILL (out of memory, a user, a lost machine): ``lost=True``, so
  the runner may try it again (``--retries``).

Children run in their own session (process group), so a timeout kills whatever they started,
and they exit by themselves when this process dies (see :mod:`cbct_osteo.batch.child`).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import cbct_osteo
from cbct_osteo.batch.case import STAGES, error_row
from cbct_osteo.batch.manifest import CaseSpec

#: Default per-case time limit (s): a 0.5 GB scan loads and measures in about a minute on a
#: laptop; ten times that is a case that will not finish.
DEFAULT_CASE_TIMEOUT_S = 600.0
#: How much of a crashed child's stderr goes into the row.
_STDERR_TAIL_CHARS = 300
_SIGKILL = getattr(signal, "SIGKILL", 9)
_SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class CaseOutcome:
    """What became of one case: its CSV row, and whether the process was lost (worth a retry)."""

    row: dict[str, str]
    lost: bool = False


class _LiveChildren:
    """The case processes running now, so a stopping run can end them all at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()
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

    def kill_all(self) -> None:
        with self._lock:
            self.stopping = True
            procs = list(self._procs)
        for proc in procs:
            _kill(proc)

    def pids(self) -> list[int]:
        with self._lock:
            return [p.pid for p in self._procs]


LIVE_CHILDREN = _LiveChildren()


def run_case_isolated(spec: CaseSpec, refine: bool = True, force: bool = False,
                      timeout_s: float | None = DEFAULT_CASE_TIMEOUT_S) -> CaseOutcome:
    """Run :func:`cbct_osteo.batch.case.run_case` for ``spec`` in a child process; never raises.

    Parameters
    ----------
    timeout_s
        Seconds the case may take, start-up included; ``None`` or ``0`` for no limit.
    """
    try:
        return _run_child(spec, refine, force, timeout_s or None)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a task must return a row, never raise (Dask pickles errors)
        return CaseOutcome(error_row(spec, f"could not run the case: {type(exc).__name__}: {exc}"))


def _run_child(spec: CaseSpec, refine: bool, force: bool, timeout_s: float | None) -> CaseOutcome:
    job = json.dumps({"spec": spec.__dict__, "refine": refine, "force": force})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cbct_osteo.batch.child", job],
            stdin=subprocess.PIPE, stdout=out, stderr=err, env=_child_env(),
            start_new_session=os.name == "posix", close_fds=True,
        )
        LIVE_CHILDREN.add(proc)
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(proc)
            proc.wait()
        finally:
            LIVE_CHILDREN.discard(proc)
            if proc.stdin is not None:
                proc.stdin.close()
        stages, row = _read_protocol(out)
        return _outcome(spec, proc.returncode, timed_out, timeout_s, stages, row, _tail(err))


def _outcome(spec: CaseSpec, returncode: int, timed_out: bool, timeout_s: float | None,
             stages: list[str], row: dict[str, str] | None, stderr_tail: str) -> CaseOutcome:
    doing = STAGES.get(stages[-1], stages[-1]) if stages else STAGES["start"]
    if row is not None and returncode == 0 and not timed_out:
        return CaseOutcome(row)
    if timed_out:
        return CaseOutcome(error_row(spec, f"did not finish within {timeout_s:g} s while {doing}; "
                                           "the case was stopped (raise --case-timeout if the scan is just large)"))
    last_words = f": {stderr_tail}" if stderr_tail else ""
    if returncode == -_SIGKILL:
        return CaseOutcome(error_row(spec, f"the case's process was killed (SIGKILL) while {doing}, "
                                           "by the system (out of memory?) or a user"), lost=True)
    if returncode < 0:
        return CaseOutcome(error_row(spec, f"the case's process crashed ({_signal_name(-returncode)}) while {doing}"
                                           f"; a library could not handle this case's files{last_words}"))
    return CaseOutcome(error_row(spec, f"the case's process exited with status {returncode} without a result "
                                       f"while {doing}{last_words}"))


def _read_protocol(stream: IO[bytes]) -> tuple[list[str], dict[str, str] | None]:
    stream.seek(0)
    stages: list[str] = []
    row: dict[str, str] | None = None
    for raw in stream.read().decode("utf-8", "replace").splitlines():
        try:
            message = json.loads(raw)
        except ValueError:
            continue
        if isinstance(message, dict) and isinstance(message.get("stage"), str):
            stages.append(message["stage"])
        elif isinstance(message, dict) and isinstance(message.get("row"), dict):
            row = {str(k): str(v) for k, v in message["row"].items()}
    return stages, row


def _tail(stream: IO[bytes]) -> str:
    """The last lines of the child's stderr, on one line, at most :data:`_STDERR_TAIL_CHARS`."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - 4096))
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
    """Kill the child and everything it started (its process group on POSIX)."""
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
