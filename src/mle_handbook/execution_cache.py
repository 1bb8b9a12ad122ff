"""A persistent execution cache for notebooks, built on jupyter-cache.

A notebook is executed again only when something its results depend on changed: its code cells
(with their metadata), its kernel, the data files it declares (``mle_handbook.data``), the locked
dependencies (``requirements.lock``) or the modules of this package that it imports. Only runs
without errors are stored, so a failing notebook is executed (and fails) every time: the cache
never hides a failure.
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path

import nbformat
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.cache.main import JupyterCacheBase

from .exercises.markers import project_meta

KEY = "mle_handbook_cache_key"
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


class HandbookCache(JupyterCacheBase):
    """jupyter-cache, with the dependency digests in the hashed metadata."""

    def create_hashed_notebook(self, nb, nb_metadata=("kernelspec",), cell_metadata=None):
        return super().create_hashed_notebook(
            nb, nb_metadata=tuple(nb_metadata or ()) + (KEY,), cell_metadata=cell_metadata
        )


class ExecutionCache:
    def __init__(self, path: str | Path, lock: str | Path | None = None):
        self.cache = HandbookCache(str(path))
        self.lock = Path(lock) if lock else None

    def _keyed(self, nb: nbformat.NotebookNode, notebook_path: Path) -> nbformat.NotebookNode:
        nb = copy.deepcopy(nb)
        nb.metadata[KEY] = dependencies(nb, notebook_path, self.lock)
        return nb

    def lookup(
        self, nb: nbformat.NotebookNode, notebook_path: Path
    ) -> nbformat.NotebookNode | None:
        """The executed notebook (outputs merged into ``nb``) if nothing changed, else None."""
        try:
            _, merged = self.cache.merge_match_into_notebook(self._keyed(nb, notebook_path))
        except KeyError:
            return None
        merged.metadata.pop(KEY, None)
        return merged

    def store(self, executed: nbformat.NotebookNode, notebook_path: Path, uri: str) -> None:
        self.cache.cache_notebook_bundle(
            CacheBundleIn(self._keyed(executed, notebook_path), uri),
            check_validity=False,
            overwrite=True,
        )
