"""Writer processes resolving their own pages changes who resolves them, never the site built."""

from __future__ import annotations

import base64
import pickle

from docutils import nodes
from docutils.utils import new_document

from mle_handbook.sphinxext import resolving

#: A 1x1 PNG, for a page with an image.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

#: Records, for every page resolved, which process resolved it.
PROBE = """
import os

MAIN = os.getpid()


def setup(app):
    def note(app, doctree, docname):
        with open(os.path.join(app.srcdir, "resolved.txt"), "a") as log:
            log.write(f"{docname} {'main' if os.getpid() == MAIN else 'writer'}\\n")

    def busy(app):
        with open(os.path.join(app.srcdir, "resolved.txt"), "a") as log:
            log.write(f"writers-busy {'main' if os.getpid() == MAIN else 'writer'}\\n")

    app.connect("doctree-resolved", note)
    app.connect("mle-handbook-writers-busy", busy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
"""


def _pages(project, count: int = 14, *, missing: bool = False) -> None:
    """Prose pages that link to each other by label (the link text is the target's title, which
    only resolving fills in), one with an image and index entries."""
    src = project.srcdir
    (src / "probe_ext.py").write_text(PROBE)
    conf = src / "conf.py"
    conf.write_text(
        conf.read_text()
        + "import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\n"
        + "extensions.append('probe_ext')\n"
    )
    pages = src / "pages"
    pages.mkdir()
    (pages / "dot.png").write_bytes(PNG)
    for n in range(count):
        target = (n + 1) % count
        text = f"(page-{n})=\n# Page {n} on trees\n\nSee {{ref}}`page-{target}` and {{doc}}`p{target}`.\n"
        if n == 3:
            text += "\n```{index} decision tree\n```\n\n![A dot](dot.png)\n"
        if missing and n == 5:
            text += "\nAnd {ref}`no-such-label`.\n"
        (pages / f"p{n}.md").write_text(text + "\n## Splits\n\nGini impurity and entropy.\n")
    entries = "\n".join(f"pages/p{n}" for n in range(count))
    index = src / "index.md"
    index.write_text(index.read_text() + f"\n```{{toctree}}\n{entries}\n```\n")


def _site(outdir):
    return {
        p.relative_to(outdir).as_posix(): p.read_bytes()
        for p in sorted(outdir.rglob("*"))
        if p.is_file() and p.suffix in {".html", ".js", ".png"} and "_static" not in p.parts
    }


def test_a_parallel_build_resolves_in_writers_and_builds_the_serial_builds_site(mini_project):
    _pages(mini_project)
    log = mini_project.srcdir / "resolved.txt"
    serial = mini_project.build("-j", "1")
    assert serial.returncode == 0, serial.output
    expected = _site(serial.outdir)
    assert {"main"} == {line.split()[1] for line in log.read_text().splitlines()}
    assert "writers-busy" not in log.read_text()  # a serial build: Sphinx's own writing
    assert "pages/p3.html" in expected and "_images/dot.png" in expected
    assert "Page 4 on trees</span></a>" in expected["pages/p3.html"].decode()

    log.unlink()
    parallel = mini_project.build("-E", "-j", "3")
    assert parallel.returncode == 0, parallel.output
    resolved = dict(line.split() for line in log.read_text().splitlines())
    assert resolved.pop("writers-busy") == "main"  # once every chunk was with a writer
    assert len(resolved) == 15  # every page once
    assert list(resolved.values()).count("main") == 1  # Sphinx's first page only
    assert _site(parallel.outdir) == expected  # pages, images and search index alike


def test_a_warning_from_resolving_in_a_writer_is_given_once(mini_project):
    _pages(mini_project, missing=True)
    build = mini_project.build("-j", "3")
    assert build.returncode == 1  # -W: the warning fails the build
    assert build.output.count("no-such-label") == 1, build.output
    assert "p5.md" in build.output


