"""Ctrl-C (issue 19.6): a run stops within about a second and keeps the best state found so far.

The chunked numba kernels (sa, tabu) must make exactly the moves of one uninterrupted call; the driver
returns the best state marked ``interrupted``; ``cimsim solve`` prints one line, exits 130 and writes the
record with ``"interrupted": true``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim import pipeline
from cimsim.instances import sk_model
from cimsim.model import IsingModel
from cimsim.solvers import budget, get_solver, solve

from .conftest import PROBLEMS


def _models() -> dict[str, IsingModel]:
    rng = np.random.default_rng(3)
    n = 200
    B = sp.random(n, n, density=0.05, random_state=1, data_rvs=lambda k: rng.standard_normal(k))
    B = sp.triu(B, 1)
    return {
        "csr-lattice": pipeline.encode("maxcut", PROBLEMS / "G1.txt").model,
        "csr": IsingModel((B + B.T).tocsr(), rng.standard_normal(n)),
        "dense": IsingModel(sk_model(120, 0).J, rng.standard_normal(120)),
    }


@pytest.mark.parametrize("solver, params", [("sa", {"record": True}), ("tabu", {"stall": 300})])
def test_chunked_kernels_equal_one_call(monkeypatch, solver, params):
    """Many tiny chunks (one step each) and one chunk per call give identical runs on every kernel."""
    for kernel, model in _models().items():
        runs = []
        for chunk_s in (1e-12, 1e12):
            monkeypatch.setattr(budget, "CHUNK_S", chunk_s)
            runs.append(get_solver(solver).run(model, replicas=3, steps=400, rng=np.random.default_rng(7), **params))
        a, b = runs
        assert a.settings["kernel"] == kernel and a.steps == b.steps == 400
        np.testing.assert_array_equal(a.spins, b.spins)
        for key in set(a.extra) | set(b.extra):
            np.testing.assert_array_equal(a.extra[key], b.extra[key], err_msg=f"{solver} {kernel} {key}")


def test_chunked_sa_equals_the_whole_schedule_kernel():
    """sa.run (chunked) against the one-call kernel on the same start, schedule and random streams."""
    from cimsim.kernels.sa import anneal_csr_lattice
    from cimsim.solvers import sa
    from cimsim.spins import start_spins

    m = _models()["csr-lattice"]
    b = sa.run(m, replicas=2, steps=300, rng=np.random.default_rng(5))
    rng = np.random.default_rng(5)
    S = start_spins(None, 2, m.n, rng)
    seeds = rng.integers(1, np.iinfo(np.int64).max, size=2, dtype=np.int64).astype(np.uint64)
    E = np.asarray(m.energies(S), dtype=np.float64).copy()
    flips = anneal_csr_lattice(m.J.indptr, m.J.indices, *sa.lattice_form(m), S, E,
                               sa.beta_schedule(*sa.beta_range(m), 300), seeds, np.empty((2, 0)))
    np.testing.assert_array_equal(S, b.spins)
    np.testing.assert_array_equal(flips, b.extra["accepted_flips"])
    np.testing.assert_array_equal(E, b.extra["final_energies"])


def _sigint_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("solver, steps", [("sa", 10**6), ("tabu", 10**9)])
def test_driver_returns_the_best_so_far_on_ctrl_c(solver, steps):
    """A batch that would run for an hour stops soon after SIGINT; the result is marked interrupted and its
    energy is the energy of its spins; the previous SIGINT handler is restored."""
    m = sk_model(2000, 1)
    previous = signal.getsignal(signal.SIGINT)
    timer = _sigint_after(1.0)
    t0 = time.perf_counter()
    try:
        r = solve(m, solver, replicas=2, steps=steps, seed=0, keep_on_interrupt=True)
    finally:
        timer.cancel()
    assert time.perf_counter() - t0 < 30  # the uninterrupted run would take hours
    assert r.extra["interrupted"] is True
    assert 0 < r.extra["batch_steps"][0] < steps
    assert r.energy == pytest.approx(m.energy(r.spins), abs=1e-9)
    assert signal.getsignal(signal.SIGINT) is previous


def _big_graph(path: Path, n: int = 100_000, seed: int = 0) -> Path:
    """A sparse +-1 graph of n vertices, about 3 n distinct edges (Gset format)."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, 3 * n)
    j = rng.integers(0, n, 3 * n)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    keys = np.unique(lo[lo != hi].astype(np.int64) * n + hi[lo != hi])
    lo, hi = keys // n, keys % n
    w = rng.choice([-1, 1], size=keys.size)
    lines = "".join(f"{a + 1} {b + 1} {c}\n" for a, b, c in zip(lo.tolist(), hi.tolist(), w.tolist()))
    path.write_text(f"{n} {keys.size}\n{lines}")
    return path


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to see the run has started")
def test_cli_ctrl_c_writes_the_best_so_far(tmp_path):
    graph = _big_graph(tmp_path / "big.txt")
    out = tmp_path / "out.json"
    proc = subprocess.Popen(["cimsim", "solve", "maxcut", str(graph), "--solver", "sa", "--time-limit", "60",
                             "--json", str(out), "--seed", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        # started solving: import and reading the graph take about 3 CPU-s; wait for well past that
        t0 = time.perf_counter()
        while proc.poll() is None and _cpu_seconds(proc.pid) < 8 and time.perf_counter() - t0 < 50:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        reaction = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert reaction < 5, reaction  # a 60 s run: without chunked kernels sa took about 7 s to see the signal
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0], stderr
    assert "interrupted" in stdout  # the summary of what was found
    d = json.loads(out.read_text())
    assert d["interrupted"] is True and d["n_spins"] == 100_000 and d["time_s"] < 60
    enc = pipeline.encode("maxcut", graph)
    spins = np.array(d["spins"], dtype=np.int8)
    assert d["energy"] == pytest.approx(enc.model.energy(spins), abs=1e-6)
    sol = enc.decode(spins)
    assert d["cut"] == pytest.approx(sol.objective) and d["objective"] == d["cut"]
    assert d["batches"] == len(d["batch_steps"]) >= 1


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_without_keep_on_interrupt_ctrl_c_raises_soon():
    """A caller running many solves (a study) gets KeyboardInterrupt, soon: the chunked kernel sees it."""
    m = sk_model(2000, 1)
    timer = _sigint_after(1.0)
    t0 = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            solve(m, "sa", replicas=2, steps=10**6, seed=0)
    finally:
        timer.cancel()
    assert time.perf_counter() - t0 < 30
