//! What the configuration files of `triage run` and `triage watch` share: the
//! fields both have ([`CommonConfig`], documented once), loading a file with
//! its `TRIAGE_…` environment overrides for either binary ([`FileConfig`],
//! [`load`]), TOML parsing with field paths, and the one-line
//! [`ConfigError`] that names the file, line and field.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration problem: which file (or environment variable), which
/// field, what is wrong. Displays as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file, or `environment` for an override.
    pub origin: String,
    /// Line in the file, when known.
    pub line: Option<usize>,
    /// The field (or environment variable).
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The file's text and the process environment's variables starting with
/// `prefix` (shared by `triage run` and `triage watch`).
pub fn read_with_env(
    path: &Path,
    prefix: &str,
) -> Result<(String, Vec<(String, String)>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        origin: path.display().to_string(),
        line: None,
        field: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    let vars = std::env::vars()
        .filter(|(k, _)| k.starts_with(prefix))
        .collect();
    Ok((text, vars))
}

/// One `PREFIX<FIELD>` environment variable, for a config's `apply_env`.
pub struct EnvVar<'e> {
    /// The field it names, lower case.
    pub field: String,
    /// Its value.
    pub value: &'e str,
    key: &'e str,
}

impl EnvVar<'_> {
    /// An error naming the variable.
    pub fn error(&self, message: String) -> ConfigError {
        ConfigError {
            origin: "environment".into(),
            line: None,
            field: self.key.to_string(),
            message,
        }
    }

    /// The value as a number.
    pub fn num<T: std::str::FromStr>(&self) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        let v = self.value;
        v.trim()
            .parse()
            .map_err(|e| self.error(format!("not a number ({e}): {v:?}")))
    }

    /// The value as a listen address.
    pub fn addr(&self) -> Result<SocketAddr, ConfigError> {
        let v = self.value;
        v.parse()
            .map_err(|e| self.error(format!("not an address host:port ({e}): {v:?}")))
    }
}

/// The variables of `env` that start with `prefix`. `<prefix>LIBRDKAFKA_<PROPERTY>`
/// sets a librdkafka property (lower case, `_` → `.`) in `librdkafka`; the
/// others are returned for the caller's fields (which ignores names that are
/// not fields: other tools share the prefix).
pub fn env_vars<'e>(
    env: &'e [(String, String)],
    prefix: &str,
    librdkafka: &mut BTreeMap<String, String>,
) -> Vec<EnvVar<'e>> {
    let mut out = Vec::new();
    for (key, value) in env {
        let Some(name) = key.strip_prefix(prefix) else {
            continue;
        };
        if let Some(prop) = name.strip_prefix("LIBRDKAFKA_") {
            let prop = prop.to_ascii_lowercase().replace('_', ".");
            librdkafka.insert(prop, value.clone());
            continue;
        }
        out.push(EnvVar {
            field: name.to_ascii_lowercase(),
            value,
            key,
        });
    }
    out
}

/// Deserialises a config file's text; an error names the file and line.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<T, ConfigError> {
    let de =
        toml::Deserializer::parse(text).map_err(|e| toml_error(file, text, e, String::new()))?;
    deserialize(file, text, de)
}

/// A `toml` error as a [`ConfigError`] with the line its span starts on.
fn toml_error(file: &str, text: &str, e: toml::de::Error, field: String) -> ConfigError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    ConfigError {
        origin: file.to_string(),
        line,
        field,
        message: e.message().trim().to_string(),
    }
}

/// `T` from a deserializer over `text`; the path names the field of a value
/// of the wrong type ("." for the document itself, which is no field).
fn deserialize<'i, T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
    de: toml::Deserializer<'i>,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        toml_error(file, text, e.into_inner(), field)
    })
}

