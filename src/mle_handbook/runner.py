"""Execute a set of notebooks in a process of its own, and leave one result file per notebook.

The Sphinx extension (:mod:`mle_handbook.sphinxext.execution`) and the benchmark start this as
``python -m mle_handbook.runner PLAN.json``. Keeping the kernels' driving out of Sphinx's process
leaves that process single-threaded, so Sphinx forks its own readers and writers as usual while
the notebooks run, and no Sphinx or docutils internals need to know about them.

For each notebook of the plan the runner, in order:

1. reads it and, for an exercise, checks its nbgrader format;
2. takes its executed copy from the execution cache (:mod:`mle_handbook.execution_cache`) when
   nothing it depends on changed, or else executes it in a fresh kernel, ``parallel`` at a time,
   the longest first (:func:`mle_handbook.budgets.execution_order`);
3. stores a successful run in the cache, and writes an :class:`Outcome` to
   ``RESULTS/<name>.pickle`` (atomically: a reader sees the whole file or none), together with the
   notebook's downloads (:func:`downloads_of`).

Notebooks that use Spark share one Spark Connect server, started when the first of them is about
to run (the others run meanwhile) and stopped when the last has finished. The runner ends when
its work is done, or as soon as the process that started it ends (its standard input closes) or
sends SIGTERM: then the server and every kernel are stopped first, so nothing is orphaned.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .budgets import execution_order
from .bundles import learner_files, zip_bytes
from .exercises.execute import ExecutionResult, collect_results, execute_notebook
from .exercises.markers import is_exercise, project_meta
from .exercises.student import clear_outputs, strip_hidden_tests
from .exercises.validate import ExerciseFormatError, validate
from .files import write_bytes_atomic


@dataclass
class Job:
    """One notebook to run: its document name, its file, and how messages name it."""

    name: str
    path: str
    label: str


@dataclass
class Plan:
    jobs: list[Job]
    results: str
    parallel: int = 2
    timeout: int = 180
    cache: str = ""  # the execution cache's folder; empty: no cache
    lock: str = ""  # requirements.lock, part of every cached notebook's key
    force: bool = False  # execute even what the cache holds

    def dump(self, path: str | Path) -> None:
        data = dict(self.__dict__, jobs=[job.__dict__ for job in self.jobs])
        Path(path).write_text(json.dumps(data, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        data["jobs"] = [Job(**job) for job in data["jobs"]]
        return cls(**data)


@dataclass
class Outcome:
    """What became of one notebook: a result (executed or cached), or a problem that stopped it
    before it could run (unreadable, malformed exercise, no Java for Spark)."""

    name: str
    label: str
    result: ExecutionResult | None = None
    cached: bool = False
    problem: str = ""
    kind: str = "execution"  # Sphinx warning subtype: "execution" or "format"
    downloads: dict[str, bytes] = field(default_factory=dict)  # suffix -> file content

    @property
    def ok(self) -> bool:
        return not self.problem and self.result is not None and self.result.ok


def result_file(results: str | Path, name: str) -> Path:
    return Path(results) / (name.replace("/", "__") + ".pickle")


def read_outcome(results: str | Path, name: str) -> Outcome | None:
    """The outcome written for ``name``, or None if there is none (yet)."""
    try:
        return pickle.loads(result_file(results, name).read_bytes())
    except FileNotFoundError:
        return None


def downloads_of(nb: nbformat.NotebookNode, path: Path) -> dict[str, bytes]:
    """A notebook's downloads, by the suffix the site gives them: the notebook without outputs
    (and without hidden tests) as ``.ipynb``; for an exercise also the student notebook and a zip
    of it with its data files."""
    full = clear_outputs(strip_hidden_tests(nb) if is_exercise(nb) else nb)
    files = {".ipynb": nbformat.writes(full).encode("utf-8")}
    if is_exercise(nb):
        learner = learner_files(path, nb)
        files["-student.ipynb"] = learner[path.name]
        files["-student.zip"] = zip_bytes(learner, path.stem)
    return files


class Runner:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.cache = None
        if plan.cache:
            from .execution_cache import ExecutionCache

            self.cache = ExecutionCache(plan.cache, lock=plan.lock or None)
        self.store_lock = threading.Lock()
        self.server = None
        self.server_ready = threading.Event()
        self.server_problem = ""
        self.spark_left = 0
        self.spark_lock = threading.Lock()

    # -- outcomes --------------------------------------------------------------------------------
    def write(self, outcome: Outcome) -> None:
        write_bytes_atomic(result_file(self.plan.results, outcome.name), pickle.dumps(outcome))

    def prepare(self, job: Job) -> tuple[Outcome, nbformat.NotebookNode | None]:
        """Read and check one notebook; an outcome with a problem if it cannot run."""
        outcome = Outcome(job.name, job.label)
        try:
            nb = nbformat.read(job.path, as_version=4)
        except Exception as exc:  # noqa: BLE001 - any unreadable notebook is reported, not raised
            outcome.problem = f"cannot read notebook {job.label}: {exc}"
            return outcome, None
        if is_exercise(nb):
            try:
                validate(nb, job.label)
            except ExerciseFormatError as exc:
                outcome.problem, outcome.kind = str(exc), "format"
                return outcome, None
        return outcome, nb

    def finish(self, job: Job, nb: nbformat.NotebookNode | None, outcome: Outcome) -> None:
        """Add the notebook's downloads to its outcome and write the outcome."""
        if nb is not None:
            try:
                outcome.downloads = downloads_of(nb, Path(job.path))
            except OSError as exc:  # a declared data file is missing
                outcome.problem, outcome.kind = str(exc), "format"
        self.write(outcome)

    def from_cache(self, job: Job, nb: nbformat.NotebookNode) -> ExecutionResult | None:
        if self.cache is None or self.plan.force:
            return None
        executed = self.cache.lookup(nb, Path(job.path))
        if executed is None:
            return None
        failures, checks = collect_results(executed)
        if failures:  # only successful runs are stored; anything else is a miss
            return None
        return ExecutionResult(job.label, executed, failures, checks, 0.0)

    # -- Spark ----------------------------------------------------------------------------------
    def start_server(self) -> None:
        try:
            from .spark.java import JavaNotFound, find_java
            from .spark.server import ConnectServer

            try:
                find_java()
            except JavaNotFound as exc:
                self.server_problem = str(exc)
                return
            self.server = ConnectServer().start()
            os.environ["SPARK_REMOTE"] = self.server.url  # kernels started later inherit it
        except Exception as exc:  # noqa: BLE001 - reported on every Spark notebook
            self.server_problem = f"could not start the Spark Connect server: {exc}"
        finally:
            self.server_ready.set()

    def stop_server(self) -> None:
        server, self.server = self.server, None
        os.environ.pop("SPARK_REMOTE", None)
        if server is not None:
            server.stop()

    # -- running ----------------------------------------------------------------------------------
    def run_one(self, job: Job, nb: nbformat.NotebookNode, outcome: Outcome, spark: bool) -> None:
        try:
            if spark:
                self.server_ready.wait()
                if self.server_problem:
                    outcome.problem = f"{job.label} uses Spark: {self.server_problem}"
                    return
            timeout = int(project_meta(nb).get("timeout", self.plan.timeout))
            cwd = str(Path(job.path).parent)
            outcome.result = execute_notebook(nb, path=job.label, cwd=cwd, timeout=timeout)
            if outcome.ok and self.cache is not None:
                with self.store_lock:
                    try:
                        self.cache.store(outcome.result.notebook, Path(job.path), uri=job.label)
                    except Exception as exc:  # noqa: BLE001 - a cache that fails only costs time
                        print(
                            f"execution cache: could not store {job.label}: {exc}", file=sys.stderr
                        )
        except Exception as exc:  # noqa: BLE001 - reported as this notebook's problem
            outcome.problem = f"{job.label}: could not execute the notebook: {exc!r}"
        finally:
            self.finish(job, nb, outcome)
            if spark:
                with self.spark_lock:
                    self.spark_left -= 1
                    last = not self.spark_left
                if last:
                    self.stop_server()

    def run(self) -> None:
        Path(self.plan.results).mkdir(parents=True, exist_ok=True)
        to_run: dict[str, tuple[Job, nbformat.NotebookNode, Outcome]] = {}
        for job in self.plan.jobs:
            outcome, nb = self.prepare(job)
            if nb is not None:
                outcome.result = self.from_cache(job, nb)
                outcome.cached = outcome.result is not None
            if nb is not None and not outcome.cached:
                to_run[job.name] = (job, nb, outcome)
            else:
                self.finish(job, nb, outcome)
        if not to_run:
            return
        own_spark = not (os.environ.get("SPARK_REMOTE") or os.environ.get("SPARK_MASTER"))
        spark = {
            n for n, (_, nb, _) in to_run.items() if own_spark and project_meta(nb).get("spark")
        }
        self.spark_left = len(spark)
        if spark:
            threading.Thread(target=self.start_server, name="spark-connect", daemon=True).start()
        notebooks = {name: nb for name, (_, nb, _) in to_run.items()}
        with ThreadPoolExecutor(max_workers=max(1, self.plan.parallel)) as pool:
            for name in execution_order(notebooks, spark):
                job, nb, outcome = to_run[name]
                pool.submit(self.run_one, job, nb, outcome, name in spark)

    def shut_down(self) -> None:
        """Stop the server and every process this one started (kernels), at once."""
        import psutil

        try:
            self.stop_server()
        finally:
            for child in psutil.Process().children(recursive=True):
                try:
                    child.kill()
                except psutil.Error:
                    pass


