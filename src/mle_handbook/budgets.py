"""Per-notebook budgets: how long a notebook may take to execute and how much memory its kernel may use.

A notebook declares them in its metadata (``budget_seconds``, ``budget_mb``; see
``docs/authors/index.md``), and ``make bench`` flags any notebook over budget. The build uses the
declared seconds to start the longest notebooks first, which shortens a parallel build: with two
kernels, a long notebook started last would run alone at the end. While the build's Spark server
starts, the notebooks that do not need it run first.
"""

from __future__ import annotations

from dataclasses import dataclass

import nbformat

from .exercises.markers import project_meta


@dataclass(frozen=True)
class Budget:
    seconds: float | None = None
    memory_mb: float | None = None


def budget_of(nb: nbformat.NotebookNode) -> Budget:
    declared = project_meta(nb)
    seconds, memory = declared.get("budget_seconds"), declared.get("budget_mb")
    return Budget(
        float(seconds) if seconds is not None else None,
        float(memory) if memory is not None else None,
    )


def execution_order(
    notebooks: dict[str, nbformat.NotebookNode], waiting: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """The order a build starts notebooks in: longest first, except that those ``waiting`` for
    something still starting (the build's Spark server) go after the others."""
    return sorted(
        notebooks,
        key=lambda name: (name in waiting, -(budget_of(notebooks[name]).seconds or 0), name),
    )


def finishing_order(
    notebooks: dict[str, nbformat.NotebookNode],
    waiting: set[str] | frozenset[str] = frozenset(),
    jobs: int = 1,
) -> list[str]:
    """The order in which notebooks started by :func:`execution_order`, ``jobs`` at a time, are
    expected to finish if each takes its declared seconds (undeclared: none). The build reads
    notebooks in this order, so that it rarely waits for one while another is already done."""
    free_at = [0.0] * max(1, jobs)
    finish = {}
    for name in execution_order(notebooks, waiting):
        start = min(free_at)
        worker = free_at.index(start)
        free_at[worker] = start + (budget_of(notebooks[name]).seconds or 0.0)
        finish[name] = free_at[worker]
    return sorted(finish, key=lambda name: (finish[name], name))
