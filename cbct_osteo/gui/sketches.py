"""Reference sketches for the guided steps, drawn with QPainter (crisp at any DPI, no files).

Each sketch is a schematic of the view the step happens on, with the landmark to place drawn
in its marker colour (see :data:`cbct_osteo.gui.workflow.KIND_COLOURS`) and the others grey.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPixmap

from cbct_osteo.gui.workflow import KIND_COLOURS

BONE = QColor(225, 218, 200)
CORTEX = QColor(250, 250, 245)
BACKGROUND = QColor(30, 32, 38)
GREY = QColor(120, 120, 120)


def sketch(kind: str, width: int = 240, height: int = 150, device_pixel_ratio: float = 1.0) -> QPixmap:
    """The sketch for landmark ``kind`` ("arch", "foramen_centre", ..., "trab_roi", or a grade id)."""
    pixmap = QPixmap(int(width * device_pixel_ratio), int(height * device_pixel_ratio))
    pixmap.setDevicePixelRatio(device_pixel_ratio)
    pixmap.fill(BACKGROUND)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    if kind == "arch":
        _arch(painter, width, height)
    elif kind == "foramen_centre":
        _panoramic(painter, width, height)
    else:
        _cross_section(painter, width, height, kind)
    painter.end()
    return pixmap


def _caption(painter: QPainter, width: int, height: int, text: str) -> None:
    painter.setPen(QColor(200, 200, 200))
    font = QFont(painter.font())
    font.setPointSizeF(8.0)
    painter.setFont(font)
    painter.drawText(QRectF(4, height - 18, width - 8, 16), Qt.AlignLeft, text)


def _arch(painter: QPainter, w: int, h: int) -> None:
    path = QPainterPath()
    path.moveTo(w * 0.15, h * 0.85)
    path.cubicTo(w * 0.15, h * 0.05, w * 0.85, h * 0.05, w * 0.85, h * 0.85)
    painter.setPen(QPen(BONE, 16, Qt.SolidLine, Qt.RoundCap))
    painter.drawPath(path)
    painter.setPen(QPen(QColor(KIND_COLOURS["arch"]), 2))
    painter.setBrush(QBrush(QColor(KIND_COLOURS["arch"])))
    for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        p = path.pointAtPercent(t)
        painter.drawEllipse(p, 4, 4)
    _caption(painter, w, h, "Axial slice: click along the arch, one side to the other")


def _panoramic(painter: QPainter, w: int, h: int) -> None:
    painter.setPen(Qt.NoPen)
    painter.setBrush(BONE)
    painter.drawRoundedRect(QRectF(w * 0.05, h * 0.35, w * 0.9, h * 0.45), 20, 20)
    painter.setBrush(CORTEX)
    painter.drawRect(QRectF(w * 0.05, h * 0.72, w * 0.9, h * 0.08))
    painter.setBrush(QColor(245, 245, 240))
    for i in range(10):
        painter.drawRoundedRect(QRectF(w * (0.1 + i * 0.08), h * 0.1, w * 0.05, h * 0.3), 4, 4)
    painter.setPen(QPen(GREY, 2, Qt.DashLine))
    painter.drawLine(QPointF(w * 0.05, h * 0.55), QPointF(w * 0.95, h * 0.55))
    colour = QColor(KIND_COLOURS["foramen_centre"])
    for x in (0.25, 0.75):
        painter.setPen(QPen(colour, 2))
        painter.setBrush(Qt.NoBrush)
        painter.drawEllipse(QPointF(w * x, h * 0.55), 7, 6)
        painter.drawLine(QPointF(w * x - 10, h * 0.55), QPointF(w * x + 10, h * 0.55))
    _caption(painter, w, h, "Panoramic: the dark round foramen below the premolars")


def _cross_section(painter: QPainter, w: int, h: int, kind: str) -> None:
    cx, top, bottom = w * 0.5, h * 0.06, h * 0.8
    body = QPainterPath()
    body.moveTo(cx - w * 0.13, top)
    body.cubicTo(cx - w * 0.2, h * 0.45, cx - w * 0.2, bottom, cx, bottom)
    body.cubicTo(cx + w * 0.2, bottom, cx + w * 0.2, h * 0.45, cx + w * 0.13, top)
    body.closeSubpath()
    painter.setPen(QPen(CORTEX, 3))
    painter.setBrush(BONE)
    painter.drawPath(body)
    cortex_top = bottom - h * 0.12
    painter.setPen(Qt.NoPen)
    painter.setBrush(CORTEX)
    painter.drawChord(QRectF(cx - w * 0.17, cortex_top - h * 0.1, w * 0.34, bottom - cortex_top + h * 0.1), 180 * 16, 180 * 16)
    foramen = QPointF(cx + w * 0.04, h * 0.42)
    radius = h * 0.07
    painter.setBrush(QColor(70, 60, 55))
    painter.drawEllipse(foramen, radius, radius)
    painter.setPen(QPen(GREY, 1, Qt.DashLine))
    painter.drawLine(QPointF(foramen.x(), top), QPointF(foramen.x(), bottom + 6))
    points = {
        "foramen_superior": QPointF(foramen.x(), foramen.y() - radius),
        "foramen_inferior": QPointF(foramen.x(), foramen.y() + radius),
        "border_outer": QPointF(foramen.x(), bottom - 1),
        "border_inner": QPointF(foramen.x(), cortex_top + 2),
    }
    for name, p in points.items():
        highlight = name == kind
        colour = QColor(KIND_COLOURS[name]) if highlight else GREY
        painter.setPen(QPen(colour, 3 if highlight else 1.5))
        painter.drawLine(QPointF(p.x() - 9, p.y()), QPointF(p.x() + 9, p.y()))
    if kind == "trab_roi":
        painter.setPen(QPen(QColor(KIND_COLOURS["trab_roi"]), 2))
        painter.setBrush(Qt.NoBrush)
        painter.drawRect(QRectF(cx - h * 0.08, h * 0.52, h * 0.16, h * 0.12))
    captions = {
        "foramen_superior": "Cross-section: upper margin of the foramen",
        "foramen_inferior": "Cross-section: lower margin of the foramen",
        "border_outer": "Cross-section: outer surface of the lower cortex",
        "border_inner": "Cross-section: inner (endosteal) cortex margin",
        "trab_roi": "Cross-section: ROI in trabecular bone",
    }
    _caption(painter, w, h, captions.get(kind, "Cross-section: grade the lower cortex"))
