//! `service.toml`: the typed configuration of `triage run`, then environment
//! overrides (`TRIAGE_<FIELD>`, `TRIAGE_LIBRDKAFKA_<PROPERTY>`), validated
//! when it is loaded — not when the first ticket hits it.
//!
//! Every field is documented here; these comments are the reference in the
//! README. Known settings are typed fields; anything else librdkafka
//! understands (TLS, SASL, tuning) goes through the `[librdkafka]` table as is.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use crate::edge::config::{CommonConfig, ConfigError};
use crate::edge::config::{EnvVar, FileConfig};

pub use triage_core::codec::Format;

/// How the service stops taking records at `max_in_flight`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackPressure {
    /// Stop polling; partitions stay as they are.
    #[default]
    Hold,
    /// Pause the assigned partitions; resume them when below the bound.
    Pause,
}

/// The configuration of `triage run`. Unknown fields are an error (a typo
/// must not silently fall back to a default).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Consumer group of `input_topic`. Instances with the same group id
    /// share the topic's partitions; at most one instance per partition does
    /// work.
    #[serde(default = "default_group_id")]
    pub group_id: String,

    /// Ticket events in.
    #[serde(default = "default_input_topic")]
    pub input_topic: String,

    /// The compacted customer table (key `customer_id`, an empty value
    /// deletes). Every instance reads all of it from the beginning, outside
    /// the consumer group.
    #[serde(default = "default_customers_topic")]
    pub customers_topic: String,

    /// Records that cannot be triaged go here, key and value unchanged, with
    /// `dlq-*` headers saying why. Output topics (one per priority level)
    /// come from the rules file, not from here.
    #[serde(default = "default_dead_letter_topic")]
    pub dead_letter_topic: String,

    /// Format of ticket events and customer records: `json` or `avro`.
    #[serde(default = "default_input_format")]
    pub input_format: Format,

    /// Format of triaged tickets; default: the input's format.
    #[serde(default)]
    pub output_format: Option<Format>,

    /// Confluent Schema Registry base URL (e.g. `http://registry:8081`) for
    /// `avro`: writer schemas are fetched by id once and cached. Without it
    /// the schemas bundled in the binary are used.
    #[serde(default)]
    pub schema_registry_url: Option<String>,

    /// `user:password` for the schema registry's HTTP basic auth (Confluent
    /// Cloud: API key and secret). Better from the environment:
    /// `TRIAGE_SCHEMA_REGISTRY_BASIC_AUTH`.
    #[serde(default)]
    pub schema_registry_basic_auth: Option<String>,

    /// While the schema registry does not answer, a record whose writer
    /// schema is not cached yet waits: the consumer keeps serving the group
    /// (its partitions paused, so no eviction), attempts back off from
    /// 200 ms to at most 30 s, `/readyz` reports not ready and
    /// `triage_schema_registry_up` is 0. After this many seconds without an
    /// answer the record is dead-lettered as `unknown_schema` (detail: the
    /// registry did not answer), and so is every later record that needs an
    /// unknown schema while the registry stays down (one attempt each, no
    /// wait) — the stream goes on with the schemas it knows. The first
    /// answer ends it. Customer records are skipped (counted as
    /// `decode_error`) by the same rule. Default 300.
    #[serde(default = "default_schema_registry_max_wait_seconds")]
    pub schema_registry_max_wait_seconds: u64,

    /// Optional candidate rules file evaluated live beside `rules_path` ("shadow rules"): every
    /// triaged ticket is also decided by it, on the same ticket, customer and instant, and the
    /// result never changes an output record's key or value. The shadow's decision travels as
    /// the `triage-shadow` header of the live record (JSON: priority, category, queue, tier,
    /// score, rules_version), and `triage_shadow_decisions_total{live,shadow}` /
    /// `triage_shadow_queue_total{live,shadow}` count live×shadow pairs, so a lead can watch
    /// real traffic before switching. Watched and reloaded with the rules; an invalid file
    /// refuses start-up, and on reload is logged and the previous shadow stays. A relative path
    /// is read from the config file's directory. Costs one more engine run per ticket.
    #[serde(default)]
    pub shadow_rules_path: Option<PathBuf>,

    /// Optional JSON-lines file of customer records loaded into the table
    /// before the customers topic is read (the topic wins where both have a
    /// customer). A relative path is read from the config file's directory.
    #[serde(default)]
    pub customers_seed_path: Option<PathBuf>,

    /// How long ticket consumption waits at start for the customer table to
    /// reach the customers topic's end offsets (measured at start). After
    /// that it starts anyway (logged); `/readyz` stays not-ready until the
    /// table has caught up.
    #[serde(default = "default_customers_catch_up_timeout_seconds")]
    pub customers_catch_up_timeout_seconds: u64,

    /// Inputs larger than this many bytes go to the dead-letter topic with
    /// reason `too_large`. A triaged output larger than this is dead-lettered
    /// the same way (the producer's `message.max.bytes` is set to this plus
    /// room for the `triage` object). Default 1 MiB, the broker's default.
    ///
    /// Other caps on the work one record can cause (fixed; over a cap is a
    /// dead letter, never an allocation): JSON nesting 128 levels (the
    /// parser's), at most 1,000 `tags` and 1,000 `custom_fields`; Avro
    /// nesting 64 levels, at most 100,000 array and map items per datum in
    /// all blocks together (items of size zero included) and 16 MiB of
    /// rendered extra fields. A dead letter the broker refuses is sent again
    /// with its first 64 KiB, then without a value.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,

    /// Records handed to the producer and not yet acknowledged, at most
    /// (back-pressure): at this bound the service stops taking records until a
    /// quarter has been acknowledged, as `back_pressure` says. Bounds memory
    /// when brokers are slow or down; `triage_backpressure_seconds_total`
    /// counts the time held. The default keeps enough in flight for ~100k
    /// records/s at 100 ms delivery.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,

    /// How consumption stops at `max_in_flight`: `"hold"` (the default) stops
    /// polling and leaves the partitions alone — what librdkafka prefetched
    /// stays queued and its fetcher stops by itself when the queue
    /// (`queued.max.messages.kbytes`) is full, so nothing is fetched twice;
    /// `"pause"` pauses every assigned partition and resumes them after, which
    /// drops the prefetched records and fetches them again. Measured on Apache
    /// Kafka in BENCHMARKS.md ("Back-pressure: hold or pause").
    #[serde(default)]
    pub back_pressure: BackPressure,

    /// Threads that run the engine (decode, enrich, triage, encode), the
    /// pipeline thread included. With 1 (the default) the pipeline thread
    /// does everything, record by record. With more, it takes the records
    /// that are ready (up to 256 at a time), has them triaged in parallel (each
    /// thread claims blocks of 8 until none are left), and then hands the
    /// results to the producer in input
    /// order — so per-partition order, offset tracking and commits are exactly
    /// as with 1. Worth it when the instance has cores the broker does not
    /// use; on a host shared with the broker it competes with it.
    #[serde(default = "default_workers")]
    pub workers: usize,

    /// A ticket that arrives with at least this fraction of its first-response
    /// target already used is counted as `at_risk` in
    /// `triage_sla_arrived_at_risk_total` (`breached` when past due).
    #[serde(default = "default_sla_at_risk_fraction")]
    pub sla_at_risk_fraction: f64,

    /// `/metrics`, `/healthz` and `/readyz` listen here.
    #[serde(default = "default_http_listen")]
    pub http_listen: SocketAddr,

    /// How often the rules file is checked for changes (content hash).
    #[serde(default = "default_rules_watch_interval_ms")]
    pub rules_watch_interval_ms: u64,

    /// `bootstrap_servers`, `rules_path`, `drain_timeout_seconds`,
    /// `log_level` and `[librdkafka]`: documented in [`CommonConfig`] (the
    /// same keys of this file, read beside the fields above).
    #[serde(skip)]
    pub common: CommonConfig,
}

