//! The properties the fuzz targets check, shared by the coverage-guided
//! targets in `fuzz/` (cargo fuzz) and the smoke run in `make test`
//! (`tests/fuzz_smoke.rs`, which replays the committed corpus and a bounded
//! number of mutations of it). Each check takes arbitrary bytes and panics
//! only when the code under test breaks a promise:
//!
//! - nothing panics (outside these assertions);
//! - a ticket that decodes is triaged and encoded into output that parses,
//!   keeps every input field unchanged and adds one `triage` object;
//! - an error names no string value of the input (no ticket text in
//!   dead-letter details or logs).

#![allow(dead_code)]

use std::sync::OnceLock;

use jiff::Timestamp;
use triage::codec::avro::AvroCodec;
use triage::codec::json;
use triage::codec::Codec;
use triage::engine::triage;
use triage::rules::Rules;
use triage::service::customers::{apply, Applied};
use triage::service::CustomerTable;

/// The shipped rules (compiled once).
pub fn rules() -> &'static Rules {
    static R: OnceLock<Rules> = OnceLock::new();
    R.get_or_init(|| {
        let src = include_str!("../../config/rules.toml");
        Rules::from_str("config/rules.toml", src)
            .map(|l| l.rules)
            .unwrap_or_else(|d| panic!("shipped rules do not compile: {d:?}"))
    })
}

fn now() -> Timestamp {
    "2026-11-24T15:00:00Z".parse().expect("a timestamp")
}

/// String values (not keys) of the input, and the keys.
fn strings(v: &serde_json::Value, values: &mut Vec<String>, keys: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => values.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, values, keys)),
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                keys.push(k.clone());
                strings(x, values, keys);
            }
        }
        _ => {}
    }
}

/// Characters our error messages are made of (besides input field names).
fn message_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " _:,.()`-=>'/?…".contains(c)
}

/// An error message must not quote the input's text: no string value of
/// the input that could not be a coincidence (8+ characters, one of them a
/// character no fixed message uses) may appear in it. Keys may: field
/// names are what messages name.
fn assert_no_text(input: &[u8], msg: &str) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(input) else {
        return;
    };
    let (mut values, mut keys) = (Vec::new(), Vec::new());
    strings(&v, &mut values, &mut keys);
    for s in values {
        if s.chars().count() < 8 || s.chars().all(message_char) || keys.contains(&s) {
            continue;
        }
        assert!(
            !msg.contains(&s),
            "the error quotes input text {s:?}: {msg}"
        );
    }
}

/// JSON ticket: decode → triage → encode; the output parses and keeps the
/// input's fields.
pub fn json_ticket(data: &[u8]) {
    let d = match json::decode_ticket(data) {
        Ok(d) => d,
        Err(e) => return assert_no_text(data, &e.detail),
    };
    let t = triage(rules(), &d.ticket, None, now());
    let mut out = Vec::new();
    if let Err(e) = json::encode_triaged(data, d.had_triage, &t, &mut out) {
        assert_no_text(data, &e.detail);
        return;
    }
    let input: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(data)
        .unwrap_or_else(|e| panic!("a decoded ticket is a JSON object: {e}"));
    let output: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("the triaged record does not parse: {e}"));
    for (k, v) in &input {
        if k != "triage" {
            assert_eq!(output.get(k), Some(v), "field {k:?} changed");
        }
    }
    assert_eq!(
        output.len(),
        input.len() + usize::from(!input.contains_key("triage"))
    );
    assert!(output["triage"]["priority"].is_string());
    assert_reasons_bounded(&output["triage"]);
}

