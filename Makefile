# Backend Lab: `make book` and `make test` set everything up themselves.
PYTHON ?= python3
VENV   := .venv
# ENV_BIN: use an environment that is already installed (a hub's image) instead of .venv
BIN    := $(or $(ENV_BIN),$(VENV)/bin)
STAMP  := $(VENV)/.installed-stamp
# Chapter notebooks, in reading order (the book's table of contents is _toc.yml).
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
# -qq: pip prints errors only (this machine's pip.conf makes its warnings very noisy)
PIP_QUIET := -qq --disable-pip-version-check

.PHONY: help setup sandbox-tools hub-proxy book test lab hub notebooks course-map exercises grade bench bench-attribution mutate lint lock clean
.DEFAULT_GOAL := help

help:
	@echo "make book       set up .venv, build the HTML book into _build/html, with the PDF and zip downloads"
	@echo "make test       set up .venv, run every test (unit, notebooks with nbval, book build)"
	@echo "make lab        JupyterLab on the course (127.0.0.1 only)"
	@echo "make hub        (as root) a JupyterHub classroom on this machine: an instructor, two students, nbgrader's exchange"
	@echo "make notebooks  re-execute every chapter notebook top to bottom and save its outputs"
	@echo "make course-map write book/course-map.md from the chapters (minutes, exercises, assignments)"
	@echo "make exercises  regenerate exercises/ from solutions/ (nbgrader generate_assignment; ASSIGNMENTS=\"01-lightweight ...\" for some)"
	@echo "make grade      autograde submitted/<student>/<assignment>/ (each in a sandbox), grades.csv, feedback"
	@echo "make bench      run the full benchmark and the attribution experiments, write the results the benchmark chapter plots"
	@echo "make bench-attribution  only the attribution experiments (uvloop, httptools, Starlette...), about 6 min (attribution.json)"
	@echo "make mutate     mutation testing of the helper package (mutmut), report in mutation-report.md"
	@echo "make lint       ruff"
	@echo "make lock       recompile requirements.txt from requirements.in"
	@echo "make clean      remove .venv and build outputs"

# Installs only when requirements.txt or pyproject.toml changed since the last install.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Backend Lab needs Python 3.11 or newer: run make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_QUIET) -r requirements.txt
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; exit 1; }
	$(BIN)/python -m pip install $(PIP_QUIET) --no-deps --no-build-isolation -e .
	@$(BIN)/python -c 'import backendlab' || { echo "installing the backendlab package failed"; exit 1; }
	@touch $(STAMP)

# JupyterLab defaults for the course (no news or update pop-ups): lab-settings/overrides.json5.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json5

$(LAB_OVERRIDES): lab-settings/overrides.json5 $(STAMP)
	install -D -m 644 $< $@

setup: $(STAMP) $(LAB_OVERRIDES)

# Grading runs every submission's kernel in a bubblewrap sandbox (Debian package bubblewrap; prlimit
# and setpriv come with util-linux). As root with apt-get (CI, a container) it is installed here.
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        echo "installing bubblewrap, the grading sandbox"; \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; }; \
	    else \
	        echo "bubblewrap is missing: grading needs it (Debian/Ubuntu: sudo apt-get install bubblewrap)"; \
	    fi; }

# JupyterHub's proxy, configurable-http-proxy, from the npm registry (hub/package-lock.json).
# Without npm it is skipped with a message; only the classroom (make hub, tests/test_classroom.py) needs it.
HUB_PROXY := hub/node_modules/.bin/configurable-http-proxy

$(HUB_PROXY): hub/package.json hub/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	    cd hub && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.bin/configurable-http-proxy; \
	else \
	    echo "npm is missing: the JupyterHub classroom needs Node.js and npm (Debian: apt-get install nodejs npm)"; \
	fi

hub-proxy: $(HUB_PROXY)

# The repository and JupyterHub links come from the environment (backendlab.book_config):
# BOOK_REPOSITORY=owner/name (default GITHUB_REPOSITORY, then the origin remote), BOOK_JUPYTERHUB_URL.
book: $(STAMP) $(LAB_OVERRIDES)
	$(BIN)/python -m backendlab.book_config _build/config.yml
	$(BIN)/jupyter-book build . --config _build/config.yml --warningiserror --nitpick --quiet
	$(BIN)/python -m backendlab.book_downloads _build/html
	@echo
	@echo "The book is built: open $(CURDIR)/_build/html/index.html"

test: $(STAMP) $(LAB_OVERRIDES) sandbox-tools hub-proxy
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# Root only in containers and sandboxes; Jupyter refuses root without --allow-root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP) $(LAB_OVERRIDES)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=0 --ServerApp.root_dir=. $(ALLOW_ROOT)

# A classroom to try: JupyterHub on 127.0.0.1 with throwaway accounts, removed again on Ctrl+C.
hub: $(STAMP) $(LAB_OVERRIDES) sandbox-tools hub-proxy
	$(BIN)/python -m backendlab.classroom

notebooks: $(STAMP)
	$(BIN)/python -m backendlab.notebook_runner --save $(NOTEBOOKS)

course-map: $(STAMP)
	$(BIN)/python -m backendlab.course_map book/course-map.md

exercises: $(if $(ENV_BIN),,$(STAMP))
	$(BIN)/python -m backendlab.grading generate $(ASSIGNMENTS)

# On a hub whose image already has the course's environment: make grade ENV_BIN=/opt/conda/bin
grade: $(if $(ENV_BIN),,$(STAMP)) sandbox-tools
	$(BIN)/python -m backendlab.grading grade $(GRADE_FLAGS)

bench: $(STAMP)
	$(BIN)/python -m backendlab.bench run --full
	$(BIN)/python -m backendlab.bench attribution

bench-attribution: $(STAMP)
	$(BIN)/python -m backendlab.bench attribution

lint: $(STAMP)
	$(BIN)/ruff check src tests

lock: $(STAMP)
	$(BIN)/pip-compile --quiet --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	    requirements.in -o requirements.txt

# Not part of make test: it runs the selected tests once per mutant.
mutate: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run >/dev/null
	$(BIN)/python -m backendlab.mutation_report mutation-report.md

clean:
	rm -rf $(VENV) _build .pytest_cache test-artifacts mutants src/*.egg-info hub/node_modules
