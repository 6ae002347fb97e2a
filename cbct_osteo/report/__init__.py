"""Reports of one case: the printable PDF, CSV and JSON exports, and DICOM for the PACS.

No Qt here: everything runs headless and in a worker thread. The GUI calls

``write_pdf_report(case_result_or_json, volume, landmarks, out_path, *, anonymise=False,
practice_name="", page_size="A4", progress=None, cancel=None, view3d=None, render_3d=True)``

- ``case_result_or_json``: a :class:`cbct_osteo.indices.CaseResult` or its ``to_json()``.
- ``progress(done, total)`` is called after each step (figures, 3D view, layout, write);
  ``cancel()`` returning True stops with :class:`~cbct_osteo.errors.Cancelled` and
  writes nothing.
- ``view3d``: a PIL image of the GUI's own 3D view to use instead of the offscreen VTK render.
- The file is written atomically; a failure raises :class:`~cbct_osteo.errors.WriteError`
  naming the file and leaves any earlier report intact.

For the file name, ``default_report_name(volume.meta, anonymise=...)`` gives ``report_<id>_<date>.pdf``
or, anonymised, ``report_<hash>.pdf``; ``default_page_size()`` picks A4/Letter from the locale.

Other exports: ``write_results_csv`` / ``write_results_json`` (take a :class:`ReportHeader` from
``build_header`` so they share the PDF's anonymisation) and ``write_dicom_exports`` (SR, Encapsulated
PDF, Secondary Captures of ``report_figures(...)``, in the source study; de-identified per DICOM
PS3.15's Basic Profile when given an anonymised header).
"""

from __future__ import annotations

from cbct_osteo.report.content import report_figures, results_document
from cbct_osteo.report.dicom_export import (
    encapsulated_pdf,
    measurement_sr,
    secondary_captures,
    source_header,
    write_dicom_exports,
)
from cbct_osteo.report.exports import csv_row, write_results_csv, write_results_json
from cbct_osteo.report.header import ReportHeader, build_header, default_report_name, pseudonym
from cbct_osteo.report.page import default_page_size
from cbct_osteo.report.pdf import STEPS, write_pdf_report

__all__ = [
    "STEPS",
    "ReportHeader",
    "build_header",
    "csv_row",
    "default_page_size",
    "default_report_name",
    "encapsulated_pdf",
    "measurement_sr",
    "pseudonym",
    "report_figures",
    "results_document",
    "secondary_captures",
    "source_header",
    "write_dicom_exports",
    "write_pdf_report",
    "write_results_csv",
    "write_results_json",
]
