"""Attacks on the grader itself, and honest code that must not look like one (issue 27).

One grading run of the ``helpers`` fixture exercise (two kernels at a time, as in
``test_hostile_submissions``): forged replies, signals to the grader, killing the kernels one can
see, processes that try to outlive the grader, leaking hidden tests through messages, output in
every MIME type, hostile file names; and a set of honest variations that must be ``graded`` with
full marks. Honest answers earn 3 automatic points.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os

import nbformat
import pytest

from mle_handbook.grading.run import grade
from mle_handbook.grading.sandbox import Limits, choose

from .conftest import submission
from .rows import marks, row

pytestmark = pytest.mark.slow

RIGHT_MEAN = "def mean(values):\n    return sum(values) / len(values)\n"
WRONG_MEAN = "def mean(values):\n    return 0.0\n"
#: A marker no other process on the machine has in its command line.
STRAY = "3017.25"

#: Reads the execute request of the running check (where its nonce travels) and sends the
#: kernel's own signed "ok" reply with the nonce, and an "idle" status, before the real ones.
FORGE = r"""
import re

def mean(values):
    kernel = get_ipython().kernel
    parent = kernel.get_parent("shell")
    expression = parent["content"].get("user_expressions", {}).get("ok", "")
    for nonce in re.findall(r"'([0-9a-f]{32})'", expression):
        echo = {"status": "ok", "data": {"text/plain": repr(nonce)}, "metadata": {}}
        content = {"status": "ok", "execution_count": 1, "user_expressions": {"ok": echo},
                   "payload": []}
        kernel.session.send(kernel.shell_stream, "execute_reply", content, parent,
                            ident=kernel._parent_ident["shell"])
        kernel.session.send(kernel.iopub_socket, "status", {"execution_state": "idle"}, parent,
                            ident=b"status")
    return 0.0
"""

SIGTERM_PARENT = (
    """\
import os, signal
try:
    os.kill(os.getppid(), signal.SIGTERM)
except OSError as exc:
    print("could not signal:", exc)
"""
    + RIGHT_MEAN
)

KILL_NEIGHBOURS = (
    """\
import os, signal
for _pid in os.listdir("/proc"):
    if _pid.isdigit() and int(_pid) != os.getpid():
        try:
            os.kill(int(_pid), signal.SIGKILL)
        except OSError:
            pass
"""
    + RIGHT_MEAN
)

ESCAPE = (
    f"""\
