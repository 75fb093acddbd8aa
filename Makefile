# Two commands for a newcomer: `make demo` (see the bot work) and `make test` (everything CI checks).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FAULT ?= event_loop_blocked
PYTEST_ARGS ?=
UV_VERSION := 0.13.9

.PHONY: lock install system-packages test lint typecheck audit pytest demo serve bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Dependencies come from uv.lock (exact versions and hashes); `make lock` updates it.
$(VENV)/.installed: uv.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv sync --quiet --locked --inexact --extra dev --python $(BIN)/python
	touch $@

install: $(VENV)/.installed

lock: | $(BIN)/python
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv lock

lint: install
	$(BIN)/ruff check bot emulator tests lab bench scripts
	$(BIN)/ruff format --check bot emulator tests lab bench scripts

typecheck: install
	$(BIN)/mypy

# Known vulnerabilities with a fix in the locked Python set and every Node package (lab/, agent/).
audit: install
	$(BIN)/python scripts/audit_deps.py

pytest: install
	$(BIN)/python scripts/with_redis.py $(BIN)/pytest $(PYTEST_ARGS)

# Debian packages the tests need (as root: installed; otherwise named, and those tests skip).
system-packages:
	bash scripts/system_packages.sh test

test: system-packages lint typecheck audit pytest

demo:
	bash scripts/system_packages.sh demo
	$(MAKE) install
	$(BIN)/python -m lab.demo --fault $(FAULT)

serve: install
	$(BIN)/python -m bot serve

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
