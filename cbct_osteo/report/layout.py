"""The PDF layout (reportlab platypus): header, screening result, tables, figures, limits, citations.

Pure function of already-prepared content (:class:`ReportContent`) to PDF bytes, so it can be
tested and looked at without a volume, and the caller decides where and how the bytes are
written (atomically, see :func:`cbct_osteo.report.pdf.write_pdf_report`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import (
    Image as RLImage,
)

from cbct_osteo.report import statements
from cbct_osteo.report.cell_markup import CATEGORY_COLOURS, category_markup, grouped_quality_notes, value_markup
from cbct_osteo.report.figures import Figure, placeholder
from cbct_osteo.report.header import ReportHeader
from cbct_osteo.report.table import IndexRow, MeasurementRow

PAGE_SIZES = {"A4": A4, "LETTER": LETTER}
MARGIN = 14 * mm
FONT = "Vera"
FONT_BOLD = "VeraBd"
FONT_ITALIC = "VeraIt"
INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6673")
RULE = colors.HexColor("#c9d1da")
HEAD_FILL = colors.HexColor("#e9eef4")
SCREENING_FILLS = {"low": "#fdecea", "normal": "#eaf5ee", "other": "#f1f3f5"}


@dataclass(frozen=True)
class ReportContent:
    """Everything the PDF shows, already turned into text and images.

    ``screening`` is the results JSON's ``screening`` block; ``tone`` picks its box colour
    (``"low"``, ``"normal"`` or ``"other"``). ``citations`` are numbered in order; index rows
    refer to them through ``citation_numbers``.
    """

    header: ReportHeader
    screening: Mapping[str, str]
    tone: str
    index_rows: Sequence[IndexRow]
    measurement_rows: Sequence[MeasurementRow]
    citation_numbers: Mapping[str, Sequence[int]]
    citations: Sequence[str]
    panoramic: Figure | None
    cross_sections: Mapping[str, Figure | None]
    view3d: Image.Image | None
    method_note: str = ""
    measurement_names: Mapping[str, str] = field(default_factory=dict)
    #: Whether the scan's gray values are Hounsfield units (the limits say so, or that they are not).
    calibrated_hu: bool = False
    #: The scan's own limitations (plain sentences, :func:`cbct_osteo.io.scan_warnings.scan_warnings`).
    scan_limits: Sequence[str] = ()
    #: Where the screening's index and cutoff come from (:mod:`cbct_osteo.report.screening_text`).
    screening_caveats: Sequence[str] = ()


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register Bitstream Vera (shipped inside reportlab) so ≤, −, ± and × print everywhere.

    Also switch off reportlab's ASCII85 wrapping of binary streams: without the optional
    ``rl_accel`` C extension it runs in pure Python and costs seconds per report for the
    images, and binary streams are plain PDF 1.4.
    """
    import reportlab
    from reportlab import rl_config
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    rl_config.useA85 = 0
    folder = Path(reportlab.__file__).parent / "fonts"
    for name, file in (
        (FONT, "Vera.ttf"),
        (FONT_BOLD, "VeraBd.ttf"),
        (FONT_ITALIC, "VeraIt.ttf"),
        ("VeraBI", "VeraBI.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, FONT_BOLD)
    addMapping(FONT, 0, 1, FONT_ITALIC)
    addMapping(FONT, 1, 1, "VeraBI")


#: The paragraph styles of the report, by name ("body", "h2", "cell" ...).
Styles = Mapping[str, ParagraphStyle]


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=8.6, leading=11.2, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.4, leading=9.4, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.2, leading=10.0),
        "cellc": ParagraphStyle("cellc", parent=base, fontSize=8.2, leading=10.0, alignment=TA_CENTER),
        "head": ParagraphStyle("head", parent=base, fontName=FONT_BOLD, fontSize=7.8, leading=9.6, textColor=INK),
        "headc": ParagraphStyle(
            "headc", parent=base, fontName=FONT_BOLD, fontSize=7.8, leading=9.6, alignment=TA_CENTER
        ),
        "practice": ParagraphStyle("practice", parent=base, fontName=FONT_BOLD, fontSize=13, leading=16),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=11, leading=14, textColor=MUTED),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=FONT_BOLD, fontSize=10, leading=13, spaceBefore=7, spaceAfter=3
        ),
        "result": ParagraphStyle("result", parent=base, fontName=FONT_BOLD, fontSize=11, leading=14),
        "caption": ParagraphStyle("caption", parent=base, fontSize=7.4, leading=9.2, textColor=MUTED, spaceBefore=1.5),
        "cite": ParagraphStyle("cite", parent=base, fontSize=7.4, leading=9.3, leftIndent=12, firstLineIndent=-12),
        "limit": ParagraphStyle(
            "limit", parent=base, fontSize=8.0, leading=10.3, leftIndent=9, firstLineIndent=-9, spaceAfter=1.5
        ),
    }


