"""The build's speed-ups change nothing but speed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pybtex.plugin
import pytest

from mle_handbook.sphinxext import speedups


def test_memoised_conversion_is_computed_once_and_kept_on_disk(tmp_path):
    calls = []

    def convert(text):
        calls.append(text)
        return text.upper()

    first = speedups.memoised(convert, tmp_path, salt="v1")
    assert first("*a*") == "*A*" and first("*a*") == "*A*"
    # A new process (a new wrapper) finds the conversion on disk.
    assert speedups.memoised(convert, tmp_path, salt="v1")("*a*") == "*A*"
    assert calls == ["*a*"]
    assert len(list(tmp_path.rglob("*.rst"))) == 1


def test_memoised_conversion_is_redone_for_other_versions_or_text(tmp_path):
    calls = []

    def convert(text):
        calls.append(text)
        return text

    speedups.memoised(convert, tmp_path, salt="v1")("x")
    speedups.memoised(convert, tmp_path, salt="v2")("x")
    speedups.memoised(convert, tmp_path, salt="v2")("y")
    assert calls == ["x", "x", "y"]


def test_unwritable_cache_costs_speed_not_the_result(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert speedups.memoised(str.upper, blocked, salt="v1")("ok") == "OK"


def test_pybtex_plugin_lookup_is_remembered_and_gives_the_same_plugin():
    before = pybtex.plugin.find_plugin("pybtex.backends", "plaintext")
    speedups.remember_pybtex_plugins(None, None)
    after = pybtex.plugin.find_plugin("pybtex.backends", "plaintext")
    assert after is before
    pybtex.plugin.find_plugin("pybtex.backends", "plaintext")
    assert pybtex.plugin.find_plugin.cache_info().hits >= 1


@pytest.mark.slow
def test_cached_markdown_conversion_renders_the_same_page(mini_project, squares_solution):
    mini_project.add_notebook("squares", squares_solution)
    plain = mini_project.build()
    assert plain.returncode == 0, plain.output
    expected = (plain.outdir / "exercises" / "squares.html").read_text()
    cache = ("-D", "mle_handbook_cache_dir=_build/.jupyter-cache")
    for _ in range(2):  # the first fills the conversion cache, the second reads it
        shutil.rmtree(plain.outdir)
        cached = mini_project.build(*cache)
        assert cached.returncode == 0, cached.output
        assert (cached.outdir / "exercises" / "squares.html").read_text() == expected
    assert list((mini_project.srcdir / "_build" / ".jupyter-cache" / "markdown2rst").rglob("*.rst"))


def test_loading_a_lexer_tolerates_unknown_or_missing_names():
    speedups.load_lexer(None)
    speedups.load_lexer("no-such-lexer-anywhere")
    speedups.load_lexer("ipython3")


def _counting_block(calls):
    from sphinx.highlighting import PygmentsBridge

    block = getattr(PygmentsBridge.highlight_block, "__wrapped__", PygmentsBridge.highlight_block)

    def counting(self, source, *args, **kwargs):
        calls.append(source)
        return block(self, source, *args, **kwargs)

    return block, counting


def test_memoised_highlighting_gives_sphinx_html_and_keeps_it_on_disk(tmp_path):
    from sphinx.highlighting import PygmentsBridge

    calls = []
    block, counting = _counting_block(calls)
    bridge = PygmentsBridge("html")
    expected = block(bridge, "x = 1\n", "python")
    first = speedups.memoised_highlight_block(counting, tmp_path, salt="v1")
    assert first(bridge, "x = 1\n", "python") == expected
    # Another process (a new wrapper) reads the file; other inputs are highlighted anew.
    again = speedups.memoised_highlight_block(counting, tmp_path, salt="v1")
    assert again(bridge, "x = 1\n", "python") == expected
    assert calls == ["x = 1\n"]
    assert again(bridge, "x = 1\n", "python", linenos=True) == block(
        bridge, "x = 1\n", "python", linenos=True
    )
    again(bridge, "x = 2\n", "python")
    again(bridge, "x = 1\n", "ruby")
    again(bridge, "x = 1\n", "python", opts={"stripnl": False})
    again(bridge, "x = 1\n", "python", force=True)
    again(PygmentsBridge("latex"), "x = 1\n", "python")
    speedups.memoised_highlight_block(counting, tmp_path, salt="v2")(bridge, "x = 1\n", "python")
    assert len(calls) == 8


def test_a_kept_block_needs_no_lexer(tmp_path):
    """The point of keeping Sphinx's HTML rather than Pygments': a writer process that finds a
    block compiles no lexer (Scala's rules alone take 0.3 s to compile)."""
    from pygments.lexers import find_lexer_class_by_name
    from sphinx.highlighting import PygmentsBridge

    block, _ = _counting_block([])
    bridge = PygmentsBridge("html")
    expected = speedups.memoised_highlight_block(block, tmp_path, salt="v1")(
        bridge, "val x = 1", "scala"
    )
    lexer = find_lexer_class_by_name("scala")
    del lexer._tokens  # as in a fresh process
    again = speedups.memoised_highlight_block(block, tmp_path, salt="v1")
    assert again(bridge, "val x = 1", "scala") == expected
    assert "_tokens" not in lexer.__dict__


@pytest.mark.parametrize(
    ("code", "language"), [("x = $\n", "python"), ("x = 1\n", "no-such-language-anywhere")]
)
def test_a_block_sphinx_warns_about_is_never_kept_and_warns_every_time(tmp_path, code, language):
    from sphinx.highlighting import PygmentsBridge
    from sphinx.util import logging

    calls = []
    _, counting = _counting_block(calls)
    memo = speedups.memoised_highlight_block(counting, tmp_path, salt="v1")
    for _ in range(2):
        with logging.pending_logging() as held:
            html = memo(PygmentsBridge("html"), code, language)
            warnings = [r for r in held.buffer if r.levelname == "WARNING"]
        assert "x" in html and len(warnings) == 1
    assert len(calls) == 2
    assert not list(tmp_path.rglob("*.html"))


# Run in a fresh, single-threaded interpreter: forking the test process could copy its threads.
FORKED_READER = """
import json, multiprocessing
from sphinx.environment import BuildEnvironment
from mle_handbook.sphinxext import speedups

speedups.lighten_reader_environments(None, None)
env = BuildEnvironment.__new__(BuildEnvironment)
env.__dict__.update(
    intersphinx_cache={"https://docs.python.org/3": ("python", 0, {})},
    intersphinx_inventory={"py:class": {}},
    intersphinx_named_inventory={"python": {}},
    all_docs={"index": 0.0},
)

def names():
    return sorted(env.__getstate__())

if __name__ == "__main__":
    with multiprocessing.get_context("fork").Pool(1) as pool:
        print(json.dumps({"main": names(), "reader": pool.apply(names)}))
"""


def test_reader_processes_send_their_environment_back_without_inventories(tmp_path):
    script = tmp_path / "reader.py"
    script.write_text(FORKED_READER)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    names = json.loads(done.stdout)
    # The main process (which saves environment.pickle) keeps the inventories.
    assert set(speedups.INVENTORY_ATTRIBUTES) <= set(names["main"])
    # A forked reader leaves them out, and keeps the rest.
    assert "all_docs" in names["reader"]
    assert not set(speedups.INVENTORY_ATTRIBUTES) & set(names["reader"])


@pytest.mark.slow
def test_parallel_build_still_resolves_intersphinx_references(mini_project):
    inventory = Path(__file__).resolve().parents[2] / "docs" / "_intersphinx" / "python.inv"
    conf = mini_project.srcdir / "conf.py"
    conf.write_text(
        conf.read_text().replace("'nbsphinx']", "'nbsphinx', 'sphinx.ext.intersphinx']")
        + f"intersphinx_mapping = {{'python': ('https://docs.python.org/3', '{inventory}')}}\n"
    )
    pages = mini_project.srcdir / "pages"
    pages.mkdir()
    for n in range(8):  # enough pages for reader processes of several pages each
        (pages / f"p{n}.md").write_text(
            f"---\norphan: true\n---\n# Page {n}\n\nSee {{py:class}}`int`.\n"
        )
    result = mini_project.build("-j", "3")
    assert result.returncode == 0, result.output
    assert re.search(r"reading sources\.\.\. \[.*\] \S+ \.\. \S+", result.output)  # in chunks
    for n in range(8):
        html = (result.outdir / "pages" / f"p{n}.html").read_text()
        assert "https://docs.python.org/3/library/functions.html#int" in html


@pytest.mark.slow
def test_compiled_page_templates_are_kept_in_the_cache_folder_and_reused(mini_project):
    cache = ("-D", "mle_handbook_cache_dir=_build/.jupyter-cache")
    first = mini_project.build(*cache)
    assert first.returncode == 0, first.output
    compiled = sorted((mini_project.srcdir / "_build" / ".jupyter-cache" / "jinja").rglob("*"))
    compiled = {p: p.stat().st_mtime_ns for p in compiled if p.is_file()}
    assert len(compiled) >= 3  # the theme's page templates, at least
    page = (first.outdir / "index.html").read_text()
    shutil.rmtree(first.outdir)
    second = mini_project.build(*cache)
    assert second.returncode == 0, second.output
    assert (second.outdir / "index.html").read_text() == page
    # Loaded, not compiled again: no file was written anew.
    after = (mini_project.srcdir / "_build" / ".jupyter-cache" / "jinja").rglob("*")
    assert {p: p.stat().st_mtime_ns for p in after if p.is_file()} == compiled


@pytest.mark.slow
def test_page_templates_are_not_kept_without_a_cache_folder(mini_project):
    plain = mini_project.build()
    assert plain.returncode == 0, plain.output
    assert not list(mini_project.srcdir.rglob("__jinja2_*"))


def test_code_highlighted_ahead_is_what_the_writer_then_finds(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import nbformat
    from sphinx.highlighting import PygmentsBridge

    highlighted = []
    block, counting = _counting_block(highlighted)
    expected = block(PygmentsBridge("html"), "x = 1  # one", "ipython3", force=False)
    memo = speedups.memoised_highlight_block(counting, tmp_path, salt="v1")
    monkeypatch.setattr(PygmentsBridge, "highlight_block", memo)
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1  # one"), nbformat.v4.new_markdown_cell("*x*")]
    )
    bridge = PygmentsBridge("html")
    app = SimpleNamespace(
        builder=SimpleNamespace(highlighter=bridge),
        config=SimpleNamespace(mle_handbook_cache_dir=""),
    )
    speedups.highlight_ahead(app, nb)  # no cache folder: nothing done ahead
    assert highlighted == []
    app.config.mle_handbook_cache_dir = "cache"
    speedups.highlight_ahead(app, nb)
    assert highlighted == ["x = 1  # one"]
    # The writer's call, as Sphinx's HTML translator makes it for a notebook's code cell:
    written = bridge.highlight_block(
        "x = 1  # one", "ipython3", opts={}, linenos=False, force=False
    )
    assert written == expected
    assert highlighted == ["x = 1  # one"]  # found in the memo, not highlighted again


def test_lexers_and_page_templates_are_compiled_ahead_for_the_writers():
    """What the main process compiles while it waits is what the writers then use: the lexer of
    each language read (its class keeps the compiled rules), the page layout's templates and
    soupsieve's selector patterns."""
    from types import SimpleNamespace

    import jinja2
    from docutils import nodes
    from pygments.lexers import find_lexer_class_by_name
    from sphinx.highlighting import PygmentsBridge

    layout = {
        "page.html": '{% extends "layout.html" %}{% block body %}{{ body }}{% endblock %}',
        "layout.html": '{% include "header.html" %}{% include item %}{% block body %}{% endblock %}',
        "header.html": "<header></header>",
        "unused.html": "never needed by a page",
    }
    environment = jinja2.Environment(loader=jinja2.DictLoader(layout))
    app = SimpleNamespace(
        builder=SimpleNamespace(
            highlighter=PygmentsBridge("html"), templates=SimpleNamespace(environment=environment)
        )
    )
    doctree = nodes.document(None, None)
    doctree += nodes.literal_block("val x = 1", "val x = 1", language="scala")
    doctree += nodes.literal_block("x", "x")  # no language: nothing to compile for it
    lexer = find_lexer_class_by_name("scala")
    if "_tokens" in lexer.__dict__:  # compiled by an earlier test: as in a fresh process
        del lexer._tokens
    for pattern in _selector_patterns():  # as in a fresh process
        pattern._re_pattern = None
    speedups.note_languages(app, doctree)
    assert app._mle_languages == {"scala"}
    assert "_tokens" not in lexer.__dict__
    speedups.prepare_writing_ahead(app)
    assert "_tokens" in lexer.__dict__
    compiled = {name for _, name in environment.cache.keys()}
    assert compiled == {"page.html", "layout.html", "header.html"}
    assert all(pattern._re_pattern is not None for pattern in _selector_patterns())
    speedups.prepare_writing_ahead(SimpleNamespace(builder=None))  # no builder yet: nothing


def _selector_patterns():
    from soupsieve import css_parser

    for token in css_parser.CSSParser.CSS_TOKENS:
        yield from token.patterns.values() if hasattr(token, "patterns") else (token,)


def test_selector_patterns_are_compiled_ahead_and_a_forked_writer_compiles_none():
    """soupsieve compiles its selector patterns on first use; compiled while the build waits,
    a process forked afterwards (as the writers are) selects without compiling any, and selects
    the same elements."""
    import multiprocessing
    import re

    import bs4

    for pattern in _selector_patterns():  # as in a fresh process
        pattern._re_pattern = None
    html = '<ul><li class="toctree-l1"><details><a class="reference" href="#">A</a></details></li></ul>'
    selectors = ("li", "li.toctree-l1 > details", "details > a.reference", ".toc-h1")

    def select_counting_compiles(connection):
        compiled = []
        original = re.compile
        re.compile = lambda *args, **kwargs: compiled.append(args[0]) or original(*args, **kwargs)
        soup = bs4.BeautifulSoup(html, "html.parser")
        found = [[str(tag) for tag in soup.select(selector)] for selector in selectors]
        connection.send((found, compiled))

    def in_fork():
        here, there = multiprocessing.get_context("fork").Pipe()
        child = multiprocessing.get_context("fork").Process(
            target=select_counting_compiles, args=(there,)
        )
        child.start()
        result = here.recv()
        child.join()
        return result

    import soupsieve

    soupsieve.purge()  # its cache of parsed selectors: parsed afresh in the child
    found_cold, compiled_cold = in_fork()
    assert compiled_cold, "soupsieve compiled nothing on first use: the test no longer tests"
    speedups.compile_selector_patterns()
    assert all(pattern._re_pattern is not None for pattern in _selector_patterns())
    soupsieve.purge()
    found_warm, compiled_warm = in_fork()
    assert compiled_warm == []
    assert found_warm == found_cold
    assert found_warm[1] == ['<details><a class="reference" href="#">A</a></details>']


def test_a_style_formats_each_entry_once_and_gives_the_same_text():
    from pybtex.database import Entry, Person
    from pybtex.style.formatting import BaseStyle
    from pybtex.style.formatting.unsrt import Style

    entry = Entry("article", fields={"title": "Trees", "journal": "J", "year": "2001"})
    entry.persons["author"] = [Person("Breiman, Leo")]
    other = Entry("article", fields={"title": "Forests", "journal": "J", "year": "2001"})
    other.persons["author"] = [Person("Breiman, Leo")]
    plain = Style().format_entry("1", entry).text.render_as("text")
    speedups.format_entries_once(None, None)
    assert hasattr(BaseStyle.format_entry, "__wrapped__")
    style = Style()
    calls = []
    template = style.get_article_template
    style.get_article_template = lambda e: calls.append(e) or template(e)
    first = style.format_entry("1", entry)
    assert style.format_entry("1", entry) is first and len(calls) == 1
    assert first.text.render_as("text") == plain
    assert style.format_entry("2", entry) is not first  # another label
    assert style.format_entry("1", other).text.render_as("text") != plain  # another entry
    assert Style().format_entry("1", entry) is not first  # another style object


def test_remembered_navigation_is_the_themes_and_is_kept_by_sphinxs_toctree_html(tmp_path):
    calls, toctrees = [], {"collapse": "<ul><li>A</li></ul>"}

    def generate(kind, startdepth=1, show_nav_level=1, **kwargs):
        calls.append((kind, startdepth, show_nav_level))
        return f"<nav {kind} {startdepth} {show_nav_level}>{toctrees['collapse']}</nav>"

    def toctree(**kwargs):
        return toctrees["collapse"] + repr(sorted(kwargs.items()))

    def page(memo_folder=tmp_path, salt="theme 1"):
        memo = speedups._Memo(memo_folder, salt=salt, suffix=".html")
        return speedups.remembered_navigation(generate, toctree, memo)

    expected = generate("sidebar", 0, 1, maxdepth=2)
    calls.clear()
    first = page()
    assert first("sidebar", startdepth=0, maxdepth=2) == expected
    assert first("sidebar", startdepth=0, maxdepth=2) == expected  # the page's second call
    assert len(calls) == 1
    # Another page or process with the same table of contents finds it; nothing is reshaped.
    assert page()("sidebar", startdepth=0, maxdepth=2) == expected and len(calls) == 1
    # Anything that changes the result is shaped anew: Sphinx's HTML, the arguments, the theme.
    toctrees["collapse"] = "<ul><li>B</li></ul>"
    assert "<li>B</li>" in page()("sidebar", startdepth=0, maxdepth=2)
    page()("sidebar", startdepth=0, show_nav_level=2, maxdepth=2)
    page()("sidebar", startdepth=0, maxdepth=3)
    page(salt="theme 2")("sidebar", startdepth=0, maxdepth=2)
    assert len(calls) == 5
    # Other calls (a section's own navigation, the raw tree) are always the theme's own.
    page()("sidebar", startdepth=1)
    page()("raw", startdepth=0)
    assert calls[-2:] == [("sidebar", 1, 1), ("raw", 0, 1)]
    assert len(list(tmp_path.rglob("*.html"))) == 5


@pytest.mark.slow
def test_remembered_sidebar_navigation_gives_the_same_pages(mini_project):
    conf = mini_project.srcdir / "conf.py"
    conf.write_text(conf.read_text() + "html_theme = 'sphinx_book_theme'\n")
    pages = mini_project.srcdir / "pages"
    pages.mkdir()
    for n in range(3):
        (pages / f"p{n}.md").write_text(f"# Page {n}\n\n## Part\n\nText.\n")
    index = mini_project.srcdir / "index.md"
    index.write_text(index.read_text() + "\n```{toctree}\npages/p0\npages/p1\npages/p2\n```\n")
    plain = mini_project.build()
    assert plain.returncode == 0, plain.output
    names = ["index.html", "pages/p0.html", "pages/p2.html"]
    expected = {name: (plain.outdir / name).read_text() for name in names}
    assert 'href="pages/p1.html"' in expected["index.html"]
    folder = mini_project.srcdir / "_build" / ".jupyter-cache" / "navigation"
    kept = {}
    for _ in range(2):  # the first keeps each page's navigation, the second finds it
        shutil.rmtree(plain.outdir)
        cached = mini_project.build("-D", "mle_handbook_cache_dir=_build/.jupyter-cache")
        assert cached.returncode == 0, cached.output
        assert {name: (cached.outdir / name).read_text() for name in names} == expected
        files = {p: p.stat().st_mtime_ns for p in folder.rglob("*.html")}
        assert len(files) == 8  # per page: the sidebar's navigation and its table of contents
        kept = kept or files
    assert files == kept  # found, not written again


def test_compiled_notebook_templates_are_kept_on_disk_for_the_next_process(tmp_path):
    import jinja2

    def environment(cache):
        loader = jinja2.DictLoader({"cell.tpl": "{% for c in cells %}[{{ c }}]{% endfor %}"})
        return jinja2.Environment(loader=loader, bytecode_cache=cache)

    first = speedups._CompiledTemplates()
    first.disk = jinja2.FileSystemBytecodeCache(str(tmp_path))
    assert environment(first).get_template("cell.tpl").render(cells=[1, 2]) == "[1][2]"
    assert len(list(tmp_path.iterdir())) == 1
    # A new process (a new, empty memory) loads the code: Jinja compiles nothing.
    again = speedups._CompiledTemplates()
    again.disk = jinja2.FileSystemBytecodeCache(str(tmp_path))
    env = environment(again)
    env.compile = lambda *a, **k: pytest.fail("compiled again")
    assert env.get_template("cell.tpl").render(cells=[3]) == "[3]"
    # Without a folder, memory only.
    plain = speedups._CompiledTemplates()
    environment(plain).get_template("cell.tpl")
    assert len(plain.code) == 1 and len(list(tmp_path.iterdir())) == 1


def test_notebooks_are_validated_once_per_export_with_the_same_result(monkeypatch):
    import nbconvert
    import nbformat
    import nbsphinx

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", execution_count=1)])
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    checks = []
    validate = nbconvert.exporters.exporter.Exporter._validate_preprocessor
    monkeypatch.setattr(
        nbconvert.exporters.exporter.Exporter,
        "_validate_preprocessor",
        lambda self, *a: checks.append(a) or validate(self, *a),
    )
    init = nbsphinx.Exporter.__init__
    monkeypatch.setattr(nbsphinx.Exporter, "__init__", getattr(init, "__wrapped__", init))
    expected, _ = nbsphinx.Exporter(execute="never").from_notebook_node(nb)
    each = len(checks)
    assert each > 1  # nbconvert's default: after every preprocessor
    speedups.validate_notebooks_once(None, None)
    checks.clear()
    exporter = nbsphinx.Exporter(execute="never")
    assert exporter.optimistic_validation
    assert exporter.from_notebook_node(nb)[0] == expected
    assert len(checks) == 1


def test_latex_is_decoded_once_per_string_with_the_same_text(monkeypatch):
    from pybtex.richtext import Text

    decode = Text.from_latex.__func__
    monkeypatch.setattr(Text, "from_latex", classmethod(getattr(decode, "__wrapped__", decode)))
    plain = Text.from_latex(r"Sch{\"o}lkopf and {Breiman}")
    speedups.decode_latex_once(None, None)
    first = Text.from_latex(r"Sch{\"o}lkopf and {Breiman}")
    assert first == plain and str(first) == "Schölkopf and Breiman"
    assert Text.from_latex(r"Sch{\"o}lkopf and {Breiman}") is first
    assert str(Text.from_latex(r"Caf{\'e}")) == "Café"
    assert Text.from_latex.cache_info().misses == 2


def test_remembered_inventories_are_the_parsed_ones_keyed_by_their_bytes(tmp_path):
    import zlib

    from sphinx.ext.intersphinx._load import _load_inventory

    load = getattr(_load_inventory, "__wrapped__", _load_inventory)
    raw = (
        Path(__file__).resolve().parents[2] / "docs" / "_intersphinx" / "python.inv"
    ).read_bytes()
    calls = []

    def counting(data, /, *, target_uri):
        calls.append(target_uri)
        return load(data, target_uri=target_uri)

    expected = load(raw, target_uri="https://docs.python.org/3")
    first = speedups.remembered_inventories(counting, tmp_path, salt="sphinx 1")
    assert first(raw, target_uri="https://docs.python.org/3").data == expected.data
    # Another process finds it; another URI, other bytes or another Sphinx are parsed anew.
    again = speedups.remembered_inventories(counting, tmp_path, salt="sphinx 1")
    assert again(raw, target_uri="https://docs.python.org/3").data == expected.data
    assert len(calls) == 1
    other = again(raw, target_uri="https://example.org/py")
    assert "https://example.org/py" in str(other.data) and len(calls) == 2
    with pytest.raises(zlib.error):  # a broken inventory still fails as Sphinx's parser fails
        again(raw[:-1] + b"!", target_uri="https://docs.python.org/3")
    speedups.remembered_inventories(counting, tmp_path, salt="sphinx 2")(
        raw, target_uri="https://docs.python.org/3"
    )
    assert len(calls) == 4
    # An unreadable pickle is parsed again and replaced.
    for kept in tmp_path.glob("*.pickle"):
        kept.write_bytes(b"not a pickle")
    assert again(raw, target_uri="https://docs.python.org/3").data == expected.data
    assert len(calls) == 5


def _breiman(title="Trees"):
    from pybtex.database import Entry, Person

    entry = Entry("article", fields={"title": title, "journal": "J", "year": "2001"})
    entry.persons["author"] = [Person("Breiman, Leo")]
    entry.key = "breiman2001"
    return entry


def _counting_format_entry(calls: list):
    """pybtex's own ``BaseStyle.format_entry`` (under any wrapper), noting each label formatted."""
    from pybtex.style.formatting import BaseStyle

    format_entry = BaseStyle.format_entry
    while hasattr(format_entry, "__wrapped__"):
        format_entry = format_entry.__wrapped__

    def counting(self, label, entry, bib_data=None):
        calls.append(label)
        return format_entry(self, label, entry, bib_data)

    return format_entry, counting


def test_remembered_entries_are_pybtex_formatting_kept_on_disk(tmp_path):
    from pybtex.style.formatting.unsrt import Style

    calls = []
    format_entry, counting = _counting_format_entry(calls)

    plain = format_entry(Style(), "1", _breiman())
    first = speedups.remembered_entries(counting, tmp_path, "v1")(Style(), "1", _breiman())
    assert calls == ["1"] and len(list(tmp_path.rglob("*.pickle"))) == 1
    again = speedups.remembered_entries(counting, tmp_path, "v1")  # a later build's process
    found = again(Style(), "1", _breiman())
    assert calls == ["1"]  # found on disk, not formatted
    for result in (first, found):
        assert (result.key, result.label) == (plain.key, plain.label) == ("breiman2001", "1")
        assert result.text.render_as("html") == plain.text.render_as("html")
    again(Style(), "2", _breiman())  # another label
    again(Style(), "1", _breiman("Forests"))  # another entry
    again(Style(abbreviate_names=True), "1", _breiman())  # another setting of the style
    speedups.remembered_entries(counting, tmp_path, "v2")(Style(), "1", _breiman())  # other .bib
    assert calls == ["1", "2", "1", "1", "1"]


def test_entries_of_other_styles_or_that_fail_are_never_kept(tmp_path):
    from pybtex.database import Entry
    from pybtex.style.formatting.unsrt import Style
    from pybtex.style.template import FieldIsMissing

    class HouseStyle(Style):  # as conf.py might define: its code is not in the key
        pass

    calls = []
    remembered = speedups.remembered_entries(_counting_format_entry(calls)[1], tmp_path, "v1")
    remembered(HouseStyle(), "1", _breiman())
    remembered(HouseStyle(), "1", _breiman())
    assert calls == ["1", "1"]
    untitled = Entry("article", fields={"journal": "J", "year": "2001"})
    for _ in range(2):
        with pytest.raises(FieldIsMissing):
            remembered(Style(), "3", untitled)
    assert not list(tmp_path.rglob("*.pickle"))


def test_installed_entry_points_are_importlibs_read_once():
    from importlib.metadata import entry_points

    expected = entry_points(group="pybtex.style.formatting", name="unsrt")
    assert list(speedups.installed_entry_points(group="pybtex.style.formatting", name="unsrt")) == (
        list(expected)
    )
    assert speedups._every_entry_point() is speedups._every_entry_point()
    assert not list(speedups.installed_entry_points(group="pybtex.style.formatting", name="none!"))


def _notebook_with_a_figure():
    import base64

    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Trees\n\nA *split*."),
        nbformat.v4.new_code_cell("plot()", execution_count=1),
    ]
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"image/png": png})]
    return nb


