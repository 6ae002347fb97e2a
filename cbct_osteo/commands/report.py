"""cbct-osteo report VOLUME --landmarks L.json [-o REPORT.pdf] [--anonymise] [--practice NAME] [--page-size A4|Letter]

Measure the scan with its landmarks (as ``cbct-osteo measure``) and write the printable PDF
report: header, screening result and recommendation, the table of indices, annotated panoramic
and cross-sections, a 3D view, the limits of the method, citations and a signature line.
``--anonymise`` leaves out every patient identifier (text, PDF metadata and the default file
name ``report_<hash>.pdf``). Optional exports of the same case: ``--csv`` (the batch columns),
``--json`` (the results JSON), ``--dicom DIR`` (Comprehensive 3D SR, Encapsulated PDF and
Secondary Captures in the source study; with ``--anonymise`` de-identified per DICOM PS3.15's
Basic Profile: new UIDs, the pseudonym as patient, no name, ID or birth date). The file is written atomically: a
failure leaves any earlier report intact. ``--index SITE.toml`` adds an index definition file (a
site index, shown under its own name with its provenance). A screening aid, not a diagnosis.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cbct_osteo.commands.case_options import add_case_arguments, read_and_analyse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_case_arguments(
        parser,
        landmarks_help="landmarks file (or GUI session/autosave file) placed on this scan",
        force_help="report even if the landmarks were made on another scan",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="REPORT.pdf",
        help="PDF to write, or a folder for the default name (default: report_<id>.pdf here)",
    )
    parser.add_argument(
        "--anonymise",
        "--anonymize",
        action="store_true",
        help="leave out every patient identifier (text, metadata, default file name)",
    )
    parser.add_argument("--practice", default="", metavar="NAME", help="practice name printed at the top")
    parser.add_argument(
        "--page-size",
        choices=("A4", "Letter"),
        type=_page_size,
        default=None,
        help="paper size (default: from the locale, Letter in the US/Canada, else A4)",
    )
    parser.add_argument("--no-3d", action="store_true", help="skip the offscreen 3D view")
    parser.add_argument("--csv", metavar="OUT.csv", help="also write the one-row results CSV (batch columns)")
    parser.add_argument("--json", metavar="OUT.json", help="also write the results JSON")
    parser.add_argument(
        "--dicom",
        metavar="DIR",
        help="also write DICOM SR, Encapsulated PDF and Secondary Captures here (de-identified with --anonymise)",
    )


def _page_size(text: str) -> str:
    return {"a4": "A4", "letter": "Letter"}.get(text.lower(), text)


def run(args: argparse.Namespace) -> int:
    from cbct_osteo.report import (
        build_header,
        default_page_size,
        default_report_name,
        report_figures,
        write_dicom_exports,
        write_pdf_report,
        write_results_csv,
        write_results_json,
    )
    from cbct_osteo.report.completeness import INCOMPLETE_SUFFIX, missing_steps

    case = read_and_analyse(args)
    volume, landmarks, result = case.volume, case.landmarks, case.result
    out = Path(args.output) if args.output else Path.cwd()
    names_a_folder = bool(args.output) and args.output.endswith(("/", os.sep))
    if out.is_dir() or names_a_folder:  # "-o reports/" means a folder, created if needed
        out = out / default_report_name(
            volume.meta, anonymise=args.anonymise, suffix=INCOMPLETE_SUFFIX if missing_steps(landmarks) else ".pdf"
        )
    page_size = args.page_size or default_page_size()
    write_pdf_report(
        result,
        volume,
        landmarks,
        out,
        anonymise=args.anonymise,
        practice_name=args.practice,
        page_size=page_size,
        render_3d=not args.no_3d,
    )
    missing = missing_steps(landmarks)
    if missing:
        print(f"report written to {out} (INCOMPLETE - not for clinical use; still to do: {'; '.join(missing)})")
    else:
        print(f"report written to {out}")
    header = build_header(volume.meta, volume.spacing, anonymise=args.anonymise, practice_name=args.practice)
    if args.csv:
        print(f"CSV written to {write_results_csv(result, args.csv, header)}")
    if args.json:
        print(f"results JSON written to {write_results_json(result, args.json, header)}")
    if args.dicom:
        document = result.to_json()
        paths = write_dicom_exports(
            args.dicom,
            document,
            volume,
            pdf_bytes=out.read_bytes(),
            figures=report_figures(document, volume, landmarks),
            header=header,
        )
        print(f"DICOM written to {args.dicom}: " + ", ".join(p.name for p in paths))
    print(f"Screening: {result.screening.result}")
    return 0
