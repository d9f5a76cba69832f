"""Peer-solver adapters with one interface.

Each adapter module ``bench.peers.<name>`` exposes

``LABEL``
    short name used in tables (``neal``, ``openjij``, ...);
``available() -> str | None``
    ``None`` when the peer package imports, else a one-line reason (e.g. "not installed");
``prepare(model) -> object``
    converts a :class:`cimsim.IsingModel` into the peer's own input (done once per instance, outside
    the timed budget, and reported separately as setup time);
``run_batch(prepared, model, rng) -> (spins (B, N), spin_updates, replicas)``
    one call of the peer with its default settings (one "batch" of reads/agents/runs);
``warmup()``
    a tiny call that triggers any JIT or lazy import before timing.

:func:`run_peer` calls ``run_batch`` repeatedly until the wall-clock budget is used, like cimsim's
``time_limit`` (at least one batch; the batch running at the deadline finishes, so the elapsed time
can overshoot by up to one batch, which the harness reports). It returns the best spins of every batch;
the harness recomputes every energy and objective from those spins with cimsim's own model.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from cimsim import IsingModel

__all__ = ["PEERS", "PeerRun", "get_peer", "run_peer"]

#: adapter module name -> label shown in tables
PEERS: dict[str, str] = {
    "dwave_neal": "neal",
    "openjij_sa": "openjij",
    "sb_torch": "sb-pkg",
    "cim_optimizer_cac": "cim-optimizer",
}


@dataclass
class PeerRun:
    """Outcome of one budgeted peer run.

    batch_spins : (B, N) int8, the lowest-energy spins of each batch (energies by cimsim's model)
    batches : number of batches run
    elapsed_s : wall time of all batches (setup excluded)
    setup_s : time spent by ``prepare`` (format conversion), not counted in ``elapsed_s``
    spin_updates : replicas x spins x steps summed over batches (the peer's own step unit)
    replicas : reads/agents/runs per batch
    """

    batch_spins: np.ndarray
    batches: int
    elapsed_s: float
    setup_s: float
    spin_updates: float
    replicas: int


def get_peer(name: str) -> ModuleType:
    """The adapter module for peer ``name`` (a key of :data:`PEERS`)."""
    if name not in PEERS:
        raise KeyError(f"unknown peer {name!r}; choose one of {', '.join(PEERS)}")
    return importlib.import_module(f"{__name__}.{name}")


def run_peer(
    name: str,
    model: IsingModel,
    budget_s: float,
    seed: int,
    *,
    prepared: object | None = None,
    setup_s: float = 0.0,
) -> PeerRun:
    """Run peer ``name`` on ``model`` in repeated batches until ``budget_s`` seconds are used."""
    mod = get_peer(name)
    if prepared is None:
        t = time.perf_counter()
        prepared = mod.prepare(model)
        setup_s = time.perf_counter() - t
    rng = np.random.default_rng(seed)
    best: list[np.ndarray] = []
    updates = 0.0
    replicas = 1
    t0 = time.perf_counter()
    while True:
        spins, upd, replicas = mod.run_batch(prepared, model, rng, budget_s=budget_s - (time.perf_counter() - t0))
        S = np.where(np.asarray(spins) >= 0, 1, -1).astype(np.int8).reshape(-1, model.n)
        E = model.energies(S)
        best.append(S[int(np.argmin(E))])
        updates += float(upd)
        if time.perf_counter() - t0 >= budget_s:
            break
    elapsed = time.perf_counter() - t0
    return PeerRun(np.stack(best), len(best), elapsed, setup_s, updates, int(replicas))
