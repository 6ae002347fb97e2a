"""Preferences, export, cancel and printing of the report from the main window."""

from __future__ import annotations

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QDialogButtonBox

from cbct_osteo.io.landmarks_file import read_landmarks

from gui_helpers import WAIT_MS, cancel_at_first_progress, settle

pytestmark = pytest.mark.gui
LETTER_WIDTH_PT = 612.0


@pytest.fixture
def case_window(qtbot, make_window, phantom_dir):
    """A window showing the phantom with its true landmarks placed."""
    window = make_window()
    with qtbot.waitSignal(window.caseShown, timeout=WAIT_MS):
        window.loading.open_path(str(phantom_dir))
    settle(qtbot, window)
    window.model.reset(read_landmarks(phantom_dir / "landmarks.json"))
    settle(qtbot, window)
    return window


def write(qtbot, window, path) -> None:
    with qtbot.waitSignal(
        window.statusBar().messageChanged,
        timeout=WAIT_MS,
        check_params_cb=lambda text: text.startswith("Report written"),
    ):
        window.report.write(str(path))
    settle(qtbot, window)


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def test_preferences_reach_the_exported_report(qtbot, case_window, tmp_path):
    window = case_window
    patient = window.volume.meta.patient_name
    assert patient  # the phantom carries a (fake) name, so anonymisation can be checked

    dialog = window.show_preferences()
    dialog.practice_name.setText("Praxis Dr. Quillfeather")
    dialog.page_size.setCurrentIndex(dialog.page_size.findData("Letter"))
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok).click()
    assert window.settings.value("report/practiceName") == "Praxis Dr. Quillfeather"

    report = tmp_path / "named.pdf"
    write(qtbot, window, report)
    reader = PdfReader(str(report))
    assert float(reader.pages[0].mediabox.width) == pytest.approx(LETTER_WIDTH_PT, abs=1)
    text = pdf_text(report)
    assert "Praxis Dr. Quillfeather" in text
    assert str(patient).split("^")[0] in text

    dialog = window.show_preferences()
    assert dialog.practice_name.text() == "Praxis Dr. Quillfeather"  # reopened with the stored values
    dialog.anonymise.setChecked(True)
    dialog.page_size.setCurrentIndex(dialog.page_size.findData("A4"))
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok).click()
    anonymous = tmp_path / "anonymous.pdf"
    write(qtbot, window, anonymous)
    assert float(PdfReader(str(anonymous)).pages[0].mediabox.width) == pytest.approx(595.3, abs=1)
    text = pdf_text(anonymous)
    assert "Praxis Dr. Quillfeather" in text
    assert str(patient).split("^")[0] not in text


def test_cancel_stops_the_report(qtbot, case_window, tmp_path):
    window = case_window
    report = tmp_path / "cancelled.pdf"
    cancel_at_first_progress(
        qtbot, window, "report", cancel=window.cancel_button.click, start=lambda: window.report.write(str(report))
    )
    assert not report.exists()
    assert "cancelled" in window.statusBar().currentMessage().lower()
    assert not window.cancel_button.isVisible()


def test_paint_pdf_prints_every_report_page(qtbot, case_window, tmp_path):
    from PySide6.QtPrintSupport import QPrinter

    from cbct_osteo.gui.printing import paint_pdf

    report = tmp_path / "report.pdf"
    write(qtbot, case_window, report)
    printed = tmp_path / "printed.pdf"
    printer = QPrinter(QPrinter.HighResolution)
    printer.setOutputFormat(QPrinter.PdfFormat)
    printer.setOutputFileName(str(printed))
    pages = paint_pdf(printer, report, max_dpi=100)
    expected = len(PdfReader(str(report)).pages)
    assert pages == expected >= 1
    assert len(PdfReader(str(printed)).pages) == expected
    assert printed.stat().st_size > 20_000 * expected  # page images, not blank pages


def test_print_report_opens_a_preview_of_the_report(qtbot, case_window):
    from PySide6.QtPrintSupport import QPrintPreviewDialog, QPrintPreviewWidget

    window = case_window
    pdf_path = window.report.print_report()
    qtbot.waitUntil(lambda: window.findChild(QPrintPreviewDialog, "printPreview") is not None, timeout=WAIT_MS)
    preview = window.findChild(QPrintPreviewDialog, "printPreview")
    qtbot.waitUntil(preview.isVisible, timeout=WAIT_MS)
    pages = preview.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: pages.pageCount() > 0, timeout=WAIT_MS)
    assert pages.pageCount() == len(PdfReader(str(pdf_path)).pages)
    preview.close()
    qtbot.waitUntil(lambda: not pdf_path.parent.exists(), timeout=10_000)  # the temporary PDF is cleaned up
