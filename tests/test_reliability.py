"""Reliability (issue 8): divergence detection, memory guards, reproducibility, float64 energies, output safety.

Fuzzing of the parsers and the CLI lives in tests/test_fuzz.py.
"""
from __future__ import annotations

import json
import os
import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim.errors import CimsimError
from cimsim.instances import sk_model
from cimsim.memory import check_dense_fits
from cimsim.model import IsingModel
from cimsim.solvers import SOLVERS, get_solver, solve

from .conftest import plain_energy

GIB = 1 << 30


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from cimsim.cli import main

    code = 0
    with CliRunner().isolation() as (out, err, _):
        try:
            main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue().decode(), err.getvalue().decode()


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cimsim: error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def sk40() -> IsingModel:
    return sk_model(40, 1)


def gset_file(tmp_path: Path, n: int = 12, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    edges = {(i, j) for i, j in rng.integers(1, n + 1, size=(3 * n, 2)) if i < j}
    p = tmp_path / "g.txt"
    p.write_text(f"{n} {len(edges)}\n" + "".join(f"{i} {j} 1\n" for i, j in sorted(edges)))
    return p


# ------------------------------------------------------------------------------------ divergence
def _step_of(msg: str) -> tuple[int, int]:
    m = re.search(r"by step (\d+) of (\d+)", msg)
    assert m, msg
    return int(m.group(1)), int(m.group(2))


def test_cim_divergence_detected_within_the_run(sk40):
    """An unstable Euler step (dt = 5) blows the cubic up; the run stops at the first readout after it,
    long before its 2000 steps, and names dt."""
    with pytest.raises(CimsimError, match=r"cim: the amplitudes diverged .* lower dt \(now 5\)") as exc:
        get_solver("cim").run(sk40, replicas=4, steps=2000, rng=np.random.default_rng(0), dt=5.0)
    step, steps = _step_of(str(exc.value))
    assert steps == 2000 and step <= 50
    # through the driver and the CLI too: one line, exit 2
    with pytest.raises(CimsimError, match="dt"):
        solve(sk40, "cim", replicas=2, steps=300, seed=1, dt=3.0, noise=0.0)


def test_cim_divergence_on_the_command_line(tmp_path):
    line = one_line_error(*run_cli(["solve", "maxcut", gset_file(tmp_path), "--solver", "cim", "-p", "dt=5",
                                    "--steps", "500", "--seed", "0"])[::2])
    assert "diverged" in line and "lower dt" in line


@pytest.mark.parametrize("solver, params, names", [
    ("cac", dict(dt=10.0, x_max=1e300), ["dt (now 10)", "x_max"]),
    ("ahc", dict(coupling=1e300, x_max=1e300), ["coupling (now 1e+300", "x_max"]),
])
def test_amplitude_divergence_detected_in_the_kernel(sk40, solver, params, names):
    """ahc/cac: a NaN x or e stops its replica inside the numba kernel; the run reports where and what to change."""
    with pytest.raises(CimsimError, match="diverged") as exc:
        get_solver(solver).run(sk40, replicas=3, steps=5000, rng=np.random.default_rng(0), **params)
    msg = str(exc.value)
    step, steps = _step_of(msg)
    assert steps == 5000 and step < 100  # stopped at once, not after 5000 steps
    for name in names:
        assert name in msg


def test_amplitude_divergence_dense_blas_path():
    """The N >= 256 dense path (BLAS product + step_dense) detects it too and stops early."""
    from cimsim.solvers.cac import BLAS_MIN_N

    m = sk_model(BLAS_MIN_N, 3)
    with pytest.raises(CimsimError, match="diverged") as exc:
        get_solver("cac").run(m, replicas=2, steps=3000, rng=np.random.default_rng(0), dt=10.0, x_max=1e300)
    step, _ = _step_of(str(exc.value))
    assert step <= 64


def test_sb_unstable_dt_refused_before_the_run(sk40):
    """sb's walls keep x finite, so its instability (omega dt >= 2) is refused exactly, before any step."""
    from cimsim.solvers import sb

    for variant in ("dsb", "bsb"):
        limit = sb.stable_dt_limit(sk40, variant, 1.0, 0.5 / sk40.coupling_scale())
        with pytest.raises(CimsimError, match=r"sb: dt = .* stability limit .* lower dt"):
            sb.run(sk40, replicas=2, steps=50, rng=np.random.default_rng(0), variant=variant, dt=1.01 * limit)
        b = sb.run(sk40, replicas=2, steps=50, rng=np.random.default_rng(0), variant=variant, dt=0.95 * limit)
        assert np.all(np.isfinite(b.extra["best_energies"]))
    assert sb.stable_dt_limit(sk40, "dsb", 1.0, 1.0) == 2.0
    # bSB: the limit is where the fastest linear mode (lambda_min of J) goes unstable
    lam = np.linalg.eigvalsh(sk40.dense_couplings())[0]
    c0 = 0.5 / sk40.coupling_scale()
    assert sb.stable_dt_limit(sk40, "bsb", 1.0, c0) == pytest.approx(2 / np.sqrt(1 + c0 * -lam), rel=1e-3)
    # general a0 (issue 17.6): omega_max^2 = a0 (a0 + c0 |lambda_min|) for bSB, omega = a0 for dSB
    for a0 in (0.5, 2.0):
        assert sb.stable_dt_limit(sk40, "bsb", a0, c0) == pytest.approx(2 / np.sqrt(a0 * (a0 + c0 * -lam)), rel=1e-3)
        assert sb.stable_dt_limit(sk40, "dsb", a0, c0) == pytest.approx(2 / a0)


@pytest.mark.parametrize("a0", [1.0, 2.0])
def test_sb_beyond_the_limit_is_really_unstable(sk40, a0):
    """Justify the refusal: bSB one step beyond the limit, without walls in reach (tiny amplitudes, a = 0
    frozen), grows exponentially; below it stays bounded (also for a0 != 1, where the limit is
    2 / sqrt(a0 (a0 + c0 |lambda_min|)))."""
    from cimsim.kernels.sb import sb_dense_run
    from cimsim.solvers import sb

    c0 = 0.5 / sk40.coupling_scale()
    lam, V = np.linalg.eigh(sk40.dense_couplings())
    limit = sb.stable_dt_limit(sk40, "bsb", a0, c0)
    J32 = np.ascontiguousarray(sk40.dense_couplings(), dtype=np.float32)
    amps = {}
    for f in (0.97, 1.03):
        X = (1e-12 * V[:, 0]).astype(np.float32)[None, :].copy()
        Y = np.zeros_like(X)
        best_S = np.ones((1, sk40.n), dtype=np.int8)
        best_E = np.full(1, np.inf)
        sb_dense_run(J32, sk40.h, 0.0, X, Y, np.empty_like(X), np.empty_like(X), np.zeros(400), a0, c0,
                     f * limit, False, 10, 1, best_S, best_E)
        amps[f] = float(np.abs(X).max())
    assert amps[0.97] < 1e-9 and amps[1.03] > 1e-6


# ------------------------------------------------------------------------------------ memory
def test_dense_200k_model_refused_without_allocation(monkeypatch):
    """A dense N = 200,000 model (320 GB per copy) is refused with a helpful message before any allocation."""
    monkeypatch.setenv("CIMSIM_MEMORY_LIMIT", str(8 * GIB))
    n = 200_000
    empty = sp.csr_matrix((n, n))
    tracemalloc.start()
    try:
        for make in (lambda: IsingModel.from_couplings(empty, storage="dense"),
                     lambda: IsingModel.from_couplings(empty).dense_couplings(),
                     lambda: sk_model(n, 0),
                     lambda: check_dense_fits(n)):
            with pytest.raises(CimsimError) as exc:
                make()
            msg = str(exc.value)
            assert "200000 x 200000" in msg and "GiB" in msg and "sparse" in msg and "\n" not in msg
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20  # the CSR shell (indptr, h) only: no N x N array was ever allocated


def test_dense_200k_on_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("CIMSIM_MEMORY_LIMIT", str(8 * GIB))
    for argv in (["anneal", "--sk", 200000, "--out", tmp_path / "a", "--workers", 1],
                 ["landscape", "--n", 200000, "--a", 0.0],
                 ["phase-diagram", "--n", 200000, "--a-min", -1, "--a-max", 0, "--a-steps", 2, "--out", tmp_path / "p"]):
        line = one_line_error(*run_cli(argv)[::2])
        assert "GiB" in line and "200000" in line


def test_batch_memory_guard(monkeypatch):
    """replicas x N state is estimated before allocation; the message suggests fewer replicas."""
    monkeypatch.setenv("CIMSIM_MEMORY_LIMIT", str(GIB))
    n = 100_000
    ring = sp.diags([np.ones(n - 1), np.ones(n - 1)], [-1, 1], format="csr")
    m = IsingModel.from_couplings(ring)
    for name in ("cim", "sb", "cac", "ahc"):
        with pytest.raises(CimsimError, match="fewer replicas"):
            get_solver(name).run(m, replicas=4000, steps=10, rng=np.random.default_rng(0))


def test_huge_header_counts_refused_streaming(tmp_path, monkeypatch):
    """Header counts are checked before anything is allocated, and a bad line stops the read at once
    (files are read line by line, never whole)."""
    from cimsim.encoders import get_problem

    monkeypatch.setenv("CIMSIM_MEMORY_LIMIT", str(GIB))
    cases = {
        "maxcut": "1000000000000 1\n1 2 1\n",
        "sat": "p cnf 100000000000 1\n1 0\n",
        "clique": "p edge 100000000000 1\ne 1 2\n",
        "tsp": "1000000\n",
        "knapsack": "10000000 5\n1 1\n",
    }
    for problem, text in cases.items():
        p = tmp_path / f"{problem}.txt"
        p.write_text(text)
        with pytest.raises(CimsimError, match="GiB"):
            get_problem(problem).from_file(p)
    big = tmp_path / "big.txt"
    with open(big, "w") as fh:
        fh.write("3 1\n1 2 1\n")
        fh.write("2 3 1\n" * 400_000)  # 2.4 MB of surplus edge lines
    tracemalloc.start()
    try:
        with pytest.raises(CimsimError, match=r"line 3: header \(line 1\) declares 1 edges but the file has 2 or more"):
            get_problem("maxcut").from_file(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 512 << 10


# ------------------------------------------------------------------------------------ reproducibility
def _model_with_fields(sparse: bool) -> IsingModel:
    rng = np.random.default_rng(5)
    n = 30
    J = np.triu(rng.normal(size=(n, n)) * (rng.random((n, n)) < 0.3), 1)
    J = J + J.T
    return IsingModel.from_couplings(sp.csr_matrix(J) if sparse else J, rng.normal(size=n) * 0.3, 1.5)


def _torus_model(sparse: bool) -> IsingModel:
    """A field-free 6 x 5 Gaussian torus (spin r * 5 + c), the kind of model the matching solver takes."""
    rng = np.random.default_rng(6)
    J = np.zeros((30, 30))
    for i in range(30):
        r, c = divmod(i, 5)
        for j in (r * 5 + (c + 1) % 5, ((r + 1) % 6) * 5 + c):
            J[i, j] = J[j, i] = rng.normal()
    return IsingModel.from_couplings(sp.csr_matrix(J) if sparse else J)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_same_seed_same_output(name, sparse):
    """Same seed, backend and batch: identical spins, energies, settings and steps (every CPU solver)."""
    m = _torus_model(sparse) if name == "matching" else _model_with_fields(sparse)
    if name == "exact" and m.n > 24:
        m = IsingModel.from_couplings(m.dense_couplings()[:16, :16], m.h[:16], m.offset)
    runs = [solve(m, name, replicas=4, steps=60, seed=11, polish_result=False) for _ in range(2)]
    a, b = runs
    assert np.array_equal(a.spins, b.spins)
    assert a.energy == b.energy and np.array_equal(a.energies, b.energies)
    assert (a.steps, a.replicas, a.batches) == (b.steps, b.replicas, b.batches)
    assert json.dumps(a.settings, sort_keys=True, default=str) == json.dumps(b.settings, sort_keys=True, default=str)
    other = solve(m, name, replicas=4, steps=60, seed=12, polish_result=False)
    if name != "matching":  # matching stops at its first proven ground state: fewer rows on some seeds
        assert other.energies.shape == a.energies.shape  # a different seed runs the same batch


# ------------------------------------------------------------------------------------ float64 energies
@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_reported_energy_recomputed_in_float64_from_spins(name):
    """Result.energy / energies are H(spins) recomputed in float64 (independent double loop here), whatever
    precision the solver's state used (sb runs float32)."""
    m = _torus_model(False) if name == "matching" else _model_with_fields(False)
    if name == "exact":
        m = IsingModel.from_couplings(m.dense_couplings()[:14, :14], m.h[:14], m.offset)
    J, h = m.dense_couplings(), m.h
    r = solve(m, name, replicas=3, steps=40, seed=2)
    assert isinstance(r.energy, float) and r.energies.dtype == np.float64
    assert r.energy == pytest.approx(plain_energy(J, h, m.offset, r.spins), abs=1e-10)
    assert r.energy == pytest.approx(float(r.energies.min()), abs=1e-10)


def test_driver_ignores_a_solvers_own_energy_claims(monkeypatch):
    """A solver that reports a wrong energy in Batch.extra does not change the reported energy."""
    from cimsim.solvers import Batch

    m = _model_with_fields(False)
    spins = np.where(np.arange(m.n) % 3 == 0, 1, -1)[None, :]
    fake = type("Fake", (), {
        "defaults": staticmethod(lambda model: {"replicas": 1, "steps": 1}),
        "run": staticmethod(lambda model, **kw: Batch(spins.astype(np.float32), 1, {}, {"best_energies": np.array([-1e9])})),
    })
    import cimsim.solvers as S

    monkeypatch.setattr(S, "get_solver", lambda name: fake)
    r = S.solve(m, "cim", polish_result=False, seed=0)
    assert r.energy == pytest.approx(plain_energy(m.dense_couplings(), m.h, m.offset, spins[0]), abs=1e-10)


# ------------------------------------------------------------------------------------ output safety
def test_solve_json_not_overwritten_without_force(tmp_path):
    g = gset_file(tmp_path)
    out = tmp_path / "r.json"
    out.write_text("precious\n")
    argv = ["solve", "maxcut", g, "--solver", "exact", "--seed", "0", "--json", out, "-q"]
    line = one_line_error(*run_cli(argv)[::2])
    assert "already exists" in line and "--force" in line
    assert out.read_text() == "precious\n"
    code, _, err = run_cli(argv + ["--force"])
    assert code == 0, err
    assert json.loads(out.read_text())["solver"] == "exact"
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith(".")] == []  # no temporary left behind


def test_landscape_outputs_not_overwritten_without_force(tmp_path):
    out = tmp_path / "l.json"
    out.write_text("{}")
    line = one_line_error(*run_cli(["landscape", "--n", 8, "--a", 0.0, "--starts", 2, "--seed", 1, "--json", out, "-q"])[::2])
    assert "--force" in line
    pts = tmp_path / "p.npz"
    pts.write_bytes(b"x")
    line = one_line_error(*run_cli(["landscape", "--n", 8, "--a", 0.0, "--points", pts, "-q"])[::2])
    assert "--force" in line and pts.read_bytes() == b"x"
    code, _, err = run_cli(["landscape", "--n", 8, "--a", 0.0, "--starts", 2, "--seed", 1, "--json", out, "-q", "--force"])
    assert code == 0, err
    assert json.loads(out.read_text())["n"] == 8


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    from cimsim.atomic import atomic_path, write_text_atomic

    p = tmp_path / "out.json"
    write_text_atomic(p, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(p) as tmp:
            Path(tmp).write_text("half a fi")
            raise RuntimeError("killed mid-write")
    assert p.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["out.json"]


def test_cli_warnings_are_one_line(capsys):
    """On the command line a CimsimWarning (e.g. duplicate edges merged) is one 'cimsim: warning:' line."""
    import warnings

    from cimsim.cli import common
    from cimsim.errors import CimsimWarning

    common._one_line_warning(CimsimWarning("g.txt: 2 duplicate edge(s)\nmerged"), CimsimWarning, "x.py", 1)
    err = capsys.readouterr().err
    assert err == "cimsim: warning: g.txt: 2 duplicate edge(s) merged\n"


def test_sparse_diagonal_folds_into_offset():
    """Regression (found by the fuzzing): a sparse J with a diagonal keeps a float offset -1/2 sum J_ii."""
    J = sp.csr_matrix(np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -4.0]]))
    m = IsingModel.from_couplings(J, None, 0.5)
    assert isinstance(m.offset, float) and m.offset == pytest.approx(0.5 - 0.5 * (2.0 - 4.0))
    assert m.J.diagonal().tolist() == [0, 0, 0]
    s = np.array([1, -1, 1])
    assert m.energy(s) == pytest.approx(-0.5 * s @ J.toarray() @ s + 0.5)


def test_bad_parameters_refused_even_when_presolve_solves_everything():
    """Found by CIMSIM_FUZZ_EXAMPLES=10: 'cimsim solve maxcut' on '2 0' with --steps -3 --solver sa exits 0."""
    m = IsingModel.from_couplings(sp.csr_matrix((2, 2)))
    with pytest.raises(CimsimError):
        solve(m, "sa", steps=-3, replicas=0, seed=1, time_limit=float("nan"), bogus=1)
