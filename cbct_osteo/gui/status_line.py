"""The status bar's live parts: the cursor readout, the progress bar and its Cancel button.

The background jobs (load, report) report through it: ``begin_progress`` shows a busy bar and
Cancel, ``progress_step`` the bar at ``done`` of ``total`` (and passes the step on, so tests can
cancel at a job's first report), ``end_progress`` hides both and leaves a message for 8 s.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QSizePolicy, QStatusBar


class StatusLine:
    """The readout, progress bar and Cancel button added to ``bar``; ``cancel`` is what Cancel does."""

    def __init__(self, bar: QStatusBar, cancel: Callable[[], None], stepped: Callable[[str, int, int], None]) -> None:
        self.bar = bar
        self._stepped = stepped
        self.readout = QLabel("")
        # long text never widens the window
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.readout, 1)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(lambda checked=False: cancel())
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.showMessage("Open a CBCT (File > Open) or the demo phantom (Ctrl+D).")

    def begin_progress(self, text: str) -> None:
        self.bar.showMessage(text)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)

    def progress_step(self, stage: str, done: int, total: int) -> None:
        """``stage`` is "discover", "load" or "report"."""
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self._stepped(stage, done, total)

    def end_progress(self, text: str) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.bar.showMessage(text, 8000)

    def show_hovered(self, xyz: np.ndarray, value: float | None, unit: str) -> None:
        """The patient position (mm, LPS) and gray value under the cursor."""
        value_text = "–" if value is None else f"{value:.0f}"
        self.readout.setText(f"x {xyz[0]:.1f}  y {xyz[1]:.1f}  z {xyz[2]:.1f} mm (LPS)   value {value_text} {unit}")
