//! The service's codec with its schema registry: [`RegistryCodec`] is the
//! core's [`Codec`] (pure decoding and encoding in the configured formats)
//! plus the only I/O wire formats need — fetching an unknown Avro writer
//! schema from the schema registry, once per schema id
//! ([`RegistryCodec::ensure_schema`]), and registering the triaged schema at
//! start.

use std::sync::Arc;
use std::time::Duration;

use crate::codec::avro::{AvroCodec, BundledIds, TRIAGED_SCHEMA};
use crate::registry::{value_subject, Registry, RegistryConfig, RegistryError};

pub use crate::codec::formats::{Codec, Decoded};

use super::config::{Config, Format};

/// The configured codec and the registry that feeds its Avro writer schemas.
#[derive(Debug, Clone)]
pub struct RegistryCodec {
    codec: Codec,
    registry: Option<Arc<Registry>>,
}

impl RegistryCodec {
    /// JSON in, JSON out (tests).
    pub fn json() -> RegistryCodec {
        RegistryCodec {
            codec: Codec::json(),
            registry: None,
        }
    }

    /// The pure codec (what the per-ticket function takes).
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The codec for a validated configuration. With a schema registry and
    /// Avro output, registers the triaged schema under each output topic's
    /// value subject (blocking HTTP, at start only).
    pub fn from_config(cfg: &Config, output_topics: &[Arc<str>]) -> Result<RegistryCodec, String> {
        let (input, output) = (cfg.input_format, cfg.output_format());
        if input != Format::Avro && output != Format::Avro {
            return Ok(RegistryCodec {
                codec: Codec::new(input, output, None),
                registry: None,
            });
        }
        Ok(match &cfg.schema_registry_url {
            None => RegistryCodec {
                codec: Codec::new(input, output, Some(Arc::new(AvroCodec::bundled()))),
                registry: None,
            },
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
                let avro = AvroCodec::with_ids(BundledIds {
                    ticket: None,
                    customer: None,
                    triaged,
                });
                RegistryCodec {
                    codec: Codec::new(input, output, Some(Arc::new(avro))),
                    registry: Some(Arc::new(reg)),
                }
            }
        })
    }
    /// New output topics (a rules reload): register the triaged schema under
    /// their subjects; it must keep its id.
    pub fn prepare_topics(&self, topics: &[Arc<str>]) -> Result<(), String> {
        let (Some(reg), Some(avro)) = (&self.registry, self.codec.avro()) else {
            return Ok(());
        };
        if self.codec.output() != Format::Avro || topics.is_empty() {
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
        let (Some(reg), Some(avro)) = (&self.registry, self.codec.avro()) else {
            return Ok(());
        };
        match reg.ensure_writer_schema(avro, bytes) {
            Err(e) if e.is_retryable() => Err(e),
            _ => Ok(()),
        }
    }

    /// Whether an Avro record's writer schema would have to be fetched.
    pub fn needs_schema(&self, bytes: &[u8]) -> bool {
        match (&self.registry, self.codec.avro()) {
            (Some(_), Some(avro)) => avro.needs_schema(bytes).is_some(),
            _ => false,
        }
    }

    /// Back-off between registry attempts: 200 ms doubling to at most 30 s.
    pub fn registry_backoff(attempt: u32) -> Duration {
        Duration::from_millis((200 * 2u64.pow(attempt.min(8))).min(30_000))
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
