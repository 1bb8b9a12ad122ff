"""`mle-handbook progress`: what each check says about the learner's copy, never touching it."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from conftest import ROOT

from mle_handbook.cli import main
from mle_handbook.learners.progress import (
    BY_HAND,
    FAILED,
    HIDDEN,
    NOT_ATTEMPTED,
    PASSED,
    ProgressError,
    progress,
)
from mle_handbook.learners.start import start

from .conftest import set_solution

pytestmark = pytest.mark.slow  # each test runs a kernel (a few seconds)


def _statuses(exercise):
    return {row.grade_id: row.status for row in exercise.rows}


def _snapshot(folder):
    return {
        p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_fresh_copy_reports_every_check_not_attempted_and_no_points(work):
    [exercise] = progress(work).exercises
    assert _statuses(exercise) == {
        "square-examples": NOT_ATTEMPTED,
        "square-data": NOT_ATTEMPTED,
        "cube-examples": NOT_ATTEMPTED,
        "cube-hidden": HIDDEN,
        "explain": BY_HAND,
    }
    assert exercise.earned == 0 and exercise.checked_points == 4 and exercise.later_points == 2


def test_passed_failed_and_not_attempted_with_the_checks_own_message(work):
    mine = work / "exercises" / "squares.ipynb"
    set_solution(mine, "square-solution", "def square(x):\n    return x * x")
    set_solution(mine, "cube-solution", "def cube(x):\n    return x * 3")
    [exercise] = progress(work).exercises
    assert _statuses(exercise)["square-examples"] == PASSED
    assert _statuses(exercise)["square-data"] == PASSED  # data/numbers.txt was found
    [cube] = [r for r in exercise.rows if r.grade_id == "cube-examples"]
    assert cube.status == FAILED
    assert cube.message == "AssertionError: cube(2) returned 6"
    assert exercise.earned == 3
    text = progress(work).render()
    assert "cube cube-examples 0 / 1 failed: AssertionError: cube(2) returned 6" in [
        " ".join(line.split()) for line in text.splitlines()
    ]
    assert "points so far: 3 of 4" in text


def test_progress_never_modifies_the_learners_files(work):
    mine = work / "exercises" / "squares.ipynb"
    # A solution that also writes files where it runs: they must land in the scratch copy.
    set_solution(
        mine,
        "square-solution",
        "open('written-by-my-code.txt', 'w').write('x')\n"
        "open('data/numbers.txt', 'w').write('9 9 9')\n"
        "def square(x):\n    return x * x",
    )
    before = _snapshot(work)
    progress(work)
    assert _snapshot(work) == before  # same files, same bytes, same modification times


def test_a_solution_that_does_not_run_is_named_in_a_note(work):
    set_solution(work / "exercises" / "squares.ipynb", "square-solution", "def square(x) return")
    [exercise] = progress(work).exercises
    assert _statuses(exercise)["square-examples"] == FAILED
    assert any("grade_id 'square-solution'" in n and "SyntaxError" in n for n in exercise.notes)


def test_a_question_that_uses_an_unwritten_function_says_so(work):
    set_solution(
        work / "exercises" / "squares.ipynb",
        "cube-solution",
        "def cube(x):\n    return square(x) * x",
    )
    [exercise] = progress(work).exercises
    [cube] = [r for r in exercise.rows if r.grade_id == "cube-examples"]
    assert cube.status == FAILED and "still a stub" in cube.message


def test_an_unreadable_notebook_is_a_clear_error_and_the_others_are_still_reported(work, capsys):
    shutil.copy(work / "exercises" / "squares.ipynb", work / "exercises" / "again.ipynb")
    (work / "exercises" / "squares.ipynb").write_text('{"cells": [')
    report = progress(work)
    assert not report.ok
    broken = [ex for ex in report.exercises if ex.path == "exercises/squares.ipynb"][0]
    assert broken.error.startswith("not a valid notebook (")
    assert "run `make student` for a fresh copy" in broken.error
    assert [ex.path for ex in report.exercises if not ex.error] == ["exercises/again.ipynb"]
    assert main(["progress", "--work", str(work)]) == 1
    assert "exercises/squares.ipynb: not a valid notebook" in capsys.readouterr().out


def test_a_missing_notebook_is_a_clear_error(work, capsys):
    assert main(["progress", "--work", str(work), "no-such-exercise"]) == 1
    out = capsys.readouterr().out
    assert "no-such-exercise: no such notebook (looked in" in out


def test_a_deleted_exercise_is_reported_missing_with_what_to_do(work):
    shutil.copy(work / "exercises" / "squares.ipynb", work / "exercises" / "kept.ipynb")
    (work / "exercises" / "squares.ipynb").unlink()
    report = progress(work)
    [missing] = [ex for ex in report.exercises if ex.error]
    assert missing.path == "exercises/squares.ipynb"
    assert "run `make student` to get a fresh copy" in missing.error


def test_a_notebook_that_is_not_an_exercise_is_refused_by_name(work, capsys):
    assert main(["progress", "--work", str(work), str(work / "notebooks" / "worked.ipynb")]) == 1
    assert "not an exercise: it has no graded cells" in capsys.readouterr().out


def test_no_working_folder_says_to_run_make_student(tmp_path, capsys):
    with pytest.raises(ProgressError, match="run `make student`"):
        progress(tmp_path / "work")
    assert main(["progress", "--work", str(tmp_path / "work")]) == 2
    assert "there is no working folder" in capsys.readouterr().err


def test_the_command_prints_the_table_and_total(work, capsys):
    set_solution(
        work / "exercises" / "squares.ipynb", "square-solution", "def square(x): return x*x"
    )
    assert main(["progress", "--work", str(work), "squares"]) == 0
    out = capsys.readouterr().out
    rows = [" ".join(line.split()) for line in out.splitlines()]
    assert "question check points result" in rows
    assert "square square-examples 2 / 2 passed" in rows
    assert "cube cube-hidden - / 1 checked when graded: all its tests are hidden" in rows
    assert "explain explain - / 1 marked by hand: a written answer" in rows
    assert "Total: 3 of 4 points from the checks in your copies." in out


def test_the_handbooks_own_exercise_passes_with_its_model_answers(tmp_path):
    """The decision-tree exercise: stubs are 'not attempted'; the source's answers pass."""
    work = tmp_path / "work"
    start(ROOT, work)
    fresh = progress(work, ["decision-trees"]).exercises[0]
    assert fresh.rows and {r.status for r in fresh.rows} <= {NOT_ATTEMPTED, HIDDEN, BY_HAND}
    source = nbformat.read(ROOT / "exercises" / "decision-trees.ipynb", as_version=4)
    nbformat.write(source, work / "exercises" / "decision-trees.ipynb")
    solved = progress(work, ["decision-trees"]).exercises[0]
    assert {r.status for r in solved.rows} <= {PASSED, HIDDEN, BY_HAND}, solved.rows
    assert solved.earned == solved.checked_points > 0