def build_pdf(
    content: ReportContent,
    *,
    page_size: str = "A4",
    title: str,
    author: str,
    subject: str,
    keywords: Sequence[str],
    decorate_page: Callable[[Canvas, tuple[float, float]], None] | None = None,
) -> bytes:
    """Lay out the report and return the PDF bytes.

    Parameters
    ----------
    page_size
        ``"A4"`` or ``"Letter"`` (case-insensitive).
    title, author, subject, keywords
        The PDF document information. The caller makes them identifier-free when anonymising.
    decorate_page
        ``decorate_page(canvas, page_size)`` draws on every page (e.g. the INCOMPLETE watermark).
    """
    register_fonts()
    size = PAGE_SIZES[page_size.upper()]
    st = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=size,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=title,
        author=author,
        subject=subject,
        keywords=list(keywords),
        creator=content.header.software,
        producer=content.header.software,
    )
    width = doc.width - 12  # the frame keeps reportlab's default 6 pt padding on each side
    height = doc.height - 12
    story: list[Flowable] = []
    story += _title_block(content.header, st, width)
    story += _header_table(content.header, st, width)
    story.append(Spacer(1, 4 * mm))
    story.append(_screening_box(content, st, width))
    story.append(Spacer(1, 3 * mm))
    story.append(Paragraph("Indices", st["h2"]))
    story.append(_index_table(content, st, width))
    story.append(
        Paragraph(
            "Values are rounded to the precision their measurement uncertainty supports. Category: <i>low</i> = "
            "below the cutoff (at risk); <i>no validated cutoff</i> = value only. Numbers in brackets refer to the "
            "citations.",
            st["small"],
        )
    )
    measurements: list[Flowable] = [Paragraph("Measurements", st["h2"]), _measurement_table(content, st, width)]
    if content.method_note:
        measurements.append(Paragraph(escape(content.method_note), st["small"]))
    measured = {row.id for row in content.measurement_rows} | set(content.measurement_names)
    rows: list[MeasurementRow | IndexRow] = [*content.measurement_rows, *content.index_rows]
    quality_notes = grouped_quality_notes([row for row in rows if row.id in measured])
    if quality_notes:  # why a value is "uncertain" or "not measurable" (results JSON "notes")
        measurements.append(Paragraph("<b>Quality notes</b>", st["small"]))
        measurements += [Paragraph("• " + escape(n), st["small"]) for n in quality_notes]
    story.append(KeepTogether(measurements))
    story += _figures(content, st, width, height)
    story.append(CondPageBreak(60 * mm))
    story.append(Paragraph("Limits of this screening", st["h2"]))
    story += [Paragraph("• " + escape(text), st["limit"]) for text in statements.limits(content.calibrated_hu)]
    if content.screening_caveats:
        story.append(Paragraph("<b>This screening</b>", st["body"]))
        story += [Paragraph("• " + escape(text), st["limit"]) for text in content.screening_caveats]
    if content.scan_limits:
        story.append(Paragraph("<b>This scan</b>", st["body"]))
        story += [Paragraph("• " + escape(text), st["limit"]) for text in content.scan_limits]
    story.append(Paragraph("Citations", st["h2"]))
    story += [Paragraph(f"[{i}]&nbsp; {escape(text)}", st["cite"]) for i, text in enumerate(content.citations, 1)]
    story.append(Spacer(1, 10 * mm))
    story.append(_signature(st, width))

    footer_text = (
        f"{content.header.case_label} · {statements.TITLE} · {content.header.software} · screening aid, not a diagnosis"
    )

    def on_page(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.setFillColor(MUTED)
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, MARGIN, size[0] - MARGIN, MARGIN)
        canvas.drawString(MARGIN, MARGIN - 9, footer_text)
        canvas.drawRightString(size[0] - MARGIN, MARGIN - 9, f"page {document.page}")
        canvas.restoreState()
        if decorate_page is not None:
            decorate_page(canvas, size)

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def _title_block(header: ReportHeader, st: Styles, width: float) -> list[Flowable]:
    left: list[Flowable] = [Paragraph(escape(header.practice_name), st["practice"])] if header.practice_name else []
    left.append(Paragraph(escape(statements.TITLE), st["title"] if header.practice_name else st["practice"]))
    right = Paragraph(
        f"Report date<br/><b>{escape(header.report_date)}</b>", ParagraphStyle("rd", parent=st["body"], alignment=2)
    )
    table = Table([[left, right]], colWidths=[width * 0.75, width * 0.25])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return [table, Spacer(1, 2.5 * mm)]


