"""Share out reading and writing among Sphinx's processes by how much work each page is.

Sphinx cuts the pages into chunks of equal *count*, in name order, and forks a process per chunk
(``make_chunks``). A notebook page costs five to ten times a prose page to read or write (time
grows with the source's size: about 4.5 µs a byte for both kinds here), and the notebooks'
names sort together, so on 2 cores one reader was left with four of the six notebooks (0.9 s of
a 1.45 s reading phase) while the others had finished. This module cuts chunks by size instead:

- **reading**: one chunk per process, of about equal size (largest pages placed first, each on
  the lightest chunk), so every reader finishes at about the same time;
- **writing**: the main process prepares (resolves) each chunk before a writer process takes
  it, so a first chunk as large as the others keeps every writer waiting. The chunks grow and
  then shrink again (sizes in the proportions of :data:`WRITING_SHAPE`): a writer starts
  early, and the last one finishes soon after the main process is done.

Only the grouping changes: every page is read and written once, by the same code, and each
chunk lists its pages in Sphinx's order. Sphinx already merges parallel work in whatever order it
finishes. The last page of each reading chunk is noted (:func:`ends_a_chunk`): the reader process
ends after it, so :mod:`.collection` does not collect garbage there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

#: Relative sizes of the writing chunks, first to last (found with a model of one main process
#: preparing pages for two writers on two cores: 1.30 units of time against 1.50 for four equal
#: chunks, where preparing everything takes 1 and writing it 1.5).
WRITING_SHAPE = (1, 2, 3, 4, 3, 2, 1)

#: What every page costs besides its size, in bytes' worth (one small page's read: ~10 ms).
PAGE_COST = 2000


def share_by_size(app) -> None:
    """``builder-inited``: make Sphinx's builders cut chunks with :func:`chunks_by_size`."""
    import sphinx.builders
    from sphinx.util import parallel
    from sphinx.util.build_phase import BuildPhase

    def weight(docname: str) -> int:
        try:
            return os.path.getsize(app.env.doc2path(docname)) + PAGE_COST
        except OSError:  # not a file (a generated page): Sphinx reports what matters
            return PAGE_COST

    def make_chunks(arguments: Sequence[str], nproc: int, maxbatch: int = 10) -> list[list[str]]:
        reading = getattr(app.builder, "phase", None) == BuildPhase.READING
        shape = (1,) * nproc if reading else WRITING_SHAPE
        if len(arguments) < 2 * len(shape):  # too few pages to be worth it
            chunks = parallel.make_chunks(arguments, nproc, maxbatch)
        else:
            chunks = chunks_by_size(arguments, weight, shape)
        if reading:  # each reader process reads its chunk in order, then ends
            app._mle_chunk_ends = {chunk[-1] for chunk in chunks}
        return chunks

    sphinx.builders.make_chunks = make_chunks


def ends_a_chunk(app, docname: str) -> bool:
    """Whether ``docname`` is the last page of a reading chunk (after it, its reader ends)."""
    return docname in getattr(app, "_mle_chunk_ends", ())


def restore(app, exception) -> None:
    """``build-finished``: give Sphinx back its own ``make_chunks`` (another build in this
    process may not load this extension)."""
    import sphinx.builders
    from sphinx.util import parallel

    sphinx.builders.make_chunks = parallel.make_chunks


def chunks_by_size(
    names: Sequence[str], weight: Callable[[str], int], shape: Sequence[int]
) -> list[list[str]]:
    """Split ``names`` into ``len(shape)`` chunks whose total weights are about in the
    proportions of ``shape``: heaviest first, each name goes to the chunk furthest below its
    share. Each chunk keeps the names in their given order; a chunk left empty is dropped."""
    weights = {name: weight(name) for name in names}
    total = sum(weights.values())
    shares = [total * part / sum(shape) for part in shape]
    loads = [0.0] * len(shape)
    chosen: dict[str, int] = {}
    for name in sorted(names, key=lambda n: -weights[n]):
        index = max(range(len(shape)), key=lambda i: shares[i] - loads[i])
        chosen[name] = index
        loads[index] += weights[name]
    chunks = [[name for name in names if chosen[name] == i] for i in range(len(shape))]
    return [chunk for chunk in chunks if chunk]
