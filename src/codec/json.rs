//! JSON: ticket events in, triaged tickets out.
//!
//! Decoding borrows strings from the input where it can. Encoding does not
//! re-serialize the ticket: it splices `,"triage":{…}` before the input
//! object's closing brace, so every input field — including ones this
//! service does not know — goes out byte for byte unchanged.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{DecodeError, DlqReason};
use crate::model::{CustomValue, ReportedPriority, Ticket, Triage};

/// A string borrowed from the input when it has no escapes. (serde borrows a
/// `Cow` only when it is a field of its own, not inside `Option` or `Vec`.)
#[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(transparent)]
struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

/// A custom-field value whose string borrows too.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawValue<'a> {
    Bool(bool),
    Number(f64),
    #[serde(borrow)]
    String(Str<'a>),
}

#[derive(Deserialize)]
struct RawTicket<'a> {
    #[serde(borrow, default)]
    ticket_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    customer_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    created_at: Option<Str<'a>>,
    #[serde(borrow, default)]
    subject: Option<Str<'a>>,
    #[serde(borrow, default)]
    body: Option<Str<'a>>,
    #[serde(borrow, default)]
    channel: Option<Str<'a>>,
    #[serde(default)]
    requester: Option<Requester>,
    #[serde(borrow, default)]
    reported_priority: Option<Str<'a>>,
    #[serde(default)]
    affected_users: Option<serde_json::Number>,
    #[serde(borrow, default)]
    tags: Option<Vec<Str<'a>>>,
    #[serde(borrow, default)]
    custom_fields: Option<std::collections::BTreeMap<Str<'a>, RawValue<'a>>>,
    #[serde(default)]
    triage: Option<IgnoredAny>,
}

/// Only checked for shape; never logged (customer data).
#[derive(Deserialize)]
struct Requester {
    #[serde(default)]
    #[allow(dead_code)]
    email: Option<IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<IgnoredAny>,
}

/// The channels the contract names.
pub const CHANNELS: [&str; 6] = ["email", "chat", "phone", "web", "api", "other"];

/// A decoded ticket and whether the input already had a `triage` key.
pub struct Decoded<'a> {
    pub ticket: Ticket<'a>,
    pub had_triage: bool,
}

/// Decodes and validates one JSON ticket event.
pub fn decode_ticket(bytes: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawTicket<'_> = serde_json::from_slice(bytes).map_err(|e| {
        let reason = match e.classify() {
            serde_json::error::Category::Data => DlqReason::SchemaError,
            _ => DlqReason::DecodeError,
        };
        let what = if reason == DlqReason::DecodeError {
            "not valid JSON"
        } else {
            "does not match the ticket schema"
        };
        DecodeError::new(reason, format!("{what}: {e}"))
    })?;
    let had_triage = raw.triage.is_some();
    let ticket = validate(raw)?;
    Ok(Decoded { ticket, had_triage })
}

fn required<'a>(v: Option<Str<'a>>, field: &str) -> Result<Cow<'a, str>, DecodeError> {
    v.map(|s| s.0).ok_or_else(|| {
        DecodeError::new(
            DlqReason::SchemaError,
            format!("required field `{field}` is missing"),
        )
    })
}

