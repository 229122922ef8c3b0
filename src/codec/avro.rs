//! Avro in the Confluent wire format: ticket events and customer records in,
//! triaged tickets out. Pure: no I/O. Writer schemas that are not bundled come
//! from the edge ([`crate::registry`]) through [`AvroCodec::add_writer_schema`].
//!
//! # Wire format
//!
//! Byte 0 is the magic byte `0`, bytes 1–4 the schema id (big-endian `u32`),
//! then one Avro binary datum written with that schema (the *writer* schema).
//! Nothing may follow the datum.
//!
//! # How a datum is read: compiled once, walked per message
//!
//! Each writer schema is parsed (by apache-avro) and *compiled* once, when it
//! is first seen: its fields are matched by name against the reader schema
//! (`schemas/ticket_event.avsc`, `schemas/customer.avsc`) and the result is a
//! small read plan per field — "a string", "a union whose branch 0 is null and
//! branch 1 a string", "skip this record", "carry this field through". A
//! message is then decoded by walking the plan over the bytes (zig-zag varints,
//! length-prefixed strings, unions by index) straight into [`AvroTicket`]: no
//! `apache_avro::types::Value`, no schema parsing or resolution per message
//! (apache-avro 0.20's `from_avro_datum` rebuilds its name table on every
//! call, apache/avro-rs#310). The bundled schemas are compiled once per
//! process ([`bundled_compilations`]), registry schemas once per id per codec
//! ([`AvroCodec::resolutions`]). `tests/avro.rs` checks the plans against
//! apache-avro's generic decode + resolution on generated tickets, for the
//! bundled schema and for evolved writer schemas, and checks every datum this
//! module writes by decoding it with apache-avro.
//!
//! Resolution follows the Avro specification: fields match by name; writer
//! fields the reader lacks are skipped (or carried through, below); reader
//! fields the writer lacks take the reader's default, and a required field
//! (`ticket_id`, `customer_id`, `created_at`, `subject`) with no writer field
//! makes every record of that writer schema a `schema_error`; promotions
//! int→long, int/long/float→double and bytes→string; unions on either side,
//! branch by branch (a branch the reader cannot take fails only the records
//! that use it). Two deliberate extensions: an enum is read as its symbol
//! where the reader wants a string, and `null` where the reader has an empty
//! default (`tags`, `custom_fields`) reads as empty — as JSON `null` does.
//! Record names are not compared (producers name their records freely).
//!
//! # Fields the reader does not know: `extra_fields`
//!
//! The contract passes unknown input fields through unchanged. A fixed Avro
//! output schema cannot grow fields per producer, so the triaged schema has an
//! `extra_fields` array: for every top-level writer field that
//! `TicketEvent` does not define, its name, its value as JSON, its writer
//! schema (self-contained) and its datum bytes exactly as the writer wrote
//! them. Unknown fields nested inside `requester` are dropped. An input field
//! named `triage` is replaced by the verdict, as for JSON.
//!
//! # Validation
//!
//! After decoding, a ticket is checked with the same rules as JSON input
//! (`check_ticket_fields`, `parse_created_at`,
//! `affected_users >= 0`), so both formats dead-letter the same records with
//! the same reasons: not a frame / bytes that do not decode → `decode_error`;
//! unknown schema id → `unknown_schema`; a writer schema or a value that is not
//! a ticket → `schema_error`; a malformed value → `invalid_field`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use apache_avro::schema::{Name, Namespace};
use apache_avro::Schema;
use arc_swap::ArcSwap;
use jiff::Timestamp;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{DecodeError, DlqReason};
use crate::model::{CustomValue, Customer, ReportedPriority, Ticket, Triage};

/// `schemas/ticket_event.avsc`: the reader schema of ticket events.
pub const TICKET_SCHEMA: &str = include_str!("../../schemas/ticket_event.avsc");
/// `schemas/customer.avsc`: the reader schema of customer records.
pub const CUSTOMER_SCHEMA: &str = include_str!("../../schemas/customer.avsc");
/// `schemas/triaged_ticket.avsc`: the schema of every Avro output record.
pub const TRIAGED_SCHEMA: &str = include_str!("../../schemas/triaged_ticket.avsc");

/// The `content-type` header value of Avro output records.
pub const CONTENT_TYPE: &str = "application/vnd.apache.avro";
/// Byte 0 of a Confluent frame.
pub const MAGIC: u8 = 0;
/// Magic byte + schema id.
pub const HEADER_LEN: usize = 5;

/// Deepest nesting of records/arrays/maps/unions a datum may use (guards the
/// stack against recursive writer schemas).
const MAX_DEPTH: u32 = 64;

/// Most array and map items one datum may hold, all blocks and levels
/// together. Zero-size items (`null`, empty records) take no bytes, so the
/// datum's size bounds nothing for them: without a total a 1 MiB frame
/// could expand to gigabytes when rendered. Stated in the config reference.
pub const MAX_ITEMS: usize = 100_000;

/// Most bytes of JSON an Avro datum's extra fields may render to.
pub const MAX_RENDERED_BYTES: usize = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------

/// The schema id and datum of a Confluent frame, or `None` when `bytes` is
/// not one (shorter than 5 bytes or magic byte not 0).
pub fn split_frame(bytes: &[u8]) -> Option<(u32, &[u8])> {
    if bytes.len() < HEADER_LEN || bytes[0] != MAGIC {
        return None;
    }
    let id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    Some((id, &bytes[HEADER_LEN..]))
}

/// Appends the 5-byte Confluent header for `schema_id`.
pub fn write_header(schema_id: u32, out: &mut Vec<u8>) {
    out.push(MAGIC);
    out.extend_from_slice(&schema_id.to_be_bytes());
}

fn frame_or_error(bytes: &[u8]) -> Result<(u32, &[u8]), DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::new(
            DlqReason::DecodeError,
            format!(
                "not a Confluent Avro frame: {} bytes, a frame has at least 5",
                bytes.len()
            ),
        ));
    }
    if bytes[0] != MAGIC {
        let hint = match bytes[0] {
            b'{' | b'[' | b' ' | b'\n' => " (looks like JSON)",
            _ => "",
        };
        return Err(DecodeError::new(
            DlqReason::DecodeError,
            format!(
                "not a Confluent Avro frame: magic byte is 0x{:02x}, expected 0x00{hint}",
                bytes[0]
            ),
        ));
    }
    Ok(split_frame(bytes).expect("checked"))
}

// ---------------------------------------------------------------------------
// The codec
// ---------------------------------------------------------------------------

/// Schema ids the bundled schemas are known under when no registry assigns
/// them. With a registry, register the bundled schemas (see
/// [`crate::registry`]) and use the ids it returns, or `None` for the input
/// schemas so that ids are only ever resolved through the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundledIds {
    /// Id under which `ticket_event.avsc` is a known writer schema.
    pub ticket: Option<u32>,
    /// Id under which `customer.avsc` is a known writer schema.
    pub customer: Option<u32>,
    /// Id written into every triaged output frame. Also known as a writer
    /// schema (triaged tickets read back as tickets) when `ticket` or
    /// `customer` is set.
    pub triaged: u32,
}

impl Default for BundledIds {
    fn default() -> Self {
        BundledIds {
            ticket: Some(1),
            customer: Some(2),
            triaged: 3,
        }
    }
}

/// Ticket/customer decoding and triaged encoding in the Confluent Avro wire
/// format. Cheap to share (`Arc<AvroCodec>`); every method takes `&self`.
pub struct AvroCodec {
    ids: BundledIds,
    /// Schema id → compiled writer. Copy-on-write: adding a schema is rare,
    /// reading is per message and takes no lock.
    writers: ArcSwap<Vec<(u32, Arc<ResolvedWriter>)>>,
    add_lock: Mutex<()>,
    resolutions: AtomicU64,
}

impl std::fmt::Debug for AvroCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<u32> = self.writers.load().iter().map(|(id, _)| *id).collect();
        f.debug_struct("AvroCodec")
            .field("ids", &self.ids)
            .field("known_schema_ids", &ids)
            .finish()
    }
}

/// A writer schema, compiled once against each reader schema.
struct ResolvedWriter {
    graph: Graph,
    /// `Err`: why records of this schema are not ticket events (schema_error).
    ticket: Result<Plan<TicketSlot>, String>,
    customer: Result<Plan<CustomerSlot>, String>,
}

struct Bundled {
    ticket: Arc<ResolvedWriter>,
    customer: Arc<ResolvedWriter>,
    triaged: Arc<ResolvedWriter>,
}

static BUNDLED_COMPILATIONS: AtomicU64 = AtomicU64::new(0);

static BUNDLED: LazyLock<Bundled> = LazyLock::new(|| {
    BUNDLED_COMPILATIONS.fetch_add(1, Ordering::Relaxed);
    let compile = |text: &str| {
        let schema = Schema::parse_str(text).expect("bundled schema parses");
        Arc::new(ResolvedWriter::compile(&schema))
    };
    Bundled {
        ticket: compile(TICKET_SCHEMA),
        customer: compile(CUSTOMER_SCHEMA),
        triaged: compile(TRIAGED_SCHEMA),
    }
});

