"""The benchmark loop: every instance x solver x budget, repeated with seeds 0..repeats-1.

Objectives and energies are always recomputed here from the spins a solver returns, with cimsim's
model (``Instance.objective``); nothing a solver reports about its own energy is used.

Metrics per row (one row per instance x solver x budget, never dropped; a solver or instance that
cannot run gets a row whose ``status`` says why):

* best / median objective over repeats, their ratio to the best known value;
* ``hits``: repeats reaching the best known value (Gset cut, all SAT clauses);
* ``tts99_s``: time to solution at 99 % (physics.md 4.9) with one budgeted call as the run:
  ``T * ln(0.01) / ln(1 - P_s)``, T the mean wall time of a call, P_s = hits / repeats;
* ``tts99_batch_s``: the same with one batch (one call of the solver's replicas, or of a peer's reads)
  as the run, where per-batch energies are known and the target is an energy (Gset);
* spin updates per second (replicas x spins x steps / wall time, compile and polish time included for
  cimsim) and its fraction of this machine's bound (``bench.bounds``) measured in the same run.
"""
from __future__ import annotations

import contextlib
import csv
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

import cimsim
from cimsim import CimsimError, IsingModel
from cimsim.solvers import get_solver

from . import bounds
from .instances import Instance
from .peers import PEERS, get_peer, run_peer

__all__ = ["CIMSIM_SOLVERS", "Row", "run_bench", "write_csv", "write_markdown", "tts99", "DENSE_PEER_MAX_N"]

#: label -> (cimsim solver name, extra parameters)
CIMSIM_SOLVERS: dict[str, tuple[str, dict]] = {
    "cim": ("cim", {}),
    "sa": ("sa", {}),
    "sb-dsb": ("sb", {"variant": "dsb"}),
    "cac": ("cac", {}),
    "ahc": ("ahc", {}),
    "adiabatic": ("adiabatic", {}),
}

#: after a first call longer than this many budgets, the other repeats of that row are not run
OVERRUN_FACTOR = 5.0

#: peers that only take a dense matrix are skipped above this many spins (memory on a shared machine)
DENSE_PEER_MAX_N = 12000
DENSE_ONLY_PEERS = {"sb_torch", "cim_optimizer_cac"}


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


@dataclass
class _Repeat:
    spins: np.ndarray
    elapsed: float
    batches: int
    updates: float
    replicas: int
    batch_energies: np.ndarray  # best energy of each batch
    note: str = ""


def _run_cimsim(label: str, model: IsingModel, budget: float, seed: int) -> _Repeat:
    name, params = CIMSIM_SOLVERS[label]
    res = cimsim.solve(model, name, time_limit=budget, seed=seed, **params)
    E = np.asarray(res.energies, dtype=np.float64)
    per_batch = E.reshape(res.batches, -1).min(axis=1) if E.size == res.batches * res.replicas else E[:1]
    updates = float(res.replicas) * model.n * res.steps * res.batches
    return _Repeat(np.asarray(res.spins), float(res.time_s), int(res.batches), updates, int(res.replicas), per_batch)


def _cimsim_unavailable(label: str) -> str | None:
    try:
        get_solver(CIMSIM_SOLVERS[label][0])
    except CimsimError as exc:
        return str(exc)
    except Exception as exc:  # a module being written that fails to import
        return f"import error: {type(exc).__name__}: {exc}"
    return None


def _warm_model(sparse: bool) -> IsingModel:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((24, 24))
    J = (A + A.T) / 2
    np.fill_diagonal(J, 0)
    return IsingModel.from_couplings(J, storage="sparse" if sparse else "dense")