def _header_table(header: ReportHeader, st: Styles, width: float) -> list[Flowable]:
    rows = [(label, value) for label, value in header.rows() if label != "Report date"]
    if header.anonymised:
        rows.insert(0, ("Patient", "anonymised"))
    half = (len(rows) + 1) // 2
    label_style = ParagraphStyle("lbl", parent=st["small"], textColor=MUTED)
    data: list[list[Flowable | str]] = []
    for i in range(half):
        row: list[Flowable | str] = []
        for pair in (rows[i], rows[i + half] if i + half < len(rows) else None):
            if pair is None:
                row += ["", ""]
            else:
                row += [Paragraph(escape(pair[0]), label_style), Paragraph(escape(pair[1]), st["body"])]
        data.append(row)
    table = Table(data, colWidths=[width * 0.13, width * 0.37, width * 0.13, width * 0.37])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return [table]


def _screening_box(content: ReportContent, st: Styles, width: float) -> Table:
    screening = content.screening
    fill = colors.HexColor(SCREENING_FILLS.get(content.tone, SCREENING_FILLS["other"]))
    edge = colors.HexColor(CATEGORY_COLOURS.get(content.tone, "#7a8591"))
    cells: list[Flowable] = [
        Paragraph("Screening result", ParagraphStyle("sl", parent=st["small"], textColor=edge)),
        Paragraph(escape(screening.get("result", "")), st["result"]),
    ]
    if screening.get("explanation"):
        cells.append(Paragraph(escape(screening["explanation"]), st["body"]))
    if screening.get("recommendation"):
        cells.append(Spacer(1, 1.5 * mm))
        cells.append(Paragraph("<b>Recommendation:</b> " + escape(screening["recommendation"]), st["body"]))
    cells.append(Spacer(1, 1.5 * mm))
    cells.append(
        Paragraph(
            "A screening aid, not a diagnosis; DXA is the reference standard. See “Limits of this screening”.",
            st["small"],
        )
    )
    box = Table([[cells]], colWidths=[width])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), fill),
                ("LINEBEFORE", (0, 0), (0, -1), 4, edge),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return box


def _index_table(content: ReportContent, st: Styles, width: float) -> Table:
    heads = ["Index", "Unit", "Right", "Left", "Mean", "Cutoff", "Notes"]
    data = [[Paragraph(h, st["headc" if 2 <= i <= 5 else "head"]) for i, h in enumerate(heads)]]
    for row in content.index_rows:
        refs = content.citation_numbers.get(row.id, ())
        name = f"{escape(row.name)}<br/><font size='6.8' color='#5b6673'>{escape(row.id)}"
        name += f" [{','.join(str(n) for n in refs)}]</font>" if refs else "</font>"
        cells = [Paragraph(name, st["cell"]), Paragraph(escape(row.unit), st["cell"])]
        for column in ("right", "left", "mean"):
            cell = row.cells[column]
            cells.append(Paragraph(value_markup(cell) + category_markup(cell.category), st["cellc"]))
        cells.append(Paragraph(escape(row.cutoff), st["cellc"]))
        cells.append(Paragraph(escape(row.note), ParagraphStyle("note", parent=st["small"], fontSize=6.8, leading=8.4)))
        data.append(cells)
    widths = [0.22, 0.07, 0.1, 0.1, 0.1, 0.12, 0.29]
    table = Table(data, colWidths=[width * w for w in widths], repeatRows=1)
    table.setStyle(_grid_style(len(data)))
    return table


def _measurement_table(content: ReportContent, st: Styles, width: float) -> Table:
    heads = ["Measurement", "Unit", "Right", "Left", "Method"]
    data = [[Paragraph(h, st["headc" if 2 <= i <= 3 else "head"]) for i, h in enumerate(heads)]]
    for row in content.measurement_rows:
        name = content.measurement_names.get(row.id, row.id)
        label = f"{escape(name)} <font size='6.8' color='#5b6673'>{escape(row.id)}</font>"
        data.append(
            [
                Paragraph(label, st["cell"]),
                Paragraph(escape(row.unit), st["cell"]),
                Paragraph(escape(row.cells["right"]), st["cellc"]),
                Paragraph(escape(row.cells["left"]), st["cellc"]),
                Paragraph(escape(row.method), st["cell"]),
            ]
        )
    widths = [0.42, 0.08, 0.16, 0.16, 0.18]
    table = Table(data, colWidths=[width * w for w in widths], repeatRows=1)
    table.setStyle(_grid_style(len(data)))
    return table


