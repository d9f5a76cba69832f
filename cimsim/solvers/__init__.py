"""Solvers and the one driver that runs them.

Every solver is a module ``cimsim.solvers.<name>`` exposing

``run(model, *, replicas, steps, rng, backend, **params) -> Batch``
    Run ``replicas`` independent replicas for ``steps`` steps (sweeps, iterations: the solver says) and
    return their final spins. Unknown or impossible ``params`` raise :class:`~cimsim.errors.CimsimError`
    before any work starts.
``defaults(model) -> dict``
    Default ``replicas`` and ``steps`` for this model.

:func:`solve` (:mod:`cimsim.solvers.driver`) is the driver: it validates, runs batches (repeatedly until
``time_limit`` is used, when given), optionally polishes every replica with 1-flip local search,
recomputes energies from the spins, and returns a :class:`~cimsim.result.Result`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from ..backends import resolve_backend
from ..errors import CimsimError
from ..model import IsingModel
from .polish import polish

__all__ = ["Batch", "SOLVERS", "EXECUTORS", "check_backend", "solve", "get_solver", "auto_solver", "polish"]

#: name -> one-line description. The module ``cimsim.solvers.<name>`` implements it.
SOLVERS: dict[str, str] = {
    "cim": "mean-field coherent Ising machine (Euler-Maruyama, pump schedule, noise)",
    "dopo": "DOPO pulse network with quantum noise (truncated Wigner; delay-line or measurement-feedback coupling)",
    "mfb": "measurement-feedback CIM round-trip map: loss, homodyne tap, ADC/J/DAC quantisation, injection",
    "cfc": "chaotic feedback control CIM (Kako et al. 2020; Reifenstein et al. 2021)",
    "sfc": "separated feedback control CIM (Reifenstein et al. 2021)",
    "asb": "adiabatic simulated bifurcation (Goto et al. 2019)",
    "simcim": "SimCIM: momentum dynamics of clipped amplitudes (Tiunov et al. 2019)",
    "adiabatic": "landscape annealing: follow a minimum of E(x; a) as the pump a rises",
    "ahc": "CIM with amplitude-heterogeneity correction (Leleu et al. 2019)",
    "cac": "chaotic amplitude control (Leleu et al. 2021)",
    "sb": "simulated bifurcation, ballistic or discrete (Goto et al. 2021)",
    "sa": "simulated annealing, Metropolis single-spin flips, geometric beta schedule",
    "tabu": "tabu search: best non-tabu 1-flip moves with breakout restarts from the best state",
    "spectral": "top eigenvector of J + sign rounding (best of several roundings)",
    "exact": "Gray-code brute force, N <= 24",
    "matching": "2-D lattice spin glasses: frustrated plaquettes paired by minimum-weight matching (proven ground states)",
}


#: solver name -> the backends it has executors for: "cpu" (``cimsim/kernels/``, NumPy/BLAS) and "gpu"
#: (``cimsim/gpu/``). A solver without a device executor refuses ``backend="gpu"`` (:func:`check_backend`).
EXECUTORS: dict[str, tuple[str, ...]] = {
    "cim": ("cpu", "gpu"),
    "dopo": ("cpu",),
    "mfb": ("cpu",),
    "cfc": ("cpu",),
    "sfc": ("cpu",),
    "asb": ("cpu",),
    "simcim": ("cpu",),
    "adiabatic": ("cpu",),
    "ahc": ("cpu", "gpu"),
    "cac": ("cpu", "gpu"),
    "sb": ("cpu", "gpu"),
    "sa": ("cpu",),
    "tabu": ("cpu",),
    "spectral": ("cpu", "gpu"),
    "exact": ("cpu",),
    "matching": ("cpu",),
}


def check_backend(solver: str, backend: str) -> str:
    """The backend ``solver`` runs on for the requested ``backend`` (``auto``, ``cpu`` or ``gpu``).

    ``auto`` picks the device only when the solver has a device executor and a device is usable; ``gpu``
    for a solver without one is a one-line :class:`CimsimError` (before anything checks for a device)."""
    have = EXECUTORS.get(solver, ("cpu",))
    if backend == "gpu" and "gpu" not in have:
        raise CimsimError(f"solver {solver!r} has no GPU executor (it runs on the CPU only); use --backend cpu")
    if backend == "auto" and "gpu" not in have:
        return "cpu"
    return resolve_backend(backend)


@dataclass
class Batch:
    """What one solver run returns to the driver.

    spins : (R, N) array of +-1 (any integer or float dtype)
    steps : steps actually taken per replica
    settings : parameters used, defaults filled in (JSON-able)
    extra : diagnostics (JSON-able or numpy arrays)
    """

    spins: np.ndarray
    steps: int
    settings: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def auto_solver(model: IsingModel) -> str:
    """The solver ``--solver auto`` picks for ``model``: exact for N <= 20; ``matching`` for couplings on a
    2-D square lattice without fields (it proves ground states that annealing only approaches: Gset G81's
    optimum 14060 in about 2 s); else simulated annealing.

    SA is the fastest to good answers on every other instance class benchmarked so far (Gset, SK; see
    bench/README.md); the CIM family is there to be studied and compared, and chosen explicitly.
    """
    if model.n <= 20:
        return "exact"
    if not model.has_fields and (model.is_sparse or model.n <= 512):
        from .matching import grid_shape

        if grid_shape(model) is not None:
            return "matching"
    return "sa"


def get_solver(name: str) -> ModuleType:
    """Import and return the module implementing solver ``name``."""
    if name not in SOLVERS:
        raise CimsimError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise CimsimError(f"solver {name!r} is not available in this build") from None
        raise


# the driver lives in .driver (imported last: it uses the tables and helpers above)
from .driver import solve  # noqa: E402
