# triage — build, test, demo, benchmark. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO        ?= cargo
# Tools the tests need are installed once into a cache outside the clone.
TOOLS_DIR    ?= $(HOME)/.cache/triage
# Apache Kafka for the integration tests, from Maven Central jars (no Docker).
KAFKA_VERSION ?= 4.4.0
TRIAGE_KAFKA_DIR ?= $(TOOLS_DIR)/kafka
export TRIAGE_KAFKA_DIR
# A schema registry speaking the Confluent API (Apicurio, Maven Central), for the Avro test.
APICURIO_VERSION ?= 2.6.13.Final
TRIAGE_APICURIO_DIR ?= $(TOOLS_DIR)/apicurio
export TRIAGE_APICURIO_DIR

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the release binary (target/release/triage)
	$(CARGO) build --release --locked --bin triage

.PHONY: deps
deps: ## Install system packages the build and tests need (Debian), when missing
	@scripts/install-deps.sh

.PHONY: kafka
kafka: ## Install Apache Kafka $(KAFKA_VERSION) for the tests into $(TRIAGE_KAFKA_DIR) (Maven Central jars; once, ~10 s)
	@scripts/install-kafka.sh "$(KAFKA_VERSION)" "$(TRIAGE_KAFKA_DIR)"

.PHONY: apicurio
apicurio: ## Install Apicurio Registry $(APICURIO_VERSION) (Confluent API) for the Avro test into $(TRIAGE_APICURIO_DIR) (once)
	@scripts/install-apicurio.sh "$(APICURIO_VERSION)" "$(TRIAGE_APICURIO_DIR)"

.PHONY: demo
demo: deps ## Run the service end to end on an in-process Kafka (librdkafka mock cluster) and print what happened
	$(CARGO) run --locked --bin triage -- demo

.PHONY: test
test: deps kafka apicurio ## Run every test: unit, property, golden, CLI, fuzz smoke, Kafka (Apache Kafka, Apicurio, mock cluster), deploy kit
	$(CARGO) build --locked --bin triage
	@# The pure core links no Kafka, async runtime, HTTP or metrics crate.
	@if $(CARGO) tree --locked -p triage-core -e normal --prefix none | grep -E '^(rdkafka|tokio|axum|hyper|ureq|prometheus) '; then \
		echo "triage-core depends on an I/O crate (above)"; exit 1; fi
	./target/debug/triage validate config/rules.toml
	./target/debug/triage test config/rules.toml config/rules.test.toml
	$(CARGO) test --locked -- --test-threads=2
	deploy/check.sh

.PHONY: bench
bench: deps kafka ## Benchmarks: criterion engine benches, then passthrough vs triage (JSON, Avro), latency, memory on Apache Kafka (BENCH_QUICK=1: ~1 min)
	$(CARGO) bench --locked --bench engine
	bench/run.sh

EVAL_DATA ?= $(firstword $(wildcard ../shared/data/it-tickets-train.jsonl) tests/data/it-tickets-sample.jsonl)
EVAL_MIN_F1 ?= $(if $(findstring sample,$(EVAL_DATA)),0.75,0.85)

.PHONY: bench-review
bench-review: ## Replay and report throughput on generated history (BENCH_TICKETS, default 1,000,000: ~4 min)
	$(CARGO) build --locked --release --bin triage
	bench/review.sh

.PHONY: eval
eval: ## Classifier: 5-fold CV on the IT-ticket file (full when ../shared is there), then a held-out quality gate
	$(CARGO) build --release --locked --bin triage
	mkdir -p target/eval
	awk 'NR % 5 != 0' $(EVAL_DATA) > target/eval/train.jsonl
	awk 'NR % 5 == 0' $(EVAL_DATA) > target/eval/heldout.jsonl
	./target/release/triage train --data $(EVAL_DATA) --text-field text --label-field label --cv 5 --seed 42 --out target/eval/full.model
	./target/release/triage train --data target/eval/train.jsonl --text-field text --label-field label --seed 42 --out target/eval/split.model
	./target/release/triage eval --model target/eval/split.model --data target/eval/heldout.jsonl --text-field text --label-field label --min-macro-f1 $(EVAL_MIN_F1)

