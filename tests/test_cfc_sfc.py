"""Error-correction feedback CIMs (cimsim.solvers.cfc, sfc): fixed points of physics.md 4.10 (T10), exact
optima on small instances, the step-size rule, one-line refusals."""
from __future__ import annotations

import numpy as np
import pytest

import cimsim
from cimsim.errors import CimsimError
from cimsim.instances import sk_model
from cimsim.kernels.correction import cfc_step, sfc_step
from cimsim.model import IsingModel
from cimsim.solvers import cfc, sfc
from cimsim.solvers.machine import coupling_norm, field_product


def _stable_ground_state(n: int, seed: int) -> tuple[IsingModel, np.ndarray]:
    model = sk_model(n, seed=seed)
    s = cimsim.solvers.solve(model, "exact").spins.astype(float)
    assert np.all(s * (model.dense_couplings() @ s) > 0)  # a ground state is single-flip stable
    return model, s


def _lambda(p: float, rhs: float) -> float:
    """The positive root of lambda^3 - (p - 1) lambda = rhs."""
    roots = np.roots([1.0, 0.0, -(p - 1.0), -rhs])
    return float(max(r.real for r in roots if abs(r.imag) < 1e-12 and r.real > 0))


def _field(model: IsingModel, X: np.ndarray) -> np.ndarray:
    PHI = np.empty_like(X)
    field_product(model, coupling_norm(model))(X, PHI)
    return PHI


def test_t10_cfc_fixed_point() -> None:
    model, s = _stable_ground_state(12, seed=3)
    p, alpha, beta = 0.5, 1.0, 0.2
    lam = _lambda(p, np.sqrt(alpha))
    X = (lam * s)[None, :].copy()
    E = np.sqrt(alpha) / _field(model, X)[0] * s  # z = e phi = sqrt(alpha) s
    E = E[None, :].copy()
    assert np.all(E > 0)
    X0, E0 = X.copy(), E.copy()
    for _ in range(50):
        cfc_step(X, E, _field(model, X), p, alpha, beta, 0.1, 1.5, 0.01, 0.0, np.ones(1, dtype=np.uint64))
    assert np.abs(X - X0).max() < 1e-12 and np.abs(E - E0).max() < 1e-12


def test_t10_sfc_fixed_point() -> None:
    model, s = _stable_ground_state(12, seed=4)
    p, k = 0.3, 0.2
    lam = _lambda(p, 1.0)
    X = (lam * s)[None, :].copy()
    Z = _field(model, X)
    c = 40.0 / np.abs(Z).min()  # tanh(c z) = sign(z) to machine precision
    E = Z.copy()
    X0, E0 = X.copy(), E.copy()
    for _ in range(50):
        sfc_step(X, E, _field(model, X), p, c, k, 0.2, 0.1, 0.0, np.ones(1, dtype=np.uint64))
    assert np.abs(X - X0).max() < 1e-12 and np.abs(E - E0).max() < 1e-12


@pytest.mark.parametrize("solver", ["cfc", "sfc"])
@pytest.mark.parametrize("fields", [False, True])
def test_exact_optimum_on_small_instances(solver: str, fields: bool) -> None:
    rng = np.random.default_rng(11)
    base = sk_model(16, seed=9)
    h = rng.normal(scale=0.5, size=16) if fields else None
    model = IsingModel.from_couplings(base.dense_couplings(), h)
    exact = cimsim.solvers.solve(model, "exact")
    res = cimsim.solvers.solve(model, solver, replicas=16, seed=1)
    assert res.energy == pytest.approx(exact.energy)
    assert res.energy == pytest.approx(model.energy(res.spins))
    assert res.extra["mvm"] == res.steps * res.replicas


@pytest.mark.parametrize("module", [cfc, sfc], ids=["cfc", "sfc"])
def test_step_rule_keeps_published_dt_where_stable_and_shrinks_it_on_antiferromagnets(module) -> None:
    import networkx as nx

    ring = cimsim.encode("maxcut", nx.random_regular_graph(40, 200, seed=1)).model  # mostly antiferro J
    sk = sk_model(200, seed=1)
    assert module.stable_dt(ring) < 0.2 < module.stable_dt(sk) <= module.PUBLISHED_DT
    mu = np.linalg.eigvalsh(ring.dense_couplings())[0] * coupling_norm(ring)
    gain = 1.0 if module is cfc else 1.0 + 0.2  # e0, or c0 + k
    assert module.stable_dt(ring) == pytest.approx(2.0 / (2.0 + gain * -mu), rel=1e-3)
    for model in (ring, sk):
        dt = module.stable_dt(model)
        assert module.defaults(model)["steps"] * dt == pytest.approx(module.RUN_LENGTH, rel=0.01)
        res = cimsim.solvers.solve(model, module.__name__.rsplit(".", 1)[1], replicas=4, seed=0)
        assert res.settings["dt"] == pytest.approx(dt)


