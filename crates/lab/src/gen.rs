//! Synthetic data for benchmarks and demos: support tickets and customer
//! records that look like a real B2B SaaS queue, deterministic for a seed.
//!
//! Pure: no I/O except in [`cli`]. Every record is a function of
//! `(seed, index)` alone (its own SplitMix64 stream), so any record can be
//! generated on its own, in any order, on any thread, with the same result.
//!
//! **Tickets** (JSON objects of 0.5–2 KB, ~1 KB on average) have subjects and
//! bodies composed from sentence templates per category, in the mix real
//! queues have — many how-to, bug and account questions, fewer billing and
//! feature requests, few outages and security reports — with severities and
//! tones varied: polite, neutral, frustrated, angry with shouting and
//! exclamation marks, and negated expectations ("not working", "never
//! arrives"). They carry channels, a requester, tags, `reported_priority`,
//! `affected_users`, custom fields, and `created_at` spread over the days
//! before a base time, mostly recent. Most tickets belong to a customer of
//! the table (`C-000001` … `C-<customers>`, skewed toward low ids: big
//! accounts file more tickets); a few come from customers not in it.
//!
//! **Bad records**, a configurable fraction: not JSON (truncated, plain
//! text), a required field missing, a malformed `created_at`, an invalid
//! value (`reported_priority`, negative `affected_users`), a wrong type. In
//! Avro, the kinds a schema cannot express become bytes that are not a frame,
//! a truncated datum or an unknown schema id.
//!
//! **Customers**: account types, support plans, VIP, persona, lifecycle, ARR,
//! contract SLA policies, time zones and languages with plausible
//! correlations (enterprise accounts buy premium support and have high ARR).
//!
//! `triage gen tickets …` / `triage gen customers …` write JSON lines, or for
//! Avro a stream of length-prefixed Confluent frames (4-byte big-endian
//! length, then the frame).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use jiff::{SignedDuration, Timestamp};

use triage_core::clock::{EventKind, LifecycleEvent, Status};
use triage_core::model::Customer;

// ---------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, good enough for test
/// data, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The stream of record `index` of kind `stream` under `seed`.
    pub fn for_record(seed: u64, stream: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        let a = r.next_u64();
        Rng(a ^ index.wrapping_mul(0xE703_7ED1_A0B4_28DB))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, n)`; `n > 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Picks by weight: `items` are `(weight, value)`.
    pub fn weighted<'a, T>(&mut self, items: &'a [(u32, T)]) -> &'a T {
        let total: u32 = items.iter().map(|(w, _)| w).sum();
        let mut x = self.below(total as u64) as u32;
        for (w, v) in items {
            if x < *w {
                return v;
            }
            x -= w;
        }
        &items[items.len() - 1].1
    }

    /// Log-uniform in `[lo, hi]`.
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.f64() * (hi.ln() - lo.ln())).exp()
    }
}

const TICKET_STREAM: u64 = 1;
const CUSTOMER_STREAM: u64 = 2;
const LIFECYCLE_STREAM: u64 = 3;

// ---------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------

/// The id of customer `index` (0-based): `C-000001` for index 0.
pub fn customer_id(index: u64) -> String {
    format!("C-{:06}", index + 1)
}

const COMPANY_A: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Gringotts",
    "Pied Piper",
    "Aperture",
    "Black Mesa",
    "Massive Dynamic",
    "Nakatomi",
    "Oscorp",
    "Virtucon",
    "Blue Sun",
    "Monarch",
    "Dunder",
    "Bluth",
    "Prestige",
    "Sirius",
    "Zorg",
    "Nordwind",
    "Lumière",
    "Kögel",
];
const COMPANY_B: &[&str] = &[
    "Labs",
    "Systems",
    "Logistics",
    "Health",
    "Analytics",
    "Retail",
    "Capital",
    "Media",
    "Foods",
    "Energy",
    "Software",
    "Robotics",
    "Travel",
    "Bank",
    "Insurance",
    "GmbH",
    "SA",
    "Inc.",
    "Ltd",
    "Group",
];
const ZONES: &[(u32, &str)] = &[
    (30, "America/New_York"),
    (12, "America/Chicago"),
    (8, "America/Los_Angeles"),
    (3, "America/Sao_Paulo"),
    (10, "Europe/London"),
    (10, "Europe/Berlin"),
    (6, "Europe/Paris"),
    (3, "Europe/Madrid"),
    (2, "Europe/Warsaw"),
    (3, "Asia/Tokyo"),
    (3, "Asia/Singapore"),
    (3, "Asia/Kolkata"),
    (3, "Australia/Sydney"),
    (1, "Pacific/Auckland"),
];

/// Customer record `index` (0-based) under `seed`.
pub fn customer(seed: u64, index: u64) -> Customer {
    let mut r = Rng::for_record(seed, CUSTOMER_STREAM, index);
    let account_type = *r.weighted(&[
        (5, "enterprise"),
        (20, "business"),
        (45, "smb"),
        (30, "free"),
    ]);
    let support_plan = match account_type {
        "enterprise" => *r.weighted(&[(70, "premium"), (28, "standard"), (2, "basic")]),
        "business" => *r.weighted(&[(25, "premium"), (55, "standard"), (20, "basic")]),
        "smb" => *r.weighted(&[(5, "premium"), (35, "standard"), (60, "basic")]),
        _ => "basic",
    };
    let arr = match account_type {
        "enterprise" => r.log_uniform(200_000.0, 5_000_000.0),
        "business" => r.log_uniform(30_000.0, 400_000.0),
        "smb" => r.log_uniform(2_000.0, 60_000.0),
        _ => 0.0,
    };
    let arr = (arr / 100.0).round() * 100.0;
    let vip = match account_type {
        "enterprise" => r.chance(0.25),
        "business" => r.chance(0.02),
        _ => r.chance(0.001),
    };
    let persona = *r.weighted(&[
        (20, "admin"),
        (25, "developer"),
        (20, "power_user"),
        (35, "casual"),
    ]);
    let lifecycle = *r.weighted(&[
        (10, "new"),
        (74, "active"),
        (11, "at_risk"),
        (5, "churning"),
    ]);
    let sla_policy =
        (account_type == "enterprise" && r.chance(0.2)).then(|| "enterprise-gold".to_string());
    let timezone = r.chance(0.8).then(|| r.weighted(ZONES).to_string());
    let language = r.chance(0.9).then(|| {
        r.weighted(&[
            (70, "en"),
            (10, "de"),
            (7, "fr"),
            (5, "es"),
            (5, "pt"),
            (3, "ja"),
        ])
        .to_string()
    });
    let name = format!(
        "{} {}",
        r.pick::<&str>(COMPANY_A),
        r.pick::<&str>(COMPANY_B)
    );
    // Some records leave out optional fields (the table falls back to defaults).
    let sparse = r.chance(0.03);
    Customer {
        customer_id: customer_id(index),
        name: Some(name),
        account_type: Some(account_type.to_string()),
        support_plan: (!sparse).then(|| support_plan.to_string()),
        vip,
        persona: (!sparse).then(|| persona.to_string()),
        lifecycle: Some(lifecycle.to_string()),
        arr: (account_type != "free" && !sparse).then_some(arr),
        sla_policy,
        timezone,
        language,
    }
}