def _warmup_cimsim(label: str) -> str | None:
    """Compile numba kernels on a tiny model so JIT time is not charged to the first budget."""
    name, params = CIMSIM_SOLVERS[label]
    try:
        for sparse in (False, True):
            cimsim.solve(_warm_model(sparse), name, replicas=2, steps=5, seed=0, **params)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def _summarise(row: Row, inst: Instance, reps: list[_Repeat]) -> None:
    model = inst.model
    assert model is not None and inst.objective is not None
    objs = [inst.objective(r.spins) for r in reps]
    energies = [float(model.energy(r.spins)) for r in reps]
    pick = max if inst.sense == "max" else min
    row.repeats = len(reps)
    row.best_obj = float(pick(objs))
    row.median_obj = float(statistics.median(objs))
    row.best_energy = float(min(energies))
    row.ratio_best = inst.ratio(row.best_obj)
    row.ratio_median = inst.ratio(row.median_obj)
    row.elapsed_mean_s = float(np.mean([r.elapsed for r in reps]))
    row.batches_mean = float(np.mean([r.batches for r in reps]))
    row.replicas = int(reps[0].replicas)
    upd = np.array([r.updates for r in reps], dtype=float)
    tot_t = float(sum(r.elapsed for r in reps))
    row.updates_per_s = float(upd.sum() / tot_t) if np.all(np.isfinite(upd)) and tot_t > 0 else math.nan
    if inst.optimum_known:
        row.hits = int(sum(inst.hits(o) for o in objs))
        row.p_success = row.hits / len(reps)
        row.tts99_s = tts99(row.elapsed_mean_s, row.p_success)
        if inst.energy_target is not None:
            be = np.concatenate([np.atleast_1d(r.batch_energies) for r in reps])
            nb = be.size
            if nb == sum(r.batches for r in reps):
                tol = 1e-6 * max(1.0, abs(inst.energy_target))
                p = float(np.mean(be <= inst.energy_target + tol))
                row.tts99_batch_s = tts99(tot_t / nb, p)
    notes = sorted({r.note for r in reps if r.note})
    if row.elapsed_mean_s > BUDGET_SLACK * row.budget_s and not notes:
        notes.append(f"over budget: one batch takes longer than {row.budget_s:g} s")
    row.note = "; ".join(notes)


def _bound(row: Row, model: IsingModel) -> None:
    if row.replicas <= 0:
        return
    try:
        b = bounds.bound_for(model, row.replicas)
    except Exception as exc:  # e.g. not enough memory for the matmul probe
        row.note = (row.note + "; " if row.note else "") + f"bound not measured ({type(exc).__name__})"
        return
    row.bound_kind = b.kind
    row.bound_updates_per_s = b.updates_per_s
    row.bound_f32_updates_per_s = b.updates_per_s_f32
    if math.isfinite(row.updates_per_s):
        row.frac_of_bound = row.updates_per_s / b.updates_per_s


def _nnz(model: IsingModel | None) -> int:
    if model is None:
        return 0
    return int(model.J.nnz) if model.is_sparse else int(np.count_nonzero(model.J))


def run_bench(
    instances: Iterable[Instance],
    *,
    solvers: Iterable[str] = tuple(CIMSIM_SOLVERS),
    peers: Iterable[str] = tuple(PEERS),
    budgets: Iterable[float] = (1.0,),
    repeats: int = 3,
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Row]:
    """Run every instance x solver x budget ``repeats`` times; return one :class:`Row` each.

    ``solvers`` are keys of :data:`CIMSIM_SOLVERS`, ``peers`` keys of :data:`bench.peers.PEERS`.
    Solvers or peers that are not available still get rows (``status`` says why). ``threads`` caps
    BLAS, numba and torch threads for every solver and for the bound probes alike (None: leave them).
    """
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    with limit_threads(threads, torch=any(p in DENSE_ONLY_PEERS for p in peers)):
        return _run_bench(list(instances), list(solvers), list(peers), list(budgets), repeats, log)


@contextlib.contextmanager
def limit_threads(threads: int | None, *, torch: bool = False) -> Iterator[None]:
    """Cap BLAS (threadpoolctl, if installed), numba and torch threads at ``threads`` inside the block.

    On a loaded machine, BLAS and torch worker threads that spin-wait can make a 2-thread run many
    times slower than one thread, so all solvers get the same cap.
    """
    if threads is None:
        yield
        return
    import numba

    old_numba = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    old_torch = None
    if torch:
        try:
            import torch as _torch

            old_torch = _torch.get_num_threads()
            _torch.set_num_threads(int(threads))
        except ImportError:
            pass
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    try:
        if threadpool_limits is not None:
            with threadpool_limits(int(threads)):
                yield
        else:
            yield
    finally:
        numba.set_num_threads(old_numba)
        if old_torch is not None:
            import torch as _torch

            _torch.set_num_threads(old_torch)