/// The readers of a body's text, on any bytes (as a ticket's body would
/// hold them once decoded). Read as HTML: no panic, at most twice the
/// input's length plus a little (the module's promise: each quoted line's
/// "> " comes from markup or a line break before it), at most one blank
/// line in a row, no white space at the end. Links, addresses, log levels
/// and a form's sender details blanked keep the length; character
/// references decoded in plain text never lengthen it. Read as the subject
/// of mail no person wrote: no panic. Read as a chat transcript (with the
/// body's first word as the requester's name, so that names match): the
/// customer's lines are at most the body (plus the last line's "\n"), and
/// the other side said at least one line.
pub fn html_text(data: &[u8]) {
    let body = String::from_utf8_lossy(data);
    let _ = triage::html::is_html(&body);
    let t = triage::html::text(&body);
    assert!(
        t.len() <= 2 * body.len() + 8,
        "{} bytes of text from {} bytes",
        t.len(),
        body.len()
    );
    assert!(!t.contains("\n\n\n"), "more than one blank line in a row");
    assert_eq!(t.trim_end().len(), t.len(), "white space at the end");
    // Links and addresses blanked keep the text's length.
    let m = triage::links::masked(std::borrow::Cow::Borrowed(&body));
    assert_eq!(m.len(), body.len(), "masking changed the length");
    let (l, _) = triage::logs::masked(m);
    assert_eq!(
        l.len(),
        body.len(),
        "blanking log levels changed the length"
    );
    // A form's sender details blanked keep the length too; any subject and
    // body are read as mail no person wrote or not, without a panic.
    let (f, _) = triage::form::masked(std::borrow::Cow::Borrowed(&body));
    assert_eq!(
        f.len(),
        body.len(),
        "blanking a form's details changed the length"
    );
    let _ = triage::automatic::of(&body, Some(&body));
    // Character references decoded never lengthen the text.
    if let Some(d) = triage::html::references(&body) {
        assert!(
            d.len() <= body.len(),
            "{} bytes decoded from {}",
            d.len(),
            body.len()
        );
    }
    let name = body.split_whitespace().next();
    for (requester, conversational) in [(None, true), (name, false)] {
        if let Some((own, unread)) = triage::chat::customer_lines(&body, requester, conversational)
        {
            assert!(
                own.len() <= body.len() + 1,
                "{} bytes of {}",
                own.len(),
                body.len()
            );
            assert!(unread.lines >= 1, "a transcript without the other side");
            assert_eq!(unread.bytes, body.len().saturating_sub(own.len()));
        }
    }
}

/// A reason quotes at most a few words of the ticket: its size does not
/// follow the input's.
fn assert_reasons_bounded(triage: &serde_json::Value) {
    for r in triage["reasons"].as_array().into_iter().flatten() {
        let detail = r["detail"].as_str().unwrap_or("");
        assert!(
            detail.chars().count() <= MAX_DETAIL_CHARS,
            "a reason of {} characters: {detail:.200}",
            detail.chars().count()
        );
    }
}

/// The longest reason detail the shipped rules write (their longest is
/// ~170 characters; a sentiment quote adds at most 60, a spelling reason
/// three words of at most 16 bytes).
const MAX_DETAIL_CHARS: usize = 400;

/// Writer schemas an attacker may register: the shipped one, and ones with
/// extra fields that expand (arrays of zero-size items, nesting, maps,
/// recursion, unions).
pub const WRITER_SCHEMAS: [&str; 5] = [
    include_str!("../../schemas/ticket_event.avsc"),
    r#"{"type":"record","name":"T","namespace":"io.triage","fields":[
        {"name":"ticket_id","type":"string"},{"name":"customer_id","type":"string"},
        {"name":"created_at","type":"string"},{"name":"subject","type":"string"},
        {"name":"nulls","type":{"type":"array","items":"null"}},
        {"name":"empties","type":{"type":"array","items":{"type":"record","name":"E","fields":[]}}}]}"#,
    r#"{"type":"record","name":"T","namespace":"io.triage","fields":[
        {"name":"ticket_id","type":"string"},{"name":"customer_id","type":"string"},
        {"name":"created_at","type":"string"},{"name":"subject","type":"string"},
        {"name":"tree","type":{"type":"record","name":"Node","fields":[
            {"name":"kids","type":{"type":"array","items":"Node"}},
            {"name":"label","type":["null","string","bytes","double"]}]}}]}"#,
    r#"{"type":"record","name":"T","namespace":"io.triage","fields":[
        {"name":"ticket_id","type":"string"},{"name":"customer_id","type":"string"},
        {"name":"created_at","type":"string"},{"name":"subject","type":"string"},
        {"name":"tags","type":{"type":"array","items":"string"}},
        {"name":"custom_fields","type":{"type":"map","values":["null","boolean","double","string"]}},
        {"name":"m","type":{"type":"map","values":{"type":"array","items":{"type":"fixed","name":"F","size":0}}}}]}"#,
    r#"{"type":"record","name":"T","namespace":"io.triage","fields":[
        {"name":"ticket_id","type":"string"},{"name":"customer_id","type":"string"},
        {"name":"created_at","type":"string"},{"name":"subject","type":["null","string"]},
        {"name":"affected_users","type":["null","long","int"]},
        {"name":"e","type":{"type":"enum","name":"K","symbols":["A","B"]}},
        {"name":"f","type":"float"}]}"#,
];

