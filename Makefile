# scimbus — `make help` lists the targets.
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
# Incremental artifacts only pay off in an edit-compile loop; for `make test`
# and `make check` they are gigabytes of disk that a single build never reads.
export CARGO_INCREMENTAL ?= 0

.PHONY: help test check fmt clippy bench fuzz run stack stop

STACK := deploy/local/stack.sh
# Runs the rest of a recipe line with NATS and Postgres up (started under
# .data/ unless SCIMBUS_NATS_URL / SCIMBUS_DATABASE_URL already answer) and
# their URLs exported; DATABASE_URL is what #[sqlx::test] reads.
WITH_STACK = lines=$$($(STACK) up) && set -a && eval "$$lines" && set +a && \
	export DATABASE_URL="$${DATABASE_URL:-$$SCIMBUS_DATABASE_URL}" &&

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

test: ## run every test, against real NATS and Postgres
	@$(WITH_STACK) export SCIMBUS_SCIM2_SERVER="$${SCIMBUS_SCIM2_SERVER:-$$(tests/scim2-server/ensure.sh)}" && \
	  export SCIMBUS_PROMTOOL="$${SCIMBUS_PROMTOOL:-$$(tests/tools/promtool.sh)}" && \
	  export SCIMBUS_CHROMEDRIVER="$${SCIMBUS_CHROMEDRIVER:-$$(tests/tools/chromium.sh)}" && \
	  export SCIMBUS_NATS_SERVER_BIN="$${SCIMBUS_NATS_SERVER_BIN:-$$($(STACK) nats-bin)}" && \
	  $(CARGO) test --workspace --all-targets --locked
	$(CARGO) test --workspace --doc --locked
	@$(MAKE) --no-print-directory conformance
	@$(MAKE) --no-print-directory chart-test
	@$(MAKE) --no-print-directory image-test

conformance: ## scim2-tester (RFC 7643/7644 checker) against a live ingress and store
	@tests/conformance/run.sh

.PHONY: chart-test
chart-test: ## the Helm chart offline: lint, render, schemas and assertions per values profile (tests/deploy)
	@tests/deploy/chart-test.sh

.PHONY: image image-test
image: ## the container image localhost/scimbus:<version>, FROM scratch with static binaries (IMAGE=name:tag overrides)
	@deploy/image/build.sh

image-test: ## build the image and run each service from it over the local NATS and Postgres (tests/image)
	@tests/image/image-test.sh

stack: ## start (or reuse) the local NATS and Postgres and print their URLs
	@$(STACK) up

stop: ## stop what make run / make stack started
	@$(STACK) down

fmt: ## format the code
	$(CARGO) fmt --all

clippy: ## lint, warnings are errors
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

check: ## what CI expects: formatting, lints, tests
	$(CARGO) fmt --all -- --check
	$(MAKE) clippy
	$(MAKE) test

# `make bench`: the criterion benches, then the HTTP bench (tests/bench/run.sh):
# the running stack under wrk against pgbench, a trivial axum handler and the
# GET's floor on axum and sqlx, in
# one run; prints the ratios and saves them to .data/bench/last.txt. Knobs:
# BENCH_SECS (20) per phase, BENCH_CONNECTIONS (32), BENCH_PHASES, ... (see
# tests/bench/README.md).
.PHONY: bench-http bench-outbound bench-tracing bench-console
bench: ## criterion benchmarks, then the HTTP bench against its references (BENCH_SECS per phase, default 20)
	$(CARGO) bench --workspace --locked
	@tests/bench/run.sh
	@tests/bench/outbound.sh
	@tests/bench/tracing.sh
	@tests/bench/console.sh

bench-http: ## only the HTTP bench (tests/bench/run.sh)
	@tests/bench/run.sh

bench-outbound: ## only the outbound bench: propagation latency to 3 targets and notification latency to 10 webhook subscribers, full-sync rate (tests/bench/outbound.sh)
	@tests/bench/outbound.sh

bench-console: ## only the console bench: each operator console page's time with 1 000 000 users and 20 targets stored (tests/bench/console.sh)
	@tests/bench/console.sh

bench-tracing: ## only the tracing bench: create and GET throughput with OpenTelemetry tracing off vs on, alternating rounds (tests/bench/tracing.sh)
	@tests/bench/tracing.sh

FUZZ_SECS ?= 300
FUZZ_TARGETS := filter_parse patch_apply

fuzz: ## coverage-guided fuzzing of the filter parser and PATCH engine, FUZZ_SECS each (default 300)
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd libs/scim && for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t && \
	  $(CARGO) fuzz run -s none -a $$t fuzz/corpus/$$t fuzz/seeds/$$t -- -max_total_time=$(FUZZ_SECS) -max_len=4096 || exit 1; \
	done

run: ## start NATS, Postgres, the store, ingress and outbound; prints the SCIM base URL, token and console URL
	@deploy/local/run.sh
