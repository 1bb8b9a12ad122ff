"""The execution cache: a hit needs unchanged code, and an empty cache costs no import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import python_notebook
from nbformat.v4 import new_code_cell, new_output

from mle_handbook.execution_cache import DATABASE, ExecutionCache


def _notebook(code: str = "1 + 1"):
    return python_notebook(new_code_cell(code))


def _executed(nb):
    nb.cells[0].outputs = [new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    nb.cells[0].execution_count = 1
    return nb


def test_database_name_is_the_one_jupyter_cache_creates(tmp_path):
    from jupyter_cache.cache.db import DB_NAME

    assert DATABASE == DB_NAME
    cache = ExecutionCache(tmp_path / "cache")
    assert cache.is_empty()
    cache.store(_executed(_notebook()), tmp_path / "a.ipynb", uri="a.ipynb")
    assert not cache.is_empty() and (tmp_path / "cache" / DATABASE).exists()


def test_stored_notebook_is_found_until_its_code_changes(tmp_path):
    cache = ExecutionCache(tmp_path / "cache")
    cache.store(_executed(_notebook()), tmp_path / "a.ipynb", uri="a.ipynb")
    hit = ExecutionCache(tmp_path / "cache").lookup(_notebook(), tmp_path / "a.ipynb")
    assert hit is not None and hit.cells[0].outputs[0]["data"]["text/plain"] == "2"
    assert (
        ExecutionCache(tmp_path / "cache").lookup(_notebook("1 + 2"), tmp_path / "a.ipynb") is None
    )


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
