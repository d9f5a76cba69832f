"""Chaotic feedback control, CIM-CFC (Kako et al. 2020; Reifenstein et al. 2021), physics.md 4.10.

With the normalised field phi_i = xi ((J x)_i + h_i), xi = sqrt(2N / sum_ij J_ij^2)::

    z_i = e_i phi_i
    dx_i/dt = (p - 1) x_i - x_i^3 + z_i
    de_i/dt = -beta e_i (z_i^2 - alpha)

Amplitudes are clipped to [-x_max, x_max] and error signals kept >= e_min. The error signal grows
where the feedback z_i is weaker than sqrt(alpha) and shrinks where it is stronger, so the fixed points
are x = lambda s with lambda^3 - (p - 1) lambda = sqrt(alpha) for a single-flip-stable s, and other
states are destabilised (chaotic search). Defaults are the published benchmark settings (Euler, one MVM
per step): 1000 steps of dt = 0.4 with the pump ramped from -1 to 1 over the first 90 % and held,
alpha = 1, beta = 0.2, x0 ~ N(0, 0.1^2), e0 = 1.

**Step size.** Linearised at the start (e = e0, pump p0), a mode of xi J with eigenvalue mu relaxes at the
rate 1 - p0 - e0 mu; explicit Euler needs dt below 2 over the largest rate. On SK the published dt = 0.4
is inside that limit; on Gset G1 (mu_min about -9.8) it is not: the clipped amplitudes then oscillate
instead of settling, and no trajectory of 1000 or 4000 steps reached the best cut (bench/results/tts_mvm.md).
The default dt is min(0.4, the limit) and the default number of steps keeps dt T = 400.

**Departures from the published settings, measured** (bench/results/cim-vs-neal): alpha = 0.5 on graphs of
mean degree below 8 (default_alpha); error signals capped at e_max = 1e6 (at a spin whose field stays at
zero e grows without bound); under a time limit one long trajectory per budget (BUDGET_BATCHES); float32
state (sparse, fused kernel) and float32 J (dense), since the readout is sign(x) and energies are
recomputed from the spins.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..kernels.correction import cfc_csr_step, cfc_step
from ..model import IsingModel
from ..params import Param
from . import Batch
from .machine import coupling_norm, cpu_only, feedback_dt, fused_csr, integrate, replica_streams, start

__all__ = ["PARAMS", "defaults", "default_alpha", "run", "stable_dt"]

#: has a sampling mode (cimsim.sampling.Tap): readouts every k steps go to the active tap
SAMPLES = True

#: under a time limit, batches grow so that about one fills the budget: at a fixed number of MVM one long
#: trajectory (the pump ramp stretched over it) finds better cuts than several default-length ones (cfc on
#: G55 at 2.7e5 replica steps, 3 seeds: 2 x 1189 steps x 32 replicas median 10265; 2 seeds: one run of 8300
#: steps x 32 replicas 10284, 33000 x 8 10290; bench/results/cim-vs-neal)
BUDGET_BATCHES = 1

PARAMS: tuple[Param, ...] = (
    Param("schedule", "str", "piecewise:-1@0,1@0.9,1@1", "pump p over the run (any schedule spec)"),
    Param("alpha", "float", None, "target squared feedback strength (default: the published 1 where the mean "
          "degree is at least 8, 0.5 on sparser graphs; see default_alpha)", low=0.0, low_open=True, optional=True),
    Param("beta", "float", 0.2, "rate of the error-signal control", low=0.0, low_open=True),
    Param("dt", "float", None, "Euler step (default: the published 0.4, or less where the start of the run "
          "would be unstable; see stable_dt)", low=0.0, low_open=True, optional=True),
    Param("x_max", "float", 1.5, "amplitudes are clipped to [-x_max, x_max]", low=0.0, low_open=True),
    Param("e_min", "float", 0.01, "error signals are kept at or above e_min", low=0.0, low_open=True),
    Param("e_max", "float", 1e6, "error signals are kept at or below e_max: at a spin whose field stays near "
          "zero e grows as exp(beta alpha t) and would overflow (float32 within a long run)", low=0.0, low_open=True),
    Param("init_scale", "float", 0.1, "sd of the initial amplitudes", low=0.0),
    Param("e0", "float", 1.0, "initial error signal", low=0.0, low_open=True),
    Param("noise", "float", 0.0, "sd of added Gaussian noise per unit time on x", low=0.0),
    Param("fused", "bool", True, "sparse J without noise: field and Euler step in one numba pass over "
          "replica-minor arrays (false: the scipy product, then the step)"),
    Param("float32", "bool", True, "fused sparse path and dense J: amplitudes, error signals and couplings in "
          "float32 (half the bytes streamed per step; the readout is sign(x), energies are recomputed from spins; "
          "false: float64)"),
    Param("readout", "int", 10, "score sign(x) every this many steps", low=1),
    Param("track_best", "bool", True, "return each replica's best visited state (false: its final state)"),
    Param("record", "bool", False, "store replica 0's trajectory at every readout in extra"),
)


#: published settings: dt = 0.4 for 1000 steps
PUBLISHED_DT, RUN_LENGTH = 0.4, 400.0


def stable_dt(model: IsingModel, *, p0: float = -1.0, e0: float = 1.0) -> float:
    """min(0.4, 2 / (1 - p0 + e0 |mu_min(xi J)|)): the default step (module docstring)."""
    return feedback_dt(model, PUBLISHED_DT, p0=p0, gain=e0)


#: mean degree below which the default alpha is SPARSE_ALPHA instead of the published 1
SPARSE_DEGREE, SPARSE_ALPHA = 8.0, 0.5


def default_alpha(model: IsingModel) -> float:
    """The default target alpha: 1 (published, tuned on SK and the Gset graphs of mean degree ~20) where the
    mean degree 2 |E| / N is at least SPARSE_DEGREE, else SPARSE_ALPHA. Measured at equal MVM (one 32-replica
    trajectory, two seeds): alpha 0.5 raised the median cut on the degree-4 tori G11 (T = 8000: 564 x3 vs
    564, 560, 564) and G32 (T = 10^4: 1406 vs 1398) and on the degree-2 G70 (T = 3000: 9546 vs 9495), left
    G14 (degree 5.9) and G55 (4.0) unchanged and cost G22 (degree 20) 3.5 (bench/results/cim-vs-neal)."""
    n = max(model.n, 1)
    nnz = model.J.nnz if model.is_sparse else int(np.count_nonzero(model.J))
    return 1.0 if nnz / n >= SPARSE_DEGREE else SPARSE_ALPHA


def defaults(model: IsingModel) -> dict:
    return {"replicas": 32, "steps": int(math.ceil(RUN_LENGTH / stable_dt(model)))}


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        deadline: Any = None, **params: Any) -> Batch:
    """Solver contract: ``replicas`` CFC trajectories of ``steps`` Euler steps."""
    cpu_only("cfc", backend)
    v, R, T, sched, pump = start("cfc", PARAMS, params, replicas, steps)
    X = rng.standard_normal((R, model.n)) * v["init_scale"]
    E = np.full((R, model.n), v["e0"])
    streams = replica_streams(rng, R)
    if v["dt"] is None:
        v["dt"] = stable_dt(model, p0=float(pump[0]), e0=v["e0"])
    if v["alpha"] is None:
        v["alpha"] = default_alpha(model)

    xi = coupling_norm(model)
    fused = bool(v["fused"]) and model.is_sparse and v["noise"] == 0.0
    if fused:  # physics.md 4.10: same Euler step, the field computed inside the kernel
        X, E, indptr, indices, data, h, XN = fused_csr(model, X, E, xi, v["float32"])

        def step(t: int, X: np.ndarray, E: np.ndarray, PHI: np.ndarray) -> None:
            cfc_csr_step(indptr, indices, data, h, X.T, E.T, XN, PHI.T, float(pump[t]), v["alpha"], v["beta"],
                         v["dt"], v["x_max"], v["e_min"], v["e_max"])
    elif v["float32"] and not model.is_sparse:
        X, E = X.astype(np.float32), E.astype(np.float32)

    if not fused:
        def step(t: int, X: np.ndarray, E: np.ndarray, PHI: np.ndarray) -> None:
            cfc_step(X, E, PHI, float(pump[t]), v["alpha"], v["beta"], v["dt"], v["x_max"], v["e_min"], v["noise"],
                     streams, v["e_max"])

    settings = dict(v, schedule=sched.to_dict())
    return integrate(model, X, E, solver="cfc", steps=T, readout=v["readout"], track_best=v["track_best"],
                     record=v["record"], step=step, pump=pump, settings=settings,
                     what_to_change=f"lower dt (now {v['dt']:g})", xi=xi, deadline=deadline, fused=fused)
