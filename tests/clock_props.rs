//! Property tests of `triage::clock`: random SLA calendars (24x7, business hours with lunch breaks
//! and holidays, zones with DST), random targets, and random ticket histories (pauses, responses,
//! solves, reopens, priority changes, CSAT, timer polls, state round trips through the changelog
//! format). Every clock is checked against a reference computed directly from the status timeline:
//! elapsed = open time while running, paused = open time while paused.

use std::collections::BTreeSet;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use triage::calendar::{Calendar, CalendarConfig, CalendarKindConfig, WeeklyHoursConfig};
use triage::clock::{
    part_of, ClockKind, Ctx, Entry, EventKind, LifecycleEvent, Output, PolicyTargets, Settings,
    SignalKind, SignalRecord, SlaState, Stamp, Status, Ticket, PPM,
};

// ------------------------------------------------------------------ fixtures

fn strings(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| s.to_string()).collect())
}

/// (calendar, zone) pairs: 24x7, office hours with a lunch break and holidays, long days six
/// days a week across DST, all-day weekdays in a southern-hemisphere DST zone.
fn calendars() -> Vec<(Calendar, TimeZone)> {
    let office = CalendarConfig {
        kind: CalendarKindConfig::BusinessHours,
        timezone: Some("Europe/Berlin".into()),
        use_customer_timezone: false,
        hours: WeeklyHoursConfig {
            mon: strings(&["09:00-12:30", "13:30-17:00"]),
            tue: strings(&["09:00-12:30", "13:30-17:00"]),
            wed: strings(&["09:00-12:30", "13:30-17:00"]),
            thu: strings(&["09:00-12:30", "13:30-17:00"]),
            fri: strings(&["09:00-15:00"]),
            ..Default::default()
        },
        holidays: vec![
            "2026-03-30".into(),
            "2026-04-03".into(),
            "2026-12-24".into(),
        ],
    };
    let long = CalendarConfig {
        kind: CalendarKindConfig::BusinessHours,
        timezone: Some("America/New_York".into()),
        use_customer_timezone: false,
        hours: WeeklyHoursConfig {
            mon: strings(&["08:00-20:00"]),
            tue: strings(&["08:00-20:00"]),
            wed: strings(&["08:00-20:00"]),
            thu: strings(&["08:00-20:00"]),
            fri: strings(&["08:00-20:00"]),
            sat: strings(&["00:00-03:30"]),
            ..Default::default()
        },
        holidays: vec![],
    };
    let sydney = CalendarConfig {
        kind: CalendarKindConfig::BusinessHours,
        timezone: Some("Australia/Sydney".into()),
        use_customer_timezone: false,
        hours: WeeklyHoursConfig {
            mon: strings(&["00:00-24:00"]),
            tue: strings(&["00:00-24:00"]),
            wed: strings(&["00:00-24:00"]),
            thu: strings(&["00:00-24:00"]),
            fri: strings(&["00:00-24:00"]),
            ..Default::default()
        },
        holidays: vec![],
    };
    vec![
        (Calendar::always("24x7"), TimeZone::UTC),
        (
            Calendar::from_config("office", &office).unwrap(),
            TimeZone::get("Europe/Berlin").unwrap(),
        ),
        (
            Calendar::from_config("long", &long).unwrap(),
            TimeZone::get("America/New_York").unwrap(),
        ),
        (
            Calendar::from_config("sydney", &sydney).unwrap(),
            TimeZone::get("Australia/Sydney").unwrap(),
        ),
    ]
}

fn policy() -> PolicyTargets {
    let h = SignedDuration::from_hours;
    PolicyTargets {
        name: "std".into(),
        levels: vec![
            ("P1".into(), SignedDuration::from_mins(30), h(4)),
            ("P2".into(), h(2), h(16)),
            ("P3".into(), h(8), h(40)),
        ],
    }
}

fn stamp(
    created_at: Timestamp,
    calendar: &Calendar,
    fr: SignedDuration,
    rs: SignedDuration,
) -> Stamp {
    Stamp {
        ticket_id: "T-prop".into(),
        customer_id: "C-prop".into(),
        created_at,
        priority: "P2".into(),
        category: "bug".into(),
        queue: "app".into(),
        policy: "std".into(),
        calendar: calendar.name().into(),
        timezone: "UTC".into(),
        first_response_target: fr,
        resolution_target: rs,
        first_response_due: created_at,
        triaged_at: created_at,
    }
}

// ------------------------------------------------------------------ histories

