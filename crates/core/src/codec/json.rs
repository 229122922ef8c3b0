//! JSON: ticket events in, triaged tickets out.
//!
//! Decoding borrows strings from the input where it can. Encoding does not
//! re-serialize the ticket: it splices `,"triage":{…}` before the input
//! object's closing brace, so every input field — including ones this
//! service does not know — goes out byte for byte unchanged.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{DecodeError, DlqReason};
use crate::model::{CustomValue, ReportedPriority, Ticket, Triage};

mod fast;

/// A string borrowed from the input when it has no escapes. (serde borrows a
/// `Cow` only when it is a field of its own, not inside `Option` or `Vec`.)
#[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(transparent)]
struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

/// A custom-field value whose string borrows too.
///
/// Deserialized by hand with the semantics and error messages of
/// `#[serde(untagged)] enum { Bool(bool), Number(f64), String(Str) }` inside a
/// `BTreeMap` (see [`Fields`]): the derived untagged form buffers every value
/// and builds an error for each variant it tries — a tenth of the decode time.
enum RawValue<'a> {
    Bool(bool),
    Number(f64),
    String(Str<'a>),
    /// `null`, an array or an object: not a custom value (rejected by
    /// [`Fields`] with the untagged enum's message, at the same position).
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for RawValue<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawValueVisitor(std::marker::PhantomData))
    }
}

struct RawValueVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for RawValueVisitor<'a> {
    type Value = RawValue<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(RawValue::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(RawValue::Number(v as f64))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(RawValue::Number(v as f64))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(RawValue::Number(v))
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(RawValue::String(Str(Cow::Borrowed(v))))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(RawValue::String(Str(Cow::Owned(v.to_owned()))))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(RawValue::String(Str(Cow::Owned(v))))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(RawValue::Other)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(RawValue::Other)
    }
    // Read to the end, as the untagged enum buffers them before failing.
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RawValue::Other)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(RawValue::Other)
    }
}

/// `custom_fields`: a `BTreeMap<Str, RawValue>` whose first value that is not
/// a string, number or boolean fails the map (as the untagged enum did).
struct Fields<'a>(BTreeMap<Str<'a>, RawValue<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FieldsVisitor(std::marker::PhantomData))
    }
}

struct FieldsVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for FieldsVisitor<'a> {
    type Value = Fields<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut m = BTreeMap::new();
        while let Some((k, v)) = a.next_entry::<Str<'a>, RawValue<'a>>()? {
            if m.len() == MAX_CUSTOM_FIELDS {
                return Err(serde::de::Error::custom(format_args!(
                    "more than {MAX_CUSTOM_FIELDS} custom fields"
                )));
            }
            if let RawValue::Other = v {
                return Err(serde::de::Error::custom(
                    "data did not match any variant of untagged enum RawValue",
                ));
            }
            m.insert(k, v);
        }
        Ok(Fields(m))
    }
}

/// Any JSON value, checked as strictly as a parser that builds values would
/// (strings are valid UTF-8 without lone surrogate escapes, numbers fit an
/// `f64`), and thrown away. Every byte of an input object goes out unchanged
/// in the triaged record, so the fields this service does not read must be
/// as valid as the ones it does: serde's `IgnoredAny` skips strings and
/// numbers without checking them.
struct Strict;

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Strict, A::Error> {
        while a.next_element::<Strict>()?.is_some() {}
        Ok(Strict)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Strict, A::Error> {
        while a.next_entry::<Str<'de>, Strict>()?.is_some() {}
        Ok(Strict)
    }
}

/// The most tags and custom fields a ticket may carry (a dead letter
/// beyond: bounded work per record). Stated in the service's config
/// reference.
pub const MAX_TAGS: usize = 1_000;
/// See [`MAX_TAGS`].
pub const MAX_CUSTOM_FIELDS: usize = 1_000;

