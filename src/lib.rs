//! # triage — support-ticket triage on Kafka
//!
//! # Layout
//!
//! - [`model`]: the contract's domain types — ticket event, customer record, the `triage` object.
//! - [`calendar`]: SLA calendars (24x7 and business hours) and exact deadline arithmetic.
//! - [`lang`]: the language a ticket is written in (function words, then character trigrams).
//! - [`people`]: how many people a ticket's text says are affected ("400 crew members").
//! - [`embed`]: compact static sentence embeddings (bundled model) for semantic categories.
//! - [`classifier`]: a trainable text classifier (linear SVM blended with a small network) (`triage train` / `triage eval`).
//! - [`service`]: `triage run` and `triage demo` — the Kafka service (config, customer table,
//!   pipeline, offset tracking, rules hot reload, logging).
//! - [`metrics`]: the service's Prometheus metrics; one method per logged-and-counted event.
//! - [`isolate`]: panic isolation for one record (a panic becomes that record's dead letter).
//! - [`http`]: `/metrics`, `/healthz`, `/readyz`, and the `triage healthcheck` client.
//! - [`quality`]: `triage quality` — the rules' category, severity and sentiment detection measured against a labelled file.
//! - [`gen`]: synthetic tickets and customers for benchmarks (`triage gen`), deterministic for a seed.
//! - [`registry`]: the schema-registry client (Confluent API over HTTP) that feeds writer schemas to `codec::avro`.
//! - [`clock`]: SLA clocks after triage — pure clock maths and the signal state machine (warnings,
//!   breaches, met); see `docs/sla-clocks.md`.
//! - [`watch`]: `triage watch` — the SLA watcher's Kafka edge (lifecycle in, signals and acks out,
//!   changelog-backed state, co-partitioning check).

pub mod calendar;
pub mod classifier;
pub mod cli;
pub mod clock;
pub mod codec;
pub mod embed;
pub mod engine;
pub mod gen;
pub mod http;
pub mod isolate;
pub mod lang;
pub mod metrics;
pub mod model;
pub mod people;
pub mod quality;
pub mod registry;
pub mod rules;
pub mod sentiment;
pub mod service;
pub mod text;
pub mod watch;