def _run_bench(instances, solvers, peers, budgets, repeats, log) -> list[Row]:
    budgets = [float(b) for b in budgets]
    rows: list[Row] = []
    cim_status: dict[str, str | None] = {}
    for label in solvers:
        why = _cimsim_unavailable(label)
        if why is None:
            why = _warmup_cimsim(label)
            why = None if why is None else f"error: {why}"
        cim_status[label] = why
        log(f"cimsim {label}: {'ready' if why is None else why}")
    peer_status: dict[str, str | None] = {}
    for name in peers:
        mod = get_peer(name)
        why = mod.available()
        if why is None:
            try:
                mod.warmup()
            except Exception as exc:
                why = f"error in warm-up: {type(exc).__name__}: {exc}".splitlines()[0]
        peer_status[name] = why
        log(f"peer {PEERS[name]}: {'ready' if why is None else why}")

    for inst in instances:
        model = inst.model
        n = model.n if model is not None else 0
        base = dict(instance=inst.name, kind=inst.kind, n=n, nnz=_nnz(model),
                    best_known=inst.best_known if inst.best_known is not None else math.nan)
        inst_rows: list[Row] = []
        prepared: dict[str, tuple[object, float]] = {}
        for budget in budgets:
            for label in solvers:
                row = Row(solver=label, family="cimsim", budget_s=budget, **base)
                if inst.status:
                    row.status = f"skipped: {inst.status}"
                elif cim_status[label]:
                    row.status = f"not available: {cim_status[label]}"
                else:
                    try:
                        reps = []
                        for seed in range(repeats):
                            reps.append(_run_cimsim(label, model, budget, seed))
                            if reps[0].elapsed > OVERRUN_FACTOR * budget:
                                reps[0].note = _overrun_note(reps[0].elapsed, budget, repeats)
                                break
                        _summarise(row, inst, reps)
                        _bound(row, model)
                    except Exception as exc:
                        row.status = f"error: {type(exc).__name__}: {exc}".splitlines()[0]
                log(_progress(row))
                inst_rows.append(row)
            for name in peers:
                row = Row(solver=PEERS[name], family="peer", budget_s=budget, **base)
                if inst.status:
                    row.status = f"skipped: {inst.status}"
                elif peer_status[name]:
                    row.status = f"not available: {peer_status[name]}"
                elif name in DENSE_ONLY_PEERS and n > DENSE_PEER_MAX_N:
                    row.status = f"skipped: takes a dense matrix only; N = {n} > {DENSE_PEER_MAX_N}"
                else:
                    try:
                        if name not in prepared:
                            t = time.perf_counter()
                            prepared[name] = (get_peer(name).prepare(model), time.perf_counter() - t)
                        prep, setup = prepared[name]
                        reps = []
                        for seed in range(repeats):
                            pr = run_peer(name, model, budget, seed, prepared=prep, setup_s=setup)
                            E = model.energies(pr.batch_spins)
                            k = int(np.argmin(E))
                            reps.append(_Repeat(pr.batch_spins[k], pr.elapsed_s, pr.batches, pr.spin_updates,
                                                pr.replicas, E, note=""))
                            if reps[0].elapsed > OVERRUN_FACTOR * budget:
                                reps[0].note = _overrun_note(reps[0].elapsed, budget, repeats)
                                break
                        _summarise(row, inst, reps)
                        _bound(row, model)
                        row.note = "; ".join(x for x in (row.note, f"setup {setup:.2f} s not counted") if x)
                    except Exception as exc:
                        row.status = f"error: {type(exc).__name__}: {exc}".splitlines()[0]
                log(_progress(row))
                inst_rows.append(row)
        _compare(inst, inst_rows)
        rows.extend(inst_rows)
    return rows


def _overrun_note(elapsed: float, budget: float, repeats: int) -> str:
    extra = f"; {repeats - 1} other repeat(s) not run" if repeats > 1 else ""
    return f"one call took {elapsed:.1f} s for a {budget:g} s budget (a batch cannot be interrupted){extra}"


