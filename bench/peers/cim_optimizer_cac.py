"""McMahon lab's ``cim-optimizer``: chaotic amplitude control (its default solver) with its default
hyperparameters (random tuning off), dense couplings, CPU torch.

Its energy is -1/2 s^T J s - h^T s (cimsim's convention). With fields it switches to its external-field
AHC; a batch is ``RUNS`` parallel trajectories of its default 1000 time steps.

Its default hyperparameters are tuned for integer (+-1) couplings and are not scale-free, so J and h are
divided by the mean magnitude of the non-zero couplings (1 for Gset; Gaussian SK's N(0, 1/N) entries
become O(1)). That does not change which spins are optimal; the harness scores the returned spins
with the original model.
"""
from __future__ import annotations

import contextlib
import io
import math

import numpy as np

from cimsim import IsingModel

LABEL = "cim-optimizer"
RUNS = 8
STEPS = 1000


def available() -> str | None:
    try:
        from cim_optimizer.solve_Ising import Ising  # noqa: F401
    except ImportError:
        return "not installed (pip install cim-optimizer after torch==2.13.0)"
    except Exception as exc:  # a broken optional dependency of the package
        return f"does not import ({type(exc).__name__})"
    return None


def prepare(model: IsingModel):
    from cim_optimizer.solve_Ising import Ising

    J = model.J.toarray() if model.is_sparse else np.array(model.J)
    nz = np.abs(J[J != 0])
    scale = float(nz.mean()) if nz.size else 1.0
    return Ising(J / scale, np.array(model.h) / scale)


def warmup() -> None:
    pass


def run_batch(prepared, model: IsingModel, rng: np.random.Generator, *, budget_s: float):
    import torch

    seed = int(rng.integers(2**31 - 1))
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32 - 1))
    with contextlib.redirect_stdout(io.StringIO()):
        res = prepared.solve(
            num_runs=RUNS, num_parallel_runs=RUNS, num_timesteps_per_run=STEPS,
            max_wallclock_time_allowed=max(1, math.ceil(budget_s)), hyperparameters_randomtune=False,
            suppress_statements=True, return_spin_trajectories_all_runs=False, use_CAC=True,
        )
    out = res.result
    spins = np.asarray(out["spin_config_all_runs"] if "spin_config_all_runs" in out else out["lowest_energy_spin_config"])
    return spins.reshape(-1, model.n), float(RUNS) * STEPS * model.n, RUNS
