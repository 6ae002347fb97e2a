"""Printing the PDF report: its pages rasterised with pypdfium2 onto any paged paint device.

Qt's own PDF renderer (QtPdf) is not in PySide6-Essentials, so the report PDF the export
writes is rendered page by page with PDFium and drawn onto the printer. The same PDF is
exported and printed, so paper and file never disagree.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPagedPaintDevice, QPainter

from cbct_osteo.errors import PrintError

#: Rasterisation cap (dots per inch): beyond this a report's text and figures gain nothing on paper.
MAX_DPI = 300.0
POINTS_PER_INCH = 72.0


def paint_pdf(device: QPagedPaintDevice, pdf_path: str | Path, max_dpi: float = MAX_DPI) -> int:
    """Draw every page of ``pdf_path`` onto ``device`` (a QPrinter or QPdfWriter), one page per page.

    Each page is rendered at the device's resolution (capped at ``max_dpi``), scaled to fit the
    device's paintable rectangle with its aspect ratio kept, and centred. Returns the number of
    pages painted.

    Raises
    ------
    cbct_osteo.errors.PrintError
        When the PDF cannot be read or the device cannot be painted on (e.g. a printer that
        went away); the message names the file.
    """
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(pdf_path))
    except pdfium.PdfiumError as exc:
        raise PrintError(pdf_path, f"cannot be read as a PDF ({exc})") from exc
    count = len(document)
    painter = QPainter()
    try:
        if not painter.begin(device):
            raise PrintError(pdf_path, "cannot be printed: the printer could not be opened")
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        target = QRectF(0, 0, device.width(), device.height())  # the paintable area in device pixels
        for number in range(count):
            if number:
                device.newPage()
            page = document[number]
            width_pt, height_pt = page.get_size()
            scale = min(target.width() / width_pt, target.height() / height_pt)  # device pixels per point
            render_scale = min(scale, max_dpi / POINTS_PER_INCH)
            image = _to_qimage(page.render(scale=render_scale).to_pil())
            drawn = QRectF(0, 0, width_pt * scale, height_pt * scale)
            drawn.moveCenter(target.center())
            painter.drawImage(drawn, image)
            page.close()
    finally:
        if painter.isActive():
            painter.end()
        document.close()
    return count


def _to_qimage(pil_image) -> QImage:
    rgb = pil_image.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()  # own the pixels
