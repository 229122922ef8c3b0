//! The watcher's inputs as values: a lifecycle event (`schemas/lifecycle_event.avsc`) and the
//! fields of a triaged ticket (`schemas/triaged_ticket.avsc`) that start the clocks.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::Status;

/// One lifecycle event of a ticket (topic `tickets.lifecycle`, key `ticket_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifecycleEvent {
    /// The ticket; also the record key.
    pub ticket_id: String,
    /// When it happened (RFC 3339).
    pub at: Timestamp,
    /// What happened, with its fields.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened to a ticket. On the wire: the field `type` plus the kind's own field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// An agent's first public response: stops the first-response clock.
    FirstResponse,
    /// An agent replied; the first one also stops the first-response clock.
    AgentReply,
    /// The customer replied; while `pending` (waiting on the customer) this sets the status back
    /// to `open`.
    CustomerReply,
    /// The help desk changed the status.
    StatusChanged { status: Status },
    /// The ticket's priority level changed: both clocks are re-targeted.
    PriorityChanged { priority: Arc<str> },
    /// A solved or closed ticket was reopened: the clocks it stopped resume.
    Reopened,
    /// A CSAT score (1–5) from the customer, usually after the ticket was solved.
    Satisfaction { score: u8 },
    /// An agent re-categorized the ticket. No effect on the clocks; `triage report` counts how
    /// often agents corrected the category triage gave.
    CategoryChanged { category: Arc<str> },
}

impl EventKind {
    /// The `type` field, also a metric label.
    pub const TYPES: [&'static str; 8] = [
        "first_response",
        "agent_reply",
        "customer_reply",
        "status_changed",
        "priority_changed",
        "reopened",
        "satisfaction",
        "category_changed",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::FirstResponse => "first_response",
            EventKind::AgentReply => "agent_reply",
            EventKind::CustomerReply => "customer_reply",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::PriorityChanged { .. } => "priority_changed",
            EventKind::Reopened => "reopened",
            EventKind::Satisfaction { .. } => "satisfaction",
            EventKind::CategoryChanged { .. } => "category_changed",
        }
    }
}

impl LifecycleEvent {
    /// Decodes and validates a JSON lifecycle event. Unknown extra fields are ignored. The error
    /// is one sentence that names fields, never ticket text.
    pub fn from_json(bytes: &[u8]) -> Result<LifecycleEvent, String> {
        let e: LifecycleEvent = serde_json::from_slice(bytes).map_err(|e| {
            crate::codec::json_error::<LifecycleEvent>(bytes, e, "lifecycle event").detail
        })?;
        e.validate()?;
        Ok(e)
    }

    /// Checks what the types cannot: a non-empty id, a score of 1–5, a non-empty priority or
    /// category.
    pub fn validate(&self) -> Result<(), String> {
        if self.ticket_id.trim().is_empty() {
            return Err("`ticket_id` is empty".into());
        }
        match &self.kind {
            EventKind::Satisfaction { score } if !(1..=5).contains(score) => {
                Err(format!("`score` must be 1 to 5, got {score}"))
            }
            EventKind::PriorityChanged { priority } if priority.trim().is_empty() => {
                Err("`priority` is empty".into())
            }
            EventKind::CategoryChanged { category } if category.trim().is_empty() => {
                Err("`category` is empty".into())
            }
            _ => Ok(()),
        }
    }

    /// The JSON form (as in `schemas/examples/lifecycle_event.json`).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serializable")
    }
}

/// The fields of a triaged ticket that start its clocks: ids, routing and the SLA stamp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamp {
    pub ticket_id: String,
    pub customer_id: String,
    /// When the customer opened the ticket: both clocks start here.
    pub created_at: Timestamp,
    /// Level name, e.g. `P1`.
    pub priority: Arc<str>,
    pub category: Arc<str>,
    pub queue: Arc<str>,
    /// SLA policy name.
    pub policy: Arc<str>,
    /// Calendar name (a key of `[sla.calendars]`, or `24x7`).
    pub calendar: Arc<str>,
    /// IANA zone the calendar's hours are read in.
    pub timezone: Arc<str>,
    #[serde(with = "secs")]
    pub first_response_target: SignedDuration,
    #[serde(with = "secs")]
    pub resolution_target: SignedDuration,
    /// As stamped by triage (for the acknowledgment; the clocks recompute it).
    pub first_response_due: Timestamp,
    pub triaged_at: Timestamp,
}

#[derive(Deserialize)]
struct TriagedWire {
    ticket_id: String,
    customer_id: String,
    created_at: Timestamp,
    triage: TriageWire,
}

#[derive(Deserialize)]
struct TriageWire {
    priority: Arc<str>,
    category: Arc<str>,
    queue: Arc<str>,
    sla: SlaWire,
    triaged_at: Timestamp,
}

#[derive(Deserialize)]
struct SlaWire {
    policy: Arc<str>,
    calendar: Arc<str>,
    timezone: Arc<str>,
    first_response_due: Timestamp,
    first_response_target_seconds: i64,
    resolution_target_seconds: i64,
}

impl Stamp {
    /// Reads the stamp from a JSON triaged ticket (other fields are ignored).
    pub fn from_triaged_json(bytes: &[u8]) -> Result<Stamp, String> {
        let w: TriagedWire = serde_json::from_slice(bytes).map_err(|e| {
            crate::codec::json_error::<TriagedWire>(bytes, e, "triaged ticket").detail
        })?;
        Stamp::from_parts(w)
    }

