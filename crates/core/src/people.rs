//! How many people a ticket's text says are affected: "400 crew members",
//! "20 users", "1,200 customers", "hundreds of users". Business impact for
//! tickets whose form has no `affected_users` field (see `[impact]
//! from_text` in the rules).

/// A count of people the text names, and the words that said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub count: u64,
    pub words: String,
}

/// Words of quantity that stand for a number, followed by "of" ("hundreds
/// of users").
const QUANTITIES: [(&str, u64); 4] = [
    ("dozens", 24),
    ("hundreds", 100),
    ("thousands", 1_000),
    ("millions", 1_000_000),
];

/// Words of quantity that stand before the noun as a number does
/// ("several users", "multiple team members"): a few, read as 5, and many,
/// read as 10 — more than one person, fewer than a named crowd. Each is
/// looked for without its first letter ([`finders`]), so that it is found
/// capitalised too.
const VAGUE: [(&str, u64); 4] = [
    ("several", 5),
    ("multiple", 5),
    ("many", 10),
    ("numerous", 10),
];

/// The searchers for "s of " ([`QUANTITIES`]) and then [`VAGUE`]'s words,
/// built once (a searcher's setup costs more than its search through a
/// ticket).
fn finders() -> &'static [memchr::memmem::Finder<'static>] {
    static F: std::sync::OnceLock<Vec<memchr::memmem::Finder<'static>>> =
        std::sync::OnceLock::new();
    F.get_or_init(|| {
        // `VAGUE`'s words are ASCII constants of two or more letters: `1..`
        // is a char boundary inside each.
        let tails = VAGUE.iter().map(|(w, _)| format!("{} ", &w[1..]));
        std::iter::once("s of ".to_string())
            .chain(tails)
            .map(|n| memchr::memmem::Finder::new(&n).into_owned())
            .collect()
    })
}

/// Largest number believed (larger ones are ids, amounts or years).
const MAX_COUNT: u64 = 10_000_000;

/// Bytes read per text.
const MAX_BYTES: usize = 8 * 1024;

/// `raw` without punctuation at either end.
fn trim(raw: &str) -> &str {
    raw.trim_matches(|c: char| !c.is_alphanumeric())
}

/// A number as people write counts: "400", "1,200", "1.200", "1 200" is two
/// words and not read. `None` for anything else (versions, decimals, ids).
fn number(w: &str) -> Option<u64> {
    let b = w.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() || b.len() > 13 {
        return None;
    }
    let mut n: u64 = 0;
    let mut group = 0usize;
    let mut separated = false;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                n = n * 10 + u64::from(c - b'0');
                group += 1;
            }
            // A thousands separator: followed by exactly three digits.
            b',' | b'.' if i > 0 && (!separated || group == 3) && (separated || group <= 3) => {
                let rest = &b[i + 1..];
                let next = rest.iter().take_while(|d| d.is_ascii_digit()).count();
                if next != 3 {
                    return None;
                }
                separated = true;
                group = 0;
            }
            _ => return None,
        }
    }
    (n <= MAX_COUNT).then_some(n)
}

/// The largest count of people `texts` name with one of `nouns` (lower
/// case, as written: "users", "employees"), the noun right after the number
/// or one word later ("400 crew members"); `None` if none.
pub fn named_count(texts: &[&str], nouns: &[String]) -> Option<Named> {
    let is_noun = |w: &str| {
        let w = trim(w);
        !w.is_empty() && nouns.iter().any(|n| n.eq_ignore_ascii_case(w))
    };
    let mut best: Option<Named> = None;
    for text in texts {
        let text = crate::text::prefix(text, MAX_BYTES);
        let b = text.as_bytes();
        // The word around byte `at` and the text after it (ASCII whitespace
        // bounds words, so the cuts are on character boundaries).
        let word_at = |at: usize| {
            let start = b[..at]
                .iter()
                .rposition(u8::is_ascii_whitespace)
                .map_or(0, |p| p + 1);
            let end = b[at..]
                .iter()
                .position(u8::is_ascii_whitespace)
                .map_or(b.len(), |p| at + p);
            (&text[start..end], &text[end..])
        };
        // Numbers: every run of digits that starts a word.
        let mut i = 0;
        while let Some(off) = crate::simd::find_digit(&b[i..]) {
            let (raw, rest) = word_at(i + off);
            i = b.len() - rest.len();
            consider(raw, rest, &is_noun, &mut best);
        }
        // Quantity words: "hundreds of …", "several …".
        // `finders()` holds "s of " first, then one per `VAGUE` word.
        for at in finders()[0].find_iter(b) {
            let (raw, rest) = word_at(at);
            consider(raw, rest, &is_noun, &mut best);
        }
        for finder in &finders()[1..] {
            for at in finder.find_iter(b) {
                let (raw, rest) = word_at(at);
                consider(raw, rest, &is_noun, &mut best);
            }
        }
    }
    best
}

