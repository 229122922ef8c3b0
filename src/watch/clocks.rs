//! The watcher's state per assigned partition and everything that changes it: input records,
//! timers, delivery reports, flushes to the changelog, rebalances. Single-threaded: the loop and
//! the rebalance callbacks (which run inside the loop's `poll`) take turns through a mutex.
//!
//! Per partition *p* (the same *p* of every co-partitioned topic):
//! - `slots`: ticket id → [`Entry`], its next timer and its open-ticket class (for the gauge);
//! - `dirty`: tickets whose state changed since the last flush (or that were dropped);
//! - `hw`: per output topic, the highest offset acknowledged in partition *p*;
//! - `applied`: per input topic, the next offset after the last applied record;
//! - `batches`: flushes in flight — a batch's input offsets are stored once all of its changelog
//!   records are acknowledged, in order.

use crate::edge::EdgeError;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer as _};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use tracing::{debug, info, warn};

use super::kafka::{Delivery, Producer};
use super::metrics::WatchMetrics;
use super::store::{self, OutputTopic, Watermark, WATERMARK_KEY};
use super::time::TimeSource;
use super::WatchError;
use crate::clock::catalog::{sla_key, Catalog, SlaKey};
use crate::clock::event::Stamp;
use crate::clock::ticket::Orphan;
use crate::clock::{Ctx, Entry, LifecycleEvent, Outcome, Output, Settings, SlaState, Ticket};
use crate::rules::Rules;

