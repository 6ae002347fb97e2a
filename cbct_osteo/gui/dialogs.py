"""Dialogs: readable errors, the series picker, preferences, About, keyboard shortcuts, crash hook.

Every dialog here is opened with ``open()`` (window-modal, non-blocking): the event loop keeps
running, tests can find the box and press its buttons, and a slow load behind it keeps
reporting progress.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TypedDict

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cbct_osteo import __version__
from cbct_osteo.io.discovery import SeriesInfo

log = logging.getLogger(__name__)


def show_error(parent: QWidget | None, title: str, text: str, details: str = "") -> QMessageBox:
    """A non-blocking error box; ``text`` is the user-facing message (names the file)."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if details:
        box.setDetailedText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def ask(
    parent: QWidget,
    title: str,
    text: str,
    on_yes: Callable[[], None],
    on_no: Callable[[], None] | None = None,
    name: str = "question",
) -> QMessageBox:
    """A non-blocking Yes/No question; the callbacks run when the user answers."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent
    )
    box.setObjectName(name)
    box.setDefaultButton(QMessageBox.StandardButton.Yes)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def finished(result: int) -> None:
        if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
            on_yes()
        elif on_no is not None:
            on_no()

    box.finished.connect(finished)
    box.open()
    return box


def install_excepthook(parent_getter: Callable[[], QWidget | None]) -> None:
    """Show unexpected exceptions in a dialog (with the traceback under Details) and log them.

    Qt swallows exceptions raised in slots after printing them; without this hook a bug would be
    invisible to the dentist, or worse, a traceback in a terminal nobody reads.
    """

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unexpected error:\n%s", details)
        if QApplication.instance() is not None:
            show_error(
                parent_getter(),
                "Unexpected error",
                f"Something went wrong: {exc}\n\n"
                "Your landmarks are autosaved. Please report this with the details below.",
                details,
            )

    sys.excepthook = hook


class SeriesPicker(QDialog):
    """Choose one of several series found under a path: size, spacing, description, problems."""

    def __init__(self, series: Sequence[SeriesInfo], source: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("seriesPicker")
        self.setWindowTitle("Choose a series")
        self.series = list(series)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{source} holds {len(self.series)} series. Choose the CBCT volume to open:"))
        headers = ["Description", "Modality", "Slices", "Size (rows × cols)", "Spacing z/y/x (mm)", "Problems"]
        self.table = QTableWidget(len(self.series), len(headers), self)
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, info in enumerate(self.series):
            spacing = " / ".join(f"{s:.3g}" for s in getattr(info, "spacing", ()) or ())
            cells = [
                getattr(info, "description", "") or "(no description)",
                getattr(info, "modality", ""),
                str(getattr(info, "n_slices", "")),
                f"{getattr(info, 'rows', '?')} × {getattr(info, 'columns', '?')}",
                spacing,
                "; ".join(getattr(info, "problems", []) or []),
            ]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        best = (
            max(range(len(self.series)), key=lambda i: getattr(self.series[i], "n_slices", 0) or 0)
            if self.series
            else 0
        )
        self.table.selectRow(best)
        self.table.doubleClicked.connect(self.accept)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(820, 320)

    def chosen(self) -> SeriesInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.series[rows[0].row()] if rows else None


SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Ctrl+O", "Open a DICOM folder"),
    ("Ctrl+Shift+O", "Open a DICOM file or DICOMDIR"),
    ("Ctrl+D", "Open the demo phantom"),
    ("Ctrl+S", "Save session as…"),
    ("Ctrl+L", "Open a session or landmarks file"),
    ("Ctrl+E", "Export the report (PDF)"),
    ("Ctrl+P", "Print the report"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo the last landmark action"),
    ("Wheel, PgUp/PgDn, ↑/↓", "Scroll slices; in the cross-section: step along the arch"),
    ("Ctrl+wheel", "Zoom about the cursor"),
    ("Right-drag", "Window/level"),
    ("Shift+drag, middle-drag", "Pan"),
    ("R", "Reset zoom and pan of the view under the cursor (keys go to the view under the cursor)"),
    ("F1", "This help"),
    ("F2 / F3 / F4", "Window presets: bone / soft tissue / CBCT auto"),
    ("Ctrl+1 / Ctrl+2 / Ctrl+3", "Layouts: 2 × 2 / 1 × 3 slices / large panoramic"),
    ("Ctrl+I", "Scan info (key tags and limitations)"),
    ("N / Shift+N", "Next / previous guided step"),
    ("Esc", "Stop placing (clicks move the crosshair)"),
)


def shortcuts_text() -> str:
    rows = "".join(f"<tr><td><b>{keys}</b></td><td>&nbsp;&nbsp;{what}</td></tr>" for keys, what in SHORTCUTS)
    return f"<table>{rows}</table>"


ABOUT_TEXT = f"""<h3>cbct-osteo {__version__}</h3>
<p>Opportunistic osteoporosis screening on dental cone-beam CT: landmarks at the mental
foramen, published mandibular indices, a screening category and a PDF report.</p>
<p><b>A screening aid, not a diagnosis.</b> Cutoffs come from the cited study populations
(mostly postmenopausal women); DXA is the reference standard.</p>
<p>Indices and methods from:</p>
<ul>
<li>Poiana IR et al. CBCT panoramic mandibular indices in the screening of postmenopausal women with low bone mass.
Dent J 2024;12:256.</li>
<li>Koh KJ, Kim KA. Utility of the CT indices on CBCT images in the diagnosis of osteoporosis in women.
Imaging Sci Dent 2011.</li>
<li>Brasileiro CB et al. Use of CBCT in identifying postmenopausal women with osteoporosis.
Arch Osteoporos 2017;12:26.</li>
<li>Gonçalves Koehne de Castro J et al. A new CBCT-driven index for osteoporosis prediction.
Clin Oral Investig 2020;24:3193–3202.</li>
<li>Klemetti E et al. Pantomography in assessment of the osteoporosis risk group. Scand J Dent Res 1994;102:68–72.</li>
<li>White SC, Rudolph DJ. Alterations of the trabecular pattern of the jaws in patients with osteoporosis.
OOOOE 1999;88:628–35.</li>
<li>Treece GM et al. High resolution cortical bone thickness measurement from clinical CT data.
Med Image Anal 2010;14:276–290.</li>
</ul>
<p>Built with PySide6 (Qt), VTK, NumPy, SciPy, scikit-image and pydicom. BSD-3-Clause licence.</p>"""


#: QSettings keys of the report preferences.
PRACTICE_NAME_KEY = "report/practiceName"
PAGE_SIZE_KEY = "report/pageSize"  # "auto", "A4" or "Letter"
ANONYMISE_KEY = "report/anonymise"
PAGE_SIZE_CHOICES: tuple[tuple[str, str], ...] = (
    ("auto", "Auto (from the locale)"),
    ("A4", "A4"),
    ("Letter", "Letter"),
)


class ReportOptions(TypedDict):
    """The report preferences, named as :func:`cbct_osteo.report.pdf.write_pdf_report`'s keywords."""

    practice_name: str
    page_size: str
    anonymise: bool


