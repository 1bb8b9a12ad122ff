"""The handbook's prose: cited UK facts, UK spelling, a used glossary, reachable pages, substance."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

DOCS = ROOT / "docs"
UK_PAGES = [
    *sorted((DOCS / "role").glob("*.md")),
    *sorted((DOCS / "duties").glob("*.md")),
    *sorted((DOCS / "skills").glob("*.md")),
    *sorted((DOCS / "routes").glob("*.md")),
    *sorted((DOCS / "law").glob("*.md")),
    DOCS / "self-assessment.md",
]
ALL_PAGES = (
    sorted(p for p in DOCS.rglob("*.md") if "_intersphinx" not in p.parts)
    + [ROOT / "index.md"]
    + sorted(ROOT.glob("[ne]*/*.md"))
)
# Reference pages are lists, not prose; landing pages are navigation.
REFERENCE_PAGES = {DOCS / "bibliography.md", DOCS / "glossary.md"}

_FENCE = re.compile(r"^(`{3,}|~{3,})")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*\n", re.S)
_DIRECTIVE_LINE = re.compile(
    r"^\s*:{3,}\s*$|^\s*(:{3,}|`{3,})\{[^}]+\}.*$|^\s*:[\w-]+:.*$|^\s*\([\w-]+\)=\s*$"
)


def prose_blocks(text: str) -> list[str]:
    """Paragraphs of prose: front matter, code fences, directive and option lines, and headings removed.

    A fence opening a directive (```{note}) keeps its body as prose; other fences are code.
    """
    text = _FRONT_MATTER.sub("", text, count=1)  # facts_checked and other page settings
    blocks, current = [], []
    directives = 0  # open ```{directive} fences
    code_fence = None  # the fence of the open code block
    for line in text.splitlines():
        stripped = line.strip()
        match = _FENCE.match(stripped)
        if code_fence is not None:
            if match and stripped == match.group(1) and stripped.startswith(code_fence):
                code_fence = None
            continue
        if match:
            rest = stripped[len(match.group(1)) :]
            if rest.startswith("{"):
                directives += 1
                line = ""
            elif rest == "" and directives:
                directives -= 1
                line = ""
            else:
                code_fence = match.group(1)
                continue
        if _DIRECTIVE_LINE.match(line) or line.lstrip().startswith("#"):
            line = ""
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def words(block: str) -> int:
    block = re.sub(r"\{[\w:-]+\}`[^`]*`", "ref", block)  # a role counts as one word
    return len(re.findall(r"[A-Za-z][A-Za-z'’-]*", block))


def page_words(path: Path) -> int:
    blocks = [b for b in prose_blocks(path.read_text()) if not b.lstrip().startswith("|")]
    return sum(words(b) for b in blocks)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("page", UK_PAGES, ids=_rel)
def test_every_paragraph_with_a_number_cites_a_source(page):
    uncited = [
        b
        for b in prose_blocks(page.read_text())
        if re.search(r"[0-9£]", re.sub(r"\{[\w:-]+\}`[^`]*`|\]\([^)]*\)", "", b))
        and "{cite" not in b
    ]
    assert not uncited, (
        f"{_rel(page)}: paragraphs with figures but no {{cite}}:\n\n" + "\n---\n".join(uncited)
    )


US_SPELLINGS = re.compile(
    r"\b(organiz\w*|moderniz\w*|modeling|modeled|colou?r(?<!colour)\w*|analyz\w*|behavior\w*|"
    r"center(s|ed)?|favor(ite|s|ed)?|optimiz\w*|catalog(s)?|labeled|labeling|generaliz\w*|"
    r"recogniz\w*|summariz\w*|visualiz\w*|prioritiz\w*|standardiz\w*|minimiz\w*|maximiz\w*|"
    r"customiz\w*|utiliz\w*|normaliz\w*|defense|licensing|fulfill|enroll(ment)?|judgment)\b",
    re.IGNORECASE,
)
ALLOWED = {"color"}  # never allowed in prose; code and CSS names are outside prose blocks


def _us_words(text: str) -> list[str]:
    found = []
    for match in US_SPELLINGS.finditer(re.sub(r"`[^`]*`|\]\([^)]*\)|https?://\S+", "", text)):
        word = match.group(0)
        if word.lower() == "colour" or word.lower().startswith("colour"):
            continue
        found.append(word)
    return found


@pytest.mark.parametrize("page", ALL_PAGES, ids=_rel)
def test_prose_uses_uk_spelling(page):
    found = [w for b in prose_blocks(page.read_text()) for w in _us_words(b)]
    assert not found, f"{_rel(page)}: US spellings {sorted(set(found))}"


@pytest.mark.parametrize(
    "notebook",
    sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("exercises/*.ipynb")),
    ids=_rel,
)
def test_notebook_text_uses_uk_spelling(notebook):
    nb = nbformat.read(notebook, as_version=4)
    found = [w for c in nb.cells if c.cell_type == "markdown" for w in _us_words(c.source)]
    assert not found, f"{_rel(notebook)}: US spellings {sorted(set(found))}"


