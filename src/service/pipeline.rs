//! The ticket pipeline: consumer group on the input topic → decode → enrich
//! from the customer table → engine → encode → producer, on one thread that
//! owns the consumer.
//!
//! Delivery guarantee: at least once, in order per partition. Every consumed
//! record causes exactly one produced record (triaged output on its level's
//! topic, or a dead letter), registered in the offset tracker before it is
//! handed to the producer; its input offset is stored for commit only after
//! that record and every earlier one of the partition were acknowledged. A
//! record that cannot be delivered stops its partition's position; the
//! partition is rewound to its earliest unacknowledged offset and processed
//! again after a back-off (duplicates possible, no loss). On revocation the
//! partitions' in-flight records are awaited and their offsets committed
//! before they are given up; on shutdown everything in flight is awaited,
//! committed and the producer flushed. Many records are in flight at once
//! (bounded by `max_in_flight`: back-pressure stops taking records).

use crate::edge::EdgeError;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer as _};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use tracing::{debug, info, warn};

pub use super::tracker::Failure;

use super::config::BackPressure;
use super::kafka::{self, Producer, ServiceContext};
use super::{rounds, Active, ServiceError, Shared};
use crate::codec::DlqReason;
use crate::engine::Scratch as EngineScratch;
use crate::metrics::produce_error_code;
use crate::process::{process_with_shadow, Limits, Outcome, Shadow, ShadowDecision};

/// What the tracker keeps for a record in flight (for metrics and logs).
pub struct SlotInfo {
    pub sent_at: Instant,
    pub partition: i32,
    pub offset: i64,
    pub kind: SlotKind,
}

/// The kind of record in flight.
pub enum SlotKind {
    Triaged {
        active: Arc<Active>,
        level: u16,
        created_at: Timestamp,
    },
    /// A dead letter; `step` 0 is the input unchanged,
    /// each refusal by the broker sends it again smaller ([`Refused`]).
    DeadLetter { step: u8, original_len: usize },
}

/// A dead letter the broker refused for good, waiting to be sent again
/// smaller: step 1 keeps the first [`REDUCED_DLQ_BYTES`] of the value, step 2
/// none (the headers say where the original is). A refusal of step 2 is a
/// delivery failure like any other (rewind, back-off): the dead-letter topic
/// itself is then unusable, and losing the record is not an option.
pub struct Refused {
    at: super::tracker::Pending,
    step: u8,
    original_len: usize,
    code: &'static str,
    key: Option<Vec<u8>>,
    payload: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

/// The value kept by a dead letter sent again after a refusal.
pub const REDUCED_DLQ_BYTES: usize = 64 * 1024;

/// A refused delivery: a dead letter refused for good (below the last step)
/// is queued to be sent again smaller ([`Refused`]); anything else fails the
/// slot (the pipeline rewinds). Called from the delivery callback and when
/// the producer refuses a record at once. Returns the outcome for metrics.
pub(crate) fn on_refused<H: rdkafka::message::Headers>(
    shared: &Shared,
    t: &mut super::tracker::Tracker<SlotInfo>,
    slot: usize,
    code: &'static str,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
    headers: Option<&H>,
) -> Option<super::tracker::Outcome<SlotInfo>> {
    use super::tracker::Outcome;
    let step = t.info(slot).and_then(|i| match i.kind {
        SlotKind::DeadLetter { step, original_len } => Some((step, original_len)),
        SlotKind::Triaged { .. } => None,
    });
    match step {
        Some((step, original_len))
            if step < 2 && crate::metrics::produce_error_is_permanent(code) =>
        {
            let (o, at) = t.refuse(slot)?;
            if let Outcome::Acked(_) = &o {
                let headers = headers
                    .map(|h| {
                        h.iter()
                            .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                            .collect()
                    })
                    .unwrap_or_default();
                // Invariant (every `lock().expect` here): no code panics while
                // holding these mutexes, and per-record work that might runs
                // outside them under `isolate`.
                shared.refused.lock().expect("not poisoned").push(Refused {
                    at,
                    step: step + 1,
                    original_len,
                    code,
                    key: key.map(<[u8]>::to_vec),
                    payload: payload.map(<[u8]>::to_vec),
                    headers,
                });
                shared.delivery_failed.store(true, Ordering::Release);
            }
            Some(o)
        }
        _ => {
            let o = t.fail(slot, Failure { code });
            shared.delivery_failed.store(true, Ordering::Release);
            o
        }
    }
}

/// What became of a record's wait for its writer schema.
enum SchemaWait {
    /// Known (or not needed): process it.
    Ready,
    /// The registry did not answer in time: dead-letter it.
    GaveUp,
    /// Its partition was revoked or reassigned during the wait: skip it.
    Stale,
    /// The service is stopping.
    Stop,
}

/// How often a registry that stayed down past the wait is asked again.
const REGISTRY_PROBE: Duration = Duration::from_secs(10);

const STORE_EVERY: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How a run of the pipeline ended.
#[derive(Debug)]
pub struct Drained {
    /// Records still unacknowledged when the drain timeout expired (0 on a
    /// clean drain). Their inputs were not committed and will be processed
    /// again.
    pub unacknowledged: usize,
}

/// The pipeline thread: waits for the customer table (bounded), subscribes,
/// processes until `shared.stop`, then drains.
pub(crate) fn run(shared: Arc<Shared>, producer: Producer) -> Result<Drained, ServiceError> {
    let cfg = &shared.config;
    if !shared.wait_for_catch_up() {
        return Ok(Drained { unacknowledged: 0 });
    }
    let consumer = kafka::tickets_consumer(cfg, shared.clone())?;
    consumer
        .subscribe(&[&cfg.input_topic])
        .map_err(|e| EdgeError::Kafka(format!("subscribe to {}", cfg.input_topic), e))?;
    info!(topic = %cfg.input_topic, group = %cfg.group_id, "consuming tickets");
    let mut p = Pipeline {
        shared: shared.clone(),
        producer,
        scratch: Scratch::default(),
        out: Vec::with_capacity(16 * 1024),
        dirty: Vec::new(),
        last_store: Instant::now(),
        backoff: HashMap::new(),
        resume_at: HashMap::new(),
        refused_outputs: HashMap::new(),
        registry_down: None,
        registry_probe: None,
        pool: rounds::Pool::new(shared.clone(), cfg.workers, "engine", compute_into),
    };
    while !shared.stopping() {
        p.housekeeping(&consumer);
        if shared.hot.in_flight.get() as usize >= cfg.max_in_flight {
            p.back_pressure(&consumer);
            continue;
        }
        if cfg.workers > 1 {
            p.round(&consumer);
            continue;
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(m)) => p.process(&consumer, &m),
            Some(Err(e)) => warn!(error = %e, "ticket consumer error"),
        }
    }
    Ok(p.drain(&consumer))
}

