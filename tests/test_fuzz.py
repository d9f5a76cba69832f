"""Property-based fuzzing of every file parser / encoder and of the command line (issue 8).

Each parser gets generated files, valid and malformed (truncated, binary junk, huge or negative
indices, duplicate edges, self-loops, NaN/inf weights, zero variables, empty clauses). The contract:
either an :class:`Encoded` whose model is finite and whose decoded objective agrees with an independent
recomputation, or a :class:`CimsimError` with a one-line message; nothing else escapes. The CLI answers
malformed input with exit status 2 and exactly one ``cimsim: error:`` line on stderr, no traceback.

Example counts come from the hypothesis profile ``fuzz`` (``CIMSIM_FUZZ_EXAMPLES`` scales them, default
1 = a few thousand generated inputs in total, well under a minute). ``derandomize`` keeps CI stable.
"""
from __future__ import annotations

import itertools
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cimsim.encoders import Encoded, get_problem
from cimsim.errors import CimsimError, CimsimWarning

SCALE = float(os.environ.get("CIMSIM_FUZZ_EXAMPLES", "1"))
settings.register_profile(
    "fuzz", deadline=None, derandomize=True, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture],
)
FUZZ = settings.get_profile("fuzz")


def examples(n: int) -> settings:
    return settings(FUZZ, max_examples=max(1, int(n * SCALE)))


_DIR = Path(tempfile.mkdtemp(prefix="cimsim-fuzz-"))
_COUNTER = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _remove_fuzz_dir():
    yield
    shutil.rmtree(_DIR, ignore_errors=True)


def write(data: str | bytes, suffix: str = ".txt") -> Path:
    p = _DIR / f"f{next(_COUNTER)}{suffix}"
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return p


def parse(problem: str, data: str | bytes, suffix: str = ".txt", **options) -> Encoded | None:
    """``from_file`` on ``data``; None after a one-line CimsimError; any other exception fails the test."""
    p = write(data, suffix)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CimsimWarning)
            warnings.simplefilter("error", RuntimeWarning)  # numpy noise would add lines to the CLI's stderr
            enc = get_problem(problem).from_file(p, **options)
    except CimsimError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and "\r" not in msg, f"multi-line error: {msg!r}"
        assert "Traceback" not in msg
        return None
    finally:
        p.unlink()
    check_model(enc)
    return enc


def check_model(enc: Encoded) -> None:
    m = enc.model
    assert m.n >= 1
    data = m.J.data if m.is_sparse else m.J
    assert np.all(np.isfinite(data)) and np.all(np.isfinite(m.h)) and math.isfinite(m.offset)
    s = np.random.default_rng(0).choice([-1, 1], size=(3, m.n))
    assert np.all(np.isfinite(m.energies(s)))
    sol = enc.decode(s[0])
    assert math.isfinite(float(sol.objective))


# ---------------------------------------------------------------------------------------------- tokens
NUMBERS = ["0", "1", "2", "3", "-1", "-2", "7", "1.5", "-0.25", "1e3", "1e400", "-1e400", "nan", "inf", "-inf",
           "NaN", "99999999999999999999", "-99999999999999999999", "1" * 400, "0x10", "1_0", "+4", "1e-320"]
JUNK = ["x", "p", "e", "c", "%", "#", "0", "cnf", "wcnf", "edge", "\x00", "\u00e9", "\u0663", "\t", "\x0c",
        "DIMENSION: 3", "EOF", "\ufeff", "NODE_COORD_SECTION", "EDGE_WEIGHT_SECTION"]
number = st.sampled_from(NUMBERS) | st.integers(-5, 12).map(str) | st.floats(allow_nan=True, allow_infinity=True).map(repr)
token = number | st.sampled_from(JUNK)
junk_line = st.lists(token, max_size=6).map(" ".join)
junk_text = st.lists(junk_line, max_size=10).map("\n".join)
binary = st.binary(max_size=64)


