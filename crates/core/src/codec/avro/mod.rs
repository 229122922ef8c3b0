//! Avro in the Confluent wire format: ticket events and customer records in,
//! triaged tickets out. Pure: no I/O. Writer schemas that are not bundled come
//! from the edge (the service's schema-registry client) through
//! [`AvroCodec::add_writer_schema`].
//!
//! Files, one job each: this one (frames and the [`AvroCodec`] API), `ticket`
//! (the decoded ticket and its views), `graph` (writer schemas compiled into a
//! node graph), `plan` (a writer schema resolved against the reader schema),
//! `read` (walking a plan over a datum), `write` (the triaged ticket as Avro,
//! a decoded ticket as JSON) and `from_json` (a JSON ticket as Avro).
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

mod from_json;
mod graph;
mod plan;
mod read;
mod ticket;
mod write;

use crate::model::{CustomValue, Customer, ReportedPriority, Ticket, Triage};
use from_json::*;
pub use graph::DatumCheck;
use graph::*;
use plan::*;
use read::*;
use ticket::*;
pub use ticket::{AvroTicket, ExtraFieldRef};
use write::*;

/// `schemas/ticket_event.avsc`: the reader schema of ticket events.
pub const TICKET_SCHEMA: &str = include_str!("../../../../../schemas/ticket_event.avsc");
/// `schemas/customer.avsc`: the reader schema of customer records.
pub const CUSTOMER_SCHEMA: &str = include_str!("../../../../../schemas/customer.avsc");
/// `schemas/triaged_ticket.avsc`: the schema of every Avro output record.
pub const TRIAGED_SCHEMA: &str = include_str!("../../../../../schemas/triaged_ticket.avsc");

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