struct Pipeline {
    shared: Arc<Shared>,
    producer: Producer,
    scratch: Scratch,
    out: Vec<u8>,
    dirty: Vec<(i32, i64)>,
    last_store: Instant,
    /// Per partition: the back-off of its last rewind.
    backoff: HashMap<i32, Duration>,
    /// Partitions paused after a rewind, and when to resume them.
    resume_at: HashMap<i32, Instant>,
    /// Inputs whose triaged record the broker refused for good (the
    /// offset of the record it refused, and the produce error): dead-letter
    /// them when they come again after the rewind.
    refused_outputs: HashMap<i32, (i64, &'static str)>,
    /// Since when the schema registry has not answered (records wait).
    registry_down: Option<Instant>,
    /// Set when the wait gave up: the next probe of the registry; until
    /// then records that need an unknown schema are dead-lettered at once.
    registry_probe: Option<Instant>,
    /// The engine threads of rounds: this one and `workers` − 1 helpers
    /// (none by default).
    pool: rounds::Pool<Shared, Scratch, RoundResult>,
}

impl Pipeline {
    /// Stores acknowledged offsets, rewinds failed partitions, resumes
    /// partitions whose back-off is over.
    fn housekeeping(&mut self, consumer: &BaseConsumer<ServiceContext>) {
        let shared = self.shared.clone();
        if shared.delivery_failed.swap(false, Ordering::AcqRel) {
            self.resend_refused();
            self.rewind_failed(consumer);
        }
        if !self.resume_at.is_empty() {
            let now = Instant::now();
            let due: Vec<i32> = self
                .resume_at
                .iter()
                .filter(|(_, t)| **t <= now)
                .map(|(p, _)| *p)
                .collect();
            if !due.is_empty() {
                let tpl = tpl_of(&shared.config.input_topic, &due);
                if let Err(e) = consumer.resume(&tpl) {
                    warn!(error = %e, partitions = ?due, "cannot resume partitions");
                }
                for p in due {
                    self.resume_at.remove(&p);
                }
            }
        }
        if self.last_store.elapsed() >= STORE_EVERY {
            self.last_store = Instant::now();
            self.store(consumer);
        }
    }

    /// Hands acknowledged offsets to librdkafka's offset store (committed by
    /// the auto-commit every second).
    fn store(&mut self, consumer: &BaseConsumer<ServiceContext>) {
        self.shared
            .tracker
            .lock()
            .expect("not poisoned")
            .take_dirty(&mut self.dirty);
        if self.dirty.is_empty() {
            return;
        }
        for &(p, _) in &self.dirty {
            // A partition that commits again has recovered.
            self.backoff.remove(&p);
        }
        let mut tpl = TopicPartitionList::with_capacity(self.dirty.len());
        for &(p, o) in &self.dirty {
            let _ = tpl.add_partition_offset(&self.shared.config.input_topic, p, Offset::Offset(o));
        }
        if let Err(e) = consumer.store_offsets(&tpl) {
            // Partitions revoked in the meantime: their offsets were
            // committed on revocation.
            debug!(error = %e, "storing offsets");
        }
    }