def _progress(row: Row) -> str:
    if row.status != "ok":
        return f"  {row.instance} {row.solver} {row.budget_s:g}s: {row.status}"
    return (f"  {row.instance} {row.solver} {row.budget_s:g}s: best {row.best_obj:.6g} median {row.median_obj:.6g} "
            f"hits {row.hits}/{row.repeats} t {row.elapsed_mean_s:.2f}s")


def _fmt_obj(x: float) -> str:
    return f"{x:.6g}" if math.isfinite(x) else "-"


#: a row "kept to the budget" when its mean call time is at most this many budgets (one batch of
#: overshoot is inherent to run-until-the-deadline, for cimsim and peers alike)
BUDGET_SLACK = 2.0


def within_budget(r: Row, slack: float = BUDGET_SLACK) -> bool:
    """Whether a row's calls took at most ``slack`` times the budget (else its objective is not a result
    at that budget, only at its real wall time ``elapsed_mean_s``)."""
    return r.status == "ok" and r.elapsed_mean_s <= slack * r.budget_s


def _key(sense: str, r: Row) -> tuple[float, float]:
    s = 1.0 if sense == "max" else -1.0
    return (s * r.best_obj, s * r.median_obj)


def _versus(sense: str, r: Row, top: Row) -> str:
    kb, kt = _key(sense, r), _key(sense, top)
    tol = 1e-9 * max(1.0, abs(top.best_obj))
    if abs(kb[0] - kt[0]) <= tol and abs(kb[1] - kt[1]) <= tol:
        return f"tied with {top.solver}"
    if kb > kt:
        return f"ahead of {top.solver}"
    return (f"BEHIND {top.solver} (best {_fmt_obj(r.best_obj)} vs {_fmt_obj(top.best_obj)}, "
            f"median {_fmt_obj(r.median_obj)} vs {_fmt_obj(top.median_obj)})")


def _compare(inst: "Instance | str", rows: list[Row]) -> None:
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
        top = max(fair, key=lambda r: _key(sense, r))
        for r in here:
            if r.family != "cimsim":
                continue
            r.vs_peers = _versus(sense, r, top)
            if not within_budget(r):
                r.vs_peers += f", but took {r.elapsed_mean_s:.1f} s per call (over budget)"


def verdicts(rows: list[Row]) -> list[str]:
    """One line per instance x budget: best cimsim row vs best peer row, both within the budget."""
    out = []
    seen: list[tuple[str, float]] = []
    for r in rows:
        if (r.instance, r.budget_s) not in seen:
            seen.append((r.instance, r.budget_s))
    for inst, budget in seen:
        here = [r for r in rows if r.instance == inst and r.budget_s == budget and r.status == "ok"]
        if not here:
            out.append(f"- {inst} @ {budget:g} s: no solver ran ({_first_status(rows, inst)}).")
            continue
        sense = "min" if here[0].kind == "sk" else "max"
        cims = [r for r in here if r.family == "cimsim" and within_budget(r)]
        peers = [r for r in here if r.family == "peer" and within_budget(r)]
        c = max(cims, key=lambda r: _key(sense, r)) if cims else None
        p = max(peers, key=lambda r: _key(sense, r)) if peers else None
        desc = lambda r: f"{r.solver} {_fmt_obj(r.best_obj)} / {_fmt_obj(r.median_obj)}"  # noqa: E731
        if c is None and p is None:
            out.append(f"- {inst} @ {budget:g} s: no solver kept to the budget.")
        elif c is None:
            fast = min((r for r in here if r.family == "cimsim"), key=lambda r: r.elapsed_mean_s, default=None)
            extra = (f" (fastest: {fast.solver}, {fast.elapsed_mean_s:.1f} s per call, {_fmt_obj(fast.best_obj)})"
                     if fast is not None else "")
            out.append(f"- **{inst} @ {budget:g} s: cimsim cannot keep to this budget: no cimsim call finished "
                       f"within {BUDGET_SLACK:g} x {budget:g} s{extra}; best peer within it: {desc(p)} (best / median)**.")
        elif p is None:
            out.append(f"- {inst} @ {budget:g} s: best cimsim {desc(c)}; no peer kept to the budget.")
        else:
            v = _versus(sense, c, p)
            line = f"{inst} @ {budget:g} s: best cimsim {desc(c)} vs best peer {desc(p)} (best / median): {v.split(' (')[0]}"
            out.append(f"- **{line}**." if v.startswith("BEHIND") else f"- {line}.")
    return out


