//! One SLA clock: its phase, elapsed and paused open time, target, and which thresholds fired.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::event::nanos;
use super::{part_of, PPM};
use crate::calendar::Calendar;

/// Why a clock stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The first response came (first-response clock only; it never resumes).
    Response,
    /// The ticket was solved or closed (resumes on `reopened`).
    Done,
}

/// The phase of a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Elapsing open time since `since` (the start of the current segment).
    Running { since: Timestamp },
    /// Not elapsing since `since`; the open time spent paused is counted in `paused`.
    Paused { since: Timestamp },
    /// Stopped at `at`.
    Stopped { at: Timestamp, by: StopReason },
}

/// What a ticket's status asks of a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Run,
    Pause,
    Stop(StopReason),
}

/// One clock. `elapsed` and `paused` hold the open time of the *closed* segments; the current
/// segment (from `since` of a running or paused phase) is added on demand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    /// The target in open time; zero means "no target": the clock is not watched.
    #[serde(with = "nanos")]
    pub target: SignedDuration,
    #[serde(with = "nanos")]
    pub elapsed: SignedDuration,
    #[serde(with = "nanos")]
    pub paused: SignedDuration,
    pub phase: Phase,
    /// Thresholds (ppm; [`PPM`] = breach) decided so far, ascending. A threshold that was passed
    /// over (a higher one fired at the same time) is in here too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fired: Vec<u32>,
    /// `met` was decided.
    #[serde(default)]
    pub met: bool,
    /// The elapsed ratio was observed (metrics: once per clock).
    #[serde(default)]
    pub ratio_observed: bool,
}

/// A threshold crossing decided by [`SlaClock::advance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crossing {
    /// The threshold signalled (ppm; [`PPM`] = breach).
    pub ppm: u32,
    /// When it was crossed.
    pub at: Timestamp,
}

impl SlaClock {
    /// A clock running since `start`.
    pub fn start(target: SignedDuration, start: Timestamp) -> SlaClock {
        SlaClock {
            target,
            elapsed: SignedDuration::ZERO,
            paused: SignedDuration::ZERO,
            phase: Phase::Running { since: start },
            fired: Vec::new(),
            met: false,
            ratio_observed: false,
        }
    }

    /// Whether the clock has a target to watch.
    pub fn watched(&self) -> bool {
        self.target.is_positive()
    }

    pub fn is_running(&self) -> bool {
        matches!(self.phase, Phase::Running { .. })
    }

    pub fn is_paused(&self) -> bool {
        matches!(self.phase, Phase::Paused { .. })
    }

    pub fn is_stopped(&self) -> bool {
        matches!(self.phase, Phase::Stopped { .. })
    }

    /// The breach was decided.
    pub fn breached(&self) -> bool {
        self.fired.contains(&PPM)
    }

    /// Some warning (or the breach) was decided.
    pub fn warned(&self) -> bool {
        !self.fired.is_empty()
    }

    /// Open time elapsed at `t` (`t` at or after the current segment's start).
    pub fn elapsed_at(&self, t: Timestamp, cal: &Calendar, tz: &TimeZone) -> SignedDuration {
        match self.phase {
            Phase::Running { since } => self.elapsed + cal.open_time_between(since, t, tz),
            _ => self.elapsed,
        }
    }

    /// Open time spent paused at `t`.
    pub fn paused_at(&self, t: Timestamp, cal: &Calendar, tz: &TimeZone) -> SignedDuration {
        match self.phase {
            Phase::Paused { since } => self.paused + cal.open_time_between(since, t, tz),
            _ => self.paused,
        }
    }

    /// Closes the current segment at `t` and opens a new one of the same phase at `t`
    /// (no observable change; used before re-targeting).
    fn split(&mut self, t: Timestamp, cal: &Calendar, tz: &TimeZone) {
        match self.phase {
            Phase::Running { since } if t > since => {
                self.elapsed += cal.open_time_between(since, t, tz);
                self.phase = Phase::Running { since: t };
            }
            Phase::Paused { since } if t > since => {
                self.paused += cal.open_time_between(since, t, tz);
                self.phase = Phase::Paused { since: t };
            }
            _ => {}
        }
    }

    /// Moves to the phase `want` at `t`. Returns `true` if the clock stopped now (it was not
    /// stopped before). A first-response clock stopped by the response never moves again.
    pub fn set(&mut self, want: Want, t: Timestamp, cal: &Calendar, tz: &TimeZone) -> bool {
        let stopped_now;
        match (self.phase, want) {
            (Phase::Running { .. }, Want::Run) | (Phase::Paused { .. }, Want::Pause) => {
                return false
            }
            (
                Phase::Stopped {
                    by: StopReason::Response,
                    ..
                },
                _,
            ) => return false,
            (Phase::Stopped { .. }, Want::Stop(_)) => return false,
            (Phase::Stopped { .. }, Want::Run) => {
                self.phase = Phase::Running { since: t };
                return false;
            }
            (Phase::Stopped { .. }, Want::Pause) => {
                self.phase = Phase::Paused { since: t };
                return false;
            }
            (Phase::Running { .. } | Phase::Paused { .. }, w) => {
                self.split(t, cal, tz);
                self.phase = match w {
                    Want::Run => Phase::Running { since: t },
                    Want::Pause => Phase::Paused { since: t },
                    Want::Stop(by) => Phase::Stopped { at: t, by },
                };
                stopped_now = matches!(w, Want::Stop(_));
            }
        }
        stopped_now
    }

