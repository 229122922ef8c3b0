//! SLA calendars and exact deadline arithmetic.
//!
//! An SLA target ("first response within 4 business hours") is *open time*: it only elapses while the
//! ticket's calendar is open. A [`Calendar`] is either 24x7 (always open) or a business-hours calendar made
//! of weekly open intervals per weekday, holidays (whole local dates closed) and a time zone.
//!
//! # Semantics (exact)
//!
//! * The open intervals of a local date `d` are the configured intervals of `d`'s weekday, unless `d` is a
//!   holiday. Each interval `"HH:MM-HH:MM"` is turned into the instants `[start, end)` by resolving the local
//!   civil datetimes `d HH:MM` in the zone with jiff's *compatible* disambiguation (a time inside a
//!   spring-forward gap is read with the offset from before the gap, i.e. it lands after the gap by the
//!   same amount; an ambiguous time in a fall-back fold resolves to its earlier instant). `"24:00"` is
//!   midnight of the next date.
//! * An interval counts its real elapsed time, so `00:00-24:00` is 23 hours on a spring-forward day and 25
//!   hours on a fall-back day.
//! * Intervals are taken in calendar order; any part of an interval that would lie before the end of an
//!   earlier interval is dropped. This only matters when interval boundaries fall inside a DST gap, where the
//!   compatible resolution can map a later local time to an earlier instant; it guarantees the open time
//!   is a set of disjoint intervals and nothing is counted twice.
//! * [`Calendar::add`] walks forward through open time from the start instant. If the target is used up
//!   exactly at the end of an interval, the deadline *is* that end instant.
//!
//! # Performance
//!
//! Deadline arithmetic runs for every ticket. Between time zone transitions the zone has a constant UTC
//! offset, so days far enough from a transition are mapped with integer arithmetic only; only the few days
//! around a transition go through jiff's zone lookups. Closed days are skipped with a couple of integer
//! comparisons, and runs of whole plain weeks (no holiday, no transition) are skipped in one step using the
//! precomputed open time of a week. Nothing is allocated while walking.

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::{Date, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

/// One calendar of the rules file: `[sla.calendars.<name>]`.
///
/// ```toml
/// [sla.calendars.berlin_office]
/// kind = "business_hours"
/// timezone = "Europe/Berlin"
/// hours.mon = ["09:00-12:30", "13:30-17:00"]
/// hours.fri = ["09:00-15:00"]
/// holidays = ["2026-12-24", "2026-12-25"]
/// ```
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    /// `"24x7"` (always open: SLA targets are plain elapsed time) or `"business_hours"` (targets only
    /// elapse during `hours`, outside `holidays`). Default `"business_hours"`.
    #[serde(default)]
    pub kind: CalendarKindConfig,
    /// IANA time zone in which `hours` and `holidays` are read, e.g. `"Europe/Berlin"`. Required for
    /// `business_hours` (also when `use_customer_timezone` is set: it is the fallback for customers
    /// without a time zone); not allowed for `24x7`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// When `true` and the customer record has a `timezone`, `hours` and `holidays` are read in the
    /// customer's zone instead of `timezone` ("9 to 5 wherever the customer is"). Default `false`.
    /// Only for `business_hours`.
    #[serde(default)]
    pub use_customer_timezone: bool,
    /// Weekly open hours of a `business_hours` calendar, per weekday. A day missing (or an empty list)
    /// is closed all day. Not allowed for `24x7`.
    #[serde(default)]
    pub hours: WeeklyHoursConfig,
    /// Whole local dates (`"YYYY-MM-DD"`, in the calendar's zone) on which a `business_hours` calendar is
    /// closed all day, whatever `hours` says. Not allowed for `24x7`.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// The `kind` of a calendar.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub enum CalendarKindConfig {
    /// `"24x7"`: always open.
    #[serde(rename = "24x7")]
    AlwaysOpen,
    /// `"business_hours"`: open during the weekly `hours`, closed on `holidays`.
    #[default]
    #[serde(rename = "business_hours")]
    BusinessHours,
}

/// Weekly open hours: `hours.<day> = ["HH:MM-HH:MM", ...]`.
///
/// Each interval is `"HH:MM-HH:MM"` in 24-hour local time, start inclusive, end exclusive; the end may be
/// `"24:00"` (midnight at the end of the day). The end must be after the start (an interval cannot run
/// past midnight: split it into `"22:00-24:00"` on one day and `"00:00-06:00"` on the next). A day's
/// intervals must be sorted and must not overlap; touching intervals (`"09:00-12:00", "12:00-17:00"`)
/// are allowed and behave as one.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHoursConfig {
    /// Open intervals on Mondays.
    #[serde(default)]
    pub mon: Option<Vec<String>>,
    /// Open intervals on Tuesdays.
    #[serde(default)]
    pub tue: Option<Vec<String>>,
    /// Open intervals on Wednesdays.
    #[serde(default)]
    pub wed: Option<Vec<String>>,
    /// Open intervals on Thursdays.
    #[serde(default)]
    pub thu: Option<Vec<String>>,
    /// Open intervals on Fridays.
    #[serde(default)]
    pub fri: Option<Vec<String>>,
    /// Open intervals on Saturdays.
    #[serde(default)]
    pub sat: Option<Vec<String>>,
    /// Open intervals on Sundays.
    #[serde(default)]
    pub sun: Option<Vec<String>>,
}

impl WeeklyHoursConfig {
    /// The days in Monday-first order with their config key.
    fn days(&self) -> [(&'static str, &Option<Vec<String>>); 7] {
        [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ]
    }

    fn is_empty(&self) -> bool {
        self.days().iter().all(|(_, d)| d.is_none())
    }
}

/// A problem in a calendar's config.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarConfigError {
    /// Dotted path of the offending value relative to the calendar table, e.g. `"hours.mon[1]"`,
    /// `"timezone"` or `"holidays[2]"`.
    pub field: String,
    /// What is wrong, for humans.
    pub message: String,
}

impl CalendarConfigError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        CalendarConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for CalendarConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for CalendarConfigError {}

/// Errors of deadline arithmetic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalendarError {
    /// The calendar has no open hours at all, so no positive target can ever elapse.
    #[error("calendar {calendar:?} has no open hours")]
    NoOpenHours {
        /// Calendar name.
        calendar: String,
    },
    /// Not enough open time was found within the search horizon after the start.
    #[error("calendar {calendar:?}: target not reached within {years} years of the start")]
    HorizonExceeded {
        /// Calendar name.
        calendar: String,
        /// The horizon, in years.
        years: u32,
    },
    /// The target duration is negative.
    #[error("calendar {calendar:?}: negative SLA target {target}")]
    NegativeTarget {
        /// Calendar name.
        calendar: String,
        /// The offending target.
        target: SignedDuration,
    },
    /// The deadline falls outside the range of representable timestamps.
    #[error("calendar {calendar:?}: deadline out of the supported time range")]
    OutOfRange {
        /// Calendar name.
        calendar: String,
    },
}

/// How far [`Calendar::add`] searches for open time before giving up.
pub const HORIZON_YEARS: u32 = 20;
const HORIZON_DAYS: i64 = HORIZON_YEARS as i64 * 366;

