//! Text detection: one pass of one Aho-Corasick automaton over subject and
//! body finds every phrase the rules care about — category and severity
//! phrases, sentiment words, negators and the phrases conditions ask for.
//!
//! Matching is ASCII case-insensitive, leftmost-longest, on word boundaries (a
//! match must not be glued to a letter or digit on either side). A negator
//! ("not", "never") negates a sentiment or severity phrase that follows it
//! within `negation_window` words in the same clause. Intensity counts
//! exclamation marks and words in capitals.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// What a phrase means to the rules. One phrase may mean several things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Category(u16),
    Severity(u16),
    Negative,
    Positive,
    Expectation,
    Negator,
    /// A phrase a `phrases_any` condition asks for (index into the phrase set).
    Phrase(u16),
}

/// Which phrase set is being built; see [`DetectorBuilder::add`].
#[derive(Debug)]
pub struct DetectorBuilder {
    patterns: Vec<String>,
    targets: Vec<Vec<Target>>,
}

impl DetectorBuilder {
    pub fn new() -> Self {
        DetectorBuilder {
            patterns: vec![],
            targets: vec![],
        }
    }

    /// Adds a phrase with its meaning. Phrases are normalised (trimmed, inner
    /// whitespace collapsed, ASCII lower-cased); the same phrase added twice
    /// carries both meanings.
    pub fn add(&mut self, phrase: &str, target: Target) {
        let norm = normalise(phrase);
        if norm.is_empty() {
            return;
        }
        match self.patterns.iter().position(|p| *p == norm) {
            Some(i) => {
                if !self.targets[i].contains(&target) {
                    self.targets[i].push(target)
                }
            }
            None => {
                self.patterns.push(norm);
                self.targets.push(vec![target]);
            }
        }
    }

    pub fn build(self, negation_window: u32) -> Result<Detector, String> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&self.patterns)
            .map_err(|e| e.to_string())?;
        let weights = self
            .patterns
            .iter()
            .map(|p| p.split(' ').count() as f32)
            .collect();
        Ok(Detector {
            ac,
            patterns: self.patterns,
            targets: self.targets,
            weights,
            negation_window,
        })
    }
}

impl Default for DetectorBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// Lower-cases ASCII, trims, collapses runs of whitespace to one space.
pub fn normalise(phrase: &str) -> String {
    phrase
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// The compiled automaton.
#[derive(Debug, Clone)]
pub struct Detector {
    ac: AhoCorasick,
    patterns: Vec<String>,
    targets: Vec<Vec<Target>>,
    /// Weight of a phrase: its number of words.
    weights: Vec<f32>,
    negation_window: u32,
}

/// One phrase found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index of the phrase (see [`Detector::phrase`]).
    pub pattern: u32,
    /// Weight: words in the phrase, doubled in the subject.
    pub weight: f32,
    pub negated: bool,
    pub in_subject: bool,
}

/// Everything one scan found. Reused between tickets to avoid allocation.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub hits: Vec<Hit>,
    pub exclamations: u32,
    pub caps_words: u32,
}

impl Scan {
    pub fn clear(&mut self) {
        self.hits.clear();
        self.exclamations = 0;
        self.caps_words = 0;
    }
}

impl Detector {
    pub fn phrase(&self, pattern: u32) -> &str {
        &self.patterns[pattern as usize]
    }

    pub fn targets(&self, pattern: u32) -> &[Target] {
        &self.targets[pattern as usize]
    }

    /// All phrases with their meanings, for validation.
    pub fn phrases(&self) -> impl Iterator<Item = (&str, &[Target])> {
        self.patterns
            .iter()
            .map(String::as_str)
            .zip(self.targets.iter().map(Vec::as_slice))
    }

