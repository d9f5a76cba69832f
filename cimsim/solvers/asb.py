"""Adiabatic simulated bifurcation, aSB (Goto, Tatsumura and Dixon 2019), physics.md 4.7.

The classical limit of a network of Kerr-nonlinear parametric oscillators: positions x and momenta y
evolve under H = sum_i [Delta/2 y_i^2 + K/4 x_i^4 + (Delta - p(t))/2 x_i^2] - xi0/2 x^T J_hat x - xi0 h_hat.x,

    dx_i/dt = Delta y_i,   dy_i/dt = -(K x_i^2 - p(t) + Delta) x_i + xi0 (J_hat x + h_hat)_i,

integrated by the modified symplectic Euler scheme (``substeps`` sub-steps of the local part, then one
coupling kick: one product J x per step). The pump p rises linearly from 0 to ``p_end`` over the run; the
oscillators bifurcate into the two branches x = +-sqrt((p - Delta)/K) and sign(x) is the answer.
J_hat = J / coupling_scale(), so xi0 = 0.5 is the usual 0.5 / (sigma_J sqrt N) of the raw couplings.
Defaults: K = 1, Delta = 0.5, 2 sub-steps, 1000 steps of dt = 1, x0, y0 ~ U(-0.01, 0.01). Delta = 0.5 rather
than MindQuantum's 1 puts the isolated oscillators' bifurcation p = Delta inside the ramp 0 -> p_end = 1, so
the amplitudes end at +-sqrt((p_end - Delta)/K) instead of at the threshold itself (physics.md 4.7: p rises
"beyond Delta"); on G1 one batch of 32 runs reached best cuts of 11623, 11624 and 11623 (seeds 1-3) with
Delta = 0.5 and 11595-11604 with Delta = 1 (p_end = 1.5 or 2 at Delta = 1: 11602-11613).

**Step size.** Linearised at p = 0, the mode of J_hat with eigenvalue lambda oscillates at
omega^2 = Delta (Delta - xi0 lambda); symplectic Euler is stable for dt omega < 2. On graphs with a large
negative eigenvalue (mostly antiferromagnetic couplings; Gset G1: xi0 lambda_min = -3.5) dt = 1 violates
it, so the default dt is min(1, 0.9 x 2 / omega_max).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..kernels.asb import asb_step
from ..model import IsingModel
from ..params import Param
from . import Batch
from .machine import cpu_only, integrate, product_dtype, lambda_min_cached, start

__all__ = ["PARAMS", "defaults", "run", "stable_dt"]

#: has a sampling mode (cimsim.sampling.Tap): readouts every k steps go to the active tap
SAMPLES = True

PARAMS: tuple[Param, ...] = (
    Param("p_end", "float", 1.0, "pump at the end of the linear ramp from 0", low=0.0, low_open=True),
    Param("xi0", "float", 0.5, "coupling strength (in units of 1 / coupling_scale)", low=0.0, low_open=True),
    Param("kerr", "float", 1.0, "Kerr coefficient K", low=0.0, low_open=True),
    Param("detuning", "float", 0.5, "detuning Delta (the isolated oscillator bifurcates at p = Delta)", low=0.0,
          low_open=True),
    Param("substeps", "int", 2, "sub-steps M of the local part per step", low=1),
    Param("dt", "float", None, "time step (default: 1, or 0.9 x the stability limit where that is smaller)",
          low=0.0, low_open=True, optional=True),
    Param("init_scale", "float", 0.01, "x0 and y0 are drawn from U(-init_scale, init_scale)", low=0.0),
    Param("float32", "bool", True, "dense J from N = 256: the product J x in float32 (a float32 copy of the scaled J, half the bytes streamed per step); amplitudes, the step and energies stay float64 (false: float64 product)"),
    Param("readout", "int", 10, "score sign(x) every this many steps", low=1),
    Param("track_best", "bool", True, "return each replica's best visited state (false: its final state)"),
    Param("record", "bool", False, "store replica 0's trajectory at every readout in extra"),
)


def stable_dt(model: IsingModel, *, xi0: float = 0.5, detuning: float = 0.5) -> float:
    """min(1, 0.9 x 2 / omega_max) with omega_max^2 = Delta (Delta + xi0 |lambda_min(J_hat)|)."""
    lam = lambda_min_cached(model) / model.coupling_scale()
    omega = math.sqrt(detuning * (detuning + xi0 * max(-lam, 0.0)))
    return min(1.0, 1.8 / omega)


def defaults(model: IsingModel) -> dict:
    return {"replicas": 32, "steps": 1000}


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        deadline: Any = None, **params: Any) -> Batch:
    """Solver contract: ``replicas`` aSB trajectories of ``steps`` steps."""
    cpu_only("asb", backend)
    v, R, T, _, _ = start("asb", PARAMS, params, replicas, steps)
    if v["dt"] is None:
        v["dt"] = stable_dt(model, xi0=v["xi0"], detuning=v["detuning"])
    pump = np.linspace(0.0, v["p_end"], T) if T > 1 else np.array([v["p_end"]])
    X = rng.uniform(-v["init_scale"], v["init_scale"], (R, model.n))
    Y = rng.uniform(-v["init_scale"], v["init_scale"], (R, model.n))

    def step(t: int, X: np.ndarray, Y: np.ndarray, PHI: np.ndarray) -> None:
        asb_step(X, Y, PHI, float(pump[t]), v["dt"], v["xi0"], v["kerr"], v["detuning"], v["substeps"])

    return integrate(model, X, Y, solver="asb", steps=T, readout=v["readout"], track_best=v["track_best"],
                     record=v["record"], step=step, pump=pump, settings=dict(v), xi=1.0 / model.coupling_scale(),
                     what_to_change=f"lower dt (now {v['dt']:g})", deadline=deadline,
                     product_dtype=product_dtype(model, v["float32"]))
