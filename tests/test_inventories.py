"""The offline intersphinx inventories: ``mle_handbook.inventories`` and docs/_intersphinx/."""

from __future__ import annotations

import io
import posixpath
import subprocess
import sys
import zlib

import pytest
from conftest import ROOT
from sphinx.util.inventory import InventoryFile

from mle_handbook import inventories

INVENTORY_DIR = ROOT / "docs" / "_intersphinx"

#: The ``intersphinx_mapping`` targets in conf.py.
BASES = {
    "python": "https://docs.python.org/3",
    "numpy": "https://numpy.org/doc/stable",
    "pandas": "https://pandas.pydata.org/docs",
    "sklearn": "https://scikit-learn.org/stable",
    "pyspark": "https://spark.apache.org/docs/latest/api/python",
}

#: (inventory, role, name, the address the published documentation has for it).
KNOWN = [
    (
        "python",
        "py:function",
        "functools.partial",
        "https://docs.python.org/3/library/functools.html#functools.partial",
    ),
    (
        "python",
        "py:exception",
        "ValueError",
        "https://docs.python.org/3/library/exceptions.html#ValueError",
    ),
    (
        "python",
        "py:exception",
        "NotImplementedError",
        "https://docs.python.org/3/library/exceptions.html#NotImplementedError",
    ),
    ("python", "py:function", "len", "https://docs.python.org/3/library/functions.html#len"),
    ("python", "py:class", "dict", "https://docs.python.org/3/library/stdtypes.html#dict"),
    (
        "python",
        "py:module",
        "collections",
        "https://docs.python.org/3/library/collections.html#module-collections",
    ),
    (
        "python",
        "py:class",
        "pathlib.Path",
        "https://docs.python.org/3/library/pathlib.html#pathlib.Path",
    ),
    (
        "numpy",
        "py:function",
        "numpy.unique",
        "https://numpy.org/doc/stable/reference/generated/numpy.unique.html#numpy.unique",
    ),
    (
        "numpy",
        "py:class",
        "numpy.ndarray",
        "https://numpy.org/doc/stable/reference/generated/numpy.ndarray.html#numpy.ndarray",
    ),
    (
        "numpy",
        "py:function",
        "numpy.random.default_rng",
        "https://numpy.org/doc/stable/reference/random/generator.html#numpy.random.default_rng",
    ),
    (
        "numpy",
        "py:method",
        "numpy.random.Generator.normal",
        "https://numpy.org/doc/stable/reference/random/generated/"
        "numpy.random.Generator.normal.html#numpy.random.Generator.normal",
    ),
    (
        "pandas",
        "py:method",
        "pandas.DataFrame.groupby",
        "https://pandas.pydata.org/docs/reference/api/"
        "pandas.DataFrame.groupby.html#pandas.DataFrame.groupby",
    ),
    (
        "pandas",
        "py:function",
        "pandas.read_csv",
        "https://pandas.pydata.org/docs/reference/api/pandas.read_csv.html#pandas.read_csv",
    ),
    (
        "sklearn",
        "py:class",
        "sklearn.tree.DecisionTreeClassifier",
        "https://scikit-learn.org/stable/modules/generated/"
        "sklearn.tree.DecisionTreeClassifier.html#sklearn.tree.DecisionTreeClassifier",
    ),
    (
        "sklearn",
        "py:method",
        "sklearn.tree.DecisionTreeClassifier.fit",
        "https://scikit-learn.org/stable/modules/generated/"
        "sklearn.tree.DecisionTreeClassifier.html#sklearn.tree.DecisionTreeClassifier.fit",
    ),
    (
        "sklearn",
        "py:module",
        "sklearn.tree",
        "https://scikit-learn.org/stable/api/sklearn.tree.html#module-sklearn.tree",
    ),
    (
        "pyspark",
        "py:method",
        "pyspark.sql.DataFrame.groupBy",
        "https://spark.apache.org/docs/latest/api/python/reference/pyspark.sql/api/"
        "pyspark.sql.DataFrame.groupBy.html#pyspark.sql.DataFrame.groupBy",
    ),
    (
        "pyspark",
        "py:function",
        "pyspark.sql.functions.col",
        "https://spark.apache.org/docs/latest/api/python/reference/pyspark.sql/api/"
        "pyspark.sql.functions.col.html#pyspark.sql.functions.col",
    ),
    (
        "pyspark",
        "py:class",
        "pyspark.ml.Pipeline",
        "https://spark.apache.org/docs/latest/api/python/reference/api/"
        "pyspark.ml.Pipeline.html#pyspark.ml.Pipeline",
    ),
]


def load(data: bytes, base: str) -> dict:
    """Parse inventory bytes the way intersphinx does: ``{role: {name: item}}``."""
    return InventoryFile.load(io.BytesIO(data), base, posixpath.join)


