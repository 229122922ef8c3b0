//! Property tests of `triage::calendar`: random calendars (weekly hours, holidays, zones with and without
//! DST, a 30-minute-offset zone, a zone with a 30-minute DST shift and ones with midnight transitions),
//! random starts over several years, random targets up to ~60 days. Every deadline is also checked
//! against a slow, obviously-correct reference walk that resolves every interval boundary through jiff.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use triage::calendar::{Calendar, CalendarConfig, CalendarKindConfig, WeeklyHoursConfig};

const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",        // +05:30, no DST
    "Australia/Lord_Howe", // 30-minute DST shift
    "America/Santiago",    // transitions at local midnight
    "America/Havana",      // gap at midnight; fold repeating 00:00-01:00
];

/// Weekly hours in minutes of the day, Monday first.
type Week = [Vec<(u32, u32)>; 7];

#[derive(Debug, Clone)]
struct Case {
    zone: &'static str,
    week: Week,
    holidays: BTreeSet<Date>,
}

impl Case {
    /// The largest target used with this calendar: 200 weeks' worth of open time (well inside the
    /// 20-year search horizon even for a calendar open one minute a week).
    fn cap(&self, target: SignedDuration) -> SignedDuration {
        let week_mins: u32 = self.week.iter().flatten().map(|(s, e)| e - s).sum();
        target.min(SignedDuration::from_mins(i64::from(week_mins) * 200))
    }

    fn tz(&self) -> TimeZone {
        TimeZone::get(self.zone).unwrap()
    }

    fn calendar(&self) -> Calendar {
        let fmt = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        let day = |i: usize| -> Option<Vec<String>> {
            Some(
                self.week[i]
                    .iter()
                    .map(|&(s, e)| format!("{}-{}", fmt(s), fmt(e)))
                    .collect(),
            )
        };
        let cfg = CalendarConfig {
            kind: CalendarKindConfig::BusinessHours,
            timezone: Some(self.zone.to_string()),
            use_customer_timezone: false,
            hours: WeeklyHoursConfig {
                mon: day(0),
                tue: day(1),
                wed: day(2),
                thu: day(3),
                fri: day(4),
                sat: day(5),
                sun: day(6),
            },
            holidays: self.holidays.iter().map(|d| d.to_string()).collect(),
        };
        Calendar::from_config("prop", &cfg).unwrap()
    }

    /// Local midnight-relative minute `m` of `day`, resolved compatibly (24:00 = next midnight).
    fn instant(&self, tz: &TimeZone, day: Date, m: u32) -> Timestamp {
        let (day, m) = if m == 1440 {
            (day.tomorrow().unwrap(), 0)
        } else {
            (day, m)
        };
        tz.to_timestamp(day.at((m / 60) as i8, (m % 60) as i8, 0, 0))
            .unwrap()
    }

    /// The reference walk: open intervals from the day before `from`'s local date on, each boundary
    /// resolved by jiff, clipped so nothing precedes an earlier interval's end or `from`. Calls `f` with
    /// each `[open, close)`; stops when `f` returns true or after `max_days` days.
    fn reference_walk(
        &self,
        tz: &TimeZone,
        from: Timestamp,
        max_days: usize,
        mut f: impl FnMut(Timestamp, Timestamp) -> bool,
    ) {
        let mut day = tz.to_datetime(from).date().yesterday().unwrap();
        let mut cursor = from;
        for _ in 0..max_days {
            if !self.holidays.contains(&day) {
                let wd = day.weekday().to_monday_zero_offset() as usize;
                for &(s, e) in &self.week[wd] {
                    let open = self.instant(tz, day, s).max(cursor);
                    let close = self.instant(tz, day, e);
                    if close > open {
                        if f(open, close) {
                            return;
                        }
                        cursor = close;
                    }
                }
            }
            day = day.tomorrow().unwrap();
        }
    }

    fn reference_add(&self, tz: &TimeZone, start: Timestamp, target: SignedDuration) -> Timestamp {
        if target.is_zero() {
            return start;
        }
        let mut remaining = target;
        let mut deadline = None;
        self.reference_walk(tz, start, 20 * 366, |open, close| {
            let avail = close.duration_since(open);
            if remaining <= avail {
                deadline = Some(open + remaining);
                true
            } else {
                remaining -= avail;
                false
            }
        });
        deadline.expect("reference: target not reached")
    }