def _grid_style(n_rows: int) -> TableStyle:
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    return TableStyle(style)


#: Largest share of the frame's height one figure may take: with its caption and a heading it
#: must fit on one page, whatever the shape of the volume it was drawn from.
FIGURE_HEIGHT_SHARE = {"panoramic": 0.42, "cross-section": 0.36, "3d": 0.34}


def _image_flowable(image: Image.Image, width: float, max_height: float) -> RLImage:
    """The image scaled to fit ``width`` x ``max_height`` (points), keeping its aspect ratio."""
    buffer = io.BytesIO()
    # reportlab decodes the PNG and deflates the pixels itself, so a fast, light PNG is enough here.
    image.save(buffer, format="PNG", compress_level=1)
    buffer.seek(0)
    scale = min(width / image.size[0], max_height / image.size[1])
    return RLImage(buffer, width=image.size[0] * scale, height=image.size[1] * scale)


def _figures(content: ReportContent, st: Styles, width: float, height: float) -> list[Flowable]:
    blocks: list[Flowable] = [CondPageBreak(120 * mm), Paragraph("Images", st["h2"])]
    if content.panoramic is not None:
        panoramic = _image_flowable(content.panoramic.image, width, FIGURE_HEIGHT_SHARE["panoramic"] * height)
        blocks.append(KeepTogether([panoramic, Paragraph(escape(content.panoramic.caption), st["caption"])]))
        blocks.append(Spacer(1, 3 * mm))
    gap = 4 * mm
    cell_width = (width - gap) / 2
    cells = []
    for side in ("right", "left"):
        figure = content.cross_sections.get(side)
        if figure is None:
            word = "right" if side == "right" else "left"
            image = placeholder(f"No cross-section on the {word} side:\nthe mental foramen was not placed.", (640, 640))
            figure = Figure(image, f"{word.capitalize()} side: not available")
        flowable = _image_flowable(figure.image, cell_width, FIGURE_HEIGHT_SHARE["cross-section"] * height)
        cells.append([flowable, Paragraph(escape(figure.caption), st["caption"])])
    pair = Table([cells], colWidths=[cell_width + gap / 2, cell_width + gap / 2])
    pair.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    blocks.append(KeepTogether([pair, Paragraph(escape(statements.IMAGING_NOTE), st["caption"])]))
    blocks.append(Spacer(1, 3 * mm))
    if content.view3d is None:
        box = Table(
            [
                [
                    Paragraph(
                        "<b>3D view unavailable</b><br/>It could not be rendered on this computer (no "
                        "offscreen OpenGL). The measurements do not depend on it.",
                        ParagraphStyle("na", parent=st["body"], alignment=TA_CENTER, textColor=MUTED),
                    )
                ]
            ],
            colWidths=[width * 0.5],
            rowHeights=[22 * mm],
        )
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.8, RULE),
                    ("BACKGROUND", (0, 0), (-1, -1), HEAD_FILL),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        blocks.append(box)
        return blocks
    blocks.append(
        KeepTogether(
            [
                _image_flowable(content.view3d, width * 0.5, FIGURE_HEIGHT_SHARE["3d"] * height),
                Paragraph(
                    "3D view of the mandible from the front and below: mental foramina (yellow), cortical width "
                    "sites (red), trabecular ROIs (cyan). For orientation only; measurements are made on the "
                    "cross-sections.",
                    st["caption"],
                ),
            ]
        )
    )
    return blocks


def _signature(st: Styles, width: float) -> KeepTogether:
    lines = statements.SIGNATURE_LINES
    data: list[list[Flowable | str]] = [
        ["", "", ""],
        [Paragraph(escape(lines[0]), st["small"]), "", Paragraph(escape(lines[1]), st["small"])],
    ]
    table = Table(data, colWidths=[width * 0.6, width * 0.08, width * 0.32], rowHeights=[14 * mm, None])
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (0, 0), 0.8, INK),
                ("LINEBELOW", (2, 0), (2, 0), 0.8, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return KeepTogether([Paragraph("Review", st["h2"]), table])
