# scimbus — `make help` lists the targets.
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: help test check fmt clippy bench fuzz run

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

test: ## run every test
	$(CARGO) test --workspace --all-targets --locked
	$(CARGO) test --workspace --doc --locked

fmt: ## format the code
	$(CARGO) fmt --all

clippy: ## lint, warnings are errors
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

check: ## what CI expects: formatting, lints, tests
	$(CARGO) fmt --all -- --check
	$(MAKE) clippy
	$(MAKE) test

bench: ## criterion benchmarks
	$(CARGO) bench --workspace --locked

FUZZ_SECS ?= 300
FUZZ_TARGETS := filter_parse patch_apply

fuzz: ## coverage-guided fuzzing of the filter parser and PATCH engine, FUZZ_SECS each (default 300)
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd libs/scim && for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t && \
	  $(CARGO) fuzz run -s none -a $$t fuzz/corpus/$$t fuzz/seeds/$$t -- -max_total_time=$(FUZZ_SECS) -max_len=4096 || exit 1; \
	done

run: ## start the whole system (arrives with the services)
	@echo "make run: the services (ingress, store, outbound) are not in this tree yet; only the SCIM core library is." >&2; exit 1
