# Masthead: `make run` starts the whole system locally, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DEBUG ?= true

.PHONY: install browser run test lint migrate seed clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo ""
	@echo "Masthead is starting (web, Celery worker, Celery beat). Stop with Ctrl-C."
	@echo "  Site:      http://127.0.0.1:$(PORT)/"
	@echo "  Admin:     http://127.0.0.1:$(PORT)/admin/"
	@echo "  API docs:  http://127.0.0.1:$(PORT)/api/docs/"
	@echo ""
	MASTHEAD_PORT=$(PORT) $(BIN)/honcho start

# The browser tests drive Debian's Chromium; Playwright's own download does not work here.
browser:
	command -v chromium || (apt-get update && apt-get install -y chromium)

test: install browser
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy .

clean:
	rm -rf var staticfiles .pytest_cache .mypy_cache .ruff_cache
