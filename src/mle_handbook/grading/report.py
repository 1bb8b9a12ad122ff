"""Grade sheets and feedback pages, written atomically into the output folder.

``grades.csv``, ``grades-long.csv``, ``manual-marks.csv`` (read back by the next run in the same
folder) and ``feedback/<student_id>.html``: the instructors' guide, "Exporting marks and feedback",
describes every column. Each is written atomically, so an interrupted run leaves the previous
version or the new one; a row that fails to render gets a row saying so; and the output depends on
the submissions and marks only (no dates, no timings), so grading again writes the same bytes.
Every text a student reads is filtered by the hidden tests' own lines
(:class:`.analysis.HiddenText`), whatever produced it.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from pathlib import Path

from ..exercises.results import STATUSES as CHECK_WORDS
from ..files import write_text_atomic
from .analysis import HiddenText
from .results import STATUSES, ManualMark, Question, SubmissionResult, format_mark
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
    for r in order(results):
        try:
            rows += render(r)
        except Exception as exc:  # noqa: BLE001 - one bad row never costs the others their sheet
            row = [str(getattr(r, "student_id", "?")), "error"] + [""] * (width - 2)
            row[-1] = f"this row could not be written: {type(exc).__name__}"
            rows.append(row)
    return rows


def order(results: list[SubmissionResult]) -> list[SubmissionResult]:
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


LONG_HEADER = "student_id status question grade_id kind points out_of result message".split()


def long_csv(results: list[SubmissionResult], questions: list[Question]) -> str:
    def render(r: SubmissionResult) -> list[list[str]]:
        rows = []
        for q in questions:
            for grade_id, points in q.tests:
                check = r.checks.get(grade_id)
                earned = format_mark(r.auto_mark(grade_id))
                result = (check.status, check.detail) if check else ("not-run", "")
                rows.append([q.name, grade_id, "auto", earned, format_mark(points), *result])
            for grade_id, points in q.manual:
                mark = r.manual.get(grade_id)
                earned = "" if mark is None or mark.mark is None else format_mark(mark.mark)
                result = (mark.result, mark.comment) if mark else ("no-answer", "")
                rows.append([q.name, grade_id, "manual", earned, format_mark(points), *result])
        return [[r.student_id, r.status, *row] for row in rows]

    return _csv([LONG_HEADER, *_rows(results, render, len(LONG_HEADER))])


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
            student, grade_id = (_uncell((row.get(k) or "").strip()) for k in MANUAL_HEADER[:2])
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


# -- feedback ------------------------------------------------------------------------------------

FEEDBACK_DIR = "feedback"
#: What a student reads instead of a text that quotes a hidden test.
WITHHELD = "(not shown: it quoted a hidden test)"


def safe_name(student_id: str) -> str:
    """A file name for a student id (letters, digits, ``.``, ``-`` and ``_``; at most 100)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(student_id)).strip("._") or "student"
    if len(name) > 100:
        digest = hashlib.sha256(str(student_id).encode("utf-8", "surrogatepass")).hexdigest()
        name = f"{name[:89]}_{digest[:10]}"
    return name


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.passed { color: #17612a; } .failed, .timeout, .crashed, .tampered, .memory-limit, .output-limit, .not-run { color: #a11b1b; }
td { overflow-wrap: anywhere; }
.note { background: #f6f6f6; padding: .6rem .8rem; border-left: 4px solid #888; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: .6rem; }
"""

#: What the page says about a submission's status, when it is not simply graded.
_STATUS_NOTES = {
    **STATUSES,
    "review": "your instructor will read your code before its automatic marks count; until then "
    "they are not given",
}


def feedback_html(
    result: SubmissionResult,
    questions: list[Question],
    exercise: str,
    *,
    hidden: HiddenText | None = None,
) -> str:
    def e(text) -> str:
        """Escaped, and withheld if it quotes a hidden test."""
        text = str(text)
        return html.escape(WITHHELD if hidden is not None and hidden.leaks(text) else text)

    total = format_mark(result.total(questions))
    out_of = format_mark(sum(q.points for q in questions))
    pending = result.to_mark or result.review
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Feedback: {e(exercise)} ({e(result.student_id)})</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Feedback on {e(exercise)}</h1>",
        f"<p>Student: <strong>{e(result.student_id)}</strong>. "
        f"{'Marks so far' if pending else 'Marks'}: <strong>{total}</strong> out of {out_of}.</p>",
    ]
    if result.status not in ("graded", "tampered"):
        words = _STATUS_NOTES.get(result.status, result.status)
        parts.append(f'<p class="note">{e(words[:1].upper() + words[1:])}.</p>')
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
            earned = format_mark(result.auto_mark(grade_id))
            message = check.message if check and status != "passed" else ""
            rows.append(
                f'<tr><td><code>{e(grade_id)}</code></td><td class="{e(status)}">'
                f"{e(CHECK_WORDS.get(status, status))}</td>"
                f"<td>{earned} / {format_mark(points)}</td>"
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


def write_reports(
    out_dir: str | Path,
    results: list[SubmissionResult],
    questions: list[Question],
    exercise: str,
    *,
    hidden: HiddenText | None = None,
) -> tuple[dict[str, Path], list[str]]:
    """Write every results file; returns their paths by name, and the problems met.

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
    used: set[str] = set()
    for r in order(results):
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
