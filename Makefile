# Inbound — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Every target here is a development command: DEBUG defaults to off (production's safe default),
# so turn it on for them. With DEBUG on, settings create the development keys under var/ once and
# every process (web, worker, beat, tests) reads the same ones.
export DEBUG := 1

.PHONY: install run test lint chromium bench messages clean

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

## test: lint (ruff, mypy, import contracts), migrations check, and the whole pytest suite
##       (unit, integration, browser) over every core (pytest-xdist; TEST_WORKERS=1 for one process)
TEST_WORKERS ?= auto
test: install chromium lint
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest --numprocesses $(TEST_WORKERS) --dist loadgroup

## chromium: Debian's Chromium for the browser tests, installed when we are root with apt-get;
##           otherwise stop before anything runs, with the command to install it
chromium:
	@[ -x /usr/bin/chromium ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make: installing chromium (Debian) for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "make: the browser tests need Chromium at /usr/bin/chromium; install it with:" >&2; \
	    echo "    sudo apt-get install chromium" >&2; \
	    exit 1; \
	  fi; }

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
