"""The README's ```python blocks run, in order and in one namespace, so the tutorial cannot rot.

They run in a scratch directory that sees the repository's ``problems/`` (files the tutorial writes land
there, not in the checkout), with the optional dependencies they import skipped cleanly when missing.
"""
from __future__ import annotations

import re

import pytest

from .conftest import PROBLEMS, ROOT

README = ROOT / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def test_readme_has_the_tutorial():
    text = README.read_text(encoding="utf-8")
    assert "## Python tutorial" in text and "_CIMSIM_COMPLETE=bash_source cimsim" in text
    blocks = python_blocks()
    assert len(blocks) >= 4
    assert any("cimsim.solve(\"maxcut\", G" in b for b in blocks)
    assert any("phase_diagram(" in b for b in blocks)


def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    pytest.importorskip("networkx")
    pytest.importorskip("dimod")
    (tmp_path / "problems").symlink_to(PROBLEMS, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    for k, code in enumerate(python_blocks()):
        try:
            exec(compile(code, f"README.md python block {k + 1}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message names the block
            pytest.fail(f"README python block {k + 1} failed: {type(exc).__name__}: {exc}\n{code}")
    out = capsys.readouterr().out
    assert "True" in out  # the .qubo round trip printed True
    assert list((tmp_path / "phase_figs").glob("phase_*.png"))
    assert (tmp_path / "w20.qubo").is_file()
