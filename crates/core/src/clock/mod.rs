//! SLA clocks after triage: pure clock maths and the signal state machine.
//!
//! Every triaged ticket gets two clocks, `first_response` and `resolution`, on its SLA policy's
//! calendar (from the `triage.sla` stamp). Lifecycle events (`first_response`, `agent_reply`,
//! `customer_reply`, `status_changed`, `priority_changed`, `reopened`, `satisfaction`) start, pause,
//! stop, resume and re-target them; crossing a configured fraction of the target emits a `warning`,
//! crossing the target a `breached`, stopping before the target a `met`.
//!
//! Nothing here does I/O or reads the system time: a transition is
//! `state + event (or now) → new state + signals`, with the instant passed in. The Kafka edge
//! ([`crate::watch`]) keeps the states, sleeps until [`Ticket::next_deadline`](ticket::Ticket::next_deadline) and calls
//! [`Ticket::advance`](ticket::Ticket::advance) then.
//!
//! # Time model
//!
//! A clock measures *open time* of its calendar ([`crate::calendar::Calendar`]) while it runs.
//! It is in one of three phases: running since `t`, paused since `t`, stopped at `t`. Its
//! elapsed time is the open time of its closed running segments plus the open time of the current
//! running segment up to now. Pausing closes a running segment; the open time spent paused is
//! counted separately (`paused`), so a pause of *b* business hours moves the due time by exactly
//! *b* business hours. Re-targeting (a priority change) keeps elapsed and paused time and only
//! replaces the target.
//!
//! A threshold (a fraction *f* of the target, `1.0` = breach) is crossed at the instant the elapsed
//! time reaches *f* × target: `calendar.add(segment_start, f × target − elapsed_before)`. A timer
//! at `now` fires thresholds crossed at or before `now`; an event at `t` first fires thresholds
//! crossed strictly before `t`, then applies (so a response exactly at the due instant is `met`).
//! When several thresholds are crossed at once (a re-target to a shorter target, a restart after
//! downtime), only the highest is signalled; the lower ones are recorded as fired and never sent.
//!
//! # Once per ticket, clock and threshold
//!
//! The set of fired thresholds (and `met`, and the acknowledgment) is part of [`Ticket`], which the
//! edge persists in a changelog; a signal is decided at most once per ticket, clock and threshold,
//! including across restarts. Decided signals wait in [`Ticket::outbox`] until the broker has
//! acknowledged them (see [`crate::watch`] for the delivery reasoning).
//!
//! Modules: [`event`] (the lifecycle event and the triaged-ticket fields the watcher reads),
//! [`sla`] (one clock), [`ticket`] (a ticket's clocks and the state machine), [`ack`] (the
//! customer acknowledgment), [`time`] (the injectable time source).

pub mod ack;
pub mod avro;
pub mod catalog;
pub mod event;
pub mod sla;
pub mod ticket;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

pub use event::{EventKind, LifecycleEvent, Stamp};
pub use sla::{Phase, SlaClock, StopReason};
pub use ticket::{
    AckRecord, Ctx, Entry, Outcome, Output, PolicyTargets, SignalKind, SignalRecord, SlaState,
    Ticket,
};

/// Parts per million: thresholds are fractions of a target stored as integers, so that threshold
/// arithmetic is exact and deterministic.
pub const PPM: u32 = 1_000_000;

/// Which clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// From `created_at` to the first agent response.
    FirstResponse,
    /// From `created_at` to solved.
    Resolution,
}

impl ClockKind {
    pub const ALL: [ClockKind; 2] = [ClockKind::FirstResponse, ClockKind::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::FirstResponse => "first_response",
            ClockKind::Resolution => "resolution",
        }
    }

    pub fn parse(s: &str) -> Option<ClockKind> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ClockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ticket's status, as the help desk reports it in `status_changed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being worked (also `new`).
    #[serde(alias = "new")]
    Open,
    /// Waiting on the customer (also `waiting_on_customer`).
    #[serde(alias = "waiting_on_customer")]
    Pending,
    /// Waiting on a third party.
    OnHold,
    /// Solved: the clocks stop; `reopened` resumes them.
    Solved,
    /// Closed: the clocks stop.
    Closed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Open,
        Status::Pending,
        Status::OnHold,
        Status::Solved,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Pending => "pending",
            Status::OnHold => "on_hold",
            Status::Solved => "solved",
            Status::Closed => "closed",
        }
    }

    /// Parses a status name; `new` reads as `open`, `waiting_on_customer` as `pending`.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "new" => Some(Status::Open),
            "waiting_on_customer" => Some(Status::Pending),
            _ => Self::ALL.into_iter().find(|x| x.as_str() == s),
        }
    }

    /// Solved or closed: the clocks are stopped.
    pub fn is_done(self) -> bool {
        matches!(self, Status::Solved | Status::Closed)
    }
}