/// The fields `service.toml` (`triage run`) and `watch.toml` (`triage watch`)
/// both have, documented once. They are top-level keys of either file, beside
/// the file's own fields: the document is split by key, each part keeps its
/// source positions, and both parts reject unknown keys — a typo is still an
/// error naming its line.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonConfig {
    /// Kafka brokers, `host:port`, comma separated (librdkafka
    /// `bootstrap.servers`).
    #[serde(default = "default_bootstrap_servers")]
    pub bootstrap_servers: String,

    /// The rules file; a relative path is read from the config file's
    /// directory. `triage run` reads it at start and again when it changes
    /// (`rules_watch_interval_ms`, SIGHUP; an invalid file is refused and the
    /// rules in use stay). `triage watch` reads it at start: its levels name
    /// the triaged topics to watch (`[[levels]] topic`), its policies and
    /// calendars give the clocks' targets and open hours, its
    /// `[acknowledgment]` the acknowledgment template.
    #[serde(default = "default_rules_path")]
    pub rules_path: PathBuf,

    /// On SIGTERM/SIGINT: stop consuming, wait for every in-flight record (the
    /// watcher: every output and changelog write) to be acknowledged, commit,
    /// exit 0 — within this many seconds. Also the bound for finishing
    /// revoked partitions on a rebalance. Keep the orchestrator's grace period
    /// longer.
    #[serde(default = "default_drain_timeout_seconds")]
    pub drain_timeout_seconds: u64,

    /// `error`, `warn`, `info`, `debug`, `trace`, or a `tracing` filter such
    /// as `info,rdkafka=warn`. `RUST_LOG`, when set, takes precedence.
    #[serde(default = "default_log_level")]
    pub log_level: String,

    /// librdkafka properties passed through as they are, to every client,
    /// after the binary's defaults — so they win. Values are strings.
    /// Environment: `TRIAGE_LIBRDKAFKA_SASL_PASSWORD=…` (the watcher:
    /// `TRIAGE_WATCH_LIBRDKAFKA_…`) sets `sasl.password` (lower case,
    /// `_` → `.`). `bootstrap.servers` and `group.id` are set with the typed
    /// fields, not here.
    ///
    /// `triage run`'s defaults, and why:
    /// - producer `enable.idempotence=true` (pinned: no duplicates or
    ///   reordering from retries), `acks=all` (implied), `linger.ms=5` and
    ///   `batch.num.messages=10000` (batches fill under load, 5 ms latency
    ///   when idle), `compression.type=none` (lz4 measured within the
    ///   run-to-run spread against a local broker, BENCHMARKS.md; set `lz4`
    ///   when the network or the broker's disk is the limit);
    ///   `message.max.bytes` follows `max_message_bytes`.
    /// - consumer `enable.auto.offset.store=false` (pinned: the service
    ///   stores an offset only when its output is acknowledged),
    ///   `enable.auto.commit=true` with `auto.commit.interval.ms=1000`
    ///   (stored offsets are committed every second, and synchronously on
    ///   rebalance and shutdown), `auto.offset.reset=earliest` (a new group
    ///   triages what is already there), `queued.max.messages.kbytes=65536`
    ///   (prefetch bound per instance), `fetch.wait.max.ms` librdkafka's 500
    ///   (set `10` against brokers that hold every fetch for the full wait,
    ///   or latency suffers).
    /// - all clients `statistics.interval.ms=5000` (consumer lag, producer
    ///   queue depth and broker state for the metrics).
    ///
    /// `triage watch` pins `enable.idempotence=true` (the changelog's
    /// watermark relies on per-partition order), `enable.auto.offset.store=false`
    /// (offsets are stored only after the changelog write) and
    /// `partition.assignment.strategy=range` (partition *n* of every
    /// co-partitioned input topic goes to the same instance).
    #[serde(default)]
    pub librdkafka: BTreeMap<String, String>,
}

/// The keys of [`CommonConfig`] (a test checks them against the struct).
const COMMON_KEYS: &[&str] = &[
    "bootstrap_servers",
    "rules_path",
    "drain_timeout_seconds",
    "log_level",
    "librdkafka",
];

