"""``grade()``: grade every submission of one exercise, in parallel, and write the results.

The steps are the instructors' guide's ("Grading submissions"). A Spark exercise gets one Spark
Connect server for the whole run unless ``SPARK_REMOTE`` or ``SPARK_MASTER`` is set. Nothing a
submission does stops the run: every submission gets a row.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import dataclasses
import os
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..bundles import data_files
from ..exercises.markers import project_meta
from ..exercises.validate import validate
from . import report, sandbox
from .analysis import HiddenText
from .assemble import Assembly, assemble
from .prepare import failed, prepare
from .release import find_exercises
from .results import SubmissionResult, format_mark, questions_of, unrun_checks
from .runner import KernelPool, run_assembly
from .sandbox import Limits
from .session import GraderError
from .submissions import Submission, discover


class SourceCheckFailed(RuntimeError):
    """The model answers do not earn full marks in the grading sandbox: fix the set-up first."""


@dataclass
class GradeRun:
    exercise: str
    results: list[SubmissionResult]
    questions: list
    files: dict[str, Path] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    jobs: int = 1
    seconds: float = 0.0  # grading the submissions (without the source check)
    source_seconds: float = 0.0
    confined: str = "none"
    isolation: str = "none"
    problems: list[str] = field(default_factory=list)

    @property
    def marks(self) -> dict[str, dict[str, float]]:
        """``{student_id: {grade_id: points earned}}`` for autograded checks."""
        return {r.student_id: {g: c.earned for g, c in r.checks.items()} for r in self.results}

    def summary(self) -> str:
        """What an instructor reads at the end of a run: counts, mean mark per question, problems."""
        results, questions = self.results, self.questions
        counts = Counter(r.status for r in results)
        lines = [
            f"{len(results)} submission(s): "
            + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        ]
        gradable = [
            r for r in results if r.status not in ("invalid-notebook", "wrong-exercise", "error")
        ]
        if gradable and questions:
            width = max(len(q.name) for q in questions)
            lines.append("mean mark per question (over gradable submissions):")
            for q in questions:
                mean = sum(r.question_mark(q) for r in gradable) / len(gradable)
                lines.append(f"  {q.name:<{width}}  {mean:5.2f} / {format_mark(q.points)}")
            mean_total = sum(r.total(questions) for r in gradable) / len(gradable)
            out_of = format_mark(sum(q.points for q in questions))
            lines.append(f"  {'total':<{width}}  {mean_total:5.2f} / {out_of}")
        to_mark = sum(len(r.to_mark) for r in results)
        if to_mark:
            lines.append(
                f"{to_mark} written answer(s) to mark: fill in manual-marks.csv in the results "
                "folder and grade again (it is read from there; --manual-marks names another file)"
            )
        for r in report.order(results):
            if r.status != "graded":
                lines.append(
                    f"  {r.student_id}: {r.status}" + (f" ({r.notes[0]})" if r.notes else "")
                )
        lines += [f"  skipped {name}: {reason}" for name, reason in self.skipped]
        lines.append(
            f"graded in {self.seconds:.1f} s with {self.jobs} job(s)"
            + (f" ({len(results) / self.seconds:.2f} submissions/s)" if self.seconds else "")
        )
        confined = f"confined (Landlock ABI {self.confined})"
        if self.confined in ("none", ""):
            confined = "NOT confined (Landlock unavailable): see the instructors' guide"
        lines.append(f"file access of kernels: {confined}")
        lines.append(f"isolation of kernels: {self.isolation} ({sandbox.PROTECTS[self.isolation]})")
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"results in {self.files['grades'].parent}"] if "grades" in self.files else []
        return "\n".join(lines)


def uses_spark(nb: nbformat.NotebookNode) -> bool:
    """The exercise says so (``mle_handbook.spark``) or its code imports PySpark."""
    return bool(project_meta(nb).get("spark")) or any(
        c.cell_type == "code" and ("get_spark" in c.source or "pyspark" in c.source)
        for c in nb.cells
    )


class _Progress:
    """A one-line progress bar on a terminal (stderr); silent otherwise."""

    def __init__(self, total: int, enabled: bool | None):
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def step(self, label: str) -> None:
        self.done += 1
        if not self.enabled or not self.total:
            return
        width = 30
        filled = int(width * self.done / self.total)
        rate = self.done / max(time.perf_counter() - self.start, 1e-9)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{rate:.2f}/s {label[:30]:<30}"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.total:
            sys.stderr.write("\n")
            sys.stderr.flush()


async def _run(result: SubmissionResult, assembly: Assembly, context: dict, **options):
    """Run an assembled submission (``options``: :func:`.runner.run_assembly`'s) and put the
    outcome on its result."""
    try:
        outcome = await run_assembly(
            assembly, hidden_text=context["hidden_text"], **context["kernel"], **options
        )
    except GraderError as exc:
        result.status = "error"
        result.checks = unrun_checks(context["questions"], "not run: the grader failed")
        result.notes.append(f"grader error: {exc}")
        return result
    result.checks = outcome.checks
    result.review += outcome.review
    result.status = "review" if result.review else outcome.status
    if outcome.review:
        result.notes.append("to review, no automatic marks: " + "; ".join(outcome.review))
    result.notes += outcome.tampering + outcome.events
    if result.review:
        would = sum(c.earned for c in outcome.checks.values())
        result.notes.append(f"the checks that passed are worth {would:g} (withheld)")
    result.feedback_notes += [f"Your code raised an error: {e}" for e in outcome.answer_errors]
    result.seconds = outcome.seconds
    context["confined"] = outcome.confined
    return result


async def _grade_all(submissions: list[Submission], context: dict, jobs: int, progress: _Progress):
    semaphore = asyncio.Semaphore(jobs)
    prepared = []
    for submission in submissions:
        try:
            prepared.append((submission, *prepare(submission, context)))
        except Exception as exc:  # noqa: BLE001 - one submission never stops the run
            prepared.append((submission, failed(submission, context, exc), None))
    # Spare kernels warm up on the cores the jobs leave idle (at least one, to hide start-up).
    spares = max(1, min(jobs, (os.cpu_count() or 1) - jobs + 1))
    if context["isolation"] == "none":
        spares = 0  # no kernel waits beside a running submission that could reach it
    expected = sum(1 for _, _, assembly in prepared if assembly is not None)
    pool = KernelPool(context["template"], spares=spares, expected=expected, **context["kernel"])

    async def one(submission: Submission, result: SubmissionResult, assembly) -> SubmissionResult:
        if assembly is not None:
            async with semaphore:
                try:
                    result = await _run(result, assembly, context, pool=pool)
                except Exception as exc:  # noqa: BLE001 - one submission never stops the run
                    result = failed(submission, context, exc)
        progress.step(submission.student_id)
        return result

    try:
        return await asyncio.gather(*(one(*item) for item in prepared))
    finally:
        await pool.close()


def _run_coroutine(coroutine):
    """Run ``coroutine`` to completion, also when the caller's thread runs an event loop
    (Jupyter, or a library that left one running): then in a worker thread with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def grade(
    exercise: str | Path,
    submissions: str | Path,
    out_dir: str | Path,
    *,
    jobs: int | None = None,
    timeout: float | None = None,
    memory_mb: int | None = 4096,
    id_pattern: str | None = None,
    manual_marks_file: str | Path | None = None,
    confine: bool = True,
    isolate: bool | str = True,
    reviewed: tuple[str, ...] = (),
    check_source: bool = True,
    progress: bool | None = None,
    spark_remote: str | None = None,
    limits: Limits | None = None,
) -> GradeRun:
    """Grade every submission of ``exercise`` found in ``submissions`` (a folder or zip) into
    ``out_dir``; the options are ``mle-handbook grade``'s (the instructors' guide, "Grading
    submissions"). Raises :class:`SourceCheckFailed` before writing anything when the model answers
    do not earn full marks in the sandbox. ``limits`` overrides every sandbox limit at once (tests
    and the benchmark use it); ``timeout``, ``memory_mb`` and ``confine`` are then ignored.
    """
    source_path = find_exercises([exercise])[0]
    source = nbformat.read(source_path, as_version=4)
    validate(source, source_path)
    name = source_path.stem
    questions = questions_of(source)
    data = {n.as_posix(): source_path.parent / n for n in data_files(source_path, source)}
    meta = project_meta(source)
    limits = limits or Limits(
        timeout=float(timeout or meta.get("timeout") or 60),
        memory_mb=memory_mb,
        confine=confine,
        isolate=isolate,
    )
    if uses_spark(source):
        # Its kernels must reach the run's Spark Connect server.
        limits = dataclasses.replace(limits, network=True)
    submissions = Path(submissions)
    out_dir = Path(out_dir)
    found = discover(submissions, pattern=id_pattern)
    jobs = max(1, jobs or os.cpu_count() or 1)
    hidden = [source_path.resolve().parent, submissions.resolve(), out_dir.resolve()]
    chosen, _ = sandbox.choose(network=limits.network, wanted=limits.isolate)
    if chosen == "none":
        print(sandbox.NOTICE, file=sys.stderr)
        jobs = 1  # one kernel at a time: no neighbour for a submission to reach
    template = assemble(source, source)  # the model answers: what every kernel is prepared for
    context = {
        "template": template,
        "hidden_text": HiddenText(template),
        "isolation": chosen,
        "local_modules": {Path(n).stem for n in data} | {Path(n).parts[0] for n in data},
        "reviewed": set(reviewed),
        "source": source,
        "questions": questions,
        "exercise": name,
        # What every kernel of the run is started with (see .runner.warm_kernel).
        "kernel": {"data": data, "limits": limits, "env": {}, "hidden": hidden},
        "confined": "none",
    }
    run = GradeRun(name, [], questions, skipped=found.skipped, jobs=jobs)
    with ExitStack() as stack:
        if uses_spark(source):
            if spark_remote:
                context["kernel"]["env"]["SPARK_REMOTE"] = spark_remote
            elif not (os.environ.get("SPARK_REMOTE") or os.environ.get("SPARK_MASTER")):
                from ..spark.server import ConnectServer

                server = stack.enter_context(ConnectServer())
                context["kernel"]["env"]["SPARK_REMOTE"] = server.url
        if check_source:
            start = time.perf_counter()
            model = SubmissionResult("(model answers)", "source", "graded")
            reference = _run_coroutine(_run(model, template, context, max_restarts=0))
            run.source_seconds = time.perf_counter() - start
            lost = [c for c in reference.checks.values() if c.status != "passed"]
            if lost or reference.status != "graded":
                details = "; ".join(
                    f"{c.grade_id}: {c.status} {c.detail}" for c in lost
                ) or "; ".join(reference.notes + reference.feedback_notes)
                raise SourceCheckFailed(
                    f"{source_path}: the model answers do not pass every check in the grading sandbox "
                    f"({reference.status}): {details}"
                )
        bar = _Progress(len(found.submissions), progress)
        start = time.perf_counter()
        try:
            results = _run_coroutine(_grade_all(found.submissions, context, jobs, bar))
        finally:
            bar.close()
        run.seconds = time.perf_counter() - start
    run.results = list(results)
    run.confined = context["confined"]
    run.isolation = chosen
    existing = out_dir / "manual-marks.csv"
    marks_file = manual_marks_file or (existing if existing.is_file() else None)
    if marks_file:
        try:
            marks = report.read_manual_marks(marks_file)
        except (OSError, ValueError, csv.Error) as exc:  # the sheets are written all the same
            run.problems.append(f"manual marks not applied: {exc}")
        else:
            run.problems += report.apply_manual_marks(run.results, marks)
    run.files, problems = report.write_reports(
        out_dir, run.results, questions, name, hidden=context["hidden_text"]
    )
    run.problems += problems
    return run
