"""Remove third-party hot spots from every build (found, and timed, with cProfile and py-spy).

- nbsphinx converts each Markdown cell to reST by running pandoc twice (about 30 ms a cell, some
  3 s a build). With an execution cache configured (``mle_handbook_cache_dir``), conversions are
  kept next to it, keyed by the cell's text and the pandoc and nbsphinx versions, so a cached
  clean build starts no pandoc at all. Conversions not kept there are made in one batch per
  notebook (:mod:`.pandoc_batch`).
- Pygments highlights every code cell and code block when pages are written (in a cached clean
  build, some 1.5 s of the writer processes' time, a third of it IPython's lexer). With an
  execution cache configured, Sphinx's highlighted HTML is kept next to it too, keyed by the code,
  the language, the formatter and their options, and the Sphinx and Pygments versions and locked
  dependencies. A block found there needs no lexer, so the writer processes no longer compile
  one each (IPython's, Scala's and Bash's lexers took 0.15-0.3 s each in every writer process
  that met them). A block Sphinx warns about (a lexer not known, code that fails to lex) is never
  kept, so Sphinx still warns about it every time.
- sphinxcontrib-bibtex asks pybtex for its plain-text backend once per citation, and pybtex
  looks the plugin up in the installed packages' entry points each time (about 30 ms each, over
  6 s for this handbook's citations). The entry points cannot change during a build, so the
  lookups are remembered for the life of the process, and the installed packages' entry points
  are read once, not once for each of pybtex's eight look-ups (about 11 ms each).
- sphinxcontrib-bibtex formats each bibliography entry twice with the same pybtex style (for the
  list and for its tooltip); the second formatting reuses the first. It formats them all again
  in every build, even one with nothing to read, in the serial step between reading and writing
  (0.19 s of it with the plugin look-ups). With an execution cache configured, each formatted
  entry is kept next to it, keyed by the entry, its label, the style and its settings, every
  ``.bib`` file's bytes and the locked versions: that step now takes about 0.04 s.
- sphinxcontrib-bibtex formats every in-text citation again in every build, while pages are
  resolved in the writer processes (pybtex's name templates: 0.39-0.42 s of their processor time
  for this handbook's 207 citations). With an execution cache configured, the nodes each
  citation resolves to are kept next to it, keyed by the page, the role and target, the link to
  each cited entry, the reference style's settings, every ``.bib`` file's bytes and the versions:
  the writers' resolving took 1.15 s instead of 1.45 s.
- pybtex decodes the LaTeX of a name or field (``Text.from_latex``, through latexcodec) every
  time a citation is formatted: for the bibliography, and again for each citation in the text
  while pages are resolved (about a tenth of the main process's resolving time). Each LaTeX string is
  now decoded once per process; pybtex's rich text values are never changed in place.
- nbsphinx makes a new nbconvert exporter for every notebook, and each compiles nbconvert's
  reST templates into a Jinja environment of its own (about 0.12 s a notebook). The compiled
  code is kept in memory for the life of the process and shared by every such environment, and,
  with an execution cache configured, kept next to it for the reader processes of later builds.
- nbconvert validates the whole notebook against its schema after each of nbsphinx's
  preprocessors; now once, after the last.
- nbconvert's export of each notebook to reST (its preprocessors, the figures it extracts from
  the outputs, its templates) took 0.02-0.17 s a notebook in every reader process. With an
  execution cache configured, the export is kept next to it, keyed by the notebook, what nbsphinx
  passes with it, nbsphinx's settings, the locked versions and this extension's own code: a
  cached clean build took 0.97 of its time.
- Sphinx compiles its theme's Jinja templates (41 of them) in every build before it writes the
  first page, about 0.3 s while every other process waits. With an execution cache configured,
  the compiled code is kept next to it (Jinja's own bytecode cache, which checks each template's
  source), in a folder named after the Jinja and Sphinx versions.
- Sphinx's writer processes each compile what their pages use on first use: the Pygments
  lexers (Scala's alone takes 0.3 s) and, when the theme reshapes navigation the cache does not
  hold, soupsieve's CSS-selector patterns (0.2 s); and the first page written compiles the
  theme's templates while every other process waits. While a build waits for a notebook anyway,
  the main process compiles all three ahead (:func:`prepare_writing_ahead`), so every writer
  forked later inherits them.
- nbformat validates notebooks with fastjsonschema, which turns the notebook schema into Python
  code and compiles it in every process before the first notebook is read (0.075 s, in the main
  process, while every other core waits). With an execution cache configured, the compiled code
  is kept next to it, keyed by the schema and the fastjsonschema and Python versions.
- The theme (pydata-sphinx-theme) renders every template of every page section once more only to
  see whether it comes out empty, before the page renders it again (0.2 s of the writers' time,
  besides what the page then reuses). Templates whose source writes text outside every tag (the
  sidebar's navigation, the article header's buttons, the search field) cannot come out empty:
  the theme is told to skip their check.
- sphinx.ext.intersphinx parses every inventory again in every build (0.17 s for this
  handbook's five offline copies; more for the full online ones), while the build waits. With an
  execution cache configured, the parsed inventory is kept next to it, keyed by the inventory's
  bytes, so a changed inventory is parsed again.
- Sphinx's parallel reader processes each pickle their whole environment back to the main
  process, intersphinx's inventories included (3.1 of its 3.5 MB here), though merging never
  uses them. Readers now leave the inventories out.
- The theme (pydata-sphinx-theme, under sphinx-book-theme) builds every page's sidebar
  navigation from Sphinx's table-of-contents HTML by parsing it with BeautifulSoup, reshaping it
  and writing it out again, twice a page (7 % of a cached clean build's processor time, all of it
  in the writer processes), and each page's own table of contents likewise (a tenth of the
  writers' time under the profiler). With an execution cache configured, the reshaped HTML is kept
  next to it, keyed by Sphinx's HTML and the reshaping's arguments; Sphinx's part is still done
  for every page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import inspect
import os
import tempfile
from logging import WARNING
from pathlib import Path

import jinja2
from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)


def remember_pybtex_plugins(app, config) -> None:
    """Make ``pybtex.plugin.find_plugin`` look each plugin up once per process, in the installed
    packages' entry points as read once per process."""
    try:
        import pybtex.plugin
    except ImportError:  # sphinxcontrib-bibtex not in use
        return
    if not hasattr(pybtex.plugin.find_plugin, "cache_info"):
        pybtex.plugin.find_plugin = functools.lru_cache(maxsize=None)(pybtex.plugin.find_plugin)
    read_entry_points_once()


