# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
# The checkout as a plain path entry, which is what a regular install costs at
# start-up; the default editable mode adds an import hook (about 17 ms per
# start). setuptools calls that mode transitional: without it, the default.
INSTALL = $(BIN)/python -m pip install --quiet
EDITABLE = --config-settings editable_mode=compat

.PHONY: setup demo test lint typecheck unit bench clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(INSTALL) $(EDITABLE) -e '.[test]' 2>/dev/null || $(INSTALL) -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/rxresponses demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

$(VENV)/.installed-bench: $(STAMP)
	$(INSTALL) $(EDITABLE) -e '.[test,bench]' 2>/dev/null || $(INSTALL) -e '.[test,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.throughput
	$(BIN)/python -m benchmarks.http

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .hypothesis
