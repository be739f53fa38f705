# Developers and CI run the same targets. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

# A Python 3.11 interpreter: python3.11 where it exists, else python3 if that is 3.11.
PYTHON ?= $(shell for p in python3.11 python3; do \
  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help venv emulators dist run proto release-contracts check-generated lint typecheck test unit bench fuzz clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The three distributions in development mode: ecom-contracts (producer/: the generated classes
# and ecom_contracts), ecom-ingest (the workers' wheel: the pipeline and the generated warehouse
# package with its run time; it depends on ecom-contracts, so `import ecom_contracts_pb` is one copy) and
# ecom-ingest-commands (commands/: the contract toolchain and the operations commands, which run
# from this checkout only), with the development tools.
$(STAMP): pyproject.toml producer/pyproject.toml commands/pyproject.toml
	@test -x $(PY) || test -n "$(PYTHON)" || { echo "make: no Python 3.11 found (python3.11 or python3); install it or pass PYTHON=/path/to/python3.11" >&2; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ./producer -e '.[local]' -e './commands[dev]'
	@touch $@

venv: $(STAMP) ## Create .venv with the pinned dependencies (done by every target that needs it)

emulators: $(STAMP) ## Install the pinned BigQuery emulator for Python 3.13 into .emulators/ (where there is none: say so)
	$(PY) -m ops.emulators install

dist: $(STAMP) ## Build into dist/ the wheels of ecom-contracts (producers) and ecom-ingest (pipeline), and the latest release's bundle for other languages
	rm -rf dist build producer/build
	$(PY) -m build --wheel --no-isolation --outdir dist producer
	$(PY) -m build --wheel --no-isolation --outdir dist .
	$(PY) -m contracts bundle --out dist

RUN_ARGS ?=
WAREHOUSE ?= duckdb
run: $(STAMP) $(if $(filter bigquery,$(WAREHOUSE)),emulators) ## The main job, locally: Pub/Sub emulator, synthetic traffic, streaming pipeline, DuckDB, summary and the seed's queries (RUN_ARGS="--events 20000 --rate 2000"; WAREHOUSE=bigquery: the production path on the BigQuery and Cloud Storage emulators)
	$(PY) -m ops.local_run --warehouse $(WAREHOUSE) $(RUN_ARGS)

PROTO_ARGS ?=
proto: $(STAMP) ## Regenerate everything from proto/ (format, lint, breaking check, compatibility gate, migrations)
	$(PY) -m contracts generate $(PROTO_ARGS)

release-contracts: $(STAMP) ## Record proto/ as a new registry release (after buf breaking and the compatibility gate), then regenerate and version ecom-contracts after it
	$(PY) -m contracts release
	$(PY) -m contracts generate --skip-breaking
	$(PY) -m contracts stamp

check-generated: $(STAMP) ## Fail if proto/ is unformatted, fails lint, buf breaking or the compatibility gate, or generated files drift
	$(PY) -m contracts check

lint: $(STAMP) ## Ruff lint and format check, and the layers (import-linter: [tool.importlinter] in pyproject.toml)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP) ## mypy, strict for the package
	$(PY) -m mypy

unit: $(STAMP) emulators ## Run the tests only
	$(PY) -m pytest

test: lint typecheck check-generated unit ## The whole suite: lint, types, generated-code drift, tests

BENCH_PROFILE ?= short
BENCH_OUTPUT ?= bench.json
bench: $(STAMP) ## Throughput figures as a table and as JSON (BENCH_PROFILE=short|long, BENCH_OUTPUT=bench.json, BENCH_BASELINE=<checkout of an earlier revision>)
	$(PY) -m ops.bench --profile $(BENCH_PROFILE) --output $(BENCH_OUTPUT) $(if $(BENCH_BASELINE),--replay-baseline $(BENCH_BASELINE))

FUZZ_SECONDS ?= 60
fuzz: $(STAMP) ## Coverage-guided fuzzing of route/decode/validate/model with atheris (FUZZ_SECONDS=60)
	$(PY) -m tests.fuzz.fuzz_messages -max_total_time=$(FUZZ_SECONDS)

clean: ## Remove the virtual environment and build outputs
	rm -rf $(VENV) .emulators build dist producer/build .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
