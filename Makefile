# The two-command quick start: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?=
CONFIG_FLAG := $(if $(CONFIG),--config $(CONFIG),)
# The browser tests (tests/web) drive Debian's Chromium: `playwright install` cannot download its own.
# Installed when missing, as root (CI) or through sudo; SPARK_SKIP_BROWSER=1 skips both the tests and this.
CHROMIUM := /usr/bin/chromium
SUDO     := $(if $(filter 0,$(shell id -u)),,$(shell command -v sudo))
BROWSER  := $(if $(filter 1,$(SPARK_SKIP_BROWSER)),,$(CHROMIUM))

.PHONY: run test lint format bench fuzz clean

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

# fonts-liberation: the metric-compatible fonts pages are drawn with in screenshots (a Recommends we keep)
$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		-o DPkg::Lock::Timeout=300 chromium fonts-liberation

## Install, create or migrate the database, and serve on http://localhost:8080
run: $(VENV)/.installed
	$(BIN)/spark-fed $(CONFIG_FLAG) db upgrade
	exec $(BIN)/spark-fed $(CONFIG_FLAG) serve

## Install the test extras, check the code and run the suite (in TEST_WORKERS processes; 0 for one)
TEST_WORKERS ?= 3
test: $(VENV)/.installed-test $(BROWSER) lint
	$(BIN)/pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.inbox

## The fuzz suites' long run (docs/testing.md): many more examples than `make test` runs; on SQLite
fuzz: $(VENV)/.installed-test
	HYPOTHESIS_PROFILE=long $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS) \
		tests/test_fuzz_routes.py tests/test_api_schemathesis.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
