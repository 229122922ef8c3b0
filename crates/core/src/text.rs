//! Text detection: one pass of one Aho-Corasick automaton over subject and
//! body finds every phrase the rules care about — category and severity
//! phrases, sentiment words, negators and the phrases conditions ask for.
//!
//! Matching is ASCII case-insensitive, leftmost-longest, on word boundaries (a
//! match must not be glued to a letter or digit on either side), and a phrase
//! matches its inflections: its words are expanded at compile time into the
//! forms that share their Snowball stem ([`phrase_forms`]). A negator
//! ("not", "never") negates a sentiment, severity or category phrase that
//! follows it within `negation_window` words in the same clause (a
//! category's negated phrases count only so; its disowned phrases only when
//! the customer denies having done them, [`Target::DisownedCategory`]).
//! Intensity counts exclamation marks and words in capitals.

use std::borrow::Cow;

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};

/// What a phrase means to the rules. One phrase may mean several things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Category(u16),
    /// A phrase of the category that counts only when negated ("don't
    /// recognize" for security).
    NegatedCategory(u16),
    /// An action of the category that counts only when the customer
    /// disowns it: denied by them right before it, the thing acted on shown
    /// ("a payment I didn't make", "I didn't make this payment" for
    /// security; see [`acted_on_is_shown`]).
    DisownedCategory(u16),
    /// Someone other than the customer ("someone", "somebody") that counts
    /// only acting on the customer's things ("someone used my card", "a
    /// payment made by someone else"; see [`stranger_acts`]).
    StrangerCategory(u16),
    /// A phrase of how the customer asks ("how do i"), not what about: it
    /// counts for its category only when no other category's phrase is
    /// found.
    AskingCategory(u16),
    Severity(u16),
    /// A severity cue: a word used loosely for the level (see
    /// `severity.levels[].cues`).
    SeverityCue(u16),
    /// A verb of what a problem does to the customer's business ("affect",
    /// "disrupt"): with one of its scopes a few words after it in its clause
    /// ("affecting our team"), a phrase of the rules' impact level
    /// (`severity.stated_impact`).
    ImpactVerb,
    /// A word of a near time ("today", "friday"): with a marker of need a
    /// few words before it in its clause ("needed by Friday", "due
    /// tomorrow"), a phrase of the rules' deadline level
    /// (`severity.deadline`).
    DeadlineTime,
    /// A word of the customer's data ("records", "files"): with a word of
    /// loss said of it in its clause ("the records are missing", "lost all
    /// our files"), a phrase of the rules' data-loss level
    /// (`severity.data_loss`).
    LossThing,
    /// A word of loss (`severity.data_loss.losses`, matched as phrases
    /// are): where none is found, no thing of data is read for one.
    LossWord,
    /// A word of the whole (`severity.stated_impact.wholes`: "all",
    /// "every"), read with the scope after it.
    Whole,
    Negative,
    Positive,
    /// Politeness ("thanks"): positive only in a ticket with no negative
    /// evidence, so that a polite complaint stays a complaint.
    Polite,
    Expectation,
    Negator,
    /// A word standing for no one or nothing as a clause's subject
    /// ("nobody", "none", "nothing"): it negates the expectation its
    /// clause's verb names, past the rest of the subject ("none of the links
    /// work", "nobody on the team can log in"), and nothing else ("None of
    /// these problems have been fixed" keeps its problem).
    SubjectNegator,
    /// A phrase a `phrases_any` condition asks for (index into the phrase set).
    Phrase(u16),
    /// An idiom (`idioms`): words that mean something else together ("drop
    /// down", "error free"). It hides the category, severity and condition
    /// phrases inside it ("down" in "the drop down is empty"), as a longer
    /// phrase of a family hides a shorter one, and counts for nothing.
    Idiom,
}

/// Which phrase set is being built; see [`DetectorBuilder::add`].
#[derive(Debug)]
pub struct DetectorBuilder {
    patterns: Vec<String>,
    shown: Vec<String>,
    targets: Vec<Vec<Target>>,
    /// Each pattern's index in `patterns` (a form met again adds its target
    /// there: thousands of forms, so not by a search of `patterns`).
    index: std::collections::HashMap<String, usize, foldhash::fast::FixedState>,
    /// Every phrase added (normalised, as written) with its target, in order.
    added: Vec<(String, Target)>,
}

impl DetectorBuilder {
    pub fn new() -> Self {
        DetectorBuilder {
            patterns: vec![],
            shown: vec![],
            targets: vec![],
            index: Default::default(),
            added: vec![],
        }
    }

    /// Adds a phrase with its meaning. Phrases are normalised (trimmed, inner
    /// whitespace collapsed, ASCII lower-cased); the same phrase added twice
    /// carries both meanings.
    ///
    /// A phrase written once also matches its inflections: every word is
    /// expanded into the forms that share its Snowball stem ("cancel" →
    /// "cancels", "cancelled", "canceling", "cancellation"; "outage" →
    /// "outages"), at compile time, so matching stays one pass over the
    /// ticket's bytes with no per-ticket stemming. Reasons show the phrase
    /// as the rules wrote it.
    pub fn add(&mut self, phrase: &str, target: Target) {
        let norm = normalise(phrase);
        if norm.is_empty() {
            return;
        }
        self.added.push((norm.clone(), target));
        let disowned = matches!(target, Target::DisownedCategory(_));
        // Irregular verb forms for what a ticket is about (categories,
        // severity, conditions), not for the sentiment's phrases: "sent" as
        // "send" made every "not working, sent Monday" of a quoted mail
        // header a second failure.
        let irregular = !matches!(target, Target::Idiom) && target.family() != FAMILY_SENTIMENT;
        for form in phrase_forms(&norm, irregular) {
            // An action is disowned in its verb's forms only ("made",
            // "requested"), not its nouns ("authorization", "approval").
            if disowned && !verb_form(&form, &norm) {
                continue;
            }
            // Typographic apostrophes are common in mail: "can’t" is "can't".
            if form.contains('\'') {
                self.add_one(form.replace('\'', "\u{2019}"), &norm, target);
            } else if form.contains('\u{2019}') {
                self.add_one(form.replace('\u{2019}', "'"), &norm, target);
            }
            // So is a negation written without its apostrophe: "doesnt".
            if let Some(bare) = without_apostrophe(&form) {
                self.add_one(bare, &norm, target);
            }
            // Two words are often written as one compound: "log-in",
            // "set-up", "drop-down", "fed-up".
            if form.matches(' ').count() == 1 {
                self.add_one(form.replace(' ', "-"), &norm, target);
            }
            self.add_one(form, &norm, target);
        }
    }

    fn add_one(&mut self, norm: String, shown: &str, target: Target) {
        match self.index.get(&norm) {
            // (`index` holds indexes of `targets`, pushed with their pattern.)
            Some(&i) => {
                if !self.targets[i].contains(&target) {
                    self.targets[i].push(target)
                }
            }
            None => {
                self.index.insert(norm.clone(), self.patterns.len());
                self.patterns.push(norm);
                self.shown.push(shown.to_string());
                self.targets.push(vec![target]);
            }
        }
    }

    /// Every phrase added so far (normalised, as written) with its target.
    pub fn added(&self) -> &[(String, Target)] {
        &self.added
    }

    /// Every phrase added so far (normalised, as written) with its target —
    /// what the rules look for, for the parts that read the same words (the
    /// sentiment lexicon's topics, the speller's corrections) — handed over
    /// rather than copied: the builder does not need them to build.
    pub fn take_added(&mut self) -> Vec<(String, Target)> {
        std::mem::take(&mut self.added)
    }

    pub fn build(self, negation_window: u32) -> Result<Detector, String> {
        // aho-corasick builds the automaton (trie, failure links, full DFA);
        // `Table::from_dfa` repacks it for `scan`'s own loop.
        let ac = aho_corasick::dfa::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&self.patterns)
            .map_err(|e| e.to_string())?;
        let table = Table::from_dfa(&ac);
        // Weighed as written: an inflected form ("having") weighs what its
        // phrase ("have") weighs.
        let weights = self.shown.iter().map(|p| weight(p)).collect();
        let families = self
            .targets
            .iter()
            .zip(&self.patterns)
            .map(|(ts, p)| {
                let plain = ts
                    .iter()
                    .any(|t| matches!(t, Target::Category(_) | Target::AskingCategory(_)));
                let negated = ts.iter().any(|t| matches!(t, Target::NegatedCategory(_)));
                let disowned = ts.iter().any(|t| matches!(t, Target::DisownedCategory(_)));
                let stranger = ts.iter().any(|t| matches!(t, Target::StrangerCategory(_)));
                let mut bits = 0;
                if stranger {
                    bits |= STRANGER;
                    if !plain && !negated && !disowned {
                        bits |= STRANGER_ONLY;
                    }
                }
                if negated || disowned {
                    bits |= NEGATABLE;
                }
                if (negated || disowned) && !plain {
                    bits |= NEGATED_ONLY;
                }
                if disowned {
                    bits |= DISOWNED;
                    if !plain && !negated {
                        bits |= DISOWNED_ONLY;
                    }
                }
                if p.split(' ').any(|w| CUSTOMER_NAMED.contains(&w)) {
                    bits |= NAMES_CUSTOMER;
                }
                ts.iter().fold(bits, |m, t| {
                    m | if *t == Target::Idiom {
                        IDIOM_FAMILIES | IDIOM
                    } else {
                        1 << t.family()
                    }
                })
            })
            .collect();
        Ok(Detector {
            table,
            families,
            shown: self.shown,
            patterns: self.patterns,
            targets: self.targets,
            weights,
            negation_window,
        })
    }
}

/// Grammatical words that say nothing of a request's topic: a phrase's
/// weight does not count them ("how do i" weighs what "docs" weighs).
/// Negators are not among them ("not working" weighs two).
const GRAMMATICAL: &[&str] = &[
    "a", "about", "am", "an", "and", "are", "as", "at", "be", "been", "by", "can", "could", "did",
    "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "i'd",
    "i'm", "i've", "if", "in", "into", "is", "it", "it's", "its", "may", "me", "might", "must",
    "my", "of", "off", "on", "or", "our", "out", "shall", "she", "should", "that", "that's", "the",
    "their", "them", "these", "they", "this", "those", "to", "up", "us", "was", "we", "we're",
    "we've", "were", "what", "what's", "when", "where", "which", "who", "why", "will", "with",
    "would", "you", "you're", "your",
];

/// `w` (any case) is one of [`GRAMMATICAL`]'s words.
pub(crate) fn grammatical(w: &str) -> bool {
    one_of(w, GRAMMATICAL)
}

/// A phrase's weight: its words but the grammatical ones, at least one
/// (`phrase` normalised: lower case, single spaces; a typographic
/// apostrophe is read as `'`).
fn weight(phrase: &str) -> f32 {
    let content = phrase
        .split(' ')
        .filter(|w| {
            let w = w.replace('\u{2019}', "'");
            GRAMMATICAL.binary_search(&w.as_str()).is_err()
        })
        .count();
    content.max(1) as f32
}

/// The phrase automaton repacked for speed.
///
/// Through `AhoCorasick` the default for a few hundred phrases is a
/// contiguous NFA behind a dynamic call per byte; the crate's own full DFA
/// pads every state to a power-of-two stride of byte classes and keeps
/// upper- and lower-case letters in separate classes: 842 KB for the shipped
/// rules (1,627 states), more than a core's L2 cache, and the scan stalled
/// on the transition load. Here the classes are merged wherever two bytes
/// lead to the same state from every state (so `A` and `a` share one), the
/// stride is the exact class count, and states are renumbered so that every
/// matching state comes after every other: "is this a match" is one compare
/// with the next state's id. Ids are premultiplied by the stride (the next
/// state is `next[id + class]`, no multiply on the critical path).
#[derive(Debug, Clone)]
struct Table {
    /// Byte → class.
    classes: [u8; 256],
    /// Transitions, `stride` per state, premultiplied ids.
    next: Vec<u32>,
    start: u32,
    /// Ids at or above this are matching states.
    first_match: u32,
    stride: u32,
    /// The longest phrase, in bytes.
    max_len: usize,
    /// Per matching state (`(id - first_match) / stride`): its range in
    /// `matches`.
    match_ranges: Vec<(u32, u32)>,
    /// (pattern, pattern length in bytes).
    matches: Vec<(u32, u32)>,
}

impl Table {
    fn from_dfa(ac: &DFA) -> Table {
        let start = ac
            .start_state(Anchored::No)
            .expect("an unanchored DFA has an unanchored start state");
        // Every reachable state, breadth first from the start.
        // `seen[id]`: the state's place in `order` (`usize::MAX`: not
        // reached yet), by the automaton's state id — a dense integer below
        // its table's size, so a vector, not a map (hundreds of thousands of
        // lookups).
        let mut order = vec![start];
        let mut seen = vec![usize::MAX; start.as_usize() + 1];
        seen[start.as_usize()] = 0;
        let mut i = 0;
        while i < order.len() {
            let sid = order[i];
            i += 1;
            for b in 0..=255u8 {
                let next = ac.next_state(Anchored::No, sid, b);
                let n = next.as_usize();
                if n >= seen.len() {
                    seen.resize(n + 1, usize::MAX);
                }
                // (`seen` is longer than `n`: grown just above if it was not.)
                if seen[n] == usize::MAX {
                    seen[n] = order.len();
                    order.push(next);
                }
            }
        }
        // Classes: bytes whose columns are identical.
        let mut classes = [0u8; 256];
        let mut columns: Vec<Vec<aho_corasick::automaton::StateID>> = Vec::new();
        let mut representative = Vec::new();
        for b in 0..=255u8 {
            let col: Vec<_> = order
                .iter()
                .map(|&s| ac.next_state(Anchored::No, s, b))
                .collect();
            let class = match columns.iter().position(|c| *c == col) {
                Some(k) => k,
                None => {
                    columns.push(col);
                    representative.push(b);
                    columns.len() - 1
                }
            };
            classes[b as usize] = class as u8;
        }
        let stride = columns.len();
        let is_match = |s| ac.is_special(s) && ac.is_match(s);
        // New numbering: non-matching states (start first), then matching.
        let mut renumbered: Vec<usize> = (0..order.len()).collect();
        renumbered.sort_by_key(|&k| (is_match(order[k]), k));
        let mut new_index = vec![0usize; order.len()];
        for (new, &old) in renumbered.iter().enumerate() {
            new_index[old] = new;
        }
        let first_match = renumbered
            .iter()
            .position(|&k| is_match(order[k]))
            .unwrap_or(order.len());
        let mut next = vec![0u32; order.len() * stride];
        let mut match_ranges = Vec::new();
        let mut matches = Vec::new();
        for (new, &old) in renumbered.iter().enumerate() {
            let sid = order[old];
            for (class, &b) in representative.iter().enumerate() {
                // Every state reached is in `seen` (the walk above).
                let to = seen[ac.next_state(Anchored::No, sid, b).as_usize()];
                next[new * stride + class] = (new_index[to] * stride) as u32;
            }
            if new >= first_match {
                let from = matches.len() as u32;
                for k in 0..ac.match_len(sid) {
                    let pid = ac.match_pattern(sid, k);
                    matches.push((pid.as_u32(), ac.pattern_len(pid) as u32));
                }
                match_ranges.push((from, matches.len() as u32));
            }
        }
        Table {
            classes,
            next,
            start: (new_index[0] * stride) as u32,
            first_match: (first_match * stride) as u32,
            stride: stride as u32,
            max_len: ac.max_pattern_len(),
            match_ranges,
            matches,
        }
    }

    /// Runs from `id` at `bytes[i]` to just after the next byte that leads
    /// into a matching state, or to the end; returns the position and the
    /// state. Kept apart from the caller so that the loop lives in
    /// registers: the state is a chain of dependent loads, and a spill to
    /// the stack in the middle of it cost as much as the load.
    #[inline(never)]
    fn run(&self, bytes: &[u8], mut i: usize, mut id: u32) -> (usize, u32) {
        while let Some(&b) = bytes.get(i) {
            i += 1;
            id = self.next[(id + u32::from(self.classes[b as usize])) as usize];
            if id >= self.first_match {
                break;
            }
        }
        (i, id)
    }

    /// [`Table::run`] for two walks at once: `a` over `bytes[ia..a_end]`
    /// and `b` from `bytes[ib..]`, in step, until a step leads either into
    /// a matching state or the first walk reaches `a_end` (the second is
    /// always ahead of it: it started `max_len` before `a_end` and ends at
    /// the end of the text).
    #[inline(never)]
    fn run_pair(
        &self,
        bytes: &[u8],
        mut ia: usize,
        mut a: u32,
        a_end: usize,
        mut ib: usize,
        mut b: u32,
    ) -> (usize, u32, usize, u32) {
        let steps = (a_end - ia).min(bytes.len() - ib);
        let (xs, ys) = (&bytes[ia..ia + steps], &bytes[ib..ib + steps]);
        for (&x, &y) in xs.iter().zip(ys) {
            a = self.next[(a + u32::from(self.classes[x as usize])) as usize];
            b = self.next[(b + u32::from(self.classes[y as usize])) as usize];
            ia += 1;
            ib += 1;
            if a >= self.first_match || b >= self.first_match {
                break;
            }
        }
        (ia, a, ib, b)
    }

    /// The matches of a matching state.
    fn matches_of(&self, id: u32) -> &[(u32, u32)] {
        let (from, to) = self.match_ranges[((id - self.first_match) / self.stride) as usize];
        &self.matches[from as usize..to as usize]
    }
}

impl Default for DetectorBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// The English Snowball (Porter 2) stemmer.
fn stemmer() -> &'static rust_stemmers::Stemmer {
    static S: std::sync::OnceLock<rust_stemmers::Stemmer> = std::sync::OnceLock::new();
    S.get_or_init(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English))
}

