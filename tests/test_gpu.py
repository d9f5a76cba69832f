"""GPU backend without a GPU: the xp-generic dynamics with NumPy standing in for CuPy must reproduce the
CPU solvers, the numba.cuda kernels (CUDA simulator, in a subprocess) must reproduce the references,
and deliberately broken kernels must be caught."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import cimsim.backends as backends
import cimsim.gpu.device as device_mod
from cimsim import gpu
from cimsim.backends import gpu_status
from cimsim.errors import CimsimError
from cimsim.gpu import steps as ref_steps
from cimsim.instances import sk_model
from cimsim.model import IsingModel
from cimsim.solvers import EXECUTORS, SOLVERS, ahc, cac, cim, get_solver, sb, solve, spectral

ROOT = Path(__file__).resolve().parents[1]
HAS_GPU = gpu_status()[0]
D64 = gpu.numpy_device("xp", np.float64)
D32 = gpu.numpy_device("xp", np.float32)


def _graph_model(n: int = 30, p: float = 0.25, seed: int = 4) -> IsingModel:
    rng = np.random.default_rng(seed)
    W = np.triu(rng.random((n, n)) < p, 1)
    W = (W + W.T).astype(float)
    return IsingModel.from_couplings(sp.csr_matrix(-W))


MODELS = {
    "sk-dense": lambda: sk_model(24, seed=7),
    "graph-csr": _graph_model,
    "sk-fields": lambda: IsingModel.from_couplings(sk_model(20, seed=2).J, np.random.default_rng(1).standard_normal(20)),
}

CASES = [
    ("cim", cim, {"noise": 0.05, "feedback_noise": 0.02}),
    ("cim-bifurcation", cim, {"preset": "bifurcation", "finish": False}),
    ("sb-dsb", sb, {}),
    ("sb-bsb", sb, {"variant": "bsb", "readout": 7}),
    ("ahc", ahc, {}),
    ("cac", cac, {}),
]


@pytest.mark.parametrize("model_key", list(MODELS))
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_numpy_standin_reproduces_cpu_solver(case, model_key):
    """Same seed -> same best spins as the CPU solver, energies recomputed independently."""
    name, mod, kw = case
    model = MODELS[model_key]()
    device = D32 if name.startswith("sb") else D64  # SB's CPU state is float32, the others float64
    a = mod.run(model, replicas=4, steps=250, rng=np.random.default_rng(11), **kw)
    b = mod.run(model, replicas=4, steps=250, rng=np.random.default_rng(11), backend="gpu", device=device, **kw)
    assert "device" not in a.extra and b.extra["device"] == device.name
    assert b.spins.shape == (4, model.n) and b.spins.dtype == np.int8
    assert set(np.unique(b.spins)) <= {-1, 1}
    np.testing.assert_array_equal(a.spins, b.spins)
    assert b.steps == a.steps
    assert set(b.settings) == set(a.settings)
    if "best_energies" in a.extra:  # sb: device-tracked best energies equal energies of the spins
        np.testing.assert_allclose(b.extra["best_energies"], model.energies(b.spins), atol=1e-9)
        np.testing.assert_allclose(b.extra["best_energies"], a.extra["best_energies"], atol=1e-9)
    if "steps_to_best" in a.extra:
        assert a.extra["steps_to_best"] == b.extra["steps_to_best"]


def test_dsb_readout_from_the_dynamics_product_is_exact_with_zero_amplitudes():
    """The dSB readout reuses P = J sgn(x); with exact zeros (S = +1 there) the correction must make it
    equal the energy of sign(x) recomputed from scratch."""
    rng = np.random.default_rng(0)
    for model in (IsingModel.from_couplings(sk_model(15, seed=1).J, rng.standard_normal(15), 0.4), _graph_model(15)):
        X = rng.uniform(-1, 1, (5, 15))
        X[rng.random((5, 15)) < 0.3] = 0.0
        X[0] = 0.0
        V = np.sign(X)
        Jd = model.dense_couplings()
        best_E, best_S = np.full(5, np.inf), np.ones((5, 15), dtype=np.int8)
        h = model.h if model.has_fields else None
        ref_steps.sb_readout(X, V, V @ Jd, h, model.offset, lambda Z: Z @ Jd, best_E, best_S)
        S = np.where(X >= 0, 1, -1)
        np.testing.assert_allclose(best_E, model.energies(S), atol=1e-12)
        np.testing.assert_array_equal(best_S, S)
    # whole trajectories from x = y = 0 with h = 0: every amplitude stays exactly 0 (readout all +1)
    for model in (sk_model(12, seed=3), _graph_model(12)):
        Z = np.zeros((2, 12), dtype=np.float32)
        _, _, a_spins, a_best = sb.simulate(model, Z, Z, steps=20)
        _, _, b_spins, b_best = gpu.sb_simulate(model, Z, Z, sb.a_schedule(20), discrete=True, dt=sb.default_dt(model),
                                                a0=1.0, c0=0.5 / model.coupling_scale(), readout=1, device=D32)
        np.testing.assert_array_equal(b_spins, np.ones((2, 12)))
        np.testing.assert_array_equal(a_spins, b_spins)
        # float32 product vs the CPU's float64 row sums of float32 J: float32 rounding of the fields
        np.testing.assert_allclose(b_best, model.energies(b_spins), rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(b_best, a_best, rtol=1e-5, atol=1e-9)


def test_amplitude_state_matches_cpu_simulate():
    """ahc/cac internals: x, e, tracked energies, xi resets and the target stop equal the CPU kernels'."""
    m = sk_model(30, seed=5)
    prm = cac.resolve_params(m, gamma=0.05, tau=5.0)
    kargs = cac._kernel_args(m, prm)
    rng = np.random.default_rng(3)
    X0 = rng.uniform(-5e-4, 5e-4, (3, 30))
    E0 = np.ones((3, 30))
    a = cac.simulate(m, X0, E0, 400, **kargs)
    b = gpu.amplitude_simulate(m, X0, E0, 400, device=D64, **kargs)
    np.testing.assert_allclose(b.x, a.x, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.e, a.e, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.energy, m.energies(b.spins), atol=1e-9)
    np.testing.assert_allclose(b.best_energy, m.energies(b.best_spins), atol=1e-9)
    for f in ("best_energy", "tau_a", "xi"):
        np.testing.assert_allclose(getattr(b, f), getattr(a, f), atol=1e-9)
    for f in ("t_c", "steps_to_best", "steps"):
        np.testing.assert_array_equal(getattr(b, f), getattr(a, f))
    assert np.any(a.t_c > a.steps_to_best)  # a reset fired, and was reproduced
    # target: a replica stops when it reaches the energy; frozen state like the CPU's early exit
    tgt = float(np.sort(a.best_energy)[1])
    kargs["target"] = tgt
    a = cac.simulate(m, X0, E0, 400, **kargs)
    b = gpu.amplitude_simulate(m, X0, E0, 400, device=D64, **kargs)
    np.testing.assert_array_equal(b.steps, a.steps)
    assert np.any(b.steps < 400)


