//! The contract's domain types: the ticket event (in), the customer record (in,
//! compacted) and the `triage` object that is added to a ticket on the way out.
//!
//! `schemas/` is the source of truth for the wire format; these types follow it.
//! Decoding a ticket borrows from the input buffer where it can (no copy of the
//! subject or body unless it contains JSON escapes).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A validated ticket event, as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket<'a> {
    /// Unique per ticket; the output key.
    pub ticket_id: Cow<'a, str>,
    /// Joins to the customer table.
    pub customer_id: Cow<'a, str>,
    /// When the customer opened the ticket; SLA clocks start here.
    pub created_at: Timestamp,
    /// May be empty.
    pub subject: Cow<'a, str>,
    pub body: Option<Cow<'a, str>>,
    /// email, chat, phone, web, api, other.
    pub channel: Option<Cow<'a, str>>,
    /// The requester's name, as the intake system gave it (`requester.name`):
    /// who the customer is among the speakers of a chat transcript.
    pub requester_name: Option<Cow<'a, str>>,
    /// What the customer selected.
    pub reported_priority: Option<ReportedPriority>,
    /// Business impact, as reported.
    pub affected_users: Option<u64>,
    pub tags: Vec<Cow<'a, str>>,
    /// Tenant-defined fields that rules may read.
    pub custom_fields: BTreeMap<Cow<'a, str>, CustomValue<'a>>,
}

/// The customer's own view of how urgent the ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportedPriority {
    Low,
    Normal,
    High,
    Urgent,
}

impl ReportedPriority {
    pub const ALL: [ReportedPriority; 4] = [Self::Low, Self::Normal, Self::High, Self::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A custom field value: string, number or bool.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum CustomValue<'a> {
    Bool(bool),
    Number(f64),
    #[serde(borrow)]
    String(Cow<'a, str>),
}

/// A customer record from the compacted `customers` topic. Fields the record
/// lacks fall back to the rules' `unknown_customer` defaults when triaging.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct Customer {
    pub customer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// e.g. enterprise, business, smb, free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    /// The support product the customer bought, e.g. premium, standard, basic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_plan: Option<String>,
    #[serde(default)]
    pub vip: bool,
    /// e.g. power_user, developer, admin, casual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
    /// e.g. new, active, at_risk, churning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
    /// Annual recurring revenue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arr: Option<f64>,
    /// A contract's own SLA policy name, overriding the plan's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_policy: Option<String>,
    /// IANA zone name, for business-hours calendars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// For skill routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The object added to every triaged ticket under the key `triage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Triage {
    /// Level name, e.g. `P1`.
    pub priority: Arc<str>,
    /// The number the level was read from: the sum of `reasons[].points`.
    pub score: i64,
    pub category: Arc<str>,
    pub severity: Arc<str>,
    pub sentiment: Sentiment,
    /// How sure the text detection was of each label, 0…1.
    pub confidence: Confidence,
    /// Present when the rules name trained models: what each said.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelVerdict>,
    pub customer_known: bool,
    /// The customer fields that were used (the record's, else the default segment's).
    pub segment: Segment,
    /// Skill queue.
    pub queue: Arc<str>,
    /// Support tier, e.g. L1, L2, L3.
    pub tier: Arc<str>,
    pub sla: SlaStamp,
    /// Every contribution to the score and every rule that fired, in order.
    pub reasons: Vec<Reason>,
    /// Identifies the rules file that decided.
    pub rules_version: Arc<str>,
    pub triaged_at: Timestamp,
    /// The language the text reads as (ISO 639-1), when it can be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<&'static str>,
}

/// Sentiment of the ticket text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sentiment {
    pub label: SentimentLabel,
    /// −1 (very negative) … 1 (very positive).
    pub score: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    Negative,
    Neutral,
    Positive,
}

impl SentimentLabel {
    pub const ALL: [SentimentLabel; 3] = [Self::Negative, Self::Neutral, Self::Positive];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Negative => "negative",
            Self::Neutral => "neutral",
            Self::Positive => "positive",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Confidence {
    pub category: f32,
    pub severity: f32,
    pub sentiment: f32,
}

/// What a trained model said about one field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVerdict {
    /// Which field the model predicts: category, severity, queue or priority.
    pub field: &'static str,
    pub label: Arc<str>,
    pub confidence: f32,
    /// `true` when the confidence reached the auto-apply threshold and the
    /// label was used; `false` when it is only a suggestion.
    pub applied: bool,
    /// The best labels with their confidence, best first.
    pub alternatives: Vec<(Arc<str>, f32)>,
}

/// The customer fields triage used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub account_type: Arc<str>,
    pub support_plan: Arc<str>,
    pub vip: bool,
    pub persona: Arc<str>,
    pub lifecycle: Arc<str>,
    pub arr: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla_policy: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Arc<str>>,
}

/// The SLA the ticket is held to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaStamp {
    pub policy: Arc<str>,
    pub calendar: Arc<str>,
    /// The zone the calendar's hours were read in.
    pub timezone: Arc<str>,
    pub first_response_due: Timestamp,
    pub resolution_due: Timestamp,
    pub first_response_target_seconds: i64,
    pub resolution_target_seconds: i64,
}

/// One contribution to the score, or one rule that fired (0 points).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// The strategy: account_type, support_plan, vip, persona, lifecycle, arr,
    /// category, severity, sentiment, intensity, reported_priority, impact,
    /// age, condition, override, model, sla, language.
    pub factor: &'static str,
    pub points: i64,
    /// The phrase, field or rule that caused it.
    pub detail: String,
}

/// A customer record prepared for triage: the time zone parsed once, values
/// shared. This is what the customer table holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub account_type: Option<Arc<str>>,
    pub support_plan: Option<Arc<str>>,
    pub vip: bool,
    pub persona: Option<Arc<str>>,
    pub lifecycle: Option<Arc<str>>,
    pub arr: Option<f64>,
    pub sla_policy: Option<Arc<str>>,
    pub timezone: Option<Arc<str>>,
    /// `None` when the record has no zone or an unknown one.
    pub tz: Option<jiff::tz::TimeZone>,
    pub language: Option<Arc<str>>,
}

impl Profile {
    /// Prepares a record. `intern` lets a table share repeated values
    /// (account types, plans, zones) between customers.
    pub fn new(c: &Customer, intern: &mut dyn FnMut(&str) -> Arc<str>) -> Profile {
        let mut s = |v: &Option<String>| v.as_deref().map(&mut *intern);
        Profile {
            account_type: s(&c.account_type),
            support_plan: s(&c.support_plan),
            vip: c.vip,
            persona: s(&c.persona),
            lifecycle: s(&c.lifecycle),
            arr: c.arr,
            sla_policy: s(&c.sla_policy),
            timezone: s(&c.timezone),
            tz: c
                .timezone
                .as_deref()
                .and_then(|z| jiff::tz::TimeZone::get(z).ok()),
            language: s(&c.language),
        }
    }

    /// Prepares a record without sharing values.
    pub fn from_customer(c: &Customer) -> Profile {
        Profile::new(c, &mut |v| Arc::from(v))
    }
}
