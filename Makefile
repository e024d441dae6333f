# Two entry points: `make run` (install, migrate, demo data, serve) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8080
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
VENDOR := static/vendor/socket.io.min.js
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends

.PHONY: run test lint system-deps system-libs browser-deps deploy-deps vendor serve migrate demo

# Pyflakes through ruff ([tool.ruff] in pyproject.toml): make test starts with it.
lint: $(VENV)/.test-deps
	$(VENV)/bin/ruff check app rtc tests bench migrations

system-deps:
	@python3 -c 'import venv, ensurepip' 2>/dev/null || { $(SUDO) apt-get update -q && $(APT_INSTALL) python3 python3-venv python3-pip; }
	@command -v npm >/dev/null || { $(SUDO) apt-get update -q && $(APT_INSTALL) nodejs npm; }

# Libraries WeasyPrint loads at run time (推荐表 PDF) and the CJK font it embeds.
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-noto-cjk
system-libs:
	@missing=$$(for p in $(PDF_LIBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -q && $(APT_INSTALL) $$missing; fi

$(VENV)/.run-deps: pyproject.toml | system-deps system-libs
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml $(VENV)/.run-deps
	$(PIP) install -q -e '.[test]'
	touch $@

# socket.io-client for the browser, copied from npm into static/vendor (not committed).
$(VENDOR): package.json package-lock.json | system-deps
	npm install --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js node_modules/socket.io-client/dist/socket.io.min.js.map static/vendor/
	touch $@

vendor: $(VENDOR)

# axe-core for the browser tests' accessibility audit (a devDependency: not served).
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json | system-deps
	npm install --no-audit --no-fund --silent
	touch $@

# Debian's Chromium and CJK fonts for the browser tests (Playwright never downloads one).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  $(SUDO) apt-get update -q && $(APT_INSTALL) chromium fonts-noto-cjk fontconfig; fi

# Debian's nginx for tests/test_deploy_nginx.py (run by the test on free ports with a
# throwaway prefix; the system service is never started by us).
deploy-deps:
	@if [ ! -x /usr/sbin/nginx ]; then \
	  $(SUDO) apt-get update -q && $(APT_INSTALL) nginx; fi

migrate: $(VENV)/.run-deps
	$(PY) -m app migrate

demo: migrate
	$(PY) -m app demo --if-empty

run: system-libs $(VENV)/.run-deps $(VENDOR) demo
	$(PY) -m app serve --host $(HOST) --port $(PORT)

# The whole suite on SQLite and, at the same time, on PostgreSQL when it answers
# (REQUIRE_PG=1: must). The two runs share nothing (own database, own Redis channels, free
# ports) and spend much of their time waiting on browsers and sockets, so running them side
# by side nearly halves the wall time. The PostgreSQL run's output is shown when both end.
PG_LOG := .pytest-postgres.log
test: system-libs $(VENV)/.test-deps $(VENDOR) $(AXE) browser-deps deploy-deps lint
	@if $(PY) -m tests.pg_ready "$(PG_URL)"; then pg=1; \
	elif [ "$${REQUIRE_PG:-0}" = 1 ]; then \
	  echo "PostgreSQL at $(PG_URL) is not reachable and REQUIRE_PG=1" >&2; exit 1; \
	else pg=0; echo "PostgreSQL not reachable: skipped the PostgreSQL run (set REQUIRE_PG=1 to fail instead)"; fi; \
	if [ $$pg = 1 ]; then \
	  TEST_DB=postgres PG_URL="$(PG_URL)" timeout 2400 $(PY) -m pytest -q -p no:cacheprovider --durations=15 > $(PG_LOG) 2>&1 & pg_pid=$$!; fi; \
	echo "== SQLite run =="; \
	timeout 2400 $(PY) -m pytest -q -p no:cacheprovider --durations=15; sqlite_rc=$$?; pg_rc=0; \
	if [ $$pg = 1 ]; then wait $$pg_pid; pg_rc=$$?; echo "== PostgreSQL run =="; cat $(PG_LOG); fi; \
	echo "SQLite run exit $$sqlite_rc, PostgreSQL run exit $$pg_rc"; \
	[ $$sqlite_rc = 0 ] && [ $$pg_rc = 0 ]
