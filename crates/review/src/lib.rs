//! Policy review, without I/O: what a support lead needs to judge a rules change before it goes
//! live and to review how the policy did. The `triage` binary reads files and topics and calls
//! these; nothing here opens a file, a socket or reads the clock.
//!
//! Modules, one job each:
//! - [`view`]: one view of a decision, from the engine or as recorded on a priority topic;
//! - [`project`]: projected SLA fates (met, breached, open) from lifecycle history, through the
//!   watcher's own clock state machine;
//! - [`replay`]: a candidate rules file beside a baseline, ticket by ticket, folded into a report;
//! - [`report`]: the continuous-improvement review of a period (volume, times against target,
//!   SLA outcomes, CSAT, common requests, repeat customers, rules fired, agents' corrections);
//! - [`text`]: the terminal summaries;
//! - [`svg`]: charts as inline SVG (bars, grouped bars, heat map, lines);
//! - [`html`]: the self-contained pages (no network, no external script).
#![forbid(unsafe_code)]

pub mod html;
pub mod project;
pub mod replay;
pub mod report;
pub mod svg;
pub mod text;
pub mod view;
