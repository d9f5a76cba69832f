"""CIM with amplitude-heterogeneity correction, AHC (Leleu, Yamamoto, McMahon, Aihara, PRL 122, 040607
(2019)); physics.md 4.4.

Equations (project convention; same integrator as :mod:`cimsim.solvers.cac`)::

    dx_i/dt = (p - 1) x_i - mu x_i^3 + eps e_i (J x)_i
    de_i/dt = -beta (x_i^2 - a) e_i                 e_i clipped above at e_max = 32

with a constant target squared amplitude ``a`` (the PRL form). At a fixed point every |x_i| equals
sqrt(a), which removes the amplitude heterogeneity that lets the plain CIM settle in wrong states, and
e_i grows on frustrated spins until their local minimum is destabilised. cim-optimizer additionally
shifts ``a`` by ``eps * mean(s * J s)`` every step (physics.md 4.4, not in the PRL); that variant is
not implemented. One step is ``x <- x + dt f(x, e)`` (clipped at ``x_max = 1/sqrt(mu dt)``, a
numerical guard) and ``e <- min(e exp(-dt beta (x^2 - a)), e_max)`` (exact over the step with x
frozen; equals Euler to first order and keeps e > 0).

Default set: cim-optimizer ``AHC.py`` / ``Ising.solver`` defaults (quoted from the PRL supplement)::

    dt = 0.05, p = 0.2, mu = 1, x(0) ~ U(-5e-4, 5e-4), e(0) = 1,

with the coupling expressed in the CAC instance scaling, ``eps = 3.36 N / sum_ij |J_ij|``, which is
the reference ``eps = 0.07`` on Gset graphs of mean degree 48 (G1-G10) and adapts to other degrees and
weight scales; and with ``a = 2.0``, ``beta = 0.2`` instead of the reference ``a = 0.2``,
``beta = 0.05``: with a constant target those freeze in a fixed point after ~1 200 steps on G1 (the
reference escapes this only through its energy-dependent shift, which lifts its effective ``a`` to
about 0.9 there). Measured on G1/G43 (bench/ahc_cac_notes.md). Models with fields go through the
auxiliary spin. All values can be overridden.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import CimsimError, finite_float, positive_float, positive_int
from ..model import IsingModel
from . import Batch
from .cac import E_MAX, AmplitudePlan, AmplitudeState, abs_sum, integrate_with
from .cac import simulate  # noqa: F401  (kept importable from here)
from .cac import defaults as cac_defaults

__all__ = ["defaults", "run", "plan", "integrate", "resolve_params"]

#: eps = EPS_HAT * N / sum |J|  (0.07 at mean degree 48)
EPS_HAT = 3.36

PARAMS: dict[str, Any] = {
    "dt": 0.05,
    "p": 0.2,
    "mu": 1.0,
    "beta": 0.2,   # reference 0.05
    "a": 2.0,      # reference 0.2
    "eps": None,  # EPS_HAT * N / sum |J_ij|
    "e_max": E_MAX,
    "x_max": None,  # 1 / sqrt(mu dt)
    "x0": 5e-4,
    "target": None,
}


def defaults(model: IsingModel) -> dict:
    """Replicas and steps per batch: as for :func:`cimsim.solvers.cac.defaults` (2 x 30 000 steps for
    CSR and small dense models, 4 x 4 000 for dense N >= 256)."""
    return cac_defaults(model)


def resolve_params(model: IsingModel, **params: Any) -> dict:
    """Validate ``params`` against :data:`PARAMS` and fill the instance-dependent defaults."""
    unknown = [k for k in params if k not in PARAMS]
    if unknown:
        raise CimsimError(f"unknown ahc parameter(s): {', '.join(unknown)}; known: {', '.join(PARAMS)}")
    merged = {**PARAMS, **{k: v for k, v in params.items() if v is not None}}
    out: dict[str, Any] = {}
    out["dt"] = positive_float(merged["dt"], "dt")
    out["p"] = finite_float(merged["p"], "p")
    out["mu"] = positive_float(merged["mu"], "mu")
    out["beta"] = positive_float(merged["beta"], "beta", allow_zero=True)
    out["a"] = finite_float(merged["a"], "a")
    total = abs_sum(model)
    out["eps"] = positive_float(merged["eps"] if merged["eps"] is not None else (EPS_HAT * model.n / total if total > 0 else 1.0), "eps")
    out["e_max"] = positive_float(merged["e_max"], "e_max")
    out["x_max"] = positive_float(merged["x_max"] if merged["x_max"] is not None else 1.0 / np.sqrt(out["mu"] * out["dt"]), "x_max")
    out["x0"] = positive_float(merged["x0"], "x0")
    out["target"] = None if merged["target"] is None else finite_float(merged["target"], "target")
    return out


def _kernel_args(prm: dict, steps: int) -> dict:
    return dict(
        p=prm["p"], mu=prm["mu"], coupling=prm["eps"], dt=prm["dt"], e_max=prm["e_max"], x_max=prm["x_max"],
        alpha=prm["a"], rho=0.0, delta=0.0, gamma=0.0, tau_steps=int(steps) + 1, xi0=prm["beta"],
        target=prm["target"],
    )


def integrate(model: IsingModel, x: np.ndarray, e: np.ndarray, steps: int, **params: Any) -> AmplitudeState:
    """Run AHC from given ``x`` and ``e`` ((R, N) or (N,)) for ``steps`` steps; see :func:`cimsim.solvers.cac.integrate`."""
    steps = positive_int(steps, "steps")
    prm = resolve_params(model, **params)
    return integrate_with(model, x, e, steps, _kernel_args(prm, steps))


def plan(model: IsingModel, *, replicas: int, steps: int, **params: Any) -> AmplitudePlan:
    """Validate ``replicas``, ``steps`` and the AHC ``params`` (:func:`resolve_params`)."""
    return AmplitudePlan.make(replicas, steps, lambda: resolve_params(model, **params), _kernel_args, False)


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        **params: Any) -> Batch:
    """Solver contract: ``replicas`` independent AHC trajectories of ``steps`` steps each.

    Parameters (all optional): ``dt, p, mu, beta, a, eps, e_max, x_max, x0, target``.
    """
    p = plan(model, replicas=replicas, steps=steps, **params)
    if backend == "gpu":  # CuPy device path (cimsim.gpu), same plan and Batch
        from ..gpu.dynamics import amplitude_execute

        return amplitude_execute(model, p, rng)
    return p.execute(model, rng)
