"""The instance data root: one setting (CIMSIM_DATA / --data) for the bench scripts and the tests."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cimsim import CimsimError

import bench.data as data
from bench.instances import load_instance
from bench.run import main

from .conftest import ROOT, SHARED


def test_precedence_option_then_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.delenv("CIMSIM_DATA", raising=False)
    assert data.data_root() == (ROOT.parent / "shared" / "data").resolve()
    monkeypatch.setenv("CIMSIM_DATA", str(tmp_path / "env"))
    assert data.data_root() == tmp_path / "env"
    assert data.data_root(tmp_path / "opt") == tmp_path / "opt"


def test_default_follows_the_code_not_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("CIMSIM_DATA", raising=False)
    before = data.data_root()
    monkeypatch.chdir(tmp_path)
    assert data.data_root() == before
    assert before == (ROOT.parent / "shared" / "data").resolve()  # <repo>/../shared/data (symlinks resolved)


def test_tests_use_the_same_setting():
    assert SHARED == data.data_root()


def test_missing_root_is_one_line_naming_the_setting(tmp_path):
    gone = tmp_path / "nowhere"
    with pytest.raises(CimsimError) as err:
        data.data_file("gset", "G1.txt", root=gone)
    msg = str(err.value)
    assert "\n" not in msg and "CIMSIM_DATA" in msg and "--data" in msg and str(gone) in msg
    inst = load_instance("G1", gone)  # a row saying why, not an exception
    assert inst.model is None and "CIMSIM_DATA" in inst.status
    assert load_instance("SK12", gone).model is not None  # generated instances need no data


def test_missing_file_under_an_existing_root(tmp_path):
    (tmp_path / "gset").mkdir()
    with pytest.raises(CimsimError, match="no such file"):
        data.data_file("gset", "G1.txt", root=tmp_path)
    assert "missing file" in load_instance("G1", tmp_path).status


def test_data_option_reaches_the_instances(tmp_path):
    """A Gset graph and its best known cut under a --data root of our own are what the bench loads."""
    (tmp_path / "gset").mkdir()
    (tmp_path / "gset" / "G7.txt").write_text("4 4\n1 2 1\n2 3 1\n3 4 1\n4 1 1\n")
    (tmp_path / "gset" / "best_known.csv").write_text("instance,nodes,edges,weights,best_known_cut\nG7,4,4,+1,4\n")
    inst = load_instance("G7", tmp_path)
    assert inst.status == "" and inst.model.n == 4 and inst.best_known == 4.0
    assert inst.objective([1, -1, 1, -1]) == 4.0


def test_run_refuses_a_missing_data_root_in_one_line(tmp_path, capsys):
    assert main(["--instances", "G1", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CIMSIM_DATA" in err and not (tmp_path / "o").exists()


@pytest.mark.parametrize("script,args", [("sb_gset.py", ["G1", "11624", "1", "0.1"]),
                                         ("ahc_cac_bench.py", ["gset", "G1", "--runs", "1"])])
def test_scripts_take_data_option_and_env(script, args, tmp_path):
    gone = str(tmp_path / "nowhere")
    for extra, env_root in ((["--data", gone], None), ([], gone)):
        env = {k: v for k, v in os.environ.items() if k != "CIMSIM_DATA"}
        if env_root:
            env["CIMSIM_DATA"] = env_root
        p = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args, *extra], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=120)
        assert p.returncode == 2, p.stderr
        assert p.stderr.count("\n") == 1 and "CIMSIM_DATA" in p.stderr and gone in p.stderr