@st.composite
def mutated(draw, lines_strategy):
    """A text from a list of lines, then maybe truncated, a line dropped or doubled, or junk spliced in."""
    lines = draw(lines_strategy)
    op = draw(st.sampled_from(["keep", "keep", "truncate", "drop", "double", "junk", "crlf", "bom"]))
    if op == "drop" and lines:
        del lines[draw(st.integers(0, len(lines) - 1))]
    elif op == "double" and lines:
        k = draw(st.integers(0, len(lines) - 1))
        lines.insert(k, lines[k])
    elif op == "junk":
        lines.insert(draw(st.integers(0, len(lines))), draw(junk_line))
    text = ("\r\n" if op == "crlf" else "\n").join(lines) + draw(st.sampled_from(["", "\n"]))
    if op == "truncate" and text:
        text = text[: draw(st.integers(0, len(text) - 1))]
    if op == "bom":
        text = "\ufeff" + text
    return text


# ---------------------------------------------------------------------------------------------- graphs
@st.composite
def gset_lines(draw, dimacs: bool = False):
    n = draw(st.sampled_from([-1, 0, 1, 2, 3, 5, 6, 10**15]) | st.integers(1, 6))
    nn = max(1, min(n, 6))
    vert = st.integers(1, nn) | st.sampled_from([0, -1, nn + 1, 2**63, 10**30])
    weight = st.sampled_from(["1", "-1", "2", "0.5", "0", "nan", "inf", "-inf", "1e308", "w", ""]) | st.integers(-3, 3).map(str)
    edges = draw(st.lists(st.tuples(vert, vert, weight), max_size=8))
    m = draw(st.sampled_from([len(edges)] * 4 + [len(edges) + 1, max(0, len(edges) - 1), -1, 10**18]))
    if dimacs:
        lines = ["c fuzz", f"p edge {n} {m}"] + [f"e {i} {j}" for i, j, _ in edges]
    else:
        lines = ["# fuzz", f"{n} {m}"] + [f"{i} {j} {w}".rstrip() for i, j, w in edges]
    return lines


@st.composite
def valid_graph(draw):
    n = draw(st.integers(2, 7))
    pairs = st.tuples(st.integers(1, n), st.integers(1, n)).filter(lambda e: e[0] != e[1])
    edges = draw(st.lists(st.tuples(pairs, st.integers(-3, 4)), max_size=14))
    return n, [(i, j, w) for (i, j), w in edges]


def independent_cut(n: int, edges, s: np.ndarray) -> float:
    return float(sum(w for i, j, w in edges if s[i - 1] != s[j - 1]))


@examples(400)
@given(mutated(gset_lines()))
def test_fuzz_gset_maxcut(text):
    parse("maxcut", text)


@examples(150)
@given(mutated(gset_lines()), st.sampled_from(["bisection", "vertex-cover", "independent-set", "clique", "coloring"]))
def test_fuzz_gset_other_graph_problems(text, problem):
    parse(problem, text, **({"colors": 2} if problem == "coloring" else {}))


@examples(250)
@given(mutated(gset_lines(dimacs=True)), st.sampled_from(["clique", "coloring", "vertex-cover", "independent-set"]))
def test_fuzz_dimacs_graph(text, problem):
    parse(problem, text, **({"colors": 3} if problem == "coloring" else {}))