/// The stem of one lower-case word (itself when it is not a plain word of
/// letters: numbers, codes, contractions stay as written).
pub fn stem(word: &str) -> String {
    if word.len() < 3 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return word.to_string();
    }
    stemmer().stem(word).into_owned()
}

/// A phrase's comparison key after normalisation: its words' stems. Two
/// phrases with the same key match the same text ("error" and "errors").
pub fn stem_key(phrase: &str) -> String {
    normalise(phrase)
        .split(' ')
        .map(stem)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words that share a Snowball stem with a shorter word but are other
/// words, never its forms: "several" is not "severe" (a quantity, not a
/// degree), nor "severity" (the word for the scale, "the severity of
/// this"), "majority" "major", "minority" "minor", "practical"
/// "practice", "generality" "general", "technicality" "technical",
/// "exceptional" "exception" (praise, not an error: "the service was
/// exceptional").
/// Sorted.
const NOT_FORMS: &[&str] = &[
    "exceptional",
    "generality",
    "majority",
    "minority",
    "practical",
    "several",
    "severity",
    "technicality",
];

/// Irregular verbs: each group is one verb's forms, its base first, which a
/// stemmer does not join ("break", "broke", "broken"). A phrase written
/// with one of them matches all, the base only when written so (the base
/// is often a noun: "a page break", "on hold", "a steal"). Only verbs whose forms are no other
/// common word: not "find" ("found" a company), "leave" ("left"), "see"
/// ("saw"), "feed" ("fed"), "lie" ("lay"), "build" ("building"), "stick"
/// ("stuck" is a state), nor "bring" ("bring back" asks for something,
/// "brought back" reports it). For [`phrase_forms`].
const IRREGULAR: &[&[&str]] = &[
    &["begin", "begins", "beginning", "began", "begun"],
    &["break", "breaks", "breaking", "broke", "broken"],
    &["buy", "buys", "buying", "bought"],
    &["catch", "catches", "catching", "caught"],
    &["choose", "chooses", "choosing", "chose", "chosen"],
    &["come", "comes", "coming", "came"],
    &["drive", "drives", "driving", "drove", "driven"],
    &["fall", "falls", "falling", "fell", "fallen"],
    &["forget", "forgets", "forgetting", "forgot", "forgotten"],
    &["freeze", "freezes", "freezing", "froze", "frozen"],
    &["get", "gets", "getting", "got", "gotten"],
    &["give", "gives", "giving", "gave", "given"],
    &["go", "goes", "going", "went", "gone"],
    &["hang", "hangs", "hanging", "hung"],
    &["hide", "hides", "hiding", "hid", "hidden"],
    &["hold", "holds", "holding", "held"],
    &["keep", "keeps", "keeping", "kept"],
    &["know", "knows", "knowing", "knew", "known"],
    &["lose", "loses", "losing", "lost"],
    &["make", "makes", "making", "made"],
    &["pay", "pays", "paying", "paid"],
    &["run", "runs", "running", "ran"],
    &["sell", "sells", "selling", "sold"],
    &["send", "sends", "sending", "sent"],
    &["show", "shows", "showing", "showed", "shown"],
    &["speak", "speaks", "speaking", "spoke", "spoken"],
    &["spend", "spends", "spending", "spent"],
    &["steal", "steals", "stealing", "stole", "stolen"],
    &["take", "takes", "taking", "took", "taken"],
    &["tell", "tells", "telling", "told"],
    &["think", "thinks", "thinking", "thought"],
    &["throw", "throws", "throwing", "threw", "thrown"],
    &["understand", "understands", "understanding", "understood"],
    &["win", "wins", "winning", "won"],
    &[
        "withdraw",
        "withdraws",
        "withdrawing",
        "withdrew",
        "withdrawn",
    ],
    &["write", "writes", "writing", "wrote", "written"],
];

/// Suffixes tried on a word (and on its stem) to find its inflections.
const SUFFIXES: [&str; 19] = [
    "", "s", "es", "ed", "d", "ing", "er", "ers", "ly", "ion", "ions", "ation", "ations", "ment",
    "ments", "ies", "ied", "ity", "al",
];

/// The forms of one word that share its stem and start like it (its
/// inflections and derivations: "cancel" → "cancelled", "cancellation"),
/// the word itself first (at most 32). Words that are not plain lower-case letters, or shorter than 3,
/// have only themselves — but a word of two letters also has its plural
/// when that shares its stem ("ip" → "ips", "id" → "ids"), as
/// [`stem_key`] reads them alike.
pub fn word_forms(word: &str) -> Vec<String> {
    word_forms_where(word, |_| true)
}

/// [`word_forms`] of `word` among the candidates `keep` accepts: `keep` is
/// asked before a candidate is stemmed (the stemmer is the cost, ~4,000
/// instructions a word), so a caller that wants few of the forms (words
/// of a vocabulary) asks for few stems. The word and the base of its
/// plural come first as in [`word_forms`], kept or not.
pub(crate) fn word_forms_where(word: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out = vec![word.to_string()];
    let lower = word.bytes().all(|b| b.is_ascii_lowercase());
    if word.len() < 3 || !lower {
        if word.len() == 2 && lower {
            let plural = format!("{word}s");
            if keep(&plural) && stem(&plural) == word {
                out.push(plural);
            }
        }
        return out;
    }
    let target = stem(word);
    // Forms grow from the word as written, never from its stem: the stem of
    // "helpful" is "help" and of "important" is "import", which are other
    // words. A word written with a plural or third-person ending grows
    // from its base as well, when the base has the word's stem: "fails"
    // from "fail" ("failed", "failing"), "crashes" from "crash", "docs"
    // from "doc"; not "news" from "new", nor "ours" from "our" (a
    // grammatical word is no base). (Past forms are not cut back:
    // "pleased" and "please" share a stem. Nor can a plural with a meaning
    // of its own be told apart: "customs" grows "customer".)
    let mut roots = vec![word];
    // One base, the word without its "s" ("crashes" → "crashe", whose
    // e-drop gives "crash", "crashed", "crashing").
    if let Some(x) = word.strip_suffix('s') {
        if x.len() >= 3 && stem(x) == target && GRAMMATICAL.binary_search(&x).is_err() {
            roots.push(x);
        }
    }
    let mut bases = Vec::new();
    for root in roots {
        if !out.iter().any(|f| f == root) {
            out.push(root.to_string());
        }
        bases.push(root.to_string());
        // e-drop ("charge" → "charging"), y → i ("apply" → "applies"), a
        // doubled final consonant ("cancel" → "cancelled", "stop" →
        // "stopped").
        if let Some(x) = root.strip_suffix('e') {
            bases.push(x.to_string());
        }
        if let Some(x) = root.strip_suffix('y') {
            bases.push(x.to_string());
        }
        if let Some(&last) = root.as_bytes().last() {
            if !b"aeiouwxy".contains(&last) {
                bases.push(format!("{root}{}", last as char));
            }
        }
    }
    // One buffer for the candidates (a string is made only for a form).
    let mut c = String::new();
    for b in &bases {
        for suf in SUFFIXES {
            c.clear();
            c.push_str(b);
            c.push_str(suf);
            if c.len() >= 3
                && !out.contains(&c)
                && keep(&c)
                && stem(&c) == target
                && NOT_FORMS.binary_search(&c.as_str()).is_err()
            {
                out.push(c.clone());
                if out.len() == 32 {
                    return out;
                }
            }
        }
    }
    out
}

/// True when every word of `form` (a form of the phrase `phrase`, see
/// [`phrase_forms`]) is its word as written or an inflection of it as a
/// verb: -s, -es, -ed, -d, -ing on the word or on its base with a final e
/// dropped or a consonant doubled ("create" → "creating", "stop" →
/// "stopped").
pub(crate) fn verb_form(form: &str, phrase: &str) -> bool {
    /// The verb's endings among [`SUFFIXES`].
    const VERB_ENDINGS: [&str; 5] = ["s", "es", "ed", "d", "ing"];
    form.split(' ').zip(phrase.split(' ')).all(|(f, w)| {
        f == w
            || VERB_ENDINGS.iter().any(|end| {
                f.strip_suffix(end).is_some_and(|b| {
                    !b.is_empty()
                        && (w.starts_with(b) || (b.len() == w.len() + 1 && b.starts_with(w)))
                })
            })
    })
}

/// `phrase` with its negative contractions written without the apostrophe
/// ("doesn't work" → "doesnt work", "can’t" → "cant"), as customers often
/// type them; `None` when it has none. Only "n't": other contractions
/// without theirs are other words ("we're" → "were", "we'll" → "well").
pub fn without_apostrophe(phrase: &str) -> Option<String> {
    (phrase.contains("n't") || phrase.contains("n\u{2019}t"))
        .then(|| phrase.replace("n't", "nt").replace("n\u{2019}t", "nt"))
}

/// The forms of a normalised phrase: every combination of its words' forms
/// (at most 64; the phrase itself first), with `irregular` its irregular
/// verbs' forms too.
pub fn phrase_forms(norm: &str, irregular: bool) -> Vec<String> {
    let mut out = vec![String::new()];
    for (i, w) in norm.split(' ').enumerate() {
        let mut forms = word_forms(w);
        // With `irregular`, an irregular verb's forms, which share no stem:
        // "broken" is also "breaks", "broke"; "lost data" "losing data"
        // ([`IRREGULAR`]). Phrases only: as words of the sentiment
        // lexicon's topics, "gone" of "went down" would no longer be an
        // action ("hasn't gone through").
        // The base form only as written: "broken" is no "page break".
        if let Some(group) = IRREGULAR.iter().find(|g| irregular && g.contains(&w)) {
            for f in group.iter().skip(1) {
                if !forms.iter().any(|x| x == f) {
                    forms.push((*f).to_string());
                }
            }
        }
        let mut next = Vec::with_capacity(out.len() * forms.len());
        'outer: for prefix in &out {
            for f in &forms {
                if next.len() == 64 {
                    break 'outer;
                }
                next.push(if i == 0 {
                    f.clone()
                } else {
                    format!("{prefix} {f}")
                });
            }
        }
        out = next;
    }
    out
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
    table: Table,
    patterns: Vec<String>,
    targets: Vec<Vec<Target>>,
    /// Per phrase: a bit per family it belongs to, and [`NEGATED_ONLY`],
    /// [`DISOWNED`], [`DISOWNED_ONLY`], [`NAMES_CUSTOMER`], [`NEGATABLE`],
    /// [`STRANGER`], [`STRANGER_ONLY`], [`IDIOM`].
    families: Vec<u16>,
    /// Per phrase: how it is shown in reasons (the rules' spelling).
    shown: Vec<String>,
    /// Weight of a phrase: its words but the grammatical ones ([`weight`]).
    weights: Vec<f32>,
    negation_window: u32,
}

/// One phrase found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index of the phrase (see [`Detector::phrase`]).
    pub pattern: u32,
    /// Weight: the phrase's words but the grammatical ones, doubled in the
    /// subject.
    pub weight: f32,
    pub negated: bool,
    /// Denied and the thing acted on shown (see
    /// [`Target::DisownedCategory`]); read only for a phrase some category
    /// lists as disowned, else false.
    pub disowned: bool,
    /// In the category family, disowned by the customer: a denial of an
    /// action of theirs right before it ("I don't recognize", "we did not
    /// approve"), or, for a phrase naming them, "not", "isn't", … right
    /// before it ("not mine"); read only for a phrase some category lists
    /// as negated or disowned.
    pub denied: bool,
    pub in_subject: bool,
    /// Negated as an action: a sentiment phrase right after a negator that
    /// takes a verb ("can't cancel", "didn't cancel", "unable to escalate";
    /// not "won't be disappointed", "isn't terrible", "no problem"). What
    /// is negated is something done or failing to be, not a feeling.
    pub acted: bool,
    /// Negated by a subject standing for no one or nothing ("none of our
    /// users can log in", see [`Target::SubjectNegator`]): where that
    /// negator starts in the text.
    pub by_subject: Option<u32>,
    /// Where it stands in its text (the subject or the body): bytes
    /// `start..end`.
    pub start: u32,
    pub end: u32,
    /// The family the phrase was picked for (see [`Target::family`]); only
    /// its targets of that family apply.
    pub family: u8,
}

/// Everything one scan found. Reused between tickets to avoid allocation.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub hits: Vec<Hit>,
    /// The idioms found: in the subject (else the body), start, end.
    pub idioms: Vec<(bool, u32, u32)>,
    pub exclamations: u32,
    pub caps_words: u32,
    /// (start, end, pattern) of matches on word boundaries; scratch.
    matches: Vec<(u32, u32, u32)>,
    /// Negators found so far, in order: start, end, and how far they
    /// reach; scratch.
    negators: Vec<(usize, usize, Reach)>,
}

/// How far a negator's negation reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// The rules' `negation_window` words.
    Near,
    /// A contraction asking why something is not done ([`asks_why_not`]):
    /// near, and [`INVERTED_WINDOW`] words for what is expected of the
    /// subject between ("why won't my virtual card work?").
    WhyNot,
    /// A [`Target::SubjectNegator`]: [`SUBJECT_WINDOW`] words for an
    /// expectation, nothing else.
    Subject,
    /// "without": a noun, near ("without any problems", "without errors"),
    /// and an expectation only as a noun after a determiner ("without a
    /// reply"; "without logging in" reports no failure).
    Noun,
}

impl Scan {
    pub fn clear(&mut self) {
        self.hits.clear();
        self.idioms.clear();
        self.exclamations = 0;
        self.caps_words = 0;
    }
}

impl Detector {
    /// The phrase as the rules wrote it (normalised).
    pub fn phrase(&self, pattern: u32) -> &str {
        &self.shown[pattern as usize]
    }

    pub fn targets(&self, pattern: u32) -> &[Target] {
        &self.targets[pattern as usize]
    }

    /// The words of `scan`'s texts the sentence model is not to read, in
    /// `out` as (in the subject, start, end): the idioms (their words mean
    /// something else together: "drop down" is no outage's "down") and the
    /// asking phrases (how a customer asks — "how do I", "is it possible" —
    /// not what about). The examples are compared with a ticket by what it
    /// is about; the question form counts apart (`semantic.question_bonus`),
    /// so "How do I verify my identity?" is nearer "verify identity" than
    /// any how-to example that also opens with "How do I".
    pub fn unread(&self, scan: &Scan, out: &mut Vec<(bool, u32, u32)>) {
        out.clear();
        out.extend_from_slice(&scan.idioms);
        out.extend(
            scan.hits
                .iter()
                .filter(|h| {
                    self.targets(h.pattern)
                        .iter()
                        .any(|t| t.family() == h.family && matches!(t, Target::AskingCategory(_)))
                })
                .map(|h| (h.in_subject, h.start, h.end)),
        );
    }

    /// All phrases with their meanings, for validation.
    pub fn phrases(&self) -> impl Iterator<Item = (&str, &[Target])> {
        self.patterns
            .iter()
            .map(String::as_str)
            .zip(self.targets.iter().map(Vec::as_slice))
    }

