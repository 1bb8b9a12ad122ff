"""Grade sheets, feedback and the summary, written atomically.

Files written into the output folder (each through a temporary file and ``os.replace``, so an
interrupted run leaves the previous version or the new one, never half a file):

- ``grades.csv``: one row per student: ``student_id``, ``status``, one column per question, ``total``,
  ``out_of``, ``to_mark`` (answers awaiting a person), ``flags``, ``notes``, ``file``;
- ``grades-long.csv``: one row per student and graded cell (``grade_id``), with its result and the
  message the instructor sees (hidden tests' messages included);
- ``manual-marks.csv``: the manually graded answers, with empty ``mark`` and ``comment`` columns to
  fill in and give back with ``--manual-marks`` (marks already given are kept);
- ``feedback/<student_id>.html``: for the student: each question's result, the failure message of
  visible tests, never the source or message of hidden tests.

The output is a function of the submissions and the marks only (no dates, no timings), so grading
the same submissions again writes the same files.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import tempfile
from pathlib import Path

from .results import STATUSES, ManualMark, Question, SubmissionResult, format_mark

FEEDBACK_DIR = "feedback"


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def _order(results: list[SubmissionResult]) -> list[SubmissionResult]:
    return sorted(results, key=lambda r: (r.student_id, r.file))


def wide_csv(results: list[SubmissionResult], questions: list[Question]) -> str:
    out_of = format_mark(sum(q.points for q in questions))
    header = [
        "student_id",
        "status",
        *[q.name for q in questions],
        "total",
        "out_of",
        "to_mark",
        "flags",
        "notes",
        "file",
    ]
    rows = [header]
    for r in _order(results):
        rows.append(
            [
                r.student_id,
                r.status,
                *[format_mark(r.question_mark(q)) for q in questions],
                format_mark(r.total(questions)),
                out_of,
                " ".join(r.to_mark),
                "; ".join(r.flags),
                " | ".join(r.notes),
                r.file,
            ]
        )
    return _csv(rows)


def long_csv(results: list[SubmissionResult], questions: list[Question]) -> str:
    rows = [
        [
            "student_id",
            "status",
            "question",
            "grade_id",
            "kind",
            "points",
            "out_of",
            "result",
            "message",
        ]
    ]
    for r in _order(results):
        for q in questions:
            for grade_id, points in q.tests:
                check = r.checks.get(grade_id)
                rows.append(
                    [
                        r.student_id,
                        r.status,
                        q.name,
                        grade_id,
                        "auto",
                        format_mark(check.earned if check else 0.0),
                        format_mark(points),
                        check.status if check else "not-run",
                        check.detail if check else "",
                    ]
                )
            for grade_id, points in q.manual:
                mark = r.manual.get(grade_id)
                rows.append(
                    [
                        r.student_id,
                        r.status,
                        q.name,
                        grade_id,
                        "manual",
                        "" if mark is None or mark.mark is None else format_mark(mark.mark),
                        format_mark(points),
                        mark.result if mark else "no-answer",
                        mark.comment if mark else "",
                    ]
                )
    return _csv(rows)


MANUAL_HEADER = ["student_id", "grade_id", "out_of", "mark", "comment", "answer"]


def manual_csv(results: list[SubmissionResult]) -> str:
    rows = [MANUAL_HEADER]
    for r in _order(results):
        for grade_id, m in r.manual.items():
            if not m.answered:
                continue
            rows.append(
                [
                    r.student_id,
                    grade_id,
                    format_mark(m.points),
                    "" if m.mark is None else format_mark(m.mark),
                    m.comment,
                    m.text.strip(),
                ]
            )
    return _csv(rows)


def read_manual_marks(path: str | Path) -> dict[tuple[str, str], tuple[float | None, str]]:
    """``{(student_id, grade_id): (mark, comment)}`` from a filled-in ``manual-marks.csv``."""
    marks: dict[tuple[str, str], tuple[float | None, str]] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            student, grade_id = (
                (row.get("student_id") or "").strip(),
                (row.get("grade_id") or "").strip(),
            )
            if not student or not grade_id:
                continue
            text = (row.get("mark") or "").strip()
            try:
                mark = float(text) if text else None
            except ValueError:
                raise ValueError(f"{path}, line {number}: mark {text!r} is not a number") from None
            marks[(student, grade_id)] = (mark, (row.get("comment") or "").strip())
    return marks


def apply_manual_marks(
    results: list[SubmissionResult], marks: dict[tuple[str, str], tuple[float | None, str]]
) -> list[str]:
    """Put a person's marks on the answers; returns problems (marks above the maximum, unknown rows)."""
    problems = []
    by_key = {(r.student_id, g): m for r in results for g, m in r.manual.items()}
    for key, (mark, comment) in sorted(marks.items()):
        target: ManualMark | None = by_key.get(key)
        if target is None:
            problems.append(f"manual mark for {key[0]} / {key[1]}: no such answer")
            continue
        if mark is not None and not 0 <= mark <= target.points:
            problems.append(
                f"manual mark for {key[0]} / {key[1]}: {mark:g} is outside 0..{target.points:g}"
            )
            continue
        if target.answered:
            target.mark = mark
        target.comment = comment
    return problems


