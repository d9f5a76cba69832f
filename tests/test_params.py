"""Declared solver parameters: one-line refusals (API and CLI), recorded settings, one extra vocabulary,
and the documentation table that must match the declarations."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cimsim.cli import main
from cimsim.cli.solvers import docs_block, extra_markdown, markdown_all, markdown_table, solver_info
from cimsim.errors import CimsimError
from cimsim.model import IsingModel
from cimsim.params import Param, describe, validate
from cimsim.result import EXTRA_KEYS, Result
from cimsim.solvers import SOLVERS, get_solver, solve

ROOT = Path(__file__).resolve().parents[1]
EXTRA_NAMES = {row[0] for row in EXTRA_KEYS}


def torus_edges(L: int = 4, seed: int = 0) -> list[tuple[int, int, float]]:
    """+-1 bonds of an L x L torus, spin r * L + c (a graph every solver accepts: N = 16 <= 24 for exact,
    a square lattice for matching)."""
    rng = np.random.default_rng(seed)
    edges = []
    for r in range(L):
        for c in range(L):
            i = r * L + c
            for j in (r * L + (c + 1) % L, ((r + 1) % L) * L + c):
                edges.append((min(i, j), max(i, j), float(rng.choice([-1.0, 1.0]))))
    return edges


def torus_model() -> IsingModel:
    J = np.zeros((16, 16))
    for i, j, w in torus_edges():
        J[i, j] = J[j, i] = w
    return IsingModel.from_couplings(J, storage="sparse")


@pytest.fixture(scope="module")
def torus_file(tmp_path_factory) -> Path:
    edges = torus_edges()
    path = tmp_path_factory.mktemp("params") / "torus16.txt"
    path.write_text(f"16 {len(edges)}\n" + "".join(f"{i + 1} {j + 1} {w:g}\n" for i, j, w in edges))
    return path


def declared(name: str) -> tuple[Param, ...]:
    params = getattr(get_solver(name), "PARAMS", None)
    assert params is not None, f"solver {name} declares no PARAMS"
    return params


def bad_values(name: str) -> list[tuple[str, str, str]]:
    """``(key, value, words the message must contain)`` for one solver: an unknown key, and where the
    solver has them a bad boolean, a non-numeric number and an out-of-range value (strings, as the
    command line passes them)."""
    params = declared(name)
    cases = [("no_such_parameter", "1", "unknown parameter")]
    boolean = next((p for p in params if p.kind == "bool"), None)
    if boolean is not None:
        cases.append((boolean.name, "maybe", "true or false"))
    number = next((p for p in params if p.kind in ("int", "float")), None)
    if number is not None:
        cases.append((number.name, "abc", "must be a number"))
    bounded = next((p for p in params if p.kind in ("int", "float") and p.low is not None), None)
    if bounded is not None:
        cases.append((bounded.name, str(bounded.low - 1), "must be"))
    choice = next((p for p in params if p.kind == "choice"), None)
    if choice is not None:
        cases.append((choice.name, "nonsense", "must be one of"))
    return cases


CASES = [(name, *case) for name in SOLVERS for case in bad_values(name)]


def test_every_solver_declares_its_parameters_and_defaults_pass_their_own_checks():
    for name in SOLVERS:
        params = declared(name)
        assert len({p.name for p in params}) == len(params), name
        for p in params:
            assert p.doc and "\n" not in p.doc, (name, p.name)
        validate(params, {}, name)  # every default (or "automatic") is admissible


@pytest.mark.parametrize("name,key,value,words", CASES)
def test_bad_parameter_is_one_line_error(name, key, value, words):
    with pytest.raises(CimsimError) as exc:
        solve(torus_model(), name, replicas=2, steps=5, seed=0, **{key: value})
    message = str(exc.value)
    assert "\n" not in message and words in message and key in message and name in message


def test_named_cases_from_the_issue():
    m = torus_model()
    with pytest.raises(CimsimError, match="cim: parameter finish must be true or false, got 'maybe'"):
        solve(m, "cim", replicas=2, steps=5, seed=0, finish="maybe")
    with pytest.raises(CimsimError, match="tabu: parameter tenure_rand must be a number, got 'abc'"):
        solve(m, "tabu", replicas=2, steps=5, seed=0, tenure_rand="abc")
    with pytest.raises(CimsimError, match="tabu: parameter tenure_rand must be >= 0"):
        solve(m, "tabu", replicas=2, steps=5, seed=0, tenure_rand=-1)
    with pytest.raises(CimsimError, match="unknown parameter x0; known: .*init_scale"):
        solve(m, "cim", replicas=2, steps=5, seed=0, x0=0.1)
    with pytest.raises(CimsimError, match="sb: parameter dt must be > 0, got 0"):
        solve(m, "sb", replicas=2, steps=5, seed=0, dt=0)
    with pytest.raises(CimsimError, match="must be an integer"):
        solve(m, "spectral", replicas=2, steps=1, seed=0, k=2.5)
    with pytest.raises(CimsimError, match="must be a number"):
        solve(m, "sa", replicas=2, steps=5, seed=0, beta_max=True)  # a boolean is not a number
    with pytest.raises(CimsimError, match="must be finite"):
        solve(m, "cac", replicas=2, steps=5, seed=0, alpha=float("nan"))


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.mark.parametrize("name,key,value,words", CASES)
def test_bad_parameter_on_the_command_line_exits_2_with_one_line(name, key, value, words, torus_file, capsys):
    code, out, err = run_cli(["solve", "maxcut", torus_file, "--solver", name, "--steps", 5, "--seed", 0,
                              "-q", "-p", f"{key}={value}"], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cimsim: error: ") and words in lines[0]
    assert "Traceback" not in err


def test_valid_run_records_the_validated_settings():
    m = torus_model()
    r = solve(m, "cim", replicas=2, steps=20, seed=0, dt="0.05", record="yes", readout=" 5", track_best="off",
              init_scale=1e-2)
    s = r.settings
    assert s["dt"] == 0.05 and isinstance(s["dt"], float)
    assert s["record"] is True and s["track_best"] is False
    assert s["readout"] == 5 and isinstance(s["readout"], int)
    assert s["init_scale"] == 0.01 and s["noise"] == 0.05  # the filled-in automatic default
    assert s["schedule"]["kind"] == "linear" and s["schedule"]["relative"] is False  # resolved against lambda_max
    t = solve(m, "tabu", replicas=2, steps=50, seed=0, tenure="3", tenure_rand=0).settings
    assert (t["tenure"], t["tenure_rand"], t["stall"], t["breakout_flips"]) == (3, 0, 125 * 16, 2)
    c = solve(m, "cac", replicas=1, steps=20, seed=0).settings
    assert c["coupling"] == pytest.approx(3 * 16 / (2 * len(torus_edges()))) and c["target"] is None


def test_installed_command_refuses_a_bad_boolean_in_one_line(torus_file):
    exe = shutil.which("cimsim")
    if exe is None:
        pytest.skip("the cimsim command is not installed")
    proc = subprocess.run([exe, "solve", "maxcut", str(torus_file), "--solver", "cim", "-q", "-p", "finish=maybe"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["cimsim: error: cim: parameter finish must be true or false, got 'maybe'"]


def test_command_line_json_records_the_validated_settings(torus_file, capsys):
    code, out, err = run_cli(["solve", "maxcut", torus_file, "--solver", "cim", "--steps", 20, "--seed", 0,
                              "-p", "finish=off", "-p", "dt=0.05", "-p", "readout=4", "--json", "-"], capsys)
    assert code == 0, err
    s = json.loads(out)["settings"]
    assert s["finish"] is False and s["dt"] == 0.05 and s["readout"] == 4 and s["init_scale"] == 0.001
    assert s["schedule"]["kind"] == "linear"


def test_settings_hold_every_declared_parameter_and_extra_uses_the_vocabulary():
    m = torus_model()
    for name in SOLVERS:
        params = declared(name)
        kw = {"record": True} if any(p.name == "record" for p in params) else {}
        r = solve(m, name, replicas=2, steps=20, seed=1, **kw)
        missing = {p.name for p in params} - set(r.settings)
        assert not missing, (name, missing)
        unknown = set(r.extra) - EXTRA_NAMES
        assert not unknown, (f"{name} sets extra keys outside cimsim.result.EXTRA_KEYS: {sorted(unknown)}; use the "
                             "vocabulary there, or add a row for a new key (then regenerate docs/solvers.md)")
        json.dumps(r.to_dict())  # settings and extra stay JSON-able


def test_problem_solves_add_only_vocabulary_keys(torus_file):
    import cimsim

    r = cimsim.solve("maxcut", str(torus_file), "sa", seed=1, steps=50)
    assert {"problem", "sense"} <= set(r.extra) and set(r.extra) <= EXTRA_NAMES


def test_trace_shapes_are_one_convention():
    m = torus_model()
    R = 3
    cim = solve(m, "cim", replicas=R, steps=40, seed=0, record=True, readout=10, polish_result=False).extra
    assert cim["trace_energy"].shape == (4, R) and cim["trace_a"].shape == (4,) and cim["trace_x"].shape == (4, 16)
    sa = get_solver("sa").run(m, replicas=R, steps=30, rng=np.random.default_rng(0), record=True)
    assert sa.extra["trace_energy"].shape == (30, R) and sa.extra["trace_beta"].shape == (30,)
    np.testing.assert_allclose(sa.extra["trace_energy"][-1], m.energies(sa.spins), atol=1e-9)
    assert np.all(np.diff(sa.extra["trace_beta"]) >= 0)
    ad = get_solver("adiabatic").run(m, replicas=R, steps=20, rng=np.random.default_rng(0), record=True)
    L = len(ad.extra["levels"])
    assert ad.extra["trace_energy"].shape == (L, R) and ad.extra["trace_x"].shape == (L, 16)


def test_lambda_max_has_one_normalisation():
    m = torus_model()
    lam = float(np.linalg.eigvalsh(m.dense_couplings())[-1]) / m.coupling_scale()
    for name in ("cim", "adiabatic", "spectral"):
        extra = solve(m, name, replicas=2, steps=20, seed=0).extra
        assert extra["lambda_max"] == pytest.approx(lam, rel=1e-6), name
        assert extra["coupling_scale"] == pytest.approx(m.coupling_scale())


def test_validate_converts_and_refuses():
    ps = (Param("n", "int", 3, "count", low=1), Param("x", "float", None, "scale", low=0, low_open=True, auto="N"),
          Param("flag", "bool", False, "a flag"), Param("mode", "choice", "a", "mode", choices=("a", "b"),
                                                       aliases={"alpha": "a"}))
    assert validate(ps, {}, "t") == {"n": 3, "x": None, "flag": False, "mode": "a"}
    assert validate(ps, {"n": "4", "x": "0.5", "flag": "ON", "mode": "Alpha"}, "t") == {
        "n": 4, "x": 0.5, "flag": True, "mode": "a"}
    assert validate(ps, {"n": None}, "t")["n"] == 3  # None takes the default
    for given, words in (({"n": 0}, ">= 1"), ({"x": 0}, "> 0"), ({"flag": 2}, "true or false"),
                         ({"n": "1.5"}, "integer"), ({"x": "inf"}, "finite"), ({"mode": "c"}, "one of a, b"),
                         ({"q": 1, "r": 2}, "unknown parameters q, r; known: n, x, flag, mode")):
        with pytest.raises(CimsimError, match=words):
            validate(ps, given, "t")
    with pytest.raises(CimsimError) as exc:
        validate(ps, {"two\nlines": 1}, "t")  # a key from the API may hold anything: still one line
    assert "\n" not in str(exc.value) and "two lines" in str(exc.value)
    rows = describe(ps)
    assert [r["default"] for r in rows] == ["3", "N", "false", "a"] and rows[1]["automatic"] is True


def test_solvers_command_lists_every_solver(capsys):
    code, out, err = run_cli(["solvers"], capsys)
    assert code == 0 and err == ""
    for name in SOLVERS:
        assert f"{name}: {SOLVERS[name]}" in out
    code, out, _ = run_cli(["solvers", "tabu"], capsys)
    assert code == 0 and "tenure_rand" in out and "breakout_flips" in out and "cim:" not in out
    code, out, _ = run_cli(["solvers", "sb", "--json"], capsys)
    info = json.loads(out)
    assert info["name"] == "sb" and "gpu" in info["backends"]
    assert {r["name"] for r in info["parameters"]} == {p.name for p in declared("sb")}
    code, out, _ = run_cli(["solvers", "--json"], capsys)
    assert [i["name"] for i in json.loads(out)] == list(SOLVERS)
    code, out, err = run_cli(["solvers", "nonsense"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "unknown solver" in err


def test_solver_info_backends_follow_executors():
    from cimsim.solvers import EXECUTORS

    for name in SOLVERS:
        assert solver_info(name)["backends"] == list(EXECUTORS.get(name, ("cpu",)))


def test_docs_table_matches_the_declarations(capsys):
    block = docs_block((ROOT / "docs" / "solvers.md").read_text(encoding="utf-8"))
    assert block == markdown_all(), ("docs/solvers.md is out of date; regenerate its tables with "
                                     "python -c \"from cimsim.cli.solvers import update_docs; update_docs('docs/solvers.md')\"")
    assert markdown_table() in block and extra_markdown() in block
    code, out, _ = run_cli(["solvers", "--markdown"], capsys)
    assert code == 0 and out == block


def test_result_docstring_lists_every_extra_key():
    for key in EXTRA_NAMES:
        assert key in Result.__doc__
