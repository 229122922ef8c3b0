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

/// Words of quantity that stand for a number ("hundreds of users").
const QUANTITIES: [(&str, u64); 4] = [
    ("dozens", 24),
    ("hundreds", 100),
    ("thousands", 1_000),
    ("millions", 1_000_000),
];

/// Largest number believed (larger ones are ids, amounts or years).
const MAX_COUNT: u64 = 10_000_000;

/// Words read per text.
const MAX_WORDS: usize = 400;

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
        let words: Vec<&str> = text.split_whitespace().take(MAX_WORDS).collect();
        for (i, raw) in words.iter().enumerate() {
            let w = trim(raw);
            // A number that ends a clause ("we paid 400. Users …") counts nothing.
            if !raw.ends_with(|c: char| c.is_alphanumeric()) {
                continue;
            }
            let (count, mut j) = match number(w) {
                Some(n) => (n, i + 1),
                None => match QUANTITIES.iter().find(|(q, _)| q.eq_ignore_ascii_case(w)) {
                    // "hundreds of users", "hundreds of our users"
                    Some(&(_, n)) if words.get(i + 1).is_some_and(|o| *o == "of") => (n, i + 2),
                    _ => continue,
                },
            };
            if count < 2 {
                continue;
            }
            let hit = if words.get(j).is_some_and(|n| is_noun(n)) {
                true
            } else if words.get(j + 1).is_some_and(|n| is_noun(n))
                && words.get(j).is_some_and(|m| trim(m) == *m)
            {
                j += 1;
                true
            } else {
                false
            };
            if hit && best.as_ref().is_none_or(|b| count > b.count) {
                best = Some(Named {
                    count,
                    words: words[i..=j]
                        .iter()
                        .map(|w| trim(w))
                        .collect::<Vec<_>>()
                        .join(" "),
                });
            }
        }
    }
    best
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
        ] {
            assert_eq!(count(t), None, "{t}");
        }
    }
}
