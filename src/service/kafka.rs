//! Kafka clients of the service and their shared context: configuration
//! (the service's defaults, then the `[librdkafka]` table, then the
//! properties at-least-once depends on), librdkafka logs into `tracing`,
//! statistics into metrics, rebalances into the pipeline, delivery reports
//! into the offset tracker.
//!
//! Delivery guarantee: the producer is idempotent (`enable.idempotence=true`,
//! acks from all in-sync replicas, retries without duplicates or
//! reordering), and every delivery report — success or failure — reaches the
//! offset tracker exactly once, so an input offset is stored only after its
//! output was acknowledged. The ticket consumer never stores offsets by
//! itself (`enable.auto.offset.store=false`); the auto-commit only commits
//! what the pipeline stored.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, ProducerContext, ThreadedProducer};
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::TopicPartitionList;
use tracing::{debug, error, info, warn};

use super::config::Config;
use super::pipeline::{self, SlotKind};
use super::tracker::Outcome;
use super::{ServiceError, Shared};
use crate::metrics::produce_error_code;

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
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.bootstrap_servers)
        .set("client.id", format!("triage-{}", role.as_str()))
        .set("statistics.interval.ms", "5000")
        .set_log_level(RDKafkaLogLevel::Info);
    c
}

fn finish(mut c: ClientConfig, cfg: &Config, pinned: &[(&str, &str)]) -> ClientConfig {
    for (k, v) in &cfg.librdkafka {
        c.set(k, v);
    }
    for (k, v) in pinned {
        c.set(*k, *v);
    }
    c
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
    .map_err(|e| ServiceError::Kafka("create the ticket consumer".into(), e))
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
    .map_err(|e| ServiceError::Kafka("create the customer-table consumer".into(), e))
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
    .map_err(|e| ServiceError::Kafka("create the producer".into(), e))
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

/// A librdkafka log line as a `tracing` event of the same level (target
/// `librdkafka`), for every client of the service and the watcher.
pub(crate) fn log_librdkafka(level: RDKafkaLogLevel, client: &str, fac: &str, message: &str) {
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

impl ConsumerContext for ServiceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if self.role != Role::Tickets {
            return;
        }
        match rebalance {
            Rebalance::Revoke(tpl) => pipeline::on_revoke(&self.shared, consumer, tpl),
            Rebalance::Assign(tpl) => pipeline::on_assign(&self.shared, tpl),
            Rebalance::Error(e) => warn!(error = %e, "rebalance error"),
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if self.role != Role::Tickets {
            return;
        }
        if let Rebalance::Assign(tpl) = rebalance {
            pipeline::after_assign(&self.shared, consumer, tpl);
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        if self.role != Role::Tickets {
            return;
        }
        match result {
            Ok(()) => debug!(?offsets, "offsets committed"),
            // Nothing stored since the last commit: not a failure.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => self.shared.metrics.commit_failed(&e),
        }
    }
}

impl ProducerContext for ServiceContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, slot: usize) {
        let shared = &self.shared;
        let (outcome, in_flight) = {
            let mut t = shared.tracker.lock().expect("not poisoned");
            let o = match result {
                Ok(_) => t.ack(slot),
                Err((e, m)) => {
                    let code = e
                        .rdkafka_error_code()
                        .map(produce_error_code)
                        .unwrap_or("other");
                    pipeline::on_refused(
                        shared,
                        &mut t,
                        slot,
                        code,
                        m.key(),
                        m.payload(),
                        m.headers(),
                    )
                }
            };
            if t.waiting {
                shared.drained.notify_all();
            }
            (o, t.in_flight())
        };
        shared.hot.in_flight.set(in_flight as i64);
        let info = match outcome {
            Some(Outcome::Acked(i)) | Some(Outcome::Stale(i)) => i,
            None => return,
        };
        match result {
            Ok(_) => {
                shared
                    .hot
                    .delivery
                    .observe(info.sent_at.elapsed().as_secs_f64());
                match &info.kind {
                    SlotKind::Triaged {
                        active,
                        level,
                        created_at,
                    } => {
                        let l = *level as usize;
                        active.metrics.produced[l].inc();
                        let age = jiff::Timestamp::now().duration_since(*created_at);
                        active.metrics.age[l].observe(age.as_secs_f64().max(0.0));
                    }
                    SlotKind::DeadLetter { .. } => shared.hot.dlq_produced.inc(),
                }
            }
            Err((e, _)) => {
                let code = e
                    .rdkafka_error_code()
                    .map(produce_error_code)
                    .unwrap_or("other");
                let topic = match &info.kind {
                    SlotKind::Triaged { active, level, .. } => {
                        active.rules.levels[*level as usize].topic.to_string()
                    }
                    SlotKind::DeadLetter { .. } => shared.config.dead_letter_topic.clone(),
                };
                shared
                    .metrics
                    .produce_error(code, e, &topic, info.partition, info.offset);
            }
        }
    }
}
