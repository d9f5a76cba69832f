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
from typing import TYPE_CHECKING

import numpy as np

from ..backends import resolve_backend
from ..errors import CimsimError
from ..model import IsingModel
from .polish import polish

if TYPE_CHECKING:
    from .features import GraphFeatures

__all__ = ["Batch", "SOLVERS", "EXECUTORS", "check_backend", "solve", "get_solver", "auto_solver", "auto_choice",
           "AutoChoice", "polish"]

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


@dataclass(frozen=True)
class AutoChoice:
    """What ``--solver auto`` picked for a model, why, and the :class:`~cimsim.solvers.features.GraphFeatures`
    it looked at (None for N <= 20, where nothing else is looked at). ``seconds`` is the time the features
    took (they are computed before the run and are not part of its time limit)."""

    solver: str
    reason: str
    features: "GraphFeatures | None" = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"solver": self.solver, "reason": self.reason, "seconds": self.seconds,
                "features": None if self.features is None else self.features.to_dict()}


def auto_choice(model: IsingModel) -> AutoChoice:
    """The solver ``--solver auto`` runs on ``model``, chosen from its graph features, with the reason.

    The features (:func:`cimsim.solvers.features.graph_features`: size, density, degree spread, weight kind
    and signs, square-lattice structure, bipartiteness, components) take one pass over the couplings. The
    policy, and the measurements behind each branch (bench/README.md, "Graphs nobody tuned on"):

    1. N <= 20: ``exact``. Enumerating 2^20 states takes well under a second and proves the ground state.
    2. No fields, every coupling on a 2-D square lattice (periodic or open; any weights) and N <=
       :data:`MATCHING_AUTO_MAX_N`: ``matching``.
       Frustrated plaquettes paired by minimum-weight matching give a proven lower bound that the repaired
       state reaches when no homology repair is needed: Gset G11/G48/G65/G81 and generated +-1 and Gaussian
       tori reach the optimum in under 3 s, where annealing peers stay 1-2 % short at 10 s. G32's 100 x 20
       torus has no matching of the right parity; its homology repair reaches the optimum 1410 in one
       batch (about 2 s) without a proof (bench/results/front3/).
    3. No fields and N <= :data:`CFC_AUTO_MAX_N` (4000) for sparse couplings, N <= :data:`CFC_AUTO_MAX_DENSE_N`
       (1000) for dense ones (density >= 0.5): ``cfc``, chaotic feedback control (batched amplitude dynamics with
       per-spin error variables). At 10 s its median cut was at or above sa's on every generated class at
       N = 800-3000 but one (Gaussian-weighted sparse random, N = 3000: 1871.8 against 1872.8): G(n, p) at
       Gset's density with unit, +-1 and Gaussian weights, sparse random, Delaunay planar, 3-regular, nearly
       bipartite, scale-free, complete +-1 (N = 800, tie) and complete Gaussian (N = 1000, 11418.5 against
       11390.2) (bench/results/generated/policy/); on Gset's 13 non-lattice graphs of N <= 3000 it reached
       the best-known cut where sa fell short (G18, G22, G27) and led on the planar unions G14/G35/G39.
    4. No fields, a wide degree spread (std/mean of the degrees >= 0.8; G(n, p) has 1/sqrt(mean degree), 0.5
       at degree 4), couplings of one sign and mean degree <= 7, at any N: ``cfc``. On unit-weight
       preferential-attachment graphs (hubs of degree ~200) sa's automatic beta_min is set by the largest
       field, a hub's, so a third of its sweeps run hotter than any ordinary spin needs; cfc's per-spin error
       variables do not care (N = 2000: 4714 against 4705, every cfc seed above every sa seed).
    5. Anything else -- fields (SAT, partitioning with constraints), dense couplings above N = 1000, sparse
       graphs above N = 4000 -- ``sa``. Dense SK at N = 2000: sa's e/N -0.7580 against cfc's -0.7576; Gset's
       sparse graphs of N = 5000-10000 (G55, G60, G70): sa 0.1-0.4 % ahead at 10 s (measured; why cfc's
       budget-long trajectory of 32 replicas falls short there is not established). The reason names the feature class the graph falls in
       (dense, nearly bipartite, hub-dominated, sparse, random-like; weight kind and signs).
    """
    import time

    t0 = time.perf_counter()
    if model.n <= 20:
        return AutoChoice("exact", f"N = {model.n} <= 20: Gray-code enumeration proves the ground state",
                          None, time.perf_counter() - t0)
    from .features import graph_features

    # the lattice test reads every coupling's index gap: only worth it where matching could run
    f = graph_features(model, lattice=not model.has_fields and model.is_sparse)
    dt = time.perf_counter() - t0
    if f.lattice is not None and model.n <= MATCHING_AUTO_MAX_N:
        L1, L2 = f.lattice
        return AutoChoice("matching", f"field-free couplings on a {L1} x {L2} square lattice: minimum-weight "
                          "matching of frustrated plaquettes gives the ground state, proven unless a torus needs a "
                          "homology repair", f, dt)
    if _cfc_size(f):
        return AutoChoice("cfc", f"{_graph_class(f)}, N = {f.n} <= {_cfc_limit(f)}: chaotic feedback control's median "
                                 "10 s cut was at or above annealing's on these sizes (bench/README.md, graphs "
                                 "nobody tuned on)", f, dt)
    if _hub_graph(f):
        return AutoChoice("cfc", f"{_graph_class(f)}: chaotic feedback control beat annealing on unit-weight "
                                 "preferential-attachment graphs at 10 s (bench/README.md, graphs nobody tuned on)",
                          f, dt)
    return AutoChoice("sa", f"{_graph_class(f)}: simulated annealing had the best 10 s result of cimsim's solvers "
                            "on fields, dense couplings above N = 1000 and sparse graphs above N = 4000 "
                            "(bench/README.md, graphs nobody tuned on)", f, dt)