def item_uri(item) -> str:
    return item.uri if hasattr(item, "uri") else item[2]  # Sphinx < 8.2 used tuples


def check_known(name: str, parsed: dict) -> None:
    for inventory, role, obj, url in KNOWN:
        if inventory == name:
            assert obj in parsed.get(role, {}), f"{obj} ({role}) is not in {name}.inv"
            assert item_uri(parsed[role][obj]) == url


# --- the committed files, which conf.py uses -------------------------------------------------


@pytest.mark.parametrize("name", list(BASES))
def test_committed_inventory_parses_and_resolves_known_objects(name):
    path = INVENTORY_DIR / f"{name}.inv"
    data = path.read_bytes()
    assert len(data) < 2_000_000
    lines = data.split(b"\n", 4)
    assert lines[0] == b"# Sphinx inventory version 2"
    assert lines[1].startswith(b"# Project: ") and lines[2].startswith(b"# Version: ")
    assert lines[3] == b"# The remainder of this file is compressed using zlib."
    zlib.decompress(lines[4])
    parsed = load(data, BASES[name])
    assert sum(len(objects) for objects in parsed.values()) > 500
    check_known(name, parsed)


def test_the_readme_says_how_to_regenerate():
    readme = (INVENTORY_DIR / "README.md").read_text()
    assert "python -m mle_handbook.inventories --out docs/_intersphinx" in readme


# --- the generator ---------------------------------------------------------------------------


def test_entry_line_shortens_the_anchor_like_sphinx():
    entry = inventories.Entry(
        "functools.partial", "py:function", "library/functools.html#functools.partial"
    )
    assert entry.line() == "functools.partial py:function 1 library/functools.html#$ -"
    module = inventories.Entry("os", "py:module", "library/os.html#module-os", priority=0)
    assert module.line() == "os py:module 0 library/os.html#module-$ -"
    page = inventories.Entry("glossary", "std:doc", "glossary.html", "Glossary", -1)
    assert page.line() == "glossary std:doc -1 glossary.html Glossary"


def test_anchor_drops_leading_underscores_like_sphinx():
    assert inventories.anchor("__debug__") == "debug__"
    assert inventories.anchor("pandas.DataFrame.__iter__") == "pandas.DataFrame.__iter__"


def test_python_inventory_is_deterministic():
    first = inventories.build("python").dumps()
    assert inventories.build("python").dumps() == first
    check_known("python", load(first, BASES["python"]))


def test_main_writes_the_named_inventories(tmp_path, capsys):
    assert inventories.main(["--out", str(tmp_path), "python"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["python.inv"]
    assert "python.inv" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        inventories.main(["--out", str(tmp_path), "nosuchsite"])


@pytest.fixture(scope="module")
def generated() -> dict[str, bytes]:
    """Every inventory, generated twice from the installed packages."""
    first = {name: inventories.build(name).dumps() for name in inventories.INVENTORIES}
    second = {name: inventories.build(name).dumps() for name in inventories.INVENTORIES}
    assert first == second, "generation is not deterministic"
    return first


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BASES))
def test_generated_inventory_parses_and_resolves_known_objects(generated, name):
    assert len(generated[name]) < 2_000_000
    check_known(name, load(generated[name], BASES[name]))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BASES))
def test_committed_inventory_is_up_to_date(generated, name):
    committed = (INVENTORY_DIR / f"{name}.inv").read_bytes()
    header = committed.split(b"\n", 3)[:3]
    if generated[name].split(b"\n", 3)[:3] != header:
        pytest.skip(f"installed versions differ from those {name}.inv was made from")
    assert generated[name] == committed, (
        f"docs/_intersphinx/{name}.inv is stale: run python -m mle_handbook.inventories"
    )


@pytest.mark.slow
def test_sphinx_falls_back_to_the_committed_inventories(tmp_path):
    """The conf.py pattern: an unreachable online inventory first, the committed file second."""
    unreachable = "http://127.0.0.1:9/objects.inv"  # the discard port: refused at once
    mapping = {
        name: (base, (unreachable, str(INVENTORY_DIR / f"{name}.inv")))
        for name, base in BASES.items()
    }
    (tmp_path / "conf.py").write_text(
        "extensions = ['sphinx.ext.intersphinx']\n"
        f"intersphinx_mapping = {mapping!r}\n"
        "intersphinx_timeout = 5\n"
    )
    roles = {"py:function": "func", "py:class": "class", "py:method": "meth", "py:module": "mod"}
    roles["py:exception"] = "exc"
    refs = "\n\n".join(f":py:{roles[role]}:`{obj}`" for _, role, obj, _ in KNOWN)
    (tmp_path / "index.rst").write_text(f"Links\n=====\n\n{refs}\n")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-n", "-W", "-q", ".", "_build"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "_build" / "index.html").read_text()
    for _, _, _, url in KNOWN:
        assert f'href="{url}"' in html
