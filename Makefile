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

.PHONY: run test test-fast test-postgres check venv clean screenshots

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
	DJANGO_DEBUG=1 $(PY) manage.py vapid_keys --if-missing
	@echo "Newsroom Live: http://127.0.0.1:$(PORT)/   admin: http://127.0.0.1:$(PORT)/admin/"
	DJANGO_DEBUG=1 NEWSROOM_SITE_URL=$${NEWSROOM_SITE_URL:-http://127.0.0.1:$(PORT)} $(PY) -m uvicorn newsroom.asgi:application --host 127.0.0.1 --port $(PORT) --loop uvloop --http httptools

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 && npm ci --no-audit --no-fund --silent || echo "npm is not installed: the accessibility tests will be skipped."

# The suite in parallel (pytest-xdist: each worker has its own test database and cache);
# it prints its wall time. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS))

test: venv node_modules/.package-lock.json
	@start=$$(date +%s); $(PYTEST) $(PYTEST_ARGS); status=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s"; exit $$status

# The edit-test loop: everything but the browser tests.
test-fast: venv
	@start=$$(date +%s); $(PYTEST) -m "not browser" $(PYTEST_ARGS); status=$$?; \
	echo "make test-fast: $$(( $$(date +%s) - start )) s"; exit $$status

# Retake the README's screenshots (docs/screenshots/) from the browser tests.
screenshots: venv
	NEWSROOM_SCREENSHOTS=1 $(PY) -m pytest tests/test_browser.py -k "journalist or demo_live_post" -q

# What the database engine cannot change: images, rich text, page weight, HTML validity,
# accessibility, the XSS corpus in Chromium, passwords, settings. `make test` runs them on
# SQLite; the PostgreSQL run (CI's second) does not repeat them.
ENGINE_FREE := test_images test_richtext test_page_weight test_html_validity test_accessibility test_xss_browser test_passwords test_settings test_production test_image_decodes

test-postgres: venv
	@pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL is not answering on 127.0.0.1:5432. Start it, or set PG_URL."; exit 1; }
	@start=$$(date +%s); DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_URL) $(PYTEST) $(foreach t,$(ENGINE_FREE),--ignore=tests/$(t).py) $(PYTEST_ARGS); status=$$?; \
	echo "make test-postgres: $$(( $$(date +%s) - start )) s"; exit $$status

# Lint, format, types of the domain core, the layers' import arrows, Django's checks and missing migrations.
check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_DEBUG=1 $(PY) manage.py check
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules db.sqlite3 db.sqlite3-* .test-media
