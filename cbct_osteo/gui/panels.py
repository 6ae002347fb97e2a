"""The guided-workflow panel and the live results panel.

Both mirror state owned elsewhere (the landmark model, the latest analysis) and only emit what
the user asked for; the main window does the work. The steps listed are generated from the
index catalogue, the result rows from the catalogue entries, so neither hard-codes an index.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cbct_osteo.gui import workflow
from cbct_osteo.gui.sketches import CTCI_DEFINITIONS, ctci_sketch, sketch
from cbct_osteo.indices.catalogue import CTCI_GRADES, LandmarkStep, all_entries
from cbct_osteo.indices.table import cutoff_text
from cbct_osteo.io.landmarks_file import DEFAULT_ROI_SIZE_MM, ROI_SHAPES, LandmarkSet
from cbct_osteo.measure.quantity import format_value

#: The trabecular ROI side the spin box offers (mm); INDICES.md: default 5 x 5 mm, adjustable.
ROI_SIZE_STEPS_MM = (2.0, 10.0, 0.5)

CATEGORY_COLOURS = {
    "low": QColor(220, 70, 60),
    "normal": QColor(60, 170, 90),
    "no validated cutoff": QColor(130, 130, 140),
    "not computable": QColor(90, 90, 95),
}


class WorkflowPanel(QWidget):
    """Steps with done marks, the active step's instruction, sketch and helper buttons."""

    stepActivated = Signal(object)  # LandmarkStep
    gradeChosen = Signal(str, str, str)  # side, index id, grade ("" clears)
    autoArchRequested = Signal()
    clearArchRequested = Signal()
    acceptProposalRequested = Signal(str)  # side
    jumpToForamenRequested = Signal(str)  # side
    roiChanged = Signal(str, float, str)  # side, size mm, shape

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workflowPanel")
        self._steps = workflow.steps()
        self._active: LandmarkStep | None = None
        self._updating = False
        layout = QVBoxLayout(self)
        self.summary = QLabel("Open a scan to start.")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.list = QListWidget(self)
        self.list.setToolTip("Guided steps; click one to place (or re-place) its landmark. Any order works.")
        for step in self._steps:
            self.list.addItem(QListWidgetItem(workflow.StepStatus(step, False).title))
        self.list.currentRowChanged.connect(self._row_changed)
        layout.addWidget(self.list, stretch=1)
        self.instruction = QLabel("")
        self.instruction.setWordWrap(True)
        font = QFont(self.instruction.font())
        font.setBold(True)
        self.instruction.setFont(font)
        layout.addWidget(self.instruction)
        self.sketch = QLabel()
        self.sketch.setAlignment(Qt.AlignCenter)
        layout.addWidget(self.sketch)
        buttons = QHBoxLayout()
        self.auto_arch = QPushButton("Auto arch")
        self.auto_arch.setToolTip("Estimate the dental arch automatically; correct it by dragging its points")
        self.auto_arch.clicked.connect(self.autoArchRequested)
        self.clear_arch = QPushButton("Clear arch")
        self.clear_arch.clicked.connect(self.clearArchRequested)
        self.jump = QPushButton("Jump to foramen")
        self.jump.setToolTip("Show the cross-section through this side's mental foramen")
        self.jump.clicked.connect(lambda: self._active and self.jumpToForamenRequested.emit(self._active.side or ""))
        self.accept = QPushButton("Accept edge proposal")
        self.accept.setToolTip("Move both cortex margins to the edges found along the measurement line")
        self.accept.clicked.connect(lambda: self._active and self.acceptProposalRequested.emit(self._active.side or ""))
        self.grade = QComboBox()
        self.grade.addItems(["(not graded)", *CTCI_GRADES])
        self.grade.setToolTip("C1: even, sharp endosteal margin; C2: semilunar defects; C3: clearly porous cortex")
        self.grade.currentIndexChanged.connect(self._grade_changed)
        for widget in (self.auto_arch, self.clear_arch, self.jump, self.accept, self.grade):
            buttons.addWidget(widget)
        layout.addLayout(buttons)
        self.ctci_references = self._build_ctci_references()
        layout.addWidget(self.ctci_references)
        self.roi_controls = self._build_roi_controls()
        layout.addWidget(self.roi_controls)
        self.set_active(None)

    def _build_ctci_references(self) -> QWidget:
        """One reference picture per CTCI grade with its definition; clicking a picture chooses it."""
        box = QWidget(self)
        box.setObjectName("ctciReferences")
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.ctci_buttons: dict[str, QToolButton] = {}
        self.ctci_labels: dict[str, QLabel] = {}
        for row, grade in enumerate(CTCI_GRADES):
            button = QToolButton(box)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolTip(f"Choose {CTCI_DEFINITIONS[grade]}")
            button.clicked.connect(lambda checked=False, g=grade: self.grade.setCurrentIndex(self.grade.findText(g)))
            label = QLabel(CTCI_DEFINITIONS[grade], box)
            label.setWordWrap(True)
            grid.addWidget(button, row, 0)
            grid.addWidget(label, row, 1)
            self.ctci_buttons[grade] = button
            self.ctci_labels[grade] = label
        grid.setColumnStretch(1, 1)
        return box

    def ctci_pixmap(self, grade: str):
        """The reference picture shown for ``grade`` (a QPixmap)."""
        return self.ctci_buttons[grade].icon().pixmap(self.ctci_buttons[grade].iconSize())

    def _build_roi_controls(self) -> QWidget:
        """Side (mm) and shape of the trabecular ROI: applied to the placed ROI, or to the next one placed."""
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("ROI size"))
        self.roi_size = QDoubleSpinBox(box)
        low, high, step = ROI_SIZE_STEPS_MM
        self.roi_size.setRange(low, high)
        self.roi_size.setSingleStep(step)
        self.roi_size.setDecimals(1)
        self.roi_size.setSuffix(" mm")
        self.roi_size.setValue(DEFAULT_ROI_SIZE_MM)
        self.roi_size.setToolTip("Side of the square (or diameter of the circle) of the trabecular ROI; default 5 mm")
        self.roi_shape = QComboBox(box)
        self.roi_shape.addItems(list(ROI_SHAPES))
        self.roi_shape.setToolTip("Shape of the trabecular ROI")
        self.roi_size.valueChanged.connect(self._roi_edited)
        self.roi_shape.currentIndexChanged.connect(self._roi_edited)
        row.addWidget(self.roi_size)
        row.addWidget(self.roi_shape)
        return box

    @property
    def roi_settings(self) -> tuple[float, str]:
        """The ROI size (mm) and shape currently chosen."""
        return float(self.roi_size.value()), self.roi_shape.currentText()

    def _roi_edited(self, *_: object) -> None:
        if self._updating or self._active is None or self._active.what != "roi":
            return
        self.roiChanged.emit(self._active.side or "", *self.roi_settings)

    @property
    def active(self) -> LandmarkStep | None:
        return self._active

    @property
    def steps(self) -> list[LandmarkStep]:
        """The steps listed, in order (from the index catalogue)."""
        return list(self._steps)

    def set_active(self, step: LandmarkStep | None) -> None:
        """Show ``step`` as the one the next click places (None: clicks only move the crosshair)."""
        self._active = step
        self._updating = True
        self.list.setCurrentRow(self._steps.index(step) if step in self._steps else -1)
        self._updating = False
        if step is None:
            self.instruction.setText("No step active: clicks move the crosshair. Choose a step above.")
            self.sketch.clear()
        else:
            text = f"{step.instruction}  (on the {step.view} view)"
            if step.kind == "foramen_centre":
                text += " Then click it again on the cross-section to centre it exactly."
            self.instruction.setText(text)
            if step.what == "grade":
                self.sketch.clear()  # the three reference pictures take its place
            else:
                self.sketch.setPixmap(sketch(step.kind, 240, 150, self.devicePixelRatioF()))
        what = step.what if step else ""
        self.sketch.setVisible(what != "grade")
        if what == "grade":
            ratio = self.devicePixelRatioF()
            for grade, button in self.ctci_buttons.items():
                picture = ctci_sketch(grade, 120, 80, ratio)
                button.setIcon(picture)
                button.setIconSize(picture.size() / ratio)
        self.ctci_references.setVisible(what == "grade")
        self.roi_controls.setVisible(what == "roi")
        self.auto_arch.setVisible(what == "arch")
        self.clear_arch.setVisible(what == "arch")
        self.jump.setVisible(step is not None and step.view == "cross-section")
        self.accept.setVisible(step is not None and step.kind in ("border_outer", "border_inner"))
        self.grade.setVisible(what == "grade")

    def update_status(self, landmarks: LandmarkSet) -> None:
        """Refresh done marks, the grade box and the 'still missing' summary from ``landmarks``."""
        statuses = workflow.statuses(landmarks)
        for row, status in enumerate(statuses):
            item = self.list.item(row)
            item.setText(("✔ " if status.done else "○ ") + status.title)
            item.setForeground(QColor(30, 130, 60) if status.done else self.list.palette().text().color())
        missing = [s.title for s in statuses if not s.done and s.step.what != "grade"]
        self.summary.setText(
            "All landmarks placed." if not missing else f"Still missing ({len(missing)}): " + ", ".join(missing)
        )
        if self._active is not None and self._active.what == "grade":
            self._updating = True
            grade = landmarks.grades.get(self._active.side or "", {}).get(self._active.kind, "")
            self.grade.setCurrentIndex(self.grade.findText(grade) if grade else 0)
            for name, button in self.ctci_buttons.items():
                button.setChecked(name == grade)
            self._updating = False
        if self._active is not None and self._active.what == "roi":
            side = landmarks.sides.get(self._active.side or "")
            roi = side.trab_roi if side is not None else None
            if roi is not None:
                self._updating = True
                self.roi_size.setValue(roi.size_mm)
                self.roi_shape.setCurrentIndex(self.roi_shape.findText(roi.shape))
                self._updating = False

    def _row_changed(self, row: int) -> None:
        if self._updating:
            return
        step = self._steps[row] if 0 <= row < len(self._steps) else None
        self.set_active(step)
        self.stepActivated.emit(step)

    def _grade_changed(self, index: int) -> None:
        if self._updating or self._active is None or self._active.what != "grade":
            return
        grade = self.grade.currentText() if index > 0 else ""
        self.gradeChosen.emit(self._active.side or "", self._active.kind, grade)