impl Default for CommonConfig {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

impl CommonConfig {
    /// One `PREFIX<FIELD>` override of a common field; `Ok(false)`: not one
    /// of them.
    fn apply_env(&mut self, var: &EnvVar) -> Result<bool, ConfigError> {
        match var.field.as_str() {
            "bootstrap_servers" => self.bootstrap_servers = var.value.to_string(),
            "rules_path" => self.rules_path = PathBuf::from(var.value),
            "drain_timeout_seconds" => self.drain_timeout_seconds = var.num()?,
            "log_level" => self.log_level = var.value.to_string(),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Checks what every Kafka client's config shares, as `(field, message)`:
    /// see [`check_client_settings`].
    pub fn validate(&self, pinned: &[(&str, &str)], why: &str) -> Result<(), (String, String)> {
        if self.bootstrap_servers.trim().is_empty() {
            return Err(("bootstrap_servers".into(), "must not be empty".into()));
        }
        if self.drain_timeout_seconds == 0 {
            return Err(("drain_timeout_seconds".into(), "must be at least 1".into()));
        }
        check_client_settings(&self.log_level, &self.librdkafka, pinned, why)
    }

    pub fn drain_timeout(&self) -> Duration {
        Duration::from_secs(self.drain_timeout_seconds)
    }
}

/// A configuration file of one binary: its own fields (with
/// `deny_unknown_fields`) and the [`CommonConfig`] beside them.
pub trait FileConfig: serde::de::DeserializeOwned {
    /// The environment variables that override fields: `TRIAGE_`, `TRIAGE_WATCH_`.
    const ENV_PREFIX: &'static str;
    /// The common fields (filled by [`from_parts`] after deserialising).
    fn common_mut(&mut self) -> &mut CommonConfig;
    /// Makes its own relative paths relative to `base` (the file's directory).
    fn resolve_paths(&mut self, _base: &Path) {}
    /// One `ENV_PREFIX<FIELD>` override of its own fields; names that are no
    /// field of it are ignored (other tools share the prefix).
    fn apply_env(&mut self, var: &EnvVar) -> Result<(), ConfigError>;
    /// Checks that need more than a type, as `(field, problem)`.
    fn validate(&self) -> Result<(), (String, String)>;

    /// Reads `path`, applies the `ENV_PREFIX` overrides from the process
    /// environment, resolves relative paths and validates ([`load`]).
    fn load(path: &Path) -> Result<Self, ConfigError> {
        load(path)
    }

    /// [`FileConfig::load`] without the file system or the process
    /// environment ([`from_parts`]).
    fn from_parts(path: &Path, text: &str, env: &[(String, String)]) -> Result<Self, ConfigError> {
        from_parts(path, text, env)
    }
}

/// Reads `path`, applies the `C::ENV_PREFIX` overrides from the process
/// environment, resolves relative paths and validates.
pub fn load<C: FileConfig>(path: &Path) -> Result<C, ConfigError> {
    let (text, vars) = read_with_env(path, C::ENV_PREFIX)?;
    from_parts(path, &text, &vars)
}

/// [`load`] without touching the file system or the process environment.
pub fn from_parts<C: FileConfig>(
    path: &Path,
    text: &str,
    env: &[(String, String)],
) -> Result<C, ConfigError> {
    let file = path.display().to_string();
    let doc =
        toml::de::DeTable::parse(text).map_err(|e| toml_error(&file, text, e, String::new()))?;
    let span = doc.span();
    let (common, own): (toml::de::DeTable, toml::de::DeTable) = doc
        .into_inner()
        .into_iter()
        .partition(|(k, _)| COMMON_KEYS.contains(&k.get_ref().as_ref()));
    let part = |t| toml::Deserializer::from(toml::Spanned::new(span.clone(), t));
    let mut cfg: C = deserialize(&file, text, part(own))?;
    let mut common: CommonConfig = deserialize(&file, text, part(common))?;
    let base = path.parent().unwrap_or(Path::new(""));
    common.rules_path = base.join(&common.rules_path);
    cfg.resolve_paths(base);
    for var in env_vars(env, C::ENV_PREFIX, &mut common.librdkafka) {
        if !common.apply_env(&var)? {
            cfg.apply_env(&var)?;
        }
    }
    *cfg.common_mut() = common;
    cfg.validate().map_err(|(field, message)| ConfigError {
        origin: file,
        line: None,
        field,
        message,
    })?;
    Ok(cfg)
}

/// [`from_parts`] with the environment as `(name, value)` pairs (tests).
#[cfg(test)]
pub fn from_pairs<C: FileConfig>(
    path: &str,
    text: &str,
    env: &[(&str, &str)],
) -> Result<C, ConfigError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    from_parts(Path::new(path), text, &env)
}

fn default_bootstrap_servers() -> String {
    "localhost:9092".into()
}

fn default_rules_path() -> PathBuf {
    PathBuf::from("rules.toml")
}

fn default_drain_timeout_seconds() -> u64 {
    20
}

fn default_log_level() -> String {
    "info".into()
}

/// Checks what every Kafka client's config shares, as `(field, message)`: `log_level` is a level
/// or `tracing` filter; the `pinned` librdkafka properties keep their values (`why`: what depends
/// on them); `bootstrap.servers` and `group.id` are set with their typed fields, not the table.
fn check_client_settings(
    log_level: &str,
    librdkafka: &BTreeMap<String, String>,
    pinned: &[(&str, &str)],
    why: &str,
) -> Result<(), (String, String)> {
    if tracing_subscriber::EnvFilter::try_new(log_level).is_err() {
        return Err((
            "log_level".into(),
            format!("{log_level:?} is not a level or tracing filter"),
        ));
    }
    for (k, want) in pinned {
        if librdkafka.get(*k).is_some_and(|v| v != want) {
            return Err((
                format!("librdkafka.\"{k}\""),
                format!("must stay {want} ({why} depends on it)"),
            ));
        }
    }
    for k in ["bootstrap.servers", "group.id"] {
        if librdkafka.contains_key(k) {
            return Err((
                format!("librdkafka.\"{k}\""),
                "set it with the typed field (bootstrap_servers / group_id)".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Own {
        #[serde(default)]
        name: String,
        #[serde(skip)]
        common: CommonConfig,
    }

    impl FileConfig for Own {
        const ENV_PREFIX: &'static str = "T_";
        fn common_mut(&mut self) -> &mut CommonConfig {
            &mut self.common
        }
        fn apply_env(&mut self, var: &EnvVar) -> Result<(), ConfigError> {
            if var.field == "name" {
                self.name = var.value.to_string();
            }
            Ok(())
        }
        fn validate(&self) -> Result<(), (String, String)> {
            self.common.validate(&[], "nothing")
        }
    }

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Own, ConfigError> {
        from_pairs("/etc/x/own.toml", text, env)
    }

    #[test]
    fn the_common_keys_are_the_structs_fields() {
        // Every listed key is a field of CommonConfig (it denies unknown
        // ones), and every field is listed (else it would reach `Own`, which
        // denies it).
        let text = "bootstrap_servers = \"b:1\"\nrules_path = \"r.toml\"\n\
                    drain_timeout_seconds = 3\nlog_level = \"warn\"\n\
                    [librdkafka]\n\"linger.ms\" = \"1\"\n";
        let c: CommonConfig = toml::from_str(text).unwrap();
        assert_eq!(c.drain_timeout_seconds, 3);
        let o = load(&format!("name = \"n\"\n{text}"), &[]).unwrap();
        assert_eq!(o.name, "n");
        assert_eq!(o.common.bootstrap_servers, "b:1");
        assert_eq!(o.common.rules_path, PathBuf::from("/etc/x/r.toml"));
        assert_eq!(o.common.librdkafka["linger.ms"], "1");
        assert_eq!(COMMON_KEYS.len(), 5);
        for k in COMMON_KEYS {
            assert!(text.contains(k), "{k}");
        }
    }

    #[test]
    fn errors_in_either_part_name_their_line_and_field() {
        let e = load("name = \"n\"\nlog_level = \"info\"\nnmae = 1\n", &[]).unwrap_err();
        assert_eq!(
            (e.line, e.to_string().contains("nmae")),
            (Some(3), true),
            "{e}"
        );
        let e = load("name = \"n\"\n\ndrain_timeout_seconds = \"soon\"\n", &[]).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert_eq!(e.field, "drain_timeout_seconds");
        let e = load("name = 5\nlog_level = \"info\"\n", &[]).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(1), "name"), "{e}");
        let e = load("[librdkafka]\n\"a\" = 1\n", &[]).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let e = load("name = [\n", &[]).unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
        let e = load("drain_timeout_seconds = 0\n", &[]).unwrap_err();
        assert_eq!(e.field, "drain_timeout_seconds");
    }

    #[test]
    fn environment_overrides_reach_both_parts() {
        let o = load(
            "name = \"file\"\n",
            &[
                ("T_NAME", "env"),
                ("T_LOG_LEVEL", "debug"),
                ("T_DRAIN_TIMEOUT_SECONDS", "7"),
                ("T_LIBRDKAFKA_SASL_PASSWORD", "pw"),
                ("T_OTHER", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(o.name, "env");
        assert_eq!(o.common.log_level, "debug");
        assert_eq!(o.common.drain_timeout_seconds, 7);
        assert_eq!(o.common.librdkafka["sasl.password"], "pw");
        let e = load("", &[("T_DRAIN_TIMEOUT_SECONDS", "soon")]).unwrap_err();
        assert_eq!(e.origin, "environment");
    }
}
