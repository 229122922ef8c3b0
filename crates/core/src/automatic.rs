//! Mail that no person wrote to the support team: an automatic reply ("out
//! of office") and a delivery failure notice (a bounce). Both reach a
//! help desk's mailbox as tickets — an out-of-office reply to an agent's
//! answer, a bounce of a mail to a customer's address that no longer works —
//! and both carry words a person's request would: the subject of the mail
//! they answer ("Automatic reply: Production outage on your side?"), "for
//! urgent matters", "delivery has failed", "error". Read as a request, an
//! out-of-office note quoting an outage subject is an outage.
//!
//! Told by the subject, as mail servers and clients write it: Exchange's
//! "Automatic reply:", "Undeliverable:", Gmail's "Delivery Status
//! Notification (Failure)", Postfix's "Undelivered Mail Returned to
//! Sender", their German, French, Spanish, Italian and Dutch forms. A
//! subject a person could write too ("Mail delivery failed", "Failure
//! notice") counts only with a body that reads as a delivery status report
//! (an enhanced status code such as "5.1.1", "MAILER-DAEMON", "postmaster",
//! "Diagnostic-Code"). A tag before the subject ("[EXTERNAL]", "[Ticket
//! #4471]") is looked past.

/// What a mail no person wrote is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automatic {
    /// An automatic reply: out of office, an auto-responder.
    Reply,
    /// A delivery failure (or delay) notice.
    Bounce,
}

impl Automatic {
    /// As a reason says it.
    pub fn described(self) -> &'static str {
        match self {
            Automatic::Reply => "an automatic reply",
            Automatic::Bounce => "a delivery failure notice",
        }
    }
}

/// Subject openings of automatic replies, each followed by ":" (lower case).
const REPLY_OPENINGS: [&str; 18] = [
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "autoresponse",
    "automated response",
    "automatic response",
    "out of office",
    "out of office autoreply",
    "out of office reply",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
    "respuesta automática",
    "risposta automatica",
    "automatisch antwoord",
];

/// Whole subjects of automatic replies (lower case).
const REPLY_SUBJECTS: [&str; 5] = [
    "out of office",
    "out of the office",
    "ooo",
    "on vacation",
    "on annual leave",
];

/// Subject openings of delivery failure notices that say so alone (lower
/// case; a ":" after them is not needed).
const BOUNCE_OPENINGS: [&str; 9] = [
    "undeliverable:",
    "undelivered mail returned to sender",
    "delivery status notification",
    "returned mail:",
    "unzustellbar:",
    "non remis",
    "no se puede entregar:",
    "non recapitabile:",
    "onbestelbaar:",
];

/// Subject openings a person could write too: a notice only with a
/// delivery status report in the body.
const BOUNCE_MAYBE: [&str; 5] = [
    "mail delivery failed",
    "mail delivery failure",
    "failure notice",
    "message not delivered",
    "delivery failure",
];

/// The first bytes of every opening and whole subject above (a test keeps
/// them in step).
const FIRST: &[u8] = b"adfmnoru";

/// Bytes of a subject the openings are looked for in (the longest opening
/// and a whole subject of [`REPLY_SUBJECTS`] fit).
const HEAD: usize = 48;

