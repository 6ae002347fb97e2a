"""Exporting and printing the PDF report from the GUI, through the same code as ``cbct-osteo report``.

The report is written by :func:`cbct_osteo.report.pdf.write_pdf_report` in a worker with its
own offscreen 3D render (never a grab of the screen's camera), so the GUI's report and the
CLI's are the same document. Export suggests the last folder a report went to, else the
user's Documents (never a hidden cache such as the demo's), names incomplete cases
``…_INCOMPLETE.pdf``, and afterwards offers "Open report" and "Show in folder".
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from cbct_osteo.errors import Cancelled, CbctOsteoError
from cbct_osteo.gui.dialogs import report_options
from cbct_osteo.gui.tasks import Task

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from cbct_osteo.gui.main_window import MainWindow

EXPORT_DIR_KEY = "exportDir"


def documents_folder() -> str:
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())


class ReportController(QObject):
    """File > Export report, File > Print report."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.task: Task | None = None
        self._printer: QPrinter | None = None

    def export_folder(self) -> str:
        """The folder a report last went to (if it still exists), else Documents."""
        folder = str(self.window.settings.value(EXPORT_DIR_KEY, "") or "")
        return folder if folder and Path(folder).is_dir() else documents_folder()

    def suggested_path(self) -> Path:
        from cbct_osteo.report.completeness import INCOMPLETE_SUFFIX, missing_steps
        from cbct_osteo.report.header import default_report_name

        w = self.window
        assert w.state is not None and w.volume is not None  # a report is offered for the case on screen
        suffix = INCOMPLETE_SUFFIX if missing_steps(w.state.landmarks) else ".pdf"
        anonymise = bool(report_options(w.settings)["anonymise"])
        return Path(self.export_folder()) / default_report_name(w.volume.meta, anonymise=anonymise, suffix=suffix)

    def export(self) -> None:
        w = self.window
        if w.volume is None or w.state is None:
            w.show_error_message("No scan", "Open a scan and place the landmarks before exporting a report.")
            return
        name, _ = QFileDialog.getSaveFileName(w, "Export report", str(self.suggested_path()), "PDF (*.pdf)")
        if name:
            self.write(name, self.show_written)

    def write(self, path: str, on_written: Callable[[Path], object] | None = None) -> Task | None:
        """Write the PDF report in a worker, with progress and Cancel in the status bar.

        The practice name, page size and anonymisation come from the Preferences; the cortical
        method (edge-refined or as placed, per measurement) and the site indices are the ones on
        screen. ``on_written(path)`` runs once the file is complete.
        """
        w = self.window
        if w.volume is None or w.state is None:
            return None
        from cbct_osteo.indices import analyse_case
        from cbct_osteo.report.pdf import write_pdf_report

        volume, landmarks, options = w.volume, w.state.model.snapshot(), report_options(w.settings)
        keywords = w.analysis.measuring()  # the method and site indices on screen

        def work(progress, cancel):
            result = analyse_case(volume, landmarks, **keywords)
            return write_pdf_report(result, volume, landmarks, path, progress=progress, cancel=cancel, **options)

        def written(out: Path) -> None:
            w.status_line.end_progress(f"Report written to {out}")
            if on_written is not None:
                on_written(Path(out))

        def failed(exc: Exception) -> None:
            if isinstance(exc, Cancelled):
                w.status_line.end_progress("Report cancelled.")
                return
            w.status_line.end_progress("Report failed.")
            w.show_error_message("Report failed", f"{path}: {exc}")

        def finished() -> None:
            self.task = None

        w.status_line.begin_progress(f"Writing {path}…")
        self.task = w.tasks.run(
            work,
            "Report",
            written,
            failed,
            lambda done, total: w.status_line.progress_step("report", done, total),
            finished,
        )
        return self.task

    def show_written(self, path: Path) -> QMessageBox:
        """Where the report went, with "Open report" and "Show in folder"."""
        w = self.window
        w.remember_export_folder(path)
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Report written",
            f"The report was written to\n{path}",
            QMessageBox.StandardButton.NoButton,
            w,
        )
        box.setObjectName("reportWritten")
        open_report = box.addButton("Open report", QMessageBox.ButtonRole.AcceptRole)
        show_folder = box.addButton("Show in folder", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def clicked(button) -> None:
            if button is open_report:
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
            elif button is show_folder:
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))

        box.buttonClicked.connect(clicked)
        box.open()
        return box

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.window.statusBar().showMessage("Cancelling…")

    # ---- printing
    def print_report(self) -> Path | None:
        """File > Print: write the report (as the export does) to a temporary PDF, then preview and print it.

        Returns the temporary PDF's path (written in a worker; removed when the preview closes).
        """
        w = self.window
        if w.volume is None or w.state is None:
            w.show_error_message("No scan", "Open a scan and place the landmarks before printing a report.")
            return None
        pdf_path = Path(tempfile.mkdtemp(prefix="cbct-osteo-print-")) / "report.pdf"
        self.write(str(pdf_path), self._preview)
        return pdf_path

    def _preview(self, pdf_path: Path) -> None:
        from PySide6.QtGui import QPageSize
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        page = report_options(self.window.settings)["page_size"]
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.Letter if page == "Letter" else QPageSize.PageSizeId.A4))
        preview = QPrintPreviewDialog(printer, self.window)
        preview.setObjectName("printPreview")
        preview.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._printer = printer  # the dialog does not own its printer: keep it alive while it is open
        preview.paintRequested.connect(lambda device: self._paint(device, pdf_path))
        preview.destroyed.connect(lambda *_: shutil.rmtree(pdf_path.parent, ignore_errors=True))
        preview.open()

    def _paint(self, device, pdf_path: Path) -> None:
        from cbct_osteo.gui.printing import paint_pdf

        try:
            paint_pdf(device, pdf_path)
        except CbctOsteoError as exc:
            self.window.show_error_message("Cannot print", str(exc))
