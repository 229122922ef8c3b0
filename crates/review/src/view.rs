//! One view of a triage decision, whichever side it comes from: the engine's [`Triage`] (a rules
//! file replayed) or the `triage` object recorded on a priority topic (what was decided).

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use triage_core::model::Triage;

/// The fields of a decision a review compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decided {
    pub priority: Arc<str>,
    pub score: i64,
    pub category: Arc<str>,
    pub severity: Arc<str>,
    pub queue: Arc<str>,
    pub tier: Arc<str>,
    pub sla: SlaView,
    #[serde(default)]
    pub reasons: Vec<ReasonView>,
}

/// The SLA stamp's names and targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaView {
    pub policy: Arc<str>,
    pub calendar: Arc<str>,
    pub timezone: Arc<str>,
    pub first_response_target_seconds: i64,
    pub resolution_target_seconds: i64,
}

/// One reason: the strategy, its points, what caused it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonView {
    pub factor: String,
    pub points: i64,
    pub detail: String,
}

/// The customer's segment as a review groups by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentView {
    pub account_type: Arc<str>,
    pub support_plan: Arc<str>,
}

/// A `triage` object as recorded on a priority topic: the decision, the segment, and when.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Recorded {
    #[serde(flatten)]
    pub decided: Decided,
    pub segment: SegmentView,
    pub triaged_at: Timestamp,
    #[serde(default)]
    pub rules_version: Option<String>,
}

/// The `triage` field of a recorded triaged ticket (every other field is ignored).
#[derive(Deserialize)]
struct RecordedWire {
    triage: Option<Recorded>,
}

impl Recorded {
    /// Reads the `triage` object of a triaged ticket's JSON; `Ok(None)` when it has none.
    pub fn from_json(bytes: &[u8]) -> Result<Option<Recorded>, String> {
        serde_json::from_slice::<RecordedWire>(bytes)
            .map(|w| w.triage)
            .map_err(|e| format!("the recorded `triage` object: {e}"))
    }
}

impl Decided {
    /// The view of an engine decision.
    pub fn of(t: &Triage) -> Decided {
        Decided {
            priority: t.priority.clone(),
            score: t.score,
            category: t.category.clone(),
            severity: t.severity.clone(),
            queue: t.queue.clone(),
            tier: t.tier.clone(),
            sla: SlaView {
                policy: t.sla.policy.clone(),
                calendar: t.sla.calendar.clone(),
                timezone: t.sla.timezone.clone(),
                first_response_target_seconds: t.sla.first_response_target_seconds,
                resolution_target_seconds: t.sla.resolution_target_seconds,
            },
            reasons: t
                .reasons
                .iter()
                .map(|r| ReasonView {
                    factor: r.factor.to_string(),
                    points: r.points,
                    detail: r.detail.clone(),
                })
                .collect(),
        }
    }
}

impl SegmentView {
    pub fn of(t: &Triage) -> SegmentView {
        SegmentView {
            account_type: t.segment.account_type.clone(),
            support_plan: t.segment.support_plan.clone(),
        }
    }
}

/// The UTC day of `t` (`YYYY-MM-DD`), the unit of the per-day charts.
pub fn day_of(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

/// The name a reason is counted under across tickets: the factor and its detail with numbers
/// replaced by `#` ("impact: 300 affected users" and "impact: 12 affected users" are one rule).
pub fn rule_key(r: &ReasonView) -> String {
    let mut out = String::with_capacity(r.factor.len() + r.detail.len() + 2);
    out.push_str(&r.factor);
    out.push_str(": ");
    // What happened to this ticket, in a trailing parenthesis ("floor P2 (P3 → P2)"), is not
    // part of the rule.
    let detail = match r.detail.rfind(" (") {
        Some(i) if r.detail.ends_with(')') => &r.detail[..i],
        _ => r.detail.as_str(),
    };
    // A number is a run of digits (with `.` or `,` inside) that does not continue a word:
    // "P2" and "L1" are names, "300" and "1.5" are amounts.
    let mut in_number = false;
    let mut prev_alnum = false;
    for c in detail.chars() {
        if (c.is_ascii_digit() && (in_number || !prev_alnum))
            || (in_number && (c == '.' || c == ','))
        {
            if !in_number {
                out.push('#');
                in_number = true;
            }
        } else {
            in_number = false;
            out.push(c);
        }
        prev_alnum = c.is_alphanumeric();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_key_folds_numbers() {
        let r = |f: &str, d: &str| ReasonView {
            factor: f.into(),
            points: 1,
            detail: d.into(),
        };
        assert_eq!(
            rule_key(&r("impact", "300 affected users")),
            "impact: # affected users"
        );
        assert_eq!(rule_key(&r("age", "1.5 hours old")), "age: # hours old");
        assert_eq!(
            rule_key(&r("override", "vip: floor P2, 2 rules (P3 → P2)")),
            "override: vip: floor P2, # rules"
        );
        assert_eq!(
            rule_key(&r("category", "outage: \"production down\"")),
            "category: outage: \"production down\""
        );
    }

    #[test]
    fn recorded_reads_an_avro_triaged_record_turned_to_json() {
        use triage_core::codec::avro::AvroCodec;
        use triage_core::codec::json::decode_ticket;
        let rules = triage_core::rules::Rules::from_str(
            "rules.toml",
            include_str!("../../../config/rules.toml"),
        )
        .map_err(|d| format!("{d:?}"))
        .unwrap()
        .rules;
        let input = br#"{"ticket_id":"T-1","customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","subject":"Invoice charged twice"}"#;
        let d = decode_ticket(input).unwrap();
        let now = "2026-11-02T09:05:00Z".parse().unwrap();
        let t = triage_core::engine::triage(&rules, &d.ticket, None, now);
        let mut frame = Vec::new();
        AvroCodec::bundled()
            .encode_triaged_from_json(input, &t, &mut frame)
            .unwrap();
        let json = triage_core::clock::avro::triaged_json(&frame).unwrap();
        let r = Recorded::from_json(&json).unwrap().unwrap();
        assert_eq!(r.decided, Decided::of(&t));
        assert_eq!(r.triaged_at, now);
    }

    #[test]
    fn recorded_reads_the_example() {
        let bytes = include_bytes!("../../../schemas/examples/triaged_ticket.json");
        let r = Recorded::from_json(bytes).unwrap().unwrap();
        assert_eq!(&*r.decided.priority, "P1");
        assert_eq!(&*r.decided.queue, "identity");
        assert_eq!(r.decided.sla.first_response_target_seconds, 900);
        assert_eq!(&*r.segment.support_plan, "premium");
        assert_eq!(r.decided.reasons.len(), 8);
        assert!(Recorded::from_json(br#"{"ticket_id":"x"}"#)
            .unwrap()
            .is_none());
    }
}
