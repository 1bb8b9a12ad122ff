"""Section anchors on notebook pages that the theme's scripts can select.

nbsphinx gives each notebook section only Jupyter's anchor, the title with spaces turned into
hyphens (``#Question-gini:-Gini-impurity-(3-points)``), so that links written in Jupyter keep
working. Such an anchor is not a valid CSS selector, and the "On this page" list links to it: on
Python 3.10 (whose lock gives pydata-sphinx-theme 0.15.4) the theme's scroll tracking then logs
a console error on every notebook page. After a notebook is read, each section gets a docutils id
(``question-gini-gini-impurity-3-points``) first, which the table of contents links to; the
Jupyter anchor stays on the section, so existing links still land.
"""

from __future__ import annotations

from docutils import nodes


def add_selectable_ids(app, doctree) -> None:
    """``doctree-read`` (before Sphinx collects the table of contents): put a docutils id first."""
    if not str(app.env.doc2path(app.env.docname)).endswith(".ipynb"):
        return
    for section in doctree.findall(nodes.section):
        new = nodes.make_id(section[0].astext())
        # docutils registered this id for the section before nbsphinx replaced the section's ids.
        if new and new not in section["ids"] and doctree.ids.get(new, section) is section:
            section["ids"].insert(0, new)
            doctree.ids[new] = section