/// How many times the bundled schemas were parsed and compiled in this
/// process: 1 once any codec exists, never more.
pub fn bundled_compilations() -> u64 {
    BUNDLED_COMPILATIONS.load(Ordering::Relaxed)
}

impl AvroCodec {
    /// The bundled schemas under the default ids (ticket 1, customer 2,
    /// triaged 3): for running without a registry.
    pub fn bundled() -> AvroCodec {
        AvroCodec::with_ids(BundledIds::default())
    }

    /// The bundled schemas under the given ids.
    pub fn with_ids(ids: BundledIds) -> AvroCodec {
        let b = &*BUNDLED;
        let mut writers = Vec::new();
        if let Some(id) = ids.ticket {
            writers.push((id, b.ticket.clone()));
        }
        if let Some(id) = ids.customer {
            if !writers.iter().any(|(k, _)| *k == id) {
                writers.push((id, b.customer.clone()));
            }
        }
        if (ids.ticket.is_some() || ids.customer.is_some())
            && !writers.iter().any(|(k, _)| *k == ids.triaged)
        {
            // Triaged tickets fed back in decode too (their `triage` is
            // replaced). Not with input ids `None` (registry mode): there every
            // input id, this one included, is resolved through the registry.
            writers.push((ids.triaged, b.triaged.clone()));
        }
        AvroCodec {
            ids,
            writers: ArcSwap::from_pointee(writers),
            add_lock: Mutex::new(()),
            resolutions: AtomicU64::new(0),
        }
    }

    /// The ids this codec was built with.
    pub fn ids(&self) -> BundledIds {
        self.ids
    }

    /// The schema id written into triaged output frames.
    pub fn triaged_schema_id(&self) -> u32 {
        self.ids.triaged
    }

    /// How many writer schemas this codec parsed and compiled through
    /// [`add_writer_schema`](Self::add_writer_schema) (once per new id; the
    /// bundled ones are counted by [`bundled_compilations`]).
    pub fn resolutions(&self) -> u64 {
        self.resolutions.load(Ordering::Relaxed)
    }

    /// Whether a writer schema is known under `id`.
    pub fn knows(&self, id: u32) -> bool {
        self.knows_id(id)
    }

    fn knows_id(&self, id: u32) -> bool {
        self.writers.load().iter().any(|(k, _)| *k == id)
    }

    /// Adds the writer schema registered under `id` (the registry's
    /// `schema` string). Parsed and compiled here, once; a known id is a
    /// no-op. A schema that parses but is not a ticket (nor a customer) is
    /// still cached, so its records go to the dead letters as `schema_error`
    /// without asking the registry again; a schema that does not parse is
    /// cached the same way and reported as `Err`.
    pub fn add_writer_schema(&self, id: u32, schema_json: &str) -> Result<(), String> {
        if self.knows(id) {
            return Ok(());
        }
        let _guard = self.add_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.knows(id) {
            return Ok(());
        }
        self.resolutions.fetch_add(1, Ordering::Relaxed);
        let (writer, result) = match Schema::parse_str(schema_json) {
            Ok(schema) => (ResolvedWriter::compile(&schema), Ok(())),
            Err(e) => {
                let why = format!("writer schema {id} does not parse: {e}");
                (ResolvedWriter::broken(why.clone()), Err(why))
            }
        };
        let mut next: Vec<(u32, Arc<ResolvedWriter>)> = (**self.writers.load()).clone();
        next.push((id, Arc::new(writer)));
        self.writers.store(Arc::new(next));
        result
    }

    /// `Some(id)` when `bytes` is a Confluent frame whose schema id is not
    /// known yet: the edge fetches that schema and calls
    /// [`add_writer_schema`](Self::add_writer_schema) before decoding.
    /// `None` for known ids and for bytes that are not a frame at all.
    pub fn needs_schema(&self, bytes: &[u8]) -> Option<u32> {
        let (id, _) = split_frame(bytes)?;
        if self.knows(id) {
            None
        } else {
            Some(id)
        }
    }

    /// Runs `f` with the frame's writer. The writer is borrowed from the
    /// lock-free snapshot (no reference-count traffic per message).
    fn with_writer<R>(
        &self,
        bytes: &[u8],
        f: impl FnOnce(u32, &ResolvedWriter, &[u8]) -> Result<R, DecodeError>,
    ) -> Result<R, DecodeError> {
        let (id, datum) = frame_or_error(bytes)?;
        let guard = self.writers.load();
        let Some((_, writer)) = guard.iter().find(|(k, _)| *k == id) else {
            return Err(DecodeError::new(
                DlqReason::UnknownSchema,
                format!(
                    "schema id {id} is not known (not in the schema registry, or no registry configured)"
                ),
            ));
        };
        f(id, writer, datum)
    }

    /// Decodes and validates one ticket event.
    pub fn decode_ticket(&self, bytes: &[u8]) -> Result<AvroTicket, DecodeError> {
        self.with_writer(bytes, |id, writer, datum| {
            let plan = writer.ticket.as_ref().map_err(|why| {
                DecodeError::new(
                    DlqReason::SchemaError,
                    format!("writer schema {id} cannot be read as a ticket event: {why}"),
                )
            })?;
            let parts = read_ticket(&writer.graph, plan, datum).map_err(Fail::into_error)?;
            AvroTicket::validate(parts, id)
        })
    }

    /// Decodes one customer record. A tombstone (empty value) is not a
    /// record: the caller deletes the customer instead of calling this.
    pub fn decode_customer(&self, bytes: &[u8]) -> Result<Customer, DecodeError> {
        self.with_writer(bytes, |id, writer, datum| {
            let plan = writer.customer.as_ref().map_err(|why| {
                DecodeError::new(
                    DlqReason::SchemaError,
                    format!("writer schema {id} cannot be read as a customer record: {why}"),
                )
            })?;
            read_customer(&writer.graph, plan, datum).map_err(Fail::into_error)
        })
    }

    /// Writes the triaged ticket (`triaged_ticket.avsc`) as a Confluent frame
    /// with the triaged schema id. Appends to `out`.
    pub fn encode_triaged(
        &self,
        t: &AvroTicket,
        triage: &Triage,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        out.reserve(t.parts.text.len() + 64 * triage.reasons.len() + 512);
        write_header(self.ids.triaged, out);
        write_ticket_fields(&t.parts, out)?;
        write_extras(&t.parts, out);
        write_triage(triage, out);
        Ok(())
    }

    /// Writes the triaged ticket as JSON (the JSON format's output shape:
    /// ticket fields, then the extra fields under their own names, then
    /// `"triage"`), for Avro input published as JSON.
    pub fn encode_triaged_json(&self, t: &AvroTicket, triage: &Triage, out: &mut Vec<u8>) {
        write_json_ticket(&t.parts, out);
        out.extend_from_slice(b",\"triage\":");
        serde_json::to_writer(&mut *out, triage).expect("writing to a Vec cannot fail");
        out.push(b'}');
    }

    /// Writes the triaged ticket as an Avro frame from a JSON input that
    /// [`super::json::decode_ticket`] accepted (JSON input published as
    /// Avro). Input keys the ticket schema does not define, and known keys
    /// whose value the schema cannot hold (e.g. a `requester` with a numeric
    /// `email`), go to `extra_fields` with their JSON text unchanged; a
    /// `triage` key is replaced.
    pub fn encode_triaged_from_json(
        &self,
        json: &[u8],
        triage: &Triage,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let parts = parts_from_json(json, false)?;
        out.reserve(parts.text.len() + 64 * triage.reasons.len() + 512);
        write_header(self.ids.triaged, out);
        write_ticket_fields(&parts, out)?;
        write_extras(&parts, out);
        write_triage(triage, out);
        Ok(())
    }

    /// Encodes a JSON ticket event as an Avro frame of the bundled ticket
    /// schema (id [`BundledIds::ticket`], or 1): for tests, the demo and the
    /// benchmark generator. Checks only that the JSON fits the schema (types,
    /// required fields, no unknown keys), not the contract's value rules, so
    /// it can also produce records that must be dead-lettered as
    /// `invalid_field` (bad `created_at`, negative `affected_users` …).
    pub fn encode_ticket_from_json(&self, json: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let parts = parts_from_json(json, true)?;
        write_header(self.ids.ticket.unwrap_or(1), out);
        write_ticket_fields(&parts, out)
    }

    /// Encodes a decoded ticket back as an Avro frame of the bundled ticket
    /// schema (its extra fields are not part of that schema and are left out).
    pub fn encode_ticket(&self, t: &AvroTicket, out: &mut Vec<u8>) -> Result<(), String> {
        write_header(self.ids.ticket.unwrap_or(1), out);
        write_ticket_fields(&t.parts, out)
    }