#: Modules that look plugins up with ``importlib.metadata.entry_points``, imported by name:
#: pybtex (its plugins; first, as importing sphinxcontrib-bibtex looks some up), Sphinx (themes,
#: builders) and sphinxcontrib-bibtex (its styles). (Pygments imports it when it looks, once.)
ENTRY_POINT_USERS = (
    "pybtex.plugin",
    "sphinx.theming",
    "sphinx.registry",
    "sphinxcontrib.bibtex.plugin",
)


def read_entry_points_once() -> None:
    """Give :data:`ENTRY_POINT_USERS` :func:`installed_entry_points` (called when this extension
    loads, before sphinxcontrib-bibtex and pybtex load their plugins: four readings of every
    installed package's entry points, about 0.05 s of a build's start-up, became one)."""
    import importlib
    from importlib.metadata import entry_points

    for name in ENTRY_POINT_USERS:
        try:
            module = importlib.import_module(name)
        except ImportError:  # not installed: nothing to look up
            continue
        if getattr(module, "entry_points", None) is entry_points:
            module.entry_points = installed_entry_points


@functools.cache
def _every_entry_point():
    from importlib.metadata import entry_points

    return entry_points()


def installed_entry_points(**selection):
    """``importlib.metadata.entry_points(**selection)``, from one reading of every installed
    package's entry points. Each call of the original reads them all again (672 packages here:
    about 11 ms a call, and pybtex makes eight a build); none is installed during a build."""
    return _every_entry_point().select(**selection)


def format_entries_once(app, config) -> None:
    """Make a pybtex style format each (label, entry) once. sphinxcontrib-bibtex formats every
    entry of every bibliography twice, once for the list and once for its tooltip, with the same
    style object unless ``bibtex_tooltips_style`` names another; the second time is now a look-up
    (52 of 104 formattings here, in the serial step between reading and writing)."""
    try:
        from pybtex.style.formatting import BaseStyle
    except ImportError:  # sphinxcontrib-bibtex not in use
        return
    if getattr(BaseStyle.format_entry, "_mle_once", False):
        return
    format_entry = BaseStyle.format_entry

    @functools.wraps(format_entry)
    def once(self, label, entry, bib_data=None):
        formatted = self.__dict__.setdefault("_mle_formatted", {})
        key = (label, id(entry), id(bib_data))
        if key not in formatted:  # the entry is kept with its result: its id stays its own
            formatted[key] = (entry, format_entry(self, label, entry, bib_data))
        return formatted[key][1]

    once._mle_once = True
    BaseStyle.format_entry = once


def memoise_bibliography(app, config) -> None:
    """Keep each bibliography entry pybtex formats in the execution cache's folder (see the
    module's notes). Runs before :func:`format_entries_once`, which then wraps it."""
    if not config.mle_handbook_cache_dir or "sphinxcontrib.bibtex" not in config.extensions:
        return
    from pybtex.style.formatting import BaseStyle

    if getattr(BaseStyle.format_entry, "_mle_once", False):  # too late to go underneath
        return
    salt = _bibliography_salt(app, config)
    if salt is None:
        return
    format_entry = getattr(BaseStyle.format_entry, "__wrapped__", BaseStyle.format_entry)
    folder = Path(app.srcdir) / config.mle_handbook_cache_dir / "bibliography"
    BaseStyle.format_entry = remembered_entries(format_entry, folder, salt)


def _bibliography_salt(app, config) -> str | None:
    """A digest of the versions of Sphinx, sphinxcontrib-bibtex and pybtex, the locked
    dependencies (when the project has a ``requirements.lock``) and every ``.bib`` file's bytes;
    None when a ``.bib`` file cannot be read (sphinxcontrib-bibtex reports it; nothing is kept)."""
    from importlib.metadata import version

    packages = ("sphinx", "sphinxcontrib-bibtex", "pybtex", "pybtex-docutils")
    digest = hashlib.sha256(repr([(name, version(name)) for name in packages]).encode())
    lock = Path(app.srcdir, "requirements.lock")
    digest.update(lock.read_bytes() if lock.is_file() else b"no lock")
    for name in config.bibtex_bibfiles:
        try:
            digest.update(f"\0{name}\0".encode() + Path(app.srcdir, name).read_bytes())
        except OSError:
            return None
    return digest.hexdigest()


def remembered_entries(format_entry, folder: Path, salt: str):
    """pybtex's ``BaseStyle.format_entry(self, label, entry, bib_data=None)``, its results kept
    as pickles in ``folder``. The key names the style's class and settings, the label, the
    entry's key and everything the entry holds (type, fields, people); ``salt`` names the rest
    (pybtex and the other locked versions, every ``.bib`` file's bytes, so that a changed
    cross-reference is formatted again). Styles defined outside pybtex and sphinxcontrib-bibtex
    (in ``conf.py``, say) are not kept, nor is a result made while Sphinx warned; an entry that
    fails to format raises every time, as before."""
    import base64
    import pickle

    memo = _Memo(folder, salt=salt, suffix=".pickle")
    kept = ("pybtex.", "sphinxcontrib.bibtex.")

    @functools.wraps(format_entry)
    def wrapper(self, label, entry, bib_data=None):
        style = type(self)
        if bib_data is not None or not style.__module__.startswith(kept):
            return format_entry(self, label, entry, bib_data)
        settings = sorted(
            (name, repr(value) if isinstance(value, PLAIN) else _class_name(value))
            for name, value in vars(self).items()
            if not inspect.ismethod(value)
        )
        key = "\0".join(
            (f"{style.__module__}.{style.__qualname__}", repr(settings), label, str(entry.key))
        )
        key = f"{key}\0{entry!r}"
        found = memo.find(key)
        if found is not None:
            with contextlib.suppress(Exception):  # unreadable: formatted again, and replaced
                return pickle.loads(base64.b85decode(found))
        result, warned = _watching_warnings(format_entry, self, label, entry, bib_data)
        if not warned:
            memo.put(key, base64.b85encode(pickle.dumps(result, pickle.HIGHEST_PROTOCOL)).decode())
        return result

    return wrapper