    /// Failed deliveries: rewind each affected partition to its earliest
    /// unacknowledged offset, paused for a back-off.
    fn rewind_failed(&mut self, consumer: &BaseConsumer<ServiceContext>) {
        let topic = self.shared.config.input_topic.clone();
        let failures = self
            .shared
            .tracker
            .lock()
            .expect("not poisoned")
            .failures_at();
        for f in failures {
            let (p, from, why) = (f.partition, f.from, f.why);
            let backoff = self
                .backoff
                .get(&p)
                .map_or(Duration::from_millis(500), |b| (*b * 2).min(MAX_BACKOFF));
            self.backoff.insert(p, backoff);
            if crate::metrics::produce_error_is_permanent(why.code) {
                // The broker will refuse this record's output again: when
                // the rewind reaches it, it becomes a dead letter. Only that
                // record (`f.offset`), not the earliest one in flight.
                self.refused_outputs.insert(p, (f.offset, why.code));
            }
            let tpl = tpl_of(&topic, &[p]);
            let _ = consumer.pause(&tpl);
            self.shared
                .tracker
                .lock()
                .expect("not poisoned")
                .rewind(p, from);
            match consumer.seek(&topic, p, Offset::Offset(from), Duration::from_secs(10)) {
                Ok(()) => warn!(
                    partition = p,
                    offset = from,
                    code = why.code,
                    backoff_ms = backoff.as_millis() as u64,
                    "delivery failed: partition rewound; processing again after a back-off"
                ),
                Err(e) => {
                    warn!(partition = p, offset = from, error = %e, "cannot rewind partition")
                }
            }
            self.resume_at.insert(p, Instant::now() + backoff);
        }
    }

    /// Too many records in flight: stop taking records until a quarter of
    /// them were acknowledged, serving the consumer's callbacks meanwhile.
    ///
    /// With `back_pressure = "hold"` (the default) the partitions are not
    /// paused: not polling is enough, as the prefetch queue fills up and
    /// librdkafka stops fetching by itself, and nothing prefetched is thrown
    /// away and fetched again. With `"pause"` the assigned partitions are
    /// paused (librdkafka drops what it prefetched) and resumed after, but
    /// those in a rewind's back-off. Either way the consumer is polled every
    /// [`super::tracker::HOLD_TICK`] for rebalances and statistics; a record
    /// that comes with them is processed, so the bound is soft by at most one
    /// record per tick.
    fn back_pressure(&mut self, consumer: &BaseConsumer<ServiceContext>) {
        let shared = self.shared.clone();
        let max = shared.config.max_in_flight;
        debug!(in_flight = max, "back-pressure: consumption held");
        let held = Instant::now();
        let pause = shared.config.back_pressure == BackPressure::Pause;
        if pause {
            if let Ok(a) = consumer.assignment() {
                let _ = consumer.pause(&a);
            }
        }
        let n = super::tracker::hold(
            &shared.tracker,
            &shared.drained,
            max,
            || shared.stopping(),
            |n, tick| {
                shared.hot.in_flight.set(n as i64);
                self.housekeeping(consumer);
                if tick {
                    if let Some(Ok(m)) = consumer.poll(Duration::ZERO) {
                        self.process(consumer, &m);
                    }
                }
            },
        );
        shared.hot.in_flight.set(n as i64);
        if pause {
            self.resume_assigned(consumer);
        }
        shared
            .hot
            .backpressure_seconds
            .inc_by(held.elapsed().as_secs_f64());
    }

    /// Resumes what is still assigned, but partitions in a rewind's back-off.
    fn resume_assigned(&self, consumer: &BaseConsumer<ServiceContext>) {
        let topic = &self.shared.config.input_topic;
        if let Ok(a) = consumer.assignment() {
            let parts: Vec<i32> = a
                .elements_for_topic(topic)
                .iter()
                .map(|e| e.partition())
                .filter(|p| !self.resume_at.contains_key(p))
                .collect();
            let _ = consumer.resume(&tpl_of(topic, &parts));
        }
    }

    /// One input record → one output record (triaged or dead letter), on
    /// this thread.
    fn process(&mut self, consumer: &BaseConsumer<ServiceContext>, m: &BorrowedMessage<'_>) {
        let t0 = Instant::now();
        let gave_up = match self.ensure_schema(consumer, m) {
            SchemaWait::Ready => false,
            SchemaWait::GaveUp => true,
            SchemaWait::Stale | SchemaWait::Stop => return,
        };
        let mut out = std::mem::take(&mut self.out);
        let computed = match self.refused_output(m) {
            Some(code) => refused_dead(code),
            None if gave_up => self.registry_dead(),
            None => compute(
                &self.shared,
                m.payload().unwrap_or(&[]),
                &mut self.scratch,
                &mut out,
            ),
        };
        self.emit(m, computed, &out);
        self.out = out;
        self.processed(t0.elapsed());
    }

