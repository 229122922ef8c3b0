//! # triage — support-ticket triage on Kafka
//!
//! # Layout
//!
//! - [`model`]: the contract's domain types — ticket event, customer record, the `triage` object.
//! - [`calendar`]: SLA calendars (24x7 and business hours) and exact deadline arithmetic.
//! - [`classifier`]: a trainable linear text classifier (`triage train` / `triage eval`).

pub mod calendar;
pub mod classifier;
pub mod codec;
pub mod engine;
pub mod model;
pub mod rules;
pub mod text;
pub mod cli;