def test_a_serial_or_non_html_build_keeps_sphinxs_own_writing():
    class App:
        parallel = 1
        builder = type("Builder", (), {"name": "html"})()

    resolving.resolve_in_writers(App)
    assert "_write_parallel" not in vars(App.builder)
    App.parallel, App.builder.name = 3, "epub"
    resolving.resolve_in_writers(App)
    assert "_write_parallel" not in vars(App.builder)
    App.builder.name = "html"
    resolving.resolve_in_writers(App)
    assert vars(App.builder)["_write_parallel"].__func__ is resolving.write_parallel


def test_a_doctree_is_pickled_without_its_environment_and_left_as_it_was():
    doctree = new_document("page.md")
    doctree.settings.env = object()  # not picklable
    doctree += nodes.paragraph(text="Gini impurity")
    reporter, settings = doctree.reporter, doctree.settings
    payload = resolving.pickled(doctree)
    assert doctree.reporter is reporter and doctree.settings is settings
    assert doctree.settings.env is not None
    copy = pickle.loads(payload)
    assert copy.astext() == "Gini impurity" and copy.settings.env is None
    doctree += nodes.paragraph(text=str(lambda: None))
    doctree.children[-1]["hook"] = lambda: None  # a node holding something unpicklable
    assert resolving.pickled(doctree) is None


def test_downloads_written_while_the_writers_are_busy_are_not_written_again(tmp_path):
    from types import SimpleNamespace

    from mle_handbook.sphinxext import downloads

    source = tmp_path / "src"
    (source / "notebooks").mkdir(parents=True)
    (source / "notebooks" / "trees.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    env = SimpleNamespace(
        found_docs={"notebooks/trees"}, doc2path=lambda name: source / f"{name}.ipynb"
    )
    app = SimpleNamespace(env=env, outdir=tmp_path / "html", builder=SimpleNamespace(name="html"))
    downloads.write_while_writers_busy(app)
    written = tmp_path / "html" / "_notebooks" / "notebooks" / "trees.ipynb"
    assert written.exists()
    written.unlink()
    downloads.write_notebook_downloads(app, None)  # build-finished: already done
    assert not written.exists()


#: Runs :class:`resolving.Writers` in a process of its own (it forks), printing what came back.
WRITERS = """
import os, sys
from sphinx.errors import SphinxParallelError
from sphinx.util import logging
from mle_handbook.sphinxext import resolving

logging.setup(type("App", (), {"quiet": False, "verbosity": 0, "warningiserror": False,
                              "_warncount": 0, "_exception_on_warning": False})(),
              sys.stdout, sys.stdout)
log = logging.getLogger("writers-test")

def work(chunk):
    if "fail" in chunk:
        raise ValueError("cannot write " + chunk[0])
    if "die" in chunk:
        os._exit(3)
    log.warning("wrote %s in %s", ",".join(chunk), "writer" if os.getpid() != MAIN else "main")
    return [page.upper() for page in chunk]

MAIN = os.getpid()
chunks = [c.split(",") for c in sys.argv[1].split(";")]
try:
    with resolving.Writers(2, work) as writers:
        writers.hand_out(chunks)
        while writers.working:
            index, result = writers.next_result()
            print("result", index, result)
except SphinxParallelError as exc:
    print("error:", exc)
print("children left:", len([p for p in __import__("multiprocessing").active_children()]))
"""


def _run_writers(chunks: str) -> list[str]:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", WRITERS, chunks], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_writers_forked_once_write_every_chunk_and_their_logs_reach_the_main_process():
    out = _run_writers("a,b;c;d,e;f;g")
    results = sorted(line for line in out if line.startswith("result"))
    assert results == [
        "result 0 ['A', 'B']",
        "result 1 ['C']",
        "result 2 ['D', 'E']",
        "result 3 ['F']",
        "result 4 ['G']",
    ]
    assert sum("WARNING: wrote" in line and "in writer" in line for line in out) == 5
    assert out[-1] == "children left: 0"


def test_a_failing_chunk_stops_the_writers_with_its_error():
    out = _run_writers("a;fail;c;d;e;f")
    assert "error: ValueError: cannot write fail" in out
    assert out[-1] == "children left: 0"


def test_a_writer_that_dies_stops_the_build_with_a_clear_error():
    out = _run_writers("a;die;c;d")
    assert any(line.startswith("error: a writer process ended unexpectedly") for line in out), out
    assert out[-1] == "children left: 0"
