"""Live analysis: the indices recomputed in a worker after every change, and what was measured drawn.

The cross-section shows what W is measured between, not only the markers: the measurement
line and its two edges in the report's cortex colour. With edge refinement the edges are
the refined ones (a marker dragged into trabecular bone visibly stays off the edge the
refinement found); "as placed" measures between the markers themselves. The edges come from
the results (``edges_mm``/``line_mm`` in W's details when present, else the refined points),
so the drawing is never a second computation. Beside the foramen's margin markers an orange tick
marks the wall of the foramen the image shows there (the margin check of S and I, from the results'
``details.margin_check.image_wall_mm``): the true margin lies at or just outside it, so a marker
well inside it (in the dark lumen) or far outside it is visibly off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen

from cbct_osteo.gui.interaction import ViewTransform
from cbct_osteo.gui.workflow import MEASURED_COLOUR, WALL_COLOUR
from cbct_osteo.indices.scoring import CaseResult
from cbct_osteo.io.landmarks_file import LandmarkSet

if TYPE_CHECKING:
    from cbct_osteo.gui.main_window import MainWindow

#: Drawn on the cross-section when within this distance (mm) of its plane.
LINE_VISIBLE_MM = 2.0
#: The foramen's walls as the image shows them: the report's orange, apart from the yellow markers.
IMAGE_WALL_COLOUR = WALL_COLOUR
#: Half-length (screen px) of the tick drawn at an image wall.
WALL_TICK_PX = 14.0


def image_walls(result: Any, side: str) -> dict[str, np.ndarray]:
    """The foramen walls the image shows near ``side``'s placed margins (patient mm), keyed S and I."""
    side_result = result.sides.get(side) if result is not None else None
    walls: dict[str, np.ndarray] = {}
    for mid in ("S", "I"):
        measurement = side_result.measurements.get(mid) if side_result is not None else None
        point = ((measurement.details or {}).get("margin_check") or {}).get("image_wall_mm") if measurement else None
        if isinstance(point, (list, tuple)) and len(point) == 3:
            walls[mid] = np.asarray(point, float)
    return walls


