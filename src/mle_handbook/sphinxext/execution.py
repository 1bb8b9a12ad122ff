"""Execute the notebooks a build reads, check them, and give nbsphinx the executed copies.

Sphinx reads only new or changed documents, so a rebuild with nothing changed executes nothing.
Before reading, every notebook about to be read is validated (exercises) and starts executing in
its own fresh kernel, several at a time, in background threads; Sphinx reads the prose pages
meanwhile and each notebook once it has run. A notebook that raises, or an exercise check that
fails, produces one warning (an error under ``-W``) naming the notebook, the cells, the grade_ids
and the exceptions; the notebook is remembered as failed and re-read by the next build, so a
failure never hides behind an incremental build. Notebooks that use Spark share one Spark Connect
server, started once per build and stopped as soon as the last of them has run, or when the build
ends, also when it fails.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import nbformat
from sphinx.errors import SphinxError
from sphinx.util import logging

from ..budgets import execution_order, finishing_order
from ..exercises.execute import (
    ExecutionResult,
    collect_results,
    execute_in_environment,
    start_worker,
    warm_up,
)
from ..exercises.markers import is_exercise, project_meta
from ..exercises.validate import ExerciseFormatError, validate
from . import collection, pages, pandoc_batch, speedups

logger = logging.getLogger(__name__)

#: How much lower Sphinx's reading thread runs while notebooks execute (see
#: :meth:`_Running._yield_to_notebooks`): at 10, the scheduler gives it about a tenth of the
#: share of a core a kernel gets when both want one.
NICENESS = 10


#: Worker processes started with the extension (the default of ``mle_handbook_jobs``; config
#: values are not known yet when extensions load).
EARLY_WORKERS = 2


def _spawn_workers(jobs: int, folders: tuple[str, ...] = ()) -> ProcessPoolExecutor:
    """``jobs`` worker processes; with ``folders``, each starts a kernel ahead in one of them."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=start_worker,
        initargs=(os.getpid(), folders, context.Value("i", 0) if folders else None),
    )


def _configured(app, name: str, default):
    """A config value as ``conf.py`` or ``-D`` sets it, before Sphinx applies them (once every
    extension has loaded); ``default`` where Sphinx keeps them elsewhere than 9.0 does."""
    overrides = getattr(app.config, "_overrides", {})
    return overrides.get(name, getattr(app.config, "_raw_config", {}).get(name, default))


def _will_execute_everything(app) -> bool:
    """Whether this build is a clean one (no saved environment) whose notebooks the execution
    cache cannot hold: none is configured, it is empty, or re-execution is forced."""
    if (Path(app.doctreedir) / "environment.pickle").exists():
        return False
    cache = _configured(app, "mle_handbook_cache_dir", "")
    if not cache or _forced():
        return True
    from ..execution_cache import DATABASE

    return not (Path(app.srcdir) / cache / DATABASE).exists()


def start_workers_early(app) -> None:
    """On a clean build that will execute its notebooks (:func:`_will_execute_everything`), start
    the worker processes that drive the kernels as soon as this extension loads. Each takes
    about 0.5 s to start and import nbclient, and then starts a kernel (about 1 s) in the folder
    of one of the first notebooks, which would otherwise wait for both; meanwhile Sphinx loads the
    other extensions. (Where the cache may hold the notebooks, starting
    them would only take CPU from that loading: 0.3 s of a cached build.) :class:`_Running` adopts
    them; a build that executes nothing after all stops them when reading starts."""
    if not _will_execute_everything(app):
        return
    workers = _spawn_workers(EARLY_WORKERS, tuple(_first_folders(app, EARLY_WORKERS)))
    for _ in range(EARLY_WORKERS):  # one task each: both processes start at once
        workers.submit(warm_up)
    app._mle_workers = workers