fn validate(raw: RawTicket<'_>) -> Result<Ticket<'_>, DecodeError> {
    let ticket_id = required(raw.ticket_id, "ticket_id")?;
    let customer_id = required(raw.customer_id, "customer_id")?;
    let created_at = required(raw.created_at, "created_at")?;
    let subject = required(raw.subject, "subject")?;
    let channel = raw.channel.map(|s| s.0);
    let reported = raw.reported_priority.map(|s| s.0);
    super::check_ticket_fields(
        &ticket_id,
        &customer_id,
        channel.as_deref(),
        reported.as_deref(),
    )?;
    let created_at = super::parse_created_at(&created_at)?;
    let reported_priority = reported
        .as_deref()
        .map(|p| ReportedPriority::parse(p).expect("checked above"));
    let affected_users = match raw.affected_users {
        None => None,
        Some(n) => Some(n.as_u64().ok_or_else(|| {
            DecodeError::new(
                DlqReason::InvalidField,
                format!("`affected_users` must be a whole number >= 0, got {n}"),
            )
        })?),
    };
    let _ = raw.requester;
    Ok(Ticket {
        ticket_id,
        customer_id,
        created_at,
        subject,
        body: raw.body.map(|s| s.0),
        channel,
        reported_priority,
        affected_users,
        tags: raw
            .tags
            .map(|v| v.into_iter().map(|s| s.0).collect())
            .unwrap_or_default(),
        custom_fields: raw
            .custom_fields
            .map(|m| {
                m.into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            RawValue::Bool(b) => CustomValue::Bool(b),
                            RawValue::Number(n) => CustomValue::Number(n),
                            RawValue::String(s) => CustomValue::String(s.0),
                        };
                        (k.0, v)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Writes the triaged ticket: the input object with `"triage"` added.
/// `input` must be the bytes `decode_ticket` accepted.
pub fn encode_triaged(input: &[u8], had_triage: bool, triage: &Triage, out: &mut Vec<u8>) {
    if had_triage {
        // Rare: the input already carries a `triage` key. Replace it.
        let mut v: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(input).expect("input was decoded before");
        v.insert(
            "triage".into(),
            serde_json::to_value(triage).expect("triage serializes"),
        );
        serde_json::to_writer(&mut *out, &v).expect("writing to a Vec cannot fail");
        return;
    }
    let end = input
        .iter()
        .rposition(|&b| b == b'}')
        .expect("a decoded object ends with }");
    let body = &input[..end];
    out.reserve(input.len() + 1024);
    out.extend_from_slice(body);
    // An object with at least the required fields is never empty.
    out.extend_from_slice(b",\"triage\":");
    serde_json::to_writer(&mut *out, triage).expect("writing to a Vec cannot fail");
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"ticket_id":"T-1","customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","subject":"Login \"broken\"","body":"hi","channel":"email","reported_priority":"high","affected_users":12,"tags":["sso"],"custom_fields":{"region":"eu","seats":40,"trial":false},"x_extra":{"keep":[1,2]}}"#;

    #[test]
    fn decodes_every_field() {
        let d = decode_ticket(OK.as_bytes()).unwrap();
        let t = d.ticket;
        assert_eq!(t.ticket_id, "T-1");
        assert!(matches!(t.ticket_id, Cow::Borrowed(_)));
        assert_eq!(t.subject, "Login \"broken\"");
        assert_eq!(t.created_at.to_string(), "2026-11-02T09:00:00Z");
        assert_eq!(t.reported_priority, Some(ReportedPriority::High));
        assert_eq!(t.affected_users, Some(12));
        assert_eq!(t.tags, vec!["sso"]);
        assert_eq!(t.custom_fields.get("seats"), Some(&CustomValue::Number(40.0)));
        assert_eq!(t.custom_fields.get("trial"), Some(&CustomValue::Bool(false)));
        assert!(!d.had_triage);
    }

    fn reason(s: &str) -> (DlqReason, String) {
        match decode_ticket(s.as_bytes()) {
            Ok(_) => panic!("accepted {s}"),
            Err(e) => (e.reason, e.detail),
        }
    }

    #[test]
    fn bad_input_is_classified() {
        assert_eq!(reason("not json").0, DlqReason::DecodeError);
        assert_eq!(reason("{\"ticket_id\":").0, DlqReason::DecodeError);
        assert_eq!(reason("[1,2]").0, DlqReason::SchemaError);
        let (r, d) = reason(r#"{"customer_id":"C","created_at":"2026-11-02T09:00:00Z","subject":""}"#);
        assert_eq!(r, DlqReason::SchemaError);
        assert!(d.contains("ticket_id"), "{d}");
        let (r, _) = reason(r#"{"ticket_id":5,"customer_id":"C","created_at":"2026-11-02T09:00:00Z","subject":""}"#);
        assert_eq!(r, DlqReason::SchemaError);
        let (r, d) = reason(r#"{"ticket_id":"T","customer_id":"C","created_at":"yesterday","subject":""}"#);
        assert_eq!(r, DlqReason::InvalidField);
        assert!(d.contains("created_at"), "{d}");
        let (r, _) = reason(r#"{"ticket_id":"T","customer_id":"C","created_at":"2026-11-02T09:00:00Z","subject":"","affected_users":-3}"#);
        assert_eq!(r, DlqReason::InvalidField);
        let (r, _) = reason(r#"{"ticket_id":"T","customer_id":"C","created_at":"2026-11-02T09:00:00Z","subject":"","reported_priority":"asap"}"#);
        assert_eq!(r, DlqReason::InvalidField);
        let (r, _) = reason(r#"{"ticket_id":"","customer_id":"C","created_at":"2026-11-02T09:00:00Z","subject":""}"#);
        assert_eq!(r, DlqReason::InvalidField);
    }
}