    /// Encodes a customer record as an Avro frame of the bundled customer
    /// schema (id [`BundledIds::customer`], or 2).
    pub fn encode_customer(&self, c: &Customer, out: &mut Vec<u8>) {
        write_header(self.ids.customer.unwrap_or(2), out);
        put_str(out, &c.customer_id);
        put_opt_str(out, c.name.as_deref());
        put_opt_str(out, c.account_type.as_deref());
        put_opt_str(out, c.support_plan.as_deref());
        out.push(c.vip as u8);
        put_opt_str(out, c.persona.as_deref());
        put_opt_str(out, c.lifecycle.as_deref());
        match c.arr {
            None => out.push(0),
            Some(a) => {
                out.push(2);
                out.extend_from_slice(&a.to_le_bytes());
            }
        }
        put_opt_str(out, c.sla_policy.as_deref());
        put_opt_str(out, c.timezone.as_deref());
        put_opt_str(out, c.language.as_deref());
    }
}

// ---------------------------------------------------------------------------
// The decoded ticket
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn of(self, text: &str) -> &str {
        &text[self.start as usize..self.end as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Custom {
    Str(Span),
    Long(i64),
    Double(f64),
    Bool(bool),
}

#[derive(Debug, Clone)]
struct Extra {
    name: Arc<str>,
    /// JSON text of the value, in `Parts::text`.
    json: Span,
    /// Avro input only.
    avro: Option<(Arc<str>, Span)>,
}

/// The fields of a ticket as read, before the contract's value checks. All
/// string values live in `text`; `raw` holds extra fields' datum bytes.
#[derive(Debug, Clone, Default)]
struct Parts {
    text: String,
    raw: Vec<u8>,
    ticket_id: Option<Span>,
    customer_id: Option<Span>,
    created_at: Option<Span>,
    subject: Option<Span>,
    body: Option<Span>,
    channel: Option<Span>,
    requester: Option<(Option<Span>, Option<Span>)>,
    reported_priority: Option<Span>,
    affected_users: Option<i64>,
    tags: Vec<Span>,
    custom_fields: Vec<(Span, Custom)>,
    extras: Vec<Extra>,
}

impl Parts {
    fn push(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len() as u32,
        }
    }
    fn s(&self, span: Span) -> &str {
        span.of(&self.text)
    }
    fn opt(&self, span: Option<Span>) -> Option<&str> {
        span.map(|s| s.of(&self.text))
    }
}

/// A decoded, validated Avro ticket event. Owns its data (one string buffer
/// for all text), so it outlives the Kafka message; [`ticket`](Self::ticket)
/// lends the engine's view of it.
#[derive(Debug, Clone)]
pub struct AvroTicket {
    parts: Parts,
    created_at: Timestamp,
    reported_priority: Option<ReportedPriority>,
    writer_schema_id: u32,
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
    fn validate(parts: Parts, writer_schema_id: u32) -> Result<AvroTicket, DecodeError> {
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
        super::check_ticket_fields(
            parts.s(ticket_id),
            parts.s(customer_id),
            parts.opt(parts.channel),
            parts.opt(parts.reported_priority),
        )?;
        let created_at = super::parse_created_at(parts.s(created_at))?;
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

// ---------------------------------------------------------------------------
// Writer schema graph (compiled once)
// ---------------------------------------------------------------------------

type NodeId = u32;

#[derive(Debug, Clone)]
enum Node {
    Null,
    Bool,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    Str,
    Fixed(usize),
    Enum(Arc<[Box<str>]>),
    Array(NodeId),
    Map(NodeId),
    Union(Box<[NodeId]>),
    Record(Box<[(Box<str>, NodeId)]>),
    /// Placeholder while a named type is being built.
    Pending,
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool => "boolean",
            Node::Int => "int",
            Node::Long => "long",
            Node::Float => "float",
            Node::Double => "double",
            Node::Bytes => "bytes",
            Node::Str => "string",
            Node::Fixed(_) => "fixed",
            Node::Enum(_) => "enum",
            Node::Array(_) => "array",
            Node::Map(_) => "map",
            Node::Union(_) => "union",
            Node::Record(_) => "record",
            Node::Pending => "unresolved reference",
        }
    }
}

/// The writer schema as a graph of nodes (named references resolved to
/// indices, logical types reduced to their encoding).
#[derive(Debug, Default)]
struct Graph {
    nodes: Vec<Node>,
    /// Items of this node may take zero bytes (array/map block guard).
    zero: Vec<bool>,
    root: NodeId,
}

struct GraphBuilder<'s> {
    nodes: Vec<Node>,
    names: HashMap<String, NodeId>,
    schemas: HashMap<String, &'s Schema>,
}

impl<'s> GraphBuilder<'s> {
    fn add(&mut self, n: Node) -> NodeId {
        self.nodes.push(n);
        (self.nodes.len() - 1) as NodeId
    }

    fn named(&mut self, name: &Name, ns: &Namespace, s: &'s Schema) -> (String, NodeId, Namespace) {
        let fq = name.fully_qualified_name(ns);
        let full = fq.fullname(None);
        let id = self.add(Node::Pending);
        self.names.insert(full.clone(), id);
        self.schemas.insert(full.clone(), s);
        (full, id, fq.namespace)
    }

    fn build(&mut self, s: &'s Schema, ns: &Namespace) -> Result<NodeId, String> {
        Ok(match s {
            Schema::Null => self.add(Node::Null),
            Schema::Boolean => self.add(Node::Bool),
            Schema::Int | Schema::Date | Schema::TimeMillis => self.add(Node::Int),
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => self.add(Node::Long),
            Schema::Float => self.add(Node::Float),
            Schema::Double => self.add(Node::Double),
            Schema::Bytes | Schema::BigDecimal => self.add(Node::Bytes),
            Schema::String | Schema::Uuid => self.add(Node::Str),
            Schema::Duration => self.add(Node::Fixed(12)),
            Schema::Decimal(d) => self.build(&d.inner, ns)?,
            Schema::Fixed(f) => {
                let (_, id, _) = self.named(&f.name, ns, s);
                self.nodes[id as usize] = Node::Fixed(f.size);
                id
            }
            Schema::Enum(e) => {
                let (_, id, _) = self.named(&e.name, ns, s);
                let symbols: Arc<[Box<str>]> =
                    e.symbols.iter().map(|x| x.as_str().into()).collect();
                self.nodes[id as usize] = Node::Enum(symbols);
                id
            }
            Schema::Record(r) => {
                let (_, id, inner_ns) = self.named(&r.name, ns, s);
                let mut fields = Vec::with_capacity(r.fields.len());
                for f in &r.fields {
                    let child = self.build(&f.schema, &inner_ns)?;
                    fields.push((f.name.as_str().into(), child));
                }
                self.nodes[id as usize] = Node::Record(fields.into_boxed_slice());
                id
            }
            Schema::Array(a) => {
                let item = self.build(&a.items, ns)?;
                self.add(Node::Array(item))
            }
            Schema::Map(m) => {
                let v = self.build(&m.types, ns)?;
                self.add(Node::Map(v))
            }
            Schema::Union(u) => {
                let mut branches = Vec::with_capacity(u.variants().len());
                for b in u.variants() {
                    branches.push(self.build(b, ns)?);
                }
                self.add(Node::Union(branches.into_boxed_slice()))
            }
            Schema::Ref { name } => {
                let full = name.fully_qualified_name(ns).fullname(None);
                *self
                    .names
                    .get(&full)
                    .ok_or_else(|| format!("unknown type name `{full}`"))?
            }
        })
    }

