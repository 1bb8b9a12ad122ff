"""Validate an exercise notebook's format before anything else uses it.

Each check returns problems that name the cell (its 1-based number and grade_id), so that a malformed
exercise fails the build with a message an author can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from .markers import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    NBGRADER_KEY,
    PAIRS,
    SCHEMA_VERSION,
    cell_kind,
    marker_lines,
)


@dataclass(frozen=True)
class Problem:
    cell: int | None  # 1-based cell number, None for the whole notebook
    grade_id: str | None
    message: str

    def describe(self, path: str | Path | None = None) -> str:
        where = [str(path)] if path else []
        if self.cell is not None:
            where.append(f"cell {self.cell}")
        if self.grade_id:
            where.append(f"grade_id {self.grade_id!r}")
        return f"{', '.join(where)}: {self.message}"


class ExerciseFormatError(ValueError):
    """Raised for a malformed exercise; its message lists every problem found."""

    def __init__(self, path: str | Path | None, problems: list[Problem]):
        self.path = path
        self.problems = problems
        lines = [p.describe(path) for p in problems]
        super().__init__("malformed exercise:\n  " + "\n  ".join(lines))


def _check_marker_pairs(source: str) -> list[str]:
    """Markers must come in BEGIN/END pairs, not nested, not crossed."""
    problems = []
    open_marker: tuple[int, str] | None = None
    for line, marker in marker_lines(source):
        if marker in PAIRS:
            if open_marker is not None:
                problems.append(
                    f"{marker!r} on line {line} is nested inside {open_marker[1]!r} "
                    f"opened on line {open_marker[0]}"
                )
            open_marker = (line, marker)
        else:
            if open_marker is None or PAIRS[open_marker[1]] != marker:
                problems.append(f"{marker!r} on line {line} has no matching BEGIN marker")
            else:
                open_marker = None
    if open_marker is not None:
        problems.append(f"{open_marker[1]!r} on line {open_marker[0]} is never closed")
    return problems


def find_problems(nb: nbformat.NotebookNode) -> list[Problem]:
    """Every format problem of an exercise notebook, in cell order."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, cell in enumerate(nb.cells, start=1):
        kind = cell_kind(cell)
        meta = cell.get("metadata", {}).get(NBGRADER_KEY)
        source = cell.get("source", "")

        def add(message: str, number=number, kind=kind) -> None:
            problems.append(Problem(number, kind.grade_id, message))

        if cell.get("outputs") or cell.get("execution_count"):
            add(
                "has committed outputs; clear them before committing (notebooks are executed by the build)"
            )

        markers = {m for _, m in marker_lines(source)}
        if meta is not None:
            version = meta.get("schema_version")
            if version != SCHEMA_VERSION:
                add(f"nbgrader schema_version is {version!r}, expected {SCHEMA_VERSION}")
            if kind.is_nbgrader and not kind.grade_id:
                add("nbgrader cell has no grade_id")
            if kind.grade_id:
                if kind.grade_id in seen:
                    add(f"duplicate grade_id (also used by cell {seen[kind.grade_id]})")
                else:
                    seen[kind.grade_id] = number
            if kind.grade:
                if kind.points is None:
                    add("graded cell has no points")
                elif kind.points < 0:
                    add(f"graded cell has negative points ({kind.points:g})")
            if kind.autograded_test and cell.cell_type != "code":
                add("autograded test cell must be a code cell")
        for message in _check_marker_pairs(source):
            add(message)
        if markers & {BEGIN_SOLUTION, END_SOLUTION} and not kind.solution:
            add("solution marker outside a solution cell (set nbgrader 'solution': true)")
        if markers & {BEGIN_HIDDEN, END_HIDDEN} and not kind.autograded_test:
            add("hidden-test marker outside an autograded test cell")
        if kind.solution and cell.cell_type == "code" and BEGIN_SOLUTION not in markers:
            add(
                "solution code cell has no '### BEGIN SOLUTION' marker, so the whole answer "
                "would be given to students"
            )
    if not any(cell_kind(c).autograded_test for c in nb.cells):
        problems.append(Problem(None, None, "exercise has no autograded test cell"))
    return problems


def validate(nb: nbformat.NotebookNode, path: str | Path | None = None) -> None:
    """Raise :class:`ExerciseFormatError` naming every malformed cell, or return None."""
    problems = find_problems(nb)
    if problems:
        raise ExerciseFormatError(path, problems)