/// Writes customer `index` as one JSON object (no newline).
pub fn customer_json(seed: u64, index: u64, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, &customer(seed, index)).expect("writing to a Vec cannot fail");
}

// ---------------------------------------------------------------------------
// Tickets
// ---------------------------------------------------------------------------

/// What the ticket generator makes.
#[derive(Debug, Clone)]
pub struct TicketSpec {
    pub seed: u64,
    /// Size of the customer table tickets refer to (ids `C-000001` …).
    pub customers: u64,
    /// Fraction of records that must be dead-lettered, 0…1.
    pub bad_fraction: f64,
    /// Fraction of good tickets from customers not in the table.
    pub unknown_customer_fraction: f64,
    /// `created_at` values lie before this instant (up to a week, mostly
    /// the last hours).
    pub base: Timestamp,
}

impl TicketSpec {
    pub fn new(seed: u64, customers: u64, base: Timestamp) -> TicketSpec {
        TicketSpec {
            seed,
            customers: customers.max(1),
            bad_fraction: 0.0,
            unknown_customer_fraction: 0.03,
            base,
        }
    }
}

/// What a generated record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// A valid ticket.
    Good,
    /// Not JSON at all (or, in Avro, not a frame / a truncated datum).
    NotJson,
    /// A required field is missing (Avro: an unknown schema id).
    MissingField,
    /// `created_at` is not RFC 3339 with an offset.
    BadTimestamp,
    /// `reported_priority` outside the set, or negative `affected_users`.
    BadValue,
    /// A field of the wrong JSON type (Avro: a truncated datum).
    WrongType,
}

