//! Per-partition ordered offset tracking: the bookkeeping behind
//! at-least-once delivery.
//!
//! Delivery guarantee: an input offset becomes committable only when the
//! record it caused (triaged output or dead letter) and every record of every
//! earlier offset of the same partition has been acknowledged by the broker.
//! Acknowledgements may arrive in any order; the committable position only
//! moves forward over a contiguous prefix of acknowledged offsets (like
//! Vector's `OrderedFinalizer`). A failed delivery stops the partition's
//! position before it; the consumer then rewinds the partition to its
//! earliest unacknowledged offset and processes again from there
//! (duplicates possible, losses not).
//!
//! Pure data structure: no Kafka, no clock, no locks (the caller wraps it in a
//! mutex shared with the producer's delivery callback).

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// A handle for one record handed to the producer, passed to librdkafka as
/// the delivery opaque and given back in the delivery report.
pub type SlotId = usize;

/// Why a delivery failed: a fixed code (`triage_produce_errors_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
}

/// A failed delivery ([`Tracker::failures_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed {
    pub partition: i32,
    /// The earliest unacknowledged offset: where to consume from again.
    pub from: i64,
    /// The input offset whose record failed.
    pub offset: i64,
    pub why: Failure,
}

/// An input whose output was refused and is to be replaced
/// ([`Tracker::refuse`], [`Tracker::resend`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub partition: i32,
    pub offset: i64,
    epoch: u64,
}

#[derive(Debug)]
struct Entry {
    offset: i64,
    done: bool,
}

#[derive(Debug)]
struct Part {
    /// Changes when the partition is (re)assigned or rewound; deliveries of
    /// records from an older epoch are ignored.
    epoch: u64,
    /// Offsets in flight, ascending.
    pending: VecDeque<Entry>,
    /// Next offset to commit (last contiguous acknowledged offset + 1).
    committable: Option<i64>,
    /// `committable` moved since the last [`Tracker::take_dirty`].
    dirty: bool,
    /// Records of this epoch handed to the producer and not yet resolved.
    outstanding: usize,
    /// The earliest offset whose delivery failed, and why.
    failed: Option<(i64, Failure)>,
}

#[derive(Debug)]
struct Slot<T> {
    partition: i32,
    offset: i64,
    epoch: u64,
    info: Option<T>,
}

/// What a delivery report resolved to.
#[derive(Debug, PartialEq)]
pub enum Outcome<T> {
    /// Counted; `T` is what was stored with the record.
    Acked(T),
    /// The record belongs to a partition this instance no longer tracks (or
    /// tracks in a newer epoch): nothing to do but the metrics.
    Stale(T),
}

/// The tracker: partitions → in-flight offsets, plus a slab of in-flight
/// records (slot ids are reused, so no allocation per record once warm).
#[derive(Debug)]
pub struct Tracker<T> {
    parts: HashMap<i32, Part>,
    slots: Vec<Slot<T>>,
    free: Vec<SlotId>,
    in_flight: usize,
    next_epoch: u64,
    /// Someone waits for in-flight records to drain (avoids waking a condvar
    /// on every acknowledgement).
    pub waiting: bool,
    /// Any partition has a failure to handle (checked without a map scan).
    any_failed: bool,
}

impl<T> Default for Tracker<T> {
    fn default() -> Self {
        Tracker {
            parts: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            in_flight: 0,
            next_epoch: 1,
            waiting: false,
            any_failed: false,
        }
    }
}

impl<T> Tracker<T> {
    /// Starts tracking a partition (on assignment). Records of an earlier
    /// assignment that are still in flight no longer count for it.
    pub fn assign(&mut self, partition: i32) {
        let epoch = self.next_epoch;
        self.next_epoch += 1;
        self.parts.insert(
            partition,
            Part {
                epoch,
                pending: VecDeque::new(),
                committable: None,
                dirty: false,
                outstanding: 0,
                failed: None,
            },
        );
    }

    /// Stops tracking a partition (on revocation); returns its committable
    /// offset.
    pub fn revoke(&mut self, partition: i32) -> Option<i64> {
        self.parts.remove(&partition).and_then(|p| p.committable)
    }

