//! Calendars, zones and SLA policies of the rules, by the names a stamp carries: what a ticket's
//! clock transitions need to look up. The watcher and the replay's breach projection share it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use jiff::tz::TimeZone;

use super::event::Stamp;
use super::ticket::{Ctx, PolicyTargets};
use super::Settings;
use crate::calendar::Calendar;
use crate::rules::Rules;

/// Calendars, zones and policies of the rules, by name. Unknown names fall back (a calendar to
/// 24x7, a zone to UTC) and are noted once each in [`Catalog::take_notes`].
pub struct Catalog {
    calendars: HashMap<String, Calendar>,
    fallback: Calendar,
    policies: HashMap<String, PolicyTargets>,
    zones: HashMap<String, TimeZone>,
    /// Names already noted (once each).
    noted: BTreeSet<String>,
    /// Notes not yet taken by the caller.
    notes: Vec<String>,
}

impl Catalog {
    pub fn new(rules: &Rules) -> Catalog {
        Catalog {
            calendars: rules
                .calendars
                .iter()
                .map(|c| (c.name().to_string(), c.clone()))
                .collect(),
            fallback: Calendar::always("24x7"),
            policies: PolicyTargets::from_rules(rules)
                .into_iter()
                .map(|p| (p.name.to_string(), p))
                .collect(),
            zones: HashMap::new(),
            noted: BTreeSet::new(),
            notes: Vec::new(),
        }
    }

    fn note(&mut self, key: String, text: impl FnOnce() -> String) {
        if self.noted.insert(key) {
            self.notes.push(text());
        }
    }

    fn zone(&mut self, name: &str) -> TimeZone {
        if let Some(z) = self.zones.get(name) {
            return z.clone();
        }
        let z = TimeZone::get(name).unwrap_or_else(|_| {
            self.note(format!("zone:{name}"), || {
                format!("unknown time zone {name:?} in a ticket's SLA stamp; using UTC")
            });
            TimeZone::UTC
        });
        self.zones.insert(name.to_string(), z.clone());
        z
    }

    /// Runs `f` with the transition context of a ticket with SLA key `key` ([`sla_key`]).
    pub fn with<R>(
        &mut self,
        settings: &Settings,
        key: &SlaKey,
        f: impl FnOnce(&Ctx<'_>) -> R,
    ) -> R {
        let (calendar, timezone, policy) = key;
        let tz = self.zone(timezone);
        if !self.calendars.contains_key(&**calendar) {
            self.note(format!("cal:{calendar}"), || {
                format!(
                    "calendar {calendar:?} of a ticket is not in the rules; its clocks run 24x7"
                )
            });
        }
        let cal = self.calendars.get(&**calendar).unwrap_or(&self.fallback);
        let ctx = Ctx {
            calendar: cal,
            tz: &tz,
            settings,
            policy: self.policies.get(&**policy),
        };
        f(&ctx)
    }

    /// Fallbacks taken since the last call, one sentence each (each name once per catalog).
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }
}

/// What a ticket's transitions need to look up: (calendar, time zone, policy) names.
pub type SlaKey = (Arc<str>, Arc<str>, Arc<str>);

/// The lookup key of a stamp (reference-counted copies, no allocation).
pub fn sla_key(s: &Stamp) -> SlaKey {
    (s.calendar.clone(), s.timezone.clone(), s.policy.clone())
}