def test_float32_device_state_agrees_with_cpu():
    """The GPU default (float32 state, float64 energies): documented tolerance on small instances."""
    m = sk_model(40, seed=3)
    for mod, kw in ((cim, {"noise": 0.0}), (ahc, {}), (cac, {})):
        a = mod.run(m, replicas=6, steps=1000, rng=np.random.default_rng(1), **kw)
        b = mod.run(m, replicas=6, steps=1000, rng=np.random.default_rng(1), backend="gpu", device=D32, **kw)
        np.testing.assert_allclose(m.energies(b.spins), m.energies(a.spins), atol=1e-9)
    # final (not best) readout after 200 noiseless cim steps: the float32 trajectory has not drifted
    a = cim.run(m, replicas=3, steps=200, rng=np.random.default_rng(2), noise=0.0, track_best=False)
    b = cim.run(m, replicas=3, steps=200, rng=np.random.default_rng(2), noise=0.0, track_best=False, backend="gpu",
                device=D32)
    np.testing.assert_array_equal(a.spins, b.spins)


def test_cim_record_and_constant_finish_match_cpu():
    m = sk_model(16, seed=9)
    a = cim.run(m, replicas=3, steps=60, rng=np.random.default_rng(0), record=True, readout=7)
    b = cim.run(m, replicas=3, steps=60, rng=np.random.default_rng(0), record=True, readout=7, backend="gpu", device=D64)
    for key in ("trace_a", "trace_x", "trace_energy"):
        np.testing.assert_allclose(b.extra[key], a.extra[key], atol=1e-10)
    a = cim.run(m, replicas=3, steps=50, rng=np.random.default_rng(0), preset="constant")
    b = cim.run(m, replicas=3, steps=50, rng=np.random.default_rng(0), preset="constant", backend="gpu", device=D64)
    np.testing.assert_array_equal(a.spins, b.spins)
    assert b.extra["finish_iterations"] == a.extra["finish_iterations"]


