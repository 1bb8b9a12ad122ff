"""Notebooks execute in the background while Sphinx reads the prose pages."""

from __future__ import annotations

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


def _with_prose_pages(mini_project, count: int = 8) -> None:
    """Enough prose pages that Sphinx reads in forked processes under -j (it needs over 5)."""
    for n in range(count):
        (mini_project.srcdir / f"page{n}.md").write_text(f"# Page {n}\n\nSome prose.\n")
    index = mini_project.srcdir / "index.md"
    pages = "\n".join(f"page{n}" for n in range(count))
    index.write_text(index.read_text().replace("```{toctree}\n", f"```{{toctree}}\n{pages}\n"))


@pytest.mark.parametrize("jobs", [[], ["-j", "2"]], ids=["serial", "parallel"])
def test_prose_pages_are_read_while_notebooks_execute(mini_project, jobs):
    _with_recorder(mini_project)
    mini_project.add_notebook("waits", _waiting_notebook())
    _with_prose_pages(mini_project)
    result = mini_project.build(*jobs)
    assert result.returncode == 0, result.output
    assert "exercises/waits.ipynb: executed in" in result.output
    assert (result.outdir / "exercises" / "waits.html").exists()


def test_failed_notebook_read_by_a_parallel_reader_fails_the_build_and_the_next_one(mini_project):
    _with_recorder(mini_project)
    nb = _waiting_notebook()
    nb.cells.append(new_code_cell("raise ValueError('after the wait')"))
    mini_project.add_notebook("waits", nb)
    _with_prose_pages(mini_project)
    result = mini_project.build("-j", "2")
    assert result.returncode != 0
    assert "exercises/waits.ipynb: 1 cell(s) failed" in result.output, result.output
    assert "ValueError: after the wait" in result.output
    # The failure found in a forked reader was merged into the saved environment.
    again = mini_project.build("-j", "2")
    assert again.returncode != 0 and "ValueError: after the wait" in again.output


def _kernels_in(folder) -> list:
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            if "ipykernel" in " ".join(proc.info["cmdline"] or []) and str(folder) in (
                proc.info["cwd"] or ""
            ):
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_build_stopped_while_a_notebook_runs_leaves_no_kernel_running(mini_project, how):
    import signal
    import subprocess
    import time

    started = mini_project.srcdir / "exercises" / "started"
    mini_project.add_notebook(
        "sleeps",
        python_notebook(
            new_markdown_cell("# Sleeps"),
            new_code_cell("import pathlib, time\npathlib.Path('started').touch()\ntime.sleep(120)"),
        ),
    )
    build = subprocess.Popen(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(mini_project.srcdir)]
        + [str(mini_project.srcdir / "_build" / "html")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            if started.exists():
                break
            time.sleep(0.1)
        assert started.exists(), "the notebook never started"
        assert _kernels_in(mini_project.srcdir)
        build.send_signal(getattr(signal, how))
        build.wait(timeout=60)
        for _ in range(100):
            if not _kernels_in(mini_project.srcdir):
                break
            time.sleep(0.1)
        assert not _kernels_in(mini_project.srcdir)
    finally:
        build.kill()
        for proc in _kernels_in(mini_project.srcdir):
            proc.kill()
