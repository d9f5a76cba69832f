"""Time to solution (issue 20, front 4): TTS99 in wall seconds, CPU seconds and MVM / sweeps, cimsim's solvers
against dwave-neal and OpenJij, to the best-known cut on Gset graphs and to the ground state of the 20 SK
instances at N = 100 of bench/sk100.py.

A *run* is one trajectory (one replica of a batched solver call, one read of a peer call). Each solver call
runs R trajectories of run length L (steps / sweeps); its wall time (``time.perf_counter`` around the call,
instance loading and the peers' BQM conversion excluded; cimsim's call includes the driver's 1-flip polish
and scoring) divided by R is the time of one run, t_run. P_s is the fraction of runs whose final state (after
cimsim's polish; the peers' final reads as returned) reaches the target, and

    TTS99 = t_run ln(0.01) / ln(1 - P_s)      (t_run when P_s >= 0.99)

(:func:`bench.tts_mvm.tts`), with a 95 % Clopper-Pearson interval on P_s mapped through the same formula. The
same TTS is given in CPU seconds (``time.process_time``: every thread of this process) and in the load-free
unit of the solver: matrix-vector products per trajectory for the dynamics (``Result.extra["mvm"] / R``,
else steps: one product per step) and sweeps for the annealers (sa, auto -> sa, neal, OpenJij).

Each solver has a small grid of run lengths; the reported TTS is the grid point with the least TTS (Gset:
per graph; SK: the least *median over the 20 instances*, one run length per solver as one would deploy it).
Within an instance every (solver, length) cell gets calls round-robin, the cell order shuffled each round,
so machine load hits every solver alike; a cell stops getting calls once it has ``--runs`` trajectories or
has spent ``--cell-seconds`` of wall time (at least one call).

    python bench/tts.py --suite sk      # the 20 SK N = 100 instances (E0 from bench/results/sk100_ground.csv)
    python bench/tts.py --suite gset --graphs G1,G43 --runs 32 --cell-seconds 20
    python bench/tts.py --suite gset --graphs G22 --runs 32 --cell-seconds 120 \\
        --grid sa:4:20000,neal:4:20000,openjij:4:20000,cac/preset=gset:8:20000,cfc:8:20000,sb-dsb:8:20000
    python bench/tts.py --report        # rewrite tts99.md and the figure from tts99.csv

Writes bench/results/tts/tts99.csv (one row per instance, solver and run length; rows of another suite or
graph already there are kept), tts99.md and tts99.png. BLAS runs one thread (set below, before numpy loads):
on the 2-core shared machine extra threads only compete with the other jobs, and the peers are single-threaded.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calls import code_version  # noqa: E402
from bench.data import add_data_option  # noqa: E402
from bench.instances import load_instance  # noqa: E402
from bench.peers._bqm import sampleset_spins, to_bqm  # noqa: E402
from bench.sk100 import SEEDS, clopper_pearson, ground_energies, instance  # noqa: E402
from bench.tts_mvm import solver_params, tts  # noqa: E402
from cimsim.model import IsingModel  # noqa: E402
from cimsim.solvers import solve  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "tts"
PEERS = ("neal", "openjij")

#: solver -> (replicas per call, run lengths) on SK N = 100
SK_GRID: dict[str, tuple[int, tuple[int, ...]]] = {
    "auto": (32, (30, 100, 400, 1600)),
    "sa": (32, (30, 100, 400, 1600)),
    "cac": (16, (500, 2000, 8000)),
    "cfc": (32, (60, 250, 1000, 4000)),
    "sfc": (32, (60, 250, 1000, 4000)),
    "sb-dsb": (32, (60, 250, 1000, 4000)),
    "neal": (32, (30, 100, 400, 1600)),
    "openjij": (32, (30, 100, 400, 1600)),
}
#: the same for Gset (cac with Reifenstein et al.'s ramped preset, physics.md 4.5)
GSET_GRID: dict[str, tuple[int, tuple[int, ...]]] = {
    "auto": (4, (1000, 4000)),
    "sa": (4, (1000, 4000)),
    "cac/preset=gset": (16, (2400,)),
    "cfc": (32, (2000, 8000)),
    "sfc": (32, (1400, 5000)),
    "sb-dsb": (16, (2000, 8000)),
    "neal": (4, (1000, 4000)),
    "openjij": (4, (1000, 4000)),
}


@dataclass
class Cell:
    solver: str
    steps: int
    replicas: int
    calls: int = 0
    runs: int = 0
    hits: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    units: float = 0.0  # MVM or sweeps per trajectory (of the last call)
    best: float = math.inf


def unit_of(solver: str) -> str:
    return "sweeps" if solver.split("/")[0] in ("sa", "auto", "neal", "openjij") else "MVM"


class Runner:
    """One instance's solver calls; ``call`` times only the solver (peers' BQM built once, outside)."""

    def __init__(self, model: IsingModel, seed: int):
        self.model = model
        self.rng = np.random.default_rng(seed)
        self.bqm = to_bqm(model)
        from neal import SimulatedAnnealingSampler
        import openjij as oj

        self.neal = SimulatedAnnealingSampler()
        self.oj = oj.SASampler()

    def call(self, solver: str, steps: int, R: int) -> tuple[np.ndarray, float, float, float]:
        """(energies of the R trajectories, wall s, CPU s, MVM or sweeps per trajectory)."""
        if solver in PEERS:
            # OpenJij 0.12 gives R identical reads when a seed is passed (every read restarts the same
            # stream), so it runs unseeded: independent reads from its own generator, not reproducible.
            kw = {"seed": int(self.rng.integers(2**31 - 1))} if solver == "neal" else {}
            sampler = self.neal if solver == "neal" else self.oj
            t0, c0 = time.perf_counter(), time.process_time()
            ss = sampler.sample(self.bqm, num_reads=R, num_sweeps=steps, **kw)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            return self.model.energies(sampleset_spins(ss, self.model.n)), wall, cpu, float(steps)
        name, params = solver_params(solver)
        t0, c0 = time.perf_counter(), time.process_time()
        res = solve(self.model, name, replicas=R, steps=steps, rng=self.rng, **params)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        units = res.extra["mvm"] / R if "mvm" in res.extra else float(res.steps)
        return np.asarray(res.energies), wall, cpu, float(units)


def run_instance(label: str, model: IsingModel, target: float, grid: dict, *, runs: int, cell_seconds: float,
                 seed: int) -> list[dict]:
    runner = Runner(model, seed)
    for solver, (R, lengths) in grid.items():  # warm-up: imports, JIT, auto's first feature pass
        runner.call(solver, min(lengths) // 10 or 1, 2)
    cells = [Cell(s, L, R) for s, (R, lengths) in grid.items() for L in lengths]
    order = np.random.default_rng(seed + 1)
    tol = 1e-6 * max(1.0, abs(target))
    while True:
        todo = [c for c in cells if c.calls == 0 or (c.runs < runs and c.wall < cell_seconds)]
        if not todo:
            break
        for k in order.permutation(len(todo)):
            c = todo[k]
            e, wall, cpu, units = runner.call(c.solver, c.steps, c.replicas)
            c.calls += 1
            c.runs += e.size
            c.hits += int(np.sum(e <= target + tol))
            c.wall += wall
            c.cpu += cpu
            c.units = units
            c.best = min(c.best, float(e.min()))
    rows = []
    for c in cells:
        succ = np.zeros(c.runs, dtype=bool)
        succ[:c.hits] = True
        lo, hi = clopper_pearson(c.hits, c.runs)
        t_wall, t_cpu = c.wall / c.runs, c.cpu / c.runs
        rows.append({"instance": label, "solver": c.solver, "steps": c.steps, "unit": unit_of(c.solver),
                     "replicas": c.replicas, "runs": c.runs, "hits": c.hits, "p_s": c.hits / c.runs,
                     "p_lo": lo, "p_hi": hi, "t_run_s": t_wall, "t_run_cpu_s": t_cpu, "units_per_run": c.units,
                     "tts_s": tts(t_wall, succ), "tts_s_lo": tts_p(t_wall, hi), "tts_s_hi": tts_p(t_wall, lo),
                     "tts_cpu_s": tts(t_cpu, succ), "tts_units": tts(c.units, succ),
                     "target": target, "best": c.best})
    return rows


def tts_p(t_run: float, p: float) -> float:
    """TTS99 at success probability ``p`` (for the interval bounds)."""
    if p >= 0.99:
        return t_run
    if p <= 0:
        return math.inf
    return t_run * math.log(0.01) / math.log(1.0 - p)


FIELDS = ["suite", "instance", "solver", "steps", "unit", "replicas", "runs", "hits", "p_s", "p_lo", "p_hi",
          "t_run_s", "t_run_cpu_s", "units_per_run", "tts_s", "tts_s_lo", "tts_s_hi", "tts_cpu_s", "tts_units",
          "target", "best_known", "best", "numba_threads", "commit", "load1"]


def read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict]) -> None:
    """Append ``rows`` to the csv, replacing old rows of the same instance, solver and run length; an
    exclusive lock lets several suites run in separate processes at once."""
    import fcntl

    done = {(r["instance"], r["solver"], str(r["steps"])) for r in rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile

    with open(Path(tempfile.gettempdir()) / f"cimsim-bench-{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = [r for r in read_rows(path) if (r["instance"], r["solver"], str(r["steps"])) not in done]
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore", restval="")
            w.writeheader()
            w.writerows(old + rows)


# ---------------------------------------------------------------------------------------------- report
def _f(r: dict, k: str) -> float:
    return float(r[k])


def fmt(x: float) -> str:
    return "inf" if not math.isfinite(x) else f"{x:.3g}"


def is_peer(solver: str) -> bool:
    return solver in PEERS


def best_per_solver(rows: list[dict]) -> dict[str, dict]:
    """Gset: the row of least wall TTS per solver (ties and all-inf: the shortest length)."""
    out: dict[str, dict] = {}
    for r in rows:
        key = (_f(r, "tts_s"), int(r["steps"]))
        if r["solver"] not in out or key < (_f(out[r["solver"]], "tts_s"), int(out[r["solver"]]["steps"])):
            out[r["solver"]] = r
    return out


def sk_medians(rows: list[dict]) -> dict[tuple[str, int], dict]:
    """(solver, steps) -> medians over the instances of wall, CPU and unit TTS (inf counts as the largest)."""
    cells: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        cells.setdefault((r["solver"], int(r["steps"])), []).append(r)
    out = {}
    for key, rs in cells.items():
        med = {k: float(np.median([_f(r, k) for r in rs])) for k in
               ("tts_s", "tts_cpu_s", "tts_units", "t_run_s", "p_s", "tts_s_lo", "tts_s_hi")}
        med["instances"] = len(rs)
        med["solved"] = sum(int(r["hits"]) > 0 for r in rs)
        med["runs"] = int(np.median([int(r["runs"]) for r in rs]))
        out[key] = med
    return out


def claim(best: dict[str, float], interval: dict[str, tuple[float, float]] | None = None) -> str:
    """cimsim's least TTS against the peers' least; with ``interval`` (solver -> 95 % TTS bounds) also the
    ratio's range from those bounds (ours low / peer high .. ours high / peer low: not a joint 95 % level)."""
    ours = {s: t for s, t in best.items() if not is_peer(s)}
    peers = {s: t for s, t in best.items() if is_peer(s)}
    so, to = min(ours.items(), key=lambda kv: kv[1])
    sp, tp = min(peers.items(), key=lambda kv: kv[1])
    ratio = to / tp if math.isfinite(tp) and tp > 0 else math.nan
    holds = math.isfinite(to) and to <= 0.5 * tp
    text = (f"cimsim best {so} {fmt(to)} s vs best peer {sp} {fmt(tp)} s: ratio {fmt(ratio)} -> "
            f"claim (<= 0.5) {'HOLDS' if holds else 'does NOT hold'}")
    if interval:
        (olo, ohi), (plo, phi) = interval[so], interval[sp]
        lo = olo / phi if math.isfinite(phi) else 0.0
        hi = ohi / plo if plo > 0 else math.inf
        text += f" (ratio from the two 95 % intervals: {fmt(lo)}-{fmt(hi)}"
        if holds and hi > 0.5:
            text += "; at the point estimate only: the intervals allow a ratio above 0.5"
        elif not holds and lo <= 0.5:
            text += "; the intervals do not exclude 0.5 either"
        text += ")"
    return text


