//! What-if replay: every ticket of a history triaged by a candidate rules file beside a baseline
//! (another rules file, or what was recorded), as of its own time, and the differences counted.
//!
//! [`Replayer`] decides one ticket both ways ([`Row`]); [`Replay`] folds rows, in input order, into
//! a [`Report`]. Everything is deterministic: the same inputs give the same report, byte for byte
//! (ordered maps, rows folded in input order, samples taken first-come).

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use triage_core::clock::{LifecycleEvent, Settings};
use triage_core::codec::json::decode_ticket;
use triage_core::engine::{decide, Scratch};
use triage_core::process::Customers;
use triage_core::rules::Rules;

use crate::project::{Fates, Opened, Projector};
use crate::view::{rule_key, Decided, Recorded, SegmentView};

/// What the candidate is compared with.
#[derive(Clone, Copy)]
pub enum Baseline<'r> {
    /// Another rules file, replayed the same way.
    Rules(&'r Rules),
    /// The `triage` object recorded in each input record (a priority topic's records).
    Recorded,
}

/// One ticket decided both ways.
#[derive(Debug, Clone)]
pub struct Row {
    pub ticket_id: String,
    pub created_at: Timestamp,
    /// The subject, cut to 160 characters (for samples).
    pub subject: String,
    pub segment: SegmentView,
    pub before: Decided,
    pub after: Decided,
    /// Projected fates with the lifecycle history, when there is one.
    pub fates: Option<[Fates; 2]>,
}

/// A ticket's lifecycle events by ticket id, in the order they happened (empty: none).
pub type History<'h> = dyn Fn(&str) -> &'h [LifecycleEvent] + Sync + 'h;

/// Decides tickets both ways; one per thread (it holds the engine's scratch space).
pub struct Replayer<'r> {
    candidate: &'r Rules,
    baseline: Baseline<'r>,
    scratch: [Scratch; 2],
    projectors: Option<[Projector<'r>; 2]>,
}

impl<'r> Replayer<'r> {
    /// `history`: the clock settings and the end of the lifecycle history, when there is one.
    pub fn new(
        candidate: &'r Rules,
        baseline: Baseline<'r>,
        history: Option<(&'r Settings, Timestamp)>,
    ) -> Replayer<'r> {
        let projectors = history.map(|(settings, as_of)| {
            let base_rules = match baseline {
                Baseline::Rules(r) => r,
                // A recorded stamp names calendars and policies; the candidate's have them
                // unless the change renamed them (then the catalog notes the fallback).
                Baseline::Recorded => candidate,
            };
            [
                Projector::new(base_rules, settings, as_of),
                Projector::new(candidate, settings, as_of),
            ]
        });
        Replayer {
            candidate,
            baseline,
            scratch: [Scratch::default(), Scratch::default()],
            projectors,
        }
    }

    /// Decides the ticket in `record` (a ticket event, or a triaged ticket with its recorded
    /// `triage` object) both ways, as of its own time: when it was triaged if that was recorded,
    /// else when it was created. `events`: its lifecycle history, in order, when one was given.
    pub fn row(
        &mut self,
        record: &[u8],
        customers: &impl Customers,
        history: Option<&History<'_>>,
    ) -> Result<Row, String> {
        let decoded = decode_ticket(record).map_err(|e| e.to_string())?;
        let ticket = decoded.ticket;
        // The baseline: the decision recorded with the ticket (decided as of when it was
        // triaged), or the baseline rules to decide it with (as of its creation).
        let (baseline, now) = match self.baseline {
            Baseline::Recorded => {
                let rec = Recorded::from_json(record)?
                    .ok_or("no recorded `triage` object to compare with")?;
                (Ok(rec.decided), rec.triaged_at)
            }
            Baseline::Rules(r) => (Err(r), ticket.created_at),
        };
        let [s0, s1] = &mut self.scratch;
        let (before, after, segment) = customers.with_profile(&ticket.customer_id, |p| {
            let after = decide(self.candidate, &ticket, p, now, s1).triage;
            let segment = SegmentView::of(&after);
            let before = match baseline {
                Ok(recorded) => recorded,
                Err(rules) => Decided::of(&decide(rules, &ticket, p, now, s0).triage),
            };
            (before, Decided::of(&after), segment)
        });
        let fates = match (&mut self.projectors, history) {
            (Some([p0, p1]), Some(history)) => {
                let events = history(&ticket.ticket_id);
                let opened = Opened {
                    ticket_id: &ticket.ticket_id,
                    customer_id: &ticket.customer_id,
                    created_at: ticket.created_at,
                    triaged_at: now,
                };
                Some([
                    p0.project(opened, &before, events),
                    p1.project(opened, &after, events),
                ])
            }
            _ => None,
        };
        Ok(Row {
            ticket_id: ticket.ticket_id.to_string(),
            created_at: ticket.created_at,
            subject: triage_core::text::prefix(&ticket.subject, 160).to_string(),
            segment,
            before,
            after,
            fates,
        })
    }