def test_exact_ground_state_on_tiny_instance():
    """Brute force a 12-spin instance; the device cac (stand-in) finds its ground state."""
    from itertools import product

    m = sk_model(12, seed=21)
    S = np.array(list(product([-1, 1], repeat=12)), dtype=np.int8)
    e0 = m.energies(S).min()
    b = cac.run(m, replicas=4, steps=3000, rng=np.random.default_rng(0), backend="gpu", device=D32)
    assert m.energies(b.spins).min() == pytest.approx(e0, abs=1e-9)


def test_spectral_on_device_standin():
    for model in (sk_model(30, seed=1), _graph_model(60), MODELS["sk-fields"]()):
        a = spectral.run(model, replicas=16, steps=1, rng=np.random.default_rng(0), k=4)
        b = spectral.run(model, replicas=16, steps=1, rng=np.random.default_rng(0), k=4, backend="gpu", device=D64)
        np.testing.assert_allclose(b.extra["eigenvalues"], a.extra["eigenvalues"], atol=1e-8)
        # sign(v_max) is defined up to the eigenvector's sign: same energy
        assert model.energy(b.spins[0]) == pytest.approx(model.energy(a.spins[0]), abs=1e-9)
    # Lanczos path (N > 400, CSR), same v0 draw as the CPU solver
    big = _graph_model(450, p=0.02, seed=3)
    a = spectral.run(big, replicas=4, steps=1, rng=np.random.default_rng(5), k=3)
    b = spectral.run(big, replicas=4, steps=1, rng=np.random.default_rng(5), k=3, backend="gpu", device=D64)
    np.testing.assert_allclose(b.extra["eigenvalues"], a.extra["eigenvalues"], atol=1e-6)


def test_batched_eigvalsh_and_hessian_spectra():
    from cimsim.landscape.energy import hessian
    from cimsim.landscape.hessian import spectra

    m = sk_model(25, seed=4)
    J = m.dense_couplings() / m.coupling_scale()
    X = np.random.default_rng(0).standard_normal((5, 25)) * 0.7
    want = spectra(J, 0.3, X)
    np.testing.assert_allclose(gpu.hessian_spectra(J, 0.3, X, device=D64), want, atol=1e-10)
    np.testing.assert_allclose(gpu.hessian_spectra(J, 0.3, X, device=D64, max_bytes=25 * 25 * 8 * 2), want, atol=1e-10)
    np.testing.assert_allclose(gpu.hessian_spectra(J, 0.3, X[0], device=D64), want[0], atol=1e-10)
    K = hessian(X, J, 0.3)
    np.testing.assert_allclose(gpu.batched_eigvalsh(K, device=D64), want, atol=1e-10)
    with pytest.raises(CimsimError):
        gpu.batched_eigvalsh(np.zeros((3, 4)), device=D64)


# ---------------------------------------------------------------- broken kernels are caught
def _broken_cim_step(X, Y, S, h, a, coef, dt, noise_sq, XI):
    """Deliberately wrong: the cubic saturation has the wrong sign."""
    tmp = a * X + X * X * X
    tmp += Y * coef
    tmp += h
    X += dt * tmp
    if noise_sq > 0:
        X += noise_sq * XI
    S[...] = np.where(X >= 0, 1.0, -1.0)