impl RecordKind {
    pub fn is_good(self) -> bool {
        self == RecordKind::Good
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cat {
    Outage,
    Security,
    Bug,
    Billing,
    Account,
    HowTo,
    Feature,
    Other,
}

/// The mix of a B2B SaaS queue.
const CATEGORY_MIX: &[(u32, Cat)] = &[
    (6, Cat::Outage),
    (3, Cat::Security),
    (22, Cat::Bug),
    (12, Cat::Billing),
    (16, Cat::Account),
    (22, Cat::HowTo),
    (10, Cat::Feature),
    (9, Cat::Other),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sev {
    Critical,
    High,
    Medium,
    Low,
    Unstated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Polite,
    Neutral,
    Frustrated,
    Angry,
}

const AREAS: &[&str] = &[
    "dashboard",
    "reports page",
    "billing portal",
    "mobile app",
    "REST API",
    "admin console",
    "checkout",
    "search",
    "notifications",
    "calendar view",
    "audit log",
    "CSV export",
    "user directory",
    "analytics module",
    "workflow builder",
    "file uploads",
    "inbox",
];
const INTEGRATIONS: &[&str] = &[
    "Salesforce",
    "Slack",
    "Jira",
    "HubSpot",
    "Zapier",
    "Okta",
    "Azure AD",
    "Google Workspace",
    "Shopify",
    "NetSuite",
    "Microsoft Teams",
    "Zendesk",
];
const CODES: &[&str] = &[
    "500",
    "502",
    "503",
    "504",
    "401",
    "403",
    "429",
    "ERR_TIMEOUT",
    "E1042",
    "E2210",
    "SSL_HANDSHAKE_FAILED",
    "0x80004005",
];
const BROWSERS: &[&str] = &[
    "Chrome 131",
    "Firefox 132",
    "Safari 18.1",
    "Edge 131",
    "the iOS app 7.4",
    "the Android app 7.3",
];
const WHEN: &[&str] = &[
    "since this morning",
    "since 08:50 UTC",
    "since yesterday evening",
    "after the last release",
    "since the maintenance window",
    "for about two hours",
    "since Monday",
    "since the update to 4.12",
];
const FIRST: &[&str] = &[
    "Anna", "Ben", "Carla", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Ines", "José", "Kofi",
    "Lena", "Marco", "Nora", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tomás", "Uma", "Viktor",
    "Wei", "Ximena", "Yusuf", "Zoë",
];
const LAST: &[&str] = &[
    "Smith",
    "Müller",
    "Garcia",
    "Nguyen",
    "Kowalski",
    "Rossi",
    "Johnson",
    "Dubois",
    "Tanaka",
    "Okafor",
    "Silva",
    "Novak",
    "Andersen",
    "Patel",
    "O'Brien",
    "Schmidt",
    "Fernández",
    "Kim",
];

fn subjects(c: Cat) -> &'static [&'static str] {
    match c {
        Cat::Outage => &[
            "Production down: {area} not loading",
            "{area} is down for all users",
            "Service unavailable - {code} errors everywhere",
            "Cannot connect to the API {when}",
            "Site down? Getting bad gateway on {area}",
            "Outage: nobody can log in",
            "Everything is timing out",
        ],
        Cat::Security => &[
            "Suspicious login attempts on our account",
            "Possible data leak in shared {area} links",
            "Security question about a phishing email from your domain",
            "Unauthorized access to our workspace?",
            "Vulnerability report: XSS in {area}",
            "GDPR data request for a former employee",
        ],
        Cat::Bug => &[
            "{area} shows the wrong result after filtering",
            "Error {code} when saving in {area}",
            "App crashes when opening {area}",
            "{integration} sync stopped working",
            "Webhook deliveries failing {when}",
            "Export to CSV produces duplicate rows",
            "Regression in {area} after the last release",
            "Changes in {area} are not saving",
            "Import fails with an exception",
        ],
        Cat::Billing => &[
            "Question about invoice INV-2026-{num}",
            "We were double charged this month",
            "Refund for unused seats",
            "Update the credit card on file",
            "VAT number missing on our receipt",
            "Subscription renewal price looks wrong",
            "Plan upgrade billing question",
        ],
        Cat::Account => &[
            "Locked out of my account",
            "Password reset email never arrives",
            "SSO login with {integration} fails",
            "Need to change the admin of our account",
            "How to invite a new user? Seat limit reached",
            "2FA device lost - cannot sign in",
            "Please deactivate a former employee",
            "Permissions for the {area} are wrong",
        ],
        Cat::HowTo => &[
            "How do I configure {integration}?",
            "Is it possible to schedule reports from {area}?",
            "Question about the {area}",
            "Where can I find the API documentation for {area}?",
            "How to set up approval workflows",
            "Best practice for organizing {area}",
            "Setup help for {integration} connector",
        ],
        Cat::Feature => &[
            "Feature request: dark mode for {area}",
            "Suggestion: bulk edit in {area}",
            "Would be great to have a {integration} integration",
            "Could you add custom fields to {area}?",
            "Idea: keyboard shortcuts",
            "Is dark mode on the roadmap?",
        ],
        Cat::Other => &[
            "Hello",
            "Follow-up on our call",
            "Contact for our account manager",
            "Meeting next week",
            "Re: your newsletter",
            "Training session for new team members",
            "",
        ],
    }
}

fn problem_sentences(c: Cat) -> &'static [&'static str] {
    match c {
        Cat::Outage => &[
            "The {area} is down {when} and all users in our company are affected.",
            "We get {code} errors on every request and the page is not loading at all.",
            "Our monitoring shows timeouts on every call to your API {when}.",
            "Nobody can reach the {area}; the browser says service unavailable.",
            "Connection refused from all our servers in two regions.",
            "It looks like a complete outage on your side, the status page says everything is fine though.",
        ],
        Cat::Security => &[
            "We noticed several suspicious login attempts from unknown IP addresses {when}.",
            "A public link to the {area} exposed customer records to people outside our company.",
            "One of our users received a phishing email that uses your logo and domain.",
            "Our security team found what looks like an XSS vulnerability in the {area}.",
            "We need to know whether our data was part of the breach mentioned in the news.",
            "Please confirm how you handle GDPR deletion requests for backups.",
        ],
        Cat::Bug => &[
            "When I open the {area} I get error {code} and nothing is saved.",
            "The {integration} sync stopped working {when}; new records do not show up.",
            "The export contains duplicate rows and some columns are empty.",
            "In {browser} the {area} crashes as soon as I apply a filter.",
            "The totals in the {area} give a wrong result compared to last week.",
            "Webhook deliveries fail with {code} and retries never succeed.",
            "Edits in the {area} are not saving, the spinner just keeps going.",
            "Here is the stack trace from the browser console: TypeError: cannot read properties of undefined (reading 'id').",
        ],
        Cat::Billing => &[
            "Our invoice for this month shows {num} seats but we only have {seats} active users.",
            "We were charged twice for the same subscription on the credit card.",
            "Could you issue a refund for the unused seats after our downgrade?",
            "The receipt is missing our VAT number, which our accounting needs.",
            "The renewal quote is higher than the pricing on your website.",
            "Please update the billing contact to our finance team.",
        ],
        Cat::Account => &[
            "I tried to reset my password three times but the email never arrives.",
            "Since we switched to {integration} for SSO, login fails with a SAML error.",
            "My colleague is locked out after too many attempts.",
            "We reached the seat limit and cannot invite new users.",
            "Our former admin left the company; we need to transfer account access.",
            "The permissions for the {area} do not match what we configured.",
        ],
        Cat::HowTo => &[
            "How do I configure the {integration} connector so that only some records sync?",
            "Is it possible to schedule a weekly report from the {area}?",
            "Where can I find documentation on rate limits for the API?",
            "Could you point me to a tutorial on setting up approval workflows?",
            "What is the best practice for organizing projects for a team of {seats}?",
            "I have a question about how the {area} calculates averages.",
        ],
        Cat::Feature => &[
            "It would be great if the {area} had a dark mode.",
            "A bulk edit option in the {area} would save our team hours every week.",
            "Could you add an integration with {integration}? Many of our teams use it.",
            "Suggestion: let admins export the audit log as JSON.",
            "Is there a roadmap for keyboard shortcuts? It would help power users a lot.",
        ],
        Cat::Other => &[
            "Following up on our call from last week about the onboarding plan.",
            "Could you connect us with our account manager regarding next quarter?",
            "We would like to schedule a training session for new team members.",
            "Just wanted to share some feedback from our team meeting.",
            "Please let me know who the right contact is for partnership questions.",
        ],
    }
}

/// Context: what was tried, the environment. Neutral wording (a few words
/// the rules react to, as real text has).
const CONTEXT: &[&str] = &[
    "We are on the {plan} plan with about {seats} seats.",
    "I already cleared the cache and tried another browser ({browser}).",
    "This happens for several people on the team, not only me.",
    "Steps: open the {area}, choose last month, click apply.",
    "Attached are two screenshots and the HAR file from the session.",
    "Our account id is in the signature below.",
    "The same steps worked fine last Friday.",
    "We use the {integration} integration for most of our data.",
    "Tested from the office network and from home, same behaviour.",
    "Request id from the response header: req_{num}{seats}.",
    "Our IT team checked the firewall and nothing changed on our side.",
    "Let me know if you need more details or logs from our side.",
    "We have {seats} users in the EU region and a few in the US.",
    "I searched your help center but did not find an answer.",
    "The {area} is the main tool our support agents use every day.",
    "We rolled out the new version to everyone on Monday.",
    "Happy to jump on a call if that is easier.",
    "Version {version}, running on {browser}.",
    "For context, we onboarded {seats} new people last month and usage has grown a lot.",
    "Our workspace was migrated to the EU data center earlier this year.",
    "I am the main admin for our team, so please reply to me directly.",
    "We followed the steps in the help article about the {area} but the result is the same.",
    "The behaviour is the same for admins and for regular members.",
    "Our previous ticket number was #{num}, in case that helps.",
    "We connected {integration} about a month ago and it worked well until recently.",
    "A colleague in another office sees the same thing on {browser}.",
    "I also asked in the community forum, without an answer so far.",
    "We rely on the {area} for our weekly reporting to management.",
    "Nothing changed in our configuration as far as I know.",
    "The issue shows up both in the web app and in the mobile app.",
    "Our security policy requires SSO for everyone, so we cannot use passwords as a fallback.",
    "Times in the {area} are shown in UTC although our profile says otherwise.",
    "We have about {seats} records in that view, which is more than usual.",
    "I restarted the browser and logged out and in again.",
    "The team lead asked me to open a ticket to track this.",
    "Below are the details our engineer collected.",
    "We are evaluating whether to roll the product out to more departments.",
    "Let me know if a screen recording would help.",
    "The problem started around the time of your release notes for {version}.",
    "Our API client uses the official SDK, version {version}.",
];

fn severity_sentences(s: Sev) -> &'static [&'static str] {
    match s {
        Sev::Critical => &[
            "This is urgent: it affects production and we are losing money every hour.",
            "Please treat this as an emergency, it is a blocker for all customers of ours.",
            "We need this fixed ASAP, our revenue depends on it.",
            "Critical for us - our sev1 process has been triggered.",
        ],
        Sev::High => &[
            "Our team is blocked and we have a deadline on Friday.",
            "This is a major issue for many users in our company.",
            "High priority please, people can't work without it.",
            "This is important for our quarter-end reporting.",
        ],
        Sev::Medium => &[
            "There is a workaround but it is annoying.",
            "The problem is intermittent, it happens sometimes in the afternoon.",
            "It is slow but still usable.",
        ],
        Sev::Low => &[
            "No rush, this is a minor thing.",
            "It is cosmetic, just a typo on the page.",
            "Low priority, whenever you have time.",
            "Nice to have rather than a must.",
        ],
        Sev::Unstated => &[],
    }
}

fn tone_sentences(t: Tone) -> &'static [&'static str] {
    match t {
        Tone::Polite => &[
            "Thanks in advance for your help!",
            "We love the product and really appreciate your support.",
            "Thank you, the team was very helpful last time.",
            "Great work on the last release by the way.",
            "Happy to help test a fix.",
        ],
        Tone::Neutral => &[
            "Please advise.",
            "Looking forward to your reply.",
            "Let me know what you need from us.",
        ],
        Tone::Frustrated => &[
            "This is the third time we report this problem.",
            "Honestly we are frustrated, the issue is still not fixed.",
            "We had no response to our previous ticket and this is disappointing.",
            "The integration is not working again after the last fix.",
            "The confirmation emails never arrive, which is a problem for us.",
            "I am not happy with how long this is taking.",
            "It still doesn't work and we are running out of patience.",
        ],
        Tone::Angry => &[
            "THIS IS COMPLETELY UNACCEPTABLE!!!",
            "We pay for premium support and NOBODY ANSWERED for two days!",
            "If this is not fixed today we will cancel and switch providers.",
            "Absolutely ridiculous. Our lawyer is asking about your SLA.",
            "This is the worst support experience we ever had!!",
            "FIX THIS NOW! We are furious.",
            "Useless answers so far, please escalate this immediately!",
        ],
    }
}

