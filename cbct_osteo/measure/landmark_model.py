"""The observable, undoable landmark model (no Qt).

Modelled on napari's layers: the model wraps plain data (a :class:`LandmarkSet`), every setter
validates, stores, then emits one small event; views subscribe once and never read private
fields. Undo records small atoms (what, old value, new value); a drag is grouped into one
history item; the stacks are bounded and a new edit clears redo. A bulk update
(:meth:`LandmarkModel.bulk`) is one history item and one event.

Tests drive the model directly (``set_point``, ``set_roi``, ``group``), as the views do; picking
what a press hits is a screen-space question, answered by :func:`cbct_osteo.gui.interaction.nearest_point`.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from cbct_osteo.io.landmarks_file import (
    COINCIDENT_MM,
    DEFAULT_ROI_SIZE_MM,
    POINT_KINDS,
    ROI_SHAPES,
    ROI_SIZE_RANGE_MM,
    SIDES,
    LandmarkSet,
    Point,
    SideLandmarks,
    TrabecularRoi,
)

#: Undo steps kept by default.
DEFAULT_HISTORY = 200

# Atom targets: ("point", side, kind) | ("roi", side) | ("arch",) | ("grade", side, index_id)
Target = tuple[str, ...]


@dataclass(frozen=True)
class ChangeEvent:
    """What changed, sent to subscribers after every change.

    Attributes
    ----------
    kind
        ``"point"``, ``"roi"``, ``"arch"``, ``"grade"``, or ``"bulk"`` when one action changed
        several landmarks (a bulk update, the undo of a group spanning several landmarks,
        :meth:`LandmarkModel.reset`): views then refresh everything.
    side
        ``"left"``/``"right"``, or ``None`` for the arch and bulk changes.
    landmark
        The point kind (``"foramen_centre"`` ...), ``"trab_roi"``, the index id of a grade, or ``None``.
    source
        ``"edit"``, ``"undo"`` or ``"redo"``.
    """

    kind: str
    side: str | None = None
    landmark: str | None = None
    source: str = "edit"


@dataclass(frozen=True)
class _Atom:
    target: Target
    old: Any
    new: Any


class _Item(list[_Atom]):
    """One history item: its atoms, and the words an Undo/Redo menu entry shows for it."""

    label: str = ""


def _target_name(target: Target) -> str:
    if target[0] == "arch":
        return "arch"
    what = "trab roi" if target[0] == "roi" else str(target[2]).replace("_", " ")
    if target[0] == "grade":
        what += " grade"
    return f"{str(target[1]).capitalize()}: {what}"


def describe(atoms: list[_Atom]) -> str:
    """What a history item did, in the user's words ("place Right: trab roi", "move arch")."""
    label = getattr(atoms, "label", "")
    if label:
        return label
    targets = {atom.target for atom in atoms}
    if len(targets) != 1:
        return f"change {len(targets)} landmarks"
    first, last = atoms[0], atoms[-1]
    empty: tuple[object, ...] = (None, [])
    verb = "place" if first.old in empty else "remove" if last.new in empty else "move"
    if first.target[0] == "grade":
        verb = "set" if last.new is not None else "clear"
    return f"{verb} {_target_name(first.target)}"


def _event_for(target: Target, source: str) -> ChangeEvent:
    if target[0] == "point":
        return ChangeEvent("point", target[1], target[2], source)
    if target[0] == "roi":
        return ChangeEvent("roi", target[1], "trab_roi", source)
    if target[0] == "grade":
        return ChangeEvent("grade", target[1], target[2], source)
    return ChangeEvent("arch", None, None, source)


def _as_point(position: Iterable[float]) -> Point:
    pt = tuple(float(v) for v in position)
    if len(pt) != 3 or not all(np.isfinite(pt)):
        raise ValueError(f"a landmark position must be three finite numbers (x, y, z) in mm, got {position!r}")
    return pt


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")


