"""The markers and metadata keys of the exercise format, in one place.

The format is nbgrader's (cell metadata schema version 3), so that a course can use nbgrader's own
commands on the same notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass

import nbformat

SCHEMA_VERSION = 3
NBGRADER_KEY = "nbgrader"
#: Notebook-level metadata of this project (timeout, data files, budgets).
PROJECT_KEY = "mle_handbook"
#: Cell-level ``mle_handbook.alt``: the alt text of the figure(s) a cell draws (see sphinxext).
ALT_KEY = "alt"

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
ALL_MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)

#: What replaces a solution region in the student version (nbgrader's default stubs).
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
#: What replaces hidden tests on a published page.
HIDDEN_NOTE = "# Hidden tests run here when your work is graded; their source is not shown."

#: Cells with this tag may raise without failing the build (nbsphinx uses the same tag).
RAISES_TAG = "raises-exception"


@dataclass(frozen=True)
class CellKind:
    """What role a cell plays in an exercise, read from its nbgrader metadata."""

    solution: bool = False
    grade: bool = False
    locked: bool = False
    grade_id: str | None = None
    points: float | None = None

    @property
    def autograded_test(self) -> bool:
        return self.grade and not self.solution

    @property
    def manual_answer(self) -> bool:
        return self.grade and self.solution

    @property
    def is_nbgrader(self) -> bool:
        return self.solution or self.grade or self.locked


def cell_kind(cell: nbformat.NotebookNode) -> CellKind:
    meta = cell.get("metadata", {}).get(NBGRADER_KEY) or {}
    points = meta.get("points")
    return CellKind(
        solution=bool(meta.get("solution", False)),
        grade=bool(meta.get("grade", False)),
        locked=bool(meta.get("locked", False)),
        grade_id=meta.get("grade_id"),
        points=float(points) if points is not None else None,
    )


def is_exercise(nb: nbformat.NotebookNode) -> bool:
    """A notebook is an exercise when any of its cells carries nbgrader metadata."""
    return any(cell_kind(c).is_nbgrader for c in nb.cells)


def question_of(grade_id: str) -> str:
    """The question a grade_id belongs to: the text before its first hyphen (``gini-hidden`` → ``gini``)."""
    return grade_id.split("-", 1)[0]


def project_meta(nb: nbformat.NotebookNode) -> dict:
    return dict(nb.metadata.get(PROJECT_KEY, {}))
