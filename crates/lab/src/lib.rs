//! # triage-lab — what production does not need
//!
//! Tools around the service, in a crate of their own so that the service links none of them
//! into its Kafka path: classifier training and evaluation, the synthetic data generator, and
//! the measurement of the rules against labelled text. The `triage` binary offers them as
//! subcommands (`train`, `eval`, `gen`, `quality`).
//!
//! - [`classifier`]: `triage train` / `triage eval` — training, cross-validation, evaluation reports.
//! - [`gen`]: synthetic tickets and customers for benchmarks and tests (`triage gen`), deterministic for a seed.
//! - [`quality`]: `triage quality` — the rules' category, severity, sentiment and priority measured against a labelled file.

#![forbid(unsafe_code)]

pub mod classifier;
pub mod gen;
pub mod quality;
