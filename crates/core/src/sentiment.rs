//! The valence of a message: a lexicon of rated words (VADER's, bundled with
//! its licence in `models/sentiment/`) read with the heuristics that make a
//! lexicon work on real text — negation, intensifiers and dampeners,
//! contrast ("but"), words in capitals, exclamation marks, emoticons and
//! emoji — and with what support messages need on top: the rules' own
//! sentiment phrases count as strongly rated words, politeness counts only
//! in a message with nothing negative in it that asks for nothing, a negated
//! action ("doesn't load") counts as a failure report, an excess ("too
//! expensive", "too many steps"), an expectation not met ("was supposed
//! to sync", "should have been fixed", "a warning would have helped") and a
//! recurrence ("keeps logging me out", "I keep getting this email") as
//! complaints, a wish or hypothesis ("would be nice", praise anywhere in a
//! clause after "would", "could", "should", "if", "wish") is no praise, words that are neutral in a
//! support request ("please", "help", "free") are not rated, and a
//! complaint's positive words ("great, another outage") are damped.
//!
//! Pure: the lexicon ships inside the binary (`include_str!`), and
//! [`Lexicon::score`] reads only its arguments.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::text::bytes::{class, pack, Bloom, ShortWord, Spaces, LOWER, NOT_ALPHA, NUL, UPPER};

const LEXICON: &str = include_str!("../../../models/sentiment/vader_lexicon.tsv");
const EMOJI: &str = include_str!("../../../models/sentiment/emoji_utf8_lexicon.txt");

/// Characters of the body read (the subject is read whole): enough for the
/// tone of a message, bounded for time.
pub const MAX_CHARS: usize = 500;

/// A negative word that names a ticket's topic ("error", "crash") counts
/// this much of its rating.
pub const TOPIC_WEIGHT: f32 = 0.5;

/// A rules phrase counts as a word rated this strongly ("terrible" is 2.1).
pub const PHRASE_VALENCE: f32 = 2.0;

/// What an intensifier adds to (a dampener takes from) the word it precedes.
const BOOST: f32 = 0.293;
/// What capitals add to a rated word in a message that is not all capitals.
const CAPS: f32 = 0.733;
/// A negated word's valence is multiplied by this (flips and weakens it).
const NEGATION: f32 = -0.74;
/// Words before a contrast ("but") weigh this much, words after it
/// [`AFTER_CONTRAST`].
const BEFORE_CONTRAST: f32 = 0.5;
const AFTER_CONTRAST: f32 = 1.5;
/// Positive words (the lexicon's and the rules') in a message with a
/// complaint phrase, a negated action or a named problem that no fix
/// follows weigh this much ("help solving an error" is no praise).
const COMPLAINT_DAMPING: f32 = 0.5;
/// A closing word with a comma among this many last tokens signs the
/// message off ("Best,\nJane Doe").
const SIGN_OFF_TAIL: usize = 4;
/// Closing words the lexicon rates positive.
const CLOSINGS: &[&str] = &[
    "best",
    "warmly",
    "warmest",
    "kindest",
    "sincerely",
    "cordially",
];
/// Normalisation of the sum into (-1, 1): `sum / sqrt(sum² + ALPHA)`.
const ALPHA: f32 = 15.0;

const INTENSIFIERS: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerably",
    "deeply",
    "enormously",
    "entirely",
    "especially",
    "exceptionally",
    "extremely",
    "fully",
    "greatly",
    "highly",
    "hugely",
    "incredibly",
    "insanely",
    "intensely",
    "most",
    "particularly",
    "really",
    "remarkably",
    "ridiculously",
    "seriously",
    "so",
    "super",
    "thoroughly",
    "too",
    "totally",
    "tremendously",
    "truly",
    "unbelievably",
    "utterly",
    "very",
];
const DAMPENERS: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "marginally",
    "partly",
    "scarcely",
    "slightly",
    "somewhat",
];
/// Single-word negators beyond the rules' own (any word ending in "n't"
/// negates too).
const NEGATORS: &[&str] = &[
    "not", "no", "never", "without", "nobody", "nothing", "none", "neither", "nor", "nowhere",
    "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "wasnt", "wont", "aint",
];
const CONTRASTS: &[&str] = &["but", "however", "yet"];
/// Words of a failure that a lexicon rated on reviews and tweets lacks
/// ("issue", "outage", "crashed"): rated like "error" (-1.7), as topics —
/// a message that names one is negative, the customer need not be upset
/// ([`Valence::feeling`] leaves them out).
const PROBLEMS: &[&str] = &[
    "issue",
    "issues",
    "bug",
    "bugs",
    "buggy",
    "outage",
    "outages",
    "downtime",
    "glitch",
    "glitches",
    "glitchy",
    "crashes",
    "crashed",
    "crashing",
    "timeout",
    "timeouts",
    "malfunction",
    "malfunctions",
    "malfunctioning",
    "unavailable",
    "unresponsive",
    "unreachable",
    "inaccessible",
    "overcharged",
    "canceled",
    "slow",
    "sluggish",
    "laggy",
    "frozen",
    "freezing",
    "hangs",
    "unusable",
    "unresolved",
    "unanswered",
    "disconnected",
    "disconnects",
    "unstable",
    "flaky",
    "corrupted",
    "unable",
    "declined",
    "bounced",
    "overdue",
    "expired",
    "invalid",
    "incorrect",
    "inaccurate",
];
const PROBLEM_VALENCE: f32 = -1.7;

/// Swear words the lexicon lacks (VADER reads them as intensifiers only):
/// in a message to a vendor they are anger, rated like "damn" / "freaking".
const SWEARING: &[(&str, f32)] = &[
    ("fucking", -2.0),
    ("fuckin", -2.0),
    ("effing", -1.8),
    ("frickin", -1.8),
    ("friggin", -1.8),
    ("frigging", -1.8),
    ("dammit", -1.7),
];
/// Words that make what follows a wish or a hypothesis, not a fact: "it
/// would be nice to have", "I wish it were easier", "if it works".
const IRREALIS: &[&str] = &[
    "would",
    "could",
    "should",
    "wish",
    "if",
    "i'd",
    "would've",
    "could've",
    "should've",
];
/// A negated action ("doesn't answer", "never arrived", "won't turn on")
/// weighs as a word rated this negative: in a message to a vendor it is a
/// failure report.
const NEGATED_ACTION: f32 = -0.8;
/// Last two letters of past participles: regular ("helped", "warned"),
/// and irregular ones common in support mail ("been", "known", "done",
/// "made", "told", "sent", "paid", "got", "lost", "left", "kept",
/// "bought", "had", "run").
const PARTICIPLE_ENDINGS: &[[u8; 2]] = &[
    *b"ed", *b"en", *b"wn", *b"ne", *b"de", *b"ld", *b"nt", *b"id", *b"ot", *b"st", *b"ft", *b"pt",
    *b"ht", *b"ad", *b"un",
];
/// Words of quantity before a unit of time waited ("It's been *5*
/// days", "*over a* week", "*a couple of* hours").
const QUANTITIES: &[&str] = &[
    "a", "an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "several", "few", "couple", "over", "almost", "nearly", "more", "than", "about", "of",
];
/// Units of time waited (not years: "it's been two years since we
/// started" is tenure).
const WAITED_UNITS: &[&str] = &[
    "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months",
];
/// Verbs that keep a fault from happening ([`Lexicon::prevented`]).
const PREVENTING: &[&str] = &[
    "avoid",
    "avoids",
    "avoided",
    "avoiding",
    "prevent",
    "prevents",
    "prevented",
    "preventing",
    "protect",
    "protects",
    "protected",
    "protecting",
];
/// How many tokens a verb of [`PREVENTING`] reaches ("protects us against
/// accidental deletion").
const PREVENTED_REACH: usize = 4;
/// Verbs of what a customer does or leaves undone by choice, in the forms a
/// negator is followed by: denied by "I" or "we" ("I haven't used it yet",
/// "we didn't read the docs", "I don't need the seats any more"; not "I
/// can't use it") they report no failure. (Not "buy", "make", "order": "a charge for something
/// I didn't buy" disowns a purchase.)
const CHOICES: &[&str] = &[
    "use", "used", "using", "try", "tried", "trying", "read", "check", "checked", "need", "needed",
    "want", "wanted", "watch", "watched", "listen", "listened", "write", "written", "wrote",
    "bother", "bothered", "mind", "care", "cared", "plan", "planned",
];
/// "No" on its own ("Oh no!", "No. Not again."): VADER's rating of it (the
/// scorer reads "no" as a negator otherwise).
const NO_ALONE: f32 = -1.2;
/// An excess ("too slow", "too many clicks") weighs as a word rated this
/// negative.
const EXCESS: f32 = NEGATED_ACTION;
/// An expectation not met ("was supposed to sync", "should have been
/// fixed") weighs as a word rated this negative.
const UNMET: f32 = NEGATED_ACTION;
/// A recurrence ("keeps logging me out", "I keep getting this email", "it
/// kept freezing") weighs as a word rated this negative.
const RECURRENCE: f32 = NEGATED_ACTION;
/// The bundled rating of strong praise (VADER's scale: "great" 3.1,
/// "wonderful" 2.7, "perfect" 2.7; not "thanks" 1.9, "good" 1.9, "ok"):
/// said alone in a complaint, it is sarcasm ([`Pull::Sarcasm`]).
const STRONG_PRAISE: f32 = 2.0;
/// Sarcastic praise weighs as this share of its rating, turned negative.
const SARCASM: f32 = 0.5;
/// Words that open an interjection of praise ("Oh great.", "Just
/// wonderful!", "How lovely."): discourse words, no content.
const OPENERS: [&str; 10] = [
    "oh",
    "just",
    "really",
    "how",
    "so",
    "yeah",
    "wow",
    "well",
    "simply",
    "absolutely",
];
/// Words that report a problem fixed ("it works now", "that solved it"):
/// praise beside them is thanks, not sarcasm ("gone" too, after a named
/// problem: [`resolved`]).
const RESOLVED: [&str; 7] = [
    "fixed", "resolved", "solved", "sorted", "works", "working", "worked",
];
/// Verbs of having a problem or coming upon one: negated before a problem
/// word ("didn't cause any errors", "never got an error", "haven't seen
/// any issues") they report that it did not happen, no failure.
const HAPPEN_TO: &[&str] = &[
    "cause",
    "caused",
    "causes",
    "experience",
    "experienced",
    "encounter",
    "encountered",
    "face",
    "faced",
    "find",
    "found",
    "get",
    "gets",
    "got",
    "hit",
    "notice",
    "noticed",
    "see",
    "seen",
    "saw",
    "throw",
    "threw",
    "thrown",
];

/// Who says "keep" of what happens to them ("I keep getting"); without
/// one, "keep" is a bidding ("keep going", "keep up the good work").
const KEEP_SUBJECTS: [&str; 4] = ["i", "we", "you", "they"];
/// Verbs of ceasing as written that may end a clause ("the sync stopped";
/// "quit" is more often the customer's).
const CEASED: &[&str] = &["stopped", "ceased"];
/// Words after a verb of ceasing that start no object of it: a preposition,
/// a time, a conjunction ("stopped for all users", "stopped yesterday",
/// "stopped and restarted"; not "stopped the export").
const AFTER_CEASING: &[&str] = &[
    "about",
    "after",
    "again",
    "and",
    "around",
    "at",
    "before",
    "but",
    "completely",
    "during",
    "entirely",
    "for",
    "halfway",
    "in",
    "last",
    "midway",
    "on",
    "overnight",
    "since",
    "suddenly",
    "this",
    "today",
    "tonight",
    "when",
    "while",
    "yesterday",
];
/// Words after a negator that are no action ("I don't know", "not a", "no
/// problem" is rated anyway).
const NOT_ACTIONS: &[&str] = &[
    "a",
    "an",
    "the",
    "to",
    "any",
    "this",
    "that",
    "it",
    "i",
    "you",
    "we",
    "they",
    "my",
    "your",
    "our",
    "their",
    "me",
    "us",
    "know",
    "think",
    "sure",
    "worry",
    "mind",
    "need",
    "want",
    "really",
    "just",
    "yet",
    "only",
    "much",
    "more",
    "all",
    "one",
    "longer",
    "so",
    "very",
    "as",
    "at",
    "of",
    "for",
    "in",
    "on",
    "with",
    "from",
    "see",
    "understand",
    "matter",
    "care",
    "expect",
    "seem",
    "seems",
    // "isn't down" is good news.
    "down",
    // Searching is asking, not a failure: "couldn't find it in the docs".
    "find",
    "figure",
    "locate",
    "tell",
    "remember",
    "recall",
    // Function words: a determiner, pronoun, preposition or adverb after a
    // negator begins what is negated ("not some cheap toy", "not her
    // fault", "not because of any flaw"), it is no action of its own.
    "some",
    "every",
    "each",
    "these",
    "those",
    "such",
    "many",
    "most",
    "than",
    "into",
    "over",
    "because",
    "his",
    "her",
    "its",
    "him",
    "them",
    "she",
    "anyone",
    "everyone",
    "someone",
    "both",
    "either",
    "least",
    "how",
    "why",
    "which",
    "who",
];

/// Auxiliary verbs, and the adverbs that sit between one and its verb
/// ("hasn't ever worked", "didn't even start"): looked through after a
/// negator to find the action.
const AUXILIARIES: &[&str] = &[
    "be",
    "been",
    "being",
    "is",
    "are",
    "was",
    "were",
    "am",
    "have",
    "has",
    "had",
    "do",
    "does",
    "did",
    "will",
    "can",
    "ever",
    "even",
    // A hedge before the verb: "doesn't always register", "never quite
    // gels", "isn't necessarily better".
    "always",
    "quite",
    "exactly",
    "necessarily",
    "still",
    // The future: "not going to starve", "not gonna lie" (the action is
    // the verb after "to": "not going to wait another week" is one, as
    // "not going through" is).
    "going",
    "gonna",
];

/// What a word is to the scorer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Entry {
    /// A rated word (-4 … +4).
    Rated(f32),
    /// A negative word that names a ticket's topic ("error"), damped: it
    /// moves the message's valence, not its feeling ([`Valence::feeling`]).
    Topic(f32),
    Intensifier(f32),
    Negator,
    Contrast,
    Irrealis,
    /// "please": a message that asks is a request, its thanks courtesy.
    Request,
    /// A word after a negator that is no action.
    NotAction,
    /// "go": an action of two letters ("didn't go through"; shorter words
    /// are no content words).
    ShortAction,
    /// "wait": an action, but negated before "to" or "for", or ending its
    /// clause, eagerness ("can't wait to try it", "Can't wait!").
    Wait,
    /// An auxiliary verb ("has", "been", "is"): after a negator, the action
    /// is the word after it ("nobody has replied", "hasn't been fixed").
    Auxiliary,
    /// "too": before a word the lexicon does not rate, an excess ("too
    /// slow", "too expensive", "too many steps") is a complaint.
    Excess,
    /// "supposed" ("it was supposed to sync"): before "to", an expectation
    /// that was not met.
    Supposed,
    /// "regards", "wishes": the word before them is a sign-off ("best
    /// regards", "kind regards", "best wishes"), not rated.
    SignOff,
    /// "keeps", "kept", "keep": before a word ending in "-ing", a
    /// recurrence ("keeps logging me out").
    Recurrence,
    /// A word the rules decide (their phrases) or call neutral: not rated.
    Unrated,
    /// A word the rules call neutral ("help", "support"): not rated, but
    /// an action when negated ("didn't help at all").
    Neutral,
    /// A word kept for its key only ([`Lexicon::fixes`]): read as a word
    /// the lexicon does not know (its token has no entry, [`Words::get`]
    /// answers none).
    Plain,
}

/// The word table: words of up to 16 bytes are looked up by their bytes
/// packed into one integer (one multiply to hash, one compare to match: a
/// string key's hashing and `memcmp` were most of the scorer's time), longer
/// ones by string.
/// A Bloom filter in front of the short words (8 KB, two bits per word,
/// ~3 % false positives for the 7,600 words) answers most misses from L1
/// cache: the table itself (~200 KB) is not, and a ticket's words are
/// mostly not in it.
#[derive(Clone)]
struct Words {
    entries: Vec<(Box<str>, Entry)>,
    short: HashMap<u128, u32, foldhash::fast::FixedState>,
    long: HashMap<Box<str>, u32, foldhash::fast::FixedState>,
    bloom: Bloom,
}

/// Bits of the filter: 8 KB.
const BLOOM_BITS: usize = 65_536;

impl Default for Words {
    fn default() -> Self {
        Words {
            entries: Vec::new(),
            short: HashMap::default(),
            long: HashMap::default(),
            bloom: Bloom::new(BLOOM_BITS),
        }
    }
}