/// The codec with every writer schema of [`WRITER_SCHEMAS`] under ids 101…
pub fn avro_codec() -> &'static AvroCodec {
    static C: OnceLock<AvroCodec> = OnceLock::new();
    C.get_or_init(|| {
        let c = AvroCodec::bundled();
        for (i, s) in WRITER_SCHEMAS.iter().enumerate() {
            c.add_writer_schema(101 + i as u32, s)
                .unwrap_or_else(|e| panic!("writer schema {i}: {e}"));
        }
        c
    })
}

/// Avro ticket: the first byte picks a writer schema (or the input is a
/// whole frame when it is 0), the rest is the datum. A decoded ticket is
/// triaged and encoded as Avro and as JSON; the JSON parses.
pub fn avro_ticket(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let c = avro_codec();
    let frame: Vec<u8> = if pick == 0 {
        data.to_vec()
    } else {
        let id = 101 + u32::from(pick) % WRITER_SCHEMAS.len() as u32;
        let mut f = vec![0];
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(rest);
        f
    };
    let t = match c.decode_ticket(&frame) {
        Ok(t) => t,
        Err(_) => return,
    };
    let tr = triage(rules(), &t.ticket(), None, now());
    let mut out = Vec::new();
    let _ = c.encode_triaged(&t, &tr, &mut out);
    out.clear();
    c.encode_triaged_json(&t, &tr, &mut out);
    let v: serde_json::Value = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("Avro rendered as JSON does not parse: {e}"));
    assert!(v["triage"]["priority"].is_string());
    assert_reasons_bounded(&v["triage"]);
}

/// Customer record (JSON and Avro through the service's codec).
pub fn customer(data: &[u8]) {
    let table = CustomerTable::default();
    let codec = Codec::json();
    let (key, value) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (Some(&data[..i]), Some(&data[i + 1..])),
        None => (Some(&b"C-1"[..]), Some(data)),
    };
    if let Applied::Error(e) = apply(&table, |v| codec.decode_customer(v), key, value) {
        assert_no_text(value.unwrap_or_default(), &e);
    }
    let _ = avro_codec().decode_customer(data);
}

/// Lifecycle event and triaged-ticket stamp, as the SLA watcher reads them.
pub fn lifecycle(data: &[u8]) {
    if let Err(e) = triage::clock::decode_lifecycle(data) {
        assert_no_text(data, &e);
    }
    if let Err(e) = triage::clock::decode_triaged(data) {
        assert_no_text(data, &e);
    }
}

/// Rules file: compiles or gives diagnostics; never panics.
pub fn rules_file(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match Rules::from_str("fuzz.toml", src) {
        Ok(l) => {
            // A policy that compiles triages a ticket, also one with negated
            // words (negated phrases, expectations, actions disowned at a
            // clause's end, before the sentence goes on and with "it", a
            // phrase disowned as "not ours", a contraction without its
            // apostrophe) and questions (one asking why something won't work).
            for t in [
                &br#"{"ticket_id":"T","customer_id":"C","created_at":"2026-11-24T10:00:00Z","subject":"login broken, urgent"}"#[..],
                br#"{"ticket_id":"T","customer_id":"C","created_at":"2026-11-24T10:00:00Z","subject":"How do I export?","body":"We don't recognize this login and the export didn't work. There is a payment I didnt make shows in the app, a charge that isn't ours, and I did not do it. Why won't my new export work? Not urgent, thanks!"}"#,
            ] {
                let d = json::decode_ticket(t).expect("a valid ticket");
                let _ = triage(&l.rules, &d.ticket, None, now());
            }
        }
        Err(diags) => assert!(!diags.is_empty(), "an error without a diagnostic"),
    }
}

/// A fuzz target's check.
pub type Check = fn(&[u8]);

/// Every target, by name (the fuzz crate's and the smoke test's list).
pub const TARGETS: [(&str, Check); 6] = [
    ("json_ticket", json_ticket),
    ("html_text", html_text),
    ("avro_ticket", avro_ticket),
    ("customer", customer),
    ("lifecycle", lifecycle),
    ("rules_file", rules_file),
];
