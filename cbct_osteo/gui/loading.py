"""Opening scans: folder/file/demo choice, series discovery and picking, loading with progress and Cancel.

The loading controller runs discovery and loading in workers, computes in the worker what
putting the scan on screen needs from all its voxels (:class:`DisplayStart`), and hands the
volume to the window. The default window follows the scan's calibration (issue 12): a bone
window for CT in Hounsfield units, percentiles of the scan's own histogram for uncalibrated CBCT.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog

from cbct_osteo.gui.dialogs import SeriesPicker
from cbct_osteo.gui.interaction import auto_window_level
from cbct_osteo.gui.tasks import Task
from cbct_osteo.io.errors import LoadCancelled, LoadError
from cbct_osteo.paths import resource_path
from cbct_osteo.volume import Volume

if TYPE_CHECKING:
    from cbct_osteo.gui.main_window import MainWindow

log = logging.getLogger(__name__)
MAX_RECENT = 8
#: The preset a scan opens with: bone for calibrated CT (HU), the histogram window for everything else.
HU_PRESET, UNCALIBRATED_PRESET = "bone", "CBCT auto"


def load_presets() -> dict[str, dict[str, Any]]:
    """Window/level presets from resources/window_presets.json (keys starting with _ are comments)."""
    document = json.loads(resource_path("window_presets.json").read_text(encoding="utf-8"))
    return {name: spec for name, spec in document.items() if not name.startswith("_")}


def preset_window_level(volume: Volume, spec: dict[str, Any]) -> tuple[float, float]:
    """(window, level) of a preset: its fixed HU values on calibrated CT, else the scan's percentiles."""
    if volume.meta.units == "HU" and "hu" in spec:
        window, level = spec["hu"]
        return float(window), float(level)
    return auto_window_level(volume.voxels, *spec["percentiles"])


def window_description(volume: Volume, preset: str, window: float, level: float) -> str:
    """How the window was chosen, in the words shown in the view ("bone window (HU)")."""
    basis = "HU" if volume.meta.units == "HU" else "uncalibrated, from the histogram"
    return f"{preset} window ({basis}) W {window:.0f} L {level:.0f}"


def initial_preset(volume: Volume) -> str:
    return HU_PRESET if volume.meta.units == "HU" else UNCALIBRATED_PRESET


@dataclass(frozen=True)
class DisplayStart:
    """What putting a scan on screen needs from all its voxels, computed in the load worker.

    ``window_level`` is the initial window (gray values) of :func:`initial_preset`,
    ``value_range`` the gray-value span the window/level drag scales to.
    """

    fingerprint: str
    value_range: float
    window_level: tuple[float, float]
    window_name: str

    @classmethod
    def of(cls, volume: Volume, presets: dict[str, dict[str, Any]]) -> DisplayStart:
        preset = initial_preset(volume)
        window, level = preset_window_level(volume, presets[preset])
        return cls(
            fingerprint=volume.fingerprint(),
            value_range=float(np.ptp(volume.voxels[::4, ::4, ::4])) or 1.0,
            window_level=(window, level),
            window_name=window_description(volume, preset, window, level),
        )


