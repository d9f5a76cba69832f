"""OpenJij's simulated annealing sampler (SASampler) with its default schedule."""
from __future__ import annotations

import numpy as np

from cimsim import IsingModel

from ._bqm import reads_per_batch, sampleset_spins, to_bqm

LABEL = "openjij"
SWEEPS = 1000  # OpenJij's default num_sweeps


def available() -> str | None:
    try:
        import openjij  # noqa: F401
    except ImportError:
        return "not installed (pip install -r bench/requirements-peers.txt)"
    return None


def prepare(model: IsingModel):
    import openjij as oj

    return to_bqm(model), oj.SASampler(), reads_per_batch(model, SWEEPS)


def warmup() -> None:
    import openjij  # noqa: F401


def run_batch(prepared, model: IsingModel, rng: np.random.Generator, *, budget_s: float):
    bqm, sampler, reads = prepared
    ss = sampler.sample(bqm, num_reads=reads, num_sweeps=SWEEPS, seed=int(rng.integers(2**31 - 1)))
    return sampleset_spins(ss, model.n), float(reads) * SWEEPS * model.n, reads
