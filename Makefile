# Two commands matter: `make run` (install, then open ft-tui on the sample datasets) and
# `make test` (install what tests need, then run every check and the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check pytest bench install

$(STAMP): pyproject.toml scripts/install.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/install.sh
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/ft-tui assets/datasets

# ruff + strict mypy + the layering test, then the whole suite (slow tests included).
test: $(STAMP)
	$(MAKE) --no-print-directory check
	$(BIN)/python -m pytest -q -p no:cacheprovider

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_layers.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all
