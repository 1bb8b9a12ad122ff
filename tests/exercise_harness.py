"""Run an exercise's cells in this process, with chosen solution cells replaced by other code.

The test suite uses it to prove that checks reject plausible wrong answers and accept alternative
correct ones, without paying a kernel start-up per variant. Exercises therefore avoid IPython magics.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from mle_handbook.exercises.markers import cell_kind


def check_outcomes(
    notebook: str | Path,
    replacements: dict[str, str] | None = None,
    namespace: dict | None = None,
) -> dict[str, str | None]:
    """Execute the code cells of ``notebook`` in order in one namespace.

    A solution cell whose grade_id is a key of ``replacements`` runs that code instead. Returns, for
    each autograded test cell, ``None`` when it passed or ``"ExceptionName: message"`` when it failed.
    Errors in other cells are recorded under the key ``"<cell N>"`` and execution continues.
    """
    replacements = dict(replacements or {})
    nb = nbformat.read(notebook, as_version=4)
    ns: dict = {"__name__": "__exercise__"}
    ns.update(namespace or {})
    outcomes: dict[str, str | None] = {}
    unused = set(replacements)
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        kind = cell_kind(cell)
        source = cell.source
        if kind.grade_id in replacements:
            source = replacements[kind.grade_id]
            unused.discard(kind.grade_id)
        try:
            exec(compile(source, f"<{Path(notebook).name} cell {number}>", "exec"), ns)
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome to report
            message = f"{type(exc).__name__}: {exc}"
            outcomes[kind.grade_id if kind.autograded_test else f"<cell {number}>"] = message
        else:
            if kind.autograded_test:
                outcomes[kind.grade_id] = None
    if unused:
        raise KeyError(f"no solution cell with grade_id {sorted(unused)} in {notebook}")
    return outcomes


def failed(outcomes: dict[str, str | None], question: str) -> list[str]:
    """grade_ids of ``question`` (the text before the first hyphen) whose checks failed."""
    return [g for g, msg in outcomes.items() if g.split("-", 1)[0] == question and msg is not None]


def model_solution(notebook: str | Path, question: str) -> str:
    """The source of ``<question>-solution`` without its solution markers (the model answer)."""
    from mle_handbook.exercises.markers import without_markers

    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell_kind(cell).grade_id == f"{question}-solution":
            return without_markers(cell.source)
    raise KeyError(f"no solution cell for question {question!r} in {notebook}")


def mutate(notebook: str | Path, question: str, *pairs: str) -> str:
    """The model answer to ``question`` with each (old, new) pair replaced; every ``old`` must be
    there, so that a wrong answer cannot silently become the model answer when it changes."""
    source = model_solution(notebook, question)
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        assert old in source, f"the model solution of {question} no longer contains {old!r}"
        source = source.replace(old, new)
    return source


def assert_all_pass(outcomes: dict[str, str | None], questions: list[str]) -> None:
    """Every check passed, and every question in ``questions`` had a check that ran."""
    from mle_handbook.exercises.markers import question_of

    problems = {key: message for key, message in outcomes.items() if message is not None}
    assert not problems, f"correct answers were rejected: {problems}"
    for question in questions:
        assert any(question_of(key) == question for key in outcomes), (
            f"no checks ran for {question}"
        )
