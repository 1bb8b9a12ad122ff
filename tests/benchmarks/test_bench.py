"""The build benchmark's own logic: counting, sampling, budget flags and the report."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench  # noqa: E402 - benchmarks/bench.py, a script outside the package


def _run(uncached=100.0, alone=95.0, cached=8.0, noop_executed=0, prose_executed=0, jvms=1):
    notebooks = {
        "notebooks/a": {"seconds": 10.0, "peak_mb": 300},
        "exercises/b": {"seconds": 50.0, "peak_mb": 500},
    }
    return {
        "uncached_clean": {
            "seconds": uncached,
            "peak_mb": 2000,
            "notebooks_executed": 2,
            "jvm_starts": jvms,
        },
        "execute_alone": {
            "seconds": alone,
            "peak_mb": 1900,
            "jvm_starts": 1,
            "notebooks": notebooks,
        },
        "cached_clean": {
            "seconds": cached,
            "peak_mb": 300,
            "notebooks_executed": 0,
            "jvm_starts": 0,
        },
        "noop": {
            "seconds": 5.0,
            "peak_mb": 200,
            "notebooks_executed": noop_executed,
            "jvm_starts": 0,
        },
        "prose_edit": {
            "seconds": 6.0,
            "peak_mb": 200,
            "notebooks_executed": prose_executed,
            "jvm_starts": 0,
        },
    }


BUDGETS = {
    "notebooks/a": {"seconds": 20.0, "memory_mb": 400.0},
    "exercises/b": {"seconds": 40.0, "memory_mb": 600.0},
}


def _report(runs):
    return {
        "runs": len(runs),
        "machine": bench.machine(),
        "versions": {"sphinx": "x"},
        "summary": bench.summarise(runs, BUDGETS, spark_notebooks=1),
    }


def test_executed_count_reads_the_builds_log():
    log = "running 3 notebook(s) in the background\na.ipynb: executed in 2.0 s\nb.ipynb: executed in 1.0 s\n"
    assert bench.executed_count(log) == 2
    assert bench.executed_count("a.ipynb: unchanged, taken from the execution cache") == 0


def test_summary_takes_medians_and_flags_a_notebook_over_its_time_budget():
    summary = bench.summarise([_run(), _run(uncached=110.0), _run(uncached=300.0)], BUDGETS, 1)
    assert summary["uncached_clean_seconds"] == 110.0
    assert summary["notebooks"]["exercises/b"]["over_budget"] == ["time"]
    assert summary["notebooks"]["notebooks/a"]["over_budget"] == []


def test_undeclared_budget_is_flagged_not_passed():
    summary = bench.summarise(
        [_run()], {**BUDGETS, "notebooks/a": {"seconds": None, "memory_mb": None}}, 1
    )
    assert summary["notebooks"]["notebooks/a"]["over_budget"] == ["no budget declared"]


def test_report_marks_each_missed_target():
    met = {t: ok for t, _, ok in bench.verdicts(_report([_run(uncached=100.0, alone=95.0)]))}
    assert met["build overhead ≤ 1.10 × notebooks alone"]
    assert met["a cached clean build executes no notebook"]
    missed = bench.verdicts(_report([_run(uncached=150.0, cached=30.0, prose_executed=1, jvms=3)]))
    assert [ok for _, _, ok in missed] == [False, True, False, False, False]
    markdown = bench.render_markdown(_report([_run(uncached=150.0)]))
    assert "| **no** |" in markdown and "exercises/b" in markdown


def test_sampler_sees_a_childs_memory():
    code = "import time; block = bytearray(200 * 2**20); time.sleep(1.5)"
    timed = bench.run_sampled([sys.executable, "-c", code])
    assert timed.returncode == 0
    assert timed.peak_mb >= 200


def test_only_spark_driver_jvms_count_as_start_ups():
    assert bench._is_spark_jvm(["java", "-cp", "x", "org.apache.spark.deploy.SparkSubmit"])
    launcher = ["java", "-cp", "x", "org.apache.spark.launcher.Main"]
    assert not bench._is_spark_jvm([*launcher, "org.apache.spark.deploy.SparkSubmit"])
    assert not bench._is_spark_jvm(["java", "-version"])
    shell = ["bash", "/spark/bin/spark-class", "org.apache.spark.deploy.SparkSubmit", "--class"]
    assert not bench._is_spark_jvm(shell)


def test_kernel_connection_file_is_found_in_its_command_line(tmp_path):
    cmd = ["python", "-m", "ipykernel_launcher", "-f", str(tmp_path / "k.json")]
    assert bench._kernel_file(cmd) == str(tmp_path / "k.json")
    assert bench._kernel_file(["python", "-c", "pass"]) is None


def test_private_copy_holds_what_a_build_reads_and_nothing_else(tmp_path):
    copy = bench.copy_sources(bench.ROOT, tmp_path / "src")
    assert (copy / "conf.py").exists() and (copy / bench.PROSE_PAGE).exists()
    assert sorted(bench.notebook_paths(copy)) == sorted(bench.notebook_paths(bench.ROOT))
    assert not (copy / ".venv").exists() and not (copy / "src").exists()


def test_benchmark_entry_point_explains_its_options():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--help"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "--runs" in proc.stdout and "--no-rtd" in proc.stdout


def test_a_failing_part_is_recorded_in_the_report_not_raised():
    report = _report([_run()])
    with bench._recorded(report, "read_the_docs", "Read the Docs"):
        raise RuntimeError("the Read the Docs steps failed: no network")
    assert "no network" in report["failures"]["read_the_docs"]
    assert "## read_the_docs: failed" in bench.render_markdown(report)


def test_a_ratio_just_over_its_target_is_missed_not_rounded_down():
    # 1.1004 rounds to 1.100: it still misses.
    report = _report([_run(uncached=100.0, alone=100.0 / 1.1004, cached=10.04)])
    met = {t: ok for t, _, ok in bench.verdicts(report)}
    assert not met["build overhead ≤ 1.10 × notebooks alone"]
    assert "1.100 ×" in bench.render_markdown(report)


def test_runs_alternate_which_side_of_the_overhead_goes_first(tmp_path, monkeypatch):
    measured = []

    def build(src, out, *, cache, clean):
        kind = "noop" if not clean else ("cached" if cache.exists() else "uncached")
        out.mkdir(exist_ok=True)
        cache.mkdir(exist_ok=True)
        measured.append(kind)
        return {"seconds": 1.0}

    monkeypatch.setattr(bench, "copy_sources", lambda root, dest: _sources(dest))
    monkeypatch.setattr(bench, "sphinx_build", build)
    monkeypatch.setattr(bench, "execute_alone", lambda src, jobs: measured.append("alone") or {})
    monkeypatch.setattr(bench, "settle", lambda: {"waited_seconds": 0.0})
    names = {"uncached_clean": "uncached", "cached_clean": "cached", "execute_alone": "alone"}
    for alone_first, expected in (
        (False, ["uncached", "cached", "alone", "noop", "noop"]),
        (True, ["alone", "uncached", "cached", "noop", "noop"]),
    ):
        measured.clear()
        run = bench.one_run(tmp_path, tmp_path / str(alone_first), 2, alone_first=alone_first)
        assert measured == expected
        assert [names.get(n, "noop") for n in run["order"]] == expected
        assert set(run["settled"]) == set(run["order"])  # settled before every scenario


def _sources(dest):
    (dest / "docs").mkdir(parents=True)
    (dest / bench.PROSE_PAGE).write_text("# Glossary\n")
    return dest


def test_settle_waits_for_a_scenarios_leftover_process_and_names_one_that_stays():
    code = (
        f"import json, subprocess, sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
        "import bench; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1.5)']); "
        "print(json.dumps(bench.settle(leftovers_timeout=10, busy_timeout=0))); "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); "
        "print(json.dumps(bench.settle(leftovers_timeout=0.5, busy_timeout=0)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    waited, gave_up = (json.loads(line) for line in proc.stdout.splitlines())
    assert waited["leftovers"] == [] and waited["waited_seconds"] >= 1.0
    assert gave_up["leftovers"] and gave_up["waited_seconds"] < 10


def test_report_lists_every_run_in_the_order_measured():
    runs = [_run(uncached=100.0, alone=95.0, cached=8.0), _run(uncached=90.0, cached=9.9)]
    runs[0]["order"] = ["uncached_clean", "cached_clean", "execute_alone", "noop", "prose_edit"]
    runs[1]["order"] = ["execute_alone", "uncached_clean", "cached_clean", "noop", "prose_edit"]
    for run in runs:
        run["settled"] = {
            name: {"waited_seconds": 0.4, "leftovers": [], "busy_percent": 3.0}
            for name in run["order"]
        }
    report = {**_report(runs), "all_runs": runs}
    markdown = bench.render_markdown(report)
    assert "| 1 | uncached → cached → alone | 100.0 | 95.0 | 8.0 | 1.053 | 8.00% |" in markdown
    assert "| 2 | alone → uncached → cached | 90.0 | 95.0 | 9.9 | 0.947 | 11.00% |" in markdown
    assert "processes left over: none" in markdown