    fn finish(self, root: NodeId) -> (Graph, HashMap<String, &'s Schema>) {
        // Minimum encoded size, to a fixed point (records may be recursive).
        let n = self.nodes.len();
        let mut min = vec![u64::MAX / 4; n];
        for _ in 0..=n.min(64) {
            let mut changed = false;
            for (i, node) in self.nodes.iter().enumerate() {
                let m = match node {
                    Node::Null => 0,
                    Node::Fixed(s) => *s as u64,
                    Node::Float => 4,
                    Node::Double => 8,
                    Node::Record(fields) => fields
                        .iter()
                        .map(|(_, c)| min[*c as usize])
                        .fold(0u64, |a, b| a.saturating_add(b)),
                    _ => 1,
                };
                if m < min[i] {
                    min[i] = m;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let zero = min.iter().map(|m| *m == 0).collect();
        (
            Graph {
                nodes: self.nodes,
                zero,
                root,
            },
            self.schemas,
        )
    }
}

/// A schema compiled for [`DatumCheck::check`]: reads a datum through with
/// this codec's bounds (block counts within the datum's bytes, at most
/// [`MAX_ITEMS`] items, nesting at most 64) without building values.
///
/// For callers that decode with apache-avro afterwards: its decoder
/// reserves room for an array block's count before reading the items, so a
/// 45-byte frame can ask for gigabytes (found by the `lifecycle` fuzz
/// target). A datum that passes here cannot.
#[derive(Debug)]
pub struct DatumCheck {
    graph: Graph,
}

impl DatumCheck {
    pub fn new(schema: &Schema) -> Result<DatumCheck, String> {
        let mut b = GraphBuilder {
            nodes: Vec::new(),
            names: HashMap::new(),
            schemas: HashMap::new(),
        };
        let root = b.build(schema, &None)?;
        let (graph, _) = b.finish(root);
        Ok(DatumCheck { graph })
    }

    /// `Ok` when `datum` is exactly one value of the schema within the
    /// bounds; the error names the problem (never the content).
    pub fn check(&self, datum: &[u8]) -> Result<(), String> {
        let mut cur = Cur::new(datum);
        let g = &self.graph;
        cur.skip(g, g.root, 0).map_err(|f| match f {
            Fail::Decode(d) | Fail::Schema(d) => d,
        })?;
        if cur.remaining() > 0 {
            return Err(format!("{} bytes follow the datum", cur.remaining()));
        }
        Ok(())
    }
}

/// The writer schema of one field as a self-contained JSON schema: named
/// types it uses are defined inline at first use.
fn field_schema_json(
    s: &Schema,
    ns: &Namespace,
    schemas: &HashMap<String, &Schema>,
    defined: &mut HashSet<String>,
) -> serde_json::Value {
    use serde_json::{json, Value};
    let named = |v: Value, full: &str| {
        let mut v = v;
        if let Value::Object(m) = &mut v {
            m.remove("namespace");
            m.insert("name".into(), Value::String(full.into()));
        }
        v
    };
    match s {
        Schema::Ref { name } => {
            let full = name.fully_qualified_name(ns).fullname(None);
            match schemas.get(&full) {
                Some(def) if !defined.contains(&full) => {
                    let def_ns = name.fully_qualified_name(ns).namespace;
                    field_schema_json(def, &def_ns, schemas, defined)
                }
                _ => Value::String(full),
            }
        }
        Schema::Record(r) => {
            let fq = r.name.fully_qualified_name(ns);
            let full = fq.fullname(None);
            if !defined.insert(full.clone()) {
                return Value::String(full);
            }
            let fields: Vec<Value> = r
                .fields
                .iter()
                .map(|f| {
                    let mut o = serde_json::Map::new();
                    o.insert("name".into(), Value::String(f.name.clone()));
                    o.insert(
                        "type".into(),
                        field_schema_json(&f.schema, &fq.namespace, schemas, defined),
                    );
                    if let Some(d) = &f.default {
                        o.insert("default".into(), d.clone());
                    }
                    Value::Object(o)
                })
                .collect();
            json!({"type": "record", "name": full, "fields": fields})
        }
        Schema::Enum(e) => {
            let full = e.name.fully_qualified_name(ns).fullname(None);
            if !defined.insert(full.clone()) {
                return Value::String(full);
            }
            named(serde_json::to_value(s).unwrap_or(Value::Null), &full)
        }
        Schema::Fixed(f) => {
            let full = f.name.fully_qualified_name(ns).fullname(None);
            if !defined.insert(full.clone()) {
                return Value::String(full);
            }
            named(serde_json::to_value(s).unwrap_or(Value::Null), &full)
        }
        Schema::Decimal(d) => match &*d.inner {
            Schema::Fixed(f) => {
                let full = f.name.fully_qualified_name(ns).fullname(None);
                defined.insert(full.clone());
                named(serde_json::to_value(s).unwrap_or(Value::Null), &full)
            }
            _ => serde_json::to_value(s).unwrap_or(Value::Null),
        },
        Schema::Array(a) => {
            json!({"type": "array", "items": field_schema_json(&a.items, ns, schemas, defined)})
        }
        Schema::Map(m) => {
            json!({"type": "map", "values": field_schema_json(&m.types, ns, schemas, defined)})
        }
        Schema::Union(u) => Value::Array(
            u.variants()
                .iter()
                .map(|b| field_schema_json(b, ns, schemas, defined))
                .collect(),
        ),
        other => serde_json::to_value(other).unwrap_or(Value::Null),
    }
}

// ---------------------------------------------------------------------------
// Read plans: a writer schema resolved against a reader schema
// ---------------------------------------------------------------------------

/// What the reader wants for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// A required string.
    Str,
    /// `["null","string"]`, default null.
    OptStr,
    /// `["null","long"]`, default null.
    OptLong,
    /// `["null","double"]`, default null.
    OptDouble,
    /// `boolean`, default false.
    Bool,
    /// `array<string>`, default [].
    StrList,
    /// `map<[string,long,double,boolean]>`, default {}.
    CustomMap,
    /// A custom-field value.
    Custom,
    /// `["null", Requester]`, default null.
    Requester,
}

impl Want {
    fn nullable(self) -> bool {
        !matches!(self, Want::Str | Want::Bool | Want::Custom)
    }
    fn has_default(self) -> bool {
        self != Want::Str && self != Want::Custom
    }
    fn describe(self) -> &'static str {
        match self {
            Want::Str => "a string",
            Want::OptStr => "an optional string",
            Want::OptLong => "an optional long",
            Want::OptDouble => "an optional double",
            Want::Bool => "a boolean",
            Want::StrList => "an array of strings",
            Want::CustomMap => "a map of string, number or boolean",
            Want::Custom => "a string, number or boolean",
            Want::Requester => "a requester record",
        }
    }
}

/// How to read one writer value into what the reader wants.
#[derive(Debug, Clone)]
enum Rd {
    Null,
    Str,
    Enum(Arc<[Box<str>]>),
    Int,
    Long,
    Float,
    Double,
    Bool,
    Array(Box<Rd>),
    Map(Box<Rd>),
    Record(Box<Plan<RequesterSlot>>),
    Union(Box<[Rd]>),
    /// A union branch the reader cannot take: a schema_error if used.
    Bad(Arc<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TicketSlot {
    TicketId,
    CustomerId,
    CreatedAt,
    Subject,
    Body,
    Channel,
    Requester,
    ReportedPriority,
    AffectedUsers,
    Tags,
    CustomFields,
}

const TICKET_SPEC: &[(&str, Want, TicketSlot)] = &[
    ("ticket_id", Want::Str, TicketSlot::TicketId),
    ("customer_id", Want::Str, TicketSlot::CustomerId),
    ("created_at", Want::Str, TicketSlot::CreatedAt),
    ("subject", Want::Str, TicketSlot::Subject),
    ("body", Want::OptStr, TicketSlot::Body),
    ("channel", Want::OptStr, TicketSlot::Channel),
    ("requester", Want::Requester, TicketSlot::Requester),
    (
        "reported_priority",
        Want::OptStr,
        TicketSlot::ReportedPriority,
    ),
    ("affected_users", Want::OptLong, TicketSlot::AffectedUsers),
    ("tags", Want::StrList, TicketSlot::Tags),
    ("custom_fields", Want::CustomMap, TicketSlot::CustomFields),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CustomerSlot {
    CustomerId,
    Name,
    AccountType,
    SupportPlan,
    Vip,
    Persona,
    Lifecycle,
    Arr,
    SlaPolicy,
    Timezone,
    Language,
}

const CUSTOMER_SPEC: &[(&str, Want, CustomerSlot)] = &[
    ("customer_id", Want::Str, CustomerSlot::CustomerId),
    ("name", Want::OptStr, CustomerSlot::Name),
    ("account_type", Want::OptStr, CustomerSlot::AccountType),
    ("support_plan", Want::OptStr, CustomerSlot::SupportPlan),
    ("vip", Want::Bool, CustomerSlot::Vip),
    ("persona", Want::OptStr, CustomerSlot::Persona),
    ("lifecycle", Want::OptStr, CustomerSlot::Lifecycle),
    ("arr", Want::OptDouble, CustomerSlot::Arr),
    ("sla_policy", Want::OptStr, CustomerSlot::SlaPolicy),
    ("timezone", Want::OptStr, CustomerSlot::Timezone),
    ("language", Want::OptStr, CustomerSlot::Language),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequesterSlot {
    Email,
    Name,
}

const REQUESTER_SPEC: &[(&str, Want, RequesterSlot)] = &[
    ("email", Want::OptStr, RequesterSlot::Email),
    ("name", Want::OptStr, RequesterSlot::Name),
];

#[derive(Debug, Clone)]
enum Step<S> {
    /// Read into a reader field.
    Field { slot: S, name: &'static str, rd: Rd },
    /// A writer field the reader does not know: skip it.
    Skip(NodeId),
    /// A writer field the reader does not know: carry it through.
    Extra {
        node: NodeId,
        name: Arc<str>,
        schema: Arc<str>,
    },
    /// A writer field named `triage`: dropped (the verdict replaces it).
    Drop(NodeId),
}

#[derive(Debug, Clone)]
struct Plan<S> {
    steps: Box<[Step<S>]>,
}

/// What to do with writer fields the reader does not know.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unknown {
    Skip,
    /// Top level of a ticket: carry through, except `triage`.
    Carry,
}

impl ResolvedWriter {
    fn broken(why: String) -> ResolvedWriter {
        ResolvedWriter {
            graph: Graph::default(),
            ticket: Err(why.clone()),
            customer: Err(why),
        }
    }

    fn compile(schema: &Schema) -> ResolvedWriter {
        let mut b = GraphBuilder {
            nodes: Vec::new(),
            names: HashMap::new(),
            schemas: HashMap::new(),
        };
        let root = match b.build(schema, &None) {
            Ok(r) => r,
            Err(e) => return ResolvedWriter::broken(format!("writer schema is invalid: {e}")),
        };
        let (graph, schemas) = b.finish(root);
        let root_ns = match schema {
            Schema::Record(r) => r.name.fully_qualified_name(&None).namespace,
            _ => None,
        };
        let extra_schema = |field: &str| -> Arc<str> {
            let Schema::Record(r) = schema else {
                return Arc::from("null");
            };
            let f = r
                .fields
                .iter()
                .find(|f| f.name == field)
                .expect("field exists");
            let mut defined = HashSet::new();
            let v = field_schema_json(&f.schema, &root_ns, &schemas, &mut defined);
            Arc::from(v.to_string())
        };
        let ticket = compile_record(
            &graph,
            graph.root,
            TICKET_SPEC,
            Unknown::Carry,
            &extra_schema,
        );
        let customer = compile_record(
            &graph,
            graph.root,
            CUSTOMER_SPEC,
            Unknown::Skip,
            &extra_schema,
        );
        ResolvedWriter {
            graph,
            ticket,
            customer,
        }
    }
}

fn compile_record<S: Copy>(
    g: &Graph,
    node: NodeId,
    spec: &'static [(&'static str, Want, S)],
    unknown: Unknown,
    extra_schema: &dyn Fn(&str) -> Arc<str>,
) -> Result<Plan<S>, String> {
    let Node::Record(fields) = &g.nodes[node as usize] else {
        return Err(format!(
            "the writer schema is a {}, not a record",
            g.nodes[node as usize].kind()
        ));
    };
    let mut steps = Vec::with_capacity(fields.len());
    for (name, child) in fields.iter() {
        match spec.iter().find(|(n, _, _)| **n == **name) {
            Some(&(rname, want, slot)) => {
                let rd = compile_value(g, *child, want, false)
                    .map_err(|e| format!("field `{rname}`: {e}"))?;
                steps.push(Step::Field {
                    slot,
                    name: rname,
                    rd,
                });
            }
            None => match unknown {
                Unknown::Carry if &**name == "triage" => steps.push(Step::Drop(*child)),
                Unknown::Carry => steps.push(Step::Extra {
                    node: *child,
                    name: Arc::from(&**name),
                    schema: extra_schema(name),
                }),
                Unknown::Skip => steps.push(Step::Skip(*child)),
            },
        }
    }
    for &(rname, want, _) in spec {
        if !want.has_default() && !fields.iter().any(|(n, _)| &**n == rname) {
            return Err(format!(
                "required field `{rname}` is missing from the writer schema and has no default"
            ));
        }
    }
    Ok(Plan {
        steps: steps.into_boxed_slice(),
    })
}

fn compile_value(g: &Graph, node: NodeId, want: Want, in_union: bool) -> Result<Rd, String> {
    let n = &g.nodes[node as usize];
    let mismatch = || format!("a {} cannot be read as {}", n.kind(), want.describe());
    Ok(match (n, want) {
        (Node::Union(branches), _) if !in_union => {
            let rds: Vec<Rd> = branches
                .iter()
                .map(|b| compile_value(g, *b, want, true).unwrap_or_else(|e| Rd::Bad(e.into())))
                .collect();
            if rds.iter().all(|r| matches!(r, Rd::Bad(_))) {
                let first = match rds.first() {
                    Some(Rd::Bad(e)) => e.to_string(),
                    _ => "the union is empty".into(),
                };
                return Err(format!("no branch of the union can be read: {first}"));
            }
            Rd::Union(rds.into_boxed_slice())
        }
        (Node::Null, w) if w.nullable() => Rd::Null,
        (Node::Null, _) => return Err(format!("a null cannot be read as {}", want.describe())),
        (Node::Str | Node::Bytes, Want::Str | Want::OptStr | Want::Custom) => Rd::Str,
        (Node::Enum(symbols), Want::Str | Want::OptStr | Want::Custom) => Rd::Enum(symbols.clone()),
        (Node::Int, Want::OptLong | Want::OptDouble | Want::Custom) => Rd::Int,
        (Node::Long, Want::OptLong | Want::OptDouble | Want::Custom) => Rd::Long,
        (Node::Float, Want::OptDouble | Want::Custom) => Rd::Float,
        (Node::Double, Want::OptDouble | Want::Custom) => Rd::Double,
        (Node::Bool, Want::Bool | Want::Custom) => Rd::Bool,
        (Node::Array(item), Want::StrList) => Rd::Array(Box::new(
            compile_value(g, *item, Want::Str, false).map_err(|e| format!("array items: {e}"))?,
        )),
        (Node::Map(values), Want::CustomMap) => Rd::Map(Box::new(
            compile_value(g, *values, Want::Custom, false)
                .map_err(|e| format!("map values: {e}"))?,
        )),
        (Node::Record(_), Want::Requester) => Rd::Record(Box::new(compile_record(
            g,
            node,
            REQUESTER_SPEC,
            Unknown::Skip,
            &|_: &str| Arc::<str>::from("null"),
        )?)),
        _ => return Err(mismatch()),
    })
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

#[derive(Debug)]
enum Fail {
    Decode(String),
    Schema(String),
}

impl Fail {
    fn into_error(self) -> DecodeError {
        match self {
            Fail::Decode(d) => DecodeError::new(
                DlqReason::DecodeError,
                format!("Avro datum does not decode: {d}"),
            ),
            Fail::Schema(d) => DecodeError::new(DlqReason::SchemaError, d),
        }
    }
}

fn truncated() -> Fail {
    Fail::Decode("datum is truncated".into())
}

struct Cur<'a> {
    b: &'a [u8],
    p: usize,
    /// Array and map items read so far (bounded by [`MAX_ITEMS`]).
    items: usize,
}

impl<'a> Cur<'a> {
    fn new(b: &'a [u8]) -> Cur<'a> {
        Cur { b, p: 0, items: 0 }
    }

    #[inline]
    fn remaining(&self) -> usize {
        self.b.len() - self.p
    }

    #[inline]
    fn long(&mut self) -> Result<i64, Fail> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.b.get(self.p) else {
                return Err(truncated());
            };
            self.p += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return Err(Fail::Decode("variable-length integer is too long".into()));
            }
        }
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    #[inline]
    fn int(&mut self) -> Result<i32, Fail> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| Fail::Decode(format!("int out of range: {v}")))
    }

