"""Convert a notebook's Markdown with two pandoc runs, instead of two for each of its cells.

nbsphinx turns every Markdown cell into reST with two pandoc processes: Markdown to pandoc's JSON
AST, its own filter on the JSON (maths, citations, images), then JSON to reST. Starting pandoc is
most of the cost: about 30 CPU-ms a cell, 3.7 CPU-s for this handbook's 110 cells whenever the
conversions are not in the execution cache's folder (every build of ``make test`` and CI, and the
first build after a change). pandoc 3 can convert many documents in one run: started under the
name ``pandoc-server.cgi`` it answers one HTTP request as a CGI program, and its ``/batch``
endpoint converts a list of documents, each on its own, as the command line would.

:func:`prefetch` runs nbsphinx's own ``markdown2rst`` on a notebook's Markdown in two rounds that
only collect what it would send to pandoc; each round's documents then go to pandoc in one batch
(110 cells: 0.9 s in two runs instead of 3.7 s in 220). When nbsphinx converts the cells for real,
:func:`batched_pandoc` answers from those results, applying nbsphinx's filter itself, so the reST
is the same text the command line gives (the tests compare them cell by cell). Anything not
collected, a pandoc without the server, or a failed batch falls back to nbsphinx's own command
line runs: batching only ever saves time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading

import nbformat
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Seconds one batch may take before its cells are converted one by one instead.
TIMEOUT = 120

#: The environment of a CGI request for pandoc's ``/batch`` endpoint (the length is added).
CGI_REQUEST = {
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/batch",
    "SCRIPT_NAME": "",
    "SERVER_NAME": "localhost",
    "SERVER_PORT": "80",
    "REMOTE_ADDR": "127.0.0.1",
    "CONTENT_TYPE": "application/json",
    "HTTP_ACCEPT": "application/json",
}

# Results of the batches, by what nbsphinx will ask for: (Markdown, input format) -> JSON AST and
# (filtered JSON, output format) -> reST. Kept for the process's life (well under 1 MB here).
_json: dict[tuple[str, str], str] = {}
_rst: dict[tuple[str, str], str] = {}
_state = threading.local()  # .collect: the list a collecting round appends to, else None
_unavailable: list[str] = []  # why batching was given up in this process, once it was


class _Collected(Exception):
    """Ends a collecting round's call of ``markdown2rst`` once pandoc's input is known."""


def use_batched_pandoc(app, config) -> None:
    """Make nbsphinx's ``pandoc`` answer from :func:`prefetch`'s batches when it can."""
    import nbsphinx

    if not hasattr(nbsphinx.pandoc, "__wrapped__"):
        nbsphinx.pandoc = batched_pandoc(nbsphinx.pandoc)


def batched_pandoc(run_pandoc):
    """``nbsphinx.pandoc(source, fmt, to, filter_func)``: from the batches, else ``run_pandoc``."""

    def pandoc(source, fmt, to, filter_func=None):
        collect = getattr(_state, "collect", None)
        if collect is not None:  # a collecting round: record pandoc's input, convert nothing
            if (source, fmt) not in _json:
                collect.append({"text": source, "from": fmt, "to": "json"})
            else:
                ast = _json[source, fmt]
                filtered = filter_func(ast) if filter_func else ast
                collect.append({"text": filtered, "from": "json", "to": to, "columns": 500})
            raise _Collected
        ast = _json.get((source, fmt))
        if ast is None:
            return run_pandoc(source, fmt, to, filter_func)
        # The filter runs once a call: it keeps state (nbsphinx's image definitions).
        filtered = filter_func(ast) if filter_func else ast
        rst = _rst.get((filtered, to))
        if rst is None:  # e.g. an HTML image, which the filter names anew (a random id) each time
            return run_pandoc(filtered, "json", to)
        return rst.rstrip("\n")

    pandoc.__wrapped__ = run_pandoc
    return pandoc


def markdown_of(nb: nbformat.NotebookNode) -> list[str]:
    """The Markdown nbsphinx converts in ``nb``: Markdown cells and Markdown outputs."""
    texts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            texts.append(cell.source)
        for output in cell.get("outputs", []):
            markdown = output.get("data", {}).get("text/markdown")
            if isinstance(markdown, str):
                texts.append(markdown)
    return texts


def prefetch(nb: nbformat.NotebookNode) -> None:
    """Convert the Markdown of ``nb`` in two pandoc runs, ready for nbsphinx to ask for it.
    Markdown whose conversion the execution cache's folder already holds is left out."""
    import nbsphinx

    if _unavailable or not hasattr(nbsphinx.pandoc, "__wrapped__"):
        return
    convert = nbsphinx.markdown2rst
    memo = getattr(convert, "memo", None)
    convert = getattr(convert, "__wrapped__", convert)
    texts = list(dict.fromkeys(t for t in markdown_of(nb) if memo is None or not memo.has(t)))
    requests = [r for r in _collect(convert, texts) if r["to"] == "json"]
    if requests and not _fetch(requests, _json, ("text", "from")):
        return
    requests = [r for r in _collect(convert, texts) if (r["text"], r["to"]) not in _rst]
    if requests:
        _fetch(requests, _rst, ("text", "to"))


def _fetch(requests: list[dict], results: dict, key: tuple[str, str]) -> bool:
    outputs = _batch(requests)
    if outputs is None:
        return False
    for request, output in zip(requests, outputs, strict=True):
        results[request[key[0]], request[key[1]]] = output
    return True


def _collect(convert, texts: list[str]) -> list[dict]:
    """What ``convert`` would send to pandoc for each text, in a round that converts nothing."""
    requests: list[dict] = []
    _state.collect = requests
    try:
        for text in texts:
            try:
                convert(text)
            except _Collected:
                pass
    finally:
        _state.collect = None
    unique = {json.dumps(r, sort_keys=True): r for r in requests}
    return [{**r, "eol": "lf"} for r in unique.values()]


def _batch(requests: list[dict]) -> list[str] | None:
    """pandoc's outputs for ``requests`` from one ``pandoc-server.cgi`` run, or None."""
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        return _give_up("pandoc is not on PATH")
    body = json.dumps(requests).encode()
    env = {**os.environ, **CGI_REQUEST, "CONTENT_LENGTH": str(len(body))}
    try:
        proc = subprocess.run(
            ["pandoc-server.cgi"],  # the name pandoc reads to answer as a CGI program
            executable=pandoc,
            input=body,
            capture_output=True,
            env=env,
            timeout=TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _give_up(f"pandoc-server.cgi failed: {exc}")
    head, _, payload = proc.stdout.replace(b"\r\n", b"\n").partition(b"\n\n")
    if proc.returncode or not head.startswith(b"Status: 200"):
        # An old pandoc (no server) reads the request as Markdown; a failed batch reports why.
        return _give_up(f"pandoc-server.cgi answered {proc.stdout[:200]!r} {proc.stderr[:200]!r}")
    try:
        answers = json.loads(payload)
        outputs = [a["output"] for a in answers if not a.get("base64")]
    except (ValueError, KeyError, TypeError) as exc:
        return _give_up(f"pandoc-server.cgi answered something unexpected: {exc}")
    if len(outputs) != len(requests):
        return _give_up("pandoc-server.cgi left requests unanswered")
    return outputs


def _give_up(reason: str) -> None:
    """Stop batching in this process: nbsphinx runs pandoc once per cell again."""
    _unavailable.append(reason)
    logger.verbose("Markdown cells are converted one at a time: %s", reason)
    return None
