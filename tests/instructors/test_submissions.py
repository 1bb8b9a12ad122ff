"""Finding submissions and their student ids; reading them leniently; assembling what runs."""

from __future__ import annotations

import json
import zipfile

import nbformat
import pytest

from mle_handbook.exercises.markers import cell_kind
from mle_handbook.grading.assemble import (
    InvalidNotebook,
    WrongExercise,
    assemble,
    bound_names,
    imported_modules,
    read_submission,
)
from mle_handbook.grading.reach import flags
from mle_handbook.grading.submissions import discover, student_id_from

from .conftest import helpers_notebook, submission

# -- student ids from LMS file names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Jane Smith_12345_assignsubmission_file_decision-trees.ipynb", ("12345", "moodle")),
        ("Jane Smith_12345_assignsubmission_file_/decision-trees.ipynb", ("12345", "moodle")),
        ("O'Neil-Brown_Ann Marie_778_assignsubmission_file_trees (1).ipynb", ("778", "moodle")),
        ("smithjane_12345_67890_decision-trees.ipynb", ("12345", "canvas")),
        ("smithjane_LATE_12345_67890_decision-trees-1.ipynb", ("12345", "canvas")),
        (
            "Exercise 1_js123_attempt_2024-03-01-10-15-30_decision-trees.ipynb",
            ("js123", "blackboard"),
        ),
        ("js123/decision-trees/decision-trees.ipynb", ("js123", "nbgrader")),
        ("submitted/js123/decision-trees/decision-trees.ipynb", ("js123", "nbgrader")),
        ("js123/my work.ipynb", ("js123", "folder")),
        ("js123.ipynb", ("js123", "file")),
    ],
)
def test_student_id_follows_each_platforms_naming(path, expected):
    assert student_id_from(path) == expected


def test_a_custom_pattern_replaces_the_conventions():
    pattern = r"(?P<id>[a-z]{2}\d{3})-"
    assert student_id_from("week3/ab123-trees.ipynb", pattern) == ("ab123", "pattern")
    assert student_id_from("no-id-here.ipynb", pattern) is None


def test_a_pattern_without_an_id_group_is_refused():
    with pytest.raises(ValueError, match="named group"):
        student_id_from("x.ipynb", r"(\d+)")


def test_discover_groups_files_by_student_and_skips_receipts_and_clutter(tmp_path):
    folder = tmp_path / "downloads"
    (folder / "__MACOSX").mkdir(parents=True)
    (folder / "__MACOSX" / "._junk.ipynb").write_text("{}")
    (folder / ".DS_Store").write_text("")
    base = "Exercise 1_js123_attempt_2024-03-01-10-15-30"
    (folder / f"{base}.txt").write_text("receipt")
    (folder / f"{base}_trees.ipynb").write_text("{}")
    (folder / "Exercise 1_ab9_attempt_2024-03-02-09-00-00_trees.ipynb").write_text("{}")
    (folder / "Exercise 1_ab9_attempt_2024-03-02-09-00-00_notes.pdf").write_text("pdf")
    found = discover(folder)
    assert [s.student_id for s in found.submissions] == ["ab9", "js123"]
    ab9 = found.submissions[0]
    assert [f.name for f in ab9.candidates("trees")][0].endswith("_trees.ipynb")
    assert len(ab9.files) == 2
    assert any("receipt" in reason for _, reason in found.skipped)


def test_discover_reads_a_zip_with_one_wrapper_folder_like_the_folder(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("Week 3 - Trees/Jane Smith_12345_assignsubmission_file_/trees.ipynb", "{}")
        z.writestr("Week 3 - Trees/Ali Khan_678_assignsubmission_file_/trees.ipynb", "{}")
    found = discover(archive)
    assert [(s.student_id, s.convention) for s in found.submissions] == [
        ("12345", "moodle"),
        ("678", "moodle"),
    ]
    assert found.submissions[0].files[0].read_bytes() == b"{}"


def test_discover_refuses_what_is_neither_folder_nor_zip(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ValueError, match="neither a folder nor a zip"):
        discover(tmp_path / "x.txt")


# -- reading a submission -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2, 3]", "not a Jupyter notebook"),
        (b'{"cells": "nope"}', "not a Jupyter notebook"),
    ],
)
def test_read_submission_says_why_a_file_is_not_a_notebook(data, reason):
    with pytest.raises(InvalidNotebook, match=reason):
        read_submission(data)


def test_read_submission_refuses_files_above_the_size_limit():
    with pytest.raises(InvalidNotebook, match="larger than"):
        read_submission(b"{" + b" " * 2_000_000 + b"}", max_bytes=1024 * 1024)


def test_read_submission_keeps_cells_and_drops_broken_outputs():
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": ["x = 1\n", "y = 2"],
                "metadata": "oops",
                "outputs": [{"output_type": "broken"}],
            },
            {"cell_type": "mystery", "source": "?"},
            {"cell_type": "markdown", "source": "hi", "metadata": {"nbgrader": {"grade_id": "a"}}},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 2,
    }
    read = read_submission(json.dumps(nb).encode())
    assert [c.cell_type for c in read.cells] == ["code", "markdown"]
    assert read.cells[0].source == "x = 1\ny = 2" and read.cells[0].outputs == []
    assert read.cells[1].metadata.nbgrader == {"grade_id": "a"}


