# The one entry point for people, CI and Read the Docs' equivalent steps.
# `make html` and `make test` each set up .venv from requirements.lock first; nothing else is needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPHINXOPTS ?=
# Warnings are errors; --keep-going reports all of them in one build. Sphinx writes pages in
# (jobs - 1) worker processes while its main process hands them out and collects them, so one job
# more than there are cores keeps every core writing: a cached clean build on 2 cores took 12.1 s
# at -j 3 against 14.5 s at -j 2 (means of 3 runs; see `make bench`).
JOBS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
SPHINXFLAGS := -n -W --keep-going -j $(JOBS) $(SPHINXOPTS)
BUILDDIR := _build
# `make html` keeps executed notebooks in this cache (survives `make clean`'s siblings; see
# docs/authors). Set FORCE=1 to re-execute every notebook regardless of the cache.
CACHE ?= $(BUILDDIR)/.jupyter-cache
FORCE ?=

.PHONY: help venv bytecode html epub test lint format bench student lab clean cleancache distclean lock

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

# The package's own bytecode: uv compiles the installed packages', but Python writes none for
# this editable one where PYTHONDONTWRITEBYTECODE is set (as on CI images), and every build
# then compiles its modules again before reading a page (0.06 s of a cached clean build's
# start-up, while the other cores wait).
# A stamp, so that an unchanged package costs no Python start-up (0.09 s) to check.
BYTECODE := src/mle_handbook/__pycache__/.compiled
bytecode: $(BYTECODE)
$(BYTECODE): $(STAMP) $(shell find src/mle_handbook -name '*.py')
	@$(BIN)/python -m compileall -q src/mle_handbook
	@touch $@

html: $(STAMP) bytecode
	MLE_HANDBOOK_FORCE=$(FORCE) $(BIN)/python -m mle_handbook.sphinx_build -b html $(SPHINXFLAGS) -D mle_handbook_cache_dir=$(CACHE) . $(BUILDDIR)/html

# Doctrees outside the EPUB's folder: the EPUB builder packs (and warns about) every file there.
epub: $(STAMP) bytecode
	MLE_HANDBOOK_FORCE=$(FORCE) $(BIN)/python -m mle_handbook.sphinx_build -b epub $(SPHINXFLAGS) -d $(BUILDDIR)/doctrees/epub -D mle_handbook_cache_dir=$(CACHE) . $(BUILDDIR)/epub

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests conf.py
	$(BIN)/ruff format --check src tests conf.py

format: $(STAMP)
	$(BIN)/ruff check --fix src tests conf.py
	$(BIN)/ruff format src tests conf.py

# About half an hour; BENCH_ARGS="--runs 1 --grading 0 --no-rtd" for a quick look.
BENCH_ARGS ?=
bench: $(STAMP) bytecode
	$(BIN)/python -m mle_handbook.bench --out $(BUILDDIR)/bench $(BENCH_ARGS)

student: $(STAMP)
	$(BIN)/mle-handbook start

# Notebooks name the kernel "python3"; JupyterLab run from .venv starts it with .venv's Python.
# JUPYTER_PREFER_ENV_PATH=1 makes that hold even with a "python3" kernel in ~/.local/share/jupyter.
lab: student
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter lab --notebook-dir=work

lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.10 -o requirements.lock

# Removes the built site but keeps the execution cache: the next build re-renders without
# re-executing unchanged notebooks.
clean:
	rm -rf $(BUILDDIR)/html $(BUILDDIR)/epub $(BUILDDIR)/doctrees $(BUILDDIR)/bench

cleancache:
	rm -rf $(CACHE)

distclean:
	rm -rf $(BUILDDIR) $(VENV)
