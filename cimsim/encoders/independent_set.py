"""Maximum independent set (physics.md 5.2): ``H = A sum_E x_u x_v - B sum_v x_v``.

Spin ``+1`` puts a vertex in the set. ``B = 1``; ``A`` defaults to 1.25 (any ``A > B`` makes every ground
state a maximum independent set; see :mod:`cimsim.encoders._graph`) and is set with ``penalty=``. Edge
weights in the input are ignored and parallel edges merged. ``H(s) = A * edges_inside - size``; on an
independent set, ``H = -size``. The decoder checks feasibility directly (no edge inside the set).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from . import Encoded
from ._graph import GRAPH_OPTIONS, encode_graph_problem, graph_from_file, graph_from_networkx

#: the options ``from_file`` accepts (the command line's ``-o KEY=VALUE``)
OPTIONS: tuple[str, ...] = GRAPH_OPTIONS

__all__ = ["encode_independent_set", "from_networkx", "from_file"]


def encode_independent_set(n: int, edges: Iterable, *, penalty: float | None = None, storage: str = "auto") -> Encoded:
    """Encode maximum independent set on ``n`` vertices with ``edges`` [(i, j) or (i, j, w), ...], 0-based."""
    return encode_graph_problem("independent-set", n, edges, penalty=penalty, storage=storage)


def from_networkx(graph, *, penalty: float | None = None) -> Encoded:
    """Encode maximum independent set of a networkx graph; ``info["labels"]`` maps spin index -> node."""
    return graph_from_networkx("independent-set", graph, penalty)


def from_file(path: str | Path, **options) -> Encoded:
    """A graph file in any format of :mod:`cimsim.encoders.graph_formats` (weights ignored). Options: ``penalty``
    (A, default 1.25), ``storage``, ``format``. Files with node labels answer in them."""
    return graph_from_file("independent-set", path, options)