/// The ticket event's fields as they come. Deserialized by hand (only from
/// a JSON object: serde's derive also reads an array in field order, whose
/// bytes cannot take a `triage` key); unknown fields are read with
/// [`Strict`].
#[derive(Default)]
struct RawTicket<'a> {
    ticket_id: Option<Str<'a>>,
    customer_id: Option<Str<'a>>,
    created_at: Option<Str<'a>>,
    subject: Option<Str<'a>>,
    body: Option<Str<'a>>,
    channel: Option<Str<'a>>,
    reported_priority: Option<Str<'a>>,
    affected_users: Option<serde_json::Number>,
    tags: Option<Vec<Str<'a>>>,
    custom_fields: Option<Fields<'a>>,
    /// `requester.name`, when it is a string.
    requester_name: Option<Cow<'a, str>>,
    /// A `triage` key in the input (replaced in the output).
    triage: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for RawTicket<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TicketVisitor(std::marker::PhantomData))
    }
}

struct TicketVisitor<'a>(std::marker::PhantomData<&'a ()>);

/// `Some(v)` once per key: a second occurrence is an error, as the derive's.
fn once<'de, A: serde::de::MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    a: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(serde::de::Error::duplicate_field(name));
    }
    // `null` is the field's absence, as `#[serde(default)]` on an `Option`.
    *slot = a.next_value::<Option<T>>()?;
    Ok(())
}

impl<'de: 'a, 'a> serde::de::Visitor<'de> for TicketVisitor<'a> {
    type Value = RawTicket<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a ticket event object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut t = RawTicket::default();
        let mut requester = false;
        while let Some(k) = a.next_key::<Str<'de>>()? {
            match &*k.0 {
                "ticket_id" => once(&mut t.ticket_id, &mut a, "ticket_id")?,
                "customer_id" => once(&mut t.customer_id, &mut a, "customer_id")?,
                "created_at" => once(&mut t.created_at, &mut a, "created_at")?,
                "subject" => once(&mut t.subject, &mut a, "subject")?,
                "body" => once(&mut t.body, &mut a, "body")?,
                "channel" => once(&mut t.channel, &mut a, "channel")?,
                "reported_priority" => once(&mut t.reported_priority, &mut a, "reported_priority")?,
                "affected_users" => once(&mut t.affected_users, &mut a, "affected_users")?,
                "tags" => {
                    if t.tags.is_some() {
                        return Err(serde::de::Error::duplicate_field("tags"));
                    }
                    t.tags = a.next_value::<Option<Tags<'a>>>()?.map(|t| t.0);
                }
                "custom_fields" => once(&mut t.custom_fields, &mut a, "custom_fields")?,
                "requester" => {
                    if requester {
                        return Err(serde::de::Error::duplicate_field("requester"));
                    }
                    requester = true;
                    t.requester_name = a.next_value::<Option<Requester<'de>>>()?.and_then(|r| r.0);
                }
                "triage" => {
                    if t.triage {
                        return Err(serde::de::Error::duplicate_field("triage"));
                    }
                    t.triage = true;
                    a.next_value::<Strict>()?;
                }
                _ => {
                    a.next_value::<Strict>()?;
                }
            }
        }
        Ok(t)
    }
}

/// `tags`: strings, at most [`MAX_TAGS`].
struct Tags<'a>(Vec<Str<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Tags<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of strings")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = a.next_element::<Str<'a>>()? {
                    if v.len() == MAX_TAGS {
                        return Err(serde::de::Error::custom(format_args!(
                            "more than {MAX_TAGS} tags"
                        )));
                    }
                    v.push(s);
                }
                Ok(Tags(v))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

/// `requester`: an object (its values only checked, never logged: customer
/// data), and its `name` when that is a string (the first one of a
/// repeated key).
struct Requester<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Requester<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Requester<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a requester object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let mut name = None;
                while let Some(k) = a.next_key::<Str<'de>>()? {
                    if &*k.0 == "name" && name.is_none() {
                        name = a.next_value::<NameValue<'de>>()?.0;
                    } else {
                        a.next_value::<Strict>()?;
                    }
                }
                Ok(Requester(name))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Any JSON value, checked as [`Strict`] does, kept when it is a string.
