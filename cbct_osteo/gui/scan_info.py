"""Scan problems reach the user: a dismissible banner after loading and a "Scan info" dialog.

Both show :func:`cbct_osteo.io.scan_warnings.scan_warnings` (interpolated or missing slices,
tilt, oblique stacks, coarse slices, non-square pixels, uncalibrated gray values); the dialog
adds the series' key DICOM tags. The banner is shown once per opened scan.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cbct_osteo.io.scan_warnings import ScanWarning, scan_warnings
from cbct_osteo.volume import Volume


def key_tags(volume: Volume) -> list[tuple[str, str]]:
    """(label, value) of the tags a user checks first, without patient identifiers."""
    meta = volume.meta
    z, y, x = volume.spacing
    units = "Hounsfield units (calibrated)" if meta.units == "HU" else f"{meta.units} (not calibrated)"
    rows = [
        ("Modality", meta.modality),
        ("Manufacturer / model", " ".join(p for p in (meta.manufacturer, meta.model) if p)),
        ("Series", " ".join(p for p in (meta.series_number, meta.series_description) if p)),
        ("Study date", meta.study_date),
        ("Size (slices × rows × columns)", " × ".join(str(n) for n in volume.shape)),
        ("Voxel size z / y / x", f"{z:.3g} / {y:.3g} / {x:.3g} mm"),
        ("Gray values", units),
        ("kVp / mA", " / ".join(f"{v:g}" for v in (meta.kvp, meta.tube_current_ma) if v is not None)),
        ("Transfer syntax", meta.transfer_syntax),
        ("Series UID", meta.series_uid),
    ]
    return [(label, value or "not recorded") for label, value in rows]


class ScanBanner(QFrame):
    """A yellow strip over the views listing the scan's warnings; Dismiss hides it until the next scan."""

    infoRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scanBanner")
        self.setStyleSheet("#scanBanner { background: #fff4c2; border: 1px solid #d9b200; } QLabel { color: #3d3200; }")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 3, 4, 3)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        row.addWidget(self.text, stretch=1)
        info = QPushButton("Scan info…")
        info.clicked.connect(self.infoRequested)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.clicked.connect(self.hide)
        row.addWidget(info)
        row.addWidget(self.dismiss)
        self.hide()

    def show_warnings(self, warnings: list[ScanWarning]) -> None:
        if not warnings:
            self.hide()
            return
        self.text.setText("<b>About this scan:</b> " + " ".join(escape(w.message) for w in warnings))
        self.show()


class ScanInfoDialog(QDialog):
    def __init__(self, volume: Volume, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scanInfo")
        self.setWindowTitle("Scan info")
        rows = "".join(f"<tr><td><b>{escape(k)}</b></td><td>&nbsp;{escape(v)}</td></tr>" for k, v in key_tags(volume))
        warnings = scan_warnings(volume)
        listed = "".join(f"<li>{escape(w.message)}</li>" for w in warnings) or "<li>None found.</li>"
        self.browser = QTextBrowser(self)
        self.browser.setHtml(f"<table>{rows}</table><h4>Limitations of this scan</h4><ul>{listed}</ul>")
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 420)
