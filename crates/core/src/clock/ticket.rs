//! A ticket's clocks and the signal state machine: `state + event (or now) → state + outputs`.

use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::ack::{self, AckVars};
use super::event::{EventKind, LifecycleEvent, Stamp};
use super::sla::{Crossing, SlaClock, StopReason, Want};
use super::{ppm_to_fraction, ClockKind, Settings, Status, PPM};
use crate::calendar::Calendar;
use crate::rules::Rules;

/// One SLA policy's targets per level, for re-targeting on a priority change.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyTargets {
    pub name: Arc<str>,
    /// (level, first response, resolution), in the rules' level order.
    pub levels: Vec<(Arc<str>, SignedDuration, SignedDuration)>,
}

impl PolicyTargets {
    /// Every policy of the rules.
    pub fn from_rules(rules: &Rules) -> Vec<PolicyTargets> {
        rules
            .policies
            .iter()
            .map(|p| PolicyTargets {
                name: p.name.clone(),
                levels: rules
                    .levels
                    .iter()
                    .zip(&p.targets)
                    .map(|(l, (fr, rs))| (l.name.clone(), *fr, *rs))
                    .collect(),
            })
            .collect()
    }

    /// The targets of `level`.
    pub fn get(&self, level: &str) -> Option<(SignedDuration, SignedDuration)> {
        self.levels
            .iter()
            .find(|(l, _, _)| &**l == level)
            .map(|(_, fr, rs)| (*fr, *rs))
    }
}

/// What a transition needs besides the state: the ticket's calendar and zone, the settings, and
/// its policy (for re-targeting; `None` when the rules no longer have it).
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub calendar: &'a Calendar,
    pub tz: &'a TimeZone,
    pub settings: &'a Settings,
    pub policy: Option<&'a PolicyTargets>,
}

/// `warning`, `breached` or `met`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// The clock passed a configured fraction of its target.
    Warning,
    /// The clock passed its target.
    Breached,
    /// The clock stopped before its target.
    Met,
}

impl SignalKind {
    pub const ALL: [SignalKind; 3] = [SignalKind::Warning, SignalKind::Breached, SignalKind::Met];

    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Warning => "warning",
            SignalKind::Breached => "breached",
            SignalKind::Met => "met",
        }
    }
}

/// A signal (topic `tickets.sla`, key `ticket_id`; `schemas/sla_signal.avsc`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalRecord {
    /// `<ticket_id>:<clock>:<signal>[:<threshold>]`: unique per ticket, clock and threshold.
    pub signal_id: String,
    pub ticket_id: String,
    pub customer_id: String,
    /// The ticket's priority level when the signal was decided.
    pub priority: Arc<str>,
    pub queue: Arc<str>,
    pub category: Arc<str>,
    pub clock: ClockKind,
    pub signal: SignalKind,
    /// The fraction of the target crossed: a warning's threshold, `1.0` for `breached`; absent for
    /// `met`.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// When the threshold was crossed, or (`met`) when the clock stopped.
    pub at: Timestamp,
    /// When the target is due as of `at`; absent while the clock is paused or stopped.
    #[serde(default)]
    pub due: Option<Timestamp>,
    /// Open (business) time left at `at`, in seconds; negative once over the target.
    pub time_left_seconds: i64,
    pub target_seconds: i64,
    pub elapsed_seconds: i64,
    /// Open time the clock spent paused, in seconds, as of `at`.
    pub paused_seconds: i64,
    pub policy: Arc<str>,
    pub calendar: Arc<str>,
    pub timezone: Arc<str>,
    /// The ticket's status when the signal was decided.
    pub status: Status,
    /// When the watcher decided it (`at` plus the watcher's delay).
    pub emitted_at: Timestamp,
}

impl SignalRecord {
    /// The id of a signal of `ticket_id`.
    pub fn id(ticket_id: &str, clock: ClockKind, kind: SignalKind, ppm: Option<u32>) -> String {
        match ppm {
            Some(p) if kind == SignalKind::Warning => {
                format!(
                    "{ticket_id}:{clock}:{}:{}",
                    kind.as_str(),
                    ppm_to_fraction(p)
                )
            }
            _ => format!("{ticket_id}:{clock}:{}", kind.as_str()),
        }
    }

    /// The threshold in ppm (`None` for `met`).
    pub fn ppm(&self) -> Option<u32> {
        self.threshold.map(super::fraction_to_ppm)
    }
}

