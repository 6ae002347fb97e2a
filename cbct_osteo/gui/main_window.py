"""The main window: it assembles the views, panels, menus and controllers, and mirrors the case state.

Slicer's Widget role. The case on screen is one :class:`~cbct_osteo.gui.state.CaseState`
(landmarks + view settings); each job has its controller (loading, placing, reformatting, 3D,
analysis, report, sessions) acting on that state. The window itself only connects them and
refreshes the views when the landmarks change. It never computes a measurement.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMenu, QMessageBox, QVBoxLayout, QWidget

from cbct_osteo.gui import workflow
from cbct_osteo.gui.analysis import AnalysisController
from cbct_osteo.gui.dialogs import PreferencesDialog, show_error
from cbct_osteo.gui.keys import KeysToViewUnderCursor
from cbct_osteo.gui.loading import DisplayStart, LoadingController
from cbct_osteo.gui.menus import add_action, build_menus
from cbct_osteo.gui.panels import WorkflowPanel
from cbct_osteo.gui.placing import PlacingController
from cbct_osteo.gui.reformatting import ReformatController
from cbct_osteo.gui.report_export import EXPORT_DIR_KEY, ReportController
from cbct_osteo.gui.results_panel import ResultsPanel
from cbct_osteo.gui.scan_info import ScanBanner, ScanInfoDialog
from cbct_osteo.gui.sessions import SessionController
from cbct_osteo.gui.site_indices import SiteIndices
from cbct_osteo.gui.state import CaseState, ViewSettings
from cbct_osteo.gui.status_line import StatusLine
from cbct_osteo.gui.surface3d import SurfaceController
from cbct_osteo.gui.tasks import TaskRunner
from cbct_osteo.gui.view_area import ViewArea
from cbct_osteo.gui.window_dialogs import open_preferences, open_scan_info
from cbct_osteo.indices.catalogue import IndexEntry
from cbct_osteo.io.scan_warnings import scan_warnings
from cbct_osteo.io.session_file import Session
from cbct_osteo.measure.validation import validate_landmarks
from cbct_osteo.volume import Volume

log = logging.getLogger(__name__)
#: Fixed dock widths (px): the docks never resize with their content, so nothing moves under the cursor.
WORKFLOW_WIDTH, RESULTS_WIDTH = 270, 370
MIN_WIDTH, MIN_HEIGHT = 1024, 700


class MainWindow(QMainWindow):
    """cbct-osteo's main window. ``caseShown`` fires once a scan is on screen."""

    caseShown = Signal()
    resultsUpdated = Signal(object)
    errorShown = Signal(str)
    loadProgress = Signal(str, int, int)  # stage ("discover", "load" or "report"), done, total

    # set by menus.build_menus (called from __init__)
    recent_menu: QMenu
    undo_action: QAction
    redo_action: QAction
    help_action: QAction
    experimental_action: QAction
    layout_actions: dict[str, QAction]

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("cbct-osteo")
        self.setAcceptDrops(True)
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)
        self.settings = settings or QSettings("cbct-osteo", "cbct-osteo")
        self.tasks = TaskRunner(self.show_error_message, self)
        self.volume: Volume | None = None
        self.state: CaseState | None = None
        self.value_range = 1.0
        #: Sides whose trabecular ROI has a placement warning (drawn red until it is fixed).
        self.roi_warned: set[str] = set()
        self.site_index_files = SiteIndices(self.settings, lambda title, text: self.show_error_message(title, text))
        self._build_central()
        self._build_docks()
        self.loading = LoadingController(self)
        self.session = SessionController(self)
        self.placing = PlacingController(self)
        self.reformat = ReformatController(self)
        self.surface = SurfaceController(self)
        self.analysis = AnalysisController(self)
        self.report = ReportController(self)
        self._connect()
        build_menus(self)
        self.status_line = StatusLine(self.statusBar(), self.cancel_work, self.loadProgress.emit)
        self.cancel_button = self.status_line.cancel_button
        self.refresh_recent_menu()
        self.set_layout("2x2")
        self._keys = KeysToViewUnderCursor(self.views.plane_views, self)
        app = QApplication.instance()
        assert app is not None  # a MainWindow is a widget: it needs the QApplication
        app.installEventFilter(self._keys)
        self.resize(1500, 940)
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self.update_history_actions()

    # ================================================================= construction
    def _build_central(self) -> None:
        self.views = ViewArea()
        self.banner = ScanBanner()
        self.banner.infoRequested.connect(self.show_scan_info)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.banner)
        column.addWidget(self.views, stretch=1)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        self.workflow_panel = WorkflowPanel()
        self.results_panel = ResultsPanel()
        self.docks: dict[str, QDockWidget] = {}
        for name, title, widget, area, width in (
            ("workflow", "Guided workflow", self.workflow_panel, Qt.DockWidgetArea.LeftDockWidgetArea, WORKFLOW_WIDTH),
            ("results", "Results", self.results_panel, Qt.DockWidgetArea.RightDockWidgetArea, RESULTS_WIDTH),
        ):
            widget.setFixedWidth(width)
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{name}")
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
            )
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self.docks[name] = dock

    def _connect(self) -> None:
        for view in self.views.plane_views:
            # arch points are edited on the slices; on the reformats they would only hide the anatomy
            view.markers = self.placing.markers if view in self.views.slice_views else self.placing.side_markers
            view.patientClicked.connect(lambda xyz, v=view: self.placing.view_clicked(v, xyz))
            view.patientHovered.connect(self._hovered)
            view.markerDragged.connect(self.placing.marker_dragged)
            view.windowLevelDragged.connect(lambda w, lvl: self.set_window_level(w, lvl, "manual window"))
        panel = self.workflow_panel
        panel.stepActivated.connect(self.placing.activate_step)
        panel.gradeChosen.connect(self.placing.grade_chosen)
        panel.autoArchRequested.connect(self.placing.request_auto_arch)
        panel.clearArchRequested.connect(self.placing.request_clear_arch)
        panel.acceptProposalRequested.connect(self.placing.accept_edge_proposal)
        panel.jumpToForamenRequested.connect(self.reformat.jump_to_foramen)
        panel.roiChanged.connect(self.placing.set_roi_geometry)
        self.results_panel.exportRequested.connect(self.report.export)

    def refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.loading.recent():
            add_action(self, self.recent_menu, path, lambda p=path: self.loading.open_path(p))
        self.recent_menu.setEnabled(bool(self.loading.recent()))

    def set_layout(self, name: str) -> None:
        self.views.set_layout(name)
        self.layout_actions[name].setChecked(True)
        if self.state is not None:
            self.state.view.layout = name

    # ================================================================= progress, errors
    @property
    def busy(self) -> bool:
        """True while any background work (load, surface, reformat, analysis, report) is running or due."""
        return self.tasks.busy or self.analysis.busy or self.surface.busy

    def show_error_message(self, title: str, text: str, details: str = "") -> QMessageBox:
        self.statusBar().showMessage(text, 10000)
        self.errorShown.emit(text)
        return show_error(self, title, text, details)

    def cancel_work(self) -> None:
        """The status bar's Cancel: stops the load or the report being written."""
        self.loading.cancel()
        self.report.cancel()

    def export_folder(self) -> str:
        return self.report.export_folder()

    def remember_export_folder(self, path: str | Path) -> None:
        self.settings.setValue(EXPORT_DIR_KEY, str(Path(path).parent))

    # ================================================================= the case
    @property
    def model(self):
        return None if self.state is None else self.state.model

    def show_volume(
        self, volume: Volume, source: str = "", start: DisplayStart | None = None, landmarks: str | None = None
    ) -> None:
        """Put ``volume`` on screen with fresh landmarks; then open ``landmarks`` or offer this scan's autosave."""
        start = start or DisplayStart.of(volume, self.loading.presets)
        if self.state is not None:
            self.state.model.unsubscribe(self._model_changed)
        self.volume = volume
        self.state = CaseState.new(
            volume.meta.series_uid, start.fingerprint, source, ViewSettings(layout=self.views.layout_name)
        )
        title = volume.meta.series_description or Path(source).name or "scan"
        self.setWindowTitle(f"cbct-osteo – {title}")
        self.value_range = start.value_range
        self.set_window_level(*start.window_level, start.window_name)
        for view in self.views.slice_views:
            view.set_volume(volume)
        self.set_crosshair(volume.index_to_patient((np.array(volume.shape) - 1) / 2.0))
        self.reformat.reset()
        self.reformat.show_controls()
        self.analysis.reset()
        self.state.model.subscribe(self._model_changed)
        self._model_changed(None, autosave=False)
        self.surface.case_opened(volume)
        self.banner.show_warnings(scan_warnings(volume))
        self.statusBar().showMessage(f"{title}: {volume.shape[0]} slices, voxel {volume.spacing[2]:.3g} mm", 8000)
        self.placing.activate_step(workflow.next_open_step(self.state.landmarks))
        self.caseShown.emit()
        self.session.case_opened(explicit=landmarks)

    def current_session(self) -> Session:
        assert self.state is not None  # only asked while a case is shown
        for view in self.views.slice_views:
            self.state.view.slices[view.plane] = view.index
        return self.state.session()

    def apply_view_settings(self) -> None:
        """Show the state's view settings (after a session was restored)."""
        assert self.state is not None  # called right after a session was restored into the state
        view = self.state.view
        self.set_window_level(view.window, view.level, view.window_name or "window from the session")
        for slice_view in self.views.slice_views:
            if slice_view.plane in view.slices:
                slice_view.set_slice(view.slices[slice_view.plane])
        self.set_layout(view.layout)
        self.reformat.show_controls()
        self.surface.show_controls()
        self.surface.timer.start()
        self.reformat.controls_changed()
        if self.reformat.arch is not None:
            self.reformat.set_cross_position(view.cross_section_s_mm, view.cross_section_centre_z_mm)
        self.results_panel.set_refine(view.refine, view.as_placed)
        step = next((s for s in workflow.steps() if view.active_step == (s.side or "", s.kind)), None)
        self.placing.activate_step(step or workflow.next_open_step(self.state.landmarks))

    def _model_changed(self, event: Any = None, autosave: bool = True) -> None:
        assert self.state is not None  # the model that notifies belongs to the state
        landmarks = self.state.landmarks
        self.workflow_panel.update_status(landmarks)
        issues = validate_landmarks(landmarks, self.volume)
        self.workflow_panel.show_checks([i.message for i in issues if i.severity in ("warning", "error")])
        self.roi_warned = {
            i.side for i in issues if i.landmark == "trab_roi" and i.severity in ("warning", "error") and i.side
        }
        self.update_history_actions()
        self.reformat.update_arch(landmarks)
        for view in self.views.plane_views:
            view.update()
        self.surface.update_overlays()
        self.analysis.timer.start()
        if autosave:
            self.session.autosave()

    def update_history_actions(self) -> None:
        """Undo/Redo enabled and labelled with what they would do ("Undo place Right: trab roi")."""
        model = self.model
        undo, redo = (model.undo_text, model.redo_text) if model is not None else ("", "")
        self.undo_action.setEnabled(bool(undo))
        self.redo_action.setEnabled(bool(redo))
        self.undo_action.setText(f"&Undo {undo}" if undo else "&Undo")
        self.redo_action.setText(f"&Redo {redo}" if redo else "&Redo")

    # ================================================================= display
    def set_crosshair(self, xyz: np.ndarray) -> None:
        for view in self.views.slice_views:
            view.show_point(xyz)

    def set_window_level(self, window: float, level: float, name: str = "") -> None:
        if self.state is not None:
            self.state.view.window, self.state.view.level = float(window), float(level)
            if name == "manual window":
                name = f"manual window: W {window:.0f} L {level:.0f}"
            self.state.view.window_name = name or self.state.view.window_name
        for view in self.views.plane_views:
            view.bottom_text = self.state.view.window_name if self.state is not None else ""
            view.set_window_level(float(window), float(level), self.value_range)

    def _hovered(self, xyz: np.ndarray, value: float | None) -> None:
        self.status_line.show_hovered(xyz, value, self.volume.meta.units if self.volume is not None else "")

    # ================================================================= dialogs
    def show_preferences(self) -> PreferencesDialog:
        return open_preferences(self)

    def site_indices(self) -> tuple[IndexEntry, ...]:
        """The site indices of the Preferences (also given rows in the results table)."""
        entries = self.site_index_files.entries()
        self.results_panel.set_extra_entries(entries)
        return entries

    def show_scan_info(self) -> ScanInfoDialog | None:
        return open_scan_info(self)

    # ================================================================= screenshots, files, closing
    def screenshot(self) -> QPixmap:
        """The whole window as shown, with the VTK frame composited in (grab() cannot read it)."""
        pixmap = self.grab()
        view3d = self.views.view3d
        if view3d.isVisible():
            frame = view3d.capture()
            widget = view3d.vtk_widget
            top_left = widget.mapTo(self, widget.rect().topLeft())
            painter = QPainter(pixmap)
            painter.drawImage(top_left, frame.scaled(widget.size()))
            painter.end()
        return pixmap

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.loading.open_path(urls[0])

    def closeEvent(self, event) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._keys)
        self.loading.cancel()
        self.settings.setValue("geometry", self.saveGeometry())
        self.tasks.wait(5000)
        self.views.view3d.close()
        super().closeEvent(event)
