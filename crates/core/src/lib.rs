//! # triage-core — the pure core of triage
//!
//! Everything that decides what happens to a ticket, as plain functions over
//! plain data. The clock, the customer and the contents of any file are passed
//! in; nothing here reads a file, opens a socket, spawns a task or touches a
//! metric. `cargo tree -p triage-core` shows no Kafka, async runtime, HTTP or
//! metrics crate, and the compiler keeps it so: the edge (`triage`, the
//! service crate) depends on this crate, never the other way round.
//!
//! # Modules, one job each
//!
//! - [`model`]: the contract's domain types — ticket event, customer record, the `triage` object.
//! - [`calendar`]: SLA calendars (24x7 and business hours) and exact deadline arithmetic.
//! - [`text`]: text normalization and phrase detection (stems, token sequences); the byte classes, packed words and Bloom filter the word scanners share.
//! - [`html`]: an HTML body read as the text a mail client shows (tags, entities, quoted replies).
//! - [`links`]: links and email addresses blanked before the text is read (their words are names).
//! - [`logs`]: the level words of a pasted log blanked ("CRITICAL", "FATAL": a program's, not the customer's).
//! - [`reply`]: the customer's own words of a mail (no quoted thread, signature or legal notice).
//! - [`lang`]: the language a ticket is written in (function words, then character trigrams).
//! - [`people`]: how many people a ticket's text says are affected ("400 crew members").
//! - [`sentiment`]: the valence-lexicon sentiment scorer.
//! - [`spell`]: mistyped words read as the words meant (one edit from a dictionary word).
//! - [`embed`]: compact static sentence embeddings (bundled model) for semantic categories.
//! - [`classifier`]: inference of a trained text classifier (training lives in `triage-lab`).
//! - [`rules`]: the rules file — parsing, validation with file/line/field diagnostics, compilation.
//! - [`engine`]: triage of one decoded ticket (segment, category, severity, score, level, SLA, route, reasons).
//! - [`codec`]: wire formats — JSON and Avro (Confluent framing) decoding and encoding.
//! - [`customers`]: the in-memory customer table as a data structure (sharded, interned).
//! - [`process`]: the per-ticket function — decode, enrich, triage, SLA stamp and fraction, encode.
//! - [`clock`]: SLA clocks after triage — pure clock maths and the signal state machine.
//! - [`isolate`]: panic isolation for one record (a panic becomes that record's dead letter).

// `unsafe` is denied everywhere but in `simd` (a prefetch hint, the AVX2
// dispatch of the per-ticket vector loops and the byte classes of text read
// 16 or 32 bytes at a time), which allows it for itself.
#![deny(unsafe_code)]

pub mod automatic;
pub mod calendar;
pub mod chat;
pub mod classifier;
pub mod clock;
pub mod codec;
pub mod customers;
mod detail;
pub mod embed;
pub mod engine;
pub mod form;
pub mod html;
pub mod isolate;
pub mod lang;
pub mod links;
pub mod logs;
pub mod model;
pub mod people;
pub mod process;
pub mod reply;
pub mod rules;
pub mod sentiment;
mod simd;
pub mod spell;
pub mod text;
