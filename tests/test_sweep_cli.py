"""The sweep commands as a user runs them (the installed ``cimsim`` in a subprocess): a re-run of a finished
sweep does nothing, ``--force`` recomputes it, and Ctrl-C stops with one line and exit status 130, keeping
the finished tasks for the re-run (issue 19)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: the installed command (the console script next to this interpreter when it is not on PATH)
CIMSIM = shutil.which("cimsim") or str(Path(sys.executable).with_name("cimsim"))


def cimsim(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([CIMSIM, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``directory`` with its bytes and modification time (ns)."""
    return {str(p.relative_to(directory)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def summary(directory: Path) -> dict:
    return json.loads((directory / "summary.json").read_text())


def test_finished_anneal_rerun_does_nothing_and_force_recomputes(tmp_path):
    out = tmp_path / "study"
    argv = ["anneal", "--sk", 8, "--instance-seed", 1, "--sweep", "steps=5,60", "--runs", 6, "--chunk", 3,
            "--workers", 1, "--bootstrap", 100, "--no-record", "--out", out]
    first = cimsim(*argv)
    assert first.returncode == 0, first.stderr
    assert summary(out)["done"] == 4
    before = snapshot(out)
    assert {"anneal.json", "anneal.csv", "results.csv", "summary.json", "tts_steps.png"} <= set(before)

    again = cimsim(*argv)
    assert again.returncode == 0, again.stderr
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "nothing to do" in lines[0] and "4 tasks" in lines[0], again.stderr
    assert again.stdout == ""
    assert snapshot(out) == before  # not one file touched

    # a result file gone: the study is rebuilt from the store without computing a task
    (out / "energies.png").unlink()
    rebuilt = cimsim(*argv, "-q")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (out / "energies.png").is_file() and summary(out)["done"] == 0 and summary(out)["reused"] == 4

    forced = cimsim(*argv, "-q", "--force")
    assert forced.returncode == 0, forced.stderr
    assert summary(out)["done"] == 4 and summary(out)["reused"] == 0
    old_rows = json.loads(before["anneal.json"][0])["rows"]
    new_rows = json.loads((out / "anneal.json").read_text())["rows"]
    timing = ("t_run_s", "tts_s", "tts_s_lo", "tts_s_hi", "wall_s")
    strip = lambda rows: [{k: v for k, v in r.items() if k not in timing} for r in rows]  # noqa: E731
    assert strip(new_rows) == strip(old_rows)  # same seeds, same runs

    # another setting on the same --out is not a finished sweep: it runs, reusing the tasks it shares
    more = cimsim(*[a if a != "steps=5,60" else "steps=5,60,100" for a in argv], "-q")
    assert more.returncode == 0, more.stderr
    assert summary(out)["done"] == 2 and summary(out)["reused"] == 4


def test_finished_phase_diagram_rerun_does_nothing(tmp_path):
    out = tmp_path / "pd"
    argv = ["phase-diagram", "--n", 10, "--a-min", -1, "--a-max", 0, "--a-steps", 2, "--instances", 1,
            "--starts", 2, "--path-da", 0.25, "--workers", 1, "--out", out]
    first = cimsim(*argv)
    assert first.returncode == 0, first.stderr
    assert summary(out)["done"] == 3
    before = snapshot(out)
    again = cimsim(*argv)
    assert again.returncode == 0, again.stderr
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "nothing to do" in lines[0], again.stderr
    assert snapshot(out) == before
    forced = cimsim(*argv, "--force", "-q")
    assert forced.returncode == 0, forced.stderr
    assert summary(out)["done"] == 3 and summary(out)["reused"] == 0
    assert json.loads((out / "phase.json").read_text())["rows"] == json.loads(before["phase.json"][0])["rows"]


def _descendants(pid: int) -> list:
    psutil = pytest.importorskip("psutil")
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_ctrl_c_stops_anneal_in_one_line_and_the_rerun_resumes(tmp_path):
    pytest.importorskip("distributed")
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "study"
    # ten tasks of about half a second each (more on a busy machine) on two workers
    argv = ["anneal", "--sk", 48, "--steps", 40000, "--runs", 40, "--chunk", 4, "--workers", 2, "--no-plots",
            "--no-record", "--bootstrap", 100, "-q", "--out", out]
    # a terminal's Ctrl-C signals the whole foreground process group: the command and its dask workers
    proc = subprocess.Popen([CIMSIM, *map(str, argv)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (out / "tasks").is_dir() or not any((out / "tasks").glob("*.json")):
            assert proc.poll() is None, f"ended before any task was stored: {proc.communicate()[1][-2000:]}"
            assert time.monotonic() < deadline, "no task stored within the time limit"
            time.sleep(0.02)
        workers = _descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0] and "re-run" in lines[0], stderr
    assert len(workers) >= 2  # the local cluster's worker processes ...
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive  # ... were shut down with it
    stored = len(list((out / "tasks").glob("*.json")))
    assert 1 <= stored < 10
    assert not (out / "anneal.json").exists()

    again = cimsim(*argv)
    assert again.returncode == 0, again.stderr
    s = summary(out)
    assert s["complete"] is True and s["tasks"] == 10 and s["reused"] >= stored and s["done"] + s["reused"] == 10
    assert json.loads((out / "anneal.json").read_text())["complete"] is True
