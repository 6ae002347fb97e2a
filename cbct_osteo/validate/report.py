"""The validation report PDF (reportlab): cohort, methods, figures and a table of every number.

Uses the patient report's fonts and colours (:mod:`cbct_osteo.report.layout`) so ≤, − and ±
print, and writes atomically. The figures are the PNGs saved beside the PDF.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from cbct_osteo.io.atomic import write_bytes_atomic
from cbct_osteo.report.layout import (
    FONT,
    FONT_BOLD,
    HEAD_FILL,
    INK,
    MUTED,
    RULE,
    register_fonts,
)
from cbct_osteo.validate.methods import CHECK_BEFORE_PASTING, LIMITS, methods_paragraph
from cbct_osteo.validate.statistics import PROPORTIONS

MARGIN = 14 * mm
WARN_FILL = colors.HexColor("#fdecea")


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=8.4, leading=11, textColor=INK)
    return {
        "body": base,
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=13, leading=16),
        "sub": ParagraphStyle("sub", parent=base, fontSize=7.6, leading=9.6, textColor=MUTED),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=FONT_BOLD, fontSize=10, leading=13, spaceBefore=8, spaceAfter=3
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=6.9, leading=8.3),
        "head": ParagraphStyle("head", parent=base, fontName=FONT_BOLD, fontSize=6.9, leading=8.3),
        "warn": ParagraphStyle(
            "warn", parent=base, fontName=FONT_BOLD, fontSize=8.4, leading=11, textColor=colors.HexColor("#8a1c14")
        ),
        "caption": ParagraphStyle("caption", parent=base, fontSize=7.2, leading=9, textColor=MUTED),
        "limit": ParagraphStyle("limit", parent=base, fontSize=7.8, leading=10, leftIndent=9, firstLineIndent=-9),
    }


def _num(value: Any, digits: int = 2) -> str:
    return "\u2013" if value is None else f"{value:.{digits}f}"


def _ci(ci: Any, digits: int = 2) -> str:
    return f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if ci else ""


def _sig(value: Any) -> str:
    return "\u2013" if value is None else f"{value:.4g}"


def _p(value: Any) -> str:
    if value is None:
        return ""
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _proportion(at: dict[str, Any], name: str) -> str:
    """``0.77 [0.50, 0.92] (10/13)``: the value, its Wilson interval and the counts behind it."""
    if at.get(name) is None:
        return "\u2013"
    numerator, denominator = PROPORTIONS[name]
    counts = at["counts"]
    return f"{at[name]:.2f} {_ci(at[f'{name}_ci95'])} ({counts[numerator]}/{sum(counts[k] for k in denominator)})"


def _table(rows: list[list[str]], widths: list[float], st: dict[str, ParagraphStyle]) -> Table:
    cells = [[Paragraph(escape(c), st["head" if i == 0 else "cell"]) for c in row] for i, row in enumerate(rows)]
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
                ("TOPPADDING", (0, 0), (-1, -1), 1.6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6),
            ]
        )
    )
    return table


def _image(path: Path, width: float) -> Image:
    from PIL import Image as PILImage

    with PILImage.open(path) as picture:
        w, h = picture.size
    return Image(str(path), width=width, height=width * h / w)


def discrimination_rows(document: dict[str, Any]) -> list[list[str]]:
    """Per index: n (positives), AUC [CI], Youden cutoff [CI], r and rho with p, direction."""
    rows = [["index", "n (pos.)", "AUC [95 % CI]", "Youden cutoff [95 % CI]", "Pearson r", "Spearman rho", "at risk"]]
    for column, r in document["indices"].items():
        excluded = r.get("excluded", {})
        left_out = f", {excluded['quality']} quality" if excluded.get("quality") else ""
        rows.append(
            [
                column,
                f"{r['n']} ({r['positives']}){left_out}",
                f"{_num(r.get('auc'))} {_ci(r.get('auc_ci95'))}"
                if r.get("auc") is not None
                else r.get("reason", "\u2013"),
                f"{_sig(r.get('youden_cutoff'))} {_ci(r.get('youden_cutoff_ci95'), 3)}",
                f"{_num(r.get('pearson_r'))} ({_p(r.get('pearson_p'))})"
                if r.get("pearson_r") is not None
                else "\u2013",
                f"{_num(r.get('spearman_rho'))} ({_p(r.get('spearman_p'))})"
                if r.get("spearman_rho") is not None
                else "\u2013",
                f"{r['direction']}" + ("" if r["direction_source"].startswith("catalogue") else " (assumed)"),
            ]
        )
    return rows


def cutoff_rows(document: dict[str, Any]) -> list[list[str]]:
    """Per index with a published cutoff: sensitivity, specificity, PPV, NPV with Wilson intervals (count/of)."""
    rows = [["index", "published cutoff", "sensitivity", "specificity", "PPV", "NPV"]]
    for column, r in document["indices"].items():
        at = r.get("at_published_cutoff")
        if at:
            rows.append([column, at["rule"], *(_proportion(at, name) for name in PROPORTIONS)])
    return rows


def coefficient_rows(model: dict[str, Any]) -> list[list[str]]:
    rows = [["feature", "log-odds per SD [95 % CI]", "odds ratio per SD"]]
    # strict=False: a model that could not be fitted has no coefficients but still lists its features
    coefficients, descriptions = model.get("coefficients", {}), model.get("feature_descriptions", [])
    for (name, c), description in zip(coefficients.items(), descriptions, strict=False):
        rows.append([description or name, f"{c['per_sd']:.2f} {_ci(c['ci95'])}", f"{c['odds_ratio_per_sd']:.2f}"])
    return rows


def build_validation_pdf(document: dict[str, Any], figures: dict[str, Path], site_index: Path | None = None) -> bytes:
    """Lay out the report; ``figures`` are the PNG paths of :func:`cbct_osteo.validate.figures.save_figures`."""
    register_fonts()
    st = _styles()
    width = A4[0] - 2 * MARGIN
    provenance = document["provenance"]
    story: list[Any] = [
        Paragraph("Validation of CBCT mandibular indices against DXA", st["title"]),
        Paragraph(
            escape(
                f"{provenance['software']}, catalogue {provenance['catalogue']}, analysed "
                f"{provenance['analysed_at']}; results {provenance['results_csv']}; reference "
                f"{provenance['reference_csv']}; seed {provenance['seed']}"
            ),
            st["sub"],
        ),
        Spacer(1, 4),
    ]
    for text in document["warnings"]:
        box = Table([[Paragraph(escape("Warning: " + text), st["warn"])]], colWidths=[width])
        box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), WARN_FILL), ("BOX", (0, 0), (-1, -1), 0.5, RULE)]))
        story += [box, Spacer(1, 3)]
    excluded = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in document["excluded"].items())
    story += [
        Paragraph("Cohort", st["h2"]),
        Paragraph(
            escape(
                f"{document['n']} cases analysed, {document['positives']} positive for "
                f"{document['target_definition']}. Left out \u2013 {excluded}. Per index, cases whose "
                "measurements are not of \u201cok\u201d quality or are empty are left out as well (table)."
            ),
            st["body"],
        ),
        Paragraph("Methods", st["h2"]),
        Paragraph(escape(methods_paragraph(document)), st["body"]),
        Paragraph(escape(CHECK_BEFORE_PASTING), st["caption"]),
        Paragraph("Discrimination", st["h2"]),
    ]
    if "roc" in figures:
        story += [
            KeepTogether(
                [
                    _image(figures["roc"], width * 0.62),
                    Paragraph(
                        "ROC curves of both sides' mean of each index, and the combined model's "
                        "out-of-fold ROC (dashed).",
                        st["caption"],
                    ),
                ]
            )
        ]
    story += [
        Spacer(1, 4),
        _table(discrimination_rows(document), [w * width for w in (0.15, 0.11, 0.18, 0.2, 0.13, 0.13, 0.1)], st),
    ]
    published = cutoff_rows(document)
    if len(published) > 1:
        story += [
            Paragraph("At the published cutoff", st["h2"]),
            _table(published, [w * width for w in (0.12, 0.16, 0.18, 0.18, 0.18, 0.18)], st),
        ]
    if "scatter" in figures:
        story += [
            KeepTogether(
                [
                    Paragraph("Indices against the T-score", st["h2"]),
                    _image(figures["scatter"], width * 0.92),
                    Paragraph(
                        "Each index (mean of both sides) against the DXA T-score; dotted: the target "
                        "threshold; solid: the published cutoff; dashed: the Youden-optimal cutoff.",
                        st["caption"],
                    ),
                ]
            )
        ]
    story += _model_section(document.get("model") or {}, figures, st, width)
    if site_index is not None:
        story += [
            Paragraph("Site index", st["h2"]),
            Paragraph(escape(_site_index_text(document, site_index)), st["body"]),
        ]
    story += [Paragraph("Limits", st["h2"])] + [Paragraph(escape("\u2022 " + t), st["limit"]) for t in LIMITS]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title="cbct-osteo validation report",
        author=provenance["software"],
        subject=f"Validation against DXA: {document['target_definition']}",
    ).build(story)
    return buffer.getvalue()


def _model_section(
    model: dict[str, Any], figures: dict[str, Path], st: dict[str, ParagraphStyle], width: float
) -> list[Any]:
    story: list[Any] = [Paragraph("Combined model", st["h2"])]
    if model.get("cv_auc") is None:
        return story + [Paragraph(escape(f"No model fitted: {model.get('reason', '')}"), st["body"])]
    story.append(
        Paragraph(
            escape(
                f"Logistic regression ({model['regularisation']}) on {', '.join(model['feature_descriptions'])}; "
                f"{model['n']} complete cases ({model['positives']} positive, {model['excluded']} left out). "
                f"Cross-validated ({model['cv']}) AUC {model['cv_auc']:.2f} {_ci(model['cv_auc_ci95'])}; Brier score "
                f"{model['brier']:.3f} (prevalence alone: {model['brier_reference']:.3f}). "
                f"Youden-optimal log-odds cutoff "
                f"{_sig(model.get('youden_cutoff_logit'))} {_ci(model.get('youden_cutoff_logit_ci95'))} (probability "
                f"{_probability(model.get('youden_cutoff_logit'))}), chosen on the out-of-fold predictions."
            ),
            st["body"],
        )
    )
    story += [Spacer(1, 3), _table(coefficient_rows(model), [w * width for w in (0.4, 0.35, 0.25)], st)]
    if "calibration" in figures:
        story += [
            Spacer(1, 4),
            KeepTogether(
                [
                    _image(figures["calibration"], width * 0.58),
                    Paragraph("Reliability of the out-of-fold probabilities (quantile bins).", st["caption"]),
                ]
            ),
        ]
    return story


def _probability(logit: float | None) -> str:
    return "\u2013" if logit is None else f"{1 / (1 + math.exp(-logit)):.2f}"


def _site_index_text(document: dict[str, Any], path: Path) -> str:
    model = document["model"]
    ci = model["cv_auc_ci95"]
    return (
        f"Written to {path}: the combined model as a site-derived index (status \u201csite-derived\u201d; it is not "
        f"a published index and is never labelled as one). Score = log-odds of the target from both sides' mean of "
        f"{', '.join(model['features'])}; at risk above {_sig(model['youden_cutoff_logit'])} (probability "
        f"{_probability(model['youden_cutoff_logit'])}); derived from {model['n']} local cases, cross-validated AUC "
        f"{model['cv_auc']:.2f} {_ci(ci)}. Use it with cbct-osteo measure/report/batch --index {path.name}; its "
        "accuracy on new patients is unknown until it is checked on an independent cohort."
    )


def write_validation_pdf(
    document: dict[str, Any], figures: dict[str, Path], out: str | Path, site_index: Path | None = None
) -> Path:
    """Build and write the PDF atomically."""
    path = Path(out)
    write_bytes_atomic(path, build_validation_pdf(document, figures, site_index))
    return path
