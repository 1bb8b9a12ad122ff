"""Marker lines are recognised in one place, as nbgrader recognises them."""

from __future__ import annotations

from mle_handbook.exercises.markers import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    marker_lines,
    marker_of,
    region_lines,
    without_markers,
)


def test_a_marker_may_be_indented_or_followed_by_a_comment_but_not_glued_to_text():
    assert marker_of("    ### BEGIN SOLUTION") == BEGIN_SOLUTION
    assert marker_of("### END HIDDEN TESTS  (graders only)") == END_HIDDEN
    assert marker_of("### BEGIN SOLUTIONS") is None
    assert marker_of("# ### BEGIN SOLUTION") is None
    assert marker_of("x = 1") is None


def test_marker_lines_are_numbered_from_one():
    source = f"a\n{BEGIN_HIDDEN}\nassert x\n{END_HIDDEN}"
    assert list(marker_lines(source)) == [(2, BEGIN_HIDDEN), (4, END_HIDDEN)]


def test_region_lines_are_the_lines_between_matching_markers_only():
    source = "\n".join(
        ["keep", BEGIN_SOLUTION, "answer", END_SOLUTION, "keep", BEGIN_HIDDEN, "hidden", END_HIDDEN]
    )
    assert region_lines(source) == ["answer", "hidden"]
    assert region_lines(source, (BEGIN_HIDDEN,)) == ["hidden"]


def test_without_markers_keeps_the_answer_and_drops_only_marker_lines():
    source = f"def f():\n    {BEGIN_SOLUTION}\n    return 1\n    {END_SOLUTION}\n"
    assert without_markers(source) == "def f():\n    return 1"