    fn reference_between(&self, tz: &TimeZone, a: Timestamp, b: Timestamp) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        if b <= a {
            return total;
        }
        let days = (b.duration_since(a).as_hours() / 24 + 4) as usize;
        self.reference_walk(tz, a, days, |open, close| {
            if open >= b {
                return true;
            }
            total += close.min(b).duration_since(open);
            close >= b
        });
        total
    }

    fn reference_is_open(&self, tz: &TimeZone, t: Timestamp) -> bool {
        let mut open = false;
        self.reference_walk(tz, t, 2, |o, _| {
            open = o == t;
            true
        });
        open
    }

    /// Whether `t`'s local wall-clock reading lies in a configured interval on a non-holiday date.
    fn wall_clock_open(&self, tz: &TimeZone, t: Timestamp) -> bool {
        let dt = tz.to_datetime(t);
        if self.holidays.contains(&dt.date()) {
            return false;
        }
        let minute = dt.hour() as u32 * 60 + dt.minute() as u32;
        let wd = dt.date().weekday().to_monday_zero_offset() as usize;
        self.week[wd]
            .iter()
            .any(|&(s, e)| s <= minute && minute < e)
    }
}

/// Whether `tz` has a transition within 3 days of `t` (where wall-clock reasoning does not apply).
fn near_transition(tz: &TimeZone, t: Timestamp) -> bool {
    let window = SignedDuration::from_hours(72);
    tz.following(t - window)
        .next()
        .is_some_and(|tr| tr.timestamp() <= t + window)
}

fn minute_point() -> impl Strategy<Value = u32> {
    // Bias towards midnight and the usual DST hours (01:00-03:30), where the interesting cases are.
    prop_oneof![
        3 => 0u32..=1440,
        1 => prop::sample::select(vec![0u32, 30, 60, 90, 120, 150, 180, 210, 1440]),
    ]
}

fn day_hours() -> impl Strategy<Value = Vec<(u32, u32)>> {
    prop_oneof![
        1 => Just(vec![]),
        1 => Just(vec![(0, 1440)]),
        1 => Just(vec![(540, 1020)]),
        4 => prop::collection::vec(minute_point(), 0..=6).prop_map(|mut points| {
            points.sort_unstable();
            points.dedup();
            points.chunks_exact(2).map(|p| (p[0], p[1])).collect()
        }),
    ]
}

/// 2024-01-01T00:00Z .. 2031-01-01T00:00Z.
const RANGE: std::ops::Range<i64> = 1_704_067_200..1_924_992_000;

fn start_strategy() -> impl Strategy<Value = (i64, i32, i64)> {
    // (uniform second, subsecond nanos, minutes from the next transition after it, or i64::MIN for none)
    (
        RANGE,
        prop_oneof![3 => Just(0i32), 1 => 0i32..1_000_000_000],
        prop_oneof![2 => Just(i64::MIN), 1 => -4320i64..=4320, 1 => -150i64..=150],
    )
}

fn make_start(tz: &TimeZone, (secs, nanos, shift): (i64, i32, i64)) -> Timestamp {
    let t = Timestamp::new(secs, nanos).unwrap();
    if shift == i64::MIN {
        return t;
    }
    match tz.following(t).next() {
        Some(tr) => {
            tr.timestamp() + SignedDuration::from_mins(shift) + SignedDuration::new(0, nanos)
        }
        None => t,
    }
}

fn target_strategy() -> impl Strategy<Value = SignedDuration> {
    prop_oneof![
        1 => Just(SignedDuration::ZERO),
        3 => (1i64..=12 * 3600).prop_map(SignedDuration::from_secs),
        2 => (1i64..=120).prop_map(SignedDuration::from_hours),
        3 => (1i64..=60 * 86_400).prop_map(SignedDuration::from_secs),
        1 => (1i64..=60 * 86_400 * 1_000_000_000).prop_map(SignedDuration::from_nanos),
    ]
}

