"""A tiny handbook (one exercise with a data file, one worked notebook) and its working folder."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from conftest import FIXTURES

from mle_handbook.learners.start import start

SETUP = 'NUMBERS = [int(x) for x in open("data/numbers.txt").read().split()]'
DATA_CHECK = """\
got = [square(n) for n in NUMBERS]
assert got == [1, 4, 9], f"squares of the numbers in data/numbers.txt came back as {got!r}"
"""
HIDDEN_ONLY = """\
### BEGIN HIDDEN TESTS
assert cube(-1) == -1, "cube(-1) must be -1"
### END HIDDEN TESTS"""


def _meta(grade_id, **roles):
    return {"nbgrader": {"schema_version": 3, "grade_id": grade_id, **roles}}


def squares_exercise() -> nbformat.NotebookNode:
    """The fixture exercise, plus a set-up cell reading a data file, a check using it, and a
    test cell whose assertions are all hidden."""
    nb = nbformat.read(FIXTURES / "squares_solution.ipynb", as_version=4)
    nb = copy.deepcopy(nb)
    setup = nbformat.v4.new_code_cell(
        SETUP, metadata=_meta("numbers-setup", grade=False, solution=False, locked=True)
    )
    data_check = nbformat.v4.new_code_cell(
        DATA_CHECK,
        metadata=_meta("square-data", grade=True, solution=False, locked=True, points=1),
    )
    hidden = nbformat.v4.new_code_cell(
        HIDDEN_ONLY,
        metadata=_meta("cube-hidden", grade=True, solution=False, locked=True, points=1),
    )
    nb.cells.insert(1, setup)
    nb.cells.insert(5, data_check)  # after square-examples
    nb.cells.insert(8, hidden)  # after cube-examples
    nb.metadata["mle_handbook"] = {"data": ["data/numbers.txt"], "timeout": 60}
    return nb


def worked_notebook() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("print(open('data/info.txt').read())")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    cell.execution_count = 1
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Worked"), cell],
        metadata={"mle_handbook": {"data": ["data/info.txt"]}},
    )


@pytest.fixture
def handbook(tmp_path) -> Path:
    """A handbook folder with exercises/squares.ipynb and notebooks/worked.ipynb, and their data."""
    root = tmp_path / "handbook"
    (root / "exercises" / "data").mkdir(parents=True)
    (root / "notebooks" / "data").mkdir(parents=True)
    nbformat.write(squares_exercise(), root / "exercises" / "squares.ipynb")
    (root / "exercises" / "data" / "numbers.txt").write_text("1 2 3\n")
    nbformat.write(worked_notebook(), root / "notebooks" / "worked.ipynb")
    (root / "notebooks" / "data" / "info.txt").write_text("hello\n")
    return root


@pytest.fixture
def work(handbook) -> Path:
    """The working folder as `mle-handbook start` first makes it."""
    start(handbook)
    return handbook / "work"


def set_solution(notebook: Path, grade_id: str, source: str) -> None:
    """Edit the learner's copy as JupyterLab would: replace one cell's source and save."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            break
    else:
        raise KeyError(grade_id)
    nbformat.write(nb, notebook)