@examples(150)
@given(valid_graph(), st.integers(0, 2**32 - 1))
def test_valid_gset_duplicates_merged_by_summing(graph, seed):
    """Policy: duplicate edges (either orientation) are merged by summing their weights, with a warning."""
    n, edges = graph
    text = f"{n} {len(edges)}\n" + "".join(f"{i} {j} {w}\n" for i, j, w in edges)
    p = write(text, ".gset")  # by extension: an edgeless 'n 0' also reads as a one-edge edge list
    keys = [tuple(sorted((i, j))) for i, j, _ in edges]
    dup = len(keys) - len(set(keys))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enc = get_problem("maxcut").from_file(p)
    assert sum(issubclass(w.category, CimsimWarning) for w in caught) == (1 if dup else 0)
    assert enc.info.get("duplicate_edges_merged", 0) == dup
    s = np.random.default_rng(seed).choice([-1, 1], size=n)
    cut = independent_cut(n, edges, s)
    assert enc.decode(s).objective == pytest.approx(cut)
    total = sum(w for _, _, w in edges)
    assert (total - enc.model.energy(s)) / 2 == pytest.approx(cut)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bis = get_problem("bisection").from_file(p)
    assert sum(issubclass(w.category, CimsimWarning) for w in caught) == (1 if dup else 0)
    assert bis.decode(s).objective == pytest.approx(cut)


@examples(60)
@given(st.integers(2, 6), st.integers(1, 6))
def test_self_loop_policy(n, v):
    """Policy: a self-loop is refused with one line naming the line and vertex (Gset and DIMACS)."""
    v = min(v, n)
    for problem, text, line in [("maxcut", f"{n} 2\n1 2 1\n{v} {v} 1\n", 3),
                                ("clique", f"p edge {n} 1\ne {v} {v}\n", 2)]:
        with pytest.raises(CimsimError, match=rf"line {line}: self-loop on vertex {v}"):
            get_problem(problem).from_file(write(text))


# ---------------------------------------------------------------------------------------------- SAT
@st.composite
def cnf_lines(draw):
    weighted = draw(st.booleans())
    v = draw(st.sampled_from([-1, 0, 1, 2, 3, 4, 10**13]) | st.integers(1, 4))
    vv = max(1, min(v, 4))
    lit = st.integers(-vv, vv) | st.sampled_from([vv + 1, -(vv + 1), 2**63, 10**40])
    clauses = draw(st.lists(st.lists(lit.filter(bool), max_size=5), max_size=6))
    c = draw(st.sampled_from([len(clauses)] * 4 + [len(clauses) + 1, max(0, len(clauses) - 1), -3]))
    head = f"p wcnf {v} {c}" + draw(st.sampled_from(["", " 10", " 0", " nan"])) if weighted else f"p cnf {v} {c}"
    wt = st.sampled_from(["1", "2", "0.5", "0", "-1", "nan", "inf", "x"])
    lines = ["c fuzz", head]
    for cl in clauses:
        body = " ".join(map(str, cl)) + " 0"
        lines.append((draw(wt) + " " + body) if weighted else body)
    lines += draw(st.sampled_from([[], ["%", "0", ""], ["0"], ["%"]]))
    return lines


@examples(500)
@given(mutated(cnf_lines()))
def test_fuzz_cnf(text):
    parse("sat", text, storage=("dense"))


@examples(120)
@given(st.integers(1, 4), st.lists(st.lists(st.integers(-4, 4).filter(bool), max_size=4), max_size=4), st.booleans())
def test_valid_cnf_ground_energy_is_min_violated(n, clauses, trailer):
    """Valid CNF (empty clauses and SATLIB ``%``/``0`` trailer included): the Ising ground energy equals the
    fewest violated clauses, found by brute force over the variables."""
    clauses = [[lit for lit in cl if abs(lit) <= n] for cl in clauses]
    text = f"p cnf {n} {len(clauses)}\n" + "".join(" ".join(map(str, cl)) + " 0\n" for cl in clauses)
    if trailer:
        text += "%\n0\n\n"
    enc = parse("sat", text)
    assert enc is not None
    best = min(sum(not any((lit > 0) == x[abs(lit) - 1] for lit in cl) for cl in clauses)
               for x in itertools.product([False, True], repeat=n))
    N = enc.model.n
    S = np.array(list(itertools.product([-1, 1], repeat=N)), dtype=np.int8)
    assert enc.model.energies(S).min() == pytest.approx(best, abs=1e-9)


