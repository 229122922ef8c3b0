//! The service's view of wire formats: one [`InputCodec`] that decodes ticket
//! events and customer records and encodes triaged tickets in the configured
//! formats (`json` | `avro`, input and output independently). Decoding and
//! encoding are pure; the only I/O is fetching an unknown Avro writer schema
//! from the schema registry, once per schema id ([`InputCodec::ensure_schema`]).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::avro::{AvroCodec, AvroTicket, BundledIds, TRIAGED_SCHEMA};
use crate::codec::{json, DecodeError, DlqReason};
use crate::model::{Customer, Ticket, Triage};
use crate::registry::{value_subject, Registry, RegistryConfig, RegistryError};

use super::config::{Config, Format};

/// A decoded ticket, in whichever format it came.
pub enum Decoded<'a> {
    /// Borrows from the input bytes.
    Json(json::Decoded<'a>),
    /// Owns its text.
    Avro(AvroTicket),
}

impl Decoded<'_> {
    /// The engine's view of the ticket.
    pub fn ticket(&self) -> Cow<'_, Ticket<'_>> {
        match self {
            Decoded::Json(d) => Cow::Borrowed(&d.ticket),
            Decoded::Avro(a) => Cow::Owned(a.ticket()),
        }
    }
}

/// Decoding and encoding in the configured formats.
#[derive(Debug, Clone)]
pub struct InputCodec {
    input: Format,
    output: Format,
    avro: Option<Arc<AvroCodec>>,
    registry: Option<Arc<Registry>>,
}

impl InputCodec {
    /// JSON in, JSON out (tests).
    pub fn json() -> InputCodec {
        InputCodec {
            input: Format::Json,
            output: Format::Json,
            avro: None,
            registry: None,
        }
    }

    /// The codec for a validated configuration. With a schema registry and
    /// Avro output, registers the triaged schema under each output topic's
    /// value subject (blocking HTTP, at start only).
    pub fn from_config(cfg: &Config, output_topics: &[Arc<str>]) -> Result<InputCodec, String> {
        let (input, output) = (cfg.input_format, cfg.output_format());
        let mut c = InputCodec {
            input,
            output,
            avro: None,
            registry: None,
        };
        if input != Format::Avro && output != Format::Avro {
            return Ok(c);
        }
        match &cfg.schema_registry_url {
            None => c.avro = Some(Arc::new(AvroCodec::bundled())),
            Some(url) => {
                let mut rc = RegistryConfig::new(url.clone());
                rc.basic_auth = cfg.schema_registry_basic_auth.clone();
                let reg = Registry::new(rc).map_err(|e| e.to_string())?;
                let triaged = if output == Format::Avro {
                    register_triaged(&reg, output_topics)?
                } else {
                    0
                };
                // Input schemas are resolved by id through the registry only.
                c.avro = Some(Arc::new(AvroCodec::with_ids(BundledIds {
                    ticket: None,
                    customer: None,
                    triaged,
                })));
                c.registry = Some(Arc::new(reg));
            }
        }
        Ok(c)
    }

    /// New output topics (a rules reload): register the triaged schema under
    /// their subjects; it must keep its id.
    pub fn prepare_topics(&self, topics: &[Arc<str>]) -> Result<(), String> {
        let (Some(reg), Some(avro)) = (&self.registry, &self.avro) else {
            return Ok(());
        };
        if self.output != Format::Avro || topics.is_empty() {
            return Ok(());
        }
        let id = register_triaged(reg, topics)?;
        if id != avro.triaged_schema_id() {
            return Err(format!(
                "the schema registry gave the triaged schema id {id} for the new topics, not {}",
                avro.triaged_schema_id()
            ));
        }
        Ok(())
    }

    /// Makes sure the writer schema of an Avro record is known, fetching it
    /// from the registry if needed. `Err` only when the registry cannot
    /// answer now (retry later, keep the record); an unknown id is `Ok` and
    /// decoding then dead-letters the record as `unknown_schema`.
    pub fn ensure_schema(&self, bytes: &[u8]) -> Result<(), RegistryError> {
        let (Some(reg), Some(avro)) = (&self.registry, &self.avro) else {
            return Ok(());
        };
        match reg.ensure_writer_schema(avro, bytes) {
            Err(e) if e.is_retryable() => Err(e),
            _ => Ok(()),
        }
    }