struct NameValue<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for NameValue<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = NameValue<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(NameValue(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(NameValue(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(NameValue(None))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(NameValue(None))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(NameValue(None))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(NameValue(None))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(NameValue(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                StrictVisitor.visit_seq(a).map(|_| NameValue(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                StrictVisitor.visit_map(a).map(|_| NameValue(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
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
    let raw: RawTicket<'_> = match fast::decode(bytes) {
        Some(raw) => raw,
        None => serde_json::from_slice(bytes)
            .map_err(|e| super::json_error::<RawTicket<'_>>(bytes, e, "ticket"))?,
    };
    let had_triage = raw.triage;
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
    Ok(Ticket {
        ticket_id,
        customer_id,
        created_at,
        subject,
        body: raw.body.map(|s| s.0),
        channel,
        requester_name: raw.requester_name,
        reported_priority,
        affected_users,
        tags: raw
            .tags
            .map(|v| v.into_iter().map(|s| s.0).collect())
            .unwrap_or_default(),
        custom_fields: raw
            .custom_fields
            .map(|m| {
                m.0.into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            RawValue::Bool(b) => CustomValue::Bool(b),
                            RawValue::Number(n) => CustomValue::Number(n),
                            RawValue::String(s) => CustomValue::String(s.0),
                            RawValue::Other => unreachable!("rejected by Fields"),
                        };
                        (k.0, v)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Writes the triaged ticket: the input object with `"triage"` added.
/// `input` must be the bytes `decode_ticket` accepted (a JSON object: its
/// last `}` closes it, as nothing but whitespace may follow). Never panics:
/// input it cannot splice is an error (dead-lettered), not a crash.
pub fn encode_triaged(
    input: &[u8],
    had_triage: bool,
    triage: &Triage,
    out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    if had_triage {
        // Rare: the input already carries a `triage` key. Replace it.
        let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(input)
            .map_err(|e| super::json_error::<serde::de::IgnoredAny>(input, e, "ticket"))?;
        let t = serde_json::to_value(triage).map_err(|_| {
            DecodeError::new(
                DlqReason::InternalError,
                "the triage object does not serialize",
            )
        })?;
        v.insert("triage".into(), t);
        // Writing to a Vec cannot fail; a Map of Values always serializes.
        return serde_json::to_writer(&mut *out, &v).map_err(|_| {
            DecodeError::new(
                DlqReason::InternalError,
                "the triaged record does not serialize",
            )
        });
    }
    let start = input.iter().position(|b| !b.is_ascii_whitespace());
    let end = input.iter().rposition(|&b| b == b'}');
    let (Some(start), Some(end)) = (start, end) else {
        return Err(DecodeError::new(
            DlqReason::SchemaError,
            "a ticket event must be a JSON object",
        ));
    };
    // Invariant: `start` is an index `position` found in `input`.
    if input[start] != b'{' || end <= start {
        return Err(DecodeError::new(
            DlqReason::SchemaError,
            "a ticket event must be a JSON object",
        ));
    }
    let body = &input[..end];
    out.reserve(input.len() + 1024);
    out.extend_from_slice(body);
    // An object with at least the required fields is never empty.
    out.extend_from_slice(b",\"triage\":");
    write_triage(triage, out);
    out.push(b'}');
    Ok(())
}

/// Writes `t` as JSON: the same bytes as `serde_json::to_writer(out, t)`
/// (field order and names of the `Serialize` derive on [`Triage`], serde_json's
/// string escapes and number formats; `tests::writer_matches_serde` holds it to
/// that), without serde's per-field machinery — that was a sixth of the time
/// per ticket. A field added to [`Triage`] must be added here too (the test
/// fails until it is).
pub fn write_triage(t: &Triage, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"priority\":");
    write_str(out, &t.priority);
    out.extend_from_slice(b",\"score\":");
    write_i64(out, t.score);
    out.extend_from_slice(b",\"category\":");
    write_str(out, &t.category);
    out.extend_from_slice(b",\"severity\":");
    write_str(out, &t.severity);
    out.extend_from_slice(b",\"sentiment\":{\"label\":\"");
    out.extend_from_slice(t.sentiment.label.as_str().as_bytes());
    out.extend_from_slice(b"\",\"score\":");
    write_f32(out, t.sentiment.score);
    out.extend_from_slice(b"},\"confidence\":{\"category\":");
    write_f32(out, t.confidence.category);
    out.extend_from_slice(b",\"severity\":");
    write_f32(out, t.confidence.severity);
    out.extend_from_slice(b",\"sentiment\":");
    write_f32(out, t.confidence.sentiment);
    out.push(b'}');
    if !t.models.is_empty() {
        out.extend_from_slice(b",\"models\":[");
        for (i, m) in t.models.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"field\":");
            write_str(out, m.field);
            out.extend_from_slice(b",\"label\":");
            write_str(out, &m.label);
            out.extend_from_slice(b",\"confidence\":");
            write_f32(out, m.confidence);
            out.extend_from_slice(if m.applied {
                b",\"applied\":true,\"alternatives\":["
            } else {
                b",\"applied\":false,\"alternatives\":["
            });
            for (j, (label, c)) in m.alternatives.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.push(b'[');
                write_str(out, label);
                out.push(b',');
                write_f32(out, *c);
                out.push(b']');
            }
            out.extend_from_slice(b"]}");
        }
        out.push(b']');
    }
    out.extend_from_slice(if t.customer_known {
        b",\"customer_known\":true,\"segment\":{\"account_type\":"
    } else {
        b",\"customer_known\":false,\"segment\":{\"account_type\":"
    });
    let s = &t.segment;
    write_str(out, &s.account_type);
    out.extend_from_slice(b",\"support_plan\":");
    write_str(out, &s.support_plan);
    out.extend_from_slice(if s.vip {
        b",\"vip\":true,\"persona\":"
    } else {
        b",\"vip\":false,\"persona\":"
    });
    write_str(out, &s.persona);
    out.extend_from_slice(b",\"lifecycle\":");
    write_str(out, &s.lifecycle);
    out.extend_from_slice(b",\"arr\":");
    write_f64(out, s.arr);
    if let Some(v) = &s.sla_policy {
        out.extend_from_slice(b",\"sla_policy\":");
        write_str(out, v);
    }
    if let Some(v) = &s.timezone {
        out.extend_from_slice(b",\"timezone\":");
        write_str(out, v);
    }
    if let Some(v) = &s.language {
        out.extend_from_slice(b",\"language\":");
        write_str(out, v);
    }
    out.extend_from_slice(b"},\"queue\":");
    write_str(out, &t.queue);
    out.extend_from_slice(b",\"tier\":");
    write_str(out, &t.tier);
    let sla = &t.sla;
    out.extend_from_slice(b",\"sla\":{\"policy\":");
    write_str(out, &sla.policy);
    out.extend_from_slice(b",\"calendar\":");
    write_str(out, &sla.calendar);
    out.extend_from_slice(b",\"timezone\":");
    write_str(out, &sla.timezone);
    out.extend_from_slice(b",\"first_response_due\":");
    write_timestamp(out, sla.first_response_due);
    out.extend_from_slice(b",\"resolution_due\":");
    write_timestamp(out, sla.resolution_due);
    out.extend_from_slice(b",\"first_response_target_seconds\":");
    write_i64(out, sla.first_response_target_seconds);
    out.extend_from_slice(b",\"resolution_target_seconds\":");
    write_i64(out, sla.resolution_target_seconds);
    out.extend_from_slice(b"},\"reasons\":[");
    for (i, r) in t.reasons.iter().enumerate() {
        out.extend_from_slice(if i == 0 {
            b"{\"factor\":"
        } else {
            b",{\"factor\":"
        });
        write_str(out, r.factor);
        out.extend_from_slice(b",\"points\":");
        write_i64(out, r.points);
        out.extend_from_slice(b",\"detail\":");
        write_str(out, &r.detail);
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"rules_version\":");
    write_str(out, &t.rules_version);
    out.extend_from_slice(b",\"triaged_at\":");
    write_timestamp(out, t.triaged_at);
    if let Some(l) = t.language {
        out.extend_from_slice(b",\"language\":");
        write_str(out, l);
    }
    out.push(b'}');
}

/// A JSON string with serde_json's escapes: `\"`, `\\`, `\b \f \n \r \t`,
/// other control characters as `\u00xx`; everything else as is.
fn write_str(out: &mut Vec<u8>, s: &str) {
    let mut rest = s.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    // The plain runs between bytes to escape, found 16 bytes at a time
    // (most text has nothing to escape but line breaks).
    while let (Some(k), _) = crate::simd::find_string_stop(rest) {
        // `k` is a byte `find_string_stop` found in `rest`: in bounds.
        out.extend_from_slice(&rest[..k]);
        let b = rest[k];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0C => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xF) as usize]);
            }
        }
        rest = &rest[k + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

fn write_i64(out: &mut Vec<u8>, v: i64) {
    // Plain decimal, as serde_json (itoa) writes it.
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(crate::detail::digits(v.unsigned_abs(), &mut [0u8; 20]));
}

/// serde_json's own float formatting (`null` for NaN and infinities).
fn write_f32(out: &mut Vec<u8>, v: f32) {
    serde_json::to_writer(&mut *out, &v).expect("writing to a Vec cannot fail");
}

fn write_f64(out: &mut Vec<u8>, v: f64) {
    serde_json::to_writer(&mut *out, &v).expect("writing to a Vec cannot fail");
}

/// A timestamp as its `Display` form in quotes, as jiff's `Serialize` writes
/// it (`collect_str`; the text never needs escapes).
fn write_timestamp(out: &mut Vec<u8>, t: jiff::Timestamp) {
    out.push(b'"');
    jiff::fmt::temporal::DateTimePrinter::new()
        .print_timestamp(&t, &mut *out)
        .expect("writing to a Vec cannot fail");
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"ticket_id":"T-1","customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","subject":"Login \"broken\"","body":"hi","channel":"email","reported_priority":"high","affected_users":12,"tags":["sso"],"custom_fields":{"region":"eu","seats":40,"trial":false},"x_extra":{"keep":[1,2]}}"#;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        // Every ASCII byte (controls, quote, backslash) and a few non-ASCII
        // characters, at every position around the 16-byte steps, alone,
        // doubled and in runs.
        let mut specials: Vec<String> = (0u8..0x80).map(|b| char::from(b).to_string()).collect();
        specials.extend(
            [
                "é",
                "€",
                "\u{1F600}",
                "\u{2028}",
                "\"\"",
                "\n\r\t",
                "\\\u{1}",
            ]
            .map(String::from),
        );
        for sp in &specials {
            for at in 0..40 {
                for tail in [0, 1, 15, 16, 17, 40] {
                    let s = format!("{}{sp}{}", "a".repeat(at), "b".repeat(tail));
                    let mut ours = Vec::new();
                    write_str(&mut ours, &s);
                    // Test code: serializing a `String` cannot fail.
                    assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "{s:?}");
                }
            }
        }
        let mut empty = Vec::new();
        write_str(&mut empty, "");
        assert_eq!(empty, b"\"\"");
    }

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
        assert_eq!(
            t.custom_fields.get("seats"),
            Some(&CustomValue::Number(40.0))
        );
        assert_eq!(
            t.custom_fields.get("trial"),
            Some(&CustomValue::Bool(false))
        );
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
        let (r, d) =
            reason(r#"{"customer_id":"C","created_at":"2026-11-02T09:00:00Z","subject":""}"#);
        assert_eq!(r, DlqReason::SchemaError);
        assert!(d.contains("ticket_id"), "{d}");
        let (r, _) = reason(
            r#"{"ticket_id":5,"customer_id":"C","created_at":"2026-11-02T09:00:00Z","subject":""}"#,
        );
        assert_eq!(r, DlqReason::SchemaError);
        let (r, d) =
            reason(r#"{"ticket_id":"T","customer_id":"C","created_at":"yesterday","subject":""}"#);
        assert_eq!(r, DlqReason::InvalidField);
        assert!(d.contains("created_at"), "{d}");
        let (r, _) = reason(
            r#"{"ticket_id":"T","customer_id":"C","created_at":"2026-11-02T09:00:00Z","subject":"","affected_users":-3}"#,
        );
        assert_eq!(r, DlqReason::InvalidField);
        let (r, _) = reason(
            r#"{"ticket_id":"T","customer_id":"C","created_at":"2026-11-02T09:00:00Z","subject":"","reported_priority":"asap"}"#,
        );
        assert_eq!(r, DlqReason::InvalidField);
        let (r, _) = reason(
            r#"{"ticket_id":"","customer_id":"C","created_at":"2026-11-02T09:00:00Z","subject":""}"#,
        );
        assert_eq!(r, DlqReason::InvalidField);
    }

    /// The derived untagged enum the hand-written `RawValue` replaces.
    mod old {
        use super::super::Str;
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        pub enum RawValue<'a> {
            Bool(bool),
            Number(f64),
            #[serde(borrow)]
            String(Str<'a>),
        }
    }

    #[test]
    fn raw_value_behaves_like_the_untagged_enum() {
        #[derive(Deserialize)]
        struct OldT<'a> {
            #[serde(borrow, default)]
            custom_fields: Option<BTreeMap<Str<'a>, old::RawValue<'a>>>,
        }
        #[derive(Deserialize)]
        struct NewT<'a> {
            #[serde(borrow, default)]
            custom_fields: Option<Fields<'a>>,
        }
        for fields in [
            r#"{"a":true,"b":1,"c":-2,"d":1.5e3,"e":"x","f":"esc\"aped","g":18446744073709551615,"h":1e400}"#,
            r#"{"a":null}"#,
            r#"{"a":null }"#,
            r#"{"a":1,"b":[1,{"x":2}],"c":3}"#,
            r#"{"a":{"x":[1,2]} }"#,
            r#"{"a":[],"b":{}}"#,
            r#"{"a":"ok","b":[1,2"#,
            r#"{"a":tru}"#,
            r#"{"a":1,"a":"dup"}"#,
            r#"null"#,
            r#"5"#,
            r#"[1]"#,
            r#""s""#,
            r#"{}"#,
        ] {
            let input = format!("{{\"x\":1,\"custom_fields\":{fields},\"y\":2}}");
            let old: Result<OldT<'_>, _> = serde_json::from_str(&input);
            let new: Result<NewT<'_>, _> = serde_json::from_str(&input);
            match (old, new) {
                (Ok(o), Ok(n)) => {
                    let (o, n) = (o.custom_fields, n.custom_fields);
                    assert_eq!(o.is_some(), n.is_some(), "{input}");
                    let (o, n) = (o.unwrap_or_default(), n.map(|f| f.0).unwrap_or_default());
                    assert_eq!(o.len(), n.len());
                    for ((ko, vo), (kn, vn)) in o.iter().zip(n.iter()) {
                        assert!(ko == kn);
                        match (vo, vn) {
                            (old::RawValue::Bool(a), RawValue::Bool(b)) => assert_eq!(a, b),
                            (old::RawValue::Number(a), RawValue::Number(b)) => {
                                assert_eq!(a.to_bits(), b.to_bits())
                            }
                            (old::RawValue::String(a), RawValue::String(b)) => {
                                assert_eq!(a.0, b.0);
                                assert_eq!(
                                    matches!(a.0, Cow::Borrowed(_)),
                                    matches!(b.0, Cow::Borrowed(_))
                                );
                            }
                            _ => panic!("{input}: decoded differently"),
                        }
                    }
                }
                (Err(o), Err(n)) => {
                    assert_eq!(o.to_string(), n.to_string(), "{input}");
                    assert_eq!(o.classify(), n.classify(), "{input}");
                }
                (o, n) => panic!("{input}: {:?} vs {:?}", o.is_ok(), n.is_ok()),
            }
        }
    }
}