/// Which statuses pause which clocks. Solved and closed always stop both clocks and cannot be
/// listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pauses {
    /// Bit 0: first response, bit 1: resolution; indexed like [`Status::ALL`].
    bits: [u8; 5],
}

impl Default for Pauses {
    /// `pending` and `on_hold` pause the resolution clock.
    fn default() -> Self {
        let mut p = Pauses::none();
        p.set(Status::Pending, ClockKind::Resolution);
        p.set(Status::OnHold, ClockKind::Resolution);
        p
    }
}

impl Pauses {
    /// No status pauses anything.
    pub fn none() -> Pauses {
        Pauses { bits: [0; 5] }
    }

    fn bit(c: ClockKind) -> u8 {
        match c {
            ClockKind::FirstResponse => 1,
            ClockKind::Resolution => 2,
        }
    }

    fn idx(s: Status) -> usize {
        Status::ALL.iter().position(|x| *x == s).expect("listed")
    }

    /// Makes `status` pause `clock`.
    pub fn set(&mut self, status: Status, clock: ClockKind) {
        self.bits[Self::idx(status)] |= Self::bit(clock);
    }

    /// Whether `status` pauses `clock`.
    pub fn pauses(&self, status: Status, clock: ClockKind) -> bool {
        self.bits[Self::idx(status)] & Self::bit(clock) != 0
    }

    /// From the config table `status → [clocks]`; errors name the offending key or value.
    pub fn from_table(table: &BTreeMap<String, Vec<String>>) -> Result<Pauses, String> {
        let mut p = Pauses::none();
        for (status, clocks) in table {
            let s = match Status::parse(status) {
                Some(s) if s.is_done() => {
                    return Err(format!(
                        "{status:?}: solved and closed stop the clocks; they cannot pause them"
                    ))
                }
                Some(s) => s,
                None => {
                    return Err(format!(
                        "{status:?}: unknown status (open, pending, on_hold)"
                    ))
                }
            };
            for c in clocks {
                let c = ClockKind::parse(c).ok_or_else(|| {
                    format!("{status:?}: unknown clock {c:?} (first_response, resolution)")
                })?;
                p.set(s, c);
            }
        }
        Ok(p)
    }
}

/// The watcher's clock settings (from its config): thresholds, pauses, retention and the
/// acknowledgment template.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Warning thresholds in [`PPM`], ascending, each in `(0, PPM)`. The breach (`PPM`) is implied.
    pub warnings_ppm: Vec<u32>,
    pub pauses: Pauses,
    /// How long a solved or closed ticket's state is kept (for `reopened` and `satisfaction`).
    pub retention: SignedDuration,
    /// How long lifecycle events of a ticket that was never triaged are kept waiting for it.
    pub orphan_ttl: SignedDuration,
    /// Lifecycle events kept per not-yet-triaged ticket, at most (later ones are dropped).
    pub orphan_max_events: usize,
    /// When set, every new ticket gets an acknowledgment rendered from this template.
    pub ack_template: Option<Arc<str>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            warnings_ppm: vec![500_000, 750_000, 900_000],
            pauses: Pauses::default(),
            retention: SignedDuration::from_hours(7 * 24),
            orphan_ttl: SignedDuration::from_hours(7 * 24),
            orphan_max_events: 256,
            ack_template: None,
        }
    }
}

