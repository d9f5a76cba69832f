"""Benchmark instances: Gset MaxCut, Gaussian SK, SATLIB 3-SAT.

Each :class:`Instance` knows how to turn spins into its objective (recomputed from the spins by cimsim's
own model or decoder, never taken from a solver), whether larger is better, and the best known value.
"""
from __future__ import annotations

import csv
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from cimsim import CimsimError, IsingModel
from cimsim.instances import PARISI_ENERGY, sk_model

from .data import data_root, missing_root_message
from .generated import GENERATED, generate, is_generated, parse_name

__all__ = ["Instance", "load_instance", "SUITES", "all_instance_names", "needs_data", "gset_best_known"]

#: Gset graphs in best_known.csv order.
GSET = ["G1", "G2", "G6", "G11", "G14", "G18", "G22", "G27", "G32", "G35", "G39", "G43", "G48", "G55",
        "G58", "G60", "G63", "G65", "G70", "G81"]
SK = ["SK1000", "SK2000"]
SAT = ["uf20-01", "uf50-01", "uf75-01"]

SUITES: dict[str, list[str]] = {
    "quick": ["G1", "G43", "SK1000"],
    "peers": ["G1", "G43", "G22", "SK2000"],
    "full": GSET + SK + SAT,
    "generated": list(GENERATED),  # bench/generated.py: graph families nobody tuned on
}

#: seed of the SK instance SK<N> (cimsim.instances.sk_model(n, SK_SEED))
SK_SEED = 1


def all_instance_names() -> list[str]:
    return GSET + SK + SAT


@dataclass
class Instance:
    """One benchmark instance.

    name, kind : e.g. ("G43", "gset"), ("SK2000", "sk"), ("uf50-01", "sat")
    model : the Ising model every solver gets
    objective : spins (N,) -> objective in the problem's units (cut, energy per spin, satisfied clauses)
    sense : "max" or "min"
    best_known : best known objective, or None
    optimum_known : True when ``best_known`` is a proven/accepted optimum usable as a TTS target
    reference : human-readable source of ``best_known``
    status : "" when loaded, else why it could not be (the harness still writes its rows)
    note : said on every row of the instance (e.g. a truncated data file)
    energy_target : Ising energy that reaches ``best_known`` when that maps linearly (Gset), else None
    """

    name: str
    kind: str
    model: IsingModel | None
    objective: Callable[[np.ndarray], float] | None
    sense: str
    best_known: float | None
    optimum_known: bool
    reference: str
    status: str = ""
    energy_target: float | None = None
    info: dict = field(default_factory=dict)
    note: str = ""

    def better(self, a: float, b: float) -> bool:
        """Whether objective ``a`` is strictly better than ``b``."""
        return a > b if self.sense == "max" else a < b

    def hits(self, value: float, tol: float = 1e-6) -> bool:
        """Whether ``value`` reaches the best known objective (the TTS target)."""
        if self.best_known is None:
            return False
        if self.sense == "max":
            return value >= self.best_known - tol * max(1.0, abs(self.best_known))
        return value <= self.best_known + tol * max(1.0, abs(self.best_known))

    def ratio(self, value: float) -> float:
        """value / best_known (for SK: e / Parisi e0, so 1.0 is the N -> infinity ground state)."""
        if self.best_known is None or self.best_known == 0:
            return float("nan")
        return float(value / self.best_known)


def needs_data(name: str) -> bool:
    """Whether instance ``name`` is read from the data root (Gset and SATLIB; SK<N> and gen-... are generated)."""
    return not ((name.upper().startswith("SK") and name[2:].isdigit()) or is_generated(name))


def gset_best_known(data: str | os.PathLike | None = None) -> dict[str, float]:
    """Gset name -> best known cut, from ``<data root>/gset/best_known.csv`` ({} when it is absent)."""
    path = data_root(data) / "gset" / "best_known.csv"
    out: dict[str, float] = {}
    if path.exists():
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                out[row["instance"]] = float(row["best_known_cut"])
    return out


def _missing(name: str, kind: str, sense: str, why: str) -> Instance:
    return Instance(name, kind, None, None, sense, None, False, "", status=why)


