# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo demo-quarter test lint bench notebook clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/leadq demo

# The quarterly loop (serve, score a quarter, audit, retrain) in .leadq/quarter-demo/, apart from `make demo`.
demo-quarter: $(STAMP)
	$(BIN)/leadq demo-quarter

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n auto

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The marketing notebook in JupyterLab (installed on first use; run `make demo` before).
notebook: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[notebook]'
	$(BIN)/jupyter lab notebooks/marketing_explanations.ipynb

clean:
	rm -rf .leadq data benchmarks/.work
