//! A log pasted into a ticket is evidence, not the customer's voice. Its
//! messages say what failed ("Connection refused", "sync aborted") and are
//! read; its level words are a program's, not a person's: "CRITICAL" on a
//! log line is no customer calling the matter critical, "FATAL" no
//! customer in despair, and a column of "ERROR"s is no one shouting.
//! [`masked`] blanks the level words of log lines (each byte a space: the
//! text keeps its length) before the text is read.
//!
//! A log line opens with a timestamp — a date ("2026-11-23", "2026/11/23",
//! "[2026-11-23T02:00:04Z]"), a time ("02:00:04"), a syslog date ("Nov 23
//! 02:00:04") — or with a bracketed level ("[ERROR] …"); its level is an
//! upper-case level word among its first tokens ("ERROR", "CRITICAL",
//! "FATAL", "WARN", …, also in brackets or before ":"), or a `level=` /
//! `severity=` field of any case ("level=error"). A customer's own
//! "CRITICAL: production is down" opens with no timestamp and is read.

use std::borrow::Cow;

/// Level words of logging libraries (upper case as logs write them).
const LEVELS: [&str; 16] = [
    "ALERT", "CRIT", "CRITICAL", "DEBUG", "EMERG", "ERR", "ERROR", "FATAL", "FINE", "INFO",
    "NOTICE", "PANIC", "SEVERE", "TRACE", "WARN", "WARNING",
];

/// Field names whose value is a level (`level=error`, `severity=CRITICAL`).
const LEVEL_KEYS: [&str; 4] = ["level=", "lvl=", "severity=", "loglevel="];

/// Tokens of a log line read for its level: the timestamp's parts, a
/// logger's name, a thread, the level.
const HEAD_TOKENS: usize = 6;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `text` with the level words of its log lines blanked, and how many lines
/// had one (borrowed, 0, when none).
pub fn masked(text: Cow<'_, str>) -> (Cow<'_, str>, usize) {
    let spans = levels(&text);
    // ASCII bytes (level words, brackets, a field name and its value of
    // letters).
    (crate::text::blanked(text, &spans), spans.len())
}

/// The byte range of each log line's level (one per line at most).
fn levels(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = text.as_bytes();
    while start < b.len() {
        let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |k| start + k);
        // Most lines open with a letter of prose: one byte says so.
        let lead = text[start..end].trim_start();
        let at = start + (end - start - lead.len());
        let first = lead.as_bytes().first().copied().unwrap_or(b' ');
        if first.is_ascii_digit() || first == b'[' || opens_with_month(lead.as_bytes()) {
            if let Some(span) = level_of(text, at, end) {
                out.push(span);
            }
        }
        start = end + 1;
    }
    out
}

/// The level of the log line `text[at..end]`, if it is one: it opens with a
/// timestamp or a bracketed level, and a level word is among its first
/// tokens (or a `level=` field anywhere in it).
fn level_of(text: &str, at: usize, end: usize) -> Option<(usize, usize)> {
    // `at..end` is a line of `text` without its leading white space: both
    // ends are character boundaries (after a "\n" and white space, at a
    // "\n" or the end).
    let line = &text[at..end];
    let bracketed = |t: &str| {
        let inner = t.trim_start_matches('[').trim_end_matches([']', ':']);
        LEVELS.contains(&inner) && t.starts_with('[')
    };
    let mut tokens = line
        .split_ascii_whitespace()
        .map(|t| (t, at + crate::text::offset_in(line, t)));
    let (first, _) = tokens.clone().next()?;
    if !(timestamp(first, line) || bracketed(first)) {
        return None;
    }
    // A `level=…` field.
    let lower = line.to_ascii_lowercase();
    for key in LEVEL_KEYS {
        if let Some(k) = lower.find(key) {
            let v = k + key.len();
            // `lower` is `line` lower-cased byte for byte; `k` is where the
            // ASCII key starts in it, `v` where it ends, `len` ASCII bytes
            // after it: every slice is on character boundaries, and
            // `k - 1` is read only when `k > 0`.
            let len = lower[v..]
                .bytes()
                .take_while(|c| c.is_ascii_alphabetic() || *c == b'"')
                .count();
            let value = lower[v..v + len].trim_matches('"').to_ascii_uppercase();
            let boundary = k == 0 || !lower.as_bytes()[k - 1].is_ascii_alphanumeric();
            if boundary && LEVELS.contains(&value.as_str()) {
                return Some((at + k, at + v + len));
            }
        }
    }
    tokens.by_ref().take(HEAD_TOKENS).find_map(|(t, s)| {
        let word = t
            .trim_start_matches(['[', '('])
            .trim_end_matches([']', ')', ':', ',', '|']);
        LEVELS.contains(&word).then_some((s, s + t.len()))
    })
}

