//! Avro inputs of the SLA watcher, in the Confluent wire format, read with the bundled schemas
//! (`schemas/triaged_ticket.avsc`, `schemas/lifecycle_event.avsc`) as writer schemas. The
//! watcher does not resolve other writer schemas through a registry (yet): a producer must write
//! with the bundled schemas; the schema id in the frame is not checked. Pure: no I/O.

use std::sync::OnceLock;

use apache_avro::types::Value;
use apache_avro::Schema;

use crate::clock::LifecycleEvent;
use crate::codec::avro::{split_frame, write_header, DatumCheck};

/// `io.triage.TriagedTicket`.
pub fn triaged_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::parse_str(include_str!("../../../../schemas/triaged_ticket.avsc"))
            .expect("bundled schema parses")
    })
}

/// `io.triage.LifecycleEvent`.
pub fn lifecycle_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::parse_str(include_str!("../../../../schemas/lifecycle_event.avsc"))
            .expect("bundled schema parses")
    })
}

/// Checks a datum against `schema` with the codec's bounds before apache-avro
/// decodes it (see [`DatumCheck`]: its decoder would reserve whatever a
/// block count says).
fn checked<'a>(
    check: &'static OnceLock<DatumCheck>,
    schema: &Schema,
    bytes: &'a [u8],
    what: &str,
) -> Result<&'a [u8], String> {
    let d = datum(bytes)?;
    check
        .get_or_init(|| DatumCheck::new(schema).expect("bundled schema compiles"))
        .check(d)
        .map_err(|e| format!("not an {what} datum: {e}"))?;
    Ok(d)
}

fn datum(bytes: &[u8]) -> Result<&[u8], String> {
    split_frame(bytes)
        .map(|(_, d)| d)
        .ok_or_else(|| "not a Confluent Avro frame".to_string())
}

/// A triaged ticket as an Avro value.
pub fn decode_triaged(bytes: &[u8]) -> Result<Value, String> {
    static CHECK: OnceLock<DatumCheck> = OnceLock::new();
    let mut d = checked(&CHECK, triaged_schema(), bytes, "io.triage.TriagedTicket")?;
    apache_avro::from_avro_datum(triaged_schema(), &mut d, None)
        .map_err(|e| format!("not an io.triage.TriagedTicket datum: {e}"))
}

fn json_of(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Boolean(b) => (*b).into(),
        Value::Int(n) => (*n).into(),
        Value::Long(n) => (*n).into(),
        Value::Float(x) => f64::from(*x).into(),
        Value::Double(x) => (*x).into(),
        Value::String(s) | Value::Enum(_, s) => s.clone().into(),
        Value::Union(_, inner) => json_of(inner),
        Value::Record(fields) => fields
            .iter()
            .map(|(k, v)| (k.clone(), json_of(v)))
            .filter(|(_, v)| !v.is_null())
            .collect::<serde_json::Map<_, _>>()
            .into(),
        Value::Array(items) => items.iter().map(json_of).collect::<Vec<_>>().into(),
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), json_of(v)))
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_iter()
            .collect::<serde_json::Map<_, _>>()
            .into(),
        _ => serde_json::Value::Null,
    }
}

/// A triaged ticket's Avro frame as the JSON the JSON format publishes (null fields left out),
/// for the review commands, which read JSON.
pub fn triaged_json(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let v = decode_triaged(bytes)?;
    // Invariant: a `serde_json::Value` always serialises into memory (string keys; a NaN or
    // infinite float became `null` in `json_of`).
    Ok(serde_json::to_vec(&json_of(&v)).expect("serializable"))
}

/// `io.triage.LifecycleEvent` as it was before `category` was added (its last field): frames
/// written with it stay readable.
fn lifecycle_schema_v1() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    // Invariant: the bundled schema is a JSON record whose last field is `category`; the
    // test `a_frame_written_before_category_was_added_still_decodes` (and the others in this
    // module) parses it on every run.
    S.get_or_init(|| {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../../schemas/lifecycle_event.avsc"))
                .expect("bundled schema is JSON");
        let fields = v["fields"].as_array_mut().expect("a record");
        assert_eq!(fields.pop().expect("fields")["name"], "category");
        Schema::parse(&v).expect("bundled schema parses")
    })
}

