"""From stored calls to table rows: one :class:`Row` per instance x solver x budget, never dropped.

Metrics per row (a solver or instance that cannot run gets a row whose ``status`` says why):

* best / median objective over repeats, their ratio to the best known value;
* ``hits``: repeats reaching the best known value (Gset cut, all SAT clauses);
* ``tts99_s``: time to solution at 99 % (physics.md 4.9) with one budgeted call as the run:
  ``T * ln(0.01) / ln(1 - P_s)``, T the mean wall time of a call, P_s = hits / repeats;
* ``tts99_batch_s``: the same with one batch (one call of the solver's replicas, or of a peer's reads)
  as the run, where per-batch energies are known and the target is an energy (Gset);
* spin updates per second (replicas x spins x steps / wall time, compile and polish time included for
  cimsim) and its fraction of this machine's bound (``bench.bounds``) measured in the same run;
* ``vs_peers`` on cimsim rows: ahead of / tied with / BEHIND the best peer at the same budget.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from cimsim import IsingModel

from .calls import DENSE_PEER_MAX_N, peer_skipped
from .instances import Instance

__all__ = ["Row", "tts99", "BUDGET_SLACK", "OVERRUN_FACTOR", "overran", "within_budget", "assemble", "compare",
           "versus", "rank_key", "fmt_obj"]

#: after a first call longer than this many budgets, the other repeats of that row are not run
OVERRUN_FACTOR = 5.0

#: a row "kept to the budget" when its mean call time is at most this many budgets (one batch of
#: overshoot is inherent to run-until-the-deadline, for cimsim and peers alike)
BUDGET_SLACK = 2.0


@dataclass
class Row:
    """One line of the results table (JSON/CSV-able)."""

    instance: str
    kind: str
    n: int
    nnz: int
    solver: str
    family: str
    budget_s: float
    repeats: int = 0
    status: str = "ok"
    best_obj: float = math.nan
    median_obj: float = math.nan
    best_known: float = math.nan
    ratio_best: float = math.nan
    ratio_median: float = math.nan
    best_energy: float = math.nan
    hits: int = 0
    p_success: float = math.nan
    tts99_s: float = math.nan
    tts99_batch_s: float = math.nan
    elapsed_mean_s: float = math.nan
    batches_mean: float = math.nan
    replicas: int = 0
    updates_per_s: float = math.nan
    bound_kind: str = ""
    bound_updates_per_s: float = math.nan
    bound_f32_updates_per_s: float = math.nan
    frac_of_bound: float = math.nan
    vs_peers: str = ""
    note: str = ""


def tts99(t_run: float, p_success: float, target: float = 0.99) -> float:
    """TTS(P) = T ln(1 - P) / ln(1 - P_s), T if P_s >= P, inf if P_s == 0 (physics.md 4.9)."""
    if not (p_success > 0):
        return math.inf
    if p_success >= target:
        return float(t_run)
    return float(t_run * math.log(1 - target) / math.log(1 - p_success))


def overran(elapsed_s: float, budget: float) -> bool:
    """Whether a row's first call took so long that its other repeats are not run (:data:`OVERRUN_FACTOR`)."""
    return elapsed_s > OVERRUN_FACTOR * budget


def within_budget(r: Row, slack: float = BUDGET_SLACK) -> bool:
    """Whether a row's calls took at most ``slack`` times the budget (else its objective is not a result
    at that budget, only at its real wall time ``elapsed_mean_s``)."""
    return r.status == "ok" and r.elapsed_mean_s <= slack * r.budget_s


# --------------------------------------------------------------------------------------------------
# summarising one row's calls


@dataclass
class _Repeat:
    """One budgeted call, scored (objective and energy recomputed from its spins with cimsim's model)."""

    objective: float
    energy: float
    elapsed: float
    batches: int
    updates: float
    replicas: int
    batch_energies: np.ndarray  # best energy of each batch
    note: str = ""

    @classmethod
    def from_stored(cls, c: dict) -> "_Repeat":
        return cls(float(c["objective"]), float(c["energy"]), float(c["elapsed_s"]), int(c["batches"]),
                   float(c["updates"]), int(c["replicas"]), np.asarray(c["batch_energies"], dtype=np.float64))


def _objective_stats(row: Row, inst: Instance, reps: list[_Repeat]) -> None:
    objs = [r.objective for r in reps]
    pick = max if inst.sense == "max" else min
    row.repeats = len(reps)
    row.best_obj = float(pick(objs))
    row.median_obj = float(statistics.median(objs))
    row.best_energy = float(min(r.energy for r in reps))
    row.ratio_best = inst.ratio(row.best_obj)
    row.ratio_median = inst.ratio(row.median_obj)