const DAY_SECS: i64 = 86_400;
const WEEK_SECS: i64 = 7 * DAY_SECS;
const NANOS: i128 = 1_000_000_000;
/// Strictly larger than the largest possible difference between two UTC offsets (jiff offsets are
/// within ±25:59:59).
const MAX_OFFSET_DIFF_SECS: i64 = 52 * 3600;
/// How far [`OffsetSpan::at`] looks back for a transition before taking its fast path: enough for the
/// start's local date and the one before to be plain (see there).
const LOOKBACK_SECS: i64 = MAX_OFFSET_DIFF_SECS + 2 * DAY_SECS;
/// Larger than any UTC offset (in seconds).
const MAX_OFFSET_SECS: i64 = 26 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AlwaysOpen,
    BusinessHours,
}

/// A compiled, validated SLA calendar. Cheap to share (`Clone`), pure (no I/O).
#[derive(Debug, Clone)]
pub struct Calendar {
    name: String,
    kind: Kind,
    /// Open intervals per weekday (Monday = index 0) in seconds of the local day, `[start, end)` with
    /// `end <= 86400`; sorted, non-overlapping, touching intervals merged.
    weekly: [Vec<(i64, i64)>; 7],
    /// Closed local dates.
    holidays: BTreeSet<Date>,
    /// `holidays` as days since 1970-01-01 (sorted), for the walking loop.
    holiday_days: Vec<i64>,
    /// The calendar's own zone (always `Some` for business hours).
    tz: Option<TimeZone>,
    use_customer_timezone: bool,
    /// Total open time of a plain week (no holiday, no transition), in nanoseconds.
    week_open_ns: i128,
}

impl Calendar {
    /// The built-in 24x7 calendar: always open, targets are plain elapsed time.
    pub fn always(name: &str) -> Calendar {
        Calendar {
            name: name.to_string(),
            kind: Kind::AlwaysOpen,
            weekly: Default::default(),
            holidays: BTreeSet::new(),
            holiday_days: Vec::new(),
            tz: None,
            use_customer_timezone: false,
            week_open_ns: 0,
        }
    }