/// A random calendar and a start instant (holidays are placed around the start so that they matter).
fn case_strategy() -> impl Strategy<Value = (Case, Timestamp)> {
    (
        prop::sample::select(ZONES),
        prop::array::uniform7(day_hours()),
        prop::collection::vec(0i32..90, 0..12),
        start_strategy(),
    )
        .prop_map(|(zone, mut week, holiday_offsets, start)| {
            if week.iter().all(Vec::is_empty) {
                week[2] = vec![(600, 660)];
            }
            let tz = TimeZone::get(zone).unwrap();
            let start = make_start(&tz, start);
            let start_day = tz.to_datetime(start).date();
            let holidays = holiday_offsets
                .into_iter()
                .map(|o| {
                    start_day
                        .checked_add(jiff::Span::new().days(o - 3))
                        .unwrap()
                })
                .collect();
            (
                Case {
                    zone,
                    week,
                    holidays,
                },
                start,
            )
        })
}

/// 256 cases (a few seconds in debug); `PROPTEST_CASES=20000` for a soak run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// add matches the reference walk, lies at or after the start, and lands inside open time.
    #[test]
    fn add_is_exact_and_lands_in_open_time(
        (case, start) in case_strategy(),
        target in target_strategy(),
    ) {
        let cal = case.calendar();
        let tz = case.tz();
        let target = case.cap(target);
        let deadline = cal.add(start, target, &tz).unwrap();
        prop_assert!(deadline >= start);
        prop_assert_eq!(deadline, case.reference_add(&tz, start, target));
        if target.is_zero() {
            prop_assert_eq!(deadline, start);
        } else {
            // The deadline lies in (open_start, open_end] of an open interval: the instant just before is open.
            let before = deadline - SignedDuration::new(0, 1);
            prop_assert!(cal.is_open(before, &tz), "deadline {} not at/inside open time", deadline);
            prop_assert!(before >= start);
            if !near_transition(&tz, deadline) {
                prop_assert!(case.wall_clock_open(&tz, before), "deadline {} outside wall-clock hours", deadline);
            }
        }
    }

    /// add(s, a + b) == add(add(s, a), b).
    #[test]
    fn add_is_associative(
        (case, start) in case_strategy(),
        a in target_strategy(),
        b in target_strategy(),
    ) {
        let cal = case.calendar();
        let tz = case.tz();
        let a = case.cap(a);
        let b = case.cap(b);
        let whole = cal.add(start, a + b, &tz).unwrap();
        let stepped = cal.add(cal.add(start, a, &tz).unwrap(), b, &tz).unwrap();
        prop_assert_eq!(whole, stepped);
    }

    /// open_time_between(s, add(s, t)) == t, and open_time_between and is_open match the reference.
    #[test]
    fn open_time_between_inverts_add(
        (case, start) in case_strategy(),
        target in target_strategy(),
        probe_minutes in 0i64..(90 * 1440),
    ) {
        let cal = case.calendar();
        let tz = case.tz();
        let target = case.cap(target);
        let deadline = cal.add(start, target, &tz).unwrap();
        prop_assert_eq!(cal.open_time_between(start, deadline, &tz), target);
        prop_assert_eq!(cal.open_time_between(deadline, start, &tz), SignedDuration::ZERO);

        let probe = start + SignedDuration::from_mins(probe_minutes);
        prop_assert_eq!(cal.open_time_between(start, probe, &tz), case.reference_between(&tz, start, probe));
        prop_assert_eq!(cal.is_open(probe, &tz), case.reference_is_open(&tz, probe));
        prop_assert_eq!(cal.is_open(start, &tz), case.reference_is_open(&tz, start));
        if !near_transition(&tz, probe) {
            prop_assert_eq!(cal.is_open(probe, &tz), case.wall_clock_open(&tz, probe));
        }
    }

    /// 24x7: plain elapsed time, whatever the zone.
    #[test]
    fn always_open_is_plain_addition(
        zone in prop::sample::select(ZONES),
        start in start_strategy(),
        target in target_strategy(),
    ) {
        let cal = Calendar::always("24x7");
        let tz = TimeZone::get(zone).unwrap();
        let start = make_start(&tz, start);
        prop_assert_eq!(cal.add(start, target, &tz).unwrap(), start + target);
        prop_assert_eq!(cal.open_time_between(start, start + target, &tz), target);
        prop_assert!(cal.is_open(start, &tz));
    }
}