def _glossary_terms() -> list[str]:
    text = (DOCS / "glossary.md").read_text()
    body = text.split("{glossary}", 1)[1].split("\n```", 1)[0]
    return [
        line.strip()
        for line in body.splitlines()
        if line.strip() and not line.startswith((" ", "\t", ":"))
    ]


def test_every_glossary_term_is_used_on_another_page():
    terms = _glossary_terms()
    assert len(terms) >= 20
    used = set()
    for page in ALL_PAGES:
        if page.name == "glossary.md":
            continue
        for match in re.finditer(r"\{term\}`([^`]*)`", page.read_text()):
            target = match.group(1)
            target = target.split("<")[-1].rstrip(">") if "<" in target else target
            used.add(target.strip().lower())
    unused = [t for t in terms if t.lower() not in used]
    assert not unused, f"glossary terms never linked with {{term}}: {unused}"


def _toctree_entries(page: Path) -> list[Path]:
    entries = []
    for block in re.findall(r"```\{toctree\}\n(.*?)```", page.read_text(), re.S):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith(":"):
                continue
            target = line.split("<")[-1].rstrip(">") if "<" in line else line
            base = ROOT if target.startswith("/") else page.parent
            stem = base / target.lstrip("/")
            for suffix in (".md", ".ipynb"):
                if stem.with_suffix(suffix).exists():
                    entries.append(stem.with_suffix(suffix))
    return entries


def test_every_page_is_reachable_from_the_landing_page():
    seen, todo = set(), [ROOT / "index.md"]
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        if page.suffix == ".md":
            todo.extend(_toctree_entries(page))
    pages = (
        set(ALL_PAGES) | set(ROOT.glob("notebooks/*.ipynb")) | set(ROOT.glob("exercises/*.ipynb"))
    )
    unreachable = sorted(_rel(p) for p in pages - seen)
    assert not unreachable, f"pages in no toctree reachable from index.md: {unreachable}"


CONTENT_PAGES = [p for p in UK_PAGES + [DOCS / "about.md"] if p.name != "index.md"]


@pytest.mark.parametrize("page", CONTENT_PAGES, ids=_rel)
def test_content_page_has_at_least_400_words(page):
    assert page_words(page) >= 400, f"{_rel(page)} has {page_words(page)} words of prose"


def test_handbook_has_at_least_15000_words_of_prose():
    total = sum(page_words(p) for p in ALL_PAGES if DOCS in p.parents and p not in REFERENCE_PAGES)
    assert total >= 15000, f"{total} words of prose in docs/"


@pytest.mark.parametrize("page", [p for p in ALL_PAGES if p not in REFERENCE_PAGES], ids=_rel)
def test_every_page_ends_with_where_to_go_next(page):
    headings = re.findall(r"^#{2,3} (.+)$", page.read_text(), re.M)
    assert headings and headings[-1].strip().lower() == "where to go next", (
        f"{_rel(page)}: last section is {headings[-1] if headings else None!r}"
    )
