"""Background work with progress and cancel, so the event loop never stalls.

DESIGN.md: anything slower than ~100 ms runs in a worker. A :class:`Task` runs one plain
function ``fn(progress, cancel)`` on a QThreadPool; results, errors and progress come back to
the GUI thread as queued signals. ``cancel()`` is what the io layer's ``cancel`` callback
polls, so Cancel stops a DICOM load between files.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

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

    def start(self, pool: QThreadPool | None = None) -> Task:
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
        with contextlib.suppress(RuntimeError):
            signal.emit(*args)


class _Runner(QRunnable):
    def __init__(self, task: Task) -> None:
        super().__init__()
        self._task = task

    def run(self) -> None:
        self._task._run()


class TaskRunner(QObject):
    """The window's workers: a small pool, the tasks in flight, and one place errors go to.

    ``busy`` is what tests and the screenshot run wait on (``qtbot.waitUntil``), never a sleep.
    """

    def __init__(self, on_error: Callable[[str, str], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._tasks: set[Task] = set()
        self._on_error = on_error

    def run(
        self,
        fn: Work,
        name: str,
        on_ok: Callable[[Any], None],
        on_error: Callable[[Exception], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_finished: Callable[[], None] | None = None,
    ) -> Task:
        task = Task(fn, name, self)  # a child: if the window goes, its tasks' results go nowhere
        task.succeeded.connect(on_ok)
        if on_finished is not None:
            task.finished.connect(on_finished)
        task.failed.connect(on_error or (lambda exc: self._on_error(f"{name} failed", str(exc))))
        if on_progress is not None:
            task.progress.connect(on_progress)
        self._tasks.add(task)
        task.finished.connect(lambda: self._tasks.discard(task))
        return task.start(self.pool)

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def wait(self, timeout_ms: int = 5000) -> None:
        self.pool.waitForDone(timeout_ms)