impl Settings {
    /// Converts fractions (e.g. `[0.5, 0.75, 0.9]`) to sorted, deduplicated ppm; each must be in
    /// `(0, 1)`.
    pub fn warnings_from_fractions(fractions: &[f64]) -> Result<Vec<u32>, String> {
        let mut out = Vec::with_capacity(fractions.len());
        for &f in fractions {
            if !(f > 0.0 && f < 1.0) {
                return Err(format!(
                    "{f} is not a fraction strictly between 0 and 1 (the breach at 1.0 is implied)"
                ));
            }
            out.push(fraction_to_ppm(f));
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Warnings then the breach.
    pub fn thresholds(&self) -> impl Iterator<Item = u32> + '_ {
        self.warnings_ppm
            .iter()
            .copied()
            .chain(std::iter::once(PPM))
    }
}

/// `f` (0..=1) in ppm, rounded.
pub fn fraction_to_ppm(f: f64) -> u32 {
    (f * f64::from(PPM)).round().clamp(0.0, f64::from(PPM)) as u32
}

/// `ppm` as a fraction.
pub fn ppm_to_fraction(ppm: u32) -> f64 {
    f64::from(ppm) / f64::from(PPM)
}

/// `ppm` of `target`, exactly (rounded down to the nanosecond).
pub fn part_of(target: SignedDuration, ppm: u32) -> SignedDuration {
    let n = target.as_nanos() * i128::from(ppm) / i128::from(PPM);
    SignedDuration::from_nanos_i128(n)
}

/// A triaged record: JSON, or Avro in the Confluent wire format written with the bundled
/// `io.triage.TriagedTicket` schema.
pub fn decode_triaged(bytes: &[u8]) -> Result<Stamp, String> {
    if bytes.first() == Some(&0) {
        let v = avro::decode_triaged(bytes)?;
        Stamp::from_avro_value(&v)
    } else {
        Stamp::from_triaged_json(bytes)
    }
}

/// A lifecycle record: JSON, or Avro (bundled `io.triage.LifecycleEvent` schema).
pub fn decode_lifecycle(bytes: &[u8]) -> Result<LifecycleEvent, String> {
    if bytes.first() == Some(&0) {
        avro::decode_lifecycle(bytes)
    } else {
        LifecycleEvent::from_json(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_aliases() {
        assert_eq!(Status::parse("waiting_on_customer"), Some(Status::Pending));
        assert_eq!(Status::parse("new"), Some(Status::Open));
        assert_eq!(Status::parse("on_hold"), Some(Status::OnHold));
        assert_eq!(Status::parse("hold"), None);
        assert!(Status::Closed.is_done() && !Status::Pending.is_done());
    }

    #[test]
    fn pauses_default_and_table() {
        let p = Pauses::default();
        assert!(p.pauses(Status::Pending, ClockKind::Resolution));
        assert!(!p.pauses(Status::Pending, ClockKind::FirstResponse));
        assert!(!p.pauses(Status::Open, ClockKind::Resolution));
        let mut t = BTreeMap::new();
        t.insert(
            "on_hold".to_string(),
            vec!["first_response".to_string(), "resolution".into()],
        );
        let p = Pauses::from_table(&t).unwrap();
        assert!(p.pauses(Status::OnHold, ClockKind::FirstResponse));
        assert!(!p.pauses(Status::Pending, ClockKind::Resolution));
        t.insert("solved".into(), vec![]);
        assert!(Pauses::from_table(&t).unwrap_err().contains("solved"));
        let mut t = BTreeMap::new();
        t.insert("pending".to_string(), vec!["reply".to_string()]);
        assert!(Pauses::from_table(&t).unwrap_err().contains("reply"));
    }

    #[test]
    fn thresholds_in_ppm() {
        assert_eq!(
            Settings::warnings_from_fractions(&[0.9, 0.5, 0.75, 0.5]).unwrap(),
            vec![500_000, 750_000, 900_000]
        );
        assert!(Settings::warnings_from_fractions(&[1.0]).is_err());
        assert!(Settings::warnings_from_fractions(&[0.0]).is_err());
        assert!(Settings::warnings_from_fractions(&[f64::NAN]).is_err());
        let s = Settings::default();
        assert_eq!(s.thresholds().last(), Some(PPM));
        assert_eq!(
            part_of(SignedDuration::from_secs(4), 750_000),
            SignedDuration::from_secs(3)
        );
        assert_eq!(
            part_of(SignedDuration::from_nanos(3), 500_000),
            SignedDuration::from_nanos(1)
        );
    }
}
