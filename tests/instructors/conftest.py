"""Fixtures for the instructors' tools: a small exercise whose checks use helpers, and submissions.

``helpers_exercise`` is the fixture exercise of the hostile-submission tests: its checks use what
real checks use (``math.isclose``, ``numbers.Real``, ``numpy.testing``, a helper defined in the
set-up cell, a data file), so that tampering with each of them can be tried.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from mle_handbook.exercises.markers import cell_kind
from mle_handbook.exercises.student import student_version


def _cell(kind: str, source: str, grade_id: str | None = None, points: float | None = None):
    roles = {
        "setup": dict(grade=False, solution=False, locked=True),
        "solution": dict(grade=False, solution=True, locked=False),
        "test": dict(grade=True, solution=False, locked=True),
        "manual": dict(grade=True, solution=True, locked=False),
    }
    if kind == "markdown":
        return nbformat.v4.new_markdown_cell(source)
    meta = {"schema_version": 3, "grade_id": grade_id, **roles[kind]}
    if points is not None:
        meta["points"] = points
    make = nbformat.v4.new_markdown_cell if kind == "manual" else nbformat.v4.new_code_cell
    return make(source, metadata={"nbgrader": meta})


SETUP = """\
import math
import numbers

import numpy as np

VALUES = np.loadtxt("data/values.csv")


def reference_mean(values):
    return float(np.mean(np.asarray(values, dtype=float)))
"""

MEAN_SOLUTION = """\
def mean(values):
    \"\"\"The arithmetic mean of a sequence of numbers, as a float.\"\"\"
    ### BEGIN SOLUTION
    values = [float(v) for v in values]
    return sum(values) / len(values)
    ### END SOLUTION
"""

MEAN_TESTS = """\
result = mean([1, 2, 3, 4])
assert isinstance(result, numbers.Real), f"mean([1, 2, 3, 4]) returned {result!r}, not a number"
assert math.isclose(result, reference_mean([1, 2, 3, 4])), f"mean([1, 2, 3, 4]) returned {result!r}"
np.testing.assert_allclose(mean(VALUES), reference_mean(VALUES), err_msg="mean of the data file is wrong")
### BEGIN HIDDEN TESTS
assert math.isclose(mean([-7.5]), -7.5), "mean of one negative value is wrong"
### END HIDDEN TESTS"""

SCALE_SOLUTION = """\
def scale(values, factor):
    \"\"\"The values multiplied by factor, as a NumPy array.\"\"\"
    ### BEGIN SOLUTION
    return np.asarray(values, dtype=float) * factor
    ### END SOLUTION
"""

SCALE_TESTS = """\
np.testing.assert_allclose(scale([1, 2], 3), [3.0, 6.0], err_msg="scale([1, 2], 3) is wrong")"""


def helpers_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["mle_handbook"] = {"data": ["data/values.csv"]}
    nb.cells = [
        _cell("markdown", "# Helpers (test fixture)\n\nAn exercise whose checks use helpers."),
        _cell("setup", SETUP, "setup"),
        _cell("markdown", "## Question `mean` (2 points)"),
        _cell("solution", MEAN_SOLUTION, "mean-solution"),
        _cell("test", MEAN_TESTS, "mean-examples", 2),
        _cell("markdown", "## Question `scale` (1 point)"),
        _cell("solution", SCALE_SOLUTION, "scale-solution"),
        _cell("test", SCALE_TESTS, "scale-examples", 1),
        _cell("markdown", "## Question `explain` (1 point)"),
        _cell(
            "manual",
            "### BEGIN SOLUTION\nThe mean is the sum over the count.\n### END SOLUTION",
            "explain",
            1,
        ),
    ]
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"helpers-{number:02d}"
    return nb


@pytest.fixture(scope="session")
def helpers_exercise(tmp_path_factory) -> Path:
    """``helpers.ipynb`` (model answers, hidden tests) with its data file, in a folder of its own."""
    folder = tmp_path_factory.mktemp("exercise")
    (folder / "data").mkdir()
    (folder / "data" / "values.csv").write_text("1.5\n2.5\n4.0\n8.0\n")
    path = folder / "helpers.ipynb"
    nbformat.write(helpers_notebook(), path)
    return path


def answers_of(source: nbformat.NotebookNode) -> dict[str, str]:
    return {cell_kind(c).grade_id: c.source for c in source.cells if cell_kind(c).solution}


def submission(
    source: nbformat.NotebookNode,
    answers: dict[str, str] | None = None,
    *,
    correct: bool = False,
    drop: tuple[str, ...] = (),
    extra: dict[str, str] | None = None,
) -> nbformat.NotebookNode:
    """What a student hands in: the student version with ``answers`` (by grade_id) filled in.

    ``correct`` starts from the model answers; ``drop`` deletes cells by grade_id; ``extra`` adds a
    new code cell after the cell with the given grade_id.
    """
    nb = student_version(source)
    filled = dict(answers_of(source) if correct else {})
    filled.update(answers or {})
    cells = []
    for cell in nb.cells:
        grade_id = cell_kind(cell).grade_id
        if grade_id in drop:
            continue
        cell = copy.deepcopy(cell)
        if grade_id in filled:
            cell.source = filled[grade_id]
        cells.append(cell)
        if extra and grade_id in extra:
            cells.append(nbformat.v4.new_code_cell(extra[grade_id]))
    nb.cells = cells
    return nb
