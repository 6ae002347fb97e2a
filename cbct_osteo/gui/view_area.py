"""The central view area: the five 2D views and the 3D view in one of three window layouts.

Layouts (as in dental viewers: Romexis, OnDemand3D, Slicer's four-up):

* ``"2x2"`` (default): axial | 3D over panoramic | cross-section, everything the guided steps need;
* ``"1x3"``: the three orthogonal slices side by side (orientation, arch placement);
* ``"panoramic"``: a large panoramic over axial | cross-section | 3D.

Every view keeps one parent (this widget) and only moves between grid cells, so the VTK
window is never re-created; a layout never changes because of a click.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from cbct_osteo.gui.state import LAYOUTS, OFFSET_RANGE_MM, SLAB_RANGE_MM
from cbct_osteo.gui.view3d import View3D
from cbct_osteo.gui.views2d import ReformatView, SliceView

#: How far (mm) from the panoramic's surface a landmark is still drawn on it.
PANORAMIC_VISIBLE_MM = 12.0
#: (widget name, row, column, row span, column span) per layout, and the row/column stretches.
_GRIDS: dict[str, tuple[tuple[tuple[str, int, int, int, int], ...], tuple[int, ...], tuple[int, ...]]] = {
    "2x2": (
        (("axial", 0, 0, 1, 1), ("view3d", 0, 1, 1, 1), ("panoramic", 1, 0, 1, 1), ("cross", 1, 1, 1, 1)),
        (1, 1),
        (1, 1),
    ),
    "1x3": ((("axial", 0, 0, 1, 1), ("coronal", 0, 1, 1, 1), ("sagittal", 0, 2, 1, 1)), (1,), (1, 1, 1)),
    "panoramic": (
        (("panoramic", 0, 0, 1, 3), ("axial", 1, 0, 1, 1), ("cross", 1, 1, 1, 1), ("view3d", 1, 2, 1, 1)),
        (3, 2),
        (1, 1, 1),
    ),
}
LAYOUT_TITLES = {
    "2x2": "2 × 2 (axial, 3D, panoramic, cross-section)",
    "1x3": "1 × 3 (axial, coronal, sagittal)",
    "panoramic": "Large panoramic",
}


def _spin(prefix: str, low: float, high: float, step: float, suffix: str, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setPrefix(prefix)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(1)
    box.setSuffix(suffix)
    box.setToolTip(tip)
    box.setKeyboardTracking(False)  # one rebuild per value typed, not per digit
    return box


class ViewArea(QWidget):
    """The views, the controls that belong to them, and the layout switch."""

    layoutChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.axial, self.coronal, self.sagittal = (SliceView(p, self) for p in ("axial", "coronal", "sagittal"))
        self.slice_views = (self.axial, self.coronal, self.sagittal)
        self.panoramic_view = ReformatView("Panoramic", ("R", "L", "S", "I"), self)
        self.cross_view = ReformatView("Cross-section", ("lingual", "buccal", "S", "I"), self)
        self.panoramic_view.visible_mm = PANORAMIC_VISIBLE_MM
        self.panoramic_view.setToolTip(
            "Panoramic along the arch. Click the mental foramen; the cross-section follows the click."
        )
        self.cross_view.setToolTip(
            "Cross-section perpendicular to the arch. Wheel/PgUp/PgDn/arrows: step along the arch; "
            "click to place the active landmark; drag a landmark to move it"
        )
        self.plane_views = (*self.slice_views, self.panoramic_view, self.cross_view)
        self.view3d = View3D()
        self._cells = {
            "axial": self.axial,
            "coronal": self.coronal,
            "sagittal": self.sagittal,
            "panoramic": self._panoramic_box(),
            "cross": self.cross_view,
            "view3d": self._view3d_box(),
        }
        for widget in self._cells.values():
            widget.setParent(self)
            # the grid's stretch factors alone share the space: no pane grows with its content
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            widget.setMinimumSize(160, 160)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(3)
        self.layout_name = ""
        self.set_layout("2x2")

    def _view3d_box(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.view3d, stretch=1)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(0, 1000)
        self.threshold_slider.setToolTip("Bone threshold of the 3D surface (gray value)")
        self.threshold_slider.setMinimumWidth(70)
        self.clip_checkbox = QCheckBox("Clip occlusal")
        self.clip_checkbox.setChecked(True)
        self.clip_checkbox.setToolTip(
            "Build the 3D surface only below the occlusal plane estimated from the arch "
            "(leaves out the maxilla); without an arch nothing is clipped"
        )
        row = QHBoxLayout()
        row.addWidget(QLabel("Bone"))
        row.addWidget(self.threshold_slider, stretch=1)
        row.addWidget(self.clip_checkbox)
        column.addLayout(row)
        return box

    def _panoramic_box(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(self.panoramic_view, stretch=1)
        self.slab = _spin(
            "Slab ",
            *SLAB_RANGE_MM,
            1.0,
            " mm",
            "Panoramic slab thickness along the arch normal (mean of the slab; "
            "0 = a thin curved plane). Thicker looks more like a radiograph, thinner shows finer detail.",
        )
        self.offset = _spin(
            "Trough ",
            *OFFSET_RANGE_MM,
            0.5,
            " mm",
            "Focal trough: shift the panoramic surface along the arch "
            "normal (negative = lingual, positive = buccal) to bring the foramen into focus.",
        )
        self.panoramic_height = _spin(
            "Height ", 20.0, 200.0, 5.0, " mm", "Height of the panoramic band, centred on the arch"
        )
        row = QHBoxLayout()
        for widget in (self.slab, self.offset, self.panoramic_height):
            row.addWidget(widget, stretch=1)
        column.addLayout(row)
        return box

    def set_layout(self, name: str) -> None:
        """Show the views of layout ``name`` (one of :data:`~cbct_osteo.gui.state.LAYOUTS`)."""
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}; expected one of {LAYOUTS}")
        if name == self.layout_name:
            return
        cells, row_stretch, col_stretch = _GRIDS[name]
        for widget in self._cells.values():
            self.grid.removeWidget(widget)
        for i in range(4):
            self.grid.setRowStretch(i, 0)
            self.grid.setColumnStretch(i, 0)
        shown = set()
        for cell, row, col, rows, cols in cells:
            self.grid.addWidget(self._cells[cell], row, col, rows, cols)
            shown.add(cell)
        for i, stretch in enumerate(row_stretch):
            self.grid.setRowStretch(i, stretch)
        for i, stretch in enumerate(col_stretch):
            self.grid.setColumnStretch(i, stretch)
        for cell, widget in self._cells.items():
            widget.setVisible(cell in shown)
        self.layout_name = name
        self.layoutChanged.emit(name)

    def shows(self, view_name: str) -> bool:
        """Whether the current layout shows ``view_name`` ("axial", "panoramic", "cross-section" ...)."""
        cell = {"cross-section": "cross"}.get(view_name, view_name)
        return any(c[0] == cell for c in _GRIDS[self.layout_name][0])
