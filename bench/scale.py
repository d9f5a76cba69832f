"""Scale check (issue 20.5): million-spin sparse instances, dense SK N = 8,000, and the dense matmul bound.

    python bench/scale.py [--instances torus1000,reg3-1M,SK8000] [--solvers ...] [--out bench/results/scale]
    python bench/scale.py --dense-bound [--bound-n 2000]       # only the dense-dynamics bound table

Every (instance, solver) call runs in its own fresh Python process, so the peak resident memory
(``ru_maxrss``) is that call's own: interpreter, numba, instance generation, encoding and solve.

* ``torus1000``: a 1000 x 1000 periodic square lattice (a torus, 2,000,000 bonds), MaxCut with weights +-1
  drawn uniformly (seed 1). ``reg3-1M``: a random 3-regular graph on 1,000,000 vertices, unit weights
  (:func:`regular3`). For both, the 60 s budget covers the whole process after start-up: instance
  generation and encoding are timed, and the solve gets the rest (``time_limit = budget - elapsed``).
* ``SK8000``: Gaussian SK, N = 8,000 (seed 1); the budget is the solve call's own (generation excluded).
  The wall time of the solve call is reported with its ratio to the budget.
* ``--dense-bound``: each dense dynamics solver's J products on SK``bound-n`` in GFLOP/s against the BLAS
  matmul of the same (R x N) @ (N x N) shape timed in the same process, float32 and float64
  (:func:`bench.bounds.matmul_seconds`). The solver's per-step cost is the difference of two runs of
  different length (``(t(T2) - t(T1)) / (T2 - T1)``), so set-up (eigenvalue estimates, allocation,
  compilation) is excluded; one step of every dense dynamics is one (R, N) @ (N, N) product.

Process CPU time (user + system) is reported beside wall time: the machine is shared, and CPU seconds
say what the work cost independent of the load (``uptime`` load averages are in the results header).

The torus reference. A torus is not planar, so the matching solver's minimum-weight join gives a *lower
bound* on the ground-state energy, i.e. an upper bound on the cut; it is the exact optimum only when the
join's winding parity is right (:mod:`cimsim.solvers.matching`). ``--torus-reference FILE`` reads that
bound from a JSON line written by a separate (long, unbudgeted) ``--torus-matching`` run.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TORUS_SEED = 1
REG3_SEED = 1
SK_SEED = 1

ALL_SOLVERS = "sa,tabu,cim,sb,cac,ahc,cfc,sfc,asb,simcim,dopo,mfb,spectral,adiabatic"
#: the dense dynamics whose J products are compared with the matmul bound
DENSE_DYNAMICS = "cim,sb,cac,ahc,cfc,sfc,asb,simcim,dopo,mfb"


def torus_pm(L: int, seed: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``(n, i, j, w)``: the L x L torus (vertex ``r L + c``), bonds to the right then down, weights +-1."""
    rng = np.random.default_rng(seed)
    idx = np.arange(L * L).reshape(L, L)
    i = np.concatenate([idx.ravel(), idx.ravel()])
    j = np.concatenate([np.roll(idx, -1, 1).ravel(), np.roll(idx, -1, 0).ravel()])
    return L * L, i, j, rng.choice([-1.0, 1.0], size=i.size)


