"""CIM with amplitude-heterogeneity correction, AHC (Leleu, Yamamoto, McMahon, Aihara, PRL 122, 040607
(2019)); physics.md 4.4.

Equations (project convention; same integrator as :mod:`cimsim.solvers.cac`)::

    dx_i/dt = (p - 1) x_i - mu x_i^3 + c e_i (J x)_i     c: parameter ``coupling`` (eps in the PRL)
    de_i/dt = -xi (x_i^2 - alpha) e_i               e_i clipped above at e_max = 32; xi: beta in the PRL

with a constant target squared amplitude ``alpha`` (the PRL form, where it is called ``a``; the names
follow :mod:`cimsim.solvers.cac`, whose error-variable rate is also ``xi``). At a fixed point every |x_i|
equals sqrt(alpha), which removes the amplitude heterogeneity that lets the plain CIM settle in wrong states, and
e_i grows on frustrated spins until their local minimum is destabilised. cim-optimizer additionally
shifts ``alpha`` by ``coupling * mean(s * J s)`` every step (physics.md 4.4, not in the PRL); that variant is
not implemented. One step is ``x <- x + dt f(x, e)`` (clipped at ``x_max = 1/sqrt(mu dt)``, a
numerical guard) and ``e <- min(e exp(-dt xi (x^2 - alpha)), e_max)`` (exact over the step with x
frozen; equals Euler to first order and keeps e > 0).

Default set: cim-optimizer ``AHC.py`` / ``Ising.solver`` defaults (quoted from the PRL supplement)::

    dt = 0.05, p = 0.2, mu = 1, x(0) ~ U(-init_scale, init_scale) with init_scale = 5e-4, e(0) = 1,

with the coupling expressed in the CAC instance scaling, ``coupling = 3.36 N / sum_ij |J_ij|``, which is
the reference ``eps = 0.07`` on Gset graphs of mean degree 48 (G1-G10) and adapts to other degrees and
weight scales; and with ``alpha = 2.0``, ``xi = 0.2`` instead of the reference ``a = 0.2``,
``beta = 0.05``: with a constant target those freeze in a fixed point after ~1 200 steps on G1 (the
reference escapes this only through its energy-dependent shift, which lifts its effective target to
about 0.9 there). Measured on G1/G43 (bench/ahc_cac_notes.md). Models with fields go through the
auxiliary spin. ``schedule`` / ``alpha_schedule`` (pump and target over the run), ``noise`` (Gaussian, per
unit time), the driver's ``deadline`` and the sampling tap work as in :mod:`cimsim.solvers.cac`
(physics.md 4.4). All values can be overridden (:data:`PARAMS`, ``cimsim solvers ahc``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import positive_float, positive_int
from ..model import IsingModel
from ..params import Param, validate
from . import Batch
from .cac import ALPHA_SCHEDULE, DT, E_MAX, E_MAX_PARAM, INIT_SCALE, MU, NOISE, PUMP, SCHEDULE, TARGET, X_MAX
from .cac import AmplitudePlan, AmplitudeState, abs_sum, check_schedules, integrate_with, run_device, schedule_args
from .cac import simulate  # noqa: F401  (kept importable from here)
from .cac import defaults as cac_defaults

#: has a sampling mode (cimsim.sampling.Tap): sign(x) of every replica at the tap's marks
SAMPLES = True

__all__ = ["PARAMS", "defaults", "run", "plan", "integrate", "resolve_params"]

#: coupling = EPS_HAT * N / sum |J|  (the reference eps = 0.07 at mean degree 48)
EPS_HAT = 3.36

#: The parameters of :func:`run` and :func:`integrate` (``solve(model, "ahc", **params)``, ``-p KEY=VALUE``).
PARAMS: tuple[Param, ...] = (
    DT, PUMP, MU,
    Param("xi", "float", 0.2, "error-variable rate (reference 0.05)", low=0),
    Param("alpha", "float", 2.0, "target squared amplitude (reference 0.2)"),
    Param("coupling", "float", None, "coupling strength c of c e_i (J x)_i", low=0, low_open=True,
          auto="3.36 N / sum|J_ij|"),
    E_MAX_PARAM, X_MAX, INIT_SCALE, TARGET, SCHEDULE, ALPHA_SCHEDULE, NOISE,
)


def defaults(model: IsingModel) -> dict:
    """Replicas and steps per batch: as for :func:`cimsim.solvers.cac.defaults` (2 x 30 000 steps for
    CSR and small dense models, 4 x 4 000 for dense N >= 256)."""
    return cac_defaults(model)


def resolve_params(model: IsingModel, **params: Any) -> dict:
    """Validate ``params`` against :data:`PARAMS` and fill the instance-dependent defaults."""
    out = validate(PARAMS, params, "ahc")
    if out["coupling"] is None:
        total = abs_sum(model)
        out["coupling"] = positive_float(EPS_HAT * model.n / total if total > 0 else 1.0, "coupling")
    if out["x_max"] is None:
        out["x_max"] = 1.0 / np.sqrt(out["mu"] * out["dt"])
    check_schedules(out, params)
    return out


def _kernel_args(prm: dict, steps: int) -> dict:
    return dict(
        p=prm["p"], mu=prm["mu"], coupling=prm["coupling"], dt=prm["dt"], e_max=prm["e_max"], x_max=prm["x_max"],
        alpha=prm["alpha"], rho=0.0, delta=0.0, gamma=0.0, tau_steps=int(steps) + 1, xi0=prm["xi"],
        target=prm["target"], **schedule_args(prm),
    )


def integrate(model: IsingModel, x: np.ndarray, e: np.ndarray, steps: int, *, streams: np.ndarray | None = None,
              **params: Any) -> AmplitudeState:
    """Run AHC from given ``x`` and ``e`` ((R, N) or (N,)) for ``steps`` steps; see :func:`cimsim.solvers.cac.integrate`."""
    steps = positive_int(steps, "steps")
    prm = resolve_params(model, **params)
    return integrate_with(model, x, e, steps, _kernel_args(prm, steps), streams)


def plan(model: IsingModel, *, replicas: int, steps: int, **params: Any) -> AmplitudePlan:
    """Validate ``replicas``, ``steps`` and the AHC ``params`` (:func:`resolve_params`)."""
    return AmplitudePlan.make(replicas, steps, lambda: resolve_params(model, **params), _kernel_args)


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        device: Any = None, deadline: Any = None, **params: Any) -> Batch:
    """Solver contract: ``replicas`` independent AHC trajectories of ``steps`` steps each.

    Parameters: :data:`PARAMS`. ``deadline`` as for :func:`cimsim.solvers.cac.run`.
    """
    p = plan(model, replicas=replicas, steps=steps, **params)
    if backend == "gpu":
        return run_device(model, p, rng, device, deadline)
    return p.execute(model, rng, deadline=deadline)
