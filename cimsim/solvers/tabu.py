"""Tabu search: best non-tabu 1-flip move every iteration, with breakout restarts from the best state.

``steps`` counts iterations (one flip each) per replica. Each iteration flips the spin whose flip costs
least, uphill if nothing is downhill, among the spins not flipped in the last ``tenure + U{0..tenure_rand}``
iterations; a tabu flip is allowed when it would beat the best energy seen (aspiration). After
``stall`` iterations without a new best, the search returns to its best state and flips ``breakout_flips``
random spins (a breakout, in the spirit of Benlic & Hao's breakout local search for Max-Cut). Every replica
returns the best state it found. Kernels: :mod:`cimsim.kernels.tabu`; couplings on an integer lattice
(Gset, most encodings) keep exact int32 fields.

Parameters: :data:`PARAMS` (``cimsim solvers tabu``).

The defaults were tuned on Gset G18 (800 spins, +-1 weights, 10 s): a tenure of N/8 and long stalls
reach its best known cut 992 in 2 of 3 seeds (991 in the third), where N/100 and 10 N stalls cycle near
940-950 and annealing gives 988-991. The search is O(N) per flip (a scan for the best move), so it is a
solver for graphs of up to a few thousand spins: at N = 2000 (G35, G39) annealing is clearly better at
10 s (bench/README.md). It is a peer to annealing, not part of ``--solver auto``.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ..errors import CimsimError, positive_int
from ..kernels.tabu import TabuState, tabu_csr_chunk, tabu_dense_chunk
from ..model import IsingModel
from ..spins import start_spins
from ..params import Param, recorded, validate
from ..sampling import active_tap
from . import Batch, check_backend
from .budget import Deadline, run_chunked, short_calls
from .sa import lattice_form

__all__ = ["defaults", "budget_replicas", "run", "parameters", "PARAMS"]

#: The parameters of :func:`run` (``solve(model, "tabu", **params)``, ``-p KEY=VALUE``).
PARAMS: tuple[Param, ...] = (
    Param("tenure", "int", None, "iterations a flipped spin stays tabu (plus a random 0..tenure_rand)", low=1,
          auto="max(1, min(N // 8, N // 2 - min(10, N // 4)))"),
    Param("tenure_rand", "int", None, "upper end of the random extra tenure", low=0, auto="min(10, N // 4)"),
    Param("stall", "int", None, "iterations without a new best before a breakout", low=1, auto="125 N"),
    Param("breakout_flips", "int", None, "random spins flipped from the best state in a breakout", low=1,
          auto="max(2, N // 20)"),
    Param("initial", "any", None, "start spins: (N,) or (R, N) +-1 (default: uniformly random)"),
)

#: like sa: with a time limit, longer searches beat more restarts, so batches grow to fill the budget.
BUDGET_BATCHES = 3
#: sampling mode (cimsim.sampling): every replica's current spins are recorded at the tap's iterations (one flip each)
SAMPLES = True
#: like sa, the driver solves the exactly reduced model (cimsim.presolve) and expands the answers.
PRESOLVE = True


def defaults(model: IsingModel) -> dict:
    """Replicas and iterations: 4 replicas x min(max(200 N, 10000), 1000000) flips (a budget grows them)."""
    return {"replicas": 4, "steps": int(min(max(200 * model.n, 10_000), 1_000_000))}


def budget_replicas(model: IsingModel) -> int:
    """Replicas per batch under a time limit: one per numba thread (each search as long as possible)."""
    return max(1, int(nb.get_num_threads()))


def parameters(n: int, tenure: int | None = None, tenure_rand: int | None = None, stall: int | None = None,
               breakout_flips: int | None = None) -> dict:
    """The search parameters for an N-spin model (validated values; ``None`` takes the N-dependent default)."""
    rand = min(10, n // 4)
    out = {
        "tenure": tenure if tenure is not None else max(1, min(n // 8, n // 2 - rand)),
        "tenure_rand": tenure_rand if tenure_rand is not None else rand,
        "stall": stall if stall is not None else 125 * n,
        "breakout_flips": breakout_flips if breakout_flips is not None else max(2, n // 20),
    }
    if out["tenure"] + out["tenure_rand"] >= n:
        raise CimsimError(f"tenure + tenure_rand ({out['tenure'] + out['tenure_rand']}) must be below N = {n}: "
                          "every spin would be tabu")
    return out


def run(
    model: IsingModel,
    *,
    replicas: int,
    steps: int,
    rng: np.random.Generator,
    backend: str = "cpu",
    deadline: Deadline | None = None,
    **params,
) -> Batch:
    """Run ``replicas`` independent tabu searches of ``steps`` flips; returns each one's best spins.
    Parameters: :data:`PARAMS`. ``deadline`` (the driver's): stop after the chunk of iterations during
    which it expires; ``Batch.steps`` is then the iterations done."""
    prm = validate(PARAMS, params, "tabu")
    check_backend("tabu", backend)
    R = positive_int(replicas, "replicas")
    T = positive_int(steps, "steps")
    n = model.n
    if n < 2:
        raise CimsimError("tabu search needs at least 2 spins")
    p = parameters(n, prm["tenure"], prm["tenure_rand"], prm["stall"], prm["breakout_flips"])
    S = start_spins(prm["initial"], R, n, rng)
    seeds = rng.integers(1, np.iinfo(np.int64).max, size=R, dtype=np.int64).astype(np.uint64)
    E = np.asarray(model.energies(S), dtype=np.float64).copy()
    args = (p["tenure"], p["tenure_rand"], p["stall"], p["breakout_flips"])
    h = np.ascontiguousarray(model.h, dtype=np.float64)
    lattice = lattice_form(model) if model.is_sparse else None
    if lattice is not None:
        wq, hq, g, _ = lattice
        kernel = "csr-lattice"
        st = TabuState(R, n, wq.dtype)

        def chunk(t0: int, t1: int) -> None:
            tabu_csr_chunk(model.J.indptr, model.J.indices, wq, hq, g, S, E, *st.arrays(), *st.counters(), seeds,
                           t0, t1, *args, 0.5 * g)
    elif model.is_sparse:
        kernel = "csr"
        data = model.J.data.astype(np.float64, copy=False)
        tol = _tolerance(data, h)
        st = TabuState(R, n, np.float64)

        def chunk(t0: int, t1: int) -> None:
            tabu_csr_chunk(model.J.indptr, model.J.indices, data, h, 1.0, S, E, *st.arrays(), *st.counters(), seeds,
                           t0, t1, *args, tol)
    else:
        kernel = "dense"
        J = np.ascontiguousarray(model.J, dtype=np.float64)
        tol = _tolerance(J, h)
        st = TabuState(R, n, np.float64)

        def chunk(t0: int, t1: int) -> None:
            tabu_dense_chunk(J, h, S, E, *st.arrays(), *st.counters(), seeds, t0, t1, *args, tol)
    # iterations in chunks of about budget.CHUNK_S seconds (the same moves as one call): Ctrl-C and the
    # driver's deadline are seen between them; a stopped search reports the iterations it did
    # sampling mode: chunks end at the tap's iterations, where the current (not the best) spins are recorded
    tap = active_tap()
    with short_calls(tap.every * R * n if tap is not None else float("inf")):
        T_done = run_chunked(chunk, T, deadline, marks=tap.marks(T) if tap is not None else None,
                             at_mark=(lambda t: tap.record(t, st.CUR)) if tap is not None else None)
    found = st.FOUND
    settings = dict(p, initial=recorded(prm["initial"]), kernel=kernel)
    return Batch(S, T_done, settings, {"steps_to_best": found, "best_energies": E})


def _tolerance(couplings: np.ndarray, h: np.ndarray) -> float:
    """Energy tolerance of the float kernels' comparisons: 1e-9 of the largest coupling or field."""
    scale = max(float(np.max(np.abs(couplings), initial=0.0)), float(np.max(np.abs(h), initial=0.0)))
    return 1e-9 * max(scale, 1e-300)
