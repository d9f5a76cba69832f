"""Graph files (issue 19.1): every format networkx users write solves to the brute-force MaxCut and answers in the
file's own labels; ambiguous files are refused in one line; '-' reads standard input; write_gset keeps labels."""
from __future__ import annotations

import itertools
import json
import subprocess
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import cimsim
from cimsim.encoders import get_problem
from cimsim.encoders.graph_formats import FORMATS, SNIFF_LINES, read_graph_file
from cimsim.errors import CimsimError, CimsimWarning
from cimsim.formats import write_gset

PROBLEMS = Path(__file__).resolve().parent.parent / "problems"


def string_graph() -> nx.Graph:
    """Labels that used to break the reader: 'c...' (a DIMACS comment to the old Gset reader), 'p', '%x'-free."""
    G = nx.Graph()
    G.add_weighted_edges_from([("c1", "cat", 3), ("cat", "dog", 2), ("dog", "c1", 1.5), ("c1", "eel", 4),
                               ("eel", "dog", -1), ("eel", "p", 2), ("p", "cat", 1), ("cow", "p", 2.5)])
    return G


def int_graph() -> nx.Graph:
    """Integer labels whose first edge looks like a Gset header ('7 3' then 'i j' lines)."""
    G = nx.Graph()
    G.add_weighted_edges_from([(7, 3, 2), (7, 1, 1), (3, 12, 5), (1, 12, -2), (12, 0, 1), (0, 3, 3), (1, 5, 2)])
    return G


def cut_of(G: nx.Graph, side1: set, weighted: bool) -> float:
    return sum((d.get("weight", 1) if weighted else 1) for u, v, d in G.edges(data=True) if (u in side1) != (v in side1))


def brute_maxcut(G: nx.Graph, weighted: bool) -> float:
    nodes = list(G.nodes)
    return max(cut_of(G, {v for v, b in zip(nodes, bits) if b}, weighted)
               for bits in itertools.product([0, 1], repeat=len(nodes)))


# name -> (writer, weighted?, extension)
NX_WRITERS = {
    "edgelist-nodata": (lambda G, p: nx.write_edgelist(G, p, data=False), False, ".edgelist"),
    "edgelist-weight": (lambda G, p: nx.write_edgelist(G, p, data=["weight"]), True, ".edgelist"),
    "edgelist-dict": (lambda G, p: nx.write_edgelist(G, p), True, ".edgelist"),
    "weighted-edgelist": (lambda G, p: nx.write_weighted_edgelist(G, p), True, ".edges"),
    "adjlist": (lambda G, p: nx.write_adjlist(G, p), False, ".adjlist"),
    "graphml": (lambda G, p: nx.write_graphml(G, p), True, ".graphml"),
    "gml": (lambda G, p: nx.write_gml(G, p), True, ".gml"),
}


def solve_exact(path, **options):
    return cimsim.solve("maxcut", path, "exact", seed=0, options=options)


@pytest.mark.parametrize("graph", ["strings", "ints"])
@pytest.mark.parametrize("writer", sorted(NX_WRITERS))
@pytest.mark.parametrize("how", ["content", "extension"])
def test_networkx_files_solve_to_brute_force_in_their_labels(tmp_path, graph, writer, how):
    G = string_graph() if graph == "strings" else int_graph()
    write, weighted, ext = NX_WRITERS[writer]
    path = tmp_path / ("graph.txt" if how == "content" else f"graph{ext}")
    write(G, path)
    res = solve_exact(path)
    best = brute_maxcut(G, weighted)
    assert res.objective == pytest.approx(best)
    sides = res.answer["sides"]
    # the answer is in the file's labels, with their type (ints stay ints)
    assert sorted(map(repr, sides[0] + sides[1])) == sorted(map(repr, G.nodes))
    assert cut_of(G, set(sides[1]), weighted) == pytest.approx(best)
    assert set(res.answer["partition"]) == set(G.nodes)


