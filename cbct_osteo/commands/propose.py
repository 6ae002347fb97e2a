"""cbct-osteo propose VOLUME -o PROPOSAL.json

Locate the mandible and write what the program proposes as a landmarks file: the dental arch
through the mandibular body (``"arch": {"points": [...], "proposed": true}``) and
``"mandible": {"found": true|false, "bbox_mm": [[xmin, ymin, zmin], [xmax, ymax, zmax]],
"reason": "..."}`` in patient LPS mm (body, symphysis and rami). Open it in the GUI or pass it
to ``measure`` once the remaining landmarks are placed. Exit status 0 whether or not a mandible
was found (that is a result, stated in "reason"); 2 when the volume cannot be read or the file
cannot be written.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("volume", help="DICOM folder, DICOMDIR or file of the scan")
    parser.add_argument("-o", "--output", required=True, metavar="PROPOSAL.json", help="landmarks file to write")


def run(args: argparse.Namespace) -> int:
    from cbct_osteo import load
    from cbct_osteo.io.landmarks_file import write_landmarks
    from cbct_osteo.reformat.proposal import propose

    volume = load(args.volume)
    proposal = propose(volume)
    write_landmarks(proposal.landmarks, args.output)
    location = proposal.location
    if location.found:
        assert location.bbox_mm is not None  # a found location always has its box
        low, high = location.bbox_mm
        print(f"Mandible found: {location.reason}.")
        ranges = ", ".join(f"{axis} {a:.1f}..{b:.1f}" for axis, a, b in zip("xyz", low, high, strict=True))
        print(f"  box (LPS mm): {ranges}")
        print(f"  arch: {len(proposal.landmarks.arch_points)} points at height {location.body_level_mm:.1f} mm")
    else:
        print(f"No mandible found: {location.reason}.")
    print(f"proposal written to {args.output}")
    return 0
