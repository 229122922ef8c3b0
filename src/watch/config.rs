//! `watch.toml`: the typed configuration of `triage watch`, then environment overrides
//! (`TRIAGE_WATCH_<FIELD>`, `TRIAGE_WATCH_LIBRDKAFKA_<PROPERTY>`), validated when it is loaded.
//!
//! The watcher is its own process with its own file, so that it can be deployed, scaled and
//! restarted independently of `triage run` (its state restore must not delay triage). Every field
//! is documented here; these comments are the reference in `docs/sla-clocks.md`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::clock::{Pauses, Settings};
pub use crate::edge::config::CommonConfig;
use crate::edge::config::{EnvVar, FileConfig};

/// The configuration of `triage watch`. Unknown fields are an error.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// Consumer group of the triaged topics and the lifecycle topic (one group for all of them:
    /// partition *n* of every input topic goes to the same instance). Also the prefix of the
    /// producer's `client.id`.
    #[serde(default = "default_group_id")]
    pub group_id: String,

    /// Lifecycle events in (key `ticket_id`).
    #[serde(default = "default_lifecycle_topic")]
    pub lifecycle_topic: String,

    /// Signals out (`warning`, `breached`, `met`; key `ticket_id`).
    #[serde(default = "default_signals_topic")]
    pub signals_topic: String,

    /// The watcher's state: compacted, key `ticket_id`, one partition per input partition. Created
    /// at start when missing and `create_changelog` is set.
    #[serde(default = "default_changelog_topic")]
    pub changelog_topic: String,

    /// Create `changelog_topic` (compacted, as many partitions as the inputs) when it is missing.
    #[serde(default = "default_true")]
    pub create_changelog: bool,

    /// Replication factor of a created changelog topic; `-1`: the broker's default.
    #[serde(default = "default_replication")]
    pub changelog_replication_factor: i32,

    /// Send a customer acknowledgment for every new triaged ticket to `acks_topic`, rendered
    /// from the rules' `[acknowledgment] template` (which must then exist).
    #[serde(default)]
    pub acknowledgments: bool,

    /// Acknowledgments out (key `ticket_id`), when `acknowledgments` is set.
    #[serde(default = "default_acks_topic")]
    pub acks_topic: String,

    /// Fractions of a target at which a `warning` is sent, each in (0, 1). The `breached`
    /// signal at 1.0 is always sent.
    #[serde(default = "default_warning_thresholds")]
    pub warning_thresholds: Vec<f64>,

    /// Which statuses pause which clocks: `status = ["clock", ...]` with statuses `open`,
    /// `pending`, `on_hold` and clocks `first_response`, `resolution`. Default: `pending` and
    /// `on_hold` pause `resolution`. Solved and closed always stop both clocks. Setting the table
    /// replaces the default entirely.
    #[serde(default = "default_pauses")]
    pub pauses: BTreeMap<String, Vec<String>>,

    /// How long the state of a solved or closed ticket is kept (for `reopened` and
    /// `satisfaction`), in seconds. Default 7 days.
    #[serde(default = "default_week")]
    pub closed_retention_seconds: u64,

    /// How long lifecycle events of a ticket that was never triaged wait for its triaged record,
    /// in seconds. Default 7 days. Such events are logged when given up: often a sign that the
    /// lifecycle topic is not keyed or partitioned like the triaged topics.
    #[serde(default = "default_week")]
    pub orphan_ttl_seconds: u64,

    /// Lifecycle events kept per not-yet-triaged ticket, at most.
    #[serde(default = "default_orphan_max_events")]
    pub orphan_max_events: usize,

    /// How often changed state is written to the changelog and input offsets are stored (after
    /// the changelog write is acknowledged), in milliseconds.
    #[serde(default = "default_commit_interval_ms")]
    pub commit_interval_ms: u64,

    /// After a partition is assigned and restored, its timers wait until the partition's input
    /// backlog (up to the end offsets at assignment) has been applied, so that events that
    /// happened while nobody watched are applied before the timers fire — but at most this long.
    #[serde(default = "default_catch_up_timeout_seconds")]
    pub catch_up_timeout_seconds: u64,

    /// `/metrics`, `/healthz` and `/readyz` listen here.
    #[serde(default = "default_http_listen")]
    pub http_listen: SocketAddr,

    /// Virtual time runs this many times faster than real time (demos and tests: `60` makes a
    /// 15-minute target last 15 seconds). Event and ticket timestamps must then be virtual
    /// too. Default 1 (real time).
    #[serde(default = "default_time_scale")]
    pub time_scale: f64,

    /// With `time_scale`: the instant at which virtual and real time agree (RFC 3339). Default:
    /// the watcher's start.
    #[serde(default)]
    pub time_scale_epoch: Option<Timestamp>,

    /// `bootstrap_servers`, `rules_path`, `drain_timeout_seconds`,
    /// `log_level` and `[librdkafka]`: documented in [`CommonConfig`] (the
    /// same keys of this file, read beside the fields above).
    #[serde(skip)]
    pub common: CommonConfig,
}

