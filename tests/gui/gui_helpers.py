"""Waiting for the main window's background work, shared by the GUI tests."""

from __future__ import annotations

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