# ---------------------------------------------------------------------------------------------- numbers
@examples(250)
@given(mutated(st.lists(st.lists(number, max_size=5).map(" ".join), max_size=6)))
def test_fuzz_partition(text):
    parse("partition", text)


@st.composite
def knapsack_lines(draw):
    n = draw(st.sampled_from([-1, 0, 1, 2, 3, 10**12]) | st.integers(1, 4))
    cap = draw(st.sampled_from(["0", "5", "-1", "2.5", str(2**60), "x"]) | st.integers(0, 12).map(str))
    items = draw(st.lists(st.tuples(number, number), max_size=5))
    return [f"{n} {cap}"] + [f"{w} {v}" for w, v in items]


@examples(250)
@given(mutated(knapsack_lines()))
def test_fuzz_knapsack(text):
    parse("knapsack", text)


@st.composite
def tsp_text(draw):
    if draw(st.booleans()):
        n = draw(st.sampled_from([-1, 0, 1, 3, 4, 10**9]) | st.integers(3, 4))
        rows = draw(st.lists(st.lists(number, min_size=0, max_size=5), max_size=5))
        return [f"{n}"] + [" ".join(r) for r in rows]
    n = draw(st.sampled_from(["3", "4", "-2", "0", "x", "100000000"]))
    kind = draw(st.sampled_from(["EUC_2D", "CEIL_2D", "ATT", "EXPLICIT", "GEO", ""]))
    lines = ["NAME: fuzz", f"DIMENSION: {n}", f"EDGE_WEIGHT_TYPE: {kind}"]
    if kind == "EXPLICIT":
        lines += ["EDGE_WEIGHT_FORMAT: FULL_MATRIX", "EDGE_WEIGHT_SECTION"]
        lines += [" ".join(draw(st.lists(number, max_size=4))) for _ in range(draw(st.integers(0, 5)))]
    else:
        lines.append("NODE_COORD_SECTION")
        idx = st.integers(-1, 5)
        lines += [f"{draw(idx)} {draw(number)} {draw(number)}" for _ in range(draw(st.integers(0, 5)))]
    lines += draw(st.sampled_from([["EOF"], []]))
    return lines


@examples(250)
@given(mutated(tsp_text()))
def test_fuzz_tsp(text):
    parse("tsp", text)


# ---------------------------------------------------------------------------------------------- junk
@examples(120)
@given(binary | junk_text, st.sampled_from(["maxcut", "sat", "partition", "knapsack", "tsp", "bisection", "clique",
                                            "vertex-cover", "independent-set"]))
def test_fuzz_junk_everywhere(data, problem):
    parse(problem, data)


@examples(120)
@given(binary | junk_text, st.sampled_from([".npz", ".mtx"]))
def test_fuzz_ising_files(data, suffix):
    parse("ising", data, suffix)


@st.composite
def mtx_text(draw):
    n = draw(st.sampled_from(["2", "3", "0", "-1", "x", "1000000000"]))
    kind = draw(st.sampled_from(["coordinate real symmetric", "coordinate real general", "array real general",
                                 "coordinate integer symmetric", "coordinate pattern symmetric"]))
    entries = draw(st.lists(st.tuples(st.integers(-1, 4), st.integers(-1, 4), number), max_size=5))
    lines = [f"%%MatrixMarket matrix {kind}", f"{n} {n} {len(entries)}"]
    lines += [f"{i} {j} {w}" for i, j, w in entries]
    return lines


@examples(150)
@given(mutated(mtx_text()))
def test_fuzz_matrix_market(text):
    parse("ising", text, ".mtx")

# ---------------------------------------------------------------------------------------------- graph formats (issue 19.1)
LABELS = ["c1", "cat", "p", "e", "7", "-3", "07", "0", "x#y", "{", "%x", "1.5", "nan"]
label = st.sampled_from(LABELS) | st.integers(-2, 9).map(str)
edge_data = (st.just("") | number | st.sampled_from(["{}", "{'weight': 2}", "{'weight': 'x'}", "{'weight': 1e999}",
                                                      "{'weight': nan}", "{", "{'weight': True}", "[1]", "{'a': {}}"]))


