"""Reading a grading run's results in the instructors' tests."""

from __future__ import annotations


def row(run, student):
    """The result row of ``student`` (exactly one)."""
    [result] = [r for r in run.results if r.student_id == student]
    return result


def marks(run, student) -> dict[str, float]:
    """``student``'s mark for each question of the run."""
    result = row(run, student)
    return {q.name: result.question_mark(q) for q in run.questions}
