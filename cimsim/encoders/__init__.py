"""Problem encoders: NP problems -> :class:`~cimsim.model.IsingModel`, and decoders back.

Every problem module ``cimsim.encoders.<name>`` exposes

``encode_*(...) -> Encoded``
    built from the problem's natural Python data (edge lists, numbers, clauses, networkx graphs);
``from_file(path, **options) -> Encoded``
    read from the problem's native file format, raising :class:`~cimsim.errors.CimsimError` with one line
    (file name, line number, what is wrong) on malformed input.
``OPTIONS: tuple[str, ...]``
    the option keys ``from_file`` accepts (the command line's ``-o KEY=VALUE``); others are refused.

An :class:`Encoded` carries the model and a ``decode(spins) -> Solution`` that turns a +-1 vector back
into the problem's answer, its objective in the problem's own units, and feasibility.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np

from ..errors import CimsimError
from ..model import IsingModel
from ..spins import check_spins

__all__ = ["Encoded", "Solution", "PROBLEMS", "get_problem", "read_text"]

#: problem name (as on the command line) -> module under cimsim.encoders
PROBLEMS: dict[str, str] = {
    "maxcut": "maxcut",
    "partition": "partition",
    "bisection": "bisection",
    "sat": "sat",
    "vertex-cover": "vertex_cover",
    "independent-set": "independent_set",
    "ising": "ising",
    "knapsack": "knapsack",
    "coloring": "coloring",
    "clique": "clique",
    "tsp": "tsp",
    "qubo": "qubo",
}


@dataclass
class Solution:
    """A decoded answer.

    objective : float
        In the problem's units (cut weight, subset-sum difference, satisfied clauses, cover size, ...).
    feasible : bool
        Whether the answer satisfies the problem's hard constraints.
    answer : dict
        JSON-able, problem-specific fields (e.g. ``cut`` and ``partition`` for MaxCut).
    """

    objective: float
    feasible: bool
    answer: dict = field(default_factory=dict)


@dataclass
class Encoded:
    """An Ising encoding of one problem instance.

    problem : str
        Problem name.
    model : IsingModel
    decoder : callable
        ``decoder(spins (N,)) -> Solution``.
    sense : {"max", "min"}
        Whether the problem's objective is maximised or minimised.
    objective_name : str
        What the objective counts ("cut", "difference", "satisfied", "cover size", ...).
    info : dict
        Penalty weights and other encoding choices (JSON-able).
    """

    problem: str
    model: IsingModel
    decoder: Callable[[np.ndarray], Solution]
    sense: str
    objective_name: str
    info: dict = field(default_factory=dict)

    def decode(self, spins: np.ndarray) -> Solution:
        """The answer of one spin vector; entries other than +1/-1 are refused (:func:`cimsim.spins.check_spins`)."""
        s = np.asarray(spins).reshape(-1)
        if s.shape[0] != self.model.n:
            raise CimsimError(f"expected {self.model.n} spins, got {s.shape[0]}")
        return self.decoder(check_spins(s, self.model.n))


def get_problem(name: str) -> ModuleType:
    """Module implementing problem ``name`` (a key of :data:`PROBLEMS`)."""
    if name not in PROBLEMS:
        raise CimsimError(f"unknown problem {name!r}; choose one of {', '.join(PROBLEMS)}")
    return importlib.import_module(f"{__name__}.{PROBLEMS[name]}")


def read_text(path: str | Path) -> str:
    """The file's text, with one-line errors for a missing, unreadable, binary or empty file."""
    p = Path(path)
    from ._text import file_error

    try:
        data = p.read_bytes()
    except OSError as exc:
        raise file_error(p, exc) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CimsimError(f"{p}: not a text file") from None
    if not text.strip():
        raise CimsimError(f"{p}: empty file")
    return text
