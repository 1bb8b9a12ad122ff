"""``release``: student folders and zips for a learning platform, and an nbgrader course layout."""

from __future__ import annotations

import zipfile

import nbformat
import pytest
from conftest import FIXTURES, exercise_paths

from mle_handbook.cli import main
from mle_handbook.exercises.markers import ALL_MARKERS, cell_kind
from mle_handbook.exercises.verify import leaked_text
from mle_handbook.grading.release import nbgrader_config, release


@pytest.fixture
def exercises(tmp_path, helpers_exercise):
    """An exercises folder with the squares fixture and the helpers fixture (which has a data file)."""
    folder = tmp_path / "exercises"
    (folder / "data").mkdir(parents=True)
    (folder / "squares.ipynb").write_bytes((FIXTURES / "squares_solution.ipynb").read_bytes())
    (folder / "helpers.ipynb").write_bytes(helpers_exercise.read_bytes())
    (folder / "data" / "values.csv").write_bytes(
        (helpers_exercise.parent / "data" / "values.csv").read_bytes()
    )
    # A notebook without nbgrader cells is not an exercise.
    (folder / "notes.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    return folder


def test_release_writes_student_notebooks_data_and_a_zip_per_exercise(tmp_path, exercises):
    out = tmp_path / "out"
    released = release(out_dir=out, exercises_dir=exercises)
    assert [r.exercise for r in released] == ["helpers", "squares"]
    assert (out / "helpers" / "helpers.ipynb").is_file()
    assert (out / "helpers" / "data" / "values.csv").read_text().startswith("1.5")
    with zipfile.ZipFile(out / "helpers.zip") as archive:
        assert sorted(archive.namelist()) == ["helpers/data/values.csv", "helpers/helpers.ipynb"]


@pytest.mark.parametrize("name", ["squares", "helpers"])
def test_released_notebooks_hold_no_solution_hidden_test_or_output(tmp_path, exercises, name):
    release([name], tmp_path / "out", exercises_dir=exercises)
    source = nbformat.read(exercises / f"{name}.ipynb", as_version=4)
    student = nbformat.read(tmp_path / "out" / name / f"{name}.ipynb", as_version=4)
    assert leaked_text(source, student) == []
    text = nbformat.writes(student)
    assert not any(marker in text for marker in ALL_MARKERS)
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    # Every graded cell is still there, with its grade_id, for grading.
    ids = lambda nb: [cell_kind(c).grade_id for c in nb.cells if cell_kind(c).grade_id]  # noqa: E731
    assert ids(student) == ids(source)


def test_releasing_twice_writes_the_same_bytes(tmp_path, exercises):
    first, second = tmp_path / "a", tmp_path / "b"
    release(out_dir=first, exercises_dir=exercises, nbgrader_course=tmp_path / "ca")
    release(out_dir=second, exercises_dir=exercises, nbgrader_course=tmp_path / "cb")
    for path in sorted(first.rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path.name
    assert (tmp_path / "ca" / "nbgrader_config.py").read_bytes() == (
        tmp_path / "cb" / "nbgrader_config.py"
    ).read_bytes()


def test_nbgrader_course_layout_holds_the_source_with_its_data_and_a_config(tmp_path, exercises):
    course = tmp_path / "course"
    release(["helpers"], tmp_path / "out", exercises_dir=exercises, nbgrader_course=course)
    source = course / "source" / "helpers" / "helpers.ipynb"
    assert (
        nbformat.read(source, as_version=4).cells
        == nbformat.read(exercises / "helpers.ipynb", as_version=4).cells
    )
    assert (course / "source" / "helpers" / "data" / "values.csv").is_file()
    config = (course / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.course_id = 'mle-handbook'" in config
    assert "raise NotImplementedError()" in config
    compile(config, "nbgrader_config.py", "exec")


def test_nbgrader_config_takes_the_largest_timeout():
    assert "c.Execute.timeout = 300" in nbgrader_config(["a"], [60, 300])


def test_unknown_exercise_is_an_error(tmp_path, exercises):
    with pytest.raises(FileNotFoundError, match="no exercise 'nope'"):
        release(["nope"], tmp_path / "out", exercises_dir=exercises)


def test_release_command_releases_the_handbooks_exercises(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(exercise_paths()[0].parent.parent)
    assert (
        main(["release", "--out", str(tmp_path / "out"), "--nbgrader", str(tmp_path / "course")])
        == 0
    )
    names = sorted(p.stem for p in exercise_paths())
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == names
    assert sorted(p.name for p in (tmp_path / "course" / "source").iterdir()) == names
    assert "nbgrader course" in capsys.readouterr().out
