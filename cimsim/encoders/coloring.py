"""Graph colouring with k colours (physics.md 5.2), as the optimisation "fewest monochromatic edges".

Variables ``x_{v,i}`` (spin index ``v k + i``, ``+1`` = vertex v has colour i). With ``B = 1``::

    H = A sum_v (1 - sum_i x_{v,i})^2 + B sum_{(uv) in E} sum_i x_{u,i} x_{v,i}

Lucas takes ``A = B``: then ``H = 0`` iff the colouring is proper, but when no proper colouring exists
a ground state may leave vertices uncoloured. With ``A > B floor(Delta / k)`` (Delta = maximum degree)
every ground state is a valid colouring (exactly one colour per vertex) with the fewest monochromatic
edges: dropping one of ``m >= 2`` colours of a vertex lowers the penalty by ``A (2m - 3) >= A`` and adds
no conflict; then giving an uncoloured vertex its least-used neighbour colour costs at most
``B floor(deg / k)`` conflicts and saves ``A``. So ``H = B * conflicts`` on valid colourings and the
minimum is 0 iff the graph is k-colourable. Default ``A = B (floor(Delta / k) + 1)``; ``penalty=``
overrides it. Edge weights in the input are ignored, parallel edges merged.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import CimsimError, positive_int
from ..memory import check_fits
from . import Encoded, Solution
from ._common import QuboBuilder, check_options, penalty_weight
from ._graph import simple_edges
from .graph_formats import label_encoding, read_graph_file

__all__ = ["encode_coloring", "from_file"]


def encode_coloring(n: int, edges: Iterable, colors: int, *, penalty: float | None = None,
                    storage: str = "auto", name: str = "graph") -> Encoded:
    """Encode k-colouring (``k = colors``) of ``n`` vertices with ``edges`` [(i, j) or (i, j, w)], 0-based."""
    k = positive_int(colors, "colors")
    E = simple_edges(n, edges, name=name)
    kf = float(min(k, 10**100))
    check_fits(100.0 * float(n) * (kf * kf + 2.0 * kf) + 100.0 * kf * E.shape[0],
               f"{name}: the colouring encoding of {n} vertices x {k} colours", "use fewer colours or a smaller graph")
    deg = np.bincount(E.ravel(), minlength=n) if E.size else np.zeros(n, dtype=np.int64)
    bound = float(int(deg.max()) // k)
    B = 1.0
    A, guaranteed = penalty_weight(penalty, B * (bound + 1.0), B * bound)
    qb = QuboBuilder(n * k)
    for v in range(n):
        # A (1 - sum_i x_vi)^2 = A (1 - sum_i x_vi + 2 sum_{i<j} x_vi x_vj)
        qb.add_constant(A)
        for i in range(k):
            qb.add_linear(v * k + i, -A)
            for j in range(i + 1, k):
                qb.add_quadratic(v * k + i, v * k + j, 2.0 * A)
    for u, v in E:
        for i in range(k):
            qb.add_quadratic(int(u) * k + i, int(v) * k + i, B)
    model = qb.model(storage)
    eu, ev = E[:, 0], E[:, 1]

    def decode(spins: np.ndarray) -> Solution:
        X = (np.asarray(spins) > 0).reshape(n, k)
        count = X.sum(axis=1)
        colour = np.where(count == 1, X.argmax(axis=1), -1)
        invalid = int(np.count_nonzero(count != 1))
        conflicts = int(np.count_nonzero((colour[eu] == colour[ev]) & (colour[eu] >= 0)))
        answer = {"colors": [int(c) for c in colour], "conflicts": conflicts, "invalid_vertices": invalid}
        return Solution(conflicts, invalid == 0 and conflicts == 0, answer)

    info = {
        "vertices": int(n),
        "edges": int(E.shape[0]),
        "colors": k,
        "penalty": A,
        "objective_weight": B,
        "penalty_bound": B * bound,
        "penalty_guaranteed": guaranteed,
        "energy": "H = A * sum_v (1 - colours_v)^2 + B * monochromatic edges",
    }
    return Encoded("coloring", model, decode, "min", "conflicts", info)


#: the options ``from_file`` accepts (the command line's ``-o KEY=VALUE``)
OPTIONS: tuple[str, ...] = ("colors", "penalty", "storage", "format")


def from_file(path: str | Path, **options) -> Encoded:
    """A graph file in any format of :mod:`cimsim.encoders.graph_formats` (weights ignored). Options: ``colors``
    (required), ``penalty``, ``storage``, ``format``. Files with node labels answer in them (``colors`` by label,
    spin ``v k + c`` labelled ``(label, c)``)."""
    check_options("coloring", options, OPTIONS)
    if "colors" not in options:
        raise CimsimError("coloring: give the number of colours with -o colors=K")
    g = read_graph_file(path, format=options.get("format"))
    enc = encode_coloring(g.n, g.edges, options["colors"], penalty=options.get("penalty"),
                          storage=options.get("storage", "auto"), name=g.name)
    return label_encoding(enc, g, enc.model.n // g.n)