fn default_group_id() -> String {
    "triage".into()
}
fn default_input_topic() -> String {
    "tickets.raw".into()
}
fn default_customers_topic() -> String {
    "customers".into()
}
fn default_dead_letter_topic() -> String {
    "tickets.dlq".into()
}
fn default_input_format() -> Format {
    Format::Json
}
fn default_schema_registry_max_wait_seconds() -> u64 {
    300
}
fn default_customers_catch_up_timeout_seconds() -> u64 {
    60
}
fn default_max_message_bytes() -> usize {
    1_048_576
}
fn default_max_in_flight() -> usize {
    10_000
}
fn default_workers() -> usize {
    1
}
fn default_sla_at_risk_fraction() -> f64 {
    0.5
}
fn default_rules_watch_interval_ms() -> u64 {
    2000
}

/// librdkafka properties the service depends on; the `[librdkafka]` table
/// cannot change them.
const PINNED: &[(&str, &str)] = &[
    ("enable.idempotence", "true"),
    ("enable.auto.offset.store", "false"),
];

impl Default for Config {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

impl FileConfig for Config {
    const ENV_PREFIX: &'static str = "TRIAGE_";

    fn common_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }

    fn resolve_paths(&mut self, base: &Path) {
        self.customers_seed_path = self.customers_seed_path.take().map(|p| base.join(p));
        self.shadow_rules_path = self.shadow_rules_path.take().map(|p| base.join(p));
    }

