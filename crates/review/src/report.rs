//! The continuous-improvement review over a period: what came in, how fast it was answered and
//! solved against target, what was signalled, what customers said, what they asked about, which
//! rules fired, and how often agents corrected triage. Built from the triaged records (the
//! priority topics), their lifecycle history and, when given, the SLA watcher's signals.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use triage_core::clock::{ClockKind, EventKind, Settings, SignalKind, SignalRecord};
use triage_core::rules::Rules;

use crate::project::{Fate, Opened, Projector};
use crate::replay::History;
use crate::view::{rule_key, Recorded};

const CLOCKS: [&str; 2] = ["first_response", "resolution"];

/// The fields of a triaged record the report reads.
#[derive(Deserialize)]
struct Wire {
    ticket_id: String,
    customer_id: String,
    created_at: Timestamp,
    #[serde(default)]
    channel: Option<String>,
    triage: Recorded,
}

#[derive(Default)]
struct Outcomes {
    met: u64,
    warned: u64,
    breached: u64,
    open: u64,
}

/// Per clock and priority: elapsed seconds of stopped clocks, how many met, every target.
#[derive(Default)]
struct Times {
    elapsed: Vec<i64>,
    met: u64,
    targets: Vec<i64>,
}

/// What a ticket's signals are grouped by.
struct Routing {
    plan: Arc<str>,
}

/// Tickets with a signal of each kind.
#[derive(Default)]
struct SignalSets<'a> {
    met: BTreeSet<&'a str>,
    warned: BTreeSet<&'a str>,
    breached: BTreeSet<&'a str>,
}

#[derive(Default)]
struct Csat {
    responses: u64,
    sum: u64,
    satisfied: u64,
}

