"""Per-notebook budgets: how long a notebook may take to execute and how much memory its kernel may use.

A notebook declares its budget in its metadata, next to the project's other settings::

    "metadata": {"mle_handbook": {"budget_seconds": 30, "budget_mb": 400}}

``make bench`` (:mod:`mle_handbook.bench`) measures every notebook against its budget and flags any
over it. The build uses the declared seconds to start the longest notebooks first, which shortens
a parallel build: with two kernels, a long notebook started last would run alone at the end.
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


def longest_first(notebooks: dict[str, nbformat.NotebookNode]) -> list[str]:
    """Names of ``notebooks`` ordered by declared seconds, longest first (undeclared last, by name)."""
    return sorted(notebooks, key=lambda name: (-(budget_of(notebooks[name]).seconds or 0), name))
