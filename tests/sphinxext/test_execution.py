"""Notebooks execute in the background while Sphinx reads the prose pages."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest
from conftest import python_notebook
from nbformat.v4 import new_code_cell, new_markdown_cell

pytestmark = pytest.mark.slow

# A mini-project extension that leaves a mark when Sphinx reads the index page (a prose page).
RECORDER = """\
from pathlib import Path

def _mark(app, docname, source):
    if docname == "index":
        (Path(app.srcdir) / "index-was-read").touch()

def setup(app):
    app.connect("source-read", _mark)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
"""

# The notebook can only finish once the index has been read, so it passes only if reading
# goes on while it executes (within its own 60 s; a build reading after executing fails).
WAIT_FOR_INDEX = textwrap.dedent(
    """\
    import pathlib, time
    for _ in range(600):
        if pathlib.Path("../index-was-read").exists():
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the index page was not read while this notebook ran")
    """
)


def _waiting_notebook():
    return python_notebook(new_markdown_cell("# Waits"), new_code_cell(WAIT_FOR_INDEX))


def _with_recorder(mini_project, source: str = RECORDER):
    (mini_project.srcdir / "recorder.py").write_text(source)
    conf = mini_project.srcdir / "conf.py"
    conf.write_text(
        "import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\n"
        + conf.read_text().replace("extensions = [", "extensions = ['recorder', ", 1)
    )


@pytest.mark.parametrize("jobs", [[], ["-j", "2"]], ids=["serial", "parallel"])
def test_prose_pages_are_read_while_notebooks_execute(mini_project, jobs):
    _with_recorder(mini_project)
    mini_project.add_notebook("waits", _waiting_notebook())
    result = mini_project.build(*jobs)
    assert result.returncode == 0, result.output
    assert "exercises/waits.ipynb: executed in" in result.output
    assert (result.outdir / "exercises" / "waits.html").exists()


def test_failed_notebook_read_after_the_prose_still_fails_the_build(mini_project):
    _with_recorder(mini_project)
    nb = _waiting_notebook()
    nb.cells.append(new_code_cell("raise ValueError('after the wait')"))
    mini_project.add_notebook("waits", nb)
    result = mini_project.build("-j", "2")
    assert result.returncode != 0
    assert "exercises/waits.ipynb: 1 cell(s) failed" in result.output, result.output
    assert "ValueError: after the wait" in result.output


def test_clean_build_starts_notebooks_before_sphinx_lists_its_sources(mini_project):
    mini_project.add_notebook(
        "quick", python_notebook(new_markdown_cell("# Quick"), new_code_cell("print(6 * 7)"))
    )
    clean = mini_project.build()
    assert clean.returncode == 0, clean.output
    out = clean.output
    # Started in builder-inited: before Sphinx looks for outdated sources.
    assert out.index("executing 1 notebook(s)") < out.index("updating environment")
    # An incremental build knows what changed only after listing its sources.
    (mini_project.srcdir / "exercises" / "quick.ipynb").touch()
    again = mini_project.build()
    assert again.returncode == 0, again.output
    assert again.output.index("updating environment") < again.output.index("executing 1 notebook")


PRIORITY_RECORDER = """\
import os
from pathlib import Path

def _mark(app, docname, source):
    if docname == "index":
        (Path(app.srcdir) / "reading-priority").write_text(str(os.getpriority(os.PRIO_PROCESS, 0)))

def setup(app):
    app.connect("source-read", _mark)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
"""


def test_sphinx_reads_at_a_lower_priority_than_the_kernels_while_notebooks_run(mini_project):
    if not sys.platform.startswith("linux"):
        pytest.skip("priorities are lowered per thread, which only Linux offers")
    own = os.getpriority(os.PRIO_PROCESS, 0)
    if own >= 19:
        pytest.skip("this process already runs at the lowest priority")
    _with_recorder(mini_project, PRIORITY_RECORDER)
    record = (
        "import os, pathlib\n"
        "priority = os.getpriority(os.PRIO_PROCESS, 0)\n"
        "pathlib.Path('../kernel-priority').write_text(str(priority))"
    )
    mini_project.add_notebook(
        "records", python_notebook(new_markdown_cell("# Records"), new_code_cell(record))
    )
    result = mini_project.build()
    assert result.returncode == 0, result.output
    reading = int((mini_project.srcdir / "reading-priority").read_text())
    kernel = int((mini_project.srcdir / "kernel-priority").read_text())
    assert kernel == own
    assert reading > kernel


def test_workers_stop_in_the_background_once_the_last_notebook_has_run_and_only_once():
    import threading

    from mle_handbook.sphinxext.execution import _Running

    stops = []

    class Workers:
        def shutdown(self, wait=True, cancel_futures=False):
            stops.append(threading.current_thread().name)

    running = _Running.__new__(_Running)  # no app, no processes: only the bookkeeping
    running.lock, running.closing, running.starter = threading.Lock(), None, None
    running.unfinished, running.final, running.waiting = 2, False, set()
    running.workers, running.yielding = Workers(), False
    running.pool = type("Pool", (), {"shutdown": lambda self, **kw: None})()
    running._execute = lambda docname: docname
    running._run("a")
    running._run("b")  # the last one, but more may still be submitted
    assert running.closing is None and not stops
    running.no_more()  # nothing left: stopping starts at once, in a thread of its own
    running.close()
    assert stops == ["mle-workers-stop"]

    running.unfinished, running.final, running.closing = 1, False, None
    running.no_more()
    assert running.closing is None  # one still running
    running._run("c")
    running.close()
    assert stops == ["mle-workers-stop"] * 2  # closing joined the stop, it did not stop again