def _first_folders(app, count: int) -> list[str]:
    """The folders of the first ``count`` notebooks the build will execute (found as
    :func:`_notebooks_to_read` finds them, from the settings in ``conf.py``), where each worker
    starts a kernel ahead (:func:`~mle_handbook.exercises.execute.start_kernel_ahead`): the
    first notebooks then wait for no kernel to start. Spark notebooks, which wait for the
    server, are never first. A wrong guess only costs a kernel that waits unused."""
    from sphinx.project import Project

    exclude = [
        *_configured(app, "exclude_patterns", []),
        *_configured(app, "templates_path", []),
        *_configured(app, "html_static_path", []),
    ]
    try:
        found = Project(app.srcdir, {".ipynb": "jupyter_notebook"}).discover(
            exclude, _configured(app, "include_patterns", ["**"])
        )
        notebooks = {
            name: nbformat.read(Path(app.srcdir, f"{name}.ipynb"), as_version=4)
            for name in sorted(found)
        }
    except Exception:  # noqa: BLE001 - only a guess: reading reports any problem properly
        return []
    spark = {name for name, nb in notebooks.items() if needs_spark(nb)}
    first = [name for name in execution_order(notebooks, spark) if name not in spark][:count]
    return [str(Path(app.srcdir, name).parent) for name in first]


def _adopt_workers(app, jobs: int) -> ProcessPoolExecutor:
    """The workers :func:`start_workers_early` started if there are enough, else new ones."""
    early = getattr(app, "_mle_workers", None)
    if early is not None and jobs <= EARLY_WORKERS:
        app._mle_workers = None
        return early
    release_workers(app)
    return _spawn_workers(jobs)


def release_workers(app) -> None:
    """Stop early workers no notebook needed."""
    early = getattr(app, "_mle_workers", None)
    app._mle_workers = None
    if early is not None:
        early.shutdown(wait=False, cancel_futures=True)


def _is_notebook(env, docname: str) -> bool:
    return str(env.doc2path(docname)).endswith(".ipynb")


def _failed(env) -> set[str]:
    if not hasattr(env, "mle_handbook_failed"):
        env.mle_handbook_failed = set()
    return env.mle_handbook_failed


def failed_notebooks_are_outdated(app, env, added, changed, removed) -> list[str]:
    """Re-read notebooks that failed last time, so the failure is reported again."""
    return sorted(d for d in _failed(env) if d in env.found_docs and d not in removed)


def needs_spark(nb: nbformat.NotebookNode) -> bool:
    return bool(project_meta(nb).get("spark"))


def _server_needed(app, notebooks: dict[str, nbformat.NotebookNode]) -> bool:
    """Whether this build must start its own Spark Connect server; checks Java first, so that a
    machine without one stops the build at once with a message saying what to install."""
    if not any(needs_spark(nb) for nb in notebooks.values()):
        return False
    if os.environ.get("SPARK_REMOTE") or os.environ.get("SPARK_MASTER"):
        return False  # the user points at their own Spark
    if getattr(app, "_mle_spark_server", None) is not None:
        return False
    from ..java import JavaNotFound, find_java

    try:
        find_java()
    except JavaNotFound as exc:
        raise SphinxError(str(exc)) from None
    return True


def _start_server(app) -> None:
    """One Spark Connect server for the whole build; kernels started later inherit its URL."""
    from ..spark_server import ConnectServer

    logger.info("starting one Spark Connect server for this build's notebooks")
    try:
        server = ConnectServer().start()
    except Exception as exc:  # noqa: BLE001 - reported as a clear build error
        raise SphinxError(f"could not start the Spark Connect server: {exc}") from None
    app._mle_spark_server = server
    os.environ["SPARK_REMOTE"] = server.url


def stop_services(app, exception) -> None:
    """At the end of a build: stop executing (a build that failed while reading) and the server."""
    running = getattr(app, "_mle_running", None)
    if running is not None:
        running.close()
        app._mle_running = None
    release_workers(app)
    _stop_server(app)
    stopping = getattr(app, "_mle_spark_stopping", None)
    if stopping is not None:
        stopping.join()
        app._mle_spark_stopping = None


def _stop_server(app, *, wait: bool = True) -> None:
    """Stop the build's Spark server, if it runs: after its last notebook, or at the end.

    After the last Spark notebook (``wait=False``) the server is stopped in a thread of its own:
    the JVM takes a moment to shut down, and the build reads that notebook and writes the pages
    meanwhile; :func:`stop_services` waits for it before the build ends."""
    server = getattr(app, "_mle_spark_server", None)
    if server is None:
        return
    app._mle_spark_server = None
    os.environ.pop("SPARK_REMOTE", None)
    if wait:
        server.stop()
    else:
        app._mle_spark_stopping = threading.Thread(
            target=server.stop, name="spark-connect-stop", daemon=True
        )
        app._mle_spark_stopping.start()


