"""Reading's docutils speed-ups change nothing but speed."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from docutils.core import publish_doctree
from docutils.transforms.universal import SmartQuotes
from docutils.utils import smartquotes

from mle_handbook.sphinxext import parsing

ACTIONS = ["qDe", "q", "D", "d", "i", "e", "b", "B", "w", "qbBdDiew", "1", "2", "3", ""]
LANGUAGES = ["en", "en-gb", "de", "fr", "it"]
# Letters, spaces and every character and entity the educating steps look at, typographic
# characters included.
PIECES = [
    *"ab \n.-'\"`\\&#;\x00\u2019\u201c\u2013\u2026",
    *["&#39;", "&#34;", "&#92;", "&#46;", "&#45;", "&#96;", "&quot;", "&amp;", "--", ". . ."],
]


def test_text_without_active_characters_is_never_changed_by_educate_tokens():
    rng = random.Random(20261127)
    checked = 0
    for _ in range(20000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8)))
        if parsing.ACTIVE.search(text):
            continue
        checked += 1
        previous = rng.choice(["", "'", '"', "a"])  # context carried over from a previous token
        for action in ACTIONS:
            for language in LANGUAGES:
                tokens = [("literal", previous), ("plain", text)] if previous else [("plain", text)]
                out = list(smartquotes.educate_tokens(tokens, attr=action, language=language))
                assert out[-1] == text, (text, action, language)
    assert checked > 1000


@pytest.mark.parametrize(
    "text",
    ["it's", 'say "hi"', "a -- b", "wait...", "a . . . b", r"a \"b\"", "&#39;", "&quot;", "`a'"],
)
def test_each_kind_of_active_text_is_seen_as_active(text):
    assert parsing.ACTIVE.search(text)
    assert any(
        list(smartquotes.educate_tokens([("plain", text)], attr=action, language="en"))[0] != text
        for action in ("qDe", "qbBdDiew", "w")
    )


def test_the_stupefy_action_always_takes_the_full_path():
    assert parsing.SIMPLE_ACTION.fullmatch("qDe") and parsing.SIMPLE_ACTION.fullmatch("2")
    assert not parsing.SIMPLE_ACTION.fullmatch("-1")


SOURCE = """\
A plain paragraph with nothing to change, and a *nested* inline.

It's a "quoted" paragraph -- with dashes... and an escaped \\"quote\\".

* A list item, plain.
* An item that isn't.

``literal 'text'`` next to 'quotes'.

Title with 'quotes'
===================

Plain title
===========

::

    a literal block with 'quotes' -- untouched
