# Everything a fresh machine with only Python 3 needs. `make test` and `make demo` create their
# own virtualenv (.venv) on first use; later runs reuse it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
AIRFLOW_SPEC ?= apache-airflow>=3.1.8
# More requirements for the same install, e.g. a cap an older Airflow needs (see .ci/run).
EXTRA_SPEC ?=
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv test test-deployment lint typecheck check demo bench bench-smoke dist dist-sandbox docs clean

# The emulator (sandbox/, distribution esign-sandbox, named by the test extra) is installed in the
# same pip command, so pip resolves that name to the folder in this clone, not to an index.
$(STAMP): pyproject.toml sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' -e ./sandbox '$(AIRFLOW_SPEC)' $(EXTRA_SPEC)
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Postgres + Redis + CeleryExecutor with two workers (apt-installs postgresql/redis-server if missing).
test-deployment: $(STAMP)
	$(PY) -m pytest -q -s tests/deployment $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

demo: $(STAMP)
	$(PY) scripts/demo.py

# The docs site in docs/_build/html, strict: any warning (broken link or reference, unknown
# directive, a page in no toctree) fails the build. The docs extra goes into the same virtualenv.
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[docs]' '$(AIRFLOW_SPEC)'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(PY) -m sphinx -W --keep-going -n -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

# Wheels are built in their own small virtualenv (only pip and the build backend, no Airflow).
BUILD_VENV := $(VENV)-build
$(BUILD_VENV)/.ready:
	$(PYTHON) -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/python -m pip install --quiet --upgrade pip
	touch $@

# The provider's wheel in dist/: `pip install dist/airflow_provider_esign-*.whl` installs it anywhere.
# It holds only the provider (.ci/run checks): the emulator is the separate esign-sandbox wheel.
dist: $(BUILD_VENV)/.ready
	rm -rf dist build
	$(BUILD_VENV)/bin/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	@ls dist/*.whl

# The emulator's wheel (distribution esign-sandbox) in sandbox/dist/, apart from the provider's.
dist-sandbox: $(BUILD_VENV)/.ready
	rm -rf sandbox/dist sandbox/build
	$(BUILD_VENV)/bin/python -m pip wheel --quiet --no-deps --wheel-dir sandbox/dist ./sandbox
	@ls sandbox/dist/*.whl

bench: $(STAMP)
	$(PY) -m benchmarks

bench-smoke: $(STAMP)
	$(PY) -m benchmarks --smoke

clean:
	rm -rf $(VENV) .venv-* signed .pytest_cache dist build sandbox/dist sandbox/build docs/_build docs/_generated