    /// An Avro writer schema not cached yet: fetch it first. While the
    /// registry does not answer, wait with a capped back-off, serving the
    /// group meanwhile: the assigned partitions are paused and the consumer
    /// polled, so heartbeats and rebalances go on and the instance is never
    /// evicted for not polling. A record of a partition assigned during the
    /// wait is put back (seek) for later. After
    /// `schema_registry_max_wait_seconds` the record gives up (dead letter),
    /// and so do later ones while the registry stays down, with one probe
    /// every [`REGISTRY_PROBE`] instead of a wait.
    fn ensure_schema(
        &mut self,
        consumer: &BaseConsumer<ServiceContext>,
        m: &BorrowedMessage<'_>,
    ) -> SchemaWait {
        let payload = m.payload().unwrap_or(&[]);
        // The per-record path: the registry answers (or is not needed).
        let mut first = None;
        if self.registry_down.is_none() && self.registry_probe.is_none() {
            match self.shared.codec.ensure_schema(payload) {
                Ok(()) => return SchemaWait::Ready,
                Err(e) => first = Some(e),
            }
        }
        let shared = self.shared.clone();
        if let Some(probe) = self.registry_probe {
            // Down for longer than the wait: no waiting, a probe now and then.
            if !shared.codec.needs_schema(payload) {
                return SchemaWait::Ready;
            }
            if Instant::now() < probe {
                return SchemaWait::GaveUp;
            }
        }
        let mut err = match first.map_or_else(|| shared.codec.ensure_schema(payload), Err) {
            Ok(()) => {
                self.registry_answers();
                return SchemaWait::Ready;
            }
            Err(e) => e,
        };
        if self.registry_probe.is_some() {
            self.registry_probe = Some(Instant::now() + REGISTRY_PROBE);
            return SchemaWait::GaveUp;
        }
        let since = *self.registry_down.get_or_insert_with(Instant::now);
        shared.registry_down.store(true, Ordering::Release);
        shared.metrics.schema_registry_up.set(0);
        let (p, epoch) = (m.partition(), self.epochs().get(&m.partition()).copied());
        let gen = shared.rebalances.load(Ordering::Acquire);
        let topic = shared.config.input_topic.clone();
        if let Ok(a) = consumer.assignment() {
            let _ = consumer.pause(&a);
        }
        let max = shared.config.schema_registry_max_wait();
        let mut attempt = 0;
        let outcome = 'wait: loop {
            let left = max.saturating_sub(since.elapsed());
            if left.is_zero() {
                self.registry_probe = Some(Instant::now() + REGISTRY_PROBE);
                break SchemaWait::GaveUp;
            }
            let wait = super::format::RegistryCodec::registry_backoff(attempt).min(left);
            warn!(error = %err, code = err.code(), partition = p, offset = m.offset(),
                retry_in_ms = wait.as_millis() as u64, "schema registry unavailable; waiting (the group is still served)");
            let until = Instant::now() + wait;
            while Instant::now() < until {
                if shared.stopping() {
                    break 'wait SchemaWait::Stop;
                }
                // Serves heartbeats and rebalance callbacks.
                if let Some(Ok(x)) = consumer.poll(Duration::from_millis(100)) {
                    // A partition assigned meanwhile (resumed on
                    // assignment): put the record back and pause it.
                    let (xp, xo) = (x.partition(), x.offset());
                    drop(x);
                    let _ = consumer.seek(&topic, xp, Offset::Offset(xo), Duration::from_secs(5));
                    let _ = consumer.pause(&tpl_of(&topic, &[xp]));
                }
            }
            attempt += 1;
            match shared.codec.ensure_schema(payload) {
                Ok(()) => {
                    self.registry_answers();
                    break SchemaWait::Ready;
                }
                Err(e) => err = e,
            }
        };
        self.resume_assigned(consumer);
        if matches!(outcome, SchemaWait::Ready | SchemaWait::GaveUp)
            && shared.rebalances.load(Ordering::Acquire) != gen
            && self.epochs().get(&p).copied() != epoch
        {
            // Revoked or reassigned while waiting: its owner reads it again.
            return SchemaWait::Stale;
        }
        outcome
    }

    /// The registry answered: waiting ends (nothing to do if none began).
    fn registry_answers(&mut self) {
        let was_down = self.registry_down.take().is_some();
        if self.registry_probe.take().is_some() || was_down {
            info!("the schema registry answers again");
            self.shared.registry_down.store(false, Ordering::Release);
            self.shared.metrics.schema_registry_up.set(1);
        }
    }

