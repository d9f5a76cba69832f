"""Coverage time of the low-energy states: how long a machine samples before it has seen every state up to
the first excited level (issue 18; ../shared/docs/cim-hardware.md section 4; Ng et al., PRR 4, 013009 (2022)).

Instances: +-1 MaxCut on Erdos-Renyi graphs (every pair an edge with probability 1/2, weight +1 or -1 with
equal probability), Ising J = -W, no fields; N = 10, 15, ..., 40, several instances per N, seeds fixed.

Target set: every state with H <= E1 (E0 the ground level, E1 the first excited level), up to the global
flip (spin 0 = +1). Exact for N <= EXACT_MAX_N by a numba Gray-code enumeration of all 2^(N-1) states (two
passes: the two lowest levels and their sizes, then the states); beyond, the union of long reference runs
(simulated annealing at a fixed temperature, independent seeds), with E0 and E1 the lowest two levels
those runs saw -- said so in the table. The reference method is checked against the exact set at
N = EXACT_MAX_N.

Coverage: each solver runs in sampling mode (cimsim.sampling.Tap, every = 1 step after a burn-in of
BURN_IN steps per run, R replicas), until every target state has been recorded or a cap of samples. The
coverage time of a run is (first-seen sample index of the last target + 1) x every: for ``mfb`` the number
of round trips one machine spends sampling (replica streams concatenated, burn-ins not counted), for the
others the same in their own steps (Euler steps for cim, sweeps for sa, symplectic steps for sb). The table
gives the median over runs and instances per N and a least-squares fit of log(coverage) = log A + N log b
over every (instance, run) median, with the standard error of b.

    python -m bench.sampling_coverage [--quick] [--out bench/results]
"""
from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import numpy as np

from cimsim.model import IsingModel
from cimsim.sampler import low_levels
from cimsim.sampling import StateCounter, Tap, canonicalise, pack, tapping
from cimsim.solvers import solve

SIZES = (10, 15, 20, 25, 30, 35, 40)
EXACT_MAX_N = 25
BURN_IN = 50
#: replicas per run (64: the per-step Python work is shared by more samples; 16 in the calibration)
REPLICAS = 64
#: sampling settings (calibrated on a separate instance, see the results file): every one a stationary
#: sampler, no annealing schedule, so the stream keeps moving between states
SAMPLERS: dict[str, tuple[str, dict, int]] = {  # label -> (solver, params, replicas)
    "mfb": ("mfb", {"schedule": "constant:1.0,relative=1", "g2": 0.1}, REPLICAS),
    # other regimes: does the base depend on them? (the two-point scan below picked the last two)
    "mfb p+0.5 g2=0.03": ("mfb", {"schedule": "constant:0.5,relative=1", "g2": 0.03}, REPLICAS),
    "mfb p+0.2 g2=0.01": ("mfb", {"schedule": "constant:0.2,relative=1", "g2": 0.01}, REPLICAS),
    "mfb p+0.5 g2=0.03 eps=0.1": ("mfb", {"schedule": "constant:0.5,relative=1", "g2": 0.03, "eps": 0.1}, REPLICAS),
    "cim": ("cim", {"schedule": "constant:1.0,relative=1", "noise": 1.0}, REPLICAS),
    "sa": ("sa", {"beta_min": 0.6, "beta_max": 0.6}, REPLICAS),
    "sb": ("sb", {}, REPLICAS),  # dSB, its own pump ramp: coverage comes from the restarts
}
#: independent coverage runs per instance and solver
RUNS = {"mfb": 3, "mfb p+0.5 g2=0.03": 2, "mfb p+0.2 g2=0.01": 2, "mfb p+0.5 g2=0.03 eps=0.1": 2, "cim": 2, "sa": 2,
        "sb": 2}
