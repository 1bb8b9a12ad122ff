"""Grade sheets, feedback and the summary, written atomically.

Files written into the output folder (each through a temporary file and ``os.replace``, so an
interrupted run leaves the previous version or the new one, never half a file):

- ``grades.csv``: one row per student: ``student_id``, ``status``, one column per question, ``total``,
  ``out_of``, ``to_mark`` (answers awaiting a person), ``flags``, ``notes``, ``file``;
- ``grades-long.csv``: one row per student and graded cell (``grade_id``), with its result and the
  message the instructor sees (hidden tests' messages included);
- ``manual-marks.csv``: the manually graded answers, with empty ``mark`` and ``comment`` columns to
  fill in; the next run in the same folder reads it back (marks already given are kept);
- ``feedback/<student_id>.html``: for the student (:mod:`.feedback`): each question's result, the
  failure message of visible tests, never the source or message of hidden tests.

The sheets are always written: a row that fails to render gets a row saying so.

The output is a function of the submissions and the marks only (no dates, no timings), so grading
the same submissions again writes the same files.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..files import write_text_atomic
from .analysis import HiddenText
from .feedback import FEEDBACK_DIR, feedback_html, safe_name
from .results import ManualMark, Question, SubmissionResult, format_mark
from .submissions import printable

#: A spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A CSV cell any spreadsheet reads as text: valid UTF-8, never a formula."""
    value = "\n".join(printable(line) for line in str(value).split("\n"))
    if value.startswith(_FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _uncell(value: str) -> str:
    """The value :func:`_cell` wrote as ``'=...``, as it was."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return buffer.getvalue()


def _rows(results: list[SubmissionResult], render, width: int) -> list[list[str]]:
    """``render(result)`` for each result (a list of rows); a result that fails to render gets
    one row saying so, so that the sheet is always written."""
    rows = []
    for r in _order(results):
        try:
            rows += render(r)
        except Exception as exc:  # noqa: BLE001 - one bad row never costs the others their sheet
            row = [str(getattr(r, "student_id", "?")), "error"] + [""] * (width - 2)
            row[-1 if width > 2 else 1] = f"this row could not be written: {type(exc).__name__}"
            rows.append(row)
    return rows


def _order(results: list[SubmissionResult]) -> list[SubmissionResult]:
    return sorted(results, key=lambda r: (str(r.student_id), str(r.file)))


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

    def render(r: SubmissionResult) -> list[list[str]]:
        return [
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
        ]

    return _csv([header, *_rows(results, render, len(header))])


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

    def render(r: SubmissionResult) -> list[list[str]]:
        rows = []
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
                        format_mark(r.auto_mark(grade_id)),
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
        return rows

    return _csv(rows + _rows(results, render, len(rows[0])))


MANUAL_HEADER = ["student_id", "grade_id", "out_of", "mark", "comment", "answer"]


def manual_csv(results: list[SubmissionResult]) -> str:
    def render(r: SubmissionResult) -> list[list[str]]:
        return [
            [
                r.student_id,
                grade_id,
                format_mark(m.points),
                "" if m.mark is None else format_mark(m.mark),
                m.comment,
                m.text.strip(),
            ]
            for grade_id, m in r.manual.items()
            if m.answered
        ]

    return _csv([MANUAL_HEADER, *_rows(results, render, len(MANUAL_HEADER))])


def read_manual_marks(path: str | Path) -> dict[tuple[str, str], tuple[float | None, str]]:
    """``{(student_id, grade_id): (mark, comment)}`` from a filled-in ``manual-marks.csv``."""
    marks: dict[tuple[str, str], tuple[float | None, str]] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            student, grade_id = (
                _uncell((row.get("student_id") or "").strip()),
                _uncell((row.get("grade_id") or "").strip()),
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
            f"{to_mark} written answer(s) to mark: fill in manual-marks.csv in the results "
            "folder and grade again (it is read from there; --manual-marks names another file)"
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
    hidden: HiddenText | None = None,
) -> dict[str, Path]:
    """Write every results file; returns their paths by name.

    The sheets come first and are always written; a feedback page that cannot be written is
    listed in ``files["problems"]`` rather than stopping the others. ``hidden`` filters whatever
    a student reads (see :class:`.analysis.HiddenText`).
    """
    out_dir = Path(out_dir)
    files = {
        "grades": out_dir / "grades.csv",
        "grades-long": out_dir / "grades-long.csv",
        "manual-marks": out_dir / "manual-marks.csv",
    }
    write_text_atomic(files["grades"], wide_csv(results, questions))
    write_text_atomic(files["grades-long"], long_csv(results, questions))
    write_text_atomic(files["manual-marks"], manual_csv(results))
    problems = []
    if feedback:
        used: set[str] = set()
        for r in _order(results):
            name = safe_name(r.student_id)
            while name in used:
                name += "_"
            used.add(name)
            try:
                page = feedback_html(r, questions, exercise, hidden=hidden)
                write_text_atomic(out_dir / FEEDBACK_DIR / f"{name}.html", page)
            except Exception as exc:  # noqa: BLE001 - one page never stops the others
                problems.append(f"feedback for {printable(str(r.student_id))}: {exc!r}")
        files["feedback"] = out_dir / FEEDBACK_DIR
    return files, problems
