"""Placing landmarks: clicks and drags on the views, the guided step flow, the arch, confirmations.

Every change goes through the :class:`~cbct_osteo.measure.LandmarkModel` (undoable, labelled
in the Edit menu). Actions that would change finished measurements (a new automatic arch,
clearing the arch) ask first and stay undoable. The step flow never skips a step and never
moves on before the step is really done: the foramen centre clicked on the panoramic is only
a first estimate, the step advances once it is centred on the cross-section.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox

from cbct_osteo.gui import workflow
from cbct_osteo.gui.views2d import Marker, PlaneView
from cbct_osteo.indices.steps import LandmarkStep
from cbct_osteo.reformat import ArchCurve, estimate_arch

if TYPE_CHECKING:
    from cbct_osteo.gui.main_window import MainWindow
    from cbct_osteo.measure.landmark_model import LandmarkModel


def confirm(
    parent, title: str, text: str, action: str, on_yes: Callable[[], None], name: str = "confirmDialog"
) -> QMessageBox:
    """A non-blocking "are you sure" with a named action button; Esc and Cancel do nothing."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName(name)
    go = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def finished(_result: int) -> None:
        if box.clickedButton() is go:
            on_yes()

    box.finished.connect(finished)
    box.open()
    return box


class PlacingController(QObject):
    """Turns what the user does on the views and the workflow panel into landmark model calls."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._drag_group_open = False

    @property
    def model(self) -> LandmarkModel | None:
        return None if self.window.state is None else self.window.state.model

    def edit(self, change: Callable[[LandmarkModel], None]) -> None:
        if self.model is not None:
            change(self.model)

    def has_measurements(self) -> bool:
        """Whether any side landmark is placed: changing the arch then changes measured values."""
        return self.model is not None and any(s.points or s.trab_roi for s in self.model.landmarks.sides.values())

    # ---- clicks and drags
    def view_clicked(self, view: PlaneView, xyz: np.ndarray) -> None:
        """A left click away from any marker: place the active step's landmark, else move the crosshair."""
        w = self.window
        step = w.workflow_panel.active
        if view in w.views.slice_views:
            w.set_crosshair(xyz)
        if view is w.views.panoramic_view and w.reformat.arch is not None:
            w.reformat.set_cross_position(float(w.reformat.arch.closest_arc_position(xyz)), centre_z=float(xyz[2]))
        if step is None or self.model is None:
            return
        if step.what == "arch" and view is w.views.axial:
            self.model.set_arch_points([*self.model.landmarks.arch_points, tuple(map(float, xyz))])
            return
        if step.what in ("point", "roi") and view in (w.views.panoramic_view, w.views.cross_view):
            if step.view == "cross-section" and view is not w.views.cross_view:
                return
            self.place(step, xyz, on_cross_section=view is w.views.cross_view)

    def place(self, step: LandmarkStep, xyz: np.ndarray, on_cross_section: bool = True) -> None:
        """Place ``step``'s landmark at ``xyz`` (patient mm).

        The foramen centre placed on the panoramic is a first estimate: the cross-section moves
        to it and the step stays active, so the next click (on the cross-section) centres it.
        Any other placement moves on to the next open step (grades included).
        """
        assert self.model is not None and step.side is not None  # view_clicked places only with a case, on a side
        point = (float(xyz[0]), float(xyz[1]), float(xyz[2]))
        if step.what == "roi":
            size_mm, shape = self.window.workflow_panel.roi_settings
            self.model.set_roi(step.side, centre=point, size_mm=size_mm, shape=shape)
        else:
            self.model.set_point(step.side, step.kind, point)
        if step.kind == "foramen_centre" and not on_cross_section:
            self.window.reformat.jump_to_foramen(step.side)
            self.window.statusBar().showMessage(
                "Now click the foramen's centre on the cross-section to refine it.", 8000
            )
            return
        self.activate_step(workflow.next_open_step(self.model.landmarks, step) or step)

    def marker_dragged(self, key: tuple[str, str], xyz: np.ndarray, finished: bool) -> None:
        if self.model is None:
            return
        if not self._drag_group_open:
            self.model.begin_group()
            self._drag_group_open = True
        point = (float(xyz[0]), float(xyz[1]), float(xyz[2]))
        side, kind = key
        if side == "arch":
            arch = list(self.model.landmarks.arch_points)
            arch[int(kind)] = point
            self.model.set_arch_points(arch)
        elif kind == "trab_roi":
            self.model.move_roi(side, point)
        else:
            self.model.set_point(side, kind, point)
        if finished:
            self.model.end_group()
            self._drag_group_open = False
            self.window.update_history_actions()

    def set_roi_geometry(self, side: str, size_mm: float, shape: str) -> None:
        """Resize/reshape ``side``'s trabecular ROI (one undo step).

        Without an ROI the values wait for its placement."""
        roi = None if self.model is None else self.model.roi(side)
        if self.model is None or roi is None:
            return
        if roi.size_mm == size_mm and roi.shape == shape:
            return
        self.model.set_roi(side, size_mm=size_mm, shape=shape)

    def grade_chosen(self, side: str, index_id: str, grade: str) -> None:
        self.edit(lambda m: m.set_grade(side, index_id, grade or None))
        if grade and self.model is not None:
            active = self.window.workflow_panel.active
            nxt = workflow.next_open_step(self.model.landmarks, active)
            if nxt is not None:
                self.activate_step(nxt)

    # ---- steps
    def activate_step(self, step: LandmarkStep | None) -> None:
        w = self.window
        w.workflow_panel.set_active(step)
        if w.state is not None:
            w.state.view.active_step = None if step is None else (step.side or "", step.kind)
        if step is None:
            return
        if step.side and step.side != w.reformat.panoramic_side:
            w.reformat.focus_panoramic(step.side)  # a foramen large enough to click, on this side
        if self.model is not None:
            w.workflow_panel.update_status(self.model.landmarks)  # the grade / ROI controls show this side's
        if not w.views.shows(step.view if step.what != "grade" else "cross-section"):
            w.set_layout("2x2")  # only when the step's view is hidden: never re-arranged otherwise
        if (
            step.side
            and step.view == "cross-section"
            and self.model is not None
            and self.model.landmarks.point(step.side, "foramen_centre") is not None
            and w.reformat.shown_side() != step.side
        ):
            w.reformat.jump_to_foramen(step.side)

    def advance(self, direction: int) -> None:
        all_steps = workflow.steps()
        active = self.window.workflow_panel.active
        index = all_steps.index(active) if active in all_steps else -1
        self.activate_step(all_steps[(index + direction) % len(all_steps)])

    # ---- the arch
    def request_auto_arch(self) -> None:
        """Auto arch, after a confirmation when it would replace an arch that measurements depend on."""
        if self.model is not None and self.model.landmarks.arch_points and self.has_measurements():
            confirm(
                self.window,
                "Replace the arch?",
                "A new automatic arch re-slices the panoramic and the cross-sections: the trabecular values "
                "and heights already measured will change. You can undo it (Ctrl+Z).",
                "Replace arch",
                self.auto_arch,
                name="confirmAutoArch",
            )
            return
        self.auto_arch()

    def auto_arch(self) -> None:
        """Propose the arch through the located mandible (the code of ``cbct-osteo propose``), one undo step.

        When the scan holds no mandibular body, say why and leave the arch step open.
        """
        w = self.window
        if w.volume is None:
            return
        from cbct_osteo.reformat.proposal import PROPOSED_ARCH_POINTS

        volume = w.volume
        w.statusBar().showMessage("Locating the mandible…")

        def done(arch: ArchCurve) -> None:
            self._replace_arch([tuple(map(float, p)) for p in arch.to_points()], "auto arch")
            w.statusBar().showMessage(
                "Arch estimated: check it on the axial slice and drag points to correct it.", 8000
            )

        def not_found(exc: Exception) -> None:
            if not isinstance(exc, ValueError):
                w.show_error_message("Estimating the arch failed", str(exc))
                return
            w.statusBar().clearMessage()
            w.show_error_message(
                "No mandible found",
                f"No mandible found: {exc}. Place the arch by hand on an axial slice through the mandibular body.",
            )

        w.tasks.run(
            lambda progress, cancel: estimate_arch(volume, n_points=PROPOSED_ARCH_POINTS),
            "Estimating the arch",
            done,
            on_error=not_found,
        )

    def _replace_arch(self, points: list, label: str) -> None:
        if self.model is None:
            return
        with self.model.group(label):
            self.model.set_arch_points(points)
        self.window.update_history_actions()  # the labelled item exists once the group is closed

    def request_clear_arch(self) -> None:
        if self.model is None or not self.model.landmarks.arch_points:
            return
        if self.has_measurements():
            confirm(
                self.window,
                "Clear the arch?",
                "Without the arch there is no panoramic or cross-section, and the measured values and the "
                "screening are withdrawn until a new arch is placed. You can undo it (Ctrl+Z).",
                "Clear arch",
                self.clear_arch,
                name="confirmClearArch",
            )
            return
        self.clear_arch()

    def clear_arch(self) -> None:
        self._replace_arch([], "clear arch")

    def accept_edge_proposal(self, side: str) -> None:
        """Move both cortex margins of ``side`` to the edge-detected positions of the last analysis."""
        result = self.window.analysis.last_result
        if result is None or side not in result.sides:
            self.window.statusBar().showMessage(
                "No edge proposal yet: place the foramen and both cortex margins first.", 6000
            )
            return
        refined = result.sides[side].refined_points
        if not refined:
            self.window.statusBar().showMessage("No edge proposal for this side.", 6000)
            return
        assert self.model is not None  # an analysis result exists only for a shown case
        with self.model.group(f"accept edge proposal {side.capitalize()}"):
            for kind, xyz in refined.items():
                self.model.set_point(side, kind, tuple(map(float, xyz)))
        self.window.update_history_actions()

    # ---- history
    def markers(self) -> list[Marker]:
        """The landmarks drawn on the slices: a misplaced trabecular ROI red, with the warning sign."""
        state = self.window.state
        if state is None:
            return []
        markers = []
        for key, xyz, colour, label, roi, shape in workflow.markers_for(state.landmarks):
            if key[1] == "trab_roi" and key[0] in self.window.roi_warned:
                colour, label = workflow.WARNING_COLOUR, f"{label} ⚠"
            markers.append(Marker(key, tuple(xyz), colour, label, roi, shape))
        for i, point in enumerate(state.landmarks.arch_points):
            markers.append(Marker(("arch", str(i)), (point[0], point[1], point[2]), workflow.KIND_COLOURS["arch"], ""))
        return markers

    def side_markers(self) -> list[Marker]:
        """The markers without the arch points (drawn on the reformats, where they would hide the anatomy)."""
        return [m for m in self.markers() if m.key[0] != "arch"]

    def undo(self) -> None:
        if self.model is not None and self.model.can_undo:
            self.model.undo()
            self.window.update_history_actions()

    def redo(self) -> None:
        if self.model is not None and self.model.can_redo:
            self.model.redo()
            self.window.update_history_actions()