def per_instance(rows: list[dict], chosen: dict[str, int]) -> str:
    """How many instances have cimsim's least wall TTS at most half the peers' least (each solver at the
    run length ``chosen`` for it), and the median and range of that ratio."""
    by: dict[str, dict[str, float]] = {}
    for r in rows:
        if int(r["steps"]) == chosen.get(r["solver"]):
            by.setdefault(r["instance"], {})[r["solver"]] = _f(r, "tts_s")
    ratios = []
    for inst, t in by.items():
        ours = min(v for s, v in t.items() if not is_peer(s))
        peer = min(v for s, v in t.items() if is_peer(s))
        ratios.append(ours / peer if math.isfinite(peer) else 0.0)
    ratios = np.array(ratios)
    return (f"cimsim's best <= 0.5 x the best peer's on {int(np.sum(ratios <= 0.5))}/{ratios.size} instances "
            f"(ratio median {np.median(ratios):.3g}, range {ratios.min():.3g}-{ratios.max():.3g})")


def report(path: Path, loads: str = "") -> None:
    rows = read_rows(path)
    commits = sorted({r["commit"] for r in rows})
    loads_ = [float(r["load1"]) for r in rows if r.get("load1")]
    load_vals = [f"{min(loads_):.1f}-{max(loads_):.1f}"] if loads_ else ["-"]
    threads = sorted({r.get("numba_threads") or "2 (not recorded)" for r in rows})
    L = [f"# TTS99: cimsim against neal and OpenJij (commits {', '.join(commits)})", "",
         "Written by `bench/tts.py` (method in its docstring). A run is one trajectory (one replica of a call / one "
         "read of a peer call); t_run is the call's wall time divided by its trajectories; TTS99 = t_run ln(0.01) / "
         "ln(1 - P_s). 'TTS (s)' is wall time, 'CPU' is process CPU time, 'units' MVM (dynamics) or sweeps (annealers) "
         "per trajectory. Interval: 95 % Clopper-Pearson on P_s. `auto` picks `sa` on all these instances (its "
         "feature pass is inside its timed call). BLAS single-threaded; cimsim's numba kernels (sa, polish, the "
         f"amplitude steps) ran on {', '.join(threads)} thread(s), the peers on one; 1-min load averages at the "
         f"end of each instance: {', '.join(load_vals)} (2 cores).", ""]
    summary = path.parent / (path.stem + "_summary.md")
    if summary.is_file():
        L += [summary.read_text(encoding="utf-8").strip(), ""]
    gset = [r for r in rows if r["suite"] == "gset"]
    for g in sorted({r["instance"] for r in gset}, key=lambda s: int(s[1:])):
        rs = [r for r in gset if r["instance"] == g]
        best = best_per_solver(rs)
        L += [f"## {g}: best-known cut {rs[0]['best_known']}", "",
              f"Target energy {float(rs[0]['target']):g} (the best-known cut). Best run length per solver "
              "(least wall TTS on the grid):", "",
              "| solver | L | unit | runs | hits | P_s [95 %] | t_run (s) | TTS99 (s) [95 %] | TTS99 CPU (s) | TTS99 (units) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        for s, r in sorted(best.items(), key=lambda kv: _f(kv[1], "tts_s")):
            L.append(f"| {s} | {r['steps']} | {r['unit']} | {r['runs']} | {r['hits']} | {_f(r, 'p_s'):.3f} "
                     f"[{_f(r, 'p_lo'):.3f}, {_f(r, 'p_hi'):.3f}] | {_f(r, 't_run_s'):.3g} | {fmt(_f(r, 'tts_s'))} "
                     f"[{fmt(_f(r, 'tts_s_lo'))}, {fmt(_f(r, 'tts_s_hi'))}] | {fmt(_f(r, 'tts_cpu_s'))} | "
                     f"{fmt(_f(r, 'tts_units'))} |")
        L += ["", "- " + claim({s: _f(r, "tts_s") for s, r in best.items()},
                               {s: (_f(r, "tts_s_lo"), _f(r, "tts_s_hi")) for s, r in best.items()}),
              "- CPU seconds: " + claim({s: _f(r, "tts_cpu_s") for s, r in best.items()}).replace("->", "->"), ""]
    sk = [r for r in rows if r["suite"] == "sk"]
    if sk:
        med = sk_medians(sk)
        L += ["## SK N = 100: 20 instances, ground state", "",
              "Instances `sk_model(100, seed, kind='pm1')`, seeds 1000-1019 (bench/sk100.py). The targets E0 are "
              "**not proven** ground states: bench/results/sk100_ground.csv accepts an energy when four solvers "
              "in long runs (cimsim sa, tabu and sb with polish, and neal) all reached it. Medians over the 20 "
              "instances per run length (inf when more than half the instances had no success):", "",
              "| solver | L | unit | runs/inst | instances solved | median P_s | median t_run (s) | median TTS99 (s) | "
              "median TTS99 CPU (s) | median TTS99 (units) |", "|---|---|---|---|---|---|---|---|---|---|"]
        for (s, steps), m in sorted(med.items()):
            L.append(f"| {s} | {steps} | {unit_of(s)} | {m['runs']} | {m['solved']}/{m['instances']} | "
                     f"{m['p_s']:.3f} | {m['t_run_s']:.3g} | {fmt(m['tts_s'])} | {fmt(m['tts_cpu_s'])} | "
                     f"{fmt(m['tts_units'])} |")
        best: dict[str, tuple[int, dict]] = {}
        for (s, steps), m in med.items():
            if s not in best or (m["tts_s"], steps) < (best[s][1]["tts_s"], best[s][0]):
                best[s] = (steps, m)
        L += ["", "Best run length per solver (least median wall TTS):", "",
              "| solver | L | median TTS99 (s) | median TTS99 CPU (s) | median TTS99 (units) |", "|---|---|---|---|---|"]
        for s, (steps, m) in sorted(best.items(), key=lambda kv: kv[1][1]["tts_s"]):
            L.append(f"| {s} | {steps} | {fmt(m['tts_s'])} | {fmt(m['tts_cpu_s'])} | {fmt(m['tts_units'])} |")
        L += ["", "- " + claim({s: m["tts_s"] for s, (_, m) in best.items()}),
              "- CPU seconds: " + claim({s: m["tts_cpu_s"] for s, (_, m) in best.items()}),
              "- per instance, each solver at its chosen length: " + per_instance(sk, {s: L_ for s, (L_, _) in best.items()}),
              ""]
    notes = path.parent / (path.stem + "_notes.md") if path.stem != "tts99" else OUT / "notes.md"
    if notes.is_file():
        L += [notes.read_text(encoding="utf-8").strip(), ""]
    if loads:
        L += [loads, ""]
    path.with_suffix(".md").write_text("\n".join(L), encoding="utf-8")
    print("\n".join(L))
    figure(rows, path.with_suffix(".png"))


def figure(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    panels = [("SK N=100 (median of 20)", [r for r in rows if r["suite"] == "sk"])]
    gset = [r for r in rows if r["suite"] == "gset"]
    panels += [(g, [r for r in gset if r["instance"] == g]) for g in sorted({r["instance"] for r in gset},
                                                                            key=lambda s: int(s[1:]))]
    panels = [p for p in panels if p[1]]
    if not panels:
        return
    names = sorted({r["solver"] for r in rows})
    colour = {n: plt.cm.tab10(k % 10) for k, n in enumerate(names)}
    fig, axes = plt.subplots(2, len(panels), figsize=(4.2 * len(panels), 7.2), squeeze=False)
    for row, (t_key, y_key, what) in enumerate((("t_run_s", "tts_s", "wall"), ("t_run_cpu_s", "tts_cpu_s", "CPU"))):
        for ax, (title, rs) in zip(axes[row], panels):
            for s in names:
                pts: dict[int, list] = {}
                for r in rs:
                    if r["solver"] == s:
                        pts.setdefault(int(r["steps"]), []).append((_f(r, t_key), _f(r, y_key)))
                xs, ys = [], []
                for steps in sorted(pts):  # medians over instances (one instance on Gset)
                    y = float(np.median([p[1] for p in pts[steps]]))
                    if math.isfinite(y):
                        xs.append(float(np.median([p[0] for p in pts[steps]])))
                        ys.append(y)
                if xs:
                    ax.plot(xs, ys, "o--" if is_peer(s) else "o-", color=colour[s], label=s)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(f"t_run per trajectory (s, {what})")
            ax.set_ylabel(f"TTS99 (s, {what})")
            ax.set_title(f"{title}: {what}")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=("sk", "gset"), default="sk")
    ap.add_argument("--graphs", default="G1,G43,G22")
    ap.add_argument("--instances", type=int, default=len(SEEDS), help="SK: the first K of the 20 seeds")
    ap.add_argument("--solvers", default=None, help="comma list, a subset of the grid's solvers")
    ap.add_argument("--grid", default=None, help="replaces the grid: SOLVER:REPLICAS:L1/L2/...,... "
                    "(e.g. sa:4:20000,neal:4:20000 for the long runs G22 needs)")
    ap.add_argument("--runs", type=int, default=64, help="trajectories per cell (at most)")
    ap.add_argument("--cell-seconds", type=float, default=3.0, help="wall seconds per cell (at least one call)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--csv", default="tts99.csv", help="file name under bench/results/tts (md and png beside it)")
    ap.add_argument("--report", action="store_true", help="only rewrite the md and figure from the csv")
    add_data_option(ap)
    args = ap.parse_args()
    csv_path = OUT / args.csv
    if args.report:
        report(csv_path)
        return
    import numba

    grid = SK_GRID if args.suite == "sk" else GSET_GRID
    if args.solvers:
        grid = {s: grid[s] for s in args.solvers.split(",")}
    if args.grid:  # SOLVER:R:L1/L2,...
        grid = {}
        for spec in args.grid.split(","):
            solver, R, lengths = spec.rsplit(":", 2)
            grid[solver] = (int(R), tuple(int(x) for x in lengths.split("/")))
    commit, load0 = code_version(), os.getloadavg()
    if args.suite == "sk":
        ground = ground_energies()
        items = [(f"sk100-{s}", lambda s=s: instance(s), ground[s], "") for s in SEEDS[:args.instances] if s in ground]
    else:
        items = []
        for g in args.graphs.split(","):
            inst = load_instance(g, args.data)
            if inst.model is None or inst.energy_target is None:
                raise SystemExit(f"tts: {g}: {inst.status or 'no best-known target'}")
            items.append((g, lambda inst=inst: inst.model, float(inst.energy_target), inst.best_known))
    for k, (label, make, target, best_known) in enumerate(items):
        rows = run_instance(label, make(), target, grid, runs=args.runs, cell_seconds=args.cell_seconds,
                            seed=args.seed * 1000 + k)
        load1 = round(os.getloadavg()[0], 2)
        for r in rows:
            r.update(suite=args.suite, commit=commit, load1=load1, best_known=best_known,
                     numba_threads=numba.get_num_threads())
            print({k2: (round(v, 4) if isinstance(v, float) else v) for k2, v in r.items()
                   if k2 in ("instance", "solver", "steps", "runs", "hits", "t_run_s", "tts_s")}, flush=True)
        write_rows(csv_path, rows)
    print(f"load before {load0}, after {os.getloadavg()}")
    report(csv_path)


if __name__ == "__main__":
    main()