    /// Compiles and validates one `[sla.calendars.<name>]` table.
    ///
    /// Validates kind/field consistency, the IANA zone, the `"HH:MM-HH:MM"` syntax, `end > start`, sorted
    /// and non-overlapping intervals per day, the holiday dates, and that a business-hours calendar has at
    /// least one open interval. Returns all problems found, not just the first.
    pub fn from_config(
        name: &str,
        cfg: &CalendarConfig,
    ) -> Result<Calendar, Vec<CalendarConfigError>> {
        let mut errors = Vec::new();
        if cfg.kind == CalendarKindConfig::AlwaysOpen {
            let not_allowed = "not allowed for a \"24x7\" calendar (it is always open)";
            if cfg.timezone.is_some() {
                errors.push(CalendarConfigError::new("timezone", not_allowed));
            }
            if cfg.use_customer_timezone {
                errors.push(CalendarConfigError::new(
                    "use_customer_timezone",
                    not_allowed,
                ));
            }
            if !cfg.hours.is_empty() {
                errors.push(CalendarConfigError::new("hours", not_allowed));
            }
            if !cfg.holidays.is_empty() {
                errors.push(CalendarConfigError::new("holidays", not_allowed));
            }
            return if errors.is_empty() {
                Ok(Calendar::always(name))
            } else {
                Err(errors)
            };
        }

        let tz = match cfg.timezone.as_deref() {
            None => {
                errors.push(CalendarConfigError::new(
                    "timezone",
                    "required for a \"business_hours\" calendar (an IANA time zone such as \"Europe/Berlin\")",
                ));
                None
            }
            Some(zone) => match TimeZone::get(zone) {
                Ok(tz) => Some(tz),
                Err(_) => {
                    errors.push(CalendarConfigError::new(
                        "timezone",
                        format!("unknown IANA time zone {zone:?}"),
                    ));
                    None
                }
            },
        };

        let mut weekly: [Vec<(i64, i64)>; 7] = Default::default();
        let mut interval_errors = false;
        for (wd, (day, intervals)) in cfg.hours.days().into_iter().enumerate() {
            let Some(intervals) = intervals else { continue };
            let mut prev: Option<(usize, i64)> = None; // (index, end) of the last valid interval
            for (i, text) in intervals.iter().enumerate() {
                let field = format!("hours.{day}[{i}]");
                let (start, end) = match parse_interval(text) {
                    Ok(iv) => iv,
                    Err(message) => {
                        errors.push(CalendarConfigError::new(field, message));
                        interval_errors = true;
                        continue;
                    }
                };
                // `pi` is an earlier index of this same `intervals` slice
                // (set below from the loop's own `i`), so `intervals[pi]` is in bounds.
                if let Some((pi, pend)) = prev {
                    if start < pend {
                        errors.push(CalendarConfigError::new(
                            field,
                            format!(
                                "{text:?} overlaps or comes before hours.{day}[{pi}] ({:?}); a day's intervals must be sorted and must not overlap",
                                intervals[pi]
                            ),
                        ));
                        interval_errors = true;
                        continue;
                    }
                }
                prev = Some((i, end));
                // `wd` enumerates `days()`, an array of exactly 7: in bounds of `weekly`.
                match weekly[wd].last_mut() {
                    Some(last) if last.1 == start => last.1 = end,
                    _ => weekly[wd].push((start, end)),
                }
            }
        }
        if !interval_errors && weekly.iter().all(Vec::is_empty) {
            errors.push(CalendarConfigError::new(
                "hours",
                "a \"business_hours\" calendar needs at least one open interval, e.g. hours.mon = [\"09:00-17:00\"]",
            ));
        }

        let mut holidays = BTreeSet::new();
        for (i, text) in cfg.holidays.iter().enumerate() {
            match parse_date(text) {
                Some(date) => {
                    holidays.insert(date);
                }
                None => errors.push(CalendarConfigError::new(
                    format!("holidays[{i}]"),
                    format!("invalid date {text:?}: expected an existing date as \"YYYY-MM-DD\""),
                )),
            }
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        let holiday_days = holidays.iter().map(|d| unix_day(*d)).collect();
        let week_open_ns = weekly
            .iter()
            .flatten()
            .map(|(s, e)| i128::from(e - s) * NANOS)
            .sum();
        Ok(Calendar {
            name: name.to_string(),
            kind: Kind::BusinessHours,
            weekly,
            holidays,
            holiday_days,
            tz,
            use_customer_timezone: cfg.use_customer_timezone,
            week_open_ns,
        })
    }

    /// The calendar's name (its key in the rules file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is an always-open calendar.
    pub fn is_24x7(&self) -> bool {
        self.kind == Kind::AlwaysOpen
    }

    /// The calendar's own time zone (`None` for 24x7 calendars).
    pub fn timezone(&self) -> Option<&TimeZone> {
        self.tz.as_ref()
    }

    /// The closed local dates.
    pub fn holidays(&self) -> &BTreeSet<Date> {
        &self.holidays
    }

    /// The zone the hours are read in: the customer's zone if the calendar has `use_customer_timezone`
    /// and `customer_tz` is `Some`, else the calendar's own zone; UTC for 24x7 calendars (where the zone
    /// makes no difference).
    pub fn zone(&self, customer_tz: Option<&TimeZone>) -> TimeZone {
        match (&self.tz, customer_tz) {
            (None, _) => TimeZone::UTC,
            (Some(_), Some(customer)) if self.use_customer_timezone => customer.clone(),
            (Some(own), _) => own.clone(),
        }
    }

    /// The instant at which `target` of open time has elapsed after `start`, reading the hours in `tz`
    /// (normally [`Calendar::zone`]).
    ///
    /// `target == 0` returns `start` (even if the calendar is closed then). For a positive target the
    /// deadline always lies in `(open_start, open_end]` of some open interval; if the target is used up
    /// exactly at an interval's end, the deadline is that end (8h from Mon 09:00 on 09:00-17:00 hours is
    /// Mon 17:00, not Tue 09:00). 24x7: `start + target`.
    ///
    /// Errors: negative target; no open hours; not enough open time within [`HORIZON_YEARS`] years;
    /// deadline out of jiff's timestamp range.
    pub fn add(
        &self,
        start: Timestamp,
        target: SignedDuration,
        tz: &TimeZone,
    ) -> Result<Timestamp, CalendarError> {
        if target.is_negative() {
            return Err(CalendarError::NegativeTarget {
                calendar: self.name.clone(),
                target,
            });
        }
        if target.is_zero() {
            return Ok(start);
        }
        if self.kind == Kind::AlwaysOpen {
            return start.checked_add(target).map_err(|_| self.out_of_range());
        }
        if self.week_open_ns == 0 {
            return Err(CalendarError::NoOpenHours {
                calendar: self.name.clone(),
            });
        }
        if target.as_nanos() > i128::from(HORIZON_DAYS) * i128::from(DAY_SECS) * NANOS {
            // More than the horizon of plain time can never fit (this also keeps the walk in i64 range).
            return Err(self.horizon_exceeded());
        }
        let from = start.as_nanosecond();
        let mut sink = AddSink {
            remaining: target.as_nanos(),
            deadline: 0,
        };
        match self.walk(tz, from, LastDay::AfterFirst(HORIZON_DAYS), &mut sink) {
            Ok(true) => Timestamp::from_nanosecond(sink.deadline).map_err(|_| self.out_of_range()),
            Ok(false) => Err(self.horizon_exceeded()),
            Err(OutOfRange) => Err(self.out_of_range()),
        }
    }

    /// Open time between `a` and `b` (zero if `b <= a`), reading the hours in `tz`. For 24x7 calendars
    /// this is `b - a`. Consistent with [`Calendar::add`]: `open_time_between(s, add(s, t)) == t`.
    pub fn open_time_between(&self, a: Timestamp, b: Timestamp, tz: &TimeZone) -> SignedDuration {
        if b <= a {
            return SignedDuration::ZERO;
        }
        if self.kind == Kind::AlwaysOpen {
            return b.duration_since(a);
        }
        let b_ns = b.as_nanosecond();
        let last_day = (b_ns.div_euclid(NANOS) as i64 + MAX_OFFSET_SECS).div_euclid(DAY_SECS) + 1;
        let mut sink = BetweenSink {
            end: b_ns,
            total: 0,
        };
        // Out of range can only happen at the edges of jiff's range; count what was found up to there.
        let _ = self.walk(
            tz,
            a.as_nanosecond(),
            LastDay::Absolute(last_day),
            &mut sink,
        );
        duration_from_nanos(sink.total)
    }

    /// Whether `t` lies in an open interval `[start, end)`, reading the hours in `tz`. Always true for
    /// 24x7 calendars.
    pub fn is_open(&self, t: Timestamp, tz: &TimeZone) -> bool {
        if self.kind == Kind::AlwaysOpen {
            return true;
        }
        let t_ns = t.as_nanosecond();
        let mut sink = IsOpenSink {
            at: t_ns,
            open: false,
        };
        // Only intervals of t's local date and the date before can contain t.
        let _ = self.walk(tz, t_ns, LastDay::AfterFirst(0), &mut sink);
        sink.open
    }

    fn horizon_exceeded(&self) -> CalendarError {
        CalendarError::HorizonExceeded {
            calendar: self.name.clone(),
            years: HORIZON_YEARS,
        }
    }

    fn out_of_range(&self) -> CalendarError {
        CalendarError::OutOfRange {
            calendar: self.name.clone(),
        }
    }

    /// Walks the open intervals from instant `from` (ns) on, feeding them to `sink` in increasing order,
    /// clipped to `[from, ..)`, until the sink stops (returns `Ok(true)`) or the local date `last_day`
    /// (days since 1970-01-01, inclusive) is done (`Ok(false)`).
    fn walk<S: Sink>(
        &self,
        tz: &TimeZone,
        from: i128,
        last_day: LastDay,
        sink: &mut S,
    ) -> Result<bool, OutOfRange> {
        let from_secs = from.div_euclid(NANOS) as i64;
        let mut seg = OffsetSpan::at(tz, from_secs);
        let first = (from_secs + seg.off).div_euclid(DAY_SECS);
        let last_day = match last_day {
            LastDay::AfterFirst(days) => first + days,
            LastDay::Absolute(day) => day,
        };
        // Intervals of the previous date can reach into `from`'s date only around a transition (an interval
        // end inside a gap); the previous date matters only if it is not a plain day.
        let mut day = if seg.is_plain(first - 1) {
            first
        } else {
            first - 1
        };
        let mut cursor = from;
        let holidays = &self.holiday_days[..];
        let mut hi = holidays.partition_point(|&h| h < day);

        while day <= last_day {
            // Both reads of `holidays[hi]` are behind `hi < holidays.len()`.
            while hi < holidays.len() && holidays[hi] < day {
                hi += 1;
            }
            let holiday = hi < holidays.len() && holidays[hi] == day;
            if day * DAY_SECS - seg.off >= seg.next {
                seg = OffsetSpan::at(tz, day * DAY_SECS - seg.off);
            }
            let plain = seg.is_plain(day);
            let day_start = i128::from(day * DAY_SECS - seg.off) * NANOS;

            if plain && !holiday && cursor <= day_start {
                // Skip whole plain weeks: no holiday, no transition, nothing consumed yet.
                let by_segment = seg
                    .next
                    .saturating_add(seg.off)
                    .saturating_sub(day * DAY_SECS + 1)
                    / WEEK_SECS;
                let by_holiday = holidays.get(hi).map_or(i64::MAX, |h| (h - day) / 7);
                let by_limit = (last_day - day + 1) / 7;
                let max_weeks = by_segment.min(by_holiday).min(by_limit);
                if max_weeks > 0 {
                    let weeks = sink.skip_weeks(day_start, max_weeks, self.week_open_ns);
                    if weeks > 0 {
                        day += 7 * weeks;
                        cursor = day_start + i128::from(weeks * WEEK_SECS) * NANOS;
                        continue;
                    }
                }
            }

            let intervals = &self.weekly[weekday(day)];
            if holiday || intervals.is_empty() {
                day += 1;
                continue;
            }
            let midnight = day * DAY_SECS;
            for &(s, e) in intervals {
                let (open, close) = if plain {
                    (
                        day_start + i128::from(s) * NANOS,
                        day_start + i128::from(e) * NANOS,
                    )
                } else {
                    (resolve(tz, midnight + s)?, resolve(tz, midnight + e)?)
                };
                let open = open.max(cursor);
                if close > open {
                    if sink.interval(open, close) {
                        return Ok(true);
                    }
                    cursor = close;
                }
            }
            day += 1;
        }
        Ok(false)
    }
}

/// Where a walk ends (inclusive), in local dates.
#[derive(Debug, Clone, Copy)]
enum LastDay {
    /// This many days after the local date of the walk's start.
    AfterFirst(i64),
    /// This local date (days since 1970-01-01).
    Absolute(i64),
}

/// Marker: a civil datetime or timestamp outside jiff's supported range.
struct OutOfRange;

/// Receives the open intervals of a walk.
trait Sink {
    /// An open interval `[open, close)` in ns, `open < close`; intervals come in increasing order and are
    /// disjoint. Returns `true` to stop the walk.
    fn interval(&mut self, open: i128, close: i128) -> bool;
    /// Offers to skip up to `max_weeks` whole weeks starting at instant `at` (a day start), each with
    /// exactly `week_ns` of open time that all lies in `[at, at + weeks)`. Returns the weeks taken.
    fn skip_weeks(&mut self, at: i128, max_weeks: i64, week_ns: i128) -> i64;
}

struct AddSink {
    remaining: i128,
    deadline: i128,
}

impl Sink for AddSink {
    #[inline]
    fn interval(&mut self, open: i128, close: i128) -> bool {
        let avail = close - open;
        if self.remaining <= avail {
            self.deadline = open + self.remaining;
            true
        } else {
            self.remaining -= avail;
            false
        }
    }

