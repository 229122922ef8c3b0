//! Kafka clients of the watcher: configuration, the group consumer's context (rebalances call
//! into [`super::clocks`]: flush and commit on revoke, restore on assign), the producer's delivery
//! reports (sent to the watcher loop over a channel), the co-partitioning check and the changelog
//! topic's creation.
//!
//! Delivery guarantee: the producer is idempotent, so records to one partition land in the order
//! they were sent, without duplicates from retries — the changelog's watermark record (written
//! last in a flush) relies on that. Input offsets are never stored by the consumer itself
//! (`enable.auto.offset.store=false`): the loop stores them once the changelog records that
//! reflect them are acknowledged; the auto-commit commits what was stored.

use crate::edge::EdgeError;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{Client, ClientContext, DefaultClientContext};
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::TopicPartitionList;
use tracing::{debug, error, info, warn};

use super::config::{WatchConfig, PINNED};
use super::{Shared, WatchError};
use crate::edge::kafka::{client_config, log_librdkafka};

/// The watcher's librdkafka defaults for every client, then `[librdkafka]`, then the pinned
/// properties.
pub fn base_config(cfg: &WatchConfig, role: &str) -> ClientConfig {
    let c = client_config(
        &cfg.common.bootstrap_servers,
        format!("{}-{role}", cfg.group_id),
        RDKafkaLogLevel::Warning,
    );
    crate::edge::kafka::finish(c, &cfg.common.librdkafka, &[])
}

/// The pinned properties that concern a consumer (`enable.idempotence` is the producer's).
fn pin_consumer(mut c: ClientConfig) -> ClientConfig {
    for (k, v) in PINNED.iter().filter(|(k, _)| *k != "enable.idempotence") {
        c.set(*k, *v);
    }
    c
}

/// A delivery report: the token given at send, and where the record landed (or the error).
#[derive(Debug)]
pub struct Delivery {
    pub token: usize,
    pub result: Result<(i32, i64), (String, &'static str)>,
}

/// The producer's context: delivery reports go to the loop.
pub struct ProducerCtx {
    tx: std::sync::Mutex<Sender<Delivery>>,
}

pub type Producer = ThreadedProducer<ProducerCtx>;

impl ClientContext for ProducerCtx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        log_librdkafka(level, "watch-producer", fac, message);
    }
}

impl ProducerContext for ProducerCtx {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, token: usize) {
        let result = match result {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err((
                e.to_string(),
                e.rdkafka_error_code()
                    .map(crate::metrics::produce_error_code)
                    .unwrap_or("other"),
            )),
        };
        let _ = self
            .tx
            .lock()
            .expect("not poisoned")
            .send(Delivery { token, result });
    }
}

/// The idempotent producer of signals, acknowledgments and changelog records.
pub fn producer(cfg: &WatchConfig, tx: Sender<Delivery>) -> Result<Producer, WatchError> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.common.bootstrap_servers)
        .set("client.id", format!("{}-producer", cfg.group_id))
        .set_log_level(RDKafkaLogLevel::Warning)
        .set("linger.ms", "5");
    for (k, v) in &cfg.common.librdkafka {
        c.set(k, v);
    }
    c.set("enable.idempotence", "true");
    c.create_with_context(ProducerCtx {
        tx: std::sync::Mutex::new(tx),
    })
    .map_err(|e| EdgeError::Kafka("create the producer".into(), e).into())
}

/// The group consumer's context: rebalances go to the clocks.
pub struct ConsumerCtx {
    pub(crate) shared: Arc<Shared>,
}

impl ClientContext for ConsumerCtx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        log_librdkafka(level, "watch-consumer", fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        warn!(client = "watch-consumer", %error, reason, "kafka client error");
    }
}

impl ConsumerContext for ConsumerCtx {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                let parts = partitions_of(tpl);
                info!(partitions = ?parts, "partitions revoked");
                let lost = rdkafka::consumer::Consumer::assignment_lost(consumer);
                let mut core = self.shared.clocks.lock().expect("not poisoned");
                let offsets = core.revoke(&parts, lost);
                drop(core);
                if !lost {
                    store_and_commit(consumer, &offsets, "rebalance");
                }
                self.shared.assigned.store(0, Ordering::Release);
                self.shared.metrics.assigned_partitions.set(0);
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(e) => warn!(error = %e, "rebalance error"),
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let parts = partitions_of(tpl);
            info!(partitions = ?parts, "partitions assigned; restoring their state");
            self.shared.restoring.store(true, Ordering::Release);
            let mut core = self.shared.clocks.lock().expect("not poisoned");
            if let Err(e) = core.assign(&parts, consumer) {
                error!(error = %e, "restore failed; stopping");
                core.fail(e.to_string());
            }
            drop(core);
            self.shared.restoring.store(false, Ordering::Release);
            self.shared.assigned.store(parts.len(), Ordering::Release);
            self.shared
                .metrics
                .assigned_partitions
                .set(tpl.count() as i64);
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        match result {
            Ok(()) => debug!(?offsets, "offsets committed"),
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => warn!(error = %e, "offset commit failed (will be retried)"),
        }
    }
}