/// A customer acknowledgment (topic `tickets.acks`, key `ticket_id`; `schemas/ack_event.avsc`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AckRecord {
    pub ticket_id: String,
    pub customer_id: String,
    pub priority: Arc<str>,
    pub queue: Arc<str>,
    /// When the first response is expected.
    pub first_response_due: Timestamp,
    /// The first-response target (open time of the calendar), in seconds.
    pub first_response_target_seconds: i64,
    /// The rules' acknowledgment template, rendered.
    pub message: String,
    /// When the ticket was triaged.
    pub at: Timestamp,
    pub emitted_at: Timestamp,
}

/// A decided output, waiting for the broker's acknowledgment in [`Ticket::outbox`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "output", rename_all = "snake_case")]
pub enum Output {
    Signal(SignalRecord),
    Ack(AckRecord),
}

impl Output {
    /// Identity within a ticket (for matching outputs found on the broker).
    pub fn id(&self) -> &str {
        match self {
            Output::Signal(s) => &s.signal_id,
            Output::Ack(_) => "ack",
        }
    }
}

/// The SLA state of an open ticket (the `state` label of `triage_sla_open_tickets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlaState {
    /// Clocks running, no warning yet.
    Ok,
    /// A warning fired on a clock that is still running or paused.
    AtRisk,
    /// A clock breached its target.
    Breached,
    /// No clock is running and one is paused.
    Paused,
}

impl SlaState {
    pub const ALL: [SlaState; 4] = [
        SlaState::Ok,
        SlaState::AtRisk,
        SlaState::Breached,
        SlaState::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::Ok => "ok",
            SlaState::AtRisk => "at_risk",
            SlaState::Breached => "breached",
            SlaState::Paused => "paused",
        }
    }
}

/// What a transition decided besides the new state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Newly decided outputs (also appended to [`Ticket::outbox`]).
    pub outputs: Vec<Output>,
    /// Clocks that stopped for the first time, with elapsed / target (the ratio histogram).
    pub stopped: Vec<(ClockKind, f64)>,
    /// A satisfaction score that arrived.
    pub csat: Option<u8>,
    /// Why the input changed nothing, when it did not: `duplicate` (already applied),
    /// `unknown_priority` (a priority the ticket's policy has no targets for).
    pub ignored: Option<&'static str>,
}

/// The state of one triaged ticket: the stamp, status, both clocks, what was decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub stamp: Stamp,
    /// The current level (the stamp's until a `priority_changed`).
    pub priority: Arc<str>,
    pub status: Status,
    /// A first response (or agent reply) came.
    pub responded: bool,
    /// The latest instant an event was applied at (events never go back in time).
    pub last_at: Timestamp,
    /// Offset of the last lifecycle record applied (replays at or below it are skipped); −1: none.
    pub lifecycle_offset: i64,
    pub first_response: SlaClock,
    pub resolution: SlaClock,
    /// The acknowledgment was decided (or is not wanted for this ticket).
    pub ack_decided: bool,
    /// Solved or closed since (for retention).
    #[serde(default)]
    pub done_since: Option<Timestamp>,
    #[serde(default)]
    pub csat: Option<u8>,
    /// Outputs decided and not yet acknowledged by the broker.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<Output>,
}

/// Lifecycle events of a ticket that has not been triaged (yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Orphan {
    pub ticket_id: String,
    pub first_seen: Timestamp,
    /// (offset, event), in arrival order.
    pub events: Vec<(i64, LifecycleEvent)>,
    /// Events dropped because the buffer was full.
    #[serde(default)]
    pub dropped: u32,
}

/// What the watcher keeps per ticket id (the changelog's value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum Entry {
    Ticket(Box<Ticket>),
    Orphan(Orphan),
}

impl Entry {
    pub fn ticket_id(&self) -> &str {
        match self {
            Entry::Ticket(t) => &t.stamp.ticket_id,
            Entry::Orphan(o) => &o.ticket_id,
        }
    }

    /// The open-ticket state for the gauge; `None` for orphans and solved or closed tickets.
    pub fn classify(&self) -> Option<(Arc<str>, SlaState)> {
        match self {
            Entry::Ticket(t) => t.classify().map(|s| (t.priority.clone(), s)),
            Entry::Orphan(_) => None,
        }
    }
}