    #[inline]
    fn skip_weeks(&mut self, _at: i128, max_weeks: i64, week_ns: i128) -> i64 {
        if self.remaining <= week_ns {
            return 0;
        }
        // Keep at least 1ns so the deadline lands inside an interval, not past a week's last one. Both
        // values fit in i64 (`add` rejects targets beyond the horizon); i64 division is much cheaper.
        let weeks = ((self.remaining - 1) as i64 / week_ns as i64).min(max_weeks);
        self.remaining -= i128::from(weeks) * week_ns;
        weeks
    }
}

struct BetweenSink {
    end: i128,
    total: i128,
}

impl Sink for BetweenSink {
    #[inline]
    fn interval(&mut self, open: i128, close: i128) -> bool {
        if open >= self.end {
            return true;
        }
        self.total += close.min(self.end) - open;
        close >= self.end
    }

    #[inline]
    fn skip_weeks(&mut self, at: i128, max_weeks: i64, week_ns: i128) -> i64 {
        const WEEK_NS: i128 = WEEK_SECS as i128 * NANOS;
        if self.end - at < WEEK_NS {
            return 0;
        }
        let weeks = ((self.end - at) / WEEK_NS).min(i128::from(max_weeks)) as i64;
        self.total += i128::from(weeks) * week_ns;
        weeks
    }
}

struct IsOpenSink {
    at: i128,
    open: bool,
}

impl Sink for IsOpenSink {
    #[inline]
    fn interval(&mut self, open: i128, _close: i128) -> bool {
        // Intervals are clipped to start no earlier than `at`: the first one contains `at` iff it starts there.
        self.open = open == self.at;
        true
    }

    #[inline]
    fn skip_weeks(&mut self, _at: i128, _max_weeks: i64, _week_ns: i128) -> i64 {
        0
    }
}

/// A stretch of time with a constant UTC offset, and which local days in it are "plain": every local
/// time of the day, including the `24:00` at its end, resolves (compatibly) to `local - off`.
#[derive(Debug, Clone, Copy)]
struct OffsetSpan {
    /// UTC offset in seconds.
    off: i64,
    /// Local midnights (seconds since the local epoch) from which days may be plain.
    plain_from: i64,
    /// The next transition (unix seconds), exclusive end of the segment; `i64::MAX` if none.
    next: i64,
}

impl OffsetSpan {
    /// The segment containing unix second `t`.
    fn at(tz: &TimeZone, t: i64) -> OffsetSpan {
        // Fast path (two zone lookups): no transition within LOOKBACK_SECS before `t`. Then the offset is
        // constant on [t - LOOKBACK_SECS, next), and a local time c with c - off in
        // [t - LOOKBACK_SECS + MAX_OFFSET_DIFF_SECS, next) resolves to c - off: it is a reading, and any
        // other reading would differ by less than MAX_OFFSET_DIFF_SECS, i.e. lie in the same constant
        // stretch, so it would be the same instant. This makes `t`'s local date and the one before plain.
        let lookback = Timestamp::from_second(t - LOOKBACK_SECS);
        if let (Ok(ts), Ok(lookback)) = (Timestamp::from_second(t), lookback) {
            let next = tz
                .following(lookback)
                .next()
                .map_or(i64::MAX, |tr| tr.timestamp().as_second());
            if next > t {
                let off = i64::from(tz.to_offset(ts).seconds());
                return OffsetSpan {
                    off,
                    plain_from: t - LOOKBACK_SECS + MAX_OFFSET_DIFF_SECS + off,
                    next,
                };
            }
        }
        let Ok(ts) = Timestamp::from_second(t) else {
            // Edge of jiff's range: never plain, so every day goes through jiff (and reports the range error).
            return OffsetSpan {
                off: 0,
                plain_from: i64::MAX,
                next: i64::MAX,
            };
        };
        let next = tz
            .following(ts)
            .next()
            .map_or(i64::MAX, |tr| tr.timestamp().as_second());
        // Transitions are at whole seconds, so `preceding(t + 1s)` yields the one at or before `t`.
        let prev = Timestamp::from_second(t + 1)
            .ok()
            .and_then(|t1| tz.preceding(t1).next());
        let Some(prev) = prev else {
            return OffsetSpan {
                off: i64::from(tz.to_offset(ts).seconds()),
                plain_from: i64::MIN,
                next,
            };
        };
        let off = i64::from(prev.offset().seconds());
        let at = prev.timestamp().as_second();
        // A local time c with c - off in [at, next) has a reading in this segment; it resolves to it unless
        // an earlier segment also shows c. Earlier readings differ by less than MAX_OFFSET_DIFF_SECS.
        let plain_from = match tz.preceding(prev.timestamp()).next() {
            // The segment before is long: only it can show our local times (a fall-back fold).
            Some(before) if at - before.timestamp().as_second() >= MAX_OFFSET_DIFF_SECS => {
                at + off.max(i64::from(before.offset().seconds()))
            }
            // Transitions in quick succession: be conservative.
            Some(_) => at + MAX_OFFSET_DIFF_SECS + off,
            None => {
                let before = Timestamp::from_second(at - 1)
                    .map_or(off, |b| i64::from(tz.to_offset(b).seconds()));
                at + off.max(before)
            }
        };
        OffsetSpan {
            off,
            plain_from,
            next,
        }
    }

