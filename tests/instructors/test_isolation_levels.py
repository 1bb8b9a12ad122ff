"""Each isolation level protects what the instructors' guide says, on real kernels; a kernel broken
before a submission ran is replaced once (issue 27)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal

import nbformat
import pytest

from mle_handbook.grading.assemble import assemble
from mle_handbook.grading.run import grade
from mle_handbook.grading.runner import KernelPool, run_assembly
from mle_handbook.grading.sandbox import Limits, choose

from .conftest import submission
from .test_hostile_isolation import ESCAPE, KILL_NEIGHBOURS, SIGTERM_PARENT, _strays

pytestmark = pytest.mark.slow

LIMITS = dict(timeout=10, memory_mb=2048, interrupt_grace=2)


def _class(helpers_exercise, folder):
    source = nbformat.read(helpers_exercise, as_version=4)
    folder.mkdir()
    answers = {"a-kill": KILL_NEIGHBOURS, "escape": ESCAPE, "sigterm": SIGTERM_PARENT}
    for name, code in answers.items():
        nbformat.write(
            submission(source, {"mean-solution": code}, correct=True), folder / f"{name}.ipynb"
        )
    for name in ("honest-1", "honest-2"):
        nbformat.write(submission(source, correct=True), folder / f"{name}.ipynb")
    return folder


def _by_id(run):
    return {r.student_id: r for r in run.results}


def test_unshare_alone_also_protects_neighbours_and_kills_what_kernels_start(
    helpers_exercise, tmp_path
):
    if choose(wanted="unshare")[0] != "unshare":
        pytest.skip("unshare cannot make namespaces on this machine")
    folder = _class(helpers_exercise, tmp_path / "subs")
    limits = Limits(**LIMITS, isolate="unshare")
    run = grade(helpers_exercise, folder, tmp_path / "out", jobs=2, limits=limits, progress=False)
    rows = _by_id(run)
    assert run.isolation == "unshare"
    for student in ("honest-1", "honest-2"):
        assert (rows[student].status, rows[student].total(run.questions)) == ("graded", 3)
    assert {rows[s].status for s in ("a-kill", "escape", "sigterm")} == {"review"}
    assert _strays() == []


def test_without_isolation_reaching_code_is_not_run_and_the_notice_is_given_once(
    helpers_exercise, tmp_path, capsys
):
    folder = _class(helpers_exercise, tmp_path / "subs")
    limits = Limits(**LIMITS, isolate=False)
    run = grade(helpers_exercise, folder, tmp_path / "out", jobs=2, limits=limits, progress=False)
    rows = _by_id(run)
    assert (run.isolation, run.jobs) == ("none", 1)  # one kernel at a time: no neighbour
    assert capsys.readouterr().err.count("kernels are not isolated") == 1
    for student in ("honest-1", "honest-2"):
        assert (rows[student].status, rows[student].total(run.questions)) == ("graded", 3)
    for student in ("a-kill", "escape", "sigterm"):
        assert rows[student].status == "review"
        assert {c.status for c in rows[student].checks.values()} == {"not-run"}
        assert any("not run" in note for note in rows[student].notes)
    assert _strays() == []


def test_a_kernel_broken_before_the_submission_ran_is_replaced_once(helpers_exercise):
    source = nbformat.read(helpers_exercise, as_version=4)
    data = {"data/values.csv": helpers_exercise.parent / "data" / "values.csv"}
    limits = Limits(**LIMITS)

    async def scenario():
        template = assemble(source, source)
        pool = KernelPool(
            template, spares=1, expected=1, data=data, limits=limits, env={}, hidden=[]
        )
        warm = await pool.ready[0]
        # Something outside the submission's control ends the kernel it is about to get.
        os.killpg(warm.kernel.pgid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        try:
            return await run_assembly(
                assemble(source, submission(source, correct=True)),
                data=data,
                limits=limits,
                pool=pool,
            )
        finally:
            await pool.close()

    # In a thread of its own: a library may have left an event loop running in this one (seen
    # on Python 3.13 after other grading tests), and asyncio.run refuses to start under it.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        outcome = pool.submit(asyncio.run, scenario()).result()
    assert outcome.retries == 1
    assert {g: c.status for g, c in outcome.checks.items()} == {
        "mean-examples": "passed",
        "scale-examples": "passed",
    }
    assert outcome.tampering == [] and outcome.review == []


def test_a_submission_the_instructor_has_reviewed_gets_its_marks(helpers_exercise, tmp_path):
    source = nbformat.read(helpers_exercise, as_version=4)
    folder = tmp_path / "subs"
    folder.mkdir()
    unusual = "import inspect\n" + "def mean(values):\n    return sum(values) / len(values)\n"
    nb = submission(source, {"mean-solution": unusual}, correct=True)
    nbformat.write(nb, folder / "unusual.ipynb")
    limits = Limits(**LIMITS)
    held = grade(helpers_exercise, folder, tmp_path / "a", limits=limits, progress=False)
    assert (held.results[0].status, held.results[0].total(held.questions)) == ("review", 0)
    freed = grade(
        helpers_exercise,
        folder,
        tmp_path / "b",
        limits=limits,
        progress=False,
        check_source=False,
        reviewed=("unusual",),
    )
    result = freed.results[0]
    assert (result.status, result.total(freed.questions)) == ("graded", 3)
    assert any(n.startswith("reviewed by the instructor: imports inspect") for n in result.notes)
