"""ImageCanvas: a QWidget that paints one 2D gray image with zoom, pan and window/level.

All 2D views (axial/coronal/sagittal slices, panoramic, cross-section) are one of these plus an
overlay painter. Drawing with QPainter (not VTK) keeps them fast, HiDPI-correct and capturable
with ``QWidget.grab()``. The geometry lives in :class:`~cbct_osteo.gui.interaction.ViewTransform`,
so the mouse logic is testable without the widget.

Mouse: left button = ``pressed``/``moved``/``released`` signals in image (row, col) for the
owner (place or drag landmarks, set the crosshair); right drag = window/level; middle drag or
Shift+left drag = pan; wheel = ``stepped`` (scroll slices / step along the arch);
Ctrl+wheel = zoom about the cursor. Keys PgUp/PgDn/Up/Down also emit ``stepped``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QKeyEvent, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from cbct_osteo.gui.interaction import ViewTransform, apply_window, scale_bar, window_level_drag

OverlayPainter = Callable[[QPainter, ViewTransform], None]


class ImageCanvas(QWidget):
    """Paints ``image`` (rows, cols) at physical scale ``pixel_mm`` with overlays."""

    #: The canvas the mouse last moved over (navigation keys go there, see cbct_osteo.gui.keys).
    last_hovered: ImageCanvas | None = None

    pressed = Signal(float, float)  # row, col of a left press
    moved = Signal(float, float)  # row, col while the left button is held
    released = Signal(float, float)
    hovered = Signal(float, float)  # row, col under the cursor (no button)
    stepped = Signal(int)  # +1 / -1 from wheel or keys
    windowLevelDragged = Signal(float, float)  # new window, level

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(160, 160)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._image: np.ndarray | None = None
        self._qimage: QImage | None = None
        self._pixel_mm = (1.0, 1.0)
        self._window, self._level = 1.0, 0.5
        self._value_range = 1.0
        self._transform = ViewTransform.fitted((1, 1), (1.0, 1.0), (200.0, 200.0))
        self._drag: tuple[str, QPointF] | None = None
        self._wl_start = (1.0, 0.5)
        self.labels: tuple[str, str, str, str] | None = None  # left, right, top, bottom
        self.corner_text = ""
        #: A note under the corner text, e.g. how the window was chosen ("bone window (HU)").
        self.bottom_text = ""
        self.placeholder = "No image"
        self._overlays: list[OverlayPainter] = []

    # ------------------------------------------------------------------ state
    @property
    def transform(self) -> ViewTransform:
        return self._transform

    @property
    def image(self) -> np.ndarray | None:
        return self._image

    def set_image(self, image: np.ndarray | None, pixel_mm: tuple[float, float] = (1.0, 1.0)) -> None:
        """Show ``image`` (rows, cols) whose pixels are ``pixel_mm`` (row, col) mm; keeps zoom if same geometry."""
        self._image = None if image is None else np.asarray(image)
        self._pixel_mm = (float(pixel_mm[0]), float(pixel_mm[1]))
        if self._image is not None:
            self._transform = self._transform.resized((float(self.width()), float(self.height()))).with_image(
                self._image.shape, self._pixel_mm
            )
        self._render_qimage()
        self.update()

    def set_window_level(self, window: float, level: float, value_range: float | None = None) -> None:
        self._window, self._level = float(window), float(level)
        if value_range is not None:
            self._value_range = float(value_range)
        self._render_qimage()
        self.update()

    def reset_view(self) -> None:
        if self._image is not None:
            self._transform = ViewTransform.fitted(
                self._image.shape, self._pixel_mm, (float(self.width()), float(self.height()))
            )
            self.update()

    def focus(self, rc: tuple[float, float], px_per_mm: float) -> None:
        """Centre the image point ``rc`` (row, col) at ``px_per_mm`` screen pixels per mm (R resets)."""
        if self._image is not None:
            self._transform = self._transform.resized((float(self.width()), float(self.height()))).showing(
                rc, px_per_mm
            )
            self.update()

    def add_overlay(self, painter: OverlayPainter) -> None:
        self._overlays.append(painter)

    def image_to_widget(self, rc: np.ndarray | tuple) -> np.ndarray:
        return self._transform.image_to_screen(rc)

    def _render_qimage(self) -> None:
        if self._image is None:
            self._qimage = None
            return
        data = apply_window(self._image, self._window, self._level)
        rows, cols = data.shape
        self._qimage = QImage(data.data, cols, rows, cols, QImage.Format.Format_Grayscale8).copy()

    # ------------------------------------------------------------------ painting
    def resizeEvent(self, event) -> None:
        self._transform = self._transform.resized((float(self.width()), float(self.height())))
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        if self._qimage is None:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(
                self.rect().adjusted(8, 8, -8, -8),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.placeholder,
            )
            painter.end()
            return
        assert self._image is not None  # set_image sets the array with its QImage
        rows, cols = self._image.shape
        top_left = self._transform.image_to_screen((-0.5, -0.5))
        bottom_right = self._transform.image_to_screen((rows - 0.5, cols - 0.5))
        target = QRectF(QPointF(*top_left), QPointF(*bottom_right))
        painter.setRenderHint(
            QPainter.RenderHint.SmoothPixmapTransform, self._transform.px_per_mm * self._pixel_mm[1] < 3.0
        )
        painter.drawImage(target, self._qimage)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for overlay in self._overlays:
            painter.save()
            overlay(painter, self._transform)
            painter.restore()
        self._paint_annotations(painter)
        painter.end()

    def _paint_annotations(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF()))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(255, 220, 0))
        w, h = self.width(), self.height()
        if self.labels:
            left, right, top, bottom = self.labels
            side_w = painter.fontMetrics().horizontalAdvance(max(left, right, key=len)) + 8
            painter.drawText(QRectF(4, 0, side_w, h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, left)
            painter.drawText(
                QRectF(w - side_w - 4, 0, side_w, h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, right
            )
            painter.drawText(QRectF(0, 2, w, 20), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, top)
            painter.drawText(
                QRectF(0, h - 22, w, 20), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, bottom
            )
        mm, px = scale_bar(self._transform.px_per_mm, max_px=min(120.0, w / 3.0))
        if px > 0:
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            x1, y = w - 12, h - 28
            painter.drawLine(QPointF(x1 - px, y), QPointF(x1, y))
            painter.drawLine(QPointF(x1 - px, y - 4), QPointF(x1 - px, y + 4))
            painter.drawLine(QPointF(x1, y - 4), QPointF(x1, y + 4))
            painter.drawText(
                QRectF(x1 - max(px, 60.0), y - 20, max(px, 60.0), 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{mm:g} mm",
            )
        if self.corner_text:
            painter.setPen(QColor(120, 220, 255))
            painter.drawText(
                QRectF(6, 4, w - 12, 40), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.corner_text
            )
        if self.bottom_text:
            small = QFont(font)
            small.setBold(False)
            small.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
            painter.setFont(small)
            painter.setPen(QColor(200, 200, 200))
            line = painter.fontMetrics().lineSpacing()
            painter.drawText(
                QRectF(6, 6 + line * 1.4, w - 40, line + 2),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                painter.fontMetrics().elidedText(self.bottom_text, Qt.TextElideMode.ElideRight, int(w - 40)),
            )

    # ------------------------------------------------------------------ events
    def _rc(self, pos: QPointF) -> tuple[float, float]:
        row, col = self._transform.screen_to_image((pos.x(), pos.y()))
        return float(row), float(col)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self.setFocus()
        if event.button() == Qt.MouseButton.RightButton:
            self._drag = ("wl", pos)
            self._wl_start = (self._window, self._level)
        elif event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self._drag = ("pan", pos)
        elif event.button() == Qt.MouseButton.LeftButton and self._image is not None:
            self._drag = ("left", pos)
            self.pressed.emit(*self._rc(pos))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        ImageCanvas.last_hovered = self
        if self._drag is None:
            if self._image is not None:
                self.hovered.emit(*self._rc(pos))
            return
        mode, start = self._drag
        if mode == "wl":
            window, level = window_level_drag(
                *self._wl_start, pos.x() - start.x(), pos.y() - start.y(), self._value_range
            )
            self.windowLevelDragged.emit(window, level)
        elif mode == "pan":
            self._transform = self._transform.panned(pos.x() - start.x(), pos.y() - start.y())
            self._drag = ("pan", pos)
            self.update()
        elif mode == "left":
            self.moved.emit(*self._rc(pos))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None and self._drag[0] == "left":
            self.released.emit(*self._rc(event.position()))
        self._drag = None

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta == 0:
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            pos = event.position()
            self._transform = self._transform.zoomed_about((pos.x(), pos.y()), 1.15 if delta > 0 else 1 / 1.15)
            self.update()
        else:
            self.stepped.emit(1 if delta > 0 else -1)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps: dict[int, int] = {
            Qt.Key.Key_PageUp: 5,
            Qt.Key.Key_PageDown: -5,
            Qt.Key.Key_Up: 1,
            Qt.Key.Key_Down: -1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_Left: -1,
        }
        if event.key() in steps:
            self.stepped.emit(steps[event.key()])
            event.accept()
        elif event.key() == Qt.Key.Key_R:
            self.reset_view()
        else:
            super().keyPressEvent(event)