def _cache(app):
    """The execution cache, when the build asks for one (``make html`` does; tests and CI do not)."""
    if not app.config.mle_handbook_cache_dir:
        return None
    from ..execution_cache import ExecutionCache

    path = Path(app.srcdir) / app.config.mle_handbook_cache_dir
    return ExecutionCache(path, lock=Path(app.srcdir) / "requirements.lock")


def _forced() -> bool:
    return os.environ.get("MLE_HANDBOOK_FORCE", "").lower() in ("1", "true", "yes")


def _cached_result(app, cache, docname, nb) -> ExecutionResult | None:
    if _forced():
        return None
    source = Path(app.env.doc2path(docname))
    executed = cache.lookup(nb, source)
    if executed is None:
        return None
    failures, checks = collect_results(executed)
    if failures:  # only successful runs are stored; anything else is treated as a miss
        return None
    return ExecutionResult(os.path.relpath(source, app.srcdir), executed, failures, checks, 0.0)


def _notebooks_to_read(app) -> list[str]:
    """The notebooks a build with a fresh environment will read, found as
    ``BuildEnvironment.find_files`` finds them (a notebook found here but not read after all is
    executed in vain; one read but not found here starts when reading begins)."""
    exclude = [
        *app.config.exclude_patterns,
        *app.config.templates_path,
        *app.builder.get_asset_paths(),
    ]
    found = app.project.discover(exclude, app.config.include_patterns)
    return sorted(d for d in found if _is_notebook(app.env, d))


def start_notebooks_early(app) -> None:
    """On a clean build (``-E``, or no saved environment) Sphinx reads every notebook: start them
    as soon as the builder exists (``builder-inited``), before Sphinx loads its inventories and
    bibliographies and lists its sources, while one core is otherwise idle (about 1.5 s sooner on
    2 cores). Incremental builds start their notebooks in :func:`execute_notebooks`."""
    if not app.fresh_env_used:
        return
    _start(app, app.env, _notebooks_to_read(app))


def execute_notebooks(app, env, docnames: list[str]) -> None:
    """Validate every notebook Sphinx is about to read and start executing it in the background
    (unless :func:`start_notebooks_early` did).

    Sphinx then reads the prose pages while the kernels run, and reads each notebook when its
    execution has finished (see :func:`use_executed_notebook`): ``docnames`` is reordered in
    place, prose first and notebooks in the order they are expected to finish. Reading is serial
    while notebooks run, since forked reader processes could not wait for this process's threads;
    writing stays parallel.
    """
    _start(app, env, sorted(d for d in docnames if _is_notebook(env, d)))
    running = getattr(app, "_mle_running", None)
    if running is None:
        release_workers(app)  # nothing to execute
        return
    running.no_more()
    reading = set(docnames)
    later = finishing_order(running.notebooks, running.waiting, running.jobs)
    docnames[:] = [d for d in docnames if d not in running.notebooks]
    docnames += [d for d in later if d in reading]
    if app.parallel > 1:
        app._mle_parallel, app.parallel = app.parallel, 1


def _start(app, env, docnames: list[str]) -> None:
    """Read and validate the notebooks not yet seen this build, take those the cache holds, and
    start executing the rest."""
    seen = app.__dict__.setdefault("_mle_seen", set())
    executed = app.__dict__.setdefault("_mle_executed", {})
    notebooks: dict[str, nbformat.NotebookNode] = {}
    for docname in docnames:
        if docname in seen:
            continue
        seen.add(docname)
        # Not in env-purge-doc: Sphinx purges each document again just before reading it.
        _failed(env).discard(docname)
        path = Path(env.doc2path(docname))
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:  # noqa: BLE001 - any unreadable notebook is reported, not raised
            logger.warning(f"cannot read notebook: {exc}", location=docname)
            _failed(env).add(docname)
            continue
        if is_exercise(nb):
            try:
                validate(nb, os.path.relpath(path, app.srcdir))
            except ExerciseFormatError as exc:
                logger.warning(str(exc), location=docname, type="mle_handbook", subtype="format")
                _failed(env).add(docname)
                continue
        notebooks[docname] = nb
    cache = _cache(app)
    if cache is not None:
        for docname in list(notebooks):
            hit = _cached_result(app, cache, docname, notebooks[docname])
            if hit is not None:
                logger.info(f"{hit.path}: unchanged, outputs taken from the execution cache")
                executed[docname] = hit
                del notebooks[docname]
    if not notebooks:
        return
    running = getattr(app, "_mle_running", None)
    if running is None:
        jobs = max(1, min(app.config.mle_handbook_jobs, len(notebooks)))
        running = app._mle_running = _Running(app, jobs, cache)
    logger.info(
        f"executing {len(notebooks)} notebook(s), {running.jobs} at a time, while reading the rest"
    )
    running.submit(notebooks)


