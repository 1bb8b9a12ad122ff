"""Writing the other pages while the last notebook runs changes when pages are written, never
the site built."""

from __future__ import annotations

import pickle
import textwrap

import pytest
from conftest import python_notebook
from docutils import nodes
from nbformat.v4 import new_code_cell, new_markdown_cell

from mle_handbook.sphinxext import pipelining

#: Logs every page written (and where the writing starts) to ``events.txt`` in the project.
RECORDER = """
import os


def setup(app):
    def note(line):
        with open(os.path.join(app.srcdir, "events.txt"), "a") as log:
            log.write(line + "\\n")

    app.connect("html-page-context", lambda app, page, *args: note(f"page {page}"))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
"""

#: Waits (at most 8 s) for a prose page to be written, then notes that it is done; prints the
#: same whatever it saw, so the page is the same in every build.
WAIT_FOR_A_PAGE = textwrap.dedent(
    """\
    import pathlib, time
    log = pathlib.Path("../events.txt")
    for _ in range(80):
        if log.exists() and "page pages/" in log.read_text():
            break
        time.sleep(0.1)
    with log.open("a") as f:
        f.write("notebook done\\n")
    print("the answer is", 6 * 7)
    """
)

#: An output with a heading: the notebook's sections, which every sidebar shows, change.
HEADING_OUTPUT = 'from IPython.display import Markdown\nMarkdown("## Pruning it")'


def _project(mini_project, *, extra_output: str | None = None, fails: bool = False):
    src = mini_project.srcdir
    (src / "recorder.py").write_text(RECORDER)
    conf = src / "conf.py"
    conf.write_text(
        "import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\n"
        + conf.read_text().replace("extensions = [", "extensions = ['recorder', ", 1)
    )
    cells = [
        new_markdown_cell("# Slow trees\n\n## Growing one\n\nA tree grows."),
        new_code_cell(WAIT_FOR_A_PAGE),
    ]
    if extra_output:
        cells.append(new_code_cell(extra_output))
    if fails:
        cells.append(new_code_cell("raise ValueError('a slow notebook broke')"))
    mini_project.add_notebook("slow", python_notebook(*cells))
    pages = src / "pages"
    pages.mkdir()
    for n in range(8):
        (pages / f"p{n}.md").write_text(
            f"# Page {n}\n\nSee {{doc}}`../exercises/slow` and {{ref}}`genindex`.\n"
        )
    entries = "\n".join(f"pages/p{n}" for n in range(8))
    index = src / "index.md"
    index.write_text(index.read_text() + f"\n```{{toctree}}\n{entries}\n```\n")


def _site(outdir):
    return {
        p.relative_to(outdir).as_posix(): p.read_bytes()
        for p in sorted(outdir.rglob("*"))
        if p.is_file() and p.suffix in {".html", ".js"} and "_static" not in p.parts
    }


def _build(mini_project, *extra):
    (mini_project.srcdir / "events.txt").unlink(missing_ok=True)
    result = mini_project.build("-j", "3", "-E", *extra)
    events = (mini_project.srcdir / "events.txt").read_text().splitlines()
    return result, events


@pytest.mark.slow
def test_the_other_pages_are_written_while_the_last_notebook_runs_and_the_site_is_the_same(
    mini_project,
):
    _project(mini_project)
    ahead, events = _build(mini_project)
    assert ahead.returncode == 0, ahead.output
    assert "writing the other pages while exercises/slow run(s)" in ahead.output
    assert "writing every page again" not in ahead.output
    done = events.index("notebook done")
    assert any(e.startswith("page pages/") for e in events[:done]), events
    assert "page exercises/slow" in events[done:], events  # its own page: once it has run
    assert events.count("page exercises/slow") == 1
    site = _site(ahead.outdir)
    assert b"the answer is 42" in site["exercises/slow.html"]
    assert b"Slow trees" in site["pages/p0.html"]  # the link's text is the notebook's title

    behind, events = _build(mini_project, "-D", "mle_handbook_write_ahead=0")
    assert behind.returncode == 0, behind.output
    assert "writing the other pages" not in behind.output
    assert not any(e.startswith("page") for e in events[: events.index("notebook done")])
    assert _site(behind.outdir) == site


@pytest.mark.slow
def test_a_notebook_whose_outputs_change_other_pages_has_every_page_written_again(
    mini_project,
):
    _project(mini_project, extra_output=HEADING_OUTPUT)
    ahead, _ = _build(mini_project)
    assert ahead.returncode == 0, ahead.output
    assert "changed what other pages show (domaindata): writing every page again" in ahead.output
    site = _site(ahead.outdir)
    assert b"Pruning it" in site["exercises/slow.html"]

    behind, _ = _build(mini_project, "-D", "mle_handbook_write_ahead=0")
    assert behind.returncode == 0, behind.output
    assert _site(behind.outdir) == site


@pytest.mark.slow
def test_a_notebook_read_ahead_that_fails_fails_the_build_once_and_is_read_again_next_time(
    mini_project,
):
    _project(mini_project, fails=True)
    result, _ = _build(mini_project)
    assert result.returncode != 0
    assert "writing the other pages while exercises/slow run(s)" in result.output
    assert result.output.count("a slow notebook broke") == 1, result.output
    again = mini_project.build("-j", "3")
    assert again.returncode != 0
    # Still failing, and reported as such: read (and run) again from the environment saved.
    assert "exercises/slow.ipynb: 1 cell(s) failed" in again.output, again.output
    assert "Exception occurred" not in again.output


@pytest.mark.slow
def test_the_next_build_starts_from_the_notebook_as_executed(mini_project):
    _project(mini_project)
    first, _ = _build(mini_project)
    assert first.returncode == 0, first.output
    env = pickle.loads((first.outdir / ".doctrees" / "environment.pickle").read_bytes())
    assert "exercises/slow" not in env.mle_handbook_failed
    second = mini_project.build("-j", "3")
    assert second.returncode == 0, second.output
    assert "executing" not in second.output
    assert "0 added, 0 changed, 0 removed" in second.output


def test_content_compares_by_value_and_what_cannot_be_compared_never_equals():
    def section(title):
        node = nodes.section(ids=["s"])
        node += nodes.title(text=title)
        return node

    assert pipelining.canonical({"b": {1, 2}, "a": section("Trees")}) == pipelining.canonical(
        {"a": section("Trees"), "b": {2, 1}}
    )
    assert pipelining.canonical(section("Trees")) != pipelining.canonical(section("Forests"))
    unpicklable = lambda: None  # noqa: E731
    assert pipelining.canonical([unpicklable]) != pipelining.canonical([unpicklable])


def test_the_snapshot_leaves_out_only_what_no_other_page_shows():
    class Env:
        pass

    env = Env()
    env.titles = {"a": nodes.title(text="A")}
    env.all_docs = {"a": 1.0}
    env._search_index_titles = {"a": "A"}
    env.config = object()
    env.nbsphinx_thumbnails = {"a": "a.png"}  # an extension's data: compared
    state = pipelining.snapshot(env)
    assert set(state) == {"titles", "nbsphinx_thumbnails"}
