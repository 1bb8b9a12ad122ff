"""`mle-handbook start`: student copies in work/, added to on every run, never overwriting the learner."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from conftest import ROOT

from mle_handbook.cli import main
from mle_handbook.exercises.markers import BEGIN_HIDDEN, BEGIN_SOLUTION, is_exercise
from mle_handbook.learners.start import LAB_CONFIG, MANIFEST, StartError, handbook_files, start

from .conftest import set_solution, squares_exercise

EXPECTED = {
    "exercises/squares.ipynb",
    "exercises/data/numbers.txt",
    "notebooks/worked.ipynb",
    "notebooks/data/info.txt",
}


def _files(work):
    return {
        p.relative_to(work).as_posix()
        for p in work.rglob("*")
        if p.is_file() and p.name != MANIFEST and LAB_CONFIG not in p.relative_to(work).parts
    }


def _actions(report, action):
    return {a.path for a in report.of(action)}


def test_start_writes_student_exercises_and_cleared_worked_notebooks_with_their_data(handbook):
    report = start(handbook)
    work = handbook / "work"
    assert _files(work) == EXPECTED
    assert _actions(report, "added") == EXPECTED
    student = nbformat.read(work / "exercises" / "squares.ipynb", as_version=4)
    text = nbformat.writes(student)
    assert "raise NotImplementedError()" in text and "return x * x" not in text
    assert BEGIN_SOLUTION not in text and BEGIN_HIDDEN not in text and "square(-2)" not in text
    assert is_exercise(student), "the learner's copy keeps its nbgrader metadata"
    worked = nbformat.read(work / "notebooks" / "worked.ipynb", as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in worked.cells[1:])
    assert (work / "exercises" / "data" / "numbers.txt").read_text() == "1 2 3\n"
    assert (work / "notebooks" / "data" / "info.txt").read_text() == "hello\n"


def test_start_writes_jupyter_settings_that_switch_off_nbgrader_for_the_learner(work):
    settings = work / LAB_CONFIG
    server = json.loads((settings / "jupyter_server_config.json").read_text())
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert extensions and not any(extensions.values())
    assert all(name.startswith("nbgrader.") for name in extensions)
    page = json.loads((settings / "labconfig" / "page_config.json").read_text())
    assert page == {"disabledExtensions": {"@jupyter/nbgrader": True}}


def test_running_again_writes_nothing_and_reports_everything_up_to_date(work, handbook):
    before = {p: p.stat().st_mtime_ns for p in work.rglob("*") if p.is_file()}
    report = start(handbook)
    assert _actions(report, "up-to-date") == EXPECTED
    assert not report.of("added") and not report.of("updated") and not report.of("skipped")
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_a_file_the_learner_changed_is_never_overwritten_and_is_reported_skipped(work, handbook):
    mine = work / "exercises" / "squares.ipynb"
    set_solution(mine, "square-solution", "def square(x):\n    return x * x")
    edited = mine.read_bytes()
    report = start(handbook)
    assert mine.read_bytes() == edited
    [skipped] = report.of("skipped")
    assert skipped.path == "exercises/squares.ipynb"
    assert "you have changed it" in skipped.reason
    assert "skipped  exercises/squares.ipynb: you have changed it" in report.render()


def test_a_changed_file_stays_the_learners_even_when_the_handbook_changes_it(work, handbook):
    mine = work / "exercises" / "squares.ipynb"
    set_solution(mine, "square-solution", "def square(x):\n    return x * x")
    edited = mine.read_bytes()
    source = squares_exercise()
    source.cells[0].source += "\n\nA new paragraph in the handbook."
    nbformat.write(source, handbook / "exercises" / "squares.ipynb")
    report = start(handbook)
    assert mine.read_bytes() == edited
    [skipped] = report.of("skipped")
    assert "the handbook's version has changed since" in skipped.reason
    assert "rename your copy and run this again" in report.render()
    mine.rename(mine.with_name("squares-mine.ipynb"))
    again = start(handbook)
    assert _actions(again, "added") == {"exercises/squares.ipynb"}
    assert "A new paragraph" in (work / "exercises" / "squares.ipynb").read_text()
    assert (work / "exercises" / "squares-mine.ipynb").read_bytes() == edited


def test_an_untouched_file_is_updated_when_the_handbook_changes_it(work, handbook):
    (handbook / "notebooks" / "data" / "info.txt").write_text("hello again\n")
    report = start(handbook)
    assert _actions(report, "updated") == {"notebooks/data/info.txt"}
    assert (work / "notebooks" / "data" / "info.txt").read_text() == "hello again\n"


def test_a_new_exercise_is_added_on_the_next_run(work, handbook):
    nbformat.write(squares_exercise(), handbook / "exercises" / "cubes.ipynb")
    report = start(handbook)
    assert _actions(report, "added") == {"exercises/cubes.ipynb"}
    assert (work / "exercises" / "cubes.ipynb").exists()


def test_a_deleted_copy_is_written_afresh(work, handbook):
    (work / "exercises" / "squares.ipynb").unlink()
    report = start(handbook)
    [added] = report.of("added")
    assert added.path == "exercises/squares.ipynb" and "restored" in added.reason


def test_a_differing_file_not_written_by_start_counts_as_the_learners(handbook):
    work = handbook / "work"
    (work / "exercises").mkdir(parents=True)
    (work / "exercises" / "squares.ipynb").write_text("my own notes")
    report = start(handbook)
    assert (work / "exercises" / "squares.ipynb").read_text() == "my own notes"
    assert _actions(report, "skipped") == {"exercises/squares.ipynb"}


def test_an_unreadable_manifest_is_reported_and_nothing_that_differs_is_overwritten(work, handbook):
    (work / MANIFEST).write_text("{not json")
    (handbook / "notebooks" / "data" / "info.txt").write_text("changed upstream\n")
    report = start(handbook)
    assert "could not be read" in report.manifest_note
    assert (work / "notebooks" / "data" / "info.txt").read_text() == "hello\n"
    assert _actions(report, "skipped") == {"notebooks/data/info.txt"}
    assert json.loads((work / MANIFEST).read_text())["version"] == 1


def test_a_folder_without_exercises_or_notebooks_is_refused_saying_what_to_do(tmp_path):
    with pytest.raises(StartError, match="run this from the handbook's folder"):
        start(tmp_path)


def test_a_data_file_outside_the_notebooks_folder_is_refused(handbook):
    nb = squares_exercise()
    nb.metadata["mle_handbook"]["data"] = ["../secret.txt"]
    (handbook / "secret.txt").write_text("not for work/")
    nbformat.write(nb, handbook / "exercises" / "squares.ipynb")
    with pytest.raises(StartError, match="outside its folder"):
        start(handbook)
    assert not (handbook / "work").exists()


def test_the_command_prints_what_it_added_and_skipped(handbook, capsys):
    assert main(["start", "--root", str(handbook)]) == 0
    first = capsys.readouterr().out
    assert "added    exercises/squares.ipynb" in first and "4 added, 0 updated" in first
    set_solution(handbook / "work" / "exercises" / "squares.ipynb", "cube-solution", "# mine")
    assert main(["start", "--root", str(handbook)]) == 0
    second = capsys.readouterr().out
    assert "skipped  exercises/squares.ipynb: you have changed it" in second
    assert "0 added, 0 updated, 1 skipped (changed by you), 3 already up to date." in second


def test_the_command_explains_a_wrong_folder(tmp_path, capsys):
    assert main(["start", "--root", str(tmp_path)]) == 2
    assert "has no exercises/ or notebooks/ folder" in capsys.readouterr().err


def test_start_covers_every_exercise_and_worked_notebook_of_the_handbook():
    files = handbook_files(ROOT)
    for folder in ("exercises", "notebooks"):
        for notebook in sorted((ROOT / folder).glob("*.ipynb")):
            assert f"{folder}/{notebook.name}" in files
    for key, data in files.items():
        if key.startswith("exercises/") and key.endswith(".ipynb"):
            assert b"### BEGIN SOLUTION" not in data and b"### BEGIN HIDDEN TESTS" not in data


def test_make_student_runs_start_and_make_lab_uses_the_environments_python_kernel():
    makefile = (ROOT / "Makefile").read_text()
    assert "student: $(STAMP)\n\t$(BIN)/mle-handbook start\n" in makefile
    # The rest of `make lab` is tested by running it (test_lab.py).
    assert re.search(
        r"^lab: student\n\tJUPYTER_PREFER_ENV_PATH=1 .*--notebook-dir=work$", makefile, re.M
    )
    assert "work/" in (ROOT / ".gitignore").read_text().splitlines()
