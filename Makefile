# SLRT — developer entry points. `make up` runs the system, `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml dev/pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)

.PHONY: install up down status test test-fast lint typecheck chart kube pytest chaos bench lock clean-data

## install: the venv with every pinned dependency, the project and the development-only
## distribution in dev/ (local stack, dev token issuer, demo, stand-ins), both editable
## (re-runs only when the lock or a pyproject changes); the console tests' npm tools
## (oidc-provider, axe-core: dev/npm, pinned by its lock) into a cache (scripts/npm-tools.sh)
install: $(STAMP)
	@bash scripts/npm-tools.sh

$(STAMP): requirements.lock pyproject.toml dev/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync -q --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e . -e ./dev
	@rm -f $(VENV)/.installed-*
	@touch $@

## up: start PostgreSQL, Kafka, Temporal and the four services (idempotent)
up: install
	$(BIN)/slrt-stack up

## down: stop exactly what `make up` started; data stays in .slrt/
down:
	@if [ -x $(BIN)/slrt-stack ]; then $(BIN)/slrt-stack down; else echo "nothing to stop"; fi

status: install
	$(BIN)/slrt-stack status

## test: lint, type-check and the whole test suite against the real stack
test: lint typecheck chart kube pytest

## test-fast: the tests that need no server (marked `unit`; under a minute, no harness start)
test-fast: install
	$(BIN)/pytest -m unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

## chart: build the helm CLI (cached), lint and render the chart, validate every manifest
chart: install
	bash scripts/helm.sh check

## kube: build etcd and kube-apiserver (cached), prove the chart against them: server-side dry
## run of every values set under restricted Pod Security, helm install/upgrade/rollback/uninstall
kube: install
	bash scripts/kube.sh check

## pytest: the S3-compatible store the attachment tests use is built first (once, cached), so
## its cold build (about 2 minutes) never counts against a test's timeout
pytest: install
	bash scripts/versitygw.sh path > /dev/null
	$(BIN)/pytest

## chaos: the standing fault suite on a stack of its own (.slrt-chaos/, ports 25432, 29092,
## 27233, 28001-28006, 28090-28093, 28025-28026; beside `make up`): each fault injected while
## complaints go through, every complaint accounted for; fails when one is lost, doubled or stuck
chaos: install
	$(BIN)/slrt-chaos

## bench: every benchmark at a size for this machine (about ten minutes on two shared cores;
## not part of `make test`), then one table of ratios against the goals and
## bench/results/summary.json (docs/benchmarks.md). Soak and routing memory: run them by name.
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

## lock: re-resolve requirements.lock after changing pyproject.toml or dev/pyproject.toml
lock:
	$(BIN)/uv pip compile -q --python-version 3.11 --all-extras --output-file requirements.lock pyproject.toml dev/pyproject.toml

## clean-data: delete the local stack's data (stop it first)
clean-data: down
	rm -rf .slrt/postgres .slrt/kafka .slrt/temporal .slrt/logs .slrt/pids
