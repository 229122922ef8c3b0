//! Filling the customer table ([`triage_core::customers`]) from the compacted
//! customers topic, and from a seed file.
//!
//! Delivery guarantee: the topic is read from the beginning by a consumer
//! outside any group, assigned to every partition, and no offsets are ever
//! committed — each start rebuilds the whole table. Updates and tombstones
//! (empty value) are applied as they arrive, while tickets flow. A record
//! that cannot be decoded is logged, counted and skipped; the table keeps the
//! customer's previous value. "Caught up" means every partition reached the
//! end offset it had when the table started loading.

use crate::edge::EdgeError;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use tracing::{info, warn};

pub use triage_core::customers::{apply, Applied, CustomerTable, Interner, ProfileRef};

use super::format::RegistryCodec;
use super::kafka::{self, ServiceContext};
use super::{ServiceError, Shared};
use crate::model::Customer;

/// Loads a JSON-lines seed file into the table; returns the number of
/// customers read.
pub fn seed(table: &CustomerTable, path: &Path) -> Result<usize, String> {
    use std::io::BufRead;
    // Line by line: a seed of a million customers is ~170 MB of JSON, which
    // must not sit in memory next to the table.
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut buf = String::new();
    let mut n = 0;
    for i in 0.. {
        buf.clear();
        let read = reader
            .read_line(&mut buf)
            .map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        if read == 0 {
            break;
        }
        let line = buf.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let c: Customer = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: not a customer record: {e}", path.display(), i + 1))?;
        table.upsert_customer(&c.customer_id, &c);
        n += 1;
    }
    Ok(n)
}

/// Reads the customers topic into the table until `shared.stop` is set.
/// Runs on its own thread.
pub(crate) fn run_loader(shared: Arc<Shared>) -> Result<(), ServiceError> {
    let cfg = &shared.config;
    let topic = cfg.customers_topic.as_str();
    let consumer: BaseConsumer<ServiceContext> = kafka::table_consumer(cfg, shared.clone())?;

    // End offsets at start: the table is caught up when every partition
    // reached them.
    let started = Instant::now();
    let deadline = started + cfg.catch_up_timeout();
    let meta = loop {
        match consumer.fetch_metadata(Some(topic), Duration::from_secs(5)) {
            Ok(m) => {
                let parts = m
                    .topics()
                    .first()
                    .filter(|t| t.error().is_none())
                    .map(|t| t.partitions().iter().map(|p| p.id()).collect::<Vec<_>>())
                    .unwrap_or_default();
                if !parts.is_empty() {
                    break parts;
                }
                warn!(topic, "customers topic not found (yet); retrying");
            }
            Err(e) => {
                warn!(topic, error = %e, "cannot fetch metadata of the customers topic; retrying")
            }
        }
        if shared.stopping() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(1));
        if Instant::now() > deadline && !shared.table.caught_up() {
            warn!(
                topic,
                "customers topic unavailable: starting ticket consumption with the table as it is"
            );
            shared.catch_up_done();
        }
    };
    let mut remaining: HashMap<i32, i64> = HashMap::new();
    for &p in &meta {
        let high = loop {
            match consumer.fetch_watermarks(topic, p, Duration::from_secs(5)) {
                Ok((low, high)) => break if high > low { high } else { 0 },
                Err(e) => {
                    warn!(topic, partition = p, error = %e, "cannot read end offset; retrying");
                    if shared.stopping() {
                        return Ok(());
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        };
        if high > 0 {
            remaining.insert(p, high);
        }
    }
    let total: i64 = remaining.values().sum();
    info!(
        topic,
        partitions = meta.len(),
        records_to_catch_up = total,
        "loading the customer table"
    );
    let mut tpl = TopicPartitionList::new();
    for &p in &meta {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .map_err(|e| EdgeError::Kafka("assign customers topic".into(), e))?;
    }
    consumer
        .assign(&tpl)
        .map_err(|e| EdgeError::Kafka("assign customers topic".into(), e))?;

    let check_caught_up = |remaining: &HashMap<i32, i64>, shared: &Shared| {
        if remaining.is_empty() && !shared.table.caught_up() {
            shared.table.set_caught_up();
            shared.metrics.customer_table_caught_up.set(1);
            info!(
                topic,
                customers = shared.table.len(),
                seconds = started.elapsed().as_secs_f64(),
                "customer table caught up"
            );
            shared.catch_up_done();
        }
    };
    check_caught_up(&remaining, &shared);
    let mut warned = false;
    while !shared.stopping() {
        if !warned && !shared.table.caught_up() && Instant::now() > deadline {
            warned = true;
            warn!(
                topic,
                timeout_seconds = cfg.customers_catch_up_timeout_seconds,
                customers = shared.table.len(),
                "customer table has not caught up in time: starting ticket consumption anyway; /readyz stays not ready until it has"
            );
            shared.catch_up_done();
        }
        let Some(r) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        match r {
            Ok(m) => {
                let p = m.partition();
                if let Some(v) = m.payload() {
                    // Outside any group: waiting evicts nothing. Bounded by
                    // the same rule as tickets; past it the record is
                    // skipped as a decode error (its schema is unknown).
                    let mut attempt = 0;
                    let since = std::time::Instant::now();
                    let max = cfg.schema_registry_max_wait();
                    while let Err(e) = shared.codec.ensure_schema(v) {
                        if shared.stopping() {
                            return Ok(());
                        }
                        let left = max.saturating_sub(since.elapsed());
                        if left.is_zero() {
                            break;
                        }
                        let wait = RegistryCodec::registry_backoff(attempt).min(left);
                        warn!(error = %e, topic, partition = p, offset = m.offset(), "schema registry unavailable; retrying");
                        std::thread::sleep(wait);
                        attempt += 1;
                    }
                }
                let res = apply(
                    &shared.table,
                    |v| shared.codec.codec().decode_customer(v),
                    m.key(),
                    m.payload(),
                );
                match res {
                    Applied::Upsert => shared.metrics.customer_record("upsert"),
                    Applied::Delete => shared.metrics.customer_record("delete"),
                    Applied::Error(detail) => {
                        shared
                            .metrics
                            .customer_decode_error(&detail, topic, p, m.offset())
                    }
                }
                shared.metrics.customers.set(shared.table.len() as i64);
                if let Some(&high) = remaining.get(&p) {
                    if m.offset() + 1 >= high {
                        remaining.remove(&p);
                        check_caught_up(&remaining, &shared);
                    }
                }
            }
            Err(KafkaError::PartitionEOF(p)) => {
                if remaining.remove(&p).is_some() {
                    check_caught_up(&remaining, &shared);
                }
            }
            Err(KafkaError::MessageConsumption(RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
            Err(e) => warn!(topic, error = %e, "customers topic consumer error"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod seed_file {
    use super::*;

    #[test]
    fn seeds_line_by_line_and_names_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("seed.jsonl");
        std::fs::write(
            &p,
            "{\"customer_id\":\"C-1\",\"vip\":true}\r\n\n{\"customer_id\":\"C-2\",\"support_plan\":\"premium\"}\n",
        )
        .unwrap();
        let t = CustomerTable::default();
        assert_eq!(seed(&t, &p), Ok(2));
        assert!(t.get("C-1").unwrap().vip);
        assert_eq!(
            t.get("C-2").unwrap().support_plan.as_deref(),
            Some("premium")
        );

        std::fs::write(&p, "{\"customer_id\":\"C-1\"}\n\n{oops\n").unwrap();
        let e = seed(&CustomerTable::default(), &p).unwrap_err();
        assert!(e.contains("seed.jsonl:3: not a customer record"), "{e}");
    }
}
