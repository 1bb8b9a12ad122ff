"""The markers and metadata keys of the exercise format, in one place.

The format is nbgrader's (cell metadata schema version 3), so that a course can use nbgrader's own
commands on the same notebooks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
#: Each region's BEGIN marker and its END marker.
PAIRS = {BEGIN_SOLUTION: END_SOLUTION, BEGIN_HIDDEN: END_HIDDEN}

#: What replaces a solution region in the student version (nbgrader's default stubs).
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
#: What replaces hidden tests on a published page.
HIDDEN_NOTE = "# Hidden tests run here when your work is graded; their source is not shown."

#: The toggle that hides an exercise's set-up and check-helper cells, on its page and in the
#: student notebook (see :func:`is_helper`).
HELPERS_LABEL = "How your answers are checked"

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


def is_helper(cell: nbformat.NotebookNode) -> bool:
    """A set-up or check-helper cell: read-only code (nbgrader ``locked``) that is neither an
    answer nor a check. It runs like any cell, but readers meet the questions first."""
    kind = cell_kind(cell)
    return cell.cell_type == "code" and kind.locked and not (kind.solution or kind.grade)


def is_exercise(nb: nbformat.NotebookNode) -> bool:
    """A notebook is an exercise when any of its cells carries nbgrader metadata."""
    return any(cell_kind(c).is_nbgrader for c in nb.cells)


def question_of(grade_id: str) -> str:
    """The question a grade_id belongs to: the text before its first hyphen (``gini-hidden`` → ``gini``)."""
    return grade_id.split("-", 1)[0]


def project_meta(nb: nbformat.NotebookNode) -> dict:
    return dict(nb.metadata.get(PROJECT_KEY, {}))


# --- marker lines: the one place that recognises them --------------------------------------------


def marker_of(line: str) -> str | None:
    """The marker ``line`` is (as nbgrader reads it: the marker, alone or followed by a space and
    anything), or None."""
    stripped = line.strip()
    for marker in ALL_MARKERS:
        if stripped == marker or stripped.startswith(marker + " "):
            return marker
    return None


def marker_lines(source: str) -> Iterator[tuple[int, str]]:
    """``(line number, marker)`` of every marker line of ``source``, 1-based."""
    for number, line in enumerate(source.splitlines(), start=1):
        marker = marker_of(line)
        if marker is not None:
            yield number, marker


def region_lines(source: str, begins: tuple[str, ...] = tuple(PAIRS)) -> list[str]:
    """The lines inside the regions opened by ``begins`` (markers excluded)."""
    inside, found = None, []
    for line in source.splitlines():
        marker = marker_of(line)
        if inside is None and marker in begins:
            inside = PAIRS[marker]
        elif inside is not None and marker == inside:
            inside = None
        elif inside is not None:
            found.append(line)
    return found


def replace_regions(source: str, begin: str, end: str, replacement: str | None) -> str:
    """Replace every ``begin``…``end`` region (markers included) by ``replacement``.

    The replacement keeps the indentation of the BEGIN marker; ``None`` drops the region.
    """
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        marker = marker_of(line)
        if not inside and marker == begin:
            inside = True
            if replacement is not None:
                indent = re.match(r"\s*", line).group(0)
                out.extend(indent + r if r else r for r in replacement.splitlines())
        elif inside and marker == end:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def without_markers(source: str) -> str:
    """``source`` with its marker lines removed (a solution as readers should see it)."""
    return "\n".join(line for line in source.splitlines() if marker_of(line) is None).strip("\n")