const GREETINGS: &[&str] = &[
    "Hi,",
    "Hello team,",
    "Dear support,",
    "Hi there,",
    "Good morning,",
    "Hey,",
];
const CLOSINGS: &[&str] = &[
    "Best regards,",
    "Thanks,",
    "Kind regards,",
    "Cheers,",
    "Regards,",
    "Best,",
];
const TAGS: &[(u32, &str)] = &[
    (10, "sso"),
    (10, "login"),
    (10, "mobile"),
    (10, "api"),
    (8, "export"),
    (8, "integration"),
    (8, "billing"),
    (6, "onboarding"),
    (8, "eu"),
    (6, "webhook"),
    (6, "performance"),
    (4, "regression"),
    (3, "after-release"),
    (3, "escalated"),
    (1, "internal-test"),
    (4, "vip-watch"),
];

/// Expands `{slot}`s from `r`.
fn expand(tpl: &str, r: &mut Rng, plan: &str, out: &mut String) {
    let mut rest = tpl;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('}') else {
            out.push_str(&rest[i..]);
            return;
        };
        let slot = &rest[i + 1..i + j];
        match slot {
            "area" => out.push_str(r.pick::<&str>(AREAS)),
            "integration" => out.push_str(r.pick::<&str>(INTEGRATIONS)),
            "code" => out.push_str(r.pick::<&str>(CODES)),
            "browser" => out.push_str(r.pick::<&str>(BROWSERS)),
            "when" => out.push_str(r.pick::<&str>(WHEN)),
            "plan" => out.push_str(plan),
            "num" => {
                let _ =
                    std::fmt::Write::write_fmt(out, format_args!("{}", r.range(10_000, 99_999)));
            }
            "seats" => {
                let _ = std::fmt::Write::write_fmt(out, format_args!("{}", r.range(5, 900)));
            }
            "version" => {
                let _ = std::fmt::Write::write_fmt(
                    out,
                    format_args!("4.{}.{}", r.range(8, 14), r.range(0, 9)),
                );
            }
            _ => out.push_str(&rest[i..i + j + 1]),
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
}

/// Appends `s` as a JSON string (quotes and escapes).
fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                let _ = write!(out, "\\u{:04x}", b);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Formats `t` as RFC 3339 in a fixed offset of `offset_hours`.
fn rfc3339(t: Timestamp, offset_hours: i8, millis: bool) -> String {
    let off = jiff::tz::Offset::constant(offset_hours);
    let z = t.to_zoned(jiff::tz::TimeZone::fixed(off));
    let base = if millis {
        z.strftime("%Y-%m-%dT%H:%M:%S%.3f").to_string()
    } else {
        z.strftime("%Y-%m-%dT%H:%M:%S").to_string()
    };
    if offset_hours == 0 {
        format!("{base}Z")
    } else {
        format!("{base}{}", z.strftime("%:z"))
    }
}

/// One good ticket's fields, before encoding.
struct Fields {
    ticket_id: String,
    customer_id: String,
    created_at: String,
    subject: String,
    body: Option<String>,
    channel: Option<&'static str>,
    requester: Option<(String, String)>,
    reported_priority: Option<&'static str>,
    affected_users: Option<i64>,
    tags: Vec<&'static str>,
    custom: Vec<(&'static str, CustomOut)>,
}

enum CustomOut {
    Str(&'static str),
    Str2(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

fn build(spec: &TicketSpec, index: u64, r: &mut Rng) -> Fields {
    let cat = *r.weighted(CATEGORY_MIX);
    let sev = match cat {
        Cat::Outage => *r.weighted(&[
            (55, Sev::Critical),
            (30, Sev::High),
            (5, Sev::Medium),
            (10, Sev::Unstated),
        ]),
        Cat::Security => *r.weighted(&[(30, Sev::Critical), (30, Sev::High), (40, Sev::Unstated)]),
        Cat::Bug => *r.weighted(&[
            (8, Sev::Critical),
            (20, Sev::High),
            (30, Sev::Medium),
            (10, Sev::Low),
            (32, Sev::Unstated),
        ]),
        Cat::Feature | Cat::HowTo | Cat::Other => *r.weighted(&[
            (2, Sev::High),
            (10, Sev::Medium),
            (25, Sev::Low),
            (63, Sev::Unstated),
        ]),
        Cat::Billing | Cat::Account => *r.weighted(&[
            (3, Sev::Critical),
            (15, Sev::High),
            (15, Sev::Medium),
            (12, Sev::Low),
            (55, Sev::Unstated),
        ]),
    };
    let tone = match (cat, sev) {
        (Cat::Outage, _) | (_, Sev::Critical) => *r.weighted(&[
            (5, Tone::Polite),
            (40, Tone::Neutral),
            (30, Tone::Frustrated),
            (25, Tone::Angry),
        ]),
        (Cat::Feature | Cat::HowTo, _) => *r.weighted(&[
            (45, Tone::Polite),
            (48, Tone::Neutral),
            (6, Tone::Frustrated),
            (1, Tone::Angry),
        ]),
        _ => *r.weighted(&[
            (20, Tone::Polite),
            (52, Tone::Neutral),
            (20, Tone::Frustrated),
            (8, Tone::Angry),
        ]),
    };

    // Customer: skewed toward low ids (big accounts file more tickets).
    let customer_id = if r.chance(spec.unknown_customer_fraction) {
        customer_id(spec.customers + r.below(1_000_000))
    } else {
        let u = r.f64();
        customer_id(((u * u * spec.customers as f64) as u64).min(spec.customers - 1))
    };
    let plan = r.pick::<&str>(&["premium", "standard", "basic"]);

    // Target size of the whole JSON object: 0.5–2 KB, ~1 KB on average.
    let target = match r.below(100) {
        0..=4 => r.range(500, 620),
        5..=59 => r.range(620, 1100),
        60..=89 => r.range(1100, 1550),
        _ => r.range(1550, 1950),
    } as usize;

    let mut subject = String::new();
    expand(r.pick::<&str>(subjects(cat)), r, plan, &mut subject);
    if tone == Tone::Angry && r.chance(0.5) {
        subject = subject.to_uppercase();
        subject.push_str("!!!");
    } else if matches!(sev, Sev::Critical) && r.chance(0.3) {
        subject.insert_str(0, "URGENT: ");
    }

    // Everything but the body, to know how much room the body has.
    let channel = *r.weighted(&[
        (45, Some("email")),
        (25, Some("web")),
        (12, Some("chat")),
        (8, Some("api")),
        (6, Some("phone")),
        (2, Some("other")),
        (2, None),
    ]);
    let first = r.pick::<&str>(FIRST);
    let last = r.pick::<&str>(LAST);
    let requester = r.chance(0.85).then(|| {
        let email = format!(
            "{}.{}@{}.example",
            first.to_lowercase(),
            last.to_lowercase().replace(['\'', ' '], ""),
            customer_id.to_lowercase()
        );
        (email, format!("{first} {last}"))
    });
    let reported_priority = if r.chance(0.35) {
        None
    } else {
        Some(match sev {
            Sev::Critical => *r.weighted(&[(60, "urgent"), (35, "high"), (5, "normal")]),
            Sev::High => *r.weighted(&[(15, "urgent"), (55, "high"), (30, "normal")]),
            Sev::Medium | Sev::Unstated => {
                *r.weighted(&[(3, "urgent"), (15, "high"), (65, "normal"), (17, "low")])
            }
            Sev::Low => *r.weighted(&[(5, "high"), (45, "normal"), (50, "low")]),
        })
    };
    let affected_users = if r.chance(0.45) {
        None
    } else {
        let hi = match (cat, sev) {
            (Cat::Outage, _) | (_, Sev::Critical) => 20_000.0,
            (_, Sev::High) => 2_000.0,
            _ => 50.0,
        };
        Some(r.log_uniform(1.0, hi).round() as i64)
    };
    let mut tags = Vec::new();
    for _ in 0..r
        .weighted(&[(30, 0usize), (35, 1), (22, 2), (10, 3), (3, 4)])
        .to_owned()
    {
        let t = *r.weighted(TAGS);
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let mut custom = Vec::new();
    if r.chance(0.7) {
        let env = *r.weighted(&[
            (40, "production"),
            (25, "staging"),
            (15, "development"),
            (20, "sandbox"),
        ]);
        custom.push(("environment", CustomOut::Str(env)));
    }
    if r.chance(0.6) {
        custom.push((
            "region",
            CustomOut::Str(r.pick::<&str>(&[
                "eu-west",
                "eu-central",
                "us-east",
                "us-west",
                "ap-south",
            ])),
        ));
    }
    if r.chance(0.35) {
        custom.push((
            "seats_affected",
            CustomOut::Int(r.log_uniform(1.0, 500.0).round() as i64),
        ));
    }
    if r.chance(0.25) {
        custom.push(("days_to_renewal", CustomOut::Int(r.range(1, 365) as i64)));
    }
    if r.chance(0.3) {
        custom.push((
            "app_version",
            CustomOut::Str2(format!("4.{}.{}", r.range(8, 14), r.range(0, 9))),
        ));
    }
    if r.chance(0.2) {
        custom.push(("trial", CustomOut::Bool(r.chance(0.3))));
    }
    if r.chance(0.1) {
        custom.push((
            "contract_value",
            CustomOut::Float((r.f64() * 500_000.0 * 100.0).round() / 100.0),
        ));
    }

    // created_at: mostly the last hours, some days old.
    let age_s = match r.below(100) {
        0..=59 => r.below(8 * 3600),
        60..=89 => r.range(8 * 3600, 48 * 3600),
        _ => r.range(48 * 3600, 7 * 24 * 3600),
    } as i64;
    let created = spec
        .base
        .checked_sub(SignedDuration::from_secs(age_s))
        .unwrap_or(spec.base);
    let off = *r.weighted(&[(70, 0i8), (10, 1), (5, 2), (8, -5), (4, -8), (3, 9)]);
    let created_at = rfc3339(created, off, r.chance(0.3));

    let mut f = Fields {
        ticket_id: format!("T-{:09}", index + 1),
        customer_id,
        created_at,
        subject,
        body: None,
        channel,
        requester,
        reported_priority,
        affected_users,
        tags,
        custom,
    };
    if r.chance(0.005) {
        // A ticket with a subject only.
        return f;
    }
    let mut probe = Vec::with_capacity(1024);
    write_json(&f, Breakage::default(), &mut probe);
    // `,"body":""` plus a little slack for escapes.
    let budget = target.saturating_sub(probe.len() + 12).max(120);

    // Body: greeting, problem, context …, severity, tone, closing, name.
    let mut head: Vec<String> = Vec::new();
    let email_like = channel == Some("email") || r.chance(0.3);
    let mut s = String::new();
    expand(r.pick::<&str>(problem_sentences(cat)), r, plan, &mut s);
    head.push(std::mem::take(&mut s));
    if matches!(tone, Tone::Frustrated | Tone::Angry) {
        expand(r.pick::<&str>(tone_sentences(tone)), r, plan, &mut s);
        head.push(std::mem::take(&mut s));
    }
    let sev_s = severity_sentences(sev);
    let mut tail: Vec<String> = Vec::new();
    if !sev_s.is_empty() {
        expand(r.pick::<&str>(sev_s), r, plan, &mut s);
        tail.push(std::mem::take(&mut s));
    }
    expand(r.pick::<&str>(tone_sentences(tone)), r, plan, &mut s);
    if tone == Tone::Angry && r.chance(0.3) {
        s = s.to_uppercase();
    }
    tail.push(std::mem::take(&mut s));
    let greeting = email_like.then(|| r.pick::<&str>(GREETINGS));
    let closing = email_like.then(|| format!("{}\n{first}", r.pick::<&str>(CLOSINGS)));
    // Escaped sizes: a paragraph break is 4 bytes in JSON ("\n\n").
    let mut len: usize = head.iter().chain(&tail).map(|p| p.len() + 2).sum::<usize>()
        + greeting.map_or(0, |g| g.len() + 4)
        + closing.as_ref().map_or(0, |c| c.len() + 6);
    // Context sentences (no repeats while there are unused ones) until the
    // budget is used; another problem sentence now and then.
    let mut used = [false; 64];
    let mut left = CONTEXT.len();
    let mut middle: Vec<String> = Vec::new();
    while len < budget && middle.len() < 40 {
        let tpl = if r.chance(0.1) {
            r.pick::<&str>(problem_sentences(cat))
        } else {
            let mut k = r.below(CONTEXT.len() as u64) as usize;
            if left > 0 {
                while used[k] {
                    k = (k + 1) % CONTEXT.len();
                }
                used[k] = true;
                left -= 1;
            }
            CONTEXT[k]
        };
        expand(tpl, r, plan, &mut s);
        let add = s.len() + if email_like { 3 } else { 1 };
        if len + add > budget + 60 && len + 40 >= budget {
            s.clear();
            break;
        }
        len += add;
        middle.push(std::mem::take(&mut s));
    }
    // Paragraphs (newlines) for email-like text, one line otherwise.
    let mut body = String::with_capacity(len + 16);
    if let Some(g) = greeting {
        body.push_str(g);
        body.push_str("\n\n");
    }
    let sentences = head
        .iter()
        .take(1)
        .chain(&middle)
        .chain(head.iter().skip(1))
        .chain(&tail);
    for (i, p) in sentences.enumerate() {
        if i > 0 {
            body.push_str(if email_like && r.chance(0.3) {
                "\n\n"
            } else {
                " "
            });
        }
        body.push_str(p);
    }
    if let Some(c) = closing {
        body.push_str("\n\n");
        body.push_str(&c);
    }
    f.body = Some(body);
    f
}

/// Which of the JSON fields to leave out or break.
#[derive(Clone, Copy, Default)]
struct Breakage {
    drop: Option<&'static str>,
    created_at: Option<&'static str>,
    reported_priority: Option<&'static str>,
    affected_users: Option<i64>,
    numeric_ticket_id: bool,
}

fn write_json(f: &Fields, b: Breakage, out: &mut Vec<u8>) {
    out.push(b'{');
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, k: &str| {
        if !first {
            out.push(b',');
        }
        first = false;
        json_str(out, k);
        out.push(b':');
    };
    if b.drop != Some("ticket_id") {
        key(out, "ticket_id");
        if b.numeric_ticket_id {
            out.extend_from_slice(f.ticket_id[2..].trim_start_matches('0').as_bytes());
        } else {
            json_str(out, &f.ticket_id);
        }
    }
    if b.drop != Some("customer_id") {
        key(out, "customer_id");
        json_str(out, &f.customer_id);
    }
    if b.drop != Some("created_at") {
        key(out, "created_at");
        json_str(out, b.created_at.unwrap_or(&f.created_at));
    }
    if b.drop != Some("subject") {
        key(out, "subject");
        json_str(out, &f.subject);
    }
    if let Some(body) = &f.body {
        key(out, "body");
        json_str(out, body);
    }
    if let Some(c) = f.channel {
        key(out, "channel");
        json_str(out, c);
    }
    if let Some((email, name)) = &f.requester {
        key(out, "requester");
        out.extend_from_slice(b"{\"email\":");
        json_str(out, email);
        out.extend_from_slice(b",\"name\":");
        json_str(out, name);
        out.push(b'}');
    }
    if let Some(p) = b.reported_priority.or(f.reported_priority) {
        key(out, "reported_priority");
        json_str(out, p);
    }
    if let Some(n) = b.affected_users.or(f.affected_users) {
        key(out, "affected_users");
        let _ = write!(out, "{n}");
    }
    key(out, "tags");
    out.push(b'[');
    for (i, t) in f.tags.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_str(out, t);
    }
    out.push(b']');
    key(out, "custom_fields");
    out.push(b'{');
    for (i, (k, v)) in f.custom.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_str(out, k);
        out.push(b':');
        match v {
            CustomOut::Str(s) => json_str(out, s),
            CustomOut::Str2(s) => json_str(out, s),
            CustomOut::Int(n) => {
                let _ = write!(out, "{n}");
            }
            CustomOut::Float(x) => {
                let _ = write!(out, "{x:?}");
            }
            CustomOut::Bool(x) => {
                let _ = write!(out, "{x}");
            }
        }
    }
    out.push(b'}');
    out.push(b'}');
}

/// Decides whether record `index` is bad, and how (from its own stream).
fn bad_kind(spec: &TicketSpec, r: &mut Rng) -> RecordKind {
    if spec.bad_fraction <= 0.0 || !r.chance(spec.bad_fraction) {
        return RecordKind::Good;
    }
    *r.weighted(&[
        (25, RecordKind::NotJson),
        (20, RecordKind::MissingField),
        (25, RecordKind::BadTimestamp),
        (20, RecordKind::BadValue),
        (10, RecordKind::WrongType),
    ])
}

/// Writes ticket `index` as one JSON object (no newline) and says what it is.
pub fn ticket_json(spec: &TicketSpec, index: u64, out: &mut Vec<u8>) -> RecordKind {
    let mut r = Rng::for_record(spec.seed, TICKET_STREAM, index);
    let kind = bad_kind(spec, &mut r);
    let f = build(spec, index, &mut r);
    let mut b = Breakage::default();
    match kind {
        RecordKind::Good => {}
        RecordKind::NotJson => {
            if r.chance(0.5) {
                // A truncated object (a producer died mid-write).
                let start = out.len();
                write_json(&f, b, out);
                let cut = start + (out.len() - start) * (20 + r.below(60) as usize) / 100;
                out.truncate(cut);
            } else {
                let _ = write!(
                    out,
                    "ticket {} from {}: {}",
                    f.ticket_id, f.customer_id, f.subject
                );
            }
            return kind;
        }
        RecordKind::MissingField => {
            b.drop = Some(r.pick::<&str>(&["ticket_id", "customer_id", "created_at", "subject"]))
        }
        RecordKind::BadTimestamp => {
            b.created_at = Some(r.pick::<&str>(&[
                "yesterday 5pm",
                "2026-11-31T25:00:00Z",
                "2026-11-20 10:00:00",
                "2026-11-20T10:00:00",
                "",
                "1732441200",
            ]))
        }
        RecordKind::BadValue => {
            if r.chance(0.5) {
                b.reported_priority = Some(r.pick::<&str>(&["asap", "P1", "URGENT", "critical"]));
            } else {
                b.affected_users = Some(-(r.range(1, 50) as i64));
            }
        }
        RecordKind::WrongType => b.numeric_ticket_id = true,
    }
    write_json(&f, b, out);
    kind
}

// ---------------------------------------------------------------------------
// Avro
// ---------------------------------------------------------------------------

/// Writes ticket `index` as a Confluent Avro frame of the bundled ticket
/// schema. The same ticket as [`ticket_json`] for good records and for bad
/// values a schema can carry (timestamps, priorities, counts); kinds it
/// cannot express become bytes that are not a frame (`NotJson`), a frame
/// with an unknown schema id (`MissingField`) or a truncated datum
/// (`WrongType`).
pub fn ticket_avro(
    spec: &TicketSpec,
    codec: &triage_core::codec::avro::AvroCodec,
    index: u64,
    json_scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> RecordKind {
    json_scratch.clear();
    let mut r = Rng::for_record(spec.seed, TICKET_STREAM, index);
    let kind = bad_kind(spec, &mut r);
    let json_kind = ticket_json(spec, index, json_scratch);
    debug_assert_eq!(json_kind, kind);
    match kind {
        RecordKind::Good | RecordKind::BadTimestamp | RecordKind::BadValue => {
            codec
                .encode_ticket_from_json(json_scratch, out)
                .expect("generated tickets fit the bundled schema");
        }
        RecordKind::NotJson => {
            out.extend_from_slice(b"\x7bnot an avro frame: ");
            out.extend_from_slice(&json_scratch[..json_scratch.len().min(40)]);
        }
        RecordKind::MissingField => {
            // Re-generate as a good record under a schema id nobody knows.
            let start = out.len();
            let good = good_variant(spec, index);
            codec
                .encode_ticket_from_json(&good, out)
                .expect("generated tickets fit the bundled schema");
            out[start + 1..start + 5].copy_from_slice(&9_999u32.to_be_bytes());
        }
        RecordKind::WrongType => {
            let start = out.len();
            let good = good_variant(spec, index);
            codec
                .encode_ticket_from_json(&good, out)
                .expect("generated tickets fit the bundled schema");
            let keep = start + 5 + (out.len() - start - 5) / 3;
            out.truncate(keep);
        }
    }
    kind
}

/// The good ticket behind a bad record (same fields, nothing broken).
fn good_variant(spec: &TicketSpec, index: u64) -> Vec<u8> {
    let mut r = Rng::for_record(spec.seed, TICKET_STREAM, index);
    let _ = bad_kind(spec, &mut r);
    let f = build(spec, index, &mut r);
    let mut v = Vec::with_capacity(2048);
    write_json(&f, Breakage::default(), &mut v);
    v
}

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

/// `triage gen`: synthetic tickets and customers.
#[derive(clap::Args, Debug)]
pub struct GenArgs {
    #[command(subcommand)]
    pub what: GenWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum GenWhat {
    /// Ticket events: JSON lines, or length-prefixed Avro frames.
    Tickets(TicketArgs),
    /// Customer records: JSON lines, or length-prefixed Avro frames.
    Customers(CustomerArgs),
    /// Lifecycle events (JSON lines) of the tickets `gen tickets` writes with the same seed,
    /// count, start and base: first responses, waits on the customer, solves, reopenings,
    /// priority changes by agents and CSAT scores (for `triage replay` and `triage report`).
    Lifecycle(TicketArgs),
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenFormat {
    Json,
    Avro,
}

#[derive(clap::Args, Debug)]
pub struct TicketArgs {
    /// How many records.
    #[arg(long)]
    pub count: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fraction of bad records (dead letters), 0…1.
    #[arg(long, default_value_t = 0.0)]
    pub bad_fraction: f64,
    #[arg(long, value_enum, default_value_t = GenFormat::Json)]
    pub format: GenFormat,
    /// Size of the customer table the tickets refer to.
    #[arg(long, default_value_t = 100_000)]
    pub customers: u64,
    /// `created_at` values lie before this instant (RFC 3339, or `now`).
    #[arg(long, default_value = "2026-11-02T12:00:00Z")]
    pub base: String,
    /// First record index (to generate a slice of a larger set).
    #[arg(long, default_value_t = 0)]
    pub start: u64,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct CustomerArgs {
    #[arg(long)]
    pub count: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = GenFormat::Json)]
    pub format: GenFormat,
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Parses `--base`: RFC 3339 or `now`.
pub fn parse_base(s: &str) -> Result<Timestamp, String> {
    if s == "now" {
        return Ok(Timestamp::now());
    }
    s.parse()
        .map_err(|e| format!("--base {s:?}: not an RFC 3339 timestamp or `now`: {e}"))
}

/// Runs `triage gen …`.
pub fn cli(args: GenArgs) -> Result<ExitCode, String> {
    let (path, result) = match args.what {
        GenWhat::Tickets(a) => {
            let mut spec = TicketSpec::new(a.seed, a.customers, parse_base(&a.base)?);
            if !(0.0..=1.0).contains(&a.bad_fraction) {
                return Err(format!(
                    "--bad-fraction must be in 0…1, got {}",
                    a.bad_fraction
                ));
            }
            spec.bad_fraction = a.bad_fraction;
            let out = a.out.clone();
            let r = with_output(&out, |w| {
                write_tickets(&spec, a.start, a.count, a.format, w)
            });
            (out, r)
        }
        GenWhat::Lifecycle(a) => {
            let mut spec = TicketSpec::new(a.seed, a.customers, parse_base(&a.base)?);
            spec.bad_fraction = a.bad_fraction;
            let out = a.out.clone();
            let r = with_output(&out, |w| write_lifecycle(&spec, a.start, a.count, w));
            (out, r)
        }
        GenWhat::Customers(a) => {
            let out = a.out.clone();
            let r = with_output(&out, |w| write_customers(a.seed, a.count, a.format, w));
            (out, r)
        }
    };
    result.map_err(|e| match path {
        Some(p) => format!("{}: {e}", p.display()),
        None => format!("stdout: {e}"),
    })?;
    Ok(ExitCode::SUCCESS)
}

fn with_output(
    path: &Option<PathBuf>,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    match path {
        Some(p) => {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(p)?);
            f(&mut w)?;
            w.flush()
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            f(&mut w)?;
            w.flush()
        }
    }
}

/// Writes tickets `start..start+count` to `w`.
pub fn write_tickets(
    spec: &TicketSpec,
    start: u64,
    count: u64,
    format: GenFormat,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let codec = (format == GenFormat::Avro).then(triage_core::codec::avro::AvroCodec::bundled);
    let mut buf = Vec::with_capacity(4096);
    let mut scratch = Vec::with_capacity(4096);
    for i in start..start + count {
        buf.clear();
        match &codec {
            None => {
                ticket_json(spec, i, &mut buf);
                buf.push(b'\n');
                w.write_all(&buf)?;
            }
            Some(c) => {
                ticket_avro(spec, c, i, &mut scratch, &mut buf);
                w.write_all(&(buf.len() as u32).to_be_bytes())?;
                w.write_all(&buf)?;
            }
        }
    }
    Ok(())
}

/// The lifecycle of ticket `index` (as [`ticket_json`] writes it), as events in the order they
/// happen; none for a record that is not a valid ticket. An agent answers after minutes to a
/// day; a third of tickets wait on the customer for a while; most are solved within days, a few
/// reopened; some change priority by hand; a third get a CSAT score, better when solved fast.
pub fn lifecycle(spec: &TicketSpec, index: u64) -> Vec<LifecycleEvent> {
    let mut r = Rng::for_record(spec.seed, TICKET_STREAM, index);
    if !bad_kind(spec, &mut r).is_good() {
        return Vec::new();
    }
    let f = build(spec, index, &mut r);
    let Ok(created) = f.created_at.parse::<Timestamp>() else {
        return Vec::new();
    };
    let mut r = Rng::for_record(spec.seed, LIFECYCLE_STREAM, index);
    let mut out = Vec::new();
    let mut t = created;
    let mut push = |t: Timestamp, kind: EventKind| {
        out.push(LifecycleEvent {
            ticket_id: f.ticket_id.clone(),
            at: t,
            kind,
        })
    };
    let minutes = |r: &mut Rng, lo: f64, hi: f64| {
        SignedDuration::from_secs((r.log_uniform(lo, hi) * 60.0) as i64)
    };
    if r.chance(0.04) {
        t += minutes(&mut r, 2.0, 120.0);
        let level = *r.pick(&["P1", "P2", "P3", "P4"]);
        push(
            t,
            EventKind::PriorityChanged {
                priority: level.into(),
            },
        );
    }
    if r.chance(0.06) {
        t += minutes(&mut r, 5.0, 240.0);
        let category = *r.pick(&["billing", "account", "bug", "how_to", "outage", "other"]);
        push(
            t,
            EventKind::CategoryChanged {
                category: category.into(),
            },
        );
    }
    if r.chance(0.03) {
        return out; // never answered (as of the end of the history)
    }
    t += minutes(&mut r, 3.0, 30.0 * 60.0);
    push(t, EventKind::FirstResponse);
    let opened = t;
    if r.chance(0.35) {
        t += minutes(&mut r, 10.0, 8.0 * 60.0);
        push(
            t,
            EventKind::StatusChanged {
                status: Status::Pending,
            },
        );
        t += minutes(&mut r, 60.0, 3.0 * 24.0 * 60.0);
        push(t, EventKind::CustomerReply);
    }
    if r.chance(0.08) {
        return out; // still open
    }
    t += minutes(&mut r, 20.0, 6.0 * 24.0 * 60.0);
    push(
        t,
        EventKind::StatusChanged {
            status: Status::Solved,
        },
    );
    if r.chance(0.05) {
        t += minutes(&mut r, 60.0, 2.0 * 24.0 * 60.0);
        push(t, EventKind::Reopened);
        t += minutes(&mut r, 30.0, 2.0 * 24.0 * 60.0);
        push(
            t,
            EventKind::StatusChanged {
                status: Status::Solved,
            },
        );
    }
    if r.chance(0.33) {
        let hours = t.duration_since(opened).as_secs_f64() / 3600.0;
        let base = if hours < 8.0 {
            5.0
        } else if hours < 48.0 {
            4.0
        } else {
            3.0
        };
        let score =
            (base - r.below(3) as f64 + if r.chance(0.2) { 1.0 } else { 0.0 }).clamp(1.0, 5.0);
        t += minutes(&mut r, 5.0, 24.0 * 60.0);
        push(t, EventKind::Satisfaction { score: score as u8 });
    }
    out
}

/// Writes the lifecycle events of tickets `start..start+count` to `w`, ticket by ticket.
pub fn write_lifecycle(
    spec: &TicketSpec,
    start: u64,
    count: u64,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    for i in start..start + count {
        for e in lifecycle(spec, i) {
            let mut b = e.to_json();
            b.push(b'\n');
            w.write_all(&b)?;
        }
    }
    Ok(())
}

/// Writes customers `0..count` to `w`.
pub fn write_customers(
    seed: u64,
    count: u64,
    format: GenFormat,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let codec = (format == GenFormat::Avro).then(triage_core::codec::avro::AvroCodec::bundled);
    let mut buf = Vec::with_capacity(512);
    for i in 0..count {
        buf.clear();
        match &codec {
            None => {
                customer_json(seed, i, &mut buf);
                buf.push(b'\n');
                w.write_all(&buf)?;
            }
            Some(c) => {
                c.encode_customer(&customer(seed, i), &mut buf);
                w.write_all(&(buf.len() as u32).to_be_bytes())?;
                w.write_all(&buf)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use triage_core::codec::{json, DlqReason};

    fn spec(bad: f64) -> TicketSpec {
        let mut s = TicketSpec::new(7, 1000, "2026-11-02T12:00:00Z".parse().unwrap());
        s.bad_fraction = bad;
        s
    }

    #[test]
    fn deterministic_and_random_access() {
        let s = spec(0.1);
        let mut a = Vec::new();
        let mut b = Vec::new();
        for i in [0u64, 5, 99, 12345] {
            a.clear();
            b.clear();
            ticket_json(&s, i, &mut a);
            ticket_json(&s, i, &mut b);
            assert_eq!(a, b);
        }
        assert_eq!(customer(3, 17), customer(3, 17));
        assert_eq!(customer(3, 0).customer_id, "C-000001");
    }

    #[test]
    fn good_tickets_decode_and_have_realistic_sizes() {
        let s = spec(0.0);
        let mut buf = Vec::new();
        let mut sizes = Vec::new();
        let n = 4000;
        for i in 0..n {
            buf.clear();
            assert_eq!(ticket_json(&s, i, &mut buf), RecordKind::Good);
            let d = json::decode_ticket(&buf)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&buf)));
            assert!(d.ticket.created_at <= s.base);
            if d.ticket.body.is_some() {
                sizes.push(buf.len());
            }
        }
        sizes.sort_unstable();
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        let pct = |p: usize| sizes[(sizes.len() - 1) * p / 100];
        let report = format!(
            "mean {mean}, min {}, p1 {}, p50 {}, p99 {}, max {}",
            sizes[0],
            pct(1),
            pct(50),
            pct(99),
            sizes[sizes.len() - 1]
        );
        assert!((850..=1200).contains(&mean), "{report}");
        assert!(pct(1) >= 500 && sizes[0] >= 450, "{report}");
        assert!(
            pct(99) <= 2048 && sizes[sizes.len() - 1] <= 2200,
            "{report}"
        );
        // Subject-only tickets are rare.
        assert!(sizes.len() as u64 >= n * 99 / 100);
    }

    #[test]
    fn bad_records_are_rejected_and_good_ones_are_not() {
        let s = spec(0.3);
        let mut buf = Vec::new();
        let mut bad = 0;
        for i in 0..3000 {
            buf.clear();
            let k = ticket_json(&s, i, &mut buf);
            let r = json::decode_ticket(&buf);
            assert_eq!(
                r.is_ok(),
                k.is_good(),
                "{k:?}: {}",
                String::from_utf8_lossy(&buf)
            );
            if let Err(e) = r {
                bad += 1;
                let want = match k {
                    RecordKind::NotJson => DlqReason::DecodeError,
                    RecordKind::MissingField | RecordKind::WrongType => DlqReason::SchemaError,
                    _ => DlqReason::InvalidField,
                };
                // A bad timestamp of "" is still an invalid field; a truncated
                // object may look like a schema problem to serde.
                if k != RecordKind::NotJson {
                    assert_eq!(e.reason, want, "{k:?}: {e}");
                }
            }
        }
        assert!((700..=1100).contains(&bad), "{bad}");
    }

    #[test]
    fn avro_records_decode_like_json() {
        let s = spec(0.2);
        let codec = triage_core::codec::avro::AvroCodec::bundled();
        let (mut scratch, mut buf) = (Vec::new(), Vec::new());
        for i in 0..1000 {
            buf.clear();
            let k = ticket_avro(&s, &codec, i, &mut scratch, &mut buf);
            let r = codec.decode_ticket(&buf);
            assert_eq!(r.is_ok(), k.is_good(), "{k:?}");
            if let Ok(t) = r {
                let j = json::decode_ticket(&scratch).unwrap();
                assert_eq!(t.ticket(), j.ticket);
            }
        }
    }

    #[test]
    fn the_mix_covers_every_category_and_tone() {
        let s = spec(0.0);
        let rules = triage_core::rules::load(
            std::path::Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../config/rules.toml"
            )),
            &|p| std::fs::read(p),
        )
        .map_err(|d| format!("{d:?}"))
        .unwrap()
        .rules;
        let mut seen = std::collections::HashMap::<String, usize>::new();
        let mut neg = 0;
        let mut buf = Vec::new();
        let now: Timestamp = "2026-11-02T12:00:00Z".parse().unwrap();
        for i in 0..3000 {
            buf.clear();
            ticket_json(&s, i, &mut buf);
            let d = json::decode_ticket(&buf).unwrap();
            let t = triage_core::engine::triage(&rules, &d.ticket, None, now);
            *seen.entry(t.category.to_string()).or_default() += 1;
            if t.sentiment.label == triage_core::model::SentimentLabel::Negative {
                neg += 1;
            }
        }
        for c in [
            "outage",
            "security",
            "bug",
            "billing",
            "account",
            "how_to",
            "feature_request",
            "other",
        ] {
            assert!(seen.get(c).copied().unwrap_or(0) > 20, "{c}: {seen:?}");
        }
        assert!(neg > 150, "negative {neg}");
    }

    #[test]
    fn customers_have_plausible_fields() {
        let mut enterprise_premium = 0;
        let mut enterprise = 0;
        for i in 0..5000 {
            let c = customer(1, i);
            if c.account_type.as_deref() == Some("enterprise") {
                enterprise += 1;
                if c.support_plan.as_deref() == Some("premium") {
                    enterprise_premium += 1;
                }
            }
            if let Some(z) = &c.timezone {
                assert!(jiff::tz::TimeZone::get(z).is_ok(), "{z}");
            }
        }
        assert!(enterprise > 150 && enterprise_premium * 2 > enterprise);
    }
}
