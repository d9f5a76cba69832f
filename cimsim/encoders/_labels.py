"""Node labels for encodings built from a graph whose vertices have names (networkx graphs).

Encoders number vertices ``0..N-1`` internally. :func:`with_node_labels` makes an :class:`Encoded` speak
the graph's own labels: the model carries ``labels`` (spin ``i`` is ``nodes[i]``), and every decoded
answer reports vertices by label:

* lists of vertices (``cover``, ``set``, ``clique``) -> lists of labels, in spin order;
* ``sides`` (a pair of vertex lists) -> a pair of label lists; MaxCut, which has no ``sides``, gets one
  (``sides[k]``: the vertices with ``partition == k``);
* per-vertex lists (``partition``, ``colors``) -> ``{label: value}`` dicts.

Labels may be any hashable (strings, ints, tuples); JSON output writes dict keys as strings.
"""
from __future__ import annotations

from typing import Sequence

from . import Encoded, Solution

__all__ = ["with_node_labels", "VERTEX_LISTS", "PER_VERTEX"]

#: answer keys holding a list of vertex numbers
VERTEX_LISTS = ("cover", "set", "clique")
#: answer keys holding one value per vertex, in vertex order
PER_VERTEX = ("partition", "colors")


def with_node_labels(enc: Encoded, nodes: Sequence, spin_labels: Sequence | None = None) -> Encoded:
    """Return ``enc`` with ``nodes`` (vertex ``i`` is ``nodes[i]``) in every answer and as variable labels.

    The model is rebuilt with ``labels=tuple(spin_labels or nodes)`` (same couplings, no copy): one label
    per spin, so encodings with several spins per vertex (colouring: ``(node, colour)``) pass
    ``spin_labels``. ``info["labels"]`` keeps the node labels as strings for JSON. The original decoder's
    numeric answer is translated as described in the module docstring; ``objective`` and ``feasible`` are
    unchanged.
    """
    from ..model import IsingModel

    nodes = tuple(nodes)
    spin_names = nodes if spin_labels is None else tuple(spin_labels)
    m = enc.model
    if len(spin_names) != m.n:
        raise ValueError(f"{len(spin_names)} spin labels for {m.n} spins")
    base = enc.decoder

    def decode(spins) -> Solution:
        sol = base(spins)
        ans = dict(sol.answer)
        for key in VERTEX_LISTS:
            if isinstance(ans.get(key), list):
                ans[key] = [nodes[int(i)] for i in ans[key]]
        if isinstance(ans.get("sides"), list):
            ans["sides"] = [[nodes[int(i)] for i in side] for side in ans["sides"]]
        for key in PER_VERTEX:
            if isinstance(ans.get(key), list) and len(ans[key]) == len(nodes):
                values = ans[key]
                if key == "partition" and "sides" not in ans:
                    ans["sides"] = [[v for v, p in zip(nodes, values) if int(p) == k] for k in (0, 1)]
                ans[key] = dict(zip(nodes, values))
        return Solution(sol.objective, sol.feasible, ans)

    model = IsingModel(m.J, m.h, m.offset, spin_names, dict(m.meta))
    info = dict(enc.info)
    info["labels"] = [str(v) for v in nodes]
    return Encoded(enc.problem, model, decode, enc.sense, enc.objective_name, info)
