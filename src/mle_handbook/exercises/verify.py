"""Prove an exercise is honest: the source passes every check, the student version fails every one.

The same function serves ``mle-handbook check``, the test suite and authors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .execute import ExecutionResult, execute_notebook
from .markers import ALL_MARKERS, cell_kind, region_lines
from .student import student_version
from .validate import validate


def solution_texts(nb: nbformat.NotebookNode) -> list[str]:
    """Substantive lines inside solution and hidden-test regions (what must not leak)."""
    texts = []
    for cell in nb.cells:
        kind = cell_kind(cell)
        if not (kind.solution or kind.autograded_test):
            continue
        for line in region_lines(cell.source):
            stripped = line.strip()
            if len(stripped) >= 12 and not stripped.startswith("#"):
                texts.append(stripped)
    return texts


def leaked_text(source: nbformat.NotebookNode, student: nbformat.NotebookNode) -> list[str]:
    """Solution or hidden-test lines (and markers) that still appear in the student version."""
    visible = "\n".join(c.source for c in student.cells)
    outside = "\n".join(
        line
        for c in source.cells
        for line in c.source.splitlines()
        if not (cell_kind(c).solution or cell_kind(c).autograded_test)
    )
    leaks = [m for m in ALL_MARKERS if m in visible]
    leaks += [t for t in solution_texts(source) if t in visible and t not in outside]
    return leaks


@dataclass
class Verification:
    path: str
    source: ExecutionResult
    student: ExecutionResult
    leaks: list[str] = field(default_factory=list)

    @property
    def vacuous_checks(self) -> list[str]:
        """Checks that pass on the student stub: they cannot tell a right answer from none."""
        return [c.grade_id for c in self.student.checks if c.status == "passed"]

    @property
    def ok(self) -> bool:
        return self.source.ok and not self.vacuous_checks and not self.leaks

    def report(self) -> str:
        lines = [f"{self.path}: {len(self.source.checks)} autograded checks"]
        lines.append(
            "  source: all checks pass" if self.source.ok else "  source: " + self.source.report()
        )
        if self.vacuous_checks:
            lines.append(
                f"  student version PASSES (vacuous checks): {', '.join(self.vacuous_checks)}"
            )
        else:
            lines.append("  student version: every check fails")
        for leak in self.leaks:
            lines.append(f"  student version leaks: {leak!r}")
        return "\n".join(lines)


def verify_exercise(path: str | Path, *, timeout: int = 180) -> Verification:
    """Validate, run the source and the student version, and look for leaked solutions."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    validate(nb, path)
    student = student_version(nb)
    source_result = execute_notebook(nb, path=path, cwd=path.parent, timeout=timeout)
    student_result = execute_notebook(student, path=path, cwd=path.parent, timeout=timeout)
    return Verification(str(path), source_result, student_result, leaked_text(nb, student))