"""


def _doctree():
    settings = {"smart_quotes": True, "report_level": 5, "language_code": "en-gb"}
    return publish_doctree(SOURCE, settings_overrides=settings)


def _described(doctree) -> list:
    from docutils import nodes

    return [
        (type(node).__name__, str(node), node.line, node.source)
        for node in doctree.findall(nodes.Text)
    ]


def test_smart_quotes_give_the_same_doctree_node_for_node(monkeypatch):
    expected = _doctree()
    assert "It\u2019s a \u201cquoted\u201d" in expected.astext()  # the transform ran
    monkeypatch.setattr(
        smartquotes, "educate_tokens", parsing.educate_unless_unchanged(smartquotes.educate_tokens)
    )
    calls = []
    get_tokens = parsing.tokens_unless_unchanged(SmartQuotes.get_tokens)

    def counting(self, txtnodes):
        tokens = get_tokens(self, txtnodes)
        calls.append(isinstance(tokens, parsing.Unchanged))
        return tokens

    monkeypatch.setattr(SmartQuotes, "get_tokens", counting)
    faster = _doctree()
    assert faster.pformat() == expected.pformat()
    assert _described(faster) == _described(expected)  # same text, lines and sources
    assert True in calls and False in calls  # some blocks skipped, others educated


def _settings_parts(values) -> dict:
    return {
        name: value
        for name, value in vars(values).items()
        if name not in {"record_dependencies", "_config_files"}
    }


def _components():
    from docutils.parsers.rst import Parser
    from docutils.readers import standalone
    from myst_parser.parsers.sphinx_ import MystParser
    from nbsphinx import NotebookParser

    return [
        (standalone.Reader, Parser()),
        (standalone.Reader, MystParser()),
        (standalone.Reader, NotebookParser()),
        (Parser,),
    ]


@pytest.mark.parametrize("which", range(4))
def test_remembered_default_settings_are_docutils_own_and_new_each_time(which, monkeypatch):
    import warnings

    from docutils import frontend

    monkeypatch.chdir(Path(__file__).parent)  # no ./docutils.conf here
    components = _components()[which]
    env = object()  # what Sphinx passes along: the caller's own objects, kept as they are
    defaults = {"env": env, "traceback": True, "input_encoding": "utf-8-sig", "halt_level": 5}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        expected = frontend.OptionParser(
            components, defaults=defaults, read_config_files=True
        ).get_default_values()
        plain = frontend.OptionParser(components).get_default_values()
    first = parsing.default_values(components, defaults, read_config_files=True)
    second = parsing.default_values(components, dict(defaults), read_config_files=True)
    for settings in (first, second):
        assert list(vars(settings)) == list(vars(expected))  # same settings, same order
        assert _settings_parts(settings) == _settings_parts(expected)
        assert settings.env is env and settings._config_files == []
        assert isinstance(settings.record_dependencies, type(expected.record_dependencies))
    assert first.record_dependencies is not second.record_dependencies  # each gets its own
    assert first._config_files is not second._config_files
    assert _settings_parts(parsing.default_settings(*components)) == _settings_parts(plain)


def test_a_docutils_configuration_file_is_read_by_docutils_as_before(tmp_path, monkeypatch):
    from docutils.parsers.rst import Parser
    from docutils.readers import standalone

    (tmp_path / "docutils.conf").write_text("[general]\nreport_level: 4\n")
    monkeypatch.chdir(tmp_path)
    components = (standalone.Reader, Parser())
    assert parsing.default_values(components, {}, read_config_files=True) is None
    settings = parsing.sphinx_settings(*components, defaults={}, read_config_files=True)
    assert settings.report_level == 4 and settings._config_files
    assert parsing.default_values(components, {}, read_config_files=False) is not None


def test_components_with_settings_of_their_own_are_told_apart():
    from docutils.parsers.rst import Parser

    class Special(Parser):
        settings_spec = (
            *Parser.settings_spec,
            "Special",
            None,
            (("A special setting.", ["--special"], {"default": "yes"}),),
        )

    assert parsing.default_values((Special(),)).special == "yes"
    assert not hasattr(parsing.default_values((Parser(),)), "special")


RST = """\
Title
=====

A paragraph with *emphasis*, ``literal``, a `link <https://example.org>`_ and a footnote [#]_.

.. [#] The footnote.

- a bullet

  - a nested bullet with a field list:

    :field: value
    :other: value

1. an enumerated item
2. another

term
    definition

-a          an option
--long=x    another

| a line block
|   indented

.. note:: A note with a list:

   * one
   * two

.. |sub| replace:: substitution

Using |sub| here.

+------+------+
| grid | tab  |
+======+======+
| a    | b    |
+------+------+

Section
-------

>>> print("doctest")
doctest

::

    literal block

.. unknown-directive:: makes an error

Bad *markup here.

- unfinished
bullet list
"""


def _parsed(source: str) -> str:
    settings = {"report_level": 5, "halt_level": 5, "warning_stream": False}
    doctree = publish_doctree(source, settings_overrides=settings)
    return doctree.pformat()


def test_lazily_made_states_parse_every_construct_as_docutils_does():
    parsing.make_states_eagerly()
    expected = _parsed(RST)
    assert "system_message" in expected and "bullet_list" in expected  # errors parsed too
    parsing.make_states_lazily()
    try:
        assert _parsed(RST) == expected
    finally:
        parsing.make_states_eagerly()


def test_lazy_states_are_made_on_first_use_and_initialised_if_the_machine_runs():
    from docutils.parsers.rst import states
    from docutils.statemachine import DuplicateStateError, StateMachineWS, UnknownStateError

    parsing.make_states_lazily()
    try:
        machine = StateMachineWS(state_classes=states.state_classes, initial_state="Body")
        assert isinstance(machine.states, parsing.LazyStates)
        assert dict.__len__(machine.states) == 0 and "Body" in machine.states
        with pytest.raises(DuplicateStateError):
            machine.add_state(states.Body)
        before = machine.states["Text"]  # made before the machine runs: initialised later
        assert not hasattr(before, "memo")
        from types import SimpleNamespace

        document = SimpleNamespace(reporter=SimpleNamespace())
        machine.memo = SimpleNamespace(document=document, inliner=None, reporter=None)
        machine.runtime_init()
        assert before.memo is machine.memo
        after = machine.states["Line"]  # made while running: initialised at once
        assert after.memo is machine.memo
        with pytest.raises(UnknownStateError):
            machine.get_state("NoSuchState")
    finally:
        parsing.make_states_eagerly()