    /// Whether local date `day` (days since 1970-01-01) is plain in this segment.
    #[inline]
    fn is_plain(&self, day: i64) -> bool {
        day * DAY_SECS >= self.plain_from && (day + 1) * DAY_SECS - self.off < self.next
    }
}

/// Resolves local civil time `local` (seconds since 1970-01-01T00:00 local) in `tz` with compatible
/// disambiguation; returns unix nanoseconds.
fn resolve(tz: &TimeZone, local: i64) -> Result<i128, OutOfRange> {
    let civil = Offset::UTC.to_datetime(Timestamp::from_second(local).map_err(|_| OutOfRange)?);
    let ts = tz
        .to_ambiguous_timestamp(civil)
        .compatible()
        .map_err(|_| OutOfRange)?;
    Ok(ts.as_nanosecond())
}

/// Weekday index (Monday = 0) of a day number (1970-01-01 was a Thursday).
#[inline]
fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

fn unix_day(date: Date) -> i64 {
    Offset::UTC
        .to_timestamp(date.to_datetime(Time::midnight()))
        .map_or(0, |ts| ts.as_second().div_euclid(DAY_SECS))
}

fn duration_from_nanos(ns: i128) -> SignedDuration {
    SignedDuration::new((ns / NANOS) as i64, (ns % NANOS) as i32)
}

/// Parses `"HH:MM-HH:MM"` into seconds of the day.
fn parse_interval(text: &str) -> Result<(i64, i64), String> {
    let bad_syntax =
        || format!("invalid interval {text:?}: expected \"HH:MM-HH:MM\", e.g. \"09:00-17:30\"");
    let (a, b) = text.split_once('-').ok_or_else(bad_syntax)?;
    let start = parse_hhmm(a.trim()).ok_or_else(bad_syntax)?;
    let end = parse_hhmm(b.trim()).ok_or_else(bad_syntax)?;
    if start == DAY_SECS {
        return Err(format!(
            "invalid interval {text:?}: it cannot start at 24:00"
        ));
    }
    if end <= start {
        return Err(format!(
            "invalid interval {text:?}: the end must be after the start (use \"24:00\" for midnight at the end of the day)"
        ));
    }
    Ok((start, end))
}

/// `"HH:MM"` (00:00..=23:59, or 24:00) in seconds.
fn parse_hhmm(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' || ![b[0], b[1], b[3], b[4]].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let h = i64::from((b[0] - b'0') * 10 + (b[1] - b'0'));
    let m = i64::from((b[3] - b'0') * 10 + (b[4] - b'0'));
    match (h, m) {
        (24, 0) => Some(DAY_SECS),
        (0..=23, 0..=59) => Some(h * 3600 + m * 60),
        _ => None,
    }
}

/// `"YYYY-MM-DD"` (strictly that shape) as an existing date.
fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i32> {
        b[r].iter().try_fold(0i32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn at(zone: &str, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
        tz(zone)
            .to_timestamp(date(y, mo, d).at(h, mi, 0, 0))
            .unwrap()
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    fn strings(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    /// Mon-Fri with the given intervals, Berlin unless a zone is given.
    fn weekdays_cfg(zone: &str, intervals: &[&str]) -> CalendarConfig {
        CalendarConfig {
            kind: CalendarKindConfig::BusinessHours,
            timezone: Some(zone.into()),
            hours: WeeklyHoursConfig {
                mon: strings(intervals),
                tue: strings(intervals),
                wed: strings(intervals),
                thu: strings(intervals),
                fri: strings(intervals),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn cal(cfg: &CalendarConfig) -> Calendar {
        Calendar::from_config("test", cfg).unwrap()
    }

    const B: &str = "Europe/Berlin";

    #[test]
    fn deserializes_from_toml() {
        let cfg: CalendarConfig = toml::from_str(
            r#"
            kind = "business_hours"
            timezone = "Europe/Berlin"
            use_customer_timezone = true
            hours.mon = ["09:00-12:00", "13:00-17:00"]
            hours.sat = []
            holidays = ["2026-12-25"]
            "#,
        )
        .unwrap();
        assert_eq!(cfg.kind, CalendarKindConfig::BusinessHours);
        assert!(cfg.use_customer_timezone);
        assert_eq!(cfg.hours.mon, strings(&["09:00-12:00", "13:00-17:00"]));
        assert_eq!(cfg.hours.sat, Some(vec![]));
        assert_eq!(cfg.hours.tue, None);
        let always: CalendarConfig = toml::from_str(r#"kind = "24x7""#).unwrap();
        assert_eq!(always.kind, CalendarKindConfig::AlwaysOpen);
        let default: CalendarConfig = toml::from_str("").unwrap();
        assert_eq!(default.kind, CalendarKindConfig::BusinessHours);
        assert!(toml::from_str::<CalendarConfig>("hours.monday = []").is_err());
        assert!(toml::from_str::<CalendarConfig>("zone = \"UTC\"").is_err());
        assert!(toml::from_str::<CalendarConfig>("kind = \"always\"").is_err());
    }

    #[test]
    fn eight_hours_from_monday_nine_ends_monday_five() {
        let c = cal(&weekdays_cfg(B, &["09:00-17:00"]));
        let z = tz(B);
        // 2026-03-02 is a Monday.
        let start = at(B, 2026, 3, 2, 9, 0);
        assert_eq!(
            c.add(start, hours(8), &z).unwrap(),
            at(B, 2026, 3, 2, 17, 0)
        );
        assert_eq!(
            c.add(start, hours(9), &z).unwrap(),
            at(B, 2026, 3, 3, 10, 0)
        );
        // 40h = exactly one week of open time: ends Friday 17:00, not Monday 09:00.
        assert_eq!(
            c.add(start, hours(40), &z).unwrap(),
            at(B, 2026, 3, 6, 17, 0)
        );
        assert_eq!(
            c.add(start, hours(41), &z).unwrap(),
            at(B, 2026, 3, 9, 10, 0)
        );
        // Long targets (week skipping) stay exact: 10 weeks + 3h.
        assert_eq!(
            c.add(start, hours(403), &z).unwrap(),
            at(B, 2026, 5, 11, 12, 0)
        );
    }

    #[test]
    fn zero_target_returns_start_even_when_closed() {
        let c = cal(&weekdays_cfg(B, &["09:00-17:00"]));
        let sat = at(B, 2026, 3, 7, 3, 17);
        assert_eq!(c.add(sat, SignedDuration::ZERO, &tz(B)).unwrap(), sat);
        assert!(matches!(
            c.add(sat, SignedDuration::from_secs(-1), &tz(B)),
            Err(CalendarError::NegativeTarget { .. })
        ));
    }

    #[test]
    fn start_on_saturday_begins_monday_morning() {
        let c = cal(&weekdays_cfg(B, &["09:00-17:00"]));
        let sat = at(B, 2026, 3, 7, 11, 30);
        assert_eq!(
            c.add(sat, SignedDuration::from_mins(90), &tz(B)).unwrap(),
            at(B, 2026, 3, 9, 10, 30)
        );
        // Friday after hours as well.
        let fri = at(B, 2026, 3, 6, 18, 0);
        assert_eq!(
            c.add(fri, hours(1), &tz(B)).unwrap(),
            at(B, 2026, 3, 9, 10, 0)
        );
        // Subsecond starts are kept exactly.
        let odd = at(B, 2026, 3, 9, 9, 0) + SignedDuration::new(0, 123);
        assert_eq!(
            c.add(odd, hours(1), &tz(B)).unwrap(),
            at(B, 2026, 3, 9, 10, 0) + SignedDuration::new(0, 123)
        );
    }

    #[test]
    fn lunch_gap_is_skipped() {
        let c = cal(&weekdays_cfg(B, &["09:00-12:00", "13:00-17:00"]));
        let z = tz(B);
        // Starting in the lunch gap: the clock starts at 13:00.
        let lunch = at(B, 2026, 3, 2, 12, 20);
        assert_eq!(
            c.add(lunch, hours(2), &z).unwrap(),
            at(B, 2026, 3, 2, 15, 0)
        );
        // Starting before lunch: 11:00 + 2h → 12:00 (1h) + 13:00..14:00.
        assert_eq!(
            c.add(at(B, 2026, 3, 2, 11, 0), hours(2), &z).unwrap(),
            at(B, 2026, 3, 2, 14, 0)
        );
        // Exactly used up at the morning interval's end: 12:00, not 13:00.
        assert_eq!(
            c.add(at(B, 2026, 3, 2, 11, 0), hours(1), &z).unwrap(),
            at(B, 2026, 3, 2, 12, 0)
        );
        assert!(!c.is_open(lunch, &z));
        assert!(c.is_open(at(B, 2026, 3, 2, 9, 0), &z));
        assert!(!c.is_open(at(B, 2026, 3, 2, 12, 0), &z));
        assert!(c.is_open(at(B, 2026, 3, 2, 13, 0), &z));
    }

    #[test]
    fn touching_intervals_merge() {
        let c = cal(&weekdays_cfg(B, &["09:00-12:00", "12:00-17:00"]));
        assert_eq!(c.weekly[0], vec![(9 * 3600, 17 * 3600)]);
        assert!(c.is_open(at(B, 2026, 3, 2, 12, 0), &tz(B)));
    }

    #[test]
    fn holidays_are_skipped() {
        let mut cfg = weekdays_cfg(B, &["09:00-17:00"]);
        // Good Friday and Easter Monday 2026.
        cfg.holidays = vec!["2026-04-03".into(), "2026-04-06".into()];
        let c = cal(&cfg);
        let z = tz(B);
        let thu = at(B, 2026, 4, 2, 16, 0);
        assert_eq!(c.add(thu, hours(2), &z).unwrap(), at(B, 2026, 4, 7, 10, 0));
        assert!(!c.is_open(at(B, 2026, 4, 3, 10, 0), &z));
        // Holidays inside a long (week-skipping) walk: 3 weeks from Mon 2026-03-23 09:00 give 40 + 32 + 32
        // hours; the last 16 hours are Mon 04-13 and Tue 04-14.
        let mon = at(B, 2026, 3, 23, 9, 0);
        assert_eq!(
            c.add(mon, hours(120), &z).unwrap(),
            at(B, 2026, 4, 14, 17, 0)
        );
        let plain = cal(&weekdays_cfg(B, &["09:00-17:00"]));
        assert_eq!(
            plain.add(mon, hours(120), &z).unwrap(),
            at(B, 2026, 4, 10, 17, 0)
        );
    }

    #[test]
    fn end_of_day_24_00() {
        let mut cfg = weekdays_cfg("UTC", &["20:00-24:00"]);
        cfg.hours.sat = strings(&["00:00-02:00"]);
        let c = cal(&cfg);
        let z = TimeZone::UTC;
        let mon = at("UTC", 2026, 3, 2, 21, 0);
        // 3h: Monday 21:00 → 24:00 is exactly midnight (= Tuesday 00:00).
        assert_eq!(
            c.add(mon, hours(3), &z).unwrap(),
            at("UTC", 2026, 3, 3, 0, 0)
        );
        assert_eq!(
            c.add(mon, hours(4), &z).unwrap(),
            at("UTC", 2026, 3, 3, 21, 0)
        );
        // Friday 20:00-24:00 runs straight into Saturday 00:00-02:00.
        let fri = at("UTC", 2026, 3, 6, 23, 0);
        assert_eq!(
            c.add(fri, hours(2), &z).unwrap(),
            at("UTC", 2026, 3, 7, 1, 0)
        );
        assert!(c.is_open(at("UTC", 2026, 3, 7, 0, 0), &z));
        assert!(!c.is_open(at("UTC", 2026, 3, 7, 2, 0), &z));
    }

    const NY: &str = "America/New_York";

    fn sunday_all_day_cfg() -> CalendarConfig {
        CalendarConfig {
            timezone: Some(NY.into()),
            hours: WeeklyHoursConfig {
                sun: strings(&["00:00-24:00"]),
                mon: strings(&["09:00-17:00"]),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn spring_forward_day_has_23_hours() {
        let c = cal(&sunday_all_day_cfg());
        let z = tz(NY);
        // 2026-03-08 00:00 EST = 05:00Z; clocks jump 02:00 EST → 03:00 EDT (07:00Z); day ends 04:00Z next day.
        let sun = at(NY, 2026, 3, 8, 0, 0);
        assert_eq!(sun, "2026-03-08T05:00:00Z".parse().unwrap());
        assert_eq!(
            c.add(sun, hours(3), &z).unwrap(),
            "2026-03-08T08:00:00Z".parse().unwrap()
        );
        assert_eq!(
            c.add(sun, hours(23), &z).unwrap(),
            "2026-03-09T04:00:00Z".parse().unwrap()
        );
        // 24h: the 23h Sunday + 1h of Monday (09:00 EDT = 13:00Z).
        assert_eq!(
            c.add(sun, hours(24), &z).unwrap(),
            "2026-03-09T14:00:00Z".parse().unwrap()
        );
        let next_sun = at(NY, 2026, 3, 15, 0, 0);
        assert_eq!(c.open_time_between(sun, next_sun, &z), hours(23 + 8));
        // A week earlier, a normal Sunday has 24h.
        let prev_sun = at(NY, 2026, 3, 1, 0, 0);
        assert_eq!(c.open_time_between(prev_sun, sun, &z), hours(24 + 8));
    }

    #[test]
    fn fall_back_day_has_25_hours() {
        let c = cal(&sunday_all_day_cfg());
        let z = tz(NY);
        // 2026-11-01 00:00 EDT = 04:00Z; clocks fall back 02:00 EDT → 01:00 EST (06:00Z); day ends 05:00Z.
        let sun = at(NY, 2026, 11, 1, 0, 0);
        assert_eq!(sun, "2026-11-01T04:00:00Z".parse().unwrap());
        assert_eq!(
            c.add(sun, hours(25), &z).unwrap(),
            "2026-11-02T05:00:00Z".parse().unwrap()
        );
        assert_eq!(
            c.add(sun, hours(26), &z).unwrap(),
            "2026-11-02T15:00:00Z".parse().unwrap()
        );
        // Starting at the second 01:30 (EST).
        let second_130: Timestamp = "2026-11-01T06:30:00Z".parse().unwrap();
        assert_eq!(
            c.add(second_130, hours(1), &z).unwrap(),
            "2026-11-01T07:30:00Z".parse().unwrap()
        );
        assert_eq!(
            c.open_time_between(sun, at(NY, 2026, 11, 8, 0, 0), &z),
            hours(25 + 8)
        );
        assert!(c.is_open(second_130, &z));
    }

    #[test]
    fn intervals_touching_the_transition_hour() {
        // Sunday 01:00-03:00 local on spring-forward day: 01:00 EST (06:00Z) → 03:00 EDT (07:00Z): 1 real hour.
        let mut cfg = sunday_all_day_cfg();
        cfg.hours.sun = strings(&["01:00-03:00"]);
        let c = cal(&cfg);
        let z = tz(NY);
        let sun = at(NY, 2026, 3, 8, 0, 0);
        assert_eq!(
            c.open_time_between(sun, at(NY, 2026, 3, 9, 0, 0), &z),
            hours(1)
        );
        // Inside the gap: 02:30 does not exist; compatible resolution reads it as 03:30 EDT (07:30Z).
        cfg.hours.sun = strings(&["02:30-04:00"]);
        let c = cal(&cfg);
        assert_eq!(
            c.add(sun, SignedDuration::from_mins(10), &z).unwrap(),
            "2026-03-08T07:40:00Z".parse().unwrap()
        );
        assert_eq!(
            c.open_time_between(sun, at(NY, 2026, 3, 9, 0, 0), &z),
            SignedDuration::from_mins(30)
        );
        // Fall back: 01:00-02:00 is ambiguous at the start (→ 01:00 EDT, 05:00Z) and ends at 02:00 EST
        // (07:00Z): 2 real hours.
        cfg.hours.sun = strings(&["01:00-02:00"]);
        let c = cal(&cfg);
        let sun = at(NY, 2026, 11, 1, 0, 0);
        assert_eq!(
            c.add(sun, hours(2), &z).unwrap(),
            "2026-11-01T07:00:00Z".parse().unwrap()
        );
    }

    #[test]
    fn transitions_at_midnight() {
        // Havana: 2026-03-08 00:00 CST jumps to 01:00 CDT (05:00Z); 2026-11-01 01:00 CDT falls back to
        // 00:00 CST (05:00Z), so 00:00-01:00 happens twice.
        const H: &str = "America/Havana";
        let z = tz(H);
        let cfg = CalendarConfig {
            timezone: Some(H.into()),
            hours: WeeklyHoursConfig {
                sat: strings(&["22:00-24:00"]),
                sun: strings(&["00:40-02:00"]),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = cal(&cfg);
        // Spring forward: Saturday 22:00-24:00 CST ends at 05:00Z; Sunday 00:40 (in the gap) reads as
        // 01:40 CDT (05:40Z) and 02:00 CDT is 06:00Z.
        let sat = at(H, 2026, 3, 7, 22, 0);
        assert_eq!(sat, "2026-03-08T03:00:00Z".parse().unwrap());
        assert_eq!(
            c.add(sat, hours(2), &z).unwrap(),
            "2026-03-08T05:00:00Z".parse().unwrap()
        );
        assert_eq!(
            c.add(sat, SignedDuration::from_mins(130), &z).unwrap(),
            "2026-03-08T05:50:00Z".parse().unwrap()
        );
        assert_eq!(
            c.open_time_between(sat, at(H, 2026, 3, 9, 0, 0), &z),
            SignedDuration::from_mins(140)
        );
        // Fall back: 00:40 is ambiguous and resolves to its first occurrence (00:40 CDT = 04:40Z); the
        // interval runs to 02:00 CST (07:00Z): 2h20m of real time.
        let sun = at(H, 2026, 11, 1, 0, 0);
        assert_eq!(sun, "2026-11-01T04:00:00Z".parse().unwrap());
        assert_eq!(
            c.open_time_between(sun, at(H, 2026, 11, 2, 0, 0), &z),
            SignedDuration::from_mins(140)
        );
        // Starting during the second 00:10 (05:10Z): the interval opened at 04:40Z, so the clock runs at once.
        let second_0010: Timestamp = "2026-11-01T05:10:00Z".parse().unwrap();
        assert!(c.is_open(second_0010, &z));
        assert_eq!(
            c.add(second_0010, SignedDuration::from_mins(10), &z)
                .unwrap(),
            "2026-11-01T05:20:00Z".parse().unwrap()
        );
        assert!(!c.is_open("2026-11-01T04:30:00Z".parse().unwrap(), &z));
    }

    #[test]
    fn week_skipping_across_dst_is_exact() {
        // Berlin DST starts 2026-03-29; 9 weeks of 40h from Mon 2026-02-02 09:00 CET end Fri 2026-04-03 17:00 CEST.
        let c = cal(&weekdays_cfg(B, &["09:00-17:00"]));
        let z = tz(B);
        let start = at(B, 2026, 2, 2, 9, 0);
        let end = c.add(start, hours(9 * 40), &z).unwrap();
        assert_eq!(end, at(B, 2026, 4, 3, 17, 0));
        assert_eq!(end, "2026-04-03T15:00:00Z".parse().unwrap());
        assert_eq!(c.open_time_between(start, end, &z), hours(360));
    }

    #[test]
    fn customer_zone_vs_calendar_zone() {
        let mut cfg = weekdays_cfg(B, &["09:00-17:00"]);
        let own = cal(&cfg);
        cfg.use_customer_timezone = true;
        let follows = cal(&cfg);
        let tokyo = tz("Asia/Tokyo");
        assert_eq!(own.zone(Some(&tokyo)), tz(B));
        assert_eq!(follows.zone(Some(&tokyo)), tokyo);
        assert_eq!(follows.zone(None), tz(B));
        assert_eq!(Calendar::always("x").zone(Some(&tokyo)), TimeZone::UTC);

        // Mon 2026-03-02 08:00 Berlin = 16:00 Tokyo.
        let start = at(B, 2026, 3, 2, 8, 0);
        let in_berlin = own.add(start, hours(1), &own.zone(Some(&tokyo))).unwrap();
        assert_eq!(in_berlin, at(B, 2026, 3, 2, 10, 0));
        // In Tokyo: 16:00-17:00 Monday, then the deadline is reached at 17:00 Tokyo.
        let in_tokyo = follows
            .add(start, hours(1), &follows.zone(Some(&tokyo)))
            .unwrap();
        assert_eq!(
            in_tokyo,
            tokyo
                .to_timestamp(date(2026, 3, 2).at(17, 0, 0, 0))
                .unwrap()
        );
        let in_tokyo = follows
            .add(start, hours(2), &follows.zone(Some(&tokyo)))
            .unwrap();
        assert_eq!(
            in_tokyo,
            tokyo
                .to_timestamp(date(2026, 3, 3).at(10, 0, 0, 0))
                .unwrap()
        );
    }

    #[test]
    fn always_open() {
        let c = Calendar::always("24x7");
        assert!(c.is_24x7());
        assert_eq!(c.name(), "24x7");
        let start: Timestamp = "2026-03-08T06:59:00Z".parse().unwrap();
        let z = tz(NY);
        assert_eq!(c.add(start, hours(100), &z).unwrap(), start + hours(100));
        assert_eq!(c.open_time_between(start, start + hours(5), &z), hours(5));
        assert_eq!(
            c.open_time_between(start + hours(5), start, &z),
            SignedDuration::ZERO
        );
        assert!(c.is_open(start, &z));
        let cfg: CalendarConfig = toml::from_str(r#"kind = "24x7""#).unwrap();
        assert!(Calendar::from_config("a", &cfg).unwrap().is_24x7());
    }

    #[test]
    fn open_time_between_known_cases() {
        let c = cal(&weekdays_cfg(B, &["09:00-12:00", "13:00-17:00"]));
        let z = tz(B);
        let mon9 = at(B, 2026, 3, 2, 9, 0);
        assert_eq!(
            c.open_time_between(mon9, at(B, 2026, 3, 2, 17, 0), &z),
            hours(7)
        );
        assert_eq!(
            c.open_time_between(mon9, at(B, 2026, 3, 2, 12, 30), &z),
            hours(3)
        );
        assert_eq!(
            c.open_time_between(at(B, 2026, 3, 2, 11, 30), at(B, 2026, 3, 2, 13, 30), &z),
            hours(1)
        );
        // A whole week and then some (week skipping in between).
        assert_eq!(
            c.open_time_between(mon9, at(B, 2026, 3, 9, 10, 0), &z),
            hours(36)
        );
        assert_eq!(
            c.open_time_between(mon9, at(B, 2026, 5, 4, 9, 0), &z),
            hours(35 * 9)
        );
        // Weekend only: nothing.
        assert_eq!(
            c.open_time_between(at(B, 2026, 3, 7, 0, 0), at(B, 2026, 3, 9, 0, 0), &z),
            SignedDuration::ZERO
        );
        assert_eq!(c.open_time_between(mon9, mon9, &z), SignedDuration::ZERO);
        assert_eq!(
            c.open_time_between(at(B, 2026, 3, 3, 9, 0), mon9, &z),
            SignedDuration::ZERO
        );
    }

    #[test]
    fn horizon_is_bounded() {
        // Only Sundays 10:00-10:01 open: 20 years give ~17 hours; 100 hours cannot be reached.
        let cfg = CalendarConfig {
            timezone: Some("UTC".into()),
            hours: WeeklyHoursConfig {
                sun: strings(&["10:00-10:01"]),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = cal(&cfg);
        let err = c
            .add(at("UTC", 2026, 1, 1, 0, 0), hours(100), &TimeZone::UTC)
            .unwrap_err();
        assert_eq!(
            err,
            CalendarError::HorizonExceeded {
                calendar: "test".into(),
                years: HORIZON_YEARS
            }
        );
        assert!(c
            .add(at("UTC", 2026, 1, 1, 0, 0), hours(10), &TimeZone::UTC)
            .is_ok());
    }

    fn errors(cfg: &CalendarConfig) -> Vec<(String, String)> {
        Calendar::from_config("c", cfg)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn config_errors_are_all_reported_with_paths() {
        let cfg = CalendarConfig {
            timezone: Some("Mars/Olympus_Mons".into()),
            hours: WeeklyHoursConfig {
                mon: strings(&["09:00-12:00", "11:00-17:00"]),
                tue: strings(&[
                    "9-5",
                    "13:00-12:00",
                    "10:00-10:00",
                    "24:00-24:00",
                    "08:00-25:00",
                ]),
                wed: strings(&["13:00-17:00", "09:00-12:00"]),
                thu: strings(&["09:60-10:00", "00:00-24:00"]),
                ..Default::default()
            },
            holidays: vec![
                "2026-12-25".into(),
                "2026-02-30".into(),
                "25.12.2026".into(),
            ],
            ..Default::default()
        };
        let errs = errors(&cfg);
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "timezone",
                "hours.mon[1]",
                "hours.tue[0]",
                "hours.tue[1]",
                "hours.tue[2]",
                "hours.tue[3]",
                "hours.tue[4]",
                "hours.wed[1]",
                "hours.thu[0]",
                "holidays[1]",
                "holidays[2]",
            ]
        );
        assert!(errs[0].1.contains("Mars/Olympus_Mons"), "{}", errs[0].1);
        assert!(
            errs[1].1.contains("overlaps") && errs[1].1.contains("hours.mon[0]"),
            "{}",
            errs[1].1
        );
        assert!(errs[2].1.contains("HH:MM-HH:MM"), "{}", errs[2].1);
        assert!(errs[3].1.contains("after the start"), "{}", errs[3].1);
        assert!(errs[4].1.contains("after the start"), "{}", errs[4].1);
        assert!(errs[5].1.contains("24:00"), "{}", errs[5].1);
        assert!(errs[6].1.contains("HH:MM"), "{}", errs[6].1);
        assert!(errs[7].1.contains("sorted"), "{}", errs[7].1);
        assert!(errs[9].1.contains("2026-02-30"), "{}", errs[9].1);
        let e = CalendarConfigError::new("timezone", "x");
        assert_eq!(e.to_string(), "timezone: x");
    }

    #[test]
    fn config_kind_consistency() {
        let mut cfg = weekdays_cfg(B, &["09:00-17:00"]);
        cfg.timezone = None;
        let errs = errors(&cfg);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, "timezone");
        assert!(errs[0].1.contains("required"), "{}", errs[0].1);

        let mut cfg = weekdays_cfg(B, &["09:00-17:00"]);
        cfg.kind = CalendarKindConfig::AlwaysOpen;
        cfg.use_customer_timezone = true;
        cfg.holidays = vec!["2026-01-01".into()];
        let fields: Vec<String> = errors(&cfg).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["timezone", "use_customer_timezone", "hours", "holidays"]
        );
    }

    #[test]
    fn no_open_hours_is_a_config_error() {
        let cfg = CalendarConfig {
            timezone: Some(B.into()),
            hours: WeeklyHoursConfig {
                sat: Some(vec![]),
                ..Default::default()
            },
            ..Default::default()
        };
        let errs = errors(&cfg);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, "hours");
        assert!(errs[0].1.contains("at least one open interval"));
        // Not reported on top of broken intervals.
        let mut cfg = cfg;
        cfg.hours.mon = strings(&["nine-five"]);
        assert_eq!(errors(&cfg).len(), 1);
        assert_eq!(errors(&cfg)[0].0, "hours.mon[0]");
        // A hand-made calendar without hours reports NoOpenHours from add.
        let mut c = cal(&weekdays_cfg(B, &["09:00-17:00"]));
        c.weekly = Default::default();
        c.week_open_ns = 0;
        assert!(matches!(
            c.add(Timestamp::UNIX_EPOCH, hours(1), &tz(B)),
            Err(CalendarError::NoOpenHours { .. })
        ));
        assert_eq!(
            c.add(Timestamp::UNIX_EPOCH, SignedDuration::ZERO, &tz(B))
                .unwrap(),
            Timestamp::UNIX_EPOCH
        );
    }

    #[test]
    fn parse_helpers() {
        assert_eq!(
            parse_interval(" 09:00 - 17:30 "),
            Ok((9 * 3600, 17 * 3600 + 1800))
        );
        assert_eq!(parse_interval("00:00-24:00"), Ok((0, DAY_SECS)));
        assert!(parse_interval("09:00").is_err());
        assert!(parse_interval("9:00-17:00").is_err());
        assert!(parse_interval("24:01-24:02").is_err());
        assert_eq!(parse_date("2024-02-29"), Some(date(2024, 2, 29)));
        assert_eq!(parse_date("2025-02-29"), None);
        assert_eq!(parse_date("2024-2-29"), None);
        assert_eq!(parse_date("+2024-02-2"), None);
        assert_eq!(weekday(unix_day(date(2026, 3, 2))), 0);
        assert_eq!(weekday(unix_day(date(2026, 3, 8))), 6);
        assert_eq!(unix_day(date(1970, 1, 1)), 0);
        assert_eq!(unix_day(date(1969, 12, 31)), -1);
    }

    /// Rough timing of `add` (best of 5 rounds; the machine may be busy):
    /// `cargo test --release --lib calendar::tests::bench_add -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_add() {
        let c = cal(&weekdays_cfg(B, &["09:00-12:00", "13:00-17:00"]));
        let z = tz(B);
        let base = at(B, 2026, 4, 1, 0, 0);
        let targets = [
            ("4h", hours(4)),
            ("3 days (21h)", hours(21)),
            ("60 days (1440h)", hours(60 * 24)),
        ];
        for (label, target) in targets {
            let n = 100_000u32;
            let mut best = std::time::Duration::MAX;
            let mut acc = 0i128;
            for _ in 0..5 {
                let t0 = std::time::Instant::now();
                for i in 0..n {
                    // Starts spread over ~2 months (some near a DST change, most not).
                    let start = base + SignedDuration::from_secs(i64::from(i % 4000) * 1237);
                    acc += c
                        .add(std::hint::black_box(start), target, &z)
                        .unwrap()
                        .as_nanosecond()
                        & 1;
                }
                best = best.min(t0.elapsed() / n);
            }
            println!("add {label}: {best:?} per call ({acc})");
        }
    }
}