    /// `TRIAGE_<FIELD>` (upper case) overrides a field;
    /// `TRIAGE_LIBRDKAFKA_<PROPERTY>` sets a librdkafka property (lower case,
    /// `_` → `.`). Paths from the environment are relative to the working
    /// directory. Unknown `TRIAGE_*` variables are ignored (other tools share
    /// the prefix), except unknown fields that look like typos are not
    /// detectable here.
    fn apply_env(&mut self, var: &EnvVar) -> Result<(), ConfigError> {
        let err = |m| var.error(m);
        let v = var.value.to_string();
        match var.field.as_str() {
            "group_id" => self.group_id = v,
            "input_topic" => self.input_topic = v,
            "customers_topic" => self.customers_topic = v,
            "dead_letter_topic" => self.dead_letter_topic = v,
            "input_format" => {
                self.input_format = Format::parse(&v)
                    .ok_or_else(|| err(format!("must be json or avro, got {v:?}")))?
            }
            "output_format" => {
                self.output_format = Some(
                    Format::parse(&v)
                        .ok_or_else(|| err(format!("must be json or avro, got {v:?}")))?,
                )
            }
            "schema_registry_url" => {
                self.schema_registry_url = (!v.is_empty()).then_some(v);
            }
            "schema_registry_basic_auth" => {
                self.schema_registry_basic_auth = (!v.is_empty()).then_some(v);
            }
            "customers_seed_path" => {
                self.customers_seed_path = (!v.is_empty()).then(|| PathBuf::from(v));
            }
            "shadow_rules_path" => {
                self.shadow_rules_path = (!v.is_empty()).then(|| PathBuf::from(v));
            }
            "schema_registry_max_wait_seconds" => {
                self.schema_registry_max_wait_seconds = var.num()?
            }
            "customers_catch_up_timeout_seconds" => {
                self.customers_catch_up_timeout_seconds = var.num()?
            }
            "max_message_bytes" => self.max_message_bytes = var.num()?,
            "max_in_flight" => self.max_in_flight = var.num()?,
            "back_pressure" => {
                self.back_pressure = match v.as_str() {
                    "hold" => BackPressure::Hold,
                    "pause" => BackPressure::Pause,
                    _ => return Err(err(format!("must be hold or pause, got {v:?}"))),
                }
            }
            "workers" => self.workers = var.num()?,
            "sla_at_risk_fraction" => self.sla_at_risk_fraction = var.num()?,
            "http_listen" => self.http_listen = var.addr()?,
            "rules_watch_interval_ms" => self.rules_watch_interval_ms = var.num()?,
            // Not a field: TRIAGE_TEST_BROKERS and the like belong to others.
            _ => {}
        }
        Ok(())
    }

    /// Checks that need more than a type: returns (field, problem).
    fn validate(&self) -> Result<(), (String, String)> {
        let e = |f: &str, m: String| Err((f.to_string(), m));
        for (f, v) in [
            ("group_id", &self.group_id),
            ("input_topic", &self.input_topic),
            ("customers_topic", &self.customers_topic),
            ("dead_letter_topic", &self.dead_letter_topic),
        ] {
            if v.trim().is_empty() {
                return e(f, "must not be empty".into());
            }
        }
        if self.input_topic == self.dead_letter_topic {
            return e(
                "dead_letter_topic",
                "must differ from input_topic (dead letters would be read again)".into(),
            );
        }
        if self.input_topic == self.customers_topic {
            return e("customers_topic", "must differ from input_topic".into());
        }
        if self.max_message_bytes < 64 {
            return e(
                "max_message_bytes",
                format!("{} is too small", self.max_message_bytes),
            );
        }
        if self.max_in_flight == 0 {
            return e("max_in_flight", "must be at least 1".into());
        }
        if !(1..=256).contains(&self.workers) {
            return e(
                "workers",
                format!("must be between 1 and 256, got {}", self.workers),
            );
        }
        if !(self.sla_at_risk_fraction > 0.0 && self.sla_at_risk_fraction <= 1.0) {
            return e(
                "sla_at_risk_fraction",
                format!("must be in (0, 1], got {}", self.sla_at_risk_fraction),
            );
        }
        if self.rules_watch_interval_ms < 100 {
            return e("rules_watch_interval_ms", "must be at least 100".into());
        }
        if let Some(u) = &self.schema_registry_url {
            if let Err(err) =
                crate::registry::Registry::new(crate::registry::RegistryConfig::new(u.clone()))
            {
                return e("schema_registry_url", err.to_string());
            }
        }
        if let Some(a) = &self.schema_registry_basic_auth {
            if !a.contains(':') {
                return e(
                    "schema_registry_basic_auth",
                    "must be `user:password`".into(),
                );
            }
        }
        self.common.validate(PINNED, "at-least-once delivery")
    }
}