    #[inline]
    fn bytes(&mut self) -> Result<&'a [u8], Fail> {
        let len = self.long()?;
        if len < 0 {
            return Err(Fail::Decode(format!("negative length {len}")));
        }
        let len = len as u64;
        if len > self.remaining() as u64 {
            return Err(truncated());
        }
        let s = &self.b[self.p..self.p + len as usize];
        self.p += len as usize;
        Ok(s)
    }

    #[inline]
    fn str(&mut self, field: &str) -> Result<&'a str, Fail> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| Fail::Decode(format!("`{field}` is not valid UTF-8")))
    }

    #[inline]
    fn fixed(&mut self, n: usize) -> Result<&'a [u8], Fail> {
        if n > self.remaining() {
            return Err(truncated());
        }
        let s = &self.b[self.p..self.p + n];
        self.p += n;
        Ok(s)
    }

    #[inline]
    fn bool(&mut self) -> Result<bool, Fail> {
        match self.fixed(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            x => Err(Fail::Decode(format!("invalid boolean byte {x}"))),
        }
    }

    fn float(&mut self) -> Result<f32, Fail> {
        let b = self.fixed(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn double(&mut self) -> Result<f64, Fail> {
        let b = self.fixed(8)?;
        Ok(f64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    #[inline]
    fn branch(&mut self, n: usize) -> Result<usize, Fail> {
        let i = self.long()?;
        if i < 0 || i as u64 >= n as u64 {
            return Err(Fail::Decode(format!(
                "union branch {i} out of range (the union has {n})"
            )));
        }
        Ok(i as usize)
    }

    /// The item count of the next array/map block (0 = end).
    #[inline]
    fn block(&mut self, zero_sized_items: bool) -> Result<usize, Fail> {
        let n = self.long()?;
        let n = if n < 0 {
            let _size = self.long()?;
            n.checked_neg()
                .ok_or_else(|| Fail::Decode("block count overflows".into()))?
        } else {
            n
        };
        let limit = if zero_sized_items {
            1 << 16
        } else {
            self.remaining() as i64
        };
        if n > limit {
            return Err(Fail::Decode(format!(
                "block of {n} items does not fit in the datum"
            )));
        }
        // n <= limit, which fits a usize.
        self.items = self.items.saturating_add(n as usize);
        if self.items > MAX_ITEMS {
            return Err(Fail::Decode(format!(
                "more than {MAX_ITEMS} array or map items in one datum"
            )));
        }
        Ok(n as usize)
    }

    fn skip(&mut self, g: &Graph, node: NodeId, depth: u32) -> Result<(), Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::Decode("value nested too deeply".into()));
        }
        match &g.nodes[node as usize] {
            Node::Null | Node::Pending => {}
            Node::Bool => {
                self.bool()?;
            }
            Node::Int => {
                self.int()?;
            }
            Node::Long => {
                self.long()?;
            }
            Node::Float => {
                self.fixed(4)?;
            }
            Node::Double => {
                self.fixed(8)?;
            }
            Node::Bytes | Node::Str => {
                self.bytes()?;
            }
            Node::Fixed(n) => {
                self.fixed(*n)?;
            }
            Node::Enum(symbols) => {
                self.symbol(symbols)?;
            }
            Node::Array(item) => loop {
                let zero = g.zero[*item as usize];
                let n = self.block(zero)?;
                if n == 0 {
                    break;
                }
                for _ in 0..n {
                    self.skip(g, *item, depth + 1)?;
                }
            },
            Node::Map(v) => loop {
                let n = self.block(false)?;
                if n == 0 {
                    break;
                }
                for _ in 0..n {
                    self.bytes()?;
                    self.skip(g, *v, depth + 1)?;
                }
            },
            Node::Union(branches) => {
                let i = self.branch(branches.len())?;
                self.skip(g, branches[i], depth + 1)?;
            }
            Node::Record(fields) => {
                for (_, f) in fields.iter() {
                    self.skip(g, *f, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    fn symbol<'s>(&mut self, symbols: &'s [Box<str>]) -> Result<&'s str, Fail> {
        let i = self.int()?;
        symbols
            .get(usize::try_from(i).unwrap_or(usize::MAX))
            .map(|s| &**s)
            .ok_or_else(|| {
                Fail::Decode(format!(
                    "enum index {i} out of range ({} symbols)",
                    symbols.len()
                ))
            })
    }

    /// Reads a value and writes it as plain JSON.
    fn render(
        &mut self,
        g: &Graph,
        node: NodeId,
        out: &mut String,
        depth: u32,
    ) -> Result<(), Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::Decode("value nested too deeply".into()));
        }
        if out.len() > MAX_RENDERED_BYTES {
            return Err(Fail::Decode(format!(
                "extra fields render to more than {MAX_RENDERED_BYTES} bytes"
            )));
        }
        match &g.nodes[node as usize] {
            Node::Null | Node::Pending => out.push_str("null"),
            Node::Bool => out.push_str(if self.bool()? { "true" } else { "false" }),
            Node::Int => {
                let _ = write!(out, "{}", self.int()?);
            }
            Node::Long => {
                let _ = write!(out, "{}", self.long()?);
            }
            Node::Float => {
                let f = self.float()?;
                if f.is_finite() {
                    out.push_str(&serde_json::to_string(&f).expect("finite"));
                } else {
                    json_str(out, &f64::from(f).to_string());
                }
            }
            Node::Double => {
                let f = self.double()?;
                if f.is_finite() {
                    out.push_str(&serde_json::to_string(&f).expect("finite"));
                } else {
                    json_str(out, &f.to_string());
                }
            }
            Node::Str => {
                let s = self.str("extra field")?;
                json_str(out, s);
            }
            Node::Bytes => {
                let b = self.bytes()?;
                json_latin1(out, b);
            }
            Node::Fixed(n) => {
                let b = self.fixed(*n)?;
                json_latin1(out, b);
            }
            Node::Enum(symbols) => {
                let s = self.symbol(symbols)?;
                json_str(out, s);
            }
            Node::Array(item) => {
                out.push('[');
                let mut first = true;
                loop {
                    let n = self.block(g.zero[*item as usize])?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        self.render(g, *item, out, depth + 1)?;
                    }
                }
                out.push(']');
            }
            Node::Map(v) => {
                out.push('{');
                let mut first = true;
                loop {
                    let n = self.block(false)?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        let k = self.str("map key")?;
                        json_str(out, k);
                        out.push(':');
                        self.render(g, *v, out, depth + 1)?;
                    }
                }
                out.push('}');
            }
            Node::Union(branches) => {
                let i = self.branch(branches.len())?;
                self.render(g, branches[i], out, depth + 1)?;
            }
            Node::Record(fields) => {
                out.push('{');
                for (i, (name, f)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_str(out, name);
                    out.push(':');
                    self.render(g, *f, out, depth + 1)?;
                }
                out.push('}');
            }
        }
        Ok(())
    }
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Bytes as a JSON string of code points 0–255 (Avro's JSON encoding).
fn json_latin1(out: &mut String, b: &[u8]) {
    let s: String = b.iter().map(|&x| char::from(x)).collect();
    json_str(out, &s);
}

/// A scalar read through an `Rd`.
enum Val<'a> {
    Null,
    Str(&'a str),
    Long(i64),
    Double(f64),
    Bool(bool),
}

#[inline]
fn read_val<'a: 'v, 'r: 'v, 'v>(
    cur: &mut Cur<'a>,
    rd: &'r Rd,
    field: &str,
) -> Result<Val<'v>, Fail> {
    Ok(match rd {
        Rd::Null => Val::Null,
        Rd::Str => Val::Str(cur.str(field)?),
        Rd::Enum(symbols) => Val::Str(cur.symbol(symbols)?),
        Rd::Int => Val::Long(i64::from(cur.int()?)),
        Rd::Long => Val::Long(cur.long()?),
        Rd::Float => Val::Double(f64::from(cur.float()?)),
        Rd::Double => Val::Double(cur.double()?),
        Rd::Bool => Val::Bool(cur.bool()?),
        Rd::Union(branches) => {
            let i = cur.branch(branches.len())?;
            return read_val(cur, &branches[i], field);
        }
        Rd::Bad(why) => {
            return Err(Fail::Schema(format!("field `{field}`: {why}")));
        }
        Rd::Array(_) | Rd::Map(_) | Rd::Record(_) => {
            unreachable!("compiled only for list, map and requester fields")
        }
    })
}

