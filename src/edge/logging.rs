//! Logging: `tracing` events as JSON lines when stdout is not a terminal
//! (containers, log shippers), human-readable on a terminal. The level comes
//! from `RUST_LOG` when set, else from the config's `log_level`.
//!
//! What is logged about tickets: ids (ticket, partition, offset), reasons and
//! priorities — never a subject, a body or a requester's e-mail (customer
//! data). Dead-letter details are produced by the decoders and name fields,
//! not their values.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once; later calls do nothing).
pub fn init(level: &str) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => {
            EnvFilter::try_new(v).unwrap_or_else(|_| EnvFilter::new(level))
        }
        _ => EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let _ = if std::io::stdout().is_terminal() {
        builder.with_target(false).try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    };
}

/// Logging for one-shot commands (`triage demo`): human-readable on stderr,
/// so that stdout carries the command's own output.
pub fn init_stderr(level: &str) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => {
            EnvFilter::try_new(v).unwrap_or_else(|_| EnvFilter::new(level))
        }
        _ => EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("warn")),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
