"""The command line: the interfaces scripts and acceptance checks rely on.

The expectations below are written out by hand from the project's design (../shared/DESIGN.md,
"Interfaces other programs rely on") and from README.md's "Command line" block, never derived
from ``cbct_osteo.cli.COMMANDS``: renaming or dropping a documented command or option must fail
here. Help text is obtained by really running ``--help`` (a subprocess for the top level, the
real argument parser for each command).
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cbct_osteo import __version__
from cbct_osteo.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent

#: DESIGN.md's stable interfaces: command -> options it must accept (add, never rename).
DESIGN_COMMANDS: dict[str, tuple[str, ...]] = {
    "gui": ("--demo", "--screenshot"),
    "info": ("--json",),
    "phantom": (
        "--voxel",
        "--shape",
        "--seed",
        "--clean",
        "--multiframe",
        "--simulate",
        "--cortex-mm",
        "--border-slope-deg",
        "--porous-cortex",
        "--metal",
        "--fov",
    ),
    "measure": ("--landmarks", "--json", "--no-refine", "--index"),
    "report": ("--landmarks", "-o", "--anonymise", "--index"),
    "batch": ("--out", "--executor", "--scheduler", "--resume", "--index"),
    "propose": ("-o",),
    "validate": ("--reference", "-o", "--json", "--target", "--write-index"),
}


def command_help(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The text ``cbct-osteo COMMAND --help`` prints (through the real entry point)."""
    with pytest.raises(SystemExit) as stopped:
        main([command, "--help"])
    printed = capsys.readouterr()
    if stopped.value.code != 0:  # e.g. an unknown command: argparse exits 2 with a usage error
        pytest.fail(f"`cbct-osteo {command} --help` exited {stopped.value.code}: {printed.err.strip()}")
    return printed.out


def mentions_option(help_text: str, option: str) -> bool:
    """``option`` is one of the options the help's option list declares.

    Only the declaration lines count (``  -o REPORT.pdf, --output REPORT.pdf  help...``), not the
    description, which may mention an option that no longer exists; ``--json`` does not match
    ``--json-out``.
    """
    declared = re.findall(r"^ {2,}(-[^ ].*?)(?: {2,}|$)", help_text, flags=re.MULTILINE)
    flags = {flag.split(" ")[0] for line in declared for flag in line.split(", ")}
    return option in flags


def readme_command_lines() -> list[list[str]]:
    """The tokens of each ``cbct-osteo COMMAND ...`` line of README.md's "Command line" block."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    lines = []
    for line in block.splitlines():
        if line.startswith("    cbct-osteo "):
            lines.append(line.split("#", 1)[0].split()[1:])
    return lines


@functools.cache
def listed_commands() -> frozenset[str]:
    """The commands ``python -m cbct_osteo --help`` lists (run once, in a subprocess)."""
    result = subprocess.run(
        [sys.executable, "-m", "cbct_osteo", "--help"], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    return frozenset(re.findall(r"^    ([a-z][\w-]*)", result.stdout, flags=re.MULTILINE))


def test_top_level_help_lists_the_design_commands() -> None:
    missing = set(DESIGN_COMMANDS) - listed_commands()
    assert not missing, f"missing from `cbct-osteo --help`: {missing}"


@pytest.mark.parametrize(("command", "option"), [(c, o) for c, options in DESIGN_COMMANDS.items() for o in options])
def test_design_option_is_in_the_command_help(command: str, option: str, capsys: pytest.CaptureFixture[str]) -> None:
    help_text = command_help(command, capsys)
    assert mentions_option(help_text, option), f"`cbct-osteo {command} --help` does not list {option}"


def test_every_readme_command_and_option_exists(capsys: pytest.CaptureFixture[str]) -> None:
    lines = readme_command_lines()
    assert len(lines) >= 6, "README.md's Command line block was not found"
    for tokens in lines:
        command, rest = tokens[0], tokens[1:]
        help_text = command_help(command, capsys)
        for token in rest:
            option = token.strip("[]")
            if option.startswith("-"):
                assert mentions_option(help_text, option), f"README documents `{command} {option}`; --help lacks it"


#: The documents a user reads for the command line; every option they show must exist.
DOCUMENTS = ("README.md", "docs/user-guide.md", "docs/batch.md")


def documented_usages() -> list[tuple[str, str, list[str]]]:
    """(document, command, tokens) for every command-line usage the documents show.

    Usages are code spans or code-block lines starting with ``cbct-osteo COMMAND``, and the rows
    of the user guide's command table (``| `COMMAND [...]` | ...``).
    """
    usages = []
    commands = "|".join(sorted(listed_commands()))
    for name in DOCUMENTS:
        text = (REPO / name).read_text(encoding="utf-8")
        # "cbct-osteo measure: file: problem" lines are error output, not usages (?!:)
        pattern = rf"(?:`|^ *\$? *)cbct-osteo ({commands})\b(?!:)([^`\n#]*)|^\| `({commands})\b([^`]*)`"
        for match in re.finditer(pattern, text, flags=re.MULTILINE):
            command, rest = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            usages.append((name, command, rest.split()))
    return usages


def test_every_documented_option_exists(capsys: pytest.CaptureFixture[str]) -> None:
    usages = documented_usages()
    assert len(usages) >= 15, "the documents' command-line usages were not found"
    wrong = []
    for document, command, tokens in usages:
        help_text = command_help(command, capsys)
        for token in tokens:
            option = token.strip("[](),.;").split("=")[0]
            if option.startswith("-") and option != "-" and not mentions_option(help_text, option):
                wrong.append(f"{document}: `cbct-osteo {command} {option}` is documented but does not exist")
    assert not wrong, "\n".join(wrong)


def test_every_command_in_the_help_is_documented_in_the_readme() -> None:
    documented = {tokens[0] for tokens in readme_command_lines()}
    undocumented = listed_commands() - documented
    assert not undocumented, f"commands missing from README.md's Command line block: {undocumented}"


def test_documented_values_parse() -> None:
    """The option values DESIGN.md documents are accepted and land where the command reads them."""
    parser = build_parser()
    args = parser.parse_args(["phantom", "out", "--voxel", "0.3", "--shape", "40", "96", "128", "--seed", "7"])
    assert (args.out, args.voxel, list(args.shape), args.seed) == ("out", 0.3, [40, 96, 128], 7)
    for executor in ("local", "dask"):
        args = parser.parse_args(["batch", "m.csv", "--out", "r.csv", "--executor", executor])
        assert (args.manifest, args.out, args.executor) == ("m.csv", "r.csv", executor)
    args = parser.parse_args(["measure", "vol", "--landmarks", "l.json", "--no-refine"])
    assert (args.volume, args.landmarks, args.no_refine) == ("vol", "l.json", True)
    args = parser.parse_args(["report", "vol", "--landmarks", "l.json", "-o", "r.pdf", "--anonymise"])
    assert (args.volume, args.anonymise) == ("vol", True)


def test_unknown_command_exits_with_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["no-such-command"])
    assert stopped.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_dash_m_prints_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cbct_osteo", "--version"], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0
    assert __version__ in result.stdout