def regular3(n: int, seed: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``(n, i, j, w)``: a simple 3-regular graph on ``n`` (even) vertices, unit weights.

    Configuration model: the 3n stubs are shuffled and paired; pairs that make a self-loop or repeat an
    edge are re-shuffled together with twice as many random good pairs until none is left (a few rounds;
    vectorised, no Python loop over edges). Close to, not exactly, uniform over 3-regular graphs."""
    rng = np.random.default_rng(seed)
    stubs = np.repeat(np.arange(n, dtype=np.int64), 3)
    rng.shuffle(stubs)
    pairs = stubs.reshape(-1, 2)
    for _ in range(10_000):
        a, b = pairs.min(axis=1), pairs.max(axis=1)
        key = a * n + b
        order = np.argsort(key, kind="stable")
        ks = key[order]
        bad = a == b
        bad[order[1:][ks[1:] == ks[:-1]]] = True
        nb = int(bad.sum())
        if nb == 0:
            break
        good = np.flatnonzero(~bad)
        sel = np.concatenate([np.flatnonzero(bad), rng.choice(good, size=min(2 * nb, good.size), replace=False)])
        st = pairs[sel].ravel()
        rng.shuffle(st)
        pairs[sel] = st.reshape(-1, 2)
    else:
        raise RuntimeError("regular3: could not remove repeated edges")
    return n, pairs[:, 0].copy(), pairs[:, 1].copy(), np.ones(pairs.shape[0])


def maxcut_model(n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray):
    """``(model, total_weight)``: MaxCut's Ising model ``J = -W`` in CSR, built without Python loops
    (cut = (total_weight - H) / 2)."""
    import scipy.sparse as sp

    from cimsim import IsingModel

    W = sp.csr_matrix((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    return IsingModel.from_couplings(-W), float(w.sum())


def build(name: str):
    """``(model, objective(spins), kind)`` for an instance name of this benchmark."""
    if name.startswith("SK"):
        from cimsim.instances import sk_model

        model = sk_model(int(name[2:]), SK_SEED)
        return model, (lambda s: float(model.energy(s)) / model.n), "e/N"
    if name.startswith("torus"):
        model, total = maxcut_model(*torus_pm(int(name[5:]), TORUS_SEED))
    elif name == "reg3-1M":
        model, total = maxcut_model(*regular3(1_000_000, REG3_SEED))
    else:
        raise SystemExit(f"scale: unknown instance {name!r}")
    return model, (lambda s: (total - float(model.energy(s))) / 2.0), "cut"


CHILD = r"""
import time
T0 = time.perf_counter()
import json, os, resource, sys
sys.path.insert(0, {root!r})
from bench.scale import build
from cimsim import solve
name, solver, budget, whole = {name!r}, {solver!r}, {budget!r}, {whole!r}
model, objective, kind = build(name)
t_gen = time.perf_counter() - T0
limit = budget - t_gen - 0.5 if whole else budget   # the whole-process budget pays for generation
ru0 = resource.getrusage(resource.RUSAGE_SELF)
t = time.perf_counter()
r = solve(model, solver, seed=0, time_limit=max(limit, 0.5))
dt = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
solve_cpu = ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime
print(json.dumps(dict(gen_s=t_gen, solve_s=dt, solve_cpu_s=solve_cpu, total_s=time.perf_counter() - T0, cpu_s=ru.ru_utime + ru.ru_stime,
                      time_limit=limit, objective=objective(r.spins), kind=kind, solver=r.solver, batches=r.batches,
                      replicas=r.replicas, proven=bool(r.extra.get("proven_optimal", False)), n=model.n,
                      peak_rss_mb=ru.ru_maxrss / 1024)))
"""

BOUND_CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
import numpy as np
from bench.bounds import _best_time
from cimsim.instances import sk_model
from cimsim.solvers import get_solver
n, solvers, target, rounds = {n!r}, {solvers!r}, {target!r}, {rounds!r}
model = sk_model(n, {seed!r})
def matmul_s(R, dtype):
    # the bound: one (R, N) @ (N, N) product at BLAS's default threads and at one thread, the faster
    from threadpoolctl import threadpool_limits
    A = np.random.default_rng(0).standard_normal((R, n)).astype(dtype)
    B = np.asarray(model.J, dtype=dtype)
    out = np.empty((R, n), dtype=dtype)
    best = _best_time(lambda: np.matmul(A, B, out=out), 2)
    with threadpool_limits(1):
        return min(best, _best_time(lambda: np.matmul(A, B, out=out), 2))
for name in solvers:
    mod = get_solver(name)
    R = int(mod.defaults(model)["replicas"])
    def timed(T):
        t = time.perf_counter()
        mod.run(model, replicas=R, steps=T, rng=np.random.default_rng(0))
        return time.perf_counter() - t
    timed(2)  # compile, warm caches, lambda_max kept by the model
    T2 = 32
    while timed(T2) < target and T2 < 1 << 16:
        T2 *= 2
    per_step, m32, m64 = [], [], []
    for _ in range(rounds):  # interleaved: the solver and the bound see the same machine load
        per_step.append((timed(T2) - timed(4)) / (T2 - 4))
        m32.append(matmul_s(R, np.float32))
        m64.append(matmul_s(R, np.float64))
    flop = 2.0 * R * n * n
    print(json.dumps(dict(solver=name, n=n, replicas=R, steps=T2, per_step_s=min(per_step), gflops=flop / min(per_step) / 1e9,
                          bound_f32=flop / min(m32) / 1e9, bound_f64=flop / min(m64) / 1e9,
                          per_step_all=per_step, matmul_f32_all=m32)), flush=True)
"""


def load_text() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def mem_total_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_calls(instances: list[str], solvers: dict[str, list[str]], budgets: dict[str, float], commit: str) -> list[dict]:
    rows = []
    for name in instances:
        for solver in solvers[name]:
            whole = not name.startswith("SK")
            code = CHILD.format(root=str(ROOT), name=name, solver=solver, budget=budgets[name], whole=whole)
            load = load_text()
            t = time.perf_counter()
            p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            row = dict(instance=name, solver_asked=solver, budget_s=budgets[name], budget_covers="process" if whole else "solve",
                       load=load, process_s=time.perf_counter() - t, commit=commit)
            if p.returncode != 0:
                row["error"] = ((p.stderr.strip().splitlines() or ["?"])[-1])[:160]
            else:
                row.update(json.loads(p.stdout.strip().splitlines()[-1]))
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def run_bound(n: int, solvers: list[str], target: float) -> list[dict]:
    code = BOUND_CHILD.format(root=str(ROOT), n=n, solvers=solvers, target=target, seed=SK_SEED, rounds=3)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    if p.returncode != 0:
        print(p.stderr[-2000:], file=sys.stderr)
    for r in rows:
        print(json.dumps(r))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", default="torus1000,reg3-1M,SK8000")
    ap.add_argument("--solvers", default=None, help=f"for every instance (default: sa,auto on the 1M instances; "
                    f"{ALL_SOLVERS} on SK)")
    ap.add_argument("--sparse-budget", type=float, default=60.0)
    ap.add_argument("--dense-budget", type=float, default=10.0)
    ap.add_argument("--dense-bound", action="store_true", help="only the dense-dynamics bound table")
    ap.add_argument("--bound-n", type=int, default=2000)
    ap.add_argument("--bound-solvers", default=DENSE_DYNAMICS)
    ap.add_argument("--torus-reference", default=None, help="JSON line of a --torus-matching run")
    ap.add_argument("--torus-matching", action="store_true", help="print the matching bound of torus1000 and exit")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "scale"))
    ap.add_argument("--from-logs", default=None, help="comma-separated stdout logs of earlier runs: write the "
                    "tables from their rows (runs made in pieces) instead of running")
    a = ap.parse_args(argv)
    if a.torus_matching:
        return torus_matching()
    from bench.calls import git_head

    commit = git_head(ROOT)
    out = Path(a.out)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = load_text()
    if a.dense_bound:
        rows = run_bound(a.bound_n, a.bound_solvers.split(","), 1.0)
        write_bound(rows, out, commit, started, load0, load_text())
        return 0
    ref = json.loads(Path(a.torus_reference).read_text().strip().splitlines()[-1]) if a.torus_reference else None
    if a.from_logs:
        rows = [json.loads(line) for f in a.from_logs.split(",") for line in Path(f).read_text().splitlines()
                if line.startswith('{"instance"')]
        write_calls(rows, out, rows[0].get("commit", commit) if rows else commit, started, rows[0]["load"] if rows else load0,
                    rows[-1]["load"] if rows else load0, ref)
        return 0
    instances = a.instances.split(",")
    solvers = {name: (a.solvers.split(",") if a.solvers else
                      (ALL_SOLVERS.split(",") if name.startswith("SK") else ["sa", "auto"])) for name in instances}
    budgets = {name: (a.dense_budget if name.startswith("SK") else a.sparse_budget) for name in instances}
    rows = run_calls(instances, solvers, budgets, commit)
    write_calls(rows, out, commit, started, load0, load_text(), ref)
    return 0