def _stop_when_parent_ends(runner: Runner) -> None:
    """End the run when standard input closes (the starting process ended) or on SIGTERM."""

    def stop(*_):
        runner.shut_down()
        os._exit(1)

    def watch() -> None:
        # The file descriptor itself, not sys.stdin: a daemon thread blocked in a buffered read
        # holds the buffer's lock, which aborts the interpreter's shutdown.
        while os.read(sys.stdin.fileno(), 1024):
            pass
        stop()

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mle_handbook.runner", description=__doc__)
    parser.add_argument("plan", help="the plan: a JSON file written by Plan.dump")
    parser.add_argument(
        "--until-stdin-closes",
        action="store_true",
        help="stop everything when standard input closes (the starting process has ended)",
    )
    args = parser.parse_args(argv)
    runner = Runner(Plan.load(args.plan))
    if args.until_stdin_closes:
        _stop_when_parent_ends(runner)
    try:
        runner.run()
    finally:
        runner.stop_server()
        if runner.cache is not None:
            runner.cache.close()
    return 0


if __name__ == "__main__":
    # Through the module's own name, so that the outcomes it pickles name
    # ``mle_handbook.runner.Outcome``, not ``__main__.Outcome``.
    from mle_handbook.runner import main as runner_main

    sys.exit(runner_main())
