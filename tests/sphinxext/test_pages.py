"""Page decorations are deterministic: two builds of the same notebook give the same copy."""

from __future__ import annotations

import types

import nbformat

from mle_handbook.exercises.execute import ExecutionResult, collect_results
from mle_handbook.sphinxext.pages import decorate

CONFIG = types.SimpleNamespace(
    mle_handbook_repository_url="https://github.com/example/handbook",
    mle_handbook_repository_branch="main",
)


def _decorated(nb):
    failures, checks = collect_results(nb)
    result = ExecutionResult("exercises/squares.ipynb", nb, failures, checks, 1.0)
    return decorate(result, docname="exercises/squares", config=CONFIG, builder="html")


def test_added_cells_get_the_same_unique_ids_in_every_build(squares_solution):
    first, second = _decorated(squares_solution), _decorated(squares_solution)
    assert nbformat.writes(first) == nbformat.writes(second)
    ids = [cell.id for cell in first.cells]
    assert len(ids) == len(set(ids))
    assert len(first.cells) > len(squares_solution.cells)  # something was added
    nbformat.validate(first)