/// What the mail is, by its subject (and for a subject a person could
/// write, its body), with the opening of the subject that said so.
pub fn of<'s>(subject: &'s str, body: Option<&str>) -> Option<(Automatic, &'s str)> {
    let s = without_tags(subject);
    // Its first bytes, ASCII lower-cased on the stack (the accented openings
    // are written lower case, as mail clients write them).
    let mut buf = [0u8; HEAD];
    let n = s.len().min(buf.len());
    // (`n` is at most both lengths.)
    let head = &mut buf[..n];
    head.copy_from_slice(&s.as_bytes()[..n]);
    head.make_ascii_lowercase();
    let head = &*head;
    // Most subjects are told apart by their first byte alone.
    if !head.first().is_some_and(|b| FIRST.contains(b)) {
        return None;
    }
    // `s` as far as an opening of `len` bytes (the whole subject if that
    // is no char boundary).
    let said = |len: usize| s.get(..len).unwrap_or(s);
    for o in REPLY_OPENINGS {
        if let Some(rest) = head.strip_prefix(o.as_bytes()) {
            if rest.trim_ascii_start().starts_with(b":") {
                return Some((Automatic::Reply, said_upto(s, ':')));
            }
        }
    }
    if s.len() <= HEAD {
        let mut whole = head;
        while let [rest @ .., b'.' | b'!' | b' '] = whole {
            whole = rest;
        }
        if REPLY_SUBJECTS.iter().any(|r| r.as_bytes() == whole) {
            return Some((Automatic::Reply, s));
        }
    }
    for o in BOUNCE_OPENINGS {
        if head.starts_with(o.as_bytes()) {
            return Some((Automatic::Bounce, said(o.len())));
        }
    }
    for o in BOUNCE_MAYBE {
        if head.starts_with(o.as_bytes()) && body.is_some_and(status_report) {
            return Some((Automatic::Bounce, said(o.len())));
        }
    }
    None
}

/// `s` up to and with its first `c`.
fn said_upto(s: &str, c: char) -> &str {
    s.find(c).map_or(s, |i| &s[..i + c.len_utf8()])
}

/// A subject without the tags before it ("[EXTERNAL] ", "[Ticket #4471] ").
fn without_tags(mut s: &str) -> &str {
    s = s.trim_start();
    while let Some(rest) = s.strip_prefix('[') {
        match rest.find(']') {
            // A tag is short; a "[" opening a long bracket is text.
            Some(e) if e <= 40 => s = rest[e + 1..].trim_start(),
            _ => break,
        }
    }
    s
}

/// The body reads as a delivery status report: an enhanced status code
/// ("550 5.1.1", "4.4.7"), or the words a mail server signs it with.
fn status_report(body: &str) -> bool {
    static WORDS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 6]> =
        std::sync::LazyLock::new(|| {
            [
                "MAILER-DAEMON",
                "mailer-daemon",
                "postmaster",
                "Postmaster",
                "Diagnostic-Code",
                "Final-Recipient",
            ]
            .map(memchr::memmem::Finder::new)
        });
    let b = body.as_bytes();
    if WORDS.iter().any(|f| f.find(b).is_some()) {
        return true;
    }
    // An SMTP reply code and its enhanced status ("550 5.1.1", "452-4.2.2",
    // "Status: 5.1.1"): a version number ("version 5.1.1") is none.
    memchr::memchr_iter(b'.', b).any(|dot| {
        // (`dot` is where memchr found a "."; `dot >= 1` is checked, and
        // the bytes before it are read through `get`.)
        let Some(class) = dot.checked_sub(1) else {
            return false;
        };
        let code = class
            .checked_sub(4)
            .and_then(|i| b.get(i..class))
            .is_some_and(|c| {
                matches!(c[0], b'2' | b'4' | b'5')
                    && c[1].is_ascii_digit()
                    && c[2].is_ascii_digit()
                    && matches!(c[3], b' ' | b'-')
            });
        let status = class
            .checked_sub(8)
            .and_then(|i| b.get(i..class))
            .is_some_and(|c| c.eq_ignore_ascii_case(b"status: "));
        // (`class < dot < b.len()`; `dot + 1 <= b.len()`.)
        matches!(b[class], b'2' | b'4' | b'5') && (code || status) && status_tail(&b[dot + 1..])
    })
}

