"""The live results panel: every index per side and both sides, category next to value, quality, screening.

It mirrors the latest analysis (owned by :class:`~cbct_osteo.gui.analysis.AnalysisController`)
and only emits what the user asked for. Rows come from the index catalogue; the side order
(Right | Left) and the category words match the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
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
from cbct_osteo.indices.catalogue import IndexEntry, all_entries
from cbct_osteo.indices.screening_words import display_id, plain_words
from cbct_osteo.indices.table import cutoff_text
from cbct_osteo.measure.case import CORTICAL_IDS
from cbct_osteo.measure.quantity import format_value
from cbct_osteo.report.screening_text import screening_text

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
    first and its caveats under "Limits". Experimental measurements (BV/TV) are hidden, as in
    the report, unless View > Show experimental measurements; site indices (Preferences) get
    their own rows and say where they come from.
    """

    exportRequested = Signal()
    refineChanged = Signal(bool)
    #: The (side, id) pairs (id in W, S, I) the user takes as placed.
    asPlacedChanged = Signal(object)

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
        self._entries: list[IndexEntry] = list(all_entries())
        self.show_experimental = False
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
        self.refine.currentIndexChanged.connect(self._refine_chosen)
        method.addWidget(self.refine, stretch=1)
        layout.addLayout(method)
        layout.addLayout(self._build_as_placed())
        self.table = QTableWidget(0, len(self.HEADERS), self)
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
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        layout.addWidget(self.table)
        self.site_note = QLabel("")
        self.site_note.setObjectName("siteIndexNote")
        self.site_note.setWordWrap(True)
        self.site_note.setVisible(False)
        layout.addWidget(self.site_note)
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
        self.result: Any = None  # the CaseResult shown
        self._build_rows()

    def _build_as_placed(self) -> QGridLayout:
        """One check per side and measurement: take it as placed although the case is edge-refined."""
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(0)
        grid.addWidget(QLabel("As placed:"), 0, 0)
        self.as_placed_boxes: dict[tuple[str, str], QCheckBox] = {}
        for row, side in enumerate(workflow.SIDE_ORDER):
            grid.addWidget(QLabel(side.capitalize()), row, 1)
            for col, mid in enumerate(CORTICAL_IDS, start=2):
                box = QCheckBox(mid, self)
                box.setObjectName(f"asPlaced_{side}_{mid}")
                box.setToolTip(
                    f"Take {side} {mid} from your markers as placed, not from the edge fit "
                    "(W, S and I share the fitted cortical border)"
                )
                box.toggled.connect(lambda _checked: self.asPlacedChanged.emit(self.as_placed()))
                grid.addWidget(box, row, col)
                self.as_placed_boxes[(side, mid)] = box
        grid.setColumnStretch(len(CORTICAL_IDS) + 2, 1)
        return grid

    def as_placed(self) -> tuple[tuple[str, str], ...]:
        """The (side, id) pairs checked "as placed" (meaningful while the case is edge-refined)."""
        return tuple(sorted(key for key, box in self.as_placed_boxes.items() if box.isChecked()))

    def _refine_chosen(self, index: int) -> None:
        for box in self.as_placed_boxes.values():
            box.setEnabled(index == 0)  # "as placed" for the whole case: every measurement is
        self.refineChanged.emit(index == 0)

    # ---- rows
    def set_extra_entries(self, extra: tuple[IndexEntry, ...]) -> None:
        """Add site (or verified) indices read from definition files to the rows, after the catalogue's."""
        from cbct_osteo.indices.definition_file import catalogue_with

        entries = list(catalogue_with(extra))
        if [e.id for e in entries] == [e.id for e in self._entries]:
            return
        self._entries = entries
        notes = [f"{e.id}: {e.name}, {e.cutoff.note}" for e in extra if e.cutoff is not None and e.cutoff.note]
        self.site_note.setText("\n".join(notes))
        self.site_note.setVisible(bool(notes))
        self._build_rows()

    def set_show_experimental(self, show: bool) -> None:
        """Show or hide the experimental rows (hidden by default, as in the report)."""
        self.show_experimental = bool(show)
        self._build_rows()

    def shown_ids(self) -> list[str]:
        """The index ids of the rows shown, in order."""
        return [e.id for row, e in enumerate(self._entries) if not self.table.isRowHidden(row)]

    def _build_rows(self) -> None:
        self.table.clearContents()
        self.table.setRowCount(len(self._entries))
        for row, entry in enumerate(self._entries):
            label = display_id(entry.id) + (" (experimental)" if entry.experimental else "")
            item = QTableWidgetItem(label)
            tip = f"{entry.name} ({entry.unit})\nStatus: {entry.status}\n" + "\n".join(entry.citations)
            if entry.experimental:
                tip += f"\nExperimental: {entry.experimental}"
            if entry.cutoff is not None and entry.cutoff.note and entry.status == "site-derived":
                tip += f"\n{entry.cutoff.note}"
            item.setToolTip(tip)
            self.table.setItem(row, 0, item)
            self.table.setRowHidden(row, bool(entry.experimental) and not self.show_experimental)
        shown = sum(not self.table.isRowHidden(r) for r in range(self.table.rowCount()))
        rows_height = self.table.verticalHeader().defaultSectionSize() * shown
        self.table.setFixedHeight(rows_height + self.table.horizontalHeader().sizeHint().height() + 4)
        if self.result is not None:  # the rows changed under a result on screen: fill them again
            self.show_result(self.result)

    def cell_text(self, index_id: str, column: str) -> str:
        """The text shown for ``index_id`` in a column of :attr:`HEADERS` ("Mean" = "Both")."""
        row = [e.id for e in self._entries].index(index_id)
        col = self.HEADERS.index({"Mean": "Both"}.get(column, column))
        item = self.table.item(row, col)
        return item.text() if item else ""

    def set_refine(self, refine: bool, as_placed: tuple[tuple[str, str], ...] = ()) -> None:
        """Mirror the case's choice (no signals): edge-refined or as placed, and the per-measurement checks."""
        self.refine.blockSignals(True)
        self.refine.setCurrentIndex(0 if refine else 1)
        self.refine.blockSignals(False)
        for key, box in self.as_placed_boxes.items():
            box.blockSignals(True)
            box.setChecked(key in as_placed or not refine)
            box.setEnabled(refine)
            box.blockSignals(False)

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

    def show_result(self, result) -> None:
        """Fill the table from a :class:`cbct_osteo.indices.CaseResult`."""
        self.result = result
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
        self.screening.setText(screening_html({"screening": result.screening.to_json()}))


def screening_html(results: Mapping[str, Any]) -> str:
    """The finding first (result, what it rests on, what to do), then the caveats under "Limits".

    The words are the report's (:func:`cbct_osteo.report.screening_text.screening_text`).
    """
    from cbct_osteo.indices.catalogue import DISCLAIMER

    words = screening_text(results)
    limits = "".join(f"<li>{escape(c)}</li>" for c in (*words.caveats, DISCLAIMER))
    return (
        f"<p><b>Screening: {escape(words.result)}</b></p><p>{escape(words.finding)}</p>"
        f"<p><i>{escape(words.recommendation)}</i></p>"
        f"<p style='color:#666'>Limits:</p><ul style='color:#666'>{limits}</ul>"
    )


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
    placed = [k for k, m in (getattr(result, "inputs", None) or {}).items() if getattr(m, "method", "") == "manual"]
    if placed:
        tip += f"\nas placed: {', '.join(placed)}"
    if quality == "not measurable":
        return "n/m", tip
    if isinstance(result.value, str):
        text = result.value
    elif result.value is None:
        return "–", tip
    else:
        text = format_value(result.value, result.uncertainty)
    return (f"{text} ⚠" if quality == "uncertain" else text), tip