    /// Scans one text (subject or body) and appends what it found to `out`.
    pub fn scan(&self, text: &str, in_subject: bool, out: &mut Scan) {
        let bytes = text.as_bytes();
        // End of the most recent negator, if any, still in reach.
        let mut negator_end: Option<usize> = None;
        for m in self.ac.find_iter(text) {
            let (s, e) = (m.start(), m.end());
            if !boundary_before(bytes, s) || !boundary_after(bytes, e) {
                continue;
            }
            let pid = m.pattern().as_usize();
            let targets = &self.targets[pid];
            let negated = match negator_end {
                Some(ne) => within_window(&bytes[ne..s], self.negation_window),
                None => false,
            };
            if targets.contains(&Target::Negator) {
                negator_end = Some(e);
                if targets.len() == 1 {
                    continue;
                }
            }
            let weight = self.weights[pid] * if in_subject { 2.0 } else { 1.0 };
            out.hits.push(Hit {
                pattern: pid as u32,
                weight,
                negated,
                in_subject,
            });
        }
        count_intensity(bytes, out);
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b == b'_'
}

fn boundary_before(bytes: &[u8], start: usize) -> bool {
    start == 0 || !is_word_byte(bytes[start - 1]) || !is_word_byte(bytes[start])
}

fn boundary_after(bytes: &[u8], end: usize) -> bool {
    end == bytes.len() || !is_word_byte(bytes[end]) || !is_word_byte(bytes[end - 1])
}

/// True when `gap` (text between a negator and a phrase) holds at most
/// `window` words and no clause break.
fn within_window(gap: &[u8], window: u32) -> bool {
    let mut words = 0u32;
    let mut in_word = false;
    for &b in gap {
        match b {
            b'.' | b'!' | b'?' | b';' | b',' | b':' | b'\n' => return false,
            _ if is_word_byte(b) || b == b'\'' => {
                if !in_word {
                    words += 1;
                    if words > window {
                        return false;
                    }
                    in_word = true;
                }
            }
            _ => in_word = false,
        }
    }
    true
}

/// Counts `!` and words of four or more ASCII letters written in capitals.
fn count_intensity(bytes: &[u8], out: &mut Scan) {
    let mut run = 0u32; // letters in the current word
    let mut upper = true; // all letters so far upper case
    for &b in bytes {
        if b.is_ascii_alphabetic() {
            run += 1;
            upper &= b.is_ascii_uppercase();
            continue;
        }
        if b == b'!' {
            out.exclamations += 1;
        }
        if run >= 4 && upper {
            out.caps_words += 1;
        }
        run = 0;
        upper = true;
    }
    if run >= 4 && upper {
        out.caps_words += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        let mut b = DetectorBuilder::new();
        b.add("down", Target::Category(0));
        b.add("Service   Down", Target::Category(0));
        b.add("invoice", Target::Category(1));
        b.add("not", Target::Negator);
        b.add("never", Target::Negator);
        b.add("working", Target::Expectation);
        b.add("arrives", Target::Expectation);
        b.add("happy", Target::Positive);
        b.add("urgent", Target::Severity(0));
        b.build(2).unwrap()
    }

    fn scan(d: &Detector, text: &str) -> Scan {
        let mut s = Scan::default();
        d.scan(text, false, &mut s);
        s
    }

    fn found(d: &Detector, s: &Scan) -> Vec<(String, bool)> {
        s.hits
            .iter()
            .map(|h| (d.phrase(h.pattern).to_string(), h.negated))
            .collect()
    }

    #[test]
    fn case_insensitive_longest_phrase_on_word_boundaries() {
        let d = detector();
        let s = scan(&d, "SERVICE DOWN since noon; downtime, lowdown, invoices");
        assert_eq!(found(&d, &s), vec![("service down".to_string(), false)]);
        assert_eq!(s.hits[0].weight, 2.0);
    }

    #[test]
    fn negation_within_window_and_clause() {
        let d = detector();
        let s = scan(&d, "The export is not working and the mail never really arrives.");
        assert_eq!(
            found(&d, &s),
            vec![("working".to_string(), true), ("arrives".to_string(), true)]
        );
        let s = scan(&d, "Not sure why, but it is working. I am not at all very happy");
        assert_eq!(
            found(&d, &s),
            vec![("working".to_string(), false), ("happy".to_string(), false)]
        );
    }

    #[test]
    fn subject_counts_double() {
        let d = detector();
        let mut s = Scan::default();
        d.scan("invoice", true, &mut s);
        assert_eq!(s.hits[0].weight, 2.0);
        assert!(s.hits[0].in_subject);
    }

    #[test]
    fn intensity_counts_exclamations_and_shouting() {
        let d = detector();
        let s = scan(&d, "THIS IS BROKEN!!! Fix it NOW, the API is DOWN!");
        assert_eq!(s.exclamations, 4);
        // THIS, BROKEN, DOWN (IS, NOW, API are shorter than four letters).
        assert_eq!(s.caps_words, 3);
    }

    #[test]
    fn window_counts_words_and_stops_at_clause_breaks() {
        assert!(within_window(b" ", 0));
        assert!(within_window(b" really ", 1));
        assert!(!within_window(b" really truly ", 1));
        assert!(!within_window(b", ", 3));
        assert!(within_window(b" don't ", 1));
    }

    #[test]
    fn duplicate_phrase_carries_both_meanings() {
        let mut b = DetectorBuilder::new();
        b.add("breach", Target::Category(3));
        b.add("BREACH", Target::Phrase(0));
        let d = b.build(2).unwrap();
        assert_eq!(d.targets(0), &[Target::Category(3), Target::Phrase(0)]);
    }
}