def _broken_amp_step(X, E, Y, S, BEST, improved, active, XI, TAU, pm1, mu, coup, dt, e_max, x_max, G=None, sq=0.0):
    """Deliberately wrong: the error variable uses the *new* amplitude (an aliasing bug)."""
    BEST[...] = np.where(improved[:, None], S, BEST)
    act = active[:, None]
    xn = np.clip(X + dt * ((pm1 - mu * X * X) * X + coup * E * Y) + (sq * G if sq else 0.0), -x_max, x_max)
    en = np.minimum(E * np.exp(-dt * XI[:, None] * (xn * xn - TAU[:, None])), e_max)
    X[...] = np.where(act, xn, X)
    E[...] = np.where(act, en, E)
    S[...] = np.where(X >= 0, 1.0, -1.0)


def test_broken_xp_kernels_are_detected(monkeypatch):
    m = sk_model(24, seed=7)
    a = cim.run(m, replicas=4, steps=200, rng=np.random.default_rng(0), noise=0.0, track_best=False)
    monkeypatch.setattr(ref_steps, "cim_step", _broken_cim_step)
    try:
        with np.errstate(all="ignore"):  # the broken cubic blows up, as it should
            b = cim.run(m, replicas=4, steps=200, rng=np.random.default_rng(0), noise=0.0, track_best=False,
                        backend="gpu", device=D64)
    except CimsimError as exc:  # ... and the divergence check reports it
        assert "diverged" in str(exc)
    else:
        assert not np.array_equal(a.extra["final_energies"], b.extra["final_energies"]) or not np.array_equal(a.spins, b.spins)
    prm = cac.resolve_params(m)
    kargs = cac._kernel_args(m, prm)
    X0 = np.random.default_rng(1).uniform(-5e-4, 5e-4, (2, 24))
    good = cac.simulate(m, X0, np.ones((2, 24)), 300, **kargs)
    monkeypatch.setattr(ref_steps, "amp_step", _broken_amp_step)
    bad = gpu.amplitude_simulate(m, X0, np.ones((2, 24)), 300, device=D64, **kargs)
    assert np.max(np.abs(bad.e - good.e)) > 1e-6


