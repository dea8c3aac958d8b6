# Entry points: `make run`, `make test` (which runs `make lint` first) and `make bench` (bench/README.md).
# All create .venv and install into it, and all are safe to re-run (installs repeat only when
# setup.cfg changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# The browser tests (tests/browser) drive Debian's chromium; CJK fonts so Chinese pages render
# (and screenshots of failures are readable). Installed with apt when missing; Playwright never
# downloads a browser of its own.
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test lint install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'
	touch $@ $(VENV)/.installed

$(CHROMIUM) $(CJK_FONT) &:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/liandong init --demo
	$(BIN)/liandong serve --host $(HOST) --port $(PORT)

# The checks first: a crossed layer, a lint error or a type error fails `make test` (and CI).
test: lint | $(CHROMIUM) $(CJK_FONT)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Lint (pyproject.toml), the layering contracts (.importlinter, docs/architecture.md) and the types of
# engine/ and models/; each failing stops the target.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy engine models

# Benchmarks on PostgreSQL (LIANDONG_BENCH_PG_URL, default 127.0.0.1:5432, databases
# liandong_bench_*), appending dated rows to bench/RESULTS.md; never part of `make test`.
# BENCH_ARGS picks benchmarks and sizes, e.g. BENCH_ARGS="api --instances 100" (bench/README.md).
bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