impl Words {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(w, _)| &**w)
    }

    fn index(&self, w: &str) -> Option<u32> {
        match pack(w.as_bytes()) {
            Some(k) => self.index_packed(k),
            None if w.len() > 16 => self.long.get(w).copied(),
            None => None,
        }
    }

    /// [`Words::index`] of a word already packed ([`pack`]).
    #[inline]
    fn index_packed(&self, k: u128) -> Option<u32> {
        if self.bloom.may_contain(k) {
            self.short.get(&k).copied()
        } else {
            None
        }
    }

    /// The word at `i` (from [`Words::index`]) as the table spells it.
    /// Each word's rating by its key (0: not rated).
    fn ratings(&self) -> Vec<f32> {
        self.entries
            .iter()
            .map(|(_, e)| match e {
                Entry::Rated(v) => *v,
                _ => 0.0,
            })
            .collect()
    }

    fn key(&self, i: u32) -> &str {
        &self.entries[i as usize].0
    }

    /// The word's index and entry.
    fn find(&self, w: &str) -> Option<(u32, Entry)> {
        self.index(w).map(|i| (i, self.entries[i as usize].1))
    }

    /// [`Words::find`] of a word already packed ([`pack`]).
    #[inline]
    fn find_packed(&self, k: u128) -> Option<(u32, Entry)> {
        self.index_packed(k)
            .map(|i| (i, self.entries[i as usize].1))
    }

    /// The word's entry, if the scorer reads it (not a [`Entry::Plain`]
    /// word).
    fn get(&self, w: &str) -> Option<Entry> {
        self.index(w)
            .map(|i| self.entries[i as usize].1)
            .filter(|e| *e != Entry::Plain)
    }

    fn insert(&mut self, w: &str, e: Entry) {
        if let Some(i) = self.index(w) {
            self.entries[i as usize].1 = e;
            return;
        }
        let i = self.entries.len() as u32;
        match pack(w.as_bytes()) {
            Some(k) => {
                self.short.insert(k, i);
                self.bloom.insert(k);
            }
            None if w.len() > 16 => {
                self.long.insert(w.into(), i);
            }
            None => return, // a NUL byte: no word
        }
        self.entries.push((w.into(), e));
    }
}

/// A valence lexicon with the rules' adjustments.
#[derive(Clone)]
pub struct Lexicon {
    words: Words,
    emoji: HashMap<char, f32, foldhash::fast::FixedState>,
    /// The bundled rating of each word by its key (0: not rated), kept
    /// when the rules make a rated word their own ("great" a positive
    /// phrase): what an interjection praises.
    bundled: Vec<f32>,
    /// The keys of [`RESOLVED`]'s words and then "gone" (each made a word
    /// of the table, not rated, if the bundled lexicon has none): a fix is
    /// found by key, not by reading the token again.
    fixes: [u32; RESOLVED.len() + 1],
}

impl std::fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Lexicon({} words, {} emoji)",
            self.words.len(),
            self.emoji.len()
        )
    }
}

/// Evidence from the rules' phrases (found by the phrase detector), in
/// phrase-weight units (a phrase in the subject counts twice).
#[derive(Debug, Clone, Copy, Default)]
pub struct PhraseEvidence<'i> {
    /// Negative phrases, negated positive phrases, negated expectations.
    pub negative: f32,
    pub positive: f32,
    /// Politeness ("thanks"): positive only when nothing is negative.
    pub polite: f32,
    /// The rules' idioms found: in the subject (else the body), start, end.
    /// Their words are not rated ("drag and drop", "drop down").
    pub idioms: &'i [(bool, u32, u32)],
    /// A fault named by a phrase of the rules' fault categories
    /// ("breaks", "glitch", "regression"), words the lexicon may not rate:
    /// strong praise said alone beside it is sarcasm ("Wow, another update
    /// that breaks the calendar. Just wonderful."). (No complaint else:
    /// "nothing has broken on it" names one too.)
    pub fault: bool,
}

/// What [`Lexicon::score`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Valence<'l> {
    /// -1 (very negative) … +1 (very positive).
    pub compound: f32,
    /// The same without the topic words' part: what the customer feels, not
    /// the problem they name ("the export fails with an error" is a negative
    /// message from a customer who need not be upset).
    pub feeling: f32,
    /// What pulled most towards negative / positive, with its valence in
    /// the message.
    pub most_negative: Option<(Pull<'l>, f32)>,
    pub most_positive: Option<(Pull<'l>, f32)>,
    /// The message reports a failure: a negated action ("doesn't load"),
    /// an expectation not met ("was supposed to sync") or a recurrence
    /// ("keeps logging me out").
    pub failure: bool,
}

/// What moved a message's valence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pull<'l> {
    /// A rated word, as the lexicon spells it.
    Word(&'l str),
    /// A negated action ("doesn't load"): the words from the negator to
    /// the action.
    NegatedAction(Quote),
    /// An excess ("too slow").
    Excess(Quote),
    /// An expectation not met ("was supposed to", "should have").
    Unmet(Quote),
    /// A recurrence ("keeps logging").
    Recurrence(Quote),
    /// Praise said alone in a complaint ("Oh great," before "another
    /// crash"): sarcasm.
    Sarcasm(Quote),
    /// A rated word with the word of degree before it ("huge
    /// disappointment", "damn good").
    Degree(Quote),
}

/// Which words of the message a [`Pull`] is: its whitespace-separated
/// tokens `first..=last`, counted through the subject and then the body as
/// [`Lexicon::score`] read them (after spelling corrections, which the
/// engine lists in a reason of their own). Offsets are found again only for
/// a reason that quotes them ([`Quote::words`]): the scorer keeps no
/// positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    first: u32,
    last: u32,
}

impl Quote {
    /// The quoted words of `subject` and `body` (the texts given to
    /// [`Lexicon::score`]), without punctuation or typographic quotes at
    /// either end: one slice, or the end of the subject and the start of the
    /// body.
    pub fn words<'t>(&self, subject: &'t str, body: &'t str) -> (&'t str, &'t str) {
        let body = read_body(body);
        // Each token as (part, start, end), subject first.
        let mut spans = [subject, body]
            .into_iter()
            .enumerate()
            .flat_map(|(part, text)| {
                text.split_ascii_whitespace().map(move |w| {
                    // `w` is a slice of `text`.
                    let s = crate::text::offset_in(text, w);
                    (part, s, s + w.len())
                })
            });
        let (first, last) = (self.first as usize, self.last as usize);
        let Some(a) = spans.nth(first) else {
            return ("", "");
        };
        let b = if last > first {
            spans.nth(last - first - 1)
        } else {
            Some(a)
        };
        let Some(b) = b else { return ("", "") };
        let text = |part: usize| if part == 1 { body } else { subject };
        // ASCII punctuation and typographic quotes.
        let punct = |c: char| {
            c.is_ascii_punctuation()
                || matches!(c, '\u{2018}' | '\u{2019}' | '\u{201C}' | '\u{201D}')
        };
        if a.0 == b.0 {
            let w = text(a.0).get(a.1..b.2).unwrap_or("");
            (w.trim_start_matches(punct).trim_end_matches(punct), "")
        } else {
            (
                subject.get(a.1..).unwrap_or("").trim_start_matches(punct),
                body.get(..b.2).unwrap_or("").trim_end_matches(punct),
            )
        }
    }
}

/// One token of the message.
#[derive(Debug, Clone, Copy)]
struct Tok {
    entry: Option<Entry>,
    /// The word's index in the lexicon (`u32::MAX`: not in it), meaningful
    /// when `entry` is some or for a plain word ([`Entry::Plain`]).
    key: u32,
    caps: bool,
    negates: bool,
    /// Three or more letters (a content word when the lexicon has none).
    word: bool,
    /// Has a letter (counts for "written in capitals").
    letters: bool,
    /// The token's last byte: what punctuation follows the word
    /// ([`Tok::runs_on`], [`Tok::comma`], [`Tok::stop`]).
    end: u8,
    /// Rated as written, punctuation and all: an emoticon (":)", ":D"),
    /// which a negation before it does not flip.
    emoticon: bool,
    /// Where the token starts in its part (the subject or the body), for
    /// the few rules that read a neighbour the lexicon does not know
    /// ([`Lexicon::score`]'s `word`); saturates past 2³² bytes.
    start: u32,
}

/// Reused buffers of [`Lexicon::score`].
#[derive(Debug, Default, Clone)]
pub struct SentimentScratch {
    word: String,
    toks: Vec<Tok>,
    spaces: Spaces,
}