INSTANCES = 5
#: a run stops after this many samples without covering (counted as censored)
CAP = 1_500_000
#: calibration (N = 20, instance seed 99, not in the table; median of 4 runs of mfb / 3 of the others,
#: samples to cover the 9 target states), from which the settings above were picked
CALIBRATION = """\
| solver | setting | median coverage |
|---|---|---|
| mfb | pump threshold + 0.0 (noise-dominated), g2 = 1e-2 | 7e4 (2 runs; about uniform random guessing: 2^19 H_9 / 9 = 1.6e5) |
| mfb | pump threshold + 0.2, g2 = 1e-2 | 18,278 |
| mfb | pump threshold + 0.3, g2 = 1e-2 | 17,239 |
| mfb | pump threshold + 0.5, g2 = 3e-2 | 1,686 (one run 31,601) |
| mfb | pump threshold + 0.5, g2 = 0.1 | 9,180 |
| mfb | **pump threshold + 1.0, g2 = 0.1** | **4,098** (2,108-5,001) |
| mfb | pump threshold + 2.0, g2 = 0.1 (64 replicas) | 59,840 / 239,012 (2 runs); at N = 35 both runs censored at 1.5e6: too sticky, left out |
| cim | pump threshold + 0.2, noise 0.3 | 7,000 |
| cim | pump threshold + 0.5, noise 0.3 | 3,396 (one run 106,485) |
| cim | **pump threshold + 1.0, noise 1.0** | **3,177** |
| sa | beta = 0.3 / **0.6** / 1.0 | 454 / **82** / 62 (one run 1,114) |
| sb | dSB default ramp, 2000 steps | 5,202 |

A first full run (commit 219e8f6c0680) had the column mfb pump +0.5, g2 = 0.1: b = 1.30 +- 0.02 with 5 of 35
instances censored at N >= 35 (left out here). Two-point scan of the base, b = (T(35)/T(20))^(1/15) with T the
median over 3 instances (seeds 50-52, not in the table) of the median of 2 runs, 64 replicas (pump = threshold +
offset; loss_db = 1 and eps = 0.2 unless said; loss_db = 6 diverged):

| mfb setting | T(20) | T(35) | two-point b |
|---|---|---|---|
| +0.5, g2 = 0.03 | 2,691 | 17,310 | 1.132 |
| +0.5, g2 = 0.03, loss_db = 3 | 788 | 18,834 | 1.236 |
| +0.3, g2 = 0.03 | 4,453 | 32,741 | 1.142 |
| +0.5, g2 = 0.01 | 4,210 | 30,032 | 1.140 |
| +0.5, g2 = 0.03, eps = 0.5 | 590 | 10,804 | 1.214 |
| +1.0, g2 = 0.03, loss_db = 3 | 8,030 | 58,128 | 1.141 |
| **+0.2, g2 = 0.01** | 4,102 | 16,496 | **1.097** |
| **+0.5, g2 = 0.03, eps = 0.1** | 20,190 | 61,727 | **1.077** |
"""


def instance(n: int, seed: int) -> IsingModel:
    """The +-1 MaxCut instance (n, seed): G(n, 1/2) with random +-1 weights, J = -W."""
    rng = np.random.default_rng([n, seed])
    W = np.triu(rng.choice([-1.0, 1.0], size=(n, n)) * (rng.random((n, n)) < 0.5), 1)
    return IsingModel.from_couplings(-(W + W.T))


def exact_targets(model: IsingModel) -> tuple[np.ndarray, float, float, int]:
    """(states (M, N) int8 with spin 0 = +1 and H <= E1, E0, E1, ground states among them) by enumeration
    (:func:`cimsim.sampler.low_levels`, the Gray-code walk `cimsim sample` uses)."""
    levels = low_levels(model)
    assert levels is not None and levels.canonical, "exact targets need a field-free model of N <= 30"
    ground = int(np.sum(levels.energies <= levels.e0 + levels.tol))
    return levels.spins, levels.e0, levels.e1, ground


