"""Page decorations are deterministic: two builds of the same notebook give the same copy."""

from __future__ import annotations

import types

import nbformat

from mle_handbook.exercises.execute import ExecutionResult, collect_results
from mle_handbook.sphinxext import pages
from mle_handbook.sphinxext.pages import decorate

CONFIG = types.SimpleNamespace(
    mle_handbook_repository_url="https://github.com/example/handbook",
    mle_handbook_repository_branch="main",
)


def _decorated(nb):
    failures, checks = collect_results(nb)
    result = ExecutionResult("exercises/squares.ipynb", nb, failures, checks, 1.0)
    return decorate(result, docname="exercises/squares", config=CONFIG, builder="html")


def test_added_cells_get_the_same_unique_ids_in_every_build(squares_solution):
    first, second = _decorated(squares_solution), _decorated(squares_solution)
    assert nbformat.writes(first) == nbformat.writes(second)
    ids = [cell.id for cell in first.cells]
    assert len(ids) == len(set(ids))
    assert len(first.cells) > len(squares_solution.cells)  # something was added
    nbformat.validate(first)


def _with_helper(nb):
    import copy

    from nbformat.v4 import new_code_cell

    nb = copy.deepcopy(nb)
    helper = new_code_cell("def expected(x):\n    return x * x")
    helper.metadata["nbgrader"] = {
        "grade": False,
        "solution": False,
        "locked": True,
        "grade_id": "checks-setup",
        "schema_version": 3,
    }
    nb.cells.insert(1, helper)
    return nb


def test_check_helper_cells_are_collapsed_behind_a_toggle_and_the_question_comes_first(
    squares_solution,
):
    page = _decorated(_with_helper(squares_solution))
    sources = [cell.source for cell in page.cells]
    toggle = next(i for i, s in enumerate(sources) if "How your answers are checked" in s)
    assert sources[toggle].startswith("<details") and "checks-setup" in sources[toggle]
    assert sources[toggle + 1].startswith("def expected") and sources[toggle + 2] == "</details>"
    assert "<details open" not in "".join(sources)


def test_student_notebook_collapses_helper_input_and_says_what_it_is(squares_solution):
    from mle_handbook.exercises.student import student_version

    student = student_version(_with_helper(squares_solution))
    helper = student.cells[1]
    assert helper.metadata["jupyter"]["source_hidden"] is True
    assert helper.source.startswith("# How your answers are checked")
    assert "def expected(x)" in helper.source  # still runs: only its input is collapsed
    answer = next(c for c in student.cells if "def square" in c.source)
    assert "source_hidden" not in answer.metadata.get("jupyter", {})


def test_outputs_lose_the_notebook_folder_and_keep_everything_else(tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    folder = tmp_path / "notebooks"
    cell = new_code_cell("df.explain()")
    cell.outputs = [
        new_output("stream", name="stdout", text=f"FileScan csv [file:{folder}/data/events.csv]\n"),
        new_output("execute_result", data={"text/plain": f"'{folder}'"}, execution_count=1),
    ]
    cleaned = pages.reproducible(new_notebook(cells=[cell]), folder)
    outputs = cleaned.cells[0].outputs
    assert outputs[0]["text"] == "FileScan csv [data/events.csv]\n"
    assert outputs[1]["data"]["text/plain"] == "'.'"
    assert str(tmp_path) not in nbformat.writes(cleaned)


def test_a_helper_cell_that_draws_something_stays_in_view(squares_solution):
    from nbformat.v4 import new_output

    nb = _with_helper(squares_solution)
    nb.cells[1].outputs = [new_output("display_data", data={"image/png": "iVBORw0KGgo="})]
    sources = [cell.source for cell in _decorated(nb).cells]
    assert not any("How your answers are checked" in s for s in sources)


def test_outputs_merge_split_prints_and_renumber_spark_ids_by_first_appearance(tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    plan = (
        "== Physical Plan ==\n+- Exchange hashpartitioning(region#70, 4), [plan_id=7843]\n"
        "   +- Scan [region#70,amount#71L]\n"
    )
    cell = new_code_cell("df.explain()")
    cell.outputs = [
        new_output("stream", name="stdout", text="a\n"),
        new_output("stream", name="stdout", text=["b\n"]),
        new_output("stream", name="stdout", text=plan),
    ]
    outputs = pages.reproducible(new_notebook(cells=[cell]), tmp_path).cells[0].outputs
    assert len(outputs) == 1
    assert outputs[0]["text"] == (
        "a\nb\n== Physical Plan ==\n+- Exchange hashpartitioning(region#1, 4), [plan_id=2]\n"
        "   +- Scan [region#1,amount#3L]\n"
    )