    /// The broker refused this record's triaged output for good before (and
    /// the partition was rewound to it): it goes to the dead letters.
    fn refused_output(&mut self, m: &BorrowedMessage<'_>) -> Option<&'static str> {
        if self.refused_outputs.is_empty() {
            return None;
        }
        let p = m.partition();
        match self.refused_outputs.get(&p) {
            Some(&(o, code)) if o == m.offset() => {
                self.refused_outputs.remove(&p);
                Some(code)
            }
            _ => None,
        }
    }

    /// The dead letter of a record that gave up waiting for the registry.
    fn registry_dead(&self) -> Computed {
        Computed::Dead {
            reason: DlqReason::UnknownSchema,
            detail: format!(
                "the schema registry did not answer for {} s (schema_registry_max_wait_seconds); the writer schema is unknown",
                self.shared.config.schema_registry_max_wait_seconds
            ),
        }
    }

    /// Sends again, smaller, the dead letters the broker refused.
    fn resend_refused(&mut self) {
        let refused = std::mem::take(&mut *self.shared.refused.lock().expect("not poisoned"));
        for r in refused {
            let shared = self.shared.clone();
            let (how, payload): (&'static str, Option<&[u8]>) = match (&r.payload, r.step) {
                (Some(v), 1) if v.len() > REDUCED_DLQ_BYTES => {
                    ("truncated", Some(&v[..REDUCED_DLQ_BYTES]))
                }
                _ => ("no_value", None),
            };
            let step = if how == "no_value" { 2 } else { r.step };
            let topic = &shared.config.dead_letter_topic;
            shared
                .metrics
                .dead_letter_reduced(how, r.code, topic, r.at.partition, r.at.offset);
            let kept = payload.map_or(0, <[u8]>::len).to_string();
            let original = r.original_len.to_string();
            let mut headers = OwnedHeaders::new_with_capacity(r.headers.len() + 3);
            for (k, v) in &r.headers {
                if matches!(
                    k.as_str(),
                    "dlq-original-size" | "dlq-truncated" | "dlq-refused"
                ) {
                    continue;
                }
                headers = headers.insert(Header {
                    key: k,
                    value: v.as_deref(),
                });
            }
            headers = headers
                .insert(Header {
                    key: "dlq-original-size",
                    value: Some(original.as_str()),
                })
                .insert(Header {
                    key: "dlq-truncated",
                    value: Some(kept.as_str()),
                })
                .insert(Header {
                    key: "dlq-refused",
                    value: Some(r.code),
                });
            let info = SlotInfo {
                sent_at: Instant::now(),
                partition: r.at.partition,
                offset: r.at.offset,
                kind: SlotKind::DeadLetter {
                    step,
                    original_len: r.original_len,
                },
            };
            let resent = {
                let mut t = shared.tracker.lock().expect("not poisoned");
                t.resend(r.at, info).map(|slot| (slot, t.in_flight()))
            };
            // Err: revoked or rewound meanwhile; processed again from there.
            if let Ok((slot, in_flight)) = resent {
                let at = (r.at.partition, r.at.offset);
                let key = r.key.as_deref();
                self.produce(slot, in_flight, topic, key, payload, headers, at);
            }
        }
    }

    fn processed(&self, took: Duration) {
        let hot = &self.shared.hot;
        hot.processing.observe(took.as_secs_f64());
        hot.last_processed.set(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        );
    }

    /// Hands one computed record to the producer. For a triaged ticket
    /// `out` holds the encoded record.
    fn emit(&mut self, m: &BorrowedMessage<'_>, computed: Computed, out: &[u8]) {
        self.shared.hot.consumed.inc();
        let (partition, offset) = (m.partition(), m.offset());
        let c = match computed {
            Computed::Dead { reason, detail } => return self.dead_letter(m, reason, &detail),
            Computed::Triaged(c) => c,
        };
        // The level (topic, name) is borrowed from the rules the slot keeps
        // alive: an `Arc` clone per ticket instead of a topic `String`.
        let active = c.active;
        let level = &active.rules.levels[c.level as usize];
        debug!(
            ticket_id = %c.ticket_id,
            priority = %level.name,
            partition,
            offset,
            "triaged"
        );
        let mut headers = OwnedHeaders::new_with_capacity(3)
            .insert(Header {
                key: "triage-priority",
                value: Some(level.name.as_bytes()),
            })
            .insert(Header {
                key: "content-type",
                value: Some(self.shared.codec.codec().content_type().as_bytes()),
            });
        if let Some(h) = &c.shadow {
            headers = headers.insert(Header {
                key: "triage-shadow",
                value: Some(h.as_slice()),
            });
        }
        self.send(
            &level.topic,
            Some(c.ticket_id.as_bytes()),
            Some(out),
            headers,
            SlotInfo {
                sent_at: Instant::now(),
                partition,
                offset,
                kind: SlotKind::Triaged {
                    active: active.clone(),
                    level: c.level,
                    created_at: c.created_at,
                },
            },
        );
    }

    /// `workers` > 1: takes the records that are ready (a round), has them
    /// computed in parallel (each thread claims blocks, see [`rounds`]), then
    /// emits them in input order. A rebalance while the round is collected
    /// can make some of its records stale (their partition was revoked, or
    /// assigned again and so re-read from the committed offset): those are
    /// skipped, never begun.
    fn round(&mut self, consumer: &BaseConsumer<ServiceContext>) {
        let shared = self.shared.clone();
        let first = match consumer.poll(Duration::from_millis(100)) {
            None => return,
            Some(Err(e)) => return warn!(error = %e, "ticket consumer error"),
            Some(Ok(m)) => m,
        };
        let room = shared
            .config
            .max_in_flight
            .saturating_sub(shared.hot.in_flight.get().max(0) as usize)
            .clamp(1, ROUND_MAX);
        let mut gen = shared.rebalances.load(Ordering::Acquire);
        let mut epochs = self.epochs();
        let mut msgs: Vec<(BorrowedMessage<'_>, Option<u64>)> = Vec::with_capacity(room);
        let e = epochs.get(&first.partition()).copied();
        msgs.push((first, e));
        while msgs.len() < room {
            let m = match consumer.poll(Duration::ZERO) {
                None => break,
                Some(Err(e)) => {
                    warn!(error = %e, "ticket consumer error");
                    break;
                }
                Some(Ok(m)) => m,
            };
            let now_gen = shared.rebalances.load(Ordering::Acquire);
            if now_gen != gen {
                gen = now_gen;
                epochs = self.epochs();
            }
            let e = epochs.get(&m.partition()).copied();
            msgs.push((m, e));
        }
        // Per record: its schema is there, it gave up waiting, or it went
        // stale while waiting (skipped).
        let mut waits = Vec::with_capacity(msgs.len());
        for (m, _) in &msgs {
            match self.ensure_schema(consumer, m) {
                SchemaWait::Stop => return,
                w => waits.push(w),
            }
        }
        let t0 = Instant::now();
        let n = msgs.len();
        let payloads: Vec<&[u8]> = msgs
            .iter()
            .map(|(m, _)| m.payload().unwrap_or(&[]))
            .collect();
        let mut results = self.pool.run(&payloads);
        let per = t0.elapsed() / n as u32;
        let current = if shared.rebalances.load(Ordering::Acquire) == gen {
            epochs
        } else {
            self.epochs()
        };
        for (i, (m, epoch)) in msgs.iter().enumerate() {
            // (Untracked then and now: emitted, as one at a time would.)
            if current.get(&m.partition()) != epoch.as_ref() {
                debug!(
                    partition = m.partition(),
                    offset = m.offset(),
                    "skipped: its partition was revoked or reassigned while the round was collected"
                );
                continue;
            }
            let computed = results[i].0.take();
            let computed = match (self.refused_output(m), &waits[i]) {
                (_, SchemaWait::Stale) => continue,
                (Some(code), _) => refused_dead(code),
                (None, SchemaWait::GaveUp) => self.registry_dead(),
                (None, _) => match computed {
                    Some(c) => c,
                    None => continue,
                },
            };
            self.emit(m, computed, &results[i].1);
            self.processed(per);
        }
        results.retain(|(_, out)| out.capacity() <= rounds::KEEP_BYTES);
        self.pool.recycle(results);
    }

    /// Every tracked partition's epoch.
    fn epochs(&self) -> HashMap<i32, u64> {
        self.shared.tracker.lock().expect("not poisoned").epochs()
    }

    /// Sends the input record, unchanged, to the dead-letter topic. If the
    /// producer or the broker refuses it for good (too large for the
    /// dead-letter topic, say), it is sent again smaller ([`Refused`]).
    fn dead_letter(&mut self, m: &BorrowedMessage<'_>, reason: DlqReason, detail: &str) {
        let shared = self.shared.clone();
        let topic = m.topic();
        let (p, o) = (m.partition(), m.offset());
        shared.metrics.dead_letter(reason, detail, topic, p, o);
        let ps = p.to_string();
        let os = o.to_string();
        let original_len = m.payload_len();
        let headers = OwnedHeaders::new_with_capacity(5)
            .insert(Header {
                key: "dlq-reason",
                value: Some(reason.as_str()),
            })
            .insert(Header {
                key: "dlq-detail",
                value: Some(detail),
            })
            .insert(Header {
                key: "dlq-source-topic",
                value: Some(topic),
            })
            .insert(Header {
                key: "dlq-source-partition",
                value: Some(ps.as_str()),
            })
            .insert(Header {
                key: "dlq-source-offset",
                value: Some(os.as_str()),
            });
        self.send(
            &shared.config.dead_letter_topic,
            m.key(),
            m.payload(),
            headers,
            SlotInfo {
                sent_at: Instant::now(),
                partition: p,
                offset: o,
                kind: SlotKind::DeadLetter {
                    step: 0,
                    original_len,
                },
            },
        );
    }

    /// Registers the record in the tracker and hands it to the producer.
    fn send(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: OwnedHeaders,
        info: SlotInfo,
    ) {
        let (partition, offset) = (info.partition, info.offset);
        let (slot, in_flight) = {
            let mut t = self.shared.tracker.lock().expect("not poisoned");
            let slot = t.begin(partition, offset, info);
            (slot, t.in_flight())
        };
        let at = (partition, offset);
        self.produce(slot, in_flight, topic, key, payload, headers, at);
    }

    /// Hands a tracked record to the producer (retrying while librdkafka's
    /// queue is full). Never waits for delivery.
    #[allow(clippy::too_many_arguments)]
    fn produce(
        &mut self,
        slot: super::tracker::SlotId,
        in_flight: usize,
        topic: &str,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: OwnedHeaders,
        (partition, offset): (i32, i64),
    ) {
        let shared = &self.shared;
        shared.hot.in_flight.set(in_flight as i64);
        let mut record: BaseRecord<'_, [u8], [u8], usize> =
            BaseRecord::with_opaque_to(topic, slot).headers(headers);
        if let Some(p) = payload {
            record = record.payload(p);
        }
        if let Some(k) = key {
            record = record.key(k);
        }
        let mut waited = Duration::ZERO;
        loop {
            match self.producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(2));
                    waited += Duration::from_millis(2);
                    if waited.as_millis() % 5000 == 0 {
                        warn!(topic, "producer queue full for 5 s: brokers slow or down");
                    }
                }
                Err((e, r)) => {
                    // Not enqueued: resolved as a refused delivery.
                    let code = e
                        .rdkafka_error_code()
                        .map(produce_error_code)
                        .unwrap_or("other");
                    let mut t = shared.tracker.lock().expect("not poisoned");
                    on_refused(
                        shared,
                        &mut t,
                        slot,
                        code,
                        r.key,
                        r.payload,
                        r.headers.as_ref(),
                    );
                    drop(t);
                    shared
                        .metrics
                        .produce_error(code, &e, topic, partition, offset);
                    break;
                }
            }
        }
    }

    /// Shutdown: stop consuming, wait for every in-flight record (bounded),
    /// commit what was acknowledged, flush.
    fn drain(mut self, consumer: &BaseConsumer<ServiceContext>) -> Drained {
        let shared = self.shared.clone();
        let budget = shared.config.common.drain_timeout().mul_f64(0.8);
        let deadline = Instant::now() + budget;
        let assignment = consumer.assignment().unwrap_or_default();
        let _ = consumer.pause(&assignment);
        let left = wait_in_flight(&shared, &[], deadline);
        self.store(consumer);
        let offsets = shared
            .tracker
            .lock()
            .expect("not poisoned")
            .committable(&[]);
        commit(&shared, consumer, &offsets, "shutdown");
        let rest = deadline.saturating_duration_since(Instant::now());
        if let Err(e) = self.producer.flush(rest.max(Duration::from_millis(100))) {
            warn!(error = %e, "producer flush");
        }
        if left > 0 {
            warn!(
                unacknowledged = left,
                "drain timed out: these records' inputs were not committed and will be processed again"
            );
        } else {
            info!(committed = ?offsets, "drained: every record acknowledged, offsets committed");
        }
        consumer.unsubscribe();
        Drained {
            unacknowledged: left,
        }
    }
}

