//! Links and email addresses are no words of the customer's. Tickets carry
//! them — the page that fails, the doc followed, the colleague to invite —
//! and their words are names, not statements: "I followed
//! https://docs.example.com/security/breach-notification but it did not
//! say" states no breach, ".../invoices?status=failed" no failure,
//! "security-admin@acme.com" no security incident. [`masked`] blanks them
//! (each byte a space: the text keeps its length, so what the readers quote
//! is where it was) before any reader of the text sees it.
//!
//! A link is a scheme and "://" ("https://…", "ftp://…") or a word opening
//! with "www.", to the next white space, quote or angle bracket; punctuation
//! that ends it ("… see https://x.com/a.", "(https://x.com/a)") is the
//! sentence's, not the link's. An address is a local part, "@" and a
//! domain with a dot and a top-level name of letters ("jane.doe@acme.com");
//! a mention ("@support") is no address and is read.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;

/// The searcher for a bare "www.", built once (built per search, it cost
/// more than the search).
static WWW: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("www."));

/// `text` with its links and email addresses blanked (borrowed when it has
/// none: one vector search for "://", "www." and "@" each).
pub fn masked(text: Cow<'_, str>) -> Cow<'_, str> {
    // Spans start and end at ASCII bytes or the end: whole characters.
    let spans = spans(&text);
    crate::text::blanked(text, &spans)
}

/// The byte ranges of the links and addresses in `text`, in order, apart.
fn spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out: Vec<(usize, usize)> = Vec::new();
    // Where the last link found ends: a ":" or "@" before it is that
    // link's (each byte is read by one link's end search at most).
    let mut covered = 0;
    // One vector search for the bytes a link with a scheme (":" of "://")
    // or an address ("@") turns on: both rare in prose.
    for at in memchr::memchr2_iter(b':', b'@', b) {
        if at < covered {
            continue;
        }
        // `at` is where memchr found a byte of `b`: in bounds, and
        // `b[at + 1..]` at most empty.
        let span = if b[at] == b':' {
            b[at + 1..]
                .starts_with(b"//")
                .then(|| scheme_link(b, at))
                .flatten()
        } else {
            address(b, at)
        };
        if let Some((s, e)) = span {
            out.push((s, e));
            covered = e;
        }
    }
    // Then links with no scheme ("www.example.com"), not inside one found.
    let found = out.len();
    let mut from = 0;
    while let Some(k) = WWW.find(&b[from..]) {
        let s = from + k;
        from = s + 4;
        // `out[..found]` is in order and apart (the pass above).
        let before = out[..found].partition_point(|&(ls, _)| ls <= s);
        if before > 0 && s < out[before - 1].1 {
            continue;
        }
        let opens =
            s == 0 || !(b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'/' | b'.' | b'@'));
        let e = link_end(b, s + 4);
        if opens && e > s + 4 {
            out.push((s, e));
            from = e;
        }
    }
    out.sort_unstable();
    // Apart: a link holding an address ("https://x.com/?to=a@b.com") is one.
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(out.len());
    for (s, e) in out {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The link whose "://" is at `at`: its scheme (letters, digits, "+",
/// "-", "." back from "://", opening with a letter, two or more) and
/// something after "://".
fn scheme_link(b: &[u8], at: usize) -> Option<(usize, usize)> {
    // `at < b.len()` (a ":" of `b`); `b[s - 1]` is read while `s > 0`, `b[s]`
    // while `s < at`.
    let mut s = at;
    while s > 0 && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'+' | b'-' | b'.')) {
        s -= 1;
    }
    while s < at && !b[s].is_ascii_alphabetic() {
        s += 1;
    }
    if at - s < 2 {
        return None;
    }
    let e = link_end(b, at + 3);
    (e > at + 3).then_some((s, e))
}

/// The email address whose "@" is at `at`: a local part before it, a domain
/// after it with a dot and a top-level name of two letters or more.
fn address(b: &[u8], at: usize) -> Option<(usize, usize)> {
    // `at < b.len()` (an "@" of `b`); `b[s - 1]` is read while `s > 0`, `b[e]`
    // while `e < b.len()`, and `e` stays at least `at + 1` (the domain's
    // slice may be empty, never reversed).
    let mut s = at;
    while s > 0
        && (b[s - 1].is_ascii_alphanumeric()
            || matches!(b[s - 1], b'.' | b'_' | b'%' | b'+' | b'-'))
    {
        s -= 1;
    }
    let mut e = at + 1;
    while e < b.len() && (b[e].is_ascii_alphanumeric() || matches!(b[e], b'.' | b'-')) {
        e += 1;
    }
    // A dot ending the sentence is not the domain's.
    while e > at + 1 && b[e - 1] == b'.' {
        e -= 1;
    }
    let domain = &b[at + 1..e];
    let tld = domain.rsplit(|&c| c == b'.').next().unwrap_or_default();
    let valid = s < at
        && domain.contains(&b'.')
        && tld.len() >= 2
        && tld.iter().all(u8::is_ascii_alphabetic);
    valid.then_some((s, e))
}