    /// Replaces the target at `t`, keeping elapsed and paused time.
    pub fn retarget(
        &mut self,
        target: SignedDuration,
        t: Timestamp,
        cal: &Calendar,
        tz: &TimeZone,
    ) {
        self.split(t, cal, tz);
        self.target = target;
    }

    /// When the elapsed time reaches `ppm` of the target: the start of the current segment if it
    /// already had (or the clock is paused or stopped with that much elapsed), `None` if it
    /// cannot (paused or stopped short of it, or the calendar cannot reach it).
    pub fn crossing(&self, ppm: u32, cal: &Calendar, tz: &TimeZone) -> Option<Timestamp> {
        let need = part_of(self.target, ppm);
        match self.phase {
            Phase::Running { since } => {
                if need <= self.elapsed {
                    Some(since)
                } else {
                    cal.add(since, need - self.elapsed, tz).ok()
                }
            }
            Phase::Paused { since } => (need <= self.elapsed).then_some(since),
            Phase::Stopped { .. } => None,
        }
    }

    /// When the target is due as things stand: the breach crossing of a running clock; `None`
    /// while paused or stopped.
    pub fn due(&self, cal: &Calendar, tz: &TimeZone) -> Option<Timestamp> {
        match self.phase {
            Phase::Running { .. } => self.crossing(PPM, cal, tz),
            _ => None,
        }
    }

    /// The earliest crossing of a threshold that has not fired (the next timer), if any.
    pub fn next_deadline(
        &self,
        thresholds: impl Iterator<Item = u32>,
        cal: &Calendar,
        tz: &TimeZone,
    ) -> Option<Timestamp> {
        if !self.watched() || self.is_stopped() {
            return None;
        }
        // Thresholds are ascending, so the first one not fired crosses first.
        thresholds
            .filter(|p| !self.fired.contains(p))
            .find_map(|p| self.crossing(p, cal, tz))
    }

    /// Decides the thresholds crossed at or before `t` (strictly before, with `strict`) that have
    /// not fired: all are recorded as fired, and the highest is returned to be signalled.
    pub fn advance(
        &mut self,
        t: Timestamp,
        strict: bool,
        thresholds: impl Iterator<Item = u32>,
        cal: &Calendar,
        tz: &TimeZone,
    ) -> Option<Crossing> {
        if !self.watched() || self.is_stopped() {
            return None;
        }
        let mut best: Option<Crossing> = None;
        for ppm in thresholds {
            if self.fired.contains(&ppm) {
                continue;
            }
            let Some(at) = self.crossing(ppm, cal, tz) else {
                break;
            };
            let crossed = if strict { at < t } else { at <= t };
            if !crossed {
                break;
            }
            self.fired.push(ppm);
            best = Some(Crossing { ppm, at });
        }
        self.fired.sort_unstable();
        best
    }

    /// Elapsed over target when stopped (or at `t`), for the ratio histogram.
    pub fn ratio_at(&self, t: Timestamp, cal: &Calendar, tz: &TimeZone) -> f64 {
        let e = self.elapsed_at(t, cal, tz).as_secs_f64();
        let tg = self.target.as_secs_f64();
        if tg > 0.0 {
            e / tg
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn running_pause_resume_on_24x7() {
        let cal = Calendar::always("24x7");
        let tz = TimeZone::UTC;
        let t0 = ts("2026-03-02T09:00:00Z");
        let mut c = SlaClock::start(SignedDuration::from_hours(4), t0);
        assert_eq!(c.due(&cal, &tz), Some(ts("2026-03-02T13:00:00Z")));
        assert!(!c.set(Want::Pause, ts("2026-03-02T10:00:00Z"), &cal, &tz));
        assert_eq!(c.due(&cal, &tz), None);
        assert!(!c.set(Want::Run, ts("2026-03-02T10:30:00Z"), &cal, &tz));
        assert_eq!(c.due(&cal, &tz), Some(ts("2026-03-02T13:30:00Z")));
        assert_eq!(c.paused, SignedDuration::from_mins(30));
        let thresholds = || [500_000, 750_000, 900_000, PPM].into_iter();
        assert_eq!(
            c.next_deadline(thresholds(), &cal, &tz),
            Some(ts("2026-03-02T11:30:00Z"))
        );
        // At 12:40 both 0.5 (11:30) and 0.75 (12:30) have passed: only 0.75 is signalled.
        let x = c
            .advance(ts("2026-03-02T12:40:00Z"), false, thresholds(), &cal, &tz)
            .unwrap();
        assert_eq!(x.ppm, 750_000);
        assert_eq!(x.at, ts("2026-03-02T12:30:00Z"));
        assert_eq!(c.fired, vec![500_000, 750_000]);
        assert!(c.set(
            Want::Stop(StopReason::Done),
            ts("2026-03-02T13:00:00Z"),
            &cal,
            &tz
        ));
        assert_eq!(c.elapsed, SignedDuration::from_mins(210));
        assert_eq!(c.next_deadline(thresholds(), &cal, &tz), None);
    }

    #[test]
    fn response_stop_is_final() {
        let cal = Calendar::always("24x7");
        let tz = TimeZone::UTC;
        let mut c = SlaClock::start(SignedDuration::from_hours(1), ts("2026-03-02T09:00:00Z"));
        assert!(c.set(
            Want::Stop(StopReason::Response),
            ts("2026-03-02T09:10:00Z"),
            &cal,
            &tz
        ));
        assert!(!c.set(Want::Run, ts("2026-03-02T09:20:00Z"), &cal, &tz));
        assert!(c.is_stopped());
    }
}
