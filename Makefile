# Accord — one entry point for running, testing and checking.
# `make run` and `make test` work on a fresh machine with no services running.

VENV      ?= .venv
PY        := $(VENV)/bin/python
ACCORD    := $(VENV)/bin/accord
HOST      ?= 127.0.0.1
PORT      ?= 8000
PYTEST_ARGS ?=

.PHONY: run test check lint format typecheck venv dev-venv demo bench clean

$(VENV)/.installed: pyproject.toml
	@python=$${PYTHON:-$$(scripts/find-python)} || exit 1; \
	  echo "Using $$python ($$($$python --version))"; \
	  [ -x $(PY) ] || $$python -m venv $(VENV) || exit 1
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed
dev-venv: $(VENV)/.installed-dev

run: venv
	@mkdir -p var
	$(ACCORD) migrate --no-input
	$(ACCORD) demo-data
	$(ACCORD) collectstatic --no-input --verbosity 0
	$(ACCORD) demo-logins --url http://$(HOST):$(PORT)/
	$(ACCORD) runserver $(HOST):$(PORT)

demo: venv
	@mkdir -p var
	$(ACCORD) migrate --no-input
	$(ACCORD) demo-data

test: dev-venv
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

lint: dev-venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: dev-venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: dev-venv
	$(VENV)/bin/mypy accord

check: lint typecheck test
	$(ACCORD) makemigrations --check --dry-run

bench: dev-venv
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/test* .pytest_cache .mypy_cache .ruff_cache
