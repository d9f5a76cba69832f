"""cimsim: a coherent Ising machine simulator and Ising-encoded optimisation toolkit.

The Python API mirrors the command line (:mod:`cimsim.api`): :func:`solve` (``cimsim solve``),
:func:`sample` (``cimsim sample``), :func:`anneal` (``cimsim anneal``), :func:`landscape` (``cimsim landscape``) and :func:`phase_diagram`
(``cimsim phase-diagram``). Models: :class:`IsingModel`; file formats: :mod:`cimsim.formats`; dimod:
:mod:`cimsim.ocean`; networkx graphs go straight into :func:`solve`.
"""
from __future__ import annotations

from .api import anneal, encode, phase_diagram, sample, solve
from .errors import CimsimError
from .model import IsingModel
from .qubo import ising_to_qubo, qubo_to_ising
from .result import Result
from .solvers import SOLVERS

__version__ = "0.1.0"


def __getattr__(name: str):
    # ``cimsim.landscape`` is both the subpackage and, being callable, the function cimsim.api.landscape;
    # it is imported on first use so that ``import cimsim`` stays light.
    if name == "landscape":
        import importlib

        return importlib.import_module(".landscape", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"landscape"})

__all__ = ["CimsimError", "IsingModel", "Result", "SOLVERS", "anneal", "encode", "ising_to_qubo", "landscape",
           "phase_diagram", "qubo_to_ising", "sample", "solve", "__version__"]