def memoise_citations(app, config) -> None:
    """Keep each in-text citation sphinxcontrib-bibtex resolves, as the nodes it makes, in the
    execution cache's folder (see the module's notes)."""
    if not config.mle_handbook_cache_dir or "sphinxcontrib.bibtex" not in config.extensions:
        return
    from sphinxcontrib.bibtex.domain import BibtexDomain

    salt = _bibliography_salt(app, config)
    if salt is None:
        return
    settings = sorted((value.name, repr(value.value)) for value in config if "bibtex" in value.name)
    resolve = getattr(BibtexDomain.resolve_xref, "__wrapped__", BibtexDomain.resolve_xref)
    folder = Path(app.srcdir) / config.mle_handbook_cache_dir / "citations"
    BibtexDomain.resolve_xref = remembered_citations(resolve, folder, f"{salt}\0{settings!r}")


def remembered_citations(resolve, folder: Path, salt: str):
    """sphinxcontrib-bibtex's ``BibtexDomain.resolve_xref(self, env, fromdocname, builder, typ,
    target, node, contnode)``, the nodes it returns kept as pickles in ``folder``. The key names
    the builder, the citing page, the role and its target (keys, pre- and post-text), the
    reference style (its class and every setting, nested ones included), and, for each
    bibliography entry the target's keys cite, its key, id, label, list and page, and the link
    from the citing page to that page; ``salt`` names the rest (versions, locked dependencies,
    every ``.bib`` file's bytes, the ``bibtex_*`` settings). A result made while Sphinx warned (a
    key not found) is not kept, so the warning is given in every build; neither is one whose
    style cannot be described without a memory address, nor a target that cannot be parsed."""
    import base64
    import pickle

    memo = _Memo(folder, salt=salt, suffix=".pickle")

    @functools.wraps(resolve)
    def resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode):
        key = _citation_key(self, fromdocname, builder, typ, target)
        if key is None:
            return resolve(self, env, fromdocname, builder, typ, target, node, contnode)
        found = memo.find(key)
        if found is not None:
            with contextlib.suppress(Exception):  # unreadable: resolved again, and replaced
                return pickle.loads(base64.b85decode(found))
        result, warned = _watching_warnings(
            resolve, self, env, fromdocname, builder, typ, target, node, contnode
        )
        if not warned and result is not None:
            memo.put(key, base64.b85encode(pickle.dumps(result, pickle.HIGHEST_PROTOCOL)).decode())
        return result

    return resolve_xref


def _citation_key(domain, fromdocname: str, builder, typ: str, target: str) -> str | None:
    """What a citation's nodes depend on besides the salt of :func:`remembered_citations`, or
    None when that cannot be told."""
    from sphinxcontrib.bibtex.citation_target import parse_citation_targets

    try:
        keys = {parsed.key for parsed in parse_citation_targets(target)}
        style = _style_description(domain.reference_style)
        cited = sorted(
            (
                citation.key,
                citation.citation_id,
                str(citation.formatted_entry.key),
                str(citation.formatted_entry.label),
                domain.bibliographies[citation.bibliography_key].list_,
                citation.bibliography_key.docname,
                builder.get_relative_uri(fromdocname, citation.bibliography_key.docname),
            )
            for citation in domain.citations
            if citation.key in keys
        )
    except Exception:  # noqa: BLE001 - anything unexpected: resolved as usual, not kept
        return None
    if style is None:
        return None
    return "\0".join((builder.name, fromdocname, typ, target, style, repr(cited)))


#: Each reference style described once per process (by :func:`_stable_repr`: some 10 kB, 1 ms).
_STYLES: dict[int, tuple[object, str | None]] = {}


def _style_description(style) -> str | None:
    kept, description = _STYLES.get(id(style), (None, None))
    if kept is not style:
        description = _stable_repr(style)
        _STYLES[id(style)] = (style, description)
    return description


def _stable_repr(value, depth: int = 0) -> str | None:
    """What ``value`` holds, described the same way in every process: plain values and lists by
    their ``repr``, dataclasses and other objects by their class and (recursively) their fields
    or attributes, dictionaries by their items; None when only where an object is in memory would
    tell it apart."""
    if isinstance(value, PLAIN):
        return repr(value)
    if isinstance(value, (list, tuple)):
        items = [_stable_repr(item, depth + 1) for item in value]
        return None if None in items else f"{type(value).__name__}({', '.join(items)})"
    if depth > 8:
        return None
    if isinstance(value, dict):
        items = [(repr(key), _stable_repr(item, depth + 1)) for key, item in value.items()]
        if any(not isinstance(key, PLAIN) for key in value) or any(i is None for _, i in items):
            return None
        return f"dict({', '.join(f'{key}: {item}' for key, item in sorted(items))})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    else:
        described = repr(value)
        if " at 0x" not in described:
            return described
        fields = getattr(value, "__dict__", None)
        if fields is None:
            return None
    items = [(name, _stable_repr(item, depth + 1)) for name, item in sorted(fields.items())]
    if any(item is None for _, item in items):
        return None
    return f"{_class_name(value)}({', '.join(f'{name}={item}' for name, item in items)})"


def decode_latex_once(app, config) -> None:
    """Make ``pybtex.richtext.Text.from_latex`` decode each LaTeX string once per process."""
    try:
        from pybtex.richtext import Text
    except ImportError:  # sphinxcontrib-bibtex not in use
        return
    if hasattr(Text.from_latex, "cache_info"):
        return
    Text.from_latex = classmethod(functools.lru_cache(maxsize=None)(Text.from_latex.__func__))


def memoise_markdown_conversion(app, config) -> None:
    """Keep nbsphinx's Markdown-to-reST conversions in the execution cache's folder."""
    if not config.mle_handbook_cache_dir:
        return
    import nbsphinx

    convert = getattr(nbsphinx.markdown2rst, "__wrapped__", nbsphinx.markdown2rst)
    folder = Path(app.srcdir) / config.mle_handbook_cache_dir / "markdown2rst"
    nbsphinx.markdown2rst = memoised(convert, folder, salt=_versions())


