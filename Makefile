# Two commands do everything on a fresh machine: `make demo` and `make test`.
#
# The environment they install is pinned by constraints.txt (every runtime,
# test and build tool at one version), so they pass on any day. `make lock`
# refreshes the pins from the newest releases; `make test-latest` runs the
# same suite against the newest releases without touching the pins.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
VERSION := $(shell sed -n 's/^version = //p' setup.cfg)
# The folders pipeline/ and operators/ install as the package rxresponses and
# rxresponses.operators (setup.cfg, package_dir). The strict editable mode
# builds that layout as a tree of links to the checkout's files and puts it on
# sys.path as a plain path entry: no import hook at start-up, edits seen at
# once. A new or removed file in either folder re-runs the install.
LINKS := build/__editable__.rxresponses-$(VERSION)-py3-none-any
EDITABLE = --config-settings editable_mode=strict
# Applies to pip's build environments too (setuptools, wheel).
PINNED = PIP_CONSTRAINT=$(CURDIR)/constraints.txt
INSTALL = $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: setup demo test lint typecheck unit bench lock test-latest clean

$(STAMP): setup.cfg pyproject.toml constraints.txt pipeline operators pipeline/data
	$(PYTHON) -m venv $(VENV)
	$(PINNED) $(INSTALL) pip
	$(PINNED) $(INSTALL) $(EDITABLE) -e '.[test]' 2>/dev/null || $(PINNED) $(INSTALL) $(EDITABLE) -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/rxresponses demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy $(LINKS)/rxresponses tests benchmarks

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

$(VENV)/.installed-bench: $(STAMP)
	$(PINNED) $(INSTALL) $(EDITABLE) -e '.[test,bench]' 2>/dev/null || $(PINNED) $(INSTALL) $(EDITABLE) -e '.[test,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.throughput
	$(BIN)/python -m benchmarks.http

# Refresh the pins: the newest releases of everything the extras name.
lock:
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	build/lock-venv/bin/python -m pip install --quiet '.[test,bench]'
	{ echo '# Pinned by `make lock` on $(shell date -u +%F); users install the ranges in setup.cfg.'; \
	  build/lock-venv/bin/python -m pip freeze --all --exclude rxresponses | LC_ALL=C sort -f; } > constraints.txt
	rm -rf build/lock-venv

# The same suite against the newest releases, to see a coming break first.
test-latest:
	rm -rf build/latest-venv
	$(PYTHON) -m venv build/latest-venv
	build/latest-venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	build/latest-venv/bin/python -m pip install --quiet --upgrade $(EDITABLE) -e '.[test]'
	build/latest-venv/bin/python -m pip list --format=freeze | grep -iE '^(reactivex|aiohttp|msgspec|pytest|hypothesis|mypy|ruff)='
	build/latest-venv/bin/mypy $(LINKS)/rxresponses tests benchmarks
	build/latest-venv/bin/pytest
	rm -rf build/latest-venv

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .hypothesis
