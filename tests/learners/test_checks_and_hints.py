"""The learners' guide shows what the real checks print: its examples are run here.

``docs/learners/checks-and-hints.md`` marks each example with a MyST comment, which the page does
not show: ``% wrong-answer: EXERCISE GRADE_ID`` before a code block (a learner's answer for that
solution cell), then ``% message: GRADE_ID`` before the message that check prints for it, or
``% progress: EXERCISE`` before the rows ``mle-handbook progress`` prints for it.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from dataclasses import dataclass

import nbformat
import pytest
from conftest import ROOT

from mle_handbook.exercises.markers import cell_kind
from mle_handbook.exercises.student import student_version
from mle_handbook.learners.start import start

from .conftest import set_solution

PAGE = ROOT / "docs" / "learners" / "checks-and-hints.md"


@dataclass
class Example:
    exercise: str
    solution_id: str
    answer: str
    kind: str  # "message" or "progress"
    target: str  # the check's grade_id, or the exercise
    shown: str


def page_examples(text: str) -> list[Example]:
    """Every (wrong answer, what the page says it prints) pair, in page order."""
    blocks = re.finditer(
        r"^% (wrong-answer|message|progress): ([^\n]+)\n```\w*\n(.*?)^```", text, re.M | re.S
    )
    examples, answer = [], None
    for kind, argument, body in (m.groups() for m in blocks):
        if kind == "wrong-answer":
            answer = (*argument.split(), body)
        else:
            assert answer is not None, f"{kind}: {argument} comes before any wrong answer"
            examples.append(Example(*answer, kind, argument.strip(), body))
    return examples


EXAMPLES = page_examples(PAGE.read_text(encoding="utf-8"))


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_page_has_examples_of_messages_and_of_progress():
    assert {e.kind for e in EXAMPLES} == {"message", "progress"}
    assert len([e for e in EXAMPLES if e.kind == "message"]) >= 2


def check_message(exercise: str, replacements: dict[str, str], grade_id: str) -> str:
    """What check ``grade_id`` of the student version prints, with these answers, run from the top."""
    nb = student_version(nbformat.read(ROOT / "exercises" / f"{exercise}.ipynb", as_version=4))
    namespace: dict = {"__name__": "__exercise__"}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kind = cell_kind(cell)
        source = replacements.get(kind.grade_id, cell.source)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, f"<{kind.grade_id}>", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - the message is what is compared
            if kind.grade_id == grade_id:
                return f"{type(exc).__name__}: {exc}"
            raise
        if kind.grade_id == grade_id:
            return "(passed)"
    raise KeyError(grade_id)


@pytest.mark.parametrize(
    "example",
    [e for e in EXAMPLES if e.kind == "message"],
    ids=lambda e: f"{e.target}-{e.shown[:40]}",
)
def test_each_failure_message_on_the_page_is_what_the_check_prints(example):
    printed = check_message(example.exercise, {example.solution_id: example.answer}, example.target)
    assert _words(printed) == _words(example.shown), (
        f"docs/learners/checks-and-hints.md shows\n{example.shown}\nbut {example.target} prints\n"
        f"{printed}"
    )


def _row(line: str) -> str:
    return _words(re.sub(r"\(ran in [\d.]+ s\)", "(ran in N s)", line))


@pytest.mark.slow
@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.kind == "progress"], ids=lambda e: e.target
)
def test_the_progress_table_on_the_page_is_what_progress_prints(example, tmp_path):
    work = tmp_path / "work"
    start(ROOT, work)
    set_solution(
        work / "exercises" / f"{example.exercise}.ipynb", example.solution_id, example.answer
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mle_handbook.cli", "progress", "--work", str(work)]
        + [example.target],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    printed = {_row(line) for line in proc.stdout.splitlines()}
    shown = [line for line in example.shown.splitlines() if line.strip() != "..."]
    missing = [line for line in shown if _row(line) not in printed]
    assert not missing, (
        f"docs/learners/checks-and-hints.md shows rows that progress does not print: {missing}\n"
        f"progress printed:\n{proc.stdout}{proc.stderr}"
    )
