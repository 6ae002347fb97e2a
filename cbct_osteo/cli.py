"""The ``cbct-osteo`` command line: the GUI, ``info``, ``phantom``, ``measure``, ``report``, ``batch``, ``propose``,
``validate``.

The interfaces are listed in docs/ and ../shared/DESIGN.md and are stable: scripts and
acceptance checks rely on them. Every failure prints one readable line to stderr and
returns a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from cbct_osteo import __version__

#: (subcommand, module under cbct_osteo.commands, one-line help)
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("gui", "gui", "open the desktop program (optionally on PATH, or the demo phantom)"),
    ("info", "info", "list the DICOM series found under PATH and their problems"),
    ("phantom", "phantom", "write a CBCT-like mandible phantom with its ground truth"),
    ("measure", "measure", "compute every measurement and index from a landmarks file"),
    ("report", "report", "write the PDF report for a scan and its landmarks"),
    ("batch", "batch", "measure a cohort listed in a manifest CSV into one results CSV"),
    ("validate", "validate", "validate the indices against DXA on a cohort; derive a site index"),
    ("propose", "propose", "locate the mandible and write the proposed arch as a landmarks file"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cbct-osteo",
        description="Opportunistic osteoporosis screening on dental CBCT. A screening aid, not a diagnosis.",
    )
    parser.add_argument("--version", action="version", version=f"cbct-osteo {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name, help_text in COMMANDS:
        module = _command_module(module_name)
        sub = subparsers.add_parser(name, help=help_text, description=(module.__doc__ or help_text).strip())
        module.add_arguments(sub)
        sub.set_defaults(_module=module_name)
    return parser


def _command_module(module_name: str) -> ModuleType:
    return importlib.import_module(f"cbct_osteo.commands.{module_name}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *(argv or sys.argv[1:])])
    module = _command_module(args._module)
    from cbct_osteo.errors import CbctOsteoError

    try:
        return int(module.run(args) or 0)
    except CbctOsteoError as exc:
        print(f"cbct-osteo {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cbct-osteo {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
