"""cbct-osteo gui (not yet implemented)."""
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    print("cbct-osteo gui: not implemented yet", file=sys.stderr)
    return 3