def _truncated_gset(path: Path, why: str):
    """A Gset file cut short (fewer edge lines than its header declares, every line well formed):
    encode the edges it does hold so that cimsim and the peers still compete on the same graph, and
    say so. Anything else wrong with the file: ``(None, why)``."""
    from cimsim.encoders.maxcut import encode_maxcut

    if "header declares" not in why:
        return None, why
    lines = path.read_text().split("\n")
    n, m = (int(t) for t in lines[0].split()[:2])
    rows = [ln.split() for ln in lines[1:] if ln.strip()]
    if rows and len(rows[-1]) != 3:
        rows.pop()  # the cut fell inside the last line
    if any(len(r) != 3 for r in rows):
        return None, why
    edges = np.array([[int(a) - 1, int(b) - 1, float(w)] for a, b, w in rows])
    enc = encode_maxcut(n, edges, name=str(path))
    return enc, (f"data file truncated: {len(rows)} of the {m} edges its header declares; the best known "
                 "cut is of the whole graph, so no ratio")


def load_instance(name: str, data: str | os.PathLike | None = None) -> Instance:
    """Load instance ``name`` (G<k>, SK<N>, or a SATLIB file stem) from the data root ``data`` (see
    :func:`bench.data.data_root`); never raises for missing data (the instance's ``status`` says why)."""
    if is_generated(name):
        return _load_generated(name)
    if not needs_data(name):
        return _load_sk(name)
    root = data_root(data)
    gset = name.upper().startswith("G") and name[1:].isdigit()
    if not root.is_dir():
        return _missing(name, "gset" if gset else "sat", "max", missing_root_message(root))
    return _load_gset(name, root) if gset else _load_sat(name, root)


def _load_sk(name: str) -> Instance:
    n = int(name[2:])
    model = sk_model(n, SK_SEED)
    return Instance(
        name, "sk", model, lambda s, m=model: float(m.energy(s)) / m.n, "min", PARISI_ENERGY, False,
        "Parisi e0 = -0.76317 (N -> inf; finite N lies above it)", info={"n": n, "seed": SK_SEED},
    )


def _load_generated(name: str) -> Instance:
    """A bench/generated.py instance, built from its name (no file, no best known: rows compare with peers)."""
    from cimsim.encoders.maxcut import encode_maxcut

    try:
        n, edges = generate(name)
    except CimsimError as exc:
        return _missing(name, "gset", "max", str(exc))
    enc = encode_maxcut(n, edges, name=name)
    family, _, seed = parse_name(name)
    return Instance(name, "gset", enc.model, lambda s, e=enc: float(e.decode(s).objective), "max", None, False, "",
                    info=dict(enc.info, family=family, seed=seed))


def _load_gset(name: str, root: Path) -> Instance:
    path = root / "gset" / f"{name}.txt"
    if not path.exists():
        return _missing(name, "gset", "max", f"missing file {path}")
    from cimsim.encoders.maxcut import from_file

    note = ""
    try:
        enc = from_file(path)
        best = gset_best_known(root).get(name)
    except CimsimError as exc:
        enc, note = _truncated_gset(path, str(exc))
        if enc is None:
            return _missing(name, "gset", "max", str(exc))
        best = None  # the best known cut is of the whole graph, not of what the file holds
    return Instance(
        name, "gset", enc.model, lambda s, e=enc: float(e.decode(s).objective), "max", best,
        best is not None, "best_known.csv" if best is not None else "", info=dict(enc.info),
        energy_target=None if best is None else enc.info["total_weight"] - 2.0 * best, note=note,
    )


def _load_sat(name: str, root: Path) -> Instance:
    path = root / "satlib" / f"{name}.cnf"
    if not path.exists():
        return _missing(name, "sat", "max", f"unknown instance (no {path})")
    try:
        sat = importlib.import_module("cimsim.encoders.sat")
    except ModuleNotFoundError:
        return _missing(name, "sat", "max", "cimsim.encoders.sat not available yet")
    try:
        enc = sat.from_file(path)
    except Exception as exc:  # an encoder still being written must not stop the suite
        return _missing(name, "sat", "max", f"sat encoder failed: {type(exc).__name__}: {exc}")
    clauses = _cnf_clause_count(path)
    return Instance(
        name, "sat", enc.model, lambda s, e=enc: float(e.decode(s).objective), "max", float(clauses), True,
        "all clauses (uf instances are satisfiable)", info=dict(enc.info),
    )


def _cnf_clause_count(path: Path) -> int:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            t = line.split()
            if len(t) >= 4 and t[0] == "p" and t[1] == "cnf":
                return int(t[3])
    raise ValueError(f"{path}: no 'p cnf' header")
