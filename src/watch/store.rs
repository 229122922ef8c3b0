//! The changelog: the watcher's state per ticket in a compacted topic, and the restore of one
//! partition (changelog, then the outputs written after the last watermark).
//!
//! Records of changelog partition *p* (*p* = the input partition of the tickets):
//! - key `ticket_id`, value the JSON of a [`crate::clock::Entry`] (a ticket's clocks, fired
//!   thresholds, outbox; or lifecycle events waiting for their triaged ticket); an empty value
//!   (tombstone) when the ticket's state was dropped;
//! - key [`WATERMARK_KEY`], value `{"outputs": {"<topic>": <offset>}}`: every output in partition
//!   *p* of that topic at or below the offset is recorded in the changelog records written before
//!   this one. Written last in every flush; compaction keeps the latest.

use crate::edge::EdgeError;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use super::WatchError;
use crate::clock::{AckRecord, Entry, Output, SignalRecord};

/// The key of the watermark record (a NUL byte cannot start a JSON ticket id in practice).
pub const WATERMARK_KEY: &[u8] = b"\0sla-watermark";

/// The watermark record's value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Watermark {
    /// Per output topic: the highest offset in this partition known to be recorded.
    pub outputs: BTreeMap<String, i64>,
}

/// A changelog value.
pub fn encode_entry(e: &Entry) -> Vec<u8> {
    serde_json::to_vec(e).expect("serializable")
}

pub fn decode_entry(bytes: &[u8]) -> Result<Entry, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// An output record's value.
pub fn encode_output(o: &Output) -> Vec<u8> {
    match o {
        Output::Signal(s) => serde_json::to_vec(s),
        Output::Ack(a) => serde_json::to_vec(a),
    }
    .expect("serializable")
}

/// What one partition's restore found.
#[derive(Debug, Default)]
pub struct Restored {
    pub entries: HashMap<String, Entry>,
    /// Per output topic: the last offset in this partition (−1 if empty).
    pub hw: BTreeMap<String, i64>,
    /// Outputs found on the broker after the watermark, for tickets without state (their input
    /// will be replayed: applied when the ticket is created): ticket → (topic, offset, output).
    pub found_unknown: HashMap<String, Vec<(String, i64, Output)>>,
    /// Tickets whose state changed because an output was found (to be written again).
    pub touched: HashSet<String>,
    /// Outputs found on the broker after the watermark (all).
    pub found: usize,
}

/// An output topic to reconcile: its name and whether it carries acks (else signals).
#[derive(Debug, Clone)]
pub struct OutputTopic {
    pub topic: String,
    pub acks: bool,
}

fn reader(base: &ClientConfig) -> Result<BaseConsumer, WatchError> {
    let mut c = base.clone();
    c.set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        // Never used for commits; librdkafka wants one.
        .set("group.id", "triage-sla-restore-unused")
        .set("enable.auto.offset.store", "false");
    c.remove("partition.assignment.strategy");
    c.remove("enable.idempotence");
    c.create()
        .map_err(|e| EdgeError::Kafka("create a restore consumer".into(), e).into())
}

/// Reads `topic` partition `p` from `from` up to the end offset measured now, calling `f` with
/// (offset, key, value). Returns the end offset.
fn read_to_end(
    c: &BaseConsumer,
    topic: &str,
    p: i32,
    from: Offset,
    timeout: Duration,
    mut f: impl FnMut(i64, Option<&[u8]>, Option<&[u8]>),
) -> Result<i64, WatchError> {
    let (low, high) = c
        .fetch_watermarks(topic, p, Duration::from_secs(10))
        .map_err(|e| EdgeError::Kafka(format!("end offsets of {topic}[{p}]"), e))?;
    let start = match from {
        Offset::Offset(o) => o.max(low),
        _ => low,
    };
    if start >= high {
        return Ok(high);
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, p, Offset::Offset(start))
        .map_err(|e| EdgeError::Kafka(format!("assign {topic}[{p}]"), e))?;
    c.assign(&tpl)
        .map_err(|e| EdgeError::Kafka(format!("assign {topic}[{p}]"), e))?;
    let deadline = Instant::now() + timeout;
    let mut next = start;
    while next < high {
        if Instant::now() > deadline {
            return Err(WatchError::Restore(format!(
                "reading {topic}[{p}] from {start} to {high} did not finish within {}s (at {next})",
                timeout.as_secs()
            )));
        }
        match c.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(m)) => {
                next = m.offset() + 1;
                f(m.offset(), m.key(), m.payload());
            }
            Some(Err(e)) => {
                return Err(EdgeError::Kafka(format!("reading {topic}[{p}]"), e).into());
            }
        }
    }
    c.unassign()
        .map_err(|e| EdgeError::Kafka(format!("unassign {topic}[{p}]"), e))?;
    Ok(high)
}

