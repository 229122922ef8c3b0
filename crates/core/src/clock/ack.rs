//! The customer acknowledgment: "tell customers how long they will wait", rendered from the rules'
//! `[acknowledgment] template`.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// The values a template may use: `{ticket_id}`, `{priority}`, `{queue}`, `{first_response_due}`
/// (local time in the ticket's zone, e.g. `2026-11-02 09:29 CET`) and `{first_response_in}`
/// (e.g. `4 hours`, `1 hour 30 minutes`, `8 business hours`).
#[derive(Debug, Clone)]
pub struct AckVars<'a> {
    pub ticket_id: &'a str,
    pub priority: &'a str,
    pub queue: &'a str,
    pub first_response_due: Timestamp,
    pub tz: &'a TimeZone,
    pub first_response_in: SignedDuration,
    /// The target counts business hours only (not a 24x7 calendar).
    pub business: bool,
}

/// Renders `template`: each known `{name}` is replaced; anything else is kept as written.
pub fn render(template: &str, v: &AckVars<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        match name {
            "ticket_id" => out.push_str(v.ticket_id),
            "priority" => out.push_str(v.priority),
            "queue" => out.push_str(v.queue),
            "first_response_due" => out.push_str(&local_time(v.first_response_due, v.tz)),
            "first_response_in" => out.push_str(&humanize(v.first_response_in, v.business)),
            _ => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// `2026-11-02 09:29 CET`: minutes, in the ticket's zone, with its abbreviation.
pub fn local_time(t: Timestamp, tz: &TimeZone) -> String {
    let z = t.to_zoned(tz.clone());
    z.strftime("%Y-%m-%d %H:%M %Z").to_string()
}

/// `15 minutes`, `1 hour 30 minutes`, `2 days`, `45 seconds`; `business` inserts "business"
/// before the largest unit (`8 business hours`).
pub fn humanize(d: SignedDuration, business: bool) -> String {
    let mut s = d.as_secs().max(0);
    if s == 0 {
        return "0 minutes".into();
    }
    let mut parts = Vec::new();
    // Business time is counted in hours, never days (a "business day" is ambiguous).
    let units: &[(&str, i64)] = if business {
        &[("hour", 3600), ("minute", 60), ("second", 1)]
    } else {
        &[
            ("day", 86_400),
            ("hour", 3600),
            ("minute", 60),
            ("second", 1),
        ]
    };
    for &(unit, n) in units {
        if s >= n {
            let k = s / n;
            s %= n;
            let b = if business && parts.is_empty() {
                "business "
            } else {
                ""
            };
            let plural = if k == 1 { "" } else { "s" };
            parts.push(format!("{k} {b}{unit}{plural}"));
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_shipped_template() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let v = AckVars {
            ticket_id: "T-1",
            priority: "P2",
            queue: "billing",
            first_response_due: "2026-11-02T08:29:05Z".parse().unwrap(),
            tz: &tz,
            first_response_in: SignedDuration::from_mins(90),
            business: false,
        };
        assert_eq!(
            render("{ticket_id} ({priority}, {queue}): within {first_response_in}, by {first_response_due}. {other} {", &v),
            "T-1 (P2, billing): within 1 hour 30 minutes, by 2026-11-02 09:29 CET. {other} {"
        );
    }

    #[test]
    fn humanized_durations() {
        assert_eq!(humanize(SignedDuration::from_mins(15), false), "15 minutes");
        assert_eq!(humanize(SignedDuration::from_hours(1), false), "1 hour");
        assert_eq!(humanize(SignedDuration::from_hours(48), false), "2 days");
        assert_eq!(
            humanize(SignedDuration::from_hours(8), true),
            "8 business hours"
        );
        assert_eq!(
            humanize(SignedDuration::from_hours(30), true),
            "30 business hours"
        );
        assert_eq!(
            humanize(SignedDuration::from_secs(61), false),
            "1 minute 1 second"
        );
        assert_eq!(humanize(SignedDuration::ZERO, false), "0 minutes");
    }
}
