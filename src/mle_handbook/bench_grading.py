"""Grading benchmark: ``mle-handbook grade`` at 1 and 2 jobs, side by side with ``nbgrader autograde``.

For each exercise, :func:`bench_exercise` releases it into a fresh nbgrader course, runs nbgrader's
``generate_assignment``, and derives ``n`` submissions from nbgrader's student notebook (what a
student would download) and the source's model answers:

- **correct**: every solution cell holds the model answer;
- **partial**: a seeded random half of the solution cells keep the stub;
- **wrong**: every solution cell keeps the stub (an untouched download).

The same files are then graded by :func:`mle_handbook.grading.run.grade` with ``jobs=1`` and
``jobs=2`` (without the model-answer check, which is timed separately) and by ``nbgrader
autograde``; the result says how long each took, the throughput, the ratio to nbgrader, and whether
every autograded mark agrees. :func:`nbgrader_autograde` is also what the nbgrader compatibility
test uses. ``python -m mle_handbook.bench_grading --out DIR`` prints the result as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat

from .exercises.markers import cell_kind
from .release import find_exercises, release

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
    from .grading.run import uses_spark

    if not uses_spark(source) or os.environ.get("SPARK_REMOTE") or os.environ.get("SPARK_MASTER"):
        yield os.environ.get("SPARK_REMOTE")
        return
    from .spark_server import ConnectServer

    with ConnectServer() as server:
        yield server.url


def nbgrader_autograde(
    course: Path, exercise: str, submissions: dict[str, Path], *, spark_remote: str | None = None
) -> tuple[dict[str, dict[str, float]], float]:
    """Copy ``submissions`` (student id → notebook) into ``submitted/`` and run ``nbgrader autograde``.

    Returns ``({student: {grade_id: score}}, seconds)``; a manually graded answer nobody has marked
    yet scores 0.
    """
    for student, path in submissions.items():
        target = course / "submitted" / student / exercise / f"{exercise}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    start = time.perf_counter()
    _nbgrader(
        course,
        "autograde",
        exercise,
        "--force",
        env={"SPARK_REMOTE": spark_remote} if spark_remote else None,
    )
    seconds = time.perf_counter() - start
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


def _autograded(run) -> dict[str, dict[str, float]]:
    return {r.student_id: {g: c.earned for g, c in r.checks.items()} for r in run.results}


def bench_exercise(
    exercise: Path,
    n: int = 20,
    jobs: tuple[int, ...] = (1, 2),
    *,
    nbgrader: bool = True,
    workdir: Path | None = None,
) -> dict:
    """Time grading ``n`` generated submissions of one exercise; see the module docstring."""
    exercise = Path(exercise)
    name = exercise.stem
    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="mle-bench-grading-")) if own else Path(workdir)
    try:
        course = workdir / "course"
        source = nbformat.read(exercise, as_version=4)
        if nbgrader:
            student_path = nbgrader_course(exercise, course)
            student = nbformat.read(student_path, as_version=4)
        else:
            from .exercises.student import student_version

            student = student_version(source)
        folder = workdir / "submissions"
        folder.mkdir(parents=True, exist_ok=True)
        made = make_submissions(source, student, n)
        for student_id, (_, nb) in made.items():
            nbformat.write(nb, folder / f"{student_id}.ipynb")
        result = {
            "exercise": name,
            "submissions": n,
            "kinds": {k: sum(1 for kind, _ in made.values() if kind == k) for k in KINDS},
            "cores": os.cpu_count(),
        }
        with spark_for(source) as remote:
            result.update(
                _time_graders(
                    exercise, folder, workdir, course, made, source, jobs, nbgrader, remote
                )
            )
        return result
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def _time_graders(exercise, folder, workdir, course, made, source, jobs, nbgrader, remote) -> dict:
    """Grade the same files with ``grade()`` at each job count, then with nbgrader."""
    from .grading.run import grade

    n, name, result, marks = len(made), exercise.stem, {}, {}
    for count in jobs:
        start = time.perf_counter()
        run = grade(
            exercise,
            folder,
            workdir / f"grades-{count}",
            jobs=count,
            check_source=(count == jobs[0]),
            progress=False,
            spark_remote=remote,
        )
        total = time.perf_counter() - start
        if count == jobs[0]:
            result["source_check_seconds"] = round(run.source_seconds, 2)
        result[f"jobs_{count}"] = {
            # Other work on the machine slows every timing: its load average says how much.
            "load_average_after": round(os.getloadavg()[0], 2),
            "seconds": round(run.seconds, 2),
            "submissions_per_second": round(n / run.seconds, 3) if run.seconds else None,
            "wall_seconds": round(total, 2),
            "statuses": {
                s: sum(r.status == s for r in run.results) for s in {r.status for r in run.results}
            },
        }
        marks[count] = _autograded(run)
    result["same_marks_across_jobs"] = all(marks[j] == marks[jobs[0]] for j in jobs)
    if nbgrader:
        theirs, seconds = nbgrader_autograde(
            course, name, {s: folder / f"{s}.ipynb" for s in made}, spark_remote=remote
        )
        ours = marks[jobs[0]]
        differences = [
            f"{s}/{g}: ours {ours[s].get(g)} nbgrader {theirs[s].get(g)}"
            for s in sorted(made)
            for g in sorted(autograded_ids(source))
            if ours[s].get(g) != theirs[s].get(g)
        ]
        result["nbgrader"] = {
            "load_average_after": round(os.getloadavg()[0], 2),
            "seconds": round(seconds, 2),
            "submissions_per_second": round(n / seconds, 3),
            "same_marks": not differences,
            "differences": differences[:20],
        }
        for count in jobs:
            ours_seconds = result[f"jobs_{count}"]["seconds"]
            result[f"jobs_{count}"]["speed_up_over_nbgrader"] = round(seconds / ours_seconds, 2)
    return result


def bench_grading(
    exercises: list[str | Path] | None = None,
    n: int = 20,
    jobs: tuple[int, ...] = (1, 2),
    *,
    nbgrader: bool = True,
) -> dict:
    """:func:`bench_exercise` for each exercise (default: every exercise in ``exercises/``)."""
    return {
        "grading": [
            bench_exercise(path, n, jobs, nbgrader=nbgrader) for path in find_exercises(exercises)
        ]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mle_handbook.bench_grading", description=__doc__.splitlines()[0]
    )
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("-n", type=int, default=20, help="submissions per exercise")
    parser.add_argument("--no-nbgrader", action="store_true")
    parser.add_argument("--out", type=Path, help="folder for grading.json")
    args = parser.parse_args(argv)
    result = bench_grading(args.exercises or None, args.n, nbgrader=not args.no_nbgrader)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "grading.json").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
