//! The schema-registry client: the edge of the Avro format. Fetches writer
//! schemas by id over HTTP (the Confluent Schema Registry API, which Karapace,
//! Redpanda and Apicurio's compatibility API also serve), caches them by id,
//! and hands them to the pure [`AvroCodec`].
//!
//! Blocking (ureq): call it from a blocking thread
//! (`tokio::task::spawn_blocking`), never on an async worker. It is called
//! once per new schema id, not per message: the codec keeps every schema it
//! was given, and this client remembers ids the registry does not know for
//! [`RegistryConfig::not_found_ttl`] so a stream of bad frames does not become
//! a stream of HTTP requests.
//!
//! Only `http://` URLs: the crate is built without a TLS stack (ureq with
//! default features off). A registry behind TLS needs ureq's `rustls` feature.
//!
//! What the caller does with an error (see [`RegistryError::is_retryable`]):
//! the registry being unreachable or failing (5xx, 429, timeouts) is
//! retryable — back off and keep the record, it is not the record's fault; an
//! id the registry does not have, or a schema that is not Avro, means the
//! record cannot be decoded — let [`AvroCodec::decode_ticket`] dead-letter it
//! as `unknown_schema`.
//!
//! Subjects follow the topic name strategy: `<topic>-value`
//! ([`value_subject`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::codec::avro::{AvroCodec, BundledIds, CUSTOMER_SCHEMA, TICKET_SCHEMA, TRIAGED_SCHEMA};

/// The content type of requests and responses of the registry API.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// How to reach the registry.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Base URL, e.g. `http://schema-registry:8081` (a path prefix is kept).
    pub url: String,
    /// `user:password` for HTTP basic auth (Confluent Cloud: API key and
    /// secret), or `None`.
    pub basic_auth: Option<String>,
    /// Per request: connect, send and receive, in total.
    pub timeout: Duration,
    /// How long an id the registry answered "not found" for is remembered
    /// before it is asked again.
    pub not_found_ttl: Duration,
}

impl RegistryConfig {
    /// `url` with the defaults: no auth, 5 s timeout, 30 s not-found memory.
    pub fn new(url: impl Into<String>) -> RegistryConfig {
        RegistryConfig {
            url: url.into(),
            basic_auth: None,
            timeout: Duration::from_secs(5),
            not_found_ttl: Duration::from_secs(30),
        }
    }
}

/// Why a registry call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The registry has no schema with this id (error code 40403).
    #[error("schema id {id} is not in the schema registry")]
    NotFound { id: u32 },
    /// The schema exists but is not Avro (PROTOBUF, JSON).
    #[error("schema id {id} is a {schema_type} schema, not AVRO")]
    NotAvro { id: u32, schema_type: String },
    /// The schema refers to schemas under other subjects (schema
    /// references); not supported.
    #[error("schema id {id} uses schema references, which this service does not resolve")]
    References { id: u32 },
    /// The registry answered with an error.
    #[error("schema registry answered HTTP {status} (error code {error_code}): {message}")]
    Api {
        status: u16,
        error_code: i64,
        message: String,
    },
    /// No answer: connection refused, DNS, timeout.
    #[error("schema registry unreachable: {0}")]
    Transport(String),
    /// An answer that is not the API's shape.
    #[error("unexpected schema registry response: {0}")]
    BadResponse(String),
    /// The configuration cannot work (bad URL, https without TLS …).
    #[error("schema registry config: {0}")]
    Config(String),
}

impl RegistryError {
    /// A short fixed code, for logs and metric labels.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::NotAvro { .. } => "not_avro",
            Self::References { .. } => "references",
            Self::Api { .. } => "api_error",
            Self::Transport(_) => "unreachable",
            Self::BadResponse(_) => "bad_response",
            Self::Config(_) => "config",
        }
    }

    /// Worth trying again later (back off; keep the record): the registry is
    /// down, slow, overloaded or failing, not the record.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) | Self::BadResponse(_) => true,
            Self::Api { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }

    /// The record's schema id cannot be used: dead-letter the record
    /// (`unknown_schema`).
    pub fn is_unknown_schema(&self) -> bool {
        matches!(
            self,
            Self::NotFound { .. } | Self::NotAvro { .. } | Self::References { .. }
        )
    }
}

