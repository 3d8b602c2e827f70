# Two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test stop bench bench-million lint install messages migrate demo system-packages replication-access

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

# The JavaScript packages the pages use (package.json, pinned in package-lock.json), never
# committed: the static files finder serves them from node_modules (crm/settings/base.py).
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# Debian's chromium (browser tests), softhsm2 (PKCS#11 signing tests), the Noto CJK fonts
# (Chinese characters in browser screenshots and quote PDFs), pango (WeasyPrint's text
# layout, for quote PDFs), HarfBuzz's subsetter (without it WeasyPrint subsets the 20 MB
# CJK font with fontTools: ~8 s a PDF instead of ~0.5 s) and poppler-utils (pdftotext,
# reading the PDFs back in tests) and dovecot-imapd (a private IMAP server for the
# `fetch_ticket_mail` IMAP test; the tests start their own, never the system service),
# installed when missing and we are root;
# otherwise those tests skip, saying why. apt-get waits up to ten minutes for another
# apt-get to release its lock and writes its chatter to var/apt.log.
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=600
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v softhsm2-util >/dev/null 2>&1 || missing="$$missing softhsm2"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || missing="$$missing libharfbuzz-subset0"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	test -x /usr/sbin/dovecot || missing="$$missing dovecot-imapd"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing$$missing with apt-get (log: var/apt.log)"; mkdir -p var; \
	    { $(APT_GET) update && $(APT_GET) install -y $$missing; } >var/apt.log 2>&1 \
	      || { tail -n 20 var/apt.log; exit 1; }; \
	  else \
	    echo "Not installed:$$missing (apt-get install$$missing); their tests will skip."; \
	  fi; \
	fi

# The read-replica test (crm/core/tests/test_replica.py) streams a standby from the test
# server with pg_basebackup, which needs a `replication` line in pg_hba.conf. When
# DATABASE_URL names a server on this machine, we are root and its pg_hba.conf has no such
# line, one is added for 127.0.0.1 only (as trusted as the server's other local lines on
# this development machine) and the server reloads; otherwise nothing changes and that test
# skips, saying why.
replication-access:
	@case "$${DATABASE_URL:-}" in \
	  postgres*://*@127.0.0.1[:/]*|postgres*://*@localhost[:/]*) ;; \
	  *) exit 0;; \
	esac; \
	[ "$$(id -u)" = 0 ] || exit 0; \
	hba=$$(psql "$$DATABASE_URL" -tAc 'SHOW hba_file' 2>/dev/null) && [ -w "$$hba" ] || exit 0; \
	grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]' "$$hba" && exit 0; \
	echo "Allowing replication connections from 127.0.0.1 in $$hba (the read-replica test)"; \
	echo 'host replication all 127.0.0.1/32 trust' >> "$$hba"; \
	psql "$$DATABASE_URL" -qtAc 'SELECT pg_reload_conf()' >/dev/null

# The translations (.mo) are compiled from locale/*/LC_MESSAGES/django.po, never committed;
# msgfmt comes with Debian's gettext, installed when missing and we are root.
messages: install
	@command -v msgfmt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing gettext with apt-get (log: var/apt.log)"; mkdir -p var; \
	    { $(APT_GET) update && $(APT_GET) install -y gettext; } >var/apt.log 2>&1 || { tail -n 20 var/apt.log; exit 1; }; \
	  else echo "msgfmt is missing: apt-get install gettext"; exit 1; fi; }
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py compilemessages --ignore=.venv --ignore=.pgdata --ignore=var

migrate: messages
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py createcachetable

demo: migrate
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo --if-empty

## Set up everything, load the demo data once, and serve http://127.0.0.1:8000 with a
## Celery worker and the scheduler beside it (manage.py serve_all; one Ctrl-C stops all three)
run: demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py demo_logins
	DEBUG=$${DEBUG:-1} exec $(BIN)/python manage.py serve_all 127.0.0.1:8000

# The suite runs in parallel (pytest-xdist: one worker per core, each with its own test
# database test_<name>_gw0, _gw1, ...; idle workers steal queued tests) and measures the
# coverage of the application code (.coveragerc), failing when it drops below the floor
# (measured 94.8 % on 2026-12-02; keep the floor a few points below the measured value).
TEST_WORKERS ?= auto
COVERAGE_FLOOR ?= 92

## Set up everything, lint, and run the whole suite, browser tests included
test: messages lint system-packages replication-access
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR)

## Seed 100,000 customers into a scratch database and time the main pages
bench: install
	$(BIN)/python bench/customer_pages.py

bench-million: install
	$(BIN)/python bench/million.py

## Stop the embedded PostgreSQL that `make run` and `make test` leave running (without DATABASE_URL)
stop:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m crm.settings.embedded_postgres stop; fi

## Style, app boundaries (.importlinter) and type hints of services and selectors (mypy.ini)
# mypy reads the settings but never connects: a placeholder DATABASE_URL keeps the embedded
# PostgreSQL from starting.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DATABASE_URL=$${DATABASE_URL:-postgres://lint@127.0.0.1:1/lint} $(BIN)/mypy
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py check_translations