class LoadingController(QObject):
    """File > Open, the demo, drag and drop and recent files, all through :meth:`open_path`."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.presets = load_presets()
        #: Skip the series picker and open the series with the most slices (screenshots, scripts).
        self.pick_largest_series = False
        self._task: Task | None = None

    @property
    def settings(self):
        return self.window.settings

    def apply_preset(self, name: str) -> None:
        """Show the scan with the window preset ``name`` (View > Window, F2..F4)."""
        w = self.window
        if w.volume is None:
            return
        window, level = preset_window_level(w.volume, self.presets[name])
        w.set_window_level(window, level, window_description(w.volume, name, window, level))
        w.statusBar().showMessage(f"Window {name}: W {window:.0f} L {level:.0f}", 4000)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Open a DICOM folder", str(self.settings.value("lastDir", ""))
        )
        if folder:
            self.open_path(folder)

    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self.window, "Open a DICOM file or DICOMDIR", str(self.settings.value("lastDir", ""))
        )
        if name:
            self.open_path(name)

    def open_demo(self, landmarks: str | None = None) -> None:
        """Open the demo phantom through the same path as any folder (written once, then cached)."""
        from cbct_osteo.phantom import ensure_demo_phantom

        self.window.statusBar().showMessage("Preparing the demo phantom…")
        self.window.tasks.run(
            lambda progress, cancel: ensure_demo_phantom(),
            "Preparing the demo",
            lambda path: self.open_path(str(path), landmarks=landmarks, remember=False),
        )

    def open_path(
        self,
        path: str,
        on_loaded: Callable[[], None] | None = None,
        landmarks: str | None = None,
        remember: bool = True,
    ) -> None:
        """Discover the series under ``path`` in a worker, ask which one if several, then load it.

        ``landmarks``: a landmarks or session file to open on the scan instead of offering its
        autosave (``cbct-osteo gui --landmarks FILE``). ``remember`` False keeps ``path`` out of
        the recent and last-used folders (the demo's hidden cache folder).
        """
        from cbct_osteo.io.discovery import discover_series

        self.cancel()
        if remember:
            self.settings.setValue("lastDir", str(Path(path).parent))
        self.window.status_line.begin_progress(f"Reading headers under {path}…")
        self._task = self.window.tasks.run(
            lambda progress, cancel: discover_series(path, progress=progress, cancel=cancel),
            "Reading the folder",
            lambda series: self._series_found(path, series, on_loaded, landmarks, remember),
            self._failed,
            lambda done, total: self.window.status_line.progress_step("discover", done, total),
        )

    def _series_found(self, path: str, series, on_loaded, landmarks, remember) -> None:
        if self._task is not None and self._task.cancelled:
            self.window.status_line.end_progress("Loading cancelled.")
            return
        if not series:
            self._failed(
                LoadError(path, "holds no CT or CBCT image series", "choose the folder of the scan's DICOM files")
            )
            return
        if len(series) == 1 or self.pick_largest_series:
            self._load_series(path, max(series, key=lambda info: info.n_slices).uid, on_loaded, landmarks, remember)
            return
        self.window.status_line.end_progress(f"{len(series)} series found: choose one.")
        picker = SeriesPicker(series, path, self.window)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def load_chosen() -> None:
            chosen = picker.chosen()
            if chosen is not None:
                self._load_series(path, chosen.uid, on_loaded, landmarks, remember)

        picker.accepted.connect(load_chosen)
        picker.open()

    def _load_series(self, path: str, uid: str, on_loaded, landmarks, remember) -> None:
        from cbct_osteo.io.dicom_loader import load_series

        presets = self.presets

        def work(progress, cancel) -> tuple[Volume, DisplayStart]:
            volume = load_series(path, series=uid, progress=progress, cancel=cancel)
            return volume, DisplayStart.of(volume, presets)

        self.window.status_line.begin_progress(f"Loading {path}…")
        self._task = self.window.tasks.run(
            work,
            "Loading the scan",
            lambda loaded: self._loaded(path, loaded[0], loaded[1], on_loaded, landmarks, remember),
            self._failed,
            lambda done, total: self.window.status_line.progress_step("load", done, total),
        )

    def _loaded(self, path: str, volume: Volume, start: DisplayStart, on_loaded, landmarks, remember) -> None:
        if self._task is not None and self._task.cancelled:  # finished just as Cancel was pressed
            self._task = None
            self.window.status_line.end_progress("Loading cancelled.")
            return
        self.window.status_line.end_progress(f"Loaded {path}")
        self._task = None
        if remember:
            self.add_recent(path)
        self.window.show_volume(volume, path, start, landmarks=landmarks)
        if on_loaded is not None:
            on_loaded()

    def _failed(self, exc: Exception) -> None:
        self._task = None
        if isinstance(exc, LoadCancelled):
            self.window.status_line.end_progress("Loading cancelled.")
            return
        self.window.status_line.end_progress("Loading failed.")
        if isinstance(exc, LoadError):
            self.window.show_error_message("Cannot open the scan", str(exc))
        else:
            log.exception("unexpected load failure", exc_info=exc)
            self.window.show_error_message("Cannot open the scan", f"Unexpected error while loading: {exc}")

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.window.statusBar().showMessage("Cancelling…")

    # ---- recent files
    def recent(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def add_recent(self, path: str) -> None:
        recent = [p for p in self.recent() if p != path]
        self.settings.setValue("recent", [path, *recent][:MAX_RECENT])
        self.window.refresh_recent_menu()