@pytest.mark.parametrize("solver,bad", [("cfc", {"alpha": 0}), ("cfc", {"beta": -1}), ("cfc", {"x_max": "wide"}),
                                        ("sfc", {"k": -0.1}), ("sfc", {"dt": 0}), ("sfc", {"c_end": "nan"})])
def test_bad_values_are_one_line_errors(solver: str, bad: dict) -> None:
    with pytest.raises(CimsimError) as err:
        cimsim.solvers.solve(sk_model(8, seed=0), solver, replicas=1, steps=2, **bad)
    assert "\n" not in str(err.value) and solver in str(err.value)


@pytest.mark.parametrize("solver", ["cfc", "sfc"])
def test_fused_sparse_step_is_the_same_trajectory(solver: str) -> None:
    """The fused CSR kernel (field and Euler step in one pass, replica-minor arrays) follows the unfused
    scipy-product + step trajectory: with np.tanh the same spins, energies and final amplitudes' signs."""
    rng = np.random.default_rng(5)
    n = 60
    W = np.triu(rng.choice([-1.0, 0.0, 0.0, 1.0], size=(n, n)), 1)
    import scipy.sparse as sp

    model = IsingModel(sp.csr_matrix(W + W.T), rng.normal(0, 0.3, n))
    assert model.is_sparse  # the fused path is taken
    extra = {"exact_tanh": True} if solver == "sfc" else {}
    a = cimsim.solve(model, solver, steps=200, replicas=6, seed=2, polish_result=False, fused=True, float32=False, **extra)
    b = cimsim.solve(model, solver, steps=200, replicas=6, seed=2, polish_result=False, fused=False)
    assert np.array_equal(a.energies, b.energies)
    assert np.array_equal(a.extra["final_energies"], b.extra["final_energies"])
    assert a.energy == pytest.approx(model.energy(a.spins))


def test_rational_tanh_is_within_1e_4() -> None:
    from cimsim.kernels.correction import TANH_CLIP, tanh_rational
    import numba as nb

    f = nb.njit(lambda y: tanh_rational(y))
    y = np.linspace(-12.0, 12.0, 4801)
    err = np.abs(np.array([f(v) for v in y]) - np.tanh(y))
    assert err.max() < 1e-4
    assert err[np.abs(y) < 3.0].max() < 1e-6
    assert f(TANH_CLIP) == f(50.0) and f(-50.0) == -f(50.0)


@pytest.mark.parametrize("solver", ["cfc", "sfc"])
def test_float32_fused_sparse_default_finds_exact_optimum(solver: str) -> None:
    """The default sparse path (fused kernel, float32 state) on a brute-forceable sparse instance with fields:
    the exact ground state, its energy recomputed from the spins."""
    import scipy.sparse as sp

    rng = np.random.default_rng(21)
    n = 16
    W = np.triu(rng.choice([-1.0, 0.0, 1.0], size=(n, n)), 1)
    model = IsingModel(sp.csr_matrix(W + W.T), rng.normal(0, 0.2, n))
    assert model.is_sparse
    exact = cimsim.solvers.solve(model, "exact")
    res = cimsim.solvers.solve(model, solver, replicas=16, seed=3)
    assert res.settings["float32"] and res.settings["fused"]
    assert res.energy == pytest.approx(exact.energy)
    assert res.energy == pytest.approx(model.energy(res.spins))


def test_cfc_default_alpha_follows_mean_degree() -> None:
    """alpha = 1 (published) at mean degree >= 8, 0.5 below: a ring (degree 2) and SK (degree N - 1); an
    explicit alpha is kept."""
    import scipy.sparse as sp

    n = 30
    ring = sp.lil_matrix((n, n))
    for i in range(n):
        ring[i, (i + 1) % n] = ring[(i + 1) % n, i] = 1.0
    sparse_model = IsingModel(sp.csr_matrix(ring), np.zeros(n))
    dense_model = sk_model(30, seed=1)
    assert cfc.default_alpha(sparse_model) == cfc.SPARSE_ALPHA
    assert cfc.default_alpha(dense_model) == 1.0
    r = cimsim.solvers.solve(sparse_model, "cfc", replicas=2, steps=20, seed=0)
    assert r.settings["alpha"] == cfc.SPARSE_ALPHA
    r = cimsim.solvers.solve(sparse_model, "cfc", replicas=2, steps=20, seed=0, alpha=0.8)
    assert r.settings["alpha"] == 0.8