#[inline]
fn read_opt_str(
    cur: &mut Cur<'_>,
    rd: &Rd,
    field: &str,
    p: &mut Parts,
) -> Result<Option<Span>, Fail> {
    match read_val(cur, rd, field)? {
        Val::Null => Ok(None),
        Val::Str(s) => Ok(Some(p.push(s))),
        _ => unreachable!("compiled as a string"),
    }
}

#[inline]
fn read_req_str(cur: &mut Cur<'_>, rd: &Rd, field: &str, p: &mut Parts) -> Result<Span, Fail> {
    read_opt_str(cur, rd, field, p)?
        .ok_or_else(|| Fail::Schema(format!("required field `{field}` is null")))
}

/// Unwraps a union around an array/map/record: `None` for the null branch.
fn unwrap_union<'r>(cur: &mut Cur<'_>, rd: &'r Rd, field: &str) -> Result<Option<&'r Rd>, Fail> {
    match rd {
        Rd::Union(branches) => {
            let i = cur.branch(branches.len())?;
            match &branches[i] {
                Rd::Null => Ok(None),
                Rd::Bad(why) => Err(Fail::Schema(format!("field `{field}`: {why}"))),
                other => Ok(Some(other)),
            }
        }
        Rd::Null => Ok(None),
        other => Ok(Some(other)),
    }
}