impl Orphan {
    /// A new buffer for `ev`.
    pub fn new(offset: i64, ev: LifecycleEvent, now: Timestamp) -> Orphan {
        Orphan {
            ticket_id: ev.ticket_id.clone(),
            first_seen: now,
            events: vec![(offset, ev)],
            dropped: 0,
        }
    }

    /// Buffers `ev` unless it was buffered already (same or lower offset) or the buffer is full.
    /// Returns what happened: `buffered`, `duplicate` or `dropped`.
    pub fn push(&mut self, offset: i64, ev: LifecycleEvent, settings: &Settings) -> &'static str {
        if self.events.last().is_some_and(|(o, _)| *o >= offset) {
            return "duplicate";
        }
        if self.events.len() >= settings.orphan_max_events {
            self.dropped += 1;
            return "dropped";
        }
        self.events.push((offset, ev));
        "buffered"
    }

    /// When the buffer is given up (no triaged ticket came).
    pub fn expires_at(&self, settings: &Settings) -> Timestamp {
        self.first_seen
            .saturating_add(settings.orphan_ttl)
            .unwrap_or(Timestamp::MAX)
    }
}

impl Ticket {
    /// Starts the clocks of a triaged ticket at `created_at` with the stamp's targets, applies the
    /// lifecycle events that arrived before it (`orphan`), and decides the acknowledgment (when
    /// the settings have a template and no first response came yet). Thresholds already crossed
    /// are decided by the next [`Ticket::advance`], not here.
    pub fn from_stamp(
        stamp: Stamp,
        orphan: Option<Orphan>,
        ctx: &Ctx<'_>,
        now: Timestamp,
    ) -> (Ticket, Outcome) {
        let start = stamp.created_at;
        let mut t = Ticket {
            priority: stamp.priority.clone(),
            status: Status::Open,
            responded: false,
            last_at: start,
            lifecycle_offset: -1,
            first_response: SlaClock::start(stamp.first_response_target, start),
            resolution: SlaClock::start(stamp.resolution_target, start),
            ack_decided: ctx.settings.ack_template.is_none(),
            done_since: None,
            csat: None,
            outbox: Vec::new(),
            stamp,
        };
        let mut out = Outcome::default();
        for (offset, ev) in orphan.map(|o| o.events).unwrap_or_default() {
            let o = t.apply(Some(offset), &ev, ctx, now);
            out.outputs.extend(o.outputs);
            out.stopped.extend(o.stopped);
            out.csat = o.csat.or(out.csat);
        }
        if !t.ack_decided {
            t.ack_decided = true;
            if !t.responded && !t.status.is_done() {
                let a = t.ack(ctx, now);
                t.outbox.push(a.clone());
                out.outputs.push(a);
            }
        }
        (t, out)
    }

    fn ack(&self, ctx: &Ctx<'_>, now: Timestamp) -> Output {
        let c = &self.first_response;
        let due = c
            .due(ctx.calendar, ctx.tz)
            .unwrap_or(self.stamp.first_response_due);
        let message = ack::render(
            ctx.settings.ack_template.as_deref().unwrap_or(""),
            &AckVars {
                ticket_id: &self.stamp.ticket_id,
                priority: &self.priority,
                queue: &self.stamp.queue,
                first_response_due: due,
                tz: ctx.tz,
                first_response_in: c.target,
                business: !ctx.calendar.is_24x7(),
            },
        );
        Output::Ack(AckRecord {
            ticket_id: self.stamp.ticket_id.clone(),
            customer_id: self.stamp.customer_id.clone(),
            priority: self.priority.clone(),
            queue: self.stamp.queue.clone(),
            first_response_due: due,
            first_response_target_seconds: c.target.as_secs(),
            message,
            at: self.stamp.triaged_at,
            emitted_at: now,
        })
    }

    pub fn clock(&self, k: ClockKind) -> &SlaClock {
        match k {
            ClockKind::FirstResponse => &self.first_response,
            ClockKind::Resolution => &self.resolution,
        }
    }

    fn clock_mut(&mut self, k: ClockKind) -> &mut SlaClock {
        match k {
            ClockKind::FirstResponse => &mut self.first_response,
            ClockKind::Resolution => &mut self.resolution,
        }
    }

    /// What the status asks of clock `k`.
    fn want(&self, k: ClockKind, settings: &Settings) -> Want {
        if k == ClockKind::FirstResponse && self.responded {
            Want::Stop(StopReason::Response)
        } else if self.status.is_done() {
            Want::Stop(StopReason::Done)
        } else if settings.pauses.pauses(self.status, k) {
            Want::Pause
        } else {
            Want::Run
        }
    }

