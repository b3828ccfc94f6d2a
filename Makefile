# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when needed.
# Installs take the versions pinned in requirements/lock.txt (tested together); `make lock` refreshes them after a
# change of pyproject.toml's ranges, or to move to newer releases.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/lock.txt

.PHONY: install demo demo-quarter test lint lock bench notebook clean java

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev]'
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

# The tests run beside a throwaway PostgreSQL server (.ci/with-postgres starts and removes it; the scoring log and
# audit tests run on it and on SQLite). Without a PostgreSQL server this stops and says how to get one; plain
# `.venv/bin/pytest` skips the PostgreSQL tests instead. It makes sure of Java 17+ for the Spark tests (`make java`).
# --dist loadscope keeps a module's tests on one worker, so a module's trained model is built once, not per worker
# (8m03 against 8m49 on 2 cores, CPU 12m42 against 13m53).
test: lint java
	.ci/with-postgres $(BIN)/pytest -n auto --dist loadscope

# A Java 17+ runtime for Spark (leadq score --engine spark): kept if there is one ($$JAVA_HOME, or java on PATH);
# else, as root on Debian, apt-get installs openjdk-17-jre-headless; else this stops and says what to install.
java:
	.ci/ensure-java

# Re-resolve requirements/lock.txt from pyproject.toml's ranges (newest releases that fit, for Python 3.11 on any
# platform; versions already locked are kept where they still fit: delete the file first to move everything).
lock:
	test -x $(BIN)/uv || { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 --no-emit-package leadq \
		--custom-compile-command "make lock" --quiet -o $(LOCK)
	@echo "$(LOCK) refreshed; review the diff, then make install"

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The marketing notebook in JupyterLab (installed on first use; run `make demo` before).
notebook: $(STAMP)
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[notebook]'
	$(BIN)/jupyter lab notebooks/marketing_explanations.ipynb

clean:
	rm -rf .leadq data benchmarks/.work
