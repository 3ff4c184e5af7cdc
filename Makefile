# Newsroom Live: `make run` and `make test` are all a newcomer needs.
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/newsroom
REDIS_URL ?= redis://127.0.0.1:6379/15

# The first Python >= 3.12 on the PATH (.python-version makes pyenv's python3 resolve to 3.12).
PYTHON ?= $(shell for p in python3.12 python3.13 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)

.PHONY: run test test-postgres check venv demo clean screenshots

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Newsroom Live needs Python 3.12 or newer (Django 6). Install it (e.g. 'pyenv install 3.12') and run make again."; exit 1; }
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then echo "Rebuilding $(VENV): it was made with an older Python."; rm -rf $(VENV); fi
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

run: venv
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py load_demo
	@echo "Newsroom Live: http://127.0.0.1:$(PORT)/   admin: http://127.0.0.1:$(PORT)/admin/"
	DJANGO_DEBUG=1 $(PY) -m uvicorn newsroom.asgi:application --host 127.0.0.1 --port $(PORT) --loop uvloop --http httptools

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 && npm ci --no-audit --no-fund --silent || echo "npm is not installed: the accessibility tests will be skipped."

test: venv node_modules/.package-lock.json
	$(PY) -m pytest

# Retake the README's screenshots (docs/screenshots/) from the browser tests.
screenshots: venv
	NEWSROOM_SCREENSHOTS=1 $(PY) -m pytest tests/test_browser.py -k "journalist or demo_live_post" -q

test-postgres: venv
	@pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL is not answering on 127.0.0.1:5432. Start it, or set PG_URL."; exit 1; }
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_URL) $(PY) -m pytest

check: venv
	DJANGO_DEBUG=1 $(PY) manage.py check
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules db.sqlite3 db.sqlite3-* .test-media
