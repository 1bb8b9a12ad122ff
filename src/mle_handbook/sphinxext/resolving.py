"""Sphinx's writer processes resolve their own pages, instead of waiting for the main process.

In a parallel build Sphinx's main process resolves every page (reads its doctree back, resolves
its references and table of contents, runs every extension's post-transforms) and does the
page's serial part of writing (registers its images, feeds the search index), one page after
another, and only then forks a writer process for each chunk of pages. Resolving is most of that
work, so the writers kept waiting for the main process: in a cached clean build of this handbook
it was busy for the whole writing phase while the two writers were idle for much of it.

Here each writer process resolves the pages of its chunk itself and writes them; it sends each
resolved doctree back (pickled as Sphinx pickles doctrees, before anything else touches it), and
the main process does the serial part with it, in Sphinx's order of pages, so the images it
copies and the search index it writes are the same. The writer registers the page's images for
itself too (it writes their paths into the page), with its log silenced so that a warning about
an image is given once, by the main process; it does not feed a search index of its own. What
the writer logs while resolving (a missing reference, say) reaches the main process's log as any
writer's does. A page whose resolved doctree cannot be pickled is resolved again by the main
process, with its log silenced: the writer has already reported what resolving it said. Once the
last chunk is with a writer, the main process emits :data:`WRITERS_BUSY` for work that can be done
meanwhile.

Only parallel HTML builds change (``-j``, which ``make html`` passes); Read the Docs' serial
builds, and every other builder, run Sphinx's own code. The pages come out byte for byte the
same (``tests/sphinxext/test_resolving.py``).
"""

from __future__ import annotations

import pickle
import time
import types

from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Emitted (with no arguments besides the app) once the last chunk is with a writer, while the
#: main process would only wait for them: work that has to be done by the end of the build and
#: needs no written page can be done then (see :mod:`.downloads`).
WRITERS_BUSY = "mle-handbook-writers-busy"

#: The builders whose writing this changes (their serial part is images and the search index).
BUILDERS = ("html", "dirhtml")


def resolve_in_writers(app) -> None:
    """``builder-inited``: give a parallel HTML build :func:`write_parallel`."""
    from sphinx.util.parallel import ParallelTasks

    if app.parallel <= 1 or app.builder.name not in BUILDERS:
        return
    if not all(hasattr(ParallelTasks, name) for name in ("_join_one", "add_task", "join")):
        return  # a Sphinx whose task pool works otherwise: keep its own writing
    app.builder._write_parallel = types.MethodType(write_parallel, app.builder)


def write_parallel(builder, docnames, nproc: int) -> None:
    """Sphinx's ``Builder._write_parallel``, with each chunk resolved in its writer process."""
    import sphinx.builders
    from sphinx.locale import __
    from sphinx.util.build_phase import BuildPhase
    from sphinx.util.display import status_iterator
    from sphinx.util.parallel import ParallelTasks

    # The first page alone, in this process, as Sphinx does: it warms the templates' caches.
    firstname, docnames = docnames[0], docnames[1:]
    sphinx.builders._write_docname(firstname, env=builder.env, builder=builder, tags=builder.tags)

    tasks = ParallelTasks(nproc)
    chunks = sphinx.builders.make_chunks(docnames, nproc)
    progress = status_iterator(
        chunks, __("writing output... "), "darkgreen", len(chunks), builder.config.verbosity
    )
    finished: dict[int, list[tuple[str, bytes | None]]] = {}
    serialised = 0  # chunks whose serial part is done, in order

    def write_process(task: tuple[int, list[str]]) -> list[tuple[str, bytes | None]]:
        return [(docname, resolve_and_write(builder, docname)) for docname in task[1]]

    def on_chunk_done(task: tuple[int, list[str]], result) -> None:
        nonlocal serialised
        finished[task[0]] = result
        while serialised in finished:
            for docname, payload in finished.pop(serialised):
                builder.write_doc_serialized(docname, resolved_doctree(builder, docname, payload))
            serialised += 1
            next(progress)

    builder.phase = BuildPhase.RESOLVING
    for index, chunk in enumerate(chunks):
        # One chunk forked at a time, in order, as a writer becomes free (Sphinx's pool starts
        # the chunks waiting for a writer last first).
        while tasks._pworking >= tasks.nproc:
            if not tasks._join_one():
                time.sleep(0.01)
        tasks.add_task(write_process, (index, chunk), on_chunk_done)
    # Every chunk is with a writer: what else the main process has to do can run meanwhile.
    builder.events.emit(WRITERS_BUSY)
    tasks.join()
    logger.info("")


def resolve_and_write(builder, docname: str) -> bytes | None:
    """In a writer process: resolve ``docname``, keep the resolved doctree's pickle, and write
    the page. Returns the pickle, or None when the doctree cannot be pickled."""
    from sphinx.util.build_phase import BuildPhase

    builder.phase = BuildPhase.RESOLVING
    doctree = builder.env.get_and_resolve_doctree(docname, builder, tags=builder.tags)
    payload = pickled(doctree)
    builder.phase = BuildPhase.WRITING
    indexer, builder.indexer = builder.indexer, None  # the main process feeds the real one
    try:
        with logging.suppress_logging():  # the main process gives these warnings
            builder.write_doc_serialized(docname, doctree)
    finally:
        builder.indexer = indexer
    builder.write_doc(docname, doctree)
    return payload


def pickled(doctree) -> bytes | None:
    """The doctree as Sphinx pickles one (without its environment, reporter and transformer),
    or None if something in it cannot be pickled; the doctree itself is left as it was."""
    settings, reporter, transformer = doctree.settings, doctree.reporter, doctree.transformer
    doctree.settings = settings.copy()
    doctree.settings.env = None
    doctree.settings.warning_stream = None
    doctree.settings.record_dependencies = None
    doctree.reporter = doctree.transformer = None
    try:
        return pickle.dumps(doctree, pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an unpicklable node: the main process resolves it again
        return None
    finally:
        doctree.settings, doctree.reporter, doctree.transformer = settings, reporter, transformer


def resolved_doctree(builder, docname: str, payload: bytes | None):
    """In the main process: the resolved doctree a writer sent, ready for the serial part."""
    from sphinx.util.docutils import LoggingReporter

    if payload is None:
        with logging.suppress_logging():  # the writer already reported what resolving said
            return builder.env.get_and_resolve_doctree(docname, builder, tags=builder.tags)
    doctree = pickle.loads(payload)
    doctree.settings.env = builder.env
    doctree.reporter = LoggingReporter(str(builder.env.doc2path(docname)))
    return doctree
