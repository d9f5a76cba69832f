"""D-Wave's simulated annealing (dwave-samplers, the code behind dwave-neal) with its default schedule."""
from __future__ import annotations

import numpy as np

from cimsim import IsingModel

from ._bqm import reads_per_batch, sampleset_spins, to_bqm

LABEL = "neal"
SWEEPS = 1000  # dwave-samplers' default num_sweeps


def _sampler():
    try:
        from dwave.samplers import SimulatedAnnealingSampler
    except ImportError:
        from neal import SimulatedAnnealingSampler  # type: ignore[no-redef]
    return SimulatedAnnealingSampler()


def available() -> str | None:
    try:
        _sampler()
    except ImportError:
        return "not installed (pip install -r bench/requirements-peers.txt)"
    return None


def prepare(model: IsingModel):
    return to_bqm(model), _sampler(), reads_per_batch(model, SWEEPS)


def warmup() -> None:
    _sampler()


def run_batch(prepared, model: IsingModel, rng: np.random.Generator, *, budget_s: float):
    bqm, sampler, reads = prepared
    ss = sampler.sample(bqm, num_reads=reads, num_sweeps=SWEEPS, seed=int(rng.integers(2**31 - 1)))
    return sampleset_spins(ss, model.n), float(reads) * SWEEPS * model.n, reads