def test_remembered_export_is_nbsphinxs_kept_on_disk_with_its_figures(tmp_path, monkeypatch):
    import os

    import nbsphinx

    from mle_handbook.sphinxext import tools

    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))  # restored after the test
    tools.make_pandoc_visible(None, None)  # for the Markdown cell
    from nbconvert.exporters import RSTExporter
    from nbconvert.exporters.templateexporter import TemplateExporter

    export = TemplateExporter.from_notebook_node
    calls = []

    def counting(self, nb, resources=None, **kw):
        calls.append(resources["unique_key"])
        return export(self, nb, resources, **kw)

    def resources(key="trees"):
        return {"metadata": {"path": str(tmp_path)}, "output_files_dir": "_out", "unique_key": key}

    exporter, nb = nbsphinx.Exporter(execute="never"), _notebook_with_a_figure()
    plain_rst, plain = export(exporter, nb, resources())
    assert plain["outputs"] and "image:: _out/trees_1_0.png" in plain_rst
    remembered = speedups.remembered_export(counting, nbsphinx.Exporter, tmp_path / "k", "v1")
    assert remembered(exporter, nb, resources())[0] == plain_rst and calls == ["trees"]
    later = speedups.remembered_export(counting, nbsphinx.Exporter, tmp_path / "k", "v1")
    rst, found = later(nbsphinx.Exporter(execute="never"), nb, resources())
    assert calls == ["trees"]  # found on disk
    assert rst == plain_rst and found["outputs"] == plain["outputs"]
    later(exporter, nb, resources("other"))  # other resources
    nb.cells[1].source = "plot(depth=3)"
    later(exporter, nb, resources())  # another notebook
    speedups.remembered_export(counting, nbsphinx.Exporter, tmp_path / "k", "v2")(
        exporter, nb, resources()
    )  # other versions or settings
    later(RSTExporter(), nb, resources())  # not nbsphinx's exporter: never kept
    later(RSTExporter(), nb, resources())
    assert calls == ["trees", "other", "trees", "trees", "trees", "trees"]


