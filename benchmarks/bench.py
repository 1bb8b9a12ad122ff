"""Build benchmark (``make bench``): how long the handbook takes to build, and where the time goes.

Every measurement runs on a private copy of the sources (``conf.py``, ``index.md``, ``docs/``,
``notebooks/``, ``exercises/`` and the lock) with its own output and cache folders, so the
benchmark never touches the working tree, ``_build/html`` or the execution cache of ``make html``.
Each run, side by side on the same machine:

1. **uncached clean build**: ``sphinx-build -E`` with an empty execution cache (what CI does);
2. **notebooks alone**: the same notebooks executed by plain nbclient, with the same kernels,
   the same parallelism and order and the same shared Spark Connect server, and nothing else.
   The build's overhead is (1) divided by (2);
3. **cached clean build**: the output folder deleted, the cache from (1) kept;
4. **no-op rebuild** and **rebuild after editing one prose page**: both must execute nothing.

The cached clean build always comes straight after the uncached one it is a fraction of; the
notebooks alone run before that pair in every other run and after it in the rest, so that a
machine whose speed drifts during the benchmark favours neither side of the overhead. Before each
scenario the benchmark waits for every process of the one before to end and for the machine to
be idle (:func:`settle`), and the report lists every run's figures, not only their medians.

Every build and execution runs in a child process whose whole process tree (kernels, the JVM) is
sampled for memory every 0.5 s; the bench process makes itself a child subreaper so that no
daemon escapes the count. Memory is the proportional set size (PSS) summed over the tree: each
page shared by several processes is split between them, so pages a forked JVM child still shares
with its parent, or libraries every kernel maps, are counted once, as a container's memory limit
counts them. (Summed resident set sizes counted such pages in every process: a short-lived fork
of the 1 GB Spark JVM made one sample 2.5 GB.) Reading a JVM's PSS costs about 15 ms and holds
its memory-map lock, so sampling every 0.1 s slowed a build by a fifth; every 0.5 s it does not
show, and the build's memory is a plateau (kernels and the JVM), not a spike.

After the runs come the Spark costs (a local SparkSession's start-up against a Spark Connect
client's, to show what sharing one server saves), grading throughput (``benchmarks/bench_grading.py``) and
the Read the Docs check: a clean clone, a cold install with ``.readthedocs.yaml``'s own commands
and Read the Docs' build commands, timed and sampled against the limits this project designs for
(:data:`RTD_LIMITS`). Medians are reported over ``--runs`` runs; the report is written as
``bench.md`` and ``bench.json`` in ``--out``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import nbformat
import psutil

from mle_handbook.budgets import budget_of, execution_order

ROOT = Path(__file__).resolve().parents[1]

#: The limits of a Read the Docs build this project designs for (its free tier: 15 minutes and
#: 3 GB of memory per build; see https://docs.readthedocs.io/en/stable/builds.html).
RTD_LIMITS = {"seconds": 15 * 60, "memory_mb": 3 * 1024}

#: The targets of the performance issue, as ratios measured side by side in one run.
TARGETS = {"overhead": 1.10}


def _make_flags() -> list[str]:
    """What ``make html`` passes to Sphinx: the Makefile's SPHINXFLAGS, read from the Makefile."""
    found = re.search(
        r"^SPHINXFLAGS := (.*?) \$\(SPHINXOPTS\)$", (ROOT / "Makefile").read_text(), re.M
    )
    if not found:
        raise RuntimeError("the Makefile's SPHINXFLAGS line was not found")
    return found.group(1).split()


#: What ``make html`` passes to sphinx-build.
SPHINX_FLAGS = _make_flags()

#: The files a build reads, copied into each benchmark's private source folder.
SOURCES = ("conf.py", "index.md", "requirements.lock", "pyproject.toml")
SOURCE_DIRS = ("docs", "notebooks", "exercises")

#: The prose page edited for the "one prose page" rebuild.
PROSE_PAGE = "docs/glossary.md"

_EXECUTED = re.compile(r"\.ipynb: executed in ")
_PR_SET_CHILD_SUBREAPER = 36