def _first_status(rows: list[Row], inst: str) -> str:
    return next((r.status for r in rows if r.instance == inst), "")


FIELDS = [f for f in Row.__dataclass_fields__]


def write_csv(rows: list[Row], path: Path) -> None:
    """All rows, every field, one line each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: _csv_value(v) for k, v in asdict(r).items()})
    tmp.replace(path)


def read_csv(path: Path) -> list[Row]:
    """Rows back from :func:`write_csv` (to re-render a table with :func:`markdown_table`)."""
    types = {f.name: f.type for f in Row.__dataclass_fields__.values()}
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for d in csv.DictReader(fh):
            kw: dict = {}
            for k, t in types.items():
                v = d.get(k, "")
                if t == "float":
                    kw[k] = float(v) if v else math.nan
                elif t == "int":
                    kw[k] = int(float(v)) if v else 0
                else:
                    kw[k] = v
            rows.append(Row(**kw))
    return rows


def recompare(rows: list[Row]) -> list[Row]:
    """Recompute every cimsim row's ``vs_peers`` (SK minimises, everything else maximises)."""
    for r in rows:
        r.vs_peers = ""
    for inst in dict.fromkeys(r.instance for r in rows):
        here = [r for r in rows if r.instance == inst]
        _compare("min" if here[0].kind == "sk" else "max", here)
    return rows


def _csv_value(v: object) -> object:
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf"
        return f"{v:.6g}"
    return v


def _g(v: float, fmt: str = ".4g") -> str:
    if not math.isfinite(v):
        return "inf" if v == math.inf else "-"
    return format(v, fmt)


def markdown_table(rows: list[Row]) -> str:
    """The results as a markdown table (one line per row) followed by the cimsim-vs-peers verdicts."""
    head = ("| instance | N | solver | budget s | best | median | best known | ratio best | hits | TTS99 s "
            "(call) | TTS99 s (batch) | t mean s | updates/s | bound/s | of bound | vs peers / status |")
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        if r.status != "ok":
            out.append(f"| {r.instance} | {r.n or '-'} | {r.solver} | {r.budget_s:g} | - | - | {_g(r.best_known, '.6g')} "
                       f"| - | - | - | - | - | - | - | - | {r.status} |")
            continue
        tail = r.vs_peers if r.family == "cimsim" else "(peer)"
        if r.note:
            tail = f"{tail}; {r.note}" if tail else r.note
        out.append(
            f"| {r.instance} | {r.n} | {r.solver} | {r.budget_s:g} | {_g(r.best_obj, '.6g')} | {_g(r.median_obj, '.6g')} "
            f"| {_g(r.best_known, '.6g')} | {_g(r.ratio_best, '.4f')} | {r.hits}/{r.repeats} | {_g(r.tts99_s, '.3g')} "
            f"| {_g(r.tts99_batch_s, '.3g')} | {_g(r.elapsed_mean_s, '.2f')} | {_g(r.updates_per_s, '.3g')} "
            f"| {_g(r.bound_updates_per_s, '.3g')} | {_g(r.frac_of_bound, '.2f')} | {tail} |"
        )
    behind = [r for r in rows if r.vs_peers.startswith("BEHIND")]
    out.append("")
    out.append(f"{len(behind)} cimsim row(s) are behind the best peer at the same budget. Best of each side "
               f"among rows that kept to the budget (mean call time <= {BUDGET_SLACK:g} x budget):")
    out.append("")
    out.extend(verdicts(rows))
    return "\n".join(out) + "\n"


def write_markdown(rows: list[Row], path: Path, *, header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text((header + "\n\n" if header else "") + markdown_table(rows), encoding="utf-8")
    tmp.replace(path)
