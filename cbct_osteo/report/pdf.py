"""Write the PDF report of one case: the entry point the GUI and ``cbct-osteo report`` share.

:func:`write_pdf_report` gathers the content (header from the volume's metadata, tables from
the results JSON, figures from :mod:`cbct_osteo.reformat`, a 3D view from VTK offscreen),
lays it out with reportlab and writes it atomically. It is Qt-free and reports progress, so
the GUI runs it in a worker thread; a cancel callback stops it before anything is written.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

from cbct_osteo.errors import Cancelled
from cbct_osteo.io.atomic import write_bytes_atomic
from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.report import statements
from cbct_osteo.report.completeness import INCOMPLETE_MARK, incomplete_recommendation, missing_steps
from cbct_osteo.report.content import ReportSources, build_content, results_document
from cbct_osteo.report.header import NOT_RECORDED, ReportHeader, build_header
from cbct_osteo.report.layout import build_pdf
from cbct_osteo.report.page import draw_watermark
from cbct_osteo.volume import Volume

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]

#: Steps reported through ``progress(done, total)``.
STEPS = ("panoramic", "right cross-section", "left cross-section", "3D view", "layout", "write")


def write_pdf_report(
    case_result_or_json: Any,
    volume: Volume,
    landmarks: LandmarkSet,
    out_path: str | Path,
    *,
    anonymise: bool = False,
    practice_name: str = "",
    page_size: str = "A4",
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    view3d: Image.Image | None = None,
    render_3d: bool = True,
    today: _dt.date | None = None,
) -> Path:
    """Write the PDF report of a case and return its path.

    Parameters
    ----------
    case_result_or_json
        A ``cbct_osteo.indices.CaseResult`` or its ``to_json()`` document (the results JSON).
    volume, landmarks
        The scan and the landmarks the results were computed from (for the header and figures).
    out_path
        The PDF file to write. An earlier file there is replaced only once the new one is
        complete (atomic write).
    anonymise
        Leave out every patient identifier: text, PDF metadata and images (see
        :mod:`cbct_osteo.report.header`). The *file name* is the caller's choice; use
        :func:`cbct_osteo.report.header.default_report_name` for an identifier-free one.
    practice_name
        Printed at the top of the report.
    page_size
        ``"A4"`` or ``"Letter"``.
    progress
        ``progress(done, total)`` after each step of :data:`STEPS`.
    cancel
        Polled between steps; returning True stops with :class:`~cbct_osteo.errors.Cancelled`
        and writes nothing.
    view3d
        A 3D view already rendered by the caller (e.g. the GUI's own 3D widget); when ``None`` and
        ``render_3d`` is true it is rendered offscreen with VTK.
    render_3d
        Set False to skip the offscreen render (the report then says the 3D view is unavailable).
    today
        The report date (default: today).

    Notes
    -----
    A case with guided steps still open (:func:`~cbct_osteo.report.completeness.missing_steps`)
    is reported with "INCOMPLETE – not for clinical use" on every page and the missing steps,
    in plain words, as its recommendation.

    Raises
    ------
    cbct_osteo.errors.WriteError
        When the file cannot be written (no permission, disk full); the message names the file
        and any earlier report is left intact.
    cbct_osteo.errors.Cancelled
        When ``cancel()`` returned True.
    """
    if page_size.upper() not in ("A4", "LETTER"):
        raise ValueError(f"page_size must be 'A4' or 'Letter', got {page_size!r}")
    out_path = Path(out_path)
    results = results_document(case_result_or_json)
    total = len(STEPS)
    done = 0

    def check_cancel() -> None:
        if cancel is not None and cancel():
            raise Cancelled(out_path, "report cancelled; nothing was written")

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    def step_then_check() -> None:
        step()
        check_cancel()

    check_cancel()
    missing = missing_steps(landmarks)
    decorate = None
    if missing:  # never passes for a final report: watermark on every page, the to-do list in plain words
        results = {
            **results,
            "screening": {
                **results.get("screening", {}),
                "explanation": "Not every landmark is placed yet, so the screening cannot be made from this report.",
                "recommendation": incomplete_recommendation(missing),
            },
        }
        decorate = partial(draw_watermark, text=INCOMPLETE_MARK)
    header = build_header(volume.meta, volume.spacing, anonymise=anonymise, practice_name=practice_name, today=today)
    sources = ReportSources(volume=volume, landmarks=landmarks, view3d=view3d, render_3d=render_3d)
    content = build_content(results, header, sources, on_step=step_then_check)
    data = build_pdf(content, page_size=page_size, decorate_page=decorate, **pdf_metadata(header, practice_name))
    step_then_check()  # the last chance to cancel: after this the file is written
    write_bytes_atomic(out_path, data)
    step()
    return out_path


def pdf_metadata(header: ReportHeader, practice_name: str) -> dict[str, Any]:
    """PDF document information: identifier-free when the header is anonymised."""
    subject = "Opportunistic osteoporosis screening on dental CBCT (screening aid, not a diagnosis)"
    if header.anonymised or header.patient_name == NOT_RECORDED:
        title = f"{statements.TITLE} – {header.case_label}"
    else:
        title = f"{statements.TITLE} – {header.patient_name} ({header.patient_id})"
    return {
        "title": title,
        "author": practice_name.strip() or header.software,
        "subject": subject,
        "keywords": ["CBCT", "mandible", "osteoporosis screening", "CTMI", header.case_label],
    }
