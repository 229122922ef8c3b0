//! The per-ticket function: what "triage one record" means, once, for every
//! caller — the service's pipeline, `triage score`, the demo and the engine
//! benchmark all call [`process`].
//!
//! ```text
//!  payload ─► size check ─► decode (Codec) ─► customer lookup ─► engine::decide ─► encode (Codec) ─► size check
//!                 │              │                 (Customers)     (rules, now)          │              │
//!                 └──────────────┴────────────── Outcome::Dead { reason, detail } ◄──────┴──────────────┘
//! ```
//!
//! The clock (`now`) and the customers are passed in; the function reads no
//! clock, table or file of its own, so the same inputs give the same bytes.
//! A panic inside is not caught here: callers wrap the call in
//! [`isolate`](crate::isolate::isolate) and turn a panic into that record's
//! dead letter.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;

use crate::codec::{Codec, DecodeError, DlqReason};
use crate::customers::CustomerTable;
use crate::engine::{decide, Scratch};
use crate::model::Profile;
use crate::rules::Rules;

/// Size limits of the record in and out, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A larger input is dead-lettered as `too_large` without being decoded.
    pub max_input_bytes: usize,
    /// A larger triaged record is dead-lettered as `too_large` (the broker
    /// would refuse it).
    pub max_output_bytes: usize,
}

impl Limits {
    /// No limits (`triage score`, benchmarks).
    pub const NONE: Limits = Limits {
        max_input_bytes: usize::MAX,
        max_output_bytes: usize::MAX,
    };
}

/// Where the ticket's customer is looked up: the service's table, a map
/// (`triage score`), or nobody.
pub trait Customers {
    /// Calls `f` with the customer's profile, if known.
    fn with_profile<R>(&self, customer_id: &str, f: impl FnOnce(Option<&Profile>) -> R) -> R;
}

impl Customers for CustomerTable {
    fn with_profile<R>(&self, customer_id: &str, f: impl FnOnce(Option<&Profile>) -> R) -> R {
        let found = self.lookup(customer_id);
        f(found.get())
    }
}

impl Customers for HashMap<String, Profile> {
    fn with_profile<R>(&self, customer_id: &str, f: impl FnOnce(Option<&Profile>) -> R) -> R {
        f(self.get(customer_id))
    }
}

/// No customer is known (every ticket gets the default segment).
pub struct Unknown;

impl Customers for Unknown {
    fn with_profile<R>(&self, _: &str, f: impl FnOnce(Option<&Profile>) -> R) -> R {
        f(None)
    }
}

/// A triaged record (its bytes are in the caller's `out`) and what the edge
/// counts and routes it by.
#[derive(Debug, Clone, PartialEq)]
pub struct Triaged {
    pub ticket_id: String,
    pub created_at: Timestamp,
    /// Index of the level in the rules (its topic is the destination).
    pub level: u16,
    /// Index of the category in the rules.
    pub category: u16,
    /// The skill queue.
    pub queue: Arc<str>,
    /// Whether the customer was found.
    pub customer_known: bool,
    /// The share of the first-response target used when triaged (`None`
    /// when the target is 0).
    pub first_response_used: Option<f64>,
    /// The first response was already due when the ticket was triaged.
    pub past_due: bool,
    /// The shadow policy's decision, when one was asked for: `Err` holds the message of a panic
    /// inside it (the live decision and the output are not affected).
    pub shadow: Option<Result<ShadowDecision, String>>,
}

/// A candidate policy decided beside the live one on the same ticket, customer and instant. It
/// never changes the output: only [`Triaged::shadow`] reports it.
pub struct Shadow<'a> {
    pub rules: &'a Rules,
    /// The shadow's own scratch space (reset by the caller after a panic in it).
    pub scratch: &'a mut Scratch,
}

/// What the shadow policy decided.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowDecision {
    /// Index of the level in the shadow's rules.
    pub level: u16,
    pub priority: Arc<str>,
    pub category: Arc<str>,
    pub queue: Arc<str>,
    pub tier: Arc<str>,
    pub score: i64,
    pub rules_version: Arc<str>,
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Triaged(Triaged),
    /// The record goes to the dead-letter topic with this reason.
    Dead(DecodeError),
}

