"""The options and the first steps that ``measure``, ``report`` and ``batch`` share.

One place for the scan-and-landmarks arguments, ``--no-refine``, ``--as-placed``, ``--force`` and
``--index``, and for reading a case (index files, landmarks, volume, the same-scan check, the analysis), so
the three commands cannot drift apart in what they accept or how they measure.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the commands import nothing heavy until they run
    from cbct_osteo.indices.scoring import CaseResult
    from cbct_osteo.io.landmarks_file import LandmarkSet
    from cbct_osteo.volume import Volume

INDEX_HELP = "add an index definition file (e.g. a site index from 'cbct-osteo validate --write-index'); repeatable"
NO_REFINE_HELP = "use the cortical margins as placed (no edge refinement)"
AS_PLACED_HELP = (
    "take this measurement from the markers as placed while the others stay edge-refined; SIDE is left or "
    "right, ID is W, S or I (e.g. left:W); repeatable. Default: what a GUI session given as --landmarks says"
)


def add_index_option(parser: argparse.ArgumentParser, help_text: str = INDEX_HELP) -> None:
    """``--index SITE.toml`` (repeatable): extra index definition files for this run."""
    parser.add_argument("--index", action="append", default=[], metavar="SITE.toml", help=help_text)


def add_case_arguments(parser: argparse.ArgumentParser, *, landmarks_help: str, force_help: str) -> None:
    """``VOLUME --landmarks L.json [--no-refine] [--force] [--index SITE.toml]`` of one case."""
    parser.add_argument("volume", help="DICOM folder, DICOMDIR or file of the scan")
    parser.add_argument("--landmarks", required=True, metavar="L.json", help=landmarks_help)
    add_measure_options(parser, force_help=force_help)


def add_measure_options(parser: argparse.ArgumentParser, *, force_help: str) -> None:
    """``--no-refine``, ``--as-placed``, ``--force`` and ``--index``: how each case is measured.

    ``--as-placed`` is ``None`` when not given, so a GUI session's own choice can apply (see
    :meth:`cbct_osteo.measure.margin_method.MarginMethod.overridden`).
    """
    parser.add_argument("--no-refine", action="store_true", help=NO_REFINE_HELP)
    parser.add_argument(
        "--as-placed", action="append", type=as_placed_option, default=None, metavar="SIDE:ID", help=AS_PLACED_HELP
    )
    parser.add_argument("--force", action="store_true", help=force_help)
    add_index_option(parser)


def as_placed_option(text: str) -> tuple[str, str]:
    """argparse ``type`` of ``--as-placed``: a bad value is a usage error (exit 2) saying what is allowed."""
    from cbct_osteo.measure.margin_method import parse_as_placed_option

    try:
        return parse_as_placed_option(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@dataclass(frozen=True)
class MeasuredCase:
    """A scan, the landmarks placed on it and the analysis of the two."""

    volume: Volume
    landmarks: LandmarkSet
    result: CaseResult


def read_and_analyse(args: argparse.Namespace) -> MeasuredCase:
    """Read ``args.index`` files, the landmarks and the scan, check they belong together, analyse.

    The index files are read first so a bad one fails before the (slow) scan is loaded;
    landmarks made on another scan are refused unless ``--force``. A GUI session measures the way
    the GUI did (its ``refine`` and ``as_placed`` settings) unless ``--no-refine`` or ``--as-placed`` say otherwise.
    """
    from cbct_osteo import load
    from cbct_osteo.indices import analyse_case
    from cbct_osteo.indices.case import check_landmarks_match
    from cbct_osteo.indices.definition_file import load_index_files
    from cbct_osteo.io.session_file import read_landmarks_and_settings
    from cbct_osteo.measure.margin_method import MarginMethod

    extra = load_index_files(args.index)
    landmarks, settings = read_landmarks_and_settings(args.landmarks)
    method = MarginMethod.from_settings(settings).overridden(no_refine=args.no_refine, as_placed=args.as_placed)
    volume = load(args.volume)
    if not args.force:
        check_landmarks_match(volume, landmarks, args.landmarks)
    result = analyse_case(volume, landmarks, refine=method.refine, as_placed=method.as_placed, extra_indices=extra)
    return MeasuredCase(volume=volume, landmarks=landmarks, result=result)
