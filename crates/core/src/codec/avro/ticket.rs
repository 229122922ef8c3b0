//! The decoded ticket: spans into the datum, custom fields and extra fields, and its views.

use super::*;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: u32,
    pub(super) end: u32,
}

impl Span {
    pub(super) fn of(self, text: &str) -> &str {
        &text[self.start as usize..self.end as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Custom {
    Str(Span),
    Long(i64),
    Double(f64),
    Bool(bool),
}

#[derive(Debug, Clone)]
pub(super) struct Extra {
    pub(super) name: Arc<str>,
    /// JSON text of the value, in `Parts::text`.
    pub(super) json: Span,
    /// Avro input only.
    pub(super) avro: Option<(Arc<str>, Span)>,
}

/// The fields of a ticket as read, before the contract's value checks. All
/// string values live in `text`; `raw` holds extra fields' datum bytes.
#[derive(Debug, Clone, Default)]
pub(super) struct Parts {
    pub(super) text: String,
    pub(super) raw: Vec<u8>,
    pub(super) ticket_id: Option<Span>,
    pub(super) customer_id: Option<Span>,
    pub(super) created_at: Option<Span>,
    pub(super) subject: Option<Span>,
    pub(super) body: Option<Span>,
    pub(super) channel: Option<Span>,
    pub(super) requester: Option<(Option<Span>, Option<Span>)>,
    pub(super) reported_priority: Option<Span>,
    pub(super) affected_users: Option<i64>,
    pub(super) tags: Vec<Span>,
    pub(super) custom_fields: Vec<(Span, Custom)>,
    pub(super) extras: Vec<Extra>,
}

impl Parts {
    pub(super) fn push(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len() as u32,
        }
    }
    pub(super) fn s(&self, span: Span) -> &str {
        span.of(&self.text)
    }
    pub(super) fn opt(&self, span: Option<Span>) -> Option<&str> {
        span.map(|s| s.of(&self.text))
    }
}

/// A decoded, validated Avro ticket event. Owns its data (one string buffer
/// for all text), so it outlives the Kafka message; [`ticket`](Self::ticket)
/// lends the engine's view of it.
#[derive(Debug, Clone)]
pub struct AvroTicket {
    pub(super) parts: Parts,
    pub(super) created_at: Timestamp,
    pub(super) reported_priority: Option<ReportedPriority>,
    pub(super) writer_schema_id: u32,
}

/// One input field the ticket schema does not define, carried through.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtraFieldRef<'a> {
    pub name: &'a str,
    /// The value as JSON text.
    pub json: &'a str,
    /// The writer's schema of the field (self-contained), Avro input only.
    pub avro_schema: Option<&'a str>,
    /// The writer's datum bytes of the value, Avro input only.
    pub avro_datum: Option<&'a [u8]>,
}

impl AvroTicket {
    pub(super) fn validate(parts: Parts, writer_schema_id: u32) -> Result<AvroTicket, DecodeError> {
        let req = |s: Option<Span>, f: &str| {
            s.ok_or_else(|| {
                DecodeError::new(
                    DlqReason::SchemaError,
                    format!("required field `{f}` is missing"),
                )
            })
        };
        let ticket_id = req(parts.ticket_id, "ticket_id")?;
        let customer_id = req(parts.customer_id, "customer_id")?;
        let created_at = req(parts.created_at, "created_at")?;
        req(parts.subject, "subject")?;
        crate::codec::check_ticket_fields(
            parts.s(ticket_id),
            parts.s(customer_id),
            parts.opt(parts.channel),
            parts.opt(parts.reported_priority),
        )?;
        let created_at = crate::codec::parse_created_at(parts.s(created_at))?;
        let reported_priority = parts
            .opt(parts.reported_priority)
            .map(|p| ReportedPriority::parse(p).expect("checked above"));
        if let Some(n) = parts.affected_users {
            if n < 0 {
                return Err(DecodeError::new(
                    DlqReason::InvalidField,
                    format!("`affected_users` must be a whole number >= 0, got {n}"),
                ));
            }
        }
        Ok(AvroTicket {
            parts,
            created_at,
            reported_priority,
            writer_schema_id,
        })
    }

    /// The engine's view. Builds the tag list and custom-field map (call it
    /// once per ticket); strings are borrowed.
    pub fn ticket(&self) -> Ticket<'_> {
        let p = &self.parts;
        let b = |s: Span| Cow::Borrowed(p.s(s));
        Ticket {
            ticket_id: b(p.ticket_id.expect("validated")),
            customer_id: b(p.customer_id.expect("validated")),
            created_at: self.created_at,
            subject: b(p.subject.expect("validated")),
            body: p.body.map(b),
            channel: p.channel.map(b),
            requester_name: p.requester.and_then(|(_, n)| n).map(b),
            reported_priority: self.reported_priority,
            affected_users: p.affected_users.map(|n| n as u64),
            tags: p.tags.iter().map(|s| b(*s)).collect(),
            custom_fields: p
                .custom_fields
                .iter()
                .map(|(k, v)| {
                    let v = match *v {
                        Custom::Str(s) => CustomValue::String(b(s)),
                        Custom::Long(n) => CustomValue::Number(n as f64),
                        Custom::Double(d) => CustomValue::Number(d),
                        Custom::Bool(x) => CustomValue::Bool(x),
                    };
                    (b(*k), v)
                })
                .collect(),
        }
    }

    /// The output key.
    pub fn ticket_id(&self) -> &str {
        self.parts.s(self.parts.ticket_id.expect("validated"))
    }

    /// The schema id of the frame this ticket was read from.
    pub fn writer_schema_id(&self) -> u32 {
        self.writer_schema_id
    }

    /// `created_at` exactly as the input wrote it.
    pub fn created_at_text(&self) -> &str {
        self.parts.s(self.parts.created_at.expect("validated"))
    }

    /// The requester's (email, name), when the input had a requester.
    pub fn requester(&self) -> Option<(Option<&str>, Option<&str>)> {
        self.parts
            .requester
            .map(|(e, n)| (self.parts.opt(e), self.parts.opt(n)))
    }

    /// Input fields the ticket schema does not define, in input order.
    pub fn extra_fields(&self) -> impl Iterator<Item = ExtraFieldRef<'_>> + '_ {
        let p = &self.parts;
        p.extras.iter().map(move |x| ExtraFieldRef {
            name: &x.name,
            json: p.s(x.json),
            avro_schema: x.avro.as_ref().map(|(s, _)| &**s),
            avro_datum: x
                .avro
                .as_ref()
                .map(|(_, d)| &p.raw[d.start as usize..d.end as usize]),
        })
    }
}
