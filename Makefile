# The one entry point for people, CI and Read the Docs' equivalent steps.
# `make html` and `make test` each set up .venv from requirements.lock first; nothing else is needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPHINXOPTS ?=
# The one Sphinx command line: `make html`, `make epub`, the test suite's clean build (through
# `make html`) and Read the Docs (.readthedocs.yaml) all run it. Warnings are errors, all of them
# reported in one build; pages are read and written by as many processes as there are cores,
# while the notebooks run in a process of their own (see src/mle_handbook/runner.py).
# Nitpicky mode is set in conf.py, so that Read the Docs gets it too.
SPHINXBUILD := $(BIN)/python -m sphinx
SPHINXFLAGS := -W --keep-going -j auto $(SPHINXOPTS)
BUILDDIR := _build
# `make html` keeps executed notebooks in this cache (see docs/authors): a rebuild executes only
# notebooks whose code, data or locked dependencies changed. CACHE= builds without it (as CI and
# Read the Docs do); FORCE=1 re-executes every notebook regardless of the cache.
CACHE ?= $(BUILDDIR)/.jupyter-cache
FORCE ?=

.PHONY: help venv html epub test lint format bench student lab clean cleancache distclean lock

help:
	@echo "make html     build the site into $(BUILDDIR)/html (executes every notebook)"
	@echo "make test     run the test suite (includes a clean build, warnings as errors)"
	@echo "make epub     build the EPUB"
	@echo "make student  copy student versions of the exercises into work/"
	@echo "make lab      open JupyterLab in work/"
	@echo "make bench    run the build benchmark (writes $(BUILDDIR)/bench/)"
	@echo "make lint     ruff check and format check"
	@echo "make lock     re-resolve requirements.lock from pyproject.toml"

venv: $(STAMP)

# Re-created when the lock or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.10 or newer is needed (found %s)" % sys.version.split()[0]) if sys.version_info < (3, 10) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m mle_handbook.cli install-kernel --quiet
	touch $@

# Doctrees outside the published folder: they are the build's working files, not pages.
html: $(STAMP)
	MLE_HANDBOOK_FORCE=$(FORCE) $(SPHINXBUILD) -b html $(SPHINXFLAGS) -d $(BUILDDIR)/doctrees/html -D mle_handbook_cache_dir=$(CACHE) . $(BUILDDIR)/html

# Doctrees outside the EPUB's folder: the EPUB builder packs (and warns about) every file there.
epub: $(STAMP)
	MLE_HANDBOOK_FORCE=$(FORCE) $(SPHINXBUILD) -b epub $(SPHINXFLAGS) -d $(BUILDDIR)/doctrees/epub -D mle_handbook_cache_dir=$(CACHE) . $(BUILDDIR)/epub

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks conf.py
	$(BIN)/ruff format --check src tests benchmarks conf.py

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks conf.py
	$(BIN)/ruff format src tests benchmarks conf.py

# About half an hour; BENCH_ARGS="--runs 1 --grading 0 --no-rtd" for a quick look.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py --out $(BUILDDIR)/bench $(BENCH_ARGS)

student: $(STAMP)
	$(BIN)/mle-handbook start

# Notebooks name the kernel "python3"; JupyterLab run from .venv starts it with .venv's Python.
# JUPYTER_PREFER_ENV_PATH=1 makes that hold even with a "python3" kernel in ~/.local/share/jupyter.
# JUPYTER_CONFIG_PATH adds the settings `mle-handbook start` writes, which switch off nbgrader's
# instructor tools for learners (src/mle_handbook/learners/start.py). Jupyter refuses to start as
# root (containers, cloud desktops) unless it is given --allow-root, so root gets it.
LAB_ALLOW_ROOT = $(if $(filter 0,$(shell id -u)),--allow-root)
lab: student
	JUPYTER_PREFER_ENV_PATH=1 JUPYTER_CONFIG_PATH="$(CURDIR)/work/.mle-handbook-jupyter" $(BIN)/jupyter lab $(LAB_ALLOW_ROOT) --notebook-dir=work

# rfc3987-syntax is left out: jsonschema imports it, when installed, to check "iri" formats that
# no Jupyter schema uses, and it compiles 38 grammars as it is imported (2.8 s before every build,
# runner, grading and CLI process can read a notebook; upstream: python-jsonschema/jsonschema#1428).
# Installs use `uv pip sync`/`--no-deps`, so nothing brings it back.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.10 --no-emit-package rfc3987-syntax -o requirements.lock

# Removes the built site but keeps the execution cache: the next build re-renders without
# re-executing unchanged notebooks.
clean:
	rm -rf $(BUILDDIR)/html $(BUILDDIR)/epub $(BUILDDIR)/doctrees $(BUILDDIR)/bench

cleancache:
	rm -rf $(CACHE)

distclean:
	rm -rf $(BUILDDIR) $(VENV)
