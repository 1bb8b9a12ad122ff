"""``grade``: marks, grade sheets, feedback, manual marks, idempotence, zips, the command line."""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import FIXTURES, ROOT

from mle_handbook.cli import main
from mle_handbook.files import write_bytes_atomic, write_text_atomic
from mle_handbook.grading.report import read_manual_marks
from mle_handbook.grading.run import SourceCheckFailed, _Progress, grade
from mle_handbook.grading.sandbox import Scratch

from .conftest import submission

SQUARES = FIXTURES / "squares_solution.ipynb"


def _class(folder: Path) -> Path:
    """Four students of the squares exercise, named as Moodle names them."""
    source = nbformat.read(SQUARES, as_version=4)
    folder.mkdir(parents=True, exist_ok=True)
    students = {
        "Ada Lovelace_101": submission(
            source, correct=True, answers={"explain": "A number times itself."}
        ),
        "Alan Turing_102": submission(
            source, {"square-solution": "def square(x):\n    return x * x\n"}
        ),
        "Grace Hopper_103": submission(source),
        "Edsger Dijkstra_104": submission(
            source, {"cube-solution": "def cube(x):\n    return x + x + x\n"}
        ),
    }
    for name, nb in students.items():
        nbformat.write(nb, folder / f"{name}_assignsubmission_file_squares.ipynb")
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    folder = _class(root / "submissions")
    run = grade(SQUARES, folder, root / "out", jobs=2, timeout=30, progress=False)
    return run, root


@pytest.mark.slow
def test_grade_sheet_has_a_row_per_student_a_column_per_question_and_a_status(graded):
    run, root = graded
    rows = _rows(root / "out" / "grades.csv")
    assert list(rows[0])[:6] == ["student_id", "status", "square", "cube", "explain", "total"]
    by_id = {r["student_id"]: r for r in rows}
    assert list(by_id) == ["101", "102", "103", "104"]
    assert (by_id["101"]["square"], by_id["101"]["cube"], by_id["101"]["total"]) == ("2", "1", "3")
    assert by_id["101"]["to_mark"] == "explain"
    assert (by_id["102"]["square"], by_id["102"]["cube"]) == ("2", "0")
    assert by_id["103"]["total"] == "0" and by_id["103"]["to_mark"] == ""
    assert by_id["104"]["cube"] == "0"
    assert {r["status"] for r in rows} == {"graded"}
    assert {r["out_of"] for r in rows} == {"4"}


@pytest.mark.slow
def test_long_sheet_has_a_row_per_student_and_graded_cell(graded):
    _, root = graded
    rows = _rows(root / "out" / "grades-long.csv")
    assert len(rows) == 4 * 3
    ada = [r for r in rows if r["student_id"] == "101"]
    assert [(r["grade_id"], r["kind"], r["result"]) for r in ada] == [
        ("square-examples", "auto", "passed"),
        ("cube-examples", "auto", "passed"),
        ("explain", "manual", "needs-marking"),
    ]
    grace = {r["grade_id"]: r for r in rows if r["student_id"] == "103"}
    assert grace["square-examples"]["message"].startswith("NotImplementedError")


@pytest.mark.slow
def test_feedback_shows_results_and_visible_failure_messages(graded):
    _, root = graded
    page = (root / "out" / "feedback" / "104.html").read_text()
    assert "cube(2) returned 6" in page  # the visible check's own message
    assert '<td class="failed">failed</td>' in page  # each check's result, in words
    assert "square(-2)" not in page  # the hidden test of square never shows