class _Running:
    """Notebooks executing in background threads, ``jobs`` at a time, in :func:`execution_order`.

    The Spark Connect server (about 7 s to start) starts in a thread of its own while the
    notebooks that do not need it run; those that do wait for it.
    """

    def __init__(self, app, jobs: int, cache) -> None:
        self.app, self.jobs, self.cache = app, jobs, cache
        self.notebooks: dict[str, nbformat.NotebookNode] = {}
        self.waiting: set[str] = set()
        self.futures = {}
        self.ready, self.problems = threading.Event(), []
        self.lock, self.spark_left = threading.Lock(), 0
        self.starter: threading.Thread | None = None
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="mle-execute")
        # Kernels are driven from worker processes, not from this one: nbclient answers every
        # message a kernel sends, and in this process it would wait for Sphinx (reading pages,
        # holding the GIL) while the kernel sat idle.
        self.workers = _adopt_workers(app, jobs)
        self.yielding = False
        # Notebooks submitted and not yet run; once none is left and no more can come (see
        # :meth:`no_more`), the worker processes stop in the background (:meth:`_wind_down`).
        self.unfinished, self.final = 0, False
        self.closing: threading.Thread | None = None

    def _yield_to_notebooks(self) -> None:
        """Lower this thread's CPU priority while the notebooks run.

        The notebooks are the build's critical path; what Sphinx does meanwhile (reading the
        other pages, converting the executed notebooks) is not, as long as it is done by the
        time the last notebook finishes. So the thread that reads (and the pandoc processes it
        starts) takes a lower priority, and the kernels, the worker processes that drive them
        and the Spark server get the cores first. Every process that must keep the normal
        priority is started before (the workers here, the server's thread in :meth:`submit`);
        on Linux a priority belongs to one thread and is inherited by what it starts.
        """
        if self.yielding or not sys.platform.startswith("linux"):
            return  # elsewhere a priority belongs to the whole process, kernels' parent included
        for _ in range(self.jobs):  # start every worker process now, at the normal priority
            self.workers.submit(int)
        try:
            self.priority = os.getpriority(os.PRIO_PROCESS, 0)
            os.setpriority(os.PRIO_PROCESS, 0, min(self.priority + NICENESS, 19))
        except OSError:
            return
        self.yielding = True

    def _restore_priority(self) -> None:
        """Back to the normal priority for writing, where the system allows it (raising a
        priority again needs privileges most users lack; on an otherwise idle machine the lower
        one makes no difference to the writing)."""
        if self.yielding:
            self.yielding = False
            try:
                os.setpriority(os.PRIO_PROCESS, 0, self.priority)
            except OSError:
                pass

    def submit(self, notebooks: dict[str, nbformat.NotebookNode]) -> None:
        spark = {d for d, nb in notebooks.items() if needs_spark(nb)}
        if spark and self.starter is None:
            if _server_needed(self.app, notebooks):
                self.starter = threading.Thread(
                    target=self._start_server, name="spark-connect-start", daemon=True
                )
                self.starter.start()
            else:
                spark = set()  # the user's own Spark, or one already running
        with self.lock:
            self.spark_left += len(spark)
            self.unfinished += len(notebooks)
        self.waiting |= spark
        self.notebooks.update(notebooks)
        for docname in execution_order(notebooks, spark):
            self.futures[docname] = self.pool.submit(self._run, docname)
        self._yield_to_notebooks()

    def _start_server(self) -> None:
        try:
            _start_server(self.app)
        except SphinxError as exc:
            self.problems.append(exc)
        finally:
            self.ready.set()

    def _run(self, docname: str) -> ExecutionResult | None:
        try:
            if docname not in self.waiting:
                return self._execute(docname)
            try:
                self.ready.wait()
                if self.problems:
                    return None
                return self._execute(docname)
            finally:
                with self.lock:
                    self.spark_left -= 1
                    if not self.spark_left:  # the last Spark notebook: stop the server now
                        _stop_server(self.app, wait=False)
        finally:
            with self.lock:
                self.unfinished -= 1
                if not self.unfinished and self.final:
                    self._wind_down()

    def no_more(self) -> None:
        """No notebook will be submitted after this: once the last has run, the workers stop."""
        with self.lock:
            self.final = True
            if not self.unfinished:
                self._wind_down()

    def _wind_down(self) -> None:
        """Stop the worker processes (and the kernels they keep ready) in a thread of their own,
        while Sphinx reads the last notebook and begins writing: it took 0.28 s, at the end of
        reading, on the path of every clean build that executes notebooks."""
        if self.closing is None:
            self.closing = threading.Thread(
                target=self.workers.shutdown, name="mle-workers-stop", daemon=True
            )
            self.closing.start()

    def _execute(self, docname: str) -> ExecutionResult:
        nb = self.notebooks[docname]
        source = Path(self.app.env.doc2path(docname))
        timeout = int(project_meta(nb).get("timeout", self.app.config.mle_handbook_timeout))
        result = self.workers.submit(
            execute_in_environment,
            nb,
            {"SPARK_REMOTE": os.environ.get("SPARK_REMOTE")},  # the server started after the worker
            path=os.path.relpath(source, self.app.srcdir),
            cwd=str(source.parent),
            timeout=timeout,
        ).result()
        language = result.notebook.metadata.get("language_info", {})
        speedups.load_lexer(language.get("pygments_lexer"))
        return result

    def result(self, docname: str) -> ExecutionResult | None:
        """Wait for one notebook; report it (a warning if it failed) and cache it if it passed."""
        future = self.futures.pop(docname, None)
        if future is None:
            return None
        result = future.result()
        if result is None:
            raise self.problems[0]
        if result.ok:
            logger.info(f"{result.path}: executed in {result.seconds:.1f} s")
            if self.cache is not None:
                source = Path(self.app.env.doc2path(docname))
                self.cache.store(result.notebook, source, uri=result.path)
        else:
            _failed(self.app.env).add(docname)
            logger.warning(
                result.report(), location=docname, type="mle_handbook", subtype="execution"
            )
        return result

    def close(self) -> None:
        """Let running notebooks finish (their kernels are then shut down), start no more."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        with self.lock:
            closing = self.closing
        if closing is not None:  # already stopping: wait for it (never two shutdowns at once)
            closing.join()
        else:
            self.workers.shutdown(wait=True, cancel_futures=True)
        if self.starter is not None:
            self.starter.join()
        self._restore_priority()


def finish_reading(app, env) -> None:
    """After reading: every notebook has been waited for; writing may use every core again."""
    running = getattr(app, "_mle_running", None)
    if running is not None:
        for docname in list(running.futures):  # not read (e.g. removed while running): waited for
            running.result(docname)
        running.close()
        app._mle_running = None
    if getattr(app, "_mle_parallel", None):
        app.parallel, app._mle_parallel = app._mle_parallel, None


def use_executed_notebook(app, docname: str, source: list[str]) -> None:
    """Replace a notebook's source text by its executed, decorated copy."""
    if not _is_notebook(app.env, docname):
        return
    running = getattr(app, "_mle_running", None)
    if running is not None and docname in running.futures:
        if not running.futures[docname].done():
            # Waiting anyway: convert the Markdown of the notebooks still running meanwhile, and
            # highlight the code of this one (at this thread's lower priority). Exercise pages
            # show their code changed (solutions, tests), so only the writer can highlight it.
            for waiting in running.futures:
                pandoc_batch.prefetch(running.notebooks[waiting])
            if not is_exercise(running.notebooks[docname]):
                speedups.highlight_ahead(app, running.notebooks[docname])
            speedups.prepare_writing_ahead(app)
            speedups.format_bibliography_ahead(app)
            collection.collect_and_freeze(app)
        app._mle_executed[docname] = running.result(docname)
    result = getattr(app, "_mle_executed", {}).get(docname)
    if result is None:
        return
    for data in project_meta(result.notebook).get("data", []):
        app.env.note_dependency(str((Path(app.env.doc2path(docname)).parent / data).resolve()))
    page = pages.decorate(result, docname=docname, config=app.config, builder=app.builder.name)
    pandoc_batch.prefetch(page)  # what the waiting above did not convert
    source[0] = nbformat.writes(page)