def memoise_highlighting(app, config) -> None:
    """Keep the HTML of each block Sphinx highlights in the execution cache's folder."""
    if not config.mle_handbook_cache_dir:
        return
    from sphinx.highlighting import PygmentsBridge

    block = PygmentsBridge.highlight_block
    block = getattr(block, "__wrapped__", block)
    folder = Path(app.srcdir) / config.mle_handbook_cache_dir / "highlight"
    salt = _highlighting_versions(Path(app.srcdir) / "requirements.lock")
    PygmentsBridge.highlight_block = memoised_highlight_block(block, folder, salt)


def note_languages(app, doctree) -> None:
    """Remember the language of every code block read in this process (``doctree-read``), for
    :func:`prepare_writing_ahead`."""
    languages = app.__dict__.setdefault("_mle_languages", set())
    languages.update(
        block["language"] for block in doctree.findall(nodes.literal_block) if "language" in block
    )


def prepare_writing_ahead(app) -> None:
    """Compile, in this process, what Sphinx's writers will otherwise compile on first use: the
    Pygments lexers of the code blocks read so far (:func:`note_languages`) and the templates of
    the theme's page layout. Called while the build waits for a notebook; a lexer or template
    that fails here is left for the writer, which reports it."""
    highlighter = getattr(app.builder, "highlighter", None)
    if highlighter is not None:
        with logging.suppress_logging():
            # A lexer compiled at an earlier wait is only instantiated again (microseconds).
            for language in sorted(app.__dict__.get("_mle_languages", ())):
                try:
                    highlighter.get_lexer("", language, force=True)
                except Exception:  # noqa: BLE001 - the writer reports it
                    pass
    templates = getattr(app.builder, "templates", None)
    environment = getattr(templates, "environment", None)
    if environment is None or getattr(app, "_mle_templates_compiled", False):
        return
    app._mle_templates_compiled = True
    compile_selector_patterns()
    for name in _referenced_templates(environment, "page.html"):
        try:
            environment.get_template(name)
        except Exception:  # noqa: BLE001 - the writer reports it
            pass


def compile_selector_patterns() -> None:
    """Compile soupsieve's CSS-selector patterns, which it compiles on first use in each process:
    the theme selects in the navigation it reshapes with BeautifulSoup, so each writer process
    compiled them again (0.18-0.25 s a writer, on the path of a build whose navigation the cache
    does not hold). Compiled here, before the writers are forked, they are inherited. Nothing if
    soupsieve is missing or keeps its patterns otherwise than 4.1 does."""
    try:
        from soupsieve import css_parser
    except ImportError:
        return
    for token in getattr(getattr(css_parser, "CSSParser", None), "CSS_TOKENS", ()):
        special = getattr(token, "patterns", None)
        for pattern in special.values() if isinstance(special, dict) else (token,):
            with contextlib.suppress(Exception):  # not a lazily compiled pattern: nothing to do
                pattern.re_pattern  # noqa: B018 - compiles it, once, as soupsieve would


def _referenced_templates(environment, name: str) -> list[str]:
    """``name`` and the templates it extends, includes or imports by a fixed name, recursively
    (the theme's page layout: about 20 templates, 0.17 s to compile)."""
    import jinja2.meta

    found, todo = [], [name]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        try:
            source = environment.loader.get_source(environment, name)[0]
            referenced = jinja2.meta.find_referenced_templates(environment.parse(source))
        except Exception:  # noqa: BLE001 - not found or not valid: the writer reports it
            continue
        found.append(name)
        todo += [ref for ref in referenced if ref]  # None: a name only known when rendering
    return found


def highlight_ahead(app, nb) -> None:
    """Highlight ``nb``'s code cells as Sphinx's writer will (into the memo of
    :func:`memoise_highlighting`), while the build waits for notebooks anyway: the writer
    processes, forked later, then find them done. Nothing without a cache folder; code that fails
    to lex is left for the writer, which warns about it."""
    highlighter = getattr(app.builder, "highlighter", None)
    if not app.config.mle_handbook_cache_dir or highlighter is None:
        return
    # What the kernel will report: the handbook's notebooks all run IPython ("python3").
    language = nb.metadata.get("language_info", {}).get("pygments_lexer") or "ipython3"
    with logging.suppress_logging():
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source.strip():
                try:
                    highlighter.highlight_block(
                        cell.source, language, opts={}, linenos=False, force=False
                    )
                except Exception:  # noqa: BLE001 - the writer reports it when it highlights
                    pass


def highlight_read_ahead(app, doctree) -> None:
    """``doctree-read``: while notebooks still execute, highlight the code blocks of the page
    just read (a prose page, or a notebook that has run) as Sphinx's HTML writer will, into the
    memo of :func:`memoise_highlighting`, so that the writers find them done. Reading then runs
    at a lower priority than the kernels (see :mod:`.execution`), so this uses processor time the
    notebooks leave; after the last notebook, the writers highlight in parallel instead. Only
    blocks whose language the page names, without line numbers, are done ahead (a block Sphinx
    later changes is simply highlighted by the writer); a block that fails is left for it too."""
    running = getattr(app, "_mle_running", None)
    highlighter = getattr(app.builder, "highlighter", None)
    if not app.config.mle_handbook_cache_dir or highlighter is None:
        return
    if running is None or not getattr(running, "unfinished", 0):
        return
    with logging.suppress_logging():
        for node in doctree.findall(nodes.literal_block):
            if "language" not in node or node.get("linenos") or node.rawsource != node.astext():
                continue
            language = node["language"]
            arguments = {**node.get("highlight_args", {}), "force": node.get("force", False)}
            try:
                highlighter.highlight_block(
                    node.rawsource,
                    language,
                    opts=app.config.highlight_options.get(language, {}),
                    linenos=False,
                    location=node,
                    **arguments,
                )
            except Exception:  # noqa: BLE001 - the writer reports it when it highlights
                pass


