"""Flag constructs in a submission's code that an instructor may want to look at.

The flags change no mark. They point a person at code that reaches into the interpreter, the
kernel or the file system, which honest answers to the handbook's exercises never need, so that a
determined attempt to defeat the in-process checks (see :mod:`.guard`) is likely to be noticed.
A flag is not proof of anything: ``open(`` may read a data file, ``exit(`` may be a typo.
"""

from __future__ import annotations

import re

#: (flag, pattern) pairs; the flag is what the grade sheet and the instructor's notes show.
PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "frame access",
        r"\bsys\._getframe\b|\binspect\.(?:currentframe|stack|getouterframes)\b|\bf_back\b|\bf_globals\b|\bf_locals\b",
    ),
    ("tracing", r"\b(?:sys|threading)\.set(?:trace|profile)\b"),
    (
        "IPython internals",
        r"\bget_ipython\s*\(|\bset_custom_exc\b|\bevents\.register\b|\bast_transformers\b",
    ),
    ("builtins", r"\b__builtins__\b|\bimport\s+builtins\b|\bbuiltins\."),
    ("interpreter hooks", r"\bsys\.(?:excepthook|displayhook|stdout|stderr|modules|meta_path)\b"),
    ("code objects", r"\b__code__\b|\bCodeType\b|\b__globals__\b"),
    ("dynamic code", r"\b(?:exec|eval|compile)\s*\(|\b__import__\s*\(|\bimportlib\b"),
    ("object graph", r"\bgc\.get_(?:objects|referrers|referents)\b|\bctypes\b"),
    ("exiting", r"\bos\._exit\b|\bsys\.exit\b|(?<![\w.])(?:exit|quit)\s*\("),
    (
        "processes",
        r"\bsubprocess\b|\bos\.(?:system|popen|fork|kill|exec\w*)\b|\bsignal\.signal\b|\bmultiprocessing\b",
    ),
    (
        "files",
        r"\bopen\s*\(|\bPath\s*\(|\bos\.(?:remove|unlink|rename|replace|walk|listdir|scandir)\b|\bshutil\.|\bglob\b",
    ),
    (
        "monkeypatching",
        r"^\s*(?:np|numpy|math|sklearn|pd|pandas|scipy|numbers|random)\.[\w.]+\s*=[^=]|\bsetattr\s*\(",
    ),
    ("swallowed errors", r"except\s*(?:BaseException|AssertionError)?\s*:\s*(?:\n\s*)?pass\b"),
)
_COMPILED = tuple((flag, re.compile(p, re.M)) for flag, p in PATTERNS)


def flags(code: str) -> list[str]:
    """The flags whose pattern occurs in ``code``, in the order of :data:`PATTERNS`."""
    return [flag for flag, regex in _COMPILED if regex.search(code)]