#[derive(Debug, Clone)]
enum Step {
    Event(EventKind),
    /// Poll the timers at this instant (the edge's wake-up).
    Poll,
    /// Write the state to the changelog format and read it back (a restart).
    RoundTrip,
}

fn step() -> impl Strategy<Value = Step> {
    let status = prop::sample::select(vec![
        Status::Open,
        Status::Pending,
        Status::OnHold,
        Status::Solved,
        Status::Closed,
    ]);
    prop_oneof![
        3 => status.prop_map(|s| Step::Event(EventKind::StatusChanged { status: s })),
        1 => Just(Step::Event(EventKind::FirstResponse)),
        1 => Just(Step::Event(EventKind::AgentReply)),
        1 => Just(Step::Event(EventKind::CustomerReply)),
        1 => Just(Step::Event(EventKind::Reopened)),
        2 => prop::sample::select(vec!["P1", "P2", "P3", "P9"])
            .prop_map(|p| Step::Event(EventKind::PriorityChanged { priority: p.into() })),
        1 => (1u8..=5).prop_map(|score| Step::Event(EventKind::Satisfaction { score })),
        3 => Just(Step::Poll),
        1 => Just(Step::RoundTrip),
    ]
}

/// Gaps between steps: seconds to days, biased to the scale of the targets.
fn gap() -> impl Strategy<Value = SignedDuration> {
    prop_oneof![
        1 => (0i64..=60).prop_map(SignedDuration::from_secs),
        3 => (60i64..=4 * 3600).prop_map(SignedDuration::from_secs),
        2 => (4 * 3600i64..=3 * 86_400).prop_map(SignedDuration::from_secs),
    ]
}

fn start() -> impl Strategy<Value = Timestamp> {
    // All of 2026 (both DST changes of every zone), to the second.
    (0i64..365 * 86_400).prop_map(|s| {
        "2026-01-01T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(s)
    })
}

fn target() -> impl Strategy<Value = SignedDuration> {
    (60i64..=2 * 86_400).prop_map(SignedDuration::from_secs)
}

/// The reference: which phase a clock is in for a status timeline, computed independently of the
/// crate's state machine.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RefPhase {
    Run,
    Pause,
    Stop,
}

#[derive(Debug, Clone)]
struct Reference {
    status: Status,
    responded: bool,
    /// Per clock: accumulated (elapsed, paused) open time and the current phase since `since`.
    acc: [(SignedDuration, SignedDuration); 2],
    since: Timestamp,
    target: [SignedDuration; 2],
}

impl Reference {
    fn phase(&self, k: usize, settings: &Settings) -> RefPhase {
        let kind = ClockKind::ALL[k];
        let done = matches!(self.status, Status::Solved | Status::Closed);
        if (kind == ClockKind::FirstResponse && self.responded) || done {
            RefPhase::Stop
        } else if settings.pauses.pauses(self.status, kind) {
            RefPhase::Pause
        } else {
            RefPhase::Run
        }
    }

    /// Accounts the open time from `since` to `t` in the current phases.
    fn close(&mut self, t: Timestamp, cal: &Calendar, tz: &TimeZone, settings: &Settings) {
        let open = cal.open_time_between(self.since, t, tz);
        for k in 0..2 {
            match self.phase(k, settings) {
                RefPhase::Run => self.acc[k].0 += open,
                RefPhase::Pause => self.acc[k].1 += open,
                RefPhase::Stop => {}
            }
        }
        self.since = t;
    }

    fn at(
        &self,
        k: usize,
        t: Timestamp,
        cal: &Calendar,
        tz: &TimeZone,
        settings: &Settings,
    ) -> (SignedDuration, SignedDuration) {
        let open = cal.open_time_between(self.since, t, tz);
        let (e, p) = self.acc[k];
        match self.phase(k, settings) {
            RefPhase::Run => (e + open, p),
            RefPhase::Pause => (e, p + open),
            RefPhase::Stop => (e, p),
        }
    }
}

fn signal(o: &Output) -> Option<&SignalRecord> {
    match o {
        Output::Signal(s) => Some(s),
        Output::Ack(_) => None,
    }
}

