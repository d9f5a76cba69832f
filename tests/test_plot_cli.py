"""`cimsim plot`: every saved result kind renders to real PNG / PDF files; bad inputs are one-line errors."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import cimsim
from cimsim.cli import cli, main
from cimsim.cli.plot import _anneal_from_csv

from .conftest import PROBLEMS

PNG = b"\x89PNG\r\n\x1a\n"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        main(args)
    out, err = capsys.readouterr()
    return int(ex.value.code or 0), out, err


def _is_figure(path: Path, fmt: str = "png") -> bool:
    head = path.read_bytes()[:8]
    return head == PNG if fmt == "png" else head.startswith(b"%PDF")


@pytest.fixture(scope="module")
def anneal_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("anneal")
    r = CliRunner().invoke(cli, ["anneal", "--sk", "10", "--solver", "sa", "--sweep", "steps=4,40", "--runs", "8",
                                        "--chunk", "8", "--bootstrap", "50", "--workers", "1", "--no-plots",
                                        "--no-record", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_anneal_directory_renders_tts_and_energies(anneal_dir, tmp_path, capsys, fmt):
    code, out, err = run(["plot", str(anneal_dir), "--out", str(tmp_path), "--format", fmt], capsys)
    assert code == 0, err
    files = [Path(line) for line in out.split()]
    assert {f.name for f in files} == {f"anneal_tts_steps.{fmt}", f"anneal_tts_seconds.{fmt}", f"anneal_energies.{fmt}"}
    assert all(_is_figure(f, fmt) for f in files)


def test_anneal_csv_keeps_the_swept_columns(anneal_dir, tmp_path, capsys):
    rows, swept = _anneal_from_csv(anneal_dir / "anneal.csv")
    assert swept == ["steps"] and [r["steps"] for r in rows] == [4, 40]
    assert all(isinstance(r["p_success"], float) for r in rows)
    code, out, _ = run(["plot", str(anneal_dir / "anneal.csv"), "-o", str(tmp_path), "-q"], capsys)
    assert code == 0 and out == ""
    assert _is_figure(tmp_path / "anneal_tts_steps.png")


def test_anneal_csv_with_fixed_steps(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("setting,noise,steps,runs,status,tts_steps,p_success\n0,0.0,100,8,ok,inf,0.0\n1,0.1,100,8,ok,250.5,0.5\n")
    rows, swept = _anneal_from_csv(p)
    assert swept == ["noise"] and rows[0]["tts_steps"] == float("inf")


def test_solve_json_and_result_trajectories(tmp_path, capsys):
    rec = tmp_path / "r.json"
    code, _, err = run(["solve", "maxcut", str(PROBLEMS / "maxcut_w20.txt"), "--seed", "0", "--json", str(rec), "-q"], capsys)
    assert code == 0, err
    res = cimsim.solve("maxcut", PROBLEMS / "maxcut_w20.txt", "cim", seed=0, replicas=4, steps=60, record=True)
    (tmp_path / "traj.json").write_text(res.to_json())
    code, out, err = run(["plot", str(rec), str(tmp_path / "traj.json")], capsys)
    assert code == 0, err
    names = {Path(line).name for line in out.split()}
    assert names == {"r.png", "traj.png", "traj_trajectories.png"}
    assert all(_is_figure(tmp_path / n) for n in names)


def test_landscape_points_and_json(tmp_path, capsys):
    code, _, err = run(["landscape", "--n", "10", "--a", "-0.2", "--starts", "3", "--seed", "2", "-q",
                        "--json", str(tmp_path / "l.json"), "--points", str(tmp_path / "p.npz")], capsys)
    assert code == 0, err
    code, out, err = run(["plot", str(tmp_path / "p.npz"), str(tmp_path / "l.json"), "-f", "pdf"], capsys)
    assert code == 0, err
    names = {Path(line).name for line in out.split()}
    assert names == {"p_energies.pdf", "p_lowest.pdf", "l.pdf"}
    assert all(_is_figure(tmp_path / n, "pdf") for n in names)


def test_phase_diagram_directory_from_its_task_store(tmp_path, capsys):
    pd = tmp_path / "pd"
    code, _, err = run(["phase-diagram", "--n", "10", "--a-min", "-1", "--a-max", "0", "--a-steps", "2",
                        "--instances", "1", "--starts", "2", "--path-da", "0.25", "--out", str(pd), "-q",
                        "--workers", "1"], capsys)
    assert code == 0, err
    for f in pd.glob("*.png"):
        f.unlink()
    code, out, err = run(["plot", str(pd / "phase.json")], capsys)
    assert code == 0, err
    files = [Path(line) for line in out.split()]
    assert len(files) >= 4 and all(f.parent == pd and _is_figure(f) for f in files)


@pytest.mark.parametrize("content, msg", [
    ('{"hello": 1}', "cannot tell which result"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
])
def test_bad_inputs_are_one_line_errors(tmp_path, capsys, content, msg):
    p = tmp_path / "x.json"
    p.write_text(content)
    code, out, err = run(["plot", str(p)], capsys)
    assert code == 2 and msg in err and err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.glob("*.png"))


def test_missing_input_and_empty_directory(tmp_path, capsys):
    code, _, err = run(["plot", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "no such file" in err
    code, _, err = run(["plot", str(tmp_path)], capsys)
    assert code == 2 and "no anneal.json" in err


def test_every_command_help_shows_an_example(capsys):
    from cimsim.cli import COMMANDS

    for name in COMMANDS:
        code, out, _ = run([name, "--help"], capsys)
        assert code == 0 and "Examples:" in out and f"cimsim {name}" in out, name
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.startswith("cimsim ")


def test_a_bad_input_among_good_ones_draws_nothing(anneal_dir, tmp_path, capsys):
    (tmp_path / "junk.npz").write_text("not an archive")
    out = tmp_path / "figs"
    code, _, err = run(["plot", str(anneal_dir), str(tmp_path / "junk.npz"), "--out", str(out)], capsys)
    assert code == 2 and "not a NumPy .npz archive" in err
    assert not list(out.glob("*"))