def test_label_starting_with_c_and_integer_first_edge_are_edges(tmp_path):
    """The two bugs of the issue: 'c1 cat' was skipped as a comment, '7 3' was taken as a Gset header."""
    p = tmp_path / "s.txt"
    nx.write_edgelist(string_graph(), p, data=False)
    assert p.read_text().startswith("c1 ")
    g = read_graph_file(p)
    assert g.format == "edgelist" and g.edges.shape[0] == string_graph().number_of_edges()
    p = tmp_path / "i.txt"
    nx.write_edgelist(int_graph(), p, data=False)
    assert p.read_text().startswith("7 3\n")
    g = read_graph_file(p)
    assert g.format == "edgelist" and g.labels[:2] == [7, 3] and all(type(v) is int for v in g.labels)
    assert g.edges.shape[0] == int_graph().number_of_edges()


def test_dimacs_gset_and_matrix_market_solve_to_brute_force(tmp_path):
    G = nx.convert_node_labels_to_integers(string_graph())
    n = G.number_of_nodes()
    dimacs = tmp_path / "g.txt"
    dimacs.write_text(f"c test\np edge {n} {G.number_of_edges()}\n" + "".join(f"e {u + 1} {v + 1}\n" for u, v in G.edges))
    gset = tmp_path / "g2.txt"
    gset.write_text(f"{n} {G.number_of_edges()}\n" + "".join(f"{u + 1} {v + 1} {d['weight']}\n" for u, v, d in G.edges(data=True)))
    mtx = tmp_path / "g3.txt"
    scipy.io.mmwrite(str(mtx), sp.csr_matrix(nx.to_scipy_sparse_array(G, weight="weight")))
    if not mtx.exists():  # scipy appends .mtx
        mtx = tmp_path / "g3.txt.mtx"
    for path, fmt, weighted in [(dimacs, "dimacs", False), (gset, "gset", True), (mtx, "mtx", True)]:
        assert read_graph_file(path).format == fmt
        res = solve_exact(path)
        assert res.objective == pytest.approx(brute_maxcut(G, weighted)), fmt
        # numbered formats answer in spin order (vertex i of the file is position i - 1)
        part = res.answer["partition"]
        assert isinstance(part, list) and len(part) == n
        assert cut_of(G, {v for v in range(n) if part[v] == 1}, weighted) == pytest.approx(res.objective)


def test_matrix_market_general_and_array(tmp_path):
    p = tmp_path / "a.mtx"
    p.write_text("%%MatrixMarket matrix coordinate real general\n3 3 3\n1 2 2\n2 1 2\n3 2 5\n")
    g = read_graph_file(p)
    assert g.n == 3 and sorted(map(tuple, g.edges.tolist())) == [(0.0, 1.0, 2.0), (1.0, 2.0, 5.0)]
    p.write_text("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 2 2\n2 1 3\n")
    with pytest.raises(CimsimError, match="not symmetric"):
        read_graph_file(p)
    p.write_text("%%MatrixMarket matrix array real symmetric\n3 3\n0\n1\n2\n0\n4\n0\n")
    assert sorted(map(tuple, read_graph_file(p).edges.tolist())) == [(1.0, 0.0, 1.0), (2.0, 0.0, 2.0), (2.0, 1.0, 4.0)]
    p.write_text("%%MatrixMarket matrix coordinate pattern symmetric\n2 2 1\n1 1\n")
    with pytest.raises(CimsimError, match="line 3: diagonal entry"):
        read_graph_file(p)


def test_ambiguous_file_is_refused_naming_both_formats(tmp_path):
    """A Gset file with an unweighted body is also a two-column edge list (with an edge '4 3')."""
    p = tmp_path / "g.txt"
    p.write_text("4 3\n1 2\n2 3\n3 4\n")
    with pytest.raises(CimsimError) as exc:
        read_graph_file(p)
    msg = str(exc.value)
    assert "\n" not in msg and "gset" in msg and "edgelist" in msg and "--format NAME" in msg
    gs = read_graph_file(p, format="gset")
    el = read_graph_file(p, format="edgelist")
    assert (gs.n, gs.edges.shape[0], gs.labels) == (4, 3, None)
    assert (el.n, el.edges.shape[0], el.labels) == (4, 4, [4, 3, 1, 2])
    assert solve_exact(p, format="gset").objective == 3  # the path 1-2-3-4
    with pytest.warns(CimsimWarning, match="duplicate"):  # 4-3 and 3-4
        assert solve_exact(p, format="edgelist").objective == 4


