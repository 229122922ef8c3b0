//! Spelling tolerance: a mistyped English word ("invocie", "pealties",
//! "acount") is read as the word one edit away that the customer meant, so
//! that phrases, the sentence model and the lexicon see it.
//!
//! A word is corrected only when it is not a word itself: it is at least
//! [`MIN_LEN`] ASCII letters long and in none of the dictionaries (the
//! sentence model's whole-word vocabulary, the sentiment lexicon, the rules'
//! phrase words with their inflections). Candidates are the dictionary words
//! one edit away — a letter missing, extra, wrong, or two neighbours swapped
//! (optimal string alignment distance 1) — found through an index of every
//! word with each one letter deleted (the "symmetric delete" method). The
//! rules' own phrase words win over the rest of the dictionary ("where it
//! pays"); among equals, the most frequent word (the sentence model's
//! vocabulary carries word frequency in its row weights). A word whose
//! candidates are only its own inflections ("reimbursements" for
//! "reimbursement") is left as written.
//!
//! Pure: the dictionaries are passed in (built from the bundled models and the
//! rules), nothing is read here.

use std::collections::{HashMap, HashSet};

use crate::text::bytes::{letter_runs, pack, Bloom};

/// Shortest word corrected: below this one edit makes another word too often.
pub const MIN_LEN: usize = 5;
/// Longest word corrected (and indexed): a word is a packed 16-byte key.
const MAX_LEN: usize = 16;
/// Bytes of a text read for corrections.
pub const MAX_BYTES: usize = 2048;

type Map<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
type Set<K> = HashSet<K, foldhash::fast::FixedState>;

/// `k` (a packed word) without its byte at `i` (the bytes above move down;
/// the zero padding follows).
fn delete(k: u128, i: usize) -> u128 {
    let low = if i == 0 {
        0
    } else {
        u128::MAX >> (128 - 8 * i)
    };
    (k & low) | ((k >> 8) & !low)
}

/// Dictionary words and the index of their one-letter deletions.
#[derive(Debug, Clone)]
struct Index {
    /// Each word with its rank (lower is preferred).
    words: Vec<(Box<str>, f32)>,
    /// A word or one of its deletions -> the words it stands for.
    deletes: Map<u128, Vec<u32>>,
    /// `deletes`' keys (~8 bits each): most words of a ticket are near no
    /// phrase word, and the filter says so without touching the table.
    bloom: Bloom,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            words: Vec::new(),
            deletes: Map::default(),
            bloom: Bloom::new(0),
        }
    }
}

impl Index {
    /// Adds `word` (ASCII letters, at most 16: [`indexable`]).
    fn add(&mut self, word: &str, rank: f32) {
        let Some(k) = pack(word.as_bytes()) else {
            return;
        };
        let i = self.words.len() as u32;
        self.words.push((word.into(), rank));
        let mut push = |k: u128| {
            let v = self.deletes.entry(k).or_default();
            if !v.contains(&i) {
                v.push(i);
            }
        };
        push(k);
        for skip in 0..word.len() {
            push(delete(k, skip));
        }
    }

    /// Builds the Bloom filter of the keys (after the last [`Index::add`]).
    fn seal(&mut self) {
        self.bloom = Bloom::new(self.deletes.len() * 8);
        for &k in self.deletes.keys() {
            self.bloom.insert(k);
        }
    }

    /// The words `k` stands for (none, mostly without a table lookup).
    #[inline]
    fn get(&self, k: u128) -> Option<&Vec<u32>> {
        if !self.bloom.may_contain(k) {
            return None;
        }
        self.deletes.get(&k)
    }

    /// The best word one edit from `w` (lowest rank, then first added).
    fn best(&self, w: &[u8]) -> Option<(u32, f32)> {
        let mut best: Option<(u32, f32)> = None;
        let mut consider = |ids: &[u32]| {
            for &i in ids {
                let (cand, rank) = &self.words[i as usize];
                if osa_is_one(w, cand.as_bytes()) && best.is_none_or(|(_, r)| *rank < r) {
                    best = Some((i, *rank));
                }
            }
        };
        let k = pack(w)?;
        if let Some(ids) = self.get(k) {
            consider(ids);
        }
        for skip in 0..w.len() {
            if let Some(ids) = self.get(delete(k, skip)) {
                consider(ids);
            }
        }
        best
    }
}

