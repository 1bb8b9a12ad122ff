"""A persistent execution cache for notebooks, built on jupyter-cache's public API.

A notebook is executed again only when something its results depend on changed: its code cells
(with their metadata), its kernel, the data files it declares (``mle_handbook.data``), the locked
dependencies (``requirements.lock``) or the modules of this package that it imports. Those
dependencies are hashed with the notebook through jupyter-cache's own hook for what it hashes
(:meth:`~jupyter_cache.cache.main.JupyterCacheBase.create_hashed_notebook`'s notebook metadata).
Only runs without errors are stored, so a failing notebook is executed (and fails) every time:
the cache never hides a failure.
"""

from __future__ import annotations

import copy
import hashlib
import re
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
        files = [PACKAGE / f"{module}.py"] + sorted((PACKAGE / module).glob("*.py"))
        for path in (f for f in files if f.exists()):
            deps[f"module:{path.relative_to(PACKAGE).as_posix()}"] = _digest(path)
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

    def close(self) -> None:
        """Close jupyter-cache's database connections (its SQLAlchemy engine keeps them pooled;
        Python 3.13 warns about an SQLite connection collected unclosed)."""
        if self._cache is not None:
            self._cache.db.dispose()

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
            return None  # without importing jupyter-cache (and SQLAlchemy) at all
        try:
            _, merged = self.cache.merge_match_into_notebook(self._keyed(nb, notebook_path))
        except KeyError:
            return None
        merged.metadata.pop(KEY, None)
        return merged

    def store(self, executed: nbformat.NotebookNode, notebook_path: Path, uri: str) -> None:
        from jupyter_cache.base import CacheBundleIn

        keyed = self._keyed(executed, notebook_path)
        self.cache.cache_notebook_bundle(
            CacheBundleIn(keyed, uri), check_validity=False, overwrite=True
        )
