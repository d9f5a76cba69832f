"""`cimsim solve` end to end: JSON contents, recomputed objectives, one-line errors with exit 2."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim.cli import main
from cimsim.encoders.maxcut import read_gset

from .conftest import PROBLEMS, all_spin_vectors


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def independent_cut(path: Path, partition) -> float:
    lines = path.read_text().split("\n")[1:]
    cut = 0.0
    for ln in lines:
        if ln.strip():
            i, j, w = ln.split()
            if partition[int(i) - 1] != partition[int(j) - 1]:
                cut += float(w)
    return cut


def test_g1_default_settings(tmp_path, capsys):
    out_json = tmp_path / "g1.json"
    code, out, err = run_cli(["solve", "maxcut", PROBLEMS / "G1.txt", "--json", out_json, "--seed", 1], capsys)
    assert code == 0, err
    d = json.loads(out_json.read_text())
    for key in ("problem", "solver", "n_spins", "energy", "objective", "feasible", "spins", "time_s", "seed", "cut", "partition"):
        assert key in d
    assert d["n_spins"] == 800 and len(d["partition"]) == 800 and set(d["partition"]) <= {0, 1}
    assert d["cut"] == independent_cut(PROBLEMS / "G1.txt", d["partition"])
    assert d["cut"] >= 11500
    assert d["objective"] == d["cut"] and d["feasible"] is True
    assert "cut" in out and "time" in out


def test_small_maxcut_reaches_brute_force_optimum(tmp_path, capsys):
    path = PROBLEMS / "maxcut_w20.txt"
    n, edges = read_gset(path)
    S = all_spin_vectors(n)
    cuts = np.zeros(S.shape[0])
    for i, j, w in edges:  # independent of the Ising encoding: count cut edges directly
        cuts += w * (S[:, int(i)] != S[:, int(j)])
    best = cuts.max()
    assert best == 42
    for solver in ("exact", "cim", "spectral", "auto"):
        code, out, err = run_cli(["solve", "maxcut", path, "--solver", solver, "--json", "-", "--seed", 3], capsys)
        assert code == 0, err
        d = json.loads(out)
        assert d["cut"] == independent_cut(path, d["partition"])
        if solver in ("exact", "cim", "auto"):
            assert d["cut"] == best


def test_ising_npz_and_mtx(tmp_path, capsys):
    rng = np.random.default_rng(0)
    J = np.triu(rng.standard_normal((8, 8)), 1)
    J = J + J.T
    h = rng.standard_normal(8)
    np.savez(tmp_path / "m.npz", J=J, h=h)
    code, out, err = run_cli(["solve", "ising", tmp_path / "m.npz", "--solver", "exact", "--json", "-"], capsys)
    assert code == 0, err
    d = json.loads(out)
    S = all_spin_vectors(8)
    E = -0.5 * np.einsum("ri,ij,rj->r", S, J, S) - S @ h
    assert d["energy"] == pytest.approx(E.min())
    import scipy.io

    scipy.io.mmwrite(str(tmp_path / "m.mtx"), sp.csr_matrix(J))
    code, out, err = run_cli(["solve", "ising", tmp_path / "m.mtx", "--solver", "exact", "--json", "-"], capsys)
    assert code == 0, err
    assert json.loads(out)["energy"] == pytest.approx((-0.5 * np.einsum("ri,ij,rj->r", S, J, S)).min())


BAD_GSET = {
    "missing_header": "1 2 1\n",
    "wrong_header": "eight 3\n1 2 1\n",
    "count_mismatch": "3 3\n1 2 1\n2 3 1\n",
    "out_of_range": "3 2\n1 2 1\n2 4 1\n",
    "non_numeric_weight": "3 2\n1 2 1\n2 3 abc\n",
    "empty": "",
    "blank": "   \n\n",
    "self_loop": "3 1\n2 2 1\n",
    "nan_weight": "3 1\n1 2 nan\n",
}


@pytest.mark.parametrize("name", sorted(BAD_GSET))
def test_bad_gset_input_one_line_exit_2(tmp_path, capsys, name):
    path = tmp_path / f"{name}.gset"  # Gset by extension ('1 2 1' alone is a valid weighted edge list)
    path.write_text(BAD_GSET[name])
    code, out, err = run_cli(["solve", "maxcut", path], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("cimsim: error:")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["solve", "knapsackish", "x.txt"],
        ["solve", "maxcut", "does-not-exist.txt"],
        ["solve", "maxcut", PROBLEMS / "maxcut_w20.txt", "--solver", "nope"],
        ["solve", "maxcut", PROBLEMS / "maxcut_w20.txt", "--steps", "0"],
        ["solve", "maxcut", PROBLEMS / "maxcut_w20.txt", "--replicas", "-1"],
        ["solve", "maxcut", PROBLEMS / "maxcut_w20.txt", "--time-limit", "nan"],
        ["solve", "maxcut", PROBLEMS / "maxcut_w20.txt", "-p", "dt=-1"],
        ["solve", "maxcut", PROBLEMS / "maxcut_w20.txt", "-p", "nonsense"],
        ["solve", "maxcut", PROBLEMS / "G1.txt", "--solver", "exact"],
        ["solve", "ising", PROBLEMS / "maxcut_w20.txt"],
    ],
)
def test_bad_arguments_one_line_exit_2(capsys, argv):
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_gpu_backend_without_cupy_is_refused(capsys):
    from cimsim.backends import gpu_status

    if gpu_status()[0]:
        pytest.skip("a GPU is available here")
    code, out, err = run_cli(["solve", "maxcut", PROBLEMS / "maxcut_w20.txt", "--solver", "cim", "--backend", "gpu"],
                             capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert 'pip install "cimsim[gpu]"' in err or "device" in err


def test_partial_json_never_written(tmp_path, capsys):
    target = tmp_path / "out.json"
    code, out, err = run_cli(["solve", "maxcut", tmp_path / "missing.txt", "--json", target], capsys)
    assert code == 2 and not target.exists()


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "cimsim", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "solve" in proc.stdout
