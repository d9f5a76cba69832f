"""Interoperability with D-Wave Ocean's ``dimod`` (the ``ocean`` extra: ``pip install "cimsim[ocean]"``).

Conversions
    :func:`to_bqm` / :func:`from_bqm` convert exactly between :class:`~cimsim.model.IsingModel` and
    ``dimod.BinaryQuadraticModel``. Conventions differ only in sign: dimod's Ising energy is
    ``sum_i h_i s_i + sum_{i<j} J_ij s_i s_j + offset``, cimsim's (physics.md 1) is
    ``-sum_{i<j} J_ij s_i s_j - sum_i h_i s_i + offset``, so couplings and fields change sign and the
    offset is kept. A BINARY model is converted to SPIN first (``s = 2x - 1``, dimod's own exact map).
    Variable labels (any hashable: strings, tuples, mixed types) are kept, in ``bqm.variables`` order.

Sampler
    :class:`CIMSampler` is a ``dimod.Sampler``, so Ocean code swaps ``neal.SimulatedAnnealingSampler()``
    for ``cimsim.ocean.CIMSampler()`` in one line::

        sampleset = CIMSampler().sample(bqm, num_reads=100, seed=1)                 # solver "auto"
        sampleset = CIMSampler().sample(bqm, solver="cac", num_reads=32, steps=2000, seed=1)
        sampleset = CIMSampler().sample_ising(h, J, solver="sb", variant="dsb")

    Every read is one independent replica of the chosen cimsim solver (replicas run vectorised in one
    batch); each read goes through 1-flip local search unless ``polish=False``. The SampleSet has the
    vartype of the input, one row per read, and energies computed by dimod from the input BQM itself
    (so they equal ``bqm.energies(sampleset)`` exactly). ``sampleset.info`` holds the solver, the
    settings it used, ``timing`` (seconds) and the seed.
"""
from __future__ import annotations

from typing import Any

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from .encoders import Encoded, Solution

from .errors import CimsimError, positive_float, positive_int
from .model import IsingModel
from .spins import check_spins

__all__ = ["to_bqm", "from_bqm", "bqm_encoding", "CIMSampler"]


def _dimod():
    try:
        import dimod  # type: ignore[import-not-found]
    except ImportError:
        raise CimsimError('dimod is not installed; install the Ocean extra with: pip install "cimsim[ocean]"') from None
    return dimod


def to_bqm(model: IsingModel):
    """A SPIN ``dimod.BinaryQuadraticModel`` with the same energy as ``model`` for every spin vector.

    Variables are ``model.labels`` when set, else ``0..N-1``. Only the upper triangle of the CSR
    couplings is walked, so a sparse model is never densified.
    """
    dimod = _dimod()
    labels = list(model.labels) if model.labels is not None else list(range(model.n))
    C = sp.triu(model.csr_couplings(), k=1).tocoo()
    bqm = dimod.BinaryQuadraticModel(dimod.SPIN)
    bqm.add_linear_from((labels[i], -float(model.h[i])) for i in range(model.n))
    bqm.add_quadratic_from((labels[i], labels[j], -float(w)) for i, j, w in zip(C.row, C.col, C.data))
    bqm.offset = float(model.offset)
    return bqm