def test_same_graph_in_two_formats_is_not_ambiguous(tmp_path):
    """'1 2 / 2 3 / 3 1' is an edge list and an adjacency list of the same triangle: read, not refused."""
    p = tmp_path / "t.txt"
    p.write_text("1 2\n2 3\n3 1\n")
    g = read_graph_file(p)
    assert g.format == "edgelist" and g.labels == [1, 2, 3] and g.edges.shape[0] == 3


def test_nothing_fits_reports_the_closest_format(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("3 2\n1 2 1\n2 4 1\n")
    with pytest.raises(CimsimError, match=r"line 3: vertex out of range 1\.\.3.*read as gset.*--format NAME"):
        read_graph_file(p)


def test_format_option_and_extension_win(tmp_path):
    p = tmp_path / "g.gset"
    p.write_text("1 2 1\n")  # as a Gset file: a header without its two edges
    with pytest.raises(CimsimError, match="declares 2 edges"):
        read_graph_file(p)
    assert read_graph_file(p, format="edgelist").labels == [1, 2]
    assert read_graph_file(p, format="weighted_edgelist").format == "edgelist"
    with pytest.raises(CimsimError, match="unknown graph format 'nope'; choose one of gset, edgelist"):
        read_graph_file(p, format="nope")
    with pytest.raises(CimsimError, match="not a GML file"):
        read_graph_file(p, format="gml")
    for problem in ("maxcut", "bisection", "vertex-cover", "independent-set", "clique"):
        assert get_problem(problem).from_file(p, format="edgelist").info["format"] == "edgelist"
    with pytest.raises(CimsimError, match="unknown option"):
        get_problem("maxcut").from_file(p, formats="edgelist")


def test_every_graph_problem_answers_in_labels(tmp_path):
    p = tmp_path / "g.edgelist"
    G = string_graph()
    nx.write_edgelist(G, p, data=False)
    nodes = set(G.nodes)
    vc = cimsim.solve("vertex-cover", p, "exact", seed=0).answer["cover"]
    assert set(vc) <= nodes and all(u in vc or v in vc for u, v in G.edges)
    mis = cimsim.solve("independent-set", p, "exact", seed=0).answer["set"]
    assert set(mis) <= nodes and not any(u in mis and v in mis for u, v in G.edges)
    assert len(mis) + len(vc) == len(nodes)  # complements of each other at the optimum
    cl = cimsim.solve("clique", p, "exact", seed=0).answer["clique"]
    assert len(cl) == max(len(c) for c in nx.find_cliques(G)) and all(G.has_edge(u, v) for u, v in itertools.combinations(cl, 2))
    bis = cimsim.solve("bisection", p, "exact", seed=0).answer["sides"]
    assert sorted(bis[0] + bis[1]) == sorted(nodes) and abs(len(bis[0]) - len(bis[1])) <= 1
    small = tmp_path / "tri.edgelist"
    small.write_text("a b\nb c\nc a\n")
    res = cimsim.solve("coloring", small, "exact", seed=0, options={"colors": 3})
    colors = res.answer["colors"]
    assert set(colors) == {"a", "b", "c"} and len(set(colors.values())) == 3 and res.feasible


def test_write_gset_round_trips_labels_and_weights(tmp_path):
    G = nx.Graph()
    G.add_edge("alice smith", 7, weight=2.5)
    G.add_edge(7, (1, "x"), weight=-3)
    G.add_edge("c1", "alice smith", weight=1)
    G.add_node("loner")
    p = write_gset(tmp_path / "g.txt", G, comment="four labels")
    g = read_graph_file(p)
    assert g.format == "gset" and g.labels == list(G.nodes)
    assert [type(v) for v in g.labels] == [str, int, tuple, str, str]
    got = {frozenset((g.labels[int(i)], g.labels[int(j)])): w for i, j, w in g.edges}
    assert got == {frozenset((u, v)): d["weight"] for u, v, d in G.edges(data=True)}
    res = solve_exact(p)
    assert res.objective == pytest.approx(brute_maxcut(G, True))
    assert set(res.answer["partition"]) == set(G.nodes)
    # the Gset reader proper still reads it (labels are comments to it), and labels=False drops them
    from cimsim.formats import read_gset

    n, E = read_gset(p)
    assert n == 5 and np.array_equal(E, g.edges)
    assert read_graph_file(write_gset(tmp_path / "h.txt", G, labels=False)).labels is None
    assert read_graph_file(write_gset(tmp_path / "k.txt", 2, [(0, 1, 3)], labels=["x", 5])).labels == ["x", 5]
    with pytest.raises(CimsimError, match="labels must be distinct"):
        write_gset(tmp_path / "d.txt", 2, [(0, 1)], labels=["x", "x"])


@pytest.mark.parametrize("text, match", [
    ("2 1\n#label 1 \"a\"\n1 2 1\n", "name 1 of the 2 vertices"),
    ("2 1\n#label 1 \"a\"\n#label 2 \"a\"\n1 2 1\n", "same '#label'"),
    ("2 1\n#label 3 \"a\"\n1 2 1\n", "line 2: label for vertex 3 out of range"),
    ("2 1\n#label 1 {\"a\": 1}\n1 2 1\n", "line 2: expected '#label K JSON'"),
    ("#label 1 \"a\"\n2 1\n1 2 1\n", "line 1: a '#label' line before"),
])
def test_gset_label_lines_are_checked(tmp_path, text, match):
    p = tmp_path / "g.gset"
    p.write_text(text)
    with pytest.raises(CimsimError, match=match):
        read_graph_file(p)


def test_edge_list_errors_name_the_line(tmp_path):
    p = tmp_path / "g.edgelist"
    for text, match in [("a b\nb b\n", "line 2: self-loop on vertex b"), ("a b nan\n", "line 1: weight must be finite"),
                        ("a b {'weight': 'x'}\n", "line 1: the 'weight' must be a number"),
                        ("a b {'weight': 1\n", "line 1: edge data must be a Python dict"),
                        ("a b 1 2\n", "line 1: expected 'u v', 'u v w' or 'u v {data}'"), ("# nothing\n", "no edges"),
                        ("a\n", "line 1: expected")]:
        p.write_text(text)
        with pytest.raises(CimsimError, match=match):
            read_graph_file(p)
    p.write_text("a b\nb c 2\n")  # mixed forms: read when the format is named, not detected
    assert read_graph_file(p).edges[:, 2].tolist() == [1.0, 2.0]
    q = tmp_path / "g.txt"
    q.write_text("a b\nb c 2\n")
    with pytest.raises(CimsimError, match="fits none"):
        read_graph_file(q)


def test_duplicate_edges_policy_holds_for_every_format(tmp_path):
    """Weighted problems sum parallel edges with a warning (as for Gset); adjacency lists are sets of edges."""
    p = tmp_path / "g.edgelist"
    p.write_text("a b 1\nb a 2\nb c 1\n")
    with pytest.warns(CimsimWarning, match="1 duplicate edge"):
        enc = get_problem("maxcut").from_file(p)
    assert enc.info["total_weight"] == 4 and enc.info["duplicate_edges_merged"] == 1
    q = tmp_path / "g.adjlist"
    q.write_text("a b c\nb a\nc a\n")  # both directions listed: one edge each
    with warnings.catch_warnings():
        warnings.simplefilter("error", CimsimWarning)
        assert get_problem("maxcut").from_file(q).info["total_weight"] == 2


def test_large_file_detected_from_its_first_lines(tmp_path):
    """Beyond SNIFF_LINES lines detection decides on the prefix and the chosen reader reads everything."""
    n = SNIFF_LINES + 500
    p = tmp_path / "path.txt"
    p.write_text("".join(f"v{i} v{i + 1} 1.5\n" for i in range(n)))
    g = read_graph_file(p)
    assert g.format == "edgelist" and g.n == n + 1 and g.edges.shape == (n, 3) and g.labels[-1] == f"v{n}"
    q = tmp_path / "big.txt"
    q.write_text(f"{n + 1} {n}\n" + "".join(f"{i + 1} {i + 2}\n" for i in range(n)))
    with pytest.raises(CimsimError, match="gset and edgelist"):
        read_graph_file(q)


def test_registry_extensions_are_unique_and_detected():
    exts = [e for f in FORMATS.values() for e in f.extensions]
    assert len(exts) == len(set(exts)) and ".txt" not in exts


def test_gml_without_labels_and_graphml_junk(tmp_path):
    p = tmp_path / "g.gml"
    p.write_text("graph [\n node [ id 4 ]\n node [ id 9 ]\n edge [ source 4 target 9 weight 3 ]\n]\n")
    g = read_graph_file(p)
    assert g.labels == [4, 9] and g.edges.tolist() == [[0.0, 1.0, 3.0]]
    q = tmp_path / "g.graphml"
    q.write_bytes(b"<graphml><graph><node id='a'/>\x00")
    with pytest.raises(CimsimError) as exc:
        read_graph_file(q)
    assert "\n" not in str(exc.value)


# ---------------------------------------------------------------------------------------------- command line
def run_cli(args, stdin_path):
    """The installed ``cimsim`` with ``stdin_path`` as standard input: (exit code, stdout, stderr)."""
    with open(stdin_path, "rb") as fh:
        proc = subprocess.run(["cimsim", *map(str, args)], stdin=fh, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("how", [["--format", "edgelist"], ["-o", "format=edgelist"], []])
def test_cli_reads_standard_input(tmp_path, how):
    G = string_graph()
    src = tmp_path / "g.txt"
    nx.write_edgelist(G, src, data=["weight"])
    code, out, err = run_cli(["solve", "maxcut", "-", *how, "--solver", "exact", "--seed", "0", "--json", "-"], src)
    assert code == 0, err
    res = json.loads(out)
    assert res["objective"] == pytest.approx(brute_maxcut(G, True))
    assert res["encoding"]["format"] == "edgelist" and res["file"] == "-"
    assert set(res["partition"]) == set(G.nodes)
    assert cut_of(G, set(res["sides"][1]), True) == pytest.approx(res["objective"])


def test_cli_ambiguous_stdin_is_one_line_exit_2(tmp_path):
    src = tmp_path / "g.txt"
    src.write_text("4 3\n1 2\n2 3\n3 4\n")
    code, out, err = run_cli(["solve", "maxcut", "-", "--solver", "exact"], src)
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cimsim: error: <stdin>: ") and "--format NAME" in lines[0]
    for fmt, cut in [("gset", 3), ("edgelist", 4)]:
        code, out, err = run_cli(["solve", "maxcut", "-", "--format", fmt, "--solver", "exact", "--json", "-"], src)
        assert code == 0, err
        assert json.loads(out)["objective"] == cut
    code, out, err = run_cli(["solve", "maxcut", "-", "--format", "bogus"], src)
    assert code == 2 and err.strip() == ("cimsim: error: unknown graph format 'bogus'; choose one of gset, edgelist, "
                                         "adjlist, dimacs, mtx, graphml, gml")


def test_shipped_gset_files_are_still_gset():
    for name, n, m in [("G1.txt", 800, 19176), ("graph16.txt", 16, 27), ("maxcut_w20.txt", 20, 53)]:
        g = read_graph_file(PROBLEMS / name)
        assert (g.format, g.n, g.edges.shape[0], g.labels) == ("gset", n, m, None)