/// A lifecycle event from its Avro frame (the bundled schema, or its version before
/// `category`).
pub fn decode_lifecycle(bytes: &[u8]) -> Result<LifecycleEvent, String> {
    static CHECK: OnceLock<DatumCheck> = OnceLock::new();
    static CHECK_V1: OnceLock<DatumCheck> = OnceLock::new();
    let v = match checked(
        &CHECK,
        lifecycle_schema(),
        bytes,
        "io.triage.LifecycleEvent",
    ) {
        Ok(mut d) => apache_avro::from_avro_datum(lifecycle_schema(), &mut d, None)
            .map_err(|e| format!("not an io.triage.LifecycleEvent datum: {e}"))?,
        Err(e) => {
            let Ok(mut d) = checked(
                &CHECK_V1,
                lifecycle_schema_v1(),
                bytes,
                "io.triage.LifecycleEvent",
            ) else {
                return Err(e);
            };
            apache_avro::from_avro_datum(lifecycle_schema_v1(), &mut d, None).map_err(|_| e)?
        }
    };
    // Invariant: as in `triaged_json`, a `serde_json::Value` always serialises.
    let json = serde_json::to_vec(&json_of(&v)).expect("serializable");
    LifecycleEvent::from_json(&json)
}

/// A lifecycle event as an Avro frame with `schema_id` (for producers and tests).
pub fn encode_lifecycle(e: &LifecycleEvent, schema_id: u32) -> Vec<u8> {
    let json: serde_json::Value = serde_json::from_slice(&e.to_json()).expect("json");
    let s = |k: &str| match json.get(k).and_then(|v| v.as_str()) {
        Some(x) => Value::Union(1, Box::new(Value::String(x.to_string()))),
        None => Value::Union(0, Box::new(Value::Null)),
    };
    let score = match json.get("score").and_then(|v| v.as_i64()) {
        Some(x) => Value::Union(1, Box::new(Value::Int(x as i32))),
        None => Value::Union(0, Box::new(Value::Null)),
    };
    let rec = Value::Record(vec![
        ("ticket_id".into(), Value::String(e.ticket_id.clone())),
        ("type".into(), Value::String(e.kind.type_name().into())),
        ("at".into(), Value::String(e.at.to_string())),
        ("status".into(), s("status")),
        ("priority".into(), s("priority")),
        ("score".into(), score),
        ("actor".into(), Value::Union(0, Box::new(Value::Null))),
        ("event_id".into(), Value::Union(0, Box::new(Value::Null))),
        ("category".into(), s("category")),
    ]);
    let mut out = Vec::new();
    write_header(schema_id, &mut out);
    out.extend(apache_avro::to_avro_datum(lifecycle_schema(), rec).expect("valid datum"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 45-byte frame whose array block count made apache-avro reserve
    /// 7.5 GB (found by the `lifecycle` fuzz target): refused by the bounded
    /// check first, for both decoders.
    #[test]
    fn a_huge_block_count_is_refused_before_apache_avro_reserves_for_it() {
        let frame =
            include_bytes!("../../../../fuzz/regressions/lifecycle/avro-array-count-reserved-7-gb");
        let e = decode_triaged(frame).unwrap_err();
        assert!(e.contains("does not fit"), "{e}");
        assert!(decode_lifecycle(frame).is_err());
    }
    use crate::clock::{EventKind, Status};

    #[test]
    fn lifecycle_avro_round_trip() {
        for kind in [
            EventKind::StatusChanged {
                status: Status::OnHold,
            },
            EventKind::FirstResponse,
            EventKind::PriorityChanged {
                priority: "P1".into(),
            },
            EventKind::Satisfaction { score: 2 },
            EventKind::CategoryChanged {
                category: "billing".into(),
            },
        ] {
            let e = LifecycleEvent {
                ticket_id: "T-1".into(),
                at: "2026-11-02T08:31:40Z".parse().unwrap(),
                kind,
            };
            let bytes = encode_lifecycle(&e, 7);
            assert_eq!(decode_lifecycle(&bytes).unwrap(), e);
        }
        assert!(decode_lifecycle(b"\x00\x00\x00\x00\x07\xff").is_err());
        assert!(decode_lifecycle(b"{}").is_err());
    }

    #[test]
    fn a_triaged_frame_reads_as_the_json_the_json_format_publishes() {
        use crate::codec::avro::AvroCodec;
        use crate::codec::json::decode_ticket;
        let rules = crate::rules::Rules::from_str(
            "rules.toml",
            include_str!("../../../../config/rules.toml"),
        )
        .map_err(|d| format!("{d:?}"))
        .unwrap()
        .rules;
        let input = br#"{"ticket_id":"T-1","customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","subject":"Production down for all users","tags":["prod","sso"],"custom_fields":{"region":"eu"}}"#;
        let d = decode_ticket(input).unwrap();
        let t = crate::engine::triage(
            &rules,
            &d.ticket,
            None,
            "2026-11-02T09:05:00Z".parse().unwrap(),
        );
        let mut frame = Vec::new();
        AvroCodec::bundled()
            .encode_triaged_from_json(input, &t, &mut frame)
            .unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&triaged_json(&frame).unwrap()).unwrap();
        assert_eq!(json["ticket_id"], "T-1");
        assert_eq!(json["tags"], serde_json::json!(["prod", "sso"]));
        assert_eq!(json["triage"]["priority"], &*t.priority);
        assert_eq!(json["triage"]["queue"], &*t.queue);
        assert_eq!(
            json["triage"]["reasons"].as_array().unwrap().len(),
            t.reasons.len()
        );
        assert_eq!(
            json["triage"]["sla"]["first_response_target_seconds"],
            t.sla.first_response_target_seconds
        );
        // It decodes as a ticket again, with the recorded decision beside it.
        assert!(decode_ticket(&triaged_json(&frame).unwrap()).is_ok());
    }

    #[test]
    fn a_frame_written_before_category_was_added_still_decodes() {
        let rec = Value::Record(vec![
            ("ticket_id".into(), Value::String("T-1".into())),
            ("type".into(), Value::String("first_response".into())),
            ("at".into(), Value::String("2026-11-02T08:31:40Z".into())),
            ("status".into(), Value::Union(0, Box::new(Value::Null))),
            ("priority".into(), Value::Union(0, Box::new(Value::Null))),
            ("score".into(), Value::Union(0, Box::new(Value::Null))),
            ("actor".into(), Value::Union(0, Box::new(Value::Null))),
            ("event_id".into(), Value::Union(0, Box::new(Value::Null))),
        ]);
        let mut frame = Vec::new();
        write_header(3, &mut frame);
        frame.extend(apache_avro::to_avro_datum(lifecycle_schema_v1(), rec).unwrap());
        let e = decode_lifecycle(&frame).unwrap();
        assert_eq!(e.kind, EventKind::FirstResponse);
    }

    #[test]
    fn example_lifecycle_event_matches_the_schema() {
        let e = LifecycleEvent::from_json(include_bytes!(
            "../../../../schemas/examples/lifecycle_event.json"
        ))
        .unwrap();
        let bytes = encode_lifecycle(&e, 1);
        assert_eq!(decode_lifecycle(&bytes).unwrap(), e);
    }

    /// The signal and ack examples are what the watcher writes (they parse into its records) and
    /// fit their Avro schemas (encoded through them with apache-avro).
    #[test]
    fn output_examples_match_records_and_schemas() {
        use crate::clock::{AckRecord, SignalRecord};
        let signal: SignalRecord = serde_json::from_slice(include_bytes!(
            "../../../../schemas/examples/sla_signal.json"
        ))
        .unwrap();
        let ack: AckRecord = serde_json::from_slice(include_bytes!(
            "../../../../schemas/examples/ack_event.json"
        ))
        .unwrap();
        for (schema, value) in [
            (
                include_str!("../../../../schemas/sla_signal.avsc"),
                apache_avro::to_value(&signal).unwrap(),
            ),
            (
                include_str!("../../../../schemas/ack_event.avsc"),
                apache_avro::to_value(&ack).unwrap(),
            ),
        ] {
            let schema = Schema::parse_str(schema).unwrap();
            let resolved = value.resolve(&schema).unwrap();
            apache_avro::to_avro_datum(&schema, resolved).unwrap();
        }
        assert_eq!(
            signal.signal_id,
            crate::clock::SignalRecord::id(
                &signal.ticket_id,
                signal.clock,
                signal.signal,
                signal.ppm()
            )
        );
        assert_eq!(
            signal.elapsed_seconds + signal.time_left_seconds,
            signal.target_seconds
        );
    }
}