fn read_ticket(g: &Graph, plan: &Plan<TicketSlot>, datum: &[u8]) -> Result<Parts, Fail> {
    let mut cur = Cur::new(datum);
    let mut p = Parts {
        text: String::with_capacity(datum.len()),
        ..Parts::default()
    };
    for step in plan.steps.iter() {
        match step {
            Step::Field { slot, name, rd } => match slot {
                TicketSlot::TicketId => {
                    p.ticket_id = Some(read_req_str(&mut cur, rd, name, &mut p)?)
                }
                TicketSlot::CustomerId => {
                    p.customer_id = Some(read_req_str(&mut cur, rd, name, &mut p)?)
                }
                TicketSlot::CreatedAt => {
                    p.created_at = Some(read_req_str(&mut cur, rd, name, &mut p)?)
                }
                TicketSlot::Subject => p.subject = Some(read_req_str(&mut cur, rd, name, &mut p)?),
                TicketSlot::Body => p.body = read_opt_str(&mut cur, rd, name, &mut p)?,
                TicketSlot::Channel => p.channel = read_opt_str(&mut cur, rd, name, &mut p)?,
                TicketSlot::ReportedPriority => {
                    p.reported_priority = read_opt_str(&mut cur, rd, name, &mut p)?
                }
                TicketSlot::AffectedUsers => {
                    p.affected_users = match read_val(&mut cur, rd, name)? {
                        Val::Null => None,
                        Val::Long(n) => Some(n),
                        _ => unreachable!("compiled as a long"),
                    }
                }
                TicketSlot::Requester => {
                    p.requester = match unwrap_union(&mut cur, rd, name)? {
                        None => None,
                        Some(Rd::Record(plan)) => Some(read_requester(&mut cur, g, plan, &mut p)?),
                        Some(_) => unreachable!("compiled as a record"),
                    }
                }
                TicketSlot::Tags => {
                    if let Some(Rd::Array(item)) = unwrap_union(&mut cur, rd, name)? {
                        let zero = matches!(**item, Rd::Null);
                        loop {
                            let n = cur.block(zero)?;
                            if n == 0 {
                                break;
                            }
                            p.tags.reserve(n);
                            for _ in 0..n {
                                let s = read_req_str(&mut cur, item, "tags[]", &mut p)?;
                                p.tags.push(s);
                            }
                        }
                    }
                }
                TicketSlot::CustomFields => {
                    if let Some(Rd::Map(v)) = unwrap_union(&mut cur, rd, name)? {
                        loop {
                            let n = cur.block(false)?;
                            if n == 0 {
                                break;
                            }
                            p.custom_fields.reserve(n);
                            for _ in 0..n {
                                let k = cur.str("custom_fields key")?;
                                let k = p.push(k);
                                let v = match read_val(&mut cur, v, "custom_fields")? {
                                    Val::Null => {
                                        return Err(Fail::Schema(
                                            "field `custom_fields`: a value is null".into(),
                                        ))
                                    }
                                    Val::Str(s) => Custom::Str(p.push(s)),
                                    Val::Long(n) => Custom::Long(n),
                                    Val::Double(d) => Custom::Double(d),
                                    Val::Bool(b) => Custom::Bool(b),
                                };
                                p.custom_fields.push((k, v));
                            }
                        }
                    }
                }
            },
            Step::Skip(node) | Step::Drop(node) => cur.skip(g, *node, 0)?,
            Step::Extra { node, name, schema } => {
                let start = cur.p;
                let json_start = p.text.len() as u32;
                cur.render(g, *node, &mut p.text, 0)?;
                let json = Span {
                    start: json_start,
                    end: p.text.len() as u32,
                };
                let raw_start = p.raw.len() as u32;
                p.raw.extend_from_slice(&datum[start..cur.p]);
                let raw = Span {
                    start: raw_start,
                    end: p.raw.len() as u32,
                };
                p.extras.push(Extra {
                    name: name.clone(),
                    json,
                    avro: Some((schema.clone(), raw)),
                });
            }
        }
    }
    if cur.remaining() > 0 {
        return Err(Fail::Decode(format!(
            "{} bytes follow the datum (wrong schema id?)",
            cur.remaining()
        )));
    }
    Ok(p)
}

fn read_requester(
    cur: &mut Cur<'_>,
    g: &Graph,
    plan: &Plan<RequesterSlot>,
    p: &mut Parts,
) -> Result<(Option<Span>, Option<Span>), Fail> {
    let (mut email, mut name) = (None, None);
    for step in plan.steps.iter() {
        match step {
            Step::Field { slot, rd, .. } => match slot {
                RequesterSlot::Email => email = read_opt_str(cur, rd, "requester.email", p)?,
                RequesterSlot::Name => name = read_opt_str(cur, rd, "requester.name", p)?,
            },
            Step::Skip(node) | Step::Drop(node) | Step::Extra { node, .. } => {
                cur.skip(g, *node, 1)?
            }
        }
    }
    Ok((email, name))
}

fn read_customer(g: &Graph, plan: &Plan<CustomerSlot>, datum: &[u8]) -> Result<Customer, Fail> {
    let mut cur = Cur::new(datum);
    let mut c = Customer::default();
    let mut id = None;
    for step in plan.steps.iter() {
        match step {
            Step::Field { slot, name, rd } => {
                let v = read_val(&mut cur, rd, name)?;
                let s = |v: Val<'_>| match v {
                    Val::Str(s) => Some(s.to_owned()),
                    _ => None,
                };
                match slot {
                    CustomerSlot::CustomerId => {
                        id = Some(s(v).ok_or_else(|| {
                            Fail::Schema("required field `customer_id` is null".into())
                        })?)
                    }
                    CustomerSlot::Name => c.name = s(v),
                    CustomerSlot::AccountType => c.account_type = s(v),
                    CustomerSlot::SupportPlan => c.support_plan = s(v),
                    CustomerSlot::Vip => c.vip = matches!(v, Val::Bool(true)),
                    CustomerSlot::Persona => c.persona = s(v),
                    CustomerSlot::Lifecycle => c.lifecycle = s(v),
                    CustomerSlot::Arr => {
                        c.arr = match v {
                            Val::Long(n) => Some(n as f64),
                            Val::Double(d) => Some(d),
                            _ => None,
                        }
                    }
                    CustomerSlot::SlaPolicy => c.sla_policy = s(v),
                    CustomerSlot::Timezone => c.timezone = s(v),
                    CustomerSlot::Language => c.language = s(v),
                }
            }
            Step::Skip(node) | Step::Drop(node) | Step::Extra { node, .. } => {
                cur.skip(g, *node, 0)?
            }
        }
    }
    if cur.remaining() > 0 {
        return Err(Fail::Decode(format!(
            "{} bytes follow the datum (wrong schema id?)",
            cur.remaining()
        )));
    }
    c.customer_id =
        id.ok_or_else(|| Fail::Schema("required field `customer_id` is missing".into()))?;
    Ok(c)
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

#[inline]
fn put_long(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

#[inline]
fn put_str(out: &mut Vec<u8>, s: &str) {
    put_long(out, s.len() as i64);
    out.extend_from_slice(s.as_bytes());
}

#[inline]
fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(2);
            put_str(out, s);
        }
    }
}

#[inline]
fn put_f32(out: &mut Vec<u8>, f: f32) {
    out.extend_from_slice(&f.to_le_bytes());
}

/// A timestamp as an RFC 3339 string (the same text as the JSON output).
fn put_ts(out: &mut Vec<u8>, ts: Timestamp) {
    let at = out.len();
    out.push(0);
    write!(out, "{ts}").expect("writing to a Vec cannot fail");
    let len = out.len() - at - 1;
    if len < 64 {
        out[at] = (len as u8) << 1;
    } else {
        let text = out.split_off(at + 1);
        out.truncate(at);
        put_long(out, len as i64);
        out.extend_from_slice(&text);
    }
}

fn write_ticket_fields(p: &Parts, out: &mut Vec<u8>) -> Result<(), String> {
    let req =
        |s: Option<Span>, f: &str| s.ok_or_else(|| format!("required field `{f}` is missing"));
    put_str(out, p.s(req(p.ticket_id, "ticket_id")?));
    put_str(out, p.s(req(p.customer_id, "customer_id")?));
    put_str(out, p.s(req(p.created_at, "created_at")?));
    put_str(out, p.s(req(p.subject, "subject")?));
    put_opt_str(out, p.opt(p.body));
    put_opt_str(out, p.opt(p.channel));
    match p.requester {
        None => out.push(0),
        Some((email, name)) => {
            out.push(2);
            put_opt_str(out, p.opt(email));
            put_opt_str(out, p.opt(name));
        }
    }
    put_opt_str(out, p.opt(p.reported_priority));
    match p.affected_users {
        None => out.push(0),
        Some(n) => {
            out.push(2);
            put_long(out, n);
        }
    }
    if !p.tags.is_empty() {
        put_long(out, p.tags.len() as i64);
        for t in &p.tags {
            put_str(out, p.s(*t));
        }
    }
    out.push(0);
    if !p.custom_fields.is_empty() {
        put_long(out, p.custom_fields.len() as i64);
        for (k, v) in &p.custom_fields {
            put_str(out, p.s(*k));
            match *v {
                Custom::Str(s) => {
                    out.push(0);
                    put_str(out, p.s(s));
                }
                Custom::Long(n) => {
                    out.push(2);
                    put_long(out, n);
                }
                Custom::Double(d) => {
                    out.push(4);
                    out.extend_from_slice(&d.to_le_bytes());
                }
                Custom::Bool(b) => {
                    out.push(6);
                    out.push(b as u8);
                }
            }
        }
    }
    out.push(0);
    Ok(())
}

fn write_extras(p: &Parts, out: &mut Vec<u8>) {
    if !p.extras.is_empty() {
        put_long(out, p.extras.len() as i64);
        for x in &p.extras {
            put_str(out, &x.name);
            put_str(out, p.s(x.json));
            match &x.avro {
                None => out.extend_from_slice(&[0, 0]),
                Some((schema, datum)) => {
                    out.push(2);
                    put_str(out, schema);
                    out.push(2);
                    let d = &p.raw[datum.start as usize..datum.end as usize];
                    put_long(out, d.len() as i64);
                    out.extend_from_slice(d);
                }
            }
        }
    }
    out.push(0);
}