    /// Scans one text (subject or body) and appends what it found to `out`.
    ///
    /// All matches are found (overlapping), those not on word boundaries
    /// dropped, and then each family of phrases — categories, severities,
    /// sentiment words with negators, condition phrases — picks its own
    /// leftmost-longest non-overlapping set. So "doesn't work" can be a bug
    /// phrase and, at the same time, a negator followed by an expectation.
    pub fn scan(&self, text: &str, in_subject: bool, out: &mut Scan) {
        let bytes = text.as_bytes();
        out.matches.clear();
        // Every occurrence of every phrase (overlapping), as
        // `AhoCorasick::find_overlapping_iter` reports them.
        let t = &self.table;
        let mut found = |e: usize, id: u32| {
            for &(pid, len) in t.matches_of(id) {
                let s = e - len as usize;
                if boundary(text, s) && boundary(text, e) {
                    out.matches.push((s as u32, e as u32, pid));
                }
            }
        };
        // Two walks at once on long texts: the automaton is a chain of
        // dependent loads, one byte after the other; two independent chains
        // keep the core busy while each waits. The second walk starts
        // `max_len` bytes before the middle, where the automaton's state
        // depends on no earlier byte, and reports only matches ending after
        // the middle; the first walk reports those up to the middle.
        let mid = bytes.len() / 2;
        let split = t.max_len > 0 && mid >= 2 * t.max_len;
        let (mut e, mut id) = (0, t.start);
        if split {
            let (mut ea, mut a) = (0, t.start);
            (e, id) = (mid - t.max_len, t.start);
            while ea < mid {
                (ea, a, e, id) = t.run_pair(bytes, ea, a, mid, e, id);
                if a >= t.first_match {
                    found(ea, a);
                }
                if id >= t.first_match && e > mid {
                    found(e, id);
                }
            }
        }
        // The rest of the second walk (or the only walk on short texts).
        while e < bytes.len() {
            (e, id) = t.run(bytes, e, id);
            if id < t.first_match {
                break;
            }
            if !split || e > mid {
                found(e, id);
            }
        }
        out.matches
            .sort_unstable_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
        out.negators.clear();
        // Sentiment first: it finds the negators the other families use.
        for family in [
            FAMILY_SENTIMENT,
            FAMILY_CATEGORY,
            FAMILY_SEVERITY,
            FAMILY_PHRASE,
        ] {
            let mut covered = 0u32;
            for i in 0..out.matches.len() {
                let (s, e, pid) = out.matches[i];
                if self.families[pid as usize] & (1 << family) == 0 || s < covered {
                    continue;
                }
                let targets = &self.targets[pid as usize];
                // An idiom hides what is inside it (its family bits are
                // those it hides in) and is no hit itself.
                if self.families[pid as usize] & IDIOM != 0 {
                    if family == FAMILY_CATEGORY {
                        out.idioms.push((in_subject, s, e));
                    }
                    covered = e;
                    continue;
                }
                let gap =
                    |(_, ne, _): (usize, usize, Reach)| text.get(ne..s as usize).unwrap_or(".");
                // The negator before the phrase, if any.
                let negator = {
                    let k = out.negators.partition_point(|&(_, ne, _)| ne <= s as usize);
                    k.checked_sub(1).map(|k| out.negators[k])
                };
                // A question asking why something is not done puts its
                // subject between the negator and the verb ("why won't my
                // virtual card work?", "why doesn't the export on the
                // reports page finish?"): the negation reaches further for
                // what is expected of the subject — a category's negated
                // phrase, an expectation — not for the words around it
                // ("why can't anyone on the whole team log in?"). A subject
                // standing for no one or nothing negates only what its
                // clause's verb says was expected ("none of the links in
                // the email work", "nothing loads"), further still — a
                // category's phrase as that verb too ("Nothing loads for
                // anyone": outage's negated "load"; "nothing is down": an
                // absent outage).
                let expected =
                    || family == FAMILY_SENTIMENT && targets.contains(&Target::Expectation);
                // "couldn't be more pleased", "couldn't have been more
                // helpful", "can't be any more frustrating": the highest
                // degree, not the opposite.
                // (The comparative is read last: only a negated phrase is
                // one.)
                let negated = negator.is_some_and(|n| {
                    (match n.2 {
                        Reach::Subject => {
                            (family == FAMILY_CATEGORY || expected())
                                && self.negation_window > 0
                                && denies_within(gap(n), SUBJECT_WINDOW, false)
                                && the_subjects_verb(text.get(n.0..n.1).unwrap_or(""), gap(n))
                        }
                        Reach::Noun => {
                            // An expectation as a noun after a determiner
                            // is absent ("two weeks without a reply",
                            // "without any answer"); right after "without"
                            // it is an action left undone ("without logging
                            // in").
                            family == FAMILY_SENTIMENT
                                && (!expected() || determined(gap(n)))
                                && denies_within(gap(n), self.negation_window, true)
                        }
                        reach => {
                            // (Through determiners to a sentiment phrase
                            // that is no expectation: a noun, "problem".)
                            denies_within(
                                gap(n),
                                self.negation_window,
                                family == FAMILY_SENTIMENT && !expected(),
                            ) || (reach == Reach::WhyNot
                                && self.negation_window > 0
                                && (family == FAMILY_CATEGORY || expected())
                                && denies_within(gap(n), INVERTED_WINDOW, false))
                        }
                    }) && !(family == FAMILY_SENTIMENT
                        && (superlative_gap(gap(n))
                            || ends_until(text, e as usize)
                            || ends_enough(text, first_word_end(text, s as usize, e as usize))))
                });
                // Disowned by the customer: a negator right before it (a
                // word between at most: "I didn't actually make", or a
                // clause of the customer's own after a denied belief: "I
                // don't think I made") denies a past action of theirs ("I
                // didn't", "we have not", "I never", "I don't recognize";
                // not "it was not approved", "we can't do") or a state
                // ("I'm not recognizing"), or the phrase names them right
                // after "not" or "isn't", "wasn't", … ("not mine", "it
                // wasn't me"). A disowned action (a verb) also has nothing
                // else acted on after it ("a payment I didn't make.", not
                // "I didn't make any changes"), or its negated passive names
                // the customer as who did not do it ("a purchase that
                // wasn't made by me"). A stranger acting on the customer's
                // things disowns it too ([`stranger_acts`]).
                let bits = self.families[pid as usize];
                let action = bits & DISOWNED != 0;
                let mut by_them = false;
                // "None of us created it", "nobody on our team made this
                // payment": the customer as a whole denies the action, as
                // "we didn't" does.
                let none_of_us = family == FAMILY_CATEGORY
                    && action
                    && negated
                    && negator.is_some_and(|n| n.2 == Reach::Subject && names_the_customer(gap(n)));
                let denied = none_of_us
                    || family == FAMILY_CATEGORY
                        && bits & NEGATABLE != 0
                        && negator.filter(|n| n.2 != Reach::Subject).is_some_and(|n| {
                            let g = gap(n);
                            (denies_within(g, 1, false) || belief_clause(g))
                                && if bits & NAMES_CUSTOMER != 0 {
                                    disowns_as_named(text, (n.0, n.1), s as usize)
                                } else {
                                    by_them = action
                                        && denies_in_passive(text, (n.0, n.1), g)
                                        && by_customer(text, e as usize);
                                    // A state denies what is in progress ("I'm
                                    // not recognizing"), not a participle ("I'm
                                    // not recognized as an admin").
                                    let progress = || {
                                        text.get(..e as usize).is_some_and(|t| {
                                            t.len() >= 3
                                                && t.as_bytes()[t.len() - 3..]
                                                    .eq_ignore_ascii_case(b"ing")
                                        })
                                    };
                                    by_them
                                        || denied_by_customer(
                                            text,
                                            (n.0, n.1),
                                            !action && progress(),
                                        )
                                }
                        });
                let acting = family == FAMILY_CATEGORY
                    && bits & STRANGER != 0
                    && stranger_acts(text, s as usize, e as usize);
                let disowned = acting
                    || (denied && action && (by_them || acted_on_is_shown(text, e as usize)))
                    || (family == FAMILY_CATEGORY
                        && action
                        && denied_after(text, s as usize, e as usize));
                // A phrase that counts only negated (or disowned), not so
                // here, is no match: it hides no shorter phrase of its
                // family. One naming the customer counts only disowned: "I
                // haven't received mine" says nothing of security.
                if family == FAMILY_CATEGORY
                    && ((!negated && !disowned && bits & NEGATED_ONLY != 0)
                        || (!disowned && bits & DISOWNED_ONLY != 0)
                        || (!acting && bits & STRANGER_ONLY != 0)
                        || (!denied && bits & NAMES_CUSTOMER != 0 && bits & NEGATED_ONLY != 0))
                {
                    continue;
                }
                covered = e;
                let negates = |t: &Target| matches!(t, Target::Negator | Target::SubjectNegator);
                if family == FAMILY_SENTIMENT && targets.iter().any(negates) {
                    let reach = if targets.contains(&Target::SubjectNegator) {
                        Reach::Subject
                    } else if text
                        .get(s as usize..e as usize)
                        .is_some_and(|w| w.eq_ignore_ascii_case("without"))
                    {
                        Reach::Noun
                    } else if asks_why_not(text, s as usize, e as usize) {
                        Reach::WhyNot
                    } else {
                        Reach::Near
                    };
                    // A verb of ceasing denied right before ("never stopped
                    // working", "hasn't stopped syncing once") ends nothing:
                    // it negates nothing, and the denial before it reaches
                    // past it to nothing either (`denies_within`).
                    let ceasing_denied = text
                        .get(s as usize..e as usize)
                        .is_some_and(|w| one_of(w, CEASING))
                        && out.negators.last().is_some_and(|&(_, pe, _)| {
                            text.get(pe..s as usize)
                                .is_some_and(|g| !g.is_empty() && g.bytes().all(|b| b == b' '))
                        });
                    if !ceasing_denied {
                        out.negators.push((s as usize, e as usize, reach));
                    }
                    if !targets
                        .iter()
                        .any(|t| t.family() == FAMILY_SENTIMENT && !negates(t))
                    {
                        continue;
                    }
                }
                let acted = negated
                    && family == FAMILY_SENTIMENT
                    && negator.is_some_and(|n| {
                        takes_a_verb(text.get(n.0..n.1).unwrap_or(""))
                            && within_window(gap(n), 0, false)
                    });
                let by_subject = negator
                    .filter(|n| negated && n.2 == Reach::Subject)
                    .map(|n| u32::try_from(n.0).unwrap_or(u32::MAX));
                let weight = self.weights[pid as usize] * if in_subject { 2.0 } else { 1.0 };
                out.hits.push(Hit {
                    pattern: pid,
                    weight,
                    negated,
                    disowned,
                    denied,
                    in_subject,
                    acted,
                    by_subject,
                    start: s,
                    end: e,
                    family,
                });
            }
        }
        count_intensity(bytes, out);
    }
}

/// A phrase's bit in [`Detector`]'s `families` beside the family bits: in
/// the category family it counts only negated (no plain category phrase).
const NEGATED_ONLY: u16 = 1 << 7;
/// In the category family some category lists it as disowned
/// ([`Target::DisownedCategory`]): what follows it is read
/// ([`acted_on_is_shown`]).
const DISOWNED: u16 = 1 << 6;
/// In the category family it counts only disowned (no plain or negated
/// category phrase).
const DISOWNED_ONLY: u16 = 1 << 5;
/// Its words name the customer ([`CUSTOMER_NAMED`]): negated, it is
/// disowned ("not mine", "wasn't made by us").
const NAMES_CUSTOMER: u16 = 1 << 4;

/// Some category lists it as negated or disowned: whether the customer
/// disowns it is read.
const NEGATABLE: u16 = 1 << 8;
/// Some category lists it as a stranger ([`Target::StrangerCategory`]):
/// whether it acts on the customer's things is read ([`stranger_acts`]).
const STRANGER: u16 = 1 << 9;
/// In the category family it counts only acting so (no other category
/// phrase).
const STRANGER_ONLY: u16 = 1 << 10;
/// An idiom ([`Target::Idiom`]): it hides what is inside it and is no hit.
const IDIOM: u16 = 1 << 11;

/// How many words a subject standing for no one or nothing reaches for
/// the expectation its verb names ("none of the links in the email work",
/// "nobody on our team of 40 people can log in"), in its clause.
const SUBJECT_WINDOW: u32 = 8;

/// How many words a negator after "why" reaches ("why isn't my disposable
/// virtual card working?"), when the rules' window reaches any.
const INVERTED_WINDOW: u32 = 5;

/// Words by which a customer names themselves other than as a subject: a
/// phrase holding one, negated, is the customer disowning something ("it
/// is not mine", "not ours", "it wasn't done by me").
const CUSTOMER_NAMED: &[&str] = &["me", "us", "mine", "ours", "myself", "ourselves"];

const FAMILY_CATEGORY: u8 = 0;
const FAMILY_SEVERITY: u8 = 1;
const FAMILY_SENTIMENT: u8 = 2;
const FAMILY_PHRASE: u8 = 3;
/// The families an idiom hides phrases in: not sentiment's (its negators
/// and expectations are read word by word).
const IDIOM_FAMILIES: u16 = 1 << FAMILY_CATEGORY | 1 << FAMILY_SEVERITY | 1 << FAMILY_PHRASE;

impl Target {
    /// An idiom hides a phrase of this target inside it.
    pub fn hidden_by_idioms(self) -> bool {
        self != Target::Idiom && IDIOM_FAMILIES & (1 << self.family()) != 0
    }

