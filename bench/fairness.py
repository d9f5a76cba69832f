"""Fair sampling of degenerate ground states (issue 18.4): cimsim's samplers against neal and OpenJij.

Instances: small frustrated +-1 models with many degenerate ground states, every one of them enumerated
exactly (all 2^N states, N <= 20) and the count checked against ``dimod.ExactSolver``:

* ``tri4``      antiferromagnet on the 4 x 4 periodic triangular lattice (N = 16, fully frustrated)
* ``ffsq4``     fully frustrated (Villain) square lattice, 4 x 4 periodic: every plaquette has one
                antiferromagnetic bond (N = 16)
* ``pmJ4r16``   +-J couplings on a random 4-regular graph, N = 16 (networkx seed 3)
* ``pmJ4r18``   the same, N = 18 (seed 10)
* ``pmJ4r20``   the same, N = 20 (seed 8)
* ``pmJ3r20``   +-J on a random 3-regular graph, N = 20 (seed 10)
* ``sk14``      SK with J_ij = +-1, N = 14 (seed 3)

No fields, so ground states come in pairs s, -s; both count as ground states (every sampler here treats
them alike).

Samplers, the same number K of samples each (default 2000), each run once per instance with seed 1:

* peers: ``neal`` (dwave-neal SimulatedAnnealingSampler, its defaults: 1000 sweeps), OpenJij ``SASampler``
  (defaults) and ``SQASampler`` (trotter 4, ``num_sweeps=200``: its default length costs about 50 ms per
  read here, 100 CPU-s per instance at K = 2000). OpenJij seeds every read of one call alike (with
  ``seed=s`` all K reads are the same state), so its reads are K calls of one read, seeded 1e6 + k;
  neal seeds its reads properly from one seed;
* cimsim through :class:`cimsim.ocean.CIMSampler`, every solver at its defaults for the instance:
  ``reads``: K independent replicas, the unpolished final state of each (as neal and OpenJij return
  theirs); ``stream``: ``sampling=True`` with 20 replicas, recording every replica every T/20 steps after
  a burn-in of T/2 (T: the solver's default steps), until K samples are taken.

Per instance and sampler: ground-state probability P_GS (samples at E0 / K), coverage (fraction of the
G ground states seen), and over the G ground states' counts (zeros included) the normalised entropy
(1 = uniform), max/min ratio and the chi-square p-value against uniform (:func:`cimsim.sampling.fairness`).
Stream samples of one replica are correlated (a replica often sits in one state for several records), so
their chi-square p-values overstate the evidence against fairness; entropy, max/min and coverage do not
assume independence. CPU seconds are this process's (``time.process_time``), for orientation only.

    python bench/fairness.py              # writes bench/results/fairness.csv / .md (about 5-10 CPU-min)
    python bench/fairness.py --samples 300 --instances tri4 --out /tmp/f   # a quick look
"""
from __future__ import annotations

import argparse
import csv
import datetime
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calls import code_version  # noqa: E402
from cimsim.model import IsingModel  # noqa: E402
from cimsim.sampling import fairness, pack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "fairness"
SAMPLES = 2000
SEED = 1
TOL = 1e-9
CIM_SOLVERS = ("cim", "dopo", "mfb", "cfc", "sfc", "asb", "simcim")
SQA_SWEEPS = 200


# ------------------------------------------------------------------------------------------ instances
def triangular_afm(L: int) -> np.ndarray:
    """J of the antiferromagnet (J = -1 in cimsim's E = -sum J s s) on the L x L periodic triangular lattice."""
    n = L * L
    J = np.zeros((n, n))
    for x in range(L):
        for y in range(L):
            i = x * L + y
            for dx, dy in ((1, 0), (0, 1), (1, 1)):
                j = ((x + dx) % L) * L + (y + dy) % L
                J[i, j] = J[j, i] = -1.0
    return J


def fully_frustrated_square(L: int) -> np.ndarray:
    """Villain's fully frustrated square lattice, L x L periodic (L even): the vertical bonds of every other
    column are antiferromagnetic, so every plaquette has exactly one."""
    n = L * L
    J = np.zeros((n, n))
    for x in range(L):
        for y in range(L):
            i = x * L + y
            j = ((x + 1) % L) * L + y
            J[i, j] = J[j, i] = 1.0
            j = x * L + (y + 1) % L
            J[i, j] = J[j, i] = -1.0 if x % 2 else 1.0
    return J