/// Optimal string alignment distance of `a` and `b` is exactly 1.
fn osa_is_one(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return false;
    }
    let (n, m) = (a.len(), b.len());
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    match n as isize - m as isize {
        0 => {
            // One substitution, or two neighbours swapped.
            a[p + 1..] == b[p + 1..]
                || (p + 1 < n && a[p] == b[p + 1] && a[p + 1] == b[p] && a[p + 2..] == b[p + 2..])
        }
        1 => a[p + 1..] == b[p..],
        -1 => a[p..] == b[p + 1..],
        _ => false,
    }
}

/// The words every speller knows to be words, so never corrects: the
/// bundled sentence model's whole words and the sentiment lexicon's, and
/// their stems (an inflection the vocabulary lacks, "flagged", is a word).
#[derive(Debug, Default)]
pub struct Dictionary {
    /// Words of 16 bytes or fewer, packed.
    known: Set<u128>,
    stems: Set<Box<str>>,
}

impl Dictionary {
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Dictionary {
        let mut d = Dictionary::default();
        for w in words {
            let Some(k) = pack(w.as_bytes()) else {
                continue;
            };
            if d.known.insert(k) && w.bytes().all(|b| b.is_ascii_lowercase()) {
                d.stems.insert(crate::text::stem(w).into());
            }
        }
        d
    }

    /// The bundled models' words (built once).
    pub fn builtin() -> &'static Dictionary {
        static D: std::sync::OnceLock<Dictionary> = std::sync::OnceLock::new();
        D.get_or_init(|| {
            let model = crate::embed::StaticModel::builtin();
            let lexicon = crate::sentiment::Lexicon::builtin();
            Dictionary::new(model.whole_words().map(|(w, _)| w).chain(lexicon.words()))
        })
    }

    /// `w` (lower case) is one of its words as listed.
    pub fn is_word(&self, w: &str) -> bool {
        pack(w.as_bytes()).is_some_and(|k| self.known.contains(&k))
    }

    /// `w` (lower case) is a word, or an inflection of one.
    fn knows(&self, w: &str) -> bool {
        self.is_word(w) || self.stems.contains(crate::text::stem(w).as_str())
    }
}

fn indexable(w: &str) -> bool {
    (MIN_LEN - 1..=MAX_LEN).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_lowercase())
}

/// A rules file's speller: a word that is no word of the [`Dictionary`] is
/// read as the phrase word one edit away — corrections "where they pay",
/// towards what the rules look for.
#[derive(Debug, Clone)]
pub struct Speller {
    /// The rules' words, packed: never corrected (nor are the dictionary's).
    rules_known: Set<u128>,
    rules: Index,
    general: &'static Dictionary,
}

/// One correction: the word as written and as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub written: String,
    pub read: String,
    /// Where `written` starts in the text (bytes).
    pub at: usize,
}

/// Reused buffers of [`Speller::correct`].
#[derive(Debug, Default, Clone)]
pub struct SpellScratch {
    pub fixes: Vec<Fix>,
}

