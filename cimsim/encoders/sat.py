"""SAT / (weighted) MAX-SAT from DIMACS CNF (physics.md 5.4): maximise the number of satisfied clauses.

Variables ``x_v`` (v = 1..n in the file, spins 0..n-1 here; spin ``+1`` = true) come first, auxiliary
spins after them. For a literal ``l`` the false indicator is ``f = 1 - l`` (``1 - x_v`` for ``v``,
``x_v`` for ``-v``); clause ``C`` is violated iff ``prod_{l in C} f_l = 1``. Each clause of weight
``w_C`` (1 from a file) adds

* length 1: ``w f1``; length 2: ``w f1 f2`` (already quadratic, no auxiliary);
* length 3: Ishikawa's reduction with one auxiliary bit ``y``,
  ``f1 f2 f3 = min_y [ y (1 - f1 - f2 - f3) + f1 f2 + f1 f3 + f2 f3 ]``;
* length k > 3: the chain ``(l1 v l2 v z1) (-z1 v l3 v z2) ... (-z_{k-3} v l_{k-1} v l_k)`` of k - 2
  three-literal clauses (k - 3 chain bits z), each encoded as above: if C is satisfied, some choice of
  the z satisfies every link; if not, every choice violates at least one link and one choice violates
  exactly one. So the chain's minimum over auxiliaries is again ``[C violated]``;
* length 0 (a bare ``0``): the constant ``w`` (never satisfiable). Repeated literals are merged and
  tautologies (``v`` and ``-v`` in one clause) contribute nothing.

Hence, for every assignment ``x``, ``min_aux H(x, aux) = sum of weights of the clauses x violates``;
every ``H(x, aux)`` is at least that, and the Ising ground energy is the MAX-SAT optimum's violated
weight (0 iff satisfiable). A file of m 3-clauses gives ``n + m`` spins. The decoder reads only the
first n spins and recounts satisfied clauses directly from the original clauses.

Weighted and partial MAX-SAT come from classic ``p wcnf V C [TOP]`` files (each clause preceded by its
weight; weight >= TOP marks a hard clause): see :func:`encode_sat` for how hard clauses are weighted.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import CimsimError
from . import Encoded, Solution
from ._common import QuboBuilder, check_options
from ._text import check_count_fits, iter_lines

__all__ = ["CnfFile", "read_cnf", "read_dimacs", "encode_sat", "from_file", "count_satisfied"]


@dataclass
class CnfFile:
    """A parsed DIMACS file: ``clauses`` of signed 1-based literals; for ``wcnf``, per-clause ``weights``
    and the ``top`` weight (clauses weighing at least ``top`` are hard), else None."""

    n_vars: int
    clauses: list[list[int]]
    weights: list[float] | None = None
    top: float | None = None

    @property
    def hard(self) -> list[bool] | None:
        if self.weights is None or self.top is None:
            return None
        return [w >= self.top for w in self.weights]


def read_cnf(path: str | Path) -> CnfFile:
    """Parse a DIMACS ``cnf`` or (classic) ``wcnf`` file.

    Comment lines start with ``c``; the header ``p cnf V C`` (or ``p wcnf V C [TOP]``, where every clause
    starts with its positive weight) must precede the clauses; clauses end with ``0`` and may span lines.
    Parsing stops at a line starting with ``%`` (the SATLIB trailer). A final clause missing its ``0``
    at end of file is accepted. Malformed input raises :class:`CimsimError` naming the line: missing or
    bad header, non-integer token, bad weight, literal beyond ``V``, clause count not matching ``C``.
    """
    p = Path(path)
    n_vars: int | None = None
    n_clauses = 0
    header_line = 0
    weighted = False
    top: float | None = None
    clauses: list[list[int]] = []
    weights: list[float] = []
    current: list[int] = []
    need_weight = True
    for k, line in iter_lines(p):
        s = line.strip()
        if not s or s.startswith("c"):
            continue
        if s.startswith("%"):
            break
        if s.startswith("p"):
            if n_vars is not None:
                raise CimsimError(f"{p}: line {k}: second 'p' header (the first is on line {header_line})")
            t = s.split()
            ok = len(t) >= 4 and t[0] == "p" and (t[1] == "cnf" and len(t) == 4 or t[1] == "wcnf" and len(t) <= 5)
            if not ok:
                raise CimsimError(f"{p}: line {k}: header must be 'p cnf VARIABLES CLAUSES' "
                                  f"(or 'p wcnf VARIABLES CLAUSES [TOP]'), got {s[:80]!r}")
            try:
                n_vars, n_clauses = int(t[2]), int(t[3])
                top = float(t[4]) if len(t) == 5 else None
            except ValueError:
                raise CimsimError(f"{p}: line {k}: header counts must be integers, got {s[:80]!r}") from None
            if n_vars < 1 or n_clauses < 0 or (top is not None and not (np.isfinite(top) and top > 0)):
                raise CimsimError(f"{p}: line {k}: header needs VARIABLES >= 1, CLAUSES >= 0 (and TOP > 0), got {s[:80]!r}")
            check_count_fits(p, n_vars, "variables", 64.0, f"line {k}: header declares ")
            weighted = t[1] == "wcnf"
            header_line = k
            continue
        if n_vars is None:
            raise CimsimError(f"{p}: line {k}: missing 'p cnf VARIABLES CLAUSES' header before the clauses")
        for tok in s.split():
            if weighted and need_weight:
                try:
                    w = float(tok)
                except ValueError:
                    w = float("nan")
                if not (np.isfinite(w) and w > 0):
                    raise CimsimError(f"{p}: line {k}: expected a positive clause weight, got {tok[:40]!r}")
                weights.append(w)
                need_weight = False
                continue
            try:
                lit = int(tok)
            except ValueError:
                raise CimsimError(f"{p}: line {k}: expected an integer literal, got {tok[:40]!r}") from None
            if lit == 0:
                if len(clauses) >= n_clauses:
                    raise CimsimError(f"{p}: line {k}: header (line {header_line}) declares {n_clauses} clauses "
                                      f"but the file has {n_clauses + 1} or more")
                clauses.append(current)
                current = []
                need_weight = True
            elif abs(lit) > n_vars:
                raise CimsimError(f"{p}: line {k}: literal {lit} is beyond the {n_vars} variables declared in the header"[:300])
            else:
                current.append(lit)
    if n_vars is None:
        raise CimsimError(f"{p}: missing 'p cnf VARIABLES CLAUSES' header")
    if current or (weighted and not need_weight):
        clauses.append(current)
    if len(clauses) != n_clauses:
        raise CimsimError(f"{p}: line {header_line}: header declares {n_clauses} clauses but the file has {len(clauses)}")
    return CnfFile(n_vars, clauses, weights if weighted else None, top)


def read_dimacs(path: str | Path) -> tuple[int, list[list[int]]]:
    """``(n_vars, clauses)`` of a DIMACS CNF file (see :func:`read_cnf`; weights of a wcnf are dropped)."""
    f = read_cnf(path)
    return f.n_vars, f.clauses


def _check_clauses(n_vars: int, clauses: Iterable[Sequence[int]], name: str) -> list[list[int]]:
    if isinstance(n_vars, bool) or not isinstance(n_vars, (int, np.integer)) or n_vars < 1:
        raise CimsimError(f"{name}: the number of variables must be a positive integer, got {n_vars!r}")
    out = []
    for c, clause in enumerate(clauses):
        lits = []
        for lit in clause:
            if isinstance(lit, bool) or not isinstance(lit, (int, np.integer)):
                raise CimsimError(f"{name}: clause {c}: literal {lit!r} is not an integer")
            if lit == 0 or abs(lit) > n_vars:
                raise CimsimError(f"{name}: clause {c}: literal {lit} must be in +-1..{n_vars}")
            lits.append(int(lit))
        out.append(lits)
    return out


def count_satisfied(clauses: Sequence[Sequence[int]], assignment: Sequence[bool]) -> int:
    """Number of clauses satisfied by ``assignment`` (``assignment[v - 1]`` is the value of variable v)."""
    return sum(1 for cl in clauses if any((lit > 0) == bool(assignment[abs(lit) - 1]) for lit in cl))


def encode_sat(n_vars: int, clauses: Iterable[Sequence[int]], *, weights: Sequence[float] | None = None,
               hard: Sequence[bool] | None = None, storage: str = "auto", name: str = "cnf") -> Encoded:
    """Encode (weighted, partial) MAX-SAT of ``clauses`` (signed 1-based literals) over ``n_vars`` variables.

    ``weights`` (positive, one per clause) default to 1. The objective is the number (weight) of
    satisfied clauses, maximised; ``feasible`` means every clause is satisfied.

    ``hard`` (one flag per clause) marks clauses that must hold: the objective then counts only the
    satisfied soft weight, ``feasible`` means every hard clause holds, and each hard clause enters H with
    weight ``soft_total + 1`` (not the file's TOP, which is often astronomically large and would crush
    the soft clauses' dynamic range). That suffices: an assignment violating a hard clause has
    ``min_aux H >= soft_total + 1``, more than any assignment satisfying all hard clauses can have.
    """
    cls = _check_clauses(n_vars, clauses, name)
    m = len(cls)
    if weights is None:
        wts = np.ones(m)
    else:
        wts = np.asarray(weights, dtype=np.float64).reshape(-1)
        if wts.shape != (m,) or not np.all(np.isfinite(wts)) or np.any(wts <= 0):
            raise CimsimError(f"{name}: weights must be {m} positive finite numbers")
    hard_mask = np.zeros(m, dtype=bool)
    if hard is not None:
        hard_mask = np.asarray(hard, dtype=bool).reshape(-1)
        if hard_mask.shape != (m,):
            raise CimsimError(f"{name}: hard must have one flag per clause ({m})")
        soft_total = float(wts[~hard_mask].sum())
        wts = np.where(hard_mask, soft_total + 1.0, wts)
    n = int(n_vars)

    # normalise each clause: merge repeated literals, drop tautologies
    reduced: list[list[int] | None] = []
    for cl in cls:
        lits = list(dict.fromkeys(cl))
        reduced.append(None if any(-lit in lits for lit in lits) else lits)
    n_aux = sum(0 if c is None or len(c) < 3 else 1 if len(c) == 3 else 2 * len(c) - 5 for c in reduced)
    qb = QuboBuilder(n + n_aux)
    nxt = n

    def false_ind(lit: int) -> tuple[float, float, int]:
        v = abs(lit) - 1
        return (1.0, -1.0, v) if lit > 0 else (0.0, 1.0, v)

    def three(w: float, f: list[tuple[float, float, int]]) -> None:
        nonlocal nxt
        y = nxt
        nxt += 1
        qb.add_linear(y, w)
        for g in f:
            qb.add_affine_product(-w, (0.0, 1.0, y), g)
        for a in range(3):
            for b in range(a + 1, 3):
                qb.add_affine_product(w, f[a], f[b])

    for lits, w in zip(reduced, wts):
        if lits is None:
            continue
        k = len(lits)
        if k == 0:
            qb.add_constant(w)
        elif k == 1:
            qb.add_affine(w, false_ind(lits[0]))
        elif k == 2:
            qb.add_affine_product(w, false_ind(lits[0]), false_ind(lits[1]))
        elif k == 3:
            three(w, [false_ind(lit) for lit in lits])
        else:
            z = list(range(nxt, nxt + k - 3))
            nxt += k - 3
            three(w, [false_ind(lits[0]), false_ind(lits[1]), (1.0, -1.0, z[0])])  # z as a positive literal
            for t in range(1, k - 3):
                three(w, [(0.0, 1.0, z[t - 1]), false_ind(lits[t + 1]), (1.0, -1.0, z[t])])
            three(w, [(0.0, 1.0, z[-1]), false_ind(lits[k - 2]), false_ind(lits[k - 1])])
    assert nxt == n + n_aux
    model = qb.model(storage)
    weighted = weights is not None
    sat_mask = np.empty(m, dtype=bool)

    def decode(spins: np.ndarray) -> Solution:
        x = np.asarray(spins)[:n] > 0
        for c, cl in enumerate(cls):
            sat_mask[c] = any((lit > 0) == x[abs(lit) - 1] for lit in cl)
        satisfied = int(sat_mask.sum())
        answer = {
            "assignment": [bool(v) for v in x],
            "satisfied": satisfied,
            "clauses": m,
            "violated": [int(c) for c in np.flatnonzero(~sat_mask)],
        }
        objective: float = satisfied
        if hard is not None:
            objective = float(wts[sat_mask & ~hard_mask].sum())
            answer["satisfied_weight"] = objective
            answer["hard_violated"] = int(np.count_nonzero(hard_mask & ~sat_mask))
            return Solution(objective, answer["hard_violated"] == 0, answer)
        if weighted:
            objective = float(wts[sat_mask].sum())
            answer["satisfied_weight"] = objective
        return Solution(objective, satisfied == m, answer)

    lengths = [len(c) for c in cls]
    info = {
        "variables": n,
        "clauses": m,
        "auxiliary_spins": n_aux,
        "max_clause_length": max(lengths, default=0),
        "tautologies": sum(c is None for c in reduced),
        "gadget": "Ishikawa (1 auxiliary per 3-clause); chain split for longer clauses",
        "energy": "min over auxiliaries of H = violated clause weight",
    }
    if weighted:
        info["total_weight"] = float(wts[~hard_mask].sum())
    if hard is not None:
        info["hard_clauses"] = int(hard_mask.sum())
        info["hard_weight"] = float(wts[hard_mask][0]) if hard_mask.any() else None
    return Encoded("sat", model, decode, "max", "satisfied", info)


#: the options ``from_file`` accepts (the command line's ``-o KEY=VALUE``)
OPTIONS: tuple[str, ...] = ("storage",)


def from_file(path: str | Path, **options) -> Encoded:
    """Encode MAX-SAT from a DIMACS ``cnf`` or ``wcnf`` file. Option: ``storage`` (auto, dense, sparse)."""
    check_options("sat", options, OPTIONS)
    f = read_cnf(path)
    return encode_sat(f.n_vars, f.clauses, weights=f.weights, hard=f.hard,
                      storage=options.get("storage", "auto"), name=str(path))