# ---------------------------------------------------------------- numba.cuda kernels under the simulator
SIM_SCRIPT = textwrap.dedent(
    r'''
    import json, math, os
    import numpy as np
    assert os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    from numba import config, cuda
    assert config.ENABLE_CUDASIM
    from cimsim.gpu import selfcheck, numpy_device, amplitude_simulate
    from cimsim.instances import sk_model
    from cimsim.solvers import cim, sb, cac

    out = {"ok": selfcheck.run_all(seeds=(0,))}

    @cuda.jit
    def broken_cim(X, Y, S, h, a, coef, dt, noise_sq, XI, use_noise):
        R, N = X.shape
        k = cuda.grid(1)
        if k < R * N:
            r = k // N
            i = k - r * N
            x = X[r, i]
            x += dt * (a * x - x * x * x + Y[r, i] * coef)   # forgot the field h
            if use_noise:
                x += noise_sq * XI[r, i]
            X[r, i] = x
            S[r, i] = 1.0 if x >= 0.0 else -1.0

    @cuda.jit
    def broken_sb(X, Y, V, S, P, h, cx, cp, cy, discrete):
        R, N = X.shape
        k = cuda.grid(1)
        if k < R * N:
            r = k // N
            i = k - r * N
            xo = float(X[r, i])
            yi = float(Y[r, i]) + (-cx * xo + cp * (float(P[r, i]) + h[i]))
            xi = xo + cy * yi
            if xi > 1.0:          # walls clip x but forget to zero y
                xi = 1.0
            elif xi < -1.0:
                xi = -1.0
            X[r, i] = xi
            Y[r, i] = yi
            xs = X[r, i]
            if discrete:
                V[r, i] = 1.0 if xs > 0.0 else (-1.0 if xs < 0.0 else 0.0)
            else:
                V[r, i] = xs
            S[r, i] = 1.0 if xs >= 0.0 else -1.0

    @cuda.jit
    def broken_amp(X, E, Y, S, BEST, improved, active, XI, TAU, pm1, mu, coup, dt, e_max, x_max, G, sq):
        R, N = X.shape
        k = cuda.grid(1)
        if k < R * N:
            r = k // N
            i = k - r * N
            if improved[r]:
                BEST[r, i] = 1 if S[r, i] >= 0.0 else -1
            if active[r]:
                xo = X[r, i]
                eo = E[r, i]
                x2 = xo * xo
                xn = xo + dt * ((pm1 - mu * x2) * xo + coup * eo * Y[r, i]) + sq * G[r, i]
                if xn > x_max:
                    xn = x_max
                elif xn < -x_max:
                    xn = -x_max
                en = eo * math.exp(-dt * XI[r] * (x2 - TAU[r]))   # forgot the e_max cap
                X[r, i] = xn
                E[r, i] = en
                S[r, i] = 1.0 if xn >= 0.0 else -1.0

    from numba import float64
    from cimsim.gpu.cuda_kernels import RED_THREADS

    @cuda.jit(device=True)
    def _block_dot(S, PHI, h, use_h, r):
        buf = cuda.shared.array(RED_THREADS, dtype=float64)
        tid = cuda.threadIdx.x
        acc = 0.0
        for i in range(tid, S.shape[1], RED_THREADS):
            v = 0.5 * PHI[r, i]
            if use_h:
                v += h[i]
            acc += S[r, i] * v
        buf[tid] = acc
        cuda.syncthreads()
        width = RED_THREADS // 2
        while width > 0:
            if tid < width:
                buf[tid] += buf[tid + width]
            cuda.syncthreads()
            width //= 2
        total = buf[0]
        cuda.syncthreads()
        return total

    @cuda.jit
    def broken_readout(S, PHI, h, use_h, offset, best_E, best_S, track_best):
        r = cuda.blockIdx.x
        e = offset - _block_dot(S, PHI, h, False, r)          # drops the field term
        take = (e < best_E[r]) or not track_best
        cuda.syncthreads()
        if take:
            for i in range(cuda.threadIdx.x, S.shape[1], RED_THREADS):
                best_S[r, i] = 1 if S[r, i] >= 0.0 else -1
        cuda.syncthreads()
        if take and cuda.threadIdx.x == 0:
            best_E[r] = e

    @cuda.jit
    def broken_control(S, PHI, offset, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, IMPROVED, t1,
                       alpha, rho, delta, gamma, dt, tau_steps, tol, tgt):
        r = cuda.blockIdx.x
        e = offset - _block_dot(S, PHI, PHI, False, r)
        if cuda.threadIdx.x == 0 and ACTIVE[r]:
            H[r] = e
            imp = e < HOPT[r] - tol
            IMPROVED[r] = imp
            if imp:
                HOPT[r] = e
                TC[r] = t1
                TBEST[r] = t1
            XI[r] += gamma * dt                                  # the xi reset is missing
            TAU[r] = alpha + rho * math.tanh(delta * (e - HOPT[r]))
            STEPS[r] = t1
            if e <= tgt + tol:
                ACTIVE[r] = False

    @cuda.jit
    def broken_sb_readout(X, V, P, h, use_h, offset, J, best_E, best_S):
        r = cuda.blockIdx.x
        tid = cuda.threadIdx.x
        N = X.shape[1]
        acc = 0.0
        for i in range(N):                      # serial copy that forgets the Z_i P_i term
            p = P[r, i]
            t = 0.5 * V[r, i] * p
            if X[r, i] == 0.0:
                zz = 0.0
                for j in range(N):
                    if X[r, j] == 0.0:
                        zz += J[i, j]
                t += 0.5 * zz
            if use_h:
                t += h[i] * (1.0 if X[r, i] >= 0.0 else -1.0)
            acc += t
        e = offset - acc
        if tid == 0 and e < best_E[r]:
            best_E[r] = e
            for i in range(N):
                best_S[r, i] = 1 if X[r, i] >= 0.0 else -1

    out["broken"] = {
        "sb_readout": selfcheck.compare_sb_readout(broken_sb_readout),
        "cim": selfcheck.compare_cim(broken_cim),
        "sb": selfcheck.compare_sb(broken_sb),
        "amp": selfcheck.compare_amp(broken_amp),
        "readout": selfcheck.compare_readout(broken_readout),
        "control": selfcheck.compare_control(broken_control),
    }

    # whole solvers with the simulated kernels inside the device loop
    m = sk_model(10, seed=3)
    dev = numpy_device("cuda", np.float64)
    a = cim.run(m, replicas=2, steps=30, rng=np.random.default_rng(0), noise=0.05, readout=5)
    b = cim.run(m, replicas=2, steps=30, rng=np.random.default_rng(0), noise=0.05, readout=5, backend="gpu", device=dev)
    out["cim_equal"] = bool(np.array_equal(a.spins, b.spins))
    out["cim_final_diff"] = float(np.max(np.abs(a.extra["final_energies"] - b.extra["final_energies"])))
    a = sb.run(m, replicas=2, steps=12, rng=np.random.default_rng(0), readout=3)
    b = sb.run(m, replicas=2, steps=12, rng=np.random.default_rng(0), readout=3, backend="gpu",
               device=numpy_device("cuda", np.float32))
    out["sb_best_diff"] = float(np.max(np.abs(a.extra["best_energies"] - b.extra["best_energies"])))
    out["sb_spins_equal"] = bool(np.array_equal(a.spins, b.spins))
    kargs = cac._kernel_args(m, cac.resolve_params(m, gamma=0.2, tau=0.25, dt=0.2))
    X0 = np.random.default_rng(1).uniform(-0.3, 0.3, (2, 10))
    s1 = cac.simulate(m, X0, np.ones((2, 10)), 20, **kargs)
    s2 = amplitude_simulate(m, X0, np.ones((2, 10)), 20, device=dev, **kargs)
    out["cac_resets"] = int(np.sum(s1.t_c > s1.steps_to_best))
    out["cac_counters_equal"] = bool(np.array_equal(s1.t_c, s2.t_c) and np.array_equal(s1.steps_to_best, s2.steps_to_best))
    out["cac_x_diff"] = float(np.max(np.abs(s1.x - s2.x)))
    out["cac_best_equal"] = bool(np.array_equal(s1.best_spins, s2.best_spins))
    # pump and target schedules with dynamics noise: the same per-replica streams give the same trajectory
    prm = cac.resolve_params(m, schedule="linear:-0.5,0.5", alpha_schedule="linear:1,2", noise=0.3, xi0=0.4)
    kargs = cac._kernel_args(m, prm)
    seeds = np.array([12345, 678], dtype=np.uint64)
    s1 = cac.simulate(m, X0, np.ones((2, 10)), 30, streams=seeds.copy(), **kargs)
    s2 = amplitude_simulate(m, X0, np.ones((2, 10)), 30, streams=seeds.copy(), device=dev, **kargs)
    out["cac_noise_x_diff"] = float(np.max(np.abs(s1.x - s2.x)))
    out["cac_noise_best_equal"] = bool(np.array_equal(s1.best_spins, s2.best_spins))
    print("RESULT " + json.dumps(out))
    '''
)