impl Lexicon {
    /// The bundled lexicon without adjustments (parsed once).
    pub fn builtin() -> &'static Lexicon {
        static L: OnceLock<Lexicon> = OnceLock::new();
        L.get_or_init(|| {
            // Invariant: the bundled files are checked by
            // `the_bundled_lexicon_loads`.
            let mut l = Lexicon::parse(LEXICON, EMOJI).expect("the bundled lexicon parses");
            let model = crate::embed::StaticModel::builtin();
            l.add_inflections(&model.whole_words().map(|(w, _)| w).collect());
            // The forms added are rated too.
            l.bundled = l.words.ratings();
            l
        })
    }

    /// Rates the verb forms of its negative words that it lacks ("drops",
    /// "stalls", "lacking", "delays" as "drop", "stall", "lack", "delay"),
    /// as a phrase written once matches its inflections: the word's forms
    /// ([`crate::text::word_forms`]) that are verb forms of it
    /// ([`crate::text::verb_form`]: -s, -es, -ed, -d, -ing, a final e
    /// dropped or a consonant doubled) grown from the word as listed, and
    /// words of `vocabulary` (no made-up form). Only negative words: a
    /// positive word's plural is often another noun ("kinds", "goods",
    /// "fans", "fines"), a failure's forms are the same failure.
    pub fn add_inflections(&mut self, vocabulary: &std::collections::HashSet<&str>) {
        let negative: Vec<(String, f32)> = self
            .words
            .iter()
            .filter_map(|w| match self.words.get(w) {
                Some(Entry::Rated(v)) if v < 0.0 && w.len() >= 3 => Some((w.to_string(), v)),
                _ => None,
            })
            .filter(|(w, _)| w.bytes().all(|b| b.is_ascii_lowercase()))
            .collect();
        for (w, v) in negative {
            // Grown from the word itself, not from the base of a plural
            // ("charges" → "charging", "denies" → "denis").
            let e_dropped = w.strip_suffix('e').unwrap_or(&w);
            // Only words of the vocabulary are stemmed (the cheap tests
            // first: all the forms of 4,000 words cost a second).
            let wanted = |f: &str| f.starts_with(e_dropped) && vocabulary.contains(f);
            for f in crate::text::word_forms_where(&w, wanted)
                .into_iter()
                .skip(1)
            {
                // (Asked again: the base of a plural comes out unasked.)
                if wanted(&f) && crate::text::verb_form(&f, &w) && self.words.get(&f).is_none() {
                    self.words.insert(&f, Entry::Rated(v));
                }
            }
        }
    }

    /// Whether `word` (as written) is one of its negators ("not", "never",
    /// "can't"; the rules' single-word negators).
    pub fn negates(&self, word: &str) -> bool {
        // Lower-cased on the stack when ASCII and short (most words).
        let mut buf = [0u8; 24];
        if let Some(lower) = buf.get_mut(..word.len()).filter(|_| word.is_ascii()) {
            lower.copy_from_slice(word.as_bytes());
            lower.make_ascii_lowercase();
            let w = std::str::from_utf8(lower).unwrap_or_default();
            return self.words.get(w) == Some(Entry::Negator) || w.ends_with("n't");
        }
        let w = word.to_lowercase().replace('\u{2019}', "'");
        self.words.get(&w) == Some(Entry::Negator) || w.ends_with("n't")
    }

    /// Whether `word` (lower case) is rated at least `min`.
    pub fn rates_at_least(&self, word: &str, min: f32) -> bool {
        matches!(self.words.get(word), Some(Entry::Rated(v)) if v >= min)
    }

    /// It rates `word` (lower case), either way.
    pub fn rates(&self, word: &str) -> bool {
        matches!(self.words.get(word), Some(Entry::Rated(_)))
    }

    /// The words it knows (rated words, negators, intensifiers, …).
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.words.iter()
    }

    /// Parses a `token<TAB>valence` lexicon and an `emoji<TAB>description`
    /// list (an emoji is rated as the sum of its description's words).
    pub fn parse(lexicon: &str, emoji: &str) -> Result<Lexicon, String> {
        let mut words = Words::default();
        for (i, line) in lexicon.lines().enumerate() {
            let (w, v) = line
                .split_once('\t')
                .ok_or_else(|| format!("lexicon line {}: no tab", i + 1))?;
            let v: f32 = v
                .trim()
                .parse()
                .map_err(|e| format!("lexicon line {}: {e}", i + 1))?;
            words.insert(w, Entry::Rated(v));
        }
        for (w, v) in SWEARING {
            if words.get(w).is_none() {
                words.insert(w, Entry::Rated(*v));
            }
        }
        for w in PROBLEMS {
            if words.get(w).is_none() {
                words.insert(w, Entry::Topic(PROBLEM_VALENCE * TOPIC_WEIGHT));
            }
        }
        for w in INTENSIFIERS {
            words.insert(w, Entry::Intensifier(BOOST));
        }
        for w in DAMPENERS {
            words.insert(w, Entry::Intensifier(-BOOST));
        }
        for w in NEGATORS {
            words.insert(w, Entry::Negator);
        }
        for w in CONTRASTS {
            words.insert(w, Entry::Contrast);
        }
        for w in IRREALIS {
            words.insert(w, Entry::Irrealis);
        }
        for w in ["please", "pls", "plz", "kindly"] {
            words.insert(w, Entry::Request);
        }
        for w in ["regards", "wishes"] {
            words.insert(w, Entry::SignOff);
        }
        words.insert("too", Entry::Excess);
        words.insert("supposed", Entry::Supposed);
        for w in ["keeps", "kept", "keep"] {
            if words.get(w).is_none() {
                words.insert(w, Entry::Recurrence);
            }
        }
        for w in NOT_ACTIONS {
            if words.get(w).is_none() {
                words.insert(w, Entry::NotAction);
            }
        }
        for w in AUXILIARIES {
            if words.get(w).is_none() {
                words.insert(w, Entry::Auxiliary);
            }
        }
        if words.get("wait").is_none() {
            words.insert("wait", Entry::Wait);
        }
        // Read by its key for the wait told ("we waited two days").
        if words.get("waited").is_none() {
            words.insert("waited", Entry::Wait);
        }
        if words.get("go").is_none() {
            words.insert("go", Entry::ShortAction);
        }
        let mut fixes = [0; RESOLVED.len() + 1];
        for (key, w) in fixes.iter_mut().zip(RESOLVED.iter().chain([&"gone"])) {
            if words.get(w).is_none() {
                words.insert(w, Entry::Plain);
            }
            *key = words.index(w).unwrap_or(u32::MAX);
        }
        let mut emo = HashMap::with_hasher(foldhash::fast::FixedState::default());
        for line in emoji.lines() {
            let Some((e, desc)) = line.split_once('\t') else {
                continue;
            };
            let mut chars = e.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                continue; // sequences (flags, skin tones): not read
            };
            let v: f32 = desc
                .split_whitespace()
                .filter_map(|w| match words.get(w) {
                    Some(Entry::Rated(v)) => Some(v),
                    _ => None,
                })
                .sum();
            if v != 0.0 {
                emo.insert(c, v);
            }
        }
        Ok(Lexicon {
            bundled: words.ratings(),
            words,
            emoji: emo,
            fixes,
        })
    }

    /// This lexicon with the rules' adjustments: the words of their
    /// single-word sentiment phrases are theirs to rate (the phrase detector
    /// finds them, inflections included), `neutral` words are not rated,
    /// and their single-word negators negate. `topics` (the words of
    /// category, severity and condition phrases: "error", "outage",
    /// "security") name what a ticket is about: a positive one is not rated
    /// ("secure" is no praise), a negative one counts at [`TOPIC_WEIGHT`] —
    /// a customer reporting a failure is having a bad time, but "error" is
    /// the subject of the message, not an outburst.
    pub fn adjusted<'a>(
        &self,
        rules_words: impl IntoIterator<Item = &'a str>,
        topics: impl IntoIterator<Item = &'a str>,
        neutral: impl IntoIterator<Item = &'a str>,
        negators: impl IntoIterator<Item = &'a str>,
    ) -> Lexicon {
        let mut l = self.clone();
        // Words the topics left unrated and the rules' own phrases do not
        // count (a neutral one is an action when negated, below).
        let mut topic_unrated = std::collections::HashSet::new();
        for w in topics {
            let w = w.to_ascii_lowercase();
            match l.words.get(&w) {
                Some(Entry::Rated(v)) if v < 0.0 => {
                    l.words.insert(&w, Entry::Topic(v * TOPIC_WEIGHT));
                }
                None | Some(Entry::Rated(_)) => {
                    l.words.insert(&w, Entry::Unrated);
                    topic_unrated.insert(w);
                }
                _ => {}
            }
        }
        for w in rules_words {
            // Words the scorer reads for their role keep it.
            let w = w.to_ascii_lowercase();
            if matches!(
                l.words.get(&w),
                None | Some(Entry::Rated(_) | Entry::Topic(_))
            ) {
                l.words.insert(&w, Entry::Unrated);
            }
            // Its phrase counts it, negated too ("didn't sync" is an
            // expectation not met): not an action as well.
            topic_unrated.remove(&w);
        }
        for w in neutral {
            // Not rated, but still an action when negated ("didn't help"),
            // unless the rules read it (their phrases count it already) or
            // the lexicon rates it negative ("not affected" is no failure).
            // A word of a topic phrase ("help" in "it would help") is read
            // as the topic only there (and names no feeling): listed as
            // neutral, it is an action when negated ("it didn't help").
            let w = w.to_ascii_lowercase();
            if NOT_ACTIONS.contains(&w.as_str()) {
                l.words.insert(&w, Entry::NotAction);
            } else {
                match l.words.get(&w) {
                    // "not affected" is no failure.
                    Some(Entry::Rated(v)) if v < 0.0 => l.words.insert(&w, Entry::Unrated),
                    None | Some(Entry::Rated(_)) => l.words.insert(&w, Entry::Neutral),
                    Some(Entry::Unrated) if topic_unrated.contains(&w) => {
                        l.words.insert(&w, Entry::Neutral)
                    }
                    _ => {}
                }
            }
        }
        for w in negators {
            if !w.contains(' ') {
                let w = w.to_ascii_lowercase().replace('\u{2019}', "'");
                l.words.insert(&w, Entry::Negator);
            }
        }
        l
    }

    /// The valence of `subject` and the first [`MAX_CHARS`] characters of
    /// `body`, with the rules' phrase evidence.
    pub fn score<'l>(
        &'l self,
        subject: &str,
        body: &str,
        phrases: PhraseEvidence<'_>,
        scratch: &mut SentimentScratch,
    ) -> Valence<'l> {
        let body = read_body(body);
        let toks = &mut scratch.toks;
        toks.clear();
        let mut emoji = 0f32;
        let (mut exclamations, mut questions) = (0usize, 0usize);
        let (mut caps_words, mut words) = (0usize, 0usize);
        // The body's first token (the subject's last one ends no sentence
        // by punctuation, but the body starts another).
        let mut body_start = 0;
        for (part, text) in [subject, body].into_iter().enumerate() {
            if part == 1 {
                body_start = toks.len();
            }
            let b = text.as_bytes();
            // Counted apart by memchr's vector search (both marks are rare).
            exclamations += memchr::memchr_iter(b'!', b).count();
            questions += memchr::memchr_iter(b'?', b).count();
            // Whitespace-separated tokens, their edges from the whitespace
            // bits (whitespace is ASCII: the edges are char boundaries); an
            // ASCII token of up to 16 bytes is read as one 16-byte word.
            let ascii = text.is_ascii();
            scratch.spaces.of(b);
            scratch.spaces.tokens(|s, e| {
                // `b[s]`: a token is at least one byte, `s < e <= b.len()`.
                let tok = if b[s] == b'@' && e - s > 1 {
                    // A mention ("@united", "@support_team"): a name, not a
                    // word (nor rated, nor a word in capitals).
                    self.tok(
                        None,
                        &text[s..e],
                        Shape {
                            flags: 0,
                            len: 0,
                            ascii: true,
                            trimmed: false,
                            as_written: false,
                            ends_nt: false,
                        },
                    )
                } else if ascii || text[s..e].is_ascii() {
                    self.ascii_token_at(text, s, e, &mut scratch.word)
                } else {
                    let raw = &text[s..e];
                    emoji += raw.chars().filter_map(|c| self.emoji.get(&c)).sum::<f32>();
                    self.token(raw, &mut scratch.word)
                };
                if tok.letters {
                    words += 1;
                    caps_words += usize::from(tok.caps);
                }
                toks.push(Tok {
                    start: u32::try_from(s).unwrap_or(u32::MAX),
                    ..tok
                });
            });
        }
        // An idiom's words mean something else together: no entry (rare,
        // a pass only for a ticket with one).
        for &(in_subject, s, e) in phrases.idioms {
            // (`body_start` is `toks.len()` as it was when the body began:
            // at most the length now.)
            let part = if in_subject {
                &mut toks[..body_start]
            } else {
                &mut toks[body_start..]
            };
            for t in part.iter_mut().filter(|t| (s..e).contains(&t.start)) {
                t.entry = None;
                t.negates = false;
            }
        }
        // Capitals stand out only in a message not written in capitals.
        let caps_differ = caps_words > 0 && caps_words < words;
        let contrast = toks
            .iter()
            .position(|t| t.entry == Some(Entry::Contrast))
            .filter(|&i| i > 0);
        let (mut pos, mut neg) = (0f32, 0f32);
        // The part of `neg` from topic words.
        let mut topic_neg = 0f32;
        let mut most_negative: Option<(Pull<'l>, f32)> = None;
        let mut most_positive: Option<(Pull<'l>, f32)> = None;
        // A negated action was reported ("couldn't fix it").
        let mut failure = false;
        // A failure of any kind reported: a negated action, an expectation
        // not met, a recurrence ([`Valence::failure`]).
        let mut reported = false;
        // The token of the last problem reported (a failure, a named
        // problem): a fix said after it resolves the complaint.
        let mut last_problem = 0usize;
        // Tokens `i..=j`; past 2³² tokens (a subject of gigabytes) the
        // index saturates and the reason quotes nothing.
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let quote = |i: usize, j: usize| Quote {
            first: index(i),
            last: index(j),
        };
        // Token `k` (an index of `toks`) as written, without the
        // punctuation around it: read again from where it starts, for the
        // few rules that look at words the lexicon does not know.
        let word = |k: usize| {
            let part = if k >= body_start { body } else { subject };
            // (`k` indexes `toks`: every caller's invariant, said where it
            // calls; `get` takes an offset past the text as "".)
            let rest = part.get(toks[k].start as usize..).unwrap_or("");
            trim_punctuation(rest.split_ascii_whitespace().next().unwrap_or(""))
        };
        // Token `k`'s part and where its word ends in it, to read the
        // clause after it as written (only for a negated word or action:
        // few per message).
        let after = |k: usize| {
            let part = if k >= body_start { body } else { subject };
            // (In bounds: every caller passes an index of `toks` — the
            // loop's `i`, or the action `j` found in `toks[i + 1..]`.)
            (part, toks[k].start as usize + word(k).len())
        };
        // `toks[i]` is within the loop's bound, `toks[i - 1]` read after
        // `i > 0`, `toks[j + 1..i]` with `j < i`, `toks[j]` for `j = i - k` from `checked_sub`, and the
        // boost table by `k - 1` for `k` in 1..=3; `words.key` is read only
        // for a token with an entry, whose `key` is the index the lexicon
        // gave it.
        // In a clause after "would", "could", "should", "if", "wish": what
        // is praised is wished for ("it would have been much easier to
        // use"), to the clause's end, a "but", or the body ("I'd say it is
        // excellent" is an opinion: "I'd" reaches three words, as before).
        // Read back from a positive word only (few per message).
        // "would", "could", "should" right before "not" or "never"
        // are the negator's own: "would not close" is read as "wouldn't
        // close" (a refusal, not a hypothesis), "could not be better"
        // as "couldn't be better". Not before "have": "could not have
        // asked for more" is what was not, a hypothesis. Every caller passes
        // an index of `toks` (`k < i` for an `i` of the loop below, or
        // `i - 1`, `k - 1` when above zero); `k + 1`, `k + 2` are read by
        // `get`.
        let own_modal = |k: usize| {
            ["would", "could", "should"]
                .iter()
                .any(|m| toks[k].is(m, self))
                && toks
                    .get(k + 1)
                    .is_some_and(|t| t.is("not", self) || t.is("never", self))
                && !toks.get(k + 2).is_some_and(|t| t.is("have", self))
        };
        let wished = |i: usize| {
            // `i` indexes `toks` (the loop below), so does every `k <= i`,
            // and `k - 1` is read while `k > 0`.
            let mut k = i;
            while k > 0 {
                if k == body_start || toks[k].entry == Some(Entry::Contrast) {
                    return false;
                }
                let p = &toks[k - 1];
                if !p.runs_on() {
                    return false;
                }
                if p.entry == Some(Entry::Irrealis) && !p.is("i'd", self) && !own_modal(k - 1) {
                    return true;
                }
                k -= 1;
            }
            false
        };
        // The word at `i` (an index of `toks`) is in a sentence that ends
        // with "?": read on to the sentence's last word, not past the
        // subject into the body.
        let asked = |i: usize| {
            toks[i..]
                .iter()
                .enumerate()
                .find(|&(k, t)| t.stop() || i + k + 1 == body_start)
                .is_some_and(|(_, t)| t.end == b'?')
        };
        // The verb of a past hope read as an expectation not met (below):
        // not rated.
        let mut hoped_at = usize::MAX;
        // A verb of ceasing a negator reached ([`crate::text::CEASING`]): the negation
        // ends at it, and it negates nothing itself.
        let mut ceased_at = usize::MAX;
        // The unit of time waited after token `k` (an index of `toks`): one
        // to three words of quantity ("5", "over a", "a couple of") and a
        // unit ([`WAITED_UNITS`]), in the clause. (`toks[k]` is read only
        // after `get(k + 1)` found a token, so `k < len`; `j - 1` is at
        // least `k`; `j` is read below the length.)
        let waited_unit = |k: usize| {
            let quantity = |j: usize| {
                let w = word(j);
                w.bytes().all(|b| b.is_ascii_digit()) || crate::text::one_of(w, QUANTITIES)
            };
            if !(toks.get(k + 1).is_some() && toks[k].runs_on() && quantity(k + 1)) {
                return None;
            }
            let mut j = k + 2;
            while j < toks.len().min(k + 5) && toks[j - 1].runs_on() {
                if crate::text::one_of(word(j), WAITED_UNITS) {
                    return Some(j);
                }
                if !quantity(j) {
                    return None;
                }
                j += 1;
            }
            None
        };
        // Token `k` (an index of `toks`) is a verb of ceasing that may end
        // a clause, by the lexicon's spelling (a negator has an entry).
        // (Every caller passes the scoring loop's `i`, below `toks.len()`.)
        let ceases = |k: usize| CEASED.iter().any(|w| toks[k].is(w, self));
        for i in 0..toks.len() {
            // `k < i` for an `i` that indexes `toks`.
            let hypothetical = |i: usize| {
                (i.saturating_sub(3)..i)
                    .any(|k| toks[k].entry == Some(Entry::Irrealis) && !own_modal(k))
            };
            // "No!", "Oh no.", "NO. Just no.": a "no" that ends its
            // sentence negates nothing after it; it is the lexicon's rated
            // "no" (not "No, it works now", an answer, nor "Invoice no.
            // 4471" or "No: 12", a number).
            if toks[i].stop() && toks[i].is("no", self) && toks.get(i + 1).is_none_or(|n| n.letters)
            {
                pull_down(
                    &mut neg,
                    &mut most_negative,
                    Pull::Word(self.words.key(toks[i].key)),
                    NO_ALONE,
                );
            }
            // A verb of ceasing with nothing it acts on after it — its
            // clause ends, or a preposition or a time follows
            // ("Synchronisation has stopped for all of our locations",
            // "payments stopped yesterday", "The sync stopped.") — says its
            // subject ceased: a failure, unless that subject is a fault that
            // ended ("the errors have stopped") or a person ("we stopped at
            // five"), nor supposed ("if the player is stopped"). (`toks[i]`:
            // the loop's index; `i - 1` read after `i > 0`.)
            if toks[i].negates
                && i > 0
                && ceases(i)
                && !hypothetical(i)
                && (!toks[i].runs_on()
                    || toks.get(i + 1).is_none()
                    || crate::text::one_of(word(i + 1), AFTER_CEASING))
            {
                // The subject: the word before, past auxiliaries and words
                // of degree ("has suddenly stopped"), in the sentence. (`k`
                // runs over `0..i`: indexes of `toks`, read only so.)
                let subject = (0..i).rev().take(4).find(|&k| {
                    !matches!(
                        toks[k].entry,
                        Some(Entry::Auxiliary | Entry::Intensifier(_))
                    ) && !crate::text::one_of(word(k), &["just", "suddenly", "also", "now"])
                });
                let ceased = subject.filter(|&k| {
                    toks[k].runs_on()
                        && (toks[k].word || word(k).eq_ignore_ascii_case("it"))
                        && !crate::text::one_of(word(k), PERSONS)
                        && !self.negative(&toks[k])
                        && !hypothetical(k)
                });
                if let Some(k) = ceased {
                    failure = true;
                    last_problem = i;
                    pull_down(
                        &mut neg,
                        &mut most_negative,
                        Pull::NegatedAction(quote(k, i)),
                        NEGATED_ACTION,
                    );
                }
            }
            // (`toks[i]`: `i` is the loop's index, below `toks.len()`.)
            if toks[i].negates && i != ceased_at && !hypothetical(i) {
                // A negated action: the next word (or the one after an
                // adverb) is a content word the lexicon does not rate.
                // Auxiliaries are looked through ("nobody has replied",
                // "hasn't been fixed"), and "one" after "no" ("no one is
                // answering").
                let action = toks[i + 1..]
                    .iter()
                    .take(3)
                    .enumerate()
                    .find(|&(k, t)| {
                        // "to" after "going" ("not going to wait another
                        // week": the action is "wait"). `toks[i + k]` is the
                        // token before `t` (at `i + 1 + k`, in `toks`).
                        let future_to = k > 0 && t.is("to", self) && toks[i + k].is("going", self);
                        !(matches!(t.entry, Some(Entry::Intensifier(_) | Entry::Auxiliary))
                            || future_to
                            // (`i` indexes `toks`: the loop's.)
                            || (k == 0
                                && toks[i].is("no", self)
                                && (t.is("one", self) || t.is("longer", self))))
                    })
                    .map(|(k, t)| (i + 1 + k, t))
                    // In the negator's clause: "I can't. LOL" negates no
                    // "LOL". Nor is a word that starts no object an action
                    // of a verb of ceasing ("stopped since Monday": read
                    // above, by what ceased).
                    .filter(|&(j, _)| {
                        let no_object = ceases(i) && crate::text::one_of(word(j), AFTER_CEASING);
                        !(toks[i..j].iter().any(|t| t.stop()) || no_object)
                    });
                if let Some((j, t)) = action {
                    // A verb of ceasing ([`crate::text::CEASING`]), negated by a verb's
                    // negator: not "no stop button", "non stop" (a noun),
                    // nor a bidding ("Don't stop here", "Never stop
                    // learning"). The word after it is read as written if
                    // the lexicon rates it ("can't stop smiling", "won't
                    // stop crashing"). The verb is a failure ("won't stop
                    // loading", "can't stop the export", and "won't stop
                    // crashing", whose problem goes on), quoted with the
                    // "-ing" word after it; not when the next word is a
                    // feeling, nor what the customer goes on doing anyway
                    // ("it didn't stop me from …", "I can't stop
                    // refreshing the page"). (`i` is the loop's index of
                    // `toks` and `i - 1`, `i - 2` are read when above 0; `j`
                    // indexes `toks`; `j + 1` is read by `get`, and by
                    // `quote` only once `get` found it.)
                    // Token `k` opens its sentence: the first, or after
                    // one that ends a sentence (an emoticon ends one too:
                    // ":) Can't wait!"). (`k - 1` read only when `k > 0`.)
                    let opens = |k: usize| k == 0 || toks[k - 1].stop() || toks[k - 1].emoticon;
                    // (After a comma too: "Keep going, don't stop!"; `i -
                    // 1` is read only when `opens(i)` is false, so `i > 0`.)
                    let bidding = || {
                        ((opens(i) || toks[i - 1].comma())
                            && crate::text::one_of(word(i), &["don't", "dont", "don’t", "never"]))
                            || (i > 0
                                && toks[i].is("not", self)
                                && crate::text::one_of(word(i - 1), &["do"])
                                && opens(i - 1))
                    };
                    // (By the lexicon's spelling: the words are read again
                    // as written only for a verb of ceasing. A form it does
                    // not know, "ceases", is read as any action.)
                    let ceasing = t.entry.is_some()
                        && crate::text::CEASING.contains(&self.words.key(t.key))
                        && !crate::text::one_of(word(i), &["no", "non", "without"])
                        && !bidding();
                    if ceasing {
                        ceased_at = j;
                        let next = toks.get(j + 1).filter(|n| toks[j].runs_on() && n.word);
                        let ing =
                            next.is_some() && ends_ing(quote(j + 1, j + 1).words(subject, body).0);
                        // The customer, or no one named, before the negator
                        // (`i - 1` read only when `opens(i)` is false).
                        let person = opens(i) || crate::text::one_of(word(i - 1), &KEEP_SUBJECTS);
                        // What goes on working is no failure: "it never
                        // stopped working", "hasn't stopped working once".
                        let goes_on = (toks[j].runs_on()
                            && j + 1 < toks.len()
                            && crate::text::one_of(
                                word(j + 1),
                                &["me", "us", "work", "works", "working"],
                            ))
                            || (ing
                                && person
                                && next.is_some_and(|n| {
                                    matches!(n.entry, None | Some(Entry::Neutral))
                                }));
                        // The lexicon's rating of the next word: a fault
                        // that goes on is a failure, its word the pull.
                        let rated = next.and_then(|n| match n.entry {
                            Some(Entry::Rated(v)) => Some(v),
                            _ => None,
                        });
                        if !goes_on && rated.is_none_or(|v| v < 0.0) {
                            failure = true;
                            last_problem = j;
                            // (`i - 1` read only when `i > 0`.)
                            let modal = i > 0 && own_modal(i - 1);
                            let last = if ing { j + 1 } else { j };
                            if rated.is_none() {
                                pull_down(
                                    &mut neg,
                                    &mut most_negative,
                                    Pull::NegatedAction(quote(i - usize::from(modal), last)),
                                    NEGATED_ACTION,
                                );
                            }
                        }
                    }
                    // "can't wait to see it", "couldn't wait for the
                    // release", "Can't wait!": eagerness, not a failure ("we can't wait
                    // any longer" is one).
                    // Ending its clause, with no subject before the negator,
                    // "Can't wait!" is eagerness too ("This can't wait." is
                    // urgency).
                    let no_subject = opens(i);
                    let eager = t.entry == Some(Entry::Wait)
                        && toks.get(j + 1).map_or(no_subject, |n| {
                            n.is("to", self)
                                || n.is("for", self)
                                || (no_subject
                                    && (t.stop()
                                        || (n.emoticon
                                            && matches!(n.entry, Some(Entry::Rated(v)) if v > 0.0))))
                        });
                    // "can't help but laugh": no help refused.
                    let eager = eager
                        || (t.is("help", self)
                            && toks.get(j + 1).is_some_and(|n| n.is("but", self)));
                    // Not before a word rated or the rules' own ("can't go
                    // wrong", "didn't go well": the negation is that word's),
                    // nor "didn't go down" (good news).
                    let short = t.entry == Some(Entry::ShortAction)
                        && !toks.get(j + 1).is_some_and(|n| {
                            matches!(
                                n.entry,
                                Some(Entry::Rated(_) | Entry::Topic(_) | Entry::Unrated)
                            ) || n.is("down", self)
                        });
                    // "can't emphasize this enough": emphasis. "didn't
                    // cause any errors", "never saw a problem": a problem
                    // that did not happen, no failure (the problem word is
                    // negated below).
                    let emphasis = || {
                        let (part, at) = after(j);
                        crate::text::ends_enough(part, at)
                    };
                    // The first word the lexicon rates in the action's
                    // clause, at most three words on (past articles and
                    // words it does not know: "any file errors").
                    // "no" and "without" negate a noun phrase: the
                    // action is its first word ("no real problems", "without
                    // any glaring flaws").
                    let no_problem = || {
                        // (`i`: the loop's index of `toks`.)
                        let nominal = toks[i].is("no", self) || toks[i].is("without", self);
                        let mut k = if nominal { i } else { j };
                        (nominal || crate::text::one_of(word(j), HAPPEN_TO))
                            && std::iter::from_fn(|| {
                                // (In bounds: `toks[k]` is read only after
                                // `get(k + 1)` found a token, so `k < len`;
                                // the first `None` ends the search.)
                                let next = toks.get(k + 1).filter(|_| toks[k].runs_on());
                                k += 1;
                                next
                            })
                            .take(3)
                            .find(|t| {
                                !matches!(
                                    t.entry,
                                    None | Some(Entry::NotAction | Entry::Intensifier(_))
                                )
                            })
                            .is_some_and(|t| self.negative(t))
                    };
                    // What the customer chose not to do ("I haven't used the
                    // mobile app yet", "we didn't try the new editor") is
                    // no failure; what they could not do is ("I can't use
                    // the app", "why can I not use my card?"): the
                    // customer's denial of an action, as a disowning reads
                    // it, of a verb of choice.
                    // (`i` is the loop's index of `toks`; `after(i)` ends
                    // within its part, `denied_by_customer` reads by `get`.)
                    let own_choice = || {
                        let (part, end) = after(i);
                        crate::text::one_of(word(j), CHOICES)
                            && crate::text::denied_by_customer(
                                part,
                                (toks[i].start as usize, end),
                                false,
                            )
                    };
                    // Searching is asking ("I couldn't find it in the docs"), but
                    // what a thing fails to find is a failure ("it can't find the
                    // device", "the search doesn't find anything"): a word right
                    // before the negator (or its modal) that names no person.
                    let thing_searched = || {
                        t.entry == Some(Entry::NotAction)
                            && crate::text::one_of(word(j), SEARCHING)
                            && {
                                // (`i` is the loop's index of `toks`; `i - 1`
                                // and `i - 2` are read only when above 0, so
                                // `k`, one of them, indexes `toks` too.)
                                let k = if i > 1
                                    && SEARCH_MODALS.iter().any(|m| toks[i - 1].is(m, self))
                                    && toks[i].is("not", self)
                                {
                                    i - 2
                                } else if i > 0 {
                                    i - 1
                                } else {
                                    return false;
                                };
                                // A thing named: "it", "this", or a content
                                // word of no entry ("the search", "my
                                // phone"); not the customer left out after a
                                // conjunction ("I looked but couldn't find
                                // it", "… and couldn't find it").
                                let w = word(k);
                                toks[k].runs_on()
                                    && (crate::text::one_of(w, &["it", "this", "that", "which"])
                                        || (toks[k].word
                                            && toks[k].entry.is_none()
                                            && !crate::text::grammatical(w)
                                            && !crate::text::one_of(w, PERSONS)))
                            }
                    };
                    if ((matches!(t.entry, None | Some(Entry::Neutral | Entry::Wait)) && t.word)
                        || short
                        || thing_searched())
                        && !ceasing
                        && !eager
                        && !emphasis()
                        && !no_problem()
                        && !own_choice()
                    {
                        failure = true;
                        last_problem = j;
                        // The negator's own modal ("could not export") is
                        // quoted with it. (`i - 1` read only when `i > 0`.)
                        let modal = i > 0 && own_modal(i - 1);
                        pull_down(
                            &mut neg,
                            &mut most_negative,
                            Pull::NegatedAction(quote(i - usize::from(modal), j)),
                            NEGATED_ACTION,
                        );
                    }
                }
            }
            if toks[i].entry == Some(Entry::Excess) && toks[i].runs_on() {
                // "too" + a content word the lexicon does not rate, not
                // itself negated ("not too long" is no complaint).
                let negated = i > 0 && toks[i - 1].negates;
                if let Some(t) = toks.get(i + 1) {
                    if !negated
                        && matches!(t.entry, None | Some(Entry::NotAction | Entry::Auxiliary))
                        && t.word
                    {
                        pull_down(
                            &mut neg,
                            &mut most_negative,
                            Pull::Excess(quote(i, i + 1)),
                            EXCESS,
                        );
                    }
                }
            }
            // A recurrence: what happens again and again unasked ("keeps
            // logging me out", "I keep getting this email", "it kept
            // freezing"); not a bidding ("keep going": "keep" needs a
            // subject right before it), nor what is rated ("keeps getting
            // better" is the lexicon's to read), nor negated.
            if toks[i].entry == Some(Entry::Recurrence) && toks[i].runs_on() {
                let said_of = !toks[i].is("keep", self)
                    || (i > 0 && KEEP_SUBJECTS.iter().any(|w| toks[i - 1].is(w, self)));
                let negated = i > 0 && toks[i - 1].negates;
                let rated =
                    |t: Option<&Tok>| t.is_some_and(|t| matches!(t.entry, Some(Entry::Rated(_))));
                if said_of
                    && !negated
                    && toks.get(i + 1).is_some_and(|t| t.word)
                    && !rated(toks.get(i + 1))
                    && !rated(toks.get(i + 2))
                    // (The word read again: rare, as `participle` below.)
                    && ends_ing(quote(i + 1, i + 1).words(subject, body).0)
                {
                    reported = true;
                    pull_down(
                        &mut neg,
                        &mut most_negative,
                        Pull::Recurrence(quote(i, i + 1)),
                        RECURRENCE,
                    );
                }
            }
            // A wait told: "we waited two days for a first reply", "I waited
            // over a week for the refund" — the time gone by, as below; not
            // supposed ("if you waited a day"). ("waited" has the wait's
            // entry: read by its key.) (`toks[i]`: the loop's index; `i +
            // from` indexes `toks`: `from` is 1 only when `toks[i + 1]`
            // was found.)
            if toks[i].entry == Some(Entry::Wait) && toks[i].is("waited", self) && !hypothetical(i)
            {
                let from = usize::from(toks.get(i + 1).is_some_and(|t| t.is("for", self)));
                if let Some(u) = waited_unit(i + from) {
                    pull_down(
                        &mut neg,
                        &mut most_negative,
                        Pull::Unmet(quote(i, u)),
                        UNMET,
                    );
                }
            }
            // Time gone by, told to the vendor: "It's been 5 days", "it has
            // been two weeks since I reported it", "it's been over a week" —
            // a wait complained of, as an expectation not met (the subject is
            // "it": not "we have been customers for years"; no years: "it's
            // been two years since we started" is tenure). (`toks[i]`: the
            // loop's index; `i - 1`, `i - 2` read when above 0 and 1; the
            // words after it by `get`, read again only after "been".)
            // (The word before is read again as written only when it starts
            // with "it": "been" is common. Called with `k = i - 1` after
            // `i > 0`, so `toks[k]` is in bounds; the bytes are read by `get`.)
            let starts_it = |k: usize| {
                let part = if k >= body_start { body } else { subject };
                let at = toks[k].start as usize;
                part.as_bytes()
                    .get(at..at + 2)
                    .is_some_and(|b| b.eq_ignore_ascii_case(b"it"))
            };
            if toks[i].entry == Some(Entry::Auxiliary)
                && toks[i].is("been", self)
                && i > 0
                && toks[i - 1].runs_on()
                && ((starts_it(i - 1)
                    && crate::text::one_of(word(i - 1), &["it's", "its", "it’s"]))
                    || (i > 1
                        && toks[i - 1].is("has", self)
                        && crate::text::one_of(word(i - 2), &["it"])))
            {
                if let Some(u) = waited_unit(i) {
                    let from = if toks[i - 1].is("has", self) {
                        i - 2
                    } else {
                        i - 1
                    };
                    pull_down(
                        &mut neg,
                        &mut most_negative,
                        Pull::Unmet(quote(from, u)),
                        UNMET,
                    );
                }
            }
            // An expectation not met: "was supposed to sync", "should have
            // been fixed" (not negated: "shouldn't have any problems").
            // The cue's tokens: "supposed to", "should have", "should've".
            let unmet = match toks[i].entry {
                Some(Entry::Supposed) if toks.get(i + 1).is_some_and(|t| t.is("to", self)) => 2,
                Some(Entry::Irrealis) => match self.words.key(toks[i].key) {
                    "should've" => 1,
                    "should" if toks.get(i + 1).is_some_and(|t| t.is("have", self)) => 2,
                    // What would have been ("would have made it better",
                    // "could have warned us"): a participle after "have",
                    // not what must be ("would have to") or what is had
                    // ("would have a code", "could have issues").
                    w @ ("would've" | "could've" | "would" | "could") => {
                        let at = if w.ends_with("'ve") { 1 } else { 2 };
                        let have = at == 1 || toks.get(i + 1).is_some_and(|t| t.is("have", self));
                        // (The word read again: rare, not worth a field
                        // on every token.)
                        let done = toks.get(i + at).is_some_and(|t| t.word)
                            && participle(quote(i + at, i + at).words(subject, body).0);
                        if have && done {
                            at
                        } else {
                            0
                        }
                    }
                    _ => 0,
                },
                _ => 0,
            };
            // A hope or expectation in the past perfect: "I had hoped this
            // would be fixed by now", "we had expected a reply" (not "I
            // expected": "better than I expected", "everything I expected").
            // Its verb is not rated ("hoped"). (`toks[i]`: the loop's index;
            // `i + 1` read by `get`; the word read again only after "had".)
            let unmet = if unmet == 0
                && toks[i].entry == Some(Entry::Auxiliary)
                && toks[i].is("had", self)
                && toks.get(i + 1).is_some_and(|t| t.word)
                && crate::text::one_of(word(i + 1), &["hoped", "expected"])
            {
                hoped_at = i + 1;
                1
            } else {
                unmet
            };
            // A promise made to the customer: "I was promised a refund",
            // "we were promised a fix", "you promised to call back" — told to
            // the vendor, it is an expectation not met, and its verb is not
            // rated (not "as promised", nor "I promise"). (`toks[i]`: the
            // loop's index; `i + 1` read by `get`; the word read again only
            // before "promised".)
            let unmet = if unmet == 0
                && toks.get(i + 1).is_some_and(|t| {
                    matches!(t.entry, Some(Entry::Rated(_))) && t.is("promised", self)
                })
                && crate::text::one_of(word(i), &["was", "were", "been", "you", "they"])
            {
                hoped_at = i + 1;
                1
            } else {
                unmet
            };
            if unmet > 0 && toks[i].runs_on() && !(i > 0 && toks[i - 1].negates) {
                // Quoted with the word after the cue, through "be" and
                // "been" ("supposed to sync", "should have been fixed").
                // `toks` holds `toks[i]`, so `len - 1` does not wrap, and
                // `last + 1 < len` keeps `toks[last]` in bounds.
                let mut last = (i + unmet).min(toks.len() - 1);
                while last + 1 < toks.len()
                    && (toks[last].is("be", self) || toks[last].is("been", self))
                {
                    last += 1;
                }
                reported = true;
                pull_down(
                    &mut neg,
                    &mut most_negative,
                    Pull::Unmet(quote(i, last)),
                    UNMET,
                );
            }
            let (mut v, topic) = match toks[i].entry {
                // An outcome wanted ("we need this resolved") is no praise
                // yet: asked of the lexicon's spelling first.
                Some(Entry::Rated(v))
                    if i != hoped_at && !(v > 0.0 && self.wanted(toks, i, &word)) =>
                {
                    (v, false)
                }
                Some(Entry::Topic(v)) => (v, true),
                // "I like the new editor", "we really liked it": the verb
                // of liking with the customer as its subject is praise, as
                // the lexicon rates it, though the rules left "like"
                // unrated ("I'd like to", "looks like", "would like").
                Some(Entry::Neutral) if i > 0 && self.liked_by_customer(toks, i, &word) => {
                    (self.bundled[toks[i].key as usize], false)
                }
                _ => continue,
            };
            // A negated verb of ceasing is read as a failure above, or its
            // feeling is the next word's.
            if i == ceased_at {
                continue;
            }
            // What is prevented or avoided does not happen: "to avoid any
            // confusion", "it prevents data loss", "protects us against
            // accidental deletion" — neither the fault nor the verb is a
            // feeling ("Avoid this app!" keeps the verb's rating).
            if v < 0.0 && self.prevented(toks, i) {
                continue;
            }
            // A word of degree right before a word of the other feeling is
            // that word's degree, not a feeling of its own: "a huge
            // disappointment", "pretty bad", "a great loss" are no praise,
            // "damn good", "crazy good", "terribly nice" no complaint (the
            // word after it weighs more, below).
            if self.degree_of(toks, i) {
                continue;
            }
            if v > 0.0 && self.signs_off(toks, i) {
                continue;
            }
            // The task a question asks about is no feeling: the verb after
            // "to", or after "I"/"we" and an auxiliary, in a sentence that
            // opens as a question and ends with "?" ("How do I kill a
            // running job?", "Is there a way to block weekends?", "Can we
            // stop the sync?"; not "Why do I hate …": a "why" is often a
            // complaint).
            if !topic && i > 0 && asked_task(toks, body_start, i, self, &word, &asked) {
                continue;
            }
            let Tok { key, caps, .. } = toks[i];
            // The word as the lexicon spells it (`key` is the index it gave
            // this token, which has an entry).
            let rated = self.words.key(key);
            if caps && caps_differ {
                v += CAPS * v.signum();
            }
            // A word of degree right before it, of the other feeling: quoted
            // with it ("huge disappointment", "damn good").
            let mut by_degree = false;
            for k in 1..=3usize {
                let Some(j) = i.checked_sub(k) else { break };
                let t = toks[j];
                let degree = k == 1 && self.degree_of(toks, j);
                by_degree |= degree;
                let b = match t.entry {
                    Some(Entry::Intensifier(b)) => Some(b),
                    _ if degree => Some(BOOST),
                    _ => None,
                };
                if let Some(b) = b {
                    let mut b = b * v.signum();
                    if t.caps && caps_differ {
                        b += CAPS * b.signum();
                    }
                    v += b * [1.0, 0.95, 0.9][k - 1];
                }
                // "couldn't be happier", "can't be any easier", "couldn't be
                // more pleased": a negated comparative is the highest
                // degree, praise or blame ("it couldn't be worse",
                // "couldn't be more frustrating"), not its opposite.
                let superlative = || {
                    // (`i - 1`: `j = i - k` with `k >= 1`, so `i >= 1`.)
                    let comparative = (rated.len() > 4 && rated.ends_with("er"))
                        || rated == "worse"
                        || toks[i - 1].is("more", self);
                    // "doesn't get any better than this" too ("get" with
                    // "than" after: "it doesn't get any better" alone may
                    // be a complaint).
                    let than = || {
                        // (`i` and every `x < i` index `toks`: the loop's;
                        // `i + 1` is checked against the length first.)
                        (j + 1..i).any(|x| crate::text::one_of(word(x), &["get", "gets"]))
                            && toks[i].runs_on()
                            && i + 1 < toks.len()
                            && word(i + 1).eq_ignore_ascii_case("than")
                    };
                    comparative
                        && (toks[j + 1..i]
                            .iter()
                            .any(|x| x.is("be", self) || x.is("been", self))
                            || than())
                };
                // The clause after the word undoes the negation: "never had
                // an issue until the update" (the problem is there now), "I
                // can't thank you enough" (the most thanks).
                let undone = || {
                    let (part, at) = after(i);
                    crate::text::ends_until(part, at) || crate::text::ends_enough(part, at)
                };
                // (In the word's sentence: "Oh no. Nice, it's back.")
                // Not past a negated verb of ceasing ("won't stop
                // crashing"), nor by one ("never stopped crashing").
                if t.negates
                    && !(j..i).contains(&ceased_at)
                    && !toks[i].emoticon
                    && !toks[j..i].iter().any(|t| t.stop())
                    && !superlative()
                    && !undone()
                {
                    v *= NEGATION;
                }
            }
            // An adverb stressing a denial is no praise: "which I
            // definitely did not do", "certainly not", "really don't know".
            // (`toks[i]`: the loop's index.)
            if v > 0.0 && toks[i].runs_on() && rated.ends_with("ly") {
                // Token `i + k` (k ≥ 1) when the one before runs on into
                // it: `i + k - 1` is at least `i`, below `i + k`, in `toks`.
                let next = |k: usize| toks.get(i + k).filter(|_| toks[i + k - 1].runs_on());
                let denial = next(1).is_some_and(|t| t.negates)
                    || (next(1).is_some_and(|t| t.entry == Some(Entry::Auxiliary))
                        && next(2).is_some_and(|t| t.negates));
                if denial {
                    continue;
                }
            }
            // "well" that is no praise: "as well (as)" (also), "well over
            // the limit", "well before noon" (a degree), "Well, …" opening
            // a clause (a pause). Its neighbours are read from where their
            // tokens start (`i - 1` after `i > 0`, `i + 1` below the length;
            // `i == 0` is tested before `i - 1` is read).
            if v > 0.0 && rated == "well" {
                // The word it runs on into, if any (`toks[i]`: the loop's).
                let after = if toks[i].runs_on() && i + 1 < toks.len() {
                    word(i + 1)
                } else {
                    ""
                };
                let also = i > 0
                    && toks[i - 1].runs_on()
                    && word(i - 1).eq_ignore_ascii_case("as")
                    && !after.eq_ignore_ascii_case("as");
                let degree = WELL_DEGREE.iter().any(|d| after.eq_ignore_ascii_case(d));
                // (`i`: the loop's index of `toks`.)
                let pause = toks[i].comma() && opens_sentence(toks, body_start, i);
                if also || degree || pause {
                    continue;
                }
            }
            // A wish, a hypothesis or a question is no praise ("Which
            // currencies do you accept?", "Can you help me?").
            if v > 0.0 && (hypothetical(i) || (!toks[i].emoticon && (wished(i) || asked(i)))) {
                continue;
            }
            if let Some(c) = contrast {
                v *= if i < c {
                    BEFORE_CONTRAST
                } else {
                    AFTER_CONTRAST
                };
            }
            if topic && v >= 0.0 {
                // "no errors": the absence of a problem is no praise.
                continue;
            }
            // (`i - 1`: a word of degree stands before `i`.)
            let pull = if by_degree {
                Pull::Degree(quote(i - 1, i))
            } else {
                Pull::Word(rated)
            };
            if v < 0.0 {
                if topic {
                    topic_neg += v;
                    last_problem = i;
                }
                pull_down(&mut neg, &mut most_negative, pull, v);
            } else {
                pos += v;
                if most_positive.is_none_or(|m| v > m.1) {
                    most_positive = Some((pull, v));
                }
            }
        }
        // Sarcasm: strong praise said alone ("Great,", "Oh great.", "Just
        // wonderful!") in a message that reports a problem and no fix
        // ("Oh great, another crash. Love losing an hour of work.") praises
        // nothing: no praise of the message counts (the rules' positive
        // phrases neither, nor politeness), and the interjection weighs as
        // its praise turned. Not "Great, the crash is gone", nor "Great,
        // thanks!", nor "Works great." (a word before it that is no
        // interjection's opener).
        // Praise beside a complaint (a negative phrase, a failure or a
        // named problem) that no fix said after its last problem resolves
        // ("Works great. But the export is broken"; not "The crash is gone,
        // works great now"): it is damped below, and is no happy customer.
        let complaint = phrases.negative > 0.0 || failure || topic_neg < 0.0;
        // (Read once, and only where praise would count: most complaints
        // praise nothing.)
        let mut memo = None;
        let mut unresolved =
            || *memo.get_or_insert_with(|| complaint && !resolved(toks, last_problem, &self.fixes));
        // (A fault the rules' phrases name counts for the interjection
        // too: "Wow, another update that breaks the calendar. Just
        // wonderful.")
        let sarcasm = (complaint || phrases.fault)
            .then(|| self.interjection(toks, body_start, &word))
            .flatten()
            .filter(|_| {
                if complaint {
                    unresolved()
                } else {
                    !resolved(toks, 0, &self.fixes)
                }
            });
        if let Some((first, at, praise)) = sarcasm {
            pos = 0.0;
            most_positive = None;
            pull_down(
                &mut neg,
                &mut most_negative,
                Pull::Sarcasm(quote(first, at)),
                -praise * SARCASM,
            );
        }
        if emoji < 0.0 {
            neg += emoji;
        } else {
            pos += emoji;
        }
        // The rules' phrases weigh as strongly rated words; a complaint
        // damps the positive words around it, the rules' own as the
        // lexicon's (politeness, sarcasm), and politeness counts only when
        // nothing is negative but the topics named, and no problem is left
        // unresolved ("I get an error when exporting. Thanks," is no happy
        // customer).
        neg -= PHRASE_VALENCE * phrases.negative;
        if sarcasm.is_none() {
            pos += PHRASE_VALENCE * phrases.positive;
        }
        if pos > 0.0 && unresolved() {
            pos *= COMPLAINT_DAMPING;
        }
        let request = questions > 0 || toks.iter().any(|t| t.entry == Some(Entry::Request));
        if neg == topic_neg && !request && sarcasm.is_none() && !unresolved() {
            pos += PHRASE_VALENCE * phrases.polite;
        }
        let emphasis = {
            let mut e = exclamations.min(4) as f32 * 0.292;
            if questions > 1 {
                e += if questions <= 3 {
                    questions as f32 * 0.18
                } else {
                    0.96
                };
            }
            e
        };
        let compound = |mut sum: f32| {
            if sum != 0.0 {
                sum += emphasis * sum.signum();
            }
            (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
        };
        Valence {
            compound: compound(pos + neg),
            // Praise beside a problem not resolved is no happy customer
            // ("Great tool, but the export fails every time"): the
            // feeling is at most neutral.
            feeling: match compound(pos + neg - topic_neg) {
                f if f > 0.0 && unresolved() => 0.0,
                f => f,
            },
            most_negative,
            most_positive,
            failure: failure || reported,
        }
    }

    /// Token `j` (an index of `toks`) is a word of degree that runs on into
    /// a word of the other feeling, and is that word's degree, not a
    /// feeling of its own: one of [`DEGREE_WORDS`] (rated positive) before
    /// a word the lexicon rates negative ("a huge disappointment", "a true
    /// nightmare", "pretty bad"; not before a degree of praise, "pretty
    /// damn good"), or one of [`FAULT_DEGREE_WORDS`] (rated negative)
    /// before a word it rates positive ("damn good", "crazy good",
    /// "terribly nice", "freaking awesome").
    fn degree_of(&self, toks: &[Tok], j: usize) -> bool {
        // (`j` indexes `toks`: every caller's; `j + 1`, `j + 2` read by
        // `get`.)
        if !(toks[j].runs_on() && toks[j].entry.is_some()) {
            return false;
        }
        let Some(next) = toks.get(j + 1) else {
            return false;
        };
        // Most words run on into one the lexicon does not rate: no list is
        // read for them.
        let after = self.valence(next.key, next.entry);
        if after == 0.0 {
            return false;
        }
        let w = self.words.key(toks[j].key);
        if after < 0.0 {
            let praised = next.runs_on() && toks.get(j + 2).is_some_and(|t| self.positive(t));
            DEGREE_WORDS.contains(&w) && !praised
        } else {
            FAULT_DEGREE_WORDS.contains(&w)
        }
    }

    /// `t` is a word the lexicon rates positive: rated so, or a word the
    /// rules took that the bundled lexicon rates positive (their praise,
    /// "awesome").
    fn positive(&self, t: &Tok) -> bool {
        self.valence(t.key, t.entry) > 0.0
    }

    /// The rules' praise `phrase` (a word of [`DEGREE_WORDS`]: "great") ends
    /// at byte `end` of `text` and runs on, after spaces only, into a word
    /// the lexicon rates negative: the fault's degree ("a great
    /// disappointment", "great inconvenience"), no praise.
    pub fn degree_before(&self, phrase: &str, text: &str, end: usize) -> bool {
        if !DEGREE_WORDS.iter().any(|d| d.eq_ignore_ascii_case(phrase)) {
            return false;
        }
        let rest = text.get(end..).unwrap_or("");
        let next = rest.trim_start_matches([' ', '\t']);
        if next.len() == rest.len() {
            return false;
        }
        let word: String = next
            .chars()
            .take_while(|c| c.is_alphabetic() || *c == '\'')
            .flat_map(char::to_lowercase)
            .collect();
        self.words
            .find(&word)
            .is_some_and(|(key, entry)| self.valence(key, Some(entry)) < 0.0)
    }

    /// How the lexicon rates a word it gave `key` and `entry`: a rated
    /// word or a topic as rated, a word the rules took as the bundled
    /// lexicon rates it (their "problem", their praise "awesome"), else 0.
    fn valence(&self, key: u32, entry: Option<Entry>) -> f32 {
        match entry {
            Some(Entry::Rated(v) | Entry::Topic(v)) => v,
            Some(Entry::Unrated) => self.bundled.get(key as usize).copied().unwrap_or(0.0),
            _ => 0.0,
        }
    }

    /// Token `i` (above 0, an index of `toks`, with a key: a neutral
    /// word) is "like", "likes" or "liked" right after "I" or "we", an
    /// adverb of [`LIKING_ADVERBS`] between at most ("I like", "we really
    /// liked"; not "I'd like", "I would like", "looks like", "I don't
    /// like": a negation is read as the failure it reports).
    fn liked_by_customer<'t>(
        &self,
        toks: &[Tok],
        i: usize,
        word: &impl Fn(usize) -> &'t str,
    ) -> bool {
        if !matches!(self.words.key(toks[i].key), "like" | "likes" | "liked") {
            return false;
        }
        let is = |k: usize, list: &[&str]| list.iter().any(|w| word(k).eq_ignore_ascii_case(w));
        let mut k = i - 1;
        if k > 0 && toks[k].runs_on() && is(k, LIKING_ADVERBS) {
            k -= 1;
        }
        toks[k].runs_on() && is(k, &["i", "we"])
    }

    /// Token `i` (the scoring loop's index) is an outcome the customer
    /// wants, not has ([`crate::text::wanted_outcome`]): "we need this
    /// resolved", "it must be solved today".
    fn wanted<'t>(&self, toks: &[Tok], i: usize, word: &impl Fn(usize) -> &'t str) -> bool {
        // (Every outcome ends in "ed": most words are rejected by their
        // last bytes. `toks[i]`: the scoring loop's index, below the
        // length; `k` runs over `0..i`.)
        let key = self.words.key(toks[i].key);
        if toks[i].entry.is_none() || !key.ends_with("ed") || !crate::text::OUTCOMES.contains(&key)
        {
            return false;
        }
        // The words before it in its clause, the nearest first: `k` counts
        // down from `i - 1` while the word before runs on into it.
        crate::text::wanted_outcome((0..i).rev().take_while(|&k| toks[k].runs_on()).map(word))
    }

    /// `t` is a negative word: rated so, a negative topic ("error"), or a
    /// word the rules took that the bundled lexicon rates negative
    /// ("problem", a sentiment phrase).
    fn negative(&self, t: &Tok) -> bool {
        self.valence(t.key, t.entry) < 0.0
    }

    /// Token `i` (an index of `toks`, with an entry) is a fault prevented
    /// or avoided, or the verb preventing one: one of [`PREVENTING`] and a
    /// word rated negative at most [`PREVENTED_REACH`] tokens apart in one
    /// clause.
    fn prevented(&self, toks: &[Tok], i: usize) -> bool {
        let preventing = |t: &Tok| t.entry.is_some() && PREVENTING.contains(&self.words.key(t.key));
        // (`toks[i]`: every caller passes the scoring loop's index.)
        if preventing(&toks[i]) {
            // (`k` from `i + 1`, read by `get`; `toks[k - 1]` is at least
            // `toks[i]`.)
            (i + 1..=i + PREVENTED_REACH)
                .take_while(|&k| toks[k - 1].runs_on())
                .map_while(|k| toks.get(k))
                .any(|t| self.negative(t))
        } else {
            // (`k` counts down from `i - 1` while above `i - 1 - reach`;
            // `i.checked_sub` keeps it in bounds.)
            (1..=PREVENTED_REACH)
                .map_while(|d| i.checked_sub(d))
                .take_while(|&k| toks[k].runs_on())
                .any(|k| preventing(&toks[k]))
        }
    }

    /// Token `i` (an index of `toks`, with an entry) signs the message
    /// off: "Best regards", "kind regards", or a closing word with a comma
    /// among the last words ("Best,", "All the best,", "Warmly,"; not
    /// "works fine, thanks"). No praise, and no interjection either.
    fn signs_off(&self, toks: &[Tok], i: usize) -> bool {
        // (`toks[i]`: both callers pass an index of `toks` — the scoring
        // loop's and the interjection search's `enumerate`; `i + 1` by `get`.)
        toks.get(i + 1)
            .is_some_and(|t| t.entry == Some(Entry::SignOff))
            || (toks[i].comma()
                && i + SIGN_OFF_TAIL >= toks.len()
                && CLOSINGS.contains(&self.words.key(toks[i].key)))
    }

    /// The first interjection of strong praise in `toks`: a word the
    /// bundled lexicon rates [`STRONG_PRAISE`] or more that closes its
    /// clause (",", ".", "!" after it; after a comma no rated word, which
    /// would make it a list) and opens its sentence, alone or after one of
    /// [`OPENERS`] ("Great,", "Oh great.", "Just wonderful!"); no "-ly"
    /// adverb ("Happily, …"), no sign-off ("Best, Maria").
    /// Its first and last token and its rating. `word` reads token `k` as
    /// written (`Lexicon::score`'s).
    fn interjection<'t>(
        &self,
        toks: &[Tok],
        body_start: usize,
        word: &impl Fn(usize) -> &'t str,
    ) -> Option<(usize, usize, f32)> {
        let opens = |k: usize| opens_sentence(toks, body_start, k);
        toks.iter().enumerate().find_map(|(i, t)| {
            if !matches!(t.end, b',' | b'.' | b'!') || t.entry.is_none() {
                return None;
            }
            // `key` is the lexicon's index of a token with an entry.
            let praise = self.bundled.get(t.key as usize).copied().unwrap_or(0.0);
            if praise < STRONG_PRAISE || t.negates {
                return None;
            }
            // Not an adverb ("Happily, some things …": a sentence adverb),
            // nor the first of a list of rated words ("Ambitious,
            // unsettling psychodrama"): an interjection's comma opens a
            // clause ("Great, another crash").
            let listed = t.end == b','
                && toks
                    .get(i + 1)
                    .is_some_and(|n| matches!(n.entry, Some(Entry::Rated(_))));
            if listed || self.words.key(t.key).ends_with("ly") || self.signs_off(toks, i) {
                return None;
            }
            if opens(i) {
                return Some((i, i, praise));
            }
            // (`i - 1`: `opens(i)` is false, so `i > 0`.)
            let opener = toks[i - 1].runs_on()
                && opens(i - 1)
                && OPENERS.iter().any(|o| word(i - 1).eq_ignore_ascii_case(o));
            opener.then_some((i - 1, i, praise))
        })
    }

    /// [`Lexicon::token`] of the ASCII token `s..e` of `text`: a token of up
    /// to 16 bytes is read as one 16-byte word ([`ShortWord`]), a longer one
    /// (rare) by the general path (the same token out, a test compares
    /// them).
    #[inline]
    fn ascii_token_at(&self, text: &str, s: usize, e: usize, word: &mut String) -> Tok {
        let raw = &text[s..e];
        if e - s > 16 {
            return self.token(raw, word);
        }
        let w = ShortWord::read(text.as_bytes(), s, e - s);
        if w.start == w.end || w.flags & NUL != 0 {
            // An emoticon, or a NUL byte: the general path.
            return self.token(raw, word);
        }
        let n = w.end - w.start;
        // "n't", little-endian.
        const NT: u32 = u32::from_le_bytes([b'n', b'\'', b't', 0]);
        self.tok(
            self.words.find_packed(w.key),
            raw,
            Shape {
                flags: w.flags,
                len: n,
                ascii: true,
                trimmed: n != e - s,
                as_written: false,
                ends_nt: n >= 3 && (w.key >> (8 * (n - 3))) as u32 & 0x00FF_FFFF == NT,
            },
        )
    }

    /// One whitespace-separated token: emoticons are looked up as written,
    /// words without the punctuation around them, lower-cased (typographic
    /// apostrophes as `'`).
    fn token(&self, raw: &str, word: &mut String) -> Tok {
        let stripped = trim_punctuation(raw);
        // All punctuation (":)", ":-("): the emoticon as written.
        let lookup = if stripped.is_empty() { raw } else { stripped };
        let flags = lookup.bytes().fold(0u8, |f, b| f | class(b));
        word.clear();
        if lookup.is_ascii() {
            word.push_str(lookup);
            word.make_ascii_lowercase();
        } else {
            for c in lookup.chars() {
                if c == '\u{2019}' {
                    word.push('\'');
                } else {
                    word.extend(c.to_lowercase());
                }
            }
        }
        let found = self.words.find(word.as_str());
        self.tok(
            found,
            raw,
            Shape {
                flags,
                len: lookup.len(),
                ascii: lookup.is_ascii(),
                trimmed: stripped.len() != raw.len(),
                as_written: stripped.is_empty(),
                ends_nt: word.ends_with("n't"),
            },
        )
    }

    /// The token of a word the lexicon gave as `found` (else looked up as
    /// written: an emoticon with letters, ":D"), of the given shape.
    #[inline(always)]
    fn tok(&self, mut found: Option<(u32, Entry)>, raw: &str, s: Shape) -> Tok {
        let mut emoticon = s.as_written && found.is_some();
        if found.is_none() && s.trimmed {
            found = self.words.find(raw);
            emoticon = found.is_some();
        }
        let (upper, lower) = (s.flags & UPPER != 0, s.flags & LOWER != 0);
        Tok {
            // A plain word keeps its key, with no entry.
            entry: found.map(|(_, e)| e).filter(|e| *e != Entry::Plain),
            key: found.map_or(u32::MAX, |(i, _)| i),
            caps: upper && !lower && s.len > 1,
            negates: matches!(found, Some((_, Entry::Negator))) || s.ends_nt,
            word: s.len >= 3 && s.ascii && s.flags & NOT_ALPHA == 0,
            letters: upper || lower,
            emoticon,
            // (A token is at least one byte; 0 would read as running on.)
            end: raw.as_bytes().last().copied().unwrap_or(0),
            start: 0,
        }
    }
}