def test_an_export_sphinx_warned_about_is_never_kept(tmp_path):
    import nbsphinx
    from sphinx.util import logging as sphinx_logging

    calls = []

    def warning_export(self, nb, resources=None, **kw):
        calls.append(1)
        sphinx_logging.getLogger("nbsphinx").warning("a broken thumbnail")
        return "text", {}

    remembered = speedups.remembered_export(warning_export, nbsphinx.Exporter, tmp_path, "v1")
    for _ in range(2):
        remembered(nbsphinx.Exporter(execute="never"), _notebook_with_a_figure(), {"a": 1})
    assert len(calls) == 2 and not list(tmp_path.rglob("*.pickle"))


def test_code_read_while_notebooks_run_is_highlighted_as_the_writer_then_finds_it(
    tmp_path, monkeypatch
):
    from types import SimpleNamespace

    from docutils import nodes
    from docutils.utils import new_document
    from sphinx.highlighting import PygmentsBridge
    from sphinx.writers.html5 import HTML5Translator

    highlighted = []
    _, counting = _counting_block(highlighted)
    monkeypatch.setattr(
        PygmentsBridge,
        "highlight_block",
        speedups.memoised_highlight_block(counting, tmp_path, "1"),
    )
    bridge = PygmentsBridge("html")
    config = SimpleNamespace(
        mle_handbook_cache_dir="cache", highlight_options={}, html_codeblock_linenos_style="inline"
    )
    running = SimpleNamespace(unfinished=1)
    app = SimpleNamespace(builder=SimpleNamespace(highlighter=bridge), config=config)
    doctree = new_document("page.md")
    named = nodes.literal_block("print(1)\n", "print(1)\n", language="python")
    doctree += named
    doctree += nodes.literal_block("plain", "plain")  # its language is set later, by Sphinx
    doctree += nodes.literal_block("x = 2", "x = 2", language="python", linenos=True)
    speedups.highlight_read_ahead(app, doctree)  # no notebook running: left to the writers
    assert highlighted == []
    app._mle_running = running
    speedups.highlight_read_ahead(app, doctree)
    assert highlighted == ["print(1)\n"]
    # The writer: Sphinx's HTML translator, once its post-transforms have set "linenos".
    named["linenos"] = False
    writer = SimpleNamespace(
        config=config, highlighter=bridge, starttag=lambda *a, **k: "", body=[]
    )
    with pytest.raises(nodes.SkipNode):
        HTML5Translator.visit_literal_block(writer, named)
    assert highlighted == ["print(1)\n"] and "print" in writer.body[0]  # found, not redone
    running.unfinished = 0  # the last notebook has run: the writers highlight in parallel
    doctree += nodes.literal_block("y = 3", "y = 3", language="python")
    speedups.highlight_read_ahead(app, doctree)
    assert highlighted == ["print(1)\n"]


