"""Sharing pages among Sphinx's processes by size changes only who does what, never what is done."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sphinx.builders
from sphinx.util import parallel
from sphinx.util.build_phase import BuildPhase

from mle_handbook.sphinxext import scheduling
from mle_handbook.sphinxext.scheduling import WRITING_SHAPE, chunks_by_size

# Like the handbook: six notebooks (about 60 kB each) among fifty prose pages (2-12 kB).
SIZES = {f"docs/page-{i:02}": 2000 + (i * 997) % 10000 for i in range(50)}
SIZES.update({f"notebooks/nb-{i}": 60000 - 4000 * i for i in range(6)})
NAMES = sorted(SIZES)


def _loads(chunks):
    return [sum(SIZES[name] for name in chunk) for chunk in chunks]


@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 1), WRITING_SHAPE])
def test_every_page_is_in_exactly_one_chunk_in_the_given_order(shape):
    chunks = chunks_by_size(NAMES, SIZES.__getitem__, shape)
    assert sorted(name for chunk in chunks for name in chunk) == NAMES
    assert all(chunk == sorted(chunk) for chunk in chunks)
    assert len(chunks) == len(shape) and all(chunks)


def test_reading_chunks_are_of_about_equal_size_with_the_notebooks_spread_out():
    chunks = chunks_by_size(NAMES, SIZES.__getitem__, (1, 1, 1))
    loads = _loads(chunks)
    assert max(loads) < 1.05 * min(loads)
    assert all(sum(name.startswith("notebooks/") for name in chunk) == 2 for chunk in chunks)
    # Sphinx's own chunks (equal counts, in name order) leave four notebooks to the last one.
    own = parallel.make_chunks(NAMES, 3)
    assert sum(name.startswith("notebooks/") for name in own[-1]) == 4


def test_writing_chunks_grow_then_shrink():
    loads = _loads(chunks_by_size(NAMES, SIZES.__getitem__, WRITING_SHAPE))
    middle = loads[len(loads) // 2]
    assert loads[0] < 0.4 * middle and loads[-1] < 0.4 * middle
    assert loads[0] < loads[1] < loads[2] < middle


def test_no_chunk_is_left_empty():
    assert chunks_by_size(["a", "b"], lambda name: 1, (1, 2, 3)) in ([["a"], ["b"]], [["b"], ["a"]])


def test_the_builders_chunks_follow_the_phase_and_sphinx_gets_its_own_back(tmp_path):
    for name, size in SIZES.items():
        (tmp_path / f"{name.replace('/', '_')}.md").write_text("x" * size)
    app = SimpleNamespace(
        env=SimpleNamespace(doc2path=lambda name: tmp_path / f"{name.replace('/', '_')}.md"),
        builder=SimpleNamespace(phase=BuildPhase.READING),
    )
    scheduling.share_by_size(app)
    try:
        assert sphinx.builders.make_chunks is not parallel.make_chunks
        reading = sphinx.builders.make_chunks(NAMES, 3)
        assert len(reading) == 3
        assert {name for name in NAMES if scheduling.ends_a_chunk(app, name)} == {
            chunk[-1] for chunk in reading
        }
        app.builder.phase = BuildPhase.WRITING
        writing = sphinx.builders.make_chunks(NAMES, 2)
        assert len(writing) == len(WRITING_SHAPE)
        assert _loads(writing)[0] < _loads(writing)[3]
        # Too few pages to share out: Sphinx's chunks.
        assert sphinx.builders.make_chunks(NAMES[:5], 2) == parallel.make_chunks(NAMES[:5], 2)
        # A page that is not a file weighs what any page costs, and is still written.
        app.env.doc2path = lambda name: tmp_path / "missing" / name
        assert sorted(sum(sphinx.builders.make_chunks(NAMES, 2), [])) == NAMES
    finally:
        scheduling.restore(app, None)
    assert sphinx.builders.make_chunks is parallel.make_chunks
