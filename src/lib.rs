//! # triage — support-ticket triage on Kafka: the edge
//!
//! This crate is the edge of the service: Kafka, HTTP, metrics, the schema
//! registry, signals and files. What a ticket's triage *is* lives in the pure
//! core, [`triage_core`], which this crate re-exports under the same module
//! names (`triage::engine` is `triage_core::engine`) so that the edge reads as
//! one library; the core cannot call back into anything here.
//!
//! # The crates
//!
//! ```text
//!  triage-core   model, rules, text, engine, codecs, calendars, SLA clock maths,
//!    ▲   ▲       classifier inference, customer table, the per-ticket function — no I/O
//!    │   ├────── triage-lab    training, data generator, quality measurement (tools)
//!    │   └────── triage-review replay and report: decide, count, render (no I/O)
//!    │               ▲
//!  triage ───────────┘ (the binary's train/eval/gen/quality, replay/report subcommands)
//!    ▲               Kafka edge, service, SLA watcher, HTTP, metrics, registry, CLI
//!  triage-bench      passthrough and benchctl (benchmark tools on a real broker)
//! ```
//!
//! # Modules of this crate, one job each
//!
//! - [`edge`]: what the service and the SLA watcher share at the Kafka edge — client
//!   configuration, the librdkafka log bridge, config-file reading, rules loading, the
//!   run/drain skeleton and the process entry (`main_with_runtime`).
//! - [`service`]: `triage run` and `triage demo` — the triage service (config, customer-table
//!   loader, pipeline, offset tracking, rules hot reload).
//! - [`watch`]: `triage watch` — the SLA watcher's Kafka edge (lifecycle in, signals and acks out,
//!   changelog-backed state, co-partitioning check).
//! - [`metrics`]: the service's Prometheus metrics; one method per logged-and-counted event.
//! - [`http`]: `/metrics`, `/healthz`, `/readyz`, and the `triage healthcheck` client.
//! - [`registry`]: the schema-registry client (Confluent API over HTTP) that feeds writer schemas to `codec::avro`.
//! - [`files`]: reading the rules file and model files for the core.
//! - [`cli`]: `triage score`, `triage validate`, `triage test`.
//! - [`review`]: `triage replay` and `triage report` — reading files and topics for
//!   [`triage_review`].

#![forbid(unsafe_code)]

pub use triage_core::{
    automatic, calendar, chat, classifier, clock, codec, customers, embed, engine, form, html,
    isolate, lang, links, logs, model, people, process, reply, rules, sentiment, text,
};

pub mod cli;
pub mod edge;
pub mod files;
pub mod http;
pub mod metrics;
pub mod registry;
pub mod review;
pub mod service;
pub mod watch;
