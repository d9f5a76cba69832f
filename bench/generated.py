"""MaxCut instances nobody tuned on: seeded rudy-style graph families, written in the Gset/rudy format.

`auto`'s policy and every solver's defaults were tuned on the 20 shared Gset graphs. These families cover
what Gset does and does not: G(n, p) random graphs at Gset's G1 density and sparse ones, planar graphs
(Delaunay triangulations of random points), 2-D toroidal grids, dense complete graphs (SK in MaxCut form),
random 3-regular graphs, preferential-attachment graphs (wide degree spread) and nearly bipartite graphs
(a random bipartite graph plus a few edges inside the sides, so few odd cycles), each with unit, +-1 or
Gaussian weights.

An instance is named ``gen-<family>-<n>`` (seed :data:`SEED`) or ``gen-<family>-<n>-s<seed>``, and is a
pure function of its name: :func:`generate` builds its edges from ``numpy.random.default_rng(seed)``, so a
benchmark can load it by name in any process without files. ``python bench/generated.py --write`` also
writes every instance of :data:`GENERATED` as ``<data root>/generated/<name>.txt`` (Gset format; the data
root is bench/data.py's setting) for other tools; the files are not committed.

    python bench/generated.py --list               # names, sizes, edge counts
    python bench/generated.py --write [--data DIR] # write the Gset files
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cimsim import CimsimError  # noqa: E402

__all__ = ["FAMILIES", "GENERATED", "SEED", "generate", "parse_name", "is_generated", "write_all"]

#: the seed of an instance named without ``-s<seed>``
SEED = 1

Edges = np.ndarray  # (m, 3): 0-based i < j, weight


# --------------------------------------------------------------------------------------------- graphs
def _gnp(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """G(n, p) as (m, 2) pairs i < j: every pair independently with probability p (rudy's -random)."""
    iu, ju = np.triu_indices(n, 1)
    keep = rng.random(iu.size) < p
    return np.column_stack([iu[keep], ju[keep]])


def _gnm_sparse(n: int, degree: float, rng: np.random.Generator) -> np.ndarray:
    """Sparse random graph with mean degree ``degree``: G(n, p) with p = degree / (n - 1)."""
    return _gnp(n, degree / (n - 1), rng)


def _complete(n: int, rng: np.random.Generator) -> np.ndarray:
    iu, ju = np.triu_indices(n, 1)
    return np.column_stack([iu, ju])


def _planar(n: int, rng: np.random.Generator) -> np.ndarray:
    """Delaunay triangulation of n uniform points in the unit square: planar, mean degree just under 6."""
    from scipy.spatial import Delaunay

    tri = Delaunay(rng.random((n, 2))).simplices
    e = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]])
    e.sort(axis=1)
    return np.unique(e, axis=0)


def _torus(n: int, rng: np.random.Generator) -> np.ndarray:
    """L x L periodic square lattice (n = L^2), row-major numbering: Gset G11-style."""
    L = int(round(np.sqrt(n)))
    if L * L != n or L < 3:
        raise CimsimError(f"a torus needs n = L^2 with L >= 3, got n = {n}")
    v = np.arange(n).reshape(L, L)
    right = np.column_stack([v.ravel(), np.roll(v, -1, axis=1).ravel()])
    down = np.column_stack([v.ravel(), np.roll(v, -1, axis=0).ravel()])
    e = np.concatenate([right, down])
    e.sort(axis=1)
    return e


