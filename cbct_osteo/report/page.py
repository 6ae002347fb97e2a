"""The default paper size: Letter where the locale's territory uses it, A4 everywhere else."""

from __future__ import annotations

import locale
import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

#: Territories whose standard office paper is US Letter (ISO 3166 codes).
LETTER_TERRITORIES = frozenset(
    {"US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PR", "SV", "NI", "PA", "DO", "BZ"}
)


def default_page_size() -> str:
    """``"Letter"`` or ``"A4"`` from the paper locale.

    POSIX precedence: ``LC_ALL``, then ``LC_PAPER``, then ``LANG``; the first one set decides
    (``C``/``POSIX`` give A4). Without any (e.g. Windows) the process locale decides.
    """
    setting = next((os.environ[n] for n in ("LC_ALL", "LC_PAPER", "LANG") if os.environ.get(n)), None)
    if setting is None:
        try:
            setting = locale.getlocale()[0] or ""
        except ValueError:
            setting = ""
    match = re.match(r"^[a-zA-Z]{2,3}[_-]([A-Za-z]{2})(?![A-Za-z])", setting)
    if match and match.group(1).upper() in LETTER_TERRITORIES:
        return "Letter"
    return "A4"


def draw_watermark(canvas: Canvas, page_size: tuple[float, float], text: str) -> None:
    """Stamp ``text`` across the page (diagonal, light red) and in a banner at its top.

    Used for reports of incomplete cases (see :mod:`cbct_osteo.report.completeness`): the mark
    is drawn on every page so that no printed page can pass for a final report. The banner
    is real text, so it is also found when the PDF's text is extracted.
    """
    import math

    from reportlab.lib import colors

    width, height = page_size
    angle = math.degrees(math.atan2(height, width))
    size = min(44.0, 0.8 * math.hypot(width, height) / max(canvas.stringWidth(text, "Helvetica-Bold", 1.0), 1e-6))
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.8, 0.1, 0.1, alpha=0.16))
    canvas.setFont("Helvetica-Bold", size)  # fits along the diagonal on A4 and Letter
    canvas.translate(width / 2.0, height / 2.0)
    canvas.rotate(angle)
    canvas.drawCentredString(0, 0, text)
    canvas.restoreState()
    canvas.saveState()
    canvas.setFillColor(colors.HexColor("#b3261e"))
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawCentredString(width / 2.0, height - 22, text)
    canvas.restoreState()