def test_bibliography_formatted_ahead_once_a_build_and_silently():
    from types import SimpleNamespace

    from sphinx.util import logging as sphinx_logging

    formatted = []

    class Domain:
        bibliographies = {"a": 1, "b": 2}

        def get_formatted_entries(self, key, docnames, tooltips, style):
            formatted.append((key, docnames))
            sphinx_logging.getLogger(__name__).warning("missing field")  # silenced
            yield from ()
            if key == "b":
                raise ValueError("an entry that cannot be formatted")

    env = SimpleNamespace(
        domains={"cite": Domain()},
        config=SimpleNamespace(root_doc="index"),
        collect_relations=lambda: {"index": (None, None, None)},
        found_docs={"index", "orphan"},
    )
    app = SimpleNamespace(
        env=env, config=SimpleNamespace(bibtex_tooltips=True, bibtex_tooltips_style="")
    )
    speedups.format_bibliography_ahead(app)
    speedups.format_bibliography_ahead(app)  # once a build
    assert formatted == [("a", ["index", "orphan"]), ("b", ["index", "orphan"])]
    app = SimpleNamespace(env=SimpleNamespace(domains={}))
    speedups.format_bibliography_ahead(app)  # no sphinxcontrib-bibtex: nothing


BIB = """@misc{dsit2026,
  author = {{Department for Science, Innovation and Technology}},
  title = {AI Sector Study},
  year = {2026},
}
@book{breiman1984,
  author = {Breiman, Leo and Friedman, Jerome and Olshen, Richard and Stone, Charles},
  title = {Classification and Regression Trees},
  publisher = {Wadsworth},
  year = {1984},
}
"""


