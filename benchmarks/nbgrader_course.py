"""nbgrader's own commands on a course that ``release --nbgrader`` wrote: the nbgrader
compatibility tests' and the grading benchmark's way to get nbgrader's opinion of the same
submissions (not part of the package: instructors run nbgrader's commands themselves).

:func:`nbgrader_course` releases an exercise into a course and runs ``generate_assignment``;
:func:`make_submissions` derives correct, partly correct and wrong submissions from nbgrader's
student notebook; :func:`nbgrader_autograde` runs ``autograde`` and reads the marks from nbgrader's
gradebook; :func:`nbgrader_feedback` runs ``generate_feedback``. The nbgrader compatibility tests
and the grading benchmark (``benchmarks/bench_grading.py``) use them. nbgrader's commands run from
the environment's own ``bin`` (they need ``alembic`` on ``PATH``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat

from mle_handbook.exercises.markers import cell_kind
from mle_handbook.grading.release import release

KINDS = ("correct", "partial", "wrong")

_READ_GRADEBOOK = """
import json, sys
from nbgrader.api import Gradebook
course, assignment, notebook = sys.argv[1:4]
students = sys.argv[4:]
marks = {}
with Gradebook("sqlite:///" + course + "/gradebook.db") as gb:
    for student in students:
        submitted = gb.find_submission_notebook(notebook, assignment, student)
        marks[student] = {g.name: g.score for g in submitted.grades}
print(json.dumps(marks))
"""


def _nbgrader_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """nbgrader's commands need the environment's ``bin`` (``alembic``) on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        **(extra or {}),
    }


def _nbgrader(course: Path, *args: str, timeout: float = 3600, env: dict[str, str] | None = None):
    command = [str(Path(sys.executable).parent / "nbgrader"), *args]
    proc = subprocess.run(
        command, cwd=course, env=_nbgrader_env(env), capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def nbgrader_course(exercise: Path, course: Path) -> Path:
    """Release ``exercise`` into an nbgrader course and run ``generate_assignment``; returns the
    student notebook nbgrader made."""
    release([exercise], course / "lms", zip=False, nbgrader_course=course)
    _nbgrader(course, "generate_assignment", exercise.stem, "--force")
    return course / "release" / exercise.stem / f"{exercise.stem}.ipynb"


@contextlib.contextmanager
def spark_for(source: nbformat.NotebookNode) -> Iterator[str | None]:
    """One Spark Connect server for a Spark exercise (None for others or when one is configured).

    Both graders then reach the same server, so the comparison measures the graders, not how each
    starts Spark.
    """
    from mle_handbook.grading.run import uses_spark

    if not uses_spark(source) or os.environ.get("SPARK_REMOTE") or os.environ.get("SPARK_MASTER"):
        yield os.environ.get("SPARK_REMOTE")
        return
    from mle_handbook.spark.server import ConnectServer

    with ConnectServer() as server:
        yield server.url


def nbgrader_autograde(
    course: Path,
    exercise: str,
    submissions: dict[str, Path],
    *,
    spark_remote: str | None = None,
    log: list[str] | None = None,
) -> tuple[dict[str, dict[str, float]], float]:
    """Copy ``submissions`` (student id → notebook) into ``submitted/`` and run ``nbgrader autograde``.

    Returns ``({student: {grade_id: score}}, seconds)``; a manually graded answer nobody has marked
    yet scores 0. nbgrader's output lines are appended to ``log`` when given.
    """
    for student, path in submissions.items():
        target = course / "submitted" / student / exercise / f"{exercise}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    start = time.perf_counter()
    done = _nbgrader(
        course,
        "autograde",
        exercise,
        "--force",
        env={"SPARK_REMOTE": spark_remote} if spark_remote else None,
    )
    seconds = time.perf_counter() - start
    if log is not None:
        log += (done.stdout + done.stderr).splitlines()
    proc = subprocess.run(
        [sys.executable, "-c", _READ_GRADEBOOK, str(course), exercise, exercise, *submissions],
        capture_output=True,
        text=True,
        env=_nbgrader_env(),
        check=True,
    )
    marks = {
        student: {g: float(score or 0.0) for g, score in grades.items()}
        for student, grades in json.loads(proc.stdout).items()
    }
    return marks, seconds


def autograded_ids(source: nbformat.NotebookNode) -> set[str]:
    return {cell_kind(c).grade_id for c in source.cells if cell_kind(c).autograded_test}


def make_submissions(
    source: nbformat.NotebookNode, student: nbformat.NotebookNode, n: int = 20, seed: int = 0
) -> dict[str, tuple[str, nbformat.NotebookNode]]:
    """``n`` submissions ``{student id: (kind, notebook)}`` cycling through correct, partial, wrong."""
    rng = random.Random(seed)
    answers = {cell_kind(c).grade_id: c.source for c in source.cells if cell_kind(c).solution}
    code_answers = [
        cell_kind(c).grade_id
        for c in source.cells
        if cell_kind(c).solution and c.cell_type == "code"
    ]
    made = {}
    for number in range(n):
        kind = KINDS[number % len(KINDS)]
        if kind == "correct":
            filled = set(answers)
        elif kind == "partial":
            filled = set(rng.sample(code_answers, max(1, len(code_answers) // 2)))
        else:
            filled = set()
        nb = copy.deepcopy(student)
        for cell in nb.cells:
            grade_id = cell_kind(cell).grade_id
            if grade_id in filled and cell.cell_type == "code":
                cell.source = answers[grade_id]
        made[f"s{number + 1:03d}"] = (kind, nb)
    return made


def nbgrader_feedback(course: Path, exercise: str) -> dict[str, str]:
    """Run ``nbgrader generate_feedback``; ``{student: feedback HTML}``."""
    _nbgrader(course, "generate_feedback", exercise, "--force")
    pages = sorted((course / "feedback").glob(f"*/{exercise}/*.html"))
    return {page.parts[-3]: page.read_text(encoding="utf-8") for page in pages}
