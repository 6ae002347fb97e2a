"""The validation report's figures (matplotlib, no pyplot state, no GUI backend): ROC, scatter, calibration.

Each function draws one :class:`matplotlib.figure.Figure` from the validation document and
the cohort; :func:`save_figures` writes them as PNG next to the PDF (``<stem>_roc.png`` ...).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cbct_osteo.validate.analysis import Validation

DPI = 200
T_THRESHOLDS = {"osteoporosis": -2.5, "low-bmd": -1.0}
_COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#b8860b")
#: Line styles cycled once the colours run out (the chance line is grey, the model black: neither is a palette colour).
_LINE_STYLES = ("-", "--", "-.", ":")
#: Above this many legend entries the legend moves beside the axes (inside it would hide the curves).
_LEGEND_INSIDE_MAX = 9


def curve_style(k: int) -> tuple[str, str]:
    """(colour, line style) of the ``k``-th index curve: every colour solid, then every colour dashed, ...

    Distinct for the first ``len(_COLOURS) * len(_LINE_STYLES)`` (32) curves; beyond that the
    pattern repeats (the legend still names each curve).
    """
    return _COLOURS[k % len(_COLOURS)], _LINE_STYLES[(k // len(_COLOURS)) % len(_LINE_STYLES)]


def mean_columns(document: dict[str, Any], with_auc: bool = True) -> list[str]:
    """The side-mean index columns (those with an AUC, unless ``with_auc`` is False), in catalogue order."""
    return [
        k
        for k, v in document["indices"].items()
        if k.startswith("mean_") and v["n"] > 0 and (v.get("auc") is not None or not with_auc)
    ]


def _interval(ci: list[float] | None) -> str:
    return f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""


def roc_figure(validation: Validation) -> Figure:
    """ROC curves of each side-mean index and the combined model's out-of-fold ROC."""
    document = validation.document
    columns = mean_columns(document)
    legend_inside = len(columns) + 2 <= _LEGEND_INSIDE_MAX  # + chance line and model
    figure = Figure(figsize=(5.6, 4.6) if legend_inside else (8.4, 4.6), dpi=DPI)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls=":", label="chance (AUC 0.50)")
    for k, column in enumerate(columns):
        result = document["indices"][column]
        colour, style = curve_style(k)
        axes.step(
            result["roc"]["fpr"],
            result["roc"]["tpr"],
            where="post",
            color=colour,
            ls=style,
            lw=1.3,
            label=f"{column.removeprefix('mean_')}: AUC {result['auc']:.2f}{_interval(result['auc_ci95'])}",
        )
    model = document.get("model") or {}
    if model.get("roc"):
        axes.step(
            model["roc"]["fpr"],
            model["roc"]["tpr"],
            where="post",
            color="black",
            lw=1.6,
            ls="--",
            label=f"combined model (cross-validated): AUC {model['cv_auc']:.2f}{_interval(model['cv_auc_ci95'])}",
        )
    axes.set_xlabel("1 \u2212 specificity (false-positive fraction)")
    axes.set_ylabel("sensitivity (true-positive fraction)")
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.01)
    axes.set_aspect("equal")
    axes.set_title(f"ROC: {document['target_definition']}", fontsize=8.5)
    if legend_inside:
        axes.legend(fontsize=6.2, loc="lower right", frameon=True)
    else:
        axes.legend(fontsize=6.2, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=True)
    axes.tick_params(labelsize=7)
    figure.tight_layout()
    return figure


def scatter_figure(validation: Validation) -> Figure:
    """Each side-mean index against the DXA T-score, with the target threshold and the cutoffs."""
    document, cohort = validation.document, validation.cohort
    columns = mean_columns(document, with_auc=False)
    ncols = 3
    nrows = max(1, math.ceil(len(columns) / ncols))
    figure = Figure(figsize=(7.2, 2.35 * nrows + 0.35), dpi=DPI)
    threshold = T_THRESHOLDS[cohort.target]
    for k, column in enumerate(columns):
        axes = figure.add_subplot(nrows, ncols, k + 1)
        result = document["indices"][column]
        values = cohort.values[column]
        mask = validation.masks[column]
        positive = cohort.positive & mask
        axes.scatter(
            cohort.t_score[mask & ~cohort.positive],
            values[mask & ~cohort.positive],
            s=7,
            color="#1f5fa8",
            label="negative",
            linewidths=0,
        )
        axes.scatter(cohort.t_score[positive], values[positive], s=7, color="#c0392b", label="positive", linewidths=0)
        axes.axvline(threshold, color="#555555", lw=0.8, ls=":")
        published = result.get("at_published_cutoff")
        if published:
            axes.axhline(published["cutoff"], color="black", lw=0.9, label=f"published cutoff {published['cutoff']:g}")
        if result.get("youden_cutoff") is not None:
            axes.axhline(
                result["youden_cutoff"],
                color="#2e8b57",
                lw=0.9,
                ls="--",
                label=f"Youden cutoff {result['youden_cutoff']:.3g}",
            )
        r = result.get("pearson_r")
        axes.set_title(
            f"{column.removeprefix('mean_')} ({result['unit']})" + (f", r = {r:.2f}" if r is not None else ""),
            fontsize=7.5,
        )
        axes.tick_params(labelsize=6)
        axes.set_xlabel("DXA T-score", fontsize=6.5)
        axes.legend(fontsize=5, loc="best", frameon=False)
    figure.tight_layout()
    return figure


def calibration_figure(validation: Validation) -> Figure:
    """Reliability plot of the model's out-of-fold probabilities, with the Brier score."""
    model = validation.document.get("model") or {}
    figure = Figure(figsize=(4.4, 3.6), dpi=DPI)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls=":", label="perfect calibration")
    if model.get("calibration"):
        calibration = model["calibration"]
        axes.plot(
            calibration["predicted"],
            calibration["observed"],
            marker="o",
            ms=3.5,
            color="black",
            lw=1.2,
            label=f"model (out-of-fold), Brier {model['brier']:.3f}",
        )
        if validation.model is not None:
            axes.plot(
                validation.model.oof_probability,
                np.full(validation.model.out_of_fold.shape[1], -0.03),
                "|",
                color="#1f5fa8",
                ms=5,
                alpha=0.6,
                label="cases (predicted probability)",
            )
    axes.set_xlim(-0.02, 1.02)
    axes.set_ylim(-0.06, 1.02)
    axes.set_xlabel("predicted probability", fontsize=7.5)
    axes.set_ylabel("observed fraction positive", fontsize=7.5)
    axes.set_title(
        f"Calibration (reference Brier {model.get('brier_reference', float('nan')):.3f} = prevalence only)",
        fontsize=7.5,
    )
    axes.tick_params(labelsize=6.5)
    axes.legend(fontsize=6, loc="upper left")
    figure.tight_layout()
    return figure


FIGURES = {"roc": roc_figure, "scatter": scatter_figure, "calibration": calibration_figure}


def save_figures(validation: Validation, pdf_path: str | Path) -> dict[str, Path]:
    """Draw every figure and save it as ``<pdf stem>_<name>.png`` beside the PDF; returns the paths."""
    pdf = Path(pdf_path)
    paths = {}
    for name, draw in FIGURES.items():
        if name == "calibration" and validation.model is None:
            continue
        path = pdf.with_name(f"{pdf.stem}_{name}.png")
        draw(validation).savefig(path, dpi=DPI)
        paths[name] = path
    return paths