fn default_group_id() -> String {
    "triage-sla".into()
}
fn default_lifecycle_topic() -> String {
    "tickets.lifecycle".into()
}
fn default_signals_topic() -> String {
    "tickets.sla".into()
}
fn default_changelog_topic() -> String {
    "triage-sla-changelog".into()
}
fn default_replication() -> i32 {
    -1
}
fn default_acks_topic() -> String {
    "tickets.acks".into()
}
fn default_true() -> bool {
    true
}
fn default_warning_thresholds() -> Vec<f64> {
    vec![0.5, 0.75, 0.9]
}
fn default_pauses() -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    m.insert("pending".to_string(), vec!["resolution".to_string()]);
    m.insert("on_hold".to_string(), vec!["resolution".to_string()]);
    m
}
fn default_week() -> u64 {
    7 * 86_400
}
fn default_orphan_max_events() -> usize {
    256
}
fn default_commit_interval_ms() -> u64 {
    100
}
fn default_catch_up_timeout_seconds() -> u64 {
    30
}
fn default_time_scale() -> f64 {
    1.0
}

/// librdkafka properties the watcher depends on.
pub const PINNED: &[(&str, &str)] = &[
    ("enable.idempotence", "true"),
    ("enable.auto.offset.store", "false"),
    ("partition.assignment.strategy", "range"),
];

/// A configuration problem: file (or `environment`), line, field, what is
/// wrong — the service's error type, displayed the same way.
pub type WatchConfigError = crate::edge::config::ConfigError;

impl Default for WatchConfig {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

impl FileConfig for WatchConfig {
    const ENV_PREFIX: &'static str = "TRIAGE_WATCH_";

    fn common_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }

    fn apply_env(&mut self, var: &EnvVar) -> Result<(), WatchConfigError> {
        let err = |m| var.error(m);
        let v = var.value.to_string();
        match var.field.as_str() {
            "group_id" => self.group_id = v,
            "lifecycle_topic" => self.lifecycle_topic = v,
            "signals_topic" => self.signals_topic = v,
            "changelog_topic" => self.changelog_topic = v,
            "acks_topic" => self.acks_topic = v,
            "acknowledgments" => {
                self.acknowledgments = v
                    .parse()
                    .map_err(|_| err(format!("must be true or false, got {v:?}")))?
            }
            "commit_interval_ms" => self.commit_interval_ms = var.num()?,
            "http_listen" => self.http_listen = var.addr()?,
            "time_scale" => self.time_scale = var.num()?,
            _ => {}
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), (String, String)> {
        let e = |f: &str, m: String| Err((f.to_string(), m));
        let topics = [
            ("group_id", &self.group_id),
            ("lifecycle_topic", &self.lifecycle_topic),
            ("signals_topic", &self.signals_topic),
            ("changelog_topic", &self.changelog_topic),
            ("acks_topic", &self.acks_topic),
        ];
        for (f, v) in topics {
            if v.trim().is_empty() {
                return e(f, "must not be empty".into());
            }
        }
        let outs = [
            ("signals_topic", &self.signals_topic),
            ("changelog_topic", &self.changelog_topic),
            ("acks_topic", &self.acks_topic),
        ];
        for (i, (f, v)) in outs.iter().enumerate() {
            if **v == self.lifecycle_topic {
                return e(f, "must differ from lifecycle_topic".into());
            }
            if outs[..i].iter().any(|(_, o)| o == v) {
                return e(f, format!("{v:?} is used for two purposes"));
            }
        }
        if let Err(m) = Settings::warnings_from_fractions(&self.warning_thresholds) {
            return e("warning_thresholds", m);
        }
        if let Err(m) = Pauses::from_table(&self.pauses) {
            return e("pauses", m);
        }
        if self.commit_interval_ms == 0 {
            return e("commit_interval_ms", "must be at least 1".into());
        }
        if self.orphan_max_events == 0 {
            return e("orphan_max_events", "must be at least 1".into());
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return e(
                "time_scale",
                format!("must be a positive number, got {}", self.time_scale),
            );
        }
        self.common
            .validate(PINNED, "the watcher's delivery guarantee")
    }
}

impl WatchConfig {
    /// The clock settings (the acknowledgment template comes from the rules).
    pub fn settings(&self) -> Settings {
        Settings {
            warnings_ppm: Settings::warnings_from_fractions(&self.warning_thresholds)
                .expect("validated"),
            pauses: Pauses::from_table(&self.pauses).expect("validated"),
            retention: SignedDuration::from_secs(self.closed_retention_seconds as i64),
            orphan_ttl: SignedDuration::from_secs(self.orphan_ttl_seconds as i64),
            orphan_max_events: self.orphan_max_events,
            ack_template: None,
        }
    }

