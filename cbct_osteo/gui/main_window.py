"""The main window: menus, the views, the guided workflow, results, loading and sessions.

Slicer's Widget role: it gathers the user's actions, calls the Logic (io, reformat, measure,
indices, report) in workers, and mirrors the one source of truth, the
:class:`~cbct_osteo.measure.LandmarkModel`, into every view. It never computes a measurement.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cbct_osteo import __version__
from cbct_osteo.gui import workflow
from cbct_osteo.gui.dialogs import (
    ABOUT_TEXT,
    PreferencesDialog,
    SeriesPicker,
    ask,
    report_options,
    shortcuts_text,
    show_error,
)
from cbct_osteo.gui.interaction import auto_window_level
from cbct_osteo.gui.panels import ResultsPanel, WorkflowPanel
from cbct_osteo.gui.tasks import Task
from cbct_osteo.gui.view3d import View3D
from cbct_osteo.gui.views2d import Marker, PlaneView, ReformatView, SliceView
from cbct_osteo.indices.catalogue import LandmarkStep
from cbct_osteo.errors import Cancelled, CbctOsteoError
from cbct_osteo.io.errors import LoadCancelled, LoadError
from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.io.session_file import Session, autosave_path, read_session, write_session
from cbct_osteo.measure.landmark_model import LandmarkModel
from cbct_osteo.paths import resource_path
from cbct_osteo.reformat import ArchCurve, cross_section, estimate_arch, panoramic
from cbct_osteo.volume import Volume

log = logging.getLogger(__name__)

MAX_RECENT = 8
CROSS_SECTION_MM = 36.0
#: The window/level preset a newly opened scan is shown with.
INITIAL_PRESET = "CBCT auto"
#: How far (mm) from the panoramic's surface a landmark is still drawn on it.
PANORAMIC_VISIBLE_MM = 12.0


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class DisplayStart:
    """What putting a scan on screen needs from all its voxels, computed in the load worker.

    ``window_level`` is the initial "CBCT auto" window (gray values), ``value_range`` the
    gray-value span the window/level drag scales to.
    """

    fingerprint: str
    value_range: float
    window_level: tuple[float, float]

    @classmethod
    def of(cls, volume: Volume, presets: dict[str, dict[str, Any]]) -> "DisplayStart":
        return cls(
            fingerprint=volume.fingerprint(),
            value_range=float(np.ptp(volume.voxels[::4, ::4, ::4])) or 1.0,
            window_level=preset_window_level(volume, presets[INITIAL_PRESET]),
        )


def preset_window_level(volume: Volume, spec: dict[str, Any]) -> tuple[float, float]:
    """(window, level) of a preset: its fixed HU values on calibrated CT, else the scan's percentiles."""
    if volume.meta.units == "HU" and "hu" in spec:
        window, level = spec["hu"]
        return float(window), float(level)
    return auto_window_level(volume.voxels, *spec["percentiles"])


def load_presets() -> dict[str, dict[str, Any]]:
    """Window/level presets from resources/window_presets.json (keys starting with _ are comments)."""
    document = json.loads(resource_path("window_presets.json").read_text(encoding="utf-8"))
    return {name: spec for name, spec in document.items() if not name.startswith("_")}