def block_bound(model, L: int, block: int) -> tuple[float, int]:
    """``(lower, between)``: a lower bound on the ground-state energy of the field-free model on the L x L
    torus, from exact matchings of its open ``block x block`` pieces plus ``-|J|`` per bond between pieces
    (``between`` of them); see :func:`torus_matching`."""
    from cimsim.solvers import matching as M

    Jh, Jv = M.lattice_bonds(model, (L, L))
    lower, between = float(model.offset), 0
    for r0 in range(0, L, block):
        for c0 in range(0, L, block):
            bh = Jh[r0:r0 + block, c0:c0 + block].copy()
            bv = Jv[r0:r0 + block, c0:c0 + block].copy()
            between += np.count_nonzero(bh[:, -1]) + np.count_nonzero(bv[-1, :])
            lower -= float(np.abs(bh[:, -1]).sum() + np.abs(bv[-1, :]).sum())
            bh[:, -1] = 0.0  # bonds to the next block: bounded by -|J| above
            bv[-1, :] = 0.0
            Uh, Uv = M.min_join(bh, bv, None)
            assert M.join_parity(bh, bv, Uh, Uv) == (0, 0)  # an open lattice is planar: the join is exact
            lower += M._join_energy(bh, bv, Uh, Uv, 0.0)
    return lower, int(between)


