"""The workflow panel's CTCI reference pictures and trabecular-ROI controls, driven as a user would."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from cbct_osteo.gui.sketches import CTCI_DEFINITIONS, ctci_sketch
from cbct_osteo.io.landmarks_file import read_landmarks
from cbct_osteo.io.session_file import autosave_path

from gui_helpers import open_case, settle

pytestmark = pytest.mark.gui


def step(window, side, kind):
    return next(s for s in window.workflow_panel.steps if s.side == side and s.kind == kind)


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].copy()


def test_ctci_reference_pictures_differ_and_show_in_the_grade_step(qtbot, make_window):
    pictures = {grade: _pixels(ctci_sketch(grade, 120, 80).toImage()) for grade in CTCI_DEFINITIONS}
    for grade, pixels in pictures.items():
        assert pixels.std() > 20, grade  # a drawing, not a blank fill
    assert not np.array_equal(pictures["C1"], pictures["C2"])
    assert not np.array_equal(pictures["C2"], pictures["C3"])
    # C1's endosteal margin is even: fewer bone/background transitions along its rows than C3's porous cortex
    edges = {g: int(np.abs(np.diff(p[:, ::3].astype(int), axis=1)).sum()) for g, p in pictures.items()}
    assert edges["C1"] < edges["C2"] < edges["C3"]

    window = make_window()
    panel = window.workflow_panel
    assert not panel.ctci_references.isVisible()
    grade_step = next(s for s in panel.steps if s.what == "grade" and s.side == "left")
    window.placing.activate_step(grade_step)
    assert panel.ctci_references.isVisible() and panel.grade.isVisible()
    for grade, definition in CTCI_DEFINITIONS.items():
        assert panel.ctci_labels[grade].isVisible() and panel.ctci_labels[grade].text() == definition
        assert not panel.ctci_pixmap(grade).isNull()
    assert "even, sharp endosteal margin" in panel.ctci_labels["C1"].text()
    window.placing.activate_step(next(s for s in panel.steps if s.what == "arch"))
    assert not panel.ctci_references.isVisible()


def test_clicking_a_ctci_picture_grades_the_side(qtbot, make_window, phantom_dir):
    window = make_window()
    open_case(qtbot, window, phantom_dir)
    panel = window.workflow_panel
    window.placing.activate_step(next(s for s in panel.steps if s.what == "grade" and s.side == "right"))
    qtbot.mouseClick(panel.ctci_buttons["C3"], Qt.LeftButton)
    assert window.model.landmarks.grades["right"]["CTCI"] == "C3"
    assert panel.grade.currentText() == "C3" and panel.ctci_buttons["C3"].isChecked()
    assert not panel.ctci_buttons["C1"].isChecked()


def test_roi_size_and_shape_controls_edit_the_model(qtbot, make_window, phantom_dir):
    truth = read_landmarks(phantom_dir / "landmarks.json")
    window = make_window()
    open_case(qtbot, window, phantom_dir)
    window.model.reset(truth)
    settle(qtbot, window)
    before = window.analysis.last_result.sides["left"].indices["TRAB_MEAN"]
    panel = window.workflow_panel
    assert not panel.roi_controls.isVisible()
    window.placing.activate_step(step(window, "left", "trab_roi"))
    assert panel.roi_controls.isVisible()
    assert panel.roi_size.minimum() == 2.0 and panel.roi_size.maximum() == 10.0 and panel.roi_size.singleStep() == 0.5
    assert panel.roi_size.value() == truth.sides["left"].trab_roi.size_mm

    panel.roi_size.setValue(3.0)
    assert window.model.roi("left").size_mm == 3.0
    panel.roi_shape.setCurrentIndex(panel.roi_shape.findText("circle"))
    assert window.model.roi("left").shape == "circle"
    assert window.model.roi("right").size_mm == truth.sides["right"].trab_roi.size_mm  # the other side untouched
    saved = json.loads(
        autosave_path(window.volume.meta.series_uid, window.state.fingerprint).read_text(encoding="utf-8")
    )
    assert "3.0" in json.dumps(saved) and "circle" in json.dumps(saved)
    settle(qtbot, window)
    after = window.analysis.last_result.sides["left"].indices["TRAB_MEAN"]
    assert after.value != before.value  # recomputed on the smaller, round ROI

    window.placing.undo()
    assert window.model.roi("left").shape == "square" and window.model.roi("left").size_mm == 3.0
    assert panel.roi_shape.currentText() == "square"
    window.placing.undo()
    assert window.model.roi("left").size_mm == truth.sides["left"].trab_roi.size_mm
    assert panel.roi_size.value() == truth.sides["left"].trab_roi.size_mm


def test_roi_is_placed_with_the_chosen_size_and_shape(qtbot, make_window, phantom_dir):
    truth = read_landmarks(phantom_dir / "landmarks.json")
    window = make_window()
    open_case(qtbot, window, phantom_dir)
    roi_step = step(window, "right", "trab_roi")
    window.placing.activate_step(roi_step)
    window.workflow_panel.roi_size.setValue(7.5)
    window.workflow_panel.roi_shape.setCurrentIndex(window.workflow_panel.roi_shape.findText("circle"))
    assert window.model.roi("right") is None
    window.placing.place(roi_step, np.asarray(truth.sides["right"].trab_roi.centre))
    roi = window.model.roi("right")
    assert roi.size_mm == 7.5 and roi.shape == "circle"