/// Decode, enrich, triage, stamp and encode one input record into `out`
/// (cleared first), as of `now`.
#[allow(clippy::too_many_arguments)]
pub fn process(
    codec: &Codec,
    rules: &Rules,
    customers: &impl Customers,
    payload: &[u8],
    now: Timestamp,
    limits: Limits,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Outcome {
    process_with_shadow(
        codec, rules, customers, payload, now, limits, scratch, out, None,
    )
}

/// [`process`], also deciding the ticket with a `shadow` policy when given. The shadow runs
/// after the live decision, isolated: a panic in it is reported in [`Triaged::shadow`] and the
/// record is triaged as without it.
#[allow(clippy::too_many_arguments)]
pub fn process_with_shadow(
    codec: &Codec,
    rules: &Rules,
    customers: &impl Customers,
    payload: &[u8],
    now: Timestamp,
    limits: Limits,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    shadow: Option<Shadow<'_>>,
) -> Outcome {
    out.clear();
    let max = limits.max_input_bytes;
    if payload.len() > max {
        return Outcome::Dead(DecodeError::new(
            DlqReason::TooLarge,
            format!(
                "the record is {} bytes, over max_message_bytes ({max})",
                payload.len()
            ),
        ));
    }
    let d = match codec.decode_ticket(payload) {
        Err(e) => return Outcome::Dead(e),
        Ok(d) => d,
    };
    let ticket = d.ticket();
    let (decision, known, shadow) = customers.with_profile(&ticket.customer_id, |profile| {
        let live = decide(rules, &ticket, profile, now, scratch);
        let shadow = shadow.map(|s| {
            crate::isolate::isolate(|| {
                let d = decide(s.rules, &ticket, profile, now, s.scratch);
                ShadowDecision {
                    level: d.level,
                    priority: d.triage.priority,
                    category: d.triage.category,
                    queue: d.triage.queue,
                    tier: d.triage.tier,
                    score: d.triage.score,
                    rules_version: d.triage.rules_version,
                }
            })
        });
        (live, profile.is_some(), shadow)
    });
    let t = &decision.triage;
    if let Err(e) = codec.encode_triaged(payload, &d, t, out) {
        return Outcome::Dead(e);
    }
    if out.len() > limits.max_output_bytes {
        return Outcome::Dead(DecodeError::new(
            DlqReason::TooLarge,
            format!(
                "the triaged record would be {} bytes, over the producer's limit ({})",
                out.len(),
                limits.max_output_bytes
            ),
        ));
    }
    Outcome::Triaged(Triaged {
        ticket_id: ticket.ticket_id.to_string(),
        created_at: ticket.created_at,
        level: decision.level,
        category: decision.category,
        queue: t.queue.clone(),
        customer_known: known,
        first_response_used: decision.first_response_used(rules, ticket.created_at, now),
        past_due: now > t.sla.first_response_due,
        shadow,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::from_str("rules.toml", include_str!("../../../config/rules.toml"))
            .map_err(|d| format!("{d:?}"))
            .unwrap()
            .rules
    }

    const TICKET: &[u8] = br#"{"ticket_id":"T-1","customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","channel":"email","subject":"Production down for all users","body":"Nobody can log in since the deploy."}"#;

    #[test]
    fn triages_with_the_customer_and_the_clock_passed_in() {
        let rules = rules();
        let now: Timestamp = "2026-11-02T09:05:00Z".parse().unwrap();
        let mut table = HashMap::new();
        table.insert(
            "C-1".to_string(),
            Profile::from_customer(
                &serde_json::from_str(r#"{"customer_id":"C-1","support_plan":"premium"}"#).unwrap(),
            ),
        );
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut scratch = Scratch::default();
        let known = process(
            &Codec::json(),
            &rules,
            &table,
            TICKET,
            now,
            Limits::NONE,
            &mut scratch,
            &mut a,
        );
        let unknown = process(
            &Codec::json(),
            &rules,
            &Unknown,
            TICKET,
            now,
            Limits::NONE,
            &mut scratch,
            &mut b,
        );
        let (Outcome::Triaged(k), Outcome::Triaged(u)) = (&known, &unknown) else {
            panic!("{known:?} {unknown:?}");
        };
        assert!(k.customer_known && !u.customer_known);
        assert_eq!(k.ticket_id, "T-1");
        let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(
            v["triage"]["priority"],
            &*rules.levels[k.level as usize].name
        );
        assert_eq!(
            v["triage"]["category"],
            &*rules.categories[k.category as usize].name
        );
        assert_eq!(v["triage"]["triaged_at"], "2026-11-02T09:05:00Z");
        assert!(k.first_response_used.unwrap() > 0.0);
        // Deterministic: the same inputs give the same bytes.
        let mut again = Vec::new();
        process(
            &Codec::json(),
            &rules,
            &table,
            TICKET,
            now,
            Limits::NONE,
            &mut scratch,
            &mut again,
        );
        assert_eq!(a, again);
    }

    #[test]
    fn limits_and_bad_input_are_dead_letters_with_a_reason() {
        let rules = rules();
        let now: Timestamp = "2026-11-02T09:05:00Z".parse().unwrap();
        let mut out = Vec::new();
        let mut scratch = Scratch::default();
        let mut run = |payload: &[u8], limits| match process(
            &Codec::json(),
            &rules,
            &Unknown,
            payload,
            now,
            limits,
            &mut scratch,
            &mut out,
        ) {
            Outcome::Dead(e) => e.reason,
            Outcome::Triaged(t) => panic!("triaged {t:?}"),
        };
        let small = Limits {
            max_input_bytes: 10,
            max_output_bytes: usize::MAX,
        };
        assert_eq!(run(TICKET, small), DlqReason::TooLarge);
        let tight = Limits {
            max_input_bytes: usize::MAX,
            max_output_bytes: 100,
        };
        assert_eq!(run(TICKET, tight), DlqReason::TooLarge);
        assert_eq!(run(b"[1,2,3]", Limits::NONE), DlqReason::SchemaError);
        assert_eq!(run(b"{not json", Limits::NONE), DlqReason::DecodeError);
    }
}
