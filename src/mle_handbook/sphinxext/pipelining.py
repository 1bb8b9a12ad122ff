"""Write the other pages while the last notebook still runs, then that notebook's page.

Sphinx reads every page before it writes any, so a build that executes notebooks wrote nothing
until the last notebook had run: the whole writing phase (about 3 s of a 65 s build of this
handbook on 2 cores) came after it, with the cores that notebook's kernel and the Spark server
left idle going unused. Here, when the only page left to read is a notebook still running, it is
read *provisionally*, as its unexecuted source (its Markdown, code and metadata; no outputs),
with its log silenced, and the build goes on: Sphinx writes every other page, at the reading
thread's lower priority (see :meth:`.execution._Running._yield_to_notebooks`), while the
notebook runs. Then the notebook is waited for, read again as executed (reporting what reading
it says, and its failures, as any notebook's), and its page is written.

What the other pages show of a notebook (its title and sections in every sidebar, the targets
of references to it, its citations and index entries) comes from its Markdown and code, which
executing it does not change; the outputs only appear on its own page. That is checked, not
assumed: everything the environment holds that other pages may use (:func:`snapshot`: the
titles and tables of contents, the toctrees, every domain's data, every extension's data) is
compared before and after the second reading, and if anything differs every page is written
again, as Sphinx would have written it. So the site is the same byte for byte either way
(``tests/sphinxext/test_pipelining.py``). The saved environment is written again at the end, so
that the next build starts from the notebook as executed; until then the notebook is noted as
failed, so a build stopped in between reads it again next time.

Only the HTML builders change, and only while notebooks execute; ``mle_handbook_write_ahead =
False`` turns it off.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: The builders whose writing this changes.
BUILDERS = ("html", "dirhtml")

#: What the environment holds that no other page's output depends on, with the reason; the
#: snapshot leaves these out. Everything else it holds, Sphinx's or any extension's, is compared.
NOT_SHOWN_ELSEWHERE = {
    "all_docs": "when each page was read (decides what the next build re-reads)",
    "dependencies": "files each page depends on (decides what the next build re-reads)",
    "images": "images of each page, copied at the end; names are given per file",
    "dlfiles": "downloadable files of each page, copied at the end",
    "nbsphinx_files": "files each notebook's outputs need, copied at the end",
    "mle_handbook_failed": "notebooks to read again next build (this module's own marker)",
    "temp_data": "data of the page being read",
    "master_doctree": "the root page's doctree, kept once writing first needs it",
    "current_document": "the page being read",
    "intersphinx_cache": "other projects' inventories, loaded as the build starts",
    "intersphinx_inventory": "other projects' inventories, loaded as the build starts",
    "intersphinx_named_inventory": "other projects' inventories, loaded as the build starts",
    "ref_context": "context of the page being read",
}

#: Sphinx keeps the search index's data in attributes named so: each page's words and titles, fed
#: as the page is written, and only written out (to ``searchindex.js``) at the end.
SEARCH_INDEX = "_search_index_"

#: Attributes of Sphinx's environment that are its machinery, not data read from pages.
MACHINERY = frozenset(
    {
        "_app",
        "_builder_cls",
        "_config",
        "_doctreedir",
        "_srcdir",
        "_pickled_doctree_cache",
        "_write_doc_doctree_cache",
        "_search_index_titles",
        "app",
        "config",
        "config_status",
        "config_status_extra",
        "doctreedir",
        "domains",
        "events",
        "found_docs",
        "parser",
        "project",
        "settings",
        "srcdir",
        "version",
        "versioning_condition",
        "versioning_compare",
    }
)


def enable(app) -> None:
    """``builder-inited``: let an HTML build write ahead (see the module's notes)."""
    if not app.config.mle_handbook_write_ahead or app.builder.name not in BUILDERS:
        return
    from . import execution

    app._mle_provisional, app._mle_read_again = set(), set()
    builder = app.builder
    write_documents, read_doc = builder.write_documents, builder.read_doc

    def reading(docname: str, **kwargs) -> None:
        if docname in app._mle_read_again or not execution.running_last(app, docname):
            return read_doc(docname, **kwargs)
        app._mle_provisional.add(docname)
        with logging.suppress_logging():  # the second reading reports what reading says
            return read_doc(docname, **kwargs)

    def writing(docnames) -> None:
        return write_ahead(app, write_documents, set(docnames))

    builder.read_doc = reading
    builder.write_documents = writing


def provisional(app, docname: str) -> bool:
    """Whether ``docname`` is being read provisionally (its unexecuted source stands in for it
    until it has run)."""
    return docname in getattr(app, "_mle_provisional", ())


def write_ahead(app, write_documents: Callable, docnames: set[str]) -> None:
    """The builder's ``write_documents``, in two parts when a page was read provisionally."""
    ahead = sorted(app._mle_provisional & docnames)
    if not ahead:
        return write_documents(docnames)
    builder, env = app.builder, app.env
    before = snapshot(env)
    as_read = _search_index_data(env)
    logger.info(f"writing the other pages while {', '.join(ahead)} run(s)")
    write_documents(docnames - set(ahead))
    more = read_again(app, ahead) & env.found_docs
    after = snapshot(env)
    changed = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    if changed:
        logger.info(
            f"executing {', '.join(ahead)} changed what other pages show ({', '.join(changed)}): "
            "writing every page again"
        )
        builder.prepare_writing(docnames | more)
        write_documents(docnames | more)
    else:
        write_documents(set(ahead) | more)
    _save_environment(app, as_read)


def read_again(app, docnames: list[str]) -> set[str]:
    """Read ``docnames`` again, now waiting for their execution, as Sphinx reads a page (purge,
    read, then ``env-updated``); returns the pages ``env-updated`` asks to be written."""
    from sphinx.util.build_phase import BuildPhase

    builder, env = app.builder, app.env
    phase, builder.phase = builder.phase, BuildPhase.READING
    try:
        for docname in docnames:
            app._mle_provisional.discard(docname)
            app._mle_read_again.add(docname)
            app.events.emit("env-purge-doc", env, docname)
            env.clear_doc(docname)
            env._pickled_doctree_cache.pop(docname, None)
            if docname == app.config.root_doc:
                env.__dict__.pop("master_doctree", None)  # a cached property
            builder.read_doc(docname)
        more: set[str] = set()
        for returned in app.events.emit("env-updated", env):
            more.update(returned or ())
    finally:
        builder.phase = phase
    return more


def _search_index_data(env) -> bytes:
    """The search index's data as the environment holds it before any page is written."""
    return pickle.dumps(
        {name: value for name, value in vars(env).items() if name.startswith(SEARCH_INDEX)},
        pickle.HIGHEST_PROTOCOL,
    )


def _save_environment(app, search_index_data: bytes) -> None:
    """Pickle the environment again, as Sphinx pickled it after the first reading: as read (the
    second reading included), not as writing the pages left it (the search index's data fed
    meanwhile, the root page's doctree kept), so the next build starts where it would have."""
    import copyreg

    from sphinx.application import ENV_PICKLE_FILENAME

    env = app.env
    state = env.__getstate__()
    state.update(pickle.loads(search_index_data))
    state.pop("master_doctree", None)
    with open(app.builder.doctreedir / ENV_PICKLE_FILENAME, "wb") as f:
        pickler = pickle.Pickler(f, pickle.HIGHEST_PROTOCOL)
        # The environment with that state, wherever it is referred to (its settings refer to it).
        pickler.dispatch_table = {
            **copyreg.dispatch_table,
            type(env): lambda e: (type(e).__new__, (type(e),), state),
        }
        pickler.dump(env)


def snapshot(env) -> dict[str, object]:
    """Everything the environment holds that pages other than the one it came from may show, in
    a form that compares by value (see :data:`NOT_SHOWN_ELSEWHERE`)."""
    state = {
        name: canonical(value)
        for name, value in vars(env).items()
        if name not in MACHINERY
        and name not in NOT_SHOWN_ELSEWHERE
        and not name.startswith(SEARCH_INDEX)
    }
    return state


def canonical(value):
    """``value`` in a form whose equality is equality of content: docutils nodes by their
    ``pformat``, mappings and sets sorted; anything else by its pickle (unpicklable: never equal)."""
    if isinstance(value, nodes.Node):
        return ("node", value.pformat())
    if isinstance(value, dict):
        return ("dict", sorted((repr(k), canonical(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", sorted(repr(canonical(v)) for v in value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [canonical(v) for v in value])
    if value is None or isinstance(value, (str, int, float, bool, bytes)):
        return value
    try:
        return ("pickle", pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - cannot tell: treat as changed
        return ("unknown", object())