def safe_name(student_id: str) -> str:
    """A file name for a student id (letters, digits, ``.``, ``-`` and ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", student_id).strip("._") or "student"


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.passed { color: #17612a; } .failed, .timeout, .crashed, .tampered, .memory-limit, .output-limit, .not-run { color: #a11b1b; }
.note { background: #f6f6f6; padding: .6rem .8rem; border-left: 4px solid #888; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: .6rem; }
"""

_RESULT_WORDS = {
    "passed": "passed",
    "failed": "did not pass",
    "timeout": "ran out of time",
    "memory-limit": "ran out of memory",
    "output-limit": "produced too much output",
    "crashed": "stopped the kernel",
    "tampered": "not counted: the checks were interfered with",
    "not-run": "did not run",
}


def feedback_html(result: SubmissionResult, questions: list[Question], exercise: str) -> str:
    e = html.escape
    total = format_mark(result.total(questions))
    out_of = format_mark(sum(q.points for q in questions))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        f"<title>Feedback: {e(exercise)} ({e(result.student_id)})</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Feedback on {e(exercise)}</h1>",
        f"<p>Student: <strong>{e(result.student_id)}</strong>. Marks so far: "
        f"<strong>{total}</strong> out of {out_of}.</p>",
    ]
    if result.status not in ("graded", "tampered"):
        parts.append(
            f'<p class="note">{e(STATUSES.get(result.status, result.status).capitalize())}.</p>'
        )
    for note in result.feedback_notes:
        parts.append(f'<p class="note">{e(note)}</p>')
    for q in questions:
        parts.append(
            f"<h2>Question <code>{e(q.name)}</code>: {format_mark(result.question_mark(q))} "
            f"out of {format_mark(q.points)}</h2>"
        )
        rows = []
        for grade_id, points in q.tests:
            check = result.checks.get(grade_id)
            status = check.status if check else "not-run"
            earned = format_mark(check.earned if check else 0.0)
            message = check.message if check and status != "passed" else ""
            rows.append(
                f'<tr><td><code>{e(grade_id)}</code></td><td class="{e(status)}">'
                f"{e(_RESULT_WORDS.get(status, status))}</td><td>{earned} / {format_mark(points)}</td>"
                f"<td>{e(message)}</td></tr>"
            )
        for grade_id, points in q.manual:
            mark = result.manual.get(grade_id)
            if mark is None or not mark.answered:
                word, earned = "no answer given", "0"
            elif mark.mark is None:
                word, earned = "to be marked by your instructor", "–"
            else:
                word, earned = "marked by your instructor", format_mark(mark.mark)
            comment = mark.comment if mark else ""
            rows.append(
                f"<tr><td><code>{e(grade_id)}</code></td><td>{e(word)}</td>"
                f"<td>{earned} / {format_mark(points)}</td><td>{e(comment)}</td></tr>"
            )
        parts.append("<table><tr><th>Check</th><th>Result</th><th>Marks</th><th>Message</th></tr>")
        parts += rows
        parts.append("</table>")
    parts.append(
        "<p>Hidden tests ran too; when one did not pass, this page says so without showing it.</p>"
    )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def summary(
    results: list[SubmissionResult], questions: list[Question], *, skipped=(), extra=()
) -> str:
    """What an instructor reads at the end of a run: counts, mean mark per question, problems."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines = [
        f"{len(results)} submission(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
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
        lines.append(
            f"  {'total':<{width}}  {mean_total:5.2f} / {format_mark(sum(q.points for q in questions))}"
        )
    to_mark = sum(len(r.to_mark) for r in results)
    if to_mark:
        lines.append(
            f"{to_mark} written answer(s) to mark: fill in manual-marks.csv and grade again with --manual-marks"
        )
    for r in _order(results):
        if r.status != "graded":
            lines.append(f"  {r.student_id}: {r.status}" + (f" ({r.notes[0]})" if r.notes else ""))
    for name, reason in skipped:
        lines.append(f"  skipped {name}: {reason}")
    lines += list(extra)
    return "\n".join(lines)


def write_reports(
    out_dir: str | Path,
    results: list[SubmissionResult],
    questions: list[Question],
    exercise: str,
    *,
    feedback: bool = True,
) -> dict[str, Path]:
    """Write every results file; returns their paths by name."""
    out_dir = Path(out_dir)
    files = {
        "grades": out_dir / "grades.csv",
        "grades-long": out_dir / "grades-long.csv",
        "manual-marks": out_dir / "manual-marks.csv",
    }
    write_text_atomic(files["grades"], wide_csv(results, questions))
    write_text_atomic(files["grades-long"], long_csv(results, questions))
    write_text_atomic(files["manual-marks"], manual_csv(results))
    if feedback:
        used: set[str] = set()
        for r in _order(results):
            name = safe_name(r.student_id)
            while name in used:
                name += "_"
            used.add(name)
            write_text_atomic(
                out_dir / FEEDBACK_DIR / f"{name}.html", feedback_html(r, questions, exercise)
            )
        files["feedback"] = out_dir / FEEDBACK_DIR
    return files
