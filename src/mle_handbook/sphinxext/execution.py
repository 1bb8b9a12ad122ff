"""Execute the notebooks a build reads, check them, and give nbsphinx the executed copies.

Sphinx reads only new or changed documents, so a rebuild with nothing changed executes nothing.
When Sphinx has listed what it will read (``env-before-read-docs``), the notebooks among them are
handed to :mod:`mle_handbook.runner` in a process of its own, which executes them (or takes them
from the execution cache) while Sphinx reads the prose pages; the notebooks are moved to the end
of the reading order. When Sphinx reads a notebook (``source-read``, in Sphinx's own process or
in one of its forked readers) it waits for that notebook's result file and replaces the source by
the executed, decorated notebook (:func:`.pages.decorate`), which nbsphinx then renders.

A notebook that raises, or an exercise check that fails, produces one warning (an error under
``-W``) naming the notebook, the cells, the grade_ids and the exceptions; the notebook is
remembered as failed and re-read by the next build, so a failure never hides behind an
incremental build. The runner process ends when its work is done; if the build stops early, it is
stopped (with its kernels and Spark server) when the build finishes or its process ends.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from sphinx.util import logging

from ..budgets import finishing_order
from ..exercises.markers import project_meta
from ..runner import Job, Outcome, Plan, read_outcome
from . import alt_text, epub, pages

logger = logging.getLogger(__name__)

#: The folder, under the build's doctrees, where the runner leaves its results for one build.
RESULTS = "mle-handbook-runs"


@dataclass
class _Run:
    """The runner process of one build and what it was asked to run."""

    process: subprocess.Popen
    ended: int  # read end of a pipe whose only writer is the runner: readable once it has ended
    results: Path
    names: set[str] = field(default_factory=set)

    def outcome(self, name: str) -> Outcome:
        """Wait for ``name``'s result; works in Sphinx's process and in its forked readers."""
        while True:
            found = read_outcome(self.results, name)
            if found is not None:
                return found
            readable, _, _ = select.select([self.ended], [], [], 0.05)
            if readable:  # the runner has ended: whatever it wrote is there now
                found = read_outcome(self.results, name)
                return found or Outcome(
                    name, name, problem="the notebook runner stopped before this notebook ran"
                )

    def stop(self, *, wait_only: bool = False) -> None:
        """Wait for the runner to end; unless ``wait_only`` (or if it takes over a minute), ask
        it to stop first: on SIGTERM it stops its kernels and the Spark server, then exits."""
        if self.process.poll() is None and not wait_only:
            self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()
        os.close(self.ended)


#: The runner of each application object that is building (one per build; several in tests).
_RUNS: dict[int, _Run] = {}


def _is_notebook(env, docname: str) -> bool:
    return str(env.doc2path(docname)).endswith(".ipynb")


def _failed(env) -> set[str]:
    if not hasattr(env, "mle_handbook_failed"):
        env.mle_handbook_failed = set()
    return env.mle_handbook_failed


def failed_notebooks_are_outdated(app, env, added, changed, removed) -> list[str]:
    """``env-get-outdated``: re-read notebooks that failed last time, to report them again."""
    return sorted(d for d in _failed(env) if d in env.found_docs and d not in removed)


def merge_failed(app, env, docnames, other) -> None:
    """``env-merge-info``: failures found by Sphinx's parallel readers."""
    _failed(env).update(_failed(other) & set(docnames))


def _forced() -> bool:
    return os.environ.get("MLE_HANDBOOK_FORCE", "").lower() in ("1", "true", "yes")


def plan_for(app, env, notebooks: list[str], results: Path) -> Plan:
    cache = app.config.mle_handbook_cache_dir
    lock = Path(app.srcdir) / "requirements.lock"
    jobs = [
        Job(name, str(env.doc2path(name)), os.path.relpath(env.doc2path(name), app.srcdir))
        for name in notebooks
    ]
    return Plan(
        jobs=jobs,
        results=str(results),
        parallel=app.config.mle_handbook_jobs,
        timeout=app.config.mle_handbook_timeout,
        cache=str(Path(app.srcdir) / cache) if cache else "",
        lock=str(lock) if lock.exists() else "",
        force=_forced(),
    )