/// [`Catalog::with`], logging the catalog's fallbacks (each name once).
fn with_ctx<R>(
    catalog: &mut Catalog,
    settings: &Settings,
    key: &SlaKey,
    f: impl FnOnce(&Ctx<'_>) -> R,
) -> R {
    let r = catalog.with(settings, key, f);
    for note in catalog.take_notes() {
        warn!("{note}");
    }
    r
}

struct Slot {
    entry: Entry,
    deadline: Option<Timestamp>,
    class: Option<(Arc<str>, SlaState)>,
}

struct Batch {
    pending: usize,
    offsets: BTreeMap<String, i64>,
}

struct CatchUp {
    /// Input topic → end offset at assignment still to reach.
    until: BTreeMap<String, i64>,
    deadline: Instant,
}

#[derive(Default)]
struct Part {
    slots: HashMap<String, Slot>,
    dirty: BTreeSet<String>,
    hw: BTreeMap<String, i64>,
    applied: BTreeMap<String, i64>,
    /// `applied` as of the last flush.
    flushed: BTreeMap<String, i64>,
    /// The watermark as of the last flush.
    flushed_wm: BTreeMap<String, i64>,
    batches: VecDeque<(u64, Batch)>,
    next_batch: u64,
    found_unknown: HashMap<String, Vec<(String, i64, Output)>>,
    catch_up: Option<CatchUp>,
}

enum InFlight {
    Output {
        p: i32,
        ticket: String,
        out: Box<Output>,
    },
    Changelog {
        p: i32,
        batch: u64,
    },
}

/// Topic names the clocks write and reads.
pub struct Topics {
    pub triaged: HashSet<String>,
    pub lifecycle: String,
    pub signals: String,
    pub acks: Option<String>,
    pub changelog: String,
}

impl Topics {
    pub fn inputs(&self) -> Vec<String> {
        let mut v: Vec<String> = self.triaged.iter().cloned().collect();
        v.sort();
        v.push(self.lifecycle.clone());
        v
    }

    pub fn outputs(&self) -> Vec<OutputTopic> {
        let mut v = vec![OutputTopic {
            topic: self.signals.clone(),
            acks: false,
        }];
        if let Some(a) = &self.acks {
            v.push(OutputTopic {
                topic: a.clone(),
                acks: true,
            });
        }
        v
    }
}

/// The state of every assigned partition, the timers, the records in flight.
pub struct Clocks {
    catalog: Catalog,
    settings: Settings,
    time: Arc<dyn TimeSource>,
    metrics: Arc<WatchMetrics>,
    producer: Producer,
    deliveries: Receiver<Delivery>,
    topics: Topics,
    restore_config: ClientConfig,
    restore_timeout: Duration,
    drain_timeout: Duration,
    catch_up_timeout: Duration,
    commit_interval: Duration,
    parts: BTreeMap<i32, Part>,
    timers: BTreeSet<(Timestamp, i32, String)>,
    inflight: HashMap<usize, InFlight>,
    next_token: usize,
    last_flush: Instant,
    fatal: Option<String>,
}

/// Settings of the clocks that come from the config.
pub struct ClocksConfig {
    pub topics: Topics,
    pub restore_config: ClientConfig,
    pub restore_timeout: Duration,
    pub drain_timeout: Duration,
    pub catch_up_timeout: Duration,
    pub commit_interval: Duration,
}

impl Clocks {
    pub fn new(
        rules: &Rules,
        settings: Settings,
        time: Arc<dyn TimeSource>,
        metrics: Arc<WatchMetrics>,
        producer: Producer,
        deliveries: Receiver<Delivery>,
        cfg: ClocksConfig,
    ) -> Clocks {
        Clocks {
            catalog: Catalog::new(rules),
            settings,
            time,
            metrics,
            producer,
            deliveries,
            topics: cfg.topics,
            restore_config: cfg.restore_config,
            restore_timeout: cfg.restore_timeout,
            drain_timeout: cfg.drain_timeout,
            catch_up_timeout: cfg.catch_up_timeout,
            commit_interval: cfg.commit_interval,
            parts: BTreeMap::new(),
            timers: BTreeSet::new(),
            inflight: HashMap::new(),
            next_token: 0,
            last_flush: Instant::now(),
            fatal: None,
        }
    }

    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    /// A fatal error (the loop stops with it).
    pub fn fail(&mut self, why: String) {
        self.fatal.get_or_insert(why);
    }

    pub fn fatal(&self) -> Option<&str> {
        self.fatal.as_deref()
    }

    /// Whether every assigned partition has caught up with its input backlog.
    pub fn caught_up(&self) -> bool {
        self.parts.values().all(|p| p.catch_up.is_none())
    }

    /// How long the loop may block in `poll`: until the next timer, at most the commit interval.
    pub fn poll_wait(&self) -> Duration {
        let cap = self.commit_interval.min(Duration::from_millis(100));
        match self.timers.first() {
            Some((d, _, _)) => self.time.real_until(*d).min(cap),
            None => cap,
        }
    }

    // ------------------------------------------------------------------ inputs

    /// Applies one input record of partition `p`.
    pub fn on_record(&mut self, topic: &str, p: i32, offset: i64, payload: Option<&[u8]>) {
        let now = self.time.now();
        let Some(part) = self.parts.get_mut(&p) else {
            // Not restored (cannot happen: assignment restores first); not applied, not stored.
            warn!(
                topic,
                partition = p,
                offset,
                "record of a partition without state; skipped"
            );
            return;
        };
        part.applied.insert(topic.to_string(), offset + 1);
        let bytes = payload.unwrap_or_default();
        // Panic isolation: a record that makes decoding or the clock maths
        // panic (a bug) is counted as invalid and skipped; the watcher stays up.
        let kind = if topic == self.topics.lifecycle {
            "lifecycle"
        } else if self.topics.triaged.contains(topic) {
            "triaged"
        } else {
            return self.check_catch_up(p);
        };
        let r = crate::isolate::isolate(|| -> Result<(), String> {
            if kind == "lifecycle" {
                let ev = crate::clock::decode_lifecycle(bytes)?;
                self.on_event(p, offset, ev, now);
            } else {
                let stamp = crate::clock::decode_triaged(bytes)?;
                self.on_stamp(p, stamp, now);
            }
            Ok(())
        });
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.metrics.invalid(kind, topic, p, offset, &e),
            Err(panic) => {
                let e = format!("internal error: {panic}");
                self.metrics.invalid(kind, topic, p, offset, &e)
            }
        }
        self.check_catch_up(p);
    }

    fn on_stamp(&mut self, p: i32, stamp: Stamp, now: Timestamp) {
        let id = stamp.ticket_id.clone();
        let part = self.parts.get_mut(&p).expect("assigned");
        let orphan = match part.slots.get(&id).map(|s| &s.entry) {
            Some(Entry::Ticket(_)) => {
                self.metrics.record("triaged", "duplicate");
                return;
            }
            Some(Entry::Orphan(_)) => match part.slots.remove(&id).map(|s| s.entry) {
                Some(Entry::Orphan(o)) => Some(o),
                _ => None,
            },
            None => None,
        };
        let settings = &self.settings;
        let (mut t, mut out) = with_ctx(&mut self.catalog, settings, &sla_key(&stamp), |ctx| {
            Ticket::from_stamp(stamp, orphan, ctx, now)
        });
        if let Some(found) = part.found_unknown.remove(&id) {
            for (_, _, o) in &found {
                t.found_on_broker(o);
            }
        }
        out.outputs
            .retain(|o| t.outbox.iter().any(|x| x.id() == o.id()));
        part.slots.insert(
            id.clone(),
            Slot {
                entry: Entry::Ticket(Box::new(t)),
                deadline: None,
                class: None,
            },
        );
        self.metrics.record("triaged", "applied");
        self.after(p, &id, out, now);
    }

    fn on_event(&mut self, p: i32, offset: i64, ev: LifecycleEvent, now: Timestamp) {
        let id = ev.ticket_id.clone();
        let part = self.parts.get_mut(&p).expect("assigned");
        let settings = &self.settings;
        match part.slots.get_mut(&id) {
            None => {
                part.slots.insert(
                    id.clone(),
                    Slot {
                        entry: Entry::Orphan(Orphan::new(offset, ev, now)),
                        deadline: None,
                        class: None,
                    },
                );
                self.metrics.record("lifecycle", "buffered");
                self.after(p, &id, Outcome::default(), now);
            }
            Some(Slot {
                entry: Entry::Orphan(o),
                ..
            }) => {
                let r = o.push(offset, ev, settings);
                self.metrics.record("lifecycle", r);
                if r == "buffered" {
                    self.after(p, &id, Outcome::default(), now);
                }
            }
            Some(Slot {
                entry: Entry::Ticket(t),
                ..
            }) => {
                let key = sla_key(&t.stamp);
                let out = self
                    .catalog
                    .with(settings, &key, |ctx| t.apply(Some(offset), &ev, ctx, now));
                match out.ignored {
                    Some("duplicate") => {
                        self.metrics.record("lifecycle", "duplicate");
                        return;
                    }
                    Some(_) => self.metrics.record("lifecycle", "ignored"),
                    None => self.metrics.record("lifecycle", "applied"),
                }
                self.after(p, &id, out, now);
            }
        }
    }

    /// After a ticket changed: send what was decided, count, mark dirty, re-arm its timer,
    /// move it in the open-tickets gauge.
    fn after(&mut self, p: i32, id: &str, out: Outcome, now: Timestamp) {
        let part = self.parts.get_mut(&p).expect("assigned");
        part.dirty.insert(id.to_string());
        let Some(slot) = part.slots.get_mut(id) else {
            return;
        };
        if let Entry::Ticket(t) = &slot.entry {
            for (clock, ratio) in &out.stopped {
                self.metrics.clock_stopped(&t.priority, *clock, *ratio);
            }
            if let Some(score) = out.csat {
                self.metrics.csat(&t.priority, &t.stamp.category, score);
            }
        }
        let class = slot.entry.classify();
        self.metrics.open_moved(slot.class.as_ref(), class.as_ref());
        slot.class = class;
        let deadline = match &slot.entry {
            Entry::Ticket(t) => {
                let key = sla_key(&t.stamp);
                with_ctx(&mut self.catalog, &self.settings, &key, |ctx| {
                    t.next_deadline(ctx)
                })
            }
            Entry::Orphan(o) => Some(o.expires_at(&self.settings)),
        };
        // A deadline that is already due (retention over, outbox not yet delivered): retry soon.
        let deadline = deadline.map(|d| d.max(now + SignedDuration::from_millis(1)));
        if slot.deadline != deadline {
            if let Some(old) = slot.deadline {
                self.timers.remove(&(old, p, id.to_string()));
            }
            if let Some(new) = deadline {
                self.timers.insert((new, p, id.to_string()));
            }
            slot.deadline = deadline;
        }
        for o in out.outputs {
            if let Output::Signal(s) = &o {
                self.metrics.signal_decided(s);
            }
            self.send(p, id, o);
        }
    }

    // ------------------------------------------------------------------ timers

    /// Fires every timer due at `now` (partitions still catching up wait).
    pub fn fire_timers(&mut self) {
        let now = self.time.now();
        let mut held = Vec::new();
        let mut due = Vec::new();
        while let Some(first) = self.timers.first() {
            if first.0 > now {
                break;
            }
            let k = self.timers.pop_first().expect("non-empty");
            let waiting = self
                .parts
                .get(&k.1)
                .is_none_or(|part| part.catch_up.is_some());
            if waiting {
                held.push(k);
            } else {
                due.push(k);
            }
        }
        self.timers.extend(held);
        for (_, p, id) in due {
            self.fire(p, &id, now);
        }
    }

    fn fire(&mut self, p: i32, id: &str, now: Timestamp) {
        let Some(part) = self.parts.get_mut(&p) else {
            return;
        };
        let Some(slot) = part.slots.get_mut(id) else {
            return;
        };
        slot.deadline = None;
        let settings = &self.settings;
        let mut remove = false;
        let out = match &mut slot.entry {
            Entry::Ticket(t) => {
                let key = sla_key(&t.stamp);
                let out = with_ctx(&mut self.catalog, settings, &key, |ctx| t.advance(ctx, now));
                remove = out.outputs.is_empty() && t.expired(settings, now);
                out
            }
            Entry::Orphan(o) => {
                if o.expires_at(settings) <= now {
                    self.metrics.orphan_expired(id, o.events.len(), p);
                    remove = true;
                }
                Outcome::default()
            }
        };
        if remove {
            let slot = part.slots.remove(id).expect("present");
            self.metrics.open_moved(slot.class.as_ref(), None);
            part.dirty.insert(id.to_string());
            debug!(
                ticket_id = id,
                partition = p,
                "state dropped (retention over)"
            );
            return;
        }
        self.after(p, id, out, now);
    }

    // ------------------------------------------------------------------ outputs

    fn token(&mut self, f: InFlight) -> usize {
        let t = self.next_token;
        self.next_token = self.next_token.wrapping_add(1);
        self.inflight.insert(t, f);
        t
    }

    fn send(&mut self, p: i32, ticket: &str, out: Output) {
        let (topic, headers) = match &out {
            Output::Signal(s) => (
                self.topics.signals.clone(),
                OwnedHeaders::new()
                    .insert(Header {
                        key: "content-type",
                        value: Some("application/json"),
                    })
                    .insert(Header {
                        key: "sla-signal",
                        value: Some(s.signal.as_str()),
                    })
                    .insert(Header {
                        key: "sla-clock",
                        value: Some(s.clock.as_str()),
                    }),
            ),
            Output::Ack(_) => match &self.topics.acks {
                Some(a) => (
                    a.clone(),
                    OwnedHeaders::new().insert(Header {
                        key: "content-type",
                        value: Some("application/json"),
                    }),
                ),
                None => return,
            },
        };
        let payload = store::encode_output(&out);
        let token = self.token(InFlight::Output {
            p,
            ticket: ticket.to_string(),
            out: Box::new(out),
        });
        self.produce(
            &topic,
            p,
            ticket.as_bytes(),
            Some(&payload),
            Some(headers),
            token,
        );
    }

    fn produce(
        &mut self,
        topic: &str,
        p: i32,
        key: &[u8],
        payload: Option<&[u8]>,
        headers: Option<OwnedHeaders>,
        token: usize,
    ) {
        let mut rec = BaseRecord::with_opaque_to(topic, token)
            .partition(p)
            .key(key);
        if let Some(v) = payload {
            rec = rec.payload(v);
        }
        if let Some(h) = headers {
            rec = rec.headers(h);
        }
        let mut rec = rec;
        loop {
            match self.producer.send(rec) {
                Ok(()) => return,
                Err((e, r)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) => {
                    std::thread::sleep(Duration::from_millis(10));
                    rec = r;
                }
                Err((e, _)) => {
                    self.inflight.remove(&token);
                    self.fail(format!("cannot send to {topic}[{p}]: {e}"));
                    return;
                }
            }
        }
    }

    /// Handles every delivery report that arrived; returns input offsets that may be stored.
    pub fn drain_deliveries(&mut self) -> Vec<(String, i32, i64)> {
        let mut store = Vec::new();
        while let Ok(d) = self.deliveries.try_recv() {
            self.delivered(d, &mut store);
        }
        store
    }

    fn delivered(&mut self, d: Delivery, store: &mut Vec<(String, i32, i64)>) {
        let Some(f) = self.inflight.remove(&d.token) else {
            return;
        };
        let (partition, offset) = match d.result {
            Ok(x) => x,
            Err((e, code)) => {
                // The idempotent producer retried up to message.timeout.ms: give up, restart
                // restores from the changelog (nothing decided is lost: it is in an outbox).
                self.fail(format!("a record was not acknowledged ({code}): {e}"));
                return;
            }
        };
        match f {
            InFlight::Output { p, ticket, out } => {
                let topic = match &*out {
                    Output::Signal(s) => {
                        self.metrics.signal_delivered(s, partition, offset);
                        self.topics.signals.clone()
                    }
                    Output::Ack(a) => {
                        self.metrics.ack_delivered(a, partition, offset);
                        self.topics.acks.clone().unwrap_or_default()
                    }
                };
                if let Some(part) = self.parts.get_mut(&p) {
                    let hw = part.hw.entry(topic).or_insert(-1);
                    *hw = (*hw).max(offset);
                    if let Some(Slot {
                        entry: Entry::Ticket(t),
                        ..
                    }) = part.slots.get_mut(&ticket)
                    {
                        if t.delivered(out.id()) {
                            part.dirty.insert(ticket);
                        }
                    }
                }
            }
            InFlight::Changelog { p, batch } => {
                if let Some(part) = self.parts.get_mut(&p) {
                    if let Some((_, b)) = part.batches.iter_mut().find(|(s, _)| *s == batch) {
                        b.pending = b.pending.saturating_sub(1);
                    }
                    while part.batches.front().is_some_and(|(_, b)| b.pending == 0) {
                        let (_, b) = part.batches.pop_front().expect("non-empty");
                        store.extend(b.offsets.into_iter().map(|(t, o)| (t, p, o)));
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ changelog

    /// Writes changed state and the watermark of every partition when the commit interval has
    /// passed (or `force`).
    pub fn flush(&mut self, force: bool) {
        if !force && self.last_flush.elapsed() < self.commit_interval {
            return;
        }
        self.last_flush = Instant::now();
        let parts: Vec<i32> = self.parts.keys().copied().collect();
        for p in parts {
            self.flush_part(p);
        }
    }

    fn flush_part(&mut self, p: i32) {
        let part = self.parts.get_mut(&p).expect("assigned");
        let mut wm = Watermark {
            outputs: part.hw.clone(),
        };
        // Outputs found on the broker for tickets not (yet) re-created are not recorded: the
        // watermark stays below them.
        for found in part.found_unknown.values() {
            for (topic, offset, _) in found {
                let w = wm.outputs.entry(topic.clone()).or_insert(-1);
                *w = (*w).min(offset - 1);
            }
        }
        if part.dirty.is_empty() && part.applied == part.flushed && wm.outputs == part.flushed_wm {
            return;
        }
        let mut records: Vec<(String, Option<Vec<u8>>)> = Vec::with_capacity(part.dirty.len());
        for id in std::mem::take(&mut part.dirty) {
            let v = part.slots.get(&id).map(|s| store::encode_entry(&s.entry));
            records.push((id, v));
        }
        let seq = part.next_batch;
        part.next_batch += 1;
        part.flushed = part.applied.clone();
        part.flushed_wm = wm.outputs.clone();
        part.batches.push_back((
            seq,
            Batch {
                pending: records.len() + 1,
                offsets: part.applied.clone(),
            },
        ));
        let changelog = self.topics.changelog.clone();
        for (id, v) in records {
            let token = self.token(InFlight::Changelog { p, batch: seq });
            self.produce(&changelog, p, id.as_bytes(), v.as_deref(), None, token);
        }
        let token = self.token(InFlight::Changelog { p, batch: seq });
        let v = serde_json::to_vec(&wm).expect("serializable");
        self.produce(&changelog, p, WATERMARK_KEY, Some(&v), None, token);
    }

    /// Waits until nothing of `parts` (all, if `None`) is in flight, or the drain timeout.
    /// Returns the input offsets that may be stored and how many records are still in flight.
    fn drain(&mut self, parts: Option<&[i32]>) -> (Vec<(String, i32, i64)>, usize) {
        let deadline = Instant::now() + self.drain_timeout;
        let mut store = Vec::new();
        let pending = |core: &Clocks| {
            core.inflight
                .values()
                .filter(|f| {
                    let p = match f {
                        InFlight::Output { p, .. } | InFlight::Changelog { p, .. } => *p,
                    };
                    parts.is_none_or(|ps| ps.contains(&p))
                })
                .count()
        };
        loop {
            // Acknowledged outputs make tickets dirty again: write them too.
            match parts {
                Some(ps) => {
                    for &p in ps {
                        if self.parts.contains_key(&p) {
                            self.flush_part(p);
                        }
                    }
                }
                None => self.flush(true),
            }
            let left = pending(self);
            if left == 0 || Instant::now() >= deadline || self.fatal.is_some() {
                return (store, left);
            }
            if let Ok(d) = self.deliveries.recv_timeout(Duration::from_millis(50)) {
                self.delivered(d, &mut store);
                while let Ok(d) = self.deliveries.try_recv() {
                    self.delivered(d, &mut store);
                }
            }
        }
    }

    /// Shutdown: write everything, wait for the acknowledgments. Returns the offsets to store
    /// and the number of records still unacknowledged.
    pub fn shutdown(&mut self) -> (Vec<(String, i32, i64)>, usize) {
        let r = self.drain(None);
        let _ = self.producer.flush(Duration::from_secs(5));
        r
    }

    // ------------------------------------------------------------------ rebalances

    /// Partitions revoked: unless lost, write their state and wait for it; then drop them.
    /// Returns the offsets to store and commit.
    pub fn revoke(&mut self, parts: &[i32], lost: bool) -> Vec<(String, i32, i64)> {
        let mut store = Vec::new();
        if !lost {
            let (s, left) = self.drain(Some(parts));
            store = s;
            if left > 0 {
                warn!(
                    unacknowledged = left,
                    "revoked partitions still had records in flight after the drain timeout; the next owner restores and reconciles them"
                );
            }
        }
        for p in parts {
            if let Some(part) = self.parts.remove(p) {
                for slot in part.slots.values() {
                    self.metrics.open_moved(slot.class.as_ref(), None);
                }
            }
        }
        self.timers.retain(|(_, p, _)| !parts.contains(p));
        self.inflight.retain(|_, f| {
            let p = match f {
                InFlight::Output { p, .. } | InFlight::Changelog { p, .. } => *p,
            };
            !parts.contains(&p)
        });
        store
    }

    /// Partitions assigned: restore each from the changelog, reconcile outputs found on the
    /// broker, re-send what was decided but not found, arm the timers, and hold them until the
    /// input backlog (up to the end offsets now) has been applied.
    pub fn assign<C: ConsumerContext>(
        &mut self,
        parts: &[i32],
        consumer: &BaseConsumer<C>,
    ) -> Result<(), WatchError> {
        let inputs = self.topics.inputs();
        let outputs = self.topics.outputs();
        for &p in parts {
            if self.parts.contains_key(&p) {
                continue;
            }
            let t0 = Instant::now();
            let r = store::restore(
                &self.restore_config,
                &self.topics.changelog,
                &outputs,
                p,
                self.restore_timeout,
            )?;
            let catch_up = self.catch_up_of(consumer, &inputs, p)?;
            let n = r.entries.len();
            let mut part = Part {
                hw: r.hw.clone(),
                found_unknown: r.found_unknown,
                catch_up,
                ..Part::default()
            };
            // What the restored watermark covers, so an idle partition writes nothing.
            part.flushed_wm = r.hw;
            for (id, entry) in r.entries {
                part.slots.insert(
                    id,
                    Slot {
                        entry,
                        deadline: None,
                        class: None,
                    },
                );
            }
            let touched = r.touched;
            let ids: Vec<String> = part.slots.keys().cloned().collect();
            self.parts.insert(p, part);
            let now = self.time.now();
            let mut resent = 0;
            for id in ids {
                let outbox = match &self.parts[&p].slots[&id].entry {
                    Entry::Ticket(t) => t.outbox.clone(),
                    Entry::Orphan(_) => Vec::new(),
                };
                resent += outbox.len();
                let out = Outcome {
                    outputs: outbox,
                    ..Outcome::default()
                };
                self.after(p, &id, out, now);
                if !touched.contains(&id) {
                    self.parts.get_mut(&p).expect("inserted").dirty.remove(&id);
                }
            }
            self.metrics
                .restored(p, t0.elapsed().as_secs_f64(), n, r.found, resent);
            self.check_catch_up(p);
        }
        Ok(())
    }

    /// Input end offsets still to reach in partition `p` (from the committed offsets).
    fn catch_up_of<C: ConsumerContext>(
        &self,
        consumer: &BaseConsumer<C>,
        inputs: &[String],
        p: i32,
    ) -> Result<Option<CatchUp>, WatchError> {
        let mut tpl = TopicPartitionList::new();
        for t in inputs {
            tpl.add_partition(t, p);
        }
        let committed = consumer
            .committed_offsets(tpl, Duration::from_secs(10))
            .map_err(|e| EdgeError::Kafka(format!("committed offsets of partition {p}"), e))?;
        let mut until = BTreeMap::new();
        for t in inputs {
            let (low, high) = consumer
                .fetch_watermarks(t, p, Duration::from_secs(10))
                .map_err(|e| EdgeError::Kafka(format!("end offsets of {t}[{p}]"), e))?;
            let start = match committed.find_partition(t, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => o.max(low),
                _ => low,
            };
            if start < high {
                until.insert(t.clone(), high);
            }
        }
        Ok((!until.is_empty()).then(|| CatchUp {
            until,
            deadline: Instant::now() + self.catch_up_timeout,
        }))
    }

    fn check_catch_up(&mut self, p: i32) {
        let Some(part) = self.parts.get_mut(&p) else {
            return;
        };
        let Some(c) = &mut part.catch_up else {
            return;
        };
        c.until
            .retain(|t, high| part.applied.get(t).is_none_or(|a| a < high));
        let timed_out = Instant::now() >= c.deadline;
        if c.until.is_empty() || timed_out {
            if timed_out {
                warn!(partition = p, behind = ?c.until, "catch-up timed out; timers run now");
            } else {
                info!(partition = p, "partition caught up; timers run");
            }
            part.catch_up = None;
            // Inputs that could still re-create those tickets have all been replayed.
            part.found_unknown.clear();
        }
    }

    /// Ends catch-ups that timed out.
    pub fn check_catch_ups(&mut self) {
        let waiting: Vec<i32> = self
            .parts
            .iter()
            .filter(|(_, p)| p.catch_up.is_some())
            .map(|(p, _)| *p)
            .collect();
        for p in waiting {
            self.check_catch_up(p);
        }
    }

    /// Counts for the tracked-tickets gauge after inserts and removals.
    pub fn tracked(&self) -> usize {
        self.parts.values().map(|p| p.slots.len()).sum()
    }
}
