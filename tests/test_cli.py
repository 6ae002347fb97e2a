"""The command line entry points."""
from __future__ import annotations

import subprocess
import sys

from cbct_osteo import __version__
from cbct_osteo.cli import COMMANDS, build_parser


def test_every_documented_command_is_registered() -> None:
    names = {name for name, _, _ in COMMANDS}
    assert {"gui", "info", "phantom", "measure", "report", "batch", "propose"} <= names
    help_text = build_parser().format_help()
    for name in names:
        assert name in help_text


def test_python_dash_m_prints_version() -> None:
    result = subprocess.run([sys.executable, "-m", "cbct_osteo", "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert __version__ in result.stdout