def torus_matching(block: int = 200) -> int:
    """A certified upper bound on torus1000's maximum cut, by matching on planar pieces.

    The torus's bonds are split into ``(1000 / block)^2`` open ``block x block`` lattices (each a planar
    graph, whose ground state the matching gives exactly) and the bonds between blocks. The ground-state
    energy is at least the sum of the pieces' ground-state energies plus ``-|J|`` for each bond between
    blocks, so ``(W - that) / 2`` bounds the cut from above. (One matching of the whole 1000 x 1000 torus
    did not finish: PyMatching's cost on +-1 lattices grows far faster than N, 200 x 200 about a CPU
    second, 400 x 400 over a CPU minute.)"""
    from cimsim.solvers import matching as M

    n, i, j, w = torus_pm(1000, TORUS_SEED)
    model, total = maxcut_model(n, i, j, w)
    t, c = time.perf_counter(), time.process_time()
    lower, between = block_bound(model, 1000, block)
    print(json.dumps(dict(lower_bound=lower, block=block, bonds_between_blocks=int(between), total_weight=total,
                          cut_upper=(total - lower) / 2, wall_s=time.perf_counter() - t, cpu_s=time.process_time() - c)))
    return 0


FIELDS = ["instance", "solver_asked", "solver", "budget_s", "budget_covers", "gen_s", "solve_s", "solve_cpu_s", "total_s", "cpu_s",
          "time_limit", "objective", "kind", "batches", "replicas", "proven", "n", "peak_rss_mb", "load", "error"]