    pub fn is_assigned(&self, partition: i32) -> bool {
        self.parts.contains_key(&partition)
    }

    /// Every tracked partition's epoch (it changes when the partition is
    /// assigned again or rewound).
    pub fn epochs(&self) -> HashMap<i32, u64> {
        self.parts
            .iter()
            .map(|(&p, part)| (p, part.epoch))
            .collect()
    }

    /// A record caused by input `offset` of `partition` is about to be handed
    /// to the producer. Returns the slot to pass as delivery opaque.
    pub fn begin(&mut self, partition: i32, offset: i64, info: T) -> SlotId {
        let part = match self.parts.get_mut(&partition) {
            Some(p) => p,
            None => {
                // A message of a partition we were not told about (should not
                // happen: assignment precedes messages). Track it anyway.
                self.assign(partition);
                self.parts.get_mut(&partition).expect("just assigned")
            }
        };
        match part.pending.back() {
            Some(last) if last.offset >= offset => {
                // Out of order (cannot happen within one epoch); keep sorted.
                let at = part.pending.partition_point(|e| e.offset < offset);
                if part.pending.get(at).map(|e| e.offset) != Some(offset) {
                    part.pending.insert(
                        at,
                        Entry {
                            offset,
                            done: false,
                        },
                    );
                }
            }
            _ => part.pending.push_back(Entry {
                offset,
                done: false,
            }),
        }
        part.outstanding += 1;
        let slot = Slot {
            partition,
            offset,
            epoch: part.epoch,
            info: Some(info),
        };
        self.in_flight += 1;
        match self.free.pop() {
            Some(id) => {
                self.slots[id] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        }
    }

    /// What was stored with an in-flight record.
    pub fn info(&self, id: SlotId) -> Option<&T> {
        self.slots.get(id)?.info.as_ref()
    }

    fn release(&mut self, id: SlotId) -> Option<(i32, i64, u64, T)> {
        let s = self.slots.get_mut(id)?;
        let info = s.info.take()?;
        self.free.push(id);
        self.in_flight -= 1;
        Some((s.partition, s.offset, s.epoch, info))
    }

    /// The broker acknowledged the record of `slot`.
    pub fn ack(&mut self, slot: SlotId) -> Option<Outcome<T>> {
        let (partition, offset, epoch, info) = self.release(slot)?;
        let Some(part) = self.parts.get_mut(&partition) else {
            return Some(Outcome::Stale(info));
        };
        if part.epoch != epoch {
            return Some(Outcome::Stale(info));
        }
        part.outstanding -= 1;
        if let Ok(i) = part.pending.binary_search_by_key(&offset, |e| e.offset) {
            part.pending[i].done = true;
        }
        while part.pending.front().is_some_and(|e| e.done) {
            let e = part.pending.pop_front().expect("front exists");
            if part.failed.as_ref().is_some_and(|(f, _)| *f <= e.offset) {
                // Cannot pass a failure: put it back.
                part.pending.push_front(e);
                break;
            }
            part.committable = Some(e.offset + 1);
            part.dirty = true;
        }
        Some(Outcome::Acked(info))
    }

    /// The record of `slot` could not be delivered. The partition's position
    /// stops before it until [`Tracker::rewind`].
    pub fn fail(&mut self, slot: SlotId, why: Failure) -> Option<Outcome<T>> {
        let (partition, offset, epoch, info) = self.release(slot)?;
        let Some(part) = self.parts.get_mut(&partition) else {
            return Some(Outcome::Stale(info));
        };
        if part.epoch != epoch {
            return Some(Outcome::Stale(info));
        }
        part.outstanding -= 1;
        match &part.failed {
            Some((f, _)) if *f <= offset => {}
            _ => part.failed = Some((offset, why)),
        }
        self.any_failed = true;
        Some(Outcome::Acked(info))
    }

    /// Partitions with a failed delivery: (partition, offset to consume
    /// from again — the earliest unacknowledged offset —, the failure).
    pub fn failures(&self) -> Vec<(i32, i64, Failure)> {
        self.failures_at()
            .into_iter()
            .map(|f| (f.partition, f.from, f.why))
            .collect()
    }

    /// [`Tracker::failures`], with the offset of the record whose delivery
    /// failed (at or after `from`).
    pub fn failures_at(&self) -> Vec<Failed> {
        if !self.any_failed {
            return Vec::new();
        }
        self.parts
            .iter()
            .filter_map(|(&p, part)| {
                let (off, why) = part.failed.as_ref()?;
                let from = part.pending.front().map_or(*off, |e| e.offset.min(*off));
                Some(Failed {
                    partition: p,
                    from,
                    offset: *off,
                    why: *why,
                })
            })
            .collect()
    }

    /// The record of `slot` was refused for good and will be replaced by
    /// another record for the same input ([`Tracker::resend`]): the slot is
    /// released, the input offset stays pending (the position cannot pass
    /// it) and the partition is not marked failed. Returns the slot's
    /// record, or `None` for an unknown slot; stale slots (revoked,
    /// rewound) come back as [`Outcome::Stale`] and need no replacement.
    pub fn refuse(&mut self, slot: SlotId) -> Option<(Outcome<T>, Pending)> {
        let (partition, offset, epoch, info) = self.release(slot)?;
        let at = Pending {
            partition,
            offset,
            epoch,
        };
        let Some(part) = self.parts.get_mut(&partition) else {
            return Some((Outcome::Stale(info), at));
        };
        if part.epoch != epoch {
            return Some((Outcome::Stale(info), at));
        }
        part.outstanding -= 1;
        Some((Outcome::Acked(info), at))
    }

    /// Hands out a new slot for an input refused before ([`Tracker::refuse`]),
    /// if its partition is still in the same epoch; else gives `info` back
    /// (the partition was revoked or rewound meanwhile: the input will be
    /// processed again from its offset).
    pub fn resend(&mut self, at: Pending, info: T) -> Result<SlotId, T> {
        match self.parts.get(&at.partition) {
            Some(part)
                if part.epoch == at.epoch
                    && part
                        .pending
                        .binary_search_by_key(&at.offset, |e| e.offset)
                        .is_ok() => {}
            _ => return Err(info),
        }
        Ok(self.begin(at.partition, at.offset, info))
    }

    /// The consumer went back to `from` on `partition`: forget what is in
    /// flight there (its deliveries become stale) and start a new epoch.
    /// Offsets before `from` that were acknowledged stay committable.
    pub fn rewind(&mut self, partition: i32, from: i64) {
        let epoch = self.next_epoch;
        self.next_epoch += 1;
        if let Some(part) = self.parts.get_mut(&partition) {
            part.epoch = epoch;
            part.pending.clear();
            part.outstanding = 0;
            part.failed = None;
            if part.committable.is_none_or(|c| c < from) && from > 0 {
                // Everything before `from` was acknowledged (it was the
                // earliest unacknowledged offset).
                part.committable = Some(from);
                part.dirty = true;
            }
        }
        self.any_failed = self.parts.values().any(|p| p.failed.is_some());
    }

    /// Committable offsets that moved since the last call.
    pub fn take_dirty(&mut self, out: &mut Vec<(i32, i64)>) {
        out.clear();
        for (&p, part) in self.parts.iter_mut() {
            if part.dirty {
                part.dirty = false;
                if let Some(c) = part.committable {
                    out.push((p, c));
                }
            }
        }
    }

    /// Committable offsets of these partitions (all tracked ones if empty).
    pub fn committable(&self, partitions: &[i32]) -> Vec<(i32, i64)> {
        let mut v: Vec<(i32, i64)> = self
            .parts
            .iter()
            .filter(|(p, _)| partitions.is_empty() || partitions.contains(p))
            .filter_map(|(&p, part)| part.committable.map(|c| (p, c)))
            .collect();
        v.sort_unstable();
        v
    }

    /// Records in flight, all partitions.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Records in flight for these partitions (of their current epoch).
    pub fn in_flight_of(&self, partitions: &[i32]) -> usize {
        partitions
            .iter()
            .filter_map(|p| self.parts.get(p))
            .map(|part| part.outstanding)
            .sum()
    }

    /// Tracked partitions, ascending.
    pub fn partitions(&self) -> Vec<i32> {
        let mut v: Vec<i32> = self.parts.keys().copied().collect();
        v.sort_unstable();
        v
    }
}

/// Waits until no record of `partitions` (all if empty) is in flight, or the
/// deadline; returns how many still are. `drained` is the condition variable
/// the acknowledgement path notifies while `waiting` is set.
pub fn wait_in_flight<T>(
    tracker: &Mutex<Tracker<T>>,
    drained: &Condvar,
    partitions: &[i32],
    deadline: Instant,
) -> usize {
    wait_until(tracker, drained, partitions, 0, deadline)
}

/// Waits until at most `low` records (of all partitions) are in flight, or
/// for `timeout`; returns how many are.
fn wait_below<T>(
    tracker: &Mutex<Tracker<T>>,
    drained: &Condvar,
    low: usize,
    timeout: Duration,
) -> usize {
    wait_until(tracker, drained, &[], low, Instant::now() + timeout)
}

/// How often [`hold`] calls back with `tick` set.
pub const HOLD_TICK: Duration = Duration::from_millis(50);

/// Back-pressure, shared by the pipeline and the passthrough baseline: waits
/// until a quarter of `max` in-flight records were acknowledged (at most
/// `max - max / 4` left) or `stop()`. After every other wake-up it calls
/// `on_wake(in_flight, tick)`, with `tick` set once per [`HOLD_TICK`] — when
/// the caller polls its consumer for callbacks (partitions are not paused).
/// Returns the records still in flight.
pub fn hold<T>(
    tracker: &Mutex<Tracker<T>>,
    drained: &Condvar,
    max: usize,
    stop: impl Fn() -> bool,
    mut on_wake: impl FnMut(usize, bool),
) -> usize {
    let low = max - max / 4;
    let mut last_tick = Instant::now();
    loop {
        let n = wait_below(
            tracker,
            drained,
            low,
            HOLD_TICK.saturating_sub(last_tick.elapsed()),
        );
        if n <= low || stop() {
            return n;
        }
        let tick = last_tick.elapsed() >= HOLD_TICK;
        if tick {
            last_tick = Instant::now();
        }
        on_wake(n, tick);
    }
}

fn wait_until<T>(
    tracker: &Mutex<Tracker<T>>,
    drained: &Condvar,
    partitions: &[i32],
    at_most: usize,
    deadline: Instant,
) -> usize {
    let mut t = tracker.lock().expect("not poisoned");
    loop {
        let n = if partitions.is_empty() {
            t.in_flight()
        } else {
            t.in_flight_of(partitions)
        };
        let now = Instant::now();
        if n <= at_most || now >= deadline {
            t.waiting = false;
            return n;
        }
        t.waiting = true;
        let wait = (deadline - now).min(Duration::from_millis(100));
        t = drained.wait_timeout(t, wait).expect("not poisoned").0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Failure = Failure {
        code: "msg_timed_out",
    };

    #[test]
    fn a_refused_record_is_replaced_and_the_position_waits_for_the_replacement() {
        let mut t: Tracker<u8> = Tracker::default();
        t.assign(0);
        let a = t.begin(0, 5, 1);
        let b = t.begin(0, 6, 2);
        let (o, at) = t.refuse(a).unwrap();
        assert_eq!(o, Outcome::Acked(1));
        assert_eq!(t.ack(b), Some(Outcome::Acked(2)));
        // 5 is still pending: nothing is committable.
        assert_eq!(t.committable(&[]), vec![]);
        assert!(t.failures().is_empty());
        let a2 = t.resend(at, 3).unwrap();
        assert_eq!(t.in_flight(), 1);
        assert_eq!(t.ack(a2), Some(Outcome::Acked(3)));
        assert_eq!(t.committable(&[]), vec![(0, 7)]);
        // Rewound in between: the replacement is not begun.
        let c = t.begin(0, 7, 4);
        let (_, at) = t.refuse(c).unwrap();
        t.rewind(0, 7);
        assert_eq!(t.resend(at, 5), Err(5));
    }

    #[test]
    fn a_failure_names_the_record_that_failed_and_where_to_rewind() {
        let mut t: Tracker<u8> = Tracker::default();
        t.assign(0);
        let _a = t.begin(0, 2, 1);
        let b = t.begin(0, 3, 2);
        t.fail(b, F);
        assert_eq!(
            t.failures_at(),
            vec![Failed {
                partition: 0,
                from: 2,
                offset: 3,
                why: F
            }]
        );
    }

    #[test]
    fn commits_only_a_contiguous_acknowledged_prefix() {
        let mut t = Tracker::default();
        t.assign(0);
        let a = t.begin(0, 10, 'a');
        let b = t.begin(0, 11, 'b');
        let c = t.begin(0, 12, 'c');
        assert_eq!(t.in_flight(), 3);
        assert_eq!(t.ack(c), Some(Outcome::Acked('c')));
        assert_eq!(t.committable(&[]), vec![]);
        t.ack(a);
        assert_eq!(t.committable(&[]), vec![(0, 11)]);
        t.ack(b);
        assert_eq!(t.committable(&[0]), vec![(0, 13)]);
        let mut d = vec![];
        t.take_dirty(&mut d);
        assert_eq!(d, vec![(0, 13)]);
        t.take_dirty(&mut d);
        assert!(d.is_empty());
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn partitions_are_independent() {
        let mut t = Tracker::default();
        t.assign(0);
        t.assign(1);
        let a = t.begin(0, 5, ());
        let b = t.begin(1, 7, ());
        t.ack(b);
        assert_eq!(t.committable(&[]), vec![(1, 8)]);
        assert_eq!(t.in_flight_of(&[0]), 1);
        assert_eq!(t.in_flight_of(&[1]), 0);
        t.ack(a);
        assert_eq!(t.committable(&[]), vec![(0, 6), (1, 8)]);
    }

    #[test]
    fn a_failure_blocks_the_position_until_rewind() {
        let mut t = Tracker::default();
        t.assign(3);
        let a = t.begin(3, 0, ());
        let b = t.begin(3, 1, ());
        let c = t.begin(3, 2, ());
        let d = t.begin(3, 3, ());
        t.ack(a);
        t.fail(c, F);
        t.ack(d);
        assert_eq!(t.committable(&[]), vec![(3, 1)]);
        // b is still in flight: rewind to it, not to c.
        assert_eq!(t.failures(), vec![(3, 1, F)]);
        assert_eq!(t.in_flight_of(&[3]), 1, "b");
        t.rewind(3, 1);
        assert!(t.failures().is_empty());
        // b's late acknowledgement belongs to the old epoch.
        assert_eq!(t.ack(b), Some(Outcome::Stale(())));
        assert_eq!(t.committable(&[]), vec![(3, 1)]);
        let b2 = t.begin(3, 1, ());
        t.ack(b2);
        assert_eq!(t.committable(&[]), vec![(3, 2)]);
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn acknowledged_records_before_a_failure_still_count() {
        let mut t = Tracker::default();
        t.assign(0);
        let a = t.begin(0, 0, ());
        let b = t.begin(0, 1, ());
        t.fail(b, F);
        t.ack(a);
        assert_eq!(t.committable(&[]), vec![(0, 1)]);
        assert_eq!(t.failures(), vec![(0, 1, F)]);
    }

    #[test]
    fn revoked_partitions_make_deliveries_stale_and_slots_are_reused() {
        let mut t = Tracker::default();
        t.assign(0);
        let a = t.begin(0, 0, 1);
        assert_eq!(t.revoke(0), None);
        assert_eq!(t.ack(a), Some(Outcome::Stale(1)));
        assert_eq!(t.ack(a), None, "a slot resolves once");
        t.assign(0);
        let b = t.begin(0, 0, 2);
        assert_eq!(a, b, "slot reused");
        t.ack(b);
        assert_eq!(t.revoke(0), Some(1));
    }
}
