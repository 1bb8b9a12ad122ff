"""Remove docutils hot spots from reading pages (timed per function in a cached clean build).

- **Smart quotes.** Sphinx's smart-quotes transform runs on every block of text of every page
  as it is read: it lists the block's text nodes, asks of each whether quotes may be changed
  there, and passes them all through docutils' ``educate_tokens`` (quotes, dashes, ellipses,
  backslash escapes, entities), which runs about a dozen regular-expression substitutions on
  each. A block with none of the characters those act on comes out as it went in, so it now
  skips them; its text nodes are still replaced by new ones, exactly as before, so the doctree
  is the same node for node. Reading spent 0.52-0.54 s of processor time in the transform
  (about a seventh of all reading in a cached clean build).
- **Default settings.** For every page it reads, Sphinx asks docutils for the reader's and
  parser's default settings, and MyST asks again for its own document: each time docutils
  builds a command-line option parser for every setting of every component (some 140 options)
  only to read their defaults. Those defaults are now worked out once per set of components
  and process; each page still gets new settings (the caller's defaults on top, a new
  dependency list), exactly as docutils makes them, unless a Docutils configuration file exists,
  which docutils then reads as before. Reading spent 0.24 s of processor time on them (0.14 s
  Sphinx's, 0.10 s MyST's).
- **State machines.** docutils' reStructuredText parser starts a new state machine for every
  nested block it parses (each list, each directive's content: 800 machines for this handbook,
  mostly in the notebooks' pages), and each machine makes all 15 of its states, each compiling
  its table of transitions, though a block uses one to three of them. States are now made on
  first use (:class:`LazyStates`); a state made once the machine runs is initialised then, as
  the machine would have initialised it at the start (docutils' states only note the run's memo,
  document, inliner and reporter, which stay the same through a run). 800 machines took 0.33 s
  to make before and 0.05 s now; doctrees are the same node for node.
"""

from __future__ import annotations

import functools
import re

#: What ``educate_tokens`` acts on (docutils.utils.smartquotes): quotes, backticks, backslash
#: escapes, docutils' null escapes, entities (``&quot;``, and the ``&#39;``-style escapes it
#: restores), dashes and ellipses. Text without any of these comes back unchanged.
ACTIVE = re.compile(r"""['"`\\\x00&]|--|\.\.\.|\. \. \.""")

#: Smart-quotes actions whose every step is one of those above ("-1", which turns typographic
#: characters back into ASCII, acts on other characters too, so it always takes the full path).
SIMPLE_ACTION = re.compile(r"[qbBdDiew]*|[123]")


class Unchanged(list):
    """What ``get_tokens`` gives for a block ``educate_tokens`` would leave as it is: its texts,
    which :func:`educate_unless_unchanged` passes straight through."""


def quote_only_where_needed(app, config) -> None:
    """``config-inited``: make the smart-quotes transforms skip blocks with nothing to change."""
    from docutils.transforms.universal import SmartQuotes
    from docutils.utils import smartquotes
    from sphinx.transforms import SphinxSmartQuotes

    if getattr(smartquotes.educate_tokens, "_mle_unchanged", False):
        return
    smartquotes.educate_tokens = educate_unless_unchanged(smartquotes.educate_tokens)
    for transform in (SmartQuotes, SphinxSmartQuotes):
        if "get_tokens" in transform.__dict__:
            transform.get_tokens = tokens_unless_unchanged(transform.__dict__["get_tokens"])


def tokens_unless_unchanged(get_tokens):
    """A transform's ``get_tokens(self, txtnodes)`` that gives :class:`Unchanged` when no text
    node holds anything ``educate_tokens`` acts on."""

    @functools.wraps(get_tokens)
    def wrapper(self, txtnodes):
        if SIMPLE_ACTION.fullmatch(self.smartquotes_action) and not any(
            ACTIVE.search(node) for node in txtnodes
        ):
            return Unchanged(str(node) for node in txtnodes)
        return get_tokens(self, txtnodes)

    return wrapper


def educate_unless_unchanged(educate_tokens):
    """docutils' ``educate_tokens(text_tokens, attr, language)``, passing :class:`Unchanged`
    texts straight through."""

    @functools.wraps(educate_tokens)
    def wrapper(text_tokens, *args, **kwargs):
        if isinstance(text_tokens, Unchanged):
            return iter(text_tokens)
        return educate_tokens(text_tokens, *args, **kwargs)

    wrapper._mle_unchanged = True
    return wrapper


# --- Default settings ------------------------------------------------------------------------

#: The option defaults docutils' ``OptionParser`` collects from each set of components, with the
#: settings attributes it read them from (kept so that an identity check can tell them apart).
_DEFAULTS: dict[tuple[int, ...], tuple[tuple, dict]] = {}
#: Beyond this many sets of components (parsers made with settings of their own), docutils works
#: them out every time.
MAX_REMEMBERED = 64