impl Speller {
    /// A speller whose corrections are `rules_words` (the first of equals
    /// wins), knowing the words of `general`.
    pub fn new<'a>(
        rules_words: impl IntoIterator<Item = &'a str>,
        general: &'static Dictionary,
    ) -> Speller {
        let mut s = Speller {
            rules_known: Set::default(),
            rules: Index::default(),
            general,
        };
        for (n, w) in rules_words.into_iter().enumerate() {
            let Some(k) = pack(w.as_bytes()) else {
                continue;
            };
            if s.rules_known.insert(k) && indexable(w) {
                s.rules.add(w, n as f32);
            }
        }
        s.rules.seal();
        s
    }

    /// `text` with its mistyped words read as the words meant, into `out`
    /// (cleared first); the corrections are appended to `scratch.fixes`.
    /// Returns false (and leaves `out` empty) when nothing was corrected.
    pub fn correct(&self, text: &str, out: &mut String, scratch: &mut SpellScratch) -> bool {
        out.clear();
        if self.rules.words.is_empty() {
            return false;
        }
        let b = text.as_bytes();
        let end = crate::text::prefix(text, MAX_BYTES).len();
        let mut copied = 0;
        // Runs of letters that start in the first MAX_BYTES.
        letter_runs(b, end, |start, i| {
            // Only whole words of letters: "x2", "co-op" pieces and words
            // joined to non-ASCII letters are left alone.
            let joined = |j: usize| b.get(j).is_some_and(|c| c.is_ascii_digit() || *c >= 0x80);
            let len = i - start;
            if !(MIN_LEN..=MAX_LEN).contains(&len)
                || joined(i)
                || (start > 0 && joined(start - 1))
                || name_like(b, start, i)
            {
                return;
            }
            let mut lower = [0u8; MAX_LEN];
            for (d, c) in lower.iter_mut().zip(&b[start..i]) {
                *d = c.to_ascii_lowercase();
            }
            let lower = &lower[..len];
            // Letters only: packs (no NUL, at most MAX_LEN bytes).
            let key = pack(lower).unwrap_or_default();
            if self.general.known.contains(&key) || self.rules_known.contains(&key) {
                return;
            }
            // Near a phrase word at all? (Mostly answered by the filter.)
            let Some((k, _)) = self.rules.best(lower) else {
                return;
            };
            // Letters only: ASCII, so UTF-8.
            let w = std::str::from_utf8(lower).unwrap_or_default();
            // Checked last: stemming costs more than the lookups.
            if self.general.knows(w) {
                return;
            }
            let fix = &self.rules.words[k as usize].0;
            if crate::text::stem(w) == crate::text::stem(fix) {
                return;
            }
            out.push_str(&text[copied..start]);
            // The case as written: "INOVICE" -> "INVOICE", "Inovice" -> "Invoice".
            let written = &b[start..i];
            if written.iter().all(u8::is_ascii_uppercase) {
                out.extend(fix.chars().map(|c| c.to_ascii_uppercase()));
            } else if written[0].is_ascii_uppercase() {
                out.push(fix.as_bytes()[0].to_ascii_uppercase() as char);
                out.push_str(&fix[1..]);
            } else {
                out.push_str(fix);
            }
            copied = i;
            scratch.fixes.push(Fix {
                written: text[start..i].to_string(),
                read: fix.to_string(),
                at: start,
            });
        });
        if copied == 0 {
            out.clear();
            return false;
        }
        out.push_str(&text[copied..]);
        true
    }
}