    /// Phrases of one family compete for the same text; different families
    /// do not.
    pub fn family(self) -> u8 {
        match self {
            Target::Category(_)
            | Target::NegatedCategory(_)
            | Target::DisownedCategory(_)
            | Target::StrangerCategory(_)
            | Target::AskingCategory(_) => FAMILY_CATEGORY,
            Target::Severity(_)
            | Target::SeverityCue(_)
            | Target::ImpactVerb
            | Target::DeadlineTime
            | Target::LossThing
            | Target::LossWord
            | Target::Whole => FAMILY_SEVERITY,
            Target::Negative
            | Target::Positive
            | Target::Polite
            | Target::Expectation
            | Target::Negator
            | Target::SubjectNegator => FAMILY_SENTIMENT,
            Target::Phrase(_) => FAMILY_PHRASE,
            // (It hides phrases in [`IDIOM_FAMILIES`]; named by the first.)
            Target::Idiom => FAMILY_CATEGORY,
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// [`is_word_char`] of an ASCII byte.
#[inline]
fn ascii_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Letters, digits and `_` glue a match to its neighbour; anything else
/// (spaces, punctuation, hyphens: "CVE-2026-1234", "Ransomware-Angriff") is
/// a boundary. `at` is a match's start or end: the same test either side
/// (the text's ends are boundaries; a position inside a character is none).
#[inline(always)]
fn boundary(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    if let (Some(&x), Some(&y)) = (b.get(at.wrapping_sub(1)), b.get(at)) {
        if x.is_ascii() && y.is_ascii() {
            // Two ASCII characters (the usual case): their bytes decide.
            return !ascii_word_byte(x) || !ascii_word_byte(y);
        }
    }
    boundary_by_chars(text, at)
}

/// [`boundary`] next to a non-ASCII character or at the text's ends (out of
/// line: the ASCII test above answers most matches).
#[inline(never)]
fn boundary_by_chars(text: &str, at: usize) -> bool {
    let (Some(before), Some(after)) = (text.get(..at), text.get(at..)) else {
        return false;
    };
    match (before.chars().next_back(), after.chars().next()) {
        (Some(l), Some(c)) => !is_word_char(l) || !is_word_char(c),
        _ => true,
    }
}

/// Negators followed by a verb: a negated "do", a modal or "have", "unable
/// to", "fails to", "failed to" — not "not", "never", "no", nor a negated
/// "be" ("isn't", "wasn't"). Written without apostrophes, as [`DENIALS`]
/// (compared by [`bare`]: "can’t" and "cant" read as "can't").
const TAKE_A_VERB: &[&str] = &[
    "dont",
    "doesnt",
    "didnt",
    "cant",
    "cannot",
    "wont",
    "couldnt",
    "wouldnt",
    "shouldnt",
    "hasnt",
    "havent",
    "hadnt",
    "mustnt",
    "mightnt",
    "unable to",
    "fails to",
    "failed to",
];

/// True when `negator` is one of [`TAKE_A_VERB`] ("didn't", "can't").
fn takes_a_verb(negator: &str) -> bool {
    TAKE_A_VERB.iter().any(|w| bare(negator).eq(w.chars()))
}

/// True when `gap` (text between a negator and a phrase) holds at most
/// `window` words and no clause break (. , ; : ! ? … and their full-width
/// forms, or a line break; not a separator inside a number: "none of our
/// 2,000 users can work"). With `nouns`, articles and quantifiers
/// ([`DETERMINERS`]: "a", "any", "single", "more", "further") are not
/// counted: the negation reaches through them to a noun ("without any
/// problems", "haven't had a single issue", "no further errors" deny as "no
/// problems" does). Not to a verb: after "a" a verb is a noun ("not so much a
/// work of art" negates no "work").
#[inline(always)]
fn within_window(gap: &str, window: u32, nouns: bool) -> bool {
    let mut words = 0u32;
    // Where the word being read starts.
    let mut start: Option<usize> = None;
    // A word `gap[s..i]` just read is a determiner, not counted.
    let determiner = |s: Option<usize>, i: usize| {
        s.and_then(|s| gap.get(s..i))
            .is_some_and(|w| one_of(w, DETERMINERS))
    };
    for (i, c) in gap.char_indices() {
        if clause_break(c) && !in_number(gap, i) {
            return false;
        }
        // An ASCII character (most of a gap: " ", " really ") by its byte.
        let word = if c.is_ascii() {
            ascii_word_byte(c as u8) || c == '\''
        } else {
            is_word_char(c) || c == '\u{2019}'
        };
        if !word {
            let s = start.take();
            if nouns && determiner(s, i) {
                words -= 1;
            }
        } else if start.is_none() {
            start = Some(i);
            words += 1;
            // (A determiner is counted while it is read: the window is
            // passed only by a word that stays counted.)
            if words > window + u32::from(nouns) {
                return false;
            }
        }
    }
    if nouns && determiner(start, gap.len()) {
        words -= 1;
    }
    words <= window
}

/// A word that is a number as the clause readers give it: digits, with
/// separators between them ("40", "1,200", "2.5").
pub(crate) fn is_number(w: &str) -> bool {
    w.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && w.bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
}

/// The byte at `i` of `text` is a separator inside a number ("2,000",
/// "1.5"): a digit on either side, no clause break.
fn in_number(text: &str, i: usize) -> bool {
    let b = text.as_bytes();
    i > 0
        && b.get(i - 1).is_some_and(u8::is_ascii_digit)
        && b.get(i + 1).is_some_and(u8::is_ascii_digit)
}

/// True when the clause after a phrase ending at `at` says when its negation
/// ended: "until" or "till" within [`UNTIL_WORDS`] words ("never had a problem
/// until the update", "no issues till today"): the problem is there now.
pub(crate) fn ends_until(text: &str, at: usize) -> bool {
    text.get(at..).is_some_and(|rest| {
        clause_word_slices(rest, UNTIL_WORDS).any(|w| one_of(w, &["until", "till", "til"]))
    })
}

/// True when the clause after a word ending at `at` makes its negation an
/// emphasis: what it acts on (a pronoun, or a possessive or "the" and up to
/// two words more: [`ENOUGH_OBJECTS`]), then "enough" ending the clause or
/// before "for" or "to" ("I can't thank you enough", "cannot recommend our
/// account manager enough!", "can't praise it highly enough") — no refusal,
/// the most. Not what is too little ("isn't clever enough", "doesn't go far
/// enough", "didn't pick up the calls fast enough"), nor a shortage
/// ("doesn't have enough memory").
pub(crate) fn ends_enough(text: &str, at: usize) -> bool {
    text.get(at..).is_some_and(|rest| {
        let mut words = clause_word_slices(rest, 5);
        if !words.next().is_some_and(|w| one_of(w, ENOUGH_OBJECTS)) {
            return false;
        }
        words
            .by_ref()
            .take(3)
            .any(|w| w.eq_ignore_ascii_case("enough"))
            && words.next().is_none_or(|w| one_of(w, &["for", "to"]))
    })
}

/// Where the first word of the match `s..e` ends: what acts comes first,
/// what it acts on may be the phrase's own ("thank you" in "can't thank you
/// enough").
fn first_word_end(text: &str, s: usize, e: usize) -> usize {
    text.get(s..e)
        .and_then(|m| m.find(|c: char| !in_clause_word(c)))
        .map_or(e, |k| s + k)
}

/// What an emphatic "can't … enough" acts on first ([`ends_enough`]).
const ENOUGH_OBJECTS: &[&str] = &[
    "you", "it", "them", "him", "her", "this", "that", "these", "those", "us", "your", "our", "my",
    "their", "his", "the",
];

/// Words after a negated problem that [`ends_until`] reads.
const UNTIL_WORDS: usize = 4;

/// Words a negation reaches through to the noun after them ([`within_window`]).
const DETERMINERS: &[&str] = &["a", "an", "any", "single", "more", "further"];

/// `gap` holds words, and only [`DETERMINERS`] ("a", "any single").
fn determined(gap: &str) -> bool {
    let mut words = ascii_words(gap).peekable();
    words.peek().is_some() && words.all(|w| one_of(w, DETERMINERS))
}

/// The first `max` words of `rest` as written, up to the end of its clause
/// (a [`clause_break`]): what a word before `rest` reaches in its clause.
/// Read as far as those words: a long text after them is not searched for
/// its clause's end.
pub(crate) fn clause_word_slices(rest: &str, max: usize) -> impl Iterator<Item = &str> {
    // Where the next word is looked for; `None` once the clause has ended.
    let mut at = Some(0usize);
    std::iter::from_fn(move || {
        let tail = rest.get(at?..)?;
        let mut start = None;
        for (i, c) in tail.char_indices() {
            // A separator inside a number ("1,200", "2.5") is a part of
            // the word, no clause break.
            if in_clause_word(c) || (start.is_some() && clause_break(c) && in_number(tail, i)) {
                start.get_or_insert(i);
                continue;
            }
            // (`at` is some here: `tail` was read from it.)
            at = if clause_break(c) {
                None
            } else {
                at.map(|a| a + i)
            };
            match start {
                Some(s) => return tail.get(s..i),
                None if at.is_none() => return None,
                None => {}
            }
        }
        at = None;
        start.and_then(|s| tail.get(s..))
    })
    .take(max)
}

/// A character of a word as [`clause_word_slices`] and
/// [`clause_words_before`] read them: letters, digits, apostrophes
/// ("team's", "can't").
fn in_clause_word(c: char) -> bool {
    c.is_alphanumeric() || c == '\'' || c == '\u{2019}'
}

/// The last `max` words of `before` as written, back to the start of its
/// clause (a [`clause_break`]), the nearest first: what a word after
/// `before` reaches back to in its clause.
pub(crate) fn clause_words_before(before: &str, max: usize) -> impl Iterator<Item = &str> {
    // A separator inside a number ("1,200", "2.5") is a part of the word,
    // no clause break.
    let in_word = |text: &str, i: usize, c: char| {
        in_clause_word(c) || (clause_break(c) && in_number(text, i))
    };
    // Past the break (its own length: some breaks are not ASCII).
    let start = before
        .char_indices()
        .rev()
        .find(|&(i, c)| clause_break(c) && !in_number(before, i))
        .map_or(0, |(i, c)| i + c.len_utf8());
    // (`start` is 0 or just past a character of `before`: a boundary.)
    let part = &before[start..];
    // Where the words not yet read end.
    let mut end = part.len();
    std::iter::from_fn(move || {
        let head = part.get(..end)?;
        // The last word of `head`: where it ends, where it starts.
        let (mut last, mut first) = (None, 0);
        for (i, c) in head.char_indices().rev() {
            if in_word(head, i, c) {
                last.get_or_insert(i + c.len_utf8());
                first = i;
            } else if last.is_some() {
                break;
            }
        }
        let last = last?;
        end = first;
        // (`first` and `last` are boundaries of characters of `head`.)
        head.get(first..last)
    })
    .take(max)
}

/// A character that ends a clause: . , ; : ! ? … and their full-width
/// forms, or a line break. (ASCII, most of any text, by its byte.)
#[inline(always)]
fn clause_break(c: char) -> bool {
    if c.is_ascii() {
        matches!(c as u8, b'.' | b'!' | b'?' | b';' | b',' | b':' | b'\n')
    } else {
        matches!(
            c,
            '…' | '。' | '、' | '．' | '！' | '？' | '；' | '，' | '：'
        )
    }
}

/// A past action of the customer's denied after it with the verb left out:
/// "I" or "we" right before the verb (bytes `s..e` of `text`), and its
/// sentence ending in "but I didn't" ("The app says I made a withdrawal,
/// but I did not.", "the log shows we created these keys but we never
/// did!"). Not "I made a change but I didn't save it": the denial is of
/// another verb. The denials are those [`denied_by_customer`] reads
/// ([`DENIALS`]; "not" after one of [`DENYING_AUXILIARIES`]).
fn denied_after(text: &str, s: usize, e: usize) -> bool {
    if !last_word(text.get(..s).unwrap_or("")).is_some_and(|w| one_of(w, &["i", "we"])) {
        return false;
    }
    let rest = text.get(e..).unwrap_or("");
    let sentence = rest
        .find(['.', '!', '?', ';', '\n'])
        .and_then(|end| rest.get(..end))
        .unwrap_or(rest);
    // The words after the sentence's last "but", read as [`DENIALS`] are
    // written (lower case, no apostrophes).
    let mut tail = None;
    let mut words = sentence
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}'))
        .filter(|w| !w.is_empty());
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case("but") {
            tail = Some(words.clone());
        }
    }
    let Some(mut tail) = tail else {
        return false;
    };
    let mut next = || tail.next().map(|w| bare(w).collect::<String>());
    let is = |w: &Option<String>, list: &[&str]| w.as_deref().is_some_and(|w| list.contains(&w));
    if !is(&next(), &["i", "we"]) {
        return false;
    }
    // A denial ("didn't", "never"; "did not", "have not") ending the
    // sentence, the verb left out; "never" may take its auxiliary ("never
    // did").
    let denial = next();
    let then = if is(&denial, DENIALS) {
        let after = next();
        if denial.as_deref() == Some("never") && is(&after, DENYING_AUXILIARIES) {
            next()
        } else {
            after
        }
    } else if is(&denial, DENYING_AUXILIARIES) && is(&next(), &["not"]) {
        next()
    } else {
        return false;
    };
    then.is_none()
}

/// True when what a disowned verb ending at `at` acted on is the thing the
/// customer shows, not something named after it: the clause ends (after
/// spaces and closing quotes or brackets, a clause break or the end of the
/// text: "a payment I didn't make.", "… didn't make"), the sentence goes on
/// past the relative clause ("a payment I didn't make shows in my app", "a
/// withdrawal I didn't make from my account": [`CLAUSE_GOES_ON`]), or the
/// object points at it ("I didn't make this payment": [`DEMONSTRATIVES`]),
/// or "it" ends the clause ("I did not do it."). Not "I didn't make any
/// changes", "I didn't make it to the meeting".
fn acted_on_is_shown(text: &str, at: usize) -> bool {
    let rest = past_closers(text.get(at..).unwrap_or(""));
    if ends_clause(rest) {
        return true;
    }
    // The next word, lower-cased into a fixed buffer; a longer or
    // non-ASCII word is none of the short words asked for.
    let mut buf = [0u8; 8];
    let mut len = 0;
    for &b in rest.as_bytes() {
        if !b.is_ascii_alphabetic() {
            // A word going on ("isn't", "on-boarding", "thés") is none.
            if b.is_ascii_alphanumeric() || b == b'\'' || b == b'-' || b >= 0x80 {
                return false;
            }
            break;
        }
        if len == buf.len() {
            return false;
        }
        // `len < buf.len()`: checked just above.
        buf[len] = b.to_ascii_lowercase();
        len += 1;
    }
    let word = std::str::from_utf8(&buf[..len]).unwrap_or("");
    // "it" ending the clause is the thing shown ("I did not do it."), not
    // "I didn't make it to the meeting". `rest[len..]`: the first `len`
    // bytes were ASCII letters, so `len` is a char boundary.
    DEMONSTRATIVES.contains(&word)
        || CLAUSE_GOES_ON.contains(&word)
        || (word == "it" && ends_clause(past_closers(&rest[len..])))
}

/// True when `rest` (past closers) starts with a clause break or is empty.
fn ends_clause(rest: &str) -> bool {
    rest.chars().next().is_none_or(clause_break)
}

/// `rest` past spaces (not a line break) and closing quotes or brackets.
fn past_closers(rest: &str) -> &str {
    rest.trim_start_matches(|c: char| {
        (c.is_whitespace() && c != '\n')
            || matches!(
                c,
                '"' | '\'' | ')' | ']' | '\u{201d}' | '\u{2019}' | '\u{bb}'
            )
    })
}

/// Words that point at the thing shown ("I didn't make this payment", "I
/// did not authorize these").
/// Not "that": "I didn't make that clear", "I don't do that anymore".
const DEMONSTRATIVES: &[&str] = &["this", "these", "those"];

/// Words after a relative clause that carry the sentence on, a preposition
/// or a verb of its subject ("a payment I didn't make shows in my app",
/// "the login we didn't make from Brazil", "a charge I never approved is
/// on our invoice").
const CLAUSE_GOES_ON: &[&str] = &[
    "on", "in", "from", "at", "into", "via", "through", "with", "shows", "showed", "showing",
    "appears", "appeared", "is", "was", "are", "were", "has", "have", "had", "came", "comes",
    "went", "goes",
];

/// True when a negator followed by `gap` reaches what follows within
/// `window` words ([`within_window`]) and denies it: "not just", "not only"
/// add, they deny nothing ("not just slow", "not only mine"; [`adds_to`],
/// read only near a negator).
#[inline(always)]
fn denies_within(gap: &str, window: u32, nouns: bool) -> bool {
    within_window(gap, window, nouns)
        && !adds_to(gap)
        && !ascii_words(gap).any(|w| one_of(w, CEASING))
}

/// True when the expectation after a subject negator (`negator`, then
/// `gap`) is its clause's verb, not what another verb acts on: right after
/// it ("nothing works"), after the rest of the subject's "of …", "on …"
/// ("none of the links in the email work"), after an auxiliary, a modal or
/// "to" ("nobody on the team can log in", "nothing seems to load"); any
/// after "neither" ("neither option works"). Not "Nobody else needs
/// access", "nothing happens when I click save".
fn the_subjects_verb(negator: &str, gap: &str) -> bool {
    const REST_OF_SUBJECT: &[&str] = &["of", "in", "on", "at", "from", "with", "across", "within"];
    const BEFORE_VERB: &[&str] = &[
        "can", "could", "will", "would", "shall", "should", "may", "might", "must", "is", "are",
        "was", "were", "be", "been", "has", "have", "had", "does", "do", "did", "to", "ever",
    ];
    let mut words = ascii_words(gap);
    let Some(first) = words.next() else {
        return true;
    };
    let last = words.next_back().unwrap_or(first);
    negator.eq_ignore_ascii_case("neither")
        || one_of(first, REST_OF_SUBJECT)
        || one_of(last, BEFORE_VERB)
}

/// True when `gap`, between a negator of the subject ("none", "nobody")
/// and an action, makes the customer that subject: "of us", "here", or
/// "of", "on", "in", "at", "from" before "our" and one word ("none of us
/// created", "nobody here made", "no one on our team has authorized"), an
/// auxiliary or adverb after it at most ("none of us ever made").
fn names_the_customer(gap: &str) -> bool {
    // At most five words are read: more than the longest form. (`n` counts
    // the slots filled, so `..n` is within `words`.)
    let (mut words, mut n) = ([""; 5], 0);
    for (slot, w) in words.iter_mut().zip(ascii_words(gap)) {
        *slot = w;
        n += 1;
    }
    let rest = match &words[..n] {
        [w, us, rest @ ..] if one_of(w, &["of"]) && one_of(us, &["us"]) => rest,
        [w, rest @ ..] if one_of(w, &["here"]) => rest,
        [w, our, _, rest @ ..]
            if one_of(w, &["of", "on", "in", "at", "from"]) && one_of(our, &["our"]) =>
        {
            rest
        }
        _ => return false,
    };
    // (Slice patterns: no index is read.)
    match rest {
        [] => true,
        [w] => one_of(w, DENYING_AUXILIARIES) || one_of(w, SHORT_ADVERBS),
        _ => false,
    }
}

/// True when `gap` (between a negator and a phrase) makes the phrase a
/// negated comparative, the highest degree: a "be" or "been" in it, and
/// "more" or "any" last ("couldn't be more pleased", "couldn't have been
/// more helpful", "can't be any more frustrating").
fn superlative_gap(gap: &str) -> bool {
    let mut words = ascii_words(gap);
    let mut be = false;
    let mut last = "";
    for w in words.by_ref().take(4) {
        be |= one_of(w, &["be", "been"]);
        last = w;
    }
    be && one_of(last, &["more", "any"]) && words.next().is_none()
}

/// The runs of ASCII letters in `gap` (the words a gap's helpers compare
/// with their short lists).
fn ascii_words(gap: &str) -> impl DoubleEndedIterator<Item = &str> {
    gap.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
}

/// Words that open a question ("How do I …", "Can you …", "Is there …"),
/// and the contractions typed without their apostrophe ("whats the limit").
pub(crate) const QUESTION_OPENERS: &[&str] = &[
    "how", "what", "where", "when", "which", "who", "why", "can", "could", "is", "are", "do",
    "does", "will", "would", "should", "may", "whats", "hows", "wheres", "whos",
];

/// `w` is one of `list`, case aside (ASCII).
pub(crate) fn one_of(w: &str, list: &[&str]) -> bool {
    list.iter().any(|l| w.eq_ignore_ascii_case(l))
}

/// Outcomes a customer asks for: wanted ("we need this resolved", "it must
/// be solved today", "please get it fixed"), they are no praise yet. Each
/// ends in "ed" (the scorer rejects other words by it).
pub(crate) const OUTCOMES: &[&str] = &[
    "cleared", "fixed", "resolved", "restored", "solved", "sorted",
];

/// Verbs of wanting an outcome, its object between ("need this resolved",
/// "want the data restored", "would like the issue solved", "get it fixed").
const WANTING: &[&str] = &[
    "expect", "get", "like", "need", "needed", "needs", "require", "requires", "want", "wanted",
    "wants",
];

/// Words before "be" that put an outcome ahead ("must be resolved", "needs
/// to be solved", "should be restored soon").
const AHEAD: &[&str] = &[
    "can", "could", "must", "shall", "should", "to", "will", "would",
];

/// Words that put an outcome in place or end what is wanted ("it has been
/// resolved", "that's fixed now", "we needed a restart and it's solved").
const IN_PLACE: &[&str] = &[
    "already", "and", "are", "been", "but", "had", "has", "have", "is", "it's", "not", "never",
    "now", "that's", "was", "were",
];

/// An outcome ([`OUTCOMES`]) with `before` (the words before it in its
/// clause, the nearest first) is wanted, not had: "be" after a word that
/// puts it ahead ("must be resolved", "needs to be fixed"), or a verb of
/// wanting at most four words back with no word between that puts it in
/// place ("we need this resolved", "please get the issue fixed"; not "we
/// needed a restart and now it's fixed", "it has been resolved").
pub(crate) fn wanted_outcome<'a>(mut before: impl Iterator<Item = &'a str>) -> bool {
    match before.next() {
        Some(w) if w.eq_ignore_ascii_case("be") => before.next().is_some_and(|w| one_of(w, AHEAD)),
        Some(w) if one_of(w, WANTING) => true,
        Some(w) if one_of(w, IN_PLACE) => false,
        Some(_) => {
            for w in before.take(3) {
                if one_of(w, WANTING) {
                    return true;
                }
                if one_of(w, IN_PLACE) {
                    return false;
                }
            }
            false
        }
        None => false,
    }
}

/// Verbs of ceasing. Negated (by [`crate::sentiment`] and the phrases'
/// negation alike), what goes on is not ended ("won't stop
/// crashing", "hasn't stopped freezing", "can't stop the sync"): the
/// negation ends at the verb, which is a failure unless the word after it
/// carries the feeling as written ("crashing" is the complaint; "can't stop
/// smiling" is praise).
pub(crate) const CEASING: &[&str] = &[
    "stop", "stops", "stopped", "stopping", "quit", "quits", "quitting", "cease", "ceases",
    "ceased", "ceasing",
];

/// True when the gap after a negator makes it add rather than deny ("not
/// just mine", "not only by us": others too).
fn adds_to(gap: &str) -> bool {
    let first = gap
        .split(|c: char| !c.is_alphabetic())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    one_of(first, &["just", "only", "merely", "simply"])
}

/// The negator `ns..ne` in `text` is a contraction ("won't", "isn't",
/// "doesnt") right after "why": a question asking why something is not
/// done, its subject before the verb ("why won't my card work?"; not "why
/// not add …", a suggestion).
fn asks_why_not(text: &str, ns: usize, ne: usize) -> bool {
    let negator = text.get(ns..ne).unwrap_or("");
    let contracted = negator.len() > 3 && bare(negator).rev().take(2).eq("tn".chars());
    contracted && last_words(text, ns, 1, |_, w, whole| whole && w == "why")
}

/// `negator` lower-cased (ASCII) without its apostrophes: "Didn’t" reads
/// "didnt", as [`DENIALS`] and [`NOT_THEIRS`] are written.
fn bare(negator: &str) -> impl DoubleEndedIterator<Item = char> + '_ {
    negator
        .chars()
        .filter(|&c| c != '\'' && c != '\u{2019}')
        .map(|c| c.to_ascii_lowercase())
}

/// Negators that deny what follows is the customer's ("not mine", "it
/// isn't ours", "it wasn't me"), written without apostrophes.
const NOT_THEIRS: &[&str] = &["not", "isnt", "wasnt", "arent", "werent"];

