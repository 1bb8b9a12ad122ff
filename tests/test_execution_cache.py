"""The execution cache: a hit needs unchanged code, and an empty cache costs no import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import python_notebook
from nbformat.v4 import new_code_cell, new_output

from mle_handbook.execution_cache import DATABASE, ExecutionCache

_OPENED: list[ExecutionCache] = []


def _open(tmp_path) -> ExecutionCache:
    """A cache in ``tmp_path``, closed when the test ends."""
    cache = ExecutionCache(tmp_path / "cache")
    _OPENED.append(cache)
    return cache


@pytest.fixture(autouse=True)
def _close_caches():
    yield
    while _OPENED:
        _OPENED.pop().close()


def _notebook(code: str = "1 + 1"):
    return python_notebook(new_code_cell(code))


def _executed(nb):
    nb.cells[0].outputs = [new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    nb.cells[0].execution_count = 1
    return nb


def test_database_name_is_the_one_jupyter_cache_creates(tmp_path):
    from jupyter_cache.cache.db import DB_NAME

    assert DATABASE == DB_NAME
    cache = _open(tmp_path)
    assert cache.is_empty()
    cache.store(_executed(_notebook()), tmp_path / "a.ipynb", uri="a.ipynb")
    assert not cache.is_empty() and (tmp_path / "cache" / DATABASE).exists()


def test_stored_notebook_is_found_until_its_code_changes(tmp_path):
    cache = _open(tmp_path)
    cache.store(_executed(_notebook()), tmp_path / "a.ipynb", uri="a.ipynb")
    hit = _open(tmp_path).lookup(_notebook(), tmp_path / "a.ipynb")
    assert hit is not None and hit.cells[0].outputs[0]["data"]["text/plain"] == "2"
    assert _open(tmp_path).lookup(_notebook("1 + 2"), tmp_path / "a.ipynb") is None


def test_looking_in_an_empty_cache_misses_without_importing_jupyter_cache(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from nbformat.v4 import new_code_cell, new_notebook
        from mle_handbook.execution_cache import ExecutionCache

        nb = new_notebook(cells=[new_code_cell("1")])
        assert ExecutionCache({str(tmp_path / "cache")!r}).lookup(nb, Path("a.ipynb")) is None
        print(sorted(m for m in sys.modules if m.startswith(("jupyter_cache", "sqlalchemy"))))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def _lesson(code: str = "x = 2"):
    """Markdown between two code cells, as the handbook's notebooks have."""
    from nbformat.v4 import new_markdown_cell

    return python_notebook(
        new_markdown_cell("# A lesson"),
        new_code_cell(code),
        new_markdown_cell("Then"),
        new_code_cell("x * 21"),
    )


def _run(nb):
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        cell.outputs = [
            new_output("execute_result", {"text/plain": str(count)}, execution_count=count)
        ]
    return nb


def test_editing_markdown_keeps_the_hit_and_merges_outputs_into_the_new_prose(tmp_path):
    cache = _open(tmp_path)
    cache.store(_run(_lesson()), tmp_path / "a.ipynb", uri="a.ipynb")
    edited = _lesson()
    edited.cells[2].source = "Then, with new prose"  # Markdown is not part of the key
    hit = _open(tmp_path).lookup(edited, tmp_path / "a.ipynb")
    assert hit is not None and "mle_handbook_cache_key" not in hit.metadata
    assert hit.cells[2].source == "Then, with new prose" and hit.cells[3].outputs
    assert hit.metadata["language_info"]["pygments_lexer"] == "ipython3"
    assert [c.id for c in hit.cells] == [c.id for c in edited.cells]


def test_changing_a_module_of_the_package_the_notebook_imports_is_a_miss(tmp_path, monkeypatch):
    from mle_handbook import execution_cache

    package = tmp_path / "package"
    (package / "spark").mkdir(parents=True)
    (package / "spark" / "session.py").write_text("A = 1\n")
    monkeypatch.setattr(execution_cache, "PACKAGE", package)
    nb = _lesson("from mle_handbook.spark import get_spark")
    _open(tmp_path).store(
        _run(_lesson("from mle_handbook.spark import get_spark")),
        tmp_path / "a.ipynb",
        uri="a.ipynb",
    )
    assert _open(tmp_path).lookup(nb, tmp_path / "a.ipynb") is not None
    (package / "spark" / "session.py").write_text("A = 2\n")
    assert _open(tmp_path).lookup(nb, tmp_path / "a.ipynb") is None
