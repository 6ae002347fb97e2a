"""The 2D views: orthogonal slices and reformatted planes, all mapping pixels to patient mm.

Every view is an :class:`~cbct_osteo.gui.canvas.ImageCanvas` that knows the map between its
pixels and patient LPS mm, so the landmarks (stored in mm) are drawn on, and picked from, any
view by the same code. The views never change landmarks themselves: they emit what the user
did in patient coordinates, and the main window turns that into model calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from cbct_osteo.gui.canvas import ImageCanvas
from cbct_osteo.gui.interaction import ORIENTATION_LABELS, SlicePlan, ViewTransform, nearest_point, slice_plan
from cbct_osteo.reformat import PanoramicImage, PlaneImage
from cbct_osteo.volume import Volume

PICK_RADIUS_PX = 9.0


@dataclass(frozen=True)
class Marker:
    """A landmark as drawn: ``key`` identifies it to the owner (e.g. ("left", "border_outer"))."""

    key: tuple[str, str]
    xyz: tuple[float, float, float]
    colour: str
    label: str = ""
    roi_mm: float = 0.0  # > 0 draws an ROI of this side (or diameter) around the point
    roi_shape: str = "square"  # or "circle"


#: What a reformat view shows: a cross-section (distance from its plane) or a panoramic (from its surface).
PlaneMap = PlaneImage | PanoramicImage


class PlaneView(ImageCanvas):
    """A 2D view with a pixel↔patient map, landmark markers and landmark picking/dragging."""

    patientClicked = Signal(object)  # xyz (3,) LPS mm, a left click away from any marker
    patientHovered = Signal(object, object)  # xyz, gray value (float or None)
    markerDragged = Signal(object, object, bool)  # key, xyz, finished

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.markers: Callable[[], list[Marker]] = lambda: []
        self.visible_mm = 1.0
        self.extra_polylines: Callable[[], list[tuple[np.ndarray, str]]] = lambda: []
        self._dragging: tuple[str, str] | None = None
        self.pressed.connect(self._on_press)
        self.moved.connect(self._on_move)
        self.released.connect(self._on_release)
        self.hovered.connect(self._on_hover)
        self.add_overlay(self._paint_markers)

    # ---- mapping, overridden by subclasses
    def rc_to_patient(self, rc: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def patient_to_rc(self, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(..., 3) patient mm to ((..., 2) row/col, (...) distance in mm from the shown surface)."""
        raise NotImplementedError

    def value_at(self, rc: tuple[float, float]) -> float | None:
        image = self.image
        if image is None:
            return None
        r, c = int(round(rc[0])), int(round(rc[1]))
        if 0 <= r < image.shape[0] and 0 <= c < image.shape[1]:
            return float(image[r, c])
        return None

    def patient_to_widget(self, xyz: np.ndarray) -> np.ndarray:
        """Screen position of a patient point (for tests and for picking)."""
        rc, _ = self.patient_to_rc(np.asarray(xyz, float))
        return self.image_to_widget(rc)

    # ---- interaction
    def _visible_markers(self) -> tuple[list[Marker], np.ndarray]:
        markers = self.markers() if self.image is not None else []
        if not markers:
            return [], np.zeros((0, 2))
        rc, dist = self.patient_to_rc(np.array([m.xyz for m in markers], float))
        keep = np.abs(dist) <= self.visible_mm
        return [m for m, k in zip(markers, keep, strict=True) if k], rc[keep]

    def _on_press(self, row: float, col: float) -> None:
        markers, rc = self._visible_markers()
        if markers:
            screen = self.image_to_widget(rc)
            press_xy = self.image_to_widget((row, col))
            hit = nearest_point(screen, (press_xy[0], press_xy[1]), PICK_RADIUS_PX)
            if hit is not None:
                self._dragging = markers[hit].key
                return
        self._dragging = None
        self.patientClicked.emit(self.rc_to_patient(np.array([row, col])))

    def _on_move(self, row: float, col: float) -> None:
        if self._dragging is not None:
            self.markerDragged.emit(self._dragging, self.rc_to_patient(np.array([row, col])), False)

    def _on_release(self, row: float, col: float) -> None:
        if self._dragging is not None:
            self.markerDragged.emit(self._dragging, self.rc_to_patient(np.array([row, col])), True)
        self._dragging = None

    def _on_hover(self, row: float, col: float) -> None:
        self.patientHovered.emit(self.rc_to_patient(np.array([row, col])), self.value_at((row, col)))

    # ---- painting
    def _paint_markers(self, painter: QPainter, transform: ViewTransform) -> None:
        for points, colour in self.extra_polylines():
            if len(points) < 2:
                continue
            rc, _ = self.patient_to_rc(np.asarray(points, float))
            xy = transform.image_to_screen(rc)
            painter.setPen(QPen(QColor(colour), 1.5))
            painter.drawPolyline(QPolygonF([QPointF(x, y) for x, y in xy]))
        markers, rc = self._visible_markers()
        if not markers:
            return
        xy = transform.image_to_screen(rc)
        for marker, (x, y) in zip(markers, xy, strict=True):
            marker_colour = QColor(marker.colour)
            painter.setPen(QPen(marker_colour, 2))
            if marker.roi_mm > 0:
                half = marker.roi_mm / 2.0 * transform.px_per_mm
                box = QRectF(x - half, y - half, 2 * half, 2 * half)
                if marker.roi_shape == "circle":
                    painter.drawEllipse(box)
                else:
                    painter.drawRect(box)
            painter.drawLine(QPointF(x - 6, y), QPointF(x + 6, y))
            painter.drawLine(QPointF(x, y - 6), QPointF(x, y + 6))
            painter.drawEllipse(QPointF(x, y), 3.0, 3.0)
            if marker.label:
                painter.drawText(QPointF(x + 7, y - 5), marker.label)


