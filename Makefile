# Active Reach Conversions. `make dev` runs it, `make test` tests it (README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help
ENV := . scripts/env.sh
WASM := --target wasm32-unknown-unknown
DEV_PORT ?= 8787

.PHONY: help bootstrap bootstrap-test bootstrap-fuzz bootstrap-bench pixel worker build dev test soak fuzz lint unit browser e2e deps-check bench deploy sizes clean

help:
	@echo "make dev     build and run the worker locally on http://127.0.0.1:$(DEV_PORT)"
	@echo "             (ORIGIN_URL=http://127.0.0.1:3000 puts it in front of your own storefront)"
	@echo "make test    format, lint (host + wasm32), unit, browser and end-to-end tests"
	@echo "make bench   benchmarks"
	@echo "make soak    the fault-window test with 5x the events (AR_FAULT_EVENTS=250)"
	@echo "make fuzz    libFuzzer on every parser, FUZZ_SECS per target (default 60)"
	@echo "make deploy  wrangler deploy"

bootstrap:
	@scripts/bootstrap.sh

bootstrap-test:
	@scripts/bootstrap.sh --test

bootstrap-fuzz:
	@scripts/bootstrap.sh --fuzz

bootstrap-bench:
	@scripts/bootstrap.sh --bench

pixel: bootstrap
	@$(ENV); scripts/build-pixel.sh

worker: pixel
	@$(ENV); scripts/build-worker.sh --worker-only

build: worker
	@$(ENV); scripts/sizes.sh

dev: build
	@$(ENV); AR_SKIP_BUILD=1 DEV_PORT=$(DEV_PORT) ORIGIN_URL=$(ORIGIN_URL) scripts/dev.sh

test: bootstrap-test
	@$(ENV); start=$$SECONDS
	echo "== fmt (at $$((SECONDS - start)) s)";            cargo fmt --all -- --check
	echo "== pixel build (at $$((SECONDS - start)) s)";    scripts/build-pixel.sh
	echo "== clippy host (at $$((SECONDS - start)) s)";    cargo clippy --locked --workspace --all-targets -- -D warnings
	echo "== clippy wasm32 (at $$((SECONDS - start)) s)";  cargo clippy --locked $(WASM) -p ar-shared -p ar-pixel -p ar-pixel-alloc -p ar-pixel-hash -p ar-pixel-capture -p ar-worker --all-targets -- -D warnings
	echo "== deps check (at $$((SECONDS - start)) s)";     scripts/deps-check.sh
	echo "== citations (at $$((SECONDS - start)) s)";      scripts/check-citations.sh
	echo "== config (at $$((SECONDS - start)) s)";         scripts/check-config.sh
	echo "== worker build (at $$((SECONDS - start)) s)";   scripts/build-worker.sh --worker-only
	scripts/sizes.sh
	echo "== browser tests (headless Chromium, wasm32) (at $$((SECONDS - start)) s)"
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_TEST_TIMEOUT=60 \
	  cargo test --locked $(WASM) -p ar-pixel -p ar-pixel-hash -p ar-pixel-capture
	echo "== unit + end-to-end tests (workerd via wrangler dev, headless Chromium) (at $$((SECONDS - start)) s)"
	if cargo nextest --version >/dev/null 2>&1; then
	  AR_SKIP_BUILD=1 cargo nextest run --locked --workspace --exclude ar-worker --exclude ar-pixel
	  cargo nextest run --locked --profile pixel -p ar-pixel --no-tests=pass
	else
	  echo "(cargo-nextest not found: cargo test runs one test binary at a time)"
	  AR_SKIP_BUILD=1 cargo test --locked --workspace --exclude ar-worker --exclude ar-pixel
	  cargo test --locked -p ar-pixel
	fi
	echo "== fault windows (thousands of events through failing platforms; prints the counts) (at $$((SECONDS - start)) s)"
	AR_SKIP_BUILD=1 cargo test --locked -p ar-sandbox --test e2e_faults -- --ignored --nocapture
	echo "make test: all passed in $$((SECONDS - start)) s"

soak: worker
	@$(ENV); AR_FAULT_EVENTS=$${AR_FAULT_EVENTS:-250} AR_SKIP_BUILD=1 \
	  cargo test --locked -p ar-sandbox --test e2e_faults -- --ignored --nocapture

FUZZ_SECS ?= 60
fuzz: bootstrap-fuzz
	@$(ENV); scripts/fuzz.sh $(FUZZ_SECS)

bench: build bootstrap-bench
	@$(ENV); scripts/bench.sh

deploy: build
	@$(ENV); scripts/check-config.sh; AR_SKIP_BUILD=1 wrangler deploy

sizes:
	@$(ENV); scripts/sizes.sh

clean:
	rm -rf build worker/build .wrangler