/// Folds triaged records (with their lifecycle) and signals into a [`Report`].
pub struct ReportBuilder<'r> {
    levels: Vec<Arc<str>>,
    rules: &'r Rules,
    projector: Option<Projector<'r>>,
    tickets: u64,
    skipped: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    volume: BTreeMap<(&'static str, String, String), u64>,
    totals: BTreeMap<(&'static str, String), u64>,
    times: BTreeMap<(usize, Arc<str>), Times>,
    projected: BTreeMap<(usize, &'static str, String), Outcomes>,
    csat: BTreeMap<(&'static str, String), Csat>,
    phrases: HashMap<String, u64>,
    customers: HashMap<String, u64>,
    rules_fired: HashMap<String, u64>,
    priority_changes: BTreeMap<(Arc<str>, Arc<str>), u64>,
    category_changes: BTreeMap<(Arc<str>, String), u64>,
    with_history: u64,
    /// ticket id → what its signals are grouped by besides their own fields.
    index: HashMap<String, Routing>,
    signals: BTreeMap<String, SignalRecord>,
    notes: Vec<String>,
}

impl<'r> ReportBuilder<'r> {
    /// `rules`: the policy in use (calendars and targets for the clocks; rule names for "never
    /// fired"). `history`: clock settings and the end of the lifecycle history, when there is one.
    pub fn new(rules: &'r Rules, history: Option<(&'r Settings, Timestamp)>) -> ReportBuilder<'r> {
        ReportBuilder {
            levels: rules.levels.iter().map(|l| l.name.clone()).collect(),
            rules,
            projector: history.map(|(s, t)| Projector::new(rules, s, t)),
            tickets: 0,
            skipped: 0,
            first: None,
            last: None,
            volume: BTreeMap::new(),
            totals: BTreeMap::new(),
            times: BTreeMap::new(),
            projected: BTreeMap::new(),
            csat: BTreeMap::new(),
            phrases: HashMap::new(),
            customers: HashMap::new(),
            rules_fired: HashMap::new(),
            priority_changes: BTreeMap::new(),
            category_changes: BTreeMap::new(),
            with_history: 0,
            index: HashMap::new(),
            signals: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// A record that could not be read (counted; the first reasons are noted).
    pub fn skip(&mut self, note: String) {
        self.skipped += 1;
        if self.notes.len() < 20 {
            self.notes.push(note);
        }
    }

    /// A triaged record (JSON); `history` finds its lifecycle events (in the order they
    /// happened) by ticket id.
    pub fn add(&mut self, record: &[u8], history: &History<'_>) -> Result<(), String> {
        let w: Wire =
            serde_json::from_slice(record).map_err(|e| format!("not a triaged ticket: {e}"))?;
        let events = history(&w.ticket_id);
        let d = &w.triage.decided;
        let seg = &w.triage.segment;
        self.tickets += 1;
        self.first = Some(self.first.map_or(w.created_at, |f| f.min(w.created_at)));
        self.last = Some(self.last.map_or(w.created_at, |l| l.max(w.created_at)));
        let day = crate::view::day_of(w.created_at);
        let channel = w.channel.clone().unwrap_or_else(|| "unknown".into());
        for (dim, key) in [
            ("category", d.category.to_string()),
            ("priority", d.priority.to_string()),
            ("segment", seg.account_type.to_string()),
            ("channel", channel),
        ] {
            *self
                .volume
                .entry((dim, day.clone(), key.clone()))
                .or_default() += 1;
            *self.totals.entry((dim, key)).or_default() += 1;
        }
        *self.customers.entry(w.customer_id.clone()).or_default() += 1;
        for r in &d.reasons {
            *self.rules_fired.entry(rule_key(r)).or_default() += 1;
            if r.factor == "category" || r.factor == "severity" {
                for (p, kind) in quoted(&r.detail) {
                    let p = p.to_lowercase();
                    let key = match kind {
                        Some(k) => format!("{p} ({k})"),
                        None => p,
                    };
                    *self.phrases.entry(key).or_default() += 1;
                }
            }
        }
        self.index.insert(
            w.ticket_id.clone(),
            Routing {
                plan: seg.support_plan.clone(),
            },
        );
        if !events.is_empty() {
            self.with_history += 1;
        }
        // Agents' corrections: the last change of each kind, if it differs from triage.
        let last_priority = events.iter().rev().find_map(|e| match &e.kind {
            EventKind::PriorityChanged { priority } => Some(priority.clone()),
            _ => None,
        });
        if let Some(p) = last_priority.filter(|p| *p != d.priority) {
            *self
                .priority_changes
                .entry((d.priority.clone(), p))
                .or_default() += 1;
        }
        let last_category = events.iter().rev().find_map(|e| match &e.kind {
            EventKind::CategoryChanged { category } => Some(category.clone()),
            _ => None,
        });
        if let Some(c) = last_category.filter(|c| *c != d.category) {
            *self
                .category_changes
                .entry((d.category.clone(), c.to_string()))
                .or_default() += 1;
        }
        for e in events {
            if let EventKind::Satisfaction { score } = e.kind {
                for (dim, key) in [
                    ("priority", d.priority.to_string()),
                    ("category", d.category.to_string()),
                    ("all", "all".to_string()),
                ] {
                    let c = self.csat.entry((dim, key)).or_default();
                    c.responses += 1;
                    c.sum += u64::from(score);
                    c.satisfied += u64::from(score >= 4);
                }
            }
        }
        if let Some(p) = &mut self.projector {
            let proj = p.clocks(
                Opened {
                    ticket_id: &w.ticket_id,
                    customer_id: &w.customer_id,
                    created_at: w.created_at,
                    triaged_at: w.triage.triaged_at,
                },
                d,
                events,
            );
            for (i, c) in proj.clocks.iter().enumerate() {
                let t = self.times.entry((i, d.priority.clone())).or_default();
                if c.stopped {
                    t.elapsed.push(c.elapsed_seconds);
                    t.met += u64::from(c.fate == Fate::Met);
                }
                t.targets.push(c.target_seconds);
                for (dim, key) in [
                    ("all", "all".to_string()),
                    ("priority", d.priority.to_string()),
                    ("queue", d.queue.to_string()),
                    ("plan", seg.support_plan.to_string()),
                ] {
                    let o = self.projected.entry((i, dim, key)).or_default();
                    match c.fate {
                        Fate::Met => o.met += 1,
                        Fate::Breached => o.breached += 1,
                        Fate::Open => o.open += 1,
                    }
                    o.warned += u64::from(c.warned);
                }
            }
        }
        Ok(())
    }

    /// A signal of the SLA watcher (a replayed one, same `signal_id`, counts once).
    pub fn add_signal(&mut self, s: SignalRecord) {
        self.signals.insert(s.signal_id.clone(), s);
    }

    pub fn take_notes(&mut self) -> Vec<String> {
        self.projector
            .as_mut()
            .map(|p| p.take_notes())
            .unwrap_or_default()
    }

    /// A note for the report.
    pub fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    pub fn finish(mut self, top: usize) -> Report {
        let notes = self.take_notes();
        self.notes.extend(notes);
        let levels: Vec<String> = self.levels.iter().map(|l| l.to_string()).collect();
        let mut volume: BTreeMap<String, Vec<VolumeRow>> = BTreeMap::new();
        for ((dim, day, key), n) in self.volume {
            volume.entry(dim.to_string()).or_default().push(VolumeRow {
                day,
                key,
                tickets: n,
            });
        }
        let mut totals: BTreeMap<String, Vec<KeyCount>> = BTreeMap::new();
        for ((dim, key), n) in self.totals {
            totals
                .entry(dim.to_string())
                .or_default()
                .push(KeyCount { key, count: n });
        }
        let levels_ref = &levels;
        for (dim, v) in totals.iter_mut() {
            if dim == "priority" {
                v.sort_by_key(|k| {
                    levels_ref
                        .iter()
                        .position(|l| *l == k.key)
                        .unwrap_or(usize::MAX)
                });
            } else {
                sort_counts(v);
            }
        }
        let mut times = Vec::new();
        for ((clock, priority), t) in self.times {
            let (mut elapsed, within, mut targets) = (t.elapsed, t.met, t.targets);
            elapsed.sort_unstable();
            targets.sort_unstable();
            let h = |s: i64| round2(s as f64 / 3600.0);
            times.push(TimeRow {
                clock: CLOCKS[clock].to_string(),
                priority: priority.to_string(),
                tickets: targets.len() as u64,
                stopped: elapsed.len() as u64,
                p50_hours: percentile(&elapsed, 0.5).map(h),
                p90_hours: percentile(&elapsed, 0.9).map(h),
                p95_hours: percentile(&elapsed, 0.95).map(h),
                target_hours: percentile(&targets, 0.5).map(h),
                within_target: within,
            });
        }
        let rank = |p: &str| levels_ref.iter().position(|l| l == p).unwrap_or(usize::MAX);
        times.sort_by(|a, b| (&a.clock, rank(&a.priority)).cmp(&(&b.clock, rank(&b.priority))));

        // SLA outcomes: from the watcher's signals when given, else projected from history.
        let (sla_source, sla) = if !self.signals.is_empty() {
            let mut m: BTreeMap<(usize, &'static str, String), SignalSets<'_>> = BTreeMap::new();
            for s in self.signals.values() {
                let clock = usize::from(s.clock == ClockKind::Resolution);
                let plan = self
                    .index
                    .get(&s.ticket_id)
                    .map_or("unknown".to_string(), |x| x.plan.to_string());
                for (dim, key) in [
                    ("all", "all".to_string()),
                    ("priority", s.priority.to_string()),
                    ("queue", s.queue.to_string()),
                    ("plan", plan),
                ] {
                    let e = m.entry((clock, dim, key)).or_default();
                    match s.signal {
                        SignalKind::Met => e.met.insert(&s.ticket_id),
                        SignalKind::Warning => e.warned.insert(&s.ticket_id),
                        SignalKind::Breached => e.breached.insert(&s.ticket_id),
                    };
                }
            }
            let rows = m
                .into_iter()
                .map(|((c, dim, key), e)| SlaOutcomeRow {
                    clock: CLOCKS[c].to_string(),
                    dimension: dim.to_string(),
                    key,
                    met: e.met.len() as u64,
                    warned: e.warned.len() as u64,
                    breached: e.breached.len() as u64,
                    open: None,
                })
                .collect();
            ("signals", rows)
        } else if self.projector.is_some() {
            let rows = self
                .projected
                .into_iter()
                .map(|((c, dim, key), o)| SlaOutcomeRow {
                    clock: CLOCKS[c].to_string(),
                    dimension: dim.to_string(),
                    key,
                    met: o.met,
                    warned: o.warned,
                    breached: o.breached,
                    open: Some(o.open),
                })
                .collect();
            ("lifecycle", rows)
        } else {
            ("none", Vec::new())
        };
        let mut sla: Vec<SlaOutcomeRow> = sla;
        sla.sort_by_cached_key(|r| {
            crate::replay::sla_order(&levels, &r.clock, &r.dimension, &r.key)
        });
        let mut csat: Vec<CsatRow> = self
            .csat
            .into_iter()
            .map(|((dim, key), c)| CsatRow {
                dimension: dim.to_string(),
                key,
                responses: c.responses,
                mean: round2(c.sum as f64 / c.responses.max(1) as f64),
                satisfied_share: round2(c.satisfied as f64 / c.responses.max(1) as f64),
            })
            .collect();
        csat.sort_by(|a, b| {
            let k = |r: &CsatRow| {
                (
                    ["all", "priority", "category"]
                        .iter()
                        .position(|x| *x == r.dimension),
                    if r.dimension == "priority" {
                        rank(&r.key)
                    } else {
                        0
                    },
                    r.key.clone(),
                )
            };
            k(a).cmp(&k(b))
        });
        let mut phrases: Vec<KeyCount> = self
            .phrases
            .into_iter()
            .map(|(key, count)| KeyCount { key, count })
            .collect();
        sort_counts(&mut phrases);
        phrases.truncate(top);
        let customers = self.customers.len() as u64;
        let mut repeat: Vec<KeyCount> = self
            .customers
            .into_iter()
            .filter(|(_, n)| *n >= 2)
            .map(|(key, count)| KeyCount { key, count })
            .collect();
        sort_counts(&mut repeat);
        let repeat_customers = repeat.len() as u64;
        let repeat_tickets = repeat.iter().map(|k| k.count).sum();
        repeat.truncate(top);
        let mut fired: Vec<KeyCount> = self
            .rules_fired
            .iter()
            .map(|(key, count)| KeyCount {
                key: key.clone(),
                count: *count,
            })
            .collect();
        sort_counts(&mut fired);
        let most: Vec<KeyCount> = fired.iter().take(top).cloned().collect();
        let mut least: Vec<KeyCount> = fired.iter().rev().take(top).cloned().collect();
        least.reverse();
        let mut never = Vec::new();
        for (factor, name) in self
            .rules
            .overrides
            .iter()
            .map(|o| ("override", &o.name))
            .chain(self.rules.conditions.iter().map(|c| ("condition", &c.name)))
        {
            let prefix = format!("{factor}: {name}");
            if !self.rules_fired.keys().any(|k| k.starts_with(&prefix)) {
                never.push(prefix);
            }
        }
        let moves = |m: BTreeMap<(Arc<str>, Arc<str>), u64>| -> Vec<ChangeRow> {
            m.into_iter()
                .map(|((from, to), tickets)| ChangeRow {
                    from: from.to_string(),
                    to: to.to_string(),
                    tickets,
                })
                .collect()
        };
        let up = self
            .priority_changes
            .iter()
            .filter(|((f, t), _)| rank(t) < rank(f))
            .map(|(_, n)| n)
            .sum();
        let priority_changed: u64 = self.priority_changes.values().sum();
        let category_changed: u64 = self.category_changes.values().sum();
        let mut category_moves: Vec<ChangeRow> = self
            .category_changes
            .into_iter()
            .map(|((from, to), tickets)| ChangeRow {
                from: from.to_string(),
                to,
                tickets,
            })
            .collect();
        category_moves.sort_by(|a, b| {
            b.tickets
                .cmp(&a.tickets)
                .then(a.from.cmp(&b.from))
                .then(a.to.cmp(&b.to))
        });
        Report {
            rules_version: self.rules.version.to_string(),
            first_ticket: self.first,
            last_ticket: self.last,
            tickets: self.tickets,
            skipped: self.skipped,
            with_history: self.with_history,
            levels,
            volume,
            totals,
            times,
            sla_source: sla_source.to_string(),
            sla,
            csat,
            phrases,
            repeat: Repeat {
                customers,
                repeat_customers,
                tickets_from_repeat_customers: repeat_tickets,
                top: repeat,
            },
            rules: Fired {
                most,
                least,
                never_fired: never,
            },
            agent_changes: AgentChanges {
                priority_changed,
                priority_raised: up,
                priority_lowered: priority_changed - up,
                priority_moves: moves(self.priority_changes),
                category_changed,
                category_moves,
            },
            notes: self.notes,
        }
    }
}

fn sort_counts(v: &mut [KeyCount]) {
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The quoted phrases of a reason's detail (`outage (phrase "production down")` →
/// `production down`), each with how it counted when not plainly: `negated` (`bug
/// (negated phrase "work")`) or `disowned` (`security (disowned action "make")`,
/// `security (disowned phrase "mine")`);
/// quoted example sentences ("resembles the example \"…\"") are not phrases.
fn quoted(detail: &str) -> impl Iterator<Item = (&str, Option<&'static str>)> {
    let parts: Vec<&str> = detail.split('"').collect();
    let phrases: Vec<(&str, Option<&'static str>)> = (1..parts.len())
        .step_by(2)
        .filter(|&i| !parts[i].is_empty() && !parts[i - 1].ends_with("example "))
        .map(|i| {
            let before = parts[i - 1];
            let kind = if before.ends_with("negated phrase ") {
                Some("negated")
            } else if before.ends_with("disowned action ") || before.ends_with("disowned phrase ") {
                Some("disowned")
            } else {
                None
            };
            (parts[i], kind)
        })
        .collect();
    phrases.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_quoted_phrases_not_examples() {
        let d = "account (phrase \"sso\"; resembles the example \"I am locked out\")";
        assert_eq!(quoted(d).collect::<Vec<_>>(), [("sso", None)]);
        assert_eq!(
            quoted("outage: \"production down\", \"all users\"").collect::<Vec<_>>(),
            [("production down", None), ("all users", None)]
        );
        let d = "bug (negated phrase \"work\"; resembles the example \"It fails\" 0.6)";
        assert_eq!(quoted(d).collect::<Vec<_>>(), [("work", Some("negated"))]);
        let d = "security (disowned action \"make\", confidence 0.67)";
        assert_eq!(quoted(d).collect::<Vec<_>>(), [("make", Some("disowned"))]);
        let d = "security (disowned phrase \"recognize\"; resembles the example \"x\" 0.7)";
        assert_eq!(
            quoted(d).collect::<Vec<_>>(),
            [("recognize", Some("disowned"))]
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&v, 0.5), Some(5));
        assert_eq!(percentile(&v, 0.9), Some(9));
        assert_eq!(percentile(&v, 0.95), Some(10));
        assert_eq!(percentile(&[], 0.5), None);
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyCount {
    pub key: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct VolumeRow {
    pub day: String,
    pub key: String,
    pub tickets: u64,
}

/// Open time of the calendar from creation to the clock's stop (business hours on a business
/// calendar), for clocks that stopped: percentiles, the median target, how many within it.
#[derive(Debug, Clone, Serialize)]
pub struct TimeRow {
    pub clock: String,
    pub priority: String,
    pub tickets: u64,
    /// Clocks that stopped (answered, or solved) by the end of the history.
    pub stopped: u64,
    pub p50_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    pub p95_hours: Option<f64>,
    pub target_hours: Option<f64>,
    /// Stopped within the target (`met`; a priority change by an agent re-targets the clock).
    pub within_target: u64,
}

/// Tickets met, warned, breached (and, projected from history, still open) per clock.
#[derive(Debug, Clone, Serialize)]
pub struct SlaOutcomeRow {
    pub clock: String,
    pub dimension: String,
    pub key: String,
    pub met: u64,
    pub warned: u64,
    pub breached: u64,
    pub open: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CsatRow {
    pub dimension: String,
    pub key: String,
    pub responses: u64,
    /// Mean score, 1 to 5.
    pub mean: f64,
    /// Share of 4 and 5.
    pub satisfied_share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Repeat {
    pub customers: u64,
    /// Customers with two tickets or more in the period.
    pub repeat_customers: u64,
    pub tickets_from_repeat_customers: u64,
    pub top: Vec<KeyCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fired {
    pub most: Vec<KeyCount>,
    pub least: Vec<KeyCount>,
    /// Overrides and conditions of the rules that fired on no ticket.
    pub never_fired: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub from: String,
    pub to: String,
    pub tickets: u64,
}

/// Tickets whose priority or category an agent changed after triage (the last change differs
/// from what triage decided).
#[derive(Debug, Clone, Serialize)]
pub struct AgentChanges {
    pub priority_changed: u64,
    pub priority_raised: u64,
    pub priority_lowered: u64,
    pub priority_moves: Vec<ChangeRow>,
    pub category_changed: u64,
    pub category_moves: Vec<ChangeRow>,
}

/// The review (the `--json` output of `triage report`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub rules_version: String,
    pub first_ticket: Option<Timestamp>,
    pub last_ticket: Option<Timestamp>,
    pub tickets: u64,
    pub skipped: u64,
    /// Tickets with at least one lifecycle event.
    pub with_history: u64,
    pub levels: Vec<String>,
    /// Tickets per day (UTC, of `created_at`) by category, priority, segment and channel.
    pub volume: BTreeMap<String, Vec<VolumeRow>>,
    /// The same over the whole period, most first (priorities in level order).
    pub totals: BTreeMap<String, Vec<KeyCount>>,
    pub times: Vec<TimeRow>,
    /// Where `sla` comes from: `signals` (the watcher's), `lifecycle` (projected), `none`.
    pub sla_source: String,
    pub sla: Vec<SlaOutcomeRow>,
    pub csat: Vec<CsatRow>,
    /// The phrases that decided categories and severities most often.
    pub phrases: Vec<KeyCount>,
    pub repeat: Repeat,
    pub rules: Fired,
    pub agent_changes: AgentChanges,
    pub notes: Vec<String>,
}
