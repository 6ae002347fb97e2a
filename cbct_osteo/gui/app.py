"""Start the desktop program: QApplication, style, crash hook, main window, optional screenshot.

``run(...)`` is what ``cbct-osteo gui`` calls. With ``screenshot`` it opens the case, waits
until every background job (load, 3D surface, panoramic, indices) has finished, arranges the
requested view, saves the window (VTK frame composited in) and exits: the docs' screenshots
come from here, so they always show the real program.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from cbct_osteo.paths import resource_path

log = logging.getLogger(__name__)

SCREENSHOT_TIMEOUT_S = 300.0


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), with the program's names and style sheet."""
    app = QApplication.instance()
    if app is None:
        QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv or [sys.argv[0]])
    if not isinstance(app, QApplication):
        raise RuntimeError("a QCoreApplication without widgets is already running: the GUI needs a QApplication")
    app.setApplicationName("cbct-osteo")
    app.setOrganizationName("cbct-osteo")
    style = resource_path("style.qss")
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app


def run(
    path: str | None = None,
    demo: bool = False,
    screenshot: str | None = None,
    landmarks: str | None = None,
    view: str = "slices",
    size: tuple[int, int] | None = None,
) -> int:
    """Open the main window (on ``path`` or the demo), run the event loop, return the exit status."""
    from cbct_osteo.gui.dialogs import install_excepthook
    from cbct_osteo.gui.main_window import MainWindow

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = application()
    settings = None
    if screenshot:
        # A screenshot run must not touch the user's autosaves or window layout.
        scratch = tempfile.mkdtemp(prefix="cbct-osteo-shot-")
        os.environ["CBCT_OSTEO_DATA_DIR"] = scratch
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    window.loading.pick_largest_series = bool(screenshot)
    install_excepthook(lambda: window)
    if size:
        window.resize(*size)
    window.show()
    status = {"code": 0}
    if screenshot:
        _arm_screenshot(app, window, screenshot, view, status)
    # --landmarks FILE opens exactly that file (no autosave prompt in between).
    if demo:
        QTimer.singleShot(0, lambda: window.loading.open_demo(landmarks=landmarks))
    elif path:
        QTimer.singleShot(0, lambda: window.loading.open_path(path, landmarks=landmarks))
    app.exec()
    return status["code"]


def _arm_screenshot(app: QApplication, window, out: str, view: str, status: dict) -> None:
    started = time.monotonic()
    stage = {"name": "loading"}

    def fail(message: str) -> None:
        print(f"cbct-osteo gui: {message}", file=sys.stderr)
        status["code"] = 2
        app.exit(2)

    def after_case() -> None:
        stage["name"] = "settling"

    def poll() -> None:
        if time.monotonic() - started > SCREENSHOT_TIMEOUT_S:
            fail("timed out waiting for the case to be shown")
            return
        if stage["name"] == "settling" and not window.busy:
            stage["name"] = "arranged"
            _arrange(window, view)
            QTimer.singleShot(100, poll)  # the arrangement may start work (a cross-section, a render)
            return
        if stage["name"] == "arranged" and not window.busy:
            app.processEvents()
            window.screenshot().save(out)
            print(f"screenshot written to {out}")
            app.exit(0)
            return
        QTimer.singleShot(100, poll)

    window.caseShown.connect(after_case)
    window.errorShown.connect(fail)
    QTimer.singleShot(100, poll)


def _arrange(window, view: str) -> None:
    """The documentation's views: slices (1 x 3), 3d and measure (2 x 2), results (large panoramic)."""
    window.set_layout({"slices": "1x3", "3d": "2x2", "measure": "2x2", "results": "panoramic"}[view])
    if view in ("measure", "results") and window.state is not None:
        side = "right"
        if window.state.landmarks.point(side, "foramen_centre") is not None:
            window.reformat.jump_to_foramen(side)
            step = next((s for s in window.workflow_panel.steps if s.side == side and s.kind == "border_inner"), None)
            window.placing.activate_step(step)
    window.views.view3d.render_now()
