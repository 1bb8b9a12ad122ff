"""The feedback page a student receives: each question's mark and each check's result.

It never shows a hidden test's source or message: a failed hidden test says only that it did not
pass, and every text a student reads (check messages, notes about their code, comments) is
filtered by the hidden tests' own lines (:class:`.analysis.HiddenText`), whatever produced it.
"""

from __future__ import annotations

import hashlib
import html
import re

from .analysis import HiddenText
from .results import STATUSES, Question, SubmissionResult, format_mark

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
    pending = result.to_mark or result.withheld
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
                f"{e(_RESULT_WORDS.get(status, status))}</td>"
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
