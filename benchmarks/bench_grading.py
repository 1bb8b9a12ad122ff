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
test uses (``benchmarks/nbgrader_course.py``). ``python benchmarks/bench_grading.py --out DIR``
prints the result as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader_course import (  # benchmarks/nbgrader_course.py
    KINDS,
    autograded_ids,
    make_submissions,
    nbgrader_autograde,
    nbgrader_course,
    spark_for,
)

from mle_handbook.grading.release import find_exercises


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
            from mle_handbook.exercises.student import student_version

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
    from mle_handbook.grading.run import grade

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
        prog="benchmarks/bench_grading.py", description=__doc__.splitlines()[0]
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