# -- assembling ---------------------------------------------------------------------------------


@pytest.fixture
def source():
    return helpers_notebook()


def _kinds(assembly):
    return [(c.kind, c.grade_id) for c in assembly.cells]


def test_assembly_runs_the_sources_tests_with_the_students_answers(source):
    sub = submission(source, {"mean-solution": "def mean(values):\n    return 1.0\n"})
    assembly = assemble(source, sub)
    assert _kinds(assembly) == [
        ("exercise", "setup"),
        ("answer", "mean-solution"),
        ("test", "mean-examples"),
        ("answer", "scale-solution"),
        ("test", "scale-examples"),
    ]
    test = assembly.cells[2]
    assert "BEGIN HIDDEN TESTS" in test.source  # hidden tests run
    assert test.hidden_lines and max(test.hidden_lines) == len(test.source.splitlines())
    assert assembly.cells[1].source == "def mean(values):\n    return 1.0\n"
    assert not assembly.missing and not assembly.edited


def test_edited_and_deleted_test_cells_are_replaced_by_the_sources(source):
    sub = submission(source, correct=True, drop=("scale-examples",))
    for cell in sub.cells:
        if cell_kind(cell).grade_id == "mean-examples":
            cell.source = "assert True"
    assembly = assemble(source, sub)
    tests = [c for c in assembly.cells if c.kind == "test"]
    assert [c.source for c in tests] == [
        c.source for c in source.cells if cell_kind(c).autograded_test
    ]
    assert assembly.edited == ["mean-examples", "scale-examples (deleted)"]


def test_missing_answers_are_reported_and_added_cells_run_after_their_neighbour(source):
    sub = submission(
        source,
        correct=True,
        drop=("mean-solution",),
        extra={"setup": "def mean(v):\n    return 2.5\n"},
    )
    assembly = assemble(source, sub)
    assert assembly.missing == ["mean-solution"]
    assert _kinds(assembly)[:3] == [
        ("exercise", "setup"),
        ("extra", None),
        ("test", "mean-examples"),
    ]
    assert assembly.extra_cells == 1


def test_a_duplicated_answer_cell_keeps_the_first_as_the_answer(source):
    sub = submission(source, correct=True)
    index = next(i for i, c in enumerate(sub.cells) if cell_kind(c).grade_id == "mean-solution")
    copy_cell = nbformat.from_dict(json.loads(json.dumps(sub.cells[index])))
    copy_cell.source = "def mean(values):\n    return -1.0\n"
    copy_cell["id"] = "duplicate"
    sub.cells.insert(index + 1, copy_cell)
    assembly = assemble(source, sub)
    kinds = _kinds(assembly)
    assert kinds[1:3] == [("answer", "mean-solution"), ("extra", None)]


def test_manual_answers_are_collected_and_unanswered_stubs_score_zero(source):
    answered = assemble(source, submission(source, {"explain": "Add them up and divide."}))
    assert answered.manual[0].answered and answered.manual[0].text == "Add them up and divide."
    blank = assemble(source, submission(source))
    assert not blank.manual[0].answered


def test_another_exercise_is_detected(source):
    squares = nbformat.read(
        __import__("conftest").FIXTURES / "squares_solution.ipynb", as_version=4
    )
    with pytest.raises(WrongExercise, match="belong"):
        assemble(source, squares)
    with pytest.raises(WrongExercise):
        assemble(source, nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]))


def test_answers_are_matched_by_cell_id_when_nbgrader_metadata_was_lost(source):
    sub = submission(source, correct=True)
    for cell in sub.cells:
        cell.metadata.pop("nbgrader", None)
    assembly = assemble(source, sub)
    assert ("answer", "mean-solution") in _kinds(assembly)
    assert any("cell id" in note for note in assembly.notes)


def test_static_analysis_finds_bound_names_and_imports():
    code = "import numpy as np\nfrom math import isclose\nx, (y, *z) = 1, (2, 3)\nfor i in []:\n    w = 1\ndef f():\n    inner = 2\n%time q = 1\n"
    # IPython syntax (a magic) does not stop the analysis.
    assert bound_names(code) == ["np", "isclose", "x", "y", "z", "i", "w", "f"]
    assert imported_modules(
        "import numpy.testing\nfrom sklearn import tree\ndef g():\n    import math\n"
    ) == [
        "numpy.testing",
        "sklearn",
        "math",
    ]


@pytest.mark.parametrize(
    ("code", "flag"),
    [
        ("import sys\nsys.settrace(None)", "tracing"),
        ("get_ipython().set_custom_exc((Exception,), None)", "IPython internals"),
        ("math.isclose = lambda *a: True", "monkeypatching"),
        ("f.__code__ = g.__code__", "code objects"),
        ("import os\nos._exit(0)", "exiting"),
    ],
)
def test_scan_flags_code_that_reaches_into_the_interpreter(code, flag):
    assert flag in flags(code)


def test_scan_does_not_flag_an_ordinary_answer():
    assert flags("def mean(values):\n    return sum(values) / len(values)\n") == []
