"""Write a CBCT-like mandible phantom with its ground truth.

Writes OUT/DICOM/ (one CT file per slice, or one Enhanced CT multi-frame file with --multiframe),
OUT/truth.json (the true W, S, I and BV_TV per side, in the results-JSON shape) and
OUT/landmarks.json (the true landmarks). The patient is made up: Zanetti^Mariana, PHANTOM-0001.
By default the image is degraded like a CBCT (blur, noise, cupping, metal streaks, uncalibrated
gray values); --clean writes the ideal phantom. Default: 140 x 360 x 360 voxels of 0.3 mm.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from cbct_osteo.phantom import DEFAULT_SHAPE, DEFAULT_VOXEL_MM


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT", help="output folder (new, empty, or holding an earlier phantom)")
    parser.add_argument("--voxel", type=float, default=DEFAULT_VOXEL_MM, metavar="MM",
                        help=f"isotropic voxel size in mm (default {DEFAULT_VOXEL_MM})")
    parser.add_argument("--shape", type=int, nargs=3, default=list(DEFAULT_SHAPE), metavar=("Z", "Y", "X"),
                        help="volume size in voxels (default %(default)s); the anatomy stays the same size in mm")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="texture/noise seed (default 0)")
    parser.add_argument("--clean", action="store_true", help="no blur, noise, cupping, streaks; HU-like values")
    parser.add_argument("--multiframe", action="store_true", help="write one Enhanced CT multi-frame file")
    parser.add_argument("--noise-sd", type=float, default=None, metavar="GRAY",
                        help="noise SD in soft tissue, gray values (default 60; 0 with --clean)")
    parser.add_argument("--blur", type=float, default=None, metavar="MM",
                        help="Gaussian blur sigma in mm (default 0.3; 0 with --clean)")


def run(args: argparse.Namespace) -> int:
    from cbct_osteo.phantom import write_phantom

    options = {}
    if args.noise_sd is not None:
        options["noise_sd"] = args.noise_sd
    if args.blur is not None:
        options["blur_sigma_mm"] = args.blur
    start = time.perf_counter()
    try:
        out = write_phantom(args.out, shape=tuple(args.shape), voxel_mm=args.voxel, seed=args.seed, clean=args.clean,
                            multiframe=args.multiframe, **options)
    except (ValueError, TypeError) as exc:
        print(f"cbct-osteo phantom: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cbct-osteo phantom: {args.out}: could not be written: {exc.strerror or exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    left, right = (truth["sides"][side]["measurements"] for side in ("left", "right"))
    z, y, x = args.shape
    layout = "1 multi-frame file" if args.multiframe else f"{z} slices"
    print(
        f"phantom written to {out} ({layout}, {z}x{y}x{x} voxels of {args.voxel:g} mm, "
        f"{'clean' if args.clean else 'CBCT-like'}, seed {args.seed}) in {elapsed:.1f} s; "
        f"true W left {left['W']['value']:.2f} mm, right {right['W']['value']:.2f} mm"
    )
    return 0
