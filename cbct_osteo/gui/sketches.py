"""Reference sketches for the guided steps, drawn with QPainter (crisp at any DPI, no files).

Each sketch is a schematic of the view the step happens on, with the landmark to place drawn
in its marker colour (see :data:`cbct_osteo.gui.workflow.KIND_COLOURS`) and the others grey.
"""

from __future__ import annotations

import numpy as np
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
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if kind == "arch":
        _arch(painter, width, height)
    elif kind == "foramen_centre":  # where to find it (panoramic) and what its centre is (cross-section)
        _panoramic(painter, width // 2 - 2, height)
        painter.translate(width // 2 + 2, 0)
        _cross_section(painter, width // 2 - 2, height, kind)
    else:
        _cross_section(painter, width, height, kind)
    painter.end()
    return pixmap


def _caption(painter: QPainter, width: int, height: int, text: str) -> None:
    painter.setPen(QColor(200, 200, 200))
    font = QFont(painter.font())
    font.setPointSizeF(8.0)
    painter.setFont(font)
    painter.drawText(QRectF(4, height - 18, width - 8, 16), Qt.AlignmentFlag.AlignLeft, text)


def _arch(painter: QPainter, w: int, h: int) -> None:
    path = QPainterPath()
    path.moveTo(w * 0.15, h * 0.85)
    path.cubicTo(w * 0.15, h * 0.05, w * 0.85, h * 0.05, w * 0.85, h * 0.85)
    painter.setPen(QPen(BONE, 16, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.drawPath(path)
    painter.setPen(QPen(QColor(KIND_COLOURS["arch"]), 2))
    painter.setBrush(QBrush(QColor(KIND_COLOURS["arch"])))
    for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        p = path.pointAtPercent(t)
        painter.drawEllipse(p, 4, 4)
    _caption(painter, w, h, "Axial slice: click along the arch, one side to the other")


def _panoramic(painter: QPainter, w: int, h: int) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(BONE)
    painter.drawRoundedRect(QRectF(w * 0.05, h * 0.35, w * 0.9, h * 0.45), 20, 20)
    painter.setBrush(CORTEX)
    painter.drawRect(QRectF(w * 0.05, h * 0.72, w * 0.9, h * 0.08))
    painter.setBrush(QColor(245, 245, 240))
    for i in range(10):
        painter.drawRoundedRect(QRectF(w * (0.1 + i * 0.08), h * 0.1, w * 0.05, h * 0.3), 4, 4)
    painter.setPen(QPen(GREY, 2, Qt.PenStyle.DashLine))
    painter.drawLine(QPointF(w * 0.05, h * 0.55), QPointF(w * 0.95, h * 0.55))
    colour = QColor(KIND_COLOURS["foramen_centre"])
    for x in (0.25, 0.75):
        painter.setPen(QPen(colour, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(QPointF(w * x, h * 0.55), 7, 6)
        painter.drawLine(QPointF(w * x - 10, h * 0.55), QPointF(w * x + 10, h * 0.55))
    _caption(painter, w, h, "Panoramic")


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
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(CORTEX)
    painter.drawChord(
        QRectF(cx - w * 0.17, cortex_top - h * 0.1, w * 0.34, bottom - cortex_top + h * 0.1), 180 * 16, 180 * 16
    )
    # The foramen as INDICES.md and the phantom define it: its centre where it opens through the
    # buccal cortex (the buccal side is on the right of the cross-section), not the canal inside.
    y_foramen = h * 0.42
    wall = next(x for x in np.arange(cx + w * 0.3, cx, -0.5) if body.contains(QPointF(float(x), y_foramen)))
    foramen = QPointF(float(wall) - 2.0, y_foramen)
    radius = h * 0.06
    painter.setBrush(QColor(70, 60, 55))
    painter.drawRoundedRect(
        QRectF(foramen.x() - w * 0.09, y_foramen - radius * 0.6, w * 0.09, radius * 1.2), 3, 3
    )  # the canal
    painter.drawEllipse(foramen, radius * 0.7, radius)  # the opening in the buccal plate
    if kind == "foramen_centre":
        painter.setPen(QPen(QColor(KIND_COLOURS["foramen_centre"]), 2.5))
        painter.drawLine(QPointF(foramen.x() - 8, y_foramen), QPointF(foramen.x() + 8, y_foramen))
        painter.drawLine(QPointF(foramen.x(), y_foramen - 8), QPointF(foramen.x(), y_foramen + 8))
    bottom_at = next(y for y in np.arange(bottom + 2, top, -0.5) if body.contains(QPointF(foramen.x(), float(y))))
    painter.setPen(QPen(GREY, 1, Qt.PenStyle.DashLine))
    painter.drawLine(QPointF(foramen.x(), top), QPointF(foramen.x(), bottom + 6))
    points = {
        "foramen_superior": QPointF(foramen.x(), y_foramen - radius),
        "foramen_inferior": QPointF(foramen.x(), y_foramen + radius),
        "border_outer": QPointF(foramen.x(), float(bottom_at) - 1),
        "border_inner": QPointF(foramen.x(), float(bottom_at) - h * 0.1),
    }
    for name, p in points.items():
        highlight = name == kind
        colour = QColor(KIND_COLOURS[name]) if highlight else GREY
        painter.setPen(QPen(colour, 3 if highlight else 1.5))
        painter.drawLine(QPointF(p.x() - 9, p.y()), QPointF(p.x() + 9, p.y()))
    if kind == "trab_roi":
        painter.setPen(QPen(QColor(KIND_COLOURS["trab_roi"]), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(cx - h * 0.08, h * 0.52, h * 0.16, h * 0.12))
    captions = {
        "foramen_superior": "Cross-section: upper margin of the foramen",
        "foramen_inferior": "Cross-section: lower margin of the foramen",
        "border_outer": "Cross-section: outer surface of the lower cortex",
        "border_inner": "Cross-section: inner (endosteal) cortex margin",
        "trab_roi": "Cross-section: ROI in trabecular bone",
        "foramen_centre": "Buccal opening",
    }
    _caption(painter, w, h, captions.get(kind, "Cross-section: grade the lower cortex"))


#: The cortical-index grades as INDICES.md defines them (Klemetti et al. 1994), shown under the pictures.
CTCI_DEFINITIONS: dict[str, str] = {
    "C1": "C1: even, sharp endosteal margin",
    "C2": "C2: semilunar defects / endosteal residues",
    "C3": "C3: clearly porous cortex",
}

TRABECULAR = QColor(150, 140, 122)


def ctci_sketch(grade: str, width: int = 120, height: int = 80, device_pixel_ratio: float = 1.0) -> QPixmap:
    """A reference picture of the inferior mandibular cortex in cross-section for CTCI ``grade``.

    The lower border of the mandible is drawn as a convex band of cortex under trabecular bone.
    C1 has a thick cortex with an even, sharp endosteal (upper) margin; C2 a thinner cortex with
    semilunar (lacunar) defects bitten into the endosteal side and a few cortical residues left
    above it; C3 a cortex porous throughout with heavy endosteal residues. Deterministic: the
    same grade always gives the same picture.
    """
    if grade not in CTCI_DEFINITIONS:
        raise ValueError(f"unknown CTCI grade {grade!r}; expected one of {tuple(CTCI_DEFINITIONS)}")
    pixmap = QPixmap(int(width * device_pixel_ratio), int(height * device_pixel_ratio))
    pixmap.setDevicePixelRatio(device_pixel_ratio)
    pixmap.fill(BACKGROUND)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _inferior_cortex(painter, width, height, grade)  # the panel labels it with CTCI_DEFINITIONS[grade]
    painter.end()
    return pixmap


def _inferior_cortex(painter: QPainter, w: int, h: int, grade: str) -> None:
    import random

    rng = random.Random({"C1": 1, "C2": 2, "C3": 3}[grade])
    left, right, cx = w * 0.06, w * 0.94, w * 0.5
    thickness = {"C1": 0.2, "C2": 0.15, "C3": 0.15}[grade] * h

    def outer(x: float) -> float:  # the lower border: lowest under the centre
        u = (x - cx) / (right - cx)
        return h * 0.74 + h * 0.18 * (1.0 - u * u)

    xs = [left + (right - left) * i / 60 for i in range(61)]
    bone = QPainterPath(QPointF(left, h * 0.12))
    for x in xs:
        bone.lineTo(QPointF(x, outer(x)))
    bone.lineTo(QPointF(right, h * 0.12))
    bone.closeSubpath()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(TRABECULAR)
    painter.drawPath(bone)
    painter.setClipPath(bone)  # defects and residues stay inside the bone
    painter.setBrush(QColor(190, 180, 160))  # trabeculae: a sparse speckle above the cortex
    for _ in range(int(w * h / 120)):
        x = rng.uniform(left + 3, right - 3)
        y = rng.uniform(h * 0.14, outer(x) - thickness - 2)
        painter.drawEllipse(QPointF(x, y), 1.2, 1.2)

    cortex = QPainterPath(QPointF(xs[0], outer(xs[0])))
    for x in xs[1:]:
        cortex.lineTo(QPointF(x, outer(x)))
    for x in reversed(xs):
        cortex.lineTo(QPointF(x, outer(x) - thickness))
    cortex.closeSubpath()
    painter.setBrush(CORTEX)
    painter.drawPath(cortex)
    if grade == "C1":
        painter.setPen(QPen(QColor(255, 255, 255), 1.2))  # the sharp endosteal line
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPolyline([QPointF(x, outer(x) - thickness) for x in xs])
        return

    painter.setBrush(TRABECULAR)
    defects = 4 if grade == "C2" else 7
    for i in range(defects):  # semilunar (lacunar) defects bitten into the endosteal side
        x = left + (right - left) * (i + 0.5 + rng.uniform(-0.2, 0.2)) / defects
        radius = thickness * (0.4 if grade == "C2" else 0.5)
        painter.drawEllipse(QPointF(x, outer(x) - thickness), radius * 1.6, radius)
    painter.setBrush(CORTEX)
    residues = 4 if grade == "C2" else 12
    for _ in range(residues):  # endosteal cortical residues: cortex fragments left above the margin
        x = rng.uniform(left + 6, right - 6)
        y = outer(x) - thickness - rng.uniform(2.5, thickness * (0.9 if grade == "C2" else 1.8))
        painter.drawEllipse(QPointF(x, y), rng.uniform(0.03, 0.06) * w, rng.uniform(1.2, 2.2))
    if grade == "C3":
        painter.setBrush(TRABECULAR)
        for _ in range(int(w / 3)):  # porous throughout the cortex
            x = rng.uniform(left + 4, right - 4)
            y = outer(x) - rng.uniform(1.5, thickness - 1.0)
            painter.drawEllipse(QPointF(x, y), rng.uniform(0.8, 1.8), rng.uniform(0.6, 1.2))
