"""Every command's --help renders: no literal click escape markers, examples one per line."""
from __future__ import annotations

import subprocess
import sys

import pytest

from cimsim.cli import COMMANDS


def _commands() -> list[str]:
    return ["", *sorted(COMMANDS)]  # "" is the group's own help


@pytest.mark.parametrize("command", _commands())
def test_help_has_no_literal_escape_and_keeps_example_lines(command: str) -> None:
    out = subprocess.run([sys.executable, "-m", "cimsim", *([command] if command else []), "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "\\b" not in out.stdout and "\b" not in out.stdout
    lines = out.stdout.splitlines()
    if any(line.strip() == "Examples:" for line in lines):
        examples = lines[[line.strip() for line in lines].index("Examples:") + 1:]
        commands = [line for line in examples if line.strip().startswith("cimsim ")]
        assert commands, "an Examples block lists at least one command"
        assert all(line.count("cimsim ") <= 2 for line in commands), "examples are not run together"