class MainWindow(QMainWindow):
    """cbct-osteo's main window. ``caseShown`` fires once a scan is on screen."""

    caseShown = Signal()
    resultsUpdated = Signal(object)
    errorShown = Signal(str)
    loadProgress = Signal(str, int, int)  # stage ("discover", "load" or "report"), done, total

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("cbct-osteo")
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("cbct-osteo", "cbct-osteo")
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self.presets = load_presets()
        self.volume: Volume | None = None
        self.source = ""
        self.model: LandmarkModel | None = None
        self.arch: ArchCurve | None = None
        self.panoramic_image = None
        self.cross_s = 0.0
        self.cross_centre_z: float | None = None
        self.arch_step_mm = 0.5
        self.window, self.level, self.value_range = 1.0, 0.5, 1.0
        self.threshold: float | None = None
        #: Height (mm along the volume's up) of the 3D surface's occlusal cut, None when not clipped.
        self.surface_cut_mm: float | None = None
        self._surface_generation = 0
        self.last_result = None
        self._tasks: set[Task] = set()
        self._analysis_running = False
        self._analysis_dirty = False
        #: Skip the series picker and open the series with the most slices (screenshots, scripts).
        self.pick_largest_series = False
        self._load_task: Task | None = None
        self._report_task: Task | None = None
        self._drag_group_open = False
        self._arch_key: tuple | None = None
        self._build_views()
        self._build_docks()
        self._build_menus()
        self._build_status()
        self._analysis_timer = QTimer(self, singleShot=True, interval=250, timeout=self._start_analysis)
        self._surface_timer = QTimer(self, singleShot=True, interval=400, timeout=self._start_surface)
        self.resize(1500, 940)
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("windowState")
        if isinstance(state, QByteArray):
            self.restoreState(state)

    # ================================================================= construction
    def _build_views(self) -> None:
        self.axial, self.coronal, self.sagittal = (SliceView(p) for p in ("axial", "coronal", "sagittal"))
        self.slice_views = (self.axial, self.coronal, self.sagittal)
        self.panoramic_view = ReformatView("Panoramic", ("R", "L", "S", "I"))
        self.cross_view = ReformatView("Cross-section", ("lingual", "buccal", "S", "I"))
        self.panoramic_view.visible_mm = PANORAMIC_VISIBLE_MM
        self.panoramic_view.setToolTip("Panoramic along the arch. Click the mental foramen; the cross-section follows the click.")
        self.cross_view.setToolTip(
            "Cross-section perpendicular to the arch. Wheel/PgUp/PgDn/arrows: step along the arch; "
            "click to place the active landmark; drag a landmark to move it"
        )
        self.plane_views: tuple[PlaneView, ...] = (*self.slice_views, self.panoramic_view, self.cross_view)
        for view in self.plane_views:
            view.markers = self._markers
            view.patientClicked.connect(lambda xyz, v=view: self._view_clicked(v, xyz))
            view.patientHovered.connect(self._hovered)
            view.markerDragged.connect(self._marker_dragged)
            view.windowLevelDragged.connect(self.set_window_level)
        self.axial.extra_polylines = self._arch_polyline
        self.panoramic_view.extra_polylines = self._cross_marker_line
        self.cross_view.stepped.connect(lambda step: self.set_cross_position(self.cross_s + step * self.arch_step_mm))

        slices = QSplitter(Qt.Horizontal)
        for view in self.slice_views:
            slices.addWidget(view)
        measure = QSplitter(Qt.Vertical)
        measure.addWidget(self.panoramic_view)
        measure.addWidget(self.cross_view)
        measure.setSizes([350, 550])
        self.tabs = QTabWidget()
        self.tabs.addTab(slices, "Slices")
        self.tabs.addTab(measure, "Panoramic && cross-section")
        self.setCentralWidget(self.tabs)

    def _build_docks(self) -> None:
        self.workflow_panel = WorkflowPanel()
        self.workflow_panel.stepActivated.connect(self.activate_step)
        self.workflow_panel.gradeChosen.connect(self._grade_chosen)
        self.workflow_panel.autoArchRequested.connect(self.auto_arch)
        self.workflow_panel.clearArchRequested.connect(lambda: self._edit(lambda m: m.set_arch_points([])))
        self.workflow_panel.acceptProposalRequested.connect(self.accept_edge_proposal)
        self.workflow_panel.jumpToForamenRequested.connect(self.jump_to_foramen)
        self.workflow_panel.roiChanged.connect(self.set_roi_geometry)
        self.results_panel = ResultsPanel()
        self.results_panel.exportRequested.connect(self.export_report)
        self.view3d = View3D()
        threshold_box = QWidget()
        box_layout = QVBoxLayout(threshold_box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addWidget(self.view3d, stretch=1)
        self.threshold_slider = QSlider(Qt.Horizontal)
        self.threshold_slider.setRange(0, 1000)
        self.threshold_slider.setToolTip("Bone threshold of the 3D surface (gray value)")
        self.threshold_slider.valueChanged.connect(self._threshold_moved)
        self.clip_checkbox = QCheckBox("Clip above occlusal plane")
        self.clip_checkbox.setChecked(True)
        self.clip_checkbox.setToolTip("Build the 3D surface only below the occlusal plane estimated from the arch "
                                      "(leaves out the maxilla); without an arch nothing is clipped")
        self.clip_checkbox.toggled.connect(lambda: self._surface_timer.start())
        controls = QHBoxLayout()
        controls.addWidget(self.threshold_slider, stretch=1)
        controls.addWidget(self.clip_checkbox)
        box_layout.addLayout(controls)
        self.docks: dict[str, QDockWidget] = {}
        for name, title, widget, area in (
            ("workflow", "Guided workflow", self.workflow_panel, Qt.LeftDockWidgetArea),
            ("view3d", "3D mandible", threshold_box, Qt.RightDockWidgetArea),
            ("results", "Results", self.results_panel, Qt.RightDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{name}")
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self.docks[name] = dock
        self.resizeDocks([self.docks["workflow"], self.docks["view3d"]], [300, 420], Qt.Horizontal)
        self.resizeDocks([self.docks["view3d"], self.docks["results"]], [380, 520], Qt.Vertical)

    def _action(self, menu, text: str, slot: Callable, shortcut: str | QKeySequence | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            # Application-wide so shortcuts also work while a floating dock (a separate window) has focus.
            action.setShortcutContext(Qt.ApplicationShortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "Open &folder…", self.choose_folder, QKeySequence.Open, "Open a folder of DICOM files")
        self._action(file_menu, "Open file or DICOMDIR…", self.choose_file, "Ctrl+Shift+O", "Open one DICOM file or a DICOMDIR")
        self.recent_menu = file_menu.addMenu("Open &recent")
        self._action(file_menu, "Open &demo phantom", self.open_demo, "Ctrl+D", "Open the built-in CBCT-like phantom")
        file_menu.addSeparator()
        self._action(file_menu, "Open &session or landmarks…", self.choose_session, "Ctrl+L")
        self._action(file_menu, "&Save session as…", self.choose_save_session, QKeySequence.Save)
        self._action(file_menu, "&Export report (PDF)…", self.export_report, "Ctrl+E")
        self._action(file_menu, "&Print report…", self.print_report, QKeySequence.Print, "Print the report (preview first)")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.Quit)
        edit = bar.addMenu("&Edit")
        self.undo_action = self._action(edit, "&Undo", self.undo, QKeySequence.Undo)
        self.redo_action = self._action(edit, "&Redo", self.redo, "Ctrl+Shift+Z")
        self._action(edit, "Next step", lambda: self._advance(+1), "N")
        self._action(edit, "Previous step", lambda: self._advance(-1), "Shift+N")
        self._action(edit, "Stop placing", lambda: self.activate_step(None), Qt.Key_Escape)
        edit.addSeparator()
        self._action(edit, "&Preferences…", self.show_preferences, QKeySequence.Preferences,
                     "Practice name, page size and anonymisation of the report")
        view = bar.addMenu("&View")
        for name, spec in self.presets.items():
            self._action(view, f"Window: {name}", lambda n=name: self.apply_preset(n), spec.get("key"))
        view.addSeparator()
        self._action(view, "Reset 3D camera", lambda: (self.view3d.reset_camera(), self.view3d.render()))
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, QKeySequence.HelpContents)
        self._action(help_menu, "&About cbct-osteo", self.show_about)
        self._refresh_recent()

    def _build_status(self) -> None:
        self.readout = QLabel("")
        self.statusBar().addWidget(self.readout, 1)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_work)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)
        self.statusBar().showMessage("Open a CBCT (File > Open) or the demo phantom (Ctrl+D).")

    # ================================================================= tasks
    def run_task(self, fn, name: str, on_ok: Callable[[Any], None], on_error: Callable[[Exception], None] | None = None,
                 on_progress: Callable[[int, int], None] | None = None,
                 on_finished: Callable[[], None] | None = None) -> Task:
        task = Task(fn, name, self)  # a child: if the window goes, its tasks' results go nowhere
        task.succeeded.connect(on_ok)
        if on_finished is not None:
            task.finished.connect(on_finished)
        task.failed.connect(on_error or (lambda exc: self.show_error_message(f"{name} failed", str(exc))))
        if on_progress is not None:
            task.progress.connect(on_progress)
        self._tasks.add(task)
        task.finished.connect(lambda: self._tasks.discard(task))
        return task.start(self.pool)

    @property
    def busy(self) -> bool:
        """True while any background work (load, surface, reformat, analysis) is running or due."""
        return bool(self._tasks) or self._analysis_timer.isActive() or self._surface_timer.isActive()

    def show_error_message(self, title: str, text: str, details: str = "") -> QMessageBox:
        self.statusBar().showMessage(text, 10000)
        self.errorShown.emit(text)
        return show_error(self, title, text, details)

    # ================================================================= opening scans
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a DICOM folder", str(self.settings.value("lastDir", "")))
        if folder:
            self.open_path(folder)

    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a DICOM file or DICOMDIR", str(self.settings.value("lastDir", "")))
        if name:
            self.open_path(name)

    def open_demo(self) -> None:
        """Open the demo phantom through the same path as any folder (written once, then cached)."""
        from cbct_osteo.phantom import ensure_demo_phantom

        self.statusBar().showMessage("Preparing the demo phantom…")
        self.run_task(lambda progress, cancel: ensure_demo_phantom(), "Preparing the demo", lambda path: self.open_path(str(path)))

    def open_path(self, path: str, on_loaded: Callable[[], None] | None = None) -> None:
        """Discover the series under ``path`` in a worker, ask which one if several, then load it."""
        from cbct_osteo.io.discovery import discover_series

        self.cancel_load()
        self.settings.setValue("lastDir", str(Path(path).parent))
        self._begin_progress(f"Reading headers under {path}…")
        self._load_task = self.run_task(
            lambda progress, cancel: discover_series(path, progress=progress, cancel=cancel),
            "Reading the folder",
            lambda series: self._series_found(path, series, on_loaded),
            self._load_failed,
            lambda done, total: self._progress("discover", done, total),
        )

    def _series_found(self, path: str, series, on_loaded) -> None:
        if self._load_task is not None and self._load_task.cancelled:
            self._end_progress("Loading cancelled.")
            return
        if not series:
            self._load_failed(LoadError(path, "holds no CT or CBCT image series", "choose the folder of the scan's DICOM files"))
            return
        if len(series) == 1 or self.pick_largest_series:
            self._load_series(path, max(series, key=lambda info: info.n_slices).uid, on_loaded)
            return
        self._end_progress(f"{len(series)} series found: choose one.")
        picker = SeriesPicker(series, path, self)
        picker.setAttribute(Qt.WA_DeleteOnClose)
        picker.accepted.connect(lambda: picker.chosen() is not None and self._load_series(path, picker.chosen().uid, on_loaded))
        picker.open()

    def _load_series(self, path: str, uid: str, on_loaded) -> None:
        from cbct_osteo.io.dicom_loader import load_series

        presets = self.presets

        def work(progress, cancel) -> tuple[Volume, DisplayStart]:
            volume = load_series(path, series=uid, progress=progress, cancel=cancel)
            return volume, DisplayStart.of(volume, presets)

        self._begin_progress(f"Loading {path}…")
        self._load_task = self.run_task(
            work,
            "Loading the scan",
            lambda loaded: self._loaded(path, *loaded, on_loaded),
            self._load_failed,
            lambda done, total: self._progress("load", done, total),
        )

    def _loaded(self, path: str, volume: Volume, start: "DisplayStart", on_loaded) -> None:
        if self._load_task is not None and self._load_task.cancelled:  # finished just as Cancel was pressed
            self._load_task = None
            self._end_progress("Loading cancelled.")
            return
        self._end_progress(f"Loaded {path}")
        self._load_task = None
        self._add_recent(path)
        self.show_volume(volume, path, start)
        if on_loaded is not None:
            on_loaded()

    def _load_failed(self, exc: Exception) -> None:
        self._load_task = None
        if isinstance(exc, LoadCancelled):
            self._end_progress("Loading cancelled.")
            return
        self._end_progress("Loading failed.")
        if isinstance(exc, LoadError):
            self.show_error_message("Cannot open the scan", str(exc))
        else:
            log.exception("unexpected load failure", exc_info=exc)
            self.show_error_message("Cannot open the scan", f"Unexpected error while loading: {exc}")

    def cancel_load(self) -> None:
        if self._load_task is not None:
            self._load_task.cancel()
            self.statusBar().showMessage("Cancelling…")

    def cancel_work(self) -> None:
        """The status bar's Cancel: stops the load or the report being written."""
        self.cancel_load()
        if self._report_task is not None:
            self._report_task.cancel()
            self.statusBar().showMessage("Cancelling…")

    def _begin_progress(self, text: str) -> None:
        self.statusBar().showMessage(text)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.loadProgress.emit(stage, done, total)

    def _end_progress(self, text: str) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.statusBar().showMessage(text, 8000)

    # ---- drag and drop, recent files
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0])

    def _recent(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _add_recent(self, path: str) -> None:
        recent = [p for p in self._recent() if p != path]
        self.settings.setValue("recent", [path, *recent][:MAX_RECENT])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            self._action(self.recent_menu, path, lambda p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(self._recent()))

    # ================================================================= showing a case
    def show_volume(self, volume: Volume, source: str = "", start: "DisplayStart | None" = None) -> None:
        """Put ``volume`` on screen with fresh landmarks; offer to restore an autosave of this scan.

        ``start`` is what the load worker already computed from the voxels (computed here if None).
        """
        start = start or DisplayStart.of(volume, self.presets)
        self.volume, self.source = volume, source
        self.fingerprint = start.fingerprint
        title = volume.meta.series_description or Path(source).name or "scan"
        self.setWindowTitle(f"cbct-osteo – {title}")
        self.value_range = start.value_range
        self.set_window_level(*start.window_level)
        for view in self.slice_views:
            view.set_volume(volume)
        centre = volume.index_to_patient((np.array(volume.shape) - 1) / 2.0)
        self.set_crosshair(centre)
        self.arch, self.panoramic_image, self._arch_key = None, None, None
        self.panoramic_view.set_plane_image(None)
        self.cross_view.set_plane_image(None)
        self.last_result = None
        self._set_model(LandmarkSet(series_uid=volume.meta.series_uid, volume_fingerprint=self.fingerprint))
        self.threshold = None
        self.view3d.set_surface(None, "3D: building the mandible surface…")
        self._surface_timer.start(0)
        self.statusBar().showMessage(f"{title}: {volume.shape[0]} slices, voxel {volume.spacing[2]:.3g} mm", 8000)
        self.activate_step(workflow.next_open_step(self.model.landmarks))
        self.caseShown.emit()
        autosave = autosave_path(volume.meta.series_uid, self.fingerprint)
        if autosave.exists():
            try:
                session = read_session(autosave)
                session.check_belongs_to(volume.meta.series_uid, self.fingerprint, autosave)
            except LoadError as exc:
                log.warning("ignoring autosave: %s", exc)
                return
            ask(self, "Restore your work?",
                f"Landmarks you placed on this scan were autosaved ({session.saved_at or 'earlier'}).\nRestore them?",
                lambda: self.apply_session(session), name="restoreDialog")

    def _set_model(self, landmarks: LandmarkSet) -> None:
        if self.model is not None:
            self.model.unsubscribe(self._model_changed)
        self.model = LandmarkModel(landmarks)
        self.model.subscribe(self._model_changed)
        self._model_changed(None, autosave=False)

    def set_crosshair(self, xyz: np.ndarray) -> None:
        for view in self.slice_views:
            view.show_point(xyz)

    def apply_preset(self, name: str) -> None:
        if self.volume is None:
            return
        window, level = preset_window_level(self.volume, self.presets[name])
        self.set_window_level(window, level)
        self.statusBar().showMessage(f"Window {name}: W {window:.0f} L {level:.0f}", 4000)

    def set_window_level(self, window: float, level: float) -> None:
        self.window, self.level = float(window), float(level)
        for view in self.plane_views:
            view.set_window_level(self.window, self.level, self.value_range)

    def _hovered(self, xyz: np.ndarray, value: float | None) -> None:
        value_text = "–" if value is None else f"{value:.0f}"
        unit = self.volume.meta.units if self.volume is not None else ""
        self.readout.setText(f"x {xyz[0]:.1f}  y {xyz[1]:.1f}  z {xyz[2]:.1f} mm (LPS)   value {value_text} {unit}")

    # ================================================================= landmarks
    def _edit(self, change: Callable[[LandmarkModel], None]) -> None:
        if self.model is not None:
            change(self.model)

    def undo(self) -> None:
        if self.model is not None and self.model.can_undo:
            self.model.undo()
            self._update_history_actions()

    def redo(self) -> None:
        if self.model is not None and self.model.can_redo:
            self.model.redo()
            self._update_history_actions()

    def _update_history_actions(self) -> None:
        # Also called after undo/redo return: the model notifies before it moves the item between stacks.
        self.undo_action.setEnabled(self.model.can_undo)
        self.redo_action.setEnabled(self.model.can_redo)

    def _model_changed(self, event: Any = None, autosave: bool = True) -> None:
        landmarks = self.model.landmarks
        self.workflow_panel.update_status(landmarks)
        self._update_history_actions()
        self._update_arch(landmarks)
        for view in self.plane_views:
            view.update()
        self._update_3d_overlays()
        self._analysis_timer.start()
        if autosave:
            self.autosave()

    def _markers(self) -> list[Marker]:
        if self.model is None:
            return []
        markers = [Marker(key, tuple(xyz), colour, label, roi, shape)
                   for key, xyz, colour, label, roi, shape in workflow.markers_for(self.model.landmarks)]
        for i, xyz in enumerate(self.model.landmarks.arch_points):
            markers.append(Marker(("arch", str(i)), tuple(xyz), workflow.KIND_COLOURS["arch"], ""))
        return markers

    def _view_clicked(self, view: PlaneView, xyz: np.ndarray) -> None:
        """A left click away from any marker: place the active step's landmark, else move the crosshair."""
        step = self.workflow_panel.active
        if view in self.slice_views:
            self.set_crosshair(xyz)
        if view is self.panoramic_view and self.arch is not None:
            self.set_cross_position(self.arch.closest_arc_position(xyz), centre_z=float(xyz[2]))
        if step is None or self.model is None:
            return
        if step.what == "arch" and view is self.axial:
            self.model.set_arch_points([*self.model.landmarks.arch_points, tuple(map(float, xyz))])
            return
        if step.what in ("point", "roi") and isinstance(view, ReformatView):
            if step.view == "cross-section" and view is not self.cross_view:
                return  # the foramen centre may be placed on the panoramic, then refined on the cross-section
            self.place(step, xyz)

    def place(self, step: LandmarkStep, xyz: np.ndarray) -> None:
        """Place ``step``'s landmark at ``xyz`` (patient mm) and move on to the next open step."""
        point = tuple(float(v) for v in xyz)
        if step.what == "roi":
            size_mm, shape = self.workflow_panel.roi_settings
            self.model.set_roi(step.side, centre=point, size_mm=size_mm, shape=shape)
        else:
            self.model.set_point(step.side, step.kind, point)
        if step.kind == "foramen_centre":
            self.jump_to_foramen(step.side)
        self.activate_step(workflow.next_open_step(self.model.landmarks, step) or step)

    def _marker_dragged(self, key: tuple[str, str], xyz: np.ndarray, finished: bool) -> None:
        if self.model is None:
            return
        if not self._drag_group_open:
            self.model.begin_group()
            self._drag_group_open = True
        point = tuple(float(v) for v in xyz)
        side, kind = key
        if side == "arch":
            arch = list(self.model.landmarks.arch_points)
            arch[int(kind)] = point
            self.model.set_arch_points(arch)
        elif kind == "trab_roi":
            self.model.move_roi(side, point)
        else:
            self.model.set_point(side, kind, point)
        if finished:
            self.model.end_group()
            self._drag_group_open = False

    def set_roi_geometry(self, side: str, size_mm: float, shape: str) -> None:
        """Resize/reshape ``side``'s trabecular ROI (one undo step); without an ROI the values wait for its placement."""
        if self.model is None or self.model.roi(side) is None:
            return
        roi = self.model.roi(side)
        if roi.size_mm == size_mm and roi.shape == shape:
            return
        self.model.set_roi(side, size_mm=size_mm, shape=shape)

    def _grade_chosen(self, side: str, index_id: str, grade: str) -> None:
        self._edit(lambda m: m.set_grade(side, index_id, grade or None))

    def activate_step(self, step: LandmarkStep | None) -> None:
        self.workflow_panel.set_active(step)
        if step is None:
            return
        if self.model is not None:
            self.workflow_panel.update_status(self.model.landmarks)  # the grade / ROI controls show this side's
        self.tabs.setCurrentIndex(0 if step.view == "axial" else 1)
        if step.side and step.view == "cross-section" and self.model is not None:
            if self.model.landmarks.point(step.side, "foramen_centre") is not None:
                self.jump_to_foramen(step.side)

    def _advance(self, direction: int) -> None:
        all_steps = workflow.steps()
        active = self.workflow_panel.active
        index = all_steps.index(active) if active in all_steps else -1
        self.activate_step(all_steps[(index + direction) % len(all_steps)])

    def auto_arch(self) -> None:
        """Propose the arch through the located mandible (the code of ``cbct-osteo propose``).

        When the scan holds no mandibular body, say why and leave the arch step open.
        """
        if self.volume is None:
            return
        from cbct_osteo.reformat.proposal import PROPOSED_ARCH_POINTS

        volume = self.volume
        self.statusBar().showMessage("Locating the mandible…")

        def done(arch: ArchCurve) -> None:
            points = arch.to_points()
            self._edit(lambda m: m.set_arch_points([tuple(map(float, p)) for p in points]))
            self.statusBar().showMessage("Arch estimated: check it on the axial slice and drag points to correct it.", 8000)

        def not_found(exc: Exception) -> None:
            if not isinstance(exc, ValueError):
                self.show_error_message("Estimating the arch failed", str(exc))
                return
            self.show_error_message("No mandible found", f"No mandible found: {exc}. Place the arch by hand on an "
                                    "axial slice through the mandibular body.")

        self.run_task(lambda progress, cancel: estimate_arch(volume, n_points=PROPOSED_ARCH_POINTS),
                      "Estimating the arch", done, on_error=not_found)

    def accept_edge_proposal(self, side: str) -> None:
        """Move both cortex margins of ``side`` to the edge-detected positions of the last analysis."""
        if self.last_result is None or side not in self.last_result.sides:
            self.statusBar().showMessage("No edge proposal yet: place the foramen and both cortex margins first.", 6000)
            return
        refined = self.last_result.sides[side].refined_points
        if not refined:
            self.statusBar().showMessage("No edge proposal for this side.", 6000)
            return
        with self.model.group():
            for kind, xyz in refined.items():
                self.model.set_point(side, kind, tuple(map(float, xyz)))

    # ================================================================= arch, panoramic, cross-section
    def _arch_polyline(self) -> list[tuple[np.ndarray, str]]:
        if self.arch is None:
            return []
        return [(self.arch.point(np.linspace(0, self.arch.length_mm, 200)), workflow.KIND_COLOURS["arch"])]

    def _cross_marker_line(self) -> list[tuple[np.ndarray, str]]:
        if self.arch is None or self.panoramic_image is None:
            return []
        base = self.arch.point(self.cross_s)
        z0, z1 = self.panoramic_image.height(0), self.panoramic_image.height(self.panoramic_image.shape[0] - 1)
        line = np.array([base, base])
        line[0, 2], line[1, 2] = z0, z1
        return [(line, "#33b5ff")]

    def _update_arch(self, landmarks: LandmarkSet) -> None:
        key = tuple(landmarks.arch_points)
        if key == self._arch_key:
            return
        self._arch_key = key
        had_arch, self.arch = self.arch is not None, None
        if len(landmarks.arch_points) >= workflow.MIN_ARCH_POINTS:
            try:
                self.arch = ArchCurve.from_points(np.asarray(landmarks.arch_points, float))
            except ValueError as exc:
                self.statusBar().showMessage(f"Arch: {exc}", 6000)
        self.view3d.set_arch(None if self.arch is None else self.arch.point(np.linspace(0, self.arch.length_mm, 120)))
        if self.volume is not None and self.clip_checkbox.isChecked() and (had_arch or self.arch is not None):
            self._surface_timer.start()  # the occlusal cut follows the arch
        if self.arch is None or self.volume is None:
            self.panoramic_image = None
            self.panoramic_view.set_plane_image(None)
            self.cross_view.set_plane_image(None)
            self.view3d.set_plane(None)
            return
        arch, volume = self.arch, self.volume
        self.cross_s = float(np.clip(self.cross_s, 0.0, arch.length_mm)) or arch.length_mm / 2.0
        self.run_task(lambda progress, cancel: panoramic(volume, arch, pixel_mm=max(0.25, min(volume.spacing))),
                      "Panoramic", lambda image: self._panoramic_ready(arch, image))
        self.set_cross_position(self.cross_s)

    def _panoramic_ready(self, arch: ArchCurve, image) -> None:
        if arch is not self.arch:
            return
        self.panoramic_image = image
        self.panoramic_view.set_plane_image(image, f"arch {arch.length_mm:.0f} mm")

    def set_cross_position(self, s_mm: float, centre_z: float | None = None) -> None:
        """Show the cross-section at arc position ``s_mm`` (clipped to the arch)."""
        if self.arch is None or self.volume is None:
            return
        self.cross_s = float(np.clip(s_mm, 0.0, self.arch.length_mm))
        if centre_z is not None:
            self.cross_centre_z = centre_z
        image = cross_section(self.volume, self.arch, self.cross_s, CROSS_SECTION_MM, CROSS_SECTION_MM,
                              centre_z_mm=self.cross_centre_z)
        self.cross_view.set_plane_image(image, f"s = {self.cross_s:.1f} / {self.arch.length_mm:.1f} mm")
        centre = image.pixel_to_patient(np.array([(image.shape[0] - 1) / 2.0, (image.shape[1] - 1) / 2.0]))
        self.view3d.set_plane(centre, image.col_step_xyz * image.shape[1], image.row_step_xyz * image.shape[0])
        self.panoramic_view.update()

    def jump_to_foramen(self, side: str) -> None:
        """Cross-section through ``side``'s foramen centre, vertically centred a little below it."""
        if self.model is None or self.arch is None:
            return
        centre = self.model.landmarks.point(side, "foramen_centre")
        if centre is None:
            self.statusBar().showMessage(f"Place the {side} foramen on the panoramic first.", 6000)
            return
        self.tabs.setCurrentIndex(1)
        self.set_cross_position(self.arch.closest_arc_position(np.asarray(centre)), centre_z=float(centre[2]) - 5.0)

    # ================================================================= 3D
    def _start_surface(self) -> None:
        if self.volume is None:
            return
        from cbct_osteo.gui.surface import build_surface, default_bone_threshold, occlusal_cut_height

        volume = self.volume
        threshold = self.threshold
        arch_xyz = self.arch.sample(1.0) if self.arch is not None and self.clip_checkbox.isChecked() else None
        self._surface_generation += 1
        generation = self._surface_generation

        def work(progress, cancel):
            value = default_bone_threshold(volume) if threshold is None else threshold
            cut = None if arch_xyz is None else occlusal_cut_height(volume, arch_xyz, value)
            return value, cut, build_surface(volume, value, progress=progress, cut_height_mm=cut)

        self.run_task(work, "3D surface", lambda result: self._surface_ready(volume, generation, *result))

    def _surface_ready(self, volume: Volume, generation: int, threshold: float, cut: float | None, polydata) -> None:
        if volume is not self.volume or generation != self._surface_generation:  # a newer build is under way
            return
        first = self.threshold is None
        self.threshold = threshold
        self.surface_cut_mm = cut
        if first:
            lo, hi = float(volume.voxels.min()), float(volume.voxels.max())
            self.threshold_slider.blockSignals(True)
            self.threshold_slider.setValue(int(round(1000 * (threshold - lo) / max(hi - lo, 1e-6))))
            self.threshold_slider.blockSignals(False)
        count = polydata.GetNumberOfCells()
        clipped = "" if cut is None else ", clipped above the occlusal plane"
        self.view3d.set_surface(polydata, f"Bone threshold {threshold:.0f}: {count:,} triangles{clipped}" if count else
                                f"Nothing above the bone threshold {threshold:.0f}: lower it with the slider")
        self._update_3d_overlays()

    def _threshold_moved(self, value: int) -> None:
        if self.volume is None:
            return
        lo, hi = float(self.volume.voxels.min()), float(self.volume.voxels.max())
        self.threshold = lo + (hi - lo) * value / 1000.0
        self._surface_timer.start()

    def _update_3d_overlays(self) -> None:
        if self.model is None:
            return
        points = [(xyz, colour) for _, xyz, colour, *_ in workflow.markers_for(self.model.landmarks)]
        self.view3d.set_markers(points)

    # ================================================================= results
    def _start_analysis(self) -> None:
        """Recompute the indices in a worker; changes made meanwhile trigger one more run when it ends."""
        if self.volume is None or self.model is None:
            return
        if self._analysis_running:
            self._analysis_dirty = True
            return
        from cbct_osteo.indices import analyse_case

        volume, landmarks = self.volume, self.model.snapshot()
        self.results_panel.show_busy()
        self._analysis_running, self._analysis_dirty = True, False
        self.run_task(lambda progress, cancel: analyse_case(volume, landmarks), "Computing the indices",
                      lambda result: self._analysis_ready(landmarks, result),
                      lambda exc: self.results_panel.show_message(f"Could not compute the indices: {exc}"),
                      on_finished=self._analysis_finished)

    def _analysis_finished(self) -> None:
        self._analysis_running = False
        if self._analysis_dirty:
            self._start_analysis()

    def _analysis_ready(self, landmarks: LandmarkSet, result) -> None:
        if self.model is None or landmarks.to_json() != self.model.landmarks.to_json():
            return  # stale: a newer analysis is on its way
        self.last_result = result
        self.results_panel.show_result(result)
        self.resultsUpdated.emit(result)

    def export_report(self) -> None:
        if self.volume is None or self.model is None:
            self.show_error_message("No scan", "Open a scan and place the landmarks before exporting a report.")
            return
        from cbct_osteo.report.header import default_report_name

        anonymise = bool(report_options(self.settings)["anonymise"])
        suggested = Path(self.settings.value("lastDir", "")) / default_report_name(self.volume.meta, anonymise=anonymise)
        name, _ = QFileDialog.getSaveFileName(self, "Export report", str(suggested), "PDF (*.pdf)")
        if name:
            self.write_report(name)

    def write_report(self, path: str, on_written: Callable[[Path], None] | None = None) -> Task | None:
        """Write the PDF report in a worker, with progress and Cancel in the status bar.

        The practice name, page size and anonymisation come from the Preferences; this window's own
        3D frame is the report's 3D figure. ``on_written(path)`` runs once the file is complete
        (the default shows where it went).
        """
        if self.volume is None or self.model is None:
            return None
        from PIL import Image

        from cbct_osteo.indices import analyse_case
        from cbct_osteo.report.pdf import write_pdf_report

        volume, landmarks, options = self.volume, self.model.snapshot(), report_options(self.settings)
        frame = self.view3d.capture() if self.view3d.isVisible() else None
        view3d = None
        if frame is not None:
            frame = frame.convertToFormat(frame.Format.Format_RGB888)
            view3d = Image.frombytes("RGB", (frame.width(), frame.height()), bytes(frame.constBits()), "raw", "RGB", frame.bytesPerLine())

        def work(progress, cancel):
            result = analyse_case(volume, landmarks)
            return write_pdf_report(result, volume, landmarks, path, progress=progress, cancel=cancel,
                                    view3d=view3d, render_3d=False, **options)

        def written(out: Path) -> None:
            self._end_progress(f"Report written to {out}")
            if on_written is not None:
                on_written(Path(out))

        def failed(exc: Exception) -> None:
            if isinstance(exc, Cancelled):
                self._end_progress("Report cancelled.")
                return
            self._end_progress("Report failed.")
            self.show_error_message("Report failed", f"{path}: {exc}")

        def finished() -> None:
            self._report_task = None

        self._begin_progress(f"Writing {path}…")
        self._report_task = self.run_task(work, "Report", written, failed,
                                          lambda done, total: self._progress("report", done, total), finished)
        return self._report_task

    def print_report(self) -> Path | None:
        """File > Print: write the report (as the export does) to a temporary PDF, then preview and print it.

        Returns the temporary PDF's path (written in a worker; removed when the preview closes).
        """
        if self.volume is None or self.model is None:
            self.show_error_message("No scan", "Open a scan and place the landmarks before printing a report.")
            return None
        import tempfile

        pdf_path = Path(tempfile.mkdtemp(prefix="cbct-osteo-print-")) / "report.pdf"
        self.write_report(str(pdf_path), self._preview_report)
        return pdf_path

    def _preview_report(self, pdf_path: Path) -> None:
        from PySide6.QtGui import QPageSize
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        printer = QPrinter(QPrinter.HighResolution)
        page = report_options(self.settings)["page_size"]
        printer.setPageSize(QPageSize(QPageSize.Letter if page == "Letter" else QPageSize.A4))
        preview = QPrintPreviewDialog(printer, self)
        preview.setObjectName("printPreview")
        preview.setAttribute(Qt.WA_DeleteOnClose)
        self._printer = printer  # the dialog does not own its printer: keep it alive while it is open
        preview.paintRequested.connect(lambda device: self._paint_report(device, pdf_path))
        preview.destroyed.connect(lambda *_: _remove_tree(pdf_path.parent))
        preview.open()

    def _paint_report(self, device, pdf_path: Path) -> None:
        from cbct_osteo.gui.printing import paint_pdf

        try:
            paint_pdf(device, pdf_path)
        except CbctOsteoError as exc:
            self.show_error_message("Cannot print", str(exc))

    def show_preferences(self) -> PreferencesDialog:
        dialog = PreferencesDialog(self.settings, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # ================================================================= sessions
    def current_session(self) -> Session:
        return Session(
            landmarks=self.model.snapshot(),
            settings={"window": self.window, "level": self.level, "arch_step_mm": self.arch_step_mm,
                      "cross_section_s_mm": self.cross_s, "threshold": self.threshold,
                      "slices": {v.plane: v.index for v in self.slice_views}},
            series_uid=self.volume.meta.series_uid,
            volume_fingerprint=self.fingerprint,
            source=self.source,
        )

    def autosave(self) -> Path | None:
        """Write the session to this scan's autosave file (atomic). Errors go to the status bar."""
        if self.volume is None or self.model is None:
            return None
        path = autosave_path(self.volume.meta.series_uid, self.fingerprint)
        try:
            return write_session(self.current_session(), path)
        except CbctOsteoError as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}", 10000)
            return None

    def apply_session(self, session: Session) -> None:
        """Replace the landmarks and view settings with ``session``'s (undoable as one step)."""
        settings = session.settings
        if "window" in settings and "level" in settings:
            self.set_window_level(float(settings["window"]), float(settings["level"]))
        self.arch_step_mm = float(settings.get("arch_step_mm", self.arch_step_mm))
        self.cross_s = float(settings.get("cross_section_s_mm", self.cross_s))
        landmarks = session.landmarks.copy()
        landmarks.series_uid = self.volume.meta.series_uid
        landmarks.volume_fingerprint = self.fingerprint
        self.model.reset(landmarks)
        self.activate_step(workflow.next_open_step(self.model.landmarks))
        self.statusBar().showMessage("Session restored.", 6000)

    def open_session(self, path: str) -> bool:
        """Load a session or landmarks file onto the open scan; refuse one made on another scan."""
        if self.volume is None:
            self.show_error_message("No scan", "Open the scan first, then its session.")
            return False
        try:
            session = read_session(path)
            session.check_belongs_to(self.volume.meta.series_uid, self.fingerprint, path)
        except LoadError as exc:
            self.show_error_message("Cannot open the session", str(exc))
            return False
        self.apply_session(session)
        return True

    def save_session(self, path: str) -> Path:
        return write_session(self.current_session(), path)

    def choose_session(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open session or landmarks", str(self.settings.value("lastDir", "")),
                                              "Sessions (*.json)")
        if name:
            self.open_session(name)

    def choose_save_session(self) -> None:
        if self.volume is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save session as", str(self.settings.value("lastDir", "")), "Sessions (*.json)")
        if name:
            try:
                self.save_session(name)
                self.statusBar().showMessage(f"Session saved to {name}", 6000)
            except CbctOsteoError as exc:
                self.show_error_message("Cannot save the session", str(exc))

    # ================================================================= help, screenshots, closing
    def show_shortcuts(self) -> None:
        box = QMessageBox(QMessageBox.Information, "Keyboard shortcuts", shortcuts_text(), QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()

    def show_about(self) -> None:
        box = QMessageBox(QMessageBox.NoIcon, f"About cbct-osteo {__version__}", ABOUT_TEXT, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()

    def screenshot(self) -> QPixmap:
        """The whole window as shown, with the VTK frame composited in (grab() cannot read it)."""
        pixmap = self.grab()
        if self.view3d.isVisible():
            frame = self.view3d.capture()
            widget = self.view3d.vtk_widget
            top_left = widget.mapTo(self, widget.rect().topLeft())
            painter = QPainter(pixmap)
            painter.drawImage(top_left, frame.scaled(widget.size()))
            painter.end()
        return pixmap

    def closeEvent(self, event) -> None:  # noqa: N802
        self.cancel_load()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        self.pool.waitForDone(5000)
        self.view3d.close()
        super().closeEvent(event)
