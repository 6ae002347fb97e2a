"""Undo/redo, grouping, bounded history and observers of the landmark model."""

from __future__ import annotations

import pytest

from cbct_osteo.io.landmarks_file import LandmarkSet, TrabecularRoi
from cbct_osteo.measure.landmark_model import ChangeEvent, LandmarkModel


@pytest.fixture
def model_and_events():
    model = LandmarkModel()
    events: list[ChangeEvent] = []
    model.subscribe(events.append)
    return model, events


def test_place_move_delete_with_undo_redo(model_and_events):
    model, events = model_and_events
    model.set_point("left", "foramen_centre", (20.0, -10.0, 0.0))
    model.set_point("left", "foramen_centre", (21.0, -10.0, 0.0))
    model.delete_point("left", "foramen_centre")
    assert model.point("left", "foramen_centre") is None
    assert model.undo() and model.point("left", "foramen_centre") == (21.0, -10.0, 0.0)
    assert model.undo() and model.point("left", "foramen_centre") == (20.0, -10.0, 0.0)
    assert model.undo() and model.point("left", "foramen_centre") is None
    assert not model.undo() and not model.can_undo
    assert model.redo() and model.point("left", "foramen_centre") == (20.0, -10.0, 0.0)
    assert [e.source for e in events] == ["edit"] * 3 + ["undo"] * 3 + ["redo"]
    assert all(e.kind == "point" and e.side == "left" and e.landmark == "foramen_centre" for e in events)


def test_new_edit_clears_redo(model_and_events):
    model, _ = model_and_events
    model.set_point("right", "border_outer", (-20, -5, -16))
    model.undo()
    assert model.can_redo
    model.set_point("right", "border_inner", (-20, -5, -13))
    assert not model.can_redo and not model.redo()


def test_drag_is_one_history_item_but_every_move_is_shown(model_and_events):
    model, events = model_and_events
    model.set_point("left", "border_inner", (20, 0, -14))
    path = [(20, 0, -14 + 0.1 * k) for k in range(1, 11)]
    with model.group():  # as the views do between mouse press and release
        for position in path:
            model.set_point("left", "border_inner", position)
    assert len(events) == 11  # a view follows the drag live
    assert model.point("left", "border_inner") == pytest.approx(path[-1])
    model.undo()
    assert model.point("left", "border_inner") == (20.0, 0.0, -14.0)
    assert events[-1] == ChangeEvent("point", "left", "border_inner", "undo")  # one event for the whole drag
    model.redo()
    assert model.point("left", "border_inner") == pytest.approx(path[-1])


def test_nested_groups_and_manual_begin_end():
    model = LandmarkModel()
    model.begin_group()
    model.set_point("left", "foramen_superior", (1, 1, 1))
    with model.group():
        model.set_point("left", "foramen_inferior", (1, 1, 0))
    assert not model.undo()  # no undo while a drag is in progress
    model.end_group()
    assert model.undo()
    assert model.point("left", "foramen_superior") is None and model.point("left", "foramen_inferior") is None
    with pytest.raises(RuntimeError):
        model.end_group()


def test_empty_group_and_no_op_leave_no_history():
    model = LandmarkModel()
    with model.group():
        pass
    model.delete_point("left", "foramen_centre")  # nothing to delete
    assert not model.can_undo


def test_history_is_bounded():
    model = LandmarkModel(max_history=5)
    for k in range(12):
        model.set_point("left", "foramen_centre", (k, 0, 0))
    undone = 0
    while model.undo():
        undone += 1
    assert undone == 5
    assert model.point("left", "foramen_centre") == (6.0, 0.0, 0.0)


def test_roi_arch_and_grade_edits(model_and_events):
    model, events = model_and_events
    model.set_roi("right", centre=(-20, -5, -8))
    assert model.roi("right").size_mm == 5.0 and model.roi("right").shape == "square"
    model.resize_roi("right", 4.0)
    model.set_roi("right", shape="circle")
    model.move_roi("right", (-21, -5, -8))
    assert model.roi("right") == TrabecularRoi((-21.0, -5.0, -8.0), 4.0, "circle")
    model.set_arch_points([(-40, 10, 0), (0, -20, 0), (40, 10, 0)])
    model.set_grade("left", "CTCI", "C2")
    assert model.landmarks.grades == {"left": {"CTCI": "C2"}}
    assert [e.kind for e in events] == ["roi"] * 4 + ["arch", "grade"]
    for _ in range(4):  # grade, arch, move, reshape
        model.undo()
    assert model.roi("right") == TrabecularRoi((-20.0, -5.0, -8.0), 4.0, "square")
    assert model.landmarks.arch_points == [] and model.landmarks.grades == {}
    with pytest.raises(ValueError, match="outside"):
        model.resize_roi("right", 100.0)
    with pytest.raises(ValueError, match="does not exist"):
        model.resize_roi("left", 4.0)


def test_invalid_edits_are_refused_without_history():
    model = LandmarkModel()
    with pytest.raises(ValueError):
        model.set_point("middle", "foramen_centre", (0, 0, 0))
    with pytest.raises(ValueError):
        model.set_point("left", "chin", (0, 0, 0))
    with pytest.raises(ValueError):
        model.set_point("left", "foramen_centre", (0, float("nan"), 0))
    assert not model.can_undo


def test_bulk_reset_is_one_event_and_one_undo(model_and_events):
    model, events = model_and_events
    model.set_point("left", "foramen_centre", (1, 2, 3))
    loaded = LandmarkSet(arch_points=[(-40, 10, 0), (0, -20, 0), (40, 10, 0)], grades={"right": {"CTCI": "C1"}})
    loaded.sides["right"].points["border_outer"] = (-20.0, -5.0, -16.0)
    events.clear()
    model.reset(loaded)
    assert events == [ChangeEvent("bulk")]
    assert model.point("left", "foramen_centre") is None
    assert model.snapshot().to_json() == loaded.to_json()
    model.undo()
    assert model.point("left", "foramen_centre") == (1.0, 2.0, 3.0) and model.landmarks.arch_points == []
    assert events[-1].kind == "bulk" and events[-1].source == "undo"


def test_model_copies_its_input_and_snapshot_is_independent():
    source = LandmarkSet()
    model = LandmarkModel(source)
    model.set_point("left", "foramen_centre", (1, 2, 3))
    assert source.point("left", "foramen_centre") is None
    snap = model.snapshot()
    model.set_point("left", "foramen_centre", (4, 5, 6))
    assert snap.point("left", "foramen_centre") == (1.0, 2.0, 3.0)


def test_unsubscribe_stops_events(model_and_events):
    model, events = model_and_events
    model.unsubscribe(events.append)
    model.unsubscribe(events.append)  # twice is harmless
    model.set_point("left", "foramen_centre", (1, 2, 3))
    assert events == []


def test_observers_see_the_final_history_state_during_undo_and_redo() -> None:
    from cbct_osteo.measure import LandmarkModel

    model = LandmarkModel()
    seen: list[tuple[str, bool, bool]] = []
    model.set_point("left", "foramen_centre", (25.0, -15.0, -3.5))
    model.subscribe(lambda event: seen.append((event.source, model.can_undo, model.can_redo)))
    model.undo()
    model.redo()
    assert seen == [("undo", False, True), ("redo", True, False)]