def format_bibliography_ahead(app) -> None:
    """While the build waits for a notebook (once a build): format the bibliographies as
    sphinxcontrib-bibtex will once reading is over, from the citations read so far, so that its
    formatting is then found done (in the memo of :func:`memoise_bibliography`, and in pybtex's
    plugin and LaTeX look-ups remembered by this process). A notebook that cites adds or
    renumbers entries, which are then formatted as before; nothing is changed or reported here."""
    if getattr(app, "_mle_bibliography_ahead", False) or "cite" not in app.env.domains:
        return
    app._mle_bibliography_ahead = True
    from sphinxcontrib.bibtex.domain import get_docnames

    domain, config = app.env.domains["cite"], app.config
    with logging.suppress_logging(), contextlib.suppress(Exception):
        docnames = list(get_docnames(app.env))
        for key in list(domain.bibliographies):
            for _ in domain.get_formatted_entries(
                key, docnames, config.bibtex_tooltips, config.bibtex_tooltips_style
            ):
                pass


def memoised_highlight_block(highlight_block, folder: Path, salt: str):
    """``PygmentsBridge.highlight_block``, its results kept as files in ``folder``. The key names
    the code, the language, the lexer's options, ``force``, the bridge's output and formatter
    (class and options), the formatter's keyword arguments and any lexer registered with
    ``app.add_lexer`` for the language; ``salt`` names the versions behind the rest (see
    :func:`_highlighting_versions`). A found result needs no lexer at all; a result made while
    Sphinx warned (unknown lexer, code that fails to lex) is not kept."""
    memo = _Memo(folder, salt=salt, suffix=".html")

    @functools.wraps(highlight_block)
    def wrapper(self, source, lang, opts=None, force=False, location=None, **kwargs):
        if not isinstance(source, str) or lang == "guess":  # guessing reads the code: not kept
            return highlight_block(self, source, lang, opts, force, location, **kwargs)
        from sphinx.highlighting import lexers as registered

        key = "\0".join(
            (
                self.dest,
                str(self.latex_engine),
                f"{self.formatter.__module__}.{self.formatter.__qualname__}",
                _sorted_repr(self.formatter_args),
                _sorted_repr(kwargs),
                lang,
                _describe(registered[lang]) if lang in registered else "",
                _sorted_repr(opts or {}),
                str(bool(force)),
                source,
            )
        )
        found = memo.find(key)
        if found is not None:
            return found
        result, warned = _watching_warnings(
            highlight_block, self, source, lang, opts, force, location, **kwargs
        )
        if not warned:
            memo.put(key, result)
        return result

    return wrapper


def _highlighting_versions(lock: Path) -> str:
    """What highlighted HTML depends on besides its inputs: Sphinx, Pygments and, through the
    locked dependencies, the lexers that other packages add (IPython's)."""
    import pygments
    import sphinx

    locked = hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else "none"
    return f"sphinx {sphinx.__version__}; pygments {pygments.__version__}; lock {locked}"


def _sorted_repr(options: dict) -> str:
    return repr(sorted(options.items(), key=str))


def _watching_warnings(compute, *args, **kwargs):
    """``(compute(*args, **kwargs), whether Sphinx warned meanwhile)``: what it logs is held and
    given, in order, when it returns. A memo keeps no result made with a warning, so that the
    warning is given again in every build."""
    with logging.pending_logging() as held:
        result = compute(*args, **kwargs)
        return result, any(record.levelno >= WARNING for record in held.buffer)


#: Values whose ``repr`` is what they hold (not, as for most objects, where they are in memory).
PLAIN = (str, int, float, bool, type(None))


def _class_name(obj) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _describe(obj) -> str:
    """A class and its options, e.g. ``pygments.lexers.python.PythonLexer[('stripnl', False)]``."""
    options = sorted(getattr(obj, "options", {}).items(), key=str)
    return f"{type(obj).__module__}.{type(obj).__qualname__}{options!r}"


class _Memo:
    """Results of a pure function of a string, kept in ``folder`` as files (one per result,
    written atomically) and remembered in memory once read. Safe to use from several threads and
    processes."""

    def __init__(self, folder: Path, salt: str, suffix: str) -> None:
        self.folder, self.salt, self.suffix = folder, salt, suffix
        self.remembered: dict[str, str] = {}

    def _key(self, text: str) -> tuple[str, Path]:
        key = hashlib.sha256(f"{self.salt}\0{text}".encode()).hexdigest()
        return key, self.folder / key[:2] / f"{key}{self.suffix}"

    def has(self, text: str) -> bool:
        key, path = self._key(text)
        return key in self.remembered or path.exists()

    def find(self, text: str) -> str | None:
        """The result kept for ``text``, or None."""
        key, path = self._key(text)
        if key not in self.remembered:
            try:
                self.remembered[key] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):  # not there yet, or unreadable
                return None
        return self.remembered[key]

    def put(self, text: str, result: str) -> None:
        key, path = self._key(text)
        self.remembered[key] = result
        _write_atomically(path, result)

    def get(self, text: str, compute) -> str:
        found = self.find(text)
        if found is None:
            found = compute()
            self.put(text, found)
        return found


def memoised(convert, folder: Path, salt: str):
    """``convert`` (a pure str -> str function) whose results are kept as files in ``folder``."""
    memo = _Memo(folder, salt, suffix=".rst")

    @functools.wraps(convert)
    def wrapper(text: str) -> str:
        return memo.get(text, lambda: convert(text))

    wrapper.memo = memo
    return wrapper


def load_lexer(name: str | None) -> None:
    """Import and compile the Pygments lexer called ``name`` (for notebook code cells, IPython's,
    which takes about 0.2 s the first time), so that Sphinx's writer processes, forked later,
    inherit it instead of each loading it again."""
    if not name:
        return
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        get_lexer_by_name(name)
    except ClassNotFound:  # Sphinx reports unknown lexers when it highlights
        pass