import os, subprocess
subprocess.Popen(["sleep", "{STRAY}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    os.execvp("sleep", ["sleep", "{STRAY}"])
"""
    + RIGHT_MEAN
)

#: The running cell's source is in IPython's input history (``In``) and in every stack trace:
#: an error quoting either would put the hidden test on the feedback page.
LEAK_HISTORY = "def mean(values):\n    raise ValueError(In[-1][-400:])\n"
LEAK_STACK = (
    "import traceback\n"
    "def mean(values):\n"
    "    if values == [-7.5]:\n"
    "        raise ValueError(''.join(traceback.format_stack())[-900:])\n"
    "    return sum(values) / len(values)\n"
)

JSON_FLOOD = (
    "for _ in range(40):\n"
    "    display({'application/json': {'x': ['y' * 1000] * 100}}, raw=True)\n" + RIGHT_MEAN
)
JSON_ONE_HUGE = (
    "display({'application/json': {'x': 'z' * (8 * 1024 * 1024)}}, raw=True)\n" + RIGHT_MEAN
)

HONEST = {
    "bare-expression": RIGHT_MEAN + "mean\n",
    "atexit": "import atexit\natexit.register(lambda: print('bye'))\n" + RIGHT_MEAN,
    "matplotlib": (
        "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots()\nax.plot([1, 2, 3])\nplt.show()\n" + RIGHT_MEAN
    ),
    "printing": "print('trying my mean')\nprint(mean if 'mean' in dir() else None)\n" + RIGHT_MEAN,
    "warnings": (
        "import warnings\nwarnings.warn('a careful answer')\n"
        "warnings.filterwarnings('ignore', category=DeprecationWarning)\n" + RIGHT_MEAN
    ),
    "data-file": (
        "import numpy as np\nwith open('data/values.csv') as handle:\n    _text = handle.read()\n"
        "_values = np.loadtxt('data/values.csv')\n" + RIGHT_MEAN
    ),
}

#: File names as platforms and other locales produce them.
ODD_NAMES = {
    b"caf\xe9-\xff.ipynb": "non-utf8",
    ("x" * 200 + ".ipynb").encode(): "very-long",
    b'=HYPERLINK("x"),"quoted" <b>&amp;.ipynb': "formula",
}


ANSWERS = {
    "forge": FORGE,
    "sigterm-parent": SIGTERM_PARENT,
    "a-kill-neighbours": KILL_NEIGHBOURS,  # graded first, next to honest kernels
    "escape": ESCAPE,
    "leak-history": LEAK_HISTORY,
    "leak-stack": LEAK_STACK,
    "json-flood": JSON_FLOOD,
    "json-one-huge": JSON_ONE_HUGE,
    **HONEST,
}


def _uploads(source) -> dict[str, nbformat.NotebookNode]:
    made = {
        name: submission(source, {"mean-solution": code}, correct=True)
        for name, code in ANSWERS.items()
    }
    made["z-honest"] = submission(source, correct=True)
    return made


def _strays() -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if STRAY.encode() in handle.read():
                    found.append(int(pid))
        except (OSError, ValueError):
            continue
    return found


@pytest.fixture(scope="module")
def attacked(helpers_exercise, tmp_path_factory):
    root = tmp_path_factory.mktemp("attacked")
    folder, out_dir = root / "submissions", root / "results"
    folder.mkdir()
    source = nbformat.read(helpers_exercise, as_version=4)
    for student, nb in _uploads(source).items():
        nbformat.write(nb, folder / f"{student}.ipynb")
    honest = nbformat.writes(submission(source, correct=True)).encode()
    for raw in ODD_NAMES:
        with open(os.path.join(os.fsencode(folder), raw), "wb") as handle:  # any name the OS allows
            handle.write(honest)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    limits = Limits(timeout=10, memory_mb=2048, max_output_chars=2_000_000, interrupt_grace=2)
    run = grade(helpers_exercise, folder, out_dir, jobs=2, limits=limits, progress=False)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    return run, out_dir, before == after


def test_kernels_run_in_their_own_namespaces_where_the_system_allows(attacked):
    run = attacked[0]
    assert run.isolation == choose()[0] != "none", "bubblewrap or unshare is needed here"
    assert "isolation of kernels: " + run.isolation in run.summary()


def test_a_forged_reply_earns_nothing_and_is_held_for_review(attacked):
    result = row(attacked[0], "forge")
    assert result.status == "review"
    assert marks(attacked[0], "forge") == {"mean": 0, "scale": 0, "explain": 0}
    assert any("kernel" in reason for reason in result.review)
    # The run-time defence saw it too: the real reply came after the forged one.
    assert any("forged" in reason for reason in result.review), result.review


def test_signalling_the_grader_stops_nothing_and_every_file_gets_a_row(attacked):
    run, out_dir, _ = attacked
    assert row(run, "sigterm-parent").status == "review"
    rows = list(csv.DictReader(io.StringIO((out_dir / "grades.csv").read_text())))
    assert len(rows) == len(run.results) == len(ANSWERS) + 1 + len(ODD_NAMES)


def test_killing_the_kernels_one_can_see_harms_no_neighbour(attacked):
    run = attacked[0]
    for student in ["z-honest", *HONEST]:
        assert row(run, student).status == "graded", (student, row(run, student).notes)
        assert marks(run, student) == {"mean": 2, "scale": 1, "explain": 0}, student


def test_no_process_a_submission_started_outlives_its_grading(attacked):
    assert row(attacked[0], "escape").status == "review"
    assert _strays() == []


@pytest.mark.parametrize("student", ["leak-history", "leak-stack"])
def test_feedback_never_shows_hidden_test_lines_whatever_the_code_raises(attacked, student):
    run, out_dir, _ = attacked
    result = row(run, student)
    assert marks(run, student)["mean"] == 0
    page = (out_dir / "feedback" / f"{student}.html").read_text()
    for text in ("-7.5", "one negative value"):
        assert text not in page, student
        assert all(text not in c.message for c in result.checks.values())


@pytest.mark.parametrize("student", ["json-flood", "json-one-huge"])
def test_output_of_any_mime_type_counts_against_the_cap(attacked, student):
    result = row(attacked[0], student)
    assert result.status == "output-limit", result.notes
    assert marks(attacked[0], student) == {"mean": 0, "scale": 1, "explain": 0}


@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_variations_are_graded_not_tampered(attacked, student):
    result = row(attacked[0], student)
    assert (result.status, result.review, result.notes) == ("graded", [], []), student


def test_odd_file_names_get_rows_with_safe_ids_and_feedback(attacked):
    run, out_dir, _ = attacked
    ids = {r.student_id for r in run.results}
    odd = [i for i in ids if i.startswith(("caf", "xxx", "=HYPER"))]
    assert len(odd) == 3, sorted(ids)
    for student in odd:
        assert student.isprintable() and len(student) <= 100
        assert row(run, student).status == "graded"
    sheet = (out_dir / "grades.csv").read_text(encoding="utf-8")
    parsed = {r["student_id"] for r in csv.DictReader(io.StringIO(sheet))}
    assert "'=HYPERLINK" in "".join(parsed) and not any(p.startswith("=") for p in parsed)
    assert len(list((out_dir / "feedback").glob("*.html"))) == len(ids)
    assert "&lt;b&gt;" in "".join(p.read_text() for p in (out_dir / "feedback").glob("*HYPER*"))


def test_submissions_are_byte_identical_after_an_attacked_run(attacked):
    assert attacked[2]