# --- sampling ---------------------------------------------------------------------------------


def become_subreaper() -> bool:
    """Adopt orphaned descendants (daemons that double-fork) so the sampler still sees them."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _is_spark_jvm(cmdline: list[str]) -> bool:
    """A Spark driver JVM (a local session's or the Connect server's). Not counted: the short
    launcher JVM ``spark-class`` runs first to work out the command line, the shell subprocess
    that reads its output (its command line names SparkSubmit too), and ``java -version``."""
    return (
        bool(cmdline)
        and os.path.basename(cmdline[0]).startswith("java")
        and "org.apache.spark.deploy.SparkSubmit" in cmdline
        and "org.apache.spark.launcher.Main" not in cmdline
    )


def _kernel_file(cmdline: list[str]) -> str | None:
    if not any("ipykernel_launcher" in part for part in cmdline):
        return None
    for flag in ("-f", "--f"):
        if flag in cmdline[:-1]:
            return os.path.abspath(cmdline[cmdline.index(flag) + 1])
    return None


@dataclass
class TreeSample:
    """What :class:`Sampler` saw of one process tree."""

    peak_mb: float = 0.0
    jvm_pids: set[int] = field(default_factory=set)
    #: What each counted JVM ran (its main class and arguments, shortened), by process id.
    jvm_commands: dict[int, str] = field(default_factory=dict)
    #: Peak memory (PSS) of each kernel (with its children), by its connection file.
    kernel_peak_mb: dict[str, float] = field(default_factory=dict)


class Sampler:
    """Samples the memory (PSS) of a process and all its descendants every ``interval``."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.sample = TreeSample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.take()
            self._stop.wait(self.interval)

    def take(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        total, pss, kernels = 0, {}, {}
        for proc in procs:
            try:
                info = proc.memory_full_info()
                # PSS is Linux's; elsewhere RSS, an upper bound.
                pss[proc.pid] = getattr(info, "pss", info.rss)
                cmdline = proc.cmdline()
            except psutil.Error:
                continue
            total += pss[proc.pid]
            if _is_spark_jvm(cmdline):
                self.sample.jvm_pids.add(proc.pid)
                main = cmdline.index("org.apache.spark.deploy.SparkSubmit")
                self.sample.jvm_commands[proc.pid] = " ".join(cmdline[main:])[-200:]
            connection = _kernel_file(cmdline)
            if connection:
                kernels[connection] = proc
        self.sample.peak_mb = max(self.sample.peak_mb, total / 2**20)
        for connection, proc in kernels.items():
            try:
                tree = [proc, *proc.children(recursive=True)]
            except psutil.Error:
                continue
            used = sum(pss.get(p.pid, 0) for p in tree) / 2**20
            peaks = self.sample.kernel_peak_mb
            peaks[connection] = max(peaks.get(connection, 0.0), used)


@dataclass
class Timed:
    seconds: float
    returncode: int
    peak_mb: float
    jvm_starts: int
    output: str
    jvm_commands: list[str] = field(default_factory=list)


def run_sampled(command: list[str], *, cwd: Path | None = None, env: dict | None = None) -> Timed:
    """Run ``command``, timing it and sampling its process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with Sampler(proc.pid) as sampler:
        output, _ = proc.communicate()
    seconds = time.perf_counter() - start
    _reap_orphans()
    sample = sampler.sample
    return Timed(
        seconds,
        proc.returncode,
        sample.peak_mb,
        len(sample.jvm_pids),
        output,
        sorted(sample.jvm_commands.values()),
    )


def _reap_orphans() -> None:
    """Wait for adopted daemons that have exited (we are their subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# --- the scenarios ----------------------------------------------------------------------------


def copy_sources(root: Path, dest: Path) -> Path:
    """A private copy of what a build reads; returns its folder."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        if (root / name).exists():
            shutil.copy2(root / name, dest / name)
    for name in SOURCE_DIRS:
        shutil.copytree(
            root / name, dest / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
        )
    return dest


def executed_count(output: str) -> int:
    """How many notebooks a build executed, from its log."""
    return len(_EXECUTED.findall(output))


def sphinx_build(src: Path, out: Path, *, cache: Path | None, clean: bool) -> dict:
    command = [sys.executable, "-m", "sphinx", "-b", "html", *SPHINX_FLAGS]
    if clean:
        command.append("-E")
    if cache is not None:
        command += ["-D", f"mle_handbook_cache_dir={cache}"]
    command += [str(src), str(out)]
    timed = run_sampled(command, env={"MLE_HANDBOOK_FORCE": ""})
    if timed.returncode:
        raise RuntimeError(f"the build failed:\n{timed.output[-4000:]}")
    return {
        "seconds": round(timed.seconds, 2),
        "peak_mb": round(timed.peak_mb),
        "notebooks_executed": executed_count(timed.output),
        "jvm_starts": timed.jvm_starts,
        "jvm_commands": timed.jvm_commands,
    }


def notebook_paths(src: Path) -> dict[str, Path]:
    return {
        p.relative_to(src).with_suffix("").as_posix(): p
        for d in ("notebooks", "exercises")
        for p in sorted((src / d).glob("*.ipynb"))
    }


def execute_alone(src: Path, jobs: int) -> dict:
    """Scenario (2) in a child process: see :func:`_execute_alone_main`."""
    command = [sys.executable, __file__, "_execute-alone", str(src), str(jobs)]
    timed = run_sampled(command)
    if timed.returncode:
        raise RuntimeError(f"executing the notebooks alone failed:\n{timed.output[-4000:]}")
    report = json.loads(timed.output.strip().splitlines()[-1])
    return {
        "seconds": round(timed.seconds, 2),
        "peak_mb": round(timed.peak_mb),
        "jvm_starts": timed.jvm_starts,
        "notebooks": report,
    }


def _execute_alone_main(src: Path, jobs: int) -> int:
    """Execute every notebook under ``src`` with plain nbclient, ``jobs`` at a time, in the build's
    order, sharing one Spark Connect server started as the build starts it; print, as the last
    line, a JSON object giving each notebook's seconds and its kernel's peak memory."""
    from nbclient import NotebookClient

    from mle_handbook.exercises.execute import KERNEL_ARGUMENTS
    from mle_handbook.exercises.markers import project_meta

    paths = notebook_paths(src)
    notebooks = {name: nbformat.read(path, as_version=4) for name, path in paths.items()}
    waiting = {name for name, nb in notebooks.items() if project_meta(nb).get("spark")}
    servers, ready = [], threading.Event()

    def start_server() -> None:  # as the build does: in the background, Spark notebooks last
        from mle_handbook.spark.server import ConnectServer

        try:
            servers.append(ConnectServer().start())
            os.environ["SPARK_REMOTE"] = servers[0].url
        finally:
            ready.set()

    connections: dict[str, str] = {}

    def run(name: str) -> tuple[str, float]:
        nb = notebooks[name]
        if name in waiting:
            ready.wait()
            if not servers:
                raise RuntimeError("the Spark Connect server did not start")
        client = NotebookClient(
            nb,
            timeout=int(project_meta(nb).get("timeout", 180)),
            kernel_name="python3",
            extra_arguments=list(KERNEL_ARGUMENTS),
            resources={"metadata": {"path": str(paths[name].parent)}},
        )
        client.on_notebook_start = lambda **_: connections.__setitem__(
            name, os.path.abspath(client.km.connection_file)
        )
        start = time.perf_counter()
        client.execute()
        return name, time.perf_counter() - start

    starter = threading.Thread(target=start_server, daemon=True)
    if waiting:
        starter.start()
    try:
        with Sampler(os.getpid()) as sampler, ThreadPoolExecutor(max_workers=jobs) as pool:
            seconds = dict(pool.map(run, execution_order(notebooks, waiting)))
    finally:
        if waiting:
            starter.join()
        for server in servers:
            server.stop()
    peaks = sampler.sample.kernel_peak_mb
    print(
        json.dumps(
            {
                name: {
                    "seconds": round(seconds[name], 2),
                    "peak_mb": round(peaks.get(connections.get(name, ""), 0.0)),
                }
                for name in paths
            }
        )
    )
    return 0


def one_run(root: Path, workdir: Path, jobs: int, *, alone_first: bool = False) -> dict:
    """Scenarios (1) to (4) once, on a fresh copy of the sources.

    The cached clean build comes straight after the uncached one it is compared with, and the
    notebooks alone straight before or after that pair (``alone_first``): alternating the two
    orders from run to run keeps a machine that speeds up or slows down during the benchmark
    from favouring either side of the overhead ratio. Before each scenario, :func:`settle` waits
    for the processes of the one before to be gone and for the machine to be idle."""
    src = copy_sources(root, workdir / "src")
    out, cache = workdir / "html", workdir / "cache"
    result: dict = {"order": [], "settled": {}}

    def scenario(name: str, measure) -> None:
        result["settled"][name] = settle()
        result[name] = measure()
        result["order"].append(name)

    if alone_first:
        scenario("execute_alone", lambda: execute_alone(src, jobs))
    scenario("uncached_clean", lambda: sphinx_build(src, out, cache=cache, clean=True))
    shutil.rmtree(out)
    scenario("cached_clean", lambda: sphinx_build(src, out, cache=cache, clean=True))
    if not alone_first:
        scenario("execute_alone", lambda: execute_alone(src, jobs))
    scenario("noop", lambda: sphinx_build(src, out, cache=cache, clean=False))
    page = src / PROSE_PAGE
    page.write_text(page.read_text() + "\nOne sentence added by the benchmark.\n")
    scenario("prose_edit", lambda: sphinx_build(src, out, cache=cache, clean=False))
    return result


def _living_descendants() -> list[str]:
    """The names of this process's descendants that still run (not zombies waiting for us)."""
    names = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                names.append(proc.name())
        except psutil.Error:  # gone meanwhile
            pass
    return names


#: What :func:`settle` calls idle: the whole machine's processor use, in per cent of all cores.
IDLE_PERCENT = 20.0


def settle(*, leftovers_timeout: float = 30.0, busy_timeout: float = 10.0) -> dict:
    """Wait until no process started by an earlier scenario is left (a JVM still stopping, say),
    for up to ``leftovers_timeout`` seconds, and then until the machine's processor use over half
    a second is below :data:`IDLE_PERCENT`, for up to ``busy_timeout`` seconds. Returns what it
    saw, for the report: the seconds waited, the processes left over and the last busy reading."""
    start = time.perf_counter()
    while True:
        _reap_orphans()
        leftovers = _living_descendants()
        if not leftovers or time.perf_counter() - start > leftovers_timeout:
            break
        time.sleep(0.2)
    quiet_from = time.perf_counter()
    while True:
        busy = psutil.cpu_percent(interval=0.5)
        if busy < IDLE_PERCENT or time.perf_counter() - quiet_from > busy_timeout:
            break
    return {
        "waited_seconds": round(time.perf_counter() - start, 1),
        "leftovers": leftovers,
        "busy_percent": busy,
    }


def spark_costs(runs: int) -> dict:
    """Median start-up of a local SparkSession (a JVM per notebook) against a Spark Connect
    server's start-up and one client's, each to the end of a first trivial job."""
    from mle_handbook.spark.server import ConnectServer

    local, client, server_start = [], [], []
    # Imports first: both kinds of session need them, and a kernel has usually done them already.
    probe = (
        "import time; from mle_handbook.spark import get_spark; import pyspark.sql.connect.session; "
        "t = time.perf_counter(); spark = get_spark(); spark.range(10).count(); "
        "print(time.perf_counter() - t); spark.stop()"
    )
    for _ in range(runs):
        env = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "SPARK_MASTER")}
        local.append(_probe(probe, env))
        start = time.perf_counter()
        with ConnectServer() as server:
            server_start.append(time.perf_counter() - start)
            client.append(_probe(probe, {**env, "SPARK_REMOTE": server.url}))
    return {
        "local_session_seconds": round(statistics.median(local), 2),
        "connect_server_start_seconds": round(statistics.median(server_start), 2),
        "connect_client_seconds": round(statistics.median(client), 2),
    }