/// What the engine made of one input record: computed on any thread (no
/// I/O, no Kafka), handed to the producer on the pipeline thread.
pub(crate) enum Computed {
    /// Triaged; the encoded record is in the buffer it was computed into.
    Triaged(TriagedInfo),
    /// To the dead-letter topic, unchanged, with this reason.
    Dead { reason: DlqReason, detail: String },
}

pub(crate) struct TriagedInfo {
    ticket_id: String,
    /// The level (its name is the priority, its topic the destination).
    level: u16,
    active: Arc<Active>,
    created_at: Timestamp,
    /// The `triage-shadow` header's value, with shadow rules.
    shadow: Option<Vec<u8>>,
}

/// The engine's scratch space for the live rules and for the shadow rules (one per thread).
#[derive(Default)]
pub(crate) struct Scratch {
    live: EngineScratch,
    shadow: EngineScratch,
}

/// The `triage-shadow` header: the shadow rules' decision as compact JSON.
fn shadow_header(d: &ShadowDecision) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "priority": &*d.priority,
        "category": &*d.category,
        "queue": &*d.queue,
        "tier": &*d.tier,
        "score": d.score,
        "rules_version": &*d.rules_version,
    }))
    // A JSON value of strings and an integer always serialises (into memory).
    .expect("serializable")
}