def _write_atomically(path: Path, content: str | bytes) -> None:
    """Write so that parallel builds never read a half-written file; a cache that cannot be
    written (read-only disk) only costs speed, so it is logged, not raised."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        logger.info("could not keep a result in %s: %s", path.parent, exc)


def _versions() -> str:
    import nbconvert.utils.pandoc
    import nbsphinx

    return f"nbsphinx {nbsphinx.__version__}; pandoc {nbconvert.utils.pandoc.get_pandoc_version()}"


class _CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled template code, in memory, keyed by template name and source checksum,
    and, while :attr:`disk` is set, in its folder too (Jinja's own file cache, which checks the
    source's checksum and Jinja's version before it uses a file)."""

    def __init__(self) -> None:
        self.code: dict[str, tuple[str, object]] = {}
        self.disk: jinja2.FileSystemBytecodeCache | None = None

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        checksum, code = self.code.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code
        elif self.disk is not None:
            self.disk.load_bytecode(bucket)
            if bucket.code is not None:
                self.code[bucket.key] = (bucket.checksum, bucket.code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = (bucket.checksum, bucket.code)
        if self.disk is not None:
            try:
                self.disk.dump_bytecode(bucket)  # written to a temporary file, then renamed
            except OSError as exc:  # a read-only cache costs speed only
                logger.info("could not keep compiled notebook templates: %s", exc)


NOTEBOOK_TEMPLATES = _CompiledTemplates()


def share_notebook_templates(app, config) -> None:
    """Give every nbsphinx exporter's Jinja environment :data:`NOTEBOOK_TEMPLATES`. All of them are
    made alike (nbsphinx's settings), so a template compiled for one serves all. With an
    execution cache configured, the compiled code is also kept next to it: Sphinx's reader
    processes, forked before any notebook is read, otherwise each compile nbconvert's templates
    again (5 % of a cached clean build's processor time, with three readers)."""
    import nbconvert
    import nbsphinx

    NOTEBOOK_TEMPLATES.disk = None
    if config.mle_handbook_cache_dir:
        NOTEBOOK_TEMPLATES.disk = _bytecode_folder(app, f"nbconvert-{nbconvert.__version__}")
    if getattr(nbsphinx.Exporter, "_mle_shared_templates", False):
        return
    create = nbsphinx.Exporter._create_environment

    def _create_environment(self):
        environment = create(self)
        environment.bytecode_cache = NOTEBOOK_TEMPLATES
        return environment

    nbsphinx.Exporter._create_environment = _create_environment
    nbsphinx.Exporter._mle_shared_templates = True


def memoise_notebook_export(app, config) -> None:
    """Keep nbconvert's reST export of each notebook nbsphinx reads in the execution cache's
    folder (see the module's notes)."""
    if not config.mle_handbook_cache_dir:
        return
    import nbsphinx
    from nbconvert.exporters import RSTExporter

    own = RSTExporter.__dict__.get("from_notebook_node")  # this wrapper, from an earlier build
    export = (
        getattr(own, "__wrapped__", None)
        or own
        or super(RSTExporter, RSTExporter).from_notebook_node
    )
    settings = sorted(
        (value.name, repr(value.value)) for value in config if value.name.startswith("nbsphinx")
    )
    folder = Path(app.srcdir) / config.mle_handbook_cache_dir / "export"
    salt = "\0".join(
        (
            _versions(),
            _highlighting_versions(Path(app.srcdir) / "requirements.lock"),
            _own_code(),
            repr(settings),
        )
    )
    RSTExporter.from_notebook_node = remembered_export(export, nbsphinx.Exporter, folder, salt)


def _own_code() -> str:
    """A digest of this extension's code, some of which changes how notebooks are exported
    (batched pandoc runs, the shared templates, validating once)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def remembered_export(export, exporter_class, folder: Path, salt: str):
    """nbconvert's ``TemplateExporter.from_notebook_node(self, nb, resources)`` for
    ``exporter_class`` (nbsphinx's), its results (the reST and the resources, with the figures
    extracted from the outputs) kept as pickles in ``folder``. The key is the notebook, the
    resources given and ``salt`` (the versions, the locked dependencies, this extension's code and
    nbsphinx's settings). Other exporters, calls with other arguments and results made while Sphinx
    warned are not kept; a pickle that cannot be read is exported again (and replaced)."""
    import json
    import pickle

    def from_notebook_node(self, nb, resources=None, **kw):
        if type(self) is not exporter_class or kw or resources is None:
            return export(self, nb, resources, **kw)
        key = hashlib.sha256(salt.encode())
        key.update(json.dumps(resources, sort_keys=True, default=repr).encode() + b"\0")
        key.update(json.dumps(nb, sort_keys=True).encode())
        path = folder / key.hexdigest()[:2] / f"{key.hexdigest()}.pickle"
        with contextlib.suppress(Exception):  # not kept yet, or unreadable: exported again
            return pickle.loads(path.read_bytes())
        result, warned = _watching_warnings(export, self, nb, resources, **kw)
        if not warned:
            _write_atomically(path, pickle.dumps(result, pickle.HIGHEST_PROTOCOL))
        return result

    from_notebook_node.__wrapped__ = export
    return from_notebook_node


def validate_notebooks_once(app, config) -> None:
    """Make nbsphinx's exporter check the notebook once, after all its preprocessors, instead of
    after each one (nbconvert's ``optimistic_validation``): each check validates the whole
    notebook, outputs included, against the notebook schema (3-4 % of a cached clean build's
    processor time, sampled with py-spy). The notebook was valid when read, and the last check still runs."""
    import nbsphinx

    if getattr(nbsphinx.Exporter.__init__, "_mle_validates_once", False):
        return
    init = nbsphinx.Exporter.__init__

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.optimistic_validation = True

    __init__._mle_validates_once = True
    nbsphinx.Exporter.__init__ = __init__


def keep_compiled_page_templates(app) -> None:
    """Give Sphinx's template environment a Jinja bytecode cache in the execution cache's folder
    (at ``builder-inited``, once the builder has made it). Without a cache folder, nothing."""
    environment = getattr(getattr(app.builder, "templates", None), "environment", None)
    if not app.config.mle_handbook_cache_dir or environment is None:
        return
    import sphinx

    cache = _bytecode_folder(app, f"sphinx-{sphinx.__version__}")
    if cache is not None:
        environment.bytecode_cache = cache


def _bytecode_folder(app, owner: str) -> jinja2.FileSystemBytecodeCache | None:
    """Jinja's file cache in the execution cache's folder, in a folder named after Jinja's version
    and ``owner`` (whose templates it keeps); None if that folder cannot be made (a read-only
    cache costs speed only)."""
    folder = Path(app.srcdir) / app.config.mle_handbook_cache_dir / "jinja"
    folder /= f"jinja2-{jinja2.__version__}-{owner}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        logger.info("could not keep compiled templates in %s: %s", folder, exc)
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def check_only_templates_that_may_be_empty(app, config) -> None:
    """Spare the theme's check of templates that can never render empty (see the module's
    notes)."""
    try:
        from pydata_sphinx_theme import utils as theme_utils
    except ImportError:  # another theme
        return
    update = theme_utils._update_and_remove_templates
    update = getattr(update, "__wrapped__", update)
    theme_utils._update_and_remove_templates = skipping_never_empty(update)


def skipping_never_empty(update):
    """pydata-sphinx-theme's ``_update_and_remove_templates(app, context, templates, section,
    templates_skip_empty_check=None)``, told to skip the check of every template that
    :func:`never_empty` proves cannot render empty, unless another template of the section has
    a name ending in that template's (the theme matches names to skip by their endings)."""

    @functools.wraps(update)
    def _update_and_remove_templates(
        app, context, templates, section, templates_skip_empty_check=None
    ):
        names = templates.split(",") if isinstance(templates, str) else list(templates or [])
        names = [
            n.strip() if os.path.splitext(n.strip())[1] else f"{n.strip()}.html" for n in names
        ]
        proven = [
            name
            for name in names
            if never_empty(app, name) and not any(o != name and o.endswith(name) for o in names)
        ]
        skip = [*(templates_skip_empty_check or []), *proven]
        return update(app, context, templates, section, skip)

    return _update_and_remove_templates


#: Whether each template (by Jinja environment and name) can never render empty, with the
#: environment it was found in (so that another environment, at the same address later, is not
#: taken for it).
_NEVER_EMPTY: dict[tuple[int, str], tuple[object, bool]] = {}


def never_empty(app, name: str) -> bool:
    """Whether the page template ``name`` always writes some text: its source (as the builder's
    template loader finds it, overrides included) has non-blank text outside every tag, and
    extends no other template. False when that cannot be told."""
    environment = getattr(getattr(app.builder, "templates", None), "environment", None)
    if environment is None:
        return False
    key = (id(environment), name)
    kept, verdict = _NEVER_EMPTY.get(key, (None, False))
    if kept is environment:
        return verdict
    try:
        source = environment.loader.get_source(environment, name)[0]
        tree = environment.parse(source)
    except Exception:  # noqa: BLE001 - not found or not valid: the theme's check reports it
        verdict = False
    else:
        verdict = not any(tree.find_all(jinja2.nodes.Extends)) and any(
            isinstance(node, jinja2.nodes.Output)
            and any(
                isinstance(part, jinja2.nodes.TemplateData) and part.data.strip()
                for part in node.nodes
            )
            for node in tree.body
        )
    _NEVER_EMPTY[key] = (environment, verdict)
    return verdict


def memoise_sidebar_navigation(app, config) -> None:
    """Keep the theme's sidebar navigation in the execution cache's folder (see the module's
    notes). Patches the theme's ``html-page-context`` handler that defines the template function
    ``generate_toctree_html``, before the theme registers it (themes load after ``config-inited``);
    only the sidebar's calls (``kind="sidebar"``, ``startdepth=0``, sphinx-book-theme's
    ``sbt-sidebar-nav.html``) are kept, any other call is the theme's own."""
    if not config.mle_handbook_cache_dir:
        return
    try:
        import bs4
        import pydata_sphinx_theme
        from pydata_sphinx_theme import toctree as theme_toctree
    except ImportError:  # another theme
        return
    add = getattr(theme_toctree.add_toctree_functions, "__wrapped__", None)
    add = add or theme_toctree.add_toctree_functions
    folder = Path(app.srcdir) / config.mle_handbook_cache_dir / "navigation"
    salt = f"pydata-sphinx-theme {pydata_sphinx_theme.__version__}; bs4 {bs4.__version__}"
    memo = _Memo(folder, salt=salt, suffix=".html")

    @functools.wraps(add)
    def add_toctree_functions(app, pagename, templatename, context, doctree):
        add(app, pagename, templatename, context, doctree)
        generate, toctree = context.get("generate_toctree_html"), context.get("toctree")
        if generate is not None and toctree is not None:
            context["generate_toctree_html"] = remembered_navigation(generate, toctree, memo)
        page_toc = context.get("generate_toc_html")
        if page_toc is not None and "toc" in context:
            context["generate_toc_html"] = remembered_page_toc(page_toc, context, memo)

    theme_toctree.add_toctree_functions = add_toctree_functions


def remembered_navigation(generate, toctree, memo: _Memo):
    """The theme's ``generate_toctree_html(kind, startdepth, show_nav_level, **kwargs)``, whose
    sidebar result is found in ``memo`` by Sphinx's ``toctree(**kwargs)`` HTML, which is all the
    theme reshapes (with ``kind`` and ``show_nav_level``). Remembered per page, as the theme's
    is (the page's templates call it twice)."""
    from markupsafe import Markup

    @functools.cache
    def generate_toctree_html(kind, startdepth=1, show_nav_level=1, **kwargs):
        if kind != "sidebar" or startdepth != 0:
            return generate(kind, startdepth, show_nav_level, **kwargs)
        key = f"{kind}\0{startdepth}\0{show_nav_level}\0{_sorted_repr(kwargs)}\0{toctree(**kwargs)}"
        found = memo.find(key)
        if found is None:
            found = str(generate(kind, startdepth, show_nav_level, **kwargs))
            memo.put(key, found)
        return Markup(found)

    return generate_toctree_html


def remembered_page_toc(generate, context, memo: _Memo):
    """The theme's ``generate_toc_html(kind="html")`` (the page's own table of contents, which
    it reshapes from Sphinx's ``toc`` with BeautifulSoup), whose result is found in ``memo`` by
    Sphinx's ``toc`` HTML and the ``show_toc_level`` setting, all it reads. The theme's result is
    an HTML element (or an empty string), which the templates test (``if page_toc``), measure
    (``page_toc | length``) and write out: the value found does all three as it did
    (:class:`PageToc`). Other kinds are the theme's own; remembered per page, as the theme's is."""
    import json

    @functools.cache
    def generate_toc_html(kind: str = "html"):
        if kind != "html":
            return generate(kind)
        level = context.get("theme_show_toc_level")
        key = f"page-toc\0{level!r}\0{context['toc']}"
        found = memo.find(key)
        if found is None:
            value = generate(kind)
            found = json.dumps([str(value), len(value), bool(value)])
            memo.put(key, found)
        html, length, truthy = json.loads(found)
        return PageToc(html, length, truthy)

    return generate_toc_html


class PageToc(str):
    """The HTML of the theme's page table of contents, that measures (``len``) and tests
    (``bool``) as the theme's own value did: a BeautifulSoup element counts its children and is
    always true. Written into a page as it is (``__html__``), as the element was."""

    def __new__(cls, html: str, length: int, truthy: bool) -> PageToc:
        value = super().__new__(cls, html)
        value._length, value._truthy = length, truthy
        return value

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._truthy

    def __html__(self) -> str:
        return str.__str__(self)


def memoise_inventories(app, config) -> None:
    """Keep each intersphinx inventory, once parsed, in the execution cache's folder (see the
    module's notes). Patches ``sphinx.ext.intersphinx._load._load_inventory``, which the
    inventory loader calls by name with the inventory's bytes, wherever they came from."""
    if not config.mle_handbook_cache_dir:
        return
    import sphinx
    from sphinx.ext.intersphinx import _load

    load = getattr(_load._load_inventory, "__wrapped__", _load._load_inventory)
    folder = Path(app.srcdir) / config.mle_handbook_cache_dir / "intersphinx"
    _load._load_inventory = remembered_inventories(load, folder, f"sphinx {sphinx.__version__}")


def remembered_inventories(load, folder: Path, salt: str):
    """``load(raw_data, target_uri=...)``, its parsed inventories kept as pickles in ``folder``,
    keyed by the inventory's bytes, the base URI and ``salt``. A pickle that cannot be read is
    parsed again (and replaced)."""
    import pickle

    @functools.wraps(load)
    def _load_inventory(raw_data: bytes, /, *, target_uri):
        digest = hashlib.sha256(f"{salt}\0{target_uri}\0".encode())
        digest.update(raw_data)
        path = folder / f"{digest.hexdigest()}.pickle"
        try:
            return pickle.loads(path.read_bytes())
        except Exception:  # noqa: BLE001 - not kept yet, or unreadable: parse it again
            pass
        inventory = load(raw_data, target_uri=target_uri)
        _write_atomically(path, pickle.dumps(inventory, protocol=pickle.HIGHEST_PROTOCOL))
        return inventory

    return _load_inventory


def memoise_notebook_schema(app, config) -> None:
    """Keep the code fastjsonschema generates for nbformat's notebook schema in the execution
    cache's folder (see the module's notes). nbformat compiles its schema through the
    ``fastjsonschema`` its ``json_compat`` module imported: that name now refers to
    :class:`RememberingCompiler`."""
    if not config.mle_handbook_cache_dir:
        return
    try:
        from nbformat import json_compat
    except ImportError:
        return
    module = getattr(json_compat, "fastjsonschema", None)
    if module is None or isinstance(module, RememberingCompiler):
        return
    folder = Path(app.srcdir) / config.mle_handbook_cache_dir / "notebook-schema"
    json_compat.fastjsonschema = RememberingCompiler(module, folder)


class RememberingCompiler:
    """The ``fastjsonschema`` module, with ``compile(definition)`` remembered in ``folder``: the
    code ``compile_to_code`` writes for the schema, compiled to Python bytecode and kept with the
    name of the validating function, keyed by the schema, fastjsonschema's version and Python's.
    A kept function is what ``compile`` returns (``compile_to_code`` is its standalone form);
    calls with other arguments, and anything unreadable, go to fastjsonschema itself."""

    def __init__(self, module, folder: Path) -> None:
        self.module, self.folder = module, folder

    def __getattr__(self, name: str):
        return getattr(self.module, name)

    def compile(self, definition, *args, **kwargs):
        import json
        import marshal
        import sys

        if args or kwargs:
            return self.module.compile(definition, *args, **kwargs)
        digest = hashlib.sha256(f"{self.module.VERSION}\0{sys.version}\0".encode())
        try:
            digest.update(json.dumps(definition, sort_keys=True).encode())
        except (TypeError, ValueError):  # not plain JSON: fastjsonschema's business
            return self.module.compile(definition)
        path = self.folder / f"{digest.hexdigest()}.marshal"
        with contextlib.suppress(Exception):  # not kept yet, or unreadable: compiled again
            name, code = marshal.loads(path.read_bytes())
            namespace: dict = {}
            exec(code, namespace)  # noqa: S102 - fastjsonschema's own code, as compile() runs it
            return namespace[name]
        function = self.module.compile(definition)
        with contextlib.suppress(Exception):  # not kept: compiled again next time
            source = self.module.compile_to_code(definition)
            code = compile(source, f"<fastjsonschema {digest.hexdigest()[:12]}>", "exec")
            _write_atomically(path, marshal.dumps((function.__name__, code)))
        return function


#: What sphinx.ext.intersphinx keeps in the environment: the loaded inventories.
INVENTORY_ATTRIBUTES = ("intersphinx_cache", "intersphinx_inventory", "intersphinx_named_inventory")


def lighten_reader_environments(app, config) -> None:
    """Leave the intersphinx inventories out of the environments that Sphinx's parallel reader
    processes send back.

    Each reader process pickles its whole environment for the main process to merge. The
    inventories make up most of it (for this handbook's five, 3.5 MB with them and 0.4 MB
    without; 67 ms to pickle against 22 ms), but merging never looks at them: the main process
    keeps its own, loaded before the readers were forked. The environment the main process saves
    (``environment.pickle``) still holds them; readers still use them while reading.
    """
    from sphinx.environment import BuildEnvironment

    if getattr(BuildEnvironment.__getstate__, "_mle_lightened", False):
        return
    getstate, main = BuildEnvironment.__getstate__, os.getpid()

    @functools.wraps(getstate)
    def __getstate__(self):
        state = getstate(self)
        if os.getpid() != main:  # a forked reader, sending its environment back
            for name in INVENTORY_ATTRIBUTES:
                state.pop(name, None)
        return state

    __getstate__._mle_lightened = True
    BuildEnvironment.__getstate__ = __getstate__
