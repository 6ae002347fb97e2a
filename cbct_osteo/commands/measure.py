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

from cbct_osteo.commands.case_options import add_case_arguments, read_and_analyse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_case_arguments(
        parser,
        landmarks_help="landmarks file placed on this scan",
        force_help="measure even if the landmarks were made on another scan",
    )
    parser.add_argument("--json", metavar="OUT", help="write the results JSON here ('-' for stdout)")


def run(args: argparse.Namespace) -> int:
    from cbct_osteo.indices import format_table
    from cbct_osteo.io.atomic import write_json_atomic

    result = read_and_analyse(args).result
    document = result.to_json()
    table_stream = sys.stderr if args.json == "-" else sys.stdout
    print(format_table(document), file=table_stream)
    if args.json == "-":
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif args.json:
        write_json_atomic(args.json, document)
        print(f"results written to {args.json}", file=table_stream)
    return 0
