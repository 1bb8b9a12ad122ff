""" "Open on Binder" / "Open in Colab": URLs from the repository URL, shown only when it is set."""

from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlparse

import nbformat
import pytest
from conftest import ROOT

from mle_handbook.learners.start import handbook_files
from mle_handbook.sphinxext.launch import (
    binder_url,
    colab_ready,
    colab_url,
    launch_html,
    repository,
)

REPO = "https://github.com/example-org/mle-handbook"


def _config(url=REPO, branch="main"):
    return SimpleNamespace(mle_handbook_repository_url=url, mle_handbook_repository_branch=branch)


def _notebook(source: str, **meta) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    if meta:
        nb.metadata["mle_handbook"] = meta
    return nb


def test_repository_accepts_github_urls_with_or_without_git_suffix():
    assert repository(REPO) == ("github.com", "example-org/mle-handbook")
    assert repository(REPO + ".git/") == ("github.com", "example-org/mle-handbook")


@pytest.mark.parametrize("bad", ["github.com/x/y", "https://github.com/onlyowner", "ftp://h/x/y"])
def test_repository_rejects_urls_that_name_no_repository(bad):
    with pytest.raises(ValueError, match="mle_handbook_repository_url"):
        repository(bad)


def test_binder_url_opens_the_learners_copy_in_work_not_the_source():
    url = binder_url(REPO, "main", "exercises/decision-trees")
    parsed = urlparse(url)
    assert parsed.netloc == "mybinder.org"
    assert parsed.path == "/v2/gh/example-org/mle-handbook/main"
    assert parse_qs(parsed.query)["urlpath"] == ["lab/tree/work/exercises/decision-trees.ipynb"]


def test_binder_url_encodes_a_branch_with_a_slash():
    assert "/v2/gh/example-org/mle-handbook/release%2F2026?" in binder_url(
        REPO, "release/2026", "notebooks/probability"
    )


def test_binder_url_for_gitlab_and_other_hosts():
    assert "/v2/gl/group%2Fsub%2Frepo/main?" in binder_url(
        "https://gitlab.com/group/sub/repo", "main", "notebooks/x"
    )
    other = binder_url("https://git.example.ac.uk/team/repo", "main", "notebooks/x")
    assert "/v2/git/https%3A%2F%2Fgit.example.ac.uk%2Fteam%2Frepo/main?" in other


def test_colab_url_points_at_the_notebook_on_github_and_only_there():
    assert colab_url(REPO, "main", "notebooks/probability") == (
        "https://colab.research.google.com/github/example-org/mle-handbook/blob/main/"
        "notebooks/probability.ipynb"
    )
    assert colab_url("https://gitlab.com/group/repo", "main", "notebooks/probability") is None


def test_colab_ready_only_without_data_files_or_the_handbook_package():
    assert colab_ready(_notebook("import numpy as np"))
    assert not colab_ready(_notebook("from mle_handbook.spark import get_spark"))
    assert not colab_ready(_notebook("import pandas", data=["data/events.csv"]))
    assert not colab_ready(_notebook("import pandas", spark=True))


def test_no_links_when_the_repository_url_is_unset():
    assert launch_html("notebooks/x", _notebook("1"), _config(url="")) == ""


def test_worked_notebook_gets_binder_and_colab_links(squares_solution):
    html = launch_html("notebooks/probability", _notebook("import numpy"), _config())
    assert "Open on Binder" in html and "Open in Colab" in html
    assert "colab.research.google.com/github/example-org/mle-handbook/blob/main/notebooks/" in html


def test_exercise_page_never_links_colab_to_the_source_with_solutions(squares_solution):
    html = launch_html("exercises/squares", squares_solution, _config())
    assert "Open on Binder" in html
    assert "colab.research.google.com" not in html
    assert "upload the student notebook" in html


def test_spark_notebook_says_why_it_is_not_on_colab():
    nb = _notebook("from mle_handbook.spark import get_spark", spark=True)
    html = launch_html("notebooks/spark", nb, _config())
    assert "colab.research.google.com" not in html and "not on Colab" in html


@pytest.mark.parametrize(
    "notebook", sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("exercises/*.ipynb"))
)
def test_every_binder_link_opens_a_file_that_mle_handbook_start_creates(notebook):
    docname = notebook.relative_to(ROOT).with_suffix("").as_posix()
    target = parse_qs(urlparse(binder_url(REPO, "main", docname)).query)["urlpath"][0]
    path = unquote(target).removeprefix("lab/tree/work/")
    assert path in handbook_files(ROOT), f"Binder would open {path}, which start does not create"


def test_binder_setup_installs_the_lock_and_runs_start():
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    assert re.search(r"^-r \.\./requirements\.lock$", requirements, re.M)
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
    text = post_build.read_text()
    assert text.startswith("#!") and "mle-handbook start" in text


@pytest.mark.slow
def test_built_pages_show_links_only_when_the_url_is_set(mini_project, squares_solution):
    mini_project.add_notebook("squares", squares_solution)
    without = mini_project.build()
    assert without.returncode == 0, without.output
    assert "mybinder.org" not in (without.outdir / "exercises" / "squares.html").read_text()
    with_url = mini_project.build("-D", f"mle_handbook_repository_url={REPO}")
    assert with_url.returncode == 0, with_url.output
    page = (with_url.outdir / "exercises" / "squares.html").read_text()
    assert "mybinder.org/v2/gh/example-org/mle-handbook/main?urlpath=" in page
    assert "colab.research.google.com" not in page


@pytest.mark.slow
def test_malformed_repository_url_stops_the_build_saying_why(mini_project, squares_solution):
    mini_project.add_notebook("squares", squares_solution)
    result = mini_project.build("-D", "mle_handbook_repository_url=github.com/x")
    assert result.returncode != 0
    assert "mle_handbook_repository_url must be an http(s) URL" in result.output