def reference_targets(model: IsingModel, runs: int = 4, samples: int = 400_000) -> tuple[np.ndarray, float, float, int]:
    """The same from the union of ``runs`` fixed-temperature annealing streams (seeds 1000 + r), each of
    ``samples`` samples: E0, E1 the lowest two levels seen, the target set every seen state up to E1."""
    counter = StateCounter(n=model.n, cap=200_000, canonical=True)
    for r in range(runs):
        tap = Tap(counter, every=1, burn_in=BURN_IN, limit=counter.samples + samples)
        with tapping(tap):
            solve(model, "sa", replicas=REPLICAS, steps=2000, seed=1000 + r, beta_min=1.0, beta_max=1.0)
    S, E, _, _ = counter.states()
    levels = np.unique(E)
    e0, e1 = float(levels[0]), float(levels[1])
    keep = E <= e1 + 1e-9
    return S[keep], e0, e1, int(np.sum(E <= e0 + 1e-9))


class CoverTap(Tap):
    """A tap that is full once every target state has been recorded (or ``limit`` samples were taken);
    ``covered_at`` is then the sample index (0-based) of the last target's first visit."""

    def __init__(self, n: int, targets: set[bytes], limit: int, **kw) -> None:
        super().__init__(StateCounter(n=n, cap=1, canonical=True), limit=limit, **kw)
        self.remaining = set(targets)
        self.covered_at: int | None = None

    def full(self) -> bool:
        return self.covered_at is not None or super().full()

    def record(self, t, S, E=None) -> None:  # type: ignore[override]
        if self.full():
            return
        start = self.counter.samples
        room = self.limit - start
        S = np.where(np.asarray(S) >= 0, 1, -1).astype(np.int8)[:room]
        self.counter.samples += S.shape[0]  # nothing stored: only first visits of targets matter here
        self.steps_recorded = max(self.steps_recorded, int(t))
        for j, key in enumerate(pack(canonicalise(S))):
            if key in self.remaining:
                self.remaining.discard(key)
                if not self.remaining:
                    self.covered_at = start + j
                    return


def coverage(model: IsingModel, targets: set[bytes], label: str, seed: int, limit: int) -> float:
    """Steps of one sampler to cover ``targets`` (``inf`` if not within ``limit`` samples)."""
    solver, params, R = SAMPLERS[label]
    tap = CoverTap(model.n, targets, limit, every=1, burn_in=BURN_IN)
    with tapping(tap):
        solve(model, solver, replicas=R, steps=2000, seed=seed, **params)
    return math.inf if tap.covered_at is None else float(tap.covered_at + 1) * tap.every