/// Restores partition `p`: every entry of the changelog partition, then every output in the
/// output topics' partition `p` after the watermark — marked as decided and delivered in its
/// ticket's state (or kept in `found_unknown`).
pub fn restore(
    base: &ClientConfig,
    changelog: &str,
    outputs: &[OutputTopic],
    p: i32,
    timeout: Duration,
) -> Result<Restored, WatchError> {
    let c = reader(base)?;
    let mut r = Restored::default();
    let mut wm = Watermark::default();
    let mut bad = 0usize;
    read_to_end(
        &c,
        changelog,
        p,
        Offset::Beginning,
        timeout,
        |_, key, value| {
            let Some(key) = key else { return };
            if key == WATERMARK_KEY {
                if let Some(v) = value.and_then(|v| serde_json::from_slice::<Watermark>(v).ok()) {
                    wm = v;
                }
                return;
            }
            let id = String::from_utf8_lossy(key).into_owned();
            match value {
                None | Some([]) => {
                    r.entries.remove(&id);
                }
                Some(v) => match decode_entry(v) {
                    Ok(e) => {
                        r.entries.insert(id, e);
                    }
                    Err(_) => bad += 1,
                },
            }
        },
    )?;
    if bad > 0 {
        tracing::warn!(
            partition = p,
            records = bad,
            "changelog records that cannot be read were skipped"
        );
    }
    for o in outputs {
        let from = match wm.outputs.get(&o.topic) {
            Some(w) => Offset::Offset(w + 1),
            None => Offset::Beginning,
        };
        let mut last = wm.outputs.get(&o.topic).copied().unwrap_or(-1);
        let topic = o.topic.clone();
        let high = read_to_end(&c, &o.topic, p, from, timeout, |offset, _key, value| {
            last = last.max(offset);
            let Some(v) = value else { return };
            let out = if o.acks {
                serde_json::from_slice::<AckRecord>(v).ok().map(Output::Ack)
            } else {
                serde_json::from_slice::<SignalRecord>(v)
                    .ok()
                    .map(Output::Signal)
            };
            let Some(out) = out else { return };
            r.found += 1;
            let id = match &out {
                Output::Signal(s) => s.ticket_id.clone(),
                Output::Ack(a) => a.ticket_id.clone(),
            };
            match r.entries.get_mut(&id) {
                Some(Entry::Ticket(t)) => {
                    t.found_on_broker(&out);
                    r.touched.insert(id);
                }
                _ => r
                    .found_unknown
                    .entry(id)
                    .or_default()
                    .push((topic.clone(), offset, out)),
            }
        })?;
        r.hw.insert(o.topic.clone(), last.max(high - 1));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_round_trip() {
        let mut w = Watermark::default();
        w.outputs.insert("tickets.sla".into(), 41);
        let v = serde_json::to_vec(&w).unwrap();
        assert_eq!(
            std::str::from_utf8(&v).unwrap(),
            r#"{"outputs":{"tickets.sla":41}}"#
        );
        assert_eq!(serde_json::from_slice::<Watermark>(&v).unwrap(), w);
    }
}