@st.composite
def edgelist_lines(draw):
    rows = draw(st.lists(st.tuples(label, label, edge_data), max_size=8))
    return ["# fuzz"] + [f"{u} {v} {d}".rstrip() for u, v, d in rows]


@st.composite
def adjlist_lines(draw):
    rows = draw(st.lists(st.lists(label, min_size=1, max_size=4), max_size=8))
    return ["# fuzz"] + [" ".join(r) for r in rows]


@examples(200)
@given(mutated(edgelist_lines()) | mutated(adjlist_lines()), st.sampled_from([".txt", ".edgelist", ".adjlist"]),
       st.sampled_from(["maxcut", "bisection", "vertex-cover", "clique"]))
def test_fuzz_edge_and_adjacency_lists(text, suffix, problem):
    parse(problem, text, suffix)


@examples(100)
@given(mutated(mtx_text()) | binary | junk_text)
def test_fuzz_matrix_market_graph(text):
    parse("maxcut", text, ".mtx")


def _nx_graph_text(G, fmt: str) -> str:
    import io

    import networkx as nx

    buf = io.BytesIO()
    {"graphml": nx.write_graphml, "gml": nx.write_gml}[fmt](G, buf)
    return buf.getvalue().decode("utf-8")


@st.composite
def nx_graph(draw):
    import networkx as nx

    pool = draw(st.sampled_from([["a", "b", "c1", "dog", "p"], [0, 1, 2, 3, 7], ["7", 3, "cat", 0, "c"]]))
    pairs = st.lists(st.sampled_from(pool), min_size=2, max_size=2, unique=True)
    G = nx.Graph()
    for (u, v), w in draw(st.lists(st.tuples(pairs, st.integers(-3, 4)), min_size=1, max_size=8)):
        G.add_edge(u, v, weight=w)
    return G


@examples(80)
@given(nx_graph().map(lambda G: _nx_graph_text(G, "graphml")) | binary | junk_text | st.just("<graphml>"),
       st.sampled_from([".graphml", ".txt"]))
def test_fuzz_graphml(text, suffix):
    parse("maxcut", text if suffix == ".graphml" else mutate_tail(text), suffix)


@examples(80)
@given(nx_graph().map(lambda G: _nx_graph_text(G, "gml")) | binary | junk_text | st.just("graph ["),
       st.sampled_from([".gml", ".txt"]))
def test_fuzz_gml(text, suffix):
    parse("maxcut", text if suffix == ".gml" else mutate_tail(text), suffix)


def mutate_tail(text):
    return text[: max(0, len(text) - 7)] if isinstance(text, str) else text


NX_FILE_WRITERS = ["edgelist-nodata", "edgelist-weight", "edgelist-dict", "weighted", "adjlist", "graphml", "gml"]


