"""Build what runs for one submission: the source exercise's cells around the student's answers.

The run follows the **source** exercise, cell by cell:

- a **solution cell** (``solution: true``) runs the submission's cell with the same ``grade_id``
  (its first occurrence; nbgrader does the same with duplicates). A missing solution cell is left
  out and reported: its checks then fail on their own, and an answer the student moved to a new
  cell still counts;
- every **test cell** runs the source's text, hidden tests included, whatever the submission holds
  in its place (edited or deleted test cells change nothing and are reported);
- **locked cells and the other cells of the source** (set-up, explanations) run the source's text;
  an unlocked code cell without nbgrader metadata (a scratch cell) runs the student's version, as
  nbgrader does;
- **code cells the student added** run right after the source cell they followed in the submission;
- a **manually graded answer** (``solution`` and ``grade``) is collected for a person to mark; it
  scores 0 automatically when the student left the stub unchanged (nbgrader's rule).

:func:`read_submission` refuses what is not a notebook (:class:`InvalidNotebook`) and
:func:`assemble` refuses a notebook of another exercise (:class:`WrongExercise`).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import nbformat

from ..exercises.markers import NBGRADER_KEY, TEXT_STUB, cell_kind
from ..exercises.student import student_version
from .analysis import attribute_paths, bound_names, hidden_lines, imported_modules
from .results import ManualMark

#: Larger files are not read (a notebook of answers is well under a megabyte without outputs).
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


class InvalidNotebook(ValueError):
    """The file is not a Jupyter notebook that can be graded."""


class WrongExercise(ValueError):
    """The notebook is a notebook, but not one of this exercise."""


@dataclass(frozen=True)
class RunCell:
    """One cell of the run, in order."""

    kind: str  # "exercise" (set-up, locked), "test", "answer", "extra"
    source: str
    number: int | None  # 1-based cell number in the source exercise (None for an added cell)
    grade_id: str | None = None
    points: float = 0.0
    #: Names an exercise cell binds at top level (the guard protects them afterwards).
    names: tuple[str, ...] = ()
    #: 1-based lines of a test cell inside hidden-test regions.
    hidden_lines: frozenset[int] = frozenset()

    @property
    def owned_by_exercise(self) -> bool:
        return self.kind in ("exercise", "test")


@dataclass
class Assembly:
    cells: list[RunCell]
    manual: list[ManualMark] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra_cells: int = 0
    edited: list[str] = field(default_factory=list)
    #: Modules the exercise's own cells import, their top-level packages, and the attribute chains
    #: the cells follow from them (see :func:`attribute_paths`).
    imports: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    #: Names the submission's code binds at top level (rebinding them is not tampering).
    answer_names: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def tests(self) -> list[RunCell]:
        return [c for c in self.cells if c.kind == "test"]


# -- reading a submission ------------------------------------------------------------------------


def _text(source) -> str:
    if isinstance(source, list):
        return "".join(str(s) for s in source)
    return source if isinstance(source, str) else ""


def read_submission(data: bytes, *, max_bytes: int = MAX_NOTEBOOK_BYTES) -> nbformat.NotebookNode:
    """Parse a submitted file leniently; raise :class:`InvalidNotebook` saying why it cannot be graded.

    Only the cells matter: outputs, widgets and unknown metadata are dropped, so a notebook that a
    strict validator would reject for a broken output is still graded.
    """
    if len(data) > max_bytes:
        raise InvalidNotebook(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
    if not data.strip():
        raise InvalidNotebook("the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidNotebook("the file is not a notebook (not UTF-8 text)") from None
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidNotebook(f"the file is not a notebook (not valid JSON: {exc})") from None
    if isinstance(raw, dict) and "worksheets" in raw:  # nbformat 3
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as exc:  # noqa: BLE001 - any failure means the file cannot be graded
            raise InvalidNotebook(
                f"the notebook could not be converted from format 3: {exc}"
            ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise InvalidNotebook("the file is JSON but not a Jupyter notebook (no list of cells)")
    cells = []
    for cell in raw["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbgrader_meta = metadata.get(NBGRADER_KEY)
        clean = {
            "cell_type": cell["cell_type"],
            "source": _text(cell.get("source")),
            "metadata": {},
        }
        if isinstance(nbgrader_meta, dict):
            clean["metadata"][NBGRADER_KEY] = nbgrader_meta
        if isinstance(cell.get("id"), str):
            clean["id"] = cell["id"]
        if cell["cell_type"] == "code":
            clean.update(outputs=[], execution_count=None)
        cells.append(clean)
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    return nbformat.from_dict(
        {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    )


# -- assembling ----------------------------------------------------------------------------------


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata", {}).get(NBGRADER_KEY)
    if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
        return meta["grade_id"]
    return None


def _match(source: nbformat.NotebookNode, submission: nbformat.NotebookNode, *, metadata=True):
    """Map each submission cell to a source cell index (or None), and find foreign grade ids.

    Without ``metadata`` (for a notebook that lost nbgrader's), cells match by cell ``id`` only.
    """
    source_by_gid = {
        cell_kind(c).grade_id: i for i, c in enumerate(source.cells) if cell_kind(c).grade_id
    }
    source_by_id = {c.get("id"): i for i, c in enumerate(source.cells) if c.get("id")}
    plain_by_text: dict[str, list[int]] = {}
    for i, cell in enumerate(source.cells):
        if not cell_kind(cell).grade_id:
            plain_by_text.setdefault(cell.source.strip(), []).append(i)
    matched: list[int | None] = []
    taken: set[int] = set()
    foreign: list[str] = []
    for cell in submission.cells:
        gid = _grade_id(cell) if metadata else None
        index = None
        if gid is not None:
            index = source_by_gid.get(gid)
            if index is None:
                foreign.append(gid)
        elif cell.get("id") in source_by_id and not (
            metadata and cell_kind(source.cells[source_by_id[cell["id"]]]).grade_id
        ):
            index = source_by_id[cell["id"]]
        elif metadata:
            candidates = [i for i in plain_by_text.get(cell.source.strip(), []) if i not in taken]
            index = candidates[0] if candidates else None
        if index is not None and index in taken:
            index = None  # a duplicate: nbgrader keeps the first and treats the rest as plain cells
        if index is not None:
            taken.add(index)
        matched.append(index)
    return matched, foreign


def assemble(source: nbformat.NotebookNode, submission: nbformat.NotebookNode) -> Assembly:
    """The cells to run for ``submission`` of the exercise ``source`` (see the module docstring)."""
    stubs = student_version(source)
    kinds = [cell_kind(c) for c in source.cells]
    solution_indices = [
        i for i, k in enumerate(kinds) if k.solution and source.cells[i].cell_type == "code"
    ]
    matched, foreign = _match(source, submission)
    notes: list[str] = []

    def answers_found(indices) -> int:
        return sum(1 for i in indices if i is not None and i in solution_indices)

    found_solutions = answers_found(matched)
    if not any(_grade_id(c) for c in submission.cells):
        by_id, _ = _match(source, submission, metadata=False)
        if answers_found(by_id):
            matched, foreign = by_id, []
            found_solutions = answers_found(matched)
            notes.append(
                "the notebook has lost its nbgrader metadata; answers were matched by cell id"
            )
    known = sum(1 for i in matched if i is not None and kinds[i].is_nbgrader)
    if known == 0:
        what = (
            f"its graded cells ({', '.join(sorted(set(foreign))[:3])}, ...)"
            if foreign
            else "its cells"
        )
        raise WrongExercise(f"none of {what} belong to this exercise")
    if found_solutions * 2 < len(solution_indices) and len(foreign) > known:
        raise WrongExercise(
            f"only {found_solutions} of the exercise's {len(solution_indices)} answer cells were found, "
            f"and {len(set(foreign))} graded cells belong to something else "
            f"(e.g. {', '.join(sorted(set(foreign))[:3])})"
        )

    by_source: dict[int, nbformat.NotebookNode] = {}
    extras_after: dict[int, list[str]] = {}
    anchor = -1
    for cell, index in zip(submission.cells, matched, strict=True):
        if index is not None:
            by_source[index] = cell
            anchor = index
        elif cell.cell_type == "code" and cell.source.strip():
            # Added by the student (or a duplicate, or a graded cell this exercise does not have):
            # the student's code, so it runs.
            extras_after.setdefault(anchor, []).append(cell.source)

    solution_names = set()
    for i in solution_indices:
        solution_names.update(bound_names(source.cells[i].source))

    cells: list[RunCell] = [RunCell("extra", s, None) for s in extras_after.get(-1, [])]
    manual: list[ManualMark] = []
    missing: list[str] = []
    edited: list[str] = []
    imports: list[str] = []
    for i, (cell, kind) in enumerate(zip(source.cells, kinds, strict=True)):
        number = i + 1
        mine = by_source.get(i)
        if kind.solution:
            if mine is None:
                missing.append(kind.grade_id or f"cell {number}")
            text = mine.source if mine is not None else ""
            if kind.grade:
                stub = stubs.cells[i].source.strip()
                answered = bool(text.strip()) and text.strip() not in (stub, TEXT_STUB)
                # An unanswered stub scores 0 straight away (nbgrader's rule).
                mark = None if answered else 0.0
                manual.append(ManualMark(kind.grade_id, kind.points or 0.0, answered, text, mark))
            if cell.cell_type == "code" and mine is not None:
                cells.append(RunCell("answer", text, number, kind.grade_id))
        elif cell.cell_type == "code" and not kind.is_nbgrader:
            # An unlocked scratch cell: the student's territory, as in nbgrader.
            if mine is not None and mine.source.strip():
                cells.append(RunCell("answer", mine.source, number))
        elif cell.cell_type == "code":
            test = kind.autograded_test
            if test and mine is None:
                edited.append(f"{kind.grade_id} (deleted)")
            elif (test or kind.locked) and mine is not None:
                if mine.source.strip() not in (cell.source.strip(), stubs.cells[i].source.strip()):
                    edited.append(kind.grade_id)
            cells.append(
                RunCell(
                    "test" if test else "exercise",
                    cell.source,
                    number,
                    kind.grade_id,
                    (kind.points or 0.0) if test else 0.0,
                    tuple(n for n in bound_names(cell.source) if n not in solution_names),
                    hidden_lines(cell.source) if test else frozenset(),
                )
            )
            imports += imported_modules(cell.source)
        cells += [RunCell("extra", s, None) for s in extras_after.get(i, [])]

    answer_names = set()
    for run_cell in cells:
        if run_cell.kind in ("answer", "extra"):
            answer_names.update(bound_names(run_cell.source))
    imports = list(dict.fromkeys(imports))
    owned = [c.source for c in source.cells if c.cell_type == "code" and not cell_kind(c).solution]
    return Assembly(
        cells=cells,
        manual=manual,
        missing=missing,
        extra_cells=sum(len(v) for v in extras_after.values()),
        edited=edited,
        imports=tuple(imports),
        packages=tuple(dict.fromkeys(m.split(".")[0] for m in imports)),
        paths=tuple(attribute_paths(owned)),
        answer_names=tuple(sorted(answer_names)),
        notes=notes,
    )
