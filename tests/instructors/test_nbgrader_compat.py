"""nbgrader compatibility, proven: nbgrader's own commands on a released course give our marks.

For each exercise: ``release(..., nbgrader_course=...)``, the real ``nbgrader generate_assignment``,
a correct, a partly correct and a wrong submission made from nbgrader's student notebook, the real
```nbgrader autograde``, and ``grade()`` on the same files. Every autograded mark must agree.
"""

from __future__ import annotations

import html
import sys

import nbformat
import pytest
from conftest import FIXTURES, ROOT, exercise_paths

from mle_handbook.bundles import learner_files
from mle_handbook.exercises.markers import BEGIN_HIDDEN, region_lines
from mle_handbook.grading.run import grade

sys.path.insert(0, str(ROOT / "benchmarks"))  # nbgrader_course.py: shared with the grading bench
from nbgrader_course import (  # noqa: E402
    autograded_ids,
    make_submissions,
    nbgrader_autograde,
    nbgrader_course,
    nbgrader_feedback,
    spark_for,
)

pytestmark = pytest.mark.slow

EXERCISES = [FIXTURES / "squares_solution.ipynb", *exercise_paths()]


@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_nbgrader_autograde_and_grade_give_the_same_marks(exercise, tmp_path):
    course = tmp_path / "course"
    student_path = nbgrader_course(exercise, course)
    assert (course / "source" / exercise.stem / exercise.name).is_file()
    assert (course / "nbgrader_config.py").is_file()

    source = nbformat.read(exercise, as_version=4)
    made = make_submissions(source, nbformat.read(student_path, as_version=4), n=3)
    assert [kind for kind, _ in made.values()] == ["correct", "partial", "wrong"]
    folder = tmp_path / "submissions"
    folder.mkdir()
    for student, (_, nb) in made.items():
        nbformat.write(nb, folder / f"{student}.ipynb")

    # A Spark exercise: both graders reach the same Spark Connect server.
    with spark_for(source) as remote:
        files = {s: folder / f"{s}.ipynb" for s in made}
        theirs, _ = nbgrader_autograde(course, exercise.stem, files, spark_remote=remote)
        run = grade(
            exercise, folder, tmp_path / "grades", jobs=2, progress=False, spark_remote=remote
        )
    ours = {r.student_id: {g: c.earned for g, c in r.checks.items()} for r in run.results}

    ids = autograded_ids(source)
    for student in made:
        assert {g: theirs[student][g] for g in ids} == {g: ours[student][g] for g in ids}, student
    correct, partial, wrong = (sum(ours[s].values()) for s in made)
    assert correct == sum(c.points for c in run.results[0].checks.values())
    assert 0 < partial < correct
    assert wrong == 0


def test_nbgrader_feedback_on_the_released_course_never_shows_hidden_tests(tmp_path):
    exercise = FIXTURES / "squares_solution.ipynb"
    course = tmp_path / "course"
    student_path = nbgrader_course(exercise, course)
    source = nbformat.read(exercise, as_version=4)
    made = make_submissions(source, nbformat.read(student_path, as_version=4), n=3)
    files = {}
    for student, (_, nb) in made.items():
        files[student] = tmp_path / f"{student}.ipynb"
        nbformat.write(nb, files[student])
    nbgrader_autograde(course, exercise.stem, files)
    pages = nbgrader_feedback(course, exercise.stem)
    assert sorted(pages) == sorted(made)
    hidden = [
        line.strip()
        for c in source.cells
        if c.cell_type == "code"
        for line in region_lines(c.source, (BEGIN_HIDDEN,))
        if line.strip()
    ]
    assert hidden, "the fixture has hidden tests"
    for student, page in pages.items():
        page = html.unescape(page)
        for line in hidden:
            assert line not in page, (student, line)
        assert "BEGIN HIDDEN TESTS" not in page
    assert "its hidden tests are not shown" in pages["s003"]  # the wrong submission


@pytest.mark.parametrize("exercise", exercise_paths()[:1], ids=lambda p: p.stem)
def test_submissions_from_either_student_notebook_raise_no_checksum_warnings(exercise, tmp_path):
    course = tmp_path / "course"
    theirs = nbformat.read(nbgrader_course(exercise, course), as_version=4)
    ours = nbformat.reads(learner_files(exercise)[exercise.name].decode(), as_version=4)
    files = {"theirs": tmp_path / "theirs.ipynb", "ours": tmp_path / "ours.ipynb"}
    nbformat.write(theirs, files["theirs"])
    nbformat.write(ours, files["ours"])
    log: list[str] = []
    nbgrader_autograde(course, exercise.stem, files, log=log)
    assert [line for line in log if "has changed" in line] == []
