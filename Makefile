# QuantDesk: `make demo` runs the desk's main job, `make test` runs every test.
# Both bootstrap from nothing: the Debian packages the goal needs where missing
# (deploy/system-packages.sh: Java 17 and Maven for the demo's local Neo4j; the tests also
# Prometheus and Chromium), uv (from PyPI) if missing, the locked environment with every
# extra, and the Rust gateway (built by maturin inside `uv sync`).

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif

.PHONY: bootstrap bootstrap-demo bootstrap-test demo test test-rust test-python lint bench clean

bootstrap: bootstrap-test

# The system packages first: `quantdesk services prepare` runs Maven.
bootstrap-demo bootstrap-test: bootstrap-%:
	@deploy/system-packages.sh $*
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv \
		|| python3 -m pip install --quiet --user --break-system-packages uv
	@command -v cargo >/dev/null 2>&1 || { echo "A Rust toolchain (cargo) is required: https://rustup.rs or 'apt-get install cargo'"; exit 1; }
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(UV) sync --locked --extra ml --extra memory --extra llm
	$(UV) run quantdesk services prepare

demo: bootstrap-demo
	$(UV) run quantdesk demo

test: bootstrap-test test-rust test-python

test-rust:
	cd gateway && cargo test --locked

# Bytecode is kept (some environments set PYTHONDONTWRITEBYTECODE): the crash and CLI tests
# start the desk as real processes dozens of times, and each would compile it anew.
test-python:
	env -u PYTHONDONTWRITEBYTECODE $(UV) run pytest

lint: bootstrap-demo
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run python -m mypy.stubtest gateway._core
	cd gateway && cargo fmt --check
	cd gateway && cargo clippy --locked --all-targets -- -D warnings
	cd gateway && cargo clippy --locked --all-targets --features python -- -D warnings

bench: bootstrap-demo
	$(UV) run python -m benchmarks.store_ingest_query
	$(UV) run python -m benchmarks.gateway_checks
	$(UV) run python -m benchmarks.research_backtests
	$(UV) run python -m benchmarks.pm_routing
	$(UV) run python -m benchmarks.knowledge_queries
	$(UV) run python -m benchmarks.memory_recall
	$(UV) run python -m benchmarks.bus_latency
	$(UV) run python -m benchmarks.api_latency
	$(UV) run python -m benchmarks.cli_startup

clean:
	rm -rf .quantdesk gateway/target .venv