    /// Applies a lifecycle event (`offset`: its input offset, for skipping replays). Thresholds
    /// crossed strictly before the event's instant are decided first. The event's instant is
    /// clamped to `[last_at, max(now, last_at)]`: events of a ticket never go back in time and
    /// never come from the future.
    pub fn apply(
        &mut self,
        offset: Option<i64>,
        ev: &LifecycleEvent,
        ctx: &Ctx<'_>,
        now: Timestamp,
    ) -> Outcome {
        let mut out = Outcome::default();
        if let Some(o) = offset {
            if o <= self.lifecycle_offset {
                out.ignored = Some("duplicate");
                return out;
            }
            self.lifecycle_offset = o;
        }
        let t = ev.at.max(self.last_at).min(now.max(self.last_at));
        self.last_at = t;
        self.decide(t, true, ctx, now, &mut out);

        match &ev.kind {
            EventKind::FirstResponse | EventKind::AgentReply => self.responded = true,
            EventKind::CustomerReply => {
                if self.status == Status::Pending {
                    self.status = Status::Open;
                }
            }
            EventKind::StatusChanged { status } => self.status = *status,
            EventKind::Reopened => {
                if self.status.is_done() {
                    self.status = Status::Open;
                }
            }
            EventKind::PriorityChanged { priority } => {
                match ctx.policy.and_then(|p| p.get(priority)) {
                    Some((fr, rs)) => {
                        self.priority = priority.clone();
                        self.first_response.retarget(fr, t, ctx.calendar, ctx.tz);
                        self.resolution.retarget(rs, t, ctx.calendar, ctx.tz);
                    }
                    None => out.ignored = Some("unknown_priority"),
                }
            }
            EventKind::Satisfaction { score } => {
                self.csat = Some(*score);
                out.csat = Some(*score);
            }
            EventKind::CategoryChanged { .. } => {}
        }

        for k in ClockKind::ALL {
            let want = self.want(k, ctx.settings);
            let due_before = self.clock(k).due(ctx.calendar, ctx.tz);
            let clock = self.clock_mut(k);
            if clock.set(want, t, ctx.calendar, ctx.tz) && clock.watched() {
                if !clock.ratio_observed {
                    clock.ratio_observed = true;
                    out.stopped
                        .push((k, clock.ratio_at(t, ctx.calendar, ctx.tz)));
                }
                if !clock.met && !clock.breached() {
                    clock.met = true;
                    let s = self.signal(k, SignalKind::Met, None, t, due_before, ctx, now);
                    self.outbox.push(s.clone());
                    out.outputs.push(s);
                }
            }
        }
        // A re-target may have crossed thresholds at `t` itself.
        self.decide(t, false, ctx, now, &mut out);
        if self.status.is_done() {
            self.done_since.get_or_insert(t);
        } else {
            self.done_since = None;
        }
        out
    }

    /// Decides the thresholds crossed at or before `now` (the timer).
    pub fn advance(&mut self, ctx: &Ctx<'_>, now: Timestamp) -> Outcome {
        let mut out = Outcome::default();
        self.decide(now, false, ctx, now, &mut out);
        out
    }

