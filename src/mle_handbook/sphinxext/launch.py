""" "Open on Binder" and "Open in Colab" links for notebook and exercise pages.

Both are built from ``mle_handbook_repository_url`` (and ``mle_handbook_repository_branch``) in
``conf.py``; with no URL set, pages show no such links.

- **Binder** builds the repository with ``binder/`` (the locked environment, then
  ``mle-handbook start``), so every page's link opens the learner's *own copy* in ``work/``: the
  student version of an exercise, never the source with its solutions.
- **Colab** opens notebooks straight from GitHub, and the repository holds exercises *with* their
  solutions, so exercise pages never link Colab to the source: they say to upload the student
  notebook instead (File → Upload notebook). Worked notebooks are linked when Colab can run them
  as they are: no declared data files and no use of the handbook's own package (Spark notebooks
  need both). See ``docs/learners/`` for the reasoning.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlparse

import nbformat

from ..exercises.markers import is_exercise, project_meta

BINDER = "https://mybinder.org/v2"
COLAB = "https://colab.research.google.com/github"
#: Where ``mle-handbook start`` puts a page's notebook, relative to the repository (Binder's home).
WORK = "work"

_USES_PACKAGE = re.compile(r"^\s*(from|import)\s+mle_handbook\b", re.M)


def repository(url: str) -> tuple[str, str]:
    """``(host, path)`` of a repository URL: ``("github.com", "owner/name")``."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"mle_handbook_repository_url must be an http(s) URL, not {url!r}")
    path = parsed.path.strip("/")
    path = path[: -len(".git")] if path.endswith(".git") else path
    if path.count("/") < 1:
        raise ValueError(f"mle_handbook_repository_url {url!r} names no owner/repository")
    return parsed.netloc.lower(), path


def binder_url(url: str, branch: str, docname: str) -> str:
    """A Binder link that opens ``work/<docname>.ipynb`` (the learner's copy) in JupyterLab."""
    host, path = repository(url)
    if host == "github.com":
        spec = f"gh/{path}/{quote(branch, safe='')}"
    elif host == "gitlab.com":
        spec = f"gl/{quote(path, safe='')}/{quote(branch, safe='')}"
    else:
        spec = f"git/{quote(url.strip(), safe='')}/{quote(branch, safe='')}"
    target = f"lab/tree/{WORK}/{docname}.ipynb"
    return f"{BINDER}/{spec}?urlpath={quote(target, safe='')}"


def colab_url(url: str, branch: str, docname: str) -> str | None:
    """A Colab link to the notebook's source on GitHub; None when the repository is elsewhere."""
    host, path = repository(url)
    if host != "github.com":
        return None
    return f"{COLAB}/{path}/blob/{quote(branch)}/{quote(docname)}.ipynb"


def colab_ready(nb: nbformat.NotebookNode) -> bool:
    """Colab can run it from the repository as it is: no data files, no handbook package."""
    if project_meta(nb).get("data") or project_meta(nb).get("spark"):
        return False
    return not any(c.cell_type == "code" and _USES_PACKAGE.search(c.source) for c in nb.cells)


def _link(href: str, text: str) -> str:
    return f'<a class="mleh-launch-link" href="{html.escape(href)}">{text}</a>'


def launch_html(docname: str, nb: nbformat.NotebookNode, config) -> str:
    """The page's "run it online" paragraph, or "" when no repository URL is set."""
    url = (config.mle_handbook_repository_url or "").strip()
    if not url:
        return ""
    branch = config.mle_handbook_repository_branch or "main"
    parts = [
        _link(binder_url(url, branch, docname), "Open on Binder")
        + " (your own copy in JupyterLab; starting can take a few minutes)"
    ]
    colab = colab_url(url, branch, docname)
    if colab is None:
        parts.append("not on Colab, which opens notebooks from GitHub only")
    elif not colab_ready(nb):
        parts.append("not on Colab: it needs the handbook's own package or data files")
    elif is_exercise(nb):
        parts.append(
            "for Colab, upload the student notebook (File → Upload notebook): the repository's "
            "copy holds the solutions"
        )
    else:
        parts.append(_link(colab, "Open in Colab"))
    return '<p class="mleh-launch">Run it online: ' + " · ".join(parts) + "</p>"


def check_repository_url(app, config) -> None:
    """``config-inited``: a malformed repository URL stops the build at once, saying why."""
    from sphinx.errors import ConfigError

    if (config.mle_handbook_repository_url or "").strip():
        try:
            repository(config.mle_handbook_repository_url)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