/// `b[start..i]` (letters) reads as a name: a capital and then small
/// letters, inside a sentence (not first in the text, nor after ".", "!",
/// "?", ":" or a line break). "Kevin Kline", "Errol Morris", "Merck" are
/// not "keine", "error", "merci"; "Inovice for November" opening a subject
/// and "INOVICE" in capitals are corrected still.
fn name_like(b: &[u8], start: usize, i: usize) -> bool {
    // (`start < i <= b.len()`: a run of letters.)
    let word = &b[start..i];
    let title = word[0].is_ascii_uppercase() && word[1..].iter().all(u8::is_ascii_lowercase);
    if !title {
        return false;
    }
    // The last byte before the word that is no space or quote.
    let before = b[..start]
        .iter()
        .rev()
        .find(|c| !matches!(c, b' ' | b'\t' | b'"' | b'\'' | b'(' | b'*' | b'-'));
    before.is_some_and(|c| !matches!(c, b'.' | b'!' | b'?' | b':' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speller() -> Speller {
        let d = Box::leak(Box::new(Dictionary::new([
            "hello",
            "reimbursements",
            "flag",
            "admin",
            "lagged",
        ])));
        Speller::new(
            [
                "invoice",
                "penalty",
                "penalties",
                "account",
                "refund",
                "accepted",
                "available",
                "payment",
                "terrible",
                "admit",
                "flagged",
            ],
            d,
        )
    }

    fn fix(s: &Speller, t: &str) -> String {
        let mut out = String::new();
        let mut sc = SpellScratch::default();
        if s.correct(t, &mut out, &mut sc) {
            out
        } else {
            t.to_string()
        }
    }

    #[test]
    fn a_name_inside_a_sentence_is_not_corrected() {
        let at = |t: &str, w: &str| {
            let s = t.find(w).unwrap();
            name_like(t.as_bytes(), s, s + w.len())
        };
        assert!(at("a film by Errol Morris", "Errol"));
        assert!(at("thanks to Kline's acting", "Kline"));
        assert!(!at("Inovice for November", "Inovice"));
        assert!(!at("Hello. Inovice attached", "Inovice"));
        assert!(!at("Subject:\nInovice attached", "Inovice"));
        assert!(!at("the INOVICE is wrong", "INOVICE"));
        assert!(!at("the inovice is wrong", "inovice"));
    }

    #[test]
    fn one_edit_away_is_read_as_the_word_meant() {
        let s = speller();
        assert_eq!(fix(&s, "where is the inovice"), "where is the invoice");
        assert_eq!(fix(&s, "early exit pealties!"), "early exit penalties!");
        assert_eq!(fix(&s, "my acount"), "my account");
        assert_eq!(
            fix(&s, "Paymnet methods, availabe?"),
            "Payment methods, available?"
        );
        assert_eq!(fix(&s, "THE INOVICE"), "THE INVOICE");
        assert_eq!(fix(&s, "terible service"), "terrible service");
        assert_eq!(fix(&s, "ur cacepted options"), "ur accepted options");
    }

    #[test]
    fn any_text_is_read_without_panic_and_changes_only_where_it_says() {
        let s = speller();
        let pieces = [
            "inovice", "INOVICE", "Inovice", "pealties", "acount", "invoice", "é", "ß", " ", ",",
            "2", "\u{2019}", "\n", "a", "xyzzyq", "payment", "paymnt",
        ];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut fixed = 0;
        for _ in 0..20_000 {
            let mut t = String::new();
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            for _ in 0..(x >> 60) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.push_str(pieces[(x % pieces.len() as u64) as usize]);
                t.push_str([" ", " ", ". ", "2", "é", "\n"][(x >> 20) as usize % 6]);
            }
            let mut out = String::new();
            let mut sc = SpellScratch::default();
            if s.correct(&t, &mut out, &mut sc) {
                assert!(!sc.fixes.is_empty());
                // Undoing the corrections gives the text back: each fix
                // replaced exactly its word, the rest is copied as it was.
                let mut back = String::new();
                let mut from = 0; // in `out`
                let mut orig = 0; // in `t`
                for f in &sc.fixes {
                    assert!(f.written.bytes().all(|c| c.is_ascii_alphabetic()), "{t:?}");
                    assert!(f
                        .written
                        .eq_ignore_ascii_case(&t[f.at..f.at + f.written.len()]));
                    let same = f.at - orig;
                    back.push_str(&out[from..from + same]);
                    assert!(out[from + same..].to_ascii_lowercase().starts_with(&f.read));
                    back.push_str(&f.written);
                    from += same + f.read.len();
                    orig = f.at + f.written.len();
                }
                back.push_str(&out[from..]);
                assert_eq!(back, t);
                fixed += 1;
            } else {
                assert!(out.is_empty() && sc.fixes.is_empty(), "{t:?}");
            }
        }
        assert!(fixed > 1000, "{fixed}");
    }

    #[test]
    fn words_short_known_far_or_joined_stay() {
        let s = speller();
        for t in [
            "hello there",
            "the fes",
            "invoices",
            "reimbursements",
            "invxxce",
            "inovice2",
            "çinovice",
            "refund",
            "flags",
            "admin",
        ] {
            assert_eq!(fix(&s, t), t, "{t}");
        }
        for (w, i, want) in [
            ("hello", 0, "ello"),
            ("hello", 2, "helo"),
            ("hello", 4, "hell"),
            ("abcdefghijklmnop", 15, "abcdefghijklmno"),
            ("abcdefghijklmnop", 0, "bcdefghijklmnop"),
        ] {
            assert_eq!(
                delete(pack(w.as_bytes()).unwrap(), i),
                pack(want.as_bytes()).unwrap(),
                "{w} {i}"
            );
        }
        assert!(osa_is_one(b"abcd", b"abdc"));
        assert!(osa_is_one(b"abc", b"abcd"));
        assert!(!osa_is_one(b"abc", b"abc"));
        assert!(!osa_is_one(b"abcd", b"badc"));
    }
}