def from_bqm(bqm) -> IsingModel:
    """An :class:`IsingModel` equal in energy to ``bqm`` (SPIN or BINARY), labels kept in ``bqm.variables`` order.

    Couplings are assembled as CSR (and stored dense only for small or dense models, as
    :meth:`IsingModel.from_couplings` decides). An empty BQM (no variables) raises
    :class:`~cimsim.errors.CimsimError`.
    """
    dimod = _dimod()
    if not isinstance(bqm, dimod.BinaryQuadraticModel):
        raise CimsimError(f"expected a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
    spin = bqm.change_vartype(dimod.SPIN, inplace=False) if bqm.vartype is not dimod.SPIN else bqm
    labels = list(spin.variables)
    n = len(labels)
    if n == 0:
        raise CimsimError("the binary quadratic model has no variables")
    index = {v: k for k, v in enumerate(labels)}
    h = np.array([-spin.get_linear(v) for v in labels], dtype=np.float64)
    m = spin.num_interactions
    rows = np.empty(m, dtype=np.int64)
    cols = np.empty(m, dtype=np.int64)
    vals = np.empty(m, dtype=np.float64)
    for k, ((u, v), bias) in enumerate(spin.quadratic.items()):
        rows[k], cols[k], vals[k] = index[u], index[v], -bias
    J = sp.coo_matrix((np.concatenate([vals, vals]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
                      shape=(n, n)).tocsr()
    return IsingModel.from_couplings(J, h, float(spin.offset), labels)


def bqm_encoding(bqm) -> Encoded:
    """The Ising encoding of a dimod BQM (SPIN or BINARY) whose decoded answer also holds ``sample``, the
    best sample in the BQM's own vartype and labels; its objective is the BQM's energy."""
    from .encoders.ising import encode_ising

    enc = encode_ising(from_bqm(bqm))
    labels = list(enc.model.labels)
    binary = bqm.vartype.name != "SPIN"
    inner = enc.decoder

    def decoder(spins: np.ndarray) -> Solution:
        sol = inner(spins)
        s = np.asarray(spins).astype(int)
        values = (s + 1) // 2 if binary else s
        return replace(sol, answer={**dict(sol.answer), "sample": {v: int(x) for v, x in zip(labels, values)}})

    return replace(enc, decoder=decoder)


def _sampler_base():
    """``dimod.Sampler`` when dimod is installed, else ``object`` (the class still imports without dimod)."""
    try:
        import dimod  # type: ignore[import-not-found]
    except ImportError:
        return object
    return dimod.Sampler


class CIMSampler(_sampler_base()):  # type: ignore[misc]
    """A ``dimod.Sampler`` running any cimsim solver; see the module docstring for an overview.

    ``sample(bqm, solver="auto", num_reads=None, seed=None, steps=None, time_limit=None, polish=True,
    backend="cpu", presolve=None, **solver_params)`` runs the pipeline of ``cimsim solve`` and
    :func:`cimsim.solve` (:mod:`cimsim.pipeline`), so the same model, solver and seed give the same best
    read as they do:

    solver : str
        ``auto`` (exact enumeration for N <= 20, ``matching`` for field-free couplings on a 2-D square
        lattice, simulated annealing otherwise, as ``cimsim solve``) or any key of
        :data:`cimsim.solvers.SOLVERS` (``cim``, ``adiabatic``, ``ahc``, ``cac``, ``sb``, ``sa``,
        ``spectral``, ``exact``, ``matching``).
    num_reads : int, optional
        Independent reads (replicas) per batch; the solver's default replica count if omitted. The
        deterministic solvers (``exact``, and ``spectral`` for its first rounding) repeat their answer.
    seed : int, optional
        Seed of the ``numpy.random.Generator`` driving everything: same seed, same SampleSet.
    steps : int, optional
        Steps (dynamics steps or sweeps) per read; the solver's default if omitted.
    time_limit : float, optional
        Seconds. Batches of ``num_reads`` reads run until the time is used (at least one), and the
        SampleSet holds every read of every batch (``info["batches"]`` says how many). Without ``steps``
        the batch lengths are fitted to the budget, as in ``cimsim solve --time-limit``.
    polish : bool
        1-flip local search on every read before it is returned (default True).
    backend : {"cpu", "gpu", "auto"}
    presolve : bool, optional
        Exact presolve (:mod:`cimsim.presolve`) on or off; default: the solver's choice (on for ``sa`` and
        ``tabu``). Reads of the reduced model are expanded to the BQM's variables.
    **solver_params
        Passed to the solver (``dt``, ``noise``, ``schedule``, ``variant``, ...); unknown names raise
        :class:`~cimsim.errors.CimsimError` before any work.

    neal's keywords are understood, so ``SimulatedAnnealingSampler().sample(bqm, num_reads=..., num_sweeps=...,
    beta_range=(b0, b1), beta_schedule_type="geometric", seed=...)`` works unchanged: ``num_sweeps`` is
    ``steps``; ``beta_range`` and ``beta_schedule_type`` ("geometric" or "linear") set the ``sa`` solver's
    ``beta_min``/``beta_max`` and ``beta_schedule`` (the inverse temperature of the same energy dimod reports) and
    make ``solver="auto"`` mean ``sa``.

    Energies in the SampleSet are computed by dimod from the BQM as given (its vartype, its offset).
    """

    #: keyword arguments of :meth:`sample` besides the solver's own parameters (dimod's convention)
    parameters: dict = {
        "solver": ["solvers"],
        "num_reads": [],
        "seed": [],
        "steps": [],
        "time_limit": [],
        "polish": [],
        "backend": [],
        "presolve": [],
        "num_sweeps": [],
        "beta_range": [],
        "beta_schedule_type": [],
    }

    def __init__(self) -> None:
        self.parameters = {k: list(v) for k, v in type(self).parameters.items()}

    @property
    def properties(self) -> dict:
        """``solvers``: the accepted ``solver=`` names; ``solver_descriptions``: one line each."""
        from .solvers import SOLVERS

        return {"solvers": ["auto", *SOLVERS], "solver_descriptions": dict(SOLVERS)}

    def sample(self, bqm, *, solver: str = "auto", num_reads: int | None = None, seed: int | None = None,
               steps: int | None = None, time_limit: float | None = None, polish: bool = True,
               backend: str = "cpu", presolve: bool | None = None, **solver_params: Any):
        """Sample ``bqm`` (SPIN or BINARY) with a cimsim solver; returns a ``dimod.SampleSet``.

        The run is :func:`cimsim.pipeline.run` (the same as ``cimsim.solve(bqm, ...)`` with ``replicas=num_reads``),
        keeping every read of every batch."""
        dimod = _dimod()
        from . import pipeline

        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise CimsimError(f"expected a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
        solver, steps, solver_params = _neal_keywords(solver, steps, solver_params)
        if num_reads is not None:
            num_reads = positive_int(num_reads, "num_reads")
        spec = pipeline.SolverSpec(name=solver, params=solver_params, replicas=num_reads, steps=steps, seed=seed,
                                   time_limit=time_limit, backend=backend, polish=bool(polish), presolve=presolve)
        if not list(bqm.variables):  # nothing to solve: num_reads empty samples with the offset as energy
            return dimod.SampleSet.from_samples_bqm((np.zeros((num_reads or 1, 0), dtype=np.int8), []), bqm)
        encoded = bqm_encoding(bqm)
        reads: list[np.ndarray] = []
        result = pipeline.run(encoded, spec, on_batch=reads.append)
        spins = np.concatenate([_every_read(S, result.replicas) for S in reads])
        samples = ((spins + 1) // 2).astype(np.int8) if bqm.vartype is dimod.BINARY else spins
        ss = dimod.SampleSet.from_samples_bqm((samples, list(encoded.model.labels)), bqm)
        settings = dict(result.settings, steps=result.steps)
        ss.info.update(solver=result.solver, settings=settings, seed=result.seed, batches=result.batches,
                       reads_per_batch=result.replicas, timing={"total_s": result.time_s})
        return ss


def _every_read(spins: np.ndarray, reads: int) -> np.ndarray:
    """One batch's spins with ``reads`` rows: a deterministic solver's fewer rows are repeated."""
    S = check_spins(spins, name="batch spins")
    return np.resize(S, (reads, S.shape[1])) if S.shape[0] < reads else S


def _neal_keywords(solver: str, steps: Any, params: dict) -> tuple[str, Any, dict]:
    """Translate neal's ``num_sweeps``, ``beta_range``, ``beta_schedule_type`` into cimsim's ``sa`` terms."""
    params = dict(params)
    if "num_sweeps" in params:
        sweeps = params.pop("num_sweeps")
        if steps is not None:
            raise CimsimError("give steps or num_sweeps, not both")
        steps = sweeps
    neal = {k: params.pop(k) for k in ("beta_range", "beta_schedule_type") if k in params}
    if neal:
        if solver == "auto":
            solver = "sa"
        if solver != "sa":
            raise CimsimError(f"{', '.join(neal)} apply to solver='sa', not {solver!r}")
        if "beta_range" in neal:
            br = neal["beta_range"]
            if not isinstance(br, (tuple, list)) or len(br) != 2:
                raise CimsimError(f"beta_range must be a pair (beta_min, beta_max), got {br!r}")
            params["beta_min"], params["beta_max"] = positive_float(br[0], "beta_range[0]"), positive_float(br[1], "beta_range[1]")
        if "beta_schedule_type" in neal:
            kind = neal["beta_schedule_type"]
            if kind not in ("geometric", "linear"):
                raise CimsimError(f"beta_schedule_type must be 'geometric' or 'linear', got {kind!r}")
            params["beta_schedule"] = kind
    return solver, steps, params