def pm_j_regular(n: int, degree: int, seed: int) -> np.ndarray:
    """+-J couplings (each sign with probability 1/2) on a random ``degree``-regular graph."""
    import networkx as nx

    G = nx.random_regular_graph(degree, n, seed=seed)
    rng = np.random.default_rng(seed)
    J = np.zeros((n, n))
    for u, v in G.edges():
        J[u, v] = J[v, u] = rng.choice([-1.0, 1.0])
    return J


def sk_pm1(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    J = np.triu(rng.choice([-1.0, 1.0], size=(n, n)), 1)
    return J + J.T


INSTANCES: dict[str, Callable[[], np.ndarray]] = {
    "tri4": lambda: triangular_afm(4),
    "ffsq4": lambda: fully_frustrated_square(4),
    "pmJ4r16": lambda: pm_j_regular(16, 4, 3),
    "pmJ4r18": lambda: pm_j_regular(18, 4, 10),
    "pmJ4r20": lambda: pm_j_regular(20, 4, 8),
    "pmJ3r20": lambda: pm_j_regular(20, 3, 10),
    "sk14": lambda: sk_pm1(14, 3),
}


@dataclass
class Ground:
    """The enumerated ground states of an instance: energy, (G, N) spins and packed key -> index."""

    e0: float
    spins: np.ndarray
    index: dict


def enumerate_ground(model: IsingModel) -> Ground:
    """Every ground state of ``model`` by brute force over all 2^N spin vectors (in blocks of 2^16)."""
    n = model.n
    block = min(2**n, 2**16)
    bits = np.arange(n)
    e0, found = np.inf, []
    for start in range(0, 2**n, block):
        k = np.arange(start, start + block)
        S = (1 - 2 * ((k[:, None] >> bits) & 1)).astype(np.int8)
        E = model.energies(S)
        m = float(E.min())
        if m < e0 - TOL:
            e0, found = m, []
        if m <= e0 + TOL:
            found.append(S[E <= e0 + TOL])
    G = np.concatenate(found)
    return Ground(e0, G, {key: i for i, key in enumerate(pack(G))})


def check_with_dimod(bqm, ground: Ground) -> None:
    """dimod's ExactSolver finds the same number of ground states at the same energy (offset included)."""
    import dimod

    ss = dimod.ExactSolver().sample(bqm)
    e = ss.record.energy
    count = int((e <= e.min() + TOL).sum())
    if count != len(ground.index) or abs(float(e.min()) - ground.e0) > 1e-6:
        raise SystemExit(f"enumeration disagrees with dimod.ExactSolver: {len(ground.index)} vs {count} ground states")


# ------------------------------------------------------------------------------------------- samplers
def _samplers(K: int) -> list[tuple[str, str, Callable]]:
    """(label, mode, function bqm -> SampleSet) for every sampler of the table."""
    import neal
    import openjij as oj

    from cimsim.ocean import CIMSampler

    cim = CIMSampler()
    out: list[tuple[str, str, Callable]] = [
        ("neal", "reads", lambda bqm: neal.SimulatedAnnealingSampler().sample(bqm, num_reads=K, seed=SEED)),
        ("openjij-SA", "reads", lambda bqm: _seeded_reads(oj.SASampler(), bqm, K)),
        ("openjij-SQA", "reads", lambda bqm: _seeded_reads(oj.SQASampler(), bqm, K, num_sweeps=SQA_SWEEPS)),
    ]

    def reads(solver: str) -> Callable:
        return lambda bqm: cim.sample(bqm, solver=solver, num_reads=K, polish=False, seed=SEED)

    def stream(solver: str) -> Callable:
        def run(bqm):
            from cimsim.ocean import from_bqm
            from cimsim.solvers import get_solver

            T = int(get_solver(solver).defaults(from_bqm(bqm))["steps"])
            return cim.sample(bqm, solver=solver, sampling=True, num_reads=K, replicas=20, burn_in=T // 2,
                              every=max(1, T // 20), seed=SEED)
        return run

    sampling = set(cim.properties["sampling_solvers"])
    for solver in ("sa", *CIM_SOLVERS):
        out.append((solver, "reads", reads(solver)))
        if solver in sampling:
            out.append((solver, "stream", stream(solver)))
    return out


def _seeded_reads(sampler, bqm, K: int, **kw):
    """K reads of an OpenJij sampler, read k seeded with SEED * 1_000_000 + k. (OpenJij seeds every read of
    one call alike: ``sample(bqm, num_reads=K, seed=s)`` returns K copies of one state.)"""
    import dimod

    labels = list(bqm.variables)
    rows = []
    for k in range(K):
        ss = sampler.sample(bqm, num_reads=1, seed=SEED * 1_000_000 + k, **kw)
        cols = [list(ss.variables).index(v) for v in labels]
        rows.append(np.asarray(ss.record.sample)[0, cols])
    return dimod.SampleSet.from_samples_bqm((np.array(rows, dtype=np.int8), labels), bqm)


def evaluate(ss, model: IsingModel, ground: Ground) -> dict:
    """P_GS, coverage and fairness of a SampleSet over the enumerated ground states (energies recomputed)."""
    cols = [list(ss.variables).index(v) for v in range(model.n)]
    S = np.asarray(ss.record.sample)[:, cols].astype(np.int8)
    occ = np.asarray(ss.record.num_occurrences, dtype=np.int64)
    E = model.energies(S)
    counts = np.zeros(len(ground.index), dtype=np.int64)
    at_ground = E <= ground.e0 + TOL
    for key, c in zip(pack(S[at_ground]), occ[at_ground]):
        counts[ground.index[key]] += c
    total = int(occ.sum())
    f = fairness(counts)
    info = ss.info.get("sampling") if isinstance(ss.info, dict) else None
    trajectories = int(info["runs"]) * int(ss.info["reads_per_batch"]) if info else total
    return {"samples": total, "trajectories": min(trajectories, total), "gs_samples": int(counts.sum()), "p_gs": counts.sum() / total,
            "coverage": float((counts > 0).mean()), "entropy": f["entropy"], "max_min_ratio": f["max_min_ratio"],
            "chi2": f["chi2"], "dof": f["dof"], "p_value": f["p_value"],
            "min_expected": float(counts.sum() / len(counts))}


# ---------------------------------------------------------------------------------------------- main
FIELDS = ["commit", "instance", "n", "ground_states", "e0", "sampler", "mode", "samples", "trajectories", "gs_samples", "p_gs",
          "coverage", "entropy", "max_min_ratio", "chi2", "dof", "p_value", "min_expected", "cpu_s"]


def run(names: list[str], K: int) -> list[dict]:
    from cimsim.ocean import to_bqm

    commit = code_version()
    samplers = _samplers(K)
    rows = []
    for name in names:
        model = IsingModel.from_couplings(INSTANCES[name]())
        bqm = to_bqm(model)
        ground = enumerate_ground(model)
        check_with_dimod(bqm, ground)
        print(f"{name}: N = {model.n}, E0 = {ground.e0:g}, G = {len(ground.index)}", flush=True)
        for label, mode, fn in samplers:
            t = time.process_time()
            ss = fn(bqm)
            cpu = time.process_time() - t
            r = evaluate(ss, model, ground)
            if r["samples"] != K:
                raise SystemExit(f"{label} {mode} returned {r['samples']} samples, not {K}")
            rows.append({"commit": commit, "instance": name, "n": model.n, "ground_states": len(ground.index),
                         "e0": ground.e0, "sampler": label, "mode": mode, **r, "cpu_s": cpu})
            print(f"  {label:12s} {mode:6s} P_GS {r['p_gs']:.3f} coverage {r['coverage']:.3f} "
                  f"S {r['entropy']:.3f} max/min {r['max_min_ratio']:.3g} p {r['p_value']:.2g} cpu {cpu:.1f}s",
                  flush=True)
    return rows


def _fmt(v: float, digits: int = 3) -> str:
    if isinstance(v, float) and not np.isfinite(v):
        return "inf"
    return f"{v + 0.0:.{digits}f}".replace("-0.000", "0.000")


def write(rows: list[dict], out: Path, K: int, load_before: str, load_after: str, cpu_total: float) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{r[k]:.6g}" if isinstance(r[k], float) else r[k]) for k in FIELDS})
    names = list(dict.fromkeys(r["instance"] for r in rows))
    samplers = list(dict.fromkeys((r["sampler"], r["mode"]) for r in rows))
    by = {(r["instance"], r["sampler"], r["mode"]): r for r in rows}
    inst = {r["instance"]: r for r in rows}
    L = [f"# Fair sampling of degenerate ground states: cimsim against neal and OpenJij\n",
         f"Written by `bench/fairness.py` at commit `{rows[0]['commit']}` on "
         f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {K} samples per sampler and "
         f"instance, seed {SEED}; {cpu_total:.0f} CPU-s in all. Load averages (1/5/15 min): before "
         f"{load_before}, after {load_after} (2 cores shared).\n",
         "Instances (see the script's docstring); every ground state enumerated over all 2^N states and the "
         "count checked against `dimod.ExactSolver`:\n",
         "| instance | N | E0 | ground states G |", "|---|---:|---:|---:|"]
    L += [f"| {n} | {inst[n]['n']} | {inst[n]['e0']:g} | {inst[n]['ground_states']} |" for n in names]
    L.append("\n`reads`: independent runs, unpolished final state of each (neal and OpenJij return the same); "
             "`stream`: cimsim's sampling mode (20 replicas, every T/20 steps after a burn-in of T/2). OpenJij SQA "
             f"runs {SQA_SWEEPS} sweeps (its default length would cost about 100 CPU-s per instance); OpenJij's reads are "
             "separate one-read calls with seeds 1e6 + k, because one call with `seed=s` returns K copies of one "
             "state.\n")

    def pivot(title: str, key: str, digits: int = 3, note: str = "") -> None:
        L.append(f"\n## {title}\n")
        if note:
            L.append(note + "\n")
        L.append("| sampler | mode | " + " | ".join(names) + " | median |")
        L.append("|---|---|" + "---:|" * (len(names) + 1))
        for s, m in samplers:
            vals = [by[(n, s, m)][key] for n in names if (n, s, m) in by]
            med = float(np.median(vals)) if vals else float("nan")
            L.append(f"| {s} | {m} | " + " | ".join(_fmt(v, digits) for v in vals) + f" | {_fmt(med, digits)} |")

    pivot("Ground-state probability P_GS", "p_gs")
    pivot("Coverage (fraction of the G ground states seen)", "coverage")
    pivot("Normalised entropy over the ground states (1 = uniform)", "entropy",
          note="Computed on the counts of the G ground states, zeros included. With few ground-state samples "
               "(P_GS x K well below G) it is low for want of samples, not only for bias: read it with P_GS.")
    pivot("max/min ratio of the ground-state counts", "max_min_ratio", 1, note="inf: a ground state never seen.")
    pivot("Chi-square p-value against uniform", "p_value", 3,
          note="Valid for independent samples with at least about 5 expected per state (`min_expected` in "
               "the CSV); stream samples are correlated, so their p-values are too small.")
    L.append("\n## Reading\n")
    L.append(NOTES)
    L.append(_reading(rows))
    out.with_suffix(".md").write_text("\n".join(L) + "\n", encoding="utf-8")


NOTES = """\
How the samples arise matters as much as the sampler. A `reads` row is K independent trajectories, one state
each. A `stream` row is K samples of about 200 trajectories (`trajectories` in the CSV: batches of 20 replicas, each
recorded 10 times after the burn-in): a replica whose amplitudes have bifurcated mostly stays in its state, so its records repeat a few
states, and when none moves the stream's coverage is bounded by its 200 trajectories (ffsq4 has 272 ground
states). Streams are the machine's visit statistics over the second half of the solvers' default schedules, not
independent draws; their chi-square p-values are not tests of fairness.

Every sampler runs at its defaults for the instance; the CIM-family defaults are tuned for solving (SK and Gset
scales), not for sampling, and some do not reach the ground level of these lattices (cfc and sfc on tri4) or fall into one
ground state from a symmetric start (simcim starts every replica at the origin: on ffsq4 its reads are one state).
"""


def _reading(rows: list[dict]) -> str:
    """A few sentences generated from the numbers (medians over instances)."""
    import statistics

    groups: dict = {}
    for r in rows:
        groups.setdefault((r["sampler"], r["mode"]), []).append(r)
    med = {k: (statistics.median(x["entropy"] for x in v), statistics.median(x["coverage"] for x in v),
               statistics.median(x["p_gs"] for x in v)) for k, v in groups.items()}
    order = sorted(med, key=lambda k: -med[k][0])
    lines = ["Median over the instances, by normalised entropy (entropy / coverage / P_GS):", ""]
    lines += [f"- {s} ({m}): {e:.3f} / {c:.3f} / {p:.3f}" for (s, m), (e, c, p) in
              ((k, med[k]) for k in order)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=SAMPLES, help="samples per sampler and instance")
    ap.add_argument("--instances", nargs="*", default=list(INSTANCES), choices=list(INSTANCES))
    ap.add_argument("--out", default=str(OUT), help="output path without suffix (.csv and .md are written)")
    args = ap.parse_args(argv)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    t = time.process_time()
    rows = run(args.instances, args.samples)
    write(rows, Path(args.out), args.samples, load_before, " ".join(f"{x:.2f}" for x in os.getloadavg()),
          time.process_time() - t)
    print(f"wrote {args.out}.csv and .md")


if __name__ == "__main__":
    main()
