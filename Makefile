# The README's two commands: `make run` (the demo on SQLite, Airflow on 127.0.0.1:8080)
# and `make test` (the whole suite, with the PostgreSQL it needs). Both set up a fresh clone.
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install run test bench lint schedule-table clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

DB ?= sqlite
run: install  # DB=postgres: the app database on PostgreSQL (a local cluster, or FANTASY_DB_URL)
	DB=$(DB) bash scripts/run_local.sh

test: install
	bash scripts/ensure_test_services.sh
	$(BIN)/pytest $(PYTEST_ARGS)

SCALE ?= 1000
bench: install  # the app at SCALE leagues in a throwaway PostgreSQL; each job against its SQL reference
	bash scripts/ensure_test_services.sh
	$(BIN)/python -m bench.run --scale $(SCALE)

lint: install  # what CI checks before the tests: lint, format, types (configured in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

schedule-table: install  # rewrites the README's schedule table from the registry
	$(BIN)/python -c 'import re, pathlib; from fantasy_jobs.registry import schedule_markdown as t; \
	p = pathlib.Path("README.md"); s = p.read_text(); \
	p.write_text(re.sub(r"(<!-- schedule:start -->\n).*?(<!-- schedule:end -->)", lambda m: m.group(1) + t() + m.group(2), s, flags=re.S))' 

clean:
	rm -rf $(VENV) .airflow .pytest_cache test-artifacts