/// `raw` (a word) followed by `rest`: a count of people if `raw` is a number
/// or quantity word and a people noun follows.
fn consider(raw: &str, rest: &str, is_noun: &dyn Fn(&str) -> bool, best: &mut Option<Named>) {
    let w = trim(raw);
    // A number that ends a clause ("we paid 400. Users …") counts nothing.
    if w.is_empty() || !raw.ends_with(|c: char| c.is_alphanumeric()) {
        return;
    }
    let mut ahead = rest.split_whitespace();
    let (count, quantity) = match number(w) {
        Some(n) => (n, false),
        None => match QUANTITIES.iter().find(|(q, _)| q.eq_ignore_ascii_case(w)) {
            // "hundreds of users", "hundreds of our users"
            Some(&(_, n)) if ahead.next() == Some("of") => (n, true),
            Some(_) => return,
            // "several users", "many of our users" is not read.
            None => match VAGUE.iter().find(|(q, _)| q.eq_ignore_ascii_case(w)) {
                Some(&(_, n)) => (n, false),
                None => return,
            },
        },
    };
    if count < 2 {
        return;
    }
    let mut said = vec![w];
    if quantity {
        said.push("of");
    }
    let hit = match ahead.next() {
        Some(n) if is_noun(n) => {
            said.push(trim(n));
            true
        }
        // One word between: "400 crew members", not across a comma.
        Some(m) if trim(m) == m => match ahead.next() {
            Some(n) if is_noun(n) => {
                said.extend([m, trim(n)]);
                true
            }
            _ => false,
        },
        _ => false,
    };
    if hit && best.as_ref().is_none_or(|b| count > b.count) {
        *best = Some(Named {
            count,
            words: said.join(" "),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nouns() -> Vec<String> {
        ["users", "members", "customers", "employees", "people"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn count(text: &str) -> Option<(u64, String)> {
        named_count(&[text], &nouns()).map(|n| (n.count, n.words))
    }

    #[test]
    fn counts_people_the_text_names() {
        for (text, n, words) in [
            (
                "400 crew members see outdated rosters.",
                400,
                "400 crew members",
            ),
            ("About 1,200 customers cannot pay", 1200, "1,200 customers"),
            ("all 35 Employees are locked out", 35, "35 Employees"),
            ("Hundreds of users report errors", 100, "Hundreds of users"),
            ("3 users, then 50 users (the whole office).", 50, "50 users"),
            ("(about 60 people) cannot work", 60, "60 people"),
            ("hundreds of our users", 100, "hundreds of our users"),
            ("Several users cannot log in", 5, "Several users"),
            ("multiple team members see it", 5, "multiple team members"),
            ("many customers and 3 users", 10, "many customers"),
            ("Numerous employees", 10, "Numerous employees"),
        ] {
            assert_eq!(count(text), Some((n, words.to_string())), "{text}");
        }
    }

    #[test]
    fn other_numbers_are_not_people() {
        for t in [
            "Error 500 on login",
            "Version 2.5.1 users",
            "1 user cannot log in",
            "Invoice 2026-11 lists 12.5 seats",
            "99999999999 users",
            "We paid 400. Users are fine",
            "",
            "users 400",
            "company users",
            "Many thanks, users",
            "several, users",
        ] {
            assert_eq!(count(t), None, "{t}");
        }
    }
}
