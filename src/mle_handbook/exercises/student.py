"""Turn a source exercise into its student version, as small pure notebook-to-notebook steps.

Each step takes a notebook and returns a new one; the input is never modified. ``student_version``
composes them in order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import nbformat

from .markers import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    CODE_STUB,
    END_HIDDEN,
    END_SOLUTION,
    HELPERS_LABEL,
    HIDDEN_NOTE,
    TEXT_STUB,
    cell_kind,
    is_helper,
    marker_lines,
    replace_regions,
)

Step = Callable[[nbformat.NotebookNode], nbformat.NotebookNode]


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace solution regions by stubs: code raises NotImplementedError, text says YOUR ANSWER HERE."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if not cell_kind(cell).solution:
            continue
        if cell.cell_type == "code":
            cell.source = replace_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION, CODE_STUB)
        elif any(marker == BEGIN_SOLUTION for _, marker in marker_lines(cell.source)):
            cell.source = replace_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION, TEXT_STUB)
        else:
            cell.source = TEXT_STUB
    return nb


def strip_hidden_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop hidden-test regions from autograded test cells."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell_kind(cell).autograded_test:
            cell.source = replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, None).rstrip()
    return nb


def mask_hidden_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace hidden-test regions by a note that they exist (for published pages)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell_kind(cell).autograded_test:
            cell.source = replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, HIDDEN_NOTE)
    return nb


def clear_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove outputs and execution counts from every code cell."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def collapse_helpers(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Collapse the input of set-up and check-helper cells (JupyterLab's and Notebook 7's
    ``jupyter.source_hidden``), under a first line saying what they are; they still run."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if is_helper(cell):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            if not cell.source.startswith(f"# {HELPERS_LABEL}"):
                cell.source = (
                    f"# {HELPERS_LABEL}: run this cell, no need to read it.\n{cell.source}"
                )
    return nb


#: The student pipeline, in order. Solutions go before hidden tests only for readability: the two
#: steps touch disjoint cells (validation forbids solution markers in test cells and vice versa).
STUDENT_STEPS: tuple[Step, ...] = (
    strip_solutions,
    strip_hidden_tests,
    collapse_helpers,
    clear_outputs,
)


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook a student receives: no solutions, no hidden tests, no outputs."""
    for step in STUDENT_STEPS:
        nb = step(nb)
    return nb
