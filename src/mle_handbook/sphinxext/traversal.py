"""Walk doctrees without a generator per node: docutils' ``Node.findall``, made iterative.

Nearly every transform, collector and post-transform finds its nodes with ``findall``, and
docutils walks the tree recursively, one generator per node, each node handed up through one
``yield from`` per level above it: reading and writing a cached clean build of this handbook made
about 950,000 such generators. Here the common cases (the node itself and all its descendants,
with a class, a callable or no condition) walk the same nodes in the same order with one
generator and a stack of the children lists' iterators, about twice as fast (0.125 s against
0.07 s to find every text block of the handbook's 58 doctrees five times; 0.37 s against 0.18 s
with Sphinx's ``NodeMatcher``).

The order, and what a caller sees if it changes the tree while iterating, are docutils' own:
each children list is iterated live, from the moment its node has been yielded (or found not to
match), as docutils' nested loops iterate them. Siblings and ancestors (``siblings``,
``ascend``), and leaving out the node itself or its descendants, still take docutils' path.
``tests/sphinxext/test_traversal.py`` compares both on random trees changed while walked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from docutils import nodes

#: docutils' own methods, kept for the cases this module leaves to them.
ORIGINAL = {
    name: nodes.Node.__dict__[name] for name in ("findall", "_fast_findall", "_superfast_findall")
}


def walk_iteratively(app=None, config=None) -> None:
    """``config-inited``: give docutils' nodes the iterative ``findall``."""
    nodes.Node._fast_findall = fast_findall
    nodes.Node._superfast_findall = superfast_findall
    nodes.Node.findall = findall


def restore() -> None:
    """Give docutils' nodes their own ``findall`` back."""
    for name, method in ORIGINAL.items():
        setattr(nodes.Node, name, method)


def restore_after_build(app, exception) -> None:
    """``build-finished``: :func:`restore` (another build in this process may not load this
    extension)."""
    restore()


def findall(
    self,
    condition: type | Callable[[nodes.Node], bool] | None = None,
    include_self: bool = True,
    descend: bool = True,
    siblings: bool = False,
    ascend: bool = False,
) -> Iterator:
    """``Node.findall``: iterative for the node and its descendants, else docutils' own."""
    if include_self and descend and not siblings and not ascend:
        if condition is None:
            return superfast_findall(self)
        if isinstance(condition, type):
            return fast_findall(self, condition)
        return matching_findall(self, condition)
    return ORIGINAL["findall"](self, condition, include_self, descend, siblings, ascend)


def fast_findall(self, cls: type) -> Iterator:
    """``self`` and its descendants that are instances of ``cls``, in document order."""
    if isinstance(self, cls):
        yield self
    stack = [iter(self.children)]
    while stack:
        for node in stack[-1]:
            if isinstance(node, cls):
                yield node
            if node.children:
                stack.append(iter(node.children))
                break
        else:
            stack.pop()


def superfast_findall(self) -> Iterator:
    """``self`` and all its descendants, in document order."""
    yield self
    stack = [iter(self.children)]
    while stack:
        for node in stack[-1]:
            yield node
            if node.children:
                stack.append(iter(node.children))
                break
        else:
            stack.pop()


def matching_findall(self, condition: Callable[[nodes.Node], bool]) -> Iterator:
    """``self`` and its descendants for which ``condition(node)`` is true, in document order."""
    if condition(self):
        yield self
    stack = [iter(self.children)]
    while stack:
        for node in stack[-1]:
            if condition(node):
                yield node
            if node.children:
                stack.append(iter(node.children))
                break
        else:
            stack.pop()