fn write_triage(t: &Triage, out: &mut Vec<u8>) {
    put_str(out, &t.priority);
    put_long(out, t.score);
    put_str(out, &t.category);
    put_str(out, &t.severity);
    put_str(out, t.sentiment.label.as_str());
    put_f32(out, t.sentiment.score);
    put_f32(out, t.confidence.category);
    put_f32(out, t.confidence.severity);
    put_f32(out, t.confidence.sentiment);
    if !t.models.is_empty() {
        put_long(out, t.models.len() as i64);
        for m in &t.models {
            put_str(out, m.field);
            put_str(out, &m.label);
            put_f32(out, m.confidence);
            out.push(m.applied as u8);
            if !m.alternatives.is_empty() {
                put_long(out, m.alternatives.len() as i64);
                for (label, c) in &m.alternatives {
                    put_str(out, label);
                    put_f32(out, *c);
                }
            }
            out.push(0);
        }
    }
    out.push(0);
    out.push(t.customer_known as u8);
    let s = &t.segment;
    put_str(out, &s.account_type);
    put_str(out, &s.support_plan);
    out.push(s.vip as u8);
    put_str(out, &s.persona);
    put_str(out, &s.lifecycle);
    out.extend_from_slice(&s.arr.to_le_bytes());
    put_opt_str(out, s.sla_policy.as_deref());
    put_opt_str(out, s.timezone.as_deref());
    put_opt_str(out, s.language.as_deref());
    put_str(out, &t.queue);
    put_str(out, &t.tier);
    let sla = &t.sla;
    put_str(out, &sla.policy);
    put_str(out, &sla.calendar);
    put_str(out, &sla.timezone);
    put_ts(out, sla.first_response_due);
    put_ts(out, sla.resolution_due);
    put_long(out, sla.first_response_target_seconds);
    put_long(out, sla.resolution_target_seconds);
    if !t.reasons.is_empty() {
        put_long(out, t.reasons.len() as i64);
        for r in &t.reasons {
            put_str(out, r.factor);
            put_long(out, r.points);
            put_str(out, &r.detail);
        }
    }
    out.push(0);
    put_str(out, &t.rules_version);
    put_ts(out, t.triaged_at);
    put_opt_str(out, t.language);
}

fn json_string_into(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

/// The ticket as a JSON object without its closing brace.
fn write_json_ticket(p: &Parts, out: &mut Vec<u8>) {
    out.reserve(p.text.len() + 256);
    let field = |out: &mut Vec<u8>, first: bool, name: &str| {
        if !first {
            out.push(b',');
        }
        json_string_into(out, name);
        out.push(b':');
    };
    let str_field = |out: &mut Vec<u8>, first: bool, name: &str, v: Option<Span>| {
        if let Some(v) = v {
            field(out, first, name);
            json_string_into(out, p.s(v));
        }
    };
    out.push(b'{');
    str_field(out, true, "ticket_id", p.ticket_id);
    str_field(out, false, "customer_id", p.customer_id);
    str_field(out, false, "created_at", p.created_at);
    str_field(out, false, "subject", p.subject);
    str_field(out, false, "body", p.body);
    str_field(out, false, "channel", p.channel);
    if let Some((email, name)) = p.requester {
        field(out, false, "requester");
        out.push(b'{');
        let mut first = true;
        for (k, v) in [("email", email), ("name", name)] {
            if let Some(v) = v {
                field(out, first, k);
                json_string_into(out, p.s(v));
                first = false;
            }
        }
        out.push(b'}');
    }
    str_field(out, false, "reported_priority", p.reported_priority);
    if let Some(n) = p.affected_users {
        field(out, false, "affected_users");
        let _ = write!(out, "{n}");
    }
    field(out, false, "tags");
    out.push(b'[');
    for (i, t) in p.tags.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_string_into(out, p.s(*t));
    }
    out.push(b']');
    field(out, false, "custom_fields");
    out.push(b'{');
    for (i, (k, v)) in p.custom_fields.iter().enumerate() {
        field(out, i == 0, p.s(*k));
        match *v {
            Custom::Str(s) => json_string_into(out, p.s(s)),
            Custom::Long(n) => {
                let _ = write!(out, "{n}");
            }
            Custom::Double(d) => {
                serde_json::to_writer(&mut *out, &d).expect("writing to a Vec cannot fail")
            }
            Custom::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        }
    }
    out.push(b'}');
    for x in &p.extras {
        field(out, false, &x.name);
        out.extend_from_slice(p.s(x.json).as_bytes());
    }
}

// ---------------------------------------------------------------------------
// JSON → ticket parts
// ---------------------------------------------------------------------------

/// A JSON object's members in input order, values as raw text.
struct RawObject<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((k, raw)) = m.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    v.push((k, raw));
                }
                Ok(RawObject(v))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRequester<'a> {
    #[serde(borrow, default)]
    email: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

/// Reads a JSON ticket into `Parts`. `strict`: every member must fit the
/// ticket schema (encoding input); otherwise misfits and unknown members go
/// to the extras (encoding output) and `triage` is dropped.
fn parts_from_json(json: &[u8], strict: bool) -> Result<Parts, String> {
    let obj: RawObject<'_> =
        serde_json::from_slice(json).map_err(|e| format!("not a JSON object: {e}"))?;
    let mut p = Parts {
        text: String::with_capacity(json.len()),
        ..Parts::default()
    };
    for (key, raw) in &obj.0 {
        let text = raw.get();
        let fitted: Result<(), String> = (|| {
            let s_opt =
                || serde_json::from_str::<Option<Cow<'_, str>>>(text).map_err(|e| e.to_string());
            let s_req = || serde_json::from_str::<Cow<'_, str>>(text).map_err(|e| e.to_string());
            match &**key {
                "ticket_id" => p.ticket_id = Some(p.push(&s_req()?)),
                "customer_id" => p.customer_id = Some(p.push(&s_req()?)),
                "created_at" => p.created_at = Some(p.push(&s_req()?)),
                "subject" => p.subject = Some(p.push(&s_req()?)),
                "body" => p.body = s_opt()?.map(|s| p.push(&s)),
                "channel" => p.channel = s_opt()?.map(|s| p.push(&s)),
                "reported_priority" => p.reported_priority = s_opt()?.map(|s| p.push(&s)),
                "requester" => {
                    let r: Option<JsonRequester<'_>> =
                        serde_json::from_str(text).map_err(|e| e.to_string())?;
                    p.requester =
                        r.map(|r| (r.email.map(|s| p.push(&s)), r.name.map(|s| p.push(&s))));
                }
                "affected_users" => {
                    p.affected_users =
                        serde_json::from_str::<Option<i64>>(text).map_err(|e| e.to_string())?;
                }
                "tags" => {
                    let tags: Option<Vec<Cow<'_, str>>> =
                        serde_json::from_str(text).map_err(|e| e.to_string())?;
                    p.tags = tags.unwrap_or_default().iter().map(|t| p.push(t)).collect();
                }
                "custom_fields" => {
                    let m: Option<RawObject<'_>> =
                        serde_json::from_str(text).map_err(|e| e.to_string())?;
                    let mut fields = Vec::new();
                    for (k, v) in m.map(|m| m.0).unwrap_or_default() {
                        let v: serde_json::Value =
                            serde_json::from_str(v.get()).map_err(|e| e.to_string())?;
                        let v = match v {
                            serde_json::Value::String(s) => Custom::Str(p.push(&s)),
                            serde_json::Value::Bool(b) => Custom::Bool(b),
                            serde_json::Value::Number(n) => match n.as_i64() {
                                Some(i) => Custom::Long(i),
                                None => Custom::Double(n.as_f64().ok_or("not a number")?),
                            },
                            other => {
                                return Err(format!(
                                    "custom field `{k}` must be a string, number or boolean, got {other}"
                                ))
                            }
                        };
                        let k = p.push(&k);
                        fields.push((k, v));
                    }
                    p.custom_fields = fields;
                }
                _ => return Err("not a field of the ticket schema".into()),
            }
            Ok(())
        })();
        if let Err(why) = fitted {
            if strict {
                return Err(format!("`{key}`: {why}"));
            }
            if key == "triage" {
                continue;
            }
            let json = p.push(text);
            p.extras.push(Extra {
                name: Arc::from(&**key),
                json,
                avro: None,
            });
        }
    }
    for (f, v) in [
        ("ticket_id", p.ticket_id),
        ("customer_id", p.customer_id),
        ("created_at", p.created_at),
        ("subject", p.subject),
    ] {
        if v.is_none() {
            return Err(format!("required field `{f}` is missing"));
        }
    }
    Ok(p)
}
