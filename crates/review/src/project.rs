//! Projected SLA outcomes: a ticket's recorded lifecycle history replayed through the watcher's
//! own clock state machine ([`triage_core::clock`]) under a decision's targets. The same events
//! (responses, pauses, solves, reopenings, priority changes by agents) under another policy give
//! the fate that policy would have had: met, breached, or still open at the end of the history.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use triage_core::clock::catalog::{sla_key, Catalog};
use triage_core::clock::{LifecycleEvent, Settings, SlaClock, Stamp, Ticket};
use triage_core::rules::Rules;

use crate::view::Decided;

/// What became of one clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Stopped (responded, solved) within its target.
    Met,
    /// Crossed its target.
    Breached,
    /// Neither, as of the end of the history.
    Open,
}

impl Fate {
    pub const ALL: [Fate; 3] = [Fate::Met, Fate::Breached, Fate::Open];

    /// Its place in [`Fate::ALL`].
    pub fn index(self) -> usize {
        match self {
            Fate::Met => 0,
            Fate::Breached => 1,
            Fate::Open => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Fate::Met => "met",
            Fate::Breached => "breached",
            Fate::Open => "open",
        }
    }

    fn of(c: &SlaClock) -> Fate {
        if c.met {
            Fate::Met
        } else if c.breached() {
            Fate::Breached
        } else {
            Fate::Open
        }
    }
}

/// The fates of a ticket's two clocks: `[first_response, resolution]`.
pub type Fates = [Fate; 2];

/// One clock at the end of the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockView {
    pub fate: Fate,
    /// A warning threshold (or the breach) was crossed.
    pub warned: bool,
    /// Stopped (answered, or solved / closed).
    pub stopped: bool,
    /// Open time of the calendar elapsed while running, at the stop or at the end.
    pub elapsed_seconds: i64,
    /// The target (after any priority change by an agent).
    pub target_seconds: i64,
}

/// A ticket's clocks at the end of its history: `[first_response, resolution]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub clocks: [ClockView; 2],
}

impl Projection {
    pub fn fates(&self) -> Fates {
        [self.clocks[0].fate, self.clocks[1].fate]
    }
}

/// The identity and start of a ticket, as its clocks need them.
#[derive(Debug, Clone, Copy)]
pub struct Opened<'a> {
    pub ticket_id: &'a str,
    pub customer_id: &'a str,
    pub created_at: Timestamp,
    pub triaged_at: Timestamp,
}

/// Projects fates under one rules file's calendars and policies.
pub struct Projector<'s> {
    catalog: Catalog,
    settings: &'s Settings,
    as_of: Timestamp,
}

impl<'s> Projector<'s> {
    /// `as_of`: the end of the history (clocks still running then are `open` unless past due).
    pub fn new(rules: &Rules, settings: &'s Settings, as_of: Timestamp) -> Projector<'s> {
        Projector {
            catalog: Catalog::new(rules),
            settings,
            as_of,
        }
    }

    /// The fates of a ticket decided as `d` with lifecycle `events` (in the order they
    /// happened).
    pub fn project(&mut self, t: Opened<'_>, d: &Decided, events: &[LifecycleEvent]) -> Fates {
        self.clocks(t, d, events).fates()
    }

    /// The ticket's clocks at the end of the history.
    pub fn clocks(&mut self, t: Opened<'_>, d: &Decided, events: &[LifecycleEvent]) -> Projection {
        let stamp = Stamp {
            ticket_id: t.ticket_id.to_string(),
            customer_id: t.customer_id.to_string(),
            created_at: t.created_at,
            priority: d.priority.clone(),
            category: d.category.clone(),
            queue: d.queue.clone(),
            policy: d.sla.policy.clone(),
            calendar: d.sla.calendar.clone(),
            timezone: d.sla.timezone.clone(),
            first_response_target: SignedDuration::from_secs(d.sla.first_response_target_seconds),
            resolution_target: SignedDuration::from_secs(d.sla.resolution_target_seconds),
            first_response_due: t.created_at,
            triaged_at: t.triaged_at,
        };
        let as_of = self.as_of;
        self.catalog.with(self.settings, &sla_key(&stamp), |ctx| {
            let (mut ticket, _) = Ticket::from_stamp(stamp, None, ctx, as_of);
            for (i, ev) in events.iter().enumerate() {
                ticket.apply(Some(i as i64), ev, ctx, as_of);
            }
            ticket.advance(ctx, as_of);
            let view = |c: &SlaClock| ClockView {
                fate: Fate::of(c),
                warned: c.warned(),
                stopped: c.is_stopped(),
                elapsed_seconds: c.elapsed_at(as_of, ctx.calendar, ctx.tz).as_secs(),
                target_seconds: c.target.as_secs(),
            };
            Projection {
                clocks: [view(&ticket.first_response), view(&ticket.resolution)],
            }
        })
    }

    /// Fallbacks taken (unknown calendars or zones), once each.
    pub fn take_notes(&mut self) -> Vec<String> {
        self.catalog.take_notes()
    }
}
