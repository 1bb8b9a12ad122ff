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

Sphinx forks a new process for every chunk, after writing the first page alone while every
other core waits. Here the writers (:class:`Writers`) are forked once, when writing starts, and
are handed the chunks in order as they become free, while the main process writes the first page
itself: a cached clean build of the handbook took 100,000 memory faults instead of 142,000 (0.25 s
less system time) and its writing phase shortened by about 0.2 s.

Only parallel HTML builds change (``-j``, which ``make html`` passes); Read the Docs' serial
builds, and every other builder, run Sphinx's own code. The pages come out byte for byte the
same (``tests/sphinxext/test_resolving.py``).
"""

from __future__ import annotations

import pickle
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
    """Sphinx's ``Builder._write_parallel``, with each chunk resolved in a writer process, and
    ``nproc`` writer processes, forked once, writing every chunk between them."""
    import sphinx.builders
    from sphinx.locale import __
    from sphinx.util.build_phase import BuildPhase
    from sphinx.util.display import status_iterator

    chunks = sphinx.builders.make_chunks(docnames[1:], nproc)
    progress = status_iterator(
        chunks, __("writing output... "), "darkgreen", len(chunks), builder.config.verbosity
    )
    finished: dict[int, list[tuple[str, bytes | None]]] = {}
    serialised = 0  # chunks whose serial part is done, in order

    def write_chunk(chunk: list[str]) -> list[tuple[str, bytes | None]]:
        return [(docname, resolve_and_write(builder, docname)) for docname in chunk]

    def serialise_finished() -> None:
        nonlocal serialised
        while serialised in finished:
            for docname, payload in finished.pop(serialised):
                builder.write_doc_serialized(docname, resolved_doctree(builder, docname, payload))
            serialised += 1
            next(progress)

    builder.phase = BuildPhase.RESOLVING
    with Writers(min(nproc, len(chunks)), write_chunk) as writers:
        writers.hand_out(chunks)
        # The first page in this process meanwhile, as Sphinx writes it before the others (its
        # serial part comes first); the writers, forked before it, compile their own templates.
        sphinx.builders._write_docname(
            docnames[0], env=builder.env, builder=builder, tags=builder.tags
        )
        builder.phase = BuildPhase.RESOLVING
        busy_emitted = False
        while writers.working:
            if not writers.pending and not busy_emitted:
                # Every chunk is with a writer: what else this process has to do can run now.
                busy_emitted = True
                builder.events.emit(WRITERS_BUSY)
            index, result = writers.next_result()
            finished[index] = result
            serialise_finished()
        if not busy_emitted:
            builder.events.emit(WRITERS_BUSY)
    logger.info("")


class Writers:
    """``count`` writer processes, forked once, each writing one chunk at a time with ``work``
    (``work(chunk) -> result``) as this process hands the chunks out, in order, to whichever
    is free. Forking a process costs its first pages' memory faults (copy on write: some 10,000
    pages, 0.06 s of processor time each in a cached clean build of the handbook), so writers
    are no longer forked for every chunk, as Sphinx's task pool does. What a writer logs reaches
    this process's log with its result, as from Sphinx's pool; an exception in a writer, or a
    writer that dies, stops the others and raises :class:`~sphinx.errors.SphinxParallelError`."""

    def __init__(self, count: int, work) -> None:
        self.count, self.work = count, work
        self.pending: list[tuple[int, list[str]]] = []
        self.processes: list = []
        self.connections: list = []
        self.busy: dict[int, int] = {}  # writer -> the chunk it writes

    def __enter__(self) -> Writers:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        for _ in range(self.count):
            here, there = context.Pipe()
            process = context.Process(target=self._serve, args=(there,), daemon=True)
            process.start()
            there.close()
            self.processes.append(process)
            self.connections.append(here)
        return self

    def __exit__(self, *exc) -> None:
        for writer, connection in enumerate(self.connections):
            if exc[0] is None:
                connection.send(None)  # done: the writer returns
            else:
                self.processes[writer].terminate()
            connection.close()
        for process in self.processes:
            process.join()

    @property
    def working(self) -> bool:
        return bool(self.busy)

    def hand_out(self, chunks) -> None:
        """Queue ``chunks`` and give one to each writer."""
        self.pending = list(enumerate(chunks))
        for writer in range(self.count):
            self._give(writer)

    def _give(self, writer: int) -> None:
        if self.pending:
            index, chunk = self.pending.pop(0)
            self.busy[writer] = index
            self.connections[writer].send((index, chunk))

    def next_result(self):
        """Wait for a writer to finish its chunk, give it the next, and return ``(chunk's
        index, result)``, having logged what the writer logged."""
        from multiprocessing.connection import wait

        from sphinx.errors import SphinxParallelError

        writers = {self.connections[w]: w for w in self.busy}
        writers.update({self.processes[w].sentinel: w for w in self.busy})
        ready = wait(list(writers))
        answered = [r for r in ready if r in self.connections] or ready
        writer = writers[answered[0]]
        try:
            index, failure, logs, result = self.connections[writer].recv()
        except (EOFError, OSError):
            raise SphinxParallelError(
                f"a writer process ended unexpectedly (exit code {self.processes[writer].exitcode})",
                "",
            ) from None
        for log in logs:
            logger.handle(log)
        if failure is not None:
            raise SphinxParallelError(*failure)
        del self.busy[writer]
        self._give(writer)
        return index, result

    def _serve(self, connection) -> None:
        """In a writer: write each chunk received until told to stop."""
        import traceback

        while True:
            task = connection.recv()
            if task is None:
                return
            index, chunk = task
            collector = logging.LogCollector()
            failure, result = None, None
            try:
                with collector.collect():
                    result = self.work(chunk)
            except BaseException as err:  # noqa: BLE001 - reported by the main process
                message = traceback.format_exception_only(err.__class__, err)[0].strip()
                failure = (message, traceback.format_exc())
            logging.convert_serializable(collector.logs)
            connection.send((index, failure, collector.logs, result))
            if failure is not None:
                return


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