@examples(150)
@given(nx_graph(), st.sampled_from(NX_FILE_WRITERS))
def test_detection_never_guesses_silently(G, writer):
    """Any small networkx graph written by any networkx writer to a '.txt' file is either read back as exactly
    that graph (labels, edges, weights) or refused as fitting several formats; never read as another graph."""
    import networkx as nx

    from cimsim.encoders.graph_formats import read_graph_file

    p = _DIR / f"f{next(_COUNTER)}.txt"
    {"edgelist-nodata": lambda: nx.write_edgelist(G, p, data=False),
     "edgelist-weight": lambda: nx.write_edgelist(G, p, data=["weight"]),
     "edgelist-dict": lambda: nx.write_edgelist(G, p),
     "weighted": lambda: nx.write_weighted_edgelist(G, p),
     "adjlist": lambda: nx.write_adjlist(G, p),
     "graphml": lambda: nx.write_graphml(G, p),
     "gml": lambda: nx.write_gml(G, p)}[writer]()
    try:
        g = read_graph_file(p)
    except CimsimError as exc:
        assert "more than one graph format" in str(exc) and "--format NAME" in str(exc), str(exc)
        event(f"{writer}: ambiguous")
        return
    finally:
        p.unlink()
    names = [str(v) for v in G.nodes]
    if all(isinstance(v, int) for v in G.nodes) or all(s.lstrip("-").isdigit() for s in names):
        want = [int(s) for s in names]
    else:
        want = names
    weighted = writer not in ("edgelist-nodata", "adjlist")
    assert sorted(map(repr, g.labels)) == sorted(map(repr, want))
    got = sorted((tuple(sorted((repr(g.labels[int(i)]), repr(g.labels[int(j)])))), w) for i, j, w in g.edges)
    pos = dict(zip(G.nodes, want))
    exp = sorted((tuple(sorted((repr(pos[u]), repr(pos[v])))), float(d["weight"]) if weighted else 1.0)
                 for u, v, d in G.edges(data=True))
    assert got == exp
    event(f"{writer}: read as {g.format}")



@examples(80)
@given(st.integers(1, 4), st.data())
def test_fuzz_npz_arrays(n, data):
    """npz archives with odd shapes, dtypes and values."""
    arr = st.sampled_from([np.nan, np.inf, 0.0, 1.0, -2.0, 1e308])
    J = np.array(data.draw(st.lists(arr, min_size=n * n, max_size=n * n))).reshape(n, n)
    with np.errstate(all="ignore"):
        variants = [J, J + J.T, J[:1], J.astype(np.int8), np.array("x"), J.ravel()]
    parts = {"J": data.draw(st.sampled_from(variants))}
    if data.draw(st.booleans()):
        parts["h"] = data.draw(st.sampled_from([np.zeros(n), np.zeros(n + 1), np.full(n, np.nan), np.array(1.0)]))
    if data.draw(st.booleans()):
        parts["offset"] = data.draw(st.sampled_from([np.float64(1.0), np.array([1.0, 2.0]), np.array("x")]))
    p = _DIR / f"f{next(_COUNTER)}.npz"
    with open(p, "wb") as fh:
        np.savez(fh, **parts)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            enc = get_problem("ising").from_file(p)
    except CimsimError as exc:
        assert "\n" not in str(exc)
    else:
        check_model(enc)
    finally:
        p.unlink()


@st.composite
def qubo_lines(draw):
    n = draw(st.sampled_from([-1, 0, 1, 2, 3, 10**15]) | st.integers(1, 4))
    nn = max(1, min(n, 4))
    idx = st.integers(0, nn - 1) | st.sampled_from([-1, nn, 2**63])
    entries = draw(st.lists(st.tuples(idx, idx, number), max_size=6))
    if draw(st.booleans()):
        head = [f"qubo {n}" + draw(st.sampled_from(["", " 1.5", " nan", " x"]))]
        return ["# fuzz", *head] + [f"{i} {j} {q}" for i, j, q in entries]
    diag = [e for e in entries if e[0] == e[1]]
    off = [e for e in entries if e[0] != e[1]]
    nodes = draw(st.sampled_from([len(diag), len(diag) + 1]))
    return (["c fuzz", "c offset = " + draw(number), f"p qubo 0 {n} {nodes} {len(off)}"]
            + [f"{i} {j} {q}" for i, j, q in diag + off])


@examples(120)
@given(mutated(qubo_lines()) | binary)
def test_fuzz_qubo(text):
    """The QUBO text formats (cimsim.encoders.qubo, read through 'ising FILE.qubo')."""
    enc = parse("ising", text, ".qubo")
    if enc is not None:
        x = np.random.default_rng(1).integers(0, 2, size=enc.model.n)
        assert np.isfinite(enc.model.energy(2 * x - 1))