def _probe(code: str, env: dict) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    if proc.returncode:
        raise RuntimeError(f"Spark probe failed:\n{proc.stderr[-3000:]}")
    return float(proc.stdout.strip().splitlines()[-1])


def rtd_check(root: Path, workdir: Path) -> dict:
    """A clean clone, a cold install with ``.readthedocs.yaml``'s install commands, then its build
    commands (HTML, then the EPUB that ``formats`` asks for), timed and sampled."""
    import yaml

    clone = workdir / "clone"
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    config = yaml.safe_load((clone / ".readthedocs.yaml").read_text())
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "UV_CACHE_DIR": str(workdir / "uv-cache"),  # cold: nothing downloaded before
        "PIP_NO_CACHE_DIR": "1",
        "READTHEDOCS": "True",
        "READTHEDOCS_OUTPUT": str(workdir / "output"),
    }
    steps = list(config["build"]["jobs"]["install"])
    for builder in ["html", *config.get("formats", [])]:  # the commands Read the Docs runs
        steps += config["build"]["jobs"]["build"][builder]
    script = "set -e\n" + "\n".join(steps)
    timed = run_sampled(["bash", "-c", script], cwd=clone, env=env)
    if timed.returncode:
        raise RuntimeError(f"the Read the Docs steps failed:\n{timed.output[-4000:]}")
    return {
        "steps": steps,
        "seconds": round(timed.seconds, 1),
        "peak_mb": round(timed.peak_mb),
        "limits": RTD_LIMITS,
        "time_used": round(timed.seconds / RTD_LIMITS["seconds"], 2),
        "memory_used": round(timed.peak_mb / RTD_LIMITS["memory_mb"], 2),
    }


