# The two-command quick start: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?=
CONFIG_FLAG := $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run test lint format bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Spark needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## Install, create or migrate the database, and serve on http://localhost:8080
run: $(VENV)/.installed
	$(BIN)/spark-fed $(CONFIG_FLAG) db upgrade
	exec $(BIN)/spark-fed $(CONFIG_FLAG) serve

## Install the test extras, check the code and run the suite
test: $(VENV)/.installed-test lint
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.inbox

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
