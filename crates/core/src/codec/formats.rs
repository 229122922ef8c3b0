//! The configured wire formats as one value: [`Codec`] decodes ticket events
//! and customer records in the input format and encodes triaged tickets in
//! the output format (`json` | `avro`, independently). Pure: an Avro writer
//! schema that is not known yet is fetched by the edge (the schema registry)
//! and added to the [`AvroCodec`] before the record is decoded.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;

use super::avro::{AvroCodec, AvroTicket};
use super::{json, DecodeError, DlqReason};
use crate::model::{Customer, Ticket, Triage};

/// Wire format of tickets (in) and triaged tickets (out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// UTF-8 JSON objects (`content-type: application/json`).
    Json,
    /// Avro in the Confluent wire format: byte 0 = 0, bytes 1–4 = schema id
    /// (big-endian), then the Avro binary datum
    /// (`content-type: application/vnd.apache.avro`).
    Avro,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Avro => "avro",
        }
    }

    /// The `content-type` header of records in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Avro => "application/vnd.apache.avro",
        }
    }

    /// `json` or `avro`.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "avro" => Some(Format::Avro),
            _ => None,
        }
    }
}

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
pub struct Codec {
    input: Format,
    output: Format,
    avro: Option<Arc<AvroCodec>>,
}

impl Codec {
    /// JSON in, JSON out.
    pub fn json() -> Codec {
        Codec::new(Format::Json, Format::Json, None)
    }

    /// `avro` is needed when either format is Avro (else records that need it
    /// are dead-lettered as `schema_error`).
    pub fn new(input: Format, output: Format, avro: Option<Arc<AvroCodec>>) -> Codec {
        Codec {
            input,
            output,
            avro,
        }
    }

    pub fn input(&self) -> Format {
        self.input
    }

    pub fn output(&self) -> Format {
        self.output
    }

    /// The Avro codec, when a format is Avro.
    pub fn avro(&self) -> Option<&Arc<AvroCodec>> {
        self.avro.as_ref()
    }

    /// `content-type` of triaged records.
    pub fn content_type(&self) -> &'static str {
        self.output.content_type()
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
            _ => decode_customer_json(bytes),
        }
    }
}

/// Decodes a JSON customer record; the error is a sentence without the
/// record's content.
pub fn decode_customer_json(bytes: &[u8]) -> Result<Customer, String> {
    // An object only: serde's derive also reads an array in field order,
    // which is not the contract's customer record.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("not a customer record (a JSON object)".to_string());
    }
    serde_json::from_slice::<Customer>(bytes).map_err(|e| {
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
    })
}
