"""Separated feedback control, CIM-SFC (Reifenstein et al. 2021), physics.md 4.10.

With the normalised field z_i = xi ((J x)_i + h_i), xi = sqrt(2N / sum_ij J_ij^2)::

    dx_i/dt = (p - 1) x_i - x_i^3 + tanh(c z_i) + k (z_i - e_i)
    de_i/dt = -beta (e_i - z_i)

e is a low-pass copy of the feedback, so k (z - e) is its high-pass part, which kicks the amplitudes out
of local minima; tanh(c z) is the saturated feedback itself. For large c the fixed points are x = lambda s
(e = z) with lambda^3 - (p - 1) lambda = 1 for a single-flip-stable s. Defaults are the published benchmark
settings (no clipping): 500 steps of dt = 0.4, p from -1 to 1, c from 1 to 3 and beta from 0.3 to 0.1
linearly over the run, k = 0.2, x0 ~ N(0, 0.1^2), e0 = 0.

**Step size.** Linearised at the start of the run, a mode of xi J with eigenvalue mu decays at the rate
1 - p - (c + k) mu, so explicit Euler needs dt < 2 / (1 - p_0 + (c_0 + k) |mu_min|). On SK (mu_min about
-2.8) the published dt = 0.4 satisfies it; on graphs whose couplings are mostly antiferromagnetic, such as
MaxCut on Gset G1 (mu_min about -9.8), it does not and the amplitudes blow up within ten steps. The
default dt is therefore min(0.4, that limit), and the default number of steps keeps the published
run length dt T = 200.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..kernels.correction import sfc_csr_step, sfc_step
from ..model import IsingModel
from ..params import Param
from . import Batch
from .machine import coupling_norm, cpu_only, feedback_dt, fused_csr, integrate, replica_streams, start

__all__ = ["PARAMS", "defaults", "run"]

#: has a sampling mode (cimsim.sampling.Tap): readouts every k steps go to the active tap
SAMPLES = True

#: under a time limit, batches grow so that about one fills the budget: at a fixed number of MVM one long
#: trajectory (the pump ramp stretched over it) finds better cuts than several default-length ones (cfc on
#: G55 at 2.7e5 replica steps, 3 seeds: 2 x 1189 steps x 32 replicas median 10265; 2 seeds: one run of 8300
#: steps x 32 replicas 10284, 33000 x 8 10290; bench/results/cim-vs-neal)
BUDGET_BATCHES = 1

PARAMS: tuple[Param, ...] = (
    Param("schedule", "str", "linear:-1,1", "pump p over the run (any schedule spec)"),
    Param("c_start", "float", 1.0, "gain c of the saturated feedback tanh(c z) at the start", low=0.0, low_open=True),
    Param("c_end", "float", 3.0, "gain c at the end (linear in between)", low=0.0, low_open=True),
    Param("beta_start", "float", 0.3, "low-pass rate beta of the error signal at the start", low=0.0, low_open=True),
    Param("beta_end", "float", 0.1, "beta at the end (linear in between)", low=0.0, low_open=True),
    Param("k", "float", 0.2, "weight of the high-pass feedback k (z - e)", low=0.0),
    Param("dt", "float", None, "Euler step (default: the published 0.4, or less where the start of the run "
          "would be unstable; see stable_dt)", low=0.0, low_open=True, optional=True),
    Param("init_scale", "float", 0.1, "sd of the initial amplitudes", low=0.0),
    Param("e0", "float", 0.0, "initial error signal"),
    Param("noise", "float", 0.0, "sd of added Gaussian noise per unit time on x", low=0.0),
    Param("fused", "bool", True, "sparse J without noise: field and Euler step in one numba pass over "
          "replica-minor arrays (false: the scipy product, then the step)"),
    Param("exact_tanh", "bool", False, "np.tanh for tanh(c z) (false: a rational form within 1e-4 of it that "
          "vectorises, about 4x faster; on dense J the step then costs a third of np.tanh's)"),
    Param("float32", "bool", True, "fused sparse path and dense J: amplitudes, error signals and couplings in "
          "float32 (half the bytes streamed per step; the readout is sign(x), energies are recomputed from spins; "
          "false: float64)"),
    Param("readout", "int", 10, "score sign(x) every this many steps", low=1),
    Param("track_best", "bool", True, "return each replica's best visited state (false: its final state)"),
    Param("record", "bool", False, "store replica 0's trajectory at every readout in extra"),
)


#: published settings: dt = 0.4 for 500 steps
PUBLISHED_DT, RUN_LENGTH = 0.4, 200.0


def stable_dt(model: IsingModel, *, p0: float = -1.0, c0: float = 1.0, k: float = 0.2) -> float:
    """min(0.4, 2 / (1 - p0 + (c0 + k) |mu_min(xi J)|)): the default step (module docstring)."""
    return feedback_dt(model, PUBLISHED_DT, p0=p0, gain=c0 + k)


def defaults(model: IsingModel) -> dict:
    return {"replicas": 32, "steps": int(math.ceil(RUN_LENGTH / stable_dt(model)))}


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        deadline: Any = None, **params: Any) -> Batch:
    """Solver contract: ``replicas`` SFC trajectories of ``steps`` Euler steps."""
    cpu_only("sfc", backend)
    v, R, T, sched, pump = start("sfc", PARAMS, params, replicas, steps)
    u = np.linspace(0.0, 1.0, T) if T > 1 else np.zeros(1)
    c = v["c_start"] + (v["c_end"] - v["c_start"]) * u
    beta = v["beta_start"] + (v["beta_end"] - v["beta_start"]) * u
    X = rng.standard_normal((R, model.n)) * v["init_scale"]
    E = np.full((R, model.n), v["e0"])
    streams = replica_streams(rng, R)
    if v["dt"] is None:
        v["dt"] = stable_dt(model, p0=float(pump[0]), c0=v["c_start"], k=v["k"])

    xi = coupling_norm(model)
    fused = bool(v["fused"]) and model.is_sparse and v["noise"] == 0.0
    if fused:  # physics.md 4.10: same Euler step, the field computed inside the kernel
        X, E, indptr, indices, data, h, XN = fused_csr(model, X, E, xi, v["float32"])

        def step(t: int, X: np.ndarray, E: np.ndarray, PHI: np.ndarray) -> None:
            sfc_csr_step(indptr, indices, data, h, X.T, E.T, XN, PHI.T, float(pump[t]), float(c[t]), v["k"],
                         float(beta[t]), v["dt"], v["exact_tanh"])
    elif v["float32"] and not model.is_sparse:
        X, E = X.astype(np.float32), E.astype(np.float32)

    if not fused:
        def step(t: int, X: np.ndarray, E: np.ndarray, PHI: np.ndarray) -> None:
            sfc_step(X, E, PHI, float(pump[t]), float(c[t]), v["k"], float(beta[t]), v["dt"], v["noise"], streams,
                     v["exact_tanh"])

    settings = dict(v, schedule=sched.to_dict())
    return integrate(model, X, E, solver="sfc", steps=T, readout=v["readout"], track_best=v["track_best"],
                     record=v["record"], step=step, pump=pump, settings=settings,
                     what_to_change=f"lower dt (now {v['dt']:g})", xi=xi, deadline=deadline, fused=fused)
