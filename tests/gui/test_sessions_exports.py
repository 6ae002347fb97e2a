"""Issue 16 findings 4, 5, 6, 11; issue 12 items 4-5; issue 18 item 1 (the session restores the whole view)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from pypdf import PdfReader
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QMessageBox

from cbct_osteo.io.landmarks_file import LandmarkSet, read_landmarks
from cbct_osteo.io.session_file import autosave_path

from gui_helpers import WAIT_MS, open_case, settle

pytestmark = pytest.mark.gui


def place_arch(window, phantom_dir, count=None):
    arch = read_landmarks(phantom_dir / "landmarks.json").arch_points
    window.model.set_arch_points(arch[:count] if count else arch)


# --- finding 4: nothing is lost at the restore prompt --------------------------------------------------------
def test_esc_at_the_restore_prompt_keeps_the_autosave_and_a_backup(qtbot, make_window, phantom_dir, data_dir):
    first = make_window()
    open_case(qtbot, first, phantom_dir)
    place_arch(first, phantom_dir)
    saved = autosave_path(first.state.series_uid, first.state.fingerprint)
    content = saved.read_text(encoding="utf-8")
    placed = list(first.model.landmarks.arch_points)
    first.close()

    second = make_window()
    with qtbot.waitSignal(second.caseShown, timeout=WAIT_MS):
        second.loading.open_path(str(phantom_dir))
    qtbot.waitUntil(lambda: second.findChild(QMessageBox, "restoreDialog") is not None, timeout=WAIT_MS)
    box = second.findChild(QMessageBox, "restoreDialog")
    assert {b.text() for b in box.buttons()} >= {"Restore", "Discard", "Decide later"}
    qtbot.keyClick(box, Qt.Key_Escape)
    qtbot.waitUntil(lambda: second.findChild(QMessageBox, "restoreDialog") is None, timeout=5000)
    assert saved.read_text(encoding="utf-8") == content  # Esc discarded nothing
    second.model.set_arch_points(placed[:2])  # the next click overwrites the autosave ...
    backups = list((saved.parent / "backups").glob(f"{saved.stem}-*.json"))
    assert len(backups) == 1 and json.loads(backups[0].read_text())["landmarks"]["arch"]["points"]  # ... after a backup
    assert second.session.restore_latest()
    assert second.model.landmarks.arch_points == placed


def test_landmarks_option_opens_exactly_that_file(qtbot, make_window, phantom_dir, data_dir, tmp_path):
    first = make_window()
    open_case(qtbot, first, phantom_dir)
    place_arch(first, phantom_dir, count=3)  # an autosave with other landmarks exists
    first.close()
    chosen = phantom_dir / "landmarks.json"
    before = chosen.read_bytes()
    window = make_window()
    with qtbot.waitSignal(window.caseShown, timeout=WAIT_MS):
        window.loading.open_path(str(phantom_dir), landmarks=str(chosen))
    settle(qtbot, window)
    assert window.findChild(QMessageBox, "restoreDialog") is None  # no question in between
    assert window.model.landmarks.to_json()["sides"] == read_landmarks(chosen).to_json()["sides"]
    window.model.set_grade("left", "CTCI", "C3")
    assert chosen.read_bytes() == before  # changes go to the autosave, never into the file asked for


# --- issue 18 item 1: a session restores the whole view ----------------------------------------------------------
def test_session_restores_threshold_slices_and_view_settings(qtbot, make_window, phantom_dir, tmp_path):
    window = make_window()
    open_case(qtbot, window, phantom_dir)
    window.model.reset(read_landmarks(phantom_dir / "landmarks.json"))
    settle(qtbot, window)
    window.views.threshold_slider.setValue(window.views.threshold_slider.value() + 60)
    window.views.axial.set_slice(11)
    window.views.coronal.set_slice(40)
    window.views.slab.setValue(4.0)
    window.views.offset.setValue(-1.5)
    window.results_panel.refine.setCurrentIndex(1)
    window.set_layout("panoramic")
    settle(qtbot, window)
    threshold = window.state.view.threshold
    path = tmp_path / "session.json"
    assert window.session.save_session(str(path))

    other = make_window()
    open_case(qtbot, other, phantom_dir)
    assert other.session.open_session(str(path))
    settle(qtbot, other)
    view = other.state.view
    assert view.threshold == pytest.approx(threshold)
    assert other.views.axial.index == 11 and other.views.coronal.index == 40
    assert (view.slab_mm, view.arch_offset_mm, view.refine, view.layout) == (4.0, -1.5, False, "panoramic")
    assert other.views.slab.value() == 4.0 and other.results_panel.refine.currentText() == "as placed"
    assert other.views.threshold_slider.value() == window.views.threshold_slider.value()
    assert other.analysis.last_result.sides["right"].measurements["W"].method == "manual"


# --- findings 5, 6, 11: reports and exports ---------------------------------------------------------------------
def test_incomplete_report_is_watermarked_named_and_has_the_cli_3d_figure(
    qtbot, make_window, phantom_dir, tmp_path, monkeypatch
):
    from PySide6.QtGui import QDesktopServices

    window = make_window()
    open_case(qtbot, window, phantom_dir)
    truth = read_landmarks(phantom_dir / "landmarks.json")
    partial = LandmarkSet(arch_points=truth.arch_points)
    partial.sides["right"].points = {
        k: truth.point("right", k) for k in ("foramen_centre", "border_outer", "border_inner")
    }
    window.model.reset(partial)
    settle(qtbot, window)
    suggested = window.report.suggested_path()
    assert suggested.name.endswith("_INCOMPLETE.pdf")
    assert str(suggested.parent) == QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)  # never the cache
    window.views.view3d.renderer.GetActiveCamera().Zoom(4.0)  # the screen camera must not reach the report
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toLocalFile())))
    out = tmp_path / "gui.pdf"
    window.report.write(str(out), window.report.show_written)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "reportWritten") is not None, timeout=WAIT_MS)
    box = window.findChild(QMessageBox, "reportWritten")
    next(b for b in box.buttons() if b.text() == "Open report").click()
    assert opened == [str(out)]
    assert window.report.export_folder() == str(tmp_path)  # the next export goes to the last-used folder
    pages = [page.extract_text() for page in PdfReader(str(out)).pages]
    assert pages and all("INCOMPLETE" in text for text in pages)
    text = "\n".join(pages)
    assert "border_outer" not in text and "foramen_superior" not in text  # plain words, no internal ids
    assert "Right side: place the upper margin of the mental foramen" in " ".join(text.split())

    from cbct_osteo.indices import analyse_case
    from cbct_osteo.report.pdf import write_pdf_report

    cli = write_pdf_report(analyse_case(window.volume, partial), window.volume, partial, tmp_path / "cli.pdf")

    def images(path):
        return sorted(
            (img.image.size, img.image.tobytes()) for page in PdfReader(str(path)).pages for img in page.images
        )

    gui_images, cli_images = images(out), images(cli)
    assert [s for s, _ in gui_images] == [s for s, _ in cli_images]
    assert gui_images == cli_images  # the same figures, the 3D one included


def test_export_landmarks_and_the_cli_reads_the_session(qtbot, make_window, phantom_dir, tmp_path):
    window = make_window()
    open_case(qtbot, window, phantom_dir)
    window.model.reset(read_landmarks(phantom_dir / "landmarks.json"))
    exported = window.session.export_landmarks(str(tmp_path / "exported.json"))
    assert read_landmarks(exported).to_json()["sides"] == window.model.landmarks.to_json()["sides"]
    session = window.session.save_session(str(tmp_path / "session.json"))
    result = subprocess.run(
        [sys.executable, "-m", "cbct_osteo", "measure", str(phantom_dir), "--landmarks", str(session)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "CTMI" in result.stdout


# --- issue 12 items 4 and 5 ----------------------------------------------------------------------------------------
def test_default_window_follows_calibration_and_scan_warnings_show(qtbot, make_window, phantom_dir):
    from dataclasses import replace

    from cbct_osteo.gui.scan_info import ScanInfoDialog

    window = make_window()
    open_case(qtbot, window, phantom_dir)
    assert "CBCT auto window (uncalibrated" in window.views.axial.bottom_text
    assert window.banner.isVisible() and "not calibrated" in window.banner.text.text()
    window.banner.dismiss.click()
    assert not window.banner.isVisible()
    dialog = window.show_scan_info()
    assert isinstance(dialog, ScanInfoDialog) and "Modality" in dialog.browser.toPlainText()
    assert "not calibrated" in dialog.browser.toPlainText()
    dialog.close()
    volume = window.volume
    hu = type(volume)(volume.voxels, volume.spacing, volume.affine, replace(volume.meta, units="HU"))
    window.show_volume(hu, "hu-scan")
    settle(qtbot, window)
    assert (window.state.view.window, window.state.view.level) == (2000.0, 500.0)
    assert "bone window (HU)" in window.views.axial.bottom_text
    assert not window.banner.isVisible() or "not calibrated" not in window.banner.text.text()
    assert np.isfinite(window.value_range)
