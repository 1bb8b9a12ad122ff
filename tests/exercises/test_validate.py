"""Malformed exercises are refused with a message naming the file and the cell."""

from __future__ import annotations

import copy

import pytest
from conftest import cell_with_id

from mle_handbook.exercises.validate import ExerciseFormatError, find_problems, validate


def _messages(nb) -> list[str]:
    return [p.describe("ex.ipynb") for p in find_problems(nb)]


def test_fixture_solution_is_valid(squares_solution):
    assert find_problems(squares_solution) == []


def test_unmatched_begin_solution_is_reported_with_cell_and_grade_id(squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell = cell_with_id(nb, "square-solution")
    cell.source = cell.source.replace("### END SOLUTION", "")
    messages = _messages(nb)
    assert any(
        "cell 3" in m and "square-solution" in m and "never closed" in m for m in messages
    ), messages


def test_end_without_begin_is_reported(squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell = cell_with_id(nb, "cube-solution")
    cell.source = cell.source.replace("### BEGIN SOLUTION", "")
    assert any("no matching BEGIN" in m for m in _messages(nb))


def test_nested_markers_are_reported(squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell = cell_with_id(nb, "square-solution")
    cell.source = cell.source.replace(
        "    return x * x", "    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"
    )
    assert any("nested" in m for m in _messages(nb))


def test_duplicate_grade_id_names_both_cells(squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell_with_id(nb, "cube-examples").metadata.nbgrader.grade_id = "square-examples"
    messages = _messages(nb)
    assert any("cell 7" in m and "duplicate grade_id (also used by cell 4)" in m for m in messages)


def test_autograded_cell_without_points_is_reported(squares_solution):
    nb = copy.deepcopy(squares_solution)
    del cell_with_id(nb, "cube-examples").metadata.nbgrader["points"]
    assert any("cube-examples" in m and "no points" in m for m in _messages(nb))


def test_committed_outputs_are_reported(squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell = cell_with_id(nb, "cube-solution")
    cell.outputs = [{"output_type": "stream", "name": "stdout", "text": "hi"}]
    assert any("committed outputs" in m and "cell 6" in m for m in _messages(nb))


def test_solution_marker_outside_solution_cell_is_reported(squares_solution):
    nb = copy.deepcopy(squares_solution)
    nb.cells[0].source += "\n### BEGIN SOLUTION\nsecret\n### END SOLUTION"
    assert any("cell 1" in m and "outside a solution cell" in m for m in _messages(nb))


def test_hidden_marker_outside_test_cell_is_reported(squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell = cell_with_id(nb, "cube-solution")
    cell.source += "\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS"
    assert any("outside an autograded test cell" in m for m in _messages(nb))


def test_solution_code_cell_without_markers_is_reported(squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell = cell_with_id(nb, "cube-solution")
    cell.source = "def cube(x):\n    return x ** 3"
    assert any("whole answer" in m for m in _messages(nb))


def test_validate_raises_with_every_problem_and_the_path(squares_solution):
    nb = copy.deepcopy(squares_solution)
    del cell_with_id(nb, "cube-examples").metadata.nbgrader["points"]
    cell_with_id(nb, "cube-solution").metadata.nbgrader.grade_id = "square-solution"
    with pytest.raises(ExerciseFormatError) as info:
        validate(nb, "exercises/squares.ipynb")
    text = str(info.value)
    assert "exercises/squares.ipynb, cell 7" in text and "exercises/squares.ipynb, cell 6" in text