def _time_and_rate(row: Row, reps: list[_Repeat]) -> None:
    row.elapsed_mean_s = float(np.mean([r.elapsed for r in reps]))
    row.batches_mean = float(np.mean([r.batches for r in reps]))
    row.replicas = int(reps[0].replicas)
    upd = np.array([r.updates for r in reps], dtype=float)
    tot_t = float(sum(r.elapsed for r in reps))
    row.updates_per_s = float(upd.sum() / tot_t) if np.all(np.isfinite(upd)) and tot_t > 0 else math.nan


def _success(row: Row, inst: Instance, reps: list[_Repeat]) -> None:
    """Hits, P_s and both TTS99 figures (only where the optimum is known)."""
    if not inst.optimum_known:
        return
    row.hits = int(sum(inst.hits(r.objective) for r in reps))
    row.p_success = row.hits / len(reps)
    row.tts99_s = tts99(row.elapsed_mean_s, row.p_success)
    if inst.energy_target is None:
        return
    be = np.concatenate([np.atleast_1d(r.batch_energies) for r in reps])
    nb = be.size
    if nb == sum(r.batches for r in reps):
        tol = 1e-6 * max(1.0, abs(inst.energy_target))
        p = float(np.mean(be <= inst.energy_target + tol))
        row.tts99_batch_s = tts99(sum(r.elapsed for r in reps) / nb, p)


def _summarise(row: Row, inst: Instance, reps: list[_Repeat]) -> None:
    _objective_stats(row, inst, reps)
    _time_and_rate(row, reps)
    _success(row, inst, reps)
    notes = sorted({r.note for r in reps if r.note})
    if row.elapsed_mean_s > BUDGET_SLACK * row.budget_s and not notes:
        notes.append(f"over budget: one batch takes longer than {row.budget_s:g} s")
    row.note = "; ".join(notes)


def _bound(row: Row, stored: dict) -> None:
    """Copy a stored bound measurement into ``row`` and compute the rate's fraction of it."""
    if row.replicas <= 0:
        return
    if "bound_error" in stored:
        row.note = (row.note + "; " if row.note else "") + f"bound not measured ({stored['bound_error']})"
        return
    if "bound_kind" not in stored:
        return
    row.bound_kind = stored["bound_kind"]
    row.bound_updates_per_s = float(stored["bound_updates_per_s"])
    row.bound_f32_updates_per_s = float(stored["bound_f32_updates_per_s"])
    if math.isfinite(row.updates_per_s):
        row.frac_of_bound = row.updates_per_s / row.bound_updates_per_s


def _overrun_note(elapsed: float, budget: float, repeats: int) -> str:
    extra = f"; {repeats - 1} other repeat(s) not run" if repeats > 1 else ""
    return f"one call took {elapsed:.1f} s for a {budget:g} s budget (a batch cannot be interrupted){extra}"


def _calls_of_row(results: list, budget: float) -> tuple[list[dict] | None, str]:
    """The stored calls a row is computed from (seed order), or (None, error status).

    ``results[k]`` is ``None`` (not run), ``("failed", reason)`` or ``("ok", stored call)``. After an
    overrunning first call only that call counts; otherwise every seed must have run.
    """
    first = results[0]
    if first is None:
        return None, "error: not run"
    if first[0] == "failed":
        return None, f"error: {first[1]}"
    if overran(first[1]["elapsed_s"], budget):
        return [first[1]], ""
    calls = [first[1]]
    for res in results[1:]:
        if res is None or res[0] == "failed":
            return None, f"error: {'not run' if res is None else res[1]}"
        calls.append(res[1])
    return calls, ""


def _fill_row(row: Row, inst: Instance, results: list, budget: float, repeats: int) -> None:
    """Summarise one row from its stored calls (seed order); an error in any call makes it an error row."""
    calls, status = _calls_of_row(results, budget)
    if calls is None:
        row.status = status
        return
    reps = [_Repeat.from_stored(c) for c in calls]
    if overran(reps[0].elapsed, budget):
        reps[0].note = _overrun_note(reps[0].elapsed, budget, repeats)
    _summarise(row, inst, reps)
    _bound(row, calls[0])
    if row.family == "peer":
        row.note = "; ".join(x for x in (row.note, f"setup {float(calls[0]['setup_s']):.2f} s not counted") if x)


# --------------------------------------------------------------------------------------------------
# the table