/// Runs a history with exact timers: before every step, the timers are polled at every deadline
/// up to the step's instant (what the edge does when it sleeps until `next_deadline`). Checks the
/// invariants on the way and returns every output.
fn run_history(
    cal: &Calendar,
    tz: &TimeZone,
    created: Timestamp,
    fr: SignedDuration,
    rs: SignedDuration,
    steps: &[(SignedDuration, Step)],
) -> Result<(Ticket, Vec<Output>), TestCaseError> {
    let settings = Settings {
        ack_template: Some("{ticket_id} {first_response_in}".into()),
        ..Settings::default()
    };
    let policy = policy();
    let ctx = Ctx {
        calendar: cal,
        tz,
        settings: &settings,
        policy: Some(&policy),
    };
    let (mut t, out) = Ticket::from_stamp(stamp(created, cal, fr, rs), None, &ctx, created);
    let mut all: Vec<Output> = out.outputs;
    let mut reference = Reference {
        status: Status::Open,
        responded: false,
        acc: [(SignedDuration::ZERO, SignedDuration::ZERO); 2],
        since: created,
        target: [fr, rs],
    };
    let mut now = created;
    let mut retargets: BTreeSet<Timestamp> = BTreeSet::new();
    let mut last_elapsed = [SignedDuration::ZERO; 2];
    for (offset, (gap, step)) in steps.iter().enumerate() {
        let at = now + *gap;
        // Exact timers up to `at` (strictly before: an event at `at` decides those itself).
        let mut guard = 0;
        while let Some(d) = t.next_deadline(&ctx) {
            if d >= at {
                break;
            }
            guard += 1;
            prop_assert!(guard < 64, "timer loop does not converge");
            // Nothing is due a nanosecond before the deadline ...
            if d > now {
                let mut probe = t.clone();
                let early = probe.advance(&ctx, d - SignedDuration::from_nanos(1));
                prop_assert!(
                    early.outputs.is_empty(),
                    "signal before its deadline {d}: {early:?}"
                );
            }
            // ... and something is at it (a signal, or retention is over).
            let o = t.advance(&ctx, d);
            if o.outputs.is_empty() {
                prop_assert_eq!(t.expires_at(&settings), Some(d));
                break;
            }
            for s in o.outputs.iter().filter_map(signal) {
                prop_assert_eq!(s.at, d, "timer signal not at its deadline");
            }
            all.extend(o.outputs);
            now = d;
        }
        now = at;
        match step {
            Step::Poll => {
                let o = t.advance(&ctx, at);
                for s in o.outputs.iter().filter_map(signal) {
                    prop_assert!(s.at <= at);
                }
                all.extend(o.outputs);
            }
            Step::RoundTrip => {
                let json = serde_json::to_vec(&Entry::Ticket(Box::new(t.clone()))).unwrap();
                let back: Entry = serde_json::from_slice(&json).unwrap();
                match back {
                    Entry::Ticket(b) => {
                        prop_assert_eq!(&*b, &t);
                        t = *b;
                    }
                    Entry::Orphan(_) => prop_assert!(false, "round trip changed the entry kind"),
                }
            }
            Step::Event(kind) => {
                let ev = LifecycleEvent {
                    ticket_id: "T-prop".into(),
                    at,
                    kind: kind.clone(),
                };
                // The reference first accounts the time up to the event in the old phases.
                reference.close(at, cal, tz, &settings);
                let elapsed_before = [
                    t.first_response.elapsed_at(at, cal, tz),
                    t.resolution.elapsed_at(at, cal, tz),
                ];
                let o = t.apply(Some(offset as i64), &ev, &ctx, at);
                // A replay of the same record changes nothing.
                let mut again = t.clone();
                let r = again.apply(Some(offset as i64), &ev, &ctx, at);
                prop_assert_eq!(r.ignored, Some("duplicate"));
                prop_assert_eq!(&again, &t);
                match kind {
                    EventKind::FirstResponse | EventKind::AgentReply => reference.responded = true,
                    EventKind::CustomerReply if reference.status == Status::Pending => {
                        reference.status = Status::Open
                    }
                    EventKind::StatusChanged { status } => reference.status = *status,
                    EventKind::Reopened
                        if matches!(reference.status, Status::Solved | Status::Closed) =>
                    {
                        reference.status = Status::Open
                    }
                    EventKind::PriorityChanged { priority } => {
                        if let Some((f, r)) = policy.get(priority) {
                            reference.target = [f, r];
                            retargets.insert(at);
                            // Re-targeting keeps elapsed and paused time.
                            prop_assert_eq!(
                                t.first_response.elapsed_at(at, cal, tz),
                                elapsed_before[0]
                            );
                            prop_assert_eq!(
                                t.resolution.elapsed_at(at, cal, tz),
                                elapsed_before[1]
                            );
                            prop_assert_eq!(&*t.priority, &**priority);
                        } else {
                            prop_assert_eq!(o.ignored, Some("unknown_priority"));
                        }
                    }
                    _ => {}
                }
                all.extend(o.outputs);
            }
        }
        // The clocks agree with the reference, and never run backwards.
        for (k, kind) in ClockKind::ALL.into_iter().enumerate() {
            let c = t.clock(kind);
            let (e, p) = reference.at(k, at, cal, tz, &settings);
            prop_assert_eq!(c.elapsed_at(at, cal, tz), e, "{} elapsed at {}", kind, at);
            prop_assert_eq!(c.paused_at(at, cal, tz), p, "{} paused at {}", kind, at);
            prop_assert_eq!(c.target, reference.target[k]);
            prop_assert!(e >= last_elapsed[k], "{} elapsed went back", kind);
            last_elapsed[k] = e;
            let phase = reference.phase(k, &settings);
            prop_assert_eq!(c.is_running(), phase == RefPhase::Run, "{} phase", kind);
            prop_assert_eq!(c.is_paused(), phase == RefPhase::Pause, "{} phase", kind);
            // A running clock is due exactly when the remaining target has elapsed: the pauses
            // moved the deadline by exactly the paused open time.
            if phase == RefPhase::Run && e < c.target {
                let due = c.due(cal, tz).expect("a running clock has a due time");
                prop_assert_eq!(cal.open_time_between(at, due, tz), c.target - e);
                prop_assert_eq!(due, cal.add(at, c.target - e, tz).unwrap());
            }
        }
    }
    // Outputs decided are exactly the ones in the outbox (nothing was delivered here).
    prop_assert_eq!(t.outbox.len(), all.len());
    Ok((t, all))
}

