# triage — build, test, demo, benchmark. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO        ?= cargo
# Tools the tests need are installed once into a cache outside the clone.
TOOLS_DIR    ?= $(HOME)/.cache/triage
TANSU_VERSION ?= 0.6.0
TANSU        ?= $(TOOLS_DIR)/tansu/bin/tansu
export TANSU

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the release binary (target/release/triage)
	$(CARGO) build --release --locked --bin triage

.PHONY: deps
deps: ## Install system packages the build and tests need (Debian), when missing
	@scripts/install-deps.sh

.PHONY: tansu
tansu: ## Install the tansu Kafka broker for tests into $(TOOLS_DIR) (once; ~13 min cold)
	@scripts/install-tansu.sh "$(TANSU_VERSION)" "$(TOOLS_DIR)/tansu"

.PHONY: demo
demo: deps ## Run the service end to end on an in-process Kafka (librdkafka mock cluster) and print what happened
	$(CARGO) run --locked --bin triage -- demo

.PHONY: test
test: deps tansu ## Run every test: unit, property, golden, CLI, Kafka (tansu + mock cluster), deploy kit
	$(CARGO) build --locked --bin triage
	./target/debug/triage validate config/rules.toml
	./target/debug/triage test config/rules.toml config/rules.test.toml
	$(CARGO) test --locked -- --test-threads=2
	deploy/check.sh

.PHONY: lint
lint: ## rustfmt check, clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

.PHONY: fmt
fmt: ## Format the code
	$(CARGO) fmt --all

.PHONY: validate
validate: ## Check the shipped rules and run their unit tests
	$(CARGO) run --quiet --locked --bin triage -- validate config/rules.toml
	$(CARGO) run --quiet --locked --bin triage -- test config/rules.toml config/rules.test.toml

.PHONY: score
score: ## Triage the example tickets offline (JSON lines to stdout)
	$(CARGO) run --quiet --locked --bin triage -- score --rules config/rules.toml \
	  --customers examples/customers.jsonl < examples/tickets.jsonl
