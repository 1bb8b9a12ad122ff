"""Shared fixtures: paths, exercise fixtures by state, and a mini Sphinx project builder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/exercise_harness.py


def exercise_paths() -> list[Path]:
    return sorted((ROOT / "exercises").glob("*.ipynb"))


def notebook_paths() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb")) + exercise_paths()


@pytest.fixture
def squares_solution() -> nbformat.NotebookNode:
    """The fixture exercise with model solutions: every check passes."""
    return nbformat.read(FIXTURES / "squares_solution.ipynb", as_version=4)


def python_notebook(*cells) -> nbformat.NotebookNode:
    """A notebook of ``cells`` for the handbook's "python3" kernel."""
    nb = nbformat.v4.new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def cell_with_id(nb, grade_id):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(grade_id)


@dataclass
class BuildResult:
    returncode: int
    output: str
    outdir: Path


@dataclass
class MiniProject:
    """A tiny Sphinx project using the handbook's extension, with chosen notebooks."""

    srcdir: Path

    def add_notebook(self, name: str, nb: nbformat.NotebookNode) -> Path:
        path = self.srcdir / "exercises" / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        self._write_index()
        return path

    def _write_index(self) -> None:
        names = sorted(p.stem for p in (self.srcdir / "exercises").glob("*.ipynb"))
        entries = "\n".join(f"exercises/{n}" for n in names)
        (self.srcdir / "index.md").write_text(f"# Mini\n\n```{{toctree}}\n{entries}\n```\n")

    def build(
        self, *extra: str, builder: str = "html", env: dict | None = None, colour: bool = False
    ) -> BuildResult:
        """Run sphinx-build as `make html` does; console colour is off unless ``colour`` is set.

        Sphinx colours its output when it sees FORCE_COLOR, FORCE_COLOUR or CI=true in the
        environment (CI runners export them). ``--no-color`` alone is not enough: Sphinx 9's
        progress lines still erase the line with an escape code unless NO_COLOR is set. So both
        are set, and a test reading the console output sees what a user piping the build to a
        file would.
        """
        outdir = self.srcdir / "_build" / builder
        environ = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "NO_COLOUR"}}
        if not colour:
            environ["NO_COLOR"] = "1"
        proc = subprocess.run(
            [sys.executable, "-m", "sphinx", "-b", builder, "-n", "-W"]
            + ["--keep-going"]
            + ["--color" if colour else "--no-color"]
            + list(extra)
            + [str(self.srcdir), str(outdir)],
            capture_output=True,
            text=True,
            timeout=600,
            env={**environ, **(env or {})},
        )
        return BuildResult(proc.returncode, proc.stdout + proc.stderr, outdir)


@pytest.fixture
def mini_project(tmp_path) -> MiniProject:
    srcdir = tmp_path / "mini"
    srcdir.mkdir()
    (srcdir / "conf.py").write_text(
        "extensions = ['mle_handbook.sphinxext', 'myst_parser', 'nbsphinx']\n"
        "nbsphinx_execute = 'never'\n"
        "exclude_patterns = ['_build']\n"
        "mle_handbook_timeout = 60\n"
    )
    project = MiniProject(srcdir)
    (srcdir / "exercises").mkdir()
    project._write_index()
    return project


@pytest.fixture(scope="session")
def venv_bin() -> Path:
    return Path(sys.executable).parent


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copy(FIXTURES / name, target)
    return target


def _handbook_processes() -> set[int]:
    """Kernels and JVMs descended from this test process (to prove a build leaves none behind).

    Only descendants count, so that other work on the machine (a second checkout's build, a
    benchmark) cannot fail the test. While a build runs, this process is made a child subreaper
    (Linux), so a process the build leaves behind is adopted here rather than by init and is
    still a descendant; elsewhere such orphans are not seen.
    """
    import psutil

    found = set()
    for proc in psutil.Process().children(recursive=True):
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if "ipykernel_launcher" in cmdline or ("java" in cmdline and "spark" in cmdline.lower()):
            found.add(proc.pid)
    return found


def _adopt_orphans(on: bool) -> None:
    """Make this process a child subreaper (Linux) while a build runs; see _handbook_processes."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(36, int(on), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """One clean build of the whole handbook with warnings as errors, shared by the site tests."""
    outdir = tmp_path_factory.mktemp("site") / "html"
    before = _handbook_processes()
    _adopt_orphans(True)
    # Exactly what `make html` runs (and Read the Docs), without the execution cache, as CI does.
    proc = subprocess.run(
        ["make", "--no-print-directory", "html", "CACHE=", f"BUILDDIR={outdir.parent}"]
        + ["SPHINXOPTS=-E"],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ROOT,
    )
    leftover = _handbook_processes() - before
    _adopt_orphans(False)
    return BuildResult(proc.returncode, proc.stdout + proc.stderr, outdir), leftover