class SliceView(PlaneView):
    """An axial, coronal or sagittal slice of the volume with a crosshair."""

    sliceChanged = Signal(int)

    def __init__(self, plane: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plane = plane
        self.volume: Volume | None = None
        self.plan: SlicePlan | None = None
        self.index = 0
        self.crosshair: np.ndarray | None = None
        self.labels = ORIENTATION_LABELS[plane]
        self.placeholder = f"{plane.capitalize()}: open a scan (File > Open, or drop a folder here)"
        self.stepped.connect(lambda step: self.set_slice(self.index + step))
        self.add_overlay(self._paint_crosshair)
        self.setToolTip(
            f"{plane.capitalize()} slice. Wheel/PgUp/PgDn: scroll; right-drag: window/level; "
            "Ctrl+wheel: zoom; Shift+drag or middle-drag: pan; R: reset view"
        )

    def set_volume(self, volume: Volume | None) -> None:
        self.volume = volume
        if volume is None:
            self.plan = None
            self.set_image(None)
            return
        self.plan = slice_plan(self.plane, volume.affine, volume.shape)
        spacing = volume.spacing
        pixel_mm = (spacing[self.plan.row_axis], spacing[self.plan.col_axis])
        self._pixel_mm_cache = pixel_mm
        self.visible_mm = spacing[self.plan.slice_axis] * 0.5 + 0.25
        self.index = -1
        self.set_image(None)
        self.set_slice(self.plan.n_slices // 2)
        self.reset_view()

    def set_slice(self, index: int) -> None:
        if self.plan is None or self.volume is None:
            return
        index = int(np.clip(index, 0, self.plan.n_slices - 1))
        if index == self.index:
            return
        self.index = index
        self.corner_text = f"{self.plane} {index + 1}/{self.plan.n_slices}"
        self.set_image(self.plan.extract(self.volume.voxels, index), self._pixel_mm_cache)
        self.sliceChanged.emit(index)

    def show_point(self, xyz: np.ndarray) -> None:
        """Move to the slice containing ``xyz`` and put the crosshair on it."""
        if self.plan is None or self.volume is None:
            return
        self.crosshair = np.asarray(xyz, float)
        _, k = self.plan.from_voxel(self.volume.patient_to_index(self.crosshair))
        self.set_slice(int(round(float(k))))
        self.update()

    def rc_to_patient(self, rc: np.ndarray) -> np.ndarray:
        assert self.volume is not None and self.plan is not None  # asked only while a slice is shown
        return self.volume.index_to_patient(self.plan.to_voxel(rc, self.index))

    def patient_to_rc(self, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert self.volume is not None and self.plan is not None  # asked only while a slice is shown
        rc, k = self.plan.from_voxel(self.volume.patient_to_index(xyz))
        return rc, (k - self.index) * self.volume.spacing[self.plan.slice_axis]

    def _paint_crosshair(self, painter: QPainter, transform: ViewTransform) -> None:
        if self.crosshair is None or self.volume is None:
            return
        rc, _ = self.patient_to_rc(self.crosshair)
        x, y = transform.image_to_screen(rc)
        painter.setPen(QPen(QColor(0, 200, 255, 160), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(0, y), QPointF(self.width(), y))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))


class ReformatView(PlaneView):
    """A reformatted image (panoramic or cross-section) with its own pixel↔patient map."""

    def __init__(self, name: str, labels: tuple[str, str, str, str] | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.plane_image: PlaneMap | None = None
        self.labels = labels
        self.visible_mm = 1.5
        self.placeholder = f"{name}: place the dental arch first (Arch step)"

    def set_plane_image(self, plane_image: PlaneMap | None, caption: str = "") -> None:
        self.plane_image = plane_image
        self.corner_text = caption
        if plane_image is None:
            self.set_image(None)
            return
        pixel = float(plane_image.pixel_mm)
        self.set_image(np.asarray(plane_image.image), (pixel, pixel))

    def rc_to_patient(self, rc: np.ndarray) -> np.ndarray:
        assert self.plane_image is not None  # only called with an image shown
        return np.asarray(self.plane_image.pixel_to_patient(np.asarray(rc, float)), float)

    def patient_to_rc(self, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        image = self.plane_image
        assert image is not None  # only called with an image shown
        xyz = np.asarray(xyz, float)
        rc = np.asarray(image.patient_to_pixel(xyz), float)
        if isinstance(image, PlaneImage):
            distance = image.distance_from_plane(xyz)
        else:
            distance = image.distance_from_surface(xyz)
        return rc, np.asarray(distance, float)
