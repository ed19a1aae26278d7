# Rathaus: the two commands of the README (`make demo`, `make test`) and their parts.
# Everything a fresh machine needs is installed from here: venv, pinned Python packages,
# npm packages (KERN UX, htmx, axe-core), Debian's Chromium for the browser tier.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
RATHAUS := $(BIN)/rathaus
VAR := var
STATIC_STAMP := src/rathaus/core/static/vendor/.built
DEMO_ENV := RATHAUS_DEMO=1
PORT ?= 8000

.PHONY: demo test bench setup assets lint typecheck checks test-python test-api test-browser \
        browser mosquitto messages openapi clean cluster cluster-stop cluster-packages test-cluster \
        bench-cluster test-cluster-tier rclone

setup: $(VENV)/.installed $(STATIC_STAMP)

$(VENV)/.installed: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	@$(PYTHON) -c "import ensurepip" 2>/dev/null || { echo "Python's venv module is missing: on Debian/Ubuntu run: sudo apt-get install python3.11-venv"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(STATIC_STAMP): node_modules/.installed scripts/build-assets.mjs
	node scripts/build-assets.mjs
	touch $@

assets: $(STATIC_STAMP)

$(VAR):
	mkdir -p $(VAR)

# ---- make demo -------------------------------------------------------------
demo: setup | $(VAR)
	$(DEMO_ENV) $(RATHAUS) migrate --no-input
	$(DEMO_ENV) $(RATHAUS) seed-demo
	$(DEMO_ENV) $(RATHAUS) serve-demo --port $(PORT)

# ---- make test -------------------------------------------------------------
test: setup lint typecheck checks test-python test-browser test-cluster-tier
	@echo "make test: all tiers passed$${DATABASE_URL:+ (database: $${DATABASE_URL%%@*}@...)}"

lint: setup
	$(BIN)/ruff check src tests conftest.py bench scripts
	$(BIN)/ruff format --check src tests conftest.py bench scripts

typecheck: setup
	$(BIN)/mypy src/rathaus

checks: setup | $(VAR)
	$(RATHAUS) check --fail-level WARNING
	$(RATHAUS) makemigrations --check --dry-run
	$(RATHAUS) openapi --check
	scripts/check-messages.sh

# pytest (unit, integration and schemathesis against /api/v1/openapi.json); the browser tier
# (marker e2e) runs separately so that a missing Chromium is reported on its own.
test-python: setup mosquitto rclone | $(VAR)
	$(BIN)/pytest -m "not e2e" -p no:playwright $(PYTEST_ARGS)

# The MQTT ingestion tests (citydata/tests/test_mqtt.py) use the Mosquitto listening on
# 127.0.0.1:1883 or start /usr/sbin/mosquitto themselves; without either they fail.
mosquitto:
	@if command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "Installing Mosquitto for the MQTT ingestion tests (apt-get)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null; \
	else \
	  echo "Mosquitto is missing and the MQTT tests will fail: sudo apt-get install mosquitto"; \
	fi

# The restore test of the object storage (core/tests/test_backup_restore.py) copies a bucket
# with rclone, as docs/operations.md tells operators to.
rclone:
	@if command -v rclone >/dev/null; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "Installing rclone for the restore test (apt-get)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone >/dev/null; \
	else \
	  echo "rclone is missing and the restore test of the object storage skips: sudo apt-get install rclone"; \
	fi

browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's Chromium for the browser tier (apt-get)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "#############################################################"; \
	  echo "# BROWSER TIER SKIPPED: /usr/bin/chromium is missing."; \
	  echo "# Install it with: sudo apt-get install chromium"; \
	  echo "#############################################################"; \
	fi

test-browser: setup browser | $(VAR)
	@rm -f $(VAR)/browser-tier-skipped
	@if [ -x /usr/bin/chromium ]; then \
	  $(BIN)/pytest -m e2e tests/e2e $(PYTEST_ARGS); \
	elif [ -n "$$RATHAUS_REQUIRE_BROWSER" ]; then \
	  echo "BROWSER TIER SKIPPED but RATHAUS_REQUIRE_BROWSER is set: failing"; exit 1; \
	else \
	  echo "BROWSER TIER SKIPPED (see above)"; touch $(VAR)/browser-tier-skipped; \
	fi

# ---- make bench ------------------------------------------------------------
bench: setup | $(VAR)
	$(BIN)/python bench/run.py

# ---- make cluster ----------------------------------------------------------
# A cluster on loopback (scripts/cluster.py, docs/operations.md): nginx in front of two gunicorn
# nodes, PostgreSQL, Redis, Celery workers and beat, a local S3 server, the demo city loaded.
# NODES=1 or NODE_WORKERS=4 change its shape.
CLUSTER := $(BIN)/python scripts/cluster.py
CLUSTER_ARGS := $(if $(NODES),--nodes $(NODES)) $(if $(NODE_WORKERS),--node-workers $(NODE_WORKERS))

# Debian's nginx (the load balancer), rclone (copies of the object storage, operations.md), and
# PostgreSQL's and Redis' server programs (the cluster runs instances of its own).
cluster-packages:
	@missing=""; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	command -v rclone >/dev/null || missing="$$missing rclone"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "Installing$$missing for the local cluster (apt-get)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
	  echo "The local cluster needs$$missing: sudo apt-get install$$missing"; exit 1; \
	fi

cluster: setup cluster-packages
	$(CLUSTER) start $(CLUSTER_ARGS)

cluster-stop:
	@if [ -x $(BIN)/python ]; then $(CLUSTER) stop; else python3 scripts/cluster.py stop; fi

# Start a fresh cluster, run the fault test against it, stop the cluster (also when the test
# fails or is interrupted); the exit code is the fault test's. A failed start cleans up itself.
test-cluster: setup cluster-packages
	@$(CLUSTER) start $(CLUSTER_ARGS) || exit 1; \
	trap '$(CLUSTER) stop; exit 130' INT TERM; \
	$(BIN)/python scripts/fault_test.py $(FAULT_ARGS); status=$$?; \
	$(CLUSTER) stop; exit $$status

# The cluster tier of `make test`: the fault test on a fresh local cluster. It brings its own
# PostgreSQL, so it runs in the pass without DATABASE_URL only (CI's first pass). Without
# nginx and no way to install it, it is skipped loudly (CI then fails, see .ci/run).
test-cluster-tier: setup | $(VAR)
	@if [ -n "$$DATABASE_URL" ]; then \
	  echo "cluster tier: runs in the pass without DATABASE_URL (it brings its own PostgreSQL)"; \
	elif rm -f $(VAR)/cluster-tier-skipped && $(MAKE) --no-print-directory cluster-packages; then \
	  $(MAKE) --no-print-directory test-cluster; \
	else \
	  echo "#############################################################"; \
	  echo "# CLUSTER TIER SKIPPED: a program of the cluster is missing (see above)"; \
	  echo "#############################################################"; \
	  touch $(VAR)/cluster-tier-skipped; \
	fi

bench-cluster: setup cluster-packages
	$(BIN)/python bench/cluster.py $(BENCH_ARGS)

# ---- maintenance -----------------------------------------------------------
messages: setup
	cd src/rathaus && ../../$(RATHAUS) makemessages -l en --no-obsolete --ignore "tests/*" && ../../$(RATHAUS) compilemessages

openapi: setup
	$(RATHAUS) openapi --write

clean:
	rm -rf $(VENV) node_modules src/rathaus/core/static/vendor
