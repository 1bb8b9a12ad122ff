"""A persistent execution cache for notebooks, built on jupyter-cache.

A notebook is executed again only when something its results depend on changed: its code cells
(with their metadata), its kernel, the data files it declares (``mle_handbook.data``), the locked
dependencies (``requirements.lock``) or the modules of this package that it imports. Only runs
without errors are stored, so a failing notebook is executed (and fails) every time: the cache
never hides a failure.

Importing jupyter-cache (and SQLAlchemy with it) takes about 0.5 s, and a cached clean build waits
for it before it reads anything: so this module imports it only to store a notebook, or to look
one up that its own index does not know. With each notebook it stores, it writes an index entry
naming the notebook by a digest of everything jupyter-cache hashes (the code cells with their
metadata, the kernel, the dependency digests) and giving jupyter-cache's key for it. A look-up
whose digest has an entry reads the executed notebook from jupyter-cache's folder and merges it
into the notebook as jupyter-cache would; anything else (no entry, a notebook jupyter-cache has
since dropped) asks jupyter-cache. Equal digests mean equal inputs to jupyter-cache's hash, so the
index can only ever answer what jupyter-cache would. An empty cache imports nothing at all.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
import tempfile
from importlib import metadata
from pathlib import Path

import nbformat

from .exercises.markers import project_meta

KEY = "mle_handbook_cache_key"
#: jupyter-cache's database, in the cache's folder (``jupyter_cache.cache.db.DB_NAME``): a folder
#: without one has never stored a notebook.
DATABASE = "global.db"
PACKAGE = Path(__file__).resolve().parent
_IMPORT = re.compile(r"(?:from|import)\s+mle_handbook\.(\w+)")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dependencies(nb: nbformat.NotebookNode, notebook_path: Path, lock: Path | None) -> dict:
    """What, besides its code, a notebook's results depend on: ``{name: sha256}``."""
    deps: dict[str, str] = {}
    for name in project_meta(nb).get("data", []):
        path = notebook_path.parent / name
        deps[f"data:{name}"] = _digest(path) if path.exists() else "missing"
    if lock is not None and lock.exists():
        deps["lock"] = _digest(lock)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for module in sorted(set(_IMPORT.findall(code))):
        path = PACKAGE / f"{module}.py"
        if path.exists():
            deps[f"module:{module}"] = _digest(path)
    return deps


def handbook_cache(path: str | Path):
    """jupyter-cache, with the dependency digests in the hashed metadata."""
    from jupyter_cache.cache.main import JupyterCacheBase

    class HandbookCache(JupyterCacheBase):
        def create_hashed_notebook(self, nb, nb_metadata=("kernelspec",), cell_metadata=None):
            return super().create_hashed_notebook(
                nb, nb_metadata=tuple(nb_metadata or ()) + (KEY,), cell_metadata=cell_metadata
            )

    return HandbookCache(str(path))


#: The folder of the index, in the cache's folder.
INDEX = "mle-handbook-index"
#: Notebook metadata jupyter-cache hashes (besides the dependencies) and merges from a hit.
HASHED_METADATA = ("kernelspec",)
MERGED_METADATA = ("kernelspec", "language_info", "widgets")


@functools.cache
def _jupyter_cache_version() -> str:
    return metadata.version("jupyter-cache")


def digest(nb: nbformat.NotebookNode) -> str:
    """A digest of everything jupyter-cache hashes in ``nb`` (``create_hashed_notebook`` with
    :class:`HandbookCache`'s metadata): the format's major version, the hashed notebook metadata
    and each code cell's source and metadata; salted with jupyter-cache's version."""
    hashed = {
        "jupyter-cache": _jupyter_cache_version(),
        "nbformat": nb.nbformat,
        "metadata": {k: nb.metadata.get(k) for k in (*HASHED_METADATA, KEY)},
        "cells": [[c.source, c.metadata] for c in nb.cells if c.cell_type == "code"],
    }
    return hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()


def merge(nb: nbformat.NotebookNode, cached: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` with the code cells and kernel metadata of its executed copy ``cached``, as
    jupyter-cache's ``merge_match_into_notebook`` merges them (its default arguments)."""
    nb = nbformat.convert(copy.deepcopy(nb), 4)
    cached_cells = [c for c in cached.cells if c.cell_type == "code"]
    for key in MERGED_METADATA:
        if key in cached.metadata:
            nb.metadata[key] = cached.metadata[key]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cached_cell = copy.deepcopy(cached_cells.pop(0))
            if nb.nbformat_minor >= 5:
                cached_cell.id = cell.id
            else:
                cached_cell.pop("id", None)
            nb.cells[index] = cached_cell
    return nb


class ExecutionCache:
    def __init__(self, path: str | Path, lock: str | Path | None = None):
        self.path = Path(path)
        self.lock = Path(lock) if lock else None
        self._cache = None

    @property
    def cache(self):
        if self._cache is None:
            self._cache = handbook_cache(self.path)
        return self._cache

    def is_empty(self) -> bool:
        """True if nothing was ever stored here (no database): every look-up would miss."""
        return not (self.path / DATABASE).exists()

    def _keyed(self, nb: nbformat.NotebookNode, notebook_path: Path) -> nbformat.NotebookNode:
        nb = copy.deepcopy(nb)
        nb.metadata[KEY] = dependencies(nb, notebook_path, self.lock)
        return nb

    def lookup(
        self, nb: nbformat.NotebookNode, notebook_path: Path
    ) -> nbformat.NotebookNode | None:
        """The executed notebook (outputs merged into ``nb``) if nothing changed, else None."""
        if self.is_empty():
            return None
        keyed = self._keyed(nb, notebook_path)
        merged = self._indexed(keyed)
        if merged is None:
            try:
                pk, merged = self.cache.merge_match_into_notebook(keyed)
            except KeyError:
                return None
            # Stored before the index existed: index it, so that the next look-up is quick.
            record = self.cache.get_cache_record(pk)
            self._write_index(digest(keyed), {"hashkey": record.hashkey, "uri": record.uri})
        merged.metadata.pop(KEY, None)
        return merged

    def _indexed(self, keyed: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
        """The merged hit the index knows of, without jupyter-cache; None if it does not."""
        try:
            entry = json.loads((self.path / INDEX / f"{digest(keyed)}.json").read_text())
            executed = self.path / "executed" / entry["hashkey"] / "base.ipynb"
            cached = nbformat.reads(executed.read_text(encoding="utf8"), nbformat.NO_CONVERT)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if sum(c.cell_type == "code" for c in cached.cells) != sum(
            c.cell_type == "code" for c in keyed.cells
        ):
            return None
        return merge(keyed, cached)

    def store(self, executed: nbformat.NotebookNode, notebook_path: Path, uri: str) -> None:
        from jupyter_cache.base import CacheBundleIn

        keyed = self._keyed(executed, notebook_path)
        record = self.cache.cache_notebook_bundle(
            CacheBundleIn(keyed, uri), check_validity=False, overwrite=True
        )
        self._write_index(digest(keyed), {"hashkey": record.hashkey, "uri": uri})

    def _write_index(self, name: str, entry: dict) -> None:
        """Write an index entry atomically; an index that cannot be written only costs speed."""
        folder = self.path / INDEX
        try:
            folder.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                json.dump(entry, handle)
            os.replace(tmp, folder / f"{name}.json")
        except OSError:
            pass
