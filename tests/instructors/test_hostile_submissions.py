"""Hostile and malformed submissions: each gets a row with a clear status and only the marks it earned.

One grading run (two kernels at a time) grades every submission below; each test then reads one
student's row. The fixture exercise (``helpers``) has two autograded questions, ``mean`` (2 points,
with a hidden test) and ``scale`` (1 point), and a written answer. Honest answers earn 3 automatic
points, so a hostile submission that earns more than its honest part is a failure of the grader.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
import pytest

from mle_handbook.grading.run import grade
from mle_handbook.grading.sandbox import Limits

from .conftest import submission
from .rows import marks, row

pytestmark = pytest.mark.slow

WRONG_MEAN = "def mean(values):\n    return 0.0\n"
RIGHT_SCALE = "def scale(values, factor):\n    return np.asarray(values, dtype=float) * factor\n"
RIGHT_MEAN = "def mean(values):\n    return sum(values) / len(values)\n"

#: Code that finds the source exercise if it can, and answers with its model solution.
READ_SOLUTIONS = r"""
import glob, json, os
from pathlib import Path

def _find_sources():
    found = []
    here = Path.cwd()
    for parent in [here, *here.parents]:  # relative paths from the scratch folder
        found += glob.glob(str(parent / "*.ipynb")) + glob.glob(str(parent / "*" / "*.ipynb"))
    try:  # the grader's command line and working folder
        parent_pid = os.getppid()
        found += [a for a in open(f"/proc/{parent_pid}/cmdline").read().split("\0") if a.endswith(".ipynb")]
        found += glob.glob(os.path.join(os.readlink(f"/proc/{parent_pid}/cwd"), "**", "*.ipynb"), recursive=True)
    except OSError:
        pass
    found += [v for v in os.environ.values() if v.endswith(".ipynb")]
    found += glob.glob("/tmp/**/helpers.ipynb", recursive=True)
    return found

for _path in _find_sources():
    try:
        _nb = json.load(open(_path))
    except (OSError, ValueError):
        continue
    for _cell in _nb.get("cells", []):
        _text = "".join(_cell.get("source", ""))
        if "BEGIN SOLUTION" in _text and "def mean" in _text:
            exec(_text, globals())
"""

PATCH_HELPERS = """\
import builtins, math, numbers
import numpy as np
math.isclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, kind: True if kind is numbers.Real else _isinstance(obj, kind)
reference_mean = lambda values: 0.0
def mean(values):
    return 0.0
"""

PATCH_PLAINLY = """\
import math
import numpy as np
math.isclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
reference_mean = lambda values: 0.0
def mean(values):
    return 0.0
"""

PATCH_DURING_CHECK = """\
def mean(values):
    import math
    import numpy
    math.isclose = lambda *args, **kwargs: True
    numpy.testing.assert_allclose = lambda *args, **kwargs: None
    return 0.0
"""

SWALLOW_WITH_CUSTOM_EXC = """\
get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)
def mean(values):
    return 0.0
"""

CLEAR_ERROR_DURING_CHECK = """\
def mean(values):
    shell = get_ipython()
    shell.set_custom_exc((BaseException,), lambda *args, **kwargs: None)
    def forget(result):
        result.error_in_exec = None
    shell.events.register("post_run_cell", forget)
    return 0.0
"""

EXCEPTHOOK_AND_ASSERTIONERROR = """\
import builtins, sys
sys.excepthook = lambda *args: None
class Harmless(Exception):
    pass
builtins.AssertionError = Harmless
def mean(values):
    return 0.0
"""

REMOVE_ASSERTS = """\
import ast
class NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
get_ipython().ast_transformers.append(NoAsserts())
def mean(values):
    return 0.0
"""

REPLACE_MODULE = """\
import types
import numpy as np
np.testing = types.SimpleNamespace(assert_allclose=lambda *args, **kwargs: None)
math = types.SimpleNamespace(isclose=lambda *args, **kwargs: True)
def mean(values):
    return 0.0
"""

CLEAR_ERROR_WITH_PARTIAL = """\
import functools
def _forget(tag, result):
    result.error_in_exec = None
def mean(values):
    shell = get_ipython()
    shell.set_custom_exc((BaseException,), lambda *args, **kwargs: None)
    shell.events.register("post_run_cell", functools.partial(_forget, "x"))
    return 0.0
"""

CODE_SWAP = """\
reference_mean.__code__ = (lambda values: 0.0).__code__
def mean(values):
    return 0.0