class ResultsPanel(QWidget):
    """Every index per side and mean, its cutoff and category (colour-coded), and the screening."""

    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultsPanel")
        self._entries = all_entries()
        layout = QVBoxLayout(self)
        self.state = QLabel("No results yet: place the landmarks.")
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        headers = ["Index", "Left", "Right", "Mean", "Cutoff", "Category"]
        self.table = QTableWidget(len(self._entries), len(headers), self)
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, entry in enumerate(self._entries):
            item = QTableWidgetItem(f"{entry.id} ({entry.unit})")
            item.setToolTip(f"{entry.name}\nStatus: {entry.status}\n" + "\n".join(entry.citations))
            self.table.setItem(row, 0, item)
        row_height = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(row_height * 8 + self.table.horizontalHeader().sizeHint().height())
        layout.addWidget(self.table, stretch=3)
        self.screening = QLabel("")
        self.screening.setWordWrap(True)
        self.screening.setTextFormat(Qt.RichText)
        self.screening.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        # The explanation is long (it must carry the screening-aid caveats); scrolling keeps the table readable.
        screening_scroll = QScrollArea(self)
        screening_scroll.setWidgetResizable(True)
        screening_scroll.setFrameShape(QScrollArea.NoFrame)
        screening_scroll.setWidget(self.screening)
        screening_scroll.setMinimumHeight(90)
        layout.addWidget(screening_scroll, stretch=2)
        self.export = QPushButton("Export report (PDF)…")
        self.export.setToolTip("Write the PDF report for this scan and its landmarks (Ctrl+E)")
        self.export.clicked.connect(self.exportRequested)
        layout.addWidget(self.export)
        self.result = None

    def cell_text(self, index_id: str, column: str) -> str:
        """The text shown for ``index_id`` in column Left/Right/Mean/Cutoff/Category (for tests)."""
        row = [e.id for e in self._entries].index(index_id)
        col = ["Index", "Left", "Right", "Mean", "Cutoff", "Category"].index(column)
        item = self.table.item(row, col)
        return item.text() if item else ""

    def show_busy(self) -> None:
        self.state.setText("Computing…")

    def show_message(self, text: str) -> None:
        self.state.setText(text)

    def show_result(self, result) -> None:
        """Fill the table from a :class:`cbct_osteo.indices.CaseResult`."""
        self.result = result
        self.state.setText("Results update live as you place landmarks.")
        for row, entry in enumerate(self._entries):
            cells = []
            for side in ("left", "right"):
                side_result = result.sides.get(side)
                cells.append(_value_text(side_result.indices.get(entry.id) if side_result else None))
            mean = result.mean.get(entry.id)
            cells.append(_value_text(mean))
            cells.append(cutoff_text(entry, with_status=False))
            category = mean.category if mean is not None else "not computable"
            cells.append(category)
            for col, text in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                if col == 5:
                    colour = CATEGORY_COLOURS.get(category, QColor(90, 90, 95))
                    item.setBackground(colour)
                    item.setForeground(QColor(255, 255, 255))
                    item.setToolTip(mean.message if mean is not None else "")
                self.table.setItem(row, col, item)
        screening = result.screening
        self.screening.setText(
            f"<p><b>Screening: {screening.result}</b></p><p>{screening.explanation}</p><p><i>{screening.recommendation}</i></p>"
        )


def _value_text(result) -> str:
    if result is None:
        return "–"
    if isinstance(result.value, str):
        return result.value
    if result.value is None:
        return "–"
    return format_value(result.value, result.uncertainty)