    /// [`Replayer::row`] with a panic inside (the engine, a projection) turned into that
    /// record's error, as the service turns it into a dead letter; the scratch space is reset.
    pub fn isolated_row(
        &mut self,
        record: &[u8],
        customers: &impl Customers,
        history: Option<&History<'_>>,
    ) -> Result<Row, String> {
        match triage_core::isolate::isolate(|| self.row(record, customers, history)) {
            Ok(row) => row,
            Err(panic) => {
                self.scratch = [Scratch::default(), Scratch::default()];
                Err(format!(
                    "internal error while replaying this record: {panic}"
                ))
            }
        }
    }

    /// Fallbacks the projections took (unknown calendars or zones), once each per replayer.
    pub fn take_notes(&mut self) -> Vec<String> {
        match &mut self.projectors {
            Some([a, b]) => {
                let mut n = a.take_notes();
                n.extend(b.take_notes());
                n
            }
            None => Vec::new(),
        }
    }
}

/// Counts of fates, indexed like [`Fate::ALL`].
pub type FateCounts = [u64; 3];

#[derive(Debug, Clone, Default)]
struct Moves {
    tickets: u64,
    up: u64,
    down: u64,
    requeued: u64,
}

#[derive(Debug, Clone, Default)]
struct Shift {
    tightened: u64,
    loosened: u64,
    unchanged: u64,
    before_seconds: i128,
    after_seconds: i128,
}

#[derive(Debug, Clone, Default)]
struct RuleCount {
    fired: [u64; 2],
    points: [i64; 2],
}

/// The dimensions tickets are grouped by.
const GROUPS: [&str; 3] = ["category", "segment", "plan"];
/// Clock names, indexed like [`Fates`].
const CLOCKS: [&str; 2] = ["first_response", "resolution"];