"""

TRACER_DURING_CHECK = """\
import sys
def mean(values):
    sys.settrace(lambda *args: None)
    return sum(values) / len(values)
"""


def _hostile(
    source: nbformat.NotebookNode, out_dir: Path
) -> dict[str, bytes | nbformat.NotebookNode]:
    """student id -> what the student uploads (a notebook, or raw bytes)."""
    write_results = (
        "for _name in ('grades.csv', 'grades-long.csv'):\n"
        "    try:\n"
        f"        open({str(out_dir)!r} + '/' + _name, 'w').write('student_id,total\\nwriter,999\\n')\n"
        "    except OSError as exc:\n"
        "        print('could not write:', exc)\n" + WRONG_MEAN
    )
    return {
        "honest": submission(source, correct=True),
        "hidden-only": submission(
            source,
            {"mean-solution": "def mean(values):\n    return abs(sum(values)) / len(values)\n"},
            correct=True,
        ),
        "garbage": b"\x00\x01\x02 not a notebook \xff",
        "json-list": b"[1, 2, 3]",
        "empty": b"",
        "other-exercise": nbformat.read(
            Path(__file__).parents[1] / "fixtures" / "squares_solution.ipynb", as_version=4
        ),
        "missing-cells": submission(source, correct=True, drop=("scale-solution",)),
        "extra-cells": submission(
            source,
            {"mean-solution": "def mean(values):\n    return my_total(values) / len(values)\n"},
            correct=True,
            extra={"setup": "def my_total(values):\n    return float(sum(values))\n"},
        ),
        "edited-tests": _with_tests_replaced(
            submission(source, {"mean-solution": WRONG_MEAN}, correct=True)
        ),
        "loop": submission(
            source,
            {"mean-solution": "def mean(values):\n    while True:\n        pass\n"},
            correct=True,
        ),
        "stubborn-loop": submission(
            source,
            {
                "mean-solution": RIGHT_MEAN
                + "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except BaseException:\n        pass\n"
            },
            correct=True,
        ),
        "os-exit": submission(
            source, {"mean-solution": "import os\nos._exit(1)\n" + RIGHT_MEAN}, correct=True
        ),
        "sys-exit": submission(
            source, {"mean-solution": "import sys\nsys.exit(0)\n" + RIGHT_MEAN}, correct=True
        ),
        "exit-in-check": submission(
            source,
            {"mean-solution": "def mean(values):\n    import os\n    os._exit(3)\n"},
            correct=True,
        ),
        "huge-output": submission(
            source, {"mean-solution": "print('x' * 3_000_000)\n" + RIGHT_MEAN}, correct=True
        ),
        "flood": submission(
            source,
            {"mean-solution": RIGHT_MEAN + "while True:\n    print('y' * 10_000)\n"},
            correct=True,
        ),
        "huge-memory": submission(
            source,
            {
                "mean-solution": "def mean(values):\n    hoard = bytearray(64 * 1024**3)\n    return 0.0\n"
            },
            correct=True,
        ),
        "custom-exc": submission(source, {"mean-solution": SWALLOW_WITH_CUSTOM_EXC}, correct=True),
        "clear-error": submission(
            source, {"mean-solution": CLEAR_ERROR_DURING_CHECK}, correct=True
        ),
        "excepthook": submission(
            source, {"mean-solution": EXCEPTHOOK_AND_ASSERTIONERROR}, correct=True
        ),
        "patch-helpers": submission(source, {"mean-solution": PATCH_HELPERS}, correct=True),
        "patch-during-check": submission(
            source, {"mean-solution": PATCH_DURING_CHECK}, correct=True
        ),
        "patch-plainly": submission(source, {"mean-solution": PATCH_PLAINLY}, correct=True),
        "remove-asserts": submission(source, {"mean-solution": REMOVE_ASSERTS}, correct=True),
        "code-swap": submission(source, {"mean-solution": CODE_SWAP}, correct=True),
        "replace-module": submission(source, {"mean-solution": REPLACE_MODULE}, correct=True),
        "clear-error-partial": submission(
            source, {"mean-solution": CLEAR_ERROR_WITH_PARTIAL}, correct=True
        ),
        "tracer": submission(source, {"mean-solution": TRACER_DURING_CHECK}, correct=True),
        "fake-output": submission(
            source,
            {
                "mean-solution": "print('mean-examples: passed 2/2')\ndisplay({'text/plain': 'All checks passed'}, raw=True)\n"
                + WRONG_MEAN
            },
            correct=True,
        ),
        "write-results": submission(source, {"mean-solution": write_results}, correct=True),
        "read-solutions": submission(
            source, {"mean-solution": READ_SOLUTIONS + WRONG_MEAN}, correct=True
        ),
    }


def _with_tests_replaced(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if (
            cell.get("metadata", {}).get("nbgrader", {}).get("grade", False)
            and cell.cell_type == "code"
        ):
            cell.source = "pass  # the student emptied the check"
    return nb


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def hostile_run(helpers_exercise, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    folder, out_dir = root / "submissions", root / "results"
    folder.mkdir()
    source = nbformat.read(helpers_exercise, as_version=4)
    for student, upload in _hostile(source, out_dir).items():
        if isinstance(upload, bytes):
            (folder / f"{student}.ipynb").write_bytes(upload)
        else:
            nbformat.write(upload, folder / f"{student}.ipynb")
    (folder / "pdf-only.pdf").write_bytes(b"%PDF-1.4 a report instead of a notebook")
    before = _digest(folder)
    limits = Limits(timeout=10, memory_mb=2048, max_output_chars=1_000_000, interrupt_grace=2)
    run = grade(helpers_exercise, folder, out_dir, jobs=2, limits=limits, progress=False)
    return run, before, _digest(folder), out_dir


def test_honest_answers_earn_full_automatic_marks(hostile_run):
    run = hostile_run[0]
    assert row(run, "honest").status == "graded"
    assert marks(run, "honest") == {"mean": 2, "scale": 1, "explain": 0}
    assert row(run, "honest").to_mark == ["explain"]


@pytest.mark.parametrize("student", ["garbage", "json-list", "empty", "pdf-only"])
def test_unreadable_or_non_notebook_files_are_invalid_notebooks(hostile_run, student):
    result = row(hostile_run[0], student)
    assert result.status == "invalid-notebook"
    assert result.total(hostile_run[0].questions) == 0
    assert result.notes, "the row must say why"


def test_a_notebook_of_another_exercise_is_the_wrong_exercise(hostile_run):
    result = row(hostile_run[0], "other-exercise")
    assert result.status == "wrong-exercise"
    assert result.total(hostile_run[0].questions) == 0


def test_missing_answer_cell_loses_only_its_question_and_is_reported(hostile_run):
    run = hostile_run[0]
    assert marks(run, "missing-cells") == {"mean": 2, "scale": 0, "explain": 0}
    assert any("scale-solution" in n for n in row(run, "missing-cells").feedback_notes)


def test_code_in_cells_the_student_added_runs_in_place(hostile_run):
    assert marks(hostile_run[0], "extra-cells") == {"mean": 2, "scale": 1, "explain": 0}


def test_edited_test_cells_change_nothing(hostile_run):
    result = row(hostile_run[0], "edited-tests")
    assert marks(hostile_run[0], "edited-tests") == {"mean": 0, "scale": 1, "explain": 0}
    assert any("mean-examples" in n for n in result.notes)


def test_infinite_loop_times_out_and_other_questions_still_count(hostile_run):
    result = row(hostile_run[0], "loop")
    assert result.status == "timeout"
    assert result.checks["mean-examples"].status == "timeout"
    assert marks(hostile_run[0], "loop") == {"mean": 0, "scale": 1, "explain": 0}


def test_loop_that_ignores_interrupts_is_killed_and_the_rest_regraded(hostile_run):
    result = row(hostile_run[0], "stubborn-loop")
    assert result.status == "timeout"
    assert marks(hostile_run[0], "stubborn-loop") == {"mean": 0, "scale": 1, "explain": 0}
    assert any("restarted" in n for n in result.notes)


@pytest.mark.parametrize("student", ["os-exit", "exit-in-check"])
def test_killing_the_kernel_is_a_crash_and_other_questions_still_count(hostile_run, student):
    result = row(hostile_run[0], student)
    assert result.status == "crashed"
    assert marks(hostile_run[0], student) == {"mean": 0, "scale": 1, "explain": 0}


def test_sys_exit_only_fails_its_own_cell(hostile_run):
    result = row(hostile_run[0], "sys-exit")
    assert result.status == "graded"
    assert marks(hostile_run[0], "sys-exit") == {"mean": 0, "scale": 1, "explain": 0}


@pytest.mark.parametrize("student", ["huge-output", "flood"])
def test_huge_output_stops_the_kernel_and_is_reported(hostile_run, student):
    result = row(hostile_run[0], student)
    assert result.status == "output-limit"
    assert marks(hostile_run[0], student)["scale"] == 1
    assert marks(hostile_run[0], student)["mean"] == 0


def test_huge_memory_hits_the_limit(hostile_run):
    result = row(hostile_run[0], "huge-memory")
    assert result.status == "memory-limit"
    assert result.checks["mean-examples"].status == "memory-limit"
    assert marks(hostile_run[0], "huge-memory") == {"mean": 0, "scale": 1, "explain": 0}


@pytest.mark.parametrize(
    "student",
    [
        "custom-exc",  # hides tracebacks with IPython's set_custom_exc
        "clear-error",  # ... and a post_run_cell hook that marks the failed check a success
        "excepthook",  # sys.excepthook and a redefined AssertionError
        "patch-helpers",  # math.isclose, numpy.testing, builtins.isinstance, the exercise's helper
        "remove-asserts",  # an IPython AST transformer that deletes asserts from later cells
        "code-swap",  # replaces the helper's __code__
        "replace-module",  # replaces numpy.testing (a module) and rebinds the name math
        "clear-error-partial",  # the clear-error hook wrapped in functools.partial
        "tracer",  # sys.settrace from inside the check
    ],
)
def test_reaching_into_the_checking_machinery_is_held_for_review_and_caught_at_run_time(
    hostile_run, student
):
    result = row(hostile_run[0], student)
    assert result.status == "review" and result.review, result.notes
    # No automatic marks until a person has read the code ...
    assert marks(hostile_run[0], student) == {"mean": 0, "scale": 0, "explain": 0}
    # ... and the run-time defences caught the attack on its own: the check did not pass.
    assert result.checks["mean-examples"].status in ("tampered", "failed"), result.checks
    assert result.checks["scale-examples"].status == "passed"
    assert result.flags, "the static scan should flag the code for a person to read"


@pytest.mark.parametrize(
    "student",
    [
        "patch-during-check",  # math.isclose and numpy.testing, from inside the checked function
        "patch-plainly",  # the same and the exercise's helper, between checks
    ],
)
def test_tampering_with_the_checks_earns_nothing_and_is_flagged(hostile_run, student):
    result = row(hostile_run[0], student)
    assert marks(hostile_run[0], student)["mean"] == 0, result.checks["mean-examples"]
    assert marks(hostile_run[0], student)["scale"] == 1
    assert result.status == "tampered", result.notes
    assert result.flags, "the static scan should flag the code for a person to read"


def test_printed_or_displayed_fake_results_do_not_pass(hostile_run):
    assert marks(hostile_run[0], "fake-output")["mean"] == 0


def test_reading_the_solutions_from_disk_fails(hostile_run):
    assert hostile_run[0].confined not in ("none", ""), "Landlock is needed for this defence"
    assert marks(hostile_run[0], "read-solutions")["mean"] == 0


def test_writing_where_results_go_does_not_change_them(hostile_run):
    run, _, _, out_dir = hostile_run
    sheet = (out_dir / "grades.csv").read_text()
    assert "writer,999" not in sheet
    assert sum(1 for line in sheet.splitlines()[1:] if line) == len(run.results)
    assert marks(run, "write-results")["mean"] == 0


def test_submissions_are_byte_identical_after_grading(hostile_run):
    _, before, after, _ = hostile_run
    assert before == after


def test_every_file_gets_a_row_and_feedback(hostile_run):
    run, _, _, out_dir = hostile_run
    students = {r.student_id for r in run.results}
    assert len(students) == 32
    feedback = {p.stem for p in (out_dir / "feedback").glob("*.html")}
    assert feedback == students
    long_rows = (out_dir / "grades-long.csv").read_text().splitlines()
    assert len(long_rows) == 1 + 3 * len(students)


def test_a_failed_hidden_test_is_reported_without_its_source_or_message(hostile_run):
    run, _, _, out_dir = hostile_run
    check = row(run, "hidden-only").checks["mean-examples"]
    assert check.status == "failed" and check.hidden
    assert "hidden test" in check.message and "negative" not in check.message
    assert "negative" in check.detail  # the instructor sees the author's message
    page = (out_dir / "feedback" / "hidden-only.html").read_text()
    assert "a hidden test did not pass" in page


def test_feedback_never_shows_hidden_tests(hostile_run):
    run, _, _, out_dir = hostile_run
    hidden_text = "mean of one negative value"
    for page in (out_dir / "feedback").glob("*.html"):
        text = page.read_text()
        assert hidden_text not in text and "-7.5" not in text, page.name
    # The hidden test's message is for the instructor only.
    assert json.dumps(row(run, "honest").checks["mean-examples"].message) == '""'