def _citing_project(mini_project, bib: str = BIB):
    conf = mini_project.srcdir / "conf.py"
    conf.write_text(
        conf.read_text().replace("'nbsphinx']", "'nbsphinx', 'sphinxcontrib.bibtex']")
        + "bibtex_bibfiles = ['refs.bib']\nbibtex_reference_style = 'author_year'\n"
    )
    (mini_project.srcdir / "refs.bib").write_text(bib)
    pages = mini_project.srcdir / "pages"
    pages.mkdir(exist_ok=True)
    (pages / "a.md").write_text(
        "# A\n\nAs {cite:t}`breiman1984` showed, and {cite:p}`{see}dsit2026{p. 4}`.\n"
    )
    (pages / "refs.md").write_text(
        "# References\n\nAgain {cite:p}`breiman1984,dsit2026`.\n\n```{bibliography}\n```\n"
    )
    index = mini_project.srcdir / "index.md"
    index.write_text(index.read_text() + "\n```{toctree}\npages/a\npages/refs\n```\n")
    return ["pages/a.html", "pages/refs.html"]


def test_remembered_citations_give_the_same_pages_and_are_found_next_build(mini_project):
    names = _citing_project(mini_project)
    plain = mini_project.build()
    assert plain.returncode == 0, plain.output
    expected = {name: (plain.outdir / name).read_text() for name in names}
    assert (
        'Breiman <em>et al.</em> [<a class="reference internal" href="refs.html#'
        in (expected["pages/a.html"])
    )
    assert (
        ">Department for Science, Innovation and Technology, 2026</a>, p. 4]"
        in (expected["pages/a.html"])
    )
    folder = mini_project.srcdir / "_build" / ".jupyter-cache" / "citations"
    kept = {}
    for _ in range(2):  # the first keeps each citation's nodes, the second finds them
        shutil.rmtree(plain.outdir)
        cached = mini_project.build("-D", "mle_handbook_cache_dir=_build/.jupyter-cache")
        assert cached.returncode == 0, cached.output
        assert {name: (cached.outdir / name).read_text() for name in names} == expected
        files = {p: p.stat().st_mtime_ns for p in folder.rglob("*.pickle")}
        assert len(files) == 3  # one per citation
        kept = kept or files
    assert files == kept  # found, not resolved and written again