def report_options(settings: QSettings) -> ReportOptions:
    """The report preferences as :func:`cbct_osteo.report.pdf.write_pdf_report` keywords.

    ``page_size`` "auto" resolves to A4 or Letter from the locale at the time of writing.
    """
    from cbct_osteo.report.page import default_page_size

    page_size = str(settings.value(PAGE_SIZE_KEY, "auto"))
    if page_size not in ("A4", "Letter"):
        page_size = default_page_size()
    return {
        "practice_name": str(settings.value(PRACTICE_NAME_KEY, "") or ""),
        "page_size": page_size,
        "anonymise": _as_bool(settings.value(ANONYMISE_KEY, False)),
    }


def _as_bool(value: object) -> bool:
    # INI-backed QSettings give strings back ("true"/"false").
    return value is True or str(value).lower() in ("true", "1")


class PreferencesDialog(QDialog):
    """Edit > Preferences: the report's practice name, page size and anonymisation; the site-index files."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self.settings = settings
        form = QFormLayout()
        self.practice_name = QLineEdit(str(settings.value(PRACTICE_NAME_KEY, "") or ""))
        self.practice_name.setPlaceholderText("Printed at the top of every report")
        form.addRow("Practice name", self.practice_name)
        self.page_size = QComboBox()
        for key, label in PAGE_SIZE_CHOICES:
            self.page_size.addItem(label, key)
        index = self.page_size.findData(str(settings.value(PAGE_SIZE_KEY, "auto")))
        self.page_size.setCurrentIndex(max(index, 0))
        form.addRow("Report page size", self.page_size)
        self.anonymise = QCheckBox("Anonymise reports (no name, ID or birth date; pseudonymous file name)")
        self.anonymise.setChecked(_as_bool(settings.value(ANONYMISE_KEY, False)))
        form.addRow(self.anonymise)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self._build_site_indices())
        layout.addWidget(buttons)

    def _build_site_indices(self) -> QWidget:
        """The site-index files (``cbct-osteo validate --write-index``) scored with the catalogue."""
        from cbct_osteo.gui.site_indices import site_index_files

        box = QGroupBox("Site indices (from cbct-osteo validate --write-index)", self)
        column = QVBoxLayout(box)
        self.site_files = QListWidget(box)
        self.site_files.setObjectName("siteIndexFiles")
        self.site_files.addItems(site_index_files(self.settings))
        self.site_files.setToolTip("Each file adds its index to the results and the report, under its own name")
        column.addWidget(self.site_files)
        self.site_message = QLabel("", box)
        self.site_message.setObjectName("siteIndexMessage")
        self.site_message.setWordWrap(True)
        self.site_message.setStyleSheet("color: #c0392b;")
        column.addWidget(self.site_message)
        row = QHBoxLayout()
        add = QPushButton("Add…", box)
        add.clicked.connect(self.choose_site_file)
        remove = QPushButton("Remove", box)
        remove.clicked.connect(self.remove_site_file)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        column.addLayout(row)
        return box

    def choose_site_file(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name, _ = QFileDialog.getOpenFileName(self, "Add a site index", "", "Index definition (*.toml)")
        if name:
            self.add_site_file(name)

    def add_site_file(self, path: str) -> bool:
        """Add ``path`` if it reads as an index definition; otherwise say why, naming the file."""
        from cbct_osteo.errors import CbctOsteoError
        from cbct_osteo.indices.definition_file import load_index_file

        try:
            entry = load_index_file(path)
        except CbctOsteoError as exc:
            self.site_message.setText(str(exc))
            return False
        self.site_message.setText(f"{entry.id} ({entry.name}) added: {entry.cutoff.note if entry.cutoff else ''}")
        if path not in self.site_file_list():
            self.site_files.addItem(path)
        return True

    def remove_site_file(self) -> None:
        for item in self.site_files.selectedItems():
            self.site_files.takeItem(self.site_files.row(item))

    def site_file_list(self) -> list[str]:
        return [self.site_files.item(i).text() for i in range(self.site_files.count())]

    def accept(self) -> None:
        from cbct_osteo.gui.site_indices import set_site_index_files

        self.settings.setValue(PRACTICE_NAME_KEY, self.practice_name.text().strip())
        self.settings.setValue(PAGE_SIZE_KEY, self.page_size.currentData())
        self.settings.setValue(ANONYMISE_KEY, self.anonymise.isChecked())
        set_site_index_files(self.settings, self.site_file_list())
        self.settings.sync()
        super().accept()
