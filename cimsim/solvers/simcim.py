"""SimCIM (Tiunov, Ulanov and Lvovsky 2019), physics.md 4.6: a momentum method on clipped amplitudes.

    d <- m d + (1 - m) [p_k x + dt (J~ x + h~) + sigma xi],     x <- x + d where |x + d| < 1

The pump-loss factor p_k = p_t (tanh(u_k) - 1), u_k evenly spaced on [-3, 3], rises from about -2 p_t to
0 over the run, and the amplitudes that the coupling term lifts past the loss grow towards +-1.
J~ = J / sigma_J (sigma_J the rms off-diagonal coupling, h~ = h / sigma_J): the unit-variance scale of the
SK instances the published defaults were set on, so the same defaults serve any coupling scale.
Defaults: dt = 0.01, m = 0.9, sigma = 0.03, p_t = 6.5, x0 = 0, 1000 steps.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels.simcim import simcim_step
from ..model import IsingModel
from ..params import Param
from . import Batch
from .machine import cpu_only, integrate, product_dtype, replica_streams, start

__all__ = ["PARAMS", "defaults", "run"]

#: has a sampling mode (cimsim.sampling.Tap): readouts every k steps go to the active tap
SAMPLES = True

PARAMS: tuple[Param, ...] = (
    Param("pt", "float", 6.5, "pump-loss scale p_t: p_k = p_t (tanh(u_k) - 1), u_k from -3 to 3", low=0.0),
    Param("dt", "float", 0.01, "weight of the coupling term", low=0.0, low_open=True),
    Param("momentum", "float", 0.9, "momentum m of the update", low=0.0, high=1.0, high_open=True),
    Param("sigma", "float", 0.03, "sd of the noise added per step", low=0.0),
    Param("init_scale", "float", 0.0, "sd of the initial amplitudes (0: start at the origin)", low=0.0, high=1.0,
          high_open=True),
    Param("float32", "bool", True, "dense J from N = 256: the product J x in float32 (a float32 copy of the scaled J, half the bytes streamed per step); amplitudes, the step and energies stay float64 (false: float64 product)"),
    Param("readout", "int", 10, "score sign(x) every this many steps", low=1),
    Param("track_best", "bool", True, "return each replica's best visited state (false: its final state)"),
    Param("record", "bool", False, "store replica 0's trajectory at every readout in extra"),
)


def defaults(model: IsingModel) -> dict:
    """32 replicas x 1000 steps up to N = 200; beyond, 16 replicas and a ramp of 12.5 N steps up to 10000.

    The tanh ramp crosses the network threshold late in the run (physics.md 4.6), and a slower ramp gives
    the amplitudes time to settle after it: on G1 (N = 800) one batch of 32 runs reached a best cut of 11564
    to 11605 at 1000 steps (60 s runs), 11611 at 3000 and 11623 at 10000 (16 runs, seeds 1 and 2). Changing
    dt (0.005, 0.02), p_t (3) or the momentum (0.8) at 1000 steps did worse (11530-11591)."""
    n = model.n
    if n <= 200:
        return {"replicas": 32, "steps": 1000}
    return {"replicas": 16, "steps": int(min(12.5 * n, 10000))}


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        deadline: Any = None, **params: Any) -> Batch:
    """Solver contract: ``replicas`` SimCIM trajectories of ``steps`` steps."""
    cpu_only("simcim", backend)
    v, R, T, _, _ = start("simcim", PARAMS, params, replicas, steps)
    pump = v["pt"] * (np.tanh(np.linspace(-3.0, 3.0, T)) - 1.0)
    X = rng.standard_normal((R, model.n)) * v["init_scale"]
    D = np.zeros((R, model.n))
    streams = replica_streams(rng, R)

    def step(t: int, X: np.ndarray, D: np.ndarray, PHI: np.ndarray) -> None:
        simcim_step(X, D, PHI, float(pump[t]), v["dt"], v["momentum"], v["sigma"], streams)

    return integrate(model, X, D, solver="simcim", steps=T, readout=v["readout"], track_best=v["track_best"],
                     record=v["record"], step=step, pump=pump, settings=dict(v), xi=1.0 / model.coupling_sigma(),
                     what_to_change="lower dt or sigma", deadline=deadline,
                     product_dtype=product_dtype(model, v["float32"]))