/// The distinct partition numbers of a list (co-partitioned topics share them).
pub fn partitions_of(tpl: &TopicPartitionList) -> Vec<i32> {
    let mut v: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Stores `offsets` (topic, partition, next offset) and commits synchronously.
pub fn store_and_commit<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    offsets: &[(String, i32, i64)],
    why: &str,
) {
    use rdkafka::consumer::{CommitMode, Consumer};
    store(consumer, offsets);
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => debug!(why, "offsets committed"),
        Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(e) => warn!(error = %e, why, "offset commit failed"),
    }
}

/// Stores `offsets` for the next auto-commit.
pub fn store<C: ConsumerContext>(consumer: &BaseConsumer<C>, offsets: &[(String, i32, i64)]) {
    use rdkafka::consumer::Consumer;
    if offsets.is_empty() {
        return;
    }
    let mut tpl = TopicPartitionList::new();
    for (t, p, o) in offsets {
        if tpl
            .add_partition_offset(t, *p, rdkafka::Offset::Offset(*o))
            .is_err()
        {
            continue;
        }
    }
    if let Err(e) = consumer.store_offsets(&tpl) {
        // A partition that was revoked meanwhile: its next owner reprocesses (at least once).
        debug!(error = %e, "storing offsets");
    }
}

/// The group consumer on the triaged topics and the lifecycle topic.
pub(crate) fn consumer(
    cfg: &WatchConfig,
    shared: Arc<Shared>,
) -> Result<BaseConsumer<ConsumerCtx>, WatchError> {
    let mut c = base_config(cfg, "consumer");
    c.set("group.id", &cfg.group_id)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false");
    let c = pin_consumer(c);
    c.create_with_context(ConsumerCtx { shared })
        .map_err(|e| EdgeError::Kafka("create the consumer".into(), e).into())
}

/// Client config for restore readers (no group semantics).
pub fn restore_config(cfg: &WatchConfig) -> ClientConfig {
    let mut c = base_config(cfg, "restore");
    c.set(
        "fetch.wait.max.ms",
        cfg.common
            .librdkafka
            .get("fetch.wait.max.ms")
            .map_or("100", |v| v),
    );
    c
}

/// Partition counts of `topics` (`None`: the topic does not exist).
pub fn partition_counts<C: ClientContext>(
    client: &Client<C>,
    topics: &[String],
) -> Result<BTreeMap<String, Option<usize>>, WatchError> {
    let mut out = BTreeMap::new();
    for t in topics {
        let md = client
            .fetch_metadata(Some(t), Duration::from_secs(10))
            .map_err(|e| EdgeError::Kafka(format!("metadata of {t}"), e))?;
        let n = md
            .topics()
            .first()
            .filter(|m| m.error().is_none() && !m.partitions().is_empty())
            .map(|m| m.partitions().len());
        out.insert(t.clone(), n);
    }
    Ok(out)
}

/// Checks that the inputs (triaged topics and lifecycle topic) and outputs are co-partitioned:
/// all exist and have the same number of partitions. Returns that number. The changelog is
/// checked separately (it may be created).
pub fn check_co_partitioning(
    counts: &BTreeMap<String, Option<usize>>,
) -> Result<usize, WatchError> {
    let missing: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| n.is_none())
        .map(|(t, _)| t.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(WatchError::Topics(format!(
            "topic(s) {} do not exist; create them with the same number of partitions as the others",
            missing.join(", ")
        )));
    }
    let mut distinct: Vec<usize> = counts.values().flatten().copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() > 1 {
        let list = counts
            .iter()
            .map(|(t, n)| format!("{t}: {}", n.unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(WatchError::CoPartitioning(list));
    }
    Ok(distinct[0])
}

/// Creates the compacted changelog with `partitions` partitions.
pub async fn create_changelog(cfg: &WatchConfig, partitions: usize) -> Result<(), WatchError> {
    let admin: AdminClient<DefaultClientContext> = base_config(cfg, "admin")
        .create()
        .map_err(|e| EdgeError::Kafka("create an admin client".into(), e))?;
    let t = NewTopic::new(
        &cfg.changelog_topic,
        partitions as i32,
        TopicReplication::Fixed(cfg.changelog_replication_factor),
    )
    .set("cleanup.policy", "compact");
    let res = admin
        .create_topics(
            &[t],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(20))),
        )
        .await
        .map_err(|e| EdgeError::Kafka(format!("create {}", cfg.changelog_topic), e))?;
    for r in res {
        match r {
            Ok(_) => info!(topic = %cfg.changelog_topic, partitions, "changelog topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, e)) => {
                return Err(WatchError::Topics(format!(
                    "cannot create the changelog topic {t}: {e}; create it (compacted, {partitions} partitions) or set create_changelog = false"
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn co_partitioning() {
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), Some(3));
        m.insert("b".to_string(), Some(3));
        assert_eq!(check_co_partitioning(&m).unwrap(), 3);
        m.insert("c".to_string(), Some(2));
        let e = check_co_partitioning(&m).unwrap_err().to_string();
        assert!(e.contains("a: 3, b: 3, c: 2"), "{e}");
        m.insert("d".to_string(), None);
        let e = check_co_partitioning(&m).unwrap_err().to_string();
        assert!(e.contains("d do not exist"), "{e}");
    }
}
