"""The main window's menus and shortcuts, in one table-like function.

F1 is Help (the user guide's shortcuts), as in every desktop program; the window presets are
F2..F4. Shortcuts are application-wide so they also work while a floating dock has focus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from cbct_osteo.gui.view_area import LAYOUT_TITLES
from cbct_osteo.gui.window_dialogs import open_about, open_shortcuts

if TYPE_CHECKING:
    from cbct_osteo.gui.main_window import MainWindow


def add_action(window, menu, text: str, slot: Callable, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(lambda checked=False: slot())
    menu.addAction(action)
    return action


def build_menus(w: MainWindow) -> None:
    bar = w.menuBar()
    a = lambda menu, *args, **kw: add_action(w, menu, *args, **kw)  # noqa: E731
    file_menu = bar.addMenu("&File")
    a(
        file_menu,
        "Open &folder…",
        w.loading.choose_folder,
        QKeySequence.StandardKey.Open,
        "Open a folder of DICOM files",
    )
    a(file_menu, "Open file or DICOMDIR…", w.loading.choose_file, "Ctrl+Shift+O", "Open one DICOM file or a DICOMDIR")
    w.recent_menu = file_menu.addMenu("Open &recent")
    a(file_menu, "Open &demo phantom", w.loading.open_demo, "Ctrl+D", "Open the built-in CBCT-like phantom")
    file_menu.addSeparator()
    a(file_menu, "Open &session or landmarks…", w.session.choose_open, "Ctrl+L")
    a(file_menu, "&Save session as…", w.session.choose_save, QKeySequence.StandardKey.Save)
    a(
        file_menu,
        "Restore autosaved &work",
        w.session.restore_latest,
        tip="Bring back the autosaved landmarks of this scan",
    )
    a(
        file_menu,
        "Export &landmarks…",
        w.session.choose_export_landmarks,
        tip="Write the landmarks file the command line reads (cbct-osteo report --landmarks)",
    )
    a(file_menu, "&Export report (PDF)…", w.report.export, "Ctrl+E")
    a(
        file_menu,
        "&Print report…",
        w.report.print_report,
        QKeySequence.StandardKey.Print,
        "Print the report (preview first)",
    )
    file_menu.addSeparator()
    a(file_menu, "Scan &info…", w.show_scan_info, "Ctrl+I", "The scan's key DICOM tags and its limitations")
    file_menu.addSeparator()
    a(file_menu, "&Quit", w.close, QKeySequence.StandardKey.Quit)

    edit = bar.addMenu("&Edit")
    w.undo_action = a(edit, "&Undo", w.placing.undo, QKeySequence.StandardKey.Undo)
    w.redo_action = a(edit, "&Redo", w.placing.redo, "Ctrl+Shift+Z")
    a(edit, "Next step", lambda: w.placing.advance(+1), "N")
    a(edit, "Previous step", lambda: w.placing.advance(-1), "Shift+N")
    a(edit, "Stop placing", lambda: w.placing.activate_step(None), Qt.Key.Key_Escape)
    edit.addSeparator()
    a(
        edit,
        "&Preferences…",
        w.show_preferences,
        QKeySequence.StandardKey.Preferences,
        "Practice name, page size and anonymisation of the report",
    )

    view = bar.addMenu("&View")
    for name, spec in w.loading.presets.items():
        a(view, f"Window: {name}", lambda n=name: w.loading.apply_preset(n), spec.get("key"))
    view.addSeparator()
    group = QActionGroup(w)
    w.layout_actions = {}
    for number, (name, title) in enumerate(LAYOUT_TITLES.items(), start=1):
        action = a(view, f"Layout: {title}", lambda n=name: w.set_layout(n), f"Ctrl+{number}")
        action.setCheckable(True)
        group.addAction(action)
        w.layout_actions[name] = action
    view.addSeparator()

    def reset_3d_camera() -> None:
        w.views.view3d.reset_camera()
        w.views.view3d.render_now()

    w.experimental_action = a(
        view,
        "Show &experimental measurements",
        lambda: w.results_panel.set_show_experimental(w.experimental_action.isChecked()),
        tip="Also list measurements without a validated method (BV/TV), labelled experimental (the report omits them)",
    )
    w.experimental_action.setCheckable(True)
    a(view, "Reset 3D camera", reset_3d_camera)
    for dock in w.docks.values():
        view.addAction(dock.toggleViewAction())

    help_menu = bar.addMenu("&Help")
    w.help_action = a(
        help_menu, "&Help and keyboard shortcuts", lambda: open_shortcuts(w), QKeySequence.StandardKey.HelpContents
    )
    a(help_menu, "&About cbct-osteo", lambda: open_about(w))
