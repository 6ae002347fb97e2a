"""Opening the main window's own dialogs: Preferences, Scan info, Help (shortcuts) and About.

Each opens window-modal and non-blocking (``open()``, see dialogs.py), deletes itself when
closed, and is returned so tests can drive it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from cbct_osteo import __version__
from cbct_osteo.gui.dialogs import ABOUT_TEXT, PreferencesDialog, shortcuts_text
from cbct_osteo.gui.scan_info import ScanInfoDialog

if TYPE_CHECKING:
    from cbct_osteo.gui.main_window import MainWindow


def open_preferences(window: MainWindow) -> PreferencesDialog:
    dialog = PreferencesDialog(window.settings, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.accepted.connect(window.analysis.timer.start)  # the site indices may have changed
    dialog.open()
    return dialog


def open_scan_info(window: MainWindow) -> ScanInfoDialog | None:
    """The scan's key DICOM tags and limitations; None while no scan is open."""
    if window.volume is None:
        return None
    dialog = ScanInfoDialog(window.volume, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def open_shortcuts(window: MainWindow) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Information,
        "Help and keyboard shortcuts",
        "<p>The user guide (docs/user-guide.md) explains every step. Keys:</p>" + shortcuts_text(),
        QMessageBox.StandardButton.Ok,
        window,
    )
    box.setObjectName("helpDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def open_about(window: MainWindow) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.NoIcon, f"About cbct-osteo {__version__}", ABOUT_TEXT, QMessageBox.StandardButton.Ok, window
    )
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