class LandmarkModel:
    """Undoable, observable landmarks of one scan.

    Parameters
    ----------
    landmarks
        Initial landmarks (copied; the model owns its data). Empty when omitted.
    max_history
        Number of undo (and redo) items kept; the oldest are dropped.

    Notes
    -----
    Read through :attr:`landmarks` (treat it as read-only) or :meth:`point`/:meth:`roi`; change
    only through the methods, so every change is undoable and observed.
    """

    def __init__(self, landmarks: LandmarkSet | None = None, max_history: int = DEFAULT_HISTORY) -> None:
        self._data = landmarks.copy() if landmarks is not None else LandmarkSet()
        for side in SIDES:
            self._data.sides.setdefault(side, SideLandmarks())
        self._undo: deque[_Item] = deque(maxlen=max_history)
        self._redo: deque[_Item] = deque(maxlen=max_history)
        self._subscribers: list[Callable[[ChangeEvent], None]] = []
        self._group: _Item | None = None
        self._group_depth = 0
        self._bulk_depth = 0
        self._bulk_changed = False

    # ---- reading -------------------------------------------------------------------------
    @property
    def landmarks(self) -> LandmarkSet:
        """The live landmarks (read-only by convention; use :meth:`snapshot` for a copy to keep)."""
        return self._data

    def snapshot(self) -> LandmarkSet:
        """A deep copy of the current landmarks (e.g. to save or to measure in a worker)."""
        return self._data.copy()

    def point(self, side: str, kind: str) -> Point | None:
        return self._data.point(side, kind)

    def roi(self, side: str) -> TrabecularRoi | None:
        return self._data.sides[side].trab_roi

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        """What :meth:`undo` would undo, in words ("place Right: trab roi"); empty when nothing."""
        return describe(self._undo[-1]) if self._undo else ""

    @property
    def redo_text(self) -> str:
        """What :meth:`redo` would redo, in words; empty when nothing."""
        return describe(self._redo[-1]) if self._redo else ""

    # ---- observers -----------------------------------------------------------------------
    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[ChangeEvent], None]:
        """Call ``callback(event)`` after every change; returns it (for :meth:`unsubscribe`)."""
        if callback not in self._subscribers:
            self._subscribers.append(callback)
        return callback

    def unsubscribe(self, callback: Callable[[ChangeEvent], None]) -> None:
        """Stop calling ``callback``; unknown callbacks are ignored (a view may close twice)."""
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def _emit(self, event: ChangeEvent) -> None:
        if self._bulk_depth:
            self._bulk_changed = True
            return
        for callback in list(self._subscribers):
            callback(event)

    # ---- the one write path ----------------------------------------------------------------
    def _read(self, target: Target) -> Any:
        if target[0] == "point":
            return self._data.sides[target[1]].points.get(target[2])
        if target[0] == "roi":
            return copy.deepcopy(self._data.sides[target[1]].trab_roi)
        if target[0] == "grade":
            return self._data.grades.get(target[1], {}).get(target[2])
        return list(self._data.arch_points)

    def _write(self, target: Target, value: Any) -> None:
        if target[0] == "point":
            points = self._data.sides[target[1]].points
            if value is None:
                points.pop(target[2], None)
            else:
                points[target[2]] = value
        elif target[0] == "roi":
            self._data.sides[target[1]].trab_roi = copy.deepcopy(value)
        elif target[0] == "grade":
            grades = self._data.grades.setdefault(target[1], {})
            if value is None:
                grades.pop(target[2], None)
                if not grades:
                    del self._data.grades[target[1]]
            else:
                grades[target[2]] = value
        else:
            self._data.arch_points = list(value)

    def _change(self, target: Target, new: Any) -> None:
        old = self._read(target)
        if old == new:
            return
        self._write(target, new)
        atom = _Atom(target, old, copy.deepcopy(new))
        if self._group is not None:
            self._group.append(atom)
        else:
            self._undo.append(_Item([atom]))
        self._redo.clear()
        self._emit(_event_for(target, "edit"))

    # ---- grouping --------------------------------------------------------------------------
    def begin_group(self, label: str = "") -> None:
        """Start collecting changes into one history item (e.g. on mouse press). Nests.

        ``label`` names the item in the Undo menu ("auto arch"); without one it is described
        from its changes.
        """
        if self._group_depth == 0:
            self._group = _Item()
            self._group.label = label
        self._group_depth += 1

    def end_group(self) -> None:
        """Close the group opened by :meth:`begin_group`; an empty group leaves no history."""
        if self._group_depth == 0:
            raise RuntimeError("end_group() without begin_group()")
        self._group_depth -= 1
        if self._group_depth == 0:
            atoms, self._group = self._group, None
            if atoms:
                self._undo.append(atoms)

    @contextmanager
    def group(self, label: str = "") -> Iterator[LandmarkModel]:
        """``with model.group(): ...`` — every change inside is undone/redone as one step."""
        self.begin_group(label)
        try:
            yield self
        finally:
            self.end_group()

    @contextmanager
    def bulk(self, label: str = "") -> Iterator[LandmarkModel]:
        """One history item AND one ``"bulk"`` event at the end (for loads, replacements)."""
        self._bulk_depth += 1
        self.begin_group(label)
        try:
            yield self
        finally:
            self.end_group()
            self._bulk_depth -= 1
            if self._bulk_depth == 0 and self._bulk_changed:
                self._bulk_changed = False
                self._emit(ChangeEvent("bulk"))

    # ---- undo / redo ------------------------------------------------------------------------
    def _replay(self, atoms: _Item, forward: bool) -> None:
        """Apply a history item and move it to the other stack *before* notifying, so observers
        that ask ``can_undo``/``can_redo`` from their callback see the final state."""
        source = "redo" if forward else "undo"
        for atom in atoms if forward else reversed(atoms):
            self._write(atom.target, atom.new if forward else atom.old)
        (self._undo if forward else self._redo).append(atoms)
        if len({atom.target for atom in atoms}) == 1:  # one landmark, e.g. a whole drag
            self._emit(_event_for(atoms[0].target, source))
        else:
            self._emit(ChangeEvent("bulk", source=source))

    def undo(self) -> bool:
        """Undo the last history item; returns False when there is nothing to undo."""
        if self._group_depth or not self._undo:
            return False
        self._replay(self._undo.pop(), forward=False)
        return True

    def redo(self) -> bool:
        """Redo the last undone item; returns False when there is nothing to redo."""
        if self._group_depth or not self._redo:
            return False
        self._replay(self._redo.pop(), forward=True)
        return True

    def clear_history(self) -> None:
        self._undo.clear()
        self._redo.clear()

    # ---- edits ---------------------------------------------------------------------------------
    def set_point(self, side: str, kind: str, position: Iterable[float]) -> None:
        """Add or move a point landmark (patient LPS mm, x, y, z)."""
        _check_side(side)
        if kind not in POINT_KINDS:
            raise ValueError(f"unknown landmark {kind!r}; expected one of {POINT_KINDS}")
        self._change(("point", side, kind), _as_point(position))

    def delete_point(self, side: str, kind: str) -> None:
        _check_side(side)
        self._change(("point", side, kind), None)

    def set_roi(
        self, side: str, centre: Iterable[float] | None = None, size_mm: float | None = None, shape: str | None = None
    ) -> None:
        """Create, move, resize or reshape the trabecular ROI; omitted fields keep their value."""
        _check_side(side)
        current = self.roi(side)
        if current is None and centre is None:
            raise ValueError(f"the {side} trabecular ROI does not exist yet; give its centre")
        roi = copy.deepcopy(current) if current is not None else TrabecularRoi(centre=(0.0, 0.0, 0.0))
        if centre is not None:
            roi.centre = _as_point(centre)
        if size_mm is not None:
            size = float(size_mm)
            if not ROI_SIZE_RANGE_MM[0] <= size <= ROI_SIZE_RANGE_MM[1]:
                raise ValueError(f"ROI size {size} mm is outside {ROI_SIZE_RANGE_MM[0]}–{ROI_SIZE_RANGE_MM[1]} mm")
            roi.size_mm = size
        elif current is None:
            roi.size_mm = DEFAULT_ROI_SIZE_MM
        if shape is not None:
            if shape not in ROI_SHAPES:
                raise ValueError(f"ROI shape must be one of {ROI_SHAPES}, got {shape!r}")
            roi.shape = shape
        self._change(("roi", side), roi)

    def move_roi(self, side: str, centre: Iterable[float]) -> None:
        self.set_roi(side, centre=centre)

    def resize_roi(self, side: str, size_mm: float) -> None:
        self.set_roi(side, size_mm=size_mm)

    def delete_roi(self, side: str) -> None:
        _check_side(side)
        self._change(("roi", side), None)

    def set_arch_points(self, points: Iterable[Iterable[float]]) -> None:
        """Replace the arch points (one undo step).

        A point at the place of the one before it (a double click) is dropped: it adds nothing
        to the curve, and the landmarks file refuses such a pair (the arch has no direction there).
        """
        kept: list[Point] = []
        for point in (_as_point(p) for p in points):
            if kept and math.hypot(point[0] - kept[-1][0], point[1] - kept[-1][1]) < COINCIDENT_MM:
                continue
            kept.append(point)
        self._change(("arch",), kept)

    def set_grade(self, side: str, index_id: str, grade: str | None) -> None:
        """Set (or clear with ``None``) a user grade such as ``CTCI`` = ``"C1"``."""
        _check_side(side)
        self._change(("grade", side, str(index_id)), None if grade is None else str(grade))

    def reset(self, landmarks: LandmarkSet, label: str = "replace all landmarks") -> None:
        """Replace everything (e.g. on loading a file) as one undoable step and one event."""
        with self.bulk(label):
            self.set_arch_points(landmarks.arch_points)
            for side in SIDES:
                marks = landmarks.sides.get(side, SideLandmarks())
                for kind in POINT_KINDS:
                    self._change(("point", side, kind), marks.points.get(kind))
                self._change(("roi", side), copy.deepcopy(marks.trab_roi))
            for side in set(self._data.grades) | set(landmarks.grades):
                for index_id in set(self._data.grades.get(side, {})) | set(landmarks.grades.get(side, {})):
                    self._change(("grade", side, index_id), landmarks.grades.get(side, {}).get(index_id))