/// The ".d.d" after a status code's class: one to three digits, ".", one
/// to three digits, then no digit, letter or ".".
fn status_tail(b: &[u8]) -> bool {
    let digits = |b: &[u8]| b.iter().take(4).take_while(|c| c.is_ascii_digit()).count();
    let n = digits(b);
    if !(1..=3).contains(&n) || b.get(n) != Some(&b'.') {
        return false;
    }
    // (`n + 1 <= b.len()`: `b[n]` is the "." just read.)
    let rest = &b[n + 1..];
    let m = digits(rest);
    (1..=3).contains(&m)
        && rest
            .get(m)
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opening_starts_with_a_first_byte() {
        let all = REPLY_OPENINGS
            .iter()
            .chain(&REPLY_SUBJECTS)
            .chain(&BOUNCE_OPENINGS)
            .chain(&BOUNCE_MAYBE);
        for o in all {
            assert!(FIRST.contains(&o.as_bytes()[0]), "{o}");
        }
    }

    #[test]
    fn mail_servers_and_clients_subjects() {
        for (s, kind, said) in [
            (
                "Automatic reply: Production outage on your side?",
                Automatic::Reply,
                "Automatic reply:",
            ),
            (
                "[EXTERNAL] Auto-Reply: Invoice",
                Automatic::Reply,
                "Auto-Reply:",
            ),
            (
                "Out of Office AutoReply: sync",
                Automatic::Reply,
                "Out of Office AutoReply:",
            ),
            (
                "Abwesenheitsnotiz: Ihre Anfrage",
                Automatic::Reply,
                "Abwesenheitsnotiz:",
            ),
            (
                "Réponse automatique : Facture",
                Automatic::Reply,
                "Réponse automatique :",
            ),
            ("Out of office", Automatic::Reply, "Out of office"),
            ("OOO", Automatic::Reply, "OOO"),
            (
                "Undeliverable: Re: Your invoice",
                Automatic::Bounce,
                "Undeliverable:",
            ),
            (
                "Delivery Status Notification (Failure)",
                Automatic::Bounce,
                "Delivery Status Notification",
            ),
            (
                "Undelivered Mail Returned to Sender",
                Automatic::Bounce,
                "Undelivered Mail Returned to Sender",
            ),
            (
                "[Ticket #4471] Unzustellbar: Rechnung",
                Automatic::Bounce,
                "Unzustellbar:",
            ),
        ] {
            assert_eq!(of(s, None), Some((kind, said)), "{s}");
        }
    }

    #[test]
    fn what_a_person_writes_is_no_automatic_mail() {
        for s in [
            "Auto reply not working since the update",
            "Our out of office replies are sent twice",
            "Out of office sync broken",
            "Re: Automatic reply settings",
            "Mail delivery failed for all our customers",
            "Delivery failure on webhooks",
            "OOO calendar integration",
            "",
            "[",
            "[EXTERNAL]",
        ] {
            assert_eq!(
                of(s, Some("Since Monday no mail arrives. Please help!")),
                None,
                "{s}"
            );
        }
    }

    #[test]
    fn a_subject_a_person_could_write_needs_a_status_report() {
        let report = "This is the mail system at host mx.example.com.\n\
            <jane@example.com>: host said: 550 5.1.1 <jane@example.com>: Recipient address rejected";
        assert_eq!(
            of(
                "Mail delivery failed: returning message to sender",
                Some(report)
            ),
            Some((Automatic::Bounce, "Mail delivery failed"))
        );
        assert_eq!(
            of("failure notice", Some("From: MAILER-DAEMON@example.com")),
            Some((Automatic::Bounce, "failure notice"))
        );
        for body in [
            "We upgraded to version 5.1.1 and now mail delivery failed",
            "Prices rose 4.5% in 2.1.2026",
            "v15.1.1 fails",
            "1.5.1.1",
        ] {
            assert_eq!(of("Mail delivery failed", Some(body)), None, "{body}");
        }
        assert!(status_report(
            "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound'"
        ));
        assert!(status_report("Status: 4.4.7"));
        assert!(status_report("452-4.2.2 mailbox full"));
        assert!(!status_report("status 4.4.7 of the plan"));
        assert!(!status_report("5.1"));
        assert!(!status_report("5.1."));
    }

    #[test]
    fn hostile_subjects_and_bodies() {
        let long = "[".repeat(100_000) + &"]".repeat(100_000);
        assert_eq!(of(&long, Some(&"5.".repeat(100_000))), None);
        assert_eq!(of(&"é".repeat(10_000), Some(&"5.1.".repeat(50_000))), None);
        let _ = of("ré:", Some(""));
    }
}
