"""The execution cache: a hit needs unchanged code, and an empty cache costs no import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import python_notebook
from nbformat.v4 import new_code_cell, new_output

from mle_handbook.execution_cache import DATABASE, INDEX, ExecutionCache


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


def test_indexed_lookup_merges_exactly_what_jupyter_cache_merges(tmp_path):
    cache = ExecutionCache(tmp_path / "cache")
    cache.store(_run(_lesson()), tmp_path / "a.ipynb", uri="a.ipynb")
    edited = _lesson()
    edited.cells[2].source = "Then, with new prose"  # Markdown is not part of the key
    fresh = ExecutionCache(tmp_path / "cache")
    keyed = fresh._keyed(edited, tmp_path / "a.ipynb")
    assert fresh._indexed(keyed) is not None
    _, expected = fresh.cache.merge_match_into_notebook(keyed)
    expected.metadata.pop("mle_handbook_cache_key")
    hit = ExecutionCache(tmp_path / "cache").lookup(edited, tmp_path / "a.ipynb")
    assert hit == expected
    assert hit.cells[2].source == "Then, with new prose" and hit.cells[3].outputs
    assert hit.metadata["language_info"]["pygments_lexer"] == "ipython3"
    assert [c.id for c in hit.cells] == [c.id for c in edited.cells]


def test_a_cache_hit_imports_neither_jupyter_cache_nor_sqlalchemy(tmp_path):
    ExecutionCache(tmp_path / "cache").store(_run(_lesson()), tmp_path / "a.ipynb", uri="a.ipynb")
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_execution_cache import _lesson
        from mle_handbook.execution_cache import ExecutionCache

        hit = ExecutionCache({str(tmp_path / "cache")!r}).lookup(_lesson(), Path({str(tmp_path / "a.ipynb")!r}))
        assert hit is not None and hit.cells[3].outputs
        print(sorted(m for m in sys.modules if m.startswith(("jupyter_cache", "sqlalchemy"))))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_an_indexed_notebook_jupyter_cache_has_dropped_is_a_miss(tmp_path):
    cache = ExecutionCache(tmp_path / "cache")
    cache.store(_run(_lesson()), tmp_path / "a.ipynb", uri="a.ipynb")
    for record in cache.cache.list_cache_records():
        cache.cache.remove_cache(record.pk)
    assert list((tmp_path / "cache" / INDEX).glob("*.json"))  # the index still names it
    assert ExecutionCache(tmp_path / "cache").lookup(_lesson(), tmp_path / "a.ipynb") is None


@pytest.mark.parametrize(
    "change",
    ["code", "cell metadata", "kernel", "dependency"],
)
def test_the_index_misses_whenever_jupyter_cache_would(tmp_path, change):
    cache = ExecutionCache(tmp_path / "cache")
    cache.store(_run(_lesson()), tmp_path / "a.ipynb", uri="a.ipynb")
    nb = _lesson()
    if change == "code":
        nb.cells[3].source = "x * 22"
    elif change == "cell metadata":
        nb.cells[1].metadata["tags"] = ["hide-input"]
    elif change == "kernel":
        nb.metadata["kernelspec"]["name"] = "other"
    else:
        nb.metadata["mle_handbook"] = {"data": ["data.csv"]}  # a declared data file
    keyed = cache._keyed(nb, tmp_path / "a.ipynb")
    assert cache._indexed(keyed) is None
    with pytest.raises(KeyError):
        cache.cache.match_cache_notebook(keyed)


def test_a_hit_the_index_did_not_know_is_indexed_for_next_time(tmp_path):
    cache = ExecutionCache(tmp_path / "cache")
    cache.store(_run(_lesson()), tmp_path / "a.ipynb", uri="a.ipynb")
    for entry in (tmp_path / "cache" / INDEX).glob("*.json"):
        entry.unlink()  # as a cache filled before the index existed
    keyed = cache._keyed(_lesson(), tmp_path / "a.ipynb")
    assert cache._indexed(keyed) is None
    assert cache.lookup(_lesson(), tmp_path / "a.ipynb") is not None  # from jupyter-cache
    assert cache._indexed(keyed) is not None
