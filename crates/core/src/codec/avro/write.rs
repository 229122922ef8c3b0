//! Encoding: the triaged ticket as Avro, and a decoded ticket rendered as JSON.

use super::*;

#[inline]
pub(super) fn put_long(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

#[inline]
pub(super) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_long(out, s.len() as i64);
    out.extend_from_slice(s.as_bytes());
}

#[inline]
pub(super) fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(2);
            put_str(out, s);
        }
    }
}

#[inline]
pub(super) fn put_f32(out: &mut Vec<u8>, f: f32) {
    out.extend_from_slice(&f.to_le_bytes());
}

/// A timestamp as an RFC 3339 string (the same text as the JSON output).
pub(super) fn put_ts(out: &mut Vec<u8>, ts: Timestamp) {
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

pub(super) fn write_ticket_fields(p: &Parts, out: &mut Vec<u8>) -> Result<(), String> {
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

pub(super) fn write_extras(p: &Parts, out: &mut Vec<u8>) {
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

pub(super) fn write_triage(t: &Triage, out: &mut Vec<u8>) {
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

pub(super) fn json_string_into(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

/// The ticket as a JSON object without its closing brace.
pub(super) fn write_json_ticket(p: &Parts, out: &mut Vec<u8>) {
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
