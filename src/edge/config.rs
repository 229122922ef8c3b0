//! What the configuration files of `triage run` and `triage watch` share: the
//! one-line [`ConfigError`] that names the file, line and field; reading a
//! file with its `TRIAGE_…` environment overrides; TOML parsing with field
//! paths; and the defaults of the fields both have.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

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
    let error = |e: toml::de::Error, field: String| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        ConfigError {
            origin: file.to_string(),
            line,
            field,
            message: e.message().trim().to_string(),
        }
    };
    let de = toml::Deserializer::parse(text).map_err(|e| error(e, String::new()))?;
    // The path names the field of a value of the wrong type ("." for the
    // document itself, which is no field).
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        error(e.into_inner(), field)
    })
}

pub fn default_bootstrap_servers() -> String {
    "localhost:9092".into()
}

pub fn default_drain_timeout_seconds() -> u64 {
    20
}

pub fn default_log_level() -> String {
    "info".into()
}

/// Checks what every Kafka client's config shares, as `(field, message)`: `log_level` is a level
/// or `tracing` filter; the `pinned` librdkafka properties keep their values (`why`: what depends
/// on them); `bootstrap.servers` and `group.id` are set with their typed fields, not the table.
pub fn check_client_settings(
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