def _nnz(model: IsingModel | None) -> int:
    if model is None:
        return 0
    return int(model.J.nnz) if model.is_sparse else int(np.count_nonzero(model.J))


def _row_status(inst: Instance, family: str, key: str, unavailable: str | None, n: int) -> str:
    """Why a row has no calls ("" when it has)."""
    if inst.status:
        return f"skipped: {inst.status}"
    if unavailable:
        return f"not available: {unavailable}"
    if family == "peer" and peer_skipped(key, n):
        return f"skipped: takes a dense matrix only; N = {n} > {DENSE_PEER_MAX_N}"
    return ""


def assemble(instances: list[Instance], entries: list[tuple[str, str, str, str | None]], budgets: list[float],
             repeats: int, got: dict) -> list[Row]:
    """The table, in the harness's row order, from the per-call results ``got``.

    ``entries`` are (family, key, label, why unavailable) per solver or peer; ``got`` maps
    (instance, family, key, budget, seed) to ("ok", stored call) or ("failed", reason).
    """
    rows: list[Row] = []
    for inst in instances:
        model = inst.model
        n = model.n if model is not None else 0
        base = dict(instance=inst.name, kind=inst.kind, n=n, nnz=_nnz(model),
                    best_known=inst.best_known if inst.best_known is not None else math.nan)
        inst_rows: list[Row] = []
        for budget in budgets:
            for fam, key, label, why in entries:
                row = Row(solver=label, family=fam, budget_s=budget, **base)
                row.status = _row_status(inst, fam, key, why, n) or "ok"
                if row.status == "ok":
                    _fill_row(row, inst, [got.get((inst.name, fam, key, budget, k)) for k in range(repeats)],
                              budget, repeats)
                    if inst.note:
                        row.note = f"{inst.note}; {row.note}" if row.note else inst.note
                inst_rows.append(row)
        compare(inst, inst_rows)
        rows.extend(inst_rows)
    return rows


# --------------------------------------------------------------------------------------------------
# cimsim against the peers


def fmt_obj(x: float) -> str:
    return f"{x:.6g}" if math.isfinite(x) else "-"


def rank_key(sense: str, r: Row) -> tuple[float, float]:
    """Sort key of a row: (best, median) objective, larger is better whatever the sense."""
    s = 1.0 if sense == "max" else -1.0
    return (s * r.best_obj, s * r.median_obj)


def versus(sense: str, r: Row, top: Row) -> str:
    """``r`` against the row ``top``: "tied with", "ahead of" or "BEHIND ... (best ..., median ...)"."""
    kb, kt = rank_key(sense, r), rank_key(sense, top)
    tol = 1e-9 * max(1.0, abs(top.best_obj))
    if abs(kb[0] - kt[0]) <= tol and abs(kb[1] - kt[1]) <= tol:
        return f"tied with {top.solver}"
    if kb > kt:
        return f"ahead of {top.solver}"
    return (f"BEHIND {top.solver} (best {fmt_obj(r.best_obj)} vs {fmt_obj(top.best_obj)}, "
            f"median {fmt_obj(r.median_obj)} vs {fmt_obj(top.median_obj)})")


def compare(inst: "Instance | str", rows: list[Row]) -> None:
    """Fill ``vs_peers`` on cimsim rows: ahead of / tied with / BEHIND the best peer at that budget.

    The best peer is chosen among peers that kept to the budget (all peers if none did); a cimsim row
    that overran the budget says so, since its objective was bought with more time. ``inst`` is the
    instance or its sense ("max"/"min").
    """
    sense = inst if isinstance(inst, str) else inst.sense
    for budget in {r.budget_s for r in rows}:
        here = [r for r in rows if r.budget_s == budget and r.status == "ok"]
        peer_rows = [r for r in here if r.family == "peer"]
        if not peer_rows:
            continue
        fair = [r for r in peer_rows if within_budget(r)] or peer_rows
        top = max(fair, key=lambda r: rank_key(sense, r))
        for r in here:
            if r.family != "cimsim":
                continue
            r.vs_peers = versus(sense, r, top)
            if not within_budget(r):
                r.vs_peers += f", but took {r.elapsed_mean_s:.1f} s per call (over budget)"


def recompare(rows: list[Row]) -> list[Row]:
    """Recompute every cimsim row's ``vs_peers`` (SK minimises, everything else maximises)."""
    for r in rows:
        r.vs_peers = ""
    for inst in dict.fromkeys(r.instance for r in rows):
        here = [r for r in rows if r.instance == inst]
        compare("min" if here[0].kind == "sk" else "max", here)
    return rows