/// Whether `line` opens with a month's abbreviation ("Nov 23 02:00:04"):
/// three bytes compared as one number.
fn opens_with_month(line: &[u8]) -> bool {
    match line {
        [a, b, c, ..] if a.is_ascii_uppercase() => {
            let key = [*a, *b, *c];
            MONTHS.iter().any(|m| m.as_bytes() == key)
        }
        _ => false,
    }
}

/// Whether the token `t` opening `line` is (the start of) a timestamp: a
/// date ("2026-11-23", "2026/11/23", "23.11.2026"), a time ("02:00:04"),
/// either in brackets, or a month abbreviation followed by a day and a time
/// (syslog: "Nov 23 02:00:04").
fn timestamp(t: &str, line: &str) -> bool {
    let t = t.trim_start_matches('[');
    // `b[..n]` and `b[n]` are read after `b.len() > n`.
    let digits_then = |s: &str, n: usize, sep: &[u8]| {
        let b = s.as_bytes();
        b.len() > n && b[..n].iter().all(u8::is_ascii_digit) && sep.contains(&b[n])
    };
    let date = digits_then(t, 4, b"-/") || digits_then(t, 2, b"./-") && t.len() >= 8;
    let time = digits_then(t, 2, b":") && t.len() >= 5;
    let syslog = MONTHS.contains(&t) && {
        let mut rest = line.split_ascii_whitespace().skip(1);
        rest.next()
            .is_some_and(|d| d.len() <= 2 && d.bytes().all(|c| c.is_ascii_digit()))
            && rest.next().is_some_and(|h| digits_then(h, 2, b":"))
    };
    date || time || syslog
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str) -> (String, usize) {
        let (s, n) = masked(Cow::Borrowed(t));
        (s.into_owned(), n)
    }

    #[test]
    fn the_levels_of_log_lines_are_blanked() {
        let log = "The sync stopped. Log:\n\
                   2026-11-23 02:00:04 ERROR Connection refused: api.example.com:443\n\
                   2026-11-23T02:00:04Z [worker-1] CRITICAL sync aborted\n\
                   [2026-11-23 02:00:05] FATAL: worker exited\n\
                   Nov 23 02:00:05 host app[42]: WARNING disk at 91%\n\
                   02:00:06.120 INFO  done\n\
                   [ERROR] retry failed\n\
                   2026-11-23 02:00:07 msg=\"export failed\" level=error\n\
                   23.11.2026 02:00:08 | SEVERE | out of memory";
        let (got, n) = m(log);
        assert_eq!(n, 8);
        for w in [
            "ERROR",
            "CRITICAL",
            "FATAL",
            "WARNING",
            "INFO",
            "SEVERE",
            "level=error",
        ] {
            assert!(!got.contains(w), "{w} left in {got:?}");
        }
        for w in [
            "Connection refused",
            "sync aborted",
            "worker exited",
            "retry failed",
            "export failed",
        ] {
            assert!(got.contains(w), "{w} lost");
        }
        assert_eq!(got.len(), log.len());
    }

    #[test]
    fn a_customers_own_words_are_kept() {
        for t in [
            "CRITICAL: production is down for all users!",
            "URGENT - ERROR on every page",
            "We get an ERROR when we export.",
            "2 users see the error: ERROR 500",
            "On 2026-11-23 we saw errors.",
            "10 of our users cannot log in. ERROR everywhere.",
        ] {
            let (got, n) = m(t);
            assert_eq!((got.as_str(), n), (t, 0), "{t:?}");
        }
    }
}
