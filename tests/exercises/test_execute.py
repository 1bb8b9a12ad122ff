"""Executing a notebook reports failures in one readable block: file, cell, grade_id, exception."""

from __future__ import annotations

import copy

import pytest
from conftest import cell_with_id
from nbformat.v4 import new_code_cell, new_notebook

from mle_handbook.exercises.execute import execute_notebook
from mle_handbook.exercises.student import student_version

pytestmark = pytest.mark.slow


def test_solution_passes_every_check(squares_solution):
    result = execute_notebook(squares_solution, path="squares.ipynb")
    assert result.ok
    assert [(c.grade_id, c.status) for c in result.checks] == [
        ("square-examples", "passed"),
        ("cube-examples", "passed"),
    ]


def test_failing_check_report_names_notebook_cell_grade_id_and_exception(squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell = cell_with_id(nb, "square-examples")
    cell.source = cell.source.replace("== 9", "== 10")
    result = execute_notebook(nb, path="exercises/squares.ipynb")
    report = result.report()
    assert not result.ok
    assert report.startswith("exercises/squares.ipynb:")
    assert "cell 4, grade_id 'square-examples'" in report
    assert "AssertionError: square(3) returned 9" in report
    assert "\x1b[" not in report
    assert len(report.splitlines()) <= 3  # one block, not a traceback


def test_student_version_fails_every_check(squares_solution):
    result = execute_notebook(student_version(squares_solution), path="s.ipynb")
    assert {c.status for c in result.checks} == {"failed"}
    assert all("NotImplementedError" in c.message or "Error" in c.message for c in result.checks)


def test_cell_timeout_is_a_failure_and_later_checks_are_not_run(squares_solution):
    nb = copy.deepcopy(squares_solution)
    nb.cells.insert(3, new_code_cell("import time\ntime.sleep(30)"))
    result = execute_notebook(nb, path="slow.ipynb", timeout=2)
    assert any(f.ename == "CellTimeoutError" and f.cell == 4 for f in result.failures)
    assert {c.status for c in result.checks} == {"not-run"}


def test_cell_tagged_raises_exception_is_not_a_failure():
    nb = new_notebook(cells=[new_code_cell("raise ValueError('on purpose')")])
    nb.cells[0].metadata["tags"] = ["raises-exception"]
    assert execute_notebook(nb).ok


def test_untagged_error_in_a_worked_notebook_is_a_failure():
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("1 / 0")])
    result = execute_notebook(nb, path="nb.ipynb")
    assert [f.describe() for f in result.failures] == [
        "cell 2, line 1: ZeroDivisionError: division by zero"
    ]
