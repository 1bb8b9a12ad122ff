"""Per-notebook budgets: read from metadata, declared by every notebook, used to order execution."""

from __future__ import annotations

import nbformat
import pytest
from conftest import ROOT
from nbformat.v4 import new_notebook

from mle_handbook.budgets import Budget, budget_of, execution_order, finishing_order

NOTEBOOKS = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("exercises/*.ipynb")])


def _nb(**meta):
    nb = new_notebook()
    if meta:
        nb.metadata["mle_handbook"] = meta
    return nb


def test_budget_is_read_from_notebook_metadata():
    assert budget_of(_nb(budget_seconds=30, budget_mb=400)) == Budget(30.0, 400.0)
    assert budget_of(_nb()) == Budget(None, None)


def test_longest_declared_notebook_is_started_first_and_undeclared_last():
    notebooks = {
        "a": _nb(budget_seconds=10),
        "b": _nb(),
        "c": _nb(budget_seconds=90),
        "d": _nb(budget_seconds=20),
    }
    assert execution_order(notebooks) == ["c", "d", "a", "b"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_committed_notebook_declares_a_time_and_memory_budget(path):
    budget = budget_of(nbformat.read(path, as_version=4))
    assert budget.seconds and budget.seconds > 0
    assert budget.memory_mb and budget.memory_mb > 0


def test_notebooks_waiting_for_the_spark_server_start_after_the_others():
    notebooks = {
        "spark-long": _nb(budget_seconds=90),
        "short": _nb(budget_seconds=10),
        "medium": _nb(budget_seconds=20),
        "spark-short": _nb(budget_seconds=30),
    }
    order = execution_order(notebooks, {"spark-long", "spark-short"})
    assert order == ["medium", "short", "spark-long", "spark-short"]
    assert execution_order(notebooks)[0] == "spark-long"


def test_notebooks_are_expected_to_finish_by_declared_time_on_each_worker():
    notebooks = {
        "long": _nb(budget_seconds=90),  # worker 1: 0-90
        "medium": _nb(budget_seconds=50),  # worker 2: 0-50
        "short": _nb(budget_seconds=20),  # worker 2: 50-70
        "spark": _nb(budget_seconds=10),  # waits for the server; worker 2: 70-80
    }
    assert finishing_order(notebooks, {"spark"}, jobs=2) == ["medium", "short", "spark", "long"]
    assert finishing_order(notebooks, {"spark"}, jobs=1) == ["long", "medium", "short", "spark"]
