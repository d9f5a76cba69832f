"""The ``simulated-bifurcation`` package (PyTorch), discrete SB, its default agents and step cap.

It minimises x^T Q x + l^T x with x in {-1, +1}^N; with Q = -J/2 and l = -h this is cimsim's H minus
the offset. Early stopping stays on (its default), so the number of steps is not known and spin
updates are reported as NaN. The remaining budget is passed as its ``timeout``.
"""
from __future__ import annotations

import warnings

import numpy as np

from cimsim import IsingModel

LABEL = "sb-pkg"
AGENTS = 128  # the package's default


def available() -> str | None:
    try:
        import simulated_bifurcation  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return "not installed (pip install torch==2.13.0, then -r bench/requirements-peers.txt)"
    return None


def prepare(model: IsingModel):
    import torch

    J = model.J.toarray() if model.is_sparse else model.J  # the package takes a dense matrix only
    Q = torch.tensor(-0.5 * J, dtype=torch.float32)
    lin = torch.tensor(-model.h, dtype=torch.float32)
    return Q, lin


def warmup() -> None:
    import simulated_bifurcation as sb
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sb.minimize(torch.zeros(4, 4), domain="spin", agents=2, max_steps=10, verbose=False)


def run_batch(prepared, model: IsingModel, rng: np.random.Generator, *, budget_s: float):
    import simulated_bifurcation as sb
    import torch

    Q, lin = prepared
    torch.manual_seed(int(rng.integers(2**31 - 1)))
    with warnings.catch_warnings():  # "no agent has converged" when the timeout stops it: expected
        warnings.simplefilter("ignore")
        x, _ = sb.minimize(
            Q, lin, domain="spin", agents=AGENTS, mode="discrete", best_only=False, verbose=False,
            timeout=max(0.05, budget_s),
        )
    return x.detach().cpu().numpy().reshape(-1, model.n), float("nan"), AGENTS
