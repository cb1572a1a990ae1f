# Two commands on a fresh machine with Python 3.11: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
# PostgreSQL used by `make test` when it answers (CI always has it; REQUIRE_POSTGRES=1 makes it mandatory).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
REQUIRE_POSTGRES ?= 0
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgres lint audit-deps install serve clean i18n-extract i18n-update i18n-compile browser-deps load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes.
$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-app
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed-app i18n-compile

# Translations: Russian and Chinese catalogs in registry/translations/ (English is the source language).
TRANSLATIONS := registry/translations
PYBABEL := $(BIN)/pybabel

i18n-extract: $(VENV)/.installed-app
	$(PYBABEL) extract -F babel.cfg -k _l -k _ --sort-by-file \
		-o $(TRANSLATIONS)/messages.pot .

i18n-update: i18n-extract
	$(PYBABEL) update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

# Compiled catalogs (.mo) are built, never committed; a broken catalog stops the build.
i18n-compile: $(VENV)/.installed-app
	$(PYBABEL) compile -d $(TRANSLATIONS) --statistics

run: install
	$(FLASK) db upgrade
	$(FLASK) seed
	$(FLASK) demo-load --if-empty
	@echo "Serving the registry on http://$(HOST):$(PORT)  (demo logins above; Ctrl-C to stop)"
	OUTBOX_PUMP_SECONDS=$${OUTBOX_PUMP_SECONDS:-30} EXPORT_WORKER_SECONDS=$${EXPORT_WORKER_SECONDS:-5} \
		$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test i18n-compile browser-deps lint audit-deps test-sqlite test-postgres

# The browser tests (tests/browser/) drive Debian's chromium through chromium-driver; a test tool's own browser
# download does not work here. Installed with apt when missing (as root); where that cannot be done the browser
# tests are skipped and say why.
BROWSER_PACKAGES := chromium chromium-driver
browser-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "== installing $(BROWSER_PACKAGES) for the browser tests =="; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null 2>&1 \
		|| { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null 2>&1; } \
		|| echo "== could not install $(BROWSER_PACKAGES): the browser tests will be skipped =="; \
	else \
		echo "== chromium is missing and cannot be installed here (needs root and apt-get): the browser tests will be skipped =="; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

# Known vulnerabilities in the installed dependencies (PyPI's advisory data; needs the network). A dependency
# whose exact version PyPI does not know is listed as skipped, not failed.
audit-deps: $(VENV)/.installed-test
	$(BIN)/pip-audit --progress-spinner off

# The lock file: exact versions and hashes of every dependency, test tools included (see README.md).
requirements.lock: pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --extra test --strip-extras \
		--no-emit-index-url --no-emit-find-links -o $@ pyproject.toml

test-sqlite: $(VENV)/.installed-test
	@echo "== test suite on SQLite =="
	$(BIN)/pytest -p no:cacheprovider

test-postgres: $(VENV)/.installed-test
	@if $(BIN)/python tests/postgres_available.py "$(TEST_POSTGRES_URL)"; then \
		echo "== test suite on PostgreSQL =="; \
		REGISTRY_TEST_DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/pytest -p no:cacheprovider; \
	elif [ "$(REQUIRE_POSTGRES)" = "1" ]; then \
		echo "PostgreSQL does not answer at $(TEST_POSTGRES_URL) and REQUIRE_POSTGRES=1"; exit 1; \
	else \
		echo "== PostgreSQL not reachable at $(TEST_POSTGRES_URL): PostgreSQL run skipped =="; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# Benchmarks (never part of `make test`): the structure chart on SQLite, then bench/suite.py on SQLite and, when it
# answers, PostgreSQL: data of 10 thousand, 100 thousand and a million notifications; page times, throughput under
# gunicorn (with `wrk`), filings with 8 writers, audit verification, and bench/exports.py
# (takes a long while; see docs/benchmarks.md). BENCH_ARGS passes options to bench/suite.py, e.g.
# BENCH_ARGS="--sizes 10000,100000", BENCH_ARGS="--quick" (10 thousand only), BENCH_ARGS="--skip exports".
# The command-line tools the benchmarks compare with or drive (Debian packages), installed with apt when missing.
BENCH_ARGS ?=
BENCH_PACKAGES := wrk sqlite3 postgresql-client
.PHONY: bench bench-deps
bench-deps:
	@if command -v wrk >/dev/null && command -v sqlite3 >/dev/null && command -v psql >/dev/null; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "== installing $(BENCH_PACKAGES) for the benchmarks =="; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q $(BENCH_PACKAGES) >/dev/null 2>&1 \
		|| { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(BENCH_PACKAGES) >/dev/null 2>&1; } \
		|| echo "== could not install $(BENCH_PACKAGES): the parts that need them say so and are skipped =="; \
	else \
		echo "== $(BENCH_PACKAGES) missing and cannot be installed here (needs root and apt-get) =="; \
	fi

bench: $(VENV)/.installed-app i18n-compile bench-deps
	$(BIN)/python bench/structure_chart.py
	$(BIN)/python bench/suite.py $(BENCH_ARGS)

# Load test (never part of `make test`): signed-in officers browsing and filing for LOAD_SECONDS against
# gunicorn on loopback, on SQLite and, when it answers, PostgreSQL; fails on any error response (docs/benchmarks.md).
LOAD_SECONDS ?= 60
LOAD_USERS ?= 8
load: $(VENV)/.installed-test i18n-compile
	$(BIN)/python bench/load.py --backend sqlite --seconds $(LOAD_SECONDS) --users $(LOAD_USERS)
	@if $(BIN)/python tests/postgres_available.py "$(TEST_POSTGRES_URL)"; then \
		$(BIN)/python bench/load.py --backend postgresql --seconds $(LOAD_SECONDS) --users $(LOAD_USERS); \
	fi
