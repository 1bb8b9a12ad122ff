"""The student version: solutions become stubs, hidden tests and outputs go, the input is untouched."""

from __future__ import annotations

import copy

from conftest import cell_with_id

from mle_handbook.exercises.markers import ALL_MARKERS, CODE_STUB, TEXT_STUB, replace_regions
from mle_handbook.exercises.student import (
    clear_outputs,
    mask_hidden_tests,
    strip_hidden_tests,
    strip_solutions,
    student_version,
)


def test_strip_solutions_leaves_an_indented_stub_that_raises(squares_solution):
    student = strip_solutions(squares_solution)
    source = cell_with_id(student, "square-solution").source
    assert source.startswith("def square(x):")
    assert "    raise NotImplementedError()" in source
    assert "return x * x" not in source


def test_strip_solutions_replaces_written_answers_with_text_stub(squares_solution):
    student = strip_solutions(squares_solution)
    assert cell_with_id(student, "explain").source.strip() == TEXT_STUB


def test_strip_hidden_tests_keeps_visible_assertions(squares_solution):
    student = strip_hidden_tests(squares_solution)
    source = cell_with_id(student, "square-examples").source
    assert "square(3) == 9" in source
    assert "square(-2)" not in source and "HIDDEN" not in source


def test_mask_hidden_tests_leaves_a_note_not_the_source(squares_solution):
    masked = mask_hidden_tests(squares_solution)
    source = cell_with_id(masked, "square-examples").source
    assert "square(-2)" not in source and "not shown" in source


def test_clear_outputs_removes_outputs_and_counts(squares_solution):
    nb = copy.deepcopy(squares_solution)
    nb.cells[2].outputs = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    nb.cells[2].execution_count = 3
    cleared = clear_outputs(nb)
    assert all(
        c.outputs == [] and c.execution_count is None
        for c in cleared.cells
        if c.cell_type == "code"
    )


def test_steps_never_modify_their_input(squares_solution):
    before = copy.deepcopy(squares_solution)
    student_version(squares_solution)
    mask_hidden_tests(squares_solution)
    assert squares_solution == before


def test_student_version_has_no_markers_or_solution_text(squares_solution):
    text = "\n".join(c.source for c in student_version(squares_solution).cells)
    assert not any(m in text for m in ALL_MARKERS)
    assert "x ** 3" not in text and "times itself" not in text
    assert CODE_STUB.splitlines()[1] in text


def test_replace_regions_drops_every_region():
    source = "a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc\n### BEGIN HIDDEN TESTS\nd\n### END HIDDEN TESTS"
    assert replace_regions(source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS", None) == "a\nc"
