"""The build is the check: exercise pages pass or the build fails with a readable block."""

from __future__ import annotations

import copy
import re
import zipfile

import nbformat
import pytest
from conftest import cell_with_id

pytestmark = pytest.mark.slow


def _page(result, name="squares") -> str:
    return (result.outdir / "exercises" / f"{name}.html").read_text()


def test_passing_exercise_builds_with_summary_points_and_collapsed_solutions(
    mini_project, squares_solution
):
    mini_project.add_notebook("squares", squares_solution)
    result = mini_project.build()
    assert result.returncode == 0, result.output
    page = _page(result)
    assert "3 questions · 4 points</strong> · all checks passed in this build" in page
    assert "Check <code>square-examples</code> · 2 points · ✓ passed in this build" in page
    # Solutions are inside closed <details> elements (no "open" attribute): readable without JS.
    assert page.count('<details class="mleh-solution">') == 3
    assert "<details open" not in page
    # Hidden tests ran, but their source is not on the page; markers are not shown either.
    assert "square(-2)" not in page and "BEGIN HIDDEN" not in page and "BEGIN SOLUTION" not in page


def test_downloads_offer_student_and_full_notebooks(mini_project, squares_solution):
    mini_project.add_notebook("squares", squares_solution)
    result = mini_project.build()
    downloads = result.outdir / "_notebooks" / "exercises"
    student = nbformat.read(downloads / "squares-student.ipynb", as_version=4)
    assert "NotImplementedError" in student.cells[2].source
    full = nbformat.read(downloads / "squares.ipynb", as_version=4)
    assert "return x * x" in full.cells[2].source
    assert all(not c.get("outputs") for c in full.cells)
    with zipfile.ZipFile(downloads / "squares-student.zip") as archive:
        assert archive.namelist() == ["squares/squares.ipynb"]
    assert 'href="../_notebooks/exercises/squares-student.ipynb"' in _page(result)


def test_changed_expected_value_fails_build_naming_notebook_and_grade_id(
    mini_project, squares_solution
):
    nb = copy.deepcopy(squares_solution)
    cell = cell_with_id(nb, "square-examples")
    cell.source = cell.source.replace("== 9", "== 10")
    mini_project.add_notebook("squares", nb)
    # What CI runners export, and what made Sphinx colour this output there.
    result = mini_project.build(env={"CI": "true", "FORCE_COLOR": "1"})
    assert result.returncode != 0
    assert re.search(
        r"exercises/squares\.ipynb: 1 cell\(s\) failed.*\n\s+- cell 4, grade_id 'square-examples', "
        r"line 1: AssertionError: square\(3\) returned 9",
        result.output,
    ), result.output
    assert "\x1b[" not in result.output
    assert "Traceback" not in result.output


def test_failure_block_has_no_escape_codes_even_when_colour_is_forced(
    mini_project, squares_solution
):
    nb = copy.deepcopy(squares_solution)
    cell_with_id(nb, "square-examples").source = "assert 1 / 0"
    mini_project.add_notebook("squares", nb)
    result = mini_project.build(colour=True)
    assert result.returncode != 0
    assert "\x1b[" in result.output  # Sphinx itself did colour its output
    block = re.search(
        r"exercises/squares\.ipynb: 1 cell\(s\) failed.*?\[mle_handbook\.execution\]",
        result.output,
        re.S,
    )
    assert block, result.output
    assert "ZeroDivisionError" in block.group(0)
    assert "\x1b[" not in block.group(0), block.group(0)


def test_failure_is_reported_again_by_the_next_incremental_build(mini_project, squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell_with_id(nb, "cube-examples").source = "assert False, 'always fails'"
    mini_project.add_notebook("squares", nb)
    assert mini_project.build().returncode != 0
    again = mini_project.build()
    assert again.returncode != 0 and "cube-examples" in again.output


def test_fixing_a_failed_notebook_makes_the_next_build_pass(mini_project, squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell_with_id(nb, "cube-examples").source = "assert False, 'always fails'"
    mini_project.add_notebook("squares", nb)
    assert mini_project.build().returncode != 0
    mini_project.add_notebook("squares", squares_solution)
    assert mini_project.build().returncode == 0


def test_fixing_one_failed_notebook_re_executes_only_that_one(mini_project, squares_solution):
    broken = copy.deepcopy(squares_solution)
    cell_with_id(broken, "cube-examples").source = "assert False, 'always fails'"
    mini_project.add_notebook("squares", squares_solution)
    mini_project.add_notebook("broken", broken)
    first = mini_project.build()
    assert first.returncode != 0 and "running 2 notebook(s)" in first.output
    mini_project.add_notebook("broken", squares_solution)  # the fix
    fixed = mini_project.build()
    assert fixed.returncode == 0, fixed.output
    assert "running 1 notebook(s)" in fixed.output
    assert "exercises/broken.ipynb: executed" in fixed.output
    assert "exercises/squares.ipynb: executed" not in fixed.output


def test_rebuild_with_nothing_changed_executes_no_notebook(mini_project, squares_solution):
    mini_project.add_notebook("squares", squares_solution)
    assert mini_project.build().returncode == 0
    again = mini_project.build()
    assert again.returncode == 0
    assert "running" not in again.output and "0 added, 0 changed" in again.output


def test_malformed_exercise_fails_build_naming_file_and_cell(mini_project, squares_solution):
    nb = copy.deepcopy(squares_solution)
    del cell_with_id(nb, "cube-examples").metadata.nbgrader["points"]
    mini_project.add_notebook("squares", nb)
    result = mini_project.build()
    assert result.returncode != 0
    assert (
        "exercises/squares.ipynb, cell 7, grade_id 'cube-examples': graded cell has no points"
        in (result.output)
    )