    pub fn commit_interval(&self) -> Duration {
        Duration::from_millis(self.commit_interval_ms)
    }

    pub fn catch_up_timeout(&self) -> Duration {
        Duration::from_secs(self.catch_up_timeout_seconds)
    }
}

fn default_http_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 9465))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<WatchConfig, WatchConfigError> {
        crate::edge::config::from_pairs("/etc/triage/watch.toml", text, env)
    }

    #[test]
    fn defaults() {
        let c = load("", &[]).unwrap();
        assert_eq!(c.lifecycle_topic, "tickets.lifecycle");
        assert_eq!(c.signals_topic, "tickets.sla");
        assert_eq!(c.changelog_topic, "triage-sla-changelog");
        assert_eq!(
            c.common.rules_path,
            std::path::PathBuf::from("/etc/triage/rules.toml")
        );
        let s = c.settings();
        assert_eq!(s.warnings_ppm, vec![500_000, 750_000, 900_000]);
        assert!(s.pauses.pauses(
            crate::clock::Status::Pending,
            crate::clock::ClockKind::Resolution
        ));
    }

    #[test]
    fn errors_name_the_field() {
        let e = load("warning_thresholds = [0.5, 1.2]\n", &[]).unwrap_err();
        assert_eq!(e.field, "warning_thresholds");
        let e = load("[pauses]\nsolved = [\"resolution\"]\n", &[]).unwrap_err();
        assert_eq!(e.field, "pauses");
        let e = load("signals_topic = \"tickets.lifecycle\"\n", &[]).unwrap_err();
        assert_eq!(e.field, "signals_topic");
        let e = load(
            "[librdkafka]\n\"partition.assignment.strategy\" = \"cooperative-sticky\"\n",
            &[],
        )
        .unwrap_err();
        assert!(e.field.contains("partition.assignment.strategy"), "{e}");
        let e = load("time_scale = 0\n", &[]).unwrap_err();
        assert_eq!(e.field, "time_scale");
        let e = load("lifecycle = \"x\"\n", &[]).unwrap_err();
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn environment_overrides() {
        let c = load(
            "group_id = \"file\"\n",
            &[
                ("TRIAGE_WATCH_GROUP_ID", "env"),
                ("TRIAGE_WATCH_ACKNOWLEDGMENTS", "true"),
                ("TRIAGE_WATCH_LIBRDKAFKA_FETCH_WAIT_MAX_MS", "10"),
                ("TRIAGE_GROUP_ID", "not ours"),
            ],
        )
        .unwrap();
        assert_eq!(c.group_id, "env");
        assert!(c.acknowledgments);
        assert_eq!(c.common.librdkafka["fetch.wait.max.ms"], "10");
        assert!(load("", &[("TRIAGE_WATCH_TIME_SCALE", "fast")]).is_err());
    }
}
