"""Python's cyclic garbage collector during a build: explicit collections instead of automatic ones.

A build makes hundreds of thousands of short-lived objects, and docutils trees are cyclic (every
node points at its parent). CPython collects automatically every 700 net allocations, and each
collection of an older generation walks every object the build holds so far, the imported
modules included. So, in a parallel build (``-j``, as ``make html`` runs it), from the moment
this extension is loaded until the build finishes:

- automatic collection is off;
- once every extension is loaded (``config-inited``), the objects that exist then (modules,
  classes, settings, which live as long as the process) are frozen out of later collections,
  and again as reading starts (``env-before-read-docs``): what the builder loaded by then (the
  intersphinx inventories, the bibliographies) also lives until the end, and every reader
  process's collection walked it (5 % of the readers' time in a cached clean build);
- every :data:`COLLECT_EVERY` documents read or resolved for writing, one explicit collection
  frees what they left behind, so memory stays bounded; except after the last page of a reader
  process's chunk (:func:`.scheduling.ends_a_chunk`): the process ends right after it, and so
  does its memory (without them, a cached clean build took 0.92 of its time, on a slow spell);
- whenever the build has to wait for a notebook, and once reading is over, one explicit collection
  frees what is garbage and freezes what is left: the environment, and whatever else outlives
  reading, is not walked again by the collections while writing. (Those walked it three times,
  0.21-0.34 s each in the main process, on the path of every clean build that executes notebooks;
  on a cached one, the single collection after reading replaces slower ones while writing.)
- at ``build-finished`` the collector is put back as it was (a build run inside a longer-lived
  process, such as the test suite, leaves it unchanged), unless the process ends with the build.

A serial build (Read the Docs runs ``sphinx-build`` without ``-j``) keeps automatic collection:
that is where memory is limited, and there the explicit collections left the main process
30 MB larger at its peak (196 MB against 166 MB for a cached build of this handbook), while
the time saved matters little next to executing the notebooks. See the authors' guide for the
measurements.
"""

from __future__ import annotations

import gc
import sys

from sphinx.application import Sphinx

#: Documents read or resolved between two explicit collections.
COLLECT_EVERY = 20


def pause(app: Sphinx) -> None:
    """Turn automatic collection off for this build, if it is on and the build is parallel."""
    if app.parallel > 1 and gc.isenabled():
        gc.disable()
        app._mle_gc_paused = True


def freeze(app: Sphinx, *args) -> None:
    """Leave what exists now out of every later collection (``config-inited``, once the
    extensions are loaded; ``env-before-read-docs``, before the readers are forked)."""
    if getattr(app, "_mle_gc_paused", False):
        gc.freeze()


def collect_now_and_then(app: Sphinx, *args) -> None:
    """Collect once every :data:`COLLECT_EVERY` documents (``doctree-read``, ``doctree-resolved``),
    unless a reader process is about to end."""
    if not getattr(app, "_mle_gc_paused", False):
        return
    app._mle_gc_count = getattr(app, "_mle_gc_count", 0) + 1
    if app._mle_gc_count % COLLECT_EVERY == 0 and not _reader_ends_now(app):
        gc.collect()


def _reader_ends_now(app: Sphinx) -> bool:
    from sphinx.util.build_phase import BuildPhase

    from .scheduling import ends_a_chunk

    builder = getattr(app, "builder", None)
    if getattr(builder, "phase", None) != BuildPhase.READING:
        return False
    return ends_a_chunk(app, getattr(app.env, "docname", ""))


def collect_and_freeze(app: Sphinx, *args) -> None:
    """Collect now, and leave whatever survives out of every later collection (while waiting for
    a notebook; ``env-updated``)."""
    if getattr(app, "_mle_gc_paused", False):
        gc.collect()
        gc.freeze()


def resume(app: Sphinx, exception) -> None:
    """Put the collector back as it was before the build, unless the process ends with it
    (:func:`mle_handbook.sphinx_build.run_and_exit`, what ``make html`` runs): moving every frozen
    object back took the main process of a build that executes notebooks 0.13-0.17 s."""
    if getattr(app, "_mle_gc_paused", False) and not _process_ends_with_build():
        app._mle_gc_paused = False
        gc.unfreeze()
        gc.enable()


def _process_ends_with_build() -> bool:
    entry = sys.modules.get("mle_handbook.sphinx_build")
    return bool(getattr(entry, "exits_after_build", False))