    fn decide(
        &mut self,
        t: Timestamp,
        strict: bool,
        ctx: &Ctx<'_>,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        for k in ClockKind::ALL {
            let thresholds = ctx.settings.thresholds();
            if let Some(Crossing { ppm, at }) =
                self.clock_mut(k)
                    .advance(t, strict, thresholds, ctx.calendar, ctx.tz)
            {
                let kind = if ppm >= PPM {
                    SignalKind::Breached
                } else {
                    SignalKind::Warning
                };
                let due = self.clock(k).due(ctx.calendar, ctx.tz);
                let s = self.signal(k, kind, Some(ppm), at, due, ctx, now);
                self.outbox.push(s.clone());
                out.outputs.push(s);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn signal(
        &self,
        k: ClockKind,
        kind: SignalKind,
        ppm: Option<u32>,
        at: Timestamp,
        due: Option<Timestamp>,
        ctx: &Ctx<'_>,
        now: Timestamp,
    ) -> Output {
        let c = self.clock(k);
        let elapsed = c.elapsed_at(at, ctx.calendar, ctx.tz);
        Output::Signal(SignalRecord {
            signal_id: SignalRecord::id(&self.stamp.ticket_id, k, kind, ppm),
            ticket_id: self.stamp.ticket_id.clone(),
            customer_id: self.stamp.customer_id.clone(),
            priority: self.priority.clone(),
            queue: self.stamp.queue.clone(),
            category: self.stamp.category.clone(),
            clock: k,
            signal: kind,
            threshold: ppm.map(ppm_to_fraction),
            at,
            due,
            time_left_seconds: c.target.as_secs() - elapsed.as_secs(),
            target_seconds: c.target.as_secs(),
            elapsed_seconds: elapsed.as_secs(),
            paused_seconds: c.paused_at(at, ctx.calendar, ctx.tz).as_secs(),
            policy: self.stamp.policy.clone(),
            calendar: self.stamp.calendar.clone(),
            timezone: self.stamp.timezone.clone(),
            status: self.status,
            emitted_at: now,
        })
    }

    /// The next threshold crossing of either clock, or the end of retention of a solved or
    /// closed ticket.
    pub fn next_deadline(&self, ctx: &Ctx<'_>) -> Option<Timestamp> {
        let clocks = ClockKind::ALL.into_iter().filter_map(|k| {
            self.clock(k)
                .next_deadline(ctx.settings.thresholds(), ctx.calendar, ctx.tz)
        });
        let expiry = self.expires_at(ctx.settings);
        clocks.chain(expiry).min()
    }

    /// When a solved or closed ticket's state may be dropped.
    pub fn expires_at(&self, settings: &Settings) -> Option<Timestamp> {
        self.done_since.map(|d| {
            d.saturating_add(settings.retention)
                .unwrap_or(Timestamp::MAX)
        })
    }

    /// Retention is over and nothing waits in the outbox: the state may be deleted.
    pub fn expired(&self, settings: &Settings, now: Timestamp) -> bool {
        self.outbox.is_empty() && self.expires_at(settings).is_some_and(|e| e <= now)
    }

    /// The open-ticket state, `None` once solved or closed.
    pub fn classify(&self) -> Option<SlaState> {
        if self.status.is_done() {
            return None;
        }
        let clocks = [&self.first_response, &self.resolution];
        let live = || clocks.iter().filter(|c| c.watched() && !c.is_stopped());
        if clocks.iter().any(|c| c.breached()) {
            Some(SlaState::Breached)
        } else if live().count() > 0 && live().all(|c| c.is_paused()) {
            Some(SlaState::Paused)
        } else if live().any(|c| c.warned()) {
            Some(SlaState::AtRisk)
        } else {
            Some(SlaState::Ok)
        }
    }

    /// The broker acknowledged output `id`: it leaves the outbox. Returns whether it was there.
    pub fn delivered(&mut self, id: &str) -> bool {
        let before = self.outbox.len();
        self.outbox.retain(|o| o.id() != id);
        self.outbox.len() != before
    }

    /// An output with `id` was found on the broker during a restore: it is decided and delivered.
    /// Marks the matching threshold, `met` or acknowledgment as decided even if the state did
    /// not know it yet (the changelog write was lost), and drops it from the outbox.
    pub fn found_on_broker(&mut self, out: &Output) {
        match out {
            Output::Signal(s) => {
                let c = self.clock_mut(s.clock);
                match (s.signal, s.ppm()) {
                    (SignalKind::Met, _) => c.met = true,
                    (_, Some(p)) if !c.fired.contains(&p) => {
                        c.fired.push(p);
                        c.fired.sort_unstable();
                    }
                    _ => {}
                }
            }
            Output::Ack(_) => self.ack_decided = true,
        }
        self.delivered(out.id());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn stamp(fr: i64, rs: i64) -> Stamp {
        Stamp {
            ticket_id: "T-1".into(),
            customer_id: "C-1".into(),
            created_at: ts("2026-03-02T09:00:00Z"),
            priority: "P2".into(),
            category: "bug".into(),
            queue: "app".into(),
            policy: "std".into(),
            calendar: "24x7".into(),
            timezone: "UTC".into(),
            first_response_target: SignedDuration::from_secs(fr),
            resolution_target: SignedDuration::from_secs(rs),
            first_response_due: ts("2026-03-02T09:00:00Z") + SignedDuration::from_secs(fr),
            triaged_at: ts("2026-03-02T09:00:01Z"),
        }
    }

    fn ev(kind: EventKind, at: &str) -> LifecycleEvent {
        LifecycleEvent {
            ticket_id: "T-1".into(),
            at: ts(at),
            kind,
        }
    }

    fn signals(o: &Outcome) -> Vec<(ClockKind, SignalKind, Option<f64>, Timestamp)> {
        o.outputs
            .iter()
            .filter_map(|o| match o {
                Output::Signal(s) => Some((s.clock, s.signal, s.threshold, s.at)),
                Output::Ack(_) => None,
            })
            .collect()
    }

    #[test]
    fn warnings_breach_and_met() {
        let cal = Calendar::always("24x7");
        let settings = Settings::default();
        let policy = PolicyTargets {
            name: "std".into(),
            levels: vec![
                (
                    "P1".into(),
                    SignedDuration::from_mins(15),
                    SignedDuration::from_hours(1),
                ),
                (
                    "P2".into(),
                    SignedDuration::from_hours(1),
                    SignedDuration::from_hours(4),
                ),
            ],
        };
        let ctx = Ctx {
            calendar: &cal,
            tz: &TimeZone::UTC,
            settings: &settings,
            policy: Some(&policy),
        };
        let (mut t, o) = Ticket::from_stamp(
            stamp(3600, 4 * 3600),
            None,
            &ctx,
            ts("2026-03-02T09:00:01Z"),
        );
        assert!(o.outputs.is_empty());
        assert_eq!(t.next_deadline(&ctx), Some(ts("2026-03-02T09:30:00Z")));
        let o = t.advance(&ctx, ts("2026-03-02T09:30:00Z"));
        assert_eq!(
            signals(&o),
            vec![(
                ClockKind::FirstResponse,
                SignalKind::Warning,
                Some(0.5),
                ts("2026-03-02T09:30:00Z")
            )]
        );
        assert_eq!(t.classify(), Some(SlaState::AtRisk));
        // Again at the same instant: nothing new.
        assert!(t
            .advance(&ctx, ts("2026-03-02T09:30:00Z"))
            .outputs
            .is_empty());
        // P1 at 09:40: first response target 15m is long gone (breach at 09:40, the re-target),
        // resolution 1h: 0.5 at 09:30 passed too → only 0.5 (0.75 is at 09:45).
        let o = t.apply(
            Some(1),
            &ev(
                EventKind::PriorityChanged {
                    priority: "P1".into(),
                },
                "2026-03-02T09:40:00Z",
            ),
            &ctx,
            ts("2026-03-02T09:40:00Z"),
        );
        assert_eq!(
            signals(&o),
            vec![
                (
                    ClockKind::FirstResponse,
                    SignalKind::Breached,
                    Some(1.0),
                    ts("2026-03-02T09:40:00Z")
                ),
                (
                    ClockKind::Resolution,
                    SignalKind::Warning,
                    Some(0.5),
                    ts("2026-03-02T09:40:00Z")
                ),
            ]
        );
        assert_eq!(t.first_response.fired, vec![500_000, 750_000, 900_000, PPM]);
        assert_eq!(t.classify(), Some(SlaState::Breached));
        // Replay of the same offset: ignored.
        let o = t.apply(
            Some(1),
            &ev(
                EventKind::PriorityChanged {
                    priority: "P1".into(),
                },
                "2026-03-02T09:40:00Z",
            ),
            &ctx,
            ts("2026-03-02T09:41:00Z"),
        );
        assert_eq!(o.ignored, Some("duplicate"));
        // Response after the breach: no met; solved at 09:50 (resolution 1h): met.
        let o = t.apply(
            Some(2),
            &ev(EventKind::FirstResponse, "2026-03-02T09:45:00Z"),
            &ctx,
            ts("2026-03-02T09:50:00Z"),
        );
        assert_eq!(
            signals(&o),
            vec![(
                ClockKind::Resolution,
                SignalKind::Warning,
                Some(0.75),
                ts("2026-03-02T09:45:00Z")
            )]
        );
        assert_eq!(o.stopped, vec![(ClockKind::FirstResponse, 3.0)]);
        let o = t.apply(
            Some(3),
            &ev(
                EventKind::StatusChanged {
                    status: Status::Solved,
                },
                "2026-03-02T09:50:00Z",
            ),
            &ctx,
            ts("2026-03-02T09:50:00Z"),
        );
        assert_eq!(
            signals(&o),
            vec![(
                ClockKind::Resolution,
                SignalKind::Met,
                None,
                ts("2026-03-02T09:50:00Z")
            )]
        );
        assert_eq!(t.classify(), None);
        assert_eq!(t.next_deadline(&ctx), Some(ts("2026-03-09T09:50:00Z")));
        let o = t.apply(
            Some(4),
            &ev(EventKind::Satisfaction { score: 4 }, "2026-03-02T10:00:00Z"),
            &ctx,
            ts("2026-03-02T10:00:00Z"),
        );
        assert_eq!(o.csat, Some(4));
        assert!(
            !t.expired(&settings, ts("2026-03-09T09:50:00Z")),
            "outbox not empty"
        );
        for out in t.outbox.clone() {
            assert!(t.delivered(out.id()));
        }
        assert!(t.expired(&settings, ts("2026-03-09T09:50:00Z")));
    }

    #[test]
    fn pending_pauses_resolution_and_customer_reply_resumes() {
        let cal = Calendar::always("24x7");
        let settings = Settings::default();
        let ctx = Ctx {
            calendar: &cal,
            tz: &TimeZone::UTC,
            settings: &settings,
            policy: None,
        };
        let (mut t, _) = Ticket::from_stamp(
            stamp(3600, 4 * 3600),
            None,
            &ctx,
            ts("2026-03-02T09:00:00Z"),
        );
        t.apply(
            None,
            &ev(
                EventKind::StatusChanged {
                    status: Status::Pending,
                },
                "2026-03-02T09:30:00Z",
            ),
            &ctx,
            ts("2026-03-02T09:30:00Z"),
        );
        assert!(t.resolution.is_paused());
        assert!(t.first_response.is_running());
        t.apply(
            None,
            &ev(EventKind::FirstResponse, "2026-03-02T09:35:00Z"),
            &ctx,
            ts("2026-03-02T09:35:00Z"),
        );
        assert_eq!(t.classify(), Some(SlaState::Paused));
        t.apply(
            None,
            &ev(EventKind::CustomerReply, "2026-03-02T10:30:00Z"),
            &ctx,
            ts("2026-03-02T10:30:00Z"),
        );
        assert_eq!(t.status, Status::Open);
        assert_eq!(
            t.resolution.due(&cal, &TimeZone::UTC),
            Some(ts("2026-03-02T14:00:00Z"))
        );
        assert_eq!(t.resolution.paused, SignedDuration::from_hours(1));
        // Unknown priority without a policy: ignored.
        let o = t.apply(
            None,
            &ev(
                EventKind::PriorityChanged {
                    priority: "P9".into(),
                },
                "2026-03-02T11:00:00Z",
            ),
            &ctx,
            ts("2026-03-02T11:00:00Z"),
        );
        assert_eq!(o.ignored, Some("unknown_priority"));
        assert_eq!(&*t.priority, "P2");
    }

    #[test]
    fn orphans_are_applied_on_triage_and_ack_is_decided_once() {
        let cal = Calendar::always("24x7");
        let settings = Settings {
            ack_template: Some("{ticket_id}: {first_response_in}".into()),
            ..Settings::default()
        };
        let ctx = Ctx {
            calendar: &cal,
            tz: &TimeZone::UTC,
            settings: &settings,
            policy: None,
        };
        let mut o = Orphan::new(
            5,
            ev(
                EventKind::StatusChanged {
                    status: Status::OnHold,
                },
                "2026-03-02T09:10:00Z",
            ),
            ts("2026-03-02T09:10:00Z"),
        );
        assert_eq!(
            o.push(
                5,
                ev(EventKind::Reopened, "2026-03-02T09:10:00Z"),
                &settings
            ),
            "duplicate"
        );
        let (t, out) =
            Ticket::from_stamp(stamp(3600, 7200), Some(o), &ctx, ts("2026-03-02T09:20:00Z"));
        assert!(t.resolution.is_paused());
        assert_eq!(t.lifecycle_offset, 5);
        let acks: Vec<&AckRecord> = out
            .outputs
            .iter()
            .filter_map(|o| match o {
                Output::Ack(a) => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(acks.len(), 1);
        assert_eq!(acks[0].message, "T-1: 1 hour");
        assert_eq!(acks[0].first_response_due, ts("2026-03-02T10:00:00Z"));
        assert!(t.ack_decided);
        // The changelog value round-trips exactly.
        let e = Entry::Ticket(Box::new(t));
        let json = serde_json::to_string(&e).unwrap();
        let back: Entry = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }
}