def test_a_changed_bibliography_resolves_its_citations_again(mini_project):
    names = _citing_project(mini_project)
    first = mini_project.build("-D", "mle_handbook_cache_dir=_build/.jupyter-cache")
    assert first.returncode == 0, first.output
    assert ">1984</a>]" in (first.outdir / names[0]).read_text()
    (mini_project.srcdir / "refs.bib").write_text(BIB.replace("year = {1984}", "year = {1986}"))
    shutil.rmtree(first.outdir)
    again = mini_project.build("-D", "mle_handbook_cache_dir=_build/.jupyter-cache")
    assert again.returncode == 0, again.output
    page = (again.outdir / names[0]).read_text()
    assert ">1986</a>]" in page and ">1984</a>]" not in page


def test_a_citation_sphinx_warns_about_is_never_kept_and_warns_every_time(tmp_path):
    from sphinx.util import logging as sphinx_logging

    calls = []

    def resolve(self, env, fromdocname, builder, typ, target, node, contnode):
        calls.append(target)
        if target == "missing":
            sphinx_logging.getLogger(__name__).warning('could not find bibtex key "missing"')
        return {"resolved": target}

    memoised = speedups.remembered_citations(resolve, tmp_path, "v1")
    domain, builder = _citing_domain(), _builder()
    for _ in range(2):
        assert memoised(domain, None, "a", builder, "p", "missing", None, None)
        assert memoised(domain, None, "a", builder, "p", "breiman1984", None, None)
    assert calls == ["missing", "breiman1984", "missing"]  # the warned one every time
    assert len(list(tmp_path.rglob("*.pickle"))) == 1