def remember_default_settings(app, config) -> None:
    """``config-inited``: work out each reader and parser's default settings once per process."""
    import sphinx.util.docutils as sphinx_docutils
    from docutils import frontend

    if getattr(frontend.get_default_settings, "_mle_remembered", False):
        return
    original = frontend.get_default_settings
    frontend.get_default_settings = default_settings
    sphinx_docutils._get_settings = sphinx_settings
    try:
        from myst_parser.mdit_to_docutils import base as myst_base
    except ImportError:  # MyST not installed
        return
    if myst_base.get_default_settings is original:  # imported by name: the same function
        myst_base.get_default_settings = default_settings


def default_values(components, defaults=None, read_config_files=False):
    """What ``OptionParser(components, defaults, read_config_files).get_default_values()``
    returns, or None where a Docutils configuration file exists (docutils then reads it)."""
    import os
    import warnings

    from docutils import frontend

    values = dict(_component_defaults(components))
    values.update(defaults or {})
    if read_config_files and not values["_disable_config"]:
        if any(os.path.exists(f) for f in frontend.OptionParser.get_standard_config_files()):
            return None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        settings = frontend.Values(values)  # a new dependency list, as docutils gives each
    settings._config_files = []
    return settings


def _component_defaults(components) -> dict:
    """The option defaults of ``OptionParser(components)``: worked out once per set of
    components (identified by their classes and settings attributes)."""
    import warnings

    from docutils import frontend

    parts = tuple(
        part
        for component in components
        for part in (
            component if isinstance(component, type) else type(component),
            getattr(component, "settings_spec", None),
            getattr(component, "settings_defaults", None),
            getattr(component, "settings_default_overrides", None),
        )
    )
    key = tuple(id(part) for part in parts)
    kept = _DEFAULTS.get(key)
    if kept is not None and all(a is b for a, b in zip(kept[0], parts, strict=True)):
        return kept[1]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        found = dict(frontend.OptionParser(components).defaults)
    if len(_DEFAULTS) < MAX_REMEMBERED:
        _DEFAULTS[key] = (parts, found)
    return found


def default_settings(*components):
    """docutils' ``frontend.get_default_settings``, its option defaults remembered."""
    settings = default_values(components)
    if settings is None:
        return ORIGINAL_DEFAULT_SETTINGS(*components)
    return settings


default_settings._mle_remembered = True


def sphinx_settings(*components, defaults, read_config_files=False):
    """Sphinx's ``sphinx.util.docutils._get_settings``, its option defaults remembered."""
    settings = default_values(components, defaults, read_config_files)
    if settings is None:
        return ORIGINAL_SPHINX_SETTINGS(
            *components, defaults=defaults, read_config_files=read_config_files
        )
    return settings


def _originals():
    import sphinx.util.docutils as sphinx_docutils
    from docutils import frontend

    return frontend.get_default_settings, sphinx_docutils._get_settings


ORIGINAL_DEFAULT_SETTINGS, ORIGINAL_SPHINX_SETTINGS = _originals()


# --- State machines -----------------------------------------------------------------------------


class LazyStates(dict):
    """A docutils state machine's ``states``, each made on first use: a mapping of state names
    to states, whose states not yet used are kept as classes (:attr:`classes`). A state made
    after the machine started running gets ``runtime_init()`` then, as the machine gave every
    state when it started."""

    def __init__(self, machine) -> None:
        super().__init__()
        self.machine = machine
        self.classes: dict[str, type] = {}
        self.running = False

    def __contains__(self, name) -> bool:
        return dict.__contains__(self, name) or name in self.classes

    def __missing__(self, name):
        state_class = self.classes.pop(name)  # KeyError for a name never added, as before
        state = state_class(self.machine, self.machine.debug)
        dict.__setitem__(self, name, state)
        if self.running:
            state.runtime_init()
        return state


def _state_machine_methods() -> dict:
    from docutils.statemachine import StateMachine

    return {name: StateMachine.__dict__[name] for name in ("add_state", "runtime_init")}


#: docutils' own ``StateMachine.add_state`` and ``runtime_init``.
EAGER_STATES = _state_machine_methods()


def make_states_lazily(app=None, config=None) -> None:
    """``config-inited``: make docutils' state machines make each state on first use."""
    from docutils.statemachine import StateMachine

    StateMachine.add_state = add_state
    StateMachine.runtime_init = runtime_init


def make_states_eagerly() -> None:
    """Give docutils' state machines their own ``add_state`` and ``runtime_init`` back."""
    from docutils.statemachine import StateMachine

    for name, method in EAGER_STATES.items():
        setattr(StateMachine, name, method)


def add_state(self, state_class) -> None:
    """``StateMachine.add_state``: note ``state_class``, to be made on first use."""
    from docutils.statemachine import DuplicateStateError

    if not isinstance(self.states, LazyStates):
        made, self.states = self.states, LazyStates(self)
        dict.update(self.states, made)
    name = state_class.__name__
    if name in self.states:
        raise DuplicateStateError(name)
    self.states.classes[name] = state_class


def runtime_init(self) -> None:
    """``StateMachine.runtime_init``: initialise the states made so far, and the rest as they
    are made."""
    if isinstance(self.states, LazyStates):
        self.states.running = True
    for state in self.states.values():
        state.runtime_init()
