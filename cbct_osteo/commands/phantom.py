"""Write a CBCT-like mandible phantom with its ground truth.

Writes OUT/DICOM/ (one CT file per slice, or one Enhanced CT multi-frame file with --multiframe),
OUT/truth.json (the true W, S, I and BV_TV per side, in the results-JSON shape) and
OUT/landmarks.json (the true landmarks). The patient is made up: Zanetti^Mariana, PHANTOM-0001.
By default the image is degraded like a CBCT (blur, noise, cupping, metal streaks, uncalibrated
gray values); --clean writes the ideal phantom. Default: 140 x 360 x 360 voxels of 0.3 mm.

With --simulate cbct it writes an anatomical mandible (border sloping along the arch, curved
cross-section, settable cortex, optional porous cortex and metal) through a simulated cone-beam
scan and FDK reconstruction (needs the optional extra: pip install 'cbct-osteo[simulate]').
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cbct_osteo.phantom import DEFAULT_SHAPE, DEFAULT_VOXEL_MM

SIMULATION_ONLY = (
    "cortex_mm",
    "border_slope_deg",
    "border_tilt_deg",
    "porous_cortex",
    "metal",
    "fov",
    "projections",
    "photons",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT", help="output folder (new, empty, or holding an earlier phantom)")
    parser.add_argument(
        "--voxel",
        type=float,
        default=DEFAULT_VOXEL_MM,
        metavar="MM",
        help=f"isotropic voxel size in mm (default {DEFAULT_VOXEL_MM})",
    )
    parser.add_argument(
        "--shape",
        type=int,
        nargs=3,
        default=list(DEFAULT_SHAPE),
        metavar=("Z", "Y", "X"),
        help="volume size in voxels (default %(default)s); the anatomy stays the same size in mm",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="texture/noise seed (default 0)")
    parser.add_argument("--clean", action="store_true", help="no blur, noise, cupping, streaks; HU-like values")
    parser.add_argument("--multiframe", action="store_true", help="write one Enhanced CT multi-frame file")
    parser.add_argument(
        "--noise-sd",
        type=float,
        default=None,
        metavar="GRAY",
        help="noise SD in soft tissue, gray values (default 60; 0 with --clean)",
    )
    parser.add_argument(
        "--blur", type=float, default=None, metavar="MM", help="Gaussian blur sigma in mm (default 0.3; 0 with --clean)"
    )
    sim = parser.add_argument_group("simulated CBCT (--simulate cbct)")
    sim.add_argument(
        "--simulate",
        choices=["cbct"],
        default=None,
        help="an anatomical mandible through a simulated cone-beam scan and FDK reconstruction (itk-rtk)",
    )
    sim.add_argument(
        "--cortex-mm",
        type=float,
        nargs=2,
        default=None,
        metavar=("LEFT", "RIGHT"),
        help="inferior cortical width at each mental foramen, 0.5-6 mm (default 3.0 2.6)",
    )
    sim.add_argument(
        "--border-slope-deg",
        type=float,
        default=None,
        metavar="DEG",
        help="slope of the inferior border along the arch at the foramina, 0-25 (default 10)",
    )
    sim.add_argument(
        "--border-tilt-deg",
        type=float,
        default=None,
        metavar="DEG",
        help="bucco-lingual tilt of the inferior border in the cross-section, 0-25 (default 6)",
    )
    sim.add_argument(
        "--porous-cortex",
        action="store_true",
        default=None,
        help="a porous, trabecularised endosteal zone of the inferior cortex (C2/C3 look)",
    )
    sim.add_argument(
        "--metal",
        choices=["none", "fillings", "implant"],
        default=None,
        help="dental metal: amalgam fillings and a crown, or a titanium implant by the left foramen (default none)",
    )
    sim.add_argument(
        "--fov",
        choices=["small", "large"],
        default=None,
        help="large: the whole mandible; small: a field of at most 70 mm between the foramina (default large)",
    )
    sim.add_argument(
        "--jpeg2000",
        action="store_true",
        help="store each slice JPEG 2000 lossless compressed (one file per slice only)",
    )
    sim.add_argument("--projections", type=int, default=None, metavar="N", help="views over 360 degrees (default 180)")
    sim.add_argument(
        "--photons",
        type=float,
        default=None,
        metavar="N",
        help="unattenuated photons per detector pixel; fewer = noisier (default 20000)",
    )


def _simulation_settings(args: argparse.Namespace) -> dict[str, Any]:
    settings = {name: getattr(args, name) for name in SIMULATION_ONLY if getattr(args, name) is not None}
    if "cortex_mm" in settings:
        settings["cortex_mm"] = tuple(settings["cortex_mm"])
    return settings


def run_simulation(args: argparse.Namespace) -> int:
    """``phantom OUT --simulate cbct``: the simulated CBCT case."""
    from cbct_osteo.phantom.rtk_recon import SimulationUnavailable
    from cbct_osteo.phantom.simulated import write_cbct_case

    for flag, value in (("--clean", args.clean), ("--noise-sd", args.noise_sd), ("--blur", args.blur)):
        if value not in (None, False):
            print(
                f"cbct-osteo phantom: {flag} applies to the simple phantom, not to --simulate cbct "
                "(use --photons for the noise)",
                file=sys.stderr,
            )
            return 2
    settings = _simulation_settings(args)
    start = time.perf_counter()
    out = _written(
        args,
        lambda: write_cbct_case(
            args.out,
            multiframe=args.multiframe,
            jpeg2000=args.jpeg2000,
            shape=tuple(args.shape),
            voxel_mm=args.voxel,
            seed=args.seed,
            **settings,
        ),
        SimulationUnavailable,
    )
    if out is None:
        return 2
    elapsed = time.perf_counter() - start
    truth = _truth(out)
    z, y, x = args.shape
    print(
        f"simulated CBCT written to {out} ({z}x{y}x{x} voxels of {args.voxel:g} mm, {truth['phantom']['fov']} field, "
        f"metal {truth['phantom']['anatomy']['metal']}, seed {args.seed}) in {elapsed:.1f} s; {_true_widths(truth)}"
    )
    return 0


def _written(args: argparse.Namespace, write: Callable[[], Path], *refusals: type[Exception]) -> Path | None:
    """The folder ``write`` filled, or ``None`` after one line on stderr for a bad option or a failed write.

    ``refusals``: further exception types that mean "cannot do this here" (e.g. itk-rtk missing).
    """
    refused: tuple[type[Exception], ...] = (ValueError, TypeError, *refusals)
    try:
        return write()
    except refused as exc:
        print(f"cbct-osteo phantom: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"cbct-osteo phantom: {args.out}: could not be written: {exc.strerror or exc}", file=sys.stderr)
    return None


def _truth(out: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    return document


def _true_widths(truth: dict[str, Any]) -> str:
    left, right = (truth["sides"][side]["measurements"]["W"]["value"] for side in ("left", "right"))
    return f"true W left {left:.2f} mm, right {right:.2f} mm"


def run(args: argparse.Namespace) -> int:
    from cbct_osteo.phantom import write_phantom

    if args.simulate:
        return run_simulation(args)
    given = [name for name in SIMULATION_ONLY if getattr(args, name) is not None] + (
        ["jpeg2000"] if args.jpeg2000 else []
    )
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        print(f"cbct-osteo phantom: {flags} need(s) --simulate cbct", file=sys.stderr)
        return 2

    options = {}
    if args.noise_sd is not None:
        options["noise_sd"] = args.noise_sd
    if args.blur is not None:
        options["blur_sigma_mm"] = args.blur
    start = time.perf_counter()
    out = _written(
        args,
        lambda: write_phantom(
            args.out,
            shape=tuple(args.shape),
            voxel_mm=args.voxel,
            seed=args.seed,
            clean=args.clean,
            multiframe=args.multiframe,
            **options,
        ),
    )
    if out is None:
        return 2
    elapsed = time.perf_counter() - start
    z, y, x = args.shape
    layout = "1 multi-frame file" if args.multiframe else f"{z} slices"
    print(
        f"phantom written to {out} ({layout}, {z}x{y}x{x} voxels of {args.voxel:g} mm, "
        f"{'clean' if args.clean else 'CBCT-like'}, seed {args.seed}) in {elapsed:.1f} s; "
        f"{_true_widths(_truth(out))}"
    )
    return 0
