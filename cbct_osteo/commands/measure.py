"""cbct-osteo measure VOLUME --landmarks L.json [--json OUT] [--no-refine] [--force]

Compute every measurement and index of the catalogue from a landmarks file and print a table.
``--json OUT`` writes the results JSON (``--json -`` prints it on stdout and the table on
stderr). By default the cortical margins are refined by edge detection along the measurement
line (method "edge"); ``--no-refine`` takes them as placed (method "manual"). Landmarks made
on a different scan (series UID or volume fingerprint) are refused unless ``--force``.
A screening aid, not a diagnosis.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("volume", help="DICOM folder, DICOMDIR or file of the scan")
    parser.add_argument("--landmarks", required=True, metavar="L.json", help="landmarks file placed on this scan")
    parser.add_argument("--json", metavar="OUT", help="write the results JSON here ('-' for stdout)")
    parser.add_argument(
        "--no-refine", action="store_true", help="use the cortical margins as placed (no edge refinement)"
    )
    parser.add_argument("--force", action="store_true", help="measure even if the landmarks were made on another scan")
    parser.add_argument(
        "--index",
        action="append",
        default=[],
        metavar="SITE.toml",
        help="add an index definition file (e.g. a site index from 'cbct-osteo validate --write-index'); repeatable",
    )


def run(args: argparse.Namespace) -> int:
    from cbct_osteo import load
    from cbct_osteo.indices import analyse_case, format_table
    from cbct_osteo.indices.case import check_landmarks_match
    from cbct_osteo.indices.definition_file import load_index_files
    from cbct_osteo.io.atomic import write_json_atomic
    from cbct_osteo.io.session_file import read_landmarks_or_session as read_landmarks

    extra = load_index_files(args.index)
    landmarks = read_landmarks(args.landmarks)
    volume = load(args.volume)
    if not args.force:
        check_landmarks_match(volume, landmarks, args.landmarks)
    result = analyse_case(volume, landmarks, refine=not args.no_refine, extra_indices=extra)
    document = result.to_json()
    table_stream = sys.stderr if args.json == "-" else sys.stdout
    print(format_table(result), file=table_stream)
    if args.json == "-":
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif args.json:
        write_json_atomic(args.json, document)
        print(f"results written to {args.json}", file=table_stream)
    return 0
