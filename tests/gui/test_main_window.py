"""The main window driven like a user would: open, click landmarks, read the results, undo, sessions.

Real widgets under Xvfb (pytest-qt). Clicks go to the views at the screen positions of the
phantom's true landmarks, so the indices shown must equal those the catalogue computes from truth.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from cbct_osteo.io.landmarks_file import read_landmarks
from cbct_osteo.io.session_file import Session, write_session

from gui_helpers import WAIT_MS, cancel_at_first_progress, open_case, settle

pytestmark = pytest.mark.gui


def click(qtbot, view, xyz) -> None:
    x, y = view.patient_to_widget(np.asarray(xyz, float))
    qtbot.mouseClick(view, Qt.LeftButton, pos=QPoint(int(round(x)), int(round(y))))


def step(window, side, kind):
    return next(s for s in window.workflow_panel.steps if s.side == side and s.kind == kind)


def test_guided_workflow_by_clicks_gives_the_catalogue_results(qtbot, make_window, phantom_dir, tmp_path):
    from cbct_osteo.indices import analyse_case

    truth = read_landmarks(phantom_dir / "landmarks.json")
    window = make_window()
    open_case(qtbot, window, phantom_dir)
    assert window.volume is not None and window.views.axial.image is not None
    assert window.views.view3d._surface_actor is not None  # the mandible surface was built

    # Arch: the first step is active; click the true arch points on the axial slice through them.
    assert window.workflow_panel.active.kind == "arch"
    window.set_crosshair(np.asarray(truth.arch_points[0]))
    for point in truth.arch_points:
        click(qtbot, window.views.axial, point)
    assert len(window.model.landmarks.arch_points) == len(truth.arch_points)
    qtbot.waitUntil(lambda: window.reformat.panoramic_image is not None, timeout=WAIT_MS)

    for side in ("left", "right"):
        window.placing.activate_step(step(window, side, "foramen_centre"))
        click(qtbot, window.views.panoramic_view, truth.point(side, "foramen_centre"))
        # the panoramic click jumps the cross-section to it; the step stays until it is centred there
        assert window.workflow_panel.active.kind == "foramen_centre"
        click(qtbot, window.views.cross_view, truth.point(side, "foramen_centre"))
        assert window.workflow_panel.active.kind == "foramen_superior"
        for kind in ("foramen_superior", "foramen_inferior", "border_outer", "border_inner"):
            window.placing.activate_step(step(window, side, kind))
            click(qtbot, window.views.cross_view, truth.point(side, kind))
        window.placing.activate_step(step(window, side, "trab_roi"))
        click(qtbot, window.views.cross_view, truth.sides[side].trab_roi.centre)
        placed = window.model.landmarks
        for kind in ("foramen_centre", "foramen_superior", "foramen_inferior", "border_outer", "border_inner"):
            assert np.linalg.norm(np.subtract(placed.point(side, kind), truth.point(side, kind))) < 0.6, (side, kind)

    assert "CTCI grade" in window.workflow_panel.summary.text()  # grades are steps too: not "all done" yet
    for side in ("left", "right"):
        window.placing.grade_chosen(side, "CTCI", "C1")
    assert "All steps done" in window.workflow_panel.summary.text()
    settle(qtbot, window)
    shown = window.analysis.last_result
    expected = analyse_case(window.volume, truth)
    for index_id in ("CTMI", "CTI_S", "CTI_I"):
        for side in ("left", "right"):
            got, want = shown.sides[side].indices[index_id], expected.sides[side].indices[index_id]
            assert got.value == pytest.approx(want.value, rel=0.05), (side, index_id)
        assert window.results_panel.cell_text(index_id, "Mean") not in ("", "–")
        category = expected.mean[index_id].category
        assert window.results_panel.cell_text(index_id, "Category") == window.results_panel.CATEGORY_WORDS.get(
            category, category
        )
    assert shown.screening.result == expected.screening.result
    assert window.results_panel.screening.text()

    # Export report: the same call as the button, written in a worker
    report = tmp_path / "report.pdf"
    window.report.write(str(report))
    settle(qtbot, window)
    assert report.read_bytes()[:5] == b"%PDF-"


def test_undo_redo_with_keyboard(qtbot, make_window, phantom_dir):
    truth = read_landmarks(phantom_dir / "landmarks.json")
    window = make_window()
    open_case(qtbot, window, phantom_dir)
    window.set_crosshair(np.asarray(truth.arch_points[0]))
    for point in truth.arch_points[:3]:
        click(qtbot, window.views.axial, point)
    assert len(window.model.landmarks.arch_points) == 3
    window.activateWindow()  # keyboard shortcuts need the window focused, as when a user types
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.views.axial.setFocus()
    qtbot.keyClick(window.views.axial, Qt.Key_Z, Qt.ControlModifier)
    assert len(window.model.landmarks.arch_points) == 2
    qtbot.keyClick(window.views.axial, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert len(window.model.landmarks.arch_points) == 3


def test_autosave_restores_after_window_is_destroyed(qtbot, make_window, phantom_dir, data_dir):
    truth = read_landmarks(phantom_dir / "landmarks.json")
    first = make_window()
    open_case(qtbot, first, phantom_dir)
    first.set_crosshair(np.asarray(truth.arch_points[0]))
    for point in truth.arch_points:
        click(qtbot, first.views.axial, point)
    placed = list(first.model.landmarks.arch_points)
    assert list((data_dir / "autosave").glob("*.json"))  # written after every change, no Save needed
    first.deleteLater()  # gone without saving: no close, no Save
    qtbot.waitUntil(lambda: not shiboken6.isValid(first), timeout=5000)

    second = make_window()
    with qtbot.waitSignal(second.caseShown, timeout=WAIT_MS):
        second.loading.open_path(str(phantom_dir))
    qtbot.waitUntil(lambda: second.findChild(QMessageBox, "restoreDialog") is not None, timeout=WAIT_MS)
    box = second.findChild(QMessageBox, "restoreDialog")
    next(b for b in box.buttons() if b.text() == "Restore").click()
    assert second.model.landmarks.arch_points == placed


def test_session_from_another_scan_is_refused(qtbot, make_window, phantom_dir, tmp_path):
    window = make_window()
    open_case(qtbot, window, phantom_dir)
    other = tmp_path / "other.json"
    write_session(Session(series_uid=window.volume.meta.series_uid, volume_fingerprint="0" * 32), other)
    with qtbot.waitSignal(window.errorShown, timeout=5000) as shown:
        assert window.session.open_session(str(other)) is False
    assert "other.json" in shown.args[0] and "different scan" in shown.args[0]
    assert window.findChild(QMessageBox, "errorDialog") is not None


def test_broken_file_shows_a_readable_error(qtbot, make_window, tmp_path):
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"this is not DICOM" * 10)
    window = make_window()
    with qtbot.waitSignal(window.errorShown, timeout=WAIT_MS) as shown:
        window.loading.open_path(str(broken))
    assert "broken.dcm" in shown.args[0]
    assert "Traceback" not in shown.args[0]
    box = window.findChild(QMessageBox, "errorDialog")
    assert box is not None and "broken.dcm" in box.text()
    assert window.volume is None


def test_cancel_stops_a_load(qtbot, make_window, phantom_dir):
    window = make_window()
    cancel_at_first_progress(
        qtbot, window, "load", cancel=window.loading.cancel, start=lambda: window.loading.open_path(str(phantom_dir))
    )
    assert window.volume is None
    assert "cancelled" in window.statusBar().currentMessage().lower()


def test_screenshot_command_writes_a_real_image(phantom_dir, tmp_path, data_dir):
    out = tmp_path / "shot.png"
    result = subprocess.run(
        [sys.executable, "-m", "cbct_osteo", "gui", str(phantom_dir), "--screenshot", str(out), "--view", "3d"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert image.width() > 800 and image.height() > 600
    pixels = np.frombuffer(image.convertToFormat(QImage.Format_Grayscale8).constBits(), np.uint8)
    assert pixels.std() > 20 and 20 < pixels.mean() < 235  # not black, not blank
