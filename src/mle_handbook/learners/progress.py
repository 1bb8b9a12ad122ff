"""``mle-handbook progress``: run copies of a learner's exercises and report every check.

Each exercise notebook in the working folder is read once, its folder (with the data files next to
it) is copied into a temporary folder, and the notebook is executed there in a fresh kernel with
:func:`mle_handbook.exercises.execute.execute_notebook`. The learner's files are only ever read:
nothing is written into ``work/``, not even by code in the notebook that saves files.

Every autograded check and written answer becomes one row, a
:class:`~mle_handbook.exercises.results.CheckResult` as on the build's pages and in the grader. The
learner's copy has no hidden tests, so "passed" means the visible checks pass.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..exercises.execute import DEFAULT_TIMEOUT, CellFailure, ExecutionResult, execute_notebook
from ..exercises.markers import CODE_STUB, cell_kind, is_exercise, project_meta, question_of
from ..exercises.results import (
    BY_HAND,
    FAILED,
    HIDDEN,
    NOT_ATTEMPTED,
    NOT_RUN,
    PASSED,
    STATUSES,
    CheckResult,
)
from .start import DEFAULT_WORK, MANIFEST, read_manifest

#: A solution cell still holding this line has not been attempted.
STUB_LINE = CODE_STUB.splitlines()[-1]
NOT_COPIED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", MANIFEST)


class ProgressError(Exception):
    """Progress cannot be reported at all (no working folder, no exercises)."""


@dataclass
class ExerciseProgress:
    path: str  # as shown to the learner
    rows: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # other cells that failed
    error: str = ""  # the notebook could not be read or run at all
    seconds: float = 0.0

    @property
    def earned(self) -> float:
        return sum(r.earned for r in self.rows)

    @property
    def checked_points(self) -> float:
        return sum(r.points for r in self.rows if r.status not in (HIDDEN, BY_HAND))

    @property
    def later_points(self) -> float:
        return sum(r.points for r in self.rows if r.status in (HIDDEN, BY_HAND))


def _points(value: float) -> str:
    return f"{value:g}"


def render_exercise(ex: ExerciseProgress) -> str:
    if ex.error:
        return f"{ex.path}: {ex.error}"
    width_q = max([len("question")] + [len(r.question) for r in ex.rows])
    width_id = max([len("check")] + [len(r.grade_id) for r in ex.rows])
    lines = [f"{ex.path} (ran in {ex.seconds:.1f} s)"]
    lines.append(f"  {'question':<{width_q}}  {'check':<{width_id}}  {'points':>7}  result")
    for row in ex.rows:
        if row.status in (HIDDEN, BY_HAND):
            score = f"- / {_points(row.points)}"
        else:
            score = f"{_points(row.earned)} / {_points(row.points)}"
        result = STATUSES[row.status] + (f": {row.message}" if row.message else "")
        lines.append(
            f"  {row.question:<{width_q}}  {row.grade_id:<{width_id}}  {score:>7}  {result}"
        )
    for note in ex.notes:
        lines.append(f"  note: {note}")
    summary = f"  points so far: {_points(ex.earned)} of {_points(ex.checked_points)}"
    if ex.later_points:
        written = sum(r.points for r in ex.rows if r.status == BY_HAND)
        hidden = sum(r.points for r in ex.rows if r.status == HIDDEN)
        parts = [f"{_points(written)} from written answers"] if written else []
        parts += [f"{_points(hidden)} from checks that run only at grading"] if hidden else []
        summary += (
            f" (and {_points(ex.later_points)} more: {' and '.join(parts)}, "
            "counted when your work is graded)"
        )
    lines.append(summary)
    return "\n".join(lines)


@dataclass
class ProgressReport:
    work: Path
    exercises: list[ExerciseProgress] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(ex.error for ex in self.exercises)

    def render(self) -> str:
        blocks = [render_exercise(ex) for ex in self.exercises]
        ran = [ex for ex in self.exercises if not ex.error]
        earned = sum(ex.earned for ex in ran)
        total = sum(ex.checked_points for ex in ran)
        blocks.append(
            f"Total: {_points(earned)} of {_points(total)} points from the checks in your copies. "
            "Your copies have no hidden tests: graded work can score less."
        )
        return "\n\n".join(blocks)


def _shown(path: Path, work: Path) -> str:
    try:
        return path.relative_to(work).as_posix()
    except ValueError:
        return str(path)


def find_exercises(
    work: Path, names: list[str] | None = None
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Notebooks to run, and ``(name, what to do)`` for each one that is missing."""
    if not work.is_dir():
        raise ProgressError(
            f"there is no working folder {work}: run `make student` (or `mle-handbook start`) first"
        )
    if names:
        found, missing = [], []
        for name in names:
            path = Path(name)
            candidates = [path, work / path, work / "exercises" / f"{path.stem}.ipynb"]
            hit = next((c for c in candidates if c.suffix == ".ipynb" and c.is_file()), None)
            if hit is None:
                missing.append((name, f"no such notebook (looked in {work / 'exercises'})"))
            else:
                found.append(hit)
        return found, missing
    found = sorted((work / "exercises").glob("*.ipynb"))
    manifest, _ = read_manifest(work)
    missing = [
        (key, "missing (deleted or renamed?); run `make student` to get a fresh copy")
        for key in sorted(manifest)
        if key.startswith("exercises/") and key.endswith(".ipynb") and not (work / key).exists()
    ]
    if not found and not missing:
        raise ProgressError(
            f"{work / 'exercises'} holds no exercise notebooks: run `make student` "
            "(or `mle-handbook start`) first"
        )
    return found, missing


