"""Background work with progress and cancel, so the event loop never stalls.

DESIGN.md: anything slower than ~100 ms runs in a worker. A :class:`Task` runs one plain
function ``fn(progress, cancel)`` on a QThreadPool; results, errors and progress come back to
the GUI thread as queued signals. ``cancel()`` is what the io layer's ``cancel`` callback
polls, so Cancel stops a DICOM load between files.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

Work = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]


class Task(QObject):
    """One unit of background work. Connect to the signals, then :meth:`start`."""

    progress = Signal(int, int)  # done, total
    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    finished = Signal()

    def __init__(self, fn: Work, name: str = "task", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._fn = fn
        self._cancel = threading.Event()
        self.done = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def start(self, pool: QThreadPool | None = None) -> "Task":
        (pool or QThreadPool.globalInstance()).start(_Runner(self))
        return self

    def _run(self) -> None:
        try:
            result = self._fn(lambda done, total: self._emit(self.progress, int(done), int(total)), self._cancel.is_set)
        except Exception as exc:  # delivered to the GUI thread, shown there
            log.debug("task %s failed: %s", self.name, exc, exc_info=True)
            self._emit(self.failed, exc)
        else:
            self._emit(self.succeeded, result)
        finally:
            self.done.set()
            self._emit(self.finished)

    @staticmethod
    def _emit(signal, *args) -> None:
        """Emit unless the receiver side is gone (window closed while the task ran)."""
        try:
            signal.emit(*args)
        except RuntimeError:
            pass


class _Runner(QRunnable):
    def __init__(self, task: Task) -> None:
        super().__init__()
        self._task = task

    def run(self) -> None:
        self._task._run()
