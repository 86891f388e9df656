# PHS Archive — the two commands: `make run` (set up + demo + serve) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1:8000

.PHONY: run setup demo test test-sqlite test-postgres lint format bench smoke-test clean

run: demo ## Set everything up, load the demo, start the site (HOST=127.0.0.1:8001 when 8000 is busy)
	$(PY) manage.py runserver $(HOST)

setup: $(STAMP) ## Virtualenv, dependencies, migrations
	$(PY) manage.py migrate --no-input -v 0

$(STAMP): pyproject.toml
	@python=$$(scripts/find-python) || exit 1; \
	  [ -x $(PY) ] || { echo "Creating $(VENV) with $$python …"; $$python -m venv $(VENV); }
	@echo "Installing dependencies into $(VENV) (about a minute the first time; pip names each package) …"
	@$(PY) -m pip install --quiet --upgrade pip
	@# No --quiet: a minute of silence looks like a hang. No progress bars: CI logs stay readable.
	$(PY) -m pip install --progress-bar off -e '.[dev]' --config-settings editable_mode=compat
	@echo "Dependencies installed."
	@touch $(STAMP)

demo: setup ## Demo drives (real generated media), duplicates, and the demo logins
	$(PY) manage.py setup_demo --host $(HOST)

test: $(STAMP) ## The whole test suite (SQLite, or PostgreSQL when DATABASE_URL is set)
	@# Each browser test module runs in a process of its own: their live servers share
	@# SQLite's in-memory test database across threads, and that state must not leak.
	$(VENV)/bin/pytest -m "not browser"
	@set -e; for module in tests/deploy/test_browser_csp.py tests/browser/test_*.py; do \
	  echo "$(VENV)/bin/pytest $$module"; $(VENV)/bin/pytest $$module; done

test-postgres: $(STAMP) ## The suite against the local PostgreSQL
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(MAKE) test

lint: $(STAMP) ## ruff, formatting, the import contracts (layers), migrations in step, Django's checks
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP) ## Catalog benchmark at 1M files (long; see bench/README.md)
	$(PY) bench/catalog_bench.py

smoke-test: $(STAMP) ## Production settings under gunicorn + nginx on loopback, checked over HTTPS
	deploy/smoke-test

clean:
	rm -rf var/ .pytest_cache
