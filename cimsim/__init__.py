"""cimsim: a coherent Ising machine simulator and Ising-encoded optimisation toolkit."""
from __future__ import annotations

from .errors import CimsimError
from .model import IsingModel, ising_to_qubo, qubo_to_ising
from .result import Result
from .solvers import SOLVERS, solve

__version__ = "0.1.0"

__all__ = ["CimsimError", "IsingModel", "Result", "SOLVERS", "ising_to_qubo", "qubo_to_ising", "solve", "__version__"]
