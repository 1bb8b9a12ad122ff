"""What a cell's code does, read without running it: names it binds, modules it imports, the
attribute chains it follows, and which lines of a test cell are hidden tests.

Cells are parsed as IPython parses them (magics and ``!`` commands translated to Python first).
Hidden-test regions are recognised only by :mod:`mle_handbook.exercises.markers`.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import warnings

from ..exercises.markers import BEGIN_HIDDEN, END_HIDDEN, marker_lines


@functools.lru_cache(maxsize=4096)
def python_ast(source: str) -> ast.Module | None:
    """The Python AST of a cell, IPython syntax (magics, ``!``) translated first; None if invalid.

    Cached by source: the exercise's cells are read again for every submission, and no caller
    changes the tree.
    """
    with contextlib.suppress(Exception):  # the raw text, then
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _targets(node: ast.AST):
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            yield from _targets(element)
    elif isinstance(node, ast.Starred):
        yield from _targets(node.value)


def bound_names(source: str) -> list[str]:
    """Names a cell binds in the notebook's namespace (top level, including inside if/for/with/try)."""
    tree = python_ast(source)
    names: list[str] = []

    def visit(statements):
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name != "*":
                        names.append(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    names.extend(_targets(target))
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                names.extend(_targets(node.target))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                names.extend(_targets(node.target))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        names.extend(_targets(item.optional_vars))
            elif isinstance(node, ast.Try):
                for handler in node.handlers:
                    if handler.name:
                        names.append(handler.name)
            for name in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, name, []) or [])

    if tree is not None:
        visit(tree.body)
    return list(dict.fromkeys(names))


def imported_modules(source: str) -> list[str]:
    """Modules a cell imports anywhere (``import a.b`` gives ``a.b``; ``from a import b`` gives ``a``)."""
    tree = python_ast(source)
    found: list[str] = []
    for node in ast.walk(tree) if tree is not None else []:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
    return list(dict.fromkeys(found))


def import_aliases(trees: list[ast.AST]) -> dict[str, tuple[str, str]]:
    """Local name -> ``(module, attribute)`` for every import in ``trees``: ``import numpy as np``
    gives ``np -> ("numpy", "")``, ``from a.b import c as d`` gives ``d -> ("a.b", "c")``."""
    aliases: dict[str, tuple[str, str]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    aliases[alias.asname or top] = (alias.name if alias.asname else top, "")
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        aliases[alias.asname or alias.name] = (node.module, alias.name)
    return aliases


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a name or a chain of attributes on a name; None for anything else."""
    chain = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(chain)]) if isinstance(node, ast.Name) else None


def attribute_paths(sources: list[str]) -> list[str]:
    """``module:attr.attr`` for every attribute chain on an imported name (``np.testing.x`` with
    ``import numpy as np`` gives ``numpy:testing.x``).

    The guard follows them at set-up so that sub-modules the checks reach by attribute (and that a
    package loads lazily) are in its snapshot before any student code runs.
    """
    trees = [t for t in map(python_ast, sources) if t is not None]
    aliases = import_aliases(trees)
    paths = set()
    for tree in trees:
        for node in ast.walk(tree):
            name = dotted(node) if isinstance(node, ast.Attribute) else None
            head, _, rest = (name or "").partition(".")
            if head in aliases:
                module, attribute = aliases[head]
                paths.add(f"{module}:{'.'.join(filter(None, (attribute, rest)))}")
    return sorted(paths)


def hidden_lines(source: str) -> frozenset[int]:
    """1-based numbers of the lines of a test cell's ``source`` in hidden-test regions, markers
    included."""
    hidden, start = set(), None
    for number, marker in marker_lines(source):
        if marker == BEGIN_HIDDEN and start is None:
            start = number
        elif marker == END_HIDDEN and start is not None:
            hidden.update(range(start, number + 1))
            start = None
    if start is not None:  # an unclosed region runs to the end (validation refuses it anyway)
        hidden.update(range(start, len(source.splitlines()) + 1))
    return frozenset(hidden)


class HiddenText:
    """Says whether a text quotes any hidden test of an exercise, even in part.

    A text leaks when it holds a run of :attr:`SPAN` characters (whitespace ignored) found in a
    hidden-test line and in no visible line of the exercise's test cells (a hidden line shorter
    than that counts whole). So a message that quotes, slices or echoes the running cell's source
    is caught by what it shows, whatever produced it.
    """

    SPAN = 12

    def __init__(self, assembly):
        hidden, visible = [], []
        for cell in assembly.tests:
            lines = cell.source.splitlines()
            markers = {n for n, _ in marker_lines(cell.source)}
            for number, line in enumerate(lines, start=1):
                if not line.strip() or number in markers:
                    continue
                (hidden if number in cell.hidden_lines else visible).append(line)
        seen = {g for line in visible for g in self._spans(self._squash(line))}
        self.spans: set[str] = set()
        self.short: list[str] = []
        for line in hidden:
            squashed = self._squash(line)
            if len(squashed) < self.SPAN:
                if len(squashed) >= 6 and not any(squashed in self._squash(v) for v in visible):
                    self.short.append(squashed)
                continue
            self.spans.update(g for g in self._spans(squashed) if g not in seen)

    @staticmethod
    def _squash(text: str) -> str:
        return "".join(str(text).split())

    @classmethod
    def _spans(cls, text: str):
        return (text[i : i + cls.SPAN] for i in range(len(text) - cls.SPAN + 1))

    def leaks(self, text: str) -> bool:
        squashed = self._squash(text)
        if any(s in squashed for s in self.short):
            return True
        return any(g in self.spans for g in self._spans(squashed))