/// True when the phrase at `start`, naming the customer ("mine", "me"),
/// is disowned by the negator `n`: one of [`NOT_THEIRS`] right before it,
/// no word between ("a payment that is not mine"; not "the invoice was not
/// received by us", "no longer mine").
///
/// An object pronoun ("me", "us") is disowned only as who did something:
/// after "wasn't", "weren't" or "not" after "was", "were" ("that was not
/// me", "it wasn't us"; not "(not me)", "not us, the admins", nor "it's not
/// us, the export fails", which blames no one).
fn disowns_as_named(text: &str, (ns, ne): (usize, usize), start: usize) -> bool {
    let adjacent = text
        .get(ne..start)
        .is_some_and(|g| g.chars().all(char::is_whitespace));
    let negator = text.get(ns..ne).unwrap_or("");
    let object = text.get(start..).is_some_and(|p| {
        let w = p.split(|c: char| !c.is_alphabetic()).next().unwrap_or("");
        w.eq_ignore_ascii_case("me") || w.eq_ignore_ascii_case("us")
    });
    let is = |w: &str| bare(negator).eq(w.chars());
    let named = if object && is("not") {
        last_words(text, ns, 1, |_, w, whole| {
            whole && ["was", "were"].contains(&w)
        })
    } else if object {
        is("wasnt") || is("werent")
    } else {
        NOT_THEIRS.iter().any(|w| is(w))
    };
    adjacent && named
}

/// Words of a customer speaking of themselves, as the subject of a
/// negated action ("I didn't make", "we have not authorized").
const FIRST_PERSON: &[&str] = &["i", "we", "i've", "we've", "i'd", "we'd", "ive", "weve"];

/// Negators that deny an action ("I didn't", "we never", "I haven't", "I
/// don't remember making"), not an inability ("can't", "unable to") or a
/// state ("am not").
/// Written without apostrophes: the negator is compared without its own.
const DENIALS: &[&str] = &["didnt", "never", "havent", "hasnt", "hadnt", "dont"];

/// Auxiliaries before "not" that make it a denial of an action ("I did
/// not", "we have not", "I've not", "I do not recall making").
const DENYING_AUXILIARIES: &[&str] = &[
    "did", "do", "have", "has", "had", "i've", "we've", "ive", "weve",
];

/// True when the negator `n` (start, end) denies a past action of the
/// customer: one of [`DENIALS`], or "not" after one of
/// [`DENYING_AUXILIARIES`], with [`FIRST_PERSON`] right before the negator
/// or with an auxiliary or adverb between ([`first_person_before`]).
///
/// With `state` (a negated phrase that is no action: "recognize") a state
/// denies it as well: "I'm not recognizing this charge", "we are not
/// recognising" — not an action ("I am not authorized to" is no denial).
pub(crate) fn denied_by_customer(text: &str, (ns, ne): (usize, usize), state: bool) -> bool {
    let Some(negator) = text.get(ns..ne) else {
        return false;
    };
    let is = |w: &str| bare(negator).eq(w.chars());
    let denial = if is("not") {
        last_words(text, ns, 1, |_, w, whole| {
            whole && (DENYING_AUXILIARIES.contains(&w) || (state && STATES.contains(&w)))
        })
    } else {
        DENIALS.iter().any(|d| is(d))
    };
    denial && first_person_before(text, ns, state)
}

/// "To be" before "not" that denies a state of the customer ("I am not
/// recognizing", "we're not"); "i'm", "im", "we're" hold their subject.
const STATES: &[&str] = &["am", "are", "i'm", "im", "we're"];

/// True when the word before `at` (a negator's start), in the same clause,
/// is [`FIRST_PERSON`] ("I didn't", "we never"), or one of the two before
/// that with auxiliaries or adverbs between ("we did not", "I have never",
/// "I really didn't", "I definitely did not"; not a verb: "the payment I
/// made didn't go through" is no denial). With `state`, "am" and "are" are
/// auxiliaries and "I'm", "we're" subjects too ([`STATES`]). Typographic
/// apostrophes read as `'`.
fn first_person_before(text: &str, at: usize, state: bool) -> bool {
    let mut between = true;
    last_words(text, at, 3, |k, w, whole| {
        let subject =
            whole && (FIRST_PERSON.contains(&w) || (state && k == 0 && STATES[2..].contains(&w)));
        if subject && (k == 0 || between) {
            return true;
        }
        between = between
            && (w.ends_with("ly")
                || (whole
                    && (DENYING_AUXILIARIES.contains(&w)
                        || SHORT_ADVERBS.contains(&w)
                        || (state && STATES[..2].contains(&w)))));
        false
    })
}

/// Words before a negator that make what follows a clause of the
/// customer's own ("I don't think I made this payment", "we do not believe
/// we ever authorized it", "I don't recall we requested this"): a verb of belief or
/// memory, then "I" or "we", an auxiliary or adverb at most between it and
/// the phrase.
fn belief_clause(gap: &str) -> bool {
    // At most three short words ("remember we actually").
    if gap.len() > 40 {
        return false;
    }
    let mut words = gap.split_whitespace();
    let (Some(verb), Some(subject)) = (words.next(), words.next()) else {
        return false;
    };
    // Compared without case, a typographic apostrophe as `'` ("I’ve").
    let is_in = |w: &str, list: &[&str]| {
        let folded = || {
            w.chars().map(|c| {
                if c == '\u{2019}' {
                    '\''
                } else {
                    c.to_ascii_lowercase()
                }
            })
        };
        list.iter().any(|l| folded().eq(l.chars()))
    };
    let rest = words.next();
    is_in(verb, BELIEFS)
        && is_in(subject, FIRST_PERSON)
        && rest.is_none_or(|w| {
            is_in(w, DENYING_AUXILIARIES)
                || is_in(w, SHORT_ADVERBS)
                || (w.len() > 3
                    && w.get(w.len() - 2..)
                        .is_some_and(|t| t.eq_ignore_ascii_case("ly")))
        })
        && words.next().is_none()
}

/// True when the stranger named at `s..e` ("someone", "somebody") acts on
/// the customer's things: after it ("else", and up to four auxiliaries,
/// modals or adverbs between: "someone has", "somebody might be", "someone
/// else just") a verb of intrusion ([`INTRUSIONS`]: "used", "accessed",
/// "took", "made", "changed", "is using" — an "-ing" form after "be"), or
/// "have" itself before what is had ("someone has my card", "might have
/// access to"), and the customer's own ("my", "our", "mine", "ours") within
/// [`STRANGER_REACH`] words after the verb in the clause: "someone used my card",
/// "somebody is logging into our account", "someone might have access to
/// my card". Or the stranger did it in the passive: a verb of intrusion and
/// "by" right before it ("a payment made by someone else", "my card was
/// used by somebody"). Not a request ("can someone check my invoice?",
/// "please could somebody"), an identified person ("someone from your
/// team", "someone on our side", "someone who", "someone that"; but
/// "someone from an unknown IP logged into our account" is a place, not
/// who they are: [`UNNAMED`]), nor any
/// other verb ("someone updated my ticket", "someone told me", "someone
/// deleted our dashboard", "created by someone else"). English; a rare
/// path (read only where such a word stands).
fn stranger_acts(text: &str, s: usize, e: usize) -> bool {
    let before = text.get(..s).unwrap_or("");
    if last_word(before).is_some_and(|p| REQUESTING.iter().any(|r| p.eq_ignore_ascii_case(r))) {
        return false;
    }
    let words = clause_words(text.get(e..).unwrap_or(""), 12);
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    // "Someone else": plainly not the customer, who then also charges or
    // pays ("someone else charged my card").
    let other = w(0) == "else";
    let intrudes = |v: &str| INTRUSIONS.contains(&v) || (other && BY_ANOTHER.contains(&v));
    let mut i = usize::from(other);
    if IDENTIFIED.contains(&w(i)) {
        // A place that names no one ("someone from an unknown IP",
        // "somebody in another country"): the verb follows it, a few words
        // on.
        let verb = (i + 2..i + 6).find(|&k| intrudes(w(k)) || STRANGER_AUXILIARIES.contains(&w(k)));
        match verb {
            Some(k) if (i + 1..k).any(|j| UNNAMED.contains(&w(j))) => i = k,
            _ => return false,
        }
    }
    // The passive: "<verb> by" right before, in the clause.
    if verb_before_by(before).is_some_and(|v| intrudes(v.as_str()) && !v.ends_with("ing")) {
        return true;
    }
    let (mut be, mut last) = (false, "");
    let first = i;
    while i - first < 4
        && (STRANGER_AUXILIARIES.contains(&w(i)) || (w(i).len() > 3 && w(i).ends_with("ly")))
    {
        // "Be" before a form in progress ("is using", "someone's using").
        be |= BE.contains(&w(i)) || w(i) == "'s";
        last = w(i);
        i += 1;
    }
    let v = w(i);
    // After a form of "be" a past participle is the stranger acted on
    // ("someone else was charged"): only a form in progress acts.
    let acted_on = BE.contains(&last);
    let in_progress = v.ends_with("ing");
    let verb_at = if intrudes(v) && (be || !in_progress) && (in_progress || !acted_on) {
        i
    } else if ["has", "have", "had"].contains(&last) && HAD.contains(&v) {
        // "Have" itself: "someone has my card", "has access to".
        i - 1
    } else {
        return false;
    };
    (verb_at + 1..verb_at + 1 + STRANGER_REACH)
        .any(|k| ["my", "our", "mine", "ours"].contains(&w(k)))
}

/// The word before a closing "by" in `before` (lower-cased), when only
/// spaces stand between them: "a payment made by " gives "made".
fn verb_before_by(before: &str) -> Option<String> {
    let t = before.trim_end();
    let rest = t.len().checked_sub(2).and_then(|k| t.get(..k))?;
    let by = t.get(rest.len()..)?;
    if !by.eq_ignore_ascii_case("by") || !rest.ends_with(char::is_whitespace) {
        return None;
    }
    last_word(rest).map(str::to_ascii_lowercase)
}

/// The word `before` ends with, past spaces (none when a clause break or
/// other punctuation stands there).
fn last_word(before: &str) -> Option<&str> {
    before
        .trim_end()
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '\''))
        .next()
        .filter(|w| !w.is_empty())
}

