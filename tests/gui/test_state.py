"""The Qt-free case state: one object that saves and restores as a session; undo items say what they do."""

from __future__ import annotations

from cbct_osteo.gui.state import CaseState, ViewSettings
from cbct_osteo.io.session_file import read_session, write_session


def test_state_round_trips_through_a_session_file(tmp_path):
    state = CaseState.new("1.2.3", "f" * 32, "/scans/x")
    state.model.set_arch_points([(0.0, 0.0, 0.0), (10.0, 5.0, 0.0), (20.0, 0.0, 0.0)])
    state.model.set_point("right", "border_outer", (1.0, 2.0, 3.0))
    state.view = ViewSettings(
        window=2000.0,
        level=500.0,
        window_name="bone window (HU)",
        slices={"axial": 12},
        cross_section_s_mm=31.5,
        cross_section_centre_z_mm=-4.0,
        threshold=612.0,
        clip=False,
        slab_mm=5.0,
        arch_offset_mm=-2.0,
        panoramic_height_mm=45.0,
        refine=False,
        layout="panoramic",
        active_step=("right", "border_inner"),
    )
    path = write_session(state.session(), tmp_path / "s.json")
    other = CaseState.new("1.2.3", "f" * 32)
    other.restore(read_session(path))
    assert other.view == state.view
    assert other.landmarks.to_json() == state.landmarks.to_json()
    assert other.model.undo_text == "replace all landmarks"  # restoring is one labelled undo step


def test_malformed_settings_keep_the_defaults():
    view = ViewSettings.from_json(
        {"window": "wide", "layout": "9x9", "slices": [1, 2], "threshold": None, "active_step": "nonsense"}
    )
    assert view.window == ViewSettings().window and view.layout == "2x2" and view.slices == {}
    assert view.threshold is None and view.active_step is None


def test_undo_texts_name_the_landmark_and_the_verb():
    state = CaseState.new("1", "2")
    model = state.model
    model.set_point("right", "foramen_centre", (0.0, 0.0, 0.0))
    assert model.undo_text == "place Right: foramen centre"
    model.set_point("right", "foramen_centre", (1.0, 0.0, 0.0))
    assert model.undo_text == "move Right: foramen centre"
    model.set_grade("left", "CTCI", "C2")
    assert model.undo_text == "set Left: CTCI grade"
    with model.group("auto arch"):
        model.set_arch_points([(0.0, 0.0, 0.0)] * 3)
    assert model.undo_text == "auto arch"
    model.undo()
    assert model.redo_text == "auto arch" and model.undo_text == "set Left: CTCI grade"
