"""Open the desktop program, optionally on PATH (a DICOM folder, file or DICOMDIR) or the demo phantom.

``--screenshot FILE`` opens the case, waits until everything is computed, saves a PNG of the
window (the 3D view captured from OpenGL) and exits; the documentation's screenshots are made
this way. Needs a display (under a headless system, run it with ``xvfb-run``).
"""

from __future__ import annotations

import argparse
import os
import sys

#: Layouts for --screenshot (see cbct_osteo.gui.app._arrange); kept here so parsing needs no Qt import.
SCREENSHOT_VIEWS = ("slices", "3d", "measure", "results")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", help="DICOM folder, file or DICOMDIR to open")
    parser.add_argument("--demo", action="store_true", help="open the built-in demo phantom")
    parser.add_argument(
        "--screenshot", metavar="FILE", help="save a PNG of the window once the case is shown, then exit"
    )
    parser.add_argument("--landmarks", metavar="FILE", help="apply a landmarks or session file once the scan is open")
    parser.add_argument(
        "--view",
        choices=SCREENSHOT_VIEWS,
        default="slices",
        help="layout for --screenshot: slices, 3d, measure (panoramic + cross-section) or results",
    )
    parser.add_argument("--size", metavar="WxH", type=_size, help="window size, e.g. 1280x800 (screenshots)")


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1280x800, got {text!r}") from None
    return width, height


def run(args: argparse.Namespace) -> int:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(
            "cbct-osteo gui: no display found (DISPLAY/WAYLAND_DISPLAY unset); on a headless machine run it "
            "under a virtual X server: xvfb-run -a cbct-osteo gui ...",
            file=sys.stderr,
        )
        return 2
    from cbct_osteo.gui.app import run as run_gui

    return run_gui(
        path=args.path,
        demo=args.demo,
        screenshot=args.screenshot,
        landmarks=args.landmarks,
        view=args.view,
        size=args.size,
    )
