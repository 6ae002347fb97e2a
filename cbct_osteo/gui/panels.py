"""The guided-workflow panel: the steps with done marks, the active step's instruction, sketch and helpers.

It mirrors the landmark model and only emits what the user asked for; the controllers do the
work. The steps are generated from the index catalogue, so it hard-codes no index. The results
panel is :mod:`cbct_osteo.gui.results_panel`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cbct_osteo.gui import workflow
from cbct_osteo.gui.sketches import CTCI_DEFINITIONS, ctci_sketch, sketch
from cbct_osteo.indices.catalogue import CTCI_GRADES
from cbct_osteo.indices.steps import LandmarkStep
from cbct_osteo.io.landmarks_file import DEFAULT_ROI_SIZE_MM, ROI_SHAPES, LandmarkSet

#: The trabecular ROI side the spin box offers (mm); INDICES.md: default 5 x 5 mm, adjustable.
ROI_SIZE_STEPS_MM = (2.0, 10.0, 0.5)


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
        self.list = QListWidget(self)
        self.list.setToolTip("Guided steps; click one to place (or re-place) its landmark. Any order works.")
        # Clicking a step must not take the keyboard: PgUp/PgDn/arrows stay with the views.
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for step in self._steps:
            self.list.addItem(QListWidgetItem(workflow.StepStatus(step, False).title))
        self.list.currentRowChanged.connect(self._row_changed)
        rows = self.list.sizeHintForRow(0) * len(self._steps) + 2 * self.list.frameWidth() + 4
        self.list.setFixedHeight(rows)  # every step visible; nothing below can move it
        layout.addWidget(self.list)
        self.summary = QLabel("Open a scan to start.")
        self.summary.setWordWrap(True)
        self.summary.setFixedHeight(self.summary.fontMetrics().lineSpacing() * 3 + 4)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.summary)
        self.checks = QLabel("")
        self.checks.setObjectName("checksLabel")
        self.checks.setWordWrap(True)
        self.checks.setStyleSheet("color: #c0392b;")
        self.checks.setFixedHeight(self.checks.fontMetrics().lineSpacing() * 4 + 4)
        self.checks.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.checks)
        self.instruction = QLabel("")
        self.instruction.setWordWrap(True)
        font = QFont(self.instruction.font())
        font.setBold(True)
        self.instruction.setFont(font)
        # Fixed heights below the list: a long instruction never moves the list or the views.
        self.instruction.setFixedHeight(self.instruction.fontMetrics().lineSpacing() * 6 + 4)
        self.instruction.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.instruction)
        self.sketch = QLabel()
        self.sketch.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sketch.setFixedHeight(154)
        layout.addWidget(self.sketch)
        buttons = QHBoxLayout()
        self.auto_arch = QPushButton("Auto arch")
        self.auto_arch.setToolTip("Estimate the dental arch automatically; correct it by dragging its points")
        self.auto_arch.clicked.connect(self.autoArchRequested)
        self.clear_arch = QPushButton("Clear arch")
        self.clear_arch.clicked.connect(self.clearArchRequested)
        self.jump = QPushButton("Jump to foramen")
        self.jump.setToolTip("Show the cross-section through this side's mental foramen")
        self.jump.clicked.connect(lambda: self._emit_for_active_side(self.jumpToForamenRequested))
        self.accept = QPushButton("Accept edge proposal")
        self.accept.setToolTip("Move both cortex margins to the edges found along the measurement line")
        self.accept.clicked.connect(lambda: self._emit_for_active_side(self.acceptProposalRequested))
        self.grade = QComboBox()
        self.grade.addItems(["(not graded)", *CTCI_GRADES])
        self.grade.setToolTip("C1: even, sharp endosteal margin; C2: semilunar defects; C3: clearly porous cortex")
        self.grade.currentIndexChanged.connect(self._grade_changed)
        for widget in (self.auto_arch, self.clear_arch, self.jump, self.accept, self.grade):
            buttons.addWidget(widget)
        button_row = QWidget(self)
        button_row.setLayout(buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        button_row.setFixedHeight(self.auto_arch.sizeHint().height() + 4)
        layout.addWidget(button_row)
        self.ctci_references = self._build_ctci_references()
        layout.addWidget(self.ctci_references)
        self.roi_controls = self._build_roi_controls()
        layout.addWidget(self.roi_controls)
        layout.addStretch(1)
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
            self.instruction.setText(f"{step.instruction}  (on the {step.view} view)")
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

    def _emit_for_active_side(self, signal: SignalInstance) -> None:
        """Emit ``signal`` with the active step's side ("" for a step without one); nothing without a step."""
        if self._active is not None:
            signal.emit(self._active.side or "")

    def update_status(self, landmarks: LandmarkSet) -> None:
        """Refresh done marks, the grade box and the 'still missing' summary from ``landmarks``."""
        statuses = workflow.statuses(landmarks)
        for row, status in enumerate(statuses):
            item = self.list.item(row)
            item.setText(("✔ " if status.done else "○ ") + status.title)
            item.setForeground(QColor(30, 130, 60) if status.done else self.list.palette().text().color())
        missing = [s.title for s in statuses if not s.done]  # grades count: "all placed" means all done
        if not missing:
            self.summary.setText("All steps done.")
        else:
            shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            self.summary.setText(f"Still to do ({len(missing)}): {shown}")
        self.summary.setToolTip("\n".join(missing))
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

    def show_checks(self, messages: list[str]) -> None:
        """Warnings about placed landmarks (e.g. an ROI on the cortex), shown until they are fixed."""
        self.checks.setText(" ".join(f"⚠ {m}" for m in messages))
        self.checks.setToolTip("\n".join(messages))

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