/// Folds rows into a report.
pub struct Replay {
    levels: Vec<Arc<str>>,
    samples_per_move: usize,
    tickets: u64,
    skipped: u64,
    changed: Changed,
    mix: BTreeMap<Arc<str>, [u64; 2]>,
    matrix: BTreeMap<(Arc<str>, Arc<str>), u64>,
    by: BTreeMap<(&'static str, Arc<str>), Moves>,
    load: BTreeMap<(&'static str, String, Arc<str>), [u64; 2]>,
    shifts: [Shift; 2],
    sla: BTreeMap<(usize, &'static str, Arc<str>), [FateCounts; 2]>,
    projected: u64,
    rules: BTreeMap<String, RuleCount>,
    samples: BTreeMap<(Arc<str>, Arc<str>), Vec<Sample>>,
    notes: Vec<String>,
}

impl Replay {
    /// `levels`: priority levels, most urgent first (the candidate's, then the baseline's);
    /// levels seen only in records are appended as they appear. `samples_per_move`: sample
    /// tickets kept per (before, after) pair.
    pub fn new(levels: Vec<Arc<str>>, samples_per_move: usize) -> Replay {
        Replay {
            levels,
            samples_per_move,
            tickets: 0,
            skipped: 0,
            changed: Changed::default(),
            mix: BTreeMap::new(),
            matrix: BTreeMap::new(),
            by: BTreeMap::new(),
            load: BTreeMap::new(),
            shifts: Default::default(),
            sla: BTreeMap::new(),
            projected: 0,
            rules: BTreeMap::new(),
            samples: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// Levels of both rules files, most urgent first, each once.
    pub fn levels_of(candidate: &Rules, baseline: Option<&Rules>) -> Vec<Arc<str>> {
        let mut out: Vec<Arc<str>> = candidate.levels.iter().map(|l| l.name.clone()).collect();
        for l in baseline.into_iter().flat_map(|b| b.levels.iter()) {
            if !out.contains(&l.name) {
                out.push(l.name.clone());
            }
        }
        out
    }

    /// A record that could not be replayed (it is counted, and the reason noted once).
    pub fn skip(&mut self, note: String) {
        self.skipped += 1;
        if self.notes.len() < 20 {
            self.notes.push(note);
        }
    }

    /// A note for the report (fallbacks, inputs ignored).
    pub fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    fn rank(&self, level: &str) -> usize {
        self.levels
            .iter()
            .position(|l| &**l == level)
            .unwrap_or(self.levels.len())
    }

    pub fn add(&mut self, row: Row) {
        let (b, a) = (&row.before, &row.after);
        self.tickets += 1;
        let moved = b.priority != a.priority;
        let requeued = b.queue != a.queue;
        self.changed.priority += u64::from(moved);
        self.changed.queue += u64::from(requeued);
        self.changed.tier += u64::from(b.tier != a.tier);
        self.changed.category += u64::from(b.category != a.category);
        self.changed.any += u64::from(
            moved || requeued || b.tier != a.tier || b.category != a.category || b.sla != a.sla,
        );
        for l in [&b.priority, &a.priority] {
            if !self.levels.contains(l) {
                self.levels.push(l.clone());
            }
        }
        self.mix.entry(b.priority.clone()).or_default()[0] += 1;
        self.mix.entry(a.priority.clone()).or_default()[1] += 1;
        *self
            .matrix
            .entry((b.priority.clone(), a.priority.clone()))
            .or_default() += 1;
        let (rb, ra) = (self.rank(&b.priority), self.rank(&a.priority));
        let keys: [Arc<str>; 3] = [
            a.category.clone(),
            row.segment.account_type.clone(),
            row.segment.support_plan.clone(),
        ];
        for (g, k) in GROUPS.iter().zip(keys) {
            let m = self.by.entry((g, k)).or_default();
            m.tickets += 1;
            m.up += u64::from(ra < rb);
            m.down += u64::from(ra > rb);
            m.requeued += u64::from(requeued);
        }
        let day = crate::view::day_of(row.created_at);
        for (i, d) in [b, a].into_iter().enumerate() {
            self.load
                .entry(("queue", day.clone(), d.queue.clone()))
                .or_default()[i] += 1;
            self.load
                .entry(("tier", day.clone(), d.tier.clone()))
                .or_default()[i] += 1;
        }
        let targets = |d: &Decided| {
            [
                d.sla.first_response_target_seconds,
                d.sla.resolution_target_seconds,
            ]
        };
        for (c, (tb, ta)) in targets(b).into_iter().zip(targets(a)).enumerate() {
            let s = &mut self.shifts[c];
            match ta.cmp(&tb) {
                std::cmp::Ordering::Less => s.tightened += 1,
                std::cmp::Ordering::Greater => s.loosened += 1,
                std::cmp::Ordering::Equal => s.unchanged += 1,
            }
            s.before_seconds += i128::from(tb);
            s.after_seconds += i128::from(ta);
        }
        if let Some(fates) = &row.fates {
            self.projected += 1;
            for (side, d) in [b, a].into_iter().enumerate() {
                let keys: [(&'static str, Arc<str>); 4] = [
                    ("all", Arc::from("all")),
                    ("priority", d.priority.clone()),
                    ("queue", d.queue.clone()),
                    ("plan", row.segment.support_plan.clone()),
                ];
                for (clock, fate) in fates[side].iter().enumerate() {
                    let f = fate.index();
                    for (dim, key) in &keys {
                        self.sla.entry((clock, dim, key.clone())).or_default()[side][f] += 1;
                    }
                }
            }
        }
        for (side, d) in [b, a].into_iter().enumerate() {
            for r in &d.reasons {
                let c = self.rules.entry(rule_key(r)).or_default();
                c.fired[side] += 1;
                c.points[side] += r.points;
            }
        }
        if b.priority != a.priority || requeued {
            let v = self
                .samples
                .entry((b.priority.clone(), a.priority.clone()))
                .or_default();
            if v.len() < self.samples_per_move {
                v.push(Sample {
                    ticket_id: row.ticket_id,
                    created_at: row.created_at,
                    subject: row.subject,
                    before: row.before,
                    after: row.after,
                });
            }
        }
    }

    /// The report. `top_rules`: how many rules to list (those whose points changed most).
    pub fn finish(self, labels: Labels, top_rules: usize) -> Report {
        let levels: Vec<String> = self.levels.iter().map(|l| l.to_string()).collect();
        let n = levels.len();
        let idx = |l: &str| levels.iter().position(|x| x == l).unwrap_or(0);
        let mut matrix = vec![vec![0u64; n]; n];
        let mut moves = Vec::new();
        for ((from, to), count) in &self.matrix {
            matrix[idx(from)][idx(to)] += count;
            if from != to {
                moves.push(Move {
                    from: from.to_string(),
                    to: to.to_string(),
                    tickets: *count,
                });
            }
        }
        moves.sort_by_key(|m| (idx(&m.from), idx(&m.to)));
        let mix = levels
            .iter()
            .map(|l| {
                let c = self.mix.get(&**l).copied().unwrap_or_default();
                MixRow {
                    level: l.clone(),
                    before: c[0],
                    after: c[1],
                }
            })
            .collect();
        let mut moved_by: BTreeMap<String, Vec<MoveRow>> = BTreeMap::new();
        for ((g, k), m) in self.by {
            moved_by.entry(g.to_string()).or_default().push(MoveRow {
                key: k.to_string(),
                tickets: m.tickets,
                up: m.up,
                down: m.down,
                requeued: m.requeued,
            });
        }
        for rows in moved_by.values_mut() {
            rows.sort_by(|x, y| {
                (y.up + y.down, y.tickets, &x.key).cmp(&(x.up + x.down, x.tickets, &y.key))
            });
        }
        let mut load: BTreeMap<String, Vec<LoadRow>> = BTreeMap::new();
        for ((dim, day, key), c) in self.load {
            load.entry(dim.to_string()).or_default().push(LoadRow {
                day,
                key: key.to_string(),
                before: c[0],
                after: c[1],
            });
        }
        let targets = self
            .shifts
            .iter()
            .zip(CLOCKS)
            .map(|(s, clock)| {
                let mean = |sum: i128| {
                    if self.tickets == 0 {
                        0.0
                    } else {
                        round2(sum as f64 / self.tickets as f64 / 3600.0)
                    }
                };
                TargetRow {
                    clock: clock.to_string(),
                    tightened: s.tightened,
                    loosened: s.loosened,
                    unchanged: s.unchanged,
                    mean_before_hours: mean(s.before_seconds),
                    mean_after_hours: mean(s.after_seconds),
                }
            })
            .collect();
        let sla = (self.projected > 0).then(|| {
            let mut rows: Vec<SlaRow> = self
                .sla
                .into_iter()
                .map(|((clock, dim, key), c)| SlaRow {
                    clock: CLOCKS[clock].to_string(),
                    dimension: dim.to_string(),
                    key: key.to_string(),
                    before: FateRow::of(c[0]),
                    after: FateRow::of(c[1]),
                })
                .collect();
            rows.sort_by_cached_key(|r| sla_order(&levels, &r.clock, &r.dimension, &r.key));
            rows
        });
        let mut rules: Vec<RuleRow> = self
            .rules
            .into_iter()
            .map(|(rule, c)| RuleRow {
                rule,
                fired_before: c.fired[0],
                fired_after: c.fired[1],
                points_before: c.points[0],
                points_after: c.points[1],
            })
            .filter(|r| r.fired_before != r.fired_after || r.points_before != r.points_after)
            .collect();
        rules.sort_by(|x, y| {
            (
                y.delta().abs(),
                y.fired_after.abs_diff(y.fired_before),
                &x.rule,
            )
                .cmp(&(
                    x.delta().abs(),
                    x.fired_after.abs_diff(x.fired_before),
                    &y.rule,
                ))
        });
        rules.truncate(top_rules);
        let mut samples: Vec<SampleGroup> = self
            .samples
            .into_iter()
            .map(|((from, to), tickets)| SampleGroup {
                from: from.to_string(),
                to: to.to_string(),
                tickets,
            })
            .collect();
        samples.sort_by_key(|g| (idx(&g.from), idx(&g.to)));
        Report {
            baseline: labels.baseline,
            candidate: labels.candidate,
            tickets: self.tickets,
            skipped: self.skipped,
            changed: self.changed,
            levels,
            mix,
            matrix,
            moves,
            moved_by,
            load,
            targets,
            projected: self.projected,
            sla,
            rules,
            samples,
            notes: self.notes,
        }
    }
}

/// The order SLA rows are listed in: by clock, then `all`, `priority` (in level order),
/// `queue`, `plan`, then by key.
pub(crate) fn sla_order(
    levels: &[String],
    clock: &str,
    dimension: &str,
    key: &str,
) -> (String, Option<usize>, usize, String) {
    let dim = ["all", "priority", "queue", "plan"]
        .iter()
        .position(|x| *x == dimension);
    let level = if dimension == "priority" {
        levels.iter().position(|l| l == key).unwrap_or(levels.len())
    } else {
        0
    };
    (clock.to_string(), dim, level, key.to_string())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// What the two sides are called in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Labels {
    pub baseline: String,
    pub candidate: String,
}

/// Tickets whose decision changed, by what changed.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Changed {
    /// Any of priority, queue, tier, category or SLA stamp.
    pub any: u64,
    pub priority: u64,
    pub queue: u64,
    pub tier: u64,
    pub category: u64,
}

/// The replay's findings (the `--json` output).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub baseline: String,
    pub candidate: String,
    /// Tickets replayed.
    pub tickets: u64,
    /// Records that could not be replayed (not a valid ticket, no recorded decision).
    pub skipped: u64,
    pub changed: Changed,
    /// Priority levels, most urgent first.
    pub levels: Vec<String>,
    /// Tickets per level before and after.
    pub mix: Vec<MixRow>,
    /// `matrix[i][j]`: tickets at `levels[i]` before and `levels[j]` after.
    pub matrix: Vec<Vec<u64>>,
    /// The off-diagonal cells of the matrix.
    pub moves: Vec<Move>,
    /// By `category` (the candidate's), `segment` (account type) and `plan`: tickets, moved
    /// up (more urgent), moved down, re-queued; most moved first.
    pub moved_by: BTreeMap<String, Vec<MoveRow>>,
    /// By `queue` and `tier`: tickets per day (UTC, of `created_at`) before and after.
    pub load: BTreeMap<String, Vec<LoadRow>>,
    /// SLA targets: tickets whose target got shorter, longer, or stayed; mean targets.
    pub targets: Vec<TargetRow>,
    /// Tickets with a projected SLA outcome (a lifecycle history was given).
    pub projected: u64,
    /// Projected met / breached / open per clock, overall (`all`) and by priority, queue and
    /// plan (each side grouped by its own priority and queue). Absent without lifecycle history.
    pub sla: Option<Vec<SlaRow>>,
    /// The rules whose points (summed over all tickets) changed most.
    pub rules: Vec<RuleRow>,
    /// Sample tickets per (before, after) pair that changed priority or queue.
    pub samples: Vec<SampleGroup>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MixRow {
    pub level: String,
    pub before: u64,
    pub after: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Move {
    pub from: String,
    pub to: String,
    pub tickets: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MoveRow {
    pub key: String,
    pub tickets: u64,
    pub up: u64,
    pub down: u64,
    pub requeued: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadRow {
    pub day: String,
    pub key: String,
    pub before: u64,
    pub after: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetRow {
    pub clock: String,
    pub tightened: u64,
    pub loosened: u64,
    pub unchanged: u64,
    pub mean_before_hours: f64,
    pub mean_after_hours: f64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct FateRow {
    pub met: u64,
    pub breached: u64,
    pub open: u64,
}

impl FateRow {
    fn of(c: FateCounts) -> FateRow {
        FateRow {
            met: c[0],
            breached: c[1],
            open: c[2],
        }
    }

    pub fn total(&self) -> u64 {
        self.met + self.breached + self.open
    }

    /// Breached over met + breached (open tickets are not decided yet); 0 when none decided.
    pub fn breach_rate(&self) -> f64 {
        let decided = self.met + self.breached;
        if decided == 0 {
            0.0
        } else {
            self.breached as f64 / decided as f64
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SlaRow {
    pub clock: String,
    pub dimension: String,
    pub key: String,
    pub before: FateRow,
    pub after: FateRow,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    /// `factor: detail`, numbers as `#`.
    pub rule: String,
    pub fired_before: u64,
    pub fired_after: u64,
    pub points_before: i64,
    pub points_after: i64,
}

impl RuleRow {
    pub fn delta(&self) -> i64 {
        self.points_after - self.points_before
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub ticket_id: String,
    pub created_at: Timestamp,
    pub subject: String,
    pub before: Decided,
    pub after: Decided,
}

#[derive(Debug, Clone, Serialize)]
pub struct SampleGroup {
    pub from: String,
    pub to: String,
    pub tickets: Vec<Sample>,
}

/// Replays `records` on `threads` threads (contiguous chunks, one [`Replayer`] each) and folds
/// the rows in input order, so the result does not depend on the thread count. `events` finds a
/// record's lifecycle history by ticket id (`None`: no history at all).
pub fn replay_batch<'r, C: Customers + Sync>(
    replayers: &mut [Replayer<'r>],
    records: &[(usize, Vec<u8>)],
    customers: &C,
    history: Option<&History<'_>>,
    replay: &mut Replay,
) {
    let chunk = records.len().div_ceil(replayers.len().max(1)).max(1);
    let results: Vec<Vec<(usize, Result<Row, String>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = replayers
            .iter_mut()
            .zip(records.chunks(chunk))
            .map(|(r, part)| {
                s.spawn(move || {
                    part.iter()
                        .map(|(line, rec)| (*line, r.isolated_row(rec, customers, history)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            // Each record is isolated (`isolated_row`): a thread panics only on a bug outside
            // the per-record work, which is worth stopping for.
            .map(|h| h.join().expect("a replay thread panicked"))
            .collect()
    });
    for (line, r) in results.into_iter().flatten() {
        match r {
            Ok(row) => replay.add(row),
            Err(e) => replay.skip(format!("record {line}: {e}")),
        }
    }
    for r in replayers.iter_mut() {
        for n in r.take_notes() {
            replay.note(n);
        }
    }
}
