"""docs/physics.md is the project's physics reference: every citation of it resolves to a numbered heading.

Citations are collected from cimsim/, tests/, docs/, bench/ and README.md in all the forms the repository uses:
``physics.md 4.3``, ``physics.md §2.1``, ``physics.md section 1``, ``physics.md sections 1, 2, 6, 7``,
``physics.md 4.1-4.3`` (hyphen or dash; both ends and the sections between them), ``physics.md 4.4 / 4.5``,
``physics.md 1 and 2.4``, a citation broken over two lines, and a bare ``§2.3`` in a file that cites physics.md.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "physics.md"
SCANNED = ("cimsim", "tests", "docs", "bench", "README.md")
SUFFIXES = {".py", ".md", ".rst", ".txt", ".toml", ".cfg"}

_NUM = r"\d+(?:\.\d+)*"
#: "physics.md" (optionally in ``backticks``), then a section number, optionally "section(s)" or "§", possibly on
#: the next line (after a comment marker), then more numbers joined by - – — / , and &.
CITATION = re.compile(
    r"physics\.md`{0,2}[ \t]*(?:\n[ \t#*>]*)?(?:sections?[ \t]+|§[ \t]*)?"
    rf"({_NUM}(?:[ \t]*(?:[-–—/,&]|and)[ \t]*§?[ \t]*{_NUM})*)"
)
BARE_SECTION = re.compile(rf"(?<![\w.§])§[ \t]*({_NUM})")
HEADING = re.compile(rf"^#{{2,4}}[ \t]+({_NUM})\.?[ \t]+\S", re.M)
RANGE = re.compile(rf"({_NUM})[ \t]*[-–—][ \t]*§?[ \t]*({_NUM})")


def sections_of(group: str) -> list[str]:
    """Section numbers named by one citation tail, ranges expanded (4.1-4.3 -> 4.1, 4.2, 4.3)."""
    out = re.findall(_NUM, group)
    for lo, hi in RANGE.findall(group):
        a, b = lo.split("."), hi.split(".")
        if len(a) == len(b) == 2 and a[0] == b[0] and int(a[1]) < int(b[1]):
            out += [f"{a[0]}.{k}" for k in range(int(a[1]) + 1, int(b[1]))]
    return out


def citations_in(text: str) -> list[tuple[int, str]]:
    """(line number, section) for every physics.md citation in ``text``; bare § only if physics.md is cited."""
    found, spans = [], []
    for m in CITATION.finditer(text):
        spans.append(m.span())
        line = text.count("\n", 0, m.start()) + 1
        found += [(line, s) for s in sections_of(m.group(1))]
    if "physics.md" in text:
        for m in BARE_SECTION.finditer(text):
            if not any(a <= m.start() < b for a, b in spans):
                found.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return sorted(found, key=lambda c: c[0])


def headings(doc_text: str) -> list[str]:
    return HEADING.findall(doc_text)


def unresolved(cites: list[tuple[str, int, str]], doc_text: str) -> list[tuple[str, int, str]]:
    have = set(headings(doc_text))
    return [c for c in cites if c[2] not in have]


def scanned_files() -> list[Path]:
    files = []
    for name in SCANNED:
        p = ROOT / name
        if p.is_file():
            files.append(p)
            continue
        for f in sorted(p.rglob("*")):
            parts = f.relative_to(ROOT).parts
            if f.is_file() and f.suffix in SUFFIXES and f != DOC and not any(
                    x.startswith(".") or x == "__pycache__" for x in parts):
                files.append(f)
    return files


def repository_citations() -> list[tuple[str, int, str]]:
    out = []
    for f in scanned_files():
        try:
            text = f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        out += [(str(f.relative_to(ROOT)), line, s) for line, s in citations_in(text)]
    return out


@pytest.fixture(scope="module")
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cites() -> list[tuple[str, int, str]]:
    return repository_citations()


def test_headings_are_numbered_unique_and_nested(doc_text):
    nums = headings(doc_text)
    assert len(nums) == len(set(nums)), "duplicate section numbers"
    for n in nums:
        if "." in n:
            assert n.rsplit(".", 1)[0] in nums, f"section {n} has no parent heading"
    # top-level sections run 1, 2, 3, ... without gaps
    top = [int(n) for n in nums if "." not in n]
    assert top == list(range(1, len(top) + 1))


def test_every_citation_resolves(cites, doc_text):
    assert len(cites) > 50  # the collector really sees the repository's citations
    missing = unresolved(cites, doc_text)
    assert not missing, "citations of physics.md sections that do not exist:\n" + "\n".join(
        f"  {f}:{line}: physics.md {s}" for f, line, s in missing)


def test_collector_reads_every_form():
    pm = "physics" + ".md"  # built here so this file cites nothing itself
    text = "\n".join([
        f"a ({pm} 4.3) b",
        f"``{pm}`` section 1, for spins",
        f"({pm} sections 1, 2, 6, 7)",
        f"| {pm} 4.1–4.3 |",
        f"{pm} 8.1-8.2 and {pm} 4.4 / 4.5",
        f"{pm} §2.1 warns; {pm} 1 and 2.4",
        f"one adiabatic path ({pm}",
        "    7.3) and more",
        f"law of total variance, {pm} 8.6 T8",
        "vs §2.5 above",
        f"{pm} predicts -2, -0.93; {pm} quotes -0.45",
    ])
    got = [s for _, s in citations_in(text)]
    assert got == ["4.3", "1", "1", "2", "6", "7", "4.1", "4.3", "4.2", "8.1", "8.2", "4.4", "4.5", "2.1", "1", "2.4",
                   "7.3", "8.6", "2.5"]
    assert citations_in("no citation here: see §2.5") == []  # bare § only counts in files that cite physics.md


def test_a_missing_heading_is_caught(cites, doc_text, tmp_path):
    """Remove, one at a time, the heading of every cited section from a copy: each removal is reported."""
    cited = sorted({s for _, _, s in cites}, key=lambda s: [int(x) for x in s.split(".")])
    assert cited
    for s in cited:
        pattern = re.compile(rf"^#{{2,4}}[ \t]+{re.escape(s)}\.?[ \t]+\S.*\n", re.M)
        assert len(pattern.findall(doc_text)) == 1, s
        copy = tmp_path / "physics.md"
        copy.write_text(pattern.sub("", doc_text), encoding="utf-8")
        missing = unresolved(cites, copy.read_text(encoding="utf-8"))
        assert missing and {m[2] for m in missing} == {s}, s


def test_physics_doc_stands_alone(doc_text):
    """The reference must not send the reader to the shared working notes or to paths outside the repository."""
    machine_roots = ["/" + d + "/" for d in ("work", "home", "tmp", "root", "Users")]
    for bad in ["../", "shared/docs", "cim-hardware", *machine_roots]:
        assert bad not in doc_text, bad
    assert "physics.md N.M" in doc_text  # it says how it is cited
