"""The EPUB: only the book's pages, each one well-formed XHTML.

An EPUB's pages are XHTML, which e-readers parse as XML and may refuse to show when it is not
well-formed. Three things in an ordinary HTML build are not, and are fixed here for EPUB builds
only:

- nbsphinx copies every executed notebook next to the pages (for the site's downloads); the EPUB
  builder warns (an error under ``-W``) about files it has no media type for, so the copies are
  added to ``epub_exclude_files`` just before the book is assembled;
- pandas writes DataFrames as HTML with ``<style scoped>``, which is not XML: an output whose HTML
  does not parse as XML is shown by its plain-text form instead;
- sphinx-design writes each tab's ``<input>`` as an unclosed void element: in the EPUB's pages
  it becomes ``<input ... />``.
"""

from __future__ import annotations

import copy
import os
import re
import xml.etree.ElementTree as ET

import nbformat


def is_epub(app) -> bool:
    return app.builder.name.startswith("epub")


def exclude_copied_notebooks(app) -> list:
    """``html-collect-pages`` handler (the EPUB builder runs it too): list the copies to skip."""
    if not is_epub(app):
        return []
    copies = sorted(
        os.path.relpath(app.env.doc2path(docname), app.srcdir).replace(os.sep, "/")
        for docname in app.env.found_docs
        if str(app.env.doc2path(docname)).endswith(".ipynb")
    )
    excluded = list(app.config.epub_exclude_files)
    app.config.epub_exclude_files = excluded + [c for c in copies if c not in excluded]
    return []  # no extra pages


def is_xml(fragment: str) -> bool:
    try:
        ET.fromstring(f"<div>{fragment}</div>")
    except ET.ParseError:
        return False
    return True


def xhtml_safe_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop HTML outputs that are not well-formed XML where a plain-text form exists."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data and "text/plain" in data and not is_xml(data["text/html"]):
                del data["text/html"]
    return nb


_UNCLOSED_INPUT = re.compile(r"<input\b([^>]*?)\s*(?<!/)>")


def close_void_inputs(body: str) -> str:
    """``<input ...>`` written as ``<input ... />``."""
    return _UNCLOSED_INPUT.sub(r"<input\1 />", body)


def close_tab_inputs(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context``: in the EPUB, sphinx-design's tab inputs are closed, as XML needs."""
    if is_epub(app) and "body" in context:
        context["body"] = close_void_inputs(context["body"])