def test_a_citations_key_names_the_page_the_link_the_style_and_the_entry():
    from types import SimpleNamespace

    key = speedups._citation_key
    domain, builder = _citing_domain(), _builder()
    base = key(domain, "a", builder, "p", "breiman1984")
    assert base is not None
    assert key(domain, "a", builder, "p", "breiman1984") == base
    assert key(domain, "b", builder, "p", "breiman1984") != base  # another page
    assert key(domain, "a", builder, "t", "breiman1984") != base  # another role
    assert key(domain, "a", builder, "p", "{see}breiman1984") != base  # pre-text
    assert key(domain, "a", _builder(suffix=".htm"), "p", "breiman1984") != base  # another link
    relabelled = _citing_domain(label="2")
    assert key(relabelled, "a", builder, "p", "breiman1984") != base
    restyled = _citing_domain(style=_Style(sep="; "))
    assert key(restyled, "a", builder, "p", "breiman1984") != base
    # A style only told apart by where it is in memory cannot be keyed: never kept.
    opaque = _citing_domain(style=SimpleNamespace(plugin=object()))
    assert key(opaque, "a", builder, "p", "breiman1984") is None
    # Citations of other keys do not matter.
    assert key(domain, "a", builder, "p", "breiman1984") == key(
        _citing_domain(extra=True), "a", builder, "p", "breiman1984"
    )


def test_stable_repr_describes_nested_settings_without_memory_addresses():
    class Plugin:  # what pybtex's name-style plugins look like: no state, a default repr
        pass

    class Slotted:
        __slots__ = ("x",)

    described = speedups._stable_repr(_Style(plugin=Plugin(), roles={"p": _Style(sep="; ")}))
    assert described is not None and " at 0x" not in described
    assert "Plugin()" in described and "sep='; '" in described
    assert speedups._stable_repr(_Style(plugin=Slotted())) is None
    assert speedups._stable_repr(_Style(roles={object(): 1})) is None


class _Style:
    def __init__(self, sep=", ", plugin=None, roles=None):
        self.sep, self.plugin, self.roles = sep, plugin, roles or {}


def _builder(suffix=".html"):
    from types import SimpleNamespace

    return SimpleNamespace(
        name="html", get_relative_uri=lambda source, target: f"../{target}{suffix}"
    )


def _citing_domain(label="1", style=None, extra=False):
    from types import SimpleNamespace

    from sphinxcontrib.bibtex.directives import BibliographyKey

    bibliography = BibliographyKey(docname="refs", id_="bibliography-0")
    citations = [
        SimpleNamespace(
            key="breiman1984",
            citation_id="id1",
            formatted_entry=SimpleNamespace(key="breiman1984", label=label),
            bibliography_key=bibliography,
        )
    ]
    if extra:
        citations.append(
            SimpleNamespace(
                key="dsit2026",
                citation_id="id2",
                formatted_entry=SimpleNamespace(key="dsit2026", label="2"),
                bibliography_key=bibliography,
            )
        )
    return SimpleNamespace(
        reference_style=style or _Style(),
        citations=citations,
        bibliographies={bibliography: SimpleNamespace(list_="citation")},
    )


class _CountingFastJsonSchema:
    """fastjsonschema, counting its compilations."""

    def __init__(self):
        import fastjsonschema

        self.module, self.compiled = fastjsonschema, 0

    def __getattr__(self, name):
        return getattr(self.module, name)

    def compile(self, definition, *args, **kwargs):
        self.compiled += 1
        return self.module.compile(definition, *args, **kwargs)


def _notebook_schema():
    from nbformat import v4
    from nbformat.validator import _get_schema_json

    return _get_schema_json(v4, version=4, version_minor=5)


def _validation(validate, nb) -> str:
    import fastjsonschema

    try:
        validate(nb)
    except fastjsonschema.JsonSchemaValueException as error:
        return f"{error} {error.path} {error.rule}"
    return "valid"


def test_remembered_notebook_schema_validates_as_fastjsonschema_and_is_found_on_disk(tmp_path):
    import fastjsonschema
    import nbformat

    schema = _notebook_schema()
    good = json.loads(
        nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))
    )
    bad = json.loads(json.dumps(good))
    bad["cells"][0]["cell_type"] = "weird"
    worse = json.loads(json.dumps(good))
    worse["metadata"]["kernelspec"] = 3
    expected = [_validation(fastjsonschema.compile(schema), nb) for nb in (good, bad, worse)]
    assert expected[0] == "valid" and "must be object" in expected[2]

    counting = _CountingFastJsonSchema()
    first = speedups.RememberingCompiler(counting, tmp_path).compile(schema)
    assert counting.compiled == 1 and len(list(tmp_path.glob("*.marshal"))) == 1
    again = speedups.RememberingCompiler(counting, tmp_path).compile(schema)  # a later process
    assert counting.compiled == 1  # found on disk, not compiled
    for validate in (first, again):
        assert [_validation(validate, nb) for nb in (good, bad, worse)] == expected
    other = {**schema, "properties": {**schema["properties"], "nbformat": {"enum": [3]}}}
    assert _validation(speedups.RememberingCompiler(counting, tmp_path).compile(other), good) != (
        "valid"
    )
    assert counting.compiled == 2 and len(list(tmp_path.glob("*.marshal"))) == 2


def test_unreadable_kept_schema_code_is_compiled_again_and_replaced(tmp_path):
    schema = _notebook_schema()
    counting = _CountingFastJsonSchema()
    speedups.RememberingCompiler(counting, tmp_path).compile(schema)
    (kept,) = tmp_path.glob("*.marshal")
    kept.write_bytes(b"not marshal data")
    validate = speedups.RememberingCompiler(counting, tmp_path).compile(schema)
    assert counting.compiled == 2 and _validation(validate, {"nope": 1}) != "valid"
    assert kept.read_bytes() != b"not marshal data"
    # Other arguments are fastjsonschema's business: passed straight through, nothing kept.
    speedups.RememberingCompiler(counting, tmp_path).compile(schema, formats={})
    assert counting.compiled == 3 and len(list(tmp_path.glob("*.marshal"))) == 1


def test_plugin_look_ups_read_the_installed_entry_points_once(monkeypatch):
    import importlib
    import importlib.metadata

    modules = [importlib.import_module(name) for name in speedups.ENTRY_POINT_USERS]
    for module in modules:
        monkeypatch.setattr(module, "entry_points", importlib.metadata.entry_points)
    speedups.read_entry_points_once()
    assert all(module.entry_points is speedups.installed_entry_points for module in modules)
    themes = {ep.name for ep in speedups.installed_entry_points(group="sphinx.html_themes")}
    assert "sphinx_book_theme" in themes
    assert themes == {ep.name for ep in importlib.metadata.entry_points(group="sphinx.html_themes")}