/// Up to `n` words at the start of `rest`, lower-cased (ASCII; typographic
/// apostrophes as `'`), up to the first clause break.
fn clause_words(rest: &str, n: usize) -> Vec<String> {
    clause_word_slices(rest, n)
        .map(|w| {
            w.chars()
                .map(|c| {
                    if c == '\u{2019}' {
                        '\''
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect()
        })
        .collect()
}

/// Words before a stranger that ask them to act ("can someone help",
/// "please somebody").
const REQUESTING: &[&str] = &[
    "can", "could", "would", "will", "please", "let", "may", "need", "needs", "want", "wants",
    "ask",
];

/// Words after a stranger that identify them ("someone from your team",
/// "someone on our side", "someone who …").
const IDENTIFIED: &[&str] = &[
    "from", "on", "at", "in", "of", "who", "with", "here", "there",
];

/// Words after one of [`IDENTIFIED`] that say the stranger is not
/// identified by it: where they are is strange to the customer or no
/// organisation ("someone from an unknown IP", "somebody in another
/// country"; not "someone from a partner agency").
const UNNAMED: &[&str] = &[
    "unknown",
    "unrecognized",
    "unrecognised",
    "another",
    "different",
    "foreign",
    "strange",
    "suspicious",
    "ip",
    "ips",
    "country",
    "location",
];

/// Words after a stranger's verb within which the customer's own is named
/// ([`stranger_acts`]): "someone used my card", "someone changed the owner
/// email on our workspace".
const STRANGER_REACH: usize = 6;

/// Auxiliaries, modals and adverbs between a stranger and their verb.
const STRANGER_AUXILIARIES: &[&str] = &[
    "has", "had", "have", "is", "was", "are", "were", "been", "be", "being", "'s", "might", "may",
    "must", "could", "would", "will", "can", "just", "already", "somehow", "also", "still", "now",
    "then", "probably", "possibly", "maybe",
];

/// Verbs by which a stranger intrudes, in the past, as participles and in
/// progress ("used", "using"): taking, using or getting into what is the
/// customer's, copying it out ("downloaded our customer list"), or acting
/// with it. Not charging ([`BY_ANOTHER`], only for
/// "someone else") nor paying: "someone charged my card twice" is a billing
/// error more often than a thief. Not getting: "someone got locked out".
const INTRUSIONS: &[&str] = &[
    "used",
    "using",
    "accessed",
    "accessing",
    "logged",
    "logging",
    "hacked",
    "hacking",
    "stole",
    "stolen",
    "stealing",
    "took",
    "taken",
    "taking",
    "withdrew",
    "withdrawn",
    "withdrawing",
    "spent",
    "spending",
    "bought",
    "buying",
    "purchased",
    "purchasing",
    "copied",
    "copying",
    "cloned",
    "cloning",
    "gained",
    "gaining",
    "changed",
    "changing",
    "reset",
    "resetting",
    "opened",
    "opening",
    "signed",
    "signing",
    "transferred",
    "transferring",
    "moved",
    "moving",
    "ordered",
    "ordering",
    "tried",
    "trying",
    "attempted",
    "attempting",
    "made",
    "making",
    "entered",
    "entering",
    "hijacked",
    "broke",
    "broken",
    "breaking",
    "knows",
    "knew",
    "obtained",
    "compromised",
    "downloaded",
    "downloading",
    "exported",
    "exporting",
];

/// Forms of "be" ([`stranger_acts`]): before a form in progress it acts
/// ("is using"), before a participle it is acted on ("was charged"). ("'s"
/// may be "has" as well and is read apart.)
const BE: &[&str] = &["is", "was", "are", "were", "be", "been", "being"];

/// Verbs of intrusion only for "someone else" ([`stranger_acts`]).
const BY_ANOTHER: &[&str] = &["charged", "charging"];

/// What a stranger "has" that is the customer's or a way into it ("someone
/// has my card", "has access to our account", "has a copy of my card").
const HAD: &[&str] = &["my", "our", "access", "a", "the", "control", "all"];

/// Verbs of belief or memory ([`belief_clause`]).
const BELIEFS: &[&str] = &[
    "think", "believe", "remember", "recall", "suppose", "reckon",
];

/// True when the negator `n`, `gap` before a verb, negates a passive ("was
/// not made", "wasn't made", "has never been authorized"): one of
/// [`NOT_THEIRS`], "hasn't", "haven't", "hadn't" or "never", with nothing or
/// "been" between — not "no changes made by us", "couldn't be created by
/// me" (an inability).
fn denies_in_passive(text: &str, (ns, ne): (usize, usize), gap: &str) -> bool {
    let negator = text.get(ns..ne).unwrap_or("");
    let gap = gap.trim();
    (gap.is_empty() || gap.eq_ignore_ascii_case("been"))
        && NOT_THEIRS
            .iter()
            .chain(&["hasnt", "havent", "hadnt", "never"])
            .any(|w| bare(negator).eq(w.chars()))
}

/// True when the verb ending at `at` is followed by "by" and the customer
/// ("me", "us", "myself", "ourselves"): its passive names who did not do it
/// ("a purchase that wasn't done by me", "was not made by us").
fn by_customer(text: &str, at: usize) -> bool {
    let rest = text.get(at..).unwrap_or("");
    let rest = rest.trim_start_matches([' ', '\t']);
    let Some(rest) = rest
        .get(..3)
        .filter(|b| b.eq_ignore_ascii_case("by "))
        .map(|_| rest[3..].trim_start_matches([' ', '\t']))
    else {
        return false;
    };
    let end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let word = &rest[..end];
    let alnum_after = rest[end..]
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    !alnum_after
        && ["me", "us", "myself", "ourselves"]
            .iter()
            .any(|w| word.eq_ignore_ascii_case(w))
}

/// Adverbs without "-ly" that sit between a subject and its negated
/// auxiliary ("I just didn't", "we still haven't").
const SHORT_ADVERBS: &[&str] = &["just", "also", "still", "even", "ever"];

/// True when one of the last `n` words before `at`, in the same clause,
/// satisfies `is(k, tail, whole)`: `k` counts the words back from 0, `tail`
/// is the word's last (at most) 5 characters lower-cased (typographic
/// apostrophes as `'`), `whole` whether that is all of it (the words asked
/// for are short).
fn last_words(
    text: &str,
    at: usize,
    n: usize,
    mut is: impl FnMut(usize, &str, bool) -> bool,
) -> bool {
    let before = text.get(..at).unwrap_or("");
    let mut words = 0;
    // The word read backwards into a fixed buffer, lower-cased.
    let mut buf = [0u8; 5];
    let mut len = 0;
    for c in before.chars().rev().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '\'' || c == '\u{2019}' {
            let c = if c == '\u{2019}' { '\'' } else { c };
            len += 1;
            if len <= buf.len() {
                // A non-ASCII letter makes no word asked for: `0` keeps it
                // from matching.
                buf[buf.len() - len] = if c.is_ascii() {
                    c.to_ascii_lowercase() as u8
                } else {
                    0
                };
            }
            continue;
        }
        if len > 0 {
            let tail = len.min(buf.len());
            let w = std::str::from_utf8(&buf[buf.len() - tail..]).unwrap_or("");
            if is(words, w, len <= buf.len()) {
                return true;
            }
            len = 0;
            words += 1;
            if words == n {
                return false;
            }
        }
        if clause_break(c) {
            return false;
        }
    }
    false
}

/// Counts `!` and words of four or more ASCII letters written in capitals,
/// 64 bytes at a time: the bytes' capitals, small letters and `!` as bit
/// masks ([`bytes::letter_blocks`]); only words that start with a capital
/// are looked at (a few per sentence).
fn count_intensity(bytes: &[u8], out: &mut Scan) {
    // The last byte of the block before was a letter (its word goes on).
    let mut carry = 0u64;
    // Letters so far of a word in capitals still open at the block's end.
    let mut open: Option<u32> = None;
    for [upper, lower, bang] in bytes::letter_blocks(bytes) {
        out.exclamations += bang.count_ones();
        let letters = upper | lower;
        if let Some(n) = open.take() {
            // The open word goes on over the block's first letters.
            let k = (!letters).trailing_zeros();
            let span = if k == 64 { !0 } else { (1u64 << k) - 1 };
            if lower & span == 0 {
                if k == 64 {
                    open = Some(n + 64);
                } else if n + k >= 4 {
                    out.caps_words += 1;
                }
            }
        }
        // Words that start in this block with a capital.
        let mut starts = letters & !(letters << 1 | carry) & upper;
        carry = letters >> 63;
        while starts != 0 {
            let s = starts.trailing_zeros();
            starts &= starts - 1;
            let after = !letters & (!0u64 << s);
            let (e, word) = if after == 0 {
                (64, !0u64 << s)
            } else {
                let e = after.trailing_zeros();
                (e, (1u64 << e) - (1u64 << s))
            };
            if lower & word != 0 {
                continue;
            }
            if e == 64 {
                open = Some(64 - s);
            } else if e - s >= 4 {
                out.caps_words += 1;
            }
        }
    }
    // A word in capitals that runs to the end of the text.
    if open.is_some_and(|n| n >= 4) {
        out.caps_words += 1;
    }
}

/// Where `part`, a slice of `text` (every caller's invariant, said where it
/// calls), starts in `text`: the pointers' distance.
pub(crate) fn offset_in(text: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize)
}

/// `text` with the byte ranges `spans` blanked (each byte a space: the text
/// keeps its length, so what the readers quote is where it was); borrowed
/// when there are none. The spans are on character boundaries (every
/// caller's invariant: they start and end at ASCII bytes or the end), so
/// the bytes stay UTF-8; one out of bounds is left alone.
pub(crate) fn blanked<'a>(text: Cow<'a, str>, spans: &[(usize, usize)]) -> Cow<'a, str> {
    if spans.is_empty() {
        return text;
    }
    let mut b = text.into_owned().into_bytes();
    for &(s, e) in spans {
        if let Some(r) = b.get_mut(s..e) {
            r.fill(b' ');
        }
    }
    Cow::Owned(String::from_utf8(b).unwrap_or_default())
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character
/// boundary.
pub fn prefix(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    // Index 0 is always a boundary, so the loop ends.
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The longest suffix of `s` of at most `max` bytes that starts on a
/// character boundary.
pub fn suffix(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    // Index `len` is always a boundary, so the loop ends.
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
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
    fn a_rejected_match_does_not_hide_an_overlapping_one() {
        let d = detector();
        // "site down" is no phrase, but "service down" inside "myservice down"
        // fails the boundary; "down" must still be found.
        let s = scan(&d, "Myservice down again");
        assert_eq!(found(&d, &s), vec![("down".to_string(), false)]);
    }

    #[test]
    fn letter_runs_are_the_byte_loop_runs() {
        // The byte loop the speller had.
        let reference = |b: &[u8], limit: usize| {
            let (mut runs, mut i) = (Vec::new(), 0);
            while i < limit.min(b.len()) {
                if !b[i].is_ascii_alphabetic() {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                runs.push((start, i));
            }
            runs
        };
        let pieces = ["abc", "X", " ", "é", "1", "-", "Zz", &"w".repeat(70), "\n"];
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..3_000 {
            let mut t = String::new();
            for _ in 0..rng % 60 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                t.push_str(pieces[(rng % pieces.len() as u64) as usize]);
            }
            let b = t.as_bytes();
            for limit in [0, 1, 63, 64, 65, b.len() / 2, b.len(), b.len() + 5] {
                let mut runs = Vec::new();
                bytes::letter_runs(b, limit, |s, e| runs.push((s, e)));
                assert_eq!(runs, reference(b, limit), "{t:?} {limit}");
            }
        }
        for n in [63, 64, 65, 128, 129] {
            let t = "a".repeat(n);
            let mut runs = Vec::new();
            bytes::letter_runs(t.as_bytes(), n, |s, e| runs.push((s, e)));
            assert_eq!(runs, vec![(0, n)]);
        }
    }

    #[test]
    fn ascii_boundaries_are_the_char_boundaries() {
        // The original tests, by chars only.
        let before = |t: &str, i: usize| match (t.get(..i), t.get(i..)) {
            (Some(b), Some(f)) => match (b.chars().next_back(), f.chars().next()) {
                (Some(c), Some(f)) => !is_word_char(c) || !is_word_char(f),
                _ => true,
            },
            _ => false,
        };
        let after = |t: &str, i: usize| match (t.get(..i), t.get(i..)) {
            (Some(b), Some(a)) => match (b.chars().next_back(), a.chars().next()) {
                (Some(l), Some(c)) => !is_word_char(c) || !is_word_char(l),
                _ => true,
            },
            _ => false,
        };
        let ascii: String = (0..128u8).map(char::from).collect();
        for t in [ascii.as_str(), "ab_c d-é ñx,y é1 _ß 😀a", "", "a", "é"] {
            for i in 0..=t.len() + 1 {
                assert_eq!(boundary(t, i), before(t, i), "{t:?} {i}");
                assert_eq!(boundary(t, i), after(t, i), "{t:?} {i}");
            }
        }
    }

    #[test]
    fn unicode_punctuation_is_a_boundary_and_letters_are_not() {
        let d = detector();
        let s = scan(&d, "Everything is down… “urgent”");
        assert_eq!(
            found(&d, &s),
            vec![("down".to_string(), false), ("urgent".to_string(), false)]
        );
        let s = scan(&d, "downé");
        assert!(s.hits.is_empty(), "{:?}", found(&d, &s));
        let s = scan(&d, "server-down");
        assert_eq!(found(&d, &s), vec![("down".to_string(), false)]);
    }

    #[test]
    fn typographic_apostrophe_matches_too() {
        let mut b = DetectorBuilder::new();
        b.add("can't", Target::Negator);
        b.add("connect", Target::Expectation);
        let d = b.build(2).unwrap();
        let s = scan(&d, "We can’t connect");
        assert_eq!(found(&d, &s), vec![("connect".to_string(), true)]);
    }

    #[test]
    fn a_negation_without_its_apostrophe_matches_too() {
        let mut b = DetectorBuilder::new();
        b.add("doesn't work", Target::Category(0));
        b.add("don’t", Target::Negator);
        b.add("connect", Target::Expectation);
        b.add("we're late", Target::Category(1));
        // Test code: these phrases compile.
        let d = b.build(2).unwrap();
        let s = scan(&d, "it doesnt work, we dont connect, we were late");
        assert_eq!(
            found(&d, &s),
            vec![
                ("connect".to_string(), true),
                ("doesn't work".to_string(), false)
            ]
        );
        assert_eq!(
            without_apostrophe("can’t log in"),
            Some("cant log in".into())
        );
        assert_eq!(without_apostrophe("we're"), None);
    }

    /// An idiom hides the category and severity phrases inside it, not
    /// those elsewhere nor sentiment's, and is no hit itself; its spans are
    /// kept for the sentence model.
    #[test]
    fn an_idiom_hides_the_phrases_inside_it() {
        let mut b = DetectorBuilder::new();
        b.add("down", Target::Category(0));
        b.add("error", Target::Category(1));
        b.add("loss", Target::Severity(0));
        b.add("free", Target::Positive);
        b.add("drop down", Target::Idiom);
        b.add("error free", Target::Idiom);
        b.add("data loss prevention", Target::Idiom);
        // Test code: a set of phrases that does not build fails the test.
        let d = b.build(2).unwrap();
        let s = scan(&d, "The drop-down is empty, our site is down");
        assert_eq!(found(&d, &s), vec![("down".to_string(), false)]);
        assert_eq!(s.idioms, vec![(false, 4, 13)]);
        assert_eq!(s.hits[0].start, 36);
        let s = scan(&d, "Scrolling the drop downs, an error-free import");
        assert_eq!(found(&d, &s), vec![("free".to_string(), false)]);
        assert_eq!(s.idioms.len(), 2);
        let s = scan(&d, "Data loss prevention blocked it; data loss!");
        assert_eq!(found(&d, &s), vec![("loss".to_string(), false)]);
        assert_eq!(s.hits[0].start, 38);
    }

    /// The sentence model does not read a scan's idioms nor its asking
    /// phrases (the question's form), in the subject or the body; the
    /// category phrases it reads.
    #[test]
    fn the_model_reads_neither_idioms_nor_asking_phrases() {
        let mut b = DetectorBuilder::new();
        b.add("how do i", Target::AskingCategory(2));
        b.add("down", Target::Category(0));
        b.add("drop down", Target::Idiom);
        b.add("profile", Target::Category(1));
        // Test code: a set of phrases that does not build fails the test.
        let d = b.build(2).unwrap();
        let mut s = Scan::default();
        d.scan("How do I edit the drop-down?", true, &mut s);
        d.scan(
            "Our site is down. How do I update my profile?",
            false,
            &mut s,
        );
        let mut unread = vec![(true, 99, 99)];
        d.unread(&s, &mut unread);
        assert_eq!(unread, vec![(true, 18, 27), (true, 0, 8), (false, 18, 26)]);
        let body = "Our site is down. How do I update my profile?";
        let spans = [(18, 26)];
        assert_eq!(
            blanked(Cow::Borrowed(body), &spans),
            "Our site is down.          update my profile?"
        );
    }

    /// A phrase of two words also matches them joined by a hyphen.
    #[test]
    fn two_words_match_as_a_compound() {
        let mut b = DetectorBuilder::new();
        b.add("log in", Target::Category(0));
        b.add("double charged", Target::Negative);
        b.add("take forever", Target::Negative);
        // Test code: as above.
        let d = b.build(2).unwrap();
        let s = scan(&d, "log-in fails, I was double-charged, it takes-forever");
        assert_eq!(
            found(&d, &s),
            vec![
                ("double charged".to_string(), false),
                ("take forever".to_string(), false),
                ("log in".to_string(), false),
            ]
        );
        // Three words are not joined.
        let mut b = DetectorBuilder::new();
        b.add("reset my password", Target::Category(0));
        // Test code: as above.
        let d = b.build(2).unwrap();
        assert!(scan(&d, "reset-my-password").hits.is_empty());
    }

    #[test]
    fn families_do_not_compete() {
        let mut b = DetectorBuilder::new();
        b.add("doesn't work", Target::Category(0));
        b.add("doesn't", Target::Negator);
        b.add("work", Target::Expectation);
        let d = b.build(2).unwrap();
        let s = scan(&d, "it doesn't work");
        assert_eq!(
            found(&d, &s),
            vec![
                ("work".to_string(), true),
                ("doesn't work".to_string(), false)
            ]
        );
    }

    /// No one or nothing as the subject negates the expectation its verb
    /// names, past the rest of the subject, and nothing else.
    #[test]
    fn a_subject_negator_negates_only_the_expectation_of_its_clause() {
        let d = detector_of(&[
            ("none", Target::SubjectNegator),
            ("nothing", Target::SubjectNegator),
            ("nobody", Target::SubjectNegator),
            ("nobody answered", Target::Negative),
            ("not", Target::Negator),
            ("work", Target::Expectation),
            ("log in", Target::Expectation),
            ("access", Target::Expectation),
            ("problem", Target::Negative),
            ("love", Target::Positive),
            ("entire team", Target::Severity(0)),
            ("recognize", Target::NegatedCategory(0)),
            ("load", Target::NegatedCategory(1)),
        ]);
        let f = |t: &str| found(&d, &scan(&d, t));
        let yes = |p: &str| vec![(p.to_string(), true)];
        assert_eq!(f("None of the links in the email work"), yes("work"));
        assert_eq!(f("nothing works"), yes("work"));
        assert_eq!(
            f("Nobody on the entire team can log in"),
            vec![
                ("log in".to_string(), true),
                ("entire team".to_string(), false)
            ]
        );
        // Not what is not expected, not across a clause, not too far.
        assert_eq!(
            f("None of these problems have been fixed"),
            vec![("problem".to_string(), false)]
        );
        assert_eq!(f("nothing but love"), vec![("love".to_string(), false)]);
        assert_eq!(
            f("nothing to worry about, it works now"),
            vec![("work".to_string(), false)]
        );
        assert_eq!(
            f("nobody on our team of 40 people can log in"),
            yes("log in")
        );
        assert_eq!(
            f("none of the many scheduled export jobs we set up this week work"),
            vec![("work".to_string(), false)]
        );
        // A category's negated phrase as the clause's verb is negated by
        // it ("Nothing loads for anyone": outage's "load").
        assert_eq!(f("nothing loads for anyone"), yes("load"));
        assert_eq!(f("nobody recognizes it"), yes("recognize"));
        // ("here" is no rest of the subject: another verb may follow.)
        assert_eq!(f("nobody here recognize it"), vec![]);
        // The expectation another verb acts on is not negated.
        assert_eq!(
            f("Nobody else needs access"),
            vec![("access".to_string(), false)]
        );
        assert_eq!(f("nothing seems to work"), yes("work"));
        assert_eq!(f("nobody else can log in"), yes("log in"));
        // A phrase of its own wins over the word.
        assert_eq!(
            f("nobody answered"),
            vec![("nobody answered".to_string(), false)]
        );
        // The nearer plain negator decides.
        assert_eq!(f("nothing new, it does not work"), yes("work"));
    }

    #[test]
    fn a_negated_comparative_is_no_negation() {
        let d = detector_of(&[
            ("couldn't", Target::Negator),
            ("not", Target::Negator),
            ("helpful", Target::Positive),
            ("frustrating", Target::Negative),
        ]);
        let f = |t: &str| found(&d, &scan(&d, t));
        let plain = |p: &str| vec![(p.to_string(), false)];
        assert_eq!(f("You couldn't have been more helpful!"), plain("helpful"));
        assert_eq!(
            f("It couldn't be any more frustrating"),
            plain("frustrating")
        );
        assert_eq!(f("They couldn't be more helpful"), plain("helpful"));
        // Negated as usual.
        assert_eq!(f("It was not helpful"), vec![("helpful".to_string(), true)]);
        assert_eq!(
            f("It was not more helpful"),
            vec![("helpful".to_string(), true)]
        );
        assert!(superlative_gap(" be more "));
        assert!(superlative_gap(" have been any "));
        assert!(!superlative_gap(" more "));
        assert!(!superlative_gap(" be more than a little "));
    }

    #[test]
    fn inflections_share_the_stem_and_start_like_the_word() {
        let f = |w: &str| word_forms(w);
        for (w, must) in [
            (
                "cancel",
                &[
                    "cancelled",
                    "canceled",
                    "cancelling",
                    "cancels",
                    "cancellation",
                ][..],
            ),
            ("outage", &["outages"]),
            ("error", &["errors"]),
            ("urgent", &["urgently"]),
            ("charge", &["charged", "charges", "charging"]),
            ("delay", &["delayed", "delays"]),
            // Written with a plural or third-person ending: from the base too.
            ("fails", &["fail", "failed", "failing"]),
            ("crashes", &["crash", "crashed", "crashing"]),
            ("timeouts", &["timeout"]),
        ] {
            let forms = f(w);
            for m in must {
                assert!(
                    forms.iter().any(|x| x == m),
                    "{w}: {m} missing from {forms:?}"
                );
            }
        }
        // Never the stem's other words: "helpful" is not "help", "important"
        // not "import".
        assert!(!f("helpful").contains(&"help".to_string()));
        assert!(!f("important").contains(&"import".to_string()));
        // Nor a base of another stem ("news" is not "new"), nor a past form
        // cut back ("pleased" is not "please", though Snowball stems both
        // "pleas").
        assert!(!f("news").contains(&"new".to_string()));
        assert!(!f("pleased").contains(&"please".to_string()));
        // Nor a grammatical word ("ours" is not "our").
        assert!(!f("ours").contains(&"our".to_string()));
        // Nor another word that shares the stem: "several users" is no
        // severe problem, "the majority of" no major one.
        assert!(!f("severe").contains(&"several".to_string()));
        assert!(!f("severe").contains(&"severity".to_string()));
        // "exceptional" is praise, not a form of the error word.
        assert!(!f("exception").contains(&"exceptional".to_string()));
        assert!(f("exception").contains(&"exceptions".to_string()));
        assert!(f("severe").contains(&"severely".to_string()));
        assert!(!f("major").contains(&"majority".to_string()));
        assert!(NOT_FORMS.windows(2).all(|w| w[0] < w[1]));
        // A word of two letters has its plural, as the stems read it.
        assert_eq!(f("ip"), vec!["ip".to_string(), "ips".to_string()]);
        assert_eq!(stem_key("unknown ips"), stem_key("unknown ip"));
        // Codes and contractions stay as written.
        assert_eq!(f("502"), vec!["502".to_string()]);
        assert_eq!(f("can't"), vec!["can't".to_string()]);
        assert_eq!(stem_key("Errors  Crashed"), "error crash");
    }

    #[test]
    fn case_insensitive_longest_phrase_on_word_boundaries() {
        let d = detector();
        // "downtime" and "lowdown" are other words; "invoices" is an
        // inflection of the phrase "invoice" (shown as the rules wrote it).
        let s = scan(&d, "SERVICE DOWN since noon; downtime, lowdown, invoices");
        assert_eq!(
            found(&d, &s),
            vec![
                ("service down".to_string(), false),
                ("invoice".to_string(), false)
            ]
        );
        assert_eq!(s.hits[0].weight, 2.0);
    }

    #[test]
    fn a_phrase_weighs_its_words_but_the_grammatical_ones() {
        for (phrase, w) in [
            ("reset password", 2.0),
            ("how do i", 1.0),
            ("is it possible", 1.0),
            ("log in", 1.0),
            ("not working", 2.0),
            ("doesn't work", 2.0),
            ("would be nice", 1.0),
            ("the", 1.0),
            ("invoice", 1.0),
            ("it's possible", 1.0),
            ("it\u{2019}s possible", 1.0),
            ("set up", 1.0),
        ] {
            assert_eq!(weight(phrase), w, "{phrase}");
        }
        // What a hit carries: that weight, doubled in the subject.
        let mut b = DetectorBuilder::new();
        b.add("how do i", Target::Category(0));
        b.add("reset password", Target::Category(1));
        let d = b.build(2).unwrap();
        let mut scan = Scan::default();
        d.scan("How do I reset password", true, &mut scan);
        d.scan("how do i", false, &mut scan);
        let w: Vec<f32> = scan.hits.iter().map(|h| h.weight).collect();
        assert_eq!(w, [2.0, 4.0, 1.0]);
    }

    #[test]
    fn negation_within_window_and_clause() {
        let d = detector();
        let s = scan(
            &d,
            "The export is not working and the mail never really arrives.",
        );
        assert_eq!(
            found(&d, &s),
            vec![("working".to_string(), true), ("arrives".to_string(), true)]
        );
        let s = scan(
            &d,
            "Not sure why, but it is working. I am not at all very happy",
        );
        assert_eq!(
            found(&d, &s),
            vec![("working".to_string(), false), ("happy".to_string(), false)]
        );
        // "not just", "not only" add; they deny nothing.
        assert!(adds_to(" just "));
        assert!(adds_to(" Only really "));
        assert!(!adds_to(" really "));
        assert!(!adds_to(" justly "));
        assert!(!adds_to(""));
        // After "why" the subject stands between the negator and the verb:
        // the negation reaches five words (a contraction: "why not …" is a
        // suggestion).
        let mut b = DetectorBuilder::new();
        b.add("isn't", Target::Negator);
        b.add("working", Target::Expectation);
        // Test code: these phrases compile.
        let d = b.build(2).unwrap();
        let s = scan(&d, "Why isn't my disposable virtual card working?");
        assert_eq!(found(&d, &s), vec![("working".to_string(), true)]);
        let s = scan(
            &d,
            "Why isn't this very old disposable virtual card working?",
        );
        assert_eq!(found(&d, &s), vec![("working".to_string(), false)]);
        let s = scan(&d, "It isn't my disposable virtual card working");
        assert_eq!(found(&d, &s), vec![("working".to_string(), false)]);
        assert!(asks_why_not("why doesnt it", 4, 10));
        assert!(asks_why_not("Why won\u{2019}t it", 4, 11));
        assert!(!asks_why_not("why not add it", 4, 7));
        assert!(!asks_why_not("so won't it", 3, 8));
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
        assert!(within_window(" ", 0, false));
        assert!(within_window(" really ", 1, false));
        assert!(!within_window(" really truly ", 1, false));
        assert!(!within_window(", ", 3, false));
        assert!(within_window(" don't ", 1, false));
        assert!(within_window(" don’t ", 1, false));
        assert!(!within_window("… ", 3, false));
        assert!(!within_window("。", 3, false));
        // Through determiners to a noun, not to a verb.
        assert!(within_window(" had a single ", 1, true));
        assert!(!within_window(" had a single ", 1, false));
        assert!(within_window(" any ", 0, true));
        assert!(!within_window(" so much a ", 2, false));
    }

    #[test]
    fn a_clause_ends_and_a_customer_speaks() {
        // After the match: spaces, closing quotes and brackets, then a
        // break or the end.
        for (text, at) in [
            ("make", 4),
            ("make.", 4),
            ("make \"), thanks", 4),
            ("make\r\nthanks", 4),
            ("make\u{201d}!", 4),
            ("make… ", 4),
            // The object shown, or the sentence going on past the
            // relative clause.
            ("make this payment", 4),
            ("make THESE.", 4),
            ("make shows in my app", 4),
            ("make from Brazil", 4),
            ("make\u{2019} on my card", 4),
            ("do it.", 2),
            ("do it", 2),
        ] {
            assert!(acted_on_is_shown(text, at), "{text:?}");
        }
        for (text, at) in [
            ("make any", 4),
            ("make it to the meeting", 4),
            ("make-up", 4),
            ("make a payment", 4),
            ("make thisx", 4),
            ("make this1", 4),
            ("make that clear", 4),
            ("do in-app purchases", 2),
            ("make isn't", 4),
            ("make th\u{e9}s\u{e9}", 4),
            ("make somethinglong", 4),
        ] {
            assert!(!acted_on_is_shown(text, at), "{text:?}");
        }
        // One of the three words before the negator, in its clause, with
        // auxiliaries or adverbs between.
        for text in [
            "I didn't",
            "that we did not",
            "a payment i have never",
            "We\u{2019}ve never",
            "that I definitely didn't",
            "I just didn't",
            "we still haven't",
            "I definitely did not",
            "we certainly have never",
        ] {
            let at = text.rfind(' ').unwrap();
            assert!(first_person_before(text, at, false), "{text:?}");
        }
        // A state only where a state may deny ("I'm not recognizing").
        for (text, state) in [
            ("I'm not", true),
            ("we are really not", true),
            ("I am not", true),
        ] {
            let at = text.rfind(' ').unwrap();
            assert_eq!(first_person_before(text, at, state), state, "{text:?}");
            assert!(!first_person_before(text, at, false), "{text:?}");
        }
        for text in [
            "it was not",
            "I think it did not",
            "I think they really did not",
            "I made it did not",
            "I. It did not",
            "insight did not",
            "we, they did not",
            " not",
            "I. not",
            "we, never",
            "I\nnever",
            // A verb between: the customer's own act, not a denial.
            "the card payment I made didn't",
            "a transfer we sent never",
        ] {
            // The negator's start: after the last space or line break.
            let at = text.rfind([' ', '\n']).unwrap() + 1;
            assert!(!first_person_before(text, at, false), "{text:?}");
            assert!(!first_person_before(text, at, true), "{text:?}");
        }
        // A denial of a past action, not an inability or a state.
        let denied_as = |text: &str, state: bool| {
            let (ns, word) = text.rsplit_once(' ').unwrap();
            let ns = ns.len() + 1;
            denied_by_customer(text, (ns, ns + word.len()), state)
        };
        let denied = |text: &str| denied_as(text, false);
        // A state denies a phrase that is no action ("recognize").
        for text in ["I'm not", "I am not", "we are not", "we\u{2019}re not"] {
            assert!(denied_as(text, true), "{text:?}");
            assert!(!denied(text), "{text:?}");
        }
        for text in ["they are not", "I'm unable", "it is not"] {
            assert!(!denied_as(text, true), "{text:?}");
        }
        for text in [
            "I didn't",
            "we did not",
            "I have never",
            "we havent",
            "I\u{2019}ve not",
            "I do not",
        ] {
            assert!(denied(text), "{text:?}");
        }
        for text in [
            "I can't",
            "we are not",
            "I won't",
            "it did not",
            "I am unable",
        ] {
            assert!(!denied(text), "{text:?}");
        }
    }

    /// How many of the category hits in `text` are disowned.
    fn disowned_hits(d: &Detector, text: &str) -> usize {
        scan(d, text)
            .hits
            .iter()
            .filter(|h| h.family == FAMILY_CATEGORY && h.disowned)
            .count()
    }

    #[test]
    fn a_disowned_action_is_a_verb() {
        assert!(verb_form("authorized", "authorize"));
        assert!(verb_form("authorizing", "authorize"));
        assert!(verb_form("requests", "request"));
        assert!(verb_form("stopped", "stop"));
        assert!(verb_form("set up", "set up"));
        assert!(!verb_form("authorization", "authorize"));
        assert!(!verb_form("approval", "approve"));
        assert!(!verb_form("requester", "request"));
        assert!(!verb_form("creations", "create"));
        let d = detector_of(&[
            ("authorize", Target::DisownedCategory(0)),
            ("not", Target::Negator),
            ("didn't", Target::Negator),
            ("wasn't", Target::Negator),
            ("no", Target::Negator),
        ]);
        // Two adverbs or auxiliaries between subject and negator; a clause
        // of the customer's own after a verb of belief; the passive naming
        // the customer after a negator of the passive (not "no", nor an
        // inability).
        for (text, disowned) in [
            ("a charge I didn't authorize.", 1),
            // "authorise" is another word here.
            ("a charge I did not authorise\u{a0}!", 0),
            ("charges I didn't authorize\u{a0}!", 1),
            ("I have no authorization.", 0),
            ("We are not authorized.", 0),
            ("I definitely did not authorize this", 1),
            ("I didn't think I authorized this.", 1),
            // "don't" is no negator of this detector.
            ("I don't believe we ever authorized this.", 0),
            ("I did not think they authorized this.", 0),
            ("I did not think I authorized any refund", 0),
            ("a charge that was not authorized by me", 1),
            ("it wasn't authorized by us!", 1),
            ("it wasn't authorized by usual means", 0),
            ("it wasn't authorized by the admin", 0),
            ("it was authorized by me", 0),
            ("No changes authorized by us, but the sync stopped.", 0),
            ("it could not be authorized by me", 0),
            // Denied after it, the verb left out: the sentence ends with
            // the denial of the customer who is the verb's subject.
            ("The log says I authorized it, but I didn't.", 1),
            ("It shows we authorized a transfer but we never did!", 1),
            ("The app says I authorized it but I did not", 1),
            ("says I authorized it but I didn\u{2019}t. Odd.", 1),
            ("I authorized the plan but I didn't get the invoice.", 0),
            ("They authorized it but I didn't.", 0),
            ("I authorized it. But I didn't.", 0),
            ("I authorized it but we never", 1),
        ] {
            assert_eq!(disowned_hits(&d, text), disowned, "{text:?}");
        }
        // The customer as a whole, the subject a negator stands for.
        let d = detector_of(&[
            ("authorize", Target::DisownedCategory(0)),
            ("none", Target::SubjectNegator),
            ("nobody", Target::SubjectNegator),
        ]);
        for (text, disowned) in [
            ("a charge none of us authorized.", 1),
            ("Nobody on our team authorized this charge", 1),
            ("a transfer nobody here ever authorized!", 1),
            ("a transfer nobody authorized", 0),
            ("none of the admins authorized this", 0),
            ("nobody here authorized any changes", 0),
        ] {
            assert_eq!(disowned_hits(&d, text), disowned, "{text:?}");
        }
        assert!(names_the_customer(" of us "));
        assert!(names_the_customer(" on our team has "));
        assert!(!names_the_customer(" of us who "));
        assert!(!names_the_customer(" on the team "));
    }

    /// A sentiment phrase right after a negator that takes a verb is a
    /// negated action ("can't cancel"); after "not", a negated "be" or
    /// with words between, a negated word as before.
    #[test]
    fn a_phrase_negated_as_an_action() {
        let d = detector_of(&[
            ("cancel", Target::Negative),
            ("disappointed", Target::Negative),
            ("problem", Target::Negative),
            ("not", Target::Negator),
            ("can't", Target::Negator),
            ("cant", Target::Negator),
            ("didn't", Target::Negator),
            ("won't", Target::Negator),
            ("isn't", Target::Negator),
            ("unable to", Target::Negator),
            ("never", Target::Negator),
        ]);
        let hit = |text: &str| {
            let s = scan(&d, text);
            s.hits
                .iter()
                .map(|h| (h.negated, h.acted))
                .collect::<Vec<_>>()
        };
        for text in [
            "I can't cancel my plan",
            "I cant cancel my plan",
            "I didn't cancel my top-up",
            "we are unable to cancel",
        ] {
            assert_eq!(hit(text), [(true, true)], "{text:?}");
        }
        for text in [
            "you won't be disappointed",
            "it isn't a problem",
            "not a problem",
            "I never cancelled",
        ] {
            assert_eq!(hit(text), [(true, false)], "{text:?}");
        }
        assert_eq!(hit("I want to cancel"), [(false, false)]);
        assert!(takes_a_verb("Didn\u{2019}t") && takes_a_verb("cannot") && takes_a_verb("wont"));
        assert!(!takes_a_verb("isn't") && !takes_a_verb("not") && !takes_a_verb("never"));
    }

    /// A detector of `phrases` with a negation window of 2.
    fn detector_of(phrases: &[(&str, Target)]) -> Detector {
        let mut b = DetectorBuilder::new();
        for &(p, t) in phrases {
            b.add(p, t);
        }
        b.build(2).unwrap()
    }

    #[test]
    fn an_outcome_is_wanted_before_it_is_had() {
        let wanted = |before: &str| wanted_outcome(clause_words_before(before, 5));
        for before in [
            "We need this",
            "It must be",
            "It needs to be",
            "Please get the issue",
            "We would like the whole problem",
            "Outage. We need",
        ] {
            assert!(wanted(before), "{before}");
        }
        for before in [
            "It has been",
            "We needed a restart and now it's",
            "Glad to see it",
            "We need it, but it is",
            // Another clause.
            "We need help. It is",
            "",
        ] {
            assert!(!wanted(before), "{before}");
        }
    }

    #[test]
    fn without_negates_an_expectation_only_as_a_noun() {
        let d = detector_of(&[
            ("reply", Target::Expectation),
            ("log in", Target::Expectation),
            ("without", Target::Negator),
        ]);
        let negated = |text: &str| scan(&d, text).hits.iter().any(|h| h.negated);
        assert!(negated("two weeks without a reply"));
        assert!(negated("still without any reply"));
        assert!(!negated("can I view it without logging in?"));
        assert!(!negated("I got it working without reply from you"));
    }

    #[test]
    fn a_verb_of_ceasing_denied_negates_nothing() {
        let d = detector_of(&[
            ("working", Target::Expectation),
            ("stopped", Target::Negator),
            ("never", Target::Negator),
            ("hasn't", Target::Negator),
        ]);
        let negated = |text: &str| scan(&d, text).hits.iter().any(|h| h.negated);
        assert!(negated("the sync stopped working"));
        assert!(!negated("it never stopped working"));
        assert!(!negated("the sync hasn't stopped working once"));
    }

    #[test]
    fn an_irregular_verb_matches_its_forms_in_what_a_ticket_is_about() {
        let d = detector_of(&[
            ("broken", Target::Category(0)),
            ("lost data", Target::Severity(0)),
            ("send", Target::Expectation),
            ("not", Target::Negator),
        ]);
        let families = |text: &str| {
            scan(&d, text)
                .hits
                .iter()
                .map(|h| h.family)
                .collect::<Vec<_>>()
        };
        for text in [
            "the update broke the export",
            "it breaks every time",
            "the sync keeps breaking",
        ] {
            assert_eq!(families(text), [FAMILY_CATEGORY], "{text}");
        }
        for text in ["we are losing data", "the import loses data"] {
            assert_eq!(families(text), [FAMILY_SEVERITY], "{text}");
        }
        // The base only as written ("a page break"); the sentiment's
        // phrases keep their stems ("sent" is no "send").
        assert!(families("insert a page break").is_empty());
        assert!(!families("it was not sent").contains(&FAMILY_SENTIMENT));
        assert!(phrase_forms("broken", true).contains(&"broke".to_string()));
        assert!(!phrase_forms("broken", false).contains(&"broke".to_string()));
    }

    #[test]
    fn a_phrase_naming_the_customer_counts_only_disowned() {
        let d = detector_of(&[
            ("mine", Target::NegatedCategory(0)),
            ("me", Target::NegatedCategory(0)),
            ("us", Target::NegatedCategory(0)),
            ("recognize", Target::NegatedCategory(0)),
            ("not", Target::Negator),
            ("haven't", Target::Negator),
            ("wasn't", Target::Negator),
            ("did not", Target::Negator),
        ]);
        let hits = |text: &str| {
            let s = scan(&d, text);
            s.hits
                .iter()
                .filter(|h| h.family == FAMILY_CATEGORY)
                .map(|h| (h.negated, h.denied))
                .collect::<Vec<_>>()
        };
        assert_eq!(hits("this payment is not mine"), [(true, true)]);
        assert!(hits("I haven't received mine yet").is_empty());
        // An object pronoun only as who did something.
        for (text, disowned) in [
            ("that was not me", true),
            ("it wasn't me!", true),
            ("those were not us", true),
            ("it\u{2019}s not us, the export fails", false),
            ("it is not me", false),
            ("painful (not me)", false),
            ("you did not tell me", false),
            ("it is not messages", false),
        ] {
            let found = hits(text);
            assert_eq!(
                found.contains(&(true, true)),
                disowned,
                "{text:?}: {found:?}"
            );
        }
        // A state denies what is no action.
        assert_eq!(hits("I'm not recognizing this charge"), [(true, true)]);
        assert_eq!(hits("they are not recognizing the file"), [(true, false)]);
        assert_eq!(hits("I'm not recognized as an admin"), [(true, false)]);
    }

    #[test]
    fn a_stranger_counts_acting_on_the_customers_things() {
        let d = detector_of(&[
            ("someone", Target::StrangerCategory(0)),
            ("somebody", Target::StrangerCategory(0)),
        ]);
        let acting = |text: &str| {
            let s = scan(&d, text);
            let hits: Vec<_> = s
                .hits
                .iter()
                .filter(|h| h.family == FAMILY_CATEGORY)
                .collect();
            assert!(hits.iter().all(|h| h.disowned), "{text:?}");
            !hits.is_empty()
        };
        for text in [
            "Someone used my card",
            "I think someone is using my card.",
            "someone might have access to my card!",
            "somebody has my password",
            "Someone else has been logging into our account",
            "someone has apparently withdrawn money using my card",
            "a payment made by someone else",
            "my card was used by somebody",
            "Someone took my phone",
            "Someone\u{2019}s changed my email",
            "Someone else charged my card!",
            "my card was charged by somebody else",
            // A place that names no one: the verb a few words on.
            "Someone from an unknown IP logged into our admin account",
            "somebody in another country has accessed my account",
            // The customer's own a few words after the verb.
            "Someone changed the owner email on our workspace last night",
        ] {
            assert!(acting(text), "{text:?}");
        }
        for text in [
            "Can someone check my invoice?",
            "please somebody reset my password",
            "Someone from your team changed our plan",
            "someone on our side updated my settings",
            "someone from a partner agency used our shared login",
            "someone in a meeting told me my invoice is wrong",
            "someone told me to write here",
            "someone helped my colleague yesterday",
            "someone will contact you",
            "someone changed the logo, and my team noticed",
            "a novel written by somebody else",
            "my ticket was answered by someone",
            "Someone updated my ticket but nobody replied.",
            "Someone closed my ticket without answering.",
            "My ticket was closed by someone.",
            "Has someone processed my refund yet?",
            "I see someone is looking into my issue",
            "Someone was supposed to fix my integration",
            "Someone accidentally deleted our dashboard, can you restore it?",
            "someone named Anna upgraded our plan",
            "Someone has answered my ticket, but the fix didn't work",
            "This workflow was created by someone else and we can't edit it.",
            "The dashboard was shared by someone that left the company",
            "Someone charged my card twice for the same invoice.",
            "Somebody keeps getting locked out of our account",
            "Someone got locked out of our account",
            "Someone else was charged for our subscription",
            "Someone else paid our invoice by mistake",
            "Someone else will be paying for our plan from now on",
            "someone",
            "I need someone to look at my account",
        ] {
            assert!(!acting(text), "{text:?}");
        }
    }

    #[test]
    fn duplicate_phrase_carries_both_meanings() {
        let mut b = DetectorBuilder::new();
        b.add("breach", Target::Category(3));
        b.add("BREACH", Target::Phrase(0));
        let d = b.build(2).unwrap();
        assert_eq!(d.targets(0), &[Target::Category(3), Target::Phrase(0)]);
    }

    /// The byte-by-byte original of [`count_intensity`].
    fn count_intensity_reference(bytes: &[u8]) -> (u32, u32) {
        let (mut run, mut upper, mut ex, mut caps) = (0u32, true, 0u32, 0u32);
        for &b in bytes {
            if b.is_ascii_alphabetic() {
                run += 1;
                upper &= b.is_ascii_uppercase();
                continue;
            }
            if b == b'!' {
                ex += 1;
            }
            if run >= 4 && upper {
                caps += 1;
            }
            run = 0;
            upper = true;
        }
        if run >= 4 && upper {
            caps += 1;
        }
        (ex, caps)
    }

    #[test]
    fn fast_intensity_count_matches_the_reference() {
        let pieces = [
            "the ",
            "THIS ",
            "IS",
            "BROKEN",
            "!!! ",
            "Fix ",
            "it ",
            "NOW",
            ", ",
            "ünïcödé ",
            "ÄRGER ",
            "abcdefgh",
            "ABCDEFGH",
            "ABCD",
            "abcdEFGH",
            "\n",
            "  ",
            "x",
            "X",
            "ok.",
            "HELLO!",
            "😀",
            "WORLDWIDE",
            "dataloss",
            "é",
            "1234",
            "A1B2C3D4",
        ];
        let check = |t: &str| {
            let mut s = Scan::default();
            count_intensity(t.as_bytes(), &mut s);
            assert_eq!(
                (s.exclamations, s.caps_words),
                count_intensity_reference(t.as_bytes()),
                "{t:?}"
            );
        };
        // Words across the 64-byte blocks, and texts of whole blocks.
        for (pad, word, len) in [
            (0, "A", 64),
            (0, "A", 130),
            (62, "A", 4),
            (61, "A", 3),
            (60, "a", 8),
        ] {
            for tail in ["", " ", "b", "!"] {
                check(&format!("{}{}{tail}", " ".repeat(pad), word.repeat(len)));
            }
        }
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for _ in 0..20_000 {
            let mut t = String::new();
            for _ in 0..(next() % 40) {
                t.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            check(&t);
        }
    }
}

#[cfg(test)]
mod automaton_equivalence {
    use super::*;

    /// The repacked table walked in two halves finds exactly the matches
    /// that aho-corasick's own overlapping search finds (then filtered to
    /// word boundaries), on texts long and short, with the shipped rules.
    /// The clause readers read a number's separator as a part of the word,
    /// and any other as the break it is.
    #[test]
    fn a_separator_inside_a_number_is_no_clause_break() {
        let after: Vec<_> = clause_word_slices(" of our 1,200 users, then more", 9).collect();
        assert_eq!(after, ["of", "our", "1,200", "users"]);
        let after: Vec<_> = clause_word_slices(" 2.5 hours. Then", 9).collect();
        assert_eq!(after, ["2.5", "hours"]);
        let before: Vec<_> = clause_words_before("Sadly, all of our 1,500 stores", 9).collect();
        assert_eq!(before, ["stores", "1,500", "our", "of", "all"]);
        let before: Vec<_> = clause_words_before("It failed. 3, then 4", 9).collect();
        assert_eq!(before, ["4", "then"]);
        assert_eq!(clause_words_before("", 3).count(), 0);
        assert_eq!(clause_words_before("word, ", 3).count(), 0);
        assert!(is_number("1,200") && is_number("40") && is_number("2.5"));
        assert!(!is_number(",5") && !is_number("v2") && !is_number(""));
    }

    #[test]
    fn split_walk_finds_what_the_reference_search_finds() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/rules.toml");
        let rules = crate::rules::load(&path, &|p| std::fs::read(p))
            .expect("shipped rules")
            .rules;
        let d = &rules.detector;
        let reference = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&d.patterns)
            .unwrap();
        let mut pieces: Vec<String> = d.patterns.iter().take(120).cloned().collect();
        pieces.extend(
            [
                " ", " ", ", ", ". ", "\n", "-", "x", "é", "ÜBER ", "😀", "Data", "LOSS", "not ",
            ]
            .map(String::from),
        );
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut scan = Scan::default();
        for round in 0..3000 {
            let words = (next() % 160) as usize;
            let mut text = String::new();
            for _ in 0..words {
                let p = &pieces[(next() % pieces.len() as u64) as usize];
                if next() % 3 == 0 {
                    text.push_str(&p.to_ascii_uppercase());
                } else {
                    text.push_str(p);
                }
                if next() % 2 == 0 {
                    text.push(' ');
                }
            }
            let mut want: Vec<(u32, u32, u32)> = reference
                .find_overlapping_iter(&text)
                .filter(|m| boundary(&text, m.start()) && boundary(&text, m.end()))
                .map(|m| (m.start() as u32, m.end() as u32, m.pattern().as_u32()))
                .collect();
            want.sort_unstable_by_key(|&(s, e, p)| (s, std::cmp::Reverse(e), p));
            scan.clear();
            d.scan(&text, false, &mut scan);
            let mut got = scan.matches.clone();
            got.sort_unstable_by_key(|&(s, e, p)| (s, std::cmp::Reverse(e), p));
            assert_eq!(got, want, "round {round}, text {text:?}");
        }
    }
}

