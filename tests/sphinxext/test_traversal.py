"""The iterative ``findall`` walks exactly as docutils' own does, even on a tree changed meanwhile."""

from __future__ import annotations

import copy
import functools
import random

import pytest
from docutils import nodes
from sphinx.util.nodes import NodeMatcher

from mle_handbook.sphinxext import traversal

KINDS = [nodes.section, nodes.paragraph, nodes.emphasis, nodes.strong, nodes.container]


def _tree(rng: random.Random, depth: int = 0) -> nodes.Element:
    node = rng.choice(KINDS)()
    node["ids"] = [f"n{rng.randrange(10**9)}"]
    for _ in range(rng.randint(0, 4 if depth < 4 else 0)):
        if rng.random() < 0.3:
            node += nodes.Text(rng.choice(["a", "b", "a"]))  # equal Text values are distinct nodes
        else:
            node += _tree(rng, depth + 1)
    return node


def _label(node: nodes.Node) -> str:
    return node["ids"][0] if isinstance(node, nodes.Element) else f"text:{node}"


def _walk(tree: nodes.Element, how, seed: int, mutate: bool) -> list[str]:
    """The labels ``how(tree)`` yields, changing the tree as it goes (the same way each time)."""
    rng = random.Random(seed)
    seen = []
    for node in how(tree):
        seen.append(_label(node))
        if not mutate or len(seen) > 500:
            continue
        action = rng.randrange(8)
        parent = node.parent
        if action == 0 and isinstance(node, nodes.Element):  # add a child
            node += nodes.emphasis(ids=[f"new{len(seen)}"])
        elif action == 1 and parent is not None:  # replace the node itself
            parent.replace(node, nodes.strong(ids=[f"rep{len(seen)}"]))
        elif action == 2 and parent is not None:  # remove it
            parent.remove(node)
        elif action == 3 and parent is not None:  # insert a sibling after it
            parent.insert(parent.index(node) + 1, nodes.paragraph(ids=[f"sib{len(seen)}"]))
        elif action == 4 and isinstance(node, nodes.Element) and node.children:  # drop children
            node.children = []
        elif action == 5 and isinstance(node, nodes.Element):  # unwrap its first child
            if node.children and isinstance(node[0], nodes.Element):
                first = node[0]
                node.remove(first)
                node.extend(first.children)
    return seen


CONDITIONS = [
    None,
    nodes.Element,
    nodes.TextElement,
    nodes.Text,
    nodes.emphasis,
    lambda node: isinstance(node, nodes.Element) and node["ids"][0].endswith(("1", "7")),
    NodeMatcher(nodes.paragraph, ids=lambda ids: True),
]


@pytest.mark.parametrize("mutate", [False, True], ids=["unchanged", "changed-while-walked"])
@pytest.mark.parametrize("condition", range(len(CONDITIONS)))
def test_findall_yields_what_docutils_yields_in_the_same_order(condition, mutate):
    condition = CONDITIONS[condition]
    rng = random.Random(27)
    for case in range(300):
        tree = _tree(rng)
        start = tree if rng.random() < 0.5 or not tree.children else tree[0]
        path = [] if start is tree else [0]
        trees = (tree, copy.deepcopy(tree))
        results = []
        walkers = (traversal.ORIGINAL["findall"], traversal.findall)
        for tree_copy, findall in zip(trees, walkers, strict=True):
            node = tree_copy[path[0]] if path else tree_copy
            how = functools.partial(findall, condition=condition)
            results.append(_walk(node, how, case, mutate))
            results.append(tree_copy.pformat())  # and leaves the same tree
        assert results[0] == results[2] and results[1] == results[3], case


@pytest.mark.parametrize(
    "arguments",
    [
        {"include_self": False},
        {"descend": False},
        {"siblings": True},
        {"ascend": True},
        {"include_self": False, "siblings": True, "condition": nodes.Element},
    ],
)
def test_other_arguments_take_docutils_own_path_with_the_same_result(arguments):
    rng = random.Random(5)
    for _ in range(100):
        tree = _tree(rng)
        start = tree[0] if tree.children else tree
        expected = [_label(n) for n in traversal.ORIGINAL["findall"](start, **arguments)]
        assert [_label(n) for n in traversal.findall(start, **arguments)] == expected


def test_installing_and_restoring_switches_every_node_class():
    paragraph = nodes.paragraph("", "", nodes.Text("x"))
    traversal.walk_iteratively()
    try:
        assert nodes.Node.findall is traversal.findall
        assert [type(n).__name__ for n in paragraph.findall()] == ["paragraph", "Text"]
        assert list(paragraph.findall(nodes.Text)) == [paragraph[0]]
    finally:
        traversal.restore()
    assert nodes.Node.findall is traversal.ORIGINAL["findall"]
    assert [type(n).__name__ for n in paragraph.findall()] == ["paragraph", "Text"]