/// The dead letter for an input whose triaged record the broker refused
/// for good (`code`).
fn refused_dead(code: &'static str) -> Computed {
    let reason = if matches!(code, "msg_size_too_large" | "record_list_too_large") {
        DlqReason::TooLarge
    } else {
        DlqReason::OutputRefused
    };
    Computed::Dead {
        reason,
        detail: format!("the broker refused the triaged record ({code})"),
    }
}

/// [`compute_record`] with panic isolation: a panic on one record makes it a
/// dead letter with reason `internal_error` (counted, logged as an error)
/// and the stream goes on. The scratch space is reset after a panic.
fn compute(shared: &Shared, payload: &[u8], scratch: &mut Scratch, out: &mut Vec<u8>) -> Computed {
    match crate::isolate::isolate(|| compute_record(shared, payload, scratch, out)) {
        Ok(c) => c,
        Err(panic) => {
            *scratch = Scratch::default();
            out.clear();
            shared.metrics.internal_error(&panic);
            Computed::Dead {
                reason: DlqReason::InternalError,
                detail: format!("internal error while triaging this record: {panic}"),
            }
        }
    }
}

/// [`process`] one input record into `out` (the core's per-ticket function,
/// as of now, with the customer table) and count it in the metrics.
fn compute_record(
    shared: &Shared,
    payload: &[u8],
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Computed {
    let active = shared.rules.load_full();
    // A guard, not a clone of the `Arc`: nothing is counted per ticket without shadow rules.
    let shadow_rules = shared.shadow.load();
    let now = Timestamp::now();
    let limits = Limits {
        max_input_bytes: shared.config.max_message_bytes,
        max_output_bytes: shared.config.producer_max_bytes(),
    };
    let shadow = shadow_rules.as_deref().map(|rules| Shadow {
        rules,
        scratch: &mut scratch.shadow,
    });
    let t = match process_with_shadow(
        shared.codec.codec(),
        &active.rules,
        &shared.table,
        payload,
        now,
        limits,
        &mut scratch.live,
        out,
        shadow,
    ) {
        Outcome::Dead(e) => {
            return Computed::Dead {
                reason: e.reason,
                detail: e.detail,
            }
        }
        Outcome::Triaged(t) => t,
    };
    if t.customer_known {
        shared.hot.hit.inc();
    } else {
        shared.hot.miss.inc();
    }
    // The level and category are indices into `active.rules`, and
    // `active.metrics` was built for those same rules (one `Active`, swapped
    // whole on reload): every index below is in bounds.
    let rm = &active.metrics;
    let l = t.level as usize;
    rm.triaged[l][t.category as usize].inc();
    if let Some(used) = t.first_response_used {
        rm.used_ratio[l].observe(used);
        if t.past_due {
            rm.at_risk[l][1].inc();
        } else if used >= shared.config.sla_at_risk_fraction {
            rm.at_risk[l][0].inc();
        }
    }
    let shadow = match t.shadow {
        None => None,
        Some(Ok(d)) => {
            let live = &active.rules.levels[l];
            shared
                .metrics
                .shadow_decided((&live.name, &t.queue), (&d.priority, &d.queue));
            Some(shadow_header(&d))
        }
        Some(Err(panic)) => {
            scratch.shadow = EngineScratch::default();
            shared.metrics.shadow_failed(&panic);
            None
        }
    };
    Computed::Triaged(TriagedInfo {
        ticket_id: t.ticket_id,
        level: t.level,
        active,
        created_at: t.created_at,
        shadow,
    })
}

/// Records taken per round when `workers` > 1.
const ROUND_MAX: usize = 256;

/// One computed record and the buffer holding its encoded output.
type RoundResult = (Option<Computed>, Vec<u8>);

/// A round's work for one record (see [`rounds`]).
fn compute_into(shared: &Shared, scratch: &mut Scratch, payload: &[u8], r: &mut RoundResult) {
    r.1.clear();
    r.0 = Some(compute(shared, payload, scratch, &mut r.1));
}

fn tpl_of(topic: &str, partitions: &[i32]) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::with_capacity(partitions.len());
    for &p in partitions {
        let _ = tpl.add_partition(topic, p);
    }
    tpl
}