/// Byte classes for the word scanners of the sentiment scorer and the
/// speller (one table load per byte).
pub(crate) mod bytes {
    pub const WS: u8 = 1;
    pub const PUNCT: u8 = 2;
    pub const UPPER: u8 = 4;
    pub const LOWER: u8 = 8;
    /// Anything but an ASCII letter.
    pub const NOT_ALPHA: u8 = 16;
    pub const NUL: u8 = 32;

    const CLASSES: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            let b = i as u8;
            t[i] = if b.is_ascii_whitespace() {
                WS | NOT_ALPHA
            } else if b.is_ascii_punctuation() {
                PUNCT | NOT_ALPHA
            } else if b.is_ascii_uppercase() {
                UPPER
            } else if b.is_ascii_lowercase() {
                LOWER
            } else if b == 0 {
                NUL | NOT_ALPHA
            } else {
                NOT_ALPHA
            };
            i += 1;
        }
        t
    };

    #[inline(always)]
    pub fn class(b: u8) -> u8 {
        CLASSES[b as usize]
    }

    /// A word of at most 16 bytes as one integer (its bytes, little-endian,
    /// zero-padded: one multiply to hash, one compare to match); `None`
    /// when longer, or with a NUL byte (which would read as the end of a
    /// shorter word).
    #[inline]
    pub fn pack(w: &[u8]) -> Option<u128> {
        if w.len() > 16 || w.contains(&0) {
            return None;
        }
        let mut k = [0u8; 16];
        k[..w.len()].copy_from_slice(w);
        Some(u128::from_le_bytes(k))
    }

    /// Where a text's ASCII whitespace is, one bit per byte (bit `k` of
    /// word `w` is byte `64·w + k`; past the end is whitespace), found 32
    /// bytes per step with AVX2: a tokenizer finds every word's edges with
    /// bit operations instead of a table lookup and a branch per byte.
    #[derive(Debug, Default, Clone, PartialEq, Eq)]
    pub struct Spaces {
        bits: Vec<u64>,
    }

    impl Spaces {
        /// The whitespace of `b` (replacing what `self` held).
        pub fn of(&mut self, b: &[u8]) {
            self.build(b, crate::simd::spaces);
        }

        /// [`Spaces::of`] with the given classification, which sets the
        /// bits of the bytes it did and returns how many (the rest are done
        /// byte by byte; tests compare the vector code with that).
        pub(crate) fn build(&mut self, b: &[u8], vector: impl Fn(&[u8], &mut [u64]) -> usize) {
            let n = b.len();
            self.bits.clear();
            self.bits.resize(n.div_ceil(64) + 1, 0);
            let done = vector(b, &mut self.bits);
            for (i, &x) in b.iter().enumerate().skip(done) {
                self.bits[i / 64] |= u64::from(x.is_ascii_whitespace()) << (i % 64);
            }
            self.bits[n / 64] |= !0u64 << (n % 64);
            for w in &mut self.bits[n / 64 + 1..] {
                *w = !0;
            }
        }

        /// Calls `f(start, end)` for each whitespace-separated token, in
        /// order: the bits where whitespace starts or stops, 64 bytes at a
        /// time.
        #[inline]
        pub fn tokens(&self, mut f: impl FnMut(usize, usize)) {
            // Before the text: whitespace.
            let (mut before, mut start) = (1u64, 0usize);
            for (w, &ws) in self.bits.iter().enumerate() {
                let mut edges = ws ^ (ws << 1 | before);
                before = ws >> 63;
                while edges != 0 {
                    let k = edges.trailing_zeros() as usize;
                    edges &= edges - 1;
                    if ws >> k & 1 == 0 {
                        start = 64 * w + k;
                    } else {
                        // The last word is whitespace: every token ends.
                        f(start, 64 * w + k);
                    }
                }
            }
        }
    }

    /// The classes of 16 bytes, one bit per byte (bit `k` is byte `k`), and
    /// the bytes lower-cased (ASCII letters only): [`crate::simd::classes16`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Classes16 {
        /// `u8::is_ascii_punctuation` ([`PUNCT`]).
        pub punct: u32,
        pub upper: u32,
        pub lower: u32,
        /// Zero bytes ([`NUL`]).
        pub nul: u32,
        /// The bytes with `A`..=`Z` lower-cased, little-endian.
        pub lowered: u128,
    }

    impl Classes16 {
        /// The portable computation, byte by byte from [`class`].
        #[cfg(any(test, not(target_arch = "x86_64")))]
        pub(crate) fn of_bytes(a: &[u8; 16]) -> Classes16 {
            let mut c = Classes16 {
                punct: 0,
                upper: 0,
                lower: 0,
                nul: 0,
                lowered: 0,
            };
            let mut lowered = *a;
            for (k, (&x, l)) in a.iter().zip(&mut lowered).enumerate() {
                let bit = 1u32 << k;
                let cl = class(x);
                for (flag, m) in [
                    (PUNCT, &mut c.punct),
                    (UPPER, &mut c.upper),
                    (LOWER, &mut c.lower),
                    (NUL, &mut c.nul),
                ] {
                    if cl & flag != 0 {
                        *m |= bit;
                    }
                }
                *l = x.to_ascii_lowercase();
            }
            c.lowered = u128::from_le_bytes(lowered);
            c
        }
    }

    /// An ASCII token of at most 16 bytes, with its word: the token without
    /// the punctuation at either end, its classes and its packed lower-case
    /// key, read as one 16-byte word.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ShortWord {
        /// Where the word starts and ends in the token (`start == end`: all
        /// punctuation).
        pub start: usize,
        pub end: usize,
        /// The word's classes ([`class`] of its bytes, or-ed).
        pub flags: u8,
        /// The word lower-cased, as [`pack`] packs it (meaningless when the
        /// word has a NUL byte).
        pub key: u128,
    }

    impl ShortWord {
        /// The token `s..s + len` of the ASCII text `b`, `len` at most 16.
        #[inline(always)]
        pub fn read(b: &[u8], s: usize, len: usize) -> ShortWord {
            let mut a = [0u8; 16];
            if s + 16 <= b.len() {
                a.copy_from_slice(&b[s..s + 16]);
            } else {
                a[..len].copy_from_slice(&b[s..s + len]);
            }
            let c = crate::simd::classes16(&a);
            let inside = (1u32 << len) - 1;
            let keep = inside & !c.punct;
            if keep == 0 {
                return ShortWord {
                    start: 0,
                    end: 0,
                    flags: PUNCT | NOT_ALPHA,
                    key: 0,
                };
            }
            let start = keep.trailing_zeros() as usize;
            let end = 32 - keep.leading_zeros() as usize;
            // The word's bytes (`end` at most 16).
            let word = (1u32 << end) - (1u32 << start);
            let mut flags = 0;
            for (bits, flag) in [
                (c.upper, UPPER),
                (c.lower, LOWER),
                (!(c.upper | c.lower), NOT_ALPHA),
                (c.punct, PUNCT),
                (c.nul, NUL),
            ] {
                if bits & word != 0 {
                    flags |= flag;
                }
            }
            let key = if start == 0 {
                c.lowered
            } else {
                c.lowered >> (8 * start)
            };
            ShortWord {
                start,
                end,
                flags,
                key: key & BYTES[end - start],
            }
        }
    }

    /// The capitals, small letters and `!` of `b` as bit masks
    /// ([`crate::simd::letters64`]), 64 bytes a block, in order; the last
    /// block zero-padded (a zero byte is none of them).
    pub fn letter_blocks(b: &[u8]) -> impl Iterator<Item = [u64; 3]> + '_ {
        let blocks = b.chunks_exact(64);
        let tail = blocks.remainder();
        let last = (!tail.is_empty()).then(|| {
            let mut last = [0u8; 64];
            last[..tail.len()].copy_from_slice(tail);
            crate::simd::letters64(&last)
        });
        // Every chunk has 64 bytes: `first_chunk` gives all of it (no
        // panic, nothing left out).
        blocks
            .filter_map(<[u8]>::first_chunk::<64>)
            .map(crate::simd::letters64)
            .chain(last)
    }

    /// Calls `f(start, end)` for each run of ASCII letters in `b` that
    /// starts before `limit` (it may end after it), in order: runs from the
    /// edges of the letter masks ([`letter_blocks`]).
    pub fn letter_runs(b: &[u8], limit: usize, mut f: impl FnMut(usize, usize)) {
        // The start of a run that goes on past the block before.
        let mut open: Option<usize> = None;
        for (k, [upper, lower, _]) in letter_blocks(b).enumerate() {
            let base = 64 * k;
            let letters = upper | lower;
            let mut from = 0;
            if let Some(s) = open.take() {
                let k = (!letters).trailing_zeros() as usize;
                if k == 64 {
                    open = Some(s);
                    continue;
                }
                f(s, base + k);
                from = k;
            }
            let mut starts = letters & !(letters << 1) & (!0u64 << from);
            while starts != 0 {
                let s = starts.trailing_zeros() as usize;
                starts &= starts - 1;
                if base + s >= limit {
                    return;
                }
                let after = !letters & (!0u64 << s);
                if after == 0 {
                    open = Some(base + s);
                    break;
                }
                f(base + s, base + after.trailing_zeros() as usize);
            }
        }
        if let Some(s) = open {
            f(s, b.len());
        }
    }

    /// `BYTES[n]`: the first `n` bytes of a 16-byte word.
    const BYTES: [u128; 17] = {
        let mut t = [0u128; 17];
        let mut n = 1;
        while n < 16 {
            t[n] = (1u128 << (8 * n)) - 1;
            n += 1;
        }
        t[16] = !0;
        t
    };

    /// A Bloom filter of packed words, two bits per word: a table's misses
    /// answered from a few kilobytes that stay in cache.
    #[derive(Debug, Clone)]
    pub struct Bloom {
        bits: Box<[u64]>,
    }

    impl Bloom {
        /// A filter of `bits` bits (rounded up to a power of two, at least 64).
        pub fn new(bits: usize) -> Bloom {
            Bloom {
                bits: vec![0; bits.next_power_of_two().max(64) / 64].into_boxed_slice(),
            }
        }

        #[inline]
        fn positions(&self, k: u128) -> [usize; 2] {
            let h = ((k as u64) ^ ((k >> 64) as u64).rotate_left(29))
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let m = self.bits.len() * 64 - 1;
            [(h >> 40) as usize & m, (h >> 16) as usize & m]
        }

        pub fn insert(&mut self, k: u128) {
            for b in self.positions(k) {
                self.bits[b / 64] |= 1 << (b % 64);
            }
        }

        /// False: `k` was never inserted.
        #[inline]
        pub fn may_contain(&self, k: u128) -> bool {
            self.positions(k)
                .iter()
                .all(|&b| self.bits[b / 64] & (1 << (b % 64)) != 0)
        }
    }
}