def _app_with_templates(templates: dict):
    from types import SimpleNamespace

    import jinja2

    environment = jinja2.Environment(loader=jinja2.DictLoader(templates))
    return SimpleNamespace(
        builder=SimpleNamespace(templates=SimpleNamespace(environment=environment))
    )


def test_a_template_is_never_empty_only_if_it_writes_text_outside_every_tag():
    app = _app_with_templates(
        {
            "nav.html": '<nav class="links">{{ toc }}</nav>',
            "buttons.html": '{% from "m.html" import b %}\n<div>{% for x in xs %}{{ x }}{% endfor %}</div>',
            "toc.html": "{% set t = toc() %}{% if t %}<nav>{{ t }}</nav>{% endif %}",
            "blank.html": "   \n{{ maybe_empty }}\n  ",
            "child.html": '{% extends "nav.html" %}<b>ignored</b>',
            "broken.html": "{% if %}",
            "m.html": "{% macro b() %}<b></b>{% endmacro %}",
        }
    )
    verdicts = {
        name: speedups.never_empty(app, name)
        for name in ["nav.html", "buttons.html", "toc.html", "blank.html", "child.html"]
    }
    assert verdicts == {
        "nav.html": True,
        "buttons.html": True,
        "toc.html": False,
        "blank.html": False,
        "child.html": False,
    }
    assert not speedups.never_empty(app, "broken.html")
    assert not speedups.never_empty(app, "missing.html")


def test_the_theme_is_told_to_skip_only_proven_templates_it_cannot_confuse():
    app = _app_with_templates(
        {
            "search.html": "<form>search</form>",
            "my-search.html": "<form>mine</form>",
            "nav.html": "<nav>{{ toc }}</nav>",
            "toc.html": "{% if toc %}<nav>{{ toc }}</nav>{% endif %}",
        }
    )
    calls = []

    def update(app, context, templates, section, templates_skip_empty_check=None):
        calls.append((templates, section, templates_skip_empty_check))
        return ["kept"]

    wrapped = speedups.skipping_never_empty(update)
    assert wrapped(app, {}, "nav, toc, search, my-search", "sidebars", ["x.html"]) == ["kept"]
    templates, section, skip = calls[-1]
    assert templates == "nav, toc, search, my-search" and section == "sidebars"
    # search.html is proven, but my-search.html ends with its name: the theme would skip both.
    assert skip == ["x.html", "nav.html", "my-search.html"]
    wrapped(app, {}, ["toc.html"], "theme_secondary_sidebar_items")
    assert calls[-1][2] == []


def test_the_book_themes_navigation_and_buttons_are_proven_never_empty():
    from types import SimpleNamespace

    import jinja2
    import pydata_sphinx_theme
    import sphinx_book_theme

    folders = [
        Path(theme.__file__).parent / "theme" / theme.__name__ / "components"
        for theme in (sphinx_book_theme, pydata_sphinx_theme)  # the book theme's override first
    ]
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]), extensions=["jinja2.ext.i18n"]
    )
    app = SimpleNamespace(
        builder=SimpleNamespace(templates=SimpleNamespace(environment=environment))
    )
    assert speedups.never_empty(app, "sbt-sidebar-nav.html")
    assert speedups.never_empty(app, "article-header-buttons.html")
    assert not speedups.never_empty(app, "page-toc.html")  # empty on a page without sections


TOCS = [
    "",  # no sections
    '<ul>\n<li><a class="reference internal" href="#">Title</a></li>\n</ul>\n',  # a title alone
    '<ul>\n<li><a class="reference internal" href="#">Title</a><ul>\n'
    '<li><a class="reference internal" href="#one">One</a></li>\n'
    '<li><a class="reference internal" href="#two">Two</a><ul>\n'
    '<li><a class="reference internal" href="#deep">Deep</a></li>\n</ul>\n</li>\n</ul>\n</li>\n</ul>\n',
    '<ul>\n<li><a class="reference internal" href="#a">A</a></li>\n'
    '<li><a class="reference internal" href="#b">B</a></li>\n</ul>\n',  # two top-level sections
]
#: What the themes' templates do with the page table of contents.
USES = "{% set t = generate_toc_html() %}{% if t %}T{% endif %}|{{ t | length }}|{{ t }}"


@pytest.mark.parametrize("toc", range(len(TOCS)))
def test_remembered_page_toc_renders_as_the_themes_own(toc, tmp_path):
    from types import SimpleNamespace

    import jinja2
    from pydata_sphinx_theme import toctree as theme_toctree

    def context():
        found = {"toc": TOCS[toc], "theme_show_toc_level": 2}
        theme_toctree.add_toctree_functions(SimpleNamespace(), "page", "page.html", found, None)
        return found

    template = jinja2.Environment().from_string(USES)
    expected = template.render(context())
    memo = speedups._Memo(tmp_path, salt="v1", suffix=".html")
    calls = []
    for _ in range(2):  # the first keeps it, the second finds it
        page = context()
        generate = page["generate_toc_html"]

        def counting(kind="html", generate=generate):
            calls.append(kind)
            return generate(kind)

        page["generate_toc_html"] = speedups.remembered_page_toc(counting, page, memo)
        assert template.render(page) == expected
    assert calls == ["html"]  # computed once, then found
    assert len(list(tmp_path.rglob("*.html"))) == 1


def test_a_template_verdict_belongs_to_its_environment():
    first = _app_with_templates({"t.html": "<p>text</p>"})
    second = _app_with_templates({"t.html": "{% if x %}<p>text</p>{% endif %}"})
    assert speedups.never_empty(first, "t.html")
    assert not speedups.never_empty(second, "t.html")
    assert speedups.never_empty(first, "t.html")


def test_a_schema_that_is_not_plain_json_is_compiled_by_fastjsonschema(tmp_path):
    counting = _CountingFastJsonSchema()
    schema = {"type": "object", "properties": {"x": {"enum": [{1, 2}]}}}  # a set: not JSON
    validate = speedups.RememberingCompiler(counting, tmp_path).compile(schema)
    assert callable(validate)
    assert counting.compiled == 1 and not list(tmp_path.glob("*.marshal"))
