"""Run a risky native call in a child process, so that an abort, a crash or a runaway allocation
costs one file, not the program.

GDCM aborts the whole process on some inputs it cannot handle (a JPEG Baseline frame with Bits
Stored 7 of Bits Allocated 8: ``terminate called after throwing gdcm::Exception``, exit 134). No
``try`` can catch that. Decoders the loader does not trust in-process run here instead: in a
child started from a fork server (never a fork of the possibly multi-threaded caller, e.g. the
GUI), with its address space limited by ``RLIMIT_AS`` and a wall-clock timeout. Whatever goes
wrong comes back as a :class:`~cbct_osteo.io.errors.LoadError` naming the file.

The fork server starts once per program (~0.3 s, on the first risky file); each call then
forks a child in a few milliseconds.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from cbct_osteo.io import limits
from cbct_osteo.io.errors import LoadError, describe

if TYPE_CHECKING:  # ForkServerContext does not exist on Windows: annotations only
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkServerContext, SpawnContext


def _context() -> SpawnContext | ForkServerContext:
    if not sys.platform.startswith("linux"):
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Preload the decoders, and not the default "__main__": the host script (a GUI entry point,
    # pytest, a user's script without a main guard) must not be run again in the server.
    context.set_forkserver_preload(["cbct_osteo.io.pixels"])
    return context


def _forget_server() -> None:
    """In a forked child: the parent's fork server is not this process's child, so
    ``multiprocessing`` would fail waiting for it (ChildProcessError); start a new one when needed."""
    from multiprocessing import forkserver

    server: Any = forkserver._forkserver  # private state, not in the stubs: the only way to reset it
    server._forkserver_pid = None
    server._forkserver_address = None
    server._forkserver_alive_fd = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_server)


def start_server() -> None:
    """Start the fork server now (e.g. before forking workers that would each start their own)."""
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def run_guarded(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    where: str,
    what: str,
    *,
    timeout_s: float = limits.DECODER_CHILD_TIMEOUT_S,
    memory_bytes: int = limits.DECODER_CHILD_BYTES,
) -> Any:
    """``func(*args)`` in a guarded child; its result (picklable), or a LoadError about ``where``.

    ``func`` must be a module-level function (it is sent to the child by name). ``what`` names
    the operation in messages ("the GDCM decoder"). ``memory_bytes`` is added to the child's
    address space at start (interpreter and libraries already mapped).
    """
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, func, args, memory_bytes), daemon=True)
    with _children_allowed():
        process.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            process.kill()
            raise LoadError(where, f"{what} did not finish within {timeout_s:g} s and was stopped")
        try:
            status, payload = receiver.recv()
        except (EOFError, OSError):
            status, payload = "died", None
    finally:
        receiver.close()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()
    if status == "ok":
        return payload
    if status == "error":
        raise LoadError(where, f"{what} failed: {payload}")
    if status == "memory":
        raise LoadError(where, f"{what} needed more than {memory_bytes / 2**30:.1f} GiB and was stopped")
    raise LoadError(where, f"{what} crashed ({_exit_text(process.exitcode)}); the file is corrupt or not supported")


@contextmanager
def _children_allowed() -> Iterator[None]:
    """Let a daemonic worker (a Dask worker, a multiprocessing.Pool worker) start the decoder child.

    multiprocessing refuses children in daemonic processes because they could outlive it; this
    child cannot: it is waited for (or killed at the timeout) before ``run_guarded`` returns.
    """
    process: Any = multiprocessing.current_process()  # ``_config`` is private, not in the stubs
    config = process._config
    daemon = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        if daemon is not None:
            config["daemon"] = daemon
        else:
            config.pop("daemon", None)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {-code}, {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _child(sender: Connection, func: Callable[..., Any], args: tuple[Any, ...], memory_bytes: int) -> None:
    """In the child: limit the address space, run, send ("ok"|"error"|"memory", payload)."""
    try:
        import resource

        limit = _address_space() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        pass  # no rlimit on this platform: the timeout still applies
    try:
        result = ("ok", func(*args))
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - the child exists to contain exactly this
        result = ("error", describe(exc))
    try:
        sender.send(result)
    except BaseException as exc:  # noqa: BLE001 - an unpicklable result or a full pipe: report it as text
        sender.send(("error", f"could not return the result: {describe(exc)}"))
    finally:
        sender.close()
    os._exit(0)


def _address_space() -> int:
    """The child's current virtual memory size (bytes), from /proc/self/statm (0 where unknown)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