# --- summary and report ----------------------------------------------------------------------


def _median(runs: list[dict], *keys: str) -> float:
    values = []
    for run in runs:
        value = run
        for key in keys:
            value = value[key]
        values.append(value)
    return round(statistics.median(values), 2)


def summarise(runs: list[dict], budgets: dict[str, dict], spark_notebooks: int) -> dict:
    build = _median(runs, "uncached_clean", "seconds")
    alone = _median(runs, "execute_alone", "seconds")
    cached = _median(runs, "cached_clean", "seconds")
    overheads = [r["uncached_clean"]["seconds"] / r["execute_alone"]["seconds"] for r in runs]
    fractions = [r["cached_clean"]["seconds"] / r["uncached_clean"]["seconds"] for r in runs]
    notebooks = {}
    for name, budget in budgets.items():
        seconds = statistics.median(r["execute_alone"]["notebooks"][name]["seconds"] for r in runs)
        peak = max(r["execute_alone"]["notebooks"][name]["peak_mb"] for r in runs)
        over = []
        if budget["seconds"] is not None and seconds > budget["seconds"]:
            over.append("time")
        if budget["memory_mb"] is not None and peak > budget["memory_mb"]:
            over.append("memory")
        if budget["seconds"] is None or budget["memory_mb"] is None:
            over.append("no budget declared")
        notebooks[name] = {
            "seconds": round(seconds, 2),
            "peak_mb": peak,
            "budget_seconds": budget["seconds"],
            "budget_mb": budget["memory_mb"],
            "over_budget": over,
        }
    return {
        "uncached_clean_seconds": build,
        "execute_alone_seconds": alone,
        # Unrounded: a target is judged on the measured ratio, and rounded only for display.
        "overhead": statistics.median(overheads),
        "cached_clean_seconds": cached,
        "cached_fraction": statistics.median(fractions),
        "noop_seconds": _median(runs, "noop", "seconds"),
        "prose_edit_seconds": _median(runs, "prose_edit", "seconds"),
        "notebooks_executed": {
            s: max(r[s]["notebooks_executed"] for r in runs)
            for s in ("uncached_clean", "cached_clean", "noop", "prose_edit")
        },
        "jvm_starts_per_build": max(r["uncached_clean"]["jvm_starts"] for r in runs),
        "spark_notebooks": spark_notebooks,
        "build_peak_mb": max(r["uncached_clean"]["peak_mb"] for r in runs),
        "notebooks": notebooks,
    }