def write_calls(rows: list[dict], out: Path, commit: str, started: str, load0: str, load1: str, ref: dict | None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="", encoding="utf-8") as fh:
        wr = csv.DictWriter(fh, fieldnames=FIELDS + ["commit"], extrasaction="ignore")
        wr.writeheader()
        for r in rows:
            wr.writerow({"commit": commit, **r})
    lines = [f"# Scale check (issue 20.5), {started}, commit {commit}", "",
             f"`python bench/scale.py`; machine: {os.cpu_count()} cores, {mem_total_mb():.0f} MB; load averages "
             f"(1, 5, 15 min) {load0} at the start, {load1} at the end. Each call is a fresh process; peak RSS is "
             "that process's own (interpreter, numba, instance generation and encoding included). On the 1M "
             "instances the budget covers the whole process after start-up (generation, encoding, solve); on "
             "SK8000 it is the solve call's own.", "",
             "| instance | N | solver | budget s | generate s | solve s | used / budget | solve CPU s | process CPU s | objective "
             "| batches x replicas | peak RSS MB | load (1 min) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['instance']} | | {r['solver_asked']} | {r['budget_s']:g} | failed: {r['error']} | | | | | | | | |")
            continue
        shown = r["solver"] if r["solver"] == r["solver_asked"] else f"{r['solver_asked']} -> {r['solver']}"
        used = r["total_s"] if r["budget_covers"] == "process" else r["solve_s"]
        obj = f"{r['objective']:.0f}" if r["kind"] == "cut" else f"{r['objective']:.6f}"
        lines.append(f"| {r['instance']} | {r['n']} | {shown} | {r['budget_s']:g} | {r['gen_s']:.1f} | {r['solve_s']:.1f} "
                     f"| {used / r['budget_s']:.2f} | {r.get('solve_cpu_s', float('nan')):.1f} | {r['cpu_s']:.1f} | {obj} {r['kind']} | {r['batches']} x {r['replicas']} "
                     f"| {r['peak_rss_mb']:.0f} | {r['load'].split()[0]} |")
    if ref is not None:
        lines += ["", f"torus1000 reference (`--torus-matching`, unbudgeted, {ref['wall_s']:.0f} s wall, {ref['cpu_s']:.0f} "
                  f"CPU s): the torus cut into {(1000 // ref['block']) ** 2} open {ref['block']} x {ref['block']} lattices, "
                  f"each solved exactly by the matching solver's minimum-weight join (planar), plus -|J| for each of the "
                  f"{ref['bonds_between_blocks']} bonds between blocks: ground-state energy >= {ref['lower_bound']:.0f}, so "
                  f"**cut <= {ref['cut_upper']:.0f}** (certified upper bound; not the optimum itself)."]
        for r in rows:
            if r["instance"] == "torus1000" and "error" not in r:
                lines.append(f"- {r['solver']}: cut {r['objective']:.0f} = {r['objective'] / ref['cut_upper']:.5f} of the bound")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out.with_suffix('.md')} and .csv")


#: environment variables that set the BLAS / OpenMP / numba thread counts, reported with the bound table
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def write_bound(rows: list[dict], out: Path, commit: str, started: str, load0: str, load1: str) -> None:
    path = out.parent / (out.name + "-dense-bound")
    with open(path.with_suffix(".csv"), "w", newline="", encoding="utf-8") as fh:
        wr = csv.DictWriter(fh, fieldnames=["solver", "n", "replicas", "steps", "per_step_s", "gflops", "bound_f32",
                                            "bound_f64", "commit"], extrasaction="ignore")
        wr.writeheader()
        for r in rows:
            wr.writerow({**r, "commit": commit})
    n = rows[0]["n"] if rows else 0
    lines = [f"# Dense dynamics against the matmul bound, SK{n} ({started}, commit {commit})", "",
             "`python bench/scale.py --dense-bound`: one process; a solver's per-step cost is the difference of a "
             "T-step and a 4-step run over T - 4 (set-up, compilation and eigenvalue estimates excluded; readouts "
             "and the nonlinear update included); each step is one (R x N) @ (N x N) product, 2 R N^2 flop. Bound: "
             "numpy matmul of the same shape and J, at BLAS's default threads and at one thread, the faster. Three "
             "rounds interleave solver and bound so both see the same load; the best of each is reported. "
             f"Load averages {load0} at the start, {load1} at the end. Threads: " +
             (", ".join(f"{k}={os.environ[k]}" for k in THREAD_VARS if k in os.environ) or "library defaults") +
             " (the solver's product and the bound run at the same setting in the same process).",
             "", "| solver | R | GFLOP/s | f32 matmul GFLOP/s | of f32 bound | f64 matmul GFLOP/s | of f64 bound |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['solver']} | {r['replicas']} | {r['gflops']:.1f} | {r['bound_f32']:.1f} | "
                     f"{r['gflops'] / r['bound_f32']:.2f} | {r['bound_f64']:.1f} | {r['gflops'] / r['bound_f64']:.2f} |")
    path.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path.with_suffix('.md')} and .csv")


if __name__ == "__main__":
    sys.exit(main())
