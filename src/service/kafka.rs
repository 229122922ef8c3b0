//! Kafka clients of the service and their shared context: configuration
//! (the service's defaults, then the `[librdkafka]` table, then the
//! properties at-least-once depends on), librdkafka logs into `tracing`,
//! statistics into metrics. Rebalances and delivery reports are handled in
//! [`super::callbacks`] (the pipeline's side).
//!
//! Delivery guarantee: the producer is idempotent (`enable.idempotence=true`,
//! acks from all in-sync replicas, retries without duplicates or
//! reordering). The ticket consumer never stores offsets by
//! itself (`enable.auto.offset.store=false`); the auto-commit only commits
//! what the pipeline stored.

use crate::edge::EdgeError;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::KafkaError;
use rdkafka::producer::ThreadedProducer;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;
use tracing::warn;

use super::config::Config;
use super::{ServiceError, Shared};
use crate::edge::kafka::{client_config, log_librdkafka};

/// Which client a context belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The consumer group on the input topic.
    Tickets,
    /// The customer-table consumer (no group).
    Table,
    /// The producer of triaged records and dead letters.
    Producer,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Tickets => "tickets-consumer",
            Role::Table => "customers-consumer",
            Role::Producer => "producer",
        }
    }
}

/// The context of every client of the service.
pub struct ServiceContext {
    pub(crate) shared: Arc<Shared>,
    pub role: Role,
}

/// The producer type of the pipeline.
pub type Producer = ThreadedProducer<ServiceContext>;

/// The service's librdkafka defaults for every client.
fn common(cfg: &Config, role: Role) -> ClientConfig {
    let mut c = client_config(
        &cfg.common.bootstrap_servers,
        format!("triage-{}", role.as_str()),
        RDKafkaLogLevel::Info,
    );
    c.set("statistics.interval.ms", "5000");
    c
}

fn finish(c: ClientConfig, cfg: &Config, pinned: &[(&str, &str)]) -> ClientConfig {
    crate::edge::kafka::finish(c, &cfg.common.librdkafka, pinned)
}

/// The consumer group on `input_topic`.
pub(crate) fn tickets_consumer(
    cfg: &Config,
    shared: Arc<Shared>,
) -> Result<BaseConsumer<ServiceContext>, ServiceError> {
    let mut c = common(cfg, Role::Tickets);
    c.set("group.id", &cfg.group_id)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("queued.max.messages.kbytes", "65536");
    let c = finish(
        c,
        cfg,
        &[
            ("enable.auto.offset.store", "false"),
            ("group.id", &cfg.group_id),
        ],
    );
    c.create_with_context(ServiceContext {
        shared,
        role: Role::Tickets,
    })
    .map_err(|e| EdgeError::Kafka("create the ticket consumer".into(), e).into())
}

/// The customer-table consumer: assigned to every partition, outside any
/// group, never commits.
pub(crate) fn table_consumer(
    cfg: &Config,
    shared: Arc<Shared>,
) -> Result<BaseConsumer<ServiceContext>, ServiceError> {
    let mut c = common(cfg, Role::Table);
    c.set("auto.offset.reset", "earliest")
        .set("queued.max.messages.kbytes", "65536");
    let c = finish(
        c,
        cfg,
        &[
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "true"),
            // A group id is never used (assign, no commits), but some
            // librdkafka versions want one; never the service's group.
            ("group.id", "triage-customer-table-unused"),
        ],
    );
    c.create_with_context(ServiceContext {
        shared,
        role: Role::Table,
    })
    .map_err(|e| EdgeError::Kafka("create the customer-table consumer".into(), e).into())
}

/// The idempotent producer of triaged records and dead letters.
pub(crate) fn producer(cfg: &Config, shared: Arc<Shared>) -> Result<Producer, ServiceError> {
    let mut c = common(cfg, Role::Producer);
    c.set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .set("compression.type", "none")
        .set("message.max.bytes", cfg.producer_max_bytes().to_string());
    let c = finish(c, cfg, &[("enable.idempotence", "true")]);
    c.create_with_context(ServiceContext {
        shared,
        role: Role::Producer,
    })
    .map_err(|e| EdgeError::Kafka("create the producer".into(), e).into())
}

impl ClientContext for ServiceContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        log_librdkafka(level, self.role.as_str(), fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let client = self.role.as_str();
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF) {
            // The customer-table consumer's end-of-partition signal.
            return;
        }
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            if self.role == Role::Producer {
                self.shared
                    .producer_connected
                    .store(false, Ordering::Release);
            }
            warn!(client, %error, reason, "all brokers down");
        } else {
            warn!(client, %error, reason, "kafka client error");
        }
    }

    fn stats(&self, s: Statistics) {
        let m = &self.shared.metrics;
        match self.role {
            Role::Producer => {
                m.producer_queue.set(s.msg_cnt as i64);
                let up = s.brokers.values().any(|b| b.state == "UP" && b.nodeid >= 0);
                self.shared.producer_connected.store(up, Ordering::Release);
            }
            Role::Tickets | Role::Table => {
                let topic = if self.role == Role::Tickets {
                    &self.shared.config.input_topic
                } else {
                    &self.shared.config.customers_topic
                };
                let mut lags: Vec<(i32, i64)> = s
                    .topics
                    .get(topic.as_str())
                    .map(|t| {
                        t.partitions
                            .values()
                            .filter(|p| p.partition >= 0 && p.desired && p.consumer_lag >= 0)
                            .map(|p| (p.partition, p.consumer_lag))
                            .collect()
                    })
                    .unwrap_or_default();
                lags.sort_unstable();
                m.set_lag(topic, &lags);
                if self.role == Role::Tickets {
                    // Cumulative in the client; one client per counter.
                    let rx: u64 = s.brokers.values().map(|b| b.rxbytes).sum();
                    let seen = m.input_received_bytes.get();
                    if rx > seen {
                        m.input_received_bytes.inc_by(rx - seen);
                    }
                }
            }
        }
    }
}
