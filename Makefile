# Masthead: `make run` starts the whole system locally, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The public address in emails and in the addresses Stripe sends readers back to.
SITE_URL ?= http://127.0.0.1:$(PORT)
export DEBUG ?= true

.PHONY: install browser run test reliability bench bench-tools lint migrate seed clean

# PostgreSQL + Redis for `make reliability` and `make bench` (override to point elsewhere).
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_BROKER ?= redis://127.0.0.1:6379/12
REDIS_CACHE ?= redis://127.0.0.1:6379/13

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo
	SITE_URL=$(SITE_URL) $(BIN)/python manage.py gift_links_seed_demo
	$(BIN)/python manage.py publishers_seed_demo

run: seed
	@echo ""
	@echo "Masthead is starting (web, Celery worker, Celery beat, the Stripe and app-store sandboxes). Stop with Ctrl-C."
	@echo "  Site:      $(SITE_URL)/"
	@echo "  Admin:     http://127.0.0.1:$(PORT)/admin/"
	@echo "  API docs:  http://127.0.0.1:$(PORT)/api/docs/"
	@echo ""
	MASTHEAD_PORT=$(PORT) SITE_URL=$(SITE_URL) $(BIN)/honcho start

# The browser tests drive Debian's Chromium; Playwright's own download does not work here.
browser:
	command -v chromium || (apt-get update && apt-get install -y chromium)

test: install browser
	$(BIN)/pytest -m "not reliability"

# Load, fault, bad-input, leak and security tests: on PostgreSQL + Redis with real workers.
reliability: install browser
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_BROKER) CACHE_URL=$(REDIS_CACHE) \
		$(BIN)/pytest -m reliability tests/reliability

bench-tools:
	command -v wrk || (apt-get update && apt-get install -y wrk)

# Benchmarks print figures (see docs/benchmarks.md); they pass or fail on errors only.
bench: install bench-tools
	set -e; for script in bench/gated_read.py bench/metered_read.py bench/paywall_scale.py bench/webhook_ingress.py \
		bench/trial_sweep.py bench/webhook_storm.py bench/schema_fuzz.py; do echo "== $$script"; $(BIN)/python $$script; done

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy .

clean:
	rm -rf var staticfiles .pytest_cache .mypy_cache .ruff_cache
