# The two commands a newcomer types: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
export PYTHONPATH := $(CURDIR)/plugins:$(CURDIR)
export SAAS_OPS_HOME := $(CURDIR)

.PHONY: demo test test-fast bench lint lock airflow clean db-stop

# Installs exactly the locked versions; reinstalls only when a lock file changes.
$(VENV)/.installed: requirements.lock requirements-dev.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version.split()[0]'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --no-deps --python $(PY) -r requirements-dev.lock
	@touch $@

demo: $(VENV)/.installed
	$(PY) -m dev.demo

# The suite on TEST_WORKERS processes (pytest-xdist), a test module per process at a time: each process starts its
# own PostgreSQL, S3 and receivers, so modules share nothing. `python -m pytest tests/x.py` runs one module alone.
# --no-loadscope-reorder keeps the order tests/conftest.py gives (slow modules first); xdist would sort by test count.
TEST_WORKERS ?= 3
test: $(VENV)/.installed
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# The inner loop: everything but the tests marked slow (the scheduler, Celery, point-in-time recovery).
test-fast: $(VENV)/.installed
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow"

bench: $(VENV)/.installed
	$(PY) -m bench

# ruff on the Python, hadolint on the Dockerfile (.hadolint.yaml), shellcheck on every shell script; all from .venv.
SHELL_SCRIPTS := .ci/run $(wildcard dev/*.sh deploy/*.sh)
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/shellcheck $(SHELL_SCRIPTS)

# Starts Airflow (api-server, scheduler, dag-processor, triggerer) on http://127.0.0.1:8080 against
# the demo database left by `make demo`.
airflow: $(VENV)/.installed
	$(PY) -m dev.demo --serve

db-stop: $(VENV)/.installed
	$(PY) -m dev.devdb stop

# Re-resolves the locks after requirements*.txt change. psycopg2 (Barman's declared driver, a source build) is
# left out: psycopg2-binary in the lock is the same module, and installs are --no-deps from the complete lock.
lock: $(VENV)/.installed
	$(VENV)/bin/uv pip compile --universal --python-version 3.11 --no-header -q --no-emit-package psycopg2 requirements.txt -o requirements.lock
	$(VENV)/bin/uv pip compile --universal --python-version 3.11 --no-header -q --no-emit-package psycopg2 requirements-dev.txt -o requirements-dev.lock

clean:
	-$(PY) -m dev.devdb stop
	rm -rf $(VENV) .local