/// Verbs of searching: negated, the customer's are a question ("I can't find
/// the setting"), a thing's a failure ("it can't find the printer").
const SEARCHING: &[&str] = &["find", "locate", "detect", "recognize", "recognise", "see"];
/// Auxiliaries a negated verb of searching takes as two words ("could
/// not find", "does not detect"): the subject stands before them.
const SEARCH_MODALS: &[&str] = &["can", "could", "does", "did", "will"];
/// Words for people as a clause's subject (not a thing that fails).
const PERSONS: &[&str] = &[
    "i",
    "we",
    "you",
    "they",
    "he",
    "she",
    "i'm",
    "we're",
    "you're",
    "they're",
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "people",
    "everyone",
    "everybody",
    "user",
    "users",
    "customer",
    "customers",
    "colleague",
    "colleagues",
    "team",
];

/// Words of size, extent or truth the lexicon rates for themselves ("a
/// huge fan", "pretty", "true") that are a degree before a fault ("a huge
/// disappointment", "pretty bad", "a true disaster").
const DEGREE_WORDS: &[&str] = &[
    "huge", "great", "pretty", "true", "perfect", "supreme", "sure", "certain",
];

/// Words of degree the lexicon rates for themselves negative (swearing,
/// "crazy", "terribly") that are a degree before praise ("damn good",
/// "crazy good", "terribly nice", "dead easy", "freaking awesome").
const FAULT_DEGREE_WORDS: &[&str] = &[
    "damn", "bloody", "crazy", "dead", "terribly", "wicked", "freaking", "fucking", "fuckin",
    "effing", "frickin", "friggin", "frigging",
];