def fit_base(ns: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    """Least squares log t = log A + N log b over the finite points: (b, standard error of b, A)."""
    ok = np.isfinite(t) & (t > 0)
    x, y = ns[ok].astype(float), np.log(t[ok])
    X = np.vstack([np.ones_like(x), x]).T
    coef, res, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    dof = max(len(x) - 2, 1)
    cov = (resid @ resid / dof) * np.linalg.inv(X.T @ X)
    b = math.exp(coef[1])
    return b, b * math.sqrt(cov[1, 1]), math.exp(coef[0])


def uptime() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[:3].__str__()
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N <= 20, 2 instances, 1 run each (a smoke test)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    ap.add_argument("--figure-only", action="store_true",
                    help="redraw the figure from the CSV in --out (commit taken from the table's first lines)")
    args = ap.parse_args(argv)
    if args.figure_only:
        redraw(Path(args.out))
        return
    from .calls import git_head

    sizes = [n for n in SIZES if n <= 20] if args.quick else list(SIZES)
    n_inst = 2 if args.quick else INSTANCES
    runs = {k: 1 for k in RUNS} if args.quick else RUNS
    head = git_head(Path(__file__).resolve().parents[1])
    load_before = uptime()
    t_start = time.process_time()
    rows: list[dict] = []
    checks: list[str] = []
    for n in sizes:
        for i in range(n_inst):
            model = instance(n, i)
            tic = time.process_time()
            if n <= EXACT_MAX_N:
                S, e0, e1, g = exact_targets(model)
                how = "exact"
                if n == EXACT_MAX_N:  # check the reference method where the exact set is known
                    Sr, r0, r1, _ = reference_targets(model)
                    same = set(pack(Sr)) == set(pack(S)) and (r0, r1) == (e0, e1)
                    checks.append(f"N = {n}, instance {i}: reference runs found {len(Sr)} of the {len(S)} exact "
                                  f"target states, levels ({r0:g}, {r1:g}) vs exact ({e0:g}, {e1:g}): "
                                  f"{'identical' if same else 'DIFFERENT'}")
            else:
                S, e0, e1, g = reference_targets(model)
                how = "reference"
            t_targets = time.process_time() - tic
            targets = set(pack(S))
            order = [(label, r) for r in range(max(runs.values())) for label in SAMPLERS if r < runs[label]]
            for label, r in order:  # solvers interleaved per instance
                tic = time.process_time()
                cov = coverage(model, targets, label, seed=100 * r + i, limit=CAP)
                rows.append(dict(n=n, instance=i, solver=label, run=r, coverage=cov, targets=len(S), ground=g,
                                 e0=e0, e1=e1, target_set=how, cpu_s=round(time.process_time() - tic, 3),
                                 target_cpu_s=round(t_targets, 3)))
                print(f"N={n} inst={i} {label} run={r}: targets={len(S)} ({how}) coverage={cov:g}", flush=True)
    cpu = time.process_time() - t_start
    write(rows, checks, Path(args.out), head, load_before, uptime(), cpu, args.quick)


def redraw(out: Path) -> None:
    """The figure again from ``out``/sampling_coverage.csv and the commit named in the .md next to it."""
    with open(out / "sampling_coverage.csv") as f:
        rows = [dict(r, n=int(r["n"]), instance=int(r["instance"]), coverage=float(r["coverage"]),
                     targets=int(r["targets"]), ground=int(r["ground"])) for r in csv.DictReader(f)]
    text = (out / "sampling_coverage.md").read_text()
    head = text.split("Commit ", 1)[1].split(";", 1)[0] if "Commit " in text else "unknown"
    table, fits = summarise(rows)
    figure(table, fits, sorted({r["n"] for r in rows}), out / "sampling_coverage.png", head)


def summarise(rows: list[dict]) -> tuple[dict, dict]:
    """Per (solver, N): median coverage over runs and instances, censored runs; per solver: the fit."""
    table: dict = {}
    fits: dict = {}
    for label in SAMPLERS:
        mine = [r for r in rows if r["solver"] == label]
        ns, meds = [], []
        for n in sorted({r["n"] for r in mine}):
            at = [r for r in mine if r["n"] == n]
            cov = np.array([r["coverage"] for r in at])
            table[label, n] = dict(median=float(np.median(cov)), censored=int(np.sum(~np.isfinite(cov))), runs=len(cov),
                                   targets=float(np.median([r["targets"] for r in at])),
                                   ground=float(np.median([r["ground"] for r in at])),
                                   target_set=at[0]["target_set"])
            for i in sorted({r["instance"] for r in at}):
                c = np.median([r["coverage"] for r in at if r["instance"] == i])
                ns.append(n)
                meds.append(c)
        ns_a, med_a = np.array(ns), np.array(meds)
        if np.sum(np.isfinite(med_a)) >= 3:
            b, err, A = fit_base(ns_a, med_a)
            fits[label] = dict(b=b, err=err, A=A, points=int(np.sum(np.isfinite(med_a))),
                               left_out=int(np.sum(~np.isfinite(med_a))))
    return table, fits


def write(rows: list[dict], checks: list[str], out: Path, head: str, load_before: str, load_after: str, cpu: float,
          quick: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stem = "sampling_coverage" + ("_quick" if quick else "")
    with open(out / f"{stem}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    table, fits = summarise(rows)
    sizes = sorted({r["n"] for r in rows})
    lines = [f"# Coverage of the states up to the first excited level (+-1 MaxCut, N = {sizes[0]}...{sizes[-1]})", "",
             f"Commit {head}; `python -m bench.sampling_coverage{' --quick' if quick else ''}`; {cpu:.0f} s of CPU; "
             f"load averages (1, 5, 15 min) {load_before} before, {load_after} after (a shared 2-core machine).", "",
             "Instances: G(N, 1/2) with +-1 weights, J = -W, " + f"{max(r['instance'] for r in rows) + 1} per N. "
             f"Target set: every state with H <= E1, up to the global flip; exact (Gray-code enumeration) for "
             f"N <= {EXACT_MAX_N}, for larger N the union of 4 reference runs of annealing at a fixed beta = 1 "
             "(400,000 samples each, independent seeds): those rows are a lower bound on the true set, and "
             "fixed-temperature annealing is also one of the samplers measured, so its coverage there is "
             "measured against states of its own kind.", "",
             "Coverage = (sample index of the last target's first visit + 1) x every (every = 1, burn-in "
             f"{BURN_IN} steps per run, {REPLICAS} replicas, runs of 2000 steps): for the mfb columns the round trips "
             "of one machine (replica streams concatenated, burn-ins not counted); for cim Euler steps, for sa sweeps, "
             f"for sb symplectic steps. Runs stop at {CAP:,} samples (censored, counted as infinite; a median "
             "with fewer than half censored is still exact).", ""]
    lines += ["| N | targets (median) | ground states | target set | " + " | ".join(
        f"{k} median (censored/runs)" for k in SAMPLERS) + " |",
              "|---|---|---|---|" + "---|" * len(SAMPLERS)]
    for n in sizes:
        first = table[next(iter(SAMPLERS)), n]
        cells = []
        for k in SAMPLERS:
            t = table.get((k, n))
            cells.append("-" if t is None else f"{t['median']:,.0f} ({t['censored']}/{t['runs']})")
        lines.append(f"| {n} | {first['targets']:g} | {first['ground']:g} | {first['target_set']} | " + " | ".join(cells) + " |")
    lines += ["", "Fit of log(per-instance median coverage) = log A + N log b (least squares over instances; "
              "standard error from the residuals; censored instances left out):", "",
              "| solver | b | std. error | A | instances fitted | left out (censored) |", "|---|---|---|---|---|---|"]
    for k, f in fits.items():
        lines.append(f"| {k} | {f['b']:.3f} | {f['err']:.3f} | {f['A']:.3g} | {f['points']} | {f['left_out']} |")
    lines += ["", "Ng et al. (PRR 4, 013009 (2022)) report about 1.08^N round trips for mfb on +-1 MaxCut "
              "(cim-hardware.md section 6), and a median of 6e6 round trips at N = 100.", "",
              "Units: one mfb round trip and one cim or sb step cost one product J x per replica; one sa sweep is "
              "N single-spin Metropolis attempts (about the same arithmetic on these dense graphs). The target "
              "sets differ in size from instance to instance (coupon collector: the time to see G equally "
              "likely states grows as H_G = 1 + 1/2 + ... + 1/G), which is part of the scatter of the fit.", ""]
    if checks:
        lines += ["Reference method against the exact target set:", ""] + [f"- {c}" for c in checks] + [""]
    lines += ["Sampler settings: " + "; ".join(f"{k}: {SAMPLERS[k][0]} {SAMPLERS[k][1] or '(defaults)'}" for k in SAMPLERS),
              "", "Calibration of the settings:", "", CALIBRATION]
    (out / f"{stem}.md").write_text("\n".join(lines))
    figure(table, fits, sizes, out / f"{stem}.png", head)


def figure(table: dict, fits: dict, sizes: list[int], path: Path, head: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.8))
    for k in SAMPLERS:
        ns = [n for n in sizes if (k, n) in table and np.isfinite(table[k, n]["median"])]
        if not ns:
            continue
        label = k
        if k in fits:
            label += f": b = {fits[k]['b']:.3f} +- {fits[k]['err']:.3f}"
        line, = ax.plot(ns, [table[k, n]["median"] for n in ns], "o", label=label)
        if k in fits:
            f = fits[k]
            x = np.linspace(min(sizes), max(sizes), 50)
            ax.plot(x, f["A"] * f["b"] ** x, "-", color=line.get_color(), alpha=0.6)
    ax.set_yscale("log")
    ax.set_xlabel("N (spins)")
    ax.set_ylabel("median coverage (steps x replicas; mfb: round trips)")
    ax.set_title(f"+-1 MaxCut: time to see every state up to E1 (commit {head})", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", title="median; line: fit A b^N", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