/// `<topic>-value`: the subject of a topic's record values under the topic
/// name strategy (the Confluent serializers' default).
pub fn value_subject(topic: &str) -> String {
    format!("{topic}-value")
}

/// A schema-registry client with a cache by id. Share it (`Arc<Registry>`).
pub struct Registry {
    agent: ureq::Agent,
    base: String,
    auth: Option<String>,
    not_found_ttl: Duration,
    cache: Mutex<HashMap<u32, Arc<str>>>,
    misses: Mutex<HashMap<u32, Instant>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.base)
            .field("auth", &self.auth.as_ref().map(|_| "<basic>"))
            .finish()
    }
}

#[derive(Deserialize)]
struct SchemaResponse {
    schema: String,
    #[serde(default, rename = "schemaType")]
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct IdResponse {
    id: u32,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error_code: i64,
    #[serde(default)]
    message: String,
}

impl Registry {
    /// Checks the config; makes no request.
    pub fn new(cfg: RegistryConfig) -> Result<Registry, RegistryError> {
        let url = cfg.url.trim().trim_end_matches('/').to_string();
        if url.starts_with("https://") {
            return Err(RegistryError::Config(format!(
                "{url}: https is not supported by this build (no TLS stack); use http:// or \
                 build ureq with its `rustls` feature"
            )));
        }
        if !url.starts_with("http://") || url.len() <= "http://".len() {
            return Err(RegistryError::Config(format!(
                "{url:?} is not an http:// URL"
            )));
        }
        let auth = match cfg.basic_auth.as_deref() {
            None | Some("") => None,
            Some(up) if !up.contains(':') => {
                return Err(RegistryError::Config(
                    "basic_auth must be `user:password`".into(),
                ))
            }
            Some(up) => Some(format!("Basic {}", base64(up.as_bytes()))),
        };
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(cfg.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("triage/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Registry {
            agent: ureq::Agent::new_with_config(config),
            base: url,
            auth,
            not_found_ttl: cfg.not_found_ttl,
            cache: Mutex::new(HashMap::new()),
            misses: Mutex::new(HashMap::new()),
        })
    }

    /// The base URL requests go to.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn get(&self, path: &str) -> Result<(u16, String), RegistryError> {
        let mut req = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Accept", CONTENT_TYPE);
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let mut resp = req.call().map_err(transport)?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().map_err(transport)?;
        Ok((status, body))
    }

    fn post(&self, path: &str, body: String) -> Result<(u16, String), RegistryError> {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Accept", CONTENT_TYPE)
            .header("Content-Type", CONTENT_TYPE);
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let mut resp = req.send(body).map_err(transport)?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().map_err(transport)?;
        Ok((status, body))
    }

    /// The schema registered under `id` (`GET /schemas/ids/{id}`), from the
    /// cache after the first success.
    pub fn schema_by_id(&self, id: u32) -> Result<Arc<str>, RegistryError> {
        if let Some(s) = lock(&self.cache).get(&id) {
            return Ok(s.clone());
        }
        if let Some(at) = lock(&self.misses).get(&id) {
            if at.elapsed() < self.not_found_ttl {
                return Err(RegistryError::NotFound { id });
            }
        }
        let (status, body) = self.get(&format!("/schemas/ids/{id}"))?;
        if status != 200 {
            let err = api_error(status, &body);
            if matches!(
                &err,
                RegistryError::Api {
                    status: 404,
                    error_code: 40403,
                    ..
                }
            ) {
                lock(&self.misses).insert(id, Instant::now());
                return Err(RegistryError::NotFound { id });
            }
            return Err(err);
        }
        let r: SchemaResponse = serde_json::from_str(&body)
            .map_err(|e| RegistryError::BadResponse(format!("GET /schemas/ids/{id}: {e}")))?;
        match r.schema_type.as_deref() {
            None | Some("AVRO") => {}
            Some(other) => {
                return Err(RegistryError::NotAvro {
                    id,
                    schema_type: other.to_string(),
                })
            }
        }
        if !r.references.is_empty() {
            return Err(RegistryError::References { id });
        }
        let schema: Arc<str> = Arc::from(r.schema);
        lock(&self.cache).insert(id, schema.clone());
        Ok(schema)
    }