def _regular3(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform random 3-regular simple graph (configuration model, rejecting loops and double edges)."""
    if n % 2 or n < 4:
        raise CimsimError(f"a 3-regular graph needs an even n >= 4, got {n}")
    stubs = np.repeat(np.arange(n), 3)
    for _ in range(1000):
        e = rng.permutation(stubs).reshape(-1, 2)
        e.sort(axis=1)
        if np.all(e[:, 0] != e[:, 1]) and np.unique(e, axis=0).shape[0] == e.shape[0]:
            return e[np.lexsort((e[:, 1], e[:, 0]))]
    raise CimsimError("no simple 3-regular pairing in 1000 tries")  # pragma: no cover (p ~ e^-2 each)


def _scalefree(n: int, rng: np.random.Generator, m: int = 3) -> np.ndarray:
    """Preferential attachment (Barabasi-Albert, m = 3 edges per new vertex): degrees from 3 to ~sqrt(n)."""
    targets = list(range(m))
    pool: list[int] = []
    edges = []
    for v in range(m, n):
        for t in set(targets):
            edges.append((t, v))
        pool.extend(targets)
        pool.extend([v] * m)
        chosen: set[int] = set()
        while len(chosen) < m:
            chosen.add(pool[int(rng.integers(len(pool)))])
        targets = sorted(chosen)
    return np.array(sorted(edges))


def _bipartite(n: int, rng: np.random.Generator, degree: float = 6.0, odd: float = 0.01) -> np.ndarray:
    """Nearly bipartite: sides {0..n/2-1} and {n/2..n-1}, each cross pair with probability degree/(n/2),
    plus ``odd`` x (cross edges) edges inside the sides (each closes odd cycles)."""
    a = n // 2
    keep = rng.random((a, n - a)) < degree / (n - a)
    i, j = np.nonzero(keep)
    cross = np.column_stack([i, j + a])
    k = max(1, int(round(odd * cross.shape[0])))
    inside = set()
    while len(inside) < k:
        side = int(rng.integers(2))
        lo, hi = (0, a) if side == 0 else (a, n)
        u, v = (int(x) for x in rng.integers(lo, hi, size=2))
        if u != v:
            inside.add((min(u, v), max(u, v)))
    e = np.concatenate([cross, np.array(sorted(inside))])
    return e[np.lexsort((e[:, 1], e[:, 0]))]


GRAPHS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "rudy": lambda n, rng: _gnp(n, 0.06, rng),   # G1-G10 density
    "sparse": lambda n, rng: _gnm_sparse(n, 4.0, rng),
    "planar": _planar,
    "torus": _torus,
    "complete": _complete,
    "3reg": _regular3,
    "scalefree": _scalefree,
    "bipartite": _bipartite,
}

WEIGHTS = ("unit", "pm", "gauss")


def _weights(kind: str, m: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "unit":
        return np.ones(m)
    if kind == "pm":
        return rng.choice([-1.0, 1.0], size=m)
    if kind == "gauss":  # N(0, 1) rounded to 1e-6 so the Gset text round-trips exactly
        return np.round(rng.standard_normal(m), 6)
    raise CimsimError(f"unknown weight kind {kind!r}; choose one of {', '.join(WEIGHTS)}")


#: family -> (graph, weights): ``gen-<family>-<n>``; the weight suffix pm/gauss follows the graph name
FAMILIES: dict[str, tuple[str, str]] = {
    f"{g}{'' if w == 'unit' else w}": (g, w) for g in GRAPHS for w in WEIGHTS
}

#: the generated suite (sizes 800-3000 like Gset's smaller graphs): every graph family, and the weight
#: kinds that make a different problem on it (a +1 torus or bipartite graph is trivially cut)
GENERATED: list[str] = [
    "gen-rudy-800", "gen-rudypm-800", "gen-rudygauss-1000",
    "gen-sparse-2000", "gen-sparsepm-2000", "gen-sparsegauss-3000",
    "gen-planar-1500", "gen-planarpm-1500", "gen-planargauss-3000",
    "gen-toruspm-1600", "gen-torusgauss-2500",
    "gen-completepm-800", "gen-completegauss-1000",
    "gen-3reg-2000", "gen-3regpm-3000",
    "gen-scalefree-2000",
    "gen-bipartite-2000", "gen-bipartitegauss-1200",
    "gen-scalefree-2500-s2",  # held out: in no study that shaped auto's policy (the hub rule came from -2000, -3000)
]

_NAME = re.compile(r"^gen-([a-z0-9]+)-(\d+)(?:-s(\d+))?$")


def is_generated(name: str) -> bool:
    """Whether ``name`` is a generated instance's name (``gen-...``)."""
    return name.startswith("gen-")


def parse_name(name: str) -> tuple[str, int, int]:
    """``(family, n, seed)`` of ``gen-<family>-<n>[-s<seed>]``; a one-line CimsimError otherwise."""
    m = _NAME.match(name)
    if not m or m.group(1) not in FAMILIES:
        raise CimsimError(f"{name!r} is not a generated instance: use gen-<family>-<n>[-s<seed>] with family one of "
                          f"{', '.join(FAMILIES)}")
    n = int(m.group(2))
    if not 4 <= n <= 100_000:
        raise CimsimError(f"{name}: n must be in 4..100000, got {n}")
    return m.group(1), n, int(m.group(3)) if m.group(3) else SEED


def generate(name: str) -> tuple[int, Edges]:
    """``(n, edges)`` of instance ``name``: (m, 3) float rows ``(i, j, w)``, 0-based, i < j, no duplicates,
    sorted; the same on every machine for the same numpy (a PCG64 stream per name)."""
    family, n, seed = parse_name(name)
    graph, kind = FAMILIES[family]
    if graph == "complete" and n > 4000:
        raise CimsimError(f"{name}: complete graphs are limited to n <= 4000 (dense)")
    rng = np.random.default_rng([seed, n, sum(map(ord, family))])
    pairs = GRAPHS[graph](n, rng).astype(np.int64)
    w = _weights(kind, pairs.shape[0], rng)
    return n, np.column_stack([pairs.astype(np.float64), w])


def write_all(root: Path, names: list[str] = GENERATED) -> list[Path]:
    """Write ``root/generated/<name>.txt`` (Gset format) for every name; returns the paths."""
    from cimsim.formats import write_gset

    out = []
    for name in names:
        n, e = generate(name)
        path = root / "generated" / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_gset(path, n, e, comment=f"{name}: bench/generated.py (cimsim), family {parse_name(name)[0]}, "
                                       f"seed {parse_name(name)[2]}")
        out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    from bench.data import add_data_option, data_root

    p = argparse.ArgumentParser(prog="bench/generated.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--list", action="store_true", help="print name, n, edges, weight kind of every instance")
    p.add_argument("--write", action="store_true", help="write <data root>/generated/<name>.txt for every instance")
    p.add_argument("--names", default=None, help="comma-separated names (default: the generated suite)")
    add_data_option(p)
    args = p.parse_args(argv)
    names = GENERATED if args.names is None else [t.strip() for t in args.names.split(",") if t.strip()]
    try:
        if args.write:
            for path in write_all(data_root(args.data), names):
                print(path)
        else:
            for name in names:
                n, e = generate(name)
                print(f"{name}\tn={n}\tedges={e.shape[0]}\tweights={FAMILIES[parse_name(name)[0]][1]}")
    except CimsimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