def test_cuda_kernels_under_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("NUMBA_DISABLE_JIT", None)
    proc = subprocess.run([sys.executable, "-c", SIM_SCRIPT], capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    out = json.loads(line[len("RESULT "):])
    from cimsim.gpu.selfcheck import TOLERANCE

    for k, v in out["ok"].items():
        assert v <= TOLERANCE[k], (k, v)
    for k, v in out["broken"].items():  # each broken copy is caught by the same comparison
        assert v > 100 * TOLERANCE[k], (k, v)
    assert out["cim_equal"] and out["cim_final_diff"] < 1e-9
    # the dSB readout energy comes from the float32 product, which the CPU kernel sums four rows of J at a
    # time and the device kernel row by row: the same states, energies equal to float32 rounding
    assert out["sb_spins_equal"] and out["sb_best_diff"] < 1e-5
    assert out["cac_x_diff"] < 1e-12 and out["cac_best_equal"] and out["cac_counters_equal"]
    assert out["cac_noise_x_diff"] < 1e-12 and out["cac_noise_best_equal"]


def test_selfcheck_cli_without_gpu_or_simulator():
    if HAS_GPU:
        pytest.skip("a GPU is present")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    proc = subprocess.run([sys.executable, "-m", "cimsim.gpu.selfcheck"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- errors before work, missing GPU
def test_bad_parameters_raise_before_work():
    m = sk_model(10, seed=0)
    rng = np.random.default_rng(0)
    with pytest.raises(CimsimError, match="dt"):
        cim.run(m, replicas=2, steps=5, rng=rng, dt=-1.0, backend="gpu", device=D64)
    with pytest.raises(CimsimError, match=r"unknown( cim)? parameter"):
        cim.run(m, replicas=2, steps=5, rng=rng, bogus=1, backend="gpu", device=D64)
    with pytest.raises(CimsimError, match="variant"):
        sb.run(m, replicas=2, steps=5, rng=rng, variant="xsb", backend="gpu", device=D32)
    with pytest.raises(CimsimError, match=r"unknown( cac)? parameter"):
        cac.run(m, replicas=2, steps=5, rng=rng, nope=3, backend="gpu", device=D64)
    with pytest.raises(CimsimError, match="steps"):
        ahc.run(m, replicas=2, steps=0, rng=rng, backend="gpu", device=D64)
    with pytest.raises(CimsimError, match=r"unknown( spectral)? parameter"):
        spectral.run(m, replicas=2, steps=1, rng=rng, kk=3, backend="gpu", device=D64)
    with pytest.raises(CimsimError):
        gpu.Device(np, kernels="opencl")
    with pytest.raises(CimsimError):
        gpu.Device(np, dtype=np.int32)


@pytest.mark.skipif(HAS_GPU, reason="a GPU is present")
def test_gpu_requests_without_cupy_fail_with_one_line():
    m = sk_model(10, seed=0)
    for call in (
        lambda: gpu.gpu_device(),
        lambda: cim.run(m, replicas=2, steps=5, rng=np.random.default_rng(0), backend="gpu"),
        lambda: solve(m, "cim", backend="gpu", seed=0),
    ):
        with pytest.raises(CimsimError) as exc:
            call()
        msg = str(exc.value)
        assert "\n" not in msg and ('pip install "cimsim[gpu]"' in msg or "device" in msg)


@pytest.mark.skipif(HAS_GPU, reason="a GPU is present")
def test_bench_exits_2_without_gpu():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_bench.py")], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "gpu_bench" in lines[0]


def test_bench_standin_smoke(tmp_path):
    """The benchmark's code path with NumPy standing in (tiny sizes): rows with positive rates."""
    out = tmp_path / "rows.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_bench.py"), "--standin", "--solvers", "sb,cac",
                           "--json", str(out)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(out.read_text())
    assert {r["solver"] for r in rows} == {"sb", "cac"}
    assert all(r["sus"] > 0 and r["product_sus"] > 0 and r["ratio_gemm_peak"] > 0 for r in rows)


def _nvvm_available() -> bool:
    try:
        from numba import config
        from numba.cuda.cudadrv import nvvm

        return not config.ENABLE_CUDASIM and bool(nvvm.is_available())
    except Exception:
        return False


@pytest.mark.skipif(not _nvvm_available(), reason="numba's NVVM is not available here")
def test_cuda_kernels_compile_to_ptx_for_a_real_device():
    """The simulator runs the kernels as Python; this compiles them with NVVM for a real GPU (no driver
    needed), with the argument types the device solvers pass: catches typing errors the simulator hides."""
    from numba import cuda
    from numba import types as nt

    from cimsim.gpu import cuda_kernels as ck

    def arr(dt, nd=2):
        return nt.Array(dt, nd, "C")

    f64, b1, i8, i64 = nt.float64, nt.boolean, nt.int8, nt.int64
    for st in (nt.float32, nt.float64):
        sigs = {
            "cim": (ck.cim_kernel, (arr(st), arr(st), arr(st), arr(f64, 1), f64, f64, f64, f64, arr(st), b1)),
            "sb": (ck.sb_kernel, (arr(st),) * 5 + (arr(f64, 1), f64, f64, f64, b1)),
            "amp": (ck.amp_kernel, (arr(st),) * 4 + (arr(i8), arr(b1, 1), arr(b1, 1), arr(f64, 1), arr(f64, 1)) + (f64,) * 6
                    + (arr(st), f64)),
            "readout": (ck.readout_kernel, (arr(st), arr(st), arr(f64, 1), b1, f64, arr(f64, 1), arr(i8), b1)),
            "sb_readout": (ck.sb_readout_dense_kernel, (arr(st),) * 3 + (arr(f64, 1), b1, f64, arr(st), arr(f64, 1), arr(i8))),
            "sb_readout_csr": (ck.sb_readout_csr_kernel, (arr(st),) * 3 + (arr(f64, 1), b1, f64, arr(nt.int32, 1),
                               arr(nt.int32, 1), arr(st, 1), arr(f64, 1), arr(i8))),
            "control": (ck.amp_control_kernel, (arr(st), arr(st), f64) + (arr(f64, 1),) * 4 + (arr(i64, 1),) * 3
                        + (arr(b1, 1),) * 2 + (i64, f64, f64, f64, f64, f64, i64, f64, f64)),
        }
        for name, (kernel, sig) in sigs.items():
            ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=(7, 5))
            assert ".entry" in ptx, name


# ---------------------------------------------------------------- backend="gpu" through the driver
@pytest.fixture
def standin_gpu(monkeypatch):
    """Pretend a GPU is usable: ``gpu_status`` says yes and the default device is a NumPy stand-in
    (float32 for sb, whose CPU state is float32; float64 otherwise, to match the CPU bit for bit)."""
    chosen = {"device": D64}
    monkeypatch.setattr(backends, "gpu_status", lambda: (True, "1 CUDA device(s) (stand-in)"))
    monkeypatch.setattr(device_mod, "gpu_device", lambda *a, **k: chosen["device"])
    return chosen


@pytest.mark.parametrize("solver", [s for s in SOLVERS if "gpu" in EXECUTORS.get(s, ())])
def test_solve_with_backend_gpu_runs_the_device_executor(standin_gpu, solver):
    """solve(backend="gpu") of a solver with a device executor runs it (the Batch names the device) and
    returns what the CPU path returns for the same seed; backend="auto" picks the device too."""
    dev = standin_gpu["device"] = D32 if solver == "sb" else D64
    m = sk_model(24, seed=7)
    kw = {"noise": 0.0} if solver == "cim" else {}
    a = solve(m, solver, replicas=3, steps=150, seed=4, backend="cpu", **kw)
    b = solve(m, solver, replicas=3, steps=150, seed=4, backend="gpu", **kw)
    c = solve(m, solver, replicas=3, steps=150, seed=4, backend="auto", **kw)
    assert "device" not in a.extra and a.settings["backend"] == "cpu"
    for r in (b, c):
        assert r.settings["backend"] == "gpu" and r.extra["device"] == dev.name
        assert r.energy == pytest.approx(m.energy(r.spins), abs=1e-12)
    if solver != "spectral":  # spectral roundings depend on arbitrary eigenvector signs
        assert b.energy == pytest.approx(a.energy, abs=1e-9)
        np.testing.assert_allclose(np.sort(b.energies), np.sort(a.energies), atol=1e-9)
    else:
        np.testing.assert_allclose(b.extra["eigenvalues"], a.extra["eigenvalues"], atol=1e-8)


@pytest.mark.parametrize("solver", [s for s in SOLVERS if "gpu" not in EXECUTORS.get(s, ())])
def test_cpu_only_solvers_refuse_backend_gpu(standin_gpu, solver):
    """A solver without a device executor refuses backend="gpu" with one line even when a GPU is usable
    (no silent CPU run recorded as "gpu"), through the driver and its own run; "auto" runs it on the CPU."""
    m = sk_model(12, seed=7)
    with pytest.raises(CimsimError) as exc:
        solve(m, solver, replicas=2, steps=20, seed=1, backend="gpu")
    msg = str(exc.value)
    assert "\n" not in msg and "no GPU executor" in msg and solver in msg
    with pytest.raises(CimsimError, match="no GPU executor"):
        get_solver(solver).run(m, replicas=1, steps=10, rng=np.random.default_rng(0), backend="gpu")
    if solver != "matching":  # matching needs a lattice model
        r = solve(m, solver, replicas=2, steps=20, seed=1, backend="auto")
        assert r.settings["backend"] == "cpu" and "device" not in r.extra
        assert r.energy == pytest.approx(m.energy(r.spins), abs=1e-12)