/// [`super::tracker::wait_in_flight`] on the service's tracker.
fn wait_in_flight(shared: &Shared, partitions: &[i32], deadline: Instant) -> usize {
    super::tracker::wait_in_flight(&shared.tracker, &shared.drained, partitions, deadline)
}

/// Commits explicit offsets synchronously.
fn commit(
    shared: &Shared,
    consumer: &BaseConsumer<ServiceContext>,
    offsets: &[(i32, i64)],
    why: &'static str,
) {
    if offsets.is_empty() {
        return;
    }
    let mut tpl = TopicPartitionList::with_capacity(offsets.len());
    for &(p, o) in offsets {
        let _ = tpl.add_partition_offset(&shared.config.input_topic, p, Offset::Offset(o));
    }
    match consumer.commit(&tpl, CommitMode::Sync) {
        Ok(()) => shared.metrics.committed(why, offsets),
        Err(e) => shared.metrics.commit_failed(&e),
    }
}

/// Rebalance: partitions are being taken away. Finish their in-flight
/// records (bounded by the drain timeout) and commit before giving them up.
pub(crate) fn on_revoke(
    shared: &Shared,
    consumer: &BaseConsumer<ServiceContext>,
    tpl: &TopicPartitionList,
) {
    let parts: Vec<i32> = tpl
        .elements_for_topic(&shared.config.input_topic)
        .iter()
        .map(|e| e.partition())
        .collect();
    let lost = consumer.assignment_lost();
    if !lost {
        let left = wait_in_flight(
            shared,
            &parts,
            Instant::now() + shared.config.common.drain_timeout(),
        );
        if left > 0 {
            warn!(
                unacknowledged = left,
                "revoked partitions still had records in flight after the drain timeout; their inputs will be processed again by the next owner"
            );
        }
        let offsets = shared
            .tracker
            .lock()
            .expect("not poisoned")
            .committable(&parts);
        commit(shared, consumer, &offsets, "rebalance");
    }
    let assigned = {
        let mut t = shared.tracker.lock().expect("not poisoned");
        for &p in &parts {
            t.revoke(p);
        }
        t.partitions().len()
    };
    shared.assigned.store(assigned, Ordering::Release);
    shared.rebalances.fetch_add(1, Ordering::AcqRel);
    shared.metrics.rebalance("revoke", &parts, assigned);
}

/// After an assignment took effect: librdkafka keeps a partition's
/// application pause across revocation and re-assignment, so a partition
/// paused before (a rewind's back-off) would stay paused forever. Resume
/// them.
pub(crate) fn after_assign(
    shared: &Shared,
    consumer: &BaseConsumer<ServiceContext>,
    tpl: &TopicPartitionList,
) {
    if shared.stopping() {
        return;
    }
    if let Err(e) = consumer.resume(tpl) {
        warn!(error = %e, "cannot resume newly assigned partitions");
    }
}

/// Rebalance: partitions were assigned.
pub(crate) fn on_assign(shared: &Shared, tpl: &TopicPartitionList) {
    let parts: Vec<i32> = tpl
        .elements_for_topic(&shared.config.input_topic)
        .iter()
        .map(|e| e.partition())
        .collect();
    let assigned = {
        let mut t = shared.tracker.lock().expect("not poisoned");
        for &p in &parts {
            if !t.is_assigned(p) {
                t.assign(p);
            }
        }
        t.partitions().len()
    };
    shared.assigned.store(assigned, Ordering::Release);
    shared.rebalances.fetch_add(1, Ordering::AcqRel);
    shared.metrics.rebalance("assign", &parts, assigned);
}