// ------------------------------------------------------------------ properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Random histories: every clock matches the reference (elapsed, paused, phase, due), timers
    /// fire exactly at their deadlines, replays are no-ops, and each signal is decided once.
    #[test]
    fn histories_match_the_reference_and_signal_once(
        cal_idx in 0usize..4,
        created in start(),
        fr in target(),
        rs_factor in 1i32..=6,
        steps in prop::collection::vec((gap(), step()), 0..14),
    ) {
        let cals = calendars();
        let (cal, tz) = &cals[cal_idx];
        let rs = fr * rs_factor;
        let (t, outputs) = run_history(cal, tz, created, fr, rs, &steps)?;

        // Once per ticket, clock and threshold.
        let mut ids = BTreeSet::new();
        for o in &outputs {
            prop_assert!(ids.insert(o.id().to_string()), "decided twice: {}", o.id());
        }
        prop_assert_eq!(outputs.iter().filter(|o| matches!(o, Output::Ack(_))).count(), 1);
        for kind in ClockKind::ALL {
            let sigs: Vec<&SignalRecord> = outputs.iter().filter_map(signal).filter(|s| s.clock == kind).collect();
            // In time order, thresholds rising.
            for w in sigs.windows(2) {
                prop_assert!(w[0].at <= w[1].at, "{kind} signals out of order");
                if let (Some(a), Some(b)) = (w[0].ppm(), w[1].ppm()) {
                    prop_assert!(a < b, "{kind} thresholds not rising");
                }
            }
            let breached = sigs.iter().position(|s| s.signal == SignalKind::Breached);
            let met = sigs.iter().position(|s| s.signal == SignalKind::Met);
            // `met` never follows a breach decided earlier.
            if let (Some(b), Some(m)) = (breached, met) {
                prop_assert!(m < b, "{kind}: met after breached");
            }
            // The state knows every decided threshold.
            let c = t.clock(kind);
            for s in &sigs {
                match s.ppm() {
                    Some(p) => prop_assert!(c.fired.contains(&p)),
                    None => prop_assert!(c.met),
                }
                prop_assert_eq!(s.elapsed_seconds + s.time_left_seconds, s.target_seconds);
            }
        }
    }

    /// A ticket with no response and no status change: every warning, then the breach, each
    /// exactly when its fraction of the target has elapsed on the calendar.
    #[test]
    fn no_response_warns_then_breaches_on_time(
        cal_idx in 0usize..4,
        created in start(),
        fr in target(),
    ) {
        let cals = calendars();
        let (cal, tz) = &cals[cal_idx];
        let rs = fr * 4;
        let settings = Settings::default();
        let ctx = Ctx { calendar: cal, tz, settings: &settings, policy: None };
        let (mut t, _) = Ticket::from_stamp(stamp(created, cal, fr, rs), None, &ctx, created);
        let mut got = vec![];
        while let Some(d) = t.next_deadline(&ctx) {
            if t.first_response.breached() {
                break;
            }
            got.extend(t.advance(&ctx, d).outputs.into_iter().filter_map(|o| match o {
                Output::Signal(s) if s.clock == ClockKind::FirstResponse => Some((s.signal, s.ppm(), s.at)),
                _ => None,
            }));
        }
        let want: Vec<_> = settings
            .thresholds()
            .map(|p| {
                let kind = if p == PPM { SignalKind::Breached } else { SignalKind::Warning };
                (kind, Some(p), cal.add(created, part_of(fr, p), tz).unwrap())
            })
            .collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(t.classify(), Some(SlaState::Breached));
    }

    /// A response before the target: `met`, and no breach ever after for that clock.
    #[test]
    fn response_before_target_is_met_not_breached(
        cal_idx in 0usize..4,
        created in start(),
        fr in target(),
        frac in 1u32..PPM,
    ) {
        let cals = calendars();
        let (cal, tz) = &cals[cal_idx];
        let settings = Settings::default();
        let ctx = Ctx { calendar: cal, tz, settings: &settings, policy: None };
        let (mut t, _) = Ticket::from_stamp(stamp(created, cal, fr, fr * 3), None, &ctx, created);
        let at = cal.add(created, part_of(fr, frac), tz).unwrap();
        let ev = LifecycleEvent { ticket_id: "T-prop".into(), at, kind: EventKind::FirstResponse };
        let o = t.apply(Some(0), &ev, &ctx, at);
        let met: Vec<_> = o.outputs.iter().filter_map(signal).filter(|s| s.signal == SignalKind::Met).collect();
        prop_assert_eq!(met.len(), 1);
        prop_assert_eq!(met[0].clock, ClockKind::FirstResponse);
        prop_assert_eq!(met[0].at, at);
        prop_assert!(met[0].time_left_seconds >= 0);
        prop_assert_eq!(o.stopped.len(), 1);
        prop_assert!(o.stopped[0].1 <= 1.0);
        // Long after the first-response target: nothing for that clock.
        let late = t.advance(&ctx, cal.add(created, fr * 10, tz).unwrap());
        prop_assert!(late.outputs.iter().filter_map(signal).all(|s| s.clock == ClockKind::Resolution));
        prop_assert!(!t.first_response.breached());
    }

    /// Pause then resume: the resolution due time moves by exactly the paused open time, and a
    /// priority change while paused keeps both elapsed and paused time.
    #[test]
    fn pause_shifts_due_by_paused_business_time_and_retarget_keeps_it(
        cal_idx in 0usize..4,
        created in start(),
        rs in target(),
        pause_at in 0i64..=86_400,
        pause_len in 1i64..=5 * 86_400,
        level in prop::sample::select(vec!["P1", "P3"]),
    ) {
        let cals = calendars();
        let (cal, tz) = &cals[cal_idx];
        let settings = Settings::default();
        let policy = policy();
        let ctx = Ctx { calendar: cal, tz, settings: &settings, policy: Some(&policy) };
        let fr = SignedDuration::from_secs(30);
        let (mut t, _) = Ticket::from_stamp(stamp(created, cal, fr, rs), None, &ctx, created);
        let original_due = t.resolution.due(cal, tz).unwrap();
        let p0 = created + SignedDuration::from_secs(pause_at);
        let p1 = p0 + SignedDuration::from_secs(pause_len);
        let ev = |at, kind| LifecycleEvent { ticket_id: "T-prop".into(), at, kind };
        t.apply(Some(0), &ev(p0, EventKind::StatusChanged { status: Status::Pending }), &ctx, p0);
        let paused_open = cal.open_time_between(p0, p1, tz);
        prop_assert_eq!(t.resolution.paused_at(p1, cal, tz), paused_open);
        let elapsed = t.resolution.elapsed_at(p1, cal, tz);
        // Re-target in the middle of the pause: elapsed and paused are kept.
        let mid = p0 + SignedDuration::from_secs(pause_len / 2);
        t.apply(Some(1), &ev(mid, EventKind::PriorityChanged { priority: level.into() }), &ctx, mid);
        prop_assert_eq!(t.resolution.elapsed_at(p1, cal, tz), elapsed);
        prop_assert_eq!(t.resolution.paused_at(p1, cal, tz), paused_open);
        let new_rs = policy.get(level).unwrap().1;
        t.apply(Some(2), &ev(p1, EventKind::StatusChanged { status: Status::Open }), &ctx, p1);
        if elapsed < new_rs {
            let due = t.resolution.due(cal, tz).unwrap();
            // As if the new target had applied from the start, plus the paused open time.
            prop_assert_eq!(due, cal.add(created, new_rs + paused_open, tz).unwrap());
            if new_rs == rs {
                prop_assert_eq!(cal.open_time_between(original_due, due, tz), paused_open);
            }
        }
    }
}
