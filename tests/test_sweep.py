"""The sweep engine: seeds, store, resume, failures, and dask.distributed execution (issue 7)."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from cimsim.errors import CimsimError
from cimsim.sweep import load_store, run_sweep, task_key, task_seed

ROOT = Path(__file__).resolve().parents[1]


class Work:
    """A picklable sweep function: a few random numbers from the task seed, logging every execution.

    ``counter``: file that gets one line ``tag key`` per execution (append-only, so counts survive crashes).
    ``fail_on``: value of params["x"] that raises (``interrupt_on``: raises KeyboardInterrupt, as Ctrl-C
    would). ``die_marker``: if given and missing, the first task with
    x == die_on creates it and kills its own process (a worker death mid-sweep).
    """

    def __init__(self, counter: Path, tag: str = "run", *, fail_on=None, sleep: float = 0.0,
                 die_marker: Path | None = None, die_on=None, interrupt_on=None):
        self.counter, self.tag, self.fail_on, self.sleep = str(counter), tag, fail_on, sleep
        self.interrupt_on = interrupt_on
        self.die_marker, self.die_on = (str(die_marker) if die_marker else None), die_on

    def sweep_identity(self) -> dict:
        return {"kind": "work"}  # counters, sleeps and injected failures do not change successful rows

    def __call__(self, params: dict, ss: np.random.SeedSequence) -> dict:
        with open(self.counter, "a") as fh:
            fh.write(f"{self.tag} {task_key(params)}\n")
        if self.die_marker is not None and params["x"] == self.die_on and not os.path.exists(self.die_marker):
            Path(self.die_marker).write_text("died\n")
            os._exit(3)
        if self.sleep:
            time.sleep(self.sleep)
        if params["x"] == self.interrupt_on:
            raise KeyboardInterrupt
        if params["x"] == self.fail_on:
            raise ValueError(f"bad x {params['x']}")
        rng = np.random.default_rng(ss)
        u = rng.random(3)
        return {"u": u, "sum": float(u.sum()) + params["x"], "label": f"x{params['x']}", "inf": float("inf")}


__all__ = ["Work"]  # imported by the subprocess scripts below


def executions(counter: Path, tag: str | None = None) -> list[str]:
    if not counter.exists():
        return []
    lines = counter.read_text().split("\n")
    return [ln.split()[1] for ln in lines if ln.strip() and (tag is None or ln.split()[0] == tag)]


TASKS = [{"x": x, "y": y} for x in range(4) for y in ("a", "b")]


# ------------------------------------------------------------------------------------------ serial


def test_task_key_and_seed_are_stable_and_order_independent():
    assert task_key({"a": 1, "b": [1, 2]}) == task_key({"b": [1, 2], "a": 1})
    assert task_key({"a": 1}) != task_key({"a": 2})
    k = task_key({"a": 1})
    a = np.random.default_rng(task_seed(7, k)).random(4)
    b = np.random.default_rng(task_seed(7, k)).random(4)
    c = np.random.default_rng(task_seed(8, k)).random(4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_serial_rows_in_task_order_and_independent_of_order(tmp_path):
    fn = Work(tmp_path / "count")
    out = run_sweep(TASKS, fn, seed=3)
    assert out.complete and out.done == len(TASKS) and out.reused == 0
    assert [(r["x"], r["y"]) for r in out.rows] == [(t["x"], t["y"]) for t in TASKS]
    rev = run_sweep(TASKS[::-1], fn, seed=3)
    by_key = {r["task_key"]: r for r in rev.rows}
    for r in out.rows:
        assert by_key[r["task_key"]] == r
        # the row's numbers really come from the task seed
        u = np.random.default_rng(task_seed(3, task_key({"x": r["x"], "y": r["y"]}))).random(3)
        assert r["u"] == u.tolist()
        assert r["inf"] == float("inf")


def test_store_resume_and_finished_sweep_does_no_work(tmp_path):
    counter = tmp_path / "count"
    first = run_sweep(TASKS[:3], Work(counter, "a"), seed=1, out_dir=tmp_path / "st")
    assert first.done == 3
    full = run_sweep(TASKS, Work(counter, "b"), seed=1, out_dir=tmp_path / "st")
    assert full.done == len(TASKS) - 3 and full.reused == 3
    assert sorted(executions(counter, "b")) == sorted(task_key(t) for t in TASKS[3:])
    again = run_sweep(TASKS, Work(counter, "c"), seed=1, out_dir=tmp_path / "st")
    assert again.done == 0 and again.reused == len(TASKS) and executions(counter, "c") == []
    assert again.rows == full.rows  # stored rows equal fresh rows value for value
    # another sweep seed does not reuse results computed with seed 1
    other = run_sweep(TASKS, Work(counter, "d"), seed=2, out_dir=tmp_path / "st")
    assert other.done == len(TASKS) and other.rows != full.rows
    # the assembled table
    with open(tmp_path / "st" / "results.csv") as fh:
        table = list(csv.DictReader(fh))
    assert [int(r["x"]) for r in table] == [t["x"] for t in TASKS]
    assert [float(r["sum"]) for r in table] == [r["sum"] for r in other.rows]
    assert json.loads((tmp_path / "st" / "summary.json").read_text())["complete"] is True


def test_recompute_ignores_the_store_and_gives_the_same_rows(tmp_path):
    counter = tmp_path / "count"
    first = run_sweep(TASKS, Work(counter, "a"), seed=1, out_dir=tmp_path / "st")
    again = run_sweep(TASKS, Work(counter, "b"), seed=1, out_dir=tmp_path / "st", recompute=True)
    assert again.done == len(TASKS) and again.reused == 0
    assert sorted(executions(counter, "b")) == sorted(task_key(t) for t in TASKS)
    assert again.rows == first.rows


def test_ctrl_c_propagates_and_keeps_the_finished_tasks(tmp_path):
    counter = tmp_path / "count"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(TASKS, Work(counter, "a", interrupt_on=2), seed=1, out_dir=tmp_path / "st", progress=True)
    stored = load_store(tmp_path / "st")
    assert set(stored) == {task_key(t) for t in TASKS[:4]}  # the tasks before x == 2, none recorded as failed
    assert all(r["status"] == "ok" for r in stored.values())
    out = run_sweep(TASKS, Work(counter, "b"), seed=1, out_dir=tmp_path / "st")
    assert out.complete and out.reused == 4 and out.done == len(TASKS) - 4


def test_parquet_table_when_pyarrow_is_installed(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = run_sweep(TASKS, Work(tmp_path / "c"), seed=1, out_dir=tmp_path / "st")
    table = pq.read_table(tmp_path / "st" / "results.parquet").to_pylist()
    assert [(r["x"], r["y"], r["sum"], r["task_key"]) for r in table] == [
        (r["x"], r["y"], r["sum"], r["task_key"]) for r in out.rows]
    assert [json.loads(r["u"]) for r in table] == [r["u"] for r in out.rows]  # lists stored as JSON text


class Scaled:
    """A callable object whose configuration changes its results."""

    def __init__(self, factor: float):
        self.factor = factor

    def __call__(self, params, ss):
        return {"v": self.factor * np.random.default_rng(ss).random()}


def _scaled(params, ss, factor=1.0):
    return {"v": factor * np.random.default_rng(ss).random()}


def test_changed_function_configuration_is_not_reused(tmp_path):
    import functools

    from cimsim.sweep import fn_identity

    st = tmp_path / "st"
    a = run_sweep(TASKS, Scaled(1.0), seed=0, out_dir=st)
    b = run_sweep(TASKS, Scaled(2.0), seed=0, out_dir=st)
    assert b.done == len(TASKS) and b.reused == 0
    assert [r["v"] for r in b.rows] == [2 * r["v"] for r in a.rows]
    c = run_sweep(TASKS, Scaled(2.0), seed=0, out_dir=st)
    assert c.done == 0 and c.rows == b.rows
    assert fn_identity(functools.partial(_scaled, factor=1.0)) != fn_identity(functools.partial(_scaled, factor=2.0))
    assert fn_identity(_scaled) == fn_identity(_scaled) and "#" not in fn_identity(_scaled)
    from cimsim.studies import AnnealTask, InstanceSpec

    assert fn_identity(AnnealTask(InstanceSpec.sk(8, 1))) != fn_identity(AnnealTask(InstanceSpec.sk(8, 2)))


def test_raising_task_is_recorded_and_others_finish(tmp_path):
    counter = tmp_path / "count"
    out = run_sweep(TASKS, Work(counter, fail_on=2), seed=0, out_dir=tmp_path / "st")
    assert not out.complete
    assert len(out.failed) == 2 and {f["x"] for f in out.failed} == {2}
    assert all(f["error"] == "ValueError: bad x 2" for f in out.failed)
    assert len(out.rows) == len(TASKS) - 2
    store = load_store(tmp_path / "st")
    assert sum(r["status"] == "failed" for r in store.values()) == 2
    summary = json.loads((tmp_path / "st" / "summary.json").read_text())
    assert summary["failed"] == 2 and summary["complete"] is False
    assert "2 failed" in out.summary() and "failed " + out.failed[0]["task_key"] in out.summary()
    # a re-run retries only the failed tasks
    fixed = run_sweep(TASKS, Work(counter, "fix"), seed=0, out_dir=tmp_path / "st")
    assert fixed.complete and fixed.done == 2 and fixed.reused == len(TASKS) - 2
    assert len(executions(counter, "fix")) == 2


def test_bad_arguments_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CimsimError):
        run_sweep(TASKS, Work(tmp_path / "c"), out_dir=tmp_path / "file")
    with pytest.raises(CimsimError):
        run_sweep(TASKS, Work(tmp_path / "c"), workers=0)
    with pytest.raises(CimsimError):
        run_sweep(TASKS, Work(tmp_path / "c"), scheduler="no-port", out_dir=tmp_path / "st")
    assert not (tmp_path / "st").exists()


def _spawn(script: str, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _kill_when_stored(proc: subprocess.Popen, store: Path, at_least: int, timeout: float = 60) -> int:
    t0 = time.time()
    while time.time() - t0 < timeout:
        n = len(list((store / "tasks").glob("*.json"))) if (store / "tasks").is_dir() else 0
        if n >= at_least:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return n
        if proc.poll() is not None:
            raise AssertionError(f"sweep process ended early: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("timed out waiting for stored tasks")


MANY = [{"x": x} for x in range(12)]


def test_killed_serial_client_resumes_only_missing(tmp_path):
    store, counter = tmp_path / "st", tmp_path / "count"
    proc = _spawn(f"""
        from tests.test_sweep import Work, MANY
        from cimsim.sweep import run_sweep
        run_sweep(MANY, Work({str(counter)!r}, "first", sleep=0.15), seed=5, out_dir={str(store)!r})
    """)
    _kill_when_stored(proc, store, 3)
    stored = set(load_store(store))
    assert 3 <= len(stored) < len(MANY)
    out = run_sweep(MANY, Work(counter, "resume"), seed=5, out_dir=store)
    assert out.complete and out.reused == len(stored) and out.done == len(MANY) - len(stored)
    assert set(executions(counter, "resume")) == {task_key(t) for t in MANY} - stored
    assert len(executions(counter, "resume")) == len(MANY) - len(stored)
    assert out.rows == run_sweep(MANY, Work(counter, "ref"), seed=5).rows


# ------------------------------------------------------------------------------------------ dask

@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as lc:
        yield lc


@pytest.fixture
def client(cluster):
    from distributed import Client

    with Client(cluster) as c:
        yield c


def test_distributed_table_equals_serial(tmp_path, client):
    serial = run_sweep(TASKS, Work(tmp_path / "c1"), seed=11, out_dir=tmp_path / "serial")
    dist = run_sweep(TASKS, Work(tmp_path / "c2"), seed=11, out_dir=tmp_path / "dist", client=client)
    assert dist.mode.startswith("dask") and dist.done == len(TASKS)
    assert dist.rows == serial.rows
    assert (tmp_path / "serial" / "results.csv").read_text() == (tmp_path / "dist" / "results.csv").read_text()


class BigWork(Work):
    """A sweep function dragging 2 MB of data along (broadcast once instead of shipped per task)."""

    def __init__(self, counter):
        super().__init__(counter)
        self.blob = np.arange(1 << 18, dtype=np.float64)

    def __call__(self, params, ss):
        row = super().__call__(params, ss)
        row["blob_sum"] = float(self.blob.sum())
        return row


def test_distributed_big_function_is_broadcast(tmp_path, client):
    serial = run_sweep(TASKS, BigWork(tmp_path / "c1"), seed=12)
    dist = run_sweep(TASKS, BigWork(tmp_path / "c2"), seed=12, client=client)
    assert dist.rows == serial.rows and dist.rows[0]["blob_sum"] == float(np.arange(1 << 18).sum())


def test_distributed_raising_task_recorded(tmp_path, client):
    out = run_sweep(TASKS, Work(tmp_path / "c", fail_on=1), seed=0, out_dir=tmp_path / "st", client=client)
    assert {f["x"] for f in out.failed} == {1} and len(out.rows) == len(TASKS) - 2
    assert out.failed[0]["error"] == "ValueError: bad x 1"


def test_worker_killed_mid_sweep_still_completes(tmp_path, client):
    fn = Work(tmp_path / "c", sleep=0.05, die_marker=tmp_path / "died", die_on=2)
    out = run_sweep(MANY, fn, seed=4, out_dir=tmp_path / "st", client=client)
    assert (tmp_path / "died").exists()  # a worker process really died
    assert out.complete and out.done == len(MANY)
    assert out.rows == run_sweep(MANY, Work(tmp_path / "c2"), seed=4).rows
    client.wait_for_workers(2, timeout=30)


def test_killed_distributed_client_resumes_only_missing(tmp_path, cluster, client):
    store, counter = tmp_path / "st", tmp_path / "count"
    proc = _spawn(f"""
        from tests.test_sweep import Work, MANY
        from cimsim.sweep import run_sweep
        run_sweep(MANY, Work({str(counter)!r}, "first", sleep=0.2), seed=9, out_dir={str(store)!r},
                  scheduler={cluster.scheduler_address!r})
    """)
    _kill_when_stored(proc, store, 2)
    stored = set(load_store(store))
    assert 2 <= len(stored) < len(MANY)
    out = run_sweep(MANY, Work(counter, "resume"), seed=9, out_dir=store, client=client)
    assert out.complete and out.reused == len(stored) and out.done == len(MANY) - len(stored)
    assert sorted(executions(counter, "resume")) == sorted({task_key(t) for t in MANY} - stored)
    assert out.rows == run_sweep(MANY, Work(counter, "ref"), seed=9).rows


def test_anneal_study_on_own_local_cluster_equals_serial(tmp_path):
    """The default CLI path: run_sweep starts (and stops) its own LocalCluster from ``workers``."""
    pytest.importorskip("distributed")
    from cimsim.studies import InstanceSpec, prepare_study, run_anneal_study

    prep = prepare_study(InstanceSpec.sk(10, 1), solver="cim", sweeps={"steps": [10, 100]}, runs=8, chunk=4)
    serial, _ = run_anneal_study(prep, seed=6, n_boot=200)
    dist, outcome = run_anneal_study(prep, seed=6, n_boot=200, workers=2, out_dir=tmp_path / "st")
    assert outcome.mode == "local:2" and outcome.done == 4
    timing = ("t_run_s", "tts_s", "tts_s_lo", "tts_s_hi", "wall_s")
    strip = lambda rows: [{k: v for k, v in r.items() if k not in timing} for r in rows]  # noqa: E731
    assert strip(dist.rows) == strip(serial.rows)


def test_without_dask_runs_serially_and_says_so_once(tmp_path, monkeypatch, capsys):
    import cimsim.sweep as sweep

    monkeypatch.setattr(sweep, "dask_available", lambda: False)
    monkeypatch.setattr(sweep, "_warned_no_dask", False)
    a = run_sweep(TASKS[:3], Work(tmp_path / "c"), seed=1, workers=2)
    b = run_sweep(TASKS[:3], Work(tmp_path / "c"), seed=1, scheduler="tcp://127.0.0.1:1")
    err = capsys.readouterr().err
    assert err.count("not installed") == 1
    assert a.mode == b.mode == "serial" and a.rows == b.rows and a.complete


def test_local_cluster_worker_compiles_after_pinning_threads(tmp_path):
    """The workers' numba config follows their NUMBA_NUM_THREADS=1 env. A LocalCluster's worker processes
    re-import the client's ``__main__``; when that imports numba (bench/run.py, any script importing
    cimsim), numba's config was read before the cluster's env arrived and kept the core count, and a task
    that pinned numba to one thread (bench/calls.py) then failed at its next compilation with "Cannot set
    NUMBA_NUM_THREADS to a different value once the threads have been launched". Run as a script, since the
    re-import is what matters."""
    pytest.importorskip("distributed")
    script = tmp_path / "pin.py"
    script.write_text(textwrap.dedent("""
        import json, sys
        import numba
        import numpy as np
        from cimsim.sweep import run_sweep

        def task(params, seed_seq):
            numba.set_num_threads(1)

            @numba.njit(parallel=True)
            def total(x):
                s = 0.0
                for i in numba.prange(x.size):
                    s += x[i]
                return s

            return {"total": float(total(np.arange(params["n"], dtype=np.float64))),
                    "pool": numba.config.NUMBA_NUM_THREADS}

        if __name__ == "__main__":
            out = run_sweep([{"n": 10}, {"n": 100}], task, workers=2, out_dir=sys.argv[1])
            print(json.dumps({"mode": out.mode, "failed": [f["error"] for f in out.failed],
                              "rows": [[r["total"], r["pool"]] for r in out.rows]}))
    """))
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "store")], capture_output=True, text=True,
                          timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["mode"] == "local:2" and got["failed"] == []
    assert sorted(got["rows"]) == [[45.0, 1], [4950.0, 1]]
