"""The notebook runner: one outcome file per notebook, whatever state the notebook is in."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from conftest import python_notebook
from nbformat.v4 import new_code_cell, new_markdown_cell

from mle_handbook.runner import Job, Plan, read_outcome

pytestmark = pytest.mark.slow


def _plan(tmp_path, names, **options) -> Plan:
    jobs = [Job(n, str(tmp_path / f"{n}.ipynb"), f"{n}.ipynb") for n in names]
    return Plan(jobs=jobs, results=str(tmp_path / "results"), parallel=2, **options)


def _run(tmp_path, plan: Plan) -> None:
    plan.dump(tmp_path / "plan.json")
    subprocess.run(
        [sys.executable, "-m", "mle_handbook.runner", str(tmp_path / "plan.json")],
        check=True,
        timeout=300,
    )


def test_each_notebook_gets_an_outcome_naming_what_went_wrong(tmp_path, squares_solution):
    nbformat.write(
        python_notebook(new_markdown_cell("# Fine"), new_code_cell("print(6 * 7)")),
        tmp_path / "fine.ipynb",
    )
    nbformat.write(python_notebook(new_code_cell("1 / 0")), tmp_path / "raises.ipynb")
    (tmp_path / "broken.ipynb").write_text("{not json")
    malformed = squares_solution.copy()
    malformed.cells = [c for c in squares_solution.cells if "square(3)" not in c.source]
    malformed.cells[2].source = malformed.cells[2].source.replace("### END SOLUTION", "")
    nbformat.write(malformed, tmp_path / "malformed.ipynb")
    _run(tmp_path, _plan(tmp_path, ["fine", "raises", "broken", "malformed"]))

    fine = read_outcome(tmp_path / "results", "fine")
    assert fine.ok and "42" in fine.result.notebook.cells[1].outputs[0]["text"]
    assert set(fine.downloads) == {".ipynb"}
    raises = read_outcome(tmp_path / "results", "raises")
    assert not raises.ok and "ZeroDivisionError" in raises.result.report()
    broken = read_outcome(tmp_path / "results", "broken")
    assert broken.problem.startswith("cannot read notebook broken.ipynb")
    malformed_outcome = read_outcome(tmp_path / "results", "malformed")
    assert malformed_outcome.kind == "format" and "never closed" in malformed_outcome.problem


def test_an_unchanged_notebook_is_taken_from_the_cache_the_second_time(tmp_path, squares_solution):
    nbformat.write(squares_solution, tmp_path / "squares.ipynb")
    plan = _plan(tmp_path, ["squares"], cache=str(tmp_path / "cache"))
    _run(tmp_path, plan)
    first = read_outcome(tmp_path / "results", "squares")
    assert first.ok and not first.cached
    assert set(first.downloads) == {".ipynb", "-student.ipynb", "-student.zip"}
    assert (
        b"BEGIN HIDDEN" not in first.downloads[".ipynb"]
    )  # the full download keeps no hidden test
    _run(tmp_path, plan)
    second = read_outcome(tmp_path / "results", "squares")
    assert second.ok and second.cached
    assert [c.status for c in second.result.checks] == [c.status for c in first.result.checks]