    /// Registers `schema` (Avro, JSON text) under `subject`
    /// (`POST /subjects/{subject}/versions`) and returns its id. Registering
    /// a schema the subject already has returns the existing id.
    pub fn register(&self, subject: &str, schema: &str) -> Result<u32, RegistryError> {
        let body = serde_json::json!({ "schema": schema }).to_string();
        let path = format!("/subjects/{}/versions", percent_encode(subject));
        let (status, body) = self.post(&path, body)?;
        if !(200..300).contains(&status) {
            return Err(api_error(status, &body));
        }
        let r: IdResponse = serde_json::from_str(&body)
            .map_err(|e| RegistryError::BadResponse(format!("POST {path}: {e}")))?;
        lock(&self.cache).insert(r.id, Arc::from(schema));
        Ok(r.id)
    }

    /// Registers the bundled schemas under the topics' value subjects and
    /// returns the ids to build the codec with
    /// ([`AvroCodec::with_ids`]). The triaged schema is registered under
    /// every output topic; a registry gives one schema one id, and this
    /// checks that it did.
    pub fn register_bundled(
        &self,
        input_topic: &str,
        customers_topic: &str,
        output_topics: &[&str],
    ) -> Result<BundledIds, RegistryError> {
        let ticket = self.register(&value_subject(input_topic), TICKET_SCHEMA)?;
        let customer = self.register(&value_subject(customers_topic), CUSTOMER_SCHEMA)?;
        let mut triaged = None;
        for t in output_topics {
            let id = self.register(&value_subject(t), TRIAGED_SCHEMA)?;
            match triaged {
                None => triaged = Some(id),
                Some(prev) if prev != id => {
                    return Err(RegistryError::BadResponse(format!(
                        "the triaged schema got id {prev} and id {id} under different subjects"
                    )))
                }
                Some(_) => {}
            }
        }
        let triaged = triaged.ok_or_else(|| RegistryError::Config("no output topics".into()))?;
        Ok(BundledIds {
            ticket: Some(ticket),
            customer: Some(customer),
            triaged,
        })
    }

    /// Makes sure `codec` knows the writer schema of `bytes`: when the frame's
    /// id is new, fetches the schema and adds it. `Ok` also for bytes that are
    /// not a frame (decoding dead-letters them). On `Err`, see
    /// [`RegistryError::is_retryable`] / [`RegistryError::is_unknown_schema`].
    pub fn ensure_writer_schema(
        &self,
        codec: &AvroCodec,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        match codec.needs_schema(bytes) {
            None => Ok(()),
            Some(id) => self.ensure_id(codec, id),
        }
    }

    /// As [`ensure_writer_schema`](Self::ensure_writer_schema), by id.
    pub fn ensure_id(&self, codec: &AvroCodec, id: u32) -> Result<(), RegistryError> {
        if codec.knows(id) {
            return Ok(());
        }
        let schema = self.schema_by_id(id)?;
        // A schema that does not parse is cached by the codec as unusable:
        // its records are dead-lettered, not retried.
        let _ = codec.add_writer_schema(id, &schema);
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn transport(e: ureq::Error) -> RegistryError {
    RegistryError::Transport(e.to_string())
}

fn api_error(status: u16, body: &str) -> RegistryError {
    match serde_json::from_str::<ErrorResponse>(body) {
        Ok(e) => RegistryError::Api {
            status,
            error_code: e.error_code,
            message: e.message,
        },
        Err(_) => RegistryError::Api {
            status,
            error_code: i64::from(status),
            message: body.chars().take(200).collect(),
        },
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Standard base64 with padding (for the basic-auth header).
fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn subjects_are_encoded() {
        assert_eq!(percent_encode("tickets.raw-value"), "tickets.raw-value");
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(value_subject("tickets.raw"), "tickets.raw-value");
    }

    #[test]
    fn config_is_checked() {
        assert!(matches!(
            Registry::new(RegistryConfig::new("https://sr.example")),
            Err(RegistryError::Config(_))
        ));
        assert!(matches!(
            Registry::new(RegistryConfig::new("sr.example:8081")),
            Err(RegistryError::Config(_))
        ));
        let mut c = RegistryConfig::new("http://127.0.0.1:8081/");
        c.basic_auth = Some("nocolon".into());
        assert!(matches!(Registry::new(c), Err(RegistryError::Config(_))));
        let r = Registry::new(RegistryConfig::new("http://127.0.0.1:8081/")).unwrap();
        assert_eq!(r.url(), "http://127.0.0.1:8081");
    }
}