def measured_segment(result: Any, landmarks: LandmarkSet, side: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(outer, inner) patient mm between which ``side``'s W was measured, or None when it was not."""
    side_result = result.sides.get(side) if result is not None else None
    if side_result is None:
        return None
    width = side_result.measurements.get("W")
    if width is None or not width.ok:
        return None
    details = width.details or {}
    for key in ("line_mm", "edges_mm"):
        pair = details.get(key)
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            try:
                outer, inner = (np.asarray(p, float).reshape(3) for p in pair)
                return outer, inner
            except ValueError:
                pass
    refined = side_result.refined_points or {}
    if width.method == "edge" and {"border_outer", "border_inner"} <= set(refined):
        return np.asarray(refined["border_outer"], float), np.asarray(refined["border_inner"], float)
    placed_outer, placed_inner = landmarks.point(side, "border_outer"), landmarks.point(side, "border_inner")
    if placed_outer is None or placed_inner is None:
        return None
    return np.asarray(placed_outer, float), np.asarray(placed_inner, float)


class AnalysisController:
    """Debounced analysis runs; one more run when changes came in while one was running."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.timer = QTimer(window, singleShot=True, interval=250)
        self.timer.timeout.connect(self.start)
        self.last_result: CaseResult | None = None
        self._running = False
        self._dirty = False
        window.views.cross_view.add_overlay(self.paint_measured)
        window.results_panel.refineChanged.connect(self.set_refine)
        window.results_panel.asPlacedChanged.connect(self.set_as_placed)

    @property
    def busy(self) -> bool:
        return self.timer.isActive()

    def reset(self) -> None:
        self.last_result = None
        self.window.results_panel.show_message("No results yet: place the landmarks.", clear=True)

    def set_refine(self, refine: bool) -> None:
        """The "edge-refined / as placed" switch of W (and the heights measured from the refined border)."""
        if self.window.state is None or self.window.state.view.refine == refine:
            return
        self.window.state.view.refine = bool(refine)
        self.window.session.autosave()
        self.timer.start(0)

    def set_as_placed(self, pairs: tuple[tuple[str, str], ...]) -> None:
        """The per-measurement switch: these (side, id) of W, S, I as placed, the others edge-refined."""
        state = self.window.state
        if state is None or tuple(pairs) == state.view.as_placed:
            return
        state.view.as_placed = tuple(pairs)
        self.window.session.autosave()
        self.timer.start(0)

    def measuring(self) -> dict[str, Any]:
        """The keywords of :func:`~cbct_osteo.indices.analyse_case` the case on screen is measured with."""
        state = self.window.state
        assert state is not None  # asked only while a case is shown
        return {
            "refine": state.view.refine,
            "as_placed": state.view.as_placed if state.view.refine else (),
            "extra_indices": self.window.site_indices(),
        }

    def start(self) -> None:
        """Recompute the indices in a worker; changes made meanwhile trigger one more run when it ends."""
        w = self.window
        if w.volume is None or w.state is None:
            return
        if self._running:
            self._dirty = True
            return
        from cbct_osteo.indices import analyse_case

        volume, landmarks, keywords = w.volume, w.state.model.snapshot(), self.measuring()
        w.results_panel.show_busy()
        self._running, self._dirty = True, False
        w.tasks.run(
            lambda progress, cancel: analyse_case(volume, landmarks, **keywords),
            "Computing the indices",
            lambda result: self._ready(landmarks, keywords, result),
            self._failed,
            on_finished=self._finished,
        )

    def _finished(self) -> None:
        self._running = False
        if self._dirty:
            self.start()

    def _failed(self, exc: Exception) -> None:
        self.last_result = None  # never leave an earlier screening on screen
        self.window.results_panel.show_message(f"Could not compute the indices: {exc}", clear=True)
        self.window.views.cross_view.update()

    def _ready(self, landmarks: LandmarkSet, keywords: dict[str, Any], result) -> None:
        w = self.window
        if w.state is None or landmarks.to_json() != w.state.landmarks.to_json() or keywords != self.measuring():
            return  # stale: a newer analysis is on its way
        self.last_result = result
        w.results_panel.show_result(result)
        w.views.cross_view.update()
        w.resultsUpdated.emit(result)

    # ---- drawing what was measured
    def measured_lines(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per side, the (outer, inner) edges W of the latest result was measured between (patient mm)."""
        if self.window.state is None:
            return {}
        segments = {
            side: measured_segment(self.last_result, self.window.state.landmarks, side) for side in ("right", "left")
        }
        return {side: seg for side, seg in segments.items() if seg is not None}

    def image_walls(self) -> dict[str, dict[str, np.ndarray]]:
        """Per side, the foramen walls the image shows near the placed margins (latest result)."""
        walls = {side: image_walls(self.last_result, side) for side in ("right", "left")}
        return {side: found for side, found in walls.items() if found}

    def paint_measured(self, painter: QPainter, transform: ViewTransform) -> None:
        view = self.window.views.cross_view
        if view.plane_image is None:
            return
        self._paint_image_walls(painter, transform)
        for side, (outer, inner) in self.measured_lines().items():
            rc, distance = view.patient_to_rc(np.array([outer, inner]))
            if np.any(np.abs(distance) > LINE_VISIBLE_MM):
                continue
            (x0, y0), (x1, y1) = transform.image_to_screen(rc)
            painter.setPen(QPen(QColor(MEASURED_COLOUR), 2, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x0, y0), QPointF(x1, y1))
            direction = np.array([x1 - x0, y1 - y0])
            length = float(np.hypot(*direction)) or 1.0
            normal = np.array([-direction[1], direction[0]]) / length * 7.0
            painter.setPen(QPen(QColor(MEASURED_COLOUR), 2.5))
            for x, y in ((x0, y0), (x1, y1)):  # the edges measured: ticks across the line
                painter.drawLine(QPointF(x - normal[0], y - normal[1]), QPointF(x + normal[0], y + normal[1]))
            width = self.last_result.sides[side].measurements.get("W") if self.last_result is not None else None
            method = "edge-refined" if width is not None and width.method == "edge" else "as placed"
            painter.drawText(QPointF(max(x0, x1) + 10, (y0 + y1) / 2), f"W {method}")

    def _paint_image_walls(self, painter: QPainter, transform: ViewTransform) -> None:
        """A tick across the measurement line at each foramen wall the image shows, labelled once."""
        view = self.window.views.cross_view
        state = self.window.state
        for side, walls in self.image_walls().items():
            centre = state.landmarks.point(side, "foramen_centre") if state is not None else None
            if centre is None:
                continue
            for mid, wall in walls.items():
                rc, distance = view.patient_to_rc(np.array([np.asarray(centre, float), wall]))
                if np.any(np.abs(distance) > LINE_VISIBLE_MM):
                    continue
                (cx, cy), (x, y) = transform.image_to_screen(rc)
                along = np.array([x - cx, y - cy])
                along /= float(np.hypot(*along)) or 1.0
                tick = np.array([-along[1], along[0]]) * WALL_TICK_PX
                painter.setPen(QPen(QColor(IMAGE_WALL_COLOUR), 2, Qt.PenStyle.DotLine))
                painter.drawLine(QPointF(x - tick[0], y - tick[1]), QPointF(x + tick[0], y + tick[1]))
                if mid == "S":  # left of the line: the markers' own labels are on its right
                    label = "image wall"
                    width = painter.fontMetrics().horizontalAdvance(label)
                    painter.drawText(QPointF(x - abs(tick[0]) - 4 - width, y - 4), label)