/// Adverbs between "I"/"we" and the verb of liking ("I really like").
const LIKING_ADVERBS: &[&str] = &[
    "absolutely",
    "actually",
    "also",
    "always",
    "definitely",
    "do",
    "did",
    "just",
    "really",
    "still",
    "totally",
    "truly",
];

/// Words after which "well" is a degree, not praise ("well over the
/// limit", "well aware").
const WELL_DEGREE: &[&str] = &[
    "over", "under", "above", "below", "beyond", "within", "before", "after", "past", "ahead",
    "behind", "short", "into", "aware",
];

/// Question openers ([`crate::text::QUESTION_OPENERS`]) that do not ask how
/// to do something: a "why" is often a complaint ("Why do I hate …?").
const NOT_ASKING_HOW: &[&str] = &["why", "when", "who"];
/// Auxiliaries between a question's opener and its subject's verb ("do I
/// kill", "can we stop").
const TASK_AUXILIARIES: &[&str] = &[
    "do", "does", "can", "could", "should", "would", "will", "may", "might",
];

/// Token `i` (an index of `toks`, above 0) is the verb of the task a
/// question asks about: after "to", or after "I"/"we" with an auxiliary
/// before it, in a sentence that opens with a question opener but
/// [`NOT_ASKING_HOW`] and
/// ends with "?". `word` reads token `k` as written; `asked(k)`: token `k`'s
/// sentence ends with "?" (`Lexicon::score`'s).
fn asked_task<'t>(
    toks: &[Tok],
    body_start: usize,
    i: usize,
    l: &Lexicon,
    word: &impl Fn(usize) -> &'t str,
    asked: &impl Fn(usize) -> bool,
) -> bool {
    // (`i - 1`, `i - 2` read after `i > 0`, `i > 1`; `k` walks down from `i`.)
    let prev = &toks[i - 1];
    let after_subject = (prev.is("i", l) || prev.is("we", l))
        && i > 1
        && crate::text::one_of(word(i - 2), TASK_AUXILIARIES);
    if !(prev.is("to", l) || after_subject) || !prev.runs_on() {
        return false;
    }
    let mut k = i;
    while !opens_sentence(toks, body_start, k) {
        k -= 1;
    }
    let opener = word(k);
    crate::text::one_of(opener, crate::text::QUESTION_OPENERS)
        && !crate::text::one_of(opener, NOT_ASKING_HOW)
        && asked(i)
}