def start_notebooks(app, env, docnames: list[str]) -> None:
    """``env-before-read-docs``: start the runner on the notebooks about to be read, and read
    them last (``docnames`` is reordered in place, as the event allows)."""
    notebooks = sorted(d for d in docnames if _is_notebook(env, d))
    if not notebooks:
        return
    for name in notebooks:
        _failed(env).discard(name)
    results = Path(app.doctreedir) / RESULTS
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    plan = plan_for(app, env, notebooks, results)
    plan.dump(results / "plan.json")
    ended, runner_end = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "mle_handbook.runner", "--until-stdin-closes", "plan.json"],
        cwd=results,
        stdin=subprocess.PIPE,
        pass_fds=(runner_end,),
    )
    os.close(runner_end)
    _RUNS[id(app)] = _Run(process, ended, results, set(notebooks))
    cached = " (from the execution cache where unchanged)" if plan.cache and not plan.force else ""
    logger.info(
        f"running {len(notebooks)} notebook(s) in the background, {plan.parallel} at a time{cached}"
    )
    later = set(notebooks)
    docnames[:] = [d for d in docnames if d not in later] + _reading_order(env, notebooks, plan)


def _reading_order(env, notebooks: list[str], plan: Plan) -> list[str]:
    """The notebooks in the order they are expected to finish (:func:`.budgets.finishing_order`,
    from their declared budgets), so that a reader rarely waits for one while others are done.
    Only their metadata matters here; one that cannot be read goes last (the runner reports it)."""
    import json

    declared, unreadable = {}, []
    for name in notebooks:
        try:
            text = Path(env.doc2path(name)).read_text(encoding="utf-8")
            declared[name] = nbformat.from_dict({"metadata": json.loads(text).get("metadata", {})})
        except (OSError, ValueError, AttributeError):
            unreadable.append(name)
    spark = {n for n, nb in declared.items() if project_meta(nb).get("spark")}
    return finishing_order(declared, spark, plan.parallel) + unreadable


def use_executed_notebook(app, docname: str, source: list[str]) -> None:
    """``source-read``: replace a notebook's source by its executed, decorated copy, and report
    what went wrong in it."""
    run = _RUNS.get(id(app))
    if run is None or docname not in run.names:
        return
    outcome = run.outcome(docname)
    if outcome.problem:
        _failed(app.env).add(docname)
        logger.warning(outcome.problem, location=docname, type="mle_handbook", subtype=outcome.kind)
        return
    result = outcome.result
    if result.ok:
        how = "unchanged, taken from the execution cache" if outcome.cached else "executed"
        logger.info(
            f"{result.path}: {how}" + ("" if outcome.cached else f" in {result.seconds:.1f} s")
        )
    else:
        _failed(app.env).add(docname)
        logger.warning(result.report(), location=docname, type="mle_handbook", subtype="execution")
    for data in project_meta(result.notebook).get("data", []):
        app.env.note_dependency(str((Path(app.env.doc2path(docname)).parent / data).resolve()))
    folder = Path(app.env.doc2path(docname)).parent
    result.notebook = pages.reproducible(result.notebook, folder)
    page = pages.decorate(result, docname=docname, config=app.config, builder=app.builder.name)
    if epub.is_epub(app):
        page = epub.xhtml_safe_outputs(page)
    app.env.temp_data[alt_text.TEMP_KEY] = alt_text.figures_of(page, result.notebook)
    source[0] = nbformat.writes(page)


def finish_reading(app, env) -> None:
    """``env-updated``: every notebook has been read; the runner ends on its own (it may still be
    stopping the Spark server)."""
    run = _RUNS.get(id(app))
    if run is not None:
        run.stop(wait_only=True)


def stop_runner(app, exception) -> None:
    """``build-finished`` (also after a failed build): the runner is stopped and its results
    removed (after :func:`.downloads.write_notebook_downloads` has used them)."""
    run = _RUNS.pop(id(app), None)
    if run is None:
        return
    if run.process.returncode is None:
        run.stop()
    shutil.rmtree(run.results, ignore_errors=True)


def outcomes(app) -> dict[str, Outcome]:
    """This build's outcomes, by document name (for the downloads, at the end of the build)."""
    run = _RUNS.get(id(app))
    if run is None:
        return {}
    found = {name: read_outcome(run.results, name) for name in run.names}
    return {name: outcome for name, outcome in found.items() if outcome is not None}