def read_learner_notebook(path: Path) -> nbformat.NotebookNode:
    """The learner's notebook, or :class:`ValueError` saying plainly why it cannot be used."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ValueError(f"cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError("not a notebook: it is not UTF-8 text") from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds for broken JSON
        detail = " ".join(str(exc).split())[:200]
        raise ValueError(
            f"not a valid notebook ({detail}); if you edited it outside Jupyter, undo that, "
            "or rename it and run `make student` for a fresh copy"
        ) from None
    if not is_exercise(nb):
        raise ValueError("not an exercise: it has no graded cells")
    return nb


def _has_visible_code(source: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in source.splitlines())


def _check_row(cell, grade_id: str, check, failure: CellFailure | None, stub: bool) -> CheckResult:
    """The row of one autograded test cell."""
    row = CheckResult(grade_id, cell_kind(cell).points or 0.0, FAILED)
    if not _has_visible_code(cell.source):
        row.status, row.message = HIDDEN, "all its tests are hidden"
    elif check is None or check.status == "not-run":
        row.status, row.message = NOT_RUN, check.message if check else ""
    elif check.status == "passed":
        row.status = PASSED
    elif stub:
        row.status = NOT_ATTEMPTED
    elif failure is not None and failure.ename == "NotImplementedError":
        row.message = (
            "NotImplementedError: it uses code that is still a stub "
            "(a question you have not done yet?)"
        )
    else:
        row.message = check.message
    return row


def rows_of(
    nb: nbformat.NotebookNode, result: ExecutionResult
) -> tuple[list[CheckResult], list[str]]:
    """One row per graded cell of the learner's notebook, and notes on other failing cells."""
    stubs = {
        question_of(cell_kind(c).grade_id)
        for c in nb.cells
        if c.cell_type == "code" and cell_kind(c).solution and cell_kind(c).grade_id
        if STUB_LINE in c.source
    }
    checks = {c.grade_id: c for c in result.checks}
    failures = {f.cell: f for f in result.failures}
    rows, notes = [], []
    for number, cell in enumerate(nb.cells, start=1):
        kind = cell_kind(cell)
        grade_id = kind.grade_id or f"cell-{number}"
        failure = failures.get(number)
        if kind.manual_answer:
            rows.append(CheckResult(grade_id, kind.points or 0.0, BY_HAND, "a written answer"))
        elif kind.autograded_test:
            stub = question_of(grade_id) in stubs
            rows.append(_check_row(cell, grade_id, checks.get(grade_id), failure, stub))
        elif failure is not None and not (kind.solution and failure.ename == "NotImplementedError"):
            notes.append(failure.describe())  # a set-up or answer cell that does not run
    return rows, notes


def run_exercise(path: Path, work: Path, timeout: int | None = None) -> ExerciseProgress:
    """Execute a copy of one learner notebook in a copy of its folder."""
    shown = _shown(path, work)
    try:
        nb = read_learner_notebook(path)
    except ValueError as exc:
        return ExerciseProgress(shown, error=str(exc))
    limit = timeout or int(project_meta(nb).get("timeout", DEFAULT_TIMEOUT))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mle-handbook-progress-") as scratch:
        folder = Path(scratch) / path.parent.name
        shutil.copytree(path.parent, folder, ignore=NOT_COPIED, symlinks=True)
        result = execute_notebook(nb, path=shown, cwd=folder, timeout=limit)
    rows, notes = rows_of(nb, result)
    return ExerciseProgress(shown, rows, notes, seconds=time.perf_counter() - start)


def _run_in_worker(path: Path, work: Path, timeout: int | None) -> ExerciseProgress:
    try:
        return run_exercise(path, work, timeout)
    finally:  # jupyter_core's run_sync leaves each worker thread an open event loop: close it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                loop = asyncio.get_event_loop_policy().get_event_loop()
            except RuntimeError:  # none: the notebook was not run
                loop = None
        if loop is not None and not loop.is_running() and not loop.is_closed():
            loop.close()
        asyncio.set_event_loop(None)


def progress(
    work: str | Path = DEFAULT_WORK,
    names: list[str] | None = None,
    *,
    jobs: int = 2,
    timeout: int | None = None,
) -> ProgressReport:
    """Run every exercise in ``work`` (or the ``names`` given) and collect what its checks say."""
    work = Path(work)
    paths, missing = find_exercises(work, names)
    report = ProgressReport(work)
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(paths) or 1))) as pool:
        report.exercises = list(pool.map(lambda p: _run_in_worker(p, work, timeout), paths))
    report.exercises += [ExerciseProgress(name, error=why) for name, why in missing]
    return report
