"""Fault injection for the batch isolation tests: put this folder on PYTHONPATH of the case processes.

Python imports ``sitecustomize`` at start-up, so every case process started with this folder
on its path wraps :func:`cbct_osteo.batch.case._run_case`: a case whose landmarks file is named
``fault-<kind>.json`` dies the way ``kind`` says, the way a broken native library would, before
anything else happens. The faults are real (an abort signal, a null-pointer read, a pyo3 panic
from the RLE decoder, an exit without a result, a sleep past any time limit), only their
trigger is staged, so these tests keep testing the isolation whatever the decoders do.
"""

from __future__ import annotations

import ctypes
import os
import struct
import time
from pathlib import Path


def _rle_panic() -> None:
    """A real ``pyo3_runtime.PanicException``: two RLE segments 1 byte apart in a 16-bit frame."""
    from rle.rle import decode_frame

    header = struct.pack("<16I", 2, 64, 65, *([0] * 13))
    decode_frame(header + bytes([3, 1, 2, 3, 4]) * 2, 4, 16, "<")


FAULTS = {
    "fault-abort.json": os.abort,
    "fault-segv.json": lambda: ctypes.string_at(0),
    "fault-exit.json": lambda: os._exit(7),
    "fault-panic.json": _rle_panic,
    "fault-hang.json": lambda: time.sleep(3600),
}


def _install() -> None:
    import cbct_osteo.batch.case as case

    original = case._run_case

    def faulty(spec, *args, **kwargs):
        fault = FAULTS.get(Path(spec.landmarks).name)
        if fault is not None:
            fault()
        return original(spec, *args, **kwargs)

    case._run_case = faulty


_install()
