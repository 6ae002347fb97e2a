"""The live results panel: every index per side and both sides, category next to value, quality, screening.

It mirrors the latest analysis (owned by :class:`~cbct_osteo.gui.analysis.AnalysisController`)
and only emits what the user asked for. Rows come from the index catalogue; the side order
(Right | Left) and the category words match the report.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cbct_osteo.gui import workflow
from cbct_osteo.indices.catalogue import all_entries
from cbct_osteo.indices.table import cutoff_text
from cbct_osteo.measure.quantity import format_value

CATEGORY_COLOURS = {
    "low": QColor(220, 70, 60),
    "normal": QColor(60, 170, 90),
    "no validated cutoff": QColor(130, 130, 140),
    "not computable": QColor(90, 90, 95),
}


class ResultsPanel(QWidget):
    """Every index per side (Right | Left, as in the report) and both sides, its category next to the value.

    Each value carries its quality: "⚠" marks an uncertain value, "n/m" one the data could not
    support (never a 0), with the reasons in the tooltip. The screening states the finding
    first and its caveats under "Limits".
    """

    exportRequested = Signal()
    refineChanged = Signal(bool)

    HEADERS = ["Index", "Right", "Left", "Both", "Category"]
    #: Short category words for the narrow column (the full message is in the tooltip).
    CATEGORY_WORDS = {
        "no validated cutoff": "no cutoff",
        "definition pending verification": "pending",
        "not computable": "incomplete",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultsPanel")
        self._entries = all_entries()
        layout = QVBoxLayout(self)
        self.state = QLabel("No results yet: place the landmarks.")
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        method = QHBoxLayout()
        method.addWidget(QLabel("Cortical margins (W, S, I):"))
        self.refine = QComboBox(self)
        self.refine.addItems(["edge-refined", "as placed"])
        self.refine.setToolTip(
            "edge-refined: W is measured between the edges found along the measurement line (drawn "
            "dashed on the cross-section); as placed: between your two markers"
        )
        self.refine.currentIndexChanged.connect(lambda i: self.refineChanged.emit(i == 0))
        method.addWidget(self.refine, stretch=1)
        layout.addLayout(method)
        self.table = QTableWidget(len(self._entries), len(self.HEADERS), self)
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        mean_header = self.table.horizontalHeaderItem(3)
        assert mean_header is not None  # set by setHorizontalHeaderLabels just above
        mean_header.setToolTip("Mean of both sides (grades: the more advanced side)")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(False)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for row, entry in enumerate(self._entries):
            item = QTableWidgetItem(entry.id.replace("_", " "))
            item.setToolTip(f"{entry.name} ({entry.unit})\nStatus: {entry.status}\n" + "\n".join(entry.citations))
            self.table.setItem(row, 0, item)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        rows_height = self.table.verticalHeader().defaultSectionSize() * len(self._entries)
        self.table.setFixedHeight(
            rows_height + self.table.horizontalHeader().sizeHint().height() + 4
        )  # every row shown
        layout.addWidget(self.table)
        layout.addWidget(QLabel("⚠ uncertain · n/m not measurable · hover a value for why"))
        self.screening = QLabel("")
        self.screening.setWordWrap(True)
        self.screening.setTextFormat(Qt.TextFormat.RichText)
        self.screening.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        screening_scroll = QScrollArea(self)
        screening_scroll.setWidgetResizable(True)
        screening_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        screening_scroll.setWidget(self.screening)
        screening_scroll.setMinimumHeight(90)
        layout.addWidget(screening_scroll, stretch=1)
        self.export = QPushButton("Export report (PDF)…")
        self.export.setToolTip("Write the PDF report for this scan and its landmarks (Ctrl+E)")
        self.export.clicked.connect(self.exportRequested)
        layout.addWidget(self.export)
        self.result = None

    def cell_text(self, index_id: str, column: str) -> str:
        """The text shown for ``index_id`` in a column of :attr:`HEADERS` ("Mean" = "Both")."""
        row = [e.id for e in self._entries].index(index_id)
        col = self.HEADERS.index({"Mean": "Both"}.get(column, column))
        item = self.table.item(row, col)
        return item.text() if item else ""

    def set_refine(self, refine: bool) -> None:
        self.refine.blockSignals(True)
        self.refine.setCurrentIndex(0 if refine else 1)
        self.refine.blockSignals(False)

    def show_busy(self) -> None:
        self.state.setText("Computing…")

    def show_message(self, text: str, clear: bool = False) -> None:
        """Say ``text``; with ``clear`` also withdraw the values and the screening shown (they no longer hold)."""
        self.state.setText(text)
        if clear:
            self.result = None
            for row in range(self.table.rowCount()):
                for col in range(1, self.table.columnCount()):
                    self.table.setItem(row, col, QTableWidgetItem(""))
            self.screening.setText("")

    def show_result(self, result, refine: bool = True) -> None:
        """Fill the table from a :class:`cbct_osteo.indices.CaseResult`."""
        self.result = result
        self.set_refine(refine)
        self.state.setText("Results update live as you place landmarks.")
        for row, entry in enumerate(self._entries):
            cells = []
            for side in workflow.SIDE_ORDER:
                side_result = result.sides.get(side)
                cells.append(_value_cell(side_result.indices.get(entry.id) if side_result else None))
            mean = result.mean.get(entry.id)
            both = _value_cell(mean)
            if entry.kind == "grade" and mean is not None and isinstance(mean.value, str):
                both = (f"{mean.value} (worse)", both[1])
            cells.append(both)
            category = mean.category if mean is not None else "not computable"
            cutoff = cutoff_text(entry, with_status=False)
            tip = "\n".join(
                t for t in (mean.message if mean is not None else "", f"Cutoff: {cutoff}" if cutoff else "") if t
            )
            cells.append((self.CATEGORY_WORDS.get(category, category), tip))
            for col, (text, tip) in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                if tip:
                    item.setToolTip(tip)
                if col == 4:
                    item.setBackground(CATEGORY_COLOURS.get(category, QColor(90, 90, 95)))
                    item.setForeground(QColor(255, 255, 255))
                self.table.setItem(row, col, item)
        self.screening.setText(screening_html(result.screening))


def screening_html(screening) -> str:
    """The finding first (result, what it rests on, what to do), then the caveats under "Limits"."""
    from cbct_osteo.indices.catalogue import DISCLAIMER
    from cbct_osteo.indices.scoring import CASTRO_PENDING_TEXT

    finding = screening.explanation
    caveats = []
    for caveat in (
        f"{CASTRO_PENDING_TEXT}; the screening uses {screening.primary_index} instead.",
        DISCLAIMER,
        "The cutoffs were derived mostly in postmenopausal women; this patient is recorded as male.",
    ):
        if caveat in finding:
            finding = finding.replace(caveat, "").strip()
            caveats.append(caveat)
    limits = "".join(f"<li>{escape(c)}</li>" for c in caveats)
    return (
        f"<p><b>Screening: {escape(screening.result)}</b></p><p>{escape(plain_words(finding))}</p>"
        f"<p><i>{escape(plain_words(screening.recommendation))}</i></p>"
        + (f"<p style='color:#666'>Limits:</p><ul style='color:#666'>{limits}</ul>" if limits else "")
    )


def plain_words(text: str) -> str:
    """Landmark ids in user text as words ("border_outer" -> "outer border")."""
    for kind, words in PLAIN_LANDMARKS.items():
        text = text.replace(kind, words)
    return text


#: The landmark ids the analysis' messages use, in the workflow's words.
PLAIN_LANDMARKS = {
    "foramen_centre": "foramen centre",
    "foramen_superior": "foramen upper margin",
    "foramen_inferior": "foramen lower margin",
    "border_outer": "outer border",
    "border_inner": "inner (endosteal) margin",
    "trab_roi": "trabecular ROI",
}


def quality_of(result) -> tuple[str, list[str]]:
    """("ok"|"uncertain"|"not measurable"|"", notes) of a result, read defensively (absent on older results)."""
    quality = getattr(result, "quality", None)
    notes = getattr(result, "notes", None)
    if quality is None:
        document = result.to_json() if hasattr(result, "to_json") else {}
        quality, notes = document.get("quality"), document.get("notes", notes)
    if not quality and getattr(result, "inputs", None):  # an index is as good as its worst measurement
        found = [quality_of(m) for m in result.inputs.values()]
        ranked = [q for q in QUALITY_ORDER if any(f[0] == q for f in found)]
        if ranked:
            quality = ranked[0]
            notes = [n for f in found if f[0] == quality for n in f[1]]
    return str(quality or ""), [str(n) for n in (notes or [])]


#: Worst first.
QUALITY_ORDER = ("not measurable", "uncertain", "ok")


def _value_cell(result) -> tuple[str, str]:
    """(text, tooltip) of a value: never a bare number for a value the data cannot support."""
    if result is None:
        return "–", ""
    quality, notes = quality_of(result)
    tip = plain_words("\n".join([result.message, *notes] if getattr(result, "message", "") else notes))
    if quality == "not measurable":
        return "n/m", tip
    if isinstance(result.value, str):
        text = result.value
    elif result.value is None:
        return "–", tip
    else:
        text = format_value(result.value, result.uncertainty)
    return (f"{text} ⚠" if quality == "uncertain" else text), tip
