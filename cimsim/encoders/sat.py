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
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import CimsimError
from . import Encoded, Solution, read_text
from ._common import QuboBuilder, check_options

__all__ = ["read_dimacs", "encode_sat", "from_file", "count_satisfied"]


def read_dimacs(path: str | Path) -> tuple[int, list[list[int]]]:
    """Parse a DIMACS CNF file into ``(n_vars, clauses)`` (clauses as lists of signed 1-based literals).

    Comment lines start with ``c``; the header ``p cnf V C`` must precede the clauses; clauses end with
    ``0`` and may span lines. Parsing stops at a line starting with ``%`` (the SATLIB trailer). A final
    clause missing its ``0`` at end of file is accepted. Malformed input raises :class:`CimsimError`
    naming the line: missing or bad header, non-integer token, literal beyond ``V``, clause count not
    matching ``C``.
    """
    p = Path(path)
    text = read_text(p)
    n_vars: int | None = None
    n_clauses = 0
    header_line = 0
    clauses: list[list[int]] = []
    current: list[int] = []
    for k, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("c"):
            continue
        if s.startswith("%"):
            break
        if s.startswith("p"):
            if n_vars is not None:
                raise CimsimError(f"{p}: line {k}: second 'p' header (the first is on line {header_line})")
            t = s.split()
            if len(t) != 4 or t[0] != "p" or t[1] != "cnf":
                raise CimsimError(f"{p}: line {k}: header must be 'p cnf VARIABLES CLAUSES', got {s!r}")
            try:
                n_vars, n_clauses = int(t[2]), int(t[3])
            except ValueError:
                raise CimsimError(f"{p}: line {k}: header counts must be integers, got {s!r}") from None
            if n_vars < 1 or n_clauses < 0:
                raise CimsimError(f"{p}: line {k}: header needs VARIABLES >= 1 and CLAUSES >= 0, got {s!r}")
            header_line = k
            continue
        if n_vars is None:
            raise CimsimError(f"{p}: line {k}: missing 'p cnf VARIABLES CLAUSES' header before the clauses")
        for tok in s.split():
            try:
                lit = int(tok)
            except ValueError:
                raise CimsimError(f"{p}: line {k}: expected an integer literal, got {tok!r}") from None
            if lit == 0:
                clauses.append(current)
                current = []
            elif abs(lit) > n_vars:
                raise CimsimError(f"{p}: line {k}: literal {lit} is beyond the {n_vars} variables declared in the header")
            else:
                current.append(lit)
    if n_vars is None:
        raise CimsimError(f"{p}: missing 'p cnf VARIABLES CLAUSES' header")
    if current:
        clauses.append(current)
    if len(clauses) != n_clauses:
        raise CimsimError(f"{p}: line {header_line}: header declares {n_clauses} clauses but the file has {len(clauses)}")
    return n_vars, clauses


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
               storage: str = "auto", name: str = "cnf") -> Encoded:
    """Encode (weighted) MAX-SAT of ``clauses`` (signed 1-based literals) over ``n_vars`` variables.

    ``weights`` (positive, one per clause) default to 1. The objective is the number (weight) of
    satisfied clauses, maximised; ``feasible`` means every clause is satisfied.
    """
    cls = _check_clauses(n_vars, clauses, name)
    m = len(cls)
    if weights is None:
        wts = np.ones(m)
    else:
        wts = np.asarray(weights, dtype=np.float64).reshape(-1)
        if wts.shape != (m,) or not np.all(np.isfinite(wts)) or np.any(wts <= 0):
            raise CimsimError(f"{name}: weights must be {m} positive finite numbers")
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
        info["total_weight"] = float(wts.sum())
    return Encoded("sat", model, decode, "max", "satisfied", info)


def from_file(path: str | Path, **options) -> Encoded:
    """Encode MAX-SAT from a DIMACS CNF file. Option: ``storage`` (auto, dense, sparse)."""
    check_options("sat", options, ("storage",))
    n, clauses = read_dimacs(path)
    return encode_sat(n, clauses, storage=options.get("storage", "auto"), name=str(path))
