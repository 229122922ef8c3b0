//! Reading a bounded slice of topics for the review commands: every partition from an instant
//! (or the beginning) to the end offsets taken when the read starts, with no consumer group
//! offsets committed (the read is invisible to the service's groups).

use std::time::{Duration, Instant};

use jiff::Timestamp;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

/// Where a record was: topic index (in the list asked for), partition, offset, timestamp (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub topic: usize,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
}

/// Called with each record: where it was, its key, its value (`None`: a tombstone).
pub type OnRecord<'a> = dyn FnMut(Pos, Option<&[u8]>, Option<&[u8]>) + 'a;

const TIMEOUT: Duration = Duration::from_secs(15);
/// A read that receives nothing for this long while records remain is an error.
const STALL: Duration = Duration::from_secs(60);

/// Calls `f(pos, key, value)` for every record of `topics` with a timestamp in `[from, to)`
/// (records without a timestamp are kept), up to the end offsets as of the start. Records of one
/// partition come in offset order; partitions interleave.
pub fn read(
    brokers: &str,
    topics: &[String],
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    f: &mut OnRecord<'_>,
) -> Result<(), String> {
    let consumer: BaseConsumer = crate::edge::kafka::client_config(
        brokers,
        "triage-review".into(),
        rdkafka::config::RDKafkaLogLevel::Warning,
    )
    .set("group.id", "triage-review-unused")
    .set("enable.auto.commit", "false")
    .set("enable.partition.eof", "false")
    .create()
    .map_err(|e| format!("{brokers}: {e}"))?;
    let mut tpl = TopicPartitionList::new();
    // (topic index, partition) → last offset to read.
    let mut ends: std::collections::HashMap<(String, i32), (usize, i64)> = Default::default();
    for (ti, topic) in topics.iter().enumerate() {
        let md = consumer
            .fetch_metadata(Some(topic), TIMEOUT)
            .map_err(|e| format!("topic {topic}: {e}"))?;
        let t = md
            .topics()
            .first()
            .filter(|t| t.error().is_none() && !t.partitions().is_empty())
            .ok_or_else(|| format!("topic {topic}: not found"))?;
        for p in t.partitions() {
            let (low, high) = consumer
                .fetch_watermarks(topic, p.id(), TIMEOUT)
                .map_err(|e| format!("{topic}/{}: {e}", p.id()))?;
            if high <= low {
                continue;
            }
            let start = match from {
                None => Offset::Offset(low),
                Some(t0) => {
                    let mut q = TopicPartitionList::new();
                    q.add_partition_offset(topic, p.id(), Offset::Offset(t0.as_millisecond()))
                        .map_err(|e| e.to_string())?;
                    let r = consumer
                        .offsets_for_times(q, TIMEOUT)
                        .map_err(|e| format!("{topic}/{}: {e}", p.id()))?;
                    match r.find_partition(topic, p.id()).map(|e| e.offset()) {
                        Some(Offset::Offset(o)) => Offset::Offset(o),
                        _ => continue, // nothing at or after `from`
                    }
                }
            };
            if let Offset::Offset(o) = start {
                if o >= high {
                    continue;
                }
            }
            tpl.add_partition_offset(topic, p.id(), start)
                .map_err(|e| e.to_string())?;
            ends.insert((topic.clone(), p.id()), (ti, high - 1));
        }
    }
    if ends.is_empty() {
        return Ok(());
    }
    consumer.assign(&tpl).map_err(|e| e.to_string())?;
    let mut last_seen = Instant::now();
    let (from_ms, to_ms) = (
        from.map(|t| t.as_millisecond()),
        to.map(|t| t.as_millisecond()),
    );
    while !ends.is_empty() {
        match consumer.poll(Duration::from_millis(500)) {
            None => {
                if last_seen.elapsed() > STALL {
                    let left: Vec<String> = ends.keys().map(|(t, p)| format!("{t}/{p}")).collect();
                    return Err(format!(
                        "no records for {}s while {} remain to be read",
                        STALL.as_secs(),
                        left.join(", ")
                    ));
                }
            }
            Some(Err(e)) => return Err(format!("reading: {e}")),
            Some(Ok(m)) => {
                last_seen = Instant::now();
                let key = (m.topic().to_string(), m.partition());
                let Some(&(ti, end)) = ends.get(&key) else {
                    continue;
                };
                if m.offset() > end {
                    ends.remove(&key);
                    continue;
                }
                let ts = m.timestamp().to_millis();
                let inside = match ts {
                    None => true,
                    Some(t) => from_ms.is_none_or(|f| t >= f) && to_ms.is_none_or(|e| t < e),
                };
                if inside {
                    f(
                        Pos {
                            topic: ti,
                            partition: m.partition(),
                            offset: m.offset(),
                            timestamp_ms: ts,
                        },
                        m.key(),
                        m.payload(),
                    );
                }
                if m.offset() >= end {
                    ends.remove(&key);
                }
            }
        }
    }
    Ok(())
}