# ---------------------------------------------------------------------------------------------- CLI
def run_cli(argv: list[str]) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from cimsim.cli import main

    runner = CliRunner()
    code = 0
    with runner.isolation() as (out, err, _):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace")


def assert_one_line_error(code: int, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("cimsim: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert all(ln.startswith("cimsim: warning: ") for ln in lines[:-1]), err


def gset_text(graph) -> str:
    n, edges = graph
    return f"{n} {len(edges)}\n" + "".join(f"{i} {j} {w}\n" for i, j, w in edges)


CLI_CASES = {
    "maxcut": mutated(gset_lines()) | valid_graph().map(gset_text) | valid_graph().map(gset_text),
    "sat": mutated(cnf_lines()) | st.just("p cnf 3 2\n1 -2 0\n2 3 0\n%\n0\n"),
    "partition": mutated(st.lists(st.lists(number, max_size=4).map(" ".join), max_size=5)),
    "knapsack": mutated(knapsack_lines()),
    "tsp": mutated(tsp_text()),
    "clique": mutated(gset_lines(dimacs=True)),
    "vertex-cover": mutated(edgelist_lines()) | mutated(adjlist_lines()),
    "ising": mutated(qubo_lines()),
}
BAD_OPTIONS = [[]] * 12 + [["--steps", "-3"], ["--replicas", "0"], ["--time-limit", "nan"], ["-p", "dt=nan"],
               ["-p", "nonsense=1"], ["-p", "dt"], ["-o", "penalty=-1"], ["-o", "bogus=2"], ["--target", "inf"],
               ["--solver", "sb", "-p", "dt=0"], ["--solver", "cim", "-p", "readout=0"]]


@examples(150)
@given(st.sampled_from(sorted(CLI_CASES)).flatmap(lambda p: st.tuples(st.just(p), CLI_CASES[p] | binary)),
       st.sampled_from(BAD_OPTIONS), st.sampled_from(["exact", "sa"]))
def test_fuzz_cli_solve(case, extra, solver):
    problem, data = case
    p = write(data, ".qubo" if problem == "ising" else ".txt")
    argv = ["solve", problem, str(p), "--solver", solver, "--replicas", "2", "--steps", "20", "--seed", "1",
            "--no-polish", *extra]
    code, out, err = run_cli(argv)
    p.unlink()
    event(f"{problem} exit {code}")
    if code == 0:
        assert not extra, (argv, err)
        assert "Traceback" not in err
    else:
        assert_one_line_error(code, err)


def test_cli_missing_directory_and_binary_file(tmp_path):
    assert_one_line_error(*run_cli(["solve", "maxcut", str(tmp_path / "nope.txt")])[::2])
    assert_one_line_error(*run_cli(["solve", "maxcut", str(tmp_path)])[::2])
    junk = tmp_path / "junk.txt"
    junk.write_bytes(bytes(range(256)))
    assert_one_line_error(*run_cli(["solve", "sat", str(junk)])[::2])


@examples(40)
@given(valid_graph())
def test_cli_valid_gset_exact_optimum(graph):
    """Valid (duplicate-edge) Gset files solve with exit 0; the JSON cut is the brute-force maximum."""
    import json

    n, edges = graph
    p = write(f"{n} {len(edges)}\n" + "".join(f"{i} {j} {w}\n" for i, j, w in edges), ".gset")
    out = p.with_suffix(".json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CimsimWarning)  # duplicates: shown as one line, tested in test_reliability
        code, _, err = run_cli(["solve", "maxcut", str(p), "--solver", "exact", "--seed", "0", "--json", str(out), "-q"])
    assert code == 0, err
    assert "Traceback" not in err
    res = json.loads(out.read_text())
    best = max(independent_cut(n, edges, np.array(s)) for s in itertools.product([-1, 1], repeat=n))
    assert res["objective"] == pytest.approx(best)
    assert independent_cut(n, edges, np.array(res["spins"])) == pytest.approx(best)
    p.unlink()
    out.unlink()
