"""Marks and statuses: per check, per question and per submission.

A **question** is the text of a ``grade_id`` before its first hyphen (``gini-examples`` and
``gini-edge-cases`` make the question ``gini``); its mark is the sum of its checks' points earned
plus any manual marks. A submission's **status** says what happened to it as a whole; the marks
are always those really earned (a check that did not pass, for whatever reason, earns nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat

from ..exercises.markers import cell_kind, question_of
from ..exercises.results import NOT_RUN, CheckResult

#: Every status, most serious first: a submission gets the first that applies.
STATUSES: dict[str, str] = {
    "error": "the grader failed on this submission (not the student's fault); grade it again",
    "invalid-notebook": "the file is not a Jupyter notebook that can be graded",
    "wrong-exercise": "the notebook is not this exercise",
    "review": "the code reaches into the kernel's messaging, the guard, processes or code the "
    "grader cannot read: no automatic marks until a person has read it (see the notes)",
    "tampered": "the submission changed the checking machinery; changes made between checks were "
    "undone before each check, checks during which it happened earned nothing",
    "crashed": "the kernel stopped (os._exit, a crash, exit()); graded again without the cell",
    "timeout": "a cell ran out of time",
    "memory-limit": "a cell ran out of memory",
    "output-limit": "a cell produced too much output",
    "graded": "every check ran",
}


@dataclass(frozen=True)
class Question:
    name: str
    tests: tuple[tuple[str, float], ...]  # (grade_id, points) of autograded checks
    manual: tuple[tuple[str, float], ...]  # (grade_id, points) of manually graded answers

    @property
    def points(self) -> float:
        return sum(p for _, p in self.tests) + sum(p for _, p in self.manual)


def questions_of(source: nbformat.NotebookNode) -> list[Question]:
    """The exercise's questions in order of first appearance, with their checks and answers."""
    order: dict[str, tuple[list, list]] = {}
    for cell in source.cells:
        kind = cell_kind(cell)
        if not kind.grade or not kind.grade_id:
            continue
        tests, manual = order.setdefault(question_of(kind.grade_id), ([], []))
        (manual if kind.manual_answer else tests).append((kind.grade_id, kind.points or 0.0))
    return [Question(name, tuple(t), tuple(m)) for name, (t, m) in order.items()]


@dataclass
class ManualMark:
    grade_id: str
    points: float
    answered: bool
    text: str
    mark: float | None = None  # None until a person marks it (0 for an unanswered stub)
    comment: str = ""

    @property
    def result(self) -> str:
        if not self.answered:
            return "no-answer"
        return "needs-marking" if self.mark is None else "marked"


@dataclass
class SubmissionResult:
    student_id: str
    file: str
    status: str
    checks: dict[str, CheckResult] = field(default_factory=dict)
    manual: dict[str, ManualMark] = field(default_factory=dict)
    #: For the instructor only.
    notes: list[str] = field(default_factory=list)
    #: For the student (their own code's errors, missing answers).
    feedback_notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    #: Why the automatic marks are withheld for a person to review (status ``review``).
    review: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def auto_mark(self, grade_id: str) -> float:
        """What a check earns on the sheet (0 while the submission awaits review)."""
        check = self.checks.get(grade_id)
        return 0.0 if check is None or self.review else check.earned

    def question_mark(self, question: Question) -> float:
        auto = sum(self.auto_mark(g) for g, _ in question.tests)
        manual = sum(self.manual[g].mark or 0.0 for g, _ in question.manual if g in self.manual)
        return auto + manual

    def total(self, questions: list[Question]) -> float:
        return sum(self.question_mark(q) for q in questions)

    @property
    def to_mark(self) -> list[str]:
        return [g for g, m in self.manual.items() if m.result == "needs-marking"]


def unrun_checks(questions: list[Question], message: str) -> dict[str, CheckResult]:
    """Checks of a submission that could not be run at all (every one earns 0)."""
    return {g: CheckResult(g, p, NOT_RUN, message) for q in questions for g, p in q.tests}


def format_mark(value: float) -> str:
    """Marks as grade sheets show them: ``3``, ``2.5``."""
    return f"{round(value, 6):g}"