/// Token `k` (an index of `toks`) opens a sentence: the first of the
/// subject or of the body (which starts at `body_start`), or after a "." "!"
/// "?" (`k - 1` read when `k > 0`).
fn opens_sentence(toks: &[Tok], body_start: usize, k: usize) -> bool {
    k == 0 || k == body_start || toks[k - 1].stop()
}

/// A word of [`RESOLVED`] in `toks` from token `from` on (the last problem
/// reported: "Works great. But the export is broken" resolves nothing) not
/// negated by either of the two tokens before it ("it works now", not
/// "still not fixed", "hasn't been fixed"); "gone" only after a named
/// problem ("the crash is gone", not "my report is gone"). `word` reads
/// token `k` as written.
fn resolved(toks: &[Tok], from: usize, fixes: &[u32; RESOLVED.len() + 1]) -> bool {
    let (gone, fixed) = (fixes[RESOLVED.len()], &fixes[..RESOLVED.len()]);
    (from..toks.len()).any(|k| {
        // (`k` below `toks.len()`: the range's.)
        let t = &toks[k];
        // (A fix word has a key, an entry or none: [`Entry::Plain`].)
        if !(t.key == gone || fixed.contains(&t.key)) {
            return false;
        }
        // `k - 1`, `k - 2`, `k - 3` read only when `k` is above them.
        let negated = (k >= 1 && toks[k - 1].negates) || (k >= 2 && toks[k - 2].negates);
        let problem_gone = t.key != gone
            || toks[k.saturating_sub(3)..k]
                .iter()
                .any(|t| matches!(t.entry, Some(Entry::Topic(v)) if v < 0.0));
        !negated && problem_gone
    })
}

/// `word` reads as a past participle ("helped", "been", "made", "told"):
/// three letters or more, the last two a participle's.
fn participle(word: &str) -> bool {
    match word.as_bytes() {
        [_, .., a, b] => {
            PARTICIPLE_ENDINGS.contains(&[a.to_ascii_lowercase(), b.to_ascii_lowercase()])
        }
        _ => false,
    }
}

/// Ends with "-ing", any case ("logging", "DECLINING").
fn ends_ing(word: &str) -> bool {
    word.len() > 4 && word.as_bytes()[word.len() - 3..].eq_ignore_ascii_case(b"ing")
}

/// The first [`MAX_CHARS`] characters of `body`: what the scorer reads.
fn read_body(body: &str) -> &str {
    if body.len() <= MAX_CHARS || body.as_bytes()[..MAX_CHARS].is_ascii() {
        // ASCII up to the cut: characters are bytes.
        &body[..body.len().min(MAX_CHARS)]
    } else {
        match body.char_indices().nth(MAX_CHARS) {
            Some((i, _)) => &body[..i],
            None => body,
        }
    }
}

/// Adds the negative pull `v` to `neg`, and makes it the message's most
/// negative one when it is.
#[inline]
fn pull_down<'l>(neg: &mut f32, most: &mut Option<(Pull<'l>, f32)>, pull: Pull<'l>, v: f32) {
    *neg += v;
    if most.is_none_or(|m| v < m.1) {
        *most = Some((pull, v));
    }
}

impl Tok {
    /// No punctuation after the word: it runs on into the next one ("too
    /// slow", not "me too. Slow").
    #[inline]
    fn runs_on(&self) -> bool {
        !self.end.is_ascii_punctuation()
    }

    /// Ends with a comma ("Best," before a name signs a message off).
    #[inline]
    fn comma(&self) -> bool {
        self.end == b','
    }

    /// Ends a sentence: "." or "!" or "?" after the word.
    #[inline]
    fn stop(&self) -> bool {
        matches!(self.end, b'.' | b'!' | b'?')
    }

    /// The token is the lexicon's word `w` (as the lexicon spells it).
    fn is(&self, w: &str, l: &Lexicon) -> bool {
        self.entry.is_some() && l.words.key(self.key) == w
    }
}

/// What a token's word looked like, for [`Lexicon::tok`].
struct Shape {
    /// Its bytes' classes ([`class`]), or-ed.
    flags: u8,
    /// Bytes.
    len: usize,
    ascii: bool,
    /// Punctuation was cut from either end.
    trimmed: bool,
    /// Looked up as written (all punctuation: an emoticon).
    as_written: bool,
    /// Ends in "n't" (a negation).
    ends_nt: bool,
}

