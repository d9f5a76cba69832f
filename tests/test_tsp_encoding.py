"""The TSP encoding: exact energies from an independent formula, sparse assembly, memory refusal."""
from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from cimsim.encoders.tsp import encode_tsp
from cimsim.errors import CimsimError


def _penalty_energy(W: np.ndarray, A: float, X: np.ndarray) -> float:
    """H of the module docstring for a full (n, n) 0/1 assignment X[city, position]."""
    n = W.shape[0]
    c = W.copy()
    np.fill_diagonal(c, A)
    H = A * ((1 - X.sum(axis=1)) ** 2).sum() + A * ((1 - X.sum(axis=0)) ** 2).sum()
    for j in range(n):
        H += X[:, j] @ c @ X[:, (j + 1) % n]
    return float(H)


@pytest.mark.parametrize("n", [3, 4, 6])
@pytest.mark.parametrize("pin", [True, False])
def test_energy_equals_penalty_formula(n: int, pin: bool) -> None:
    rng = np.random.default_rng(n + 10 * pin)
    W = rng.integers(1, 30, (n, n)).astype(float)
    enc = encode_tsp(W, pin=pin)
    A = enc.info["penalty"]
    m = n - 1 if pin else n
    S = rng.choice(np.array([-1, 1], dtype=np.int8), size=(64, m * m))
    for s, e in zip(S, enc.model.energies(S)):
        x = (s > 0).reshape(m, m).astype(float)
        X = x
        if pin:
            X = np.zeros((n, n))
            X[0, 0] = 1.0
            X[1:, 1:] = x
        assert e == pytest.approx(_penalty_energy(W, A, X), rel=1e-12, abs=1e-9)


def test_valid_tour_energy_is_its_length() -> None:
    rng = np.random.default_rng(3)
    xy = rng.random((7, 2))
    W = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    enc = encode_tsp(W)
    tour = [0, 3, 1, 6, 2, 5, 4]
    x = np.zeros((6, 6))
    for pos, city in enumerate(tour[1:]):
        x[city - 1, pos] = 1.0
    s = np.where(x.ravel() > 0, 1, -1).astype(np.int8)
    sol = enc.decode(s)
    length = sum(W[tour[k], tour[(k + 1) % 7]] for k in range(7))
    assert sol.feasible and sol.objective == pytest.approx(length)
    assert enc.model.energy(s) == pytest.approx(length)


def test_large_instance_is_sparse() -> None:
    rng = np.random.default_rng(0)
    W = rng.integers(1, 100, (40, 40)).astype(float)
    model = encode_tsp(W).model
    assert model.is_sparse and model.n == 39 * 39
    # one-hot partners (2 (m - 1)) plus successor and predecessor costs (2 m) per spin, at most
    assert model.csr_couplings().nnz <= model.n * 4 * 39


def test_refused_with_estimate_before_allocation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIMSIM_MEMORY_LIMIT", str(50 << 20))
    W = np.ones((120, 120))
    tracemalloc.start()
    try:
        with pytest.raises(CimsimError, match=r"120 cities .* needs [0-9.]+ GiB"):
            encode_tsp(W)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < (20 << 20)


def test_solver_advice_in_info() -> None:
    enc = encode_tsp(np.ones((5, 5)))
    assert enc.info["auto_solver"] in enc.info["suited_solvers"]
    assert enc.info["polish"] is False


def test_tsplib_geo_distances_give_the_published_optima() -> None:
    """TSPLIB GEO distances: the published optimal tours of burma14 and ulysses16 have lengths 3323 and 6859."""
    from pathlib import Path

    from cimsim.encoders.tsp import read_tsp, tour_length

    root = Path(__file__).resolve().parent.parent / "problems" / "tsplib"
    for name, tour, length in (
        ("burma14", [1, 2, 14, 3, 4, 5, 6, 12, 7, 13, 8, 11, 9, 10], 3323.0),
        ("ulysses16", [1, 14, 13, 12, 7, 6, 15, 5, 11, 9, 10, 16, 3, 2, 4, 8], 6859.0),
    ):
        W = read_tsp(root / f"{name}.tsp")
        assert np.array_equal(W, W.T) and tour_length(W, [v - 1 for v in tour]) == length


def test_auto_runs_tabu_without_polish_and_returns_a_tour() -> None:
    import cimsim
    from cimsim.encoders.tsp import read_tsp

    path = Path(__file__).resolve().parent.parent / "problems" / "tsp8.tsp"
    res = cimsim.solve("tsp", str(path), seed=0, time_limit=1.0)
    assert res.solver == "tabu" and res.settings["polish"] is False
    tour = res.answer["tour"]
    assert res.feasible and sorted(tour) == list(range(8))
    W = read_tsp(path)
    assert res.objective == pytest.approx(sum(W[tour[k], tour[(k + 1) % 8]] for k in range(8)))
    assert res.objective >= 256  # the brute-force optimum (problems/README.md)


def test_amplitude_dynamics_on_tsp_warn_and_report_no_tour(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    rng = np.random.default_rng(5)
    xy = rng.integers(0, 100, (20, 2))
    f = tmp_path / "r20.tsp"
    f.write_text("NAME: r20\nTYPE: TSP\nDIMENSION: 20\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
                 + "".join(f"{i + 1} {x} {y}\n" for i, (x, y) in enumerate(xy)) + "EOF\n")
    out = subprocess.run([sys.executable, "-m", "cimsim", "solve", "tsp", str(f), "--solver", "cim", "--seed", "1",
                          "--json", "-", "--quiet"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("\n") == 1 and "cimsim: warning: tsp: solver cim" in out.stderr
    rec = json.loads(out.stdout)
    assert rec["settings"]["polish"] is False
    assert rec["feasible"] is False and -1 in rec["tour"]  # no permutation: said so, not papered over
    polished = subprocess.run([sys.executable, "-m", "cimsim", "solve", "tsp", str(f), "--solver", "cim", "--seed",
                               "1", "--polish", "--json", "-", "--quiet"], capture_output=True, text=True, timeout=300)
    assert json.loads(polished.stdout)["settings"]["polish"] is True