    /// Whether an Avro record's writer schema would have to be fetched.
    pub fn needs_schema(&self, bytes: &[u8]) -> bool {
        match (&self.registry, &self.avro) {
            (Some(_), Some(avro)) => avro.needs_schema(bytes).is_some(),
            _ => false,
        }
    }

    /// Back-off between registry attempts: 200 ms doubling to at most 30 s.
    pub fn registry_backoff(attempt: u32) -> Duration {
        Duration::from_millis((200 * 2u64.pow(attempt.min(8))).min(30_000))
    }

    /// Decodes and validates one ticket event.
    pub fn decode_ticket<'a>(&self, bytes: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
        match (self.input, &self.avro) {
            (Format::Avro, Some(a)) => a.decode_ticket(bytes).map(Decoded::Avro),
            _ => json::decode_ticket(bytes).map(Decoded::Json),
        }
    }

    /// Writes the triaged ticket for `input` (the bytes `decoded` came from)
    /// into `out` (cleared first). `Err` when the ticket cannot be written in
    /// the output format (dead-lettered as `schema_error`).
    pub fn encode_triaged(
        &self,
        input: &[u8],
        decoded: &Decoded<'_>,
        t: &Triage,
        out: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        out.clear();
        let r = match (decoded, self.output, &self.avro) {
            (Decoded::Json(d), Format::Json, _) => {
                return json::encode_triaged(input, d.had_triage, t, out)
            }
            (Decoded::Json(_), Format::Avro, Some(a)) => a.encode_triaged_from_json(input, t, out),
            (Decoded::Avro(x), Format::Avro, Some(a)) => a.encode_triaged(x, t, out),
            (Decoded::Avro(x), Format::Json, Some(a)) => {
                a.encode_triaged_json(x, t, out);
                Ok(())
            }
            _ => Err("no Avro codec".to_string()),
        };
        r.map_err(|e| {
            DecodeError::new(
                DlqReason::SchemaError,
                format!(
                    "cannot be written as a triaged ticket in {}: {e}",
                    self.output.as_str()
                ),
            )
        })
    }

    /// Decodes a customer record; the error is a sentence without the
    /// record's content.
    pub fn decode_customer(&self, bytes: &[u8]) -> Result<Customer, String> {
        match (self.input, &self.avro) {
            (Format::Avro, Some(a)) => a.decode_customer(bytes).map_err(|e| e.to_string()),
            // An object only: serde's derive also reads an array in field
            // order, which is not the contract's customer record.
            _ if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') => {
                Err("not a customer record (a JSON object)".to_string())
            }
            _ => serde_json::from_slice::<Customer>(bytes).map_err(|e| {
                format!(
                    "not a customer record (line {} column {}: {})",
                    e.line(),
                    e.column(),
                    match e.classify() {
                        serde_json::error::Category::Data => "wrong shape",
                        serde_json::error::Category::Eof => "truncated",
                        _ => "not JSON",
                    }
                )
            }),
        }
    }

    /// `content-type` of triaged records.
    pub fn content_type(&self) -> &'static str {
        self.output.content_type()
    }

    /// The Avro codec, when a format is Avro (tests, the demo).
    pub fn avro(&self) -> Option<&Arc<AvroCodec>> {
        self.avro.as_ref()
    }
}

fn register_triaged(reg: &Registry, topics: &[Arc<str>]) -> Result<u32, String> {
    let mut id = None;
    for t in topics {
        let got = reg
            .register(&value_subject(t), TRIAGED_SCHEMA)
            .map_err(|e| format!("registering the triaged schema for {t}: {e}"))?;
        match id {
            Some(prev) if prev != got => {
                return Err(format!(
                    "the triaged schema got id {prev} and id {got} under different subjects"
                ))
            }
            _ => id = Some(got),
        }
    }
    id.ok_or_else(|| "no output topics".to_string())
}
