# Two commands for a newcomer: `make demo` (see the bot work) and `make test` (everything CI checks).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FAULT ?= event_loop_blocked
PYTEST_ARGS ?=

.PHONY: install test lint typecheck pytest demo serve bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

lint: install
	$(BIN)/ruff check bot tests lab bench scripts
	$(BIN)/ruff format --check bot tests lab bench scripts

typecheck: install
	$(BIN)/mypy --strict bot

pytest: install
	$(BIN)/python scripts/with_redis.py $(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

demo: install
	$(BIN)/python -m lab.demo --fault $(FAULT)

serve: install
	$(BIN)/python -m bot serve

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