#: the largest lattice ``auto`` gives to ``matching``. PyMatching's one decode cannot be cut to a time limit,
#: and on +-1 tori (half the plaquettes frustrated) its cost grows much faster than N: 200 x 200 took about a
#: CPU second, 400 x 400 over a CPU minute, 1000 x 1000 did not finish in a 60 s budget (bench/scale.py,
#: issue 20.5). Bigger lattices go to ``sa``, which honours the deadline (1000 x 1000 torus: bench/results/scale.md).
MATCHING_AUTO_MAX_N = 65_536

#: the largest sparse (density < 0.5) field-free model ``auto`` gives to ``cfc`` (Gset G55/G60/G70, N >= 5000,
#: went better with sa at 10 s; every measured class of N <= 3000 with cfc)
CFC_AUTO_MAX_N = 4000
#: ... and the largest dense one (complete Gaussian N = 1000: cfc ahead; SK N = 2000: sa ahead)
CFC_AUTO_MAX_DENSE_N = 1000

#: degree spread (std / mean) from which a graph counts as hub-dominated: G(n, p) has 1 / sqrt(mean degree)
HUB_DEGREE_CV = 0.8
#: ... and the largest mean degree of that class (preferential attachment with 3 edges per vertex: 6; Gset's
#: planar unions G14/G35, cv 1.0-1.2, have 11.7, and the truncated G63 file 8.05)
HUB_MEAN_DEGREE = 7.0


def _hub_graph(f: "GraphFeatures") -> bool:
    """A sparse graph dominated by hubs with couplings of one sign and no fields: where ``cfc`` was measured
    ahead of ``sa`` (unit-weight preferential attachment, N = 2000 and 3000, 3 seeds each)."""
    return (not f.has_fields and f.one_sign and f.degree_cv >= HUB_DEGREE_CV
            and f.mean_degree <= HUB_MEAN_DEGREE)


def _cfc_limit(f: "GraphFeatures") -> int:
    """The largest N ``auto`` gives to ``cfc`` for a model of ``f``'s density (dense: density >= 0.5)."""
    return CFC_AUTO_MAX_DENSE_N if f.density >= 0.5 else CFC_AUTO_MAX_N


def _cfc_size(f: "GraphFeatures") -> bool:
    """A field-free model small enough for ``cfc``'s batched dynamics to beat annealing at 10 s."""
    return not f.has_fields and f.n <= _cfc_limit(f)


def _graph_class(f: "GraphFeatures") -> str:
    """A few words naming the feature class of ``f`` (for :class:`AutoChoice`'s reason)."""
    if f.has_fields:
        shape = "couplings with fields"
    elif f.density >= 0.5:
        shape = "dense couplings (density %.2f)" % f.density
    elif f.odd_edges is not None and f.odd_edges <= 0.02 * f.edges:
        shape = "a bipartite graph" if f.odd_edges == 0 else "a nearly bipartite graph"
    elif f.degree_cv >= 0.8:  # Poisson degrees (G(n, p)) have cv = 1 / sqrt(mean degree): 0.5 at degree 4
        shape = "a sparse graph with a wide degree spread (cv %.1f)" % f.degree_cv
    elif f.euler_planar:
        shape = "a sparse graph (mean degree %.1f)" % f.mean_degree
    else:
        shape = "a random-like graph (density %.3f)" % f.density
    signs = "one sign" if f.one_sign else "mixed signs"
    return f"{shape}, {f.weights} weights of {signs}"


def auto_solver(model: IsingModel) -> str:
    """The name of the solver ``--solver auto`` picks for ``model``: :func:`auto_choice`'s (see there)."""
    return auto_choice(model).solver


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
