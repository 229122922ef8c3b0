//! What every Kafka client of the service and the watcher shares: the base
//! client configuration (then the `[librdkafka]` table, then the properties
//! the delivery guarantees depend on) and librdkafka's log lines as
//! `tracing` events.

use std::collections::BTreeMap;

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use tracing::{debug, error, info, warn};

/// A client configuration: the bootstrap servers, the client id and the log
/// level librdkafka passes on.
pub fn client_config(
    bootstrap_servers: &str,
    client_id: String,
    level: RDKafkaLogLevel,
) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap_servers)
        .set("client.id", client_id)
        .set_log_level(level);
    c
}

/// `librdkafka` (the user's table) over `c`, then `pinned` over both: the
/// properties a delivery guarantee depends on cannot be changed.
pub fn finish(
    mut c: ClientConfig,
    librdkafka: &BTreeMap<String, String>,
    pinned: &[(&str, &str)],
) -> ClientConfig {
    for (k, v) in librdkafka {
        c.set(k, v);
    }
    for (k, v) in pinned {
        c.set(*k, *v);
    }
    c
}

/// A librdkafka log line as a `tracing` event of the same level (target
/// `librdkafka`), for every client of the service and the watcher.
pub fn log_librdkafka(level: RDKafkaLogLevel, client: &str, fac: &str, message: &str) {
    // One `[librdkafka]` table goes to every client of a process: the other
    // kind's properties are expected, not worth a warning.
    if fac == "CONFWARN"
        && (message.contains("is a consumer property")
            || message.contains("is a producer property"))
    {
        return debug!(target: "librdkafka", client, fac, "{message}");
    }
    match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => error!(target: "librdkafka", client, fac, "{message}"),
        RDKafkaLogLevel::Warning => warn!(target: "librdkafka", client, fac, "{message}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            info!(target: "librdkafka", client, fac, "{message}")
        }
        RDKafkaLogLevel::Debug => debug!(target: "librdkafka", client, fac, "{message}"),
    }
}
