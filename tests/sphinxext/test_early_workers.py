"""Worker processes start with the extension only on builds that will execute notebooks."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from mle_handbook.execution_cache import DATABASE
from mle_handbook.sphinxext import execution


def _app(tmp_path: Path, raw: dict | None = None, overrides: dict | None = None):
    config = SimpleNamespace(_raw_config=raw or {}, _overrides=overrides or {})
    (tmp_path / "doctrees").mkdir(exist_ok=True)
    return SimpleNamespace(config=config, srcdir=str(tmp_path), doctreedir=tmp_path / "doctrees")


@pytest.fixture
def no_force(monkeypatch):
    monkeypatch.delenv("MLE_HANDBOOK_FORCE", raising=False)


def test_a_clean_build_without_a_cache_will_execute_everything(tmp_path, no_force):
    assert execution._will_execute_everything(_app(tmp_path))


def test_a_saved_environment_means_an_incremental_build(tmp_path, no_force):
    app = _app(tmp_path)
    (app.doctreedir / "environment.pickle").write_bytes(b"")
    assert not execution._will_execute_everything(app)


def test_a_cache_with_a_database_may_hold_the_notebooks(tmp_path, no_force, monkeypatch):
    (tmp_path / "cache").mkdir()
    for app in (
        _app(tmp_path, raw={"mle_handbook_cache_dir": "cache"}),
        _app(tmp_path, overrides={"mle_handbook_cache_dir": "cache"}),  # -D, as make html
    ):
        assert execution._will_execute_everything(app)  # empty: nothing stored yet
        (tmp_path / "cache" / DATABASE).write_bytes(b"")
        assert not execution._will_execute_everything(app)
        monkeypatch.setenv("MLE_HANDBOOK_FORCE", "1")
        assert execution._will_execute_everything(app)
        monkeypatch.delenv("MLE_HANDBOOK_FORCE")
        (tmp_path / "cache" / DATABASE).unlink()


def test_early_workers_start_at_once_and_the_build_adopts_them(tmp_path, no_force):
    app = _app(tmp_path)
    execution.start_workers_early(app)
    workers = app._mle_workers
    try:
        deadline = time.monotonic() + 60
        while len(workers._processes) < execution.EARLY_WORKERS:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.05)
        assert execution._adopt_workers(app, execution.EARLY_WORKERS) is workers
        assert app._mle_workers is None
    finally:
        workers.shutdown()


def test_more_jobs_than_early_workers_get_a_pool_of_their_own(tmp_path, no_force):
    app = _app(tmp_path)
    execution.start_workers_early(app)
    early = app._mle_workers
    pool = execution._adopt_workers(app, execution.EARLY_WORKERS + 1)
    try:
        assert pool is not early and early._shutdown_thread
    finally:
        pool.shutdown()


def test_early_workers_a_build_does_not_need_are_stopped(tmp_path, no_force):
    app = _app(tmp_path)
    execution.start_workers_early(app)
    early = app._mle_workers
    execution.release_workers(app)
    assert app._mle_workers is None and early._shutdown_thread
    execution.release_workers(app)  # nothing left: nothing happens


def test_no_workers_start_where_the_cache_may_hold_the_notebooks(tmp_path, no_force):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / DATABASE).write_bytes(b"")
    app = _app(tmp_path, overrides={"mle_handbook_cache_dir": "cache"})
    execution.start_workers_early(app)
    assert getattr(app, "_mle_workers", None) is None


def test_kernels_start_ahead_in_the_folders_of_the_first_notebooks(tmp_path):
    import nbformat
    from nbformat.v4 import new_notebook

    def notebook(folder: str, name: str, seconds: int, spark: bool = False) -> None:
        nb = new_notebook()
        nb.metadata["mle_handbook"] = {"budget_seconds": seconds, "spark": spark}
        (tmp_path / folder).mkdir(exist_ok=True)
        nbformat.write(nb, tmp_path / folder / f"{name}.ipynb")

    notebook("short", "a", 10)
    notebook("long", "b", 60)
    notebook("spark", "c", 120, spark=True)  # waits for the server: never first
    notebook("skipped", "d", 500)
    app = _app(tmp_path, raw={"exclude_patterns": ["skipped"]})
    assert execution._first_folders(app, 2) == [str(tmp_path / "long"), str(tmp_path / "short")]
    assert execution._first_folders(app, 1) == [str(tmp_path / "long")]