/// `raw` without ASCII punctuation and typographic apostrophes (U+2019, three
/// bytes) at either end; a byte loop, as `trim_matches` with a closure cost
/// more than the lookup.
fn trim_punctuation(raw: &str) -> &str {
    let b = raw.as_bytes();
    let (mut i, mut j) = (0, b.len());
    loop {
        if i < j && b[i].is_ascii_punctuation() {
            i += 1;
        } else if b[i..j].starts_with("\u{2019}".as_bytes()) {
            i += 3;
        } else {
            break;
        }
    }
    loop {
        if j > i && b[j - 1].is_ascii_punctuation() {
            j -= 1;
        } else if b[i..j].ends_with("\u{2019}".as_bytes()) {
            j -= 3;
        } else {
            break;
        }
    }
    // Cut only at ASCII bytes or around a whole U+2019: char boundaries.
    &raw[i..j]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compound(text: &str) -> f32 {
        Lexicon::builtin()
            .score(
                "",
                text,
                PhraseEvidence::default(),
                &mut SentimentScratch::default(),
            )
            .compound
    }

    #[test]
    fn the_bundled_lexicon_loads() {
        let l = Lexicon::builtin();
        assert!(l.words.len() > 7000, "{l:?}");
        assert!(l.emoji.len() > 100, "{l:?}");
        assert_eq!(l.words.get("terrible"), Some(Entry::Rated(-2.1)));
        assert_eq!(trim_punctuation("\u{2019}(ok!)\u{2019}"), "ok");
        assert_eq!(trim_punctuation(":)"), "");
        assert_eq!(trim_punctuation("can\u{2019}t"), "can\u{2019}t");
    }

    #[test]
    fn the_ascii_fast_path_reads_tokens_as_the_general_one() {
        let l = Lexicon::builtin().adjusted(["thanks"], [], ["please"], ["stopped"]);
        let mut w = String::new();
        let tokens = [
            "good",
            "GOOD",
            "Good.",
            "(terrible)",
            "isn't",
            "ISN'T",
            "don't!",
            ":)",
            ":D",
            ":-P",
            "...",
            "!!!",
            "a",
            "OK",
            "x1",
            "e-mail",
            "thanks,",
            "Please",
            "stopped",
            "not",
            "extraordinarily",
            "uncharacteristically",
            "internationalisation!",
            "can't?",
            "\"quoted\"",
            "n't",
            "'",
            "it's",
            "---great---",
            "a\0b",
            "LOL",
            "wtf",
        ];
        for t in tokens {
            let general = format!("{:?}", l.token(t, &mut w));
            // Read in place, with text after it and at the end of the text.
            for (before, after) in [("", ""), ("", " and more text"), ("x ", " y")] {
                let text = format!("{before}{t}{after}");
                let (s, e) = (before.len(), before.len() + t.len());
                let tok = l.ascii_token_at(&text, s, e, &mut w);
                assert_eq!(format!("{tok:?}"), general, "{t} in {text:?}");
            }
        }
        // Token edges as `split_ascii_whitespace` finds them.
        for text in [
            "",
            " ",
            "a",
            " two  words\t\n",
            &"x".repeat(130),
            &format!("{} end", "y".repeat(64)),
            &"ab cd\r\n\x0c".repeat(40),
            "vertical\x0btab is no space",
        ] {
            let mut spaces = Spaces::default();
            spaces.of(text.as_bytes());
            let mut found = Vec::new();
            spaces.tokens(|s, e| found.push(&text[s..e]));
            assert_eq!(
                found,
                text.split_ascii_whitespace().collect::<Vec<_>>(),
                "{text:?}"
            );
        }
        // Text cut at the character limit the same way whatever its bytes.
        let long = "bad ".repeat(MAX_CHARS);
        let a = l.score(
            "",
            &long,
            PhraseEvidence::default(),
            &mut SentimentScratch::default(),
        );
        let accented = format!("é{}", &long[2..]);
        let b = l.score(
            "",
            &accented,
            PhraseEvidence::default(),
            &mut SentimentScratch::default(),
        );
        assert!(a.compound < 0.0 && b.compound < 0.0);
    }

    #[test]
    fn a_pull_of_several_words_quotes_them() {
        let l = Lexicon::builtin();
        let quote = |subject: &str, body: &str| {
            let v = l.score(
                subject,
                body,
                PhraseEvidence::default(),
                &mut SentimentScratch::default(),
            );
            match v.most_negative {
                Some((
                    Pull::NegatedAction(q)
                    | Pull::Excess(q)
                    | Pull::Unmet(q)
                    | Pull::Recurrence(q)
                    | Pull::Sarcasm(q)
                    | Pull::Degree(q),
                    _,
                )) => {
                    let (a, b) = q.words(subject, body);
                    Some(if b.is_empty() {
                        a.to_string()
                    } else {
                        format!("{a} | {b}")
                    })
                }
                _ => None,
            }
        };
        let q = |body: &str| quote("", body);
        assert_eq!(
            q("Hi, the report doesn't render.").as_deref(),
            Some("doesn't render")
        );
        assert_eq!(
            q("Nobody has replied yet").as_deref(),
            Some("Nobody has replied")
        );
        assert_eq!(
            q("The setup has too many steps").as_deref(),
            Some("too many")
        );
        assert_eq!(
            q("The sync was supposed to run at night").as_deref(),
            Some("supposed to run")
        );
        assert_eq!(
            q("Your app keeps logging me out").as_deref(),
            Some("keeps logging")
        );
        assert_eq!(
            q("It was a huge disappointment.").as_deref(),
            Some("huge disappointment")
        );
        assert_eq!(
            q("It should've synced").as_deref(),
            Some("should've synced")
        );
        assert_eq!(
            q("It should have been fixed by now").as_deref(),
            Some("should have been fixed")
        );
        assert_eq!(
            q("A reminder would have helped").as_deref(),
            Some("would have helped")
        );
        // Typographic quotes at the ends go; the apostrophe inside stays.
        assert_eq!(
            q("they said \u{2018}doesn\u{2019}t load\u{2019} again").as_deref(),
            Some("doesn\u{2019}t load")
        );
        // A cue at the very end quotes what there is.
        assert_eq!(q("but it was supposed to").as_deref(), Some("supposed to"));
        // From the subject into the body.
        assert_eq!(
            quote("Report does not", "render at all").as_deref(),
            Some("not | render")
        );
        // Every kind of ASCII whitespace separates tokens, as in the scorer.
        assert_eq!(
            q("Hi\x0cteam,\tthe\r\nreport doesn't\n\n render").as_deref(),
            Some("doesn't\n\n render")
        );
        // Offsets in the body as written, after a non-ASCII subject.
        assert_eq!(
            quote("Über ärger", "the page never renders").as_deref(),
            Some("never renders")
        );
    }

    #[test]
    fn a_named_problem_is_a_negative_message_not_a_feeling() {
        let l = Lexicon::builtin().adjusted([], ["error", "crash", "secure"], [], []);
        let mut s = SentimentScratch::default();
        let v = |t: &str| {
            l.score(
                "",
                t,
                PhraseEvidence::default(),
                &mut SentimentScratch::default(),
            )
        };
        let bug = v("The export fails with an error");
        assert!(bug.compound < -0.05, "{bug:?}");
        // "fails" is a rated word, not a topic here: felt too.
        assert!(bug.feeling < -0.05 && bug.feeling > bug.compound, "{bug:?}");
        // A failure word of support requests the review lexicon lacks.
        for t in [
            "My card was declined",
            "The invitation email bounced",
            "The link has expired",
        ] {
            let named = v(t);
            assert!(
                named.compound < -0.05 && named.feeling == 0.0,
                "{t}: {named:?}"
            );
        }
        let plain = v("The report shows an error");
        assert!(plain.compound < -0.05 && plain.feeling == 0.0, "{plain:?}");
        // The absence of a problem is no praise; a positive topic word is not rated.
        assert_eq!(v("No error since the update").compound, 0.0);
        assert_eq!(v("Is the export secure").compound, 0.0);
        // Politeness counts beside a named problem, not beside a feeling.
        let polite = PhraseEvidence {
            polite: 1.0,
            ..Default::default()
        };
        assert!(
            l.score("", "thanks, the error is gone", polite, &mut s)
                .compound
                > 0.05
        );
        assert!(
            l.score("", "thanks, the app is terrible", polite, &mut s)
                .compound
                < 0.0
        );
        // Failure words a review lexicon lacks are named problems too.
        let issue = v("issue with the export, the page is unresponsive");
        assert!(issue.compound < -0.05 && issue.feeling == 0.0, "{issue:?}");
        let slow = v("the dashboard is slow and the editor is frozen");
        assert!(slow.compound < -0.05 && slow.feeling == 0.0, "{slow:?}");
        // A named problem damps the praise around it, as a complaint does.
        let solving = v("still solving an error in the export");
        assert!(solving.compound < 0.0, "{solving:?}");
        // Swearing at a vendor is anger, not only emphasis.
        assert!(v("where is the fucking invoice").feeling < -0.3);
    }

    #[test]
    fn the_heuristics_move_the_score_the_right_way() {
        let plain = compound("The service is good.");
        assert!(plain > 0.3, "{plain}");
        assert!(compound("The service is not good.") < 0.0);
        assert!(compound("The service is very good.") > plain);
        assert!(compound("The service is slightly good.") < plain);
        assert!(compound("The service is good!!!") > plain);
        assert!(compound("The service is GOOD.") > plain);
        assert!(compound("The app is terrible") < -0.3);
        assert!(compound("The app isn't terrible") > compound("The app is terrible"));
        // After a contrast the second half decides.
        assert!(compound("The agent was nice, but the app is terrible") < 0.0);
        assert!(compound("The app crashed :(") < compound("The app crashed"));
        assert!(compound("Fixed it, thank you 😀") > 0.3);
        // A negation does not flip an emoticon after it.
        assert!(compound("not bad :)") > compound("not bad") + 0.2);
        assert!(compound("not bad :D") > compound("not bad") + 0.2);
        assert!(compound("Invoice attached for the March renewal.").abs() < 0.05);
        // "too" before a word the lexicon does not rate is an excess.
        assert!(compound("The new plan is too expensive for us.") < -0.2);
        assert!(compound("There are too many steps to export a report.") < -0.2);
        assert!(compound("Me too. Export works.").abs() < 0.05);
        assert!(compound("It is not too expensive.").abs() < 0.05);
        assert!(compound("This is too cute") > 0.3);
        // A recurrence is a complaint; a bidding, a rated word after it or a
        // negated one is not.
        assert!(compound("The app keeps logging me out.") < -0.1);
        assert!(compound("I keep getting this email every morning.") < -0.1);
        assert!(compound("The sync kept stopping at night.") < -0.1);
        assert!(compound("Keep going!").abs() < 0.05);
        assert!(compound("We keep records for a year.").abs() < 0.05);
        assert!(compound("It keeps getting better") > 0.3);
        assert!(compound("It doesn't keep asking anymore.") > -0.3);
        // An expectation not met is a complaint; a negated one is not.
        assert!(compound("The export was supposed to run every night.") < -0.2);
        assert!(compound("This should have been fixed last week.") < -0.2);
        assert!(compound("You shouldn't have any trouble with it.") > -0.05);
        // What would have been is what was missing; what one would have to
        // do, or would have, is no expectation.
        assert!(compound("A reminder email would have helped us.") < -0.2);
        assert!(compound("You could've told us before the migration.") < -0.2);
        assert!(compound("I would have to export it again.").abs() < 0.05);
        assert!(compound("Then it would have a new name.").abs() < 0.05);
        assert!(compound("We would have some questions about the plan.").abs() < 0.05);
        // Praise in a clause after "would", "could", "if" is wished for,
        // however far along the clause; the next clause is not, nor an
        // emoticon (the writer's own face).
        assert!(compound("It would have been much easier to use.") < 0.0);
        assert!(compound("I would definitely be in favor of that.").abs() < 0.05);
        assert!(compound("Would love dark mode, but otherwise it's wonderful.") > 0.3);
        // Subject and body read apart.
        let parts = |subject: &str, body: &str| {
            Lexicon::builtin()
                .score(
                    subject,
                    body,
                    PhraseEvidence::default(),
                    &mut SentimentScratch::default(),
                )
                .compound
        };
        let subject_wish = parts("Could you add folders", "Love the app");
        assert!(subject_wish > 0.3, "{subject_wish}");
        assert!(compound("If you can, thanks. The new editor is great.") > 0.3);
        // A question asks whether, it does not praise: "accept", "help",
        // "best" in it are not rated; its complaint is, and the praise in
        // the sentence before it; a question in the subject ends there.
        assert_eq!(compound("Which currencies do you accept?"), 0.0);
        assert_eq!(compound("Can you help me with the best setup?"), 0.0);
        assert!(compound("Why is the export so terrible?") < -0.3);
        assert!(compound("The new editor is great! Can I export from it?") > 0.3);
        let subject_question = parts("Can you add folders?", "Love the app");
        assert!(subject_question > 0.3, "{subject_question}");
        let body_question = parts("Love the app", "can you add folders?");
        assert!(body_question > 0.3, "{body_question}");
        assert!(compound("Vote for it if you think the new look works :)") > 0.2);
        // A negated action is in the negator's sentence ("I can't. LOL"
        // negates no "LOL"); a "no" ending a sentence is the lexicon's "no",
        // not one ending an answer with a comma.
        assert!(compound("I can't. Ticket attached.").abs() < 0.05);
        assert!(compound("Oh no.") < -0.2);
        assert!(compound("Invoice no. 4471 attached.").abs() < 0.05);
        assert!(compound("Oh no. Nice, it's back.") > 0.05);
        assert!(compound("No, it works now.").abs() < 0.05);
        // A negated action is found through auxiliaries and "no one".
        assert!(compound("I emailed twice and nobody has replied.") < -0.2);
        assert!(compound("No one is answering the phone.") < -0.2);
        assert!(compound("The sync hasn't been repaired.") < -0.2);
        assert!(compound("I don't have an account yet.").abs() < 0.05);
        assert!(compound("We haven't had any trouble.") > -0.05);
        // "go" is an action, though of two letters; "can't go wrong" is the
        // lexicon's negated "wrong".
        assert!(compound("My transfer didn't go through.") < -0.05);
        assert!(compound("You can't go wrong with this plan.") > 0.05);
        assert!(compound("The site didn't go down last night.") > -0.05);
        // "Can't wait to …" is eagerness; "can't wait any longer" a complaint.
        assert!(compound("Can't wait to try the new dashboard") > -0.05);
        assert!(compound("We can't wait any longer for the fix") < -0.2);
        assert!(compound("New dashboard next week? Can't wait!") > -0.05);
        assert!(compound("Can't wait :)") > 0.05);
        assert!(compound("Payroll runs tomorrow, this can't wait.") < -0.05);
        assert!(compound("We are not going to wait another week for a fix.") < -0.05);
        // "Not going to", "not gonna": the future; the action is the verb
        // after it ("not going through" is one).
        assert!(compound("Good news: the team is not going to lose any data.") > -0.05);
        assert!(compound("My payment is not going through.") < -0.05);
        // A negated comparative of praise is praise.
        assert!(compound("I couldn't be happier with the support.") > 0.3);
        assert!(compound("Exporting couldn't be any easier.") > 0.3);
        assert!(compound("The new version isn't better.") < 0.0);
        // A mention is a name: "@united" is not "united", "@SUPPORT" no
        // word in capitals.
        assert_eq!(
            compound("@united why is the app so slow?"),
            compound("why is the app so slow?")
        );
        assert_eq!(
            compound("@SUPPORT the app is bad"),
            compound("the app is bad")
        );
    }

    #[test]
    fn rules_phrases_politeness_and_complaints() {
        let l = Lexicon::builtin().adjusted(
            ["thanks", "great"],
            ["error"],
            ["please", "help", "affected", "sure"],
            ["stopped"],
        );
        let mut s = SentimentScratch::default();
        let score = |t: &str, p: PhraseEvidence| l.score("", t, p, &mut s.clone()).compound;
        // A polite request is neutral: its polite words are the rules'.
        assert_eq!(
            score(
                "Please help me export the report, thanks",
                PhraseEvidence::default()
            ),
            0.0
        );
        let polite = PhraseEvidence {
            polite: 1.0,
            ..Default::default()
        };
        assert!(score("thanks", polite) > 0.3);
        // Politeness in a complaint counts for nothing.
        let c = score("thanks, the export is broken again", polite);
        assert!(c < -0.3, "{c}");
        // Nor beside a problem named and not resolved: "I get an error
        // when exporting. Thanks," is no happy customer (its closing is
        // politeness, the problem a topic).
        let c = score("I get an error when exporting rows.\nThanks,", polite);
        assert!(c <= 0.0, "{c}");
        assert!(score("The error is gone now. Thanks!", polite) > 0.0);
        // A complaint phrase damps the positive words around it.
        let complaint = PhraseEvidence {
            negative: 1.0,
            ..Default::default()
        };
        assert!(score("Wonderful, another outage", complaint) < 0.0);
        // The rules' negators negate.
        assert!(score("it stopped being good", Default::default()) < 0.0);
        // A neutral word is not rated, but negated it is a failure report
        // — unless the lexicon rates it negative, or it is no action.
        assert!(score("The agent did not help at all.", Default::default()) < -0.1);
        assert_eq!(
            score("Production is not affected.", Default::default()),
            0.0
        );
        assert_eq!(score("Not sure why.", Default::default()), 0.0);
        // "can't help but …" refuses no help.
        assert_eq!(
            score("We can't help but notice the new menu.", Default::default()),
            0.0
        );
        let _ = l.score("", "x", Default::default(), &mut s);
    }

    /// A neutral word that is also a word of a topic phrase ("help" in "it
    /// would help", "credit" in "credit card") is still an action when
    /// negated; one of the rules' own phrases ("sync", an expectation) is
    /// counted by the phrase, not again as an action. "like" negated is a
    /// dislike: neutral ("I would like to …") but no preposition after a
    /// negator.
    /// The words of an idiom found by the rules are not rated; a function
    /// word after a negator is no action; "no" before a problem says it is
    /// absent; a hedge between a negator and its verb is looked through.
    #[test]
    fn idioms_function_words_and_absent_problems() {
        let l = Lexicon::builtin();
        let mut s = SentimentScratch::default();
        let text = "Can I drag and drop files?";
        let plain = l.score("", text, PhraseEvidence::default(), &mut s);
        assert!(plain.compound < -0.05, "{plain:?}");
        let idiom = [(false, 6, 19)];
        let read = PhraseEvidence {
            idioms: &idiom,
            ..PhraseEvidence::default()
        };
        assert_eq!(l.score("", text, read, &mut s).compound, 0.0);
        // In the subject, the subject's tokens.
        let subject = [(true, 0, 13)];
        let read = PhraseEvidence {
            idioms: &subject,
            ..PhraseEvidence::default()
        };
        assert_eq!(l.score("drag and drop", "", read, &mut s).compound, 0.0);
        let mut v = |t: &str| l.score("", t, PhraseEvidence::default(), &mut s);
        for t in [
            "It is not some cheap plastic toy.",
            "It's not her fault.",
            "We had no real problems with it.",
        ] {
            let m = v(t);
            assert!(
                !matches!(m.most_negative, Some((Pull::NegatedAction(_), _))),
                "{t}: {m:?}"
            );
        }
        assert!(v("We had no real problems with it.").compound > 0.0);
        let m = v("The app doesn't always register taps.");
        assert!(
            matches!(m.most_negative, Some((Pull::NegatedAction(_), _))),
            "{m:?}"
        );
        assert!(m.failure);
        // The task a question asks about is no feeling.
        for t in [
            "How do I kill a running job?",
            "Is there a way to block weekends?",
            "Can we stop the sync for a week?",
        ] {
            assert_eq!(v(t).compound, 0.0, "{t}");
        }
        for t in [
            "Why do I hate this menu?",
            "How do I kill a job. It is terrible",
            "I want to kill the designer.",
            "How do I fix this terrible error?",
        ] {
            assert!(v(t).compound < -0.05, "{t}");
        }
    }

    #[test]
    fn a_neutral_word_of_a_topic_phrase_is_an_action_when_negated() {
        let l = Lexicon::builtin().adjusted(
            ["sync"],
            [
                "it", "would", "help", "credit", "card", "stopped", "syncing",
            ],
            ["help", "credit", "sync", "like"],
            [],
        );
        let mut s = SentimentScratch::default();
        let mut v = |t: &str| l.score("", t, PhraseEvidence::default(), &mut s);
        let m = v("The agent did not help at all.");
        assert!(m.compound < -0.1, "{m:?}");
        assert!(matches!(m.most_negative, Some((Pull::NegatedAction(_), _))));
        assert!(v("The refund wasn't credited to my account.").compound < -0.1);
        assert!(v("I don't like the new design.").compound < -0.1);
        assert!(v("I didn't like the way it shows dates.").compound < -0.1);
        // The expectation's phrase counts "didn't sync"; the scorer does not.
        assert_eq!(v("The calendar didn't sync.").compound, 0.0);
        // Not negated: no feeling.
        assert_eq!(v("It would help to have folders.").compound, 0.0);
        assert_eq!(v("I would like a copy of the invoice.").compound, 0.0);
    }

    /// What the customer chose not to do is no failure; what they could
    /// not do is.
    #[test]
    fn a_choice_not_made_is_no_failure() {
        for text in [
            "We haven't tried the new editor yet.",
            "I haven't used the mobile app yet.",
            "we've not used it much.",
            "I don't need the extra seats anymore.",
        ] {
            assert_eq!(compound(text), 0.0, "{text}");
        }
        for text in [
            "I can't use the app since this morning.",
            "Why can I not use my card?",
            "It hasn't used the new settings.",
            "a charge for something I didn't buy",
        ] {
            assert!(compound(text) < -0.1, "{text}");
        }
    }

    /// "would not", "could not" are the contractions written out: a
    /// refusal, not a hypothesis — unless one comes before them.
    #[test]
    fn a_modal_before_not_is_the_negators_own() {
        let mut s = SentimentScratch::default();
        let l = Lexicon::builtin();
        let mut v = |t: &str| l.score("", t, PhraseEvidence::default(), &mut s);
        for (written, contracted) in [
            ("The door would not close.", "The door wouldn't close."),
            (
                "We could not export the report.",
                "We couldn't export the report.",
            ),
            ("It would never finish.", "It wouldn't finish."),
        ] {
            let (a, b) = (v(written), v(contracted));
            assert!(a.compound < -0.1, "{written}: {a:?}");
            assert_eq!(a.compound, b.compound, "{written} / {contracted}");
        }
        let m = v("We could not export the report.");
        let Some((Pull::NegatedAction(q), _)) = m.most_negative else {
            panic!("{m:?}");
        };
        assert_eq!(
            q.words("", "We could not export the report.").0,
            "could not export"
        );
        // What would not have been is no refusal.
        assert!(v("He could not have thrown that ball any better.").compound >= 0.0);
        // Praise after the modal and "not" is no wish either.
        assert_eq!(
            v("It could not be better.").compound,
            v("It couldn't be better.").compound
        );
        // "no longer" negates what follows it: an action or none.
        assert!(v("The report is no longer available.").compound < -0.1);
        assert_eq!(v("We no longer need the extra seats.").compound, 0.0);
        // A hypothesis or a wish before the modal.
        assert_eq!(v("If it would not close, restart it.").compound, 0.0);
        assert_eq!(v("I wish it would not close.").compound, 0.0);
    }

    /// A negated comparative is the highest degree, praise or blame.
    #[test]
    fn a_negated_comparative_is_the_highest_degree() {
        let mut s = SentimentScratch::default();
        let l = Lexicon::builtin();
        let mut v = |t: &str| l.score("", t, PhraseEvidence::default(), &mut s).compound;
        assert!(v("It couldn't be worse.") < -0.3);
        assert!(v("The new editor couldn't be more frustrating.") < -0.3);
        assert!(v("I couldn't be more pleased.") > 0.3);
        assert!(v("I couldn't be happier with the support.") > 0.3);
        assert!(v("It can't be any easier.") > 0.3);
        // Not a comparative: negated as usual.
        assert!(v("I am not pleased.") < 0.0);
        assert!(v("It is not frustrating.") > 0.0);
    }

    /// A negative word is read with its verb forms; a positive one's plural
    /// is no praise it lacked.
    #[test]
    fn negative_words_are_read_with_their_verb_forms() {
        let l = Lexicon::builtin();
        for (form, word) in [
            ("drops", "drop"),
            ("dropped", "drop"),
            ("dropping", "drop"),
            ("stalls", "stall"),
            ("lacking", "lack"),
            ("delays", "delay"),
        ] {
            assert!(
                matches!(l.words.get(form), Some(Entry::Rated(v)) if v < 0.0)
                    && l.words.get(form) == l.words.get(word),
                "{form}"
            );
        }
        // Only forms of the word as listed, that are words: no "kinds"
        // from "kind", no "denis" from "denies", no made-up "drop" forms.
        assert_eq!(l.words.get("kinds"), None);
        assert_eq!(l.words.get("denis"), None);
        assert_eq!(l.words.get("droping"), None);
        // Forms the lexicon lists keep their own rating.
        assert_eq!(
            l.words.get("failed"),
            Lexicon::parse(LEXICON, EMOJI).unwrap().words.get("failed")
        );
        assert!(compound("The CSV export drops every row after 10,000.") < -0.05);
    }

    /// "well" as a degree, "also" or a pause, and an adverb stressing a
    /// denial, are no praise.
    #[test]
    fn a_word_rated_positive_that_praises_nothing() {
        for t in [
            "Please add my colleague as well.",
            "We are well over the limit.",
            "The job ran well past midnight.",
            "Our usage is well over 100.",
            "Well, the export still fails.",
            "There is a payment with my card which i definitely did not do.",
            "I really don't know what happened.",
        ] {
            assert!(compound(t) <= 0.0, "{t}: {}", compound(t));
        }
        for t in [
            "It works well.",
            "It works as well as the old version.",
            "It definitely works.",
        ] {
            assert!(compound(t) > 0.05, "{t}: {}", compound(t));
        }
    }

    #[test]
    fn a_word_of_degree_before_a_fault_is_no_praise() {
        // Mirrored: swearing and "crazy", "terribly" before praise are its
        // degree, no complaint; before a fault or nothing rated they stay.
        for (t, alone) in [
            ("The new editor is damn good.", "The new editor is good."),
            ("Setup was dead easy.", "Setup was easy."),
            ("This update is terribly nice.", "This update is nice."),
        ] {
            assert!(compound(t) >= compound(alone), "{t}: {}", compound(t));
        }
        assert!(compound("The app is damn slow and crashes.") < -0.3);
        assert!(compound("where is the fucking invoice") < -0.3);
        // The fault weighs more with its degree than alone, not less.
        for (t, alone) in [
            ("It was a huge disappointment.", "It was a disappointment."),
            ("The new editor is pretty bad.", "The new editor is bad."),
            (
                "This migration is a sure failure.",
                "This migration is a failure.",
            ),
        ] {
            assert!(compound(t) < compound(alone), "{t}: {}", compound(t));
        }
        // The rules' own praise word, read by the engine: no praise before
        // a fault, praise before anything else.
        let l = Lexicon::builtin();
        assert!(l.degree_before("great", "a great disappointment.", 7));
        assert!(l.degree_before("Great", "Great  frustration", 5));
        assert!(!l.degree_before("great", "a great product", 7));
        assert!(!l.degree_before("great", "works great, but the export fails", 11));
        assert!(!l.degree_before("amazing", "an amazing failure", 10));
        // Praise stays praise: no fault after it, or the fault word a
        // degree of praise itself.
        for t in [
            "We are huge fans of the product.",
            "The new editor looks pretty damn good.",
            "It is true, the fix works.",
        ] {
            assert!(compound(t) > 0.05, "{t}: {}", compound(t));
        }
    }

    #[test]
    fn a_promise_made_to_the_customer_is_an_expectation_not_met() {
        // VADER rates "promised" +1.5: told to the vendor, a promise is
        // what was not kept.
        for t in [
            "I was promised a refund two weeks ago.",
            "You promised to call me back yesterday.",
            "We have been promised a fix for months.",
        ] {
            assert!(compound(t) < -0.05, "{t}: {}", compound(t));
        }
        // Not "as promised", nor the customer's own promise.
        for t in [
            "As promised, the fix works great.",
            "I promise to send the logs, thanks!",
        ] {
            assert!(compound(t) > 0.05, "{t}: {}", compound(t));
        }
    }

    #[test]
    fn an_outcome_wanted_is_no_praise_yet() {
        // VADER rates "resolved" +0.7, "solved" +1.1, "restored" +1.4:
        // wanted, they are what the customer does not have.
        for t in [
            "We need this resolved immediately.",
            "This must be solved today.",
            "Please get our data restored.",
            "We would like the issue resolved as soon as possible.",
        ] {
            assert!(compound(t) <= 0.05, "{t}: {}", compound(t));
        }
        // Had, they are praise.
        for t in [
            "The issue has been resolved, thank you.",
            "We needed a restart and now it's solved.",
            "Glad to see it restored so quickly.",
        ] {
            assert!(compound(t) > 0.05, "{t}: {}", compound(t));
        }
    }

    #[test]
    fn the_time_gone_by_is_a_wait_complained_of() {
        for t in [
            "Any update? It's been 5 days.",
            "It has been two weeks since I reported it.",
            "Its been a couple of hours and the payment is pending.",
            // A wait told.
            "We waited two days for a first reply.",
            "I waited for over a week.",
        ] {
            assert!(compound(t) < -0.05, "{t}: {}", compound(t));
        }
        // Supposed, or no time told.
        for t in ["If you waited a day, it would sync.", "We waited."] {
            assert!(compound(t) >= 0.0, "{t}: {}", compound(t));
        }
        // Not years (tenure), nor a subject other than "it".
        for t in [
            "It's been two years since we switched.",
            "We have been customers for five days.",
        ] {
            assert!(compound(t) >= 0.0, "{t}: {}", compound(t));
        }
    }

    #[test]
    fn a_fault_prevented_or_avoided_does_not_happen() {
        for t in [
            "To avoid any confusion, here is the reference.",
            "How can we prevent data loss during the migration?",
        ] {
            assert!(compound(t).abs() <= 0.05, "{t}: {}", compound(t));
        }
        // ("protects" is praise to the bundled lexicon; the shipped rules
        // mute it.)
        let t = "The backup protects us against accidental deletion.";
        assert!(compound(t) > 0.05, "{t}: {}", compound(t));
        // The verb alone keeps its rating; a fault out of its reach counts.
        assert!(compound("Avoid this app.") < -0.05);
        assert!(compound("We tried to avoid it. The export is broken and useless.") < -0.05);
    }

    #[test]
    fn a_negated_verb_of_ceasing_is_no_praise() {
        // What goes on is not ended: the negation ends at the verb ("stop"
        // is rated negative; flipped, these read as praise).
        let l = Lexicon::builtin();
        let score = |t: &str| {
            l.score(
                "",
                t,
                PhraseEvidence::default(),
                &mut SentimentScratch::default(),
            )
        };
        for t in [
            "The app won't stop crashing.",
            "It can't stop freezing when I scroll.",
            "I can't stop the export.",
            "The page won't stop loading.",
            "Won't stop crashing since the update.",
        ] {
            let v = score(t);
            assert!(v.compound < -0.05 && v.failure, "{t}: {v:?}");
        }
        // A feeling after the verb is read as written; what the customer
        // goes on doing anyway is no failure; a bidding and a noun are
        // read as before.
        for t in [
            "I can't stop smiling.",
            "That doesn't stop me from loving it.",
            "Keep going, don't stop!",
            "The app has no stop button.",
        ] {
            let v = score(t);
            assert!(v.compound > 0.05 && !v.failure, "{t}: {v:?}");
        }
        let v = score("I can't stop refreshing the page.");
        assert!(!v.failure, "{v:?}");
        // What goes on working is no failure.
        for t in [
            "It never stopped working.",
            "The sync hasn't stopped working once.",
        ] {
            let v = score(t);
            assert!(v.compound >= -0.05 && !v.failure, "{t}: {v:?}");
        }
    }

    /// A verb of ceasing with nothing it acts on says its subject ceased:
    /// a failure, unless the subject is a fault or a person, or it is
    /// supposed.
    #[test]
    fn what_stopped_with_nothing_after_it_ceased() {
        // "stopped" and "ceased" are negators of the rules.
        let l = Lexicon::builtin().adjusted([], [], [], ["stopped", "ceased", "not"]);
        let score = |t: &str| {
            l.score(
                "",
                t,
                PhraseEvidence::default(),
                &mut SentimentScratch::default(),
            )
        };
        for (t, quote) in [
            (
                "Synchronisation has stopped for all of our stores.",
                "Synchronisation has stopped",
            ),
            ("Payments stopped yesterday.", "Payments stopped"),
            ("The sync stopped.", "sync stopped"),
            ("It suddenly stopped this morning.", "It suddenly stopped"),
            ("The import ceased halfway.", "import ceased"),
        ] {
            let v = score(t);
            assert!(v.compound < -0.05 && v.failure, "{t}: {v:?}");
            match v.most_negative {
                Some((Pull::NegatedAction(q), _)) => {
                    let (a, b) = q.words("", t);
                    assert_eq!(format!("{a}{b}"), quote, "{t}")
                }
                other => panic!("{t}: {other:?}"),
            }
        }
        for t in [
            // A fault that ended, a person, an object, a supposition.
            "The crashes stopped after the update.",
            "We stopped at five.",
            "I stopped the export.",
            "If the player is stopped, it shows a notice.",
        ] {
            let v = score(t);
            assert!(!v.failure, "{t}: {v:?}");
        }
    }

    #[test]
    fn praise_beside_a_problem_not_resolved_is_no_happy_customer() {
        // "great" and "love" positive phrases of the rules (unrated here),
        // "broken", "fails", "crashed" named problems.
        let l =
            Lexicon::builtin().adjusted(["great", "love"], ["broken", "fails", "crashed"], [], []);
        let phrases = |t: &str| {
            let t = t.to_lowercase();
            PhraseEvidence {
                positive: (t.matches("great").count() + t.matches("love").count()) as f32,
                ..Default::default()
            }
        };
        let v = |t: &str| l.score("", t, phrases(t), &mut SentimentScratch::default());
        // A problem with praise before it, or a fix said before the
        // problem: the feeling is at most neutral, and the rules' praise is
        // damped as the lexicon's ("Love the product." no longer outweighs
        // the broken export).
        for t in [
            "Great tool but the export fails with an error every time.",
            "Works great. But the export is broken.",
            "Love the product, but the export is broken since Monday.",
            "Love the product. The export is broken since Monday.",
        ] {
            let got = v(t);
            assert!(got.feeling <= 0.0, "{t}: {got:?}");
            assert!(got.compound < 0.05, "{t}: {got:?}");
        }
        // A fix said after the problem: thanks are thanks.
        for t in [
            "The export crashed yesterday but it works now, great support!",
            "The export was broken, now it is fixed. Love it!",
        ] {
            let got = v(t);
            assert!(got.feeling > 0.05, "{t}: {got:?}");
        }
        // With no problem named, praise is praise.
        assert!(v("Love the product, great support.").feeling > 0.05);
    }

    #[test]
    fn praise_said_alone_in_a_complaint_is_sarcasm() {
        // "great" a positive phrase of the rules (unrated here), "crash"
        // and "fails" named problems: the rules' own words.
        let l = Lexicon::builtin().adjusted(["great"], ["crash", "crashed", "fails"], [], []);
        let phrases = |t: &str| PhraseEvidence {
            positive: t.to_lowercase().matches("great").count() as f32,
            ..Default::default()
        };
        let v = |t: &str| l.score("", t, phrases(t), &mut SentimentScratch::default());
        for (t, quoted) in [
            ("Oh great, another crash. Really awesome job.", "Oh great"),
            ("Great, the export fails again.", "Great"),
            // "gone" of what is lost is no fix.
            ("Great, the export fails and my report is gone.", "Great"),
            (
                "Wonderful. The app crashed and I lost my report.",
                "Wonderful",
            ),
            ("Just perfect! The editor crashed again.", "Just perfect"),
        ] {
            let got = v(t);
            assert!(got.compound < -0.05, "{t}: {got:?}");
            assert!(got.most_positive.is_none(), "{t}: {got:?}");
            match got.most_negative {
                Some((Pull::Sarcasm(q), _)) => assert_eq!(q.words("", t).0, quoted, "{t}"),
                other => panic!("{t}: {other:?}"),
            }
        }
        // Praise beside a problem fixed, praise that runs on into its
        // sentence, an adverb, a list of adjectives, and praise with no
        // problem reported are not sarcasm.
        for t in [
            "Great, the crash is gone.",
            "Great, thanks! The export works now.",
            "Works great. The crash happens only on the old version.",
            "Great product, but it crashed once.",
            "Happily, the crash is rare.",
            "Great, thanks!",
            // A sign-off.
            "The export fails again. Can you check? Best, Maria",
        ] {
            let got = v(t);
            assert!(
                !matches!(got.most_negative, Some((Pull::Sarcasm(_), _))),
                "{t}: {got:?}"
            );
        }
        assert!(v("Great, the crash is gone.").compound > 0.05);
        // A fault only the rules' phrases name (the lexicon does not rate
        // "breaks"): the interjection is sarcasm, unless a fix is said.
        let faulty = |t: &str| {
            let p = PhraseEvidence {
                fault: true,
                ..phrases(t)
            };
            l.score("", t, p, &mut SentimentScratch::default())
        };
        let got = faulty("Wow, another update that breaks the calendar. Just wonderful.");
        assert!(
            matches!(got.most_negative, Some((Pull::Sarcasm(_), _))) && got.compound < -0.05,
            "{got:?}"
        );
        let got = faulty("Great, the calendar glitch is fixed now.");
        assert!(got.compound > 0.05, "{got:?}");
    }
}
