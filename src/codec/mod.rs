//! Wire formats: bytes to [`Ticket`](crate::model::Ticket) and back, without
//! I/O. [`json`] is the default; Avro (Confluent wire format) lives in `avro`.
//!
//! A record that cannot be decoded becomes a [`DecodeError`] whose
//! [`DlqReason`] is the `dlq-reason` header of its dead letter.

pub mod avro;
pub mod json;

use std::fmt;

use jiff::Timestamp;

use crate::model::ReportedPriority;

/// Why a record went to the dead-letter topic: a small fixed set, used as a
/// header value and a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DlqReason {
    /// Not JSON / not Avro at all.
    DecodeError,
    /// Decodes, but not as a ticket event (wrong shape, missing required field).
    SchemaError,
    /// A field is present but malformed (bad timestamp, negative count …).
    InvalidField,
    /// Over the configured size limit.
    TooLarge,
    /// Avro with a schema id the registry does not know.
    UnknownSchema,
}

impl DlqReason {
    pub const ALL: [DlqReason; 5] = [
        Self::DecodeError,
        Self::SchemaError,
        Self::InvalidField,
        Self::TooLarge,
        Self::UnknownSchema,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DecodeError => "decode_error",
            Self::SchemaError => "schema_error",
            Self::InvalidField => "invalid_field",
            Self::TooLarge => "too_large",
            Self::UnknownSchema => "unknown_schema",
        }
    }
}

impl fmt::Display for DlqReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record that cannot be triaged, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct DecodeError {
    pub reason: DlqReason,
    /// One human-readable sentence (never contains ticket text).
    pub detail: String,
}

impl DecodeError {
    pub fn new(reason: DlqReason, detail: impl Into<String>) -> Self {
        DecodeError {
            reason,
            detail: detail.into(),
        }
    }
}

/// Checks shared by every format.
pub(crate) fn check_ticket_fields(
    ticket_id: &str,
    customer_id: &str,
    _channel: Option<&str>,
    reported_priority: Option<&str>,
) -> Result<(), DecodeError> {
    if ticket_id.trim().is_empty() {
        return Err(DecodeError::new(
            DlqReason::InvalidField,
            "`ticket_id` is empty",
        ));
    }
    if customer_id.trim().is_empty() {
        return Err(DecodeError::new(
            DlqReason::InvalidField,
            "`customer_id` is empty",
        ));
    }
    if let Some(p) = reported_priority {
        if ReportedPriority::parse(p).is_none() {
            return Err(DecodeError::new(
                DlqReason::InvalidField,
                format!("`reported_priority` must be one of low, normal, high, urgent; got {p:?}"),
            ));
        }
    }
    Ok(())
}

/// `created_at`: RFC 3339 with an offset.
pub(crate) fn parse_created_at(s: &str) -> Result<Timestamp, DecodeError> {
    s.parse::<Timestamp>().map_err(|e| {
        DecodeError::new(
            DlqReason::InvalidField,
            format!("`created_at` is not an RFC 3339 timestamp with an offset: {e}"),
        )
    })
}
