//! Wire formats: bytes to [`Ticket`](crate::model::Ticket) and back, without
//! I/O. [`json`] is the default; Avro (Confluent wire format) lives in `avro`;
//! [`formats`] puts the configured input and output formats together.
//!
//! A record that cannot be decoded becomes a [`DecodeError`] whose
//! [`DlqReason`] is the `dlq-reason` header of its dead letter.

pub mod avro;
pub mod formats;
pub mod json;

pub use formats::{decode_customer_json, Codec, Decoded, Format};

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
    /// The service failed on this record (a bug: a panic while decoding,
    /// triaging or encoding it). Counted and logged as an error.
    InternalError,
    /// The broker refused the triaged record for good (not for its size:
    /// authorization, a policy, an invalid record); the input is kept here.
    OutputRefused,
}

impl DlqReason {
    pub const ALL: [DlqReason; 7] = [
        Self::DecodeError,
        Self::SchemaError,
        Self::InvalidField,
        Self::TooLarge,
        Self::UnknownSchema,
        Self::InternalError,
        Self::OutputRefused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DecodeError => "decode_error",
            Self::SchemaError => "schema_error",
            Self::InvalidField => "invalid_field",
            Self::TooLarge => "too_large",
            Self::UnknownSchema => "unknown_schema",
            Self::InternalError => "internal_error",
            Self::OutputRefused => "output_refused",
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

/// A serde_json error as one sentence that names no input value.
///
/// serde's messages quote the offending value (`invalid type: string "…",
/// expected …`, ``unknown variant `…` ``), and a value may be ticket text,
/// which never goes into a log or a dead letter's detail. What is kept: the
/// kind of problem, what was expected, the field (its path, when the caller
/// found it with [`json_error`]) and the position.
pub fn describe_json_error(e: &serde_json::Error, path: Option<&str>) -> String {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; the position is added back below.
    let core = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => &msg,
    };
    let redacted = redact_serde_message(core);
    let mut out = String::with_capacity(redacted.len() + 48);
    if let Some(p) = path.filter(|p| !p.is_empty() && *p != ".") {
        out.push('`');
        push_path(&mut out, p);
        out.push_str("`: ");
    }
    out.push_str(&redacted);
    if e.line() > 0 {
        use std::fmt::Write as _;
        let _ = write!(out, " (line {}, column {})", e.line(), e.column());
    }
    out
}

/// A path as serde_path_to_error prints it, each segment cut to 40
/// characters and control characters replaced: map keys come from the input.
fn push_path(out: &mut String, p: &str) {
    for (i, seg) in p.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        for (n, c) in seg.chars().enumerate() {
            if n == 40 {
                out.push('…');
                break;
            }
            out.push(if c.is_control() || c == '`' { '?' } else { c });
        }
    }
}

/// serde's message without the value it quotes.
///
/// Found by fuzzing: a value that itself contains ", expected `" must not
/// split the message early (the split is at the last occurrence).
fn redact_serde_message(m: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = m.strip_prefix(prefix) {
            // The last ", expected ": the quoted value may contain the words
            // too; what follows the last one is the schema's (no input).
            let (unexpected, expected) = match rest.rfind(", expected ") {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            // `string "…"`, ``integer `5` ``, `sequence`: the kind is what
            // comes before the quoted value.
            let kind = unexpected.split(['`', '"']).next().unwrap_or("").trim_end();
            return format!("{prefix}{kind}{}", strip_quoted(expected));
        }
    }
    for prefix in ["unknown variant ", "unknown field "] {
        if let Some(rest) = m.strip_prefix(prefix) {
            let expected = rest.rfind(", expected").map_or("", |i| &rest[i..]);
            return format!("{}{expected}", prefix.trim_end());
        }
    }
    // serde_json's own syntax messages and `missing field `x``, `duplicate
    // field `x`` name no value; anything else is cut at its first quote.
    let known = [
        "missing field ",
        "duplicate field ",
        "invalid length ",
        "more than ",
    ];
    if known.iter().any(|k| m.starts_with(k)) || !m.contains(['"', '`']) {
        return m.to_string();
    }
    strip_quoted(m)
}

/// Text up to the first quote (the fixed part of a message).
fn strip_quoted(m: &str) -> String {
    match m.find(['"', '`']) {
        // "expected one of `a`, `b`" lists the schema's names, not input.
        Some(_) if m.starts_with(", expected one of") || m.starts_with(", expected `") => {
            m.to_string()
        }
        Some(i) => m[..i].trim_end().to_string(),
        None => m.to_string(),
    }
}

/// Decodes `T` from JSON; on error, a [`DecodeError`] whose detail names
/// the field that failed ([`describe_json_error`]). The path is found by
/// decoding a second time with serde_path_to_error, only on the error path.
pub fn json_error<'de, T: serde::Deserialize<'de>>(
    bytes: &'de [u8],
    e: serde_json::Error,
    what: &str,
) -> DecodeError {
    match e.classify() {
        serde_json::error::Category::Data => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let path = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(pe) => Some(pe.path().to_string()),
                Ok(_) => None,
            };
            DecodeError::new(
                DlqReason::SchemaError,
                format!(
                    "does not match the {what} schema: {}",
                    describe_json_error(&e, path.as_deref())
                ),
            )
        }
        _ => DecodeError::new(
            DlqReason::DecodeError,
            format!("not valid JSON: {}", describe_json_error(&e, None)),
        ),
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
                format!(
                    "`reported_priority` must be one of low, normal, high, urgent; got {} bytes",
                    p.len()
                ),
            ));
        }
    }
    Ok(())
}

/// `created_at`: RFC 3339 with an offset.
pub(crate) fn parse_created_at(s: &str) -> Result<Timestamp, DecodeError> {
    // jiff's message quotes the input: not repeated.
    s.parse::<Timestamp>().map_err(|_| {
        DecodeError::new(
            DlqReason::InvalidField,
            format!(
                "`created_at` is not an RFC 3339 timestamp with an offset ({} bytes)",
                s.len()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(input: &str) -> String {
        match serde_json::from_str::<u64>(input) {
            Err(e) => describe_json_error(&e, None),
            Ok(_) => panic!("{input} decoded"),
        }
    }

    #[test]
    fn serde_messages_lose_the_values_they_quote() {
        let d = detail(r#""secret ticket text""#);
        assert!(d.starts_with("invalid type: string, expected u64"), "{d}");
        assert!(!d.contains("secret"), "{d}");
        // A value that contains the words serde uses to split its message
        // (a fuzzing finding).
        let d = detail(r#"", expected `secret, expected `more secret`,""#);
        assert!(!d.contains("secret"), "{d}");
        assert!(d.contains("expected u64"), "{d}");
        let d = detail("-5");
        assert!(!d.contains("-5"), "{d}");
    }
}
