"""Read a submission before any of it runs: choose its file, assemble what will run, and read its
code for what needs a person (:mod:`.reach`: status ``review``; its flags and off-limits calls:
the ``flags`` column).

**Off limits**: the dotted names an answer may not use, per solution cell (``"mle_handbook":
{"off_limits": {"gini-solution": [...]}}``), found however they were imported. A submission that
cannot run, or needs review when kernels are not isolated, gets its final result here.
"""

from __future__ import annotations

import ast

from ..exercises.markers import project_meta, question_of
from . import reach
from .analysis import dotted, import_aliases, python_ast
from .assemble import Assembly, InvalidNotebook, WrongExercise, assemble, read_submission
from .results import SubmissionResult, unrun_checks
from .submissions import Submission, printable


def prepare(submission: Submission, context: dict):
    """Read and assemble a submission (no kernel yet): ``(result, assembly or None)``."""
    source, questions, exercise = context["source"], context["questions"], context["exercise"]
    problems: list[str] = []
    chosen = None
    status, message = "invalid-notebook", "no files"
    for file in submission.candidates(exercise):
        try:
            nb = read_submission(file.read_bytes())
            chosen = (file, assemble(source, nb))
            break
        except (OSError, InvalidNotebook, WrongExercise) as exc:
            wrong = isinstance(exc, WrongExercise)
            text = f"cannot be read ({exc})" if isinstance(exc, OSError) else str(exc)
            problems.append(f"{file.shown}: {text}")
            if wrong or status != "wrong-exercise":  # another exercise says the most
                status, message = "wrong-exercise" if wrong else "invalid-notebook", problems[-1]
    if chosen is None:
        names = ", ".join(f.shown for f in submission.files)
        result = SubmissionResult(
            submission.student_id,
            names,
            status,
            unrun_checks(questions, message),
            notes=problems,
            feedback_notes=[message],
        )
        return result, None
    file, assembly = chosen
    result = SubmissionResult(
        submission.student_id, file.shown, "graded", manual={m.grade_id: m for m in assembly.manual}
    )
    result.notes += [p for p in problems if not p.startswith(file.shown)]
    result.notes += assembly.notes
    for what, cells in (
        ("answer cells missing from the notebook", assembly.missing),
        ("test cells edited or deleted (the original checks ran)", assembly.edited),
    ):
        if cells:
            result.notes.append(f"{what}: {', '.join(cells)}")
            result.feedback_notes.append(f"{what.capitalize()}: {', '.join(cells)}.")
    if assembly.extra_cells:
        result.notes.append(f"{assembly.extra_cells} code cell(s) added by the student ran too")
    student = [c.source for c in assembly.cells if c.kind in ("answer", "extra")]
    result.flags = reach.flags("\n\n".join(student))
    result.flags += off_limits(assembly, context)
    reasons = reach.review_reasons(student, local_modules=context["local_modules"])
    if reasons and submission.student_id in context["reviewed"] and context["isolation"] != "none":
        # The instructor read the code (--reviewed): its marks count; what happens when it runs
        # (a forged reply, the kernel's messaging changed) still sends it back for review.
        result.notes.append("reviewed by the instructor: " + "; ".join(reasons))
    else:
        result.review = reasons
    if result.review:
        result.status = "review"
        result.notes.append("to review, no automatic marks: " + "; ".join(result.review))
        if context["isolation"] == "none":
            # Without OS isolation such code could harm other submissions: it is not run.
            result.checks = unrun_checks(questions, "not run: the code needs a person's review")
            result.notes.append("not run: kernels are not isolated on this machine")
            return result, None
    return result, assembly


def off_limits(assembly: Assembly, context: dict) -> list[str]:
    """Flags for answers that use what their question puts off limits (the question named)."""
    banned = project_meta(context["source"]).get("off_limits") or {}
    if not isinstance(banned, dict):
        return []
    exercise = [c.source for c in assembly.cells if c.owned_by_exercise]
    answers = [c for c in assembly.cells if c.kind in ("answer", "extra")]
    flags = []
    for cell in answers:
        names = banned.get(cell.grade_id) if cell.grade_id else None
        if not isinstance(names, list) or not names:
            continue
        # The answer, and helpers the student added in cells of their own, may not use them.
        others = [c.source for c in answers if c is not cell]
        extra = [c.source for c in answers if c.kind == "extra"]
        used = [
            u for s in (cell.source, *extra) for u in off_limits_uses(s, names, exercise + others)
        ]
        if used:
            flags.append(
                f"off limits in {question_of(cell.grade_id)}: {', '.join(dict.fromkeys(used))}"
            )
    return flags


def failed(submission: Submission, context: dict, exc: Exception) -> SubmissionResult:
    return SubmissionResult(
        submission.student_id,
        ", ".join(f.shown for f in submission.files),
        "error",
        unrun_checks(context["questions"], "not run: the grader failed"),
        notes=[f"grader error: {type(exc).__name__}: {printable(str(exc))}"],
    )


def _same_or_inside(used: str, banned: str) -> bool:
    if used == banned or used.startswith(banned + "."):
        return True
    # A class or function re-exported higher up: sklearn.tree.DecisionTreeClassifier is also
    # sklearn.tree._classes.DecisionTreeClassifier; compare package and final name.
    return (
        "." in banned
        and used.split(".")[0] == banned.split(".")[0]
        and (used.rsplit(".", 1)[-1] == banned.rsplit(".", 1)[-1])
    )


def off_limits_uses(answer: str, banned: list[str], context: list[str]) -> list[str]:
    """The names of ``banned`` that ``answer`` uses; imports in ``context`` (the exercise's cells
    and the student's other cells) and in ``answer`` resolve local names to dotted ones."""
    tree = python_ast(answer)
    if tree is None or not banned:
        return []
    aliases = import_aliases([t for t in map(python_ast, context) if t is not None] + [tree])
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Name) and (name := dotted(node)):
            head, _, rest = name.partition(".")
            full = ".".join(filter(None, (*aliases.get(head, (head, "")), rest)))
            for banned_name in banned:
                if _same_or_inside(full, banned_name) or (
                    "." not in banned_name and banned_name == name
                ):
                    found[banned_name] = None
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                for banned_name in banned:
                    if _same_or_inside(f"{node.module}.{alias.name}", banned_name):
                        found[banned_name] = None
    return list(found)