/// Where a link from `from` ends: at white space, a quote, an angle bracket
/// or a control byte; then without the punctuation that ends a sentence or
/// closes a bracket the link did not open.
fn link_end(b: &[u8], from: usize) -> usize {
    // `b[e]` is read while `e < b.len()`, `b[e - 1]` while `e > from`;
    // `from <= b.len()` (just after "://" or "www." of `b`).
    let mut e = from;
    while e < b.len()
        && !(b[e].is_ascii_whitespace() || b[e] < 0x20 || matches!(b[e], b'"' | b'<' | b'>' | b'`'))
    {
        e += 1;
    }
    // Brackets the link opened and closed (counted once: a link of many
    // ")" is stripped in linear time).
    let count = |c: u8| b[from..e].iter().filter(|&&x| x == c).count();
    let (mut parens, mut brackets) = (
        count(b'(') as isize - count(b')') as isize,
        count(b'[') as isize - count(b']') as isize,
    );
    while e > from {
        let strip = match b[e - 1] {
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b'\'' => true,
            // A closing bracket more than the link opened is the text's.
            b')' if parens < 0 => {
                parens += 1;
                true
            }
            b']' if brackets < 0 => {
                brackets += 1;
                true
            }
            _ => false,
        };
        if !strip {
            break;
        }
        e -= 1;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str) -> String {
        masked(Cow::Borrowed(t)).into_owned()
    }

    #[test]
    fn links_and_addresses_are_blanked_and_the_text_keeps_its_length() {
        // The text and what of it is blanked.
        let cases: [(&str, &[&str]); 9] = [
            (
                "I followed https://docs.example.com/security/breach but it did not say.",
                &["https://docs.example.com/security/breach"],
            ),
            ("See https://x.com/a.", &["https://x.com/a"]),
            ("(see https://x.com/a_(b)) ok", &["https://x.com/a_(b)"]),
            (
                "Open www.example.com/billing, then",
                &["www.example.com/billing"],
            ),
            (
                "Please invite security-admin@acme.com.",
                &["security-admin@acme.com"],
            ),
            ("Mail jane@acme.co.uk today", &["jane@acme.co.uk"]),
            (
                "<https://x.com/?to=a@b.com> and bob@x.org",
                &["https://x.com/?to=a@b.com", "bob@x.org"],
            ),
            (
                "ftp://files.acme.com/crash.dmp",
                &["ftp://files.acme.com/crash.dmp"],
            ),
            ("café https://exämple.com/ü ok", &["https://exämple.com/ü"]),
        ];
        for (text, links) in cases {
            let mut want = text.to_string();
            for l in links {
                want = want.replacen(l, &" ".repeat(l.len()), 1);
            }
            let got = m(text);
            assert_eq!(got, want, "{text:?}");
            assert_eq!(got.len(), text.len());
        }
    }

    #[test]
    fn hostile_runs_are_read_in_linear_time() {
        // Each would be quadratic if every "://", "www." or ")" searched
        // to the end of the link again.
        let n = 200_000;
        for t in [
            "ab://".repeat(n),
            "a://".repeat(n),
            "www.".repeat(n),
            format!("https://x.com/{}", ")".repeat(n)),
            "a@a.".repeat(n),
            "ab://www. ".repeat(n),
        ] {
            let got = m(&t);
            assert_eq!(got.len(), t.len());
        }
    }

    #[test]
    fn text_without_links_is_borrowed_and_kept() {
        for t in [
            "The export fails with error 500.",
            "@support the app crashes",
            "a@b is no address, nor x@y.1",
            "version 2.0://",
            "the www. prefix",
            "see://",
        ] {
            let got = masked(Cow::Borrowed(t));
            assert!(matches!(got, Cow::Borrowed(_)), "{t:?}");
        }
    }
}
