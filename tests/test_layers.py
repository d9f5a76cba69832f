"""The package's layering, read from the source with ``ast`` (nothing is imported):

* no import cycle among cimsim modules (imports inside functions count; a package importing its own
  children is not a cycle: that is how packages re-export);
* the executors (``cimsim.kernels``, ``cimsim.gpu``) never import ``cimsim.solvers``: the solvers build
  plans and call the executors, never the other way round.

The checker itself is tested on small synthetic packages so that a broken checker cannot pass silently.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cimsim"
EXECUTORS = ("cimsim.kernels", "cimsim.gpu")
PLANS = "cimsim.solvers"


def module_names(root: Path) -> dict[str, Path]:
    """Dotted name -> file for every ``.py`` under the package directory ``root`` (``pkg/__init__.py`` is ``pkg``)."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of ``modules`` (``a.b.func`` -> ``a.b``), or None."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that module ``name`` imports anywhere in its file (function bodies too),
    relative imports resolved against its package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # "from pkg import x" may name the submodule pkg.x or an attribute of pkg
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
        for target in targets:
            dep = _known(target, modules)
            if dep is not None and dep != name:
                found.add(dep)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> modules it imports, dropping the edges from a package to its own children."""
    modules = module_names(root)
    return {name: {d for d in imports_of(name, path, modules) if not d.startswith(name + ".")}
            for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (iterative Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``"a imports b"`` for every executor module importing the solvers package or one of its modules."""
    return sorted(f"{m} imports {d}" for m, deps in graph.items() for d in deps
                  if m.startswith(EXECUTORS) and (d == PLANS or d.startswith(PLANS + ".")))


# ---------------------------------------------------------------- the checker on synthetic packages
def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root / "cimsim"


def test_checker_finds_a_cycle_through_a_function_local_relative_import(tmp_path):
    pkg = _write(tmp_path, {
        "cimsim/__init__.py": "",
        "cimsim/solvers/__init__.py": "from .cim import run\n",
        "cimsim/solvers/cim.py": "from ..gpu.dynamics import step\n",
        "cimsim/gpu/__init__.py": "from .dynamics import step\n",
        "cimsim/gpu/dynamics.py": "def step():\n    from ..solvers.cim import plan\n",
    })
    g = import_graph(pkg)
    assert g["cimsim.gpu.dynamics"] == {"cimsim.solvers.cim"}
    assert g["cimsim.solvers"] == set() and g["cimsim.gpu"] == set()  # own children: not edges
    assert cycles(g) == [["cimsim.gpu.dynamics", "cimsim.solvers.cim"]]
    assert upward_imports(g) == ["cimsim.gpu.dynamics imports cimsim.solvers.cim"]


def test_checker_accepts_a_layered_package_and_resolves_from_imports(tmp_path):
    pkg = _write(tmp_path, {
        "cimsim/__init__.py": "from . import solvers\n",
        "cimsim/batch.py": "import numpy\n",
        "cimsim/solvers/__init__.py": "from ..batch import Batch\n",
        "cimsim/solvers/cim.py": "from cimsim import batch\nfrom cimsim.gpu import dynamics\nfrom . import Batch\n",
        "cimsim/gpu/__init__.py": "",
        "cimsim/gpu/dynamics.py": "from ..batch import Batch\nimport cimsim.kernels.sb as k\n",
        "cimsim/kernels/__init__.py": "",
        "cimsim/kernels/sb.py": "from .. import batch\n",
    })
    g = import_graph(pkg)
    # "from pkg import name" imports pkg itself as well as a submodule pkg.name
    assert g["cimsim.solvers.cim"] == {"cimsim", "cimsim.batch", "cimsim.gpu", "cimsim.gpu.dynamics", "cimsim.solvers"}
    assert g["cimsim.gpu.dynamics"] == {"cimsim.batch", "cimsim.kernels.sb"}
    assert g["cimsim.kernels.sb"] == {"cimsim", "cimsim.batch"}
    assert g["cimsim"] == set()
    assert cycles(g) == [] and upward_imports(g) == []
    # one import of the solvers package from a kernel is enough to fail
    (pkg / "kernels" / "sb.py").write_text("def f():\n    import cimsim.solvers\n")
    assert upward_imports(import_graph(pkg)) == ["cimsim.kernels.sb imports cimsim.solvers"]


# ---------------------------------------------------------------- the real package
@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    g = import_graph(PACKAGE)
    assert "cimsim.solvers.cim" in g and "cimsim.gpu.dynamics" in g  # the walk found the package
    return g


def test_no_import_cycles(graph):
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_executors_do_not_import_solvers(graph):
    bad = upward_imports(graph)
    assert not bad, "executors must not import cimsim.solvers: " + "; ".join(bad)