def verdicts(report: dict) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every target of the performance issue that was measured."""
    s = report["summary"]
    rows = [
        (
            f"build overhead ≤ {TARGETS['overhead']:.2f} × notebooks alone",
            f"{s['overhead']:.3f} ×",
            s["overhead"] <= TARGETS["overhead"],
        ),
        (
            "a cached clean build executes no notebook",
            f"{s['notebooks_executed']['cached_clean']} "
            f"({s['cached_clean_seconds']:.1f} s, {s['cached_fraction']:.0%} of uncached: "
            "reported, no longer a target)",
            s["notebooks_executed"]["cached_clean"] == 0,
        ),
        (
            "no-op and one-prose-page rebuilds execute no notebook",
            f"{s['notebooks_executed']['noop']} and {s['notebooks_executed']['prose_edit']}",
            s["notebooks_executed"]["noop"] == 0 and s["notebooks_executed"]["prose_edit"] == 0,
        ),
        (
            "one JVM start-up per build",
            f"{s['jvm_starts_per_build']} for {s['spark_notebooks']} Spark notebooks",
            s["jvm_starts_per_build"] <= 1,
        ),
        (
            "every notebook within its declared budget",
            ", ".join(
                f"{n}: {'/'.join(v['over_budget'])}"
                for n, v in s["notebooks"].items()
                if v["over_budget"]
            )
            or "all within",
            not any(v["over_budget"] for v in s["notebooks"].values()),
        ),
    ]
    rtd = report.get("read_the_docs")
    if rtd:
        rows.append(
            (
                "Read the Docs: install + build within 15 min and 3 GB, with a wide margin (≤ 50 %)",
                f"{rtd['seconds']:.0f} s ({rtd['time_used']:.0%}), {rtd['peak_mb']} MB "
                f"({rtd['memory_used']:.0%})",
                rtd["time_used"] <= 0.5 and rtd["memory_used"] <= 0.5,
            )
        )
    return rows


def _runs_table(runs: list[dict]) -> list[str]:
    """Every run's side-by-side figures, in the order they were measured, and how long the
    benchmark waited for the machine to settle before its scenarios."""
    if not runs:
        return []
    names = {"uncached_clean": "uncached", "execute_alone": "alone", "cached_clean": "cached"}
    lines = [
        "Each run, in the order measured (the ratios above are the medians of these):",
        "",
        "| run | order | uncached s | alone s | cached s | overhead | cached / uncached |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for i, run in enumerate(runs, 1):
        order = " → ".join(names[n] for n in run.get("order", names) if n in names)
        build, alone, cached = (run[n]["seconds"] for n in names)
        lines.append(
            f"| {i} | {order} | {build} | {alone} | {cached} | {build / alone:.3f} | "
            f"{cached / build:.2%} |"
        )
    settled = [v for run in runs for v in run.get("settled", {}).values()]
    if settled:
        leftovers = sorted({name for v in settled for name in v["leftovers"]})
        lines += [
            "",
            "Before each scenario the benchmark waited for the processes of the one before to end "
            f"and for the machine to be idle (below {IDLE_PERCENT:.0f} % of its processors): "
            f"at most {max(v['waited_seconds'] for v in settled)} s; busiest reading when it "
            f"started a scenario {max(v['busy_percent'] for v in settled)} %; processes left "
            f"over: {', '.join(leftovers) or 'none'}.",
        ]
    return [*lines, ""]


def render_markdown(report: dict) -> str:
    s, m = report["summary"], report["machine"]
    lines = [
        "# Build benchmark",
        "",
        f"{report['runs']} run(s), medians unless stated; {m['cpus']} CPUs, "
        f"{m['memory_gb']} GB memory, load average {m['load_average_before']} before the runs; "
        f"Python {m['python']} on {m['platform']}.",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *(f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in verdicts(report)),
        "",
        "## Builds",
        "",
        "| scenario | seconds | notebooks executed |",
        "|---|---:|---:|",
        f"| uncached clean build | {s['uncached_clean_seconds']} | "
        f"{s['notebooks_executed']['uncached_clean']} |",
        f"| the same notebooks alone (nbclient) | {s['execute_alone_seconds']} | – |",
        f"| cached clean build | {s['cached_clean_seconds']} | "
        f"{s['notebooks_executed']['cached_clean']} |",
        f"| no-op rebuild | {s['noop_seconds']} | {s['notebooks_executed']['noop']} |",
        f"| rebuild after editing `{PROSE_PAGE}` | {s['prose_edit_seconds']} | "
        f"{s['notebooks_executed']['prose_edit']} |",
        "",
        f"Peak memory of a whole uncached build (Sphinx, kernels, JVM): {s['build_peak_mb']} MB.",
        "",
        *_runs_table(report.get("all_runs", [])),
        "## Notebooks",
        "",
        "Executed alone (nbclient), the build's parallelism; memory is the kernel's peak "
        "proportional set size (the shared Spark JVM is counted in the build's total, not here).",
        "",
        "| notebook | seconds | budget | peak MB | budget | over budget |",
        "|---|---:|---:|---:|---:|---|",
        *(
            f"| {name} | {v['seconds']} | {v['budget_seconds']} | {v['peak_mb']} | "
            f"{v['budget_mb']} | {', '.join(v['over_budget']) or '–'} |"
            for name, v in s["notebooks"].items()
        ),
    ]
    spark = report.get("spark")
    if spark:
        n = s["spark_notebooks"]
        lines += [
            "",
            "## Spark",
            "",
            f"JVM start-ups per build: {s['jvm_starts_per_build']} (one Spark Connect server "
            f"shared by {n} notebooks).",
            "",
            f"- a local SparkSession, start to first job: {spark['local_session_seconds']} s "
            "(what each notebook would pay without the shared server);",
            f"- the Spark Connect server's start-up: {spark['connect_server_start_seconds']} s, "
            f"then each client: {spark['connect_client_seconds']} s;",
            f"- saved per build: {spark['saved_seconds']} s of kernel time "
            f"({n} × local − (server + {n} × client)).",
        ]
    grading = report.get("grading")
    if grading:
        lines += [
            "",
            "## Grading throughput",
            "",
            "| exercise | submissions | jobs=1 /s | jobs=2 /s | nbgrader /s | same marks |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for g in grading["grading"]:
            nbg = g.get("nbgrader", {})
            same = g.get("same_marks_across_jobs") and nbg.get("same_marks", True)
            lines.append(
                f"| {g['exercise']} | {g['submissions']} | "
                f"{g['jobs_1']['submissions_per_second']} | "
                f"{g['jobs_2']['submissions_per_second']} | "
                f"{nbg.get('submissions_per_second', '–')} | {'yes' if same else '**no**'} |"
            )
    rtd = report.get("read_the_docs")
    if rtd:
        lines += [
            "",
            "## Read the Docs",
            "",
            f"A clean clone, a cold install and the build commands below took {rtd['seconds']} s "
            f"of the {rtd['limits']['seconds']} s allowed, with a peak of {rtd['peak_mb']} MB "
            f"of the {rtd['limits']['memory_mb']} MB allowed.",
            "",
            *(f"    {step}" for step in rtd["steps"]),
        ]
    for part, message in report.get("failures", {}).items():
        lines += ["", f"## {part}: failed", "", "```text", message, "```"]
    lines += ["", "## Versions", "", *(f"- {k} {v}" for k, v in report["versions"].items()), ""]
    return "\n".join(lines)


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_before": round(os.getloadavg()[0], 2),
    }


def versions() -> dict:
    found = {}
    for name in (
        "sphinx",
        "nbsphinx",
        "myst-parser",
        "nbclient",
        "ipykernel",
        "pyspark",
        "scikit-learn",
        "pandas",
        "jupyter-cache",
    ):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    try:
        from mle_handbook.spark.java import find_java

        runtime = find_java()
        found["java"] = f"{runtime.version} ({runtime.source})"
    except Exception as exc:  # noqa: BLE001 - a report line, not a failure
        found["java"] = f"unknown ({exc})"
    return found


@contextlib.contextmanager
def _recorded(report: dict, part: str, title: str):
    print(f"{title} ...", file=sys.stderr, flush=True)
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - kept in the report, which names the failure
        report.setdefault("failures", {})[part] = f"{type(exc).__name__}: {exc}"[-4000:]
        print(f"{title} failed: {exc}", file=sys.stderr, flush=True)


def benchmark(
    root: Path, runs: int, jobs: int, grading_n: int, *, rtd: bool, nbgrader: bool
) -> dict:
    become_subreaper()
    report = {"runs": runs, "machine": machine(), "versions": versions()}
    paths = notebook_paths(root)
    notebooks = {name: nbformat.read(p, as_version=4) for name, p in paths.items()}
    budgets = {name: asdict(budget_of(nb)) for name, nb in notebooks.items()}
    from mle_handbook.exercises.markers import project_meta

    spark_notebooks = sum(bool(project_meta(nb).get("spark")) for nb in notebooks.values())
    all_runs = []
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="mle-handbook-bench-") as tmp:
            print(f"run {i + 1} of {runs} ...", file=sys.stderr, flush=True)
            all_runs.append(one_run(root, Path(tmp), jobs, alone_first=i % 2 == 1))
            print(json.dumps(all_runs[-1]), file=sys.stderr, flush=True)
    report["all_runs"] = all_runs
    report["summary"] = summarise(all_runs, budgets, spark_notebooks)
    # A later part that fails is recorded in the report; it never loses the runs above.
    if spark_notebooks:
        with _recorded(report, "spark", "Spark start-up costs"):
            spark = spark_costs(runs)
            spark["saved_seconds"] = round(
                spark_notebooks * spark["local_session_seconds"]
                - (
                    spark["connect_server_start_seconds"]
                    + spark_notebooks * spark["connect_client_seconds"]
                ),
                1,
            )
            report["spark"] = spark
    if grading_n:
        with _recorded(report, "grading", "grading throughput"):
            from bench_grading import bench_grading  # benchmarks/bench_grading.py

            report["grading"] = bench_grading(n=grading_n, nbgrader=nbgrader)
    if rtd:
        with (
            _recorded(report, "read_the_docs", "Read the Docs steps on a clean clone"),
            tempfile.TemporaryDirectory(prefix="mle-handbook-rtd-") as tmp,
        ):
            report["read_the_docs"] = rtd_check(root, Path(tmp))
    return report


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_execute-alone"]:
        return _execute_alone_main(Path(argv[1]), int(argv[2]))
    parser = argparse.ArgumentParser(
        prog="benchmarks/bench.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "bench")
    parser.add_argument("--runs", type=int, default=5, help="runs of every build scenario")
    parser.add_argument("--jobs", type=int, default=2, help="kernels at a time (as conf.py)")
    parser.add_argument(
        "--grading", type=int, default=6, metavar="N", help="submissions per exercise (0: skip)"
    )
    parser.add_argument("--no-nbgrader", action="store_true", help="skip nbgrader's timing")
    parser.add_argument("--no-rtd", action="store_true", help="skip the Read the Docs check")
    args = parser.parse_args(argv)
    report = benchmark(
        ROOT, args.runs, args.jobs, args.grading, rtd=not args.no_rtd, nbgrader=not args.no_nbgrader
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "bench.md").write_text(render_markdown(report))
    print(render_markdown(report))
    print(f"\nwritten: {args.out / 'bench.md'} and {args.out / 'bench.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