@pytest.mark.slow
def test_regrading_writes_byte_identical_results_with_any_number_of_jobs(graded, tmp_path):
    run, root = graded
    again = grade(
        SQUARES, root / "submissions", tmp_path / "again", jobs=1, timeout=30, progress=False
    )
    for name in ("grades.csv", "grades-long.csv", "manual-marks.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (root / "out" / name).read_bytes(), name
    for page in (root / "out" / "feedback").iterdir():
        assert (tmp_path / "again" / "feedback" / page.name).read_bytes() == page.read_bytes()
    assert again.marks == run.marks


@pytest.mark.slow
def test_a_zip_from_the_platform_grades_like_the_folder(graded, tmp_path):
    run, root = graded
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted((root / "submissions").iterdir()):
            z.write(path, f"Squares-12345/{path.name}")
    zipped = grade(
        SQUARES, archive, tmp_path / "out", jobs=2, timeout=30, progress=False, check_source=False
    )
    assert zipped.marks == run.marks


@pytest.mark.slow
def test_manual_marks_are_applied_and_kept_on_regrading(graded, tmp_path):
    _, root = graded
    out = tmp_path / "out"
    out.mkdir()
    template = (root / "out" / "manual-marks.csv").read_text().splitlines()
    assert template[0] == "student_id,grade_id,out_of,mark,comment,answer"
    assert template[1].startswith("101,explain,1,,,")
    (out / "manual-marks.csv").write_text(
        template[0] + "\n101,explain,1,0.5,Say why it is positive.,\n"
    )
    run = grade(
        SQUARES, root / "submissions", out, jobs=2, timeout=30, progress=False, check_source=False
    )
    ada = next(r for r in run.results if r.student_id == "101")
    assert ada.manual["explain"].mark == 0.5 and not ada.to_mark
    row = next(r for r in _rows(out / "grades.csv") if r["student_id"] == "101")
    assert (row["explain"], row["total"]) == ("0.5", "3.5")
    assert read_manual_marks(out / "manual-marks.csv")[("101", "explain")] == (
        0.5,
        "Say why it is positive.",
    )
    assert "Say why it is positive." in (out / "feedback" / "101.html").read_text()


@pytest.mark.slow
def test_grading_stops_before_marking_anyone_when_the_model_answers_fail(tmp_path):
    source = nbformat.read(SQUARES, as_version=4)
    source.cells[2].source = source.cells[2].source.replace(
        "return x * x", "return open('secret.txt').read()"
    )
    broken = tmp_path / "broken.ipynb"
    nbformat.write(source, broken)
    (tmp_path / "subs").mkdir()
    with pytest.raises(SourceCheckFailed, match="square-examples"):
        grade(broken, tmp_path / "subs", tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_grade_command_prints_a_summary(graded, tmp_path, capsys):
    _, root = graded
    code = main(
        [
            "grade",
            str(SQUARES),
            str(root / "submissions"),
            "--out",
            str(tmp_path / "out"),
            "--jobs",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "4 submission(s): 4 graded" in out
    assert "mean mark per question" in out and "square" in out
    assert (tmp_path / "out" / "grades.csv").is_file()


def test_scratch_folder_holds_only_the_data_files_outside_the_course(helpers_exercise):
    data = {"data/values.csv": helpers_exercise.parent / "data" / "values.csv"}
    scratch = Scratch(data)
    files = sorted(
        p.relative_to(scratch.root).as_posix() for p in scratch.root.rglob("*") if p.is_file()
    )
    assert files == ["work/data/values.csv"]
    assert scratch.root.parent == Path(tempfile.gettempdir())
    assert helpers_exercise.parent not in scratch.root.parents
    env = scratch.environment()
    assert env["HOME"] == str(scratch.home) and "PWD" not in env and "OLDPWD" not in env
    scratch.remove()
    assert not scratch.root.exists()


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "grades.csv"
    write_text_atomic(target, "old\n")
    with pytest.raises(TypeError):
        write_bytes_atomic(target, None)  # fails while writing
    assert target.read_text() == "old\n"

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", interrupted)  # interrupted just before the rename
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_progress_bar_is_drawn_on_a_terminal_only(capsys):
    bar = _Progress(2, enabled=True)
    bar.step("101")
    bar.step("102")
    bar.close()
    err = capsys.readouterr().err
    assert "2/2" in err and err.endswith("\n")
    quiet = _Progress(2, enabled=None)  # pytest's stderr is not a terminal
    quiet.step("x")
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_answers_using_off_limits_calls_are_flagged_with_the_question_named(tmp_path):
    exercise = ROOT / "exercises" / "decision-trees.ipynb"
    source = nbformat.read(exercise, as_version=4)
    wrapper = (
        "def fit_tree(X, y, max_depth, min_samples_split=2):\n"
        "    return DecisionTreeClassifier(max_depth=max_depth,\n"
        "                                  min_samples_split=min_samples_split).fit(X, y)\n\n\n"
        "def predict(tree, X):\n"
        "    return tree.predict(X)\n"
    )
    helper = 'def gini(labels):\n    return sklearn_impurity(labels, "gini")\n'
    folder = tmp_path / "subs"
    folder.mkdir()
    for name, answers in {
        "helper": {"gini-solution": helper},
        "wrapper": {"tree-solution": wrapper},
        "honest": {},
    }.items():
        nbformat.write(submission(source, answers, correct=True), folder / f"{name}.ipynb")
    run = grade(exercise, folder, tmp_path / "out", jobs=2, progress=False, check_source=False)
    rows = {r["student_id"]: r for r in _rows(tmp_path / "out" / "grades.csv")}
    assert rows["helper"]["flags"] == "off limits in gini: sklearn_impurity"
    assert rows["wrapper"]["flags"] == "off limits in tree: sklearn.tree.DecisionTreeClassifier"
    assert rows["honest"]["flags"] == ""
    assert {r.status for r in run.results} == {"graded"}  # flagged for a person, not refused


@pytest.mark.slow
def test_feedback_page_fits_a_phone_and_says_marks_so_far_only_while_marking(graded):
    _, root = graded
    waiting = (root / "out" / "feedback" / "101.html").read_text()  # a written answer to mark
    done = (root / "out" / "feedback" / "103.html").read_text()  # nothing left to mark
    for page in (waiting, done):
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "Marks so far:" in waiting
    assert "Marks:" in done and "so far" not in done


def test_the_grade_sheets_are_written_when_one_row_cannot_be_rendered(tmp_path):
    from mle_handbook.grading.report import write_reports
    from mle_handbook.grading.results import Question, SubmissionResult

    class Broken(SubmissionResult):
        def question_mark(self, question):
            raise RuntimeError("cannot render")

    questions = [Question("square", (("square-examples", 2.0),), ())]
    good = SubmissionResult("101", "a.ipynb", "graded")
    bad = Broken("\udce9-102", "b.ipynb", "graded")  # and an id that is not valid UTF-8
    files, problems = write_reports(tmp_path, [good, bad], questions, "squares")
    rows = _rows(files["grades"])
    assert [(r["student_id"], r["status"]) for r in rows] == [
        ("101", "graded"),
        ("\\xe9-102", "error"),
    ]
    assert "could not be written" in rows[1]["file"]
    assert problems and "\\xe9-102" in problems[0]  # its feedback page could not be made either