    fn from_parts(w: TriagedWire) -> Result<Stamp, String> {
        if w.ticket_id.trim().is_empty() {
            return Err("`ticket_id` is empty".into());
        }
        let (fr, rs) = (
            w.triage.sla.first_response_target_seconds,
            w.triage.sla.resolution_target_seconds,
        );
        if fr < 0 || rs < 0 {
            return Err("`triage.sla` has a negative target".into());
        }
        Ok(Stamp {
            ticket_id: w.ticket_id,
            customer_id: w.customer_id,
            created_at: w.created_at,
            priority: w.triage.priority,
            category: w.triage.category,
            queue: w.triage.queue,
            policy: w.triage.sla.policy,
            calendar: w.triage.sla.calendar,
            timezone: w.triage.sla.timezone,
            first_response_target: SignedDuration::from_secs(fr),
            resolution_target: SignedDuration::from_secs(rs),
            first_response_due: w.triage.sla.first_response_due,
            triaged_at: w.triage.triaged_at,
        })
    }

    /// Reads the stamp from an Avro `io.triage.TriagedTicket` value (already decoded).
    pub fn from_avro_value(v: &apache_avro::types::Value) -> Result<Stamp, String> {
        use apache_avro::types::Value;
        fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, String> {
            match v {
                Value::Record(fields) => fields
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v)
                    .ok_or_else(|| format!("no field `{name}`")),
                _ => Err(format!("`{name}`: not a record")),
            }
        }
        fn string(v: &Value, name: &str) -> Result<String, String> {
            match field(v, name)? {
                Value::String(s) => Ok(s.clone()),
                _ => Err(format!("`{name}` is not a string")),
            }
        }
        fn long(v: &Value, name: &str) -> Result<i64, String> {
            match field(v, name)? {
                Value::Long(n) => Ok(*n),
                Value::Int(n) => Ok(i64::from(*n)),
                _ => Err(format!("`{name}` is not a long")),
            }
        }
        fn ts(v: &Value, name: &str) -> Result<Timestamp, String> {
            string(v, name)?
                .parse()
                .map_err(|e| format!("`{name}` is not an RFC 3339 timestamp: {e}"))
        }
        let t = field(v, "triage")?;
        let sla = field(t, "sla")?;
        Stamp::from_parts(TriagedWire {
            ticket_id: string(v, "ticket_id")?,
            customer_id: string(v, "customer_id")?,
            created_at: ts(v, "created_at")?,
            triage: TriageWire {
                priority: string(t, "priority")?.into(),
                category: string(t, "category")?.into(),
                queue: string(t, "queue")?.into(),
                triaged_at: ts(t, "triaged_at")?,
                sla: SlaWire {
                    policy: string(sla, "policy")?.into(),
                    calendar: string(sla, "calendar")?.into(),
                    timezone: string(sla, "timezone")?.into(),
                    first_response_due: ts(sla, "first_response_due")?,
                    first_response_target_seconds: long(sla, "first_response_target_seconds")?,
                    resolution_target_seconds: long(sla, "resolution_target_seconds")?,
                },
            },
        })
    }
}

/// `SignedDuration` as whole seconds (serde).
pub(crate) mod secs {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &SignedDuration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SignedDuration, D::Error> {
        i64::deserialize(d).map(SignedDuration::from_secs)
    }
}

/// `SignedDuration` as integer nanoseconds (serde): exact.
pub(crate) mod nanos {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &SignedDuration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SignedDuration, D::Error> {
        i64::deserialize(d).map(SignedDuration::from_nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_events_parse() {
        let e = LifecycleEvent::from_json(
            br#"{"ticket_id":"T-1","type":"status_changed","at":"2026-11-02T08:20:00Z","status":"waiting_on_customer","actor":"agent-7"}"#,
        )
        .unwrap();
        assert_eq!(
            e.kind,
            EventKind::StatusChanged {
                status: Status::Pending
            }
        );
        let back = LifecycleEvent::from_json(&e.to_json()).unwrap();
        assert_eq!(back, e);
        let e = LifecycleEvent::from_json(
            br#"{"ticket_id":"T-1","type":"first_response","at":"2026-11-02T08:20:00+01:00"}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::FirstResponse);
        assert_eq!(e.at, "2026-11-02T07:20:00Z".parse().unwrap());
        for bad in [
            &br#"{"ticket_id":"T-1","type":"satisfaction","at":"2026-11-02T08:20:00Z","score":6}"#[..],
            br#"{"ticket_id":"","type":"reopened","at":"2026-11-02T08:20:00Z"}"#,
            br#"{"ticket_id":"T-1","type":"escalated","at":"2026-11-02T08:20:00Z"}"#,
            br#"{"ticket_id":"T-1","type":"status_changed","at":"2026-11-02T08:20:00Z","status":"hold"}"#,
            br#"{"ticket_id":"T-1","type":"reopened","at":"yesterday"}"#,
            b"not json",
        ] {
            assert!(LifecycleEvent::from_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn stamp_from_the_contract_example() {
        let s = Stamp::from_triaged_json(include_bytes!(
            "../../../../schemas/examples/triaged_ticket.json"
        ))
        .unwrap();
        assert_eq!(s.ticket_id, "T-10042");
        assert_eq!(&*s.priority, "P1");
        assert_eq!(&*s.calendar, "24x7");
        assert_eq!(s.first_response_target, SignedDuration::from_mins(15));
        assert_eq!(s.resolution_target, SignedDuration::from_hours(4));
        assert_eq!(s.created_at, "2026-11-02T08:14:05Z".parse().unwrap());
        assert!(Stamp::from_triaged_json(br#"{"ticket_id":"T"}"#).is_err());
    }
}
