"""List the DICOM series found under PATH (a folder, a DICOMDIR, a file) and their problems.

For each series: SeriesInstanceUID, number, description, modality, size (slices x rows x
columns), voxel spacing (z, y, x) in mm, transfer syntax and every problem found (excluded
images, missing or duplicated slices, uneven spacing, gantry tilt, missing DICOMDIR files).
The first series listed is the one ``cbct-osteo gui PATH`` and ``cbct_osteo.load(PATH)``
open. Exit status: 0 when at least one loadable series was found, 2 otherwise.
"""

from __future__ import annotations

import argparse
import json

from cbct_osteo.io.discovery import SeriesInfo, discover_series
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.pixels import syntax_name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="folder (searched recursively), DICOMDIR or DICOM file")
    parser.add_argument("--json", action="store_true", help="print the series as JSON instead of text")


def run(args: argparse.Namespace) -> int:
    found = discover_series(args.path)
    loadable = [s for s in found if s.n_slices > 0]
    if args.json:
        document = {
            "path": found.root,
            "series": [s.as_dict() for s in found],
            "notes": list(found.notes),
            "skipped_files": len(found.skipped),
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(_text_report(found.root, found, found.notes))
    if not loadable:
        raise LoadError(found.root, "no DICOM image series found")
    return 0


def _text_report(root: str, series: list[SeriesInfo], notes: list[str]) -> str:
    lines = [f"{root}: {len(series)} series"]
    for index, info in enumerate(series, start=1):
        z, y, x = info.spacing
        lines.append("")
        lines.append(f"[{index}] {info.uid}")
        lines.append(
            f"    series {info.series_number or '-'}  {info.modality or '-'}  {info.description or '(no description)'}"
        )
        if info.files:
            lines.append(f"    size {info.n_slices} x {info.rows} x {info.columns} (slices x rows x columns)")
            lines.append(f"    spacing {z:.4g} x {y:.4g} x {x:.4g} mm (z, y, x)")
            lines.append(f"    transfer syntax {syntax_name(info.transfer_syntax) if info.transfer_syntax else '-'}")
            lines.append(f"    files {len(info.files)}")
        else:  # e.g. a DICOMDIR entry whose files are all missing: no size to show, only the problem
            lines.append("    no readable files: this series cannot be opened")
        for problem in info.problems:
            lines.append(f"    problem: {problem}")
    for note in notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)