.PHONY: chaos
chaos: deps kafka ## Failure tests on Apache Kafka: SIGKILL the service 10x, kill -9 the broker, 3 instances join/leave (~5 min)
	$(CARGO) test --locked --test chaos -- --ignored --test-threads=1 --nocapture

FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= json_ticket avro_ticket customer lifecycle rules_file

.PHONY: fuzz
fuzz: ## Coverage-guided fuzzing (cargo fuzz, nightly): each target FUZZ_SECONDS, corpus kept in fuzz/corpus
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  $(CARGO) +nightly fuzz run -O $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 || exit 1; \
	done

QUALITY_DATA ?= ../shared/data
QUALITY_BIN  ?= ./target/release/triage
SENTIMENT_CACHE ?= $(HOME)/.cache/triage/sentiment
BANKING_MAP := \
  --map compromised_card,lost_or_stolen_card,lost_or_stolen_phone,card_payment_not_recognised,cash_withdrawal_not_recognised,direct_debit_payment_not_recognised=security \
  --map card_payment_fee_charged,transaction_charged_twice,extra_charge_on_statement,request_refund,Refund_not_showing_up,transfer_fee_charged,exchange_charge,cash_withdrawal_charge,top_up_by_card_charge,top_up_by_bank_transfer_charge,card_payment_wrong_exchange_rate,wrong_exchange_rate_for_cash_withdrawal=billing \
  --map passcode_forgotten,pin_blocked,change_pin,edit_personal_details,terminate_account,verify_my_identity,unable_to_verify_identity=account \
  --map card_not_working,virtual_card_not_working,contactless_not_working,top_up_failed,failed_transfer=bug \
  --map activate_my_card,apple_pay_or_google_pay,exchange_via_app,getting_virtual_card,order_physical_card,topping_up_by_card,transfer_into_account,receiving_money,supported_cards_and_currencies,country_support,age_limit,visa_or_mastercard,card_linking,get_disposable_virtual_card,getting_spare_card,get_physical_card,automatic_top_up=how_to

.PHONY: quality
quality: ## The rules' text detection against the labelled development sets in ../shared/data (figures in BENCHMARKS.md)
	$(CARGO) build --release --locked --bin triage
	@test -d $(QUALITY_DATA) || { echo "quality: no $(QUALITY_DATA) (the development sets live beside the clone)"; exit 1; }
	$(QUALITY_BIN) quality --rules config/rules.toml --data $(QUALITY_DATA)/bitext-dev.csv \
	  --text-field instruction --label-field category \
	  --map INVOICE,PAYMENT,REFUND,CANCELLATION_FEE=billing --map ACCOUNT=account --thresholds
	$(QUALITY_BIN) quality --rules config/rules.toml --data $(QUALITY_DATA)/banking77-train.csv \
	  --text-field text --label-field category $(BANKING_MAP) --thresholds
	@echo "bitext probes: category on requests with typos; sentiment by proxy (offensive, apologised-for, polite requests)"
	python3 scripts/bitext-probes.py $(QUALITY_BIN) config/rules.toml
	@echo "HTML mail probes: the requests sent as HTML mail (web mail, Gmail and Outlook replies) read as in plain text?"
	python3 scripts/html-mail-probes.py $(QUALITY_BIN) config/rules.toml
	@echo "intake probes: the requests said in a chat transcript (a bot and an agent speaking too) or sent by a web form read as the request alone?"
	python3 scripts/intake-probes.py $(QUALITY_BIN) config/rules.toml
	@echo "sentiment: human-rated sets of the VADER paper (downloaded from PyPI into $(SENTIMENT_CACHE)), VADER's own figures first"
	python3 scripts/sentiment-sets.py $(SENTIMENT_CACHE)
	for set in amazonReviewSnippets tweets; do \
	  $(QUALITY_BIN) quality --rules config/rules.toml --data $(SENTIMENT_CACHE)/$$set.csv \
	    --text-field text --label-field label --measure sentiment || exit 1; \
	done

.PHONY: lint
lint: ## rustfmt check, clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

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
