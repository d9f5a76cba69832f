"""Atomic outputs get the mode a plain write would give: 0666 less the umask, or the mode of the file replaced."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

import numpy as np
import pytest

from cimsim import IsingModel
from cimsim.atomic import atomic_path, write_text_atomic
from cimsim.formats import save_model, write_gset
from cimsim.sweep import write_table_csv

from .conftest import PROBLEMS


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _writers(tmp_path):
    m = IsingModel.from_couplings(np.array([[0.0, 1.0], [1.0, 0.0]]))
    return {
        "text": lambda: write_text_atomic(tmp_path / "a.txt", "x\n"),
        "npz": lambda: save_model(tmp_path / "m.npz", m),
        "mtx": lambda: save_model(tmp_path / "m.mtx", m),
        "qubo": lambda: save_model(tmp_path / "m.qubo", m),
        "gset": lambda: write_gset(tmp_path / "g.txt", 2, [(0, 1)]),
        "csv": lambda: write_table_csv(tmp_path / "t.csv", [{"a": 1}]),
    }


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_follow_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    for name, write in _writers(tmp_path).items():
        write()
    written = [p for p in tmp_path.iterdir()]
    assert len(written) == 6  # no temporary file left behind
    for p in written:
        assert _mode(p) == mode, p.name


def test_replacing_a_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    p = tmp_path / "out.txt"
    p.write_text("old\n")
    os.chmod(p, 0o640)
    write_text_atomic(p, "new\n")
    assert p.read_text() == "new\n" and _mode(p) == 0o640


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, umask):
    p = tmp_path / "out.txt"
    p.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(p) as tmp:
            with open(tmp, "w") as fh:
                fh.write("half")
            raise RuntimeError("interrupted")
    assert p.read_text() == "old\n" and [q.name for q in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_cli_json_follows_the_umask(tmp_path, mask, mode):
    out = tmp_path / "r.json"
    exe = shutil.which("cimsim", path=os.path.dirname(sys.executable)) or "cimsim"  # the installed command
    cmd = [exe, "solve", "maxcut", str(PROBLEMS / "graph16.txt"), "--solver", "exact",
           "--json", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=lambda: os.umask(mask), timeout=300)
    assert r.returncode == 0, r.stderr
    assert _mode(out) == mode
