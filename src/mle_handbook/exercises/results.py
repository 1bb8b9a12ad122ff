"""One check's result, and the one vocabulary of statuses, for every tool that runs checks.

The build's exercise pages (:mod:`.execute`), the instructors' grader (grade sheets and feedback,
:mod:`mle_handbook.grading`) and ``mle-handbook progress`` (:mod:`mle_handbook.learners.progress`)
all describe an autograded test cell with :class:`CheckResult` and one of :data:`STATUSES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .markers import question_of

PASSED = "passed"
FAILED = "failed"
NOT_RUN = "not-run"  # the notebook stopped before the check
NOT_ATTEMPTED = "not-attempted"  # the question's answer is still the stub (progress)
HIDDEN = "hidden"  # every assertion is hidden: checked only when graded (progress)
BY_HAND = "by-hand"  # a written answer, marked by a person
TIMEOUT = "timeout"
MEMORY_LIMIT = "memory-limit"
OUTPUT_LIMIT = "output-limit"
CRASHED = "crashed"  # the kernel stopped while the check (or the cell it needed) ran
TAMPERED = "tampered"  # the checking machinery was changed while the check ran

#: Every status, with the words a person reads (progress tables, grade sheets' notes).
STATUSES: dict[str, str] = {
    PASSED: "passed",
    FAILED: "failed",
    NOT_RUN: "not run",
    NOT_ATTEMPTED: "not attempted",
    HIDDEN: "checked when graded",
    BY_HAND: "marked by hand",
    TIMEOUT: "ran out of time",
    MEMORY_LIMIT: "ran out of memory",
    OUTPUT_LIMIT: "produced too much output",
    CRASHED: "stopped the kernel",
    TAMPERED: "not counted: the checks were interfered with",
}


@dataclass
class CheckResult:
    """The outcome of one autograded test cell (or, in progress, one written answer)."""

    grade_id: str
    points: float
    status: str  # one of STATUSES
    #: What the learner may read: a visible check's failure message; nothing of hidden tests.
    message: str = ""
    #: What an instructor may read (a hidden test's own message included); ``message`` if empty.
    detail: str = ""
    #: The check failed in its hidden tests.
    hidden: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown check status {self.status!r}")
        self.detail = self.detail or self.message

    @property
    def question(self) -> str:
        return question_of(self.grade_id)

    @property
    def earned(self) -> float:
        return self.points if self.status == PASSED else 0.0
