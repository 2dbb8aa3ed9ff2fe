# Inbound — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Every target here is a development command: DEBUG defaults to off (production's safe default),
# so turn it on for them. With DEBUG on, settings create the development keys under var/ once and
# every process (web, worker, beat, tests) reads the same ones.
export DEBUG := 1

.PHONY: install run test lint bench messages clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

## install: create .venv if missing, install the project with its dev dependencies, compile translations
install: $(VENV)/.installed
	@mkdir -p var/mail var/static
	@$(PY) manage.py translations_compile >/dev/null

## run: migrate, load the demo institution, serve web + Celery worker + beat (Ctrl-C stops all)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo
	@echo "  Inbound is starting at http://127.0.0.1:8000  (staff: http://127.0.0.1:8000/es/admin/)"
	@echo "  Press Ctrl-C to stop the web server, the worker and beat."
	@echo
	$(VENV)/bin/honcho --no-prefix start --no-colour -f Procfile.dev

## test: lint (ruff, mypy, import contracts), migrations check, and the whole pytest suite (unit, integration, browser)
test: install lint
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

## bench: run a benchmark, e.g. `make bench NAME=http`
bench: install
	$(PY) -m bench $(or $(NAME),http)

## messages: add new strings to locale/*/django.po, then list untranslated Spanish ones
messages: install
	$(PY) manage.py translations_update
	$(PY) manage.py translations_update --check

clean:
	rm -rf var/broker var/mail var/static