impl Config {
    /// Output format: `output_format`, else the input's.
    pub fn output_format(&self) -> Format {
        self.output_format.unwrap_or(self.input_format)
    }

    pub fn schema_registry_max_wait(&self) -> Duration {
        Duration::from_secs(self.schema_registry_max_wait_seconds)
    }

    pub fn catch_up_timeout(&self) -> Duration {
        Duration::from_secs(self.customers_catch_up_timeout_seconds)
    }

    /// Room for the `triage` object (reasons, SLA, segment) on top of the
    /// input in the producer's `message.max.bytes`.
    pub fn producer_max_bytes(&self) -> usize {
        self.max_message_bytes + 64 * 1024
    }
}

fn default_http_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 9464))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        crate::edge::config::from_pairs("/etc/triage/service.toml", text, env)
    }

    #[test]
    fn the_shipped_sample_is_valid_and_points_at_the_shipped_rules() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/service.toml"));
        let text = std::fs::read_to_string(path).unwrap();
        let c = Config::from_parts(path, &text, &[]).unwrap();
        assert!(
            c.common.rules_path.exists(),
            "{}",
            c.common.rules_path.display()
        );
        let d = Config::default();
        assert_eq!(c.max_in_flight, d.max_in_flight);
        assert_eq!(
            c.common.drain_timeout_seconds,
            d.common.drain_timeout_seconds
        );
    }

    #[test]
    fn defaults_and_relative_paths() {
        let c = load("rules_path = \"rules.toml\"\n", &[]).unwrap();
        assert_eq!(c.input_topic, "tickets.raw");
        assert_eq!(c.common.rules_path, PathBuf::from("/etc/triage/rules.toml"));
        assert_eq!(c.output_format(), Format::Json);
        assert_eq!(c.common.drain_timeout(), Duration::from_secs(20));
    }

    #[test]
    fn unknown_field_names_file_line_and_field() {
        let e = load("group_id = \"x\"\ngroup_idd = \"y\"\n", &[]).unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("/etc/triage/service.toml:2: "), "{s}");
        assert!(s.contains("group_idd"), "{s}");
        assert!(!s.contains('\n'), "{s}");
    }

    #[test]
    fn wrong_type_is_reported() {
        let e = load("max_message_bytes = \"big\"\n", &[]).unwrap_err();
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn env_overrides_fields_and_librdkafka() {
        let c = load(
            "group_id = \"file\"\n[librdkafka]\n\"linger.ms\" = \"1\"\n",
            &[
                ("TRIAGE_GROUP_ID", "env"),
                ("TRIAGE_MAX_IN_FLIGHT", "7"),
                ("TRIAGE_LIBRDKAFKA_SASL_PASSWORD", "pw"),
                ("TRIAGE_LIBRDKAFKA_LINGER_MS", "20"),
                ("TRIAGE_TEST_BROKERS", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(c.group_id, "env");
        assert_eq!(c.max_in_flight, 7);
        assert_eq!(c.common.librdkafka["sasl.password"], "pw");
        assert_eq!(c.common.librdkafka["linger.ms"], "20");
        let e = load("", &[("TRIAGE_MAX_IN_FLIGHT", "lots")]).unwrap_err();
        assert_eq!(e.origin, "environment");
        assert_eq!(e.field, "TRIAGE_MAX_IN_FLIGHT");
        assert_eq!(c.back_pressure, BackPressure::Hold);
        let c = load("back_pressure = \"pause\"\n", &[]).unwrap();
        assert_eq!(c.back_pressure, BackPressure::Pause);
        let c = load("", &[("TRIAGE_BACK_PRESSURE", "pause")]).unwrap();
        assert_eq!(c.back_pressure, BackPressure::Pause);
        let e = load("", &[("TRIAGE_BACK_PRESSURE", "drop")]).unwrap_err();
        assert_eq!(e.field, "TRIAGE_BACK_PRESSURE");
        let e = load("back_pressure = \"drop\"\n", &[]).unwrap_err();
        assert_eq!(e.field, "back_pressure");
    }

    #[test]
    fn validation_names_the_field() {
        let e = load("sla_at_risk_fraction = 1.5\n", &[]).unwrap_err();
        assert_eq!(e.field, "sla_at_risk_fraction");
        let e = load("[librdkafka]\n\"enable.idempotence\" = \"false\"\n", &[]).unwrap_err();
        assert!(e.field.contains("enable.idempotence"), "{e}");
        let e = load("dead_letter_topic = \"tickets.raw\"\n", &[]).unwrap_err();
        assert_eq!(e.field, "dead_letter_topic");
    }
}
