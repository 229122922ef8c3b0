//! The injectable time source of the watcher. The clock maths never reads the time: the edge
//! asks a [`TimeSource`] for "now" and for how long to sleep until a deadline.
//!
//! [`ScaledTime`] runs virtual time faster than real time (`time_scale` in the watcher's
//! config): with scale 60, one real second is a virtual minute, so a rules file with real targets
//! ("15m") can be watched end to end in seconds. Virtual time equals real time at `epoch` and
//! runs `scale` times faster after it; event and ticket timestamps must be virtual too.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// Where "now" comes from.
pub trait TimeSource: Send + Sync + 'static {
    /// The current (possibly virtual) instant.
    fn now(&self) -> Timestamp;
    /// Real time to wait until the (possibly virtual) instant `t`; zero if it has passed.
    fn real_until(&self, t: Timestamp) -> Duration;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTime;

impl TimeSource for SystemTime {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn real_until(&self, t: Timestamp) -> Duration {
        positive(t.duration_since(Timestamp::now()))
    }
}

/// Virtual time: `epoch + (real − epoch) × scale`.
#[derive(Debug, Clone, Copy)]
pub struct ScaledTime {
    pub epoch: Timestamp,
    pub scale: f64,
}

impl ScaledTime {
    /// `scale` must be finite and positive.
    pub fn new(epoch: Timestamp, scale: f64) -> Result<ScaledTime, String> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(format!("time scale must be a positive number, got {scale}"));
        }
        Ok(ScaledTime { epoch, scale })
    }

    /// The virtual instant at real instant `real`.
    pub fn to_virtual(&self, real: Timestamp) -> Timestamp {
        let d = real.duration_since(self.epoch);
        let v = (d.as_nanos() as f64 * self.scale) as i128;
        self.epoch
            .checked_add(SignedDuration::from_nanos_i128(v))
            .unwrap_or(Timestamp::MAX)
    }

    /// The real duration of a virtual duration.
    pub fn to_real(&self, virtual_d: SignedDuration) -> Duration {
        positive(SignedDuration::from_nanos_i128(
            (virtual_d.as_nanos() as f64 / self.scale) as i128,
        ))
    }
}

impl TimeSource for ScaledTime {
    fn now(&self) -> Timestamp {
        self.to_virtual(Timestamp::now())
    }

    fn real_until(&self, t: Timestamp) -> Duration {
        self.to_real(t.duration_since(self.now()))
    }
}

fn positive(d: SignedDuration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_time_maps_both_ways() {
        let epoch: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        let s = ScaledTime::new(epoch, 60.0).unwrap();
        assert_eq!(
            s.to_virtual("2026-03-02T09:00:10Z".parse().unwrap()),
            "2026-03-02T09:10:00Z".parse().unwrap()
        );
        assert_eq!(
            s.to_real(SignedDuration::from_mins(1)),
            Duration::from_secs(1)
        );
        assert_eq!(s.to_real(SignedDuration::from_mins(-1)), Duration::ZERO);
        assert!(ScaledTime::new(epoch, 0.0).is_err());
        assert!(ScaledTime::new(epoch, f64::INFINITY).is_err());
        let real = SystemTime;
        assert_eq!(real.real_until(Timestamp::UNIX_EPOCH), Duration::ZERO);
    }
}
