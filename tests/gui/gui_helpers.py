"""Waiting for the main window's background work, shared by the GUI tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

WAIT_MS = 60_000


def settle(qtbot, window) -> None:
    """Wait until every worker the window started (load, surface, results, report) has finished."""
    qtbot.waitUntil(lambda: not window.busy, timeout=WAIT_MS)


def open_case(qtbot, window, path: str | Path) -> None:
    """Open ``path`` the way File > Open does and wait until the case is shown and settled."""
    with qtbot.waitSignal(window.caseShown, timeout=WAIT_MS):
        window.loading.open_path(str(path))
    settle(qtbot, window)


def cancel_at_first_progress(qtbot, window, stage: str, cancel: Callable[[], None], start: Callable[[], None]) -> None:
    """``start`` a job, ``cancel`` it at its first ``stage`` progress report, wait until the window is idle."""
    cancelled = []

    def on_progress(name, done, total):
        if name == stage and not cancelled:
            cancelled.append(done)
            cancel()

    window.loadProgress.connect(on_progress)
    try:
        start()
        qtbot.waitUntil(lambda: bool(cancelled) and not window.busy, timeout=WAIT_MS)
    finally:
        window.loadProgress.disconnect(on_progress)


def step(window, side, kind):
    """The guided step placing ``kind`` on ``side``."""
    return next(s for s in window.workflow_panel.steps if s.side == side and s.kind == kind)


def widget_point(view, xyz):
    """The widget position (QPoint) where ``view`` shows the patient point ``xyz``."""
    import numpy as np
    from PySide6.QtCore import QPoint

    x, y = view.patient_to_widget(np.asarray(xyz, float))
    return QPoint(int(round(x)), int(round(y)))


def drag(qtbot, view, start_xyz, end_xyz) -> None:
    """A left-button drag on ``view`` from one patient point to another."""
    from PySide6.QtCore import Qt

    qtbot.mousePress(view, Qt.LeftButton, pos=widget_point(view, start_xyz))
    qtbot.mouseMove(view, widget_point(view, end_xyz))
    qtbot.mouseRelease(view, Qt.LeftButton, pos=widget_point(view, end_xyz))
