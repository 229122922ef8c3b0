//! The triage engine: a pure function of (ticket, customer or none, rules,
//! now). No I/O, no global state; the same inputs always give the same output.
//!
//! Order of work: segment → text scan → points (customer, request, impact,
//! age, conditions) → level from the score → overrides → routing → SLA.
//! Every contribution is recorded in `reasons`; their points sum to `score`.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::detail::Detail;
use crate::model::{
    Confidence, ModelVerdict, Profile, Reason, Segment, Sentiment, SentimentLabel, SlaStamp,
    Ticket, Triage,
};
use crate::rules::cond::Facts;
use crate::rules::{Action, ModelRule, Rules};
use crate::text::{Hit, Scan, Target};

/// How a category's phrase counted, as its reason says.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Counted {
    /// `phrases`: `phrase "…"`.
    Phrase,
    /// `negated_phrases`, negated: `negated phrase "…"`.
    Negated,
    /// `disowned_phrases`, disowned: `disowned action "…"` (three times).
    DisownedAction,
    /// `negated_phrases`, disowned by the customer ("I don't recognize",
    /// "not mine"): `disowned phrase "…"` (three times).
    Disowned,
    /// `strangers`, acting on the customer's things ("someone used my
    /// card"): `stranger "…"` (three times, as a disowning).
    Stranger,
    /// An expectation a whole scope cannot meet (`[severity.stated_impact]
    /// unmet_category`: "none of our agents can open the app"): `unmet for a
    /// whole group "…"`.
    Unmet,
    /// A phrase of a category that befalls things (`categories[].befalls`)
    /// said of another category's phrase, the pattern here ("stolen" of
    /// "password"): `phrase "…" said of "…"`.
    Befell(u32),
}

impl Counted {
    /// Times its phrase's weight it counts: a customer saying they did not
    /// do what was done outweighs the word for what it was done to.
    fn weight(self) -> f32 {
        match self {
            c if c.disowns() => 3.0,
            _ => 1.0,
        }
    }

    /// The customer disowned it (a disowned action or phrase).
    fn disowns(self) -> bool {
        matches!(
            self,
            Counted::DisownedAction | Counted::Disowned | Counted::Stranger
        )
    }
}

/// Scratch space reused between tickets (keeps the hot path free of most
/// allocations). One per worker thread.
#[derive(Debug, Default)]
pub struct Scratch {
    scan: Scan,
    category_weight: Vec<f32>,
    /// The part of `category_weight` its asking phrases added.
    asked_weight: Vec<f32>,
    /// The first phrase of each category, with how it counted — the first
    /// disowned one when any was (what decided, see [`disowning_decides`]).
    category_phrase: Vec<Option<(u32, Counted)>>,
    severity_weight: Vec<f32>,
    severity_phrase: Vec<Option<u32>>,
    /// Whether that phrase is a cue counted one level down.
    severity_phrase_lowered: Vec<bool>,
    severity_cue: Vec<f32>,
    severity_cue_phrase: Vec<Option<u32>>,
    /// Distinct severity phrases and cues found: (level, phrase).
    severity_seen: Vec<(u16, u32)>,
    /// Asking phrases found: (category, weight, phrase).
    asking: Vec<(u16, f32, u32)>,
    /// What the sentence model does not read: the idioms, then the asking
    /// phrases found (in the subject, start, end).
    unread: Vec<(bool, u32, u32)>,
    /// The impact and the deadline the customer stated, if any.
    stated: Vec<Stated>,
    phrase_found: Vec<bool>,
    /// Categories a negated phrase said were absent ("no outage").
    absent: Vec<u16>,
    /// The categories the examples may not choose for this ticket.
    excluded: Vec<u16>,
    text: String,
    embedding: Vec<f32>,
    embed: crate::embed::EmbedScratch,
    sentiment: crate::sentiment::SentimentScratch,
    spell: crate::spell::SpellScratch,
}

/// Characters of subject and body the sentence model reads per ticket: the
/// request is stated up front; the rest of a long mail (signatures, quoted
/// replies, logs) costs time and blurs the meaning.
const SEMANTIC_CHARS: usize = 280;

/// Word pieces per word above which the sentence model is not trusted with a
/// text (English prose is about 1.1; German or French about 1.6–2).
const MAX_PIECES_PER_WORD: f32 = 1.5;

/// The ticket's sentence embedding in `embedding`, computed at most once per
/// ticket (`state`): `false` when the model is not to be trusted with the
/// text (it reads English; text it splits into many word pieces — other
/// languages, codes — is left to the phrases).
///
/// The words the detector says are not to be read
/// ([`crate::text::Detector::unread`] of `scan`, the scan of `texts`, into
/// the scratch `unread`) are not read: idioms, whose words mean something else together
/// ("drop down" is no outage's "down"), which the model, reading words one
/// by one, cannot tell; and the asking phrases, the question's form.
fn embedded(
    state: &mut Option<bool>,
    texts: [&str; 2],
    (detector, scan, unread): (&crate::text::Detector, &Scan, &mut Vec<(bool, u32, u32)>),
    embedding: &mut Vec<f32>,
    embed: &mut crate::embed::EmbedScratch,
) -> bool {
    *state.get_or_insert_with(|| {
        let model = crate::embed::StaticModel::builtin();
        detector.unread(scan, unread);
        // (A copy only for a ticket with an idiom or an asking phrase.)
        let blanked = (!unread.is_empty()).then(|| {
            [true, false].map(|in_subject| {
                // A match's bounds are on word boundaries of its text,
                // character boundaries, as `blanked` wants.
                let spans: Vec<(usize, usize)> = unread
                    .iter()
                    .filter(|u| u.0 == in_subject)
                    .map(|u| (u.1 as usize, u.2 as usize))
                    .collect();
                let text = texts[usize::from(!in_subject)];
                crate::text::blanked(std::borrow::Cow::Borrowed(text), &spans)
            })
        });
        let texts = blanked.as_ref().map_or(texts, |[s, b]| [&**s, &**b]);
        let read = model.embed_counted(&texts, SEMANTIC_CHARS, embedding, embed);
        read.tokens != 0 && read.tokens as f32 <= MAX_PIECES_PER_WORD * read.words as f32
    })
}

/// What the examples say about a ticket: the example set it is nearest to,
/// and the runner-up.
struct Nearest {
    /// The nearest set's label.
    label: u16,
    /// Its score: the mean of the nearest example's cosine and the
    /// centroid's, plus the bonus.
    score: f32,
    /// Its nearest example and that example's cosine.
    example: Arc<str>,
    cosine: f32,
    /// The next best set's label and score.
    runner_up: Option<(u16, f32)>,
}

/// The example set `t` is nearest to, scored by similarity (the mean of the
/// nearest example's cosine and the centroid's) plus `bonus(label)`.
fn nearest_examples<'s>(
    sets: impl IntoIterator<Item = &'s crate::rules::Examples>,
    t: &[f32],
    bonus: impl Fn(u16) -> f32,
) -> Option<Nearest> {
    let mut best: Option<Nearest> = None;
    let mut runner_up: Option<(u16, f32)> = None;
    for ex in sets {
        let (mut near, mut near_i) = (f32::MIN, 0);
        for (i, v) in ex.vectors.iter().enumerate() {
            let c = crate::embed::cosine(t, v);
            if c > near {
                (near, near_i) = (c, i);
            }
        }
        let score = 0.5 * (near + crate::embed::cosine(t, &ex.centroid)) + bonus(ex.label);
        match &best {
            Some(b) if score <= b.score => {
                if runner_up.is_none_or(|r| score > r.1) {
                    runner_up = Some((ex.label, score));
                }
            }
            _ => {
                runner_up = best.as_ref().map(|b| (b.label, b.score));
                best = Some(Nearest {
                    label: ex.label,
                    score,
                    // The rules compile `texts` and `vectors` together
                    // (one text per vector) and keep no set without a
                    // vector: `near_i` indexes both.
                    example: ex.texts[near_i].clone(),
                    cosine: near,
                    runner_up: None,
                });
            }
        }
    }
    best.map(|b| Nearest { runner_up, ..b })
}

/// The category by meaning and phrases together (see `[semantic]` in the
/// rules reference), when a category's score reaches the threshold.
fn semantic_pick(
    sem: &crate::rules::Semantic,
    t: &[f32],
    weights: Weights<'_>,
    question: Option<(u16, f32)>,
    excluded: &[u16],
) -> Option<Nearest> {
    let sets = sem
        .examples
        .iter()
        .filter(|ex| !excluded.contains(&ex.label));
    nearest_examples(sets, t, |c| {
        // The question form counts once: as the question bonus when the
        // ticket is a question that reports no problem, else (a complaint
        // that asks, "how do I get my money back?") as the weight of its
        // asking phrases.
        let w = if question.is_some() {
            weights.topical(c)
        } else {
            weights.phrase(c)
        };
        let asked = question.filter(|q| q.0 == c).map_or(0.0, |q| q.1);
        sem.phrase_bonus * w.min(3.0) + asked
    })
    .filter(|b| b.score >= sem.threshold)
}

/// The category a question leans towards: of the others, the one whose
/// asking phrases weigh most in it ("could you add": feature_request; the
/// earlier on a tie), else the question category `q`. The question
/// category's own asking phrases ("how do i", "question") say only that
/// the ticket asks, which its form says already.
fn asked_lean(weights: Weights<'_>, q: u16) -> u16 {
    let mut lean = (q, 0.0);
    for (c, &w) in weights.asked.iter().enumerate() {
        if w > lean.1 && usize::from(q) != c {
            lean = (c as u16, w);
        }
    }
    lean.0
}

/// The phrase weight of each category, and the part of it that asking
/// phrases added ("how do I": how the customer asks, not what about).
#[derive(Clone, Copy)]
struct Weights<'a> {
    phrase: &'a [f32],
    asked: &'a [f32],
}

impl Weights<'_> {
    /// Category `c`'s phrase weight (0 for a category out of range).
    fn phrase(&self, c: u16) -> f32 {
        self.phrase.get(usize::from(c)).copied().unwrap_or(0.0)
    }

    /// The part of it its asking phrases added.
    fn asked(&self, c: u16) -> f32 {
        self.asked.get(usize::from(c)).copied().unwrap_or(0.0)
    }

    /// The part that names what the ticket is about: its phrases but the
    /// asking ones.
    fn topical(&self, c: u16) -> f32 {
        self.phrase(c) - self.asked(c)
    }
}

/// How sure a choice by meaning is: as sure as its lead over the runner-up
/// (or, with none, over the threshold) makes it — 0.5 at a tie, a toss-up
/// between the two, rising to 1 at a lead of `clear_lead` — and no surer
/// than its score (text that resembles no example closely is no sure
/// choice however far one leads).
fn lead_confidence(sem: &crate::rules::Semantic, n: &Nearest) -> f32 {
    let second = n.runner_up.map_or(sem.threshold, |r| r.1);
    let lead = (n.score - second).max(0.0);
    let sure = if sem.clear_lead > 0.0 {
        (lead / sem.clear_lead).min(1.0)
    } else {
        1.0
    };
    (0.5 + 0.5 * sure).min(n.score.clamp(0.0, 1.0))
}

/// An impact or a deadline the customer stated: its level, its verb's (or
/// time's) phrase, and its words (bytes `start..end` of the subject or the
/// body), for the reason.
#[derive(Debug, Clone, Copy)]
struct Stated {
    /// What was stated, as the reason names it ("impact", "deadline").
    what: &'static str,
    level: u16,
    verb: u32,
    in_subject: bool,
    start: u32,
    end: u32,
}

/// The first impact the customer states: a verb of impact, not negated,
/// then one of its scopes in the same text (the subject or the body) at
/// most `window` words on in its clause ("affecting our sales team's daily
/// work", "halted production"); else an expectation its subject says no
/// one of a scope meets ("none of our users can log in", "nobody on the
/// team can access it"). The hit, where the quote starts and where it ends.
fn stated_impact(
    rules: &Rules,
    si: &crate::rules::StatedImpact,
    hits: &[Hit],
    texts: [&str; 2],
) -> Option<(Hit, u32, u32)> {
    let r = ImpactReading {
        rules,
        si,
        hits,
        texts,
        groups: false,
    };
    r.verb_and_scope()
        .or_else(|| r.subject_negates_scope())
        .or_else(|| r.scope_before(true))
        .or_else(|| r.fails_for_scope())
}

/// `w` is in `list` (lower case, sorted, as the rules compile their word
/// lists), case aside: compared lower-cased as read, not copied.
fn listed_lower(list: &[String], w: &str) -> bool {
    if w.is_ascii() {
        list.binary_search_by(|s| s.bytes().cmp(w.bytes().map(|b| b.to_ascii_lowercase())))
            .is_ok()
    } else {
        list.binary_search_by(|s| s.chars().cmp(w.chars().flat_map(char::to_lowercase)))
            .is_ok()
    }
}

/// Words before a marker of need that deny the need ("no need to", "we
/// don't need it"), besides the lexicon's negators.
const NO_NEED: [&str; 2] = ["no", "without"];

/// Words after a time that say it will do ("by Friday is fine").
const RELAXED: [&str; 4] = ["fine", "ok", "okay", "enough"];

/// Words of a time's phrase between a preposition of the deadline and its
/// time ("by this coming Friday", "before noon on Monday", "by Friday at
/// the latest").
const TIME_WORDS: [&str; 10] = [
    "the", "this", "next", "coming", "on", "at", "of", "end", "latest", "noon",
];

/// The first deadline the customer states: one of the deadline's times
/// ([`Target::DeadlineTime`]) with one of its markers at most `window`
/// words before it in its clause ("needed for the audit tomorrow", "due
/// tomorrow", "it must work again on Monday"), or right after one of its
/// prepositions but for words of the time's phrase ("by Friday", "before
/// noon on Monday"; not "charged by your system today"); not with a negator
/// among those words or right before a marker ("not by Friday", "we don't
/// need it by Friday", "no need to look at it before Monday"), nor with the
/// time said to do ("by Friday is fine"). The time's hit, where the quote
/// starts (the marker) and where it ends.
fn deadline(
    rules: &Rules,
    dl: &crate::rules::Deadline,
    hits: &[Hit],
    texts: [&str; 2],
) -> Option<(Hit, u32, u32)> {
    let lex = rules.sentiment.lexicon.as_deref();
    let denies =
        |w: &str| crate::text::one_of(w, &NO_NEED) || lex.is_some_and(|lex| lex.negates(w));
    let listed = |list: &[String], w: &str| {
        dl.initials & crate::rules::initial_bit(w) != 0 && listed_lower(list, w)
    };
    hits.iter()
        .filter(|h| picked_as(rules, h, Target::DeadlineTime))
        .find_map(|h| {
            let text = texts[usize::from(!h.in_subject)];
            let before = text.get(..h.start as usize)?;
            let reach = dl.window as usize + 1;
            // The farthest marker within reach (its place, the word), and
            // whether the words so far are all of a time's phrase.
            let (mut marker, mut phrase) = (None, true);
            let words = || crate::text::clause_words_before(before, reach + 3);
            for (n, w) in words().take(reach).enumerate() {
                if (phrase && listed(&dl.prepositions, w)) || listed(&dl.markers, w) {
                    marker = Some((n, w));
                }
                phrase = phrase && crate::text::one_of(w, &TIME_WORDS);
            }
            let (n, w) = marker?;
            // A negator between the time and that marker denies the need,
            // as does one right before any marker of the clause ("no need
            // to look at it before Monday"). (Read only once a marker is
            // found: most times have none.)
            let mut nearer_marks = false;
            for (k, x) in words().enumerate() {
                if denies(x) && (k < n || nearer_marks) {
                    return None;
                }
                nearer_marks = listed(&dl.markers, x) || listed(&dl.prepositions, x);
            }
            // A time said to do ("by Friday is fine", "tomorrow would be
            // OK"): no need pressing.
            let after = text.get(h.end as usize..)?;
            if crate::text::clause_word_slices(after, 3).any(|w| crate::text::one_of(w, &RELAXED)) {
                return None;
            }
            // `w` is a slice of `before`, which starts `text`.
            Some((*h, crate::text::offset_in(text, w) as u32, h.end))
        })
}

/// Words between a word of loss and the thing it befell, before it ("lost
/// all our data", "wiped the whole database", "deleted 200 of my files"): an
/// object's determiners and quantities (a number is one too).
const QUANTITIES: &[&str] = &[
    "a", "all", "an", "any", "entire", "every", "half", "her", "his", "its", "lots", "many",
    "most", "my", "of", "our", "several", "some", "that", "the", "their", "these", "this", "those",
    "whole", "your",
];

/// Words after a word of loss said after its thing that do not start an
/// object ("missing from the report", "lost during the migration", "gone
/// since Monday", "deleted by the sync"): a word of loss followed by any
/// other ("missing a column", "lost its formatting", "gone through") is
/// another verb. An adverb in "-ly" follows too ("missing entirely").
const AFTER_LOSS: &[&str] = &[
    "after",
    "again",
    "and",
    "as",
    "at",
    "because",
    "before",
    "but",
    "by",
    "due",
    "during",
    "for",
    "forever",
    "from",
    "in",
    "now",
    "on",
    "or",
    "overnight",
    "since",
    "so",
    "today",
    "too",
    "upon",
    "when",
    "while",
    "with",
    "without",
    "yesterday",
];

/// Units of time after "this", "last", "every" ("corrupted this morning",
/// "gone since last week"): a time, no object.
const TIME_UNITS: &[&str] = &[
    "afternoon",
    "evening",
    "hour",
    "month",
    "morning",
    "night",
    "quarter",
    "time",
    "week",
    "weekend",
    "year",
];

/// Words before a loss that make it a supposition, not a report ("if the
/// records are deleted", "in case data is lost", "whether files were
/// lost").
const SUPPOSING: &[&str] = &["case", "if", "lest", "unless", "whether"];

/// The bytes read on either side of a thing of data for a loss said of it.
const REACHED: usize = 120;

/// Data the customer reports lost ([`crate::rules::DataLoss`]): a thing of
/// data ([`Target::LossThing`]) and a word of loss in its clause — after it,
/// a noun it qualifies first and up to three linking words between ("the
/// database tables are corrupted", "records went missing"), the clause
/// ending or going on with no object ([`AFTER_LOSS`]); or before it with one
/// to three words of [`QUANTITIES`] between ("lost all our data"). Not right
/// after a negator ("no data was lost", "we have not lost any files"), nor
/// as a supposition ([`SUPPOSING`]). The thing's hit, where the quote starts
/// and where it ends.
fn data_loss(
    rules: &Rules,
    dl: &crate::rules::DataLoss,
    hits: &[Hit],
    texts: [&str; 2],
) -> Option<(Hit, u32, u32)> {
    let lex = rules.sentiment.lexicon.as_deref();
    // Most words are rejected by their first letter before the list is
    // searched: a loss is looked for first, what lies between read only
    // once one is found.
    let loss =
        |w: &str| dl.initials & crate::rules::initial_bit(w) != 0 && listed_lower(&dl.losses, w);
    let denies = |w: &str| {
        crate::text::one_of(w, &["no", "none", "nothing", "never", "not", "without"])
            || lex.is_some_and(|lex| lex.negates(w))
    };
    // A noun that qualifies the thing ("database tables", "project
    // history").
    let noun = |w: &str| {
        !linking(w) && w.bytes().all(|b| b.is_ascii_alphabetic()) && !crate::text::grammatical(w)
    };
    // A text in which the automaton found no word of loss (with its
    // inflections) is not read word by word: which texts have one, read
    // once (the body's, then the subject's).
    let mut lossy = [false; 2];
    for o in hits
        .iter()
        .filter(|o| picked_as(rules, o, Target::LossWord))
    {
        lossy[usize::from(o.in_subject)] = true;
    }
    hits.iter()
        .filter(|h| lossy[usize::from(h.in_subject)] && picked_as(rules, h, Target::LossThing))
        .find_map(|h| {
            let text = texts[usize::from(!h.in_subject)];
            let before = text.get(..h.start as usize)?;
            // After the thing: what befell it.
            let after = || -> Option<(u32, u32)> {
                // (Six words fit in `REACHED` bytes: a long clause is not
                // read to its end.)
                let rest = crate::text::prefix(text.get(h.end as usize..)?, REACHED);
                let words = || crate::text::clause_word_slices(rest, 6);
                let j = words().position(loss)?;
                let mut linked = 0;
                for (n, w) in words().take(j).enumerate() {
                    if n == 0 && noun(w) {
                        continue;
                    }
                    if !(linking(w) || w.eq_ignore_ascii_case("went")) {
                        return None;
                    }
                    linked += 1;
                }
                let mut from = words().skip(j);
                let w = from.next()?;
                let object = from.next().is_some_and(|n| {
                    !(crate::text::one_of(n, AFTER_LOSS)
                        || (n.len() > 4 && n.ends_with("ly"))
                        // A time ("corrupted this morning", "gone last week").
                        || (crate::text::one_of(n, &["this", "last", "every", "each"])
                            && from.next().is_some_and(|t| crate::text::one_of(t, TIME_UNITS))))
                });
                // `w` is a slice of `rest`, which ends `text`.
                let end = crate::text::offset_in(text, w) + w.len();
                (linked <= 3 && !object).then_some((h.start, end as u32))
            };
            // Before it: a loss done to it, its object ("lost all of our
            // project history": a noun that qualifies it first).
            let before_it = || -> Option<(u32, u32)> {
                // (Five words fit in `REACHED` bytes: a long clause is not
                // read back to its start.)
                let before = crate::text::suffix(before, REACHED);
                let words = || crate::text::clause_words_before(before, 5);
                let j = words().position(loss)?;
                let mut between = 0;
                for (n, w) in words().take(j).enumerate() {
                    if crate::text::one_of(w, QUANTITIES) || crate::text::is_number(w) {
                        between += 1;
                    } else if n > 0 || !noun(w) {
                        return None;
                    }
                }
                let w = words().nth(j)?;
                // `w` is a slice of `before`, a part of `text`.
                (between > 0).then_some((crate::text::offset_in(text, w) as u32, h.end))
            };
            let (start, end) = after().or_else(before_it)?;
            // Denied or supposed: a negator among the two words before the
            // quote, a supposition anywhere before it in its clause.
            let lead = text.get(..start as usize)?;
            let words = || crate::text::clause_words_before(lead, 8);
            if words().take(2).any(denies) || words().any(|w| crate::text::one_of(w, SUPPOSING)) {
                return None;
            }
            Some((*h, start, end))
        })
}

/// A whole group named: a word of the whole (`[severity.stated_impact]
/// wholes`: "all", "every", "whole", "entire") and a group
/// ([`ImpactReading::groups`]: people, a team, the places a business works
/// in) at most `window` words on in its clause, only possessives, numbers, "of", "the"
/// and nouns between ("all employees", "all of our 40 locations", "our
/// whole support team", "the entire sales department"); not after a
/// negator ("not all users") nor a greeting ("Hi all"). The caller counts it
/// only in a message that reports a problem. The word of the whole's hit,
/// where the quote starts and where it ends.
fn whole_scope(
    rules: &Rules,
    si: &crate::rules::StatedImpact,
    hits: &[Hit],
    texts: [&str; 2],
) -> Option<(Hit, u32, u32)> {
    const BETWEEN: [&str; 11] = [
        "of", "the", "our", "my", "your", "their", "its", "his", "her", "these", "those",
    ];
    let r = ImpactReading {
        rules,
        si,
        hits,
        texts,
        groups: true,
    };
    let lex = rules.sentiment.lexicon.as_deref();
    hits.iter()
        .filter(|h| picked_as(rules, h, Target::Whole))
        .find_map(|h| {
            let text = r.text_of(h);
            // As written: the automaton matches by stem ("entirely").
            let word = text.get(h.start as usize..h.end as usize)?;
            let before = text.get(..h.start as usize)?;
            let negated = || {
                crate::text::clause_words_before(before, 1)
                    .any(|w| lex.is_some_and(|l| l.negates(w)))
            };
            if !listed_lower(&si.wholes, word) || addressed(text, h.start) || negated() {
                return None;
            }
            // (The window's words fit in `REACHED` bytes: a long clause is
            // not read to its end.)
            let rest = crate::text::prefix(text.get(h.end as usize..)?, REACHED);
            // A group, or one of it after "every" ("every agent").
            let group = |w: &str| {
                r.scope(w) || (!w.ends_with('s') && w.len() < 24 && r.scope(&format!("{w}s")))
            };
            for w in crate::text::clause_word_slices(rest, r.reach()) {
                if group(scope_word(w)) {
                    // `w` is a slice of `rest`, a part of `text`.
                    let end = crate::text::offset_in(text, w) + w.len();
                    return Some((*h, h.start, end as u32));
                }
                let qualifies = crate::text::one_of(w, &BETWEEN)
                    || crate::text::is_number(w)
                    || (!linking(w)
                        && w.bytes().all(|b| b.is_ascii_alphabetic())
                        && !crate::text::grammatical(w));
                if !qualifies {
                    return None;
                }
            }
            None
        })
}

/// An expectation a whole group of people cannot meet, of
/// [`stated_impact`]'s readings those where the group is the subject: no one
/// of it ("none of our agents can open the app") or the group itself ("our
/// customers cannot pay"). The scope is people ([`ImpactReading::groups`]):
/// "our money transfer hasn't arrived" is no group let down; nor is what
/// fails for a group ("emails never arrive for our customers": a feature
/// that fails, not a service no one can use). The expectation's hit.
fn unmet_by_group(
    rules: &Rules,
    si: &crate::rules::StatedImpact,
    hits: &[Hit],
    texts: [&str; 2],
) -> Option<Hit> {
    let r = ImpactReading {
        rules,
        si,
        hits,
        texts,
        groups: true,
    };
    r.subject_negates_scope()
        .or_else(|| r.scope_before(false))
        .map(|(h, _, _)| h)
}

/// What [`stated_impact`]'s readings read: the rules, their stated-impact
/// settings, the scan's hits and the two texts (subject, body).
struct ImpactReading<'a> {
    rules: &'a Rules,
    si: &'a crate::rules::StatedImpact,
    hits: &'a [Hit],
    texts: [&'a str; 2],
    /// Scopes are groups of people only: a noun of `[impact] people`
    /// ("agents", "customers") or one of [`GROUPS`].
    groups: bool,
}

/// Words of a group of people besides `[impact] people` ("none of our team
/// can log in"), and of the places a business works in ("none of our
/// stores can take payments", "for all of our 40 locations").
const GROUPS: [&str; 17] = [
    "team",
    "teams",
    "company",
    "office",
    "offices",
    "everyone",
    "department",
    "departments",
    "location",
    "locations",
    "store",
    "stores",
    "shops",
    "branch",
    "branches",
    "site",
    "sites",
];

impl<'a> ImpactReading<'a> {
    /// `w` is one of the scopes: keyed as the scopes were compiled, their
    /// forms lower case (compared lower-cased as read, not copied). Reading
    /// groups, a group of people.
    fn scope(&self, w: &str) -> bool {
        if self.groups {
            return crate::text::one_of(w, &GROUPS)
                || self
                    .rules
                    .impact
                    .people
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(w));
        }
        listed_lower(&self.si.scopes, w)
    }

    /// The text `h` stands in (the subject or the body).
    fn text_of(&self, h: &Hit) -> &'a str {
        self.texts[usize::from(!h.in_subject)]
    }

    /// Words read for what goes with a hit: the window, and one more.
    fn reach(&self) -> usize {
        self.si.window as usize + 1
    }

    /// An expectation its subject says no one of a scope meets ("none of our
    /// users can log in", "nobody on the team can access it"): quoted from
    /// the subject.
    fn subject_negates_scope(&self) -> Option<(Hit, u32, u32)> {
        self.hits.iter().find_map(|h| {
            let from = h.by_subject?;
            let subject = self.text_of(h).get(from as usize..h.start as usize)?;
            let mut words = subject.split(|c: char| !c.is_alphanumeric());
            // No one of the vendor's people ("nobody at your company").
            if words.clone().any(|w| crate::text::one_of(w, &VENDOR)) {
                return None;
            }
            (words.any(|w| self.scope(w)) || no_one_able(subject)).then_some((*h, from, h.end))
        })
    }

    /// [`stated_impact`]'s expectation that fails for a scope named after it in
    /// its clause: "the dashboard will not load for any of our users",
    /// "confirmation emails never arrive for our customers", "nothing syncs for
    /// the whole team". The scope after "for" is people (a noun of `[impact]
    /// people`: "users", "customers") or any scope after a word of the whole
    /// ("all", "any", "every", "whole", "entire"); not after a word of one ("for
    /// one of our users", "for a customer", "for my team"), nor a scope that
    /// may be a purpose ("does not work for our workflow", "for our team").
    /// Quoted from the negator (or the subject that negates) to the scope.
    fn fails_for_scope(&self) -> Option<(Hit, u32, u32)> {
        const WHOLE: [&str; 5] = ["all", "any", "every", "whole", "entire"];
        const ONE: [&str; 7] = ["a", "an", "one", "single", "my", "this", "that"];
        let is = |w: &str, list: &[&str]| list.iter().any(|l| l.eq_ignore_ascii_case(w));
        self.hits.iter().find_map(|h| {
            let failed = (h.negated || h.by_subject.is_some())
                && picked_as(self.rules, h, Target::Expectation);
            if !failed {
                return None;
            }
            let text = self.text_of(h);
            let reach = self.reach();
            let mut words = crate::text::clause_word_slices(text.get(h.end as usize..)?, 2 * reach);
            // "for" within reach of the expectation, the scope within reach of
            // "for".
            words
                .by_ref()
                .take(reach)
                .find(|w| w.eq_ignore_ascii_case("for"))?;
            let mut whole = false;
            for w in words.take(reach) {
                let w = scope_word(w);
                if is(w, &ONE) {
                    return None;
                }
                let people = || {
                    self.rules
                        .impact
                        .people
                        .iter()
                        .any(|p| p.eq_ignore_ascii_case(w))
                };
                if self.scope(w) && (whole || people()) {
                    // `w` is a slice of `text`, after the hit.
                    let end = crate::text::offset_in(text, w) + w.len();
                    let start = h
                        .by_subject
                        .unwrap_or_else(|| negator_before(self.rules, text, h.start));
                    return Some((*h, start, end as u32));
                }
                whole |= is(w, &WHOLE);
            }
            None
        })
    }

    /// [`stated_impact`]'s scope named before what befalls it, a few words back
    /// in its clause: the subject of a verb of impact in the passive or as a
    /// state, right after a copula or right after the scope ("our customers are
    /// affected", "our whole sales team is stuck", "Operations disrupted"; not
    /// "our team says the bug affects the export"), or of an expectation that
    /// fails, negated by a negator that takes a verb ("our users can't log in",
    /// "customers cannot pay", "our employees are unable to access the portal";
    /// not "the team is not working today"). Quoted from the scope to the verb.
    /// `verbs`: a verb of impact counts, not only an expectation.
    fn scope_before(&self, verbs: bool) -> Option<(Hit, u32, u32)> {
        /// Copulas a participle of impact follows ("are affected", "got stuck").
        const COPULAS: [&str; 9] = [
            "is", "are", "was", "were", "be", "been", "being", "got", "gets",
        ];
        self.hits.iter().find_map(|h| {
            let verb = verbs && impact_verb(self.rules, h);
            let unmet =
                h.acted && h.by_subject.is_none() && picked_as(self.rules, h, Target::Expectation);
            if !(verb || unmet) {
                return None;
            }
            let text = self.text_of(h);
            let before = text.get(..h.start as usize)?;
            // What the hit matched: the same word before it is no scope ("it
            // will work when it did not work": "work" the verb twice).
            let itself = text.get(h.start as usize..h.end as usize)?;
            let found = |w: &str| {
                let w = scope_word(w);
                // `w` is a slice of `before`, which starts `text`.
                let start = crate::text::offset_in(text, w);
                (self.scope(w) && !w.eq_ignore_ascii_case(itself)).then_some((
                    *h,
                    start as u32,
                    h.end,
                ))
            };
            // The negator's words count among them ("are unable to"). A
            // conjunction that opens a clause ends the subject's: "the
            // Business plan but still can't access" names no business.
            let reach = self.reach();
            let mut words = crate::text::clause_words_before(before, reach)
                .take_while(|w| !crate::text::one_of(w, &CLAUSE_OPENERS));
            if verb {
                let next = words.next()?;
                if !COPULAS.iter().any(|c| next.eq_ignore_ascii_case(c)) {
                    return found(next);
                }
            }
            words.find_map(found)
        })
    }

    /// [`stated_impact`]'s verb of impact and the scope after it.
    fn verb_and_scope(&self) -> Option<(Hit, u32, u32)> {
        self.hits
            .iter()
            .filter(|h| impact_verb(self.rules, h))
            .find_map(|v| {
                let text = self.text_of(v);
                let rest = text.get(v.end as usize..)?;
                let reach = self.reach();
                crate::text::clause_word_slices(rest, reach).find_map(|w| {
                    let w = scope_word(w);
                    if !self.scope(w) {
                        return None;
                    }
                    // `w` is a slice of `rest`, which ends `text`.
                    let end = crate::text::offset_in(text, w) + w.len();
                    Some((*v, v.start, end as u32))
                })
            })
    }
}

/// Words of the vendor: no one of them is the customer's.
const VENDOR: [&str; 3] = ["you", "your", "yours"];

/// A subject of no person saying what no one of the customer's people can do:
/// "nobody in the building can send email", "no one here is able to log
/// in" — the whole of the customer's people, no scope needed. Not what no
/// one did ("nobody has answered"). (No one of the vendor's — "nobody at your
/// company could answer" — is read before.)
/// Words between a thing and what befell it said after it ("my password
/// was stolen", "this charge looks suspicious", "our account has just been
/// hacked"): forms of "be", "become", "get", "seem", "look" and "appear", and a few
/// adverbs (any word ending in "-ly" is one too).
const LINKING: &[&str] = &[
    "already", "also", "appear", "appeared", "appears", "are", "be", "became", "become", "becomes",
    "been", "being", "get", "gets", "got", "gotten", "had", "has", "have", "is", "just", "look",
    "looked", "looks", "now", "seem", "seemed", "seems", "was", "were",
];

/// A linking word ([`LINKING`], or an adverb in "-ly").
fn linking(w: &str) -> bool {
    crate::text::one_of(w, LINKING) || (w.len() > 4 && w.ends_with("ly"))
}

/// The category of a phrase of `hits` that counted as a plain phrase of
/// one (not negated).
fn plain_category(rules: &Rules, h: &Hit) -> Option<u16> {
    if h.negated {
        return None;
    }
    rules
        .detector
        .targets(h.pattern)
        .iter()
        .find_map(|t| match *t {
            Target::Category(c) if t.family() == h.family => Some(c),
            _ => None,
        })
}

/// `h` (a phrase of what befell) is said of `o` (a phrase of a thing) in
/// `text`, their part: right before it, only spaces between ("a fraudulent
/// payment"); or after it, with between them the noun `o` qualifies if any
/// (a word of letters, not a linking or grammatical one) and then up to
/// three linking words — and at least one of these, or a linking word
/// opening `h` ("my password was stolen", "the login page times out",
/// "login is down"; not "error 503", "failed with 502").
fn said_of(text: &str, h: &Hit, o: &Hit) -> bool {
    let (h0, h1, o0, o1) = (
        h.start as usize,
        h.end as usize,
        o.start as usize,
        o.end as usize,
    );
    if h1 <= o0 {
        return text
            .get(h1..o0)
            .is_some_and(|g| !g.is_empty() && g.bytes().all(|b| b == b' '));
    }
    let (Some(gap), Some(phrase)) = (text.get(o1..h0), text.get(h0..h1)) else {
        return false;
    };
    if !gap.starts_with(' ') {
        return false;
    }
    let mut words = gap.split(' ').filter(|w| !w.is_empty()).peekable();
    // The noun it qualifies, first.
    let noun = words
        .next_if(|w| {
            !linking(w)
                && w.bytes().all(|b| b.is_ascii_alphabetic())
                && !crate::text::grammatical(w)
        })
        .is_some();
    let mut linked = 0;
    for w in words {
        if !linking(w) {
            return false;
        }
        linked += 1;
    }
    // A noun qualified may be followed by the predicate itself ("the login
    // page times out").
    linked <= 3 && (linked > 0 || noun || phrase.split(' ').next().is_some_and(linking))
}

/// A phrase of a category that befalls things (`categories[].befalls`)
/// said of a phrase of one of the categories it lists ([`said_of`]) makes
/// that phrase count for it: its weight moves there, and the reason names
/// both. Called when the scan found such a phrase (the hits loop notes it).
fn befallen(
    rules: &Rules,
    hits: &[Hit],
    texts: [&str; 2],
    weight: &mut [f32],
    phrase: &mut [Option<(u32, Counted)>],
) {
    // The phrases of what befell, with their category and what it takes:
    // read once (few per ticket, most tickets none).
    let befell: Vec<(&Hit, u16, &[u16])> = hits
        .iter()
        .filter_map(|h| {
            let i = plain_category(rules, h)?;
            let taken = rules.befalls.get(usize::from(i))?;
            (!taken.is_empty()).then_some((h, i, taken.as_slice()))
        })
        .collect();
    for o in hits {
        let Some(j) = plain_category(rules, o) else {
            continue;
        };
        let text = texts[usize::from(!o.in_subject)];
        let by = befell.iter().find_map(|&(h, i, taken)| {
            (h.in_subject == o.in_subject && taken.contains(&j) && said_of(text, h, o))
                .then_some((i, h.pattern))
        });
        let Some((i, p)) = by else {
            continue;
        };
        // `i` and `j` are categories the rules compiled (`Target::Category`
        // indexes, below the category count), and `weight` and `phrase` are
        // the category tables, reset to that count before the scan was
        // read: both index them.
        let (i, j) = (usize::from(i), usize::from(j));
        weight[j] -= o.weight;
        weight[i] += o.weight;
        if phrase[i] == Some((p, Counted::Phrase)) {
            phrase[i] = Some((p, Counted::Befell(o.pattern)));
        }
        if weight[j] <= 0.0 {
            weight[j] = 0.0;
            phrase[j] = None;
        }
    }
}

fn no_one_able(subject: &str) -> bool {
    const PERSONS: [&str; 3] = ["nobody", "noone", "no-one"];
    const ABLE: [&str; 3] = ["can", "could", "able"];
    let mut words = subject
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty());
    let Some(first) = words.next() else {
        return false;
    };
    let person = crate::text::one_of(first, &PERSONS)
        || (first.eq_ignore_ascii_case("no")
            && words.next().is_some_and(|w| w.eq_ignore_ascii_case("one")));
    let mut last = None;
    for w in words {
        if !w.eq_ignore_ascii_case("to") {
            last = Some(w);
        }
    }
    person && last.is_some_and(|w| crate::text::one_of(w, &ABLE))
}

/// Words that greet or thank the people a message is written to.
const GREETINGS: [&str; 17] = [
    "afternoon",
    "bye",
    "cheers",
    "congrats",
    "congratulations",
    "dear",
    "evening",
    "greetings",
    "hello",
    "hey",
    "hi",
    "morning",
    "night",
    "thank",
    "thanks",
    "thx",
    "welcome",
];

/// A phrase at `at` in `text` right after a greeting or thanks names whom
/// the customer writes to, not who is affected: "Hello everyone", "Good
/// morning, everyone", "Thank you everyone", "thanks to everyone who
/// helped" ("to" and "you" between). Only spaces and a comma between the
/// words: "Thanks. Everyone here is blocked" is affected.
fn addressed(text: &str, at: u32) -> bool {
    // The word that ends `before`, after spaces (and a comma, when
    // `comma`), with what is left before it.
    fn last_word(before: &str, comma: bool) -> Option<(&str, &str)> {
        let t = before.trim_end_matches(|c: char| c.is_whitespace() || (comma && c == ','));
        let start = t
            .char_indices()
            .rev()
            .find(|&(_, c)| !c.is_alphanumeric())
            .map_or(0, |(i, c)| i + c.len_utf8());
        // (`start` is 0 or just past a character of `t`: a boundary.)
        Some((&t[start..], &t[..start])).filter(|(w, _)| !w.is_empty())
    }
    let Some((w, rest)) = last_word(text.get(..at as usize).unwrap_or(""), true) else {
        return false;
    };
    let w = match crate::text::one_of(w, &["to", "you"]) {
        true => last_word(rest, false).map_or("", |(w, _)| w),
        false => w,
    };
    crate::text::one_of(w, &GREETINGS)
}

/// Where the negator of a phrase at `at` in `text` starts: the nearest of
/// the words just before it in its clause that the lexicon reads as a
/// negator ("will not load", "never arrive", "aren't syncing"), else `at`.
fn negator_before(rules: &Rules, text: &str, at: u32) -> u32 {
    let Some(lex) = rules.sentiment.lexicon.as_deref() else {
        return at;
    };
    text.get(..at as usize)
        .and_then(|before| crate::text::clause_words_before(before, 3).find(|w| lex.negates(w)))
        // `w` is a slice of `text`, before `at`.
        .map_or(at, |w| crate::text::offset_in(text, w) as u32)
}

/// Conjunctions that open a clause of their own: a scope before one is not
/// the subject of the verb after it ("and", "or" may join two subjects: "our
/// users and admins can't log in").
const CLAUSE_OPENERS: [&str; 9] = [
    "but", "because", "although", "though", "while", "whereas", "since", "if", "unless",
];

/// A word read as a scope, without its possessive ("team's" is "team").
fn scope_word(w: &str) -> &str {
    w.split(['\'', '\u{2019}']).next().unwrap_or(w)
}

/// A verb of impact ([`Target::ImpactVerb`]), not negated.
fn impact_verb(rules: &Rules, h: &Hit) -> bool {
    !h.negated && picked_as(rules, h, Target::ImpactVerb)
}

/// The hit was picked for `target`'s family and its phrase is one of
/// `target`'s.
fn picked_as(rules: &Rules, h: &Hit, target: Target) -> bool {
    h.family == target.family() && rules.detector.targets(h.pattern).contains(&target)
}

/// The text asks: it has a question mark, or its subject or body opens
/// with a question word — one that opens no clause of a statement: "When I
/// paste text the formatting is garbled", "What I topped up was reverted"
/// ask nothing ("when", "what", … before a subject; "how" asks either way).
fn asks(texts: [&str; 2]) -> bool {
    texts.iter().any(|t| {
        if crate::text::prefix(t, crate::sentiment::MAX_CHARS).contains('?') {
            return true;
        }
        let mut words = read_words(t);
        words.next().is_some_and(|w| {
            let next = words.next();
            let next_is = |list: &[&str]| next.is_some_and(|s| crate::text::one_of(s, list));
            crate::text::one_of(w, crate::text::QUESTION_OPENERS)
                && if crate::text::one_of(w, &CLAUSE_WH) {
                    !next_is(&CLAUSE_SUBJECTS)
                } else {
                    !next_is(&ELIDED_SUBJECT)
                }
        })
    })
}

/// The texts say they want nothing: they hold at least [`SAYS_ENOUGH`]
/// words and none of `wants` (every form of the rules' words that say the
/// customer wants something), case aside. A label of a few words
/// ("Supported browsers") says too little of its form to tell.
fn wants_nothing(wants: &crate::rules::WordSet, texts: [&str; 2]) -> bool {
    let (mut lower, mut n) = (String::new(), 0usize);
    !texts.iter().any(|t| {
        read_words(t).any(|w| {
            n += 1;
            lower.clear();
            lower.extend(w.chars().flat_map(char::to_lowercase));
            wants.contains(lower.as_str())
        })
    }) && n >= SAYS_ENOUGH
}

/// The form of a message that makes it lean towards a category by meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// A question that reports no problem (`[semantic].question_category`).
    Question,
    /// A wish that reports no problem (`[semantic].wish_category`).
    Wish,
}

/// Whether a message wishes for something: a modal ("would", "could",
/// "'d") followed, at most [`WISH_REACH`] words on and before any negator,
/// by one of `words` ("It would be really useful …", "We'd love …", "…
/// would save us hours"; not "it would not be nice").
fn wishes(words: &crate::rules::WordSet, texts: [&str; 2]) -> bool {
    let mut lower = String::new();
    texts.iter().any(|t| {
        // Words read since the last modal, while it can still reach.
        let mut since: Option<usize> = None;
        read_words(t).any(|w| {
            if crate::text::one_of(w, &WISH_MODALS) {
                since = Some(0);
                return false;
            }
            match since {
                Some(n) if n < WISH_REACH && !crate::text::one_of(w, &WISH_NEGATORS) => {
                    since = Some(n + 1);
                    // Only the words a modal reaches are lower-cased.
                    lower.clear();
                    lower.extend(w.chars().flat_map(char::to_lowercase));
                    words.contains(lower.as_str())
                }
                _ => {
                    since = None;
                    false
                }
            }
        })
    })
}

/// How many words after its modal a wish's word of benefit may come ("it
/// would be really useful": three).
const WISH_REACH: usize = 4;

/// The modals a wish opens with ("d" of "we'd", "it'd").
const WISH_MODALS: [&str; 3] = ["would", "could", "d"];

/// Words after a modal that make it no wish ("it would not be nice";
/// "wouldn't" is no modal of [`WISH_MODALS`] at all).
const WISH_NEGATORS: [&str; 3] = ["not", "never", "no"];

/// The words of `t` the form of a message is read from: runs of letters
/// and digits in its first [`crate::sentiment::MAX_CHARS`] characters (as
/// the sentiment reads it).
fn read_words(t: &str) -> impl Iterator<Item = &str> {
    crate::text::prefix(t, crate::sentiment::MAX_CHARS)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Words a message needs before its form tells that it wants nothing.
const SAYS_ENOUGH: usize = 4;

/// Question words that also open a clause of a statement ("When I save, …").
const CLAUSE_WH: [&str; 6] = ["when", "where", "what", "which", "who", "why"];

/// Words that make a modal or auxiliary opening a message ("would",
/// "could", "does", "is", …) the verb of a statement whose subject is left
/// out, not a question: "Would be cool if I could pin chats", "Could be a
/// problem with the export", "Would love a dark mode", "Can't log in"
/// ("t"), "Does not load".
const ELIDED_SUBJECT: [&str; 7] = ["be", "t", "not", "have", "love", "like", "really"];

/// Words that make the question word before them open a clause, not a
/// question: a subject ("when I …", "what the app shows …"); a question puts
/// its verb there ("when will …", "what is …", "where can …").
const CLAUSE_SUBJECTS: [&str; 18] = [
    "i", "we", "you", "they", "he", "she", "it", "the", "a", "an", "my", "our", "your", "their",
    "this", "that", "these", "those",
];

/// What moved the sentiment most: a rules phrase (and whether it was
/// negated) or a word of the valence lexicon.
#[derive(Clone, Copy)]
enum Cause<'l> {
    Phrase((u32, bool)),
    Lexicon(crate::sentiment::Pull<'l>),
}

/// Triage one ticket.
pub fn triage(
    rules: &Rules,
    ticket: &Ticket<'_>,
    customer: Option<&Profile>,
    now: Timestamp,
) -> Triage {
    triage_with(rules, ticket, customer, now, &mut Scratch::default())
}

/// `parts` joined: a reason's detail without `format!`'s machinery (the
/// details are built for every ticket).
fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

fn reason(factor: &'static str, points: i64, detail: String) -> Reason {
    Reason {
        factor,
        points,
        detail,
    }
}

/// Triage one ticket, reusing `scratch`.
pub fn triage_with(
    rules: &Rules,
    ticket: &Ticket<'_>,
    customer: Option<&Profile>,
    now: Timestamp,
    scratch: &mut Scratch,
) -> Triage {
    decide(rules, ticket, customer, now, scratch).triage
}

/// A ticket's triage with what the edge counts and routes it by: the
/// indices of its level, category and SLA calendar in the rules, and the
/// zone its SLA clock runs in.
#[derive(Debug, Clone)]
pub struct Decision {
    pub triage: Triage,
    /// Index of `triage.priority` in the rules' levels.
    pub level: u16,
    /// Index of `triage.category` in the rules' categories.
    pub category: u16,
    /// Index of the SLA calendar (`triage.sla.calendar`) in the rules.
    pub calendar: usize,
    /// The zone of that calendar for this customer.
    pub zone: jiff::tz::TimeZone,
}

impl Decision {
    /// The fraction of the first-response target already used at `now`, in
    /// the open time of the ticket's SLA calendar (`None` when the target is
    /// 0); above 1 when the ticket arrived past due. One more calendar walk,
    /// taken by [`crate::process::process`] (the service counts it at
    /// publish), not by the engine alone (`triage test`, `triage quality`).
    pub fn first_response_used(
        &self,
        rules: &Rules,
        created_at: Timestamp,
        now: Timestamp,
    ) -> Option<f64> {
        let target = self.triage.sla.first_response_target_seconds;
        if target <= 0 {
            return None;
        }
        // `self.calendar` is a policy's calendar index, checked when the
        // rules were compiled; `rules` are the rules that decided.
        let calendar = &rules.calendars[self.calendar];
        let used = if calendar.is_24x7() {
            now.duration_since(created_at)
        } else {
            calendar.open_time_between(created_at, now, &self.zone)
        };
        Some((used.as_secs_f64() / target as f64).max(0.0))
    }
}

/// Triage one ticket, reusing `scratch`: the [`Triage`] and its indices.
pub fn decide(
    rules: &Rules,
    ticket: &Ticket<'_>,
    customer: Option<&Profile>,
    now: Timestamp,
    scratch: &mut Scratch,
) -> Decision {
    let mut reasons: Vec<Reason> = Vec::with_capacity(12);
    let d = &rules.defaults;

    // 1. Segment.
    let segment = match customer {
        Some(p) => Segment {
            account_type: p
                .account_type
                .clone()
                .unwrap_or_else(|| d.account_type.clone()),
            support_plan: p
                .support_plan
                .clone()
                .unwrap_or_else(|| d.support_plan.clone()),
            vip: p.vip,
            persona: p.persona.clone().unwrap_or_else(|| d.persona.clone()),
            lifecycle: p.lifecycle.clone().unwrap_or_else(|| d.lifecycle.clone()),
            arr: p.arr.unwrap_or(d.arr),
            sla_policy: p.sla_policy.clone(),
            timezone: p.timezone.clone(),
            language: p.language.clone(),
        },
        None => Segment {
            account_type: d.account_type.clone(),
            support_plan: d.support_plan.clone(),
            vip: d.vip,
            persona: d.persona.clone(),
            lifecycle: d.lifecycle.clone(),
            arr: d.arr,
            sla_policy: None,
            timezone: None,
            language: None,
        },
    };
    let known = customer.is_some();
    if !known {
        // The id as an excerpt: it is the sender's text, of any length (the
        // whole of it is in the ticket's own `customer_id`).
        reasons.push(reason(
            "customer",
            d.unknown_points,
            Detail::new()
                .s("customer ")
                .excerpt(&ticket.customer_id, "")
                .s(" not in the table: default segment")
                .done(),
        ));
    }

    // 2. Customer strategies.
    let c = &rules.customer;
    for (factor, map, value) in [
        ("account_type", &c.account_type, &segment.account_type),
        ("support_plan", &c.support_plan, &segment.support_plan),
        ("persona", &c.persona, &segment.persona),
        ("lifecycle", &c.lifecycle, &segment.lifecycle),
    ] {
        if let Some(&p) = map.get(value) {
            if p != 0 {
                reasons.push(reason(factor, p, concat(&[factor, "=", value])));
            }
        }
    }
    if segment.vip && c.vip != 0 {
        reasons.push(reason("vip", c.vip, "vip=true".into()));
    }
    if let Some(&(min, p)) = c.arr_bands.iter().find(|(min, _)| segment.arr >= *min) {
        if p != 0 {
            reasons.push(reason(
                "arr",
                p,
                format!("arr={} (band from {min})", segment.arr),
            ));
        }
    }

    // 3. Text: the customer's own words — an HTML body is read as the text
    // a mail client shows; what a reply quotes of earlier messages ("> …",
    // below "On … wrote:"), the signature and a legal notice are not theirs
    // to be read as.
    // Mail no person wrote (an out-of-office reply, a bounce) is no request:
    // none of its text is read.
    let automatic = rules.automatic.and_then(|points| {
        Some((
            crate::automatic::of(&ticket.subject, ticket.body.as_deref())?,
            points,
        ))
    });
    if let Some(((kind, said), points)) = automatic {
        reasons.push(reason(
            "automatic",
            points,
            Detail::new()
                .s(kind.described())
                .s(" (subject \"")
                .excerpt(said, "")
                .s("\"): no person's request, its text not read")
                .done(),
        ));
    }
    // The body as written, when it is to be read.
    let written = ticket.body.as_deref().filter(|_| automatic.is_none());
    let shown = written
        .filter(|b| crate::html::is_html(b))
        .map(crate::html::text);
    // Plain text an intake escaped for HTML ("can&#39;t"): its character
    // references decoded, so that the words are read as written.
    let referenced = written
        .filter(|_| shown.is_none())
        .and_then(crate::html::references);
    // Of a chat transcript, the customer's lines: not the bot's or the
    // agent's ("Sorry to hear about the outage! Is production down?").
    let conversational = matches!(ticket.channel.as_deref(), Some("chat" | "phone"));
    let body = match automatic {
        Some(_) => ticket.body.as_ref().map(|_| ""),
        None => shown.as_deref().or(referenced.as_deref()).or(written),
    };
    let chat = body.and_then(|b| {
        crate::chat::customer_lines(b, ticket.requester_name.as_deref(), conversational)
    });
    let (own, unread, chat) = match (chat, body) {
        (Some((text, c)), _) => (Some(std::borrow::Cow::Owned(text)), None, Some(c)),
        (None, Some(b)) => {
            let (own, unread) = crate::reply::own_words(&ticket.subject, b);
            (Some(own), unread, None)
        }
        (None, None) => (None, None, None),
    };
    // A web form's lines of who sent it ("Company: Acme Security Ltd", "Job
    // title: Head of Critical Infrastructure") say nothing of the request
    // (read before links are blanked: "Email: jane@acme.example" is one).
    let (own, form_lines) = match own.map(crate::form::masked) {
        Some((own, n)) => (Some(own), n),
        None => (None, 0),
    };
    // Links and addresses are read as no words ("…/security/breach-report",
    // "billing@acme.com"): blanked, the text keeping its length.
    let own = own.map(crate::links::masked);
    let subject_read = crate::links::masked(match automatic {
        Some(_) => std::borrow::Cow::Borrowed(""),
        None => crate::html::references(&ticket.subject).map_or(
            std::borrow::Cow::Borrowed(&*ticket.subject),
            std::borrow::Cow::Owned,
        ),
    });
    // A pasted log's level words are a program's ("CRITICAL", "FATAL" on a
    // log line), not the customer's: blanked too, its messages read.
    let (own, log_lines) = match own.map(crate::logs::masked) {
        Some((own, n)) => (Some(own), n),
        None => (None, 0),
    };
    if let (Some(b), true) = (
        ticket.body.as_deref(),
        unread.is_some() || shown.is_some() || log_lines > 0 || form_lines > 0 || chat.is_some(),
    ) {
        let u = unread.unwrap_or_default();
        let what: Vec<&str> = [
            (shown.is_some(), "the HTML markup"),
            (chat.is_some(), "the lines of the chat's other speakers"),
            (u.quoted, "the earlier messages it quotes"),
            (u.signature, "the signature"),
            (u.notice, "a legal notice"),
            (log_lines > 0, "the levels of the log lines it pastes"),
            (form_lines > 0, "the sender's details a form lists"),
        ]
        .iter()
        .filter_map(|&(found, what)| found.then_some(what))
        .collect();
        // Of an HTML body, what the text it shows leaves out too.
        let of_text = chat.map_or(u.bytes, |c| c.bytes);
        let left = match &shown {
            Some(t) => (b.len() + of_text).saturating_sub(t.len()),
            None => of_text,
        };
        let mut d = Detail::new()
            .s("not the customer's message: ")
            .s(&what.join(", "));
        // (Log levels and form details are blanked, not cut: alone, no bytes
        // go unread.)
        if left > 0 {
            d = d
                .s(" (")
                .u(left as u64)
                .s(" of the body's ")
                .u(b.len() as u64)
                .s(" bytes)");
        }
        reasons.push(reason("unread", 0, d.done()));
    }
    // Its language first: the sentence model and the valence lexicon read
    // English only, and the rules say which languages they read.
    let language = crate::lang::detect(&[&subject_read, own.as_deref().unwrap_or("")]);
    let english = language.is_none_or(|l| l == "en");
    let covered = rules.language.covers(language);
    if let (false, Some(l)) = (covered, language) {
        let read: Vec<&str> = rules.language.covered.iter().map(|c| &**c).collect();
        reasons.push(reason(
            "language",
            rules.language.uncovered_points,
            concat(&[
                "text in ",
                l,
                ", a language the rules do not read (they read ",
                &read.join(", "),
                ")",
            ]),
        ));
    }
    // The phrases read the text; when they do not decide the category, the
    // text is read again with its mistyped words read as the words meant
    // (English only: the dictionaries are English; the output keeps the
    // text as written). Clear tickets pay nothing for it.
    scratch.spell.fixes.clear();
    let mut subject = std::borrow::Cow::Borrowed(&*subject_read);
    let mut body = own.clone();
    let speller = rules.speller.as_deref().filter(|_| english);
    let decides_at = rules.semantic.as_ref().map_or(1.0, |s| s.phrases_decide_at);
    // Set by each reading of the text.
    let (mut pos, mut neg): (f32, f32);
    let mut pos_phrase: Option<u32>;
    let (mut polite, mut polite_phrase): (f32, Option<u32>);
    let mut neg_phrase: Option<(u32, bool)>;
    // An expectation of the rules' negated ("doesn't load", "can't log in"):
    // a failure reported.
    let mut failed: bool;
    // A severity phrase above the default level, or an impact or data loss
    // stated (not a deadline: a time the customer needs something by is
    // no problem reported).
    let mut impact: bool;
    let mut spelled = false;
    let ns = rules.severities.len();
    let by_phrase = loop {
        let scan = &mut scratch.scan;
        scan.clear();
        rules.detector.scan(&subject, true, scan);
        if let Some(body) = &body {
            rules.detector.scan(body, false, scan);
        }
        let nc = rules.categories.len();
        reset(&mut scratch.category_weight, nc, 0.0);
        reset(&mut scratch.asked_weight, nc, 0.0);
        reset(&mut scratch.category_phrase, nc, None);
        scratch.absent.clear();
        reset(&mut scratch.severity_weight, ns, 0.0);
        reset(&mut scratch.severity_phrase, ns, None);
        reset(&mut scratch.severity_phrase_lowered, ns, false);
        reset(&mut scratch.severity_cue, ns, 0.0);
        reset(&mut scratch.severity_cue_phrase, ns, None);
        scratch.severity_seen.clear();
        scratch.asking.clear();
        reset(&mut scratch.phrase_found, rules.condition_phrases, false);
        (pos, neg) = (0f32, 0f32);
        pos_phrase = None;
        (polite, polite_phrase) = (0f32, None);
        neg_phrase = None;
        failed = false;
        impact = false;
        // A plain phrase of a category that befalls things was found.
        let mut befalls = false;
        for h in &scan.hits {
            for t in rules.detector.targets(h.pattern) {
                if t.family() != h.family {
                    continue;
                }
                match *t {
                    // The rules' compiler numbers categories (plain,
                    // negated and disowned phrases alike) and severities below their
                    // counts, and the scratch tables were just reset to
                    // those lengths: every index is in bounds.
                    // A negated phrase counts only negated, and then as much
                    // as the phrase itself: one negated word in the body
                    // does not decide alone ("the importer doesn't
                    // recognize the date column"). Disowned, it counts three
                    // times what it weighs, as a disowned action does: a
                    // customer saying they did not do what was done ("a
                    // payment I didn't make", "a charge I don't recognize",
                    // "a login that is not ours") outweighs the word for
                    // what it was done to.
                    Target::Category(i)
                    | Target::NegatedCategory(i)
                    | Target::DisownedCategory(i)
                    | Target::StrangerCategory(i) => {
                        let counted = match *t {
                            Target::NegatedCategory(_) if h.negated && h.denied => {
                                Counted::Disowned
                            }
                            Target::NegatedCategory(_) if h.negated => Counted::Negated,
                            Target::DisownedCategory(_) if h.disowned => Counted::DisownedAction,
                            Target::StrangerCategory(_) if h.disowned => Counted::Stranger,
                            // "no outage on our side": absent.
                            Target::Category(c)
                                if h.negated
                                    && rules.absent_if_negated.get(c as usize) == Some(&true) =>
                            {
                                scratch.absent.push(c);
                                continue;
                            }
                            Target::Category(_) => Counted::Phrase,
                            _ => continue,
                        };
                        // `i` is below the category count the tables were
                        // reset to (above): `category_weight` and
                        // `category_phrase` alike.
                        let i = i as usize;
                        // A plain phrase of a category that takes others'
                        // phrases: what befell a thing is read below.
                        befalls |= matches!(counted, Counted::Phrase)
                            && rules.befalls.get(i).is_some_and(|t| !t.is_empty());
                        scratch.category_weight[i] += counted.weight() * h.weight;
                        // The reason names the first disowning, before any
                        // plain phrase: it is what decided.
                        let first = &mut scratch.category_phrase[i];
                        if first.is_none()
                            || (counted.disowns() && !first.is_some_and(|f| f.1.disowns()))
                        {
                            *first = Some((h.pattern, counted));
                        }
                    }
                    // "Hello everyone", "thanks to everyone who helped":
                    // whom the customer writes to.
                    Target::Severity(i)
                        if i < rules.default_severity
                            && addressed(
                                if h.in_subject {
                                    &subject
                                } else {
                                    body.as_deref().unwrap_or("")
                                },
                                h.start,
                            ) => {}
                    Target::Severity(i) if !h.negated => {
                        impact |= i < rules.default_severity;
                        scratch.severity_weight[i as usize] += h.weight;
                        scratch.severity_phrase[i as usize].get_or_insert(h.pattern);
                        if !scratch.severity_seen.contains(&(i, h.pattern)) {
                            scratch.severity_seen.push((i, h.pattern));
                        }
                    }
                    Target::SeverityCue(i) if !h.negated => {
                        scratch.severity_cue[i as usize] += h.weight;
                        scratch.severity_cue_phrase[i as usize].get_or_insert(h.pattern);
                        if !scratch.severity_seen.contains(&(i, h.pattern)) {
                            scratch.severity_seen.push((i, h.pattern));
                        }
                    }
                    // "can't cancel", "didn't cancel": a failure or a
                    // denial, no opposite of the complaint.
                    Target::Negative if h.acted => {
                        neg += h.weight * 0.5;
                        neg_phrase.get_or_insert((h.pattern, true));
                    }
                    Target::Negative if h.negated => {
                        pos += h.weight * 0.5;
                        pos_phrase.get_or_insert(h.pattern);
                    }
                    Target::Negative => {
                        neg += h.weight;
                        neg_phrase.get_or_insert((h.pattern, false));
                    }
                    Target::Positive if h.negated => {
                        neg += h.weight;
                        neg_phrase.get_or_insert((h.pattern, true));
                    }
                    // "a great disappointment": the fault's degree, no
                    // praise (the lexicon reads the fault).
                    // "a great disappointment": the fault's degree (the
                    // lexicon reads the fault); "we need this resolved": an
                    // outcome the customer wants, not has. No praise yet.
                    Target::Positive
                        if {
                            let text = if h.in_subject {
                                &*subject
                            } else {
                                body.as_deref().unwrap_or("")
                            };
                            let phrase = text.get(h.start as usize..h.end as usize).unwrap_or("");
                            rules
                                .sentiment
                                .lexicon
                                .as_ref()
                                .filter(|_| english)
                                .is_some_and(|l| l.degree_before(phrase, text, h.end as usize))
                                || (crate::text::one_of(phrase, crate::text::OUTCOMES)
                                    && crate::text::wanted_outcome(
                                        crate::text::clause_words_before(
                                            text.get(..h.start as usize).unwrap_or(""),
                                            5,
                                        ),
                                    ))
                        } => {}
                    Target::Positive => {
                        pos += h.weight;
                        pos_phrase.get_or_insert(h.pattern);
                    }
                    Target::Polite if !h.negated => {
                        polite += h.weight;
                        polite_phrase.get_or_insert(h.pattern);
                    }
                    Target::Expectation if h.negated => {
                        neg += h.weight;
                        neg_phrase.get_or_insert((h.pattern, true));
                        failed = true;
                    }
                    // Read once every other phrase is (below).
                    Target::AskingCategory(i) => scratch.asking.push((i, h.weight, h.pattern)),
                    Target::Phrase(i) => scratch.phrase_found[i as usize] = true,
                    _ => {}
                }
            }
        }
        // What befell a thing said of it ("a fraudulent payment", "my
        // password was stolen"): the thing's phrase counts for the category
        // of what befell it.
        if befalls {
            let texts = [&*subject, body.as_deref().unwrap_or("")];
            befallen(
                rules,
                &scan.hits,
                texts,
                &mut scratch.category_weight,
                &mut scratch.category_phrase,
            );
        }
        // How the customer asks counts only when no other category's
        // phrase says what about ("How do I delete my account?" is account).
        // Read from the phrases alone, before any asking phrase is added (so
        // one category's asking phrases do not silence another's): the
        // category with phrase weight, if exactly one has it.
        let mut weighted = scratch
            .category_weight
            .iter()
            .enumerate()
            .filter(|(_, &x)| x > 0.0);
        let only = match (weighted.next(), weighted.next()) {
            (None, _) => None,
            (Some((j, _)), None) => Some(Some(j)),
            _ => Some(None),
        };
        for &(i, w, p) in &scratch.asking {
            // The rules compile `AskingCategory(i)` with `i` below the
            // category count, the length `category_weight`, `asked_weight`
            // and `category_phrase` were reset to above.
            let i = usize::from(i);
            let other = only.is_some_and(|j| j != Some(i));
            if !other {
                scratch.category_weight[i] += w;
                scratch.asked_weight[i] += w;
                scratch.category_phrase[i].get_or_insert((p, Counted::Phrase));
            }
        }
        let texts = [&*subject, body.as_deref().unwrap_or("")];
        if let Some(si) = &rules.stated_impact {
            // What a whole group cannot do is a phrase of the category it
            // says the service is in ("none of our agents can open the
            // app": down).
            if let Some(c) = si.unmet_category {
                if let Some(h) = unmet_by_group(rules, si, &scan.hits, texts) {
                    // (`c` names a category: the rules compile it from a
                    // position in `categories` (`category_named`), and the
                    // tables were reset to the category count above, so
                    // `i` is in bounds of both.)
                    let i = usize::from(c);
                    scratch.category_weight[i] += h.weight;
                    scratch.category_phrase[i].get_or_insert((h.pattern, Counted::Unmet));
                }
            }
        }

        // Category: by meaning and phrases when the rules have examples (the
        // best score at or above the threshold), else most phrase weight
        // wins, earlier on ties.
        let by_phrase = pick(&scratch.category_weight, rules.default_category);
        // A disowning decides (below) as phrases at `decides_at` do: no
        // spelling needed either.
        let disowning = disowning_decides(&scratch.category_phrase, by_phrase.0, decides_at);
        let Some(sp) = speller.filter(|_| !spelled && by_phrase.1 < decides_at && !disowning)
        else {
            break by_phrase;
        };
        spelled = true;
        let mut out = String::new();
        if sp.correct(&subject, &mut out, &mut scratch.spell) {
            subject = out.into();
        }
        if let Some(b) = &body {
            let mut out = String::new();
            if sp.correct(b, &mut out, &mut scratch.spell) {
                body = Some(out.into());
            }
        }
        if scratch.spell.fixes.is_empty() {
            break by_phrase;
        }
        let mut detail = String::from("read ");
        for (i, f) in scratch.spell.fixes.iter().take(3).enumerate() {
            if i > 0 {
                detail.push_str(", ");
            }
            detail.push_str(&format!("\"{}\" as \"{}\"", f.written, f.read));
        }
        let more = scratch.spell.fixes.len().saturating_sub(3);
        if more > 0 {
            detail.push_str(&format!(" and {more} more"));
        }
        reasons.push(reason("spelling", 0, detail));
    };
    let scan = &scratch.scan;
    let (subject, body): (&str, Option<&str>) = (&subject, body.as_deref());
    // Sentiment and intensity, read before the category: a question leans
    // towards the rules' question category only when it reports no problem.
    // Politeness counts only without complaint.
    let sr = &rules.sentiment;
    let ic = &sr.intensity;
    let intensity = (ic.per_exclamation * scan.exclamations.min(ic.max_exclamations) as f32
        + ic.per_caps_word * scan.caps_words as f32)
        .clamp(0.0, 1.0);
    // What moved the score most, for the reason: a rules phrase or a word
    // of the lexicon.
    // The lexicon is English: other text is left to the phrases.
    let lexicon = sr.lexicon.as_ref().filter(|_| english);
    let (s_score, s_conf, neg_word, pos_word, feeling) = match lexicon {
        Some(lex) => {
            let v = lex.score(
                subject,
                body.unwrap_or(""),
                crate::sentiment::PhraseEvidence {
                    negative: neg,
                    positive: pos,
                    polite,
                    idioms: &scan.idioms,
                    // A phrase of a fault category counted as found
                    // (`[semantic] praise_excludes`: bug, outage).
                    fault: rules.semantic.as_ref().is_some_and(|sem| {
                        sem.praise_excludes.iter().any(|&c| {
                            matches!(
                                scratch.category_phrase.get(usize::from(c)),
                                Some(Some((_, Counted::Phrase | Counted::Befell(_))))
                            )
                        })
                    }),
                },
                &mut scratch.sentiment,
            );
            failed |= v.failure;
            let c = (v.compound * 100.0).round() / 100.0;
            let phrase_neg = crate::sentiment::PHRASE_VALENCE * neg;
            let neg_word = match (neg_phrase, v.most_negative) {
                (Some(p), Some((_, w))) if phrase_neg >= -w => Some(Cause::Phrase(p)),
                (_, Some((w, _))) => Some(Cause::Lexicon(w)),
                (Some(p), None) => Some(Cause::Phrase(p)),
                (None, None) => None,
            };
            let pos_word = match (pos_phrase.or(polite_phrase), v.most_positive) {
                (Some(p), _) if pos + polite > 0.0 => Some(Cause::Phrase((p, false))),
                (_, Some((w, _))) => Some(Cause::Lexicon(w)),
                _ => None,
            };
            let f = (v.feeling * 100.0).round() / 100.0;
            (c, c.abs(), neg_word, pos_word, f)
        }
        None => {
            // Politeness is happiness only in a message that asks for
            // nothing (a question mark in any language: "Könnten Sie mir
            // bitte die Rechnung senden? Vielen Dank." is a polite request).
            let asks = subject.contains('?') || body.is_some_and(|b| b.contains('?'));
            if neg == 0.0 && polite > 0.0 && !asks {
                pos += polite;
                if pos_phrase.is_none() {
                    pos_phrase = polite_phrase;
                }
            }
            let mut s_score = (pos - neg) / (pos + neg + 1.0);
            if s_score != 0.0 {
                s_score = (s_score * (1.0 + intensity)).clamp(-1.0, 1.0);
            }
            let conf = if pos + neg == 0.0 {
                0.0
            } else {
                (pos.max(neg) / (pos + neg)) * ((pos + neg) / (pos + neg + 1.0))
            };
            let s = (s_score * 100.0).round() / 100.0;
            (
                s,
                conf,
                neg_phrase.map(Cause::Phrase),
                pos_phrase.map(|p| Cause::Phrase((p, false))),
                s,
            )
        }
    };
    // An impact stated as a verb and what it hits, a few words on in
    // its clause ("affecting our sales team"): a phrase of its level.
    // (Read once the text is final: after the spelling, and after the
    // sentiment, which says whether the message reports a problem.)
    scratch.stated.clear();
    let texts = [subject, body.unwrap_or("")];
    // A deadline stated as a need and a near time ("due tomorrow",
    // "needed before the end of the day"): a phrase of its level.
    let dl = rules.deadline.as_ref();
    let dl_found = dl.and_then(|dl| Some((dl.level, deadline(rules, dl, &scan.hits, texts)?)));
    let si_found = rules
        .stated_impact
        .as_ref()
        .and_then(|si| Some((si.level, stated_impact(rules, si, &scan.hits, texts)?)));
    // Data reported lost ("the records are missing", "lost all our
    // files"): a phrase of its level, as "data loss" is.
    let loss_found = rules
        .data_loss
        .as_ref()
        .and_then(|dl| Some((dl.level, data_loss(rules, dl, &scan.hits, texts)?)));
    // A whole group named ("wrong overtime for all employees", "our whole
    // support team is idle") states the impact in a message that reports a
    // problem (it reads negative, or something failed), when no verb of
    // impact did.
    let whole_found = rules
        .stated_impact
        .as_ref()
        .filter(|_| si_found.is_none() && (failed || s_score <= sr.negative_threshold))
        .and_then(|si| Some((si.level, whole_scope(rules, si, &scan.hits, texts)?)));
    for (what, found) in [
        ("impact", si_found),
        ("deadline", dl_found),
        ("data loss", loss_found),
        ("impact", whole_found),
    ] {
        let Some((level, (v, start, end))) = found else {
            continue;
        };
        impact |= what != "deadline" && level < rules.default_severity;
        // The rules compile both levels with `severity_named`, a
        // position among the severity names: below `ns`, the length
        // the tables were reset to.
        let i = level as usize;
        scratch.severity_weight[i] += v.weight;
        scratch.severity_phrase[i].get_or_insert(v.pattern);
        // A phrase of the level inside the words stated ("nobody can"
        // in "nobody can log in", "deadline" in "a deadline on Friday")
        // is the same evidence: no second one for the grading.
        let restated = scan.hits.iter().any(|o| {
            o.in_subject == v.in_subject
                && o.start >= start
                && o.end <= end
                && picked_as(rules, o, Target::Severity(level))
        });
        if !restated && !scratch.severity_seen.contains(&(level, v.pattern)) {
            scratch.severity_seen.push((level, v.pattern));
        }
        scratch.stated.push(Stated {
            what,
            level,
            verb: v.pattern,
            in_subject: v.in_subject,
            start,
            end,
        });
    }
    // The sentence embedding, once per ticket when something needs it.
    let mut embedding_ok: Option<bool> = None;
    // The category a question or a wish leaned towards.
    let mut asked: Option<(u16, Form)> = None;
    // A customer disowning what was done ("a payment I didn't make", "I
    // don't recognize this charge") decides the category its phrase is in,
    // as phrases that reach `phrases_decide_at` do: the examples a short
    // message resembles most ("our card payment failed") name what was
    // done, not that the customer did not do it.
    let disowned = disowning_decides(&scratch.category_phrase, by_phrase.0, decides_at);
    // The examples would be read: the phrases do not decide.
    //
    // Asking phrases alone never decide: they say how the customer asks
    // ("Quick question" in the subject), not what about.
    let weights = Weights {
        phrase: &scratch.category_weight,
        asked: &scratch.asked_weight,
    };
    let form_only = weights.asked(by_phrase.0) > 0.0 && weights.topical(by_phrase.0) <= 0.0;
    let undecided = |sem: &crate::rules::Semantic| {
        (by_phrase.1 < sem.phrases_decide_at || form_only) && english && !sem.examples.is_empty()
    };
    // What a disowning decided: the examples were not read for it.
    let disowned = disowned && rules.semantic.as_ref().is_some_and(undecided);
    // A question that reports no problem ("How many users can I add?"):
    // read at most once per ticket, for the category it leans towards and
    // for the severity phrases it lowers; whether the text asks at all, once
    // too (a message that asks and wants nothing is no request by meaning).
    let (asking, calm) = (std::cell::OnceCell::new(), std::cell::OnceCell::new());
    // Whether it wishes for something: read at most once too.
    let wishing = std::cell::OnceCell::new();
    let asks_at_all = || *asking.get_or_init(|| asks([subject, body.unwrap_or("")]));
    let calm_question = || *calm.get_or_init(|| s_score > sr.negative_threshold && asks_at_all());
    let semantic = match &rules.semantic {
        Some(sem)
            if undecided(sem)
                && !disowned
                && embedded(
                    &mut embedding_ok,
                    [subject, body.unwrap_or("")],
                    (&rules.detector, &scratch.scan, &mut scratch.unread),
                    &mut scratch.embedding,
                    &mut scratch.embed,
                ) =>
        {
            // A question that reports no problem leans towards the rules'
            // question category — unless a phrase of another category names
            // what it is about ("How can I add seats?": account's "seat"):
            // the form yields to the topic, as its asking phrases do.
            let topic_named = |q: u16| {
                (0..rules.categories.len() as u16).any(|c| c != q && weights.topical(c) > 0.0)
            };
            let wishes_at_all =
                || *wishing.get_or_init(|| wishes(&sem.wish_words, [subject, body.unwrap_or("")]));
            // Its asking phrases say what kind of question it is: one that
            // asks for something new ("Could you add a Gantt view?", "Any
            // plans to support Teams?") leans towards their category, not
            // the question category. A wish that reports no problem ("It
            // would be really useful to …") leans towards the wish
            // category, and yields to a named topic as a question does.
            let form = match sem.question.filter(|_| calm_question()) {
                Some((q, bonus)) => Some(((asked_lean(weights, q), bonus), Form::Question)),
                None => sem
                    .wish
                    .filter(|_| s_score > sr.negative_threshold && !failed && wishes_at_all())
                    .map(|w| (w, Form::Wish)),
            }
            .filter(|(q, _)| !topic_named(q.0));
            asked = form.map(|(q, f)| (q.0, f));
            let question = form.map(|f| f.0);
            // A failure reported is not put in the categories of requests
            // for something new by meaning, nor a problem the customer said
            // was absent ("no suspicious logins") in its category, unless
            // a phrase of it counted.
            let excluded = &mut scratch.excluded;
            excluded.clear();
            if failed {
                excluded.extend_from_slice(&sem.failure_excludes);
            }
            // A category is excluded only where no phrase of it counted.
            let unphrased = |c: &&u16| weights.phrase(**c) == 0.0;
            // An impact stated — a severity phrase above the default level,
            // or an impact or data loss read ("calls drop for everyone in
            // our office", "300 orders are stuck") — outside a calm question
            // reports a problem: not `impact_excludes` by meaning.
            if impact && !sem.impact_excludes.is_empty() && !calm_question() {
                excluded.extend(sem.impact_excludes.iter().filter(unphrased));
            }
            // Praise or thanks that reports no failure is no fault report by
            // meaning ("Thanks, the new keyboard works perfectly"): positive,
            // with a positive or polite phrase of the rules — not a word the
            // lexicon happens to rate ("the progress bar shows 120%").
            if !failed && s_score >= sr.positive_threshold && (pos > 0.0 || polite > 0.0) {
                excluded.extend(sem.praise_excludes.iter().filter(unphrased));
            }
            excluded.extend(scratch.absent.iter().filter(unphrased));
            let pick = semantic_pick(sem, &scratch.embedding, weights, question, excluded);
            // A message that asks nothing and wants nothing (no wanting
            // word, no wish) is no request for something new, however much
            // it resembles one ("The PDF export cuts off the last column"):
            // read once more without the categories of requests — only when
            // one of them won by meaning alone.
            match pick {
                Some(n)
                    if sem.wantless_excludes.contains(&n.label)
                        && weights.phrase(n.label) == 0.0
                        && !asks_at_all()
                        && wants_nothing(&sem.wants, [subject, body.unwrap_or("")])
                        && !wishes_at_all() =>
                {
                    excluded.extend(sem.wantless_excludes.iter().filter(unphrased));
                    semantic_pick(sem, &scratch.embedding, weights, question, excluded)
                }
                _ => pick,
            }
        }
        _ => None,
    };
    // Chosen by meaning, the category is as sure as its lead over the
    // runner-up — a near tie between an outage example and an account
    // example ("update info on my pro account") is no sure outage; when its
    // own phrases won too, the two are separate evidence, and it is unsure
    // only as far as both are (at the same lead, a choice its phrases back
    // is right more often).
    let (mut category, cat_conf) = match (&semantic, &rules.semantic) {
        (Some(n), Some(sem)) => {
            let by_lead = lead_confidence(sem, n);
            let sure = if n.label == by_phrase.0 {
                1.0 - (1.0 - by_lead) * (1.0 - by_phrase.1)
            } else {
                by_lead
            };
            (n.label, sure)
        }
        // Disowned, the phrases decided as phrases at `phrases_decide_at`
        // do, and are as sure.
        _ if disowned => (by_phrase.0, by_phrase.1.max(decides_at)),
        _ => by_phrase,
    };
    let mut verdicts = vec![];
    let text_for_models = if rules.models.category.is_some()
        || rules.models.severity.is_some()
        || rules.models.queue.is_some()
        || rules.models.priority.is_some()
    {
        let t = &mut scratch.text;
        t.clear();
        t.push_str(&subject_read);
        if let Some(b) = &own {
            t.push(' ');
            t.push_str(b);
        }
        Some(&*t)
    } else {
        None
    };
    // The category's first phrase as the reason names it.
    let named = |d: Detail, (p, t): (u32, Counted)| {
        let d = d
            .s(match t {
                Counted::Phrase | Counted::Befell(_) => "phrase \"",
                Counted::Negated => "negated phrase \"",
                Counted::DisownedAction => "disowned action \"",
                Counted::Disowned => "disowned phrase \"",
                Counted::Stranger => "stranger \"",
                Counted::Unmet => "unmet for a whole group \"",
            })
            .s(rules.detector.phrase(p))
            .s("\"");
        match t {
            Counted::Befell(o) => d.s(" said of \"").s(rules.detector.phrase(o)).s("\""),
            _ => d,
        }
    };
    // Chosen by meaning alone (no phrase of it in the text), a category
    // earns its points as far as it is sure of it; its phrases found, all of
    // them.
    let own = rules.categories[category as usize].points;
    let mut sure_points = semantic
        .as_ref()
        .filter(|_| scratch.category_phrase[category as usize].is_none())
        .map(|_| (own as f32 * cat_conf).round() as i64)
        .filter(|&p| p != own);
    let mut cat_detail = match (&semantic, scratch.category_phrase[category as usize]) {
        (Some(n), p) => {
            let mut d = Detail::new()
                .s(&rules.categories[category as usize].name)
                .s(" (");
            match asked {
                Some((c, Form::Question)) if c == category => {
                    d = d.s("a question reporting no problem; ");
                }
                Some((c, Form::Wish)) if c == category => {
                    d = d.s("a wish reporting no problem; ");
                }
                _ => {}
            }
            if let Some(p) = p {
                d = named(d, p).s("; ");
            }
            d = d
                .s("resembles the example \"")
                .s(&n.example)
                .s("\" ")
                .f(f64::from(n.cosine), 2)
                .s(", confidence ")
                .f(f64::from(cat_conf), 2);
            if let Some(p) = sure_points {
                d = d.s(": ").i(p).s(" of its ").i(own).s(" points");
            }
            d.s(")").done()
        }
        (None, Some(p)) => named(
            Detail::new()
                .s(&rules.categories[category as usize].name)
                .s(" ("),
            p,
        )
        .s(", confidence ")
        .f(f64::from(cat_conf), 2)
        .s(")")
        .done(),
        (None, None) => concat(&[
            &rules.categories[category as usize].name,
            " (no category phrase found)",
        ]),
    };
    let mut cat_conf_used = cat_conf;
    if let (Some(m), Some(text)) = (&rules.models.category, text_for_models) {
        let (v, idx) = consult(m, "category", text, &mut reasons);
        if v.applied {
            // The model's category earns all its points.
            sure_points = None;
            category = idx;
            cat_conf_used = v.confidence;
            cat_detail = format!("{} (model, confidence {:.2})", v.label, v.confidence);
        }
        verdicts.push(v);
    }
    let cat = &rules.categories[category as usize];
    let cat_points = sure_points.unwrap_or(cat.points);
    reasons.push(reason("category", cat_points, cat_detail));

    // A question that reports no problem names no impact of its own ("How
    // many users can I add?", "Is there a deadline for the upgrade?"): its
    // severity phrases above the default level count as cues do, a level
    // down.
    let dl = usize::from(rules.default_severity).min(ns);
    // `dl <= ns`, the length every severity table was reset to above: `i`
    // indexes them all.
    let calm_question = scratch.severity_weight[..dl].iter().any(|&w| w > 0.0) && calm_question();
    if calm_question {
        for i in 0..dl {
            let w = std::mem::take(&mut scratch.severity_weight[i]);
            if w > 0.0 {
                scratch.severity_cue[i] += w;
                if let Some(p) = scratch.severity_phrase[i].take() {
                    scratch.severity_cue_phrase[i].get_or_insert(p);
                }
            }
        }
    }
    // Severity: cues count for their level when a phrase of that level or a
    // more severe one, or a second distinct cue of it, backs them, else one
    // level down; then most weight wins, more severe on ties.
    for i in 0..ns {
        let w = scratch.severity_cue[i];
        if w == 0.0 {
            continue;
        }
        // Backed by a phrase of this level or a more severe one, or by
        // another cue of this level ("urgent … critical"), but not in a calm
        // question.
        let backed = scratch.severity_weight[..=i].iter().any(|&x| x > 0.0)
            || (!calm_question
                && scratch
                    .severity_seen
                    .iter()
                    .filter(|&&(l, _)| usize::from(l) == i)
                    .count()
                    >= 2);
        let to = if backed || i + 1 == ns { i } else { i + 1 };
        scratch.severity_weight[to] += w;
        if scratch.severity_phrase[to].is_none() {
            scratch.severity_phrase[to] = scratch.severity_cue_phrase[i];
            scratch.severity_phrase_lowered[to] = to != i;
        }
    }
    // No severity phrase: the levels' examples, by meaning.
    let mut by_example: Option<(Arc<str>, f32)> = None;
    if let Some(sem) = &rules.semantic {
        if english
            && !sem.severity_examples.is_empty()
            && scratch.severity_weight.iter().all(|&w| w == 0.0)
            && embedded(
                &mut embedding_ok,
                [subject, body.unwrap_or("")],
                (&rules.detector, &scratch.scan, &mut scratch.unread),
                &mut scratch.embedding,
                &mut scratch.embed,
            )
        {
            if let Some(n) = nearest_examples(&sem.severity_examples, &scratch.embedding, |_| 0.0)
                .filter(|b| b.score >= sem.severity_threshold)
            {
                scratch.severity_weight[n.label as usize] = 1.0;
                by_example = Some((n.example, n.score));
            }
        }
    }
    let (mut severity, mut sev_conf) = pick(&scratch.severity_weight, rules.default_severity);
    if let Some((_, sim)) = &by_example {
        sev_conf = sim.clamp(0.0, 1.0);
    }
    let mut sev_detail = match scratch.severity_phrase[severity as usize] {
        None if by_example.is_some() => {
            let (example, sim) = by_example.as_ref().expect("checked");
            format!(
                "{} (resembles the example \"{}\" {:.2})",
                rules.severities[severity as usize].name, example, sim
            )
        }
        Some(p) if scratch.severity_phrase_lowered[severity as usize] => concat(&[
            &rules.severities[severity as usize].name,
            " (\"",
            rules.detector.phrase(p),
            if calm_question {
                "\" in a question reporting no problem, a level down)"
            } else {
                "\" alone, a level down: nothing else in the text backs it)"
            },
        ]),
        // A stated impact or deadline is quoted as the customer wrote it.
        Some(p)
            if let Some(st) = scratch
                .stated
                .iter()
                .find(|st| (st.level, st.verb) == (severity, p)) =>
        {
            let text = if st.in_subject {
                subject
            } else {
                body.unwrap_or("")
            };
            let words = text.get(st.start as usize..st.end as usize).unwrap_or("");
            Detail::new()
                .s(&rules.severities[severity as usize].name)
                .s(" (")
                .s(st.what)
                .s(" stated: \"")
                .excerpt(words, "")
                .s("\")")
                .done()
        }
        Some(p) => concat(&[
            &rules.severities[severity as usize].name,
            " (phrase \"",
            rules.detector.phrase(p),
            "\")",
        ]),
        None => concat(&[
            &rules.severities[severity as usize].name,
            " (default; no severity phrase found)",
        ]),
    };
    if let (Some(m), Some(text)) = (&rules.models.severity, text_for_models) {
        let (v, idx) = consult(m, "severity", text, &mut reasons);
        if v.applied {
            severity = idx;
            sev_detail = format!("{} (model, confidence {:.2})", v.label, v.confidence);
        }
        verdicts.push(v);
    }
    reasons.push(reason(
        "severity",
        rules.severities[severity as usize].points,
        sev_detail,
    ));
    // Graded urgency: more distinct evidence above the default severity
    // ranks higher.
    let g = &rules.severity_grading;
    if g.per_extra_phrase != 0 && severity < rules.default_severity {
        // Distinct phrases: the forms of one phrase ("urgent", "urgently")
        // are patterns of their own but one phrase, wherever they stand.
        let mut more: Vec<&str> = Vec::with_capacity(scratch.severity_seen.len());
        for &(l, p) in &scratch.severity_seen {
            let phrase = rules.detector.phrase(p);
            if l < rules.default_severity && !more.contains(&phrase) {
                more.push(phrase);
            }
        }
        if more.len() > 1 {
            let raw = g.per_extra_phrase.saturating_mul(more.len() as i64 - 1);
            let p = if g.max > 0 { raw.min(g.max) } else { raw };
            let mut detail = format!("{} impact or urgency phrases: ", more.len());
            for (i, m) in more.iter().enumerate() {
                if i > 0 {
                    detail.push_str(", ");
                }
                detail.push('"');
                detail.push_str(m);
                detail.push('"');
            }
            if raw > p {
                detail.push_str(" (capped)");
            }
            reasons.push(reason("urgency", p, detail));
        }
    }

    let label_of = |s: f32| {
        if s <= sr.negative_threshold {
            SentimentLabel::Negative
        } else if s >= sr.positive_threshold {
            SentimentLabel::Positive
        } else {
            SentimentLabel::Neutral
        }
    };
    let label = label_of(s_score);
    // Points and intensity follow the customer's feeling: a problem named
    // ("error", "crash") makes the message negative, not the customer upset.
    let felt = label_of(feeling);
    // The words a sentiment pull quotes, from the text the lexicon read.
    let quoted = |d: Detail, q: crate::sentiment::Quote| {
        let (a, b) = q.words(subject, body.unwrap_or(""));
        d.excerpt(a, b).s("\")")
    };
    let cause = |d: Detail, c: Cause<'_>| match c {
        Cause::Phrase((p, negated)) => {
            d.s("\"")
                .s(rules.detector.phrase(p))
                .s(if negated { "\", negated" } else { "\"" })
        }
        Cause::Lexicon(crate::sentiment::Pull::Word(w)) => d.s("\"").s(w).s("\" in the lexicon"),
        Cause::Lexicon(crate::sentiment::Pull::NegatedAction(q)) => {
            quoted(d.s("a negated action (\""), q)
        }
        Cause::Lexicon(crate::sentiment::Pull::Excess(q)) => quoted(d.s("an excess (\""), q),
        Cause::Lexicon(crate::sentiment::Pull::Unmet(q)) => {
            quoted(d.s("an expectation not met (\""), q)
        }
        Cause::Lexicon(crate::sentiment::Pull::Recurrence(q)) => quoted(d.s("a recurrence (\""), q),
        Cause::Lexicon(crate::sentiment::Pull::Sarcasm(q)) => quoted(d.s("sarcasm (\""), q),
        Cause::Lexicon(crate::sentiment::Pull::Degree(q)) => {
            quoted(d.s("a word of the lexicon with its degree (\""), q)
        }
    };
    let d = Detail::new()
        .s(label.as_str())
        .s(" (")
        .f(f64::from(s_score), 2);
    let mut d = match (label, neg_word, pos_word) {
        (SentimentLabel::Negative, Some(c), _) | (SentimentLabel::Positive, _, Some(c)) => {
            cause(d.s("; "), c).s(")")
        }
        _ => d.s(")"),
    };
    if felt != label {
        d = d
            .s(", the problem named, not a feeling: points as ")
            .s(felt.as_str());
    }
    let s_detail = d.done();
    reasons.push(reason("sentiment", sr.points[felt as usize], s_detail));
    if felt == SentimentLabel::Negative && ic.points != 0 && intensity > 0.0 {
        let p = (intensity * ic.points as f32).round() as i64;
        if p != 0 {
            reasons.push(reason(
                "intensity",
                p,
                format!(
                    "intensity {:.2} ({} exclamation marks, {} words in capitals)",
                    intensity, scan.exclamations, scan.caps_words
                ),
            ));
        }
    }

    // Reported priority, impact, age.
    if let Some(rp) = ticket.reported_priority {
        let p = rules.reported_priority[rp as usize];
        if p != 0 {
            reasons.push(reason(
                "reported_priority",
                p,
                concat(&["reported_priority=", rp.as_str()]),
            ));
        }
    }
    let impact_points = |n: u64| {
        let raw = (rules.impact.per_decade * (n as f64).log10()).round() as i64;
        (raw, raw.min(rules.impact.max).max(0))
    };
    if let Some(n) = ticket.affected_users.filter(|&n| n >= 1) {
        let (raw, p) = impact_points(n);
        if p != 0 {
            reasons.push(reason(
                "impact",
                p,
                Detail::new()
                    .s("affected_users=")
                    .u(n)
                    .s(if raw > p { " (capped)" } else { "" })
                    .done(),
            ));
        }
    } else if ticket.affected_users.is_none()
        && rules.impact.from_text
        && (severity < rules.default_severity || felt == SentimentLabel::Negative)
    {
        let texts = [subject, body.unwrap_or("")];
        if let Some(named) = crate::people::named_count(&texts, &rules.impact.people) {
            let (raw, p) = impact_points(named.count);
            if p != 0 {
                reasons.push(reason(
                    "impact",
                    p,
                    format!(
                        "{} people named in the text (\"{}\"; no affected_users){}",
                        named.count,
                        named.words,
                        if raw > p { " (capped)" } else { "" }
                    ),
                ));
            }
        }
    }
    let age = now.duration_since(ticket.created_at);
    let age_hours = (age.as_secs_f64() / 3600.0).max(0.0);
    if rules.ageing.points_per_hour > 0.0 {
        let raw = (age_hours * rules.ageing.points_per_hour).floor() as i64;
        let p = raw.min(rules.ageing.max).max(0);
        if p != 0 {
            reasons.push(reason(
                "age",
                p,
                Detail::new()
                    .s("waiting ")
                    .f(age_hours, 1)
                    .s(if raw > p { " h (capped)" } else { " h" })
                    .done(),
            ));
        }
    }

    // Conditions.
    let sentiment = label;
    let mut facts = Facts {
        ticket,
        segment: &segment,
        customer_known: known,
        category,
        severity,
        sentiment,
        phrase_found: &scratch.phrase_found,
        text_language: language,
        language_covered: covered,
        automatic: automatic.is_some(),
        category_confidence: cat_conf_used,
        age_hours,
        score: None,
        priority: None,
    };
    for c in &rules.conditions {
        if c.cond.holds(&facts) {
            reasons.push(reason("condition", c.points, String::from(&*c.name)));
        }
    }

    // Level from the score, then overrides.
    let score: i64 = reasons.iter().map(|r| r.points).sum();
    let mut level = rules
        .levels
        .iter()
        .position(|l| l.min_score.is_none_or(|m| score >= m))
        .unwrap_or(rules.levels.len() - 1) as u16;
    if let (Some(m), Some(text)) = (&rules.models.priority, text_for_models) {
        let (v, idx) = consult(m, "priority", text, &mut reasons);
        if v.applied {
            reasons.push(reason(
                "model",
                0,
                format!(
                    "priority model: {} → {} (confidence {:.2})",
                    rules.levels[level as usize].name, v.label, v.confidence
                ),
            ));
            level = idx;
        }
        verdicts.push(v);
    }
    facts.score = Some(score);
    for o in &rules.overrides {
        if !o.cond.holds(&facts) {
            continue;
        }
        let before = level;
        let (kind, to) = match o.action {
            Action::Set(l) => ("set", l),
            Action::Floor(l) => ("floor", level.min(l)),
            Action::Ceiling(l) => ("ceiling", level.max(l)),
        };
        level = to;
        let target = match o.action {
            Action::Set(l) | Action::Floor(l) | Action::Ceiling(l) => l,
        };
        reasons.push(reason(
            "override",
            0,
            if before == level {
                concat(&[
                    &o.name,
                    ": ",
                    kind,
                    " ",
                    &rules.levels[target as usize].name,
                    " (no change)",
                ])
            } else {
                concat(&[
                    &o.name,
                    ": ",
                    kind,
                    " ",
                    &rules.levels[target as usize].name,
                    " (",
                    &rules.levels[before as usize].name,
                    " → ",
                    &rules.levels[level as usize].name,
                    ")",
                ])
            },
        ));
        if matches!(o.action, Action::Set(_)) {
            break;
        }
    }

    // Routing.
    facts.priority = Some(level);
    let mut queue = rules
        .queues
        .iter()
        .find(|(c, _)| c.holds(&facts))
        .map(|(_, q)| q.clone())
        .unwrap_or_else(|| rules.default_queue.clone());
    if let (Some(m), Some(text)) = (&rules.models.queue, text_for_models) {
        let (v, _) = consult(m, "queue", text, &mut reasons);
        if v.applied {
            queue = v.label.clone();
        }
        verdicts.push(v);
    }
    let tier = rules
        .tiers
        .iter()
        .find(|(c, _)| c.holds(&facts))
        .map(|(_, t)| t.clone())
        .unwrap_or_else(|| rules.default_tier.clone());

    // SLA.
    let plan_policy = rules
        .by_plan
        .get(&segment.support_plan)
        .copied()
        .unwrap_or(rules.default_policy);
    let policy_idx = match &segment.sla_policy {
        Some(name) => match rules.policies.iter().position(|p| p.name == *name) {
            Some(i) => i,
            None => {
                reasons.push(reason(
                    "sla",
                    0,
                    format!(
                        "contract policy \"{name}\" is not in the rules; used \"{}\"",
                        rules.policies[plan_policy].name
                    ),
                ));
                plan_policy
            }
        },
        None => plan_policy,
    };
    let policy = &rules.policies[policy_idx];
    let calendar = &rules.calendars[policy.calendar];
    let zone = calendar.zone(customer.and_then(|p| p.tz.as_ref()));
    let (fr, rs) = policy.targets[level as usize];
    let mut due = |target: SignedDuration, what: &str| -> Timestamp {
        calendar
            .add(ticket.created_at, target, &zone)
            .unwrap_or_else(|e| {
                reasons.push(reason(
                    "sla",
                    0,
                    format!(
                        "{what} due computed on 24x7: calendar {}: {e}",
                        calendar.name()
                    ),
                ));
                ticket
                    .created_at
                    .saturating_add(target)
                    .unwrap_or(ticket.created_at)
            })
    };
    let first_response_due = due(fr, "first response");
    let resolution_due = due(rs, "resolution");
    let sla = SlaStamp {
        policy: policy.name.clone(),
        calendar: Arc::from(calendar.name()),
        timezone: Arc::from(zone.iana_name().unwrap_or("UTC")),
        first_response_due,
        resolution_due,
        first_response_target_seconds: fr.as_secs(),
        resolution_target_seconds: rs.as_secs(),
    };

    let triage = Triage {
        priority: rules.levels[level as usize].name.clone(),
        score,
        category: rules.categories[category as usize].name.clone(),
        severity: rules.severities[severity as usize].name.clone(),
        sentiment: Sentiment {
            label,
            score: s_score,
        },
        confidence: Confidence {
            category: round2(cat_conf),
            severity: round2(sev_conf),
            sentiment: round2(s_conf),
        },
        models: verdicts,
        customer_known: known,
        segment,
        queue,
        tier,
        sla,
        reasons,
        rules_version: rules.version.clone(),
        triaged_at: now,
        language,
    };
    Decision {
        triage,
        level,
        category,
        calendar: policy.calendar,
        zone,
    }
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

fn reset<T: Clone>(v: &mut Vec<T>, n: usize, x: T) {
    v.clear();
    v.resize(n, x);
}

/// The index with the most weight (earliest on ties) and a confidence: its
/// share of all weight times a saturation w/(w+1); `default` when nothing.
/// True when the phrases' winner `category` won with a disowned phrase or
/// action among its phrases (`first` phrase per category names one then),
/// so that it decides as phrases at `decides_at` do — not when the rules
/// consult the examples always (`decides_at` 1).
fn disowning_decides(first: &[Option<(u32, Counted)>], category: u16, decides_at: f32) -> bool {
    decides_at < 1.0
        && first
            .get(usize::from(category))
            .is_some_and(|f| f.is_some_and(|(_, c)| c.disowns()))
}

fn pick(weights: &[f32], default: u16) -> (u16, f32) {
    let total: f32 = weights.iter().sum();
    if total == 0.0 {
        return (default, 0.0);
    }
    let mut best = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > weights[best] {
            best = i;
        }
    }
    let w = weights[best];
    (best as u16, (w / total) * (w / (w + 1.0)))
}

/// Asks a model; records what it said in `reasons` and returns its verdict
/// and the field index of its label.
fn consult(
    m: &ModelRule,
    field: &'static str,
    text: &str,
    reasons: &mut Vec<Reason>,
) -> (ModelVerdict, u16) {
    let p = m.model.predict(text);
    let applied = p.confidence >= m.auto_apply_confidence;
    let alternatives: Vec<String> = p
        .alternatives
        .iter()
        .map(|&(i, c)| format!("{} {:.2}", m.labels[i], c))
        .collect();
    reasons.push(reason(
        "model",
        0,
        format!(
            "{field} model {} {} (confidence {:.2} {} {:.2}; top: {})",
            if applied { "decided" } else { "suggests" },
            m.labels[p.label],
            p.confidence,
            if applied { ">=" } else { "<" },
            m.auto_apply_confidence,
            alternatives.join(", ")
        ),
    ));
    let verdict = ModelVerdict {
        field,
        label: m.labels[p.label].clone(),
        confidence: round2(p.confidence),
        applied,
        alternatives: p
            .alternatives
            .iter()
            .map(|&(i, c)| (m.labels[i].clone(), round2(c)))
            .collect(),
    };
    (verdict, m.index.get(p.label).copied().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_is_a_question_mark_or_an_opening_question_word() {
        assert!(asks(["", "How do I export a report?"]));
        assert!(asks(["Can guests see archived projects", ""]));
        assert!(asks(["Export", "  what's the limit"]));
        assert!(asks(["Export", "It fails. Any idea why?"]));
        assert!(!asks(["Export fails", "It crashes every time."]));
        assert!(!asks(["", "Showcase: how we use it"]));
        assert!(asks(["", "When will the fix ship"]));
        assert!(asks(["", "Which browsers do you support"]));
        assert!(!asks([
            "",
            "When I paste text from Word the formatting is garbled."
        ]));
        assert!(!asks(["", "What the app shows is last week's data."]));
        assert!(asks(["", "How we can export reports"]));
        // A modal before "be", "love", "not", … opens a statement whose
        // subject is left out; before a subject it asks.
        assert!(!asks(["", "Would be cool if I could pin chats"]));
        assert!(!asks(["", "Would love a dark mode"]));
        assert!(!asks(["", "Can't log in since Monday"]));
        assert!(!asks(["", "Does not load for me"]));
        assert!(asks(["", "Would it be possible to pin chats"]));
        assert!(asks(["", "Is there a dark mode"]));
        assert!(asks(["", "Can admins see archived projects"]));
    }

    #[test]
    fn a_question_leans_to_the_category_its_asking_phrases_name() {
        // Categories 0 (how_to, the question category), 1, 2.
        let phrase = [1.0, 0.0, 1.0];
        let lean = |asked: [f32; 3]| {
            asked_lean(
                Weights {
                    phrase: &phrase,
                    asked: &asked,
                },
                0,
            )
        };
        // No asking phrase, or only the question category's own: it stays.
        assert_eq!(lean([0.0, 0.0, 0.0]), 0);
        assert_eq!(lean([2.0, 0.0, 0.0]), 0);
        // Another category's asking phrase names the kind of question, even
        // beside the question category's own ("Question" in the subject).
        assert_eq!(lean([2.0, 0.0, 1.0]), 2);
        // Of two others, the one weighing most; the earlier on a tie.
        assert_eq!(lean([0.0, 1.0, 2.0]), 2);
        assert_eq!(lean([0.0, 1.0, 1.0]), 1);
    }

    #[test]
    fn a_wish_is_a_modal_before_a_word_of_benefit() {
        let words: crate::rules::WordSet = ["useful", "love", "nice", "save"]
            .iter()
            .flat_map(|w| crate::text::word_forms(w))
            .map(String::into_boxed_str)
            .collect();
        let wish = |t: &str| wishes(&words, ["", t]);
        assert!(wish("It would be really useful to tag tasks by client."));
        assert!(wish("We'd love a dark mode."));
        assert!(wish("It'd be nice to have keyboard shortcuts."));
        assert!(wish("Scheduling posts would save us hours every week."));
        assert!(wishes(&words, ["Would be NICE", ""]));
        // Negated, too far on, or no modal: no wish.
        assert!(!wish("It would not be nice to lose the data."));
        assert!(!wish("It wouldn't be nice."));
        assert!(!wish(
            "It would take us a week and a half to find it useful."
        ));
        assert!(!wish("The export is useful but slow."));
        assert!(!wish("We love the new editor."));
        // A modal that reaches no word of benefit resets at the next one.
        assert!(wish("You could ask, but it would be useful."));
    }

    #[test]
    fn a_message_wants_nothing_without_any_form_of_a_wanting_word() {
        let words: crate::rules::WordSet = ["suggest", "option", "would"]
            .iter()
            .flat_map(|w| crate::text::word_forms(w))
            .map(String::into_boxed_str)
            .collect();
        assert!(!wants_nothing(&words, ["Idea", "I SUGGESTED this before"]));
        assert!(!wants_nothing(
            &words,
            ["", "More options for the export, please."]
        ));
        assert!(!wants_nothing(&words, ["", "It would help us."]));
        assert!(wants_nothing(
            &words,
            ["Export", "The PDF export cuts off the last column."]
        ));
        assert!(wants_nothing(&words, ["", "The page shows no choices."]));
        // Too few words to tell.
        assert!(!wants_nothing(&words, ["", "Supported browsers"]));
    }
    use crate::codec::json::decode_ticket;
    use crate::model::Customer;

    const RULES: &str = r#"
version = "t"
[[levels]]
name = "P1"
min_score = 50
topic = "p1"
[[levels]]
name = "P2"
min_score = 20
topic = "p2"
[[levels]]
name = "P3"
topic = "p3"

[customer]
vip = 10
account_type = { enterprise = 15 }

[[categories]]
name = "outage"
points = 30
phrases = ["down", "outage"]
[[categories]]
name = "billing"
points = 5
phrases = ["invoice"]

[sentiment]
negative = ["angry"]
positive = ["thanks"]
expectations = ["working"]
negators = ["not"]
points = { negative = 7 }

[ageing]
points_per_hour = 1.0
max = 5

[[overrides]]
name = "test tickets"
when = { tags_any = ["test"] }
set = "P3"
[[overrides]]
name = "billing at most P2"
when = { category = "billing" }
ceiling = "P2"

[[routing.queues]]
when = { category = "billing" }
queue = "billing"
[[routing.tiers]]
when = { priority = "P1" }
tier = "L3"

[sla]
default_policy = "std"
[sla.policies.std]
targets.P1 = { first_response = "1h", resolution = "4h" }
targets.P2 = { first_response = "4h", resolution = "1d" }
targets.P3 = { first_response = "1d", resolution = "3d" }
"#;

    fn rules() -> Rules {
        Rules::from_str("t.toml", RULES)
            .expect("rules compile")
            .rules
    }

    /// The shipped rules file, as written.
    const SHIPPED: &str = include_str!("../../../config/rules.toml");

    /// `src` (the shipped rules, or a variant of them) compiled.
    fn shipped_with(src: &str) -> Rules {
        Rules::from_str("rules.toml", src)
            .expect("the shipped rules compile")
            .rules
    }

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    fn run(json: &str, customer: Option<&Customer>) -> Triage {
        let d = decode_ticket(json.as_bytes()).unwrap();
        let p = customer.map(Profile::from_customer);
        triage(&rules(), &d.ticket, p.as_ref(), now())
    }

    /// `src` with `insert` before the first `before`, compiled.
    fn rules_with(src: &str, before: &str, insert: &str) -> Rules {
        let src = src.replacen(before, &format!("{insert}{before}"), 1);
        Rules::from_str("t.toml", &src)
            .expect("rules compile")
            .rules
    }

    /// An unknown customer's ticket with this subject and body, under `rules`.
    fn run_with(rules: &Rules, subject: &str, body: &str) -> Triage {
        let json = format!(
            r#"{{"ticket_id":"T","customer_id":"C","created_at":"2026-11-24T09:00:00Z","subject":"{subject}","body":"{body}"}}"#
        );
        let d = decode_ticket(json.as_bytes()).unwrap();
        triage(rules, &d.ticket, None, now())
    }

    fn ticket(subject: &str, extra: &str) -> String {
        format!(
            r#"{{"ticket_id":"T","customer_id":"C","created_at":"2026-11-24T09:00:00Z","subject":"{subject}"{extra}}}"#
        )
    }

    #[test]
    fn reasons_sum_to_score_and_pick_level() {
        let c = Customer {
            customer_id: "C".into(),
            account_type: Some("enterprise".into()),
            vip: true,
            ..Customer::default()
        };
        let t = run(&ticket("Site is down and I am angry", ""), Some(&c));
        let sum: i64 = t.reasons.iter().map(|r| r.points).sum();
        assert_eq!(sum, t.score);
        // enterprise 15 + vip 10 + outage 30 + negative 7 + age 3 (3 h) = 65.
        assert_eq!(t.score, 65);
        assert_eq!(&*t.priority, "P1");
        assert_eq!(&*t.tier, "L3");
        assert!(t.customer_known);
        assert_eq!(&*t.sla.policy, "std");
        assert_eq!(t.sla.first_response_due.to_string(), "2026-11-24T10:00:00Z");
        assert_eq!(t.sla.resolution_due.to_string(), "2026-11-24T13:00:00Z");
    }

    #[test]
    fn unknown_customer_uses_default_segment() {
        let t = run(&ticket("hello", ""), None);
        assert!(!t.customer_known);
        assert_eq!(&*t.segment.account_type, "unknown");
        assert_eq!(t.reasons[0].factor, "customer");
        assert_eq!(&*t.category, "other");
        assert_eq!(
            t.reasons[0].detail,
            "customer C not in the table: default segment"
        );
        // A sender's id of any length is quoted within the excerpt's bound.
        let long = format!("C-{}", "x".repeat(5000));
        let json = ticket("hello", "").replace(
            r#""customer_id":"C""#,
            &format!(r#""customer_id":"{long}""#),
        );
        let t = run(&json, None);
        let shown = format!("C-{}…", "x".repeat(crate::detail::EXCERPT_CHARS - 2));
        assert_eq!(
            t.reasons[0].detail,
            format!("customer {shown} not in the table: default segment")
        );
    }

    #[test]
    fn negated_expectation_is_negative() {
        let t = run(&ticket("export not working", ""), None);
        assert_eq!(t.sentiment.label, SentimentLabel::Negative);
        let t = run(&ticket("export working, thanks", ""), None);
        assert_eq!(t.sentiment.label, SentimentLabel::Positive);
    }

    #[test]
    fn shipped_rules_read_support_messages() {
        let rules = shipped_with(SHIPPED);
        let cases = [
            // (body, expected label, what the reason names)
            (
                "good agent, couldn't fix it ... false advertising much?",
                SentimentLabel::Negative,
                "false advertising",
            ),
            (
                "Hi, could you please help me export last month's report? Thanks!",
                SentimentLabel::Neutral,
                "neutral",
            ),
            (
                "Great, another outage. Third time this week.",
                SentimentLabel::Negative,
                "third time",
            ),
            (
                "The fix works perfectly, thank you so much :)",
                SentimentLabel::Positive,
                "works perfectly",
            ),
            (
                "The export doesn't finish and the page never refreshes.",
                SentimentLabel::Negative,
                "a negated action (\"doesn't finish\")",
            ),
            (
                "It would be nice to have dark mode.",
                SentimentLabel::Neutral,
                "neutral",
            ),
            (
                "The new dashboard is really easy to use, nice work",
                SentimentLabel::Positive,
                "in the lexicon",
            ),
            // "nice" keeps its rating although "nice to have" is a
            // severity phrase; "legal" in "legal action" does not.
            (
                "The new calendar view is nice",
                SentimentLabel::Positive,
                "\"nice\" in the lexicon",
            ),
            (
                "Our legal team asked for a copy of the contract.",
                SentimentLabel::Neutral,
                "neutral",
            ),
            // A sign-off is no praise; "the best" is.
            (
                "Please send the March invoice again.\n\nBest regards,\nJane Doe",
                SentimentLabel::Neutral,
                "neutral",
            ),
            (
                "Please send the March invoice again.\n\nBest,\nJane",
                SentimentLabel::Neutral,
                "neutral",
            ),
            (
                "Your support team is the best",
                SentimentLabel::Positive,
                "\"best\" in the lexicon",
            ),
            (
                "The new report looks good, I think.",
                SentimentLabel::Positive,
                "\"good\" in the lexicon",
            ),
        ];
        for (body, want, named) in cases {
            let json = serde_json::json!({
                "ticket_id": "T", "customer_id": "C", "created_at": "2026-11-24T09:00:00Z",
                "subject": "", "body": body,
            })
            .to_string();
            let d = decode_ticket(json.as_bytes()).unwrap();
            let t = triage(&rules, &d.ticket, None, now());
            let detail = &t
                .reasons
                .iter()
                .find(|r| r.factor == "sentiment")
                .unwrap()
                .detail;
            assert_eq!(t.sentiment.label, want, "{body}: {detail}");
            assert!(detail.contains(named), "{body}: {detail}");
        }
    }

    #[test]
    fn shipped_rules_read_mistyped_words_and_named_problems() {
        let rules = shipped_with(SHIPPED);
        let run = |body: &str| {
            let json = serde_json::json!({
                "ticket_id": "T", "customer_id": "C", "created_at": "2026-11-24T09:00:00Z",
                "subject": "", "body": body,
            })
            .to_string();
            let d = decode_ticket(json.as_bytes()).unwrap();
            triage(&rules, &d.ticket, None, now())
        };
        let detail = |t: &Triage, f: &str| {
            t.reasons
                .iter()
                .find(|r| r.factor == f)
                .map(|r| (r.points, r.detail.to_string()))
        };
        // A typo hides the phrase; read as meant, and said so.
        let t = run("wher is my inovice for octobr");
        assert_eq!(&*t.category, "billing");
        assert_eq!(
            detail(&t, "spelling"),
            Some((0, "read \"inovice\" as \"invoice\"".to_string()))
        );
        // The output keeps the text as written; a clear ticket is not respelled.
        let t = run("The invoice total is wrong, we were charged twice.");
        assert_eq!(detail(&t, "spelling"), None);
        // A named problem makes the message negative without the points of
        // an upset customer.
        let t = run("The report shows an error when I open it.");
        assert_eq!(t.sentiment.label, SentimentLabel::Negative);
        let (points, d) = detail(&t, "sentiment").unwrap();
        assert_eq!(points, 0, "{d}");
        assert!(d.contains("not a feeling"), "{d}");
    }

    #[test]
    fn text_in_a_language_the_rules_do_not_read_is_flagged_and_routable() {
        let src = RULES.to_string()
            + r#"
[language]
covered = ["en", "de"]
uncovered_points = 7

[[conditions]]
name = "Polish text"
when = { text_language = "pl" }
points = 1
"#;
        let rules = rules_with(
            &src,
            "[[routing.queues]]\n",
            "[[routing.queues]]\nwhen = { language_covered = false }\nqueue = \"intl\"\n",
        );
        let triage = |subject: &str, body: &str| run_with(&rules, subject, body);
        let pl = triage(
            "Problem z logowaniem",
            "Dzień dobry, od rana nie mogę zalogować się do panelu, system pokazuje błąd serwera przy każdej próbie.",
        );
        assert_eq!(pl.language, Some("pl"));
        let flag = pl.reasons.iter().find(|r| r.factor == "language").unwrap();
        assert_eq!(flag.points, 7);
        assert_eq!(
            flag.detail,
            "text in pl, a language the rules do not read (they read en, de)"
        );
        assert!(pl.reasons.iter().any(|r| r.detail == "Polish text"));
        assert_eq!(&*pl.queue, "intl");
        assert_eq!(pl.reasons.iter().map(|r| r.points).sum::<i64>(), pl.score);

        // German is read: no flag; English and too-short text neither.
        let de = triage(
            "Anmeldung",
            "Seit heute Morgen können wir uns nicht mehr anmelden, bitte helfen Sie uns.",
        );
        assert_eq!(de.language, Some("de"));
        let en = triage(
            "Login",
            "Since this morning we cannot log in to the dashboard.",
        );
        assert_eq!(en.language, Some("en"));
        let short = triage("Invoice", "");
        assert_eq!(short.language, None);
        for t in [&de, &en, &short] {
            assert!(t.reasons.iter().all(|r| r.factor != "language"));
            assert_ne!(&*t.queue, "intl");
        }
    }

    #[test]
    fn a_negated_phrase_counts_only_negated_and_says_so() {
        let rules = rules_with(
            RULES,
            "\n[sentiment]",
            "\n[[categories]]\nname = \"security\"\npoints = 20\nnegated_phrases = [\"recognize\", \"invoice portal\"]\n",
        );
        let run = |body: &str| run_with(&rules, "Question", body);
        // Negated within the window, inflected: security, weighing what the
        // phrase weighs (1 of 1 in the body: confidence 1 x 1/2).
        let negated = run("this login was not recognized");
        assert_eq!(&*negated.category, "security");
        // Test code: every triage has a category reason.
        let detail = &negated
            .reasons
            .iter()
            .find(|r| r.factor == "category")
            .unwrap()
            .detail;
        assert_eq!(
            detail,
            "security (negated phrase \"recognize\", confidence 0.50)"
        );
        assert_eq!(
            &*run("a login that was not recognized").category,
            "security"
        );
        // Not negated, or negated in another clause: no evidence.
        for body in [
            "please recognize our new domain",
            "not sure. We recognize the login",
        ] {
            let t = run(body);
            assert_ne!(&*t.category, "security", "{body}");
        }
        // Beside a phrase of another category it weighs the same: the
        // earlier category wins the tie.
        assert_eq!(
            &*run("an invoice that is not recognized").category,
            "billing"
        );
        assert_eq!(
            &*run("an invoice they do not recognize").category,
            "billing"
        );
        // Not negated, a longer negated phrase hides no shorter phrase of
        // another category ("invoice" in "the invoice portal").
        let t = run("the invoice portal");
        assert_eq!(&*t.category, "billing");
        assert_eq!(&*run("not the invoice portal").category, "security");
    }

    /// The category reason (test code: every triage has one).
    fn category_of(t: &Triage) -> &Reason {
        t.reasons.iter().find(|r| r.factor == "category").unwrap()
    }

    /// The detail of a triage's category reason.
    fn category_reason(t: &Triage) -> String {
        category_of(t).detail.clone()
    }

    /// An unknown customer's ticket under `rules`: its severity and the
    /// severity reason (test code: every triage has one).
    /// The errors of the test rules with `section` before their
    /// `[sentiment]` (test code: the rules must not compile), one a line.
    fn errors_with_section(section: &str) -> String {
        let src = RULES.replacen("[sentiment]", &format!("{section}\n[sentiment]"), 1);
        Rules::from_str("t.toml", &src)
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The test rules with three severity levels (high, medium, low) and
    /// `reading` (a `[severity.…]` table) after them.
    fn rules_with_severity_reading(reading: &str) -> Rules {
        rules_with(
            RULES,
            "[sentiment]",
            &format!(
                "[severity]\ndefault = \"medium\"\n\
                 [[severity.levels]]\nname = \"high\"\npoints = 12\n\
                 [[severity.levels]]\nname = \"medium\"\npoints = 3\n\
                 [[severity.levels]]\nname = \"low\"\n{reading}\n\n"
            ),
        )
    }

    fn severity_of(rules: &Rules, subject: &str, body: &str) -> (String, String) {
        let t = run_with(rules, subject, body);
        let r = t.reasons.iter().find(|r| r.factor == "severity").unwrap();
        (t.severity.to_string(), r.detail.clone())
    }

    #[test]
    fn a_negated_phrase_disowned_by_the_customer_counts_three_times() {
        let rules = rules_with(
            &RULES.replace(
                "negators = [\"not\"]",
                "negators = [\"not\", \"didn't\", \"don't\", \"isn't\", \"can't\"]",
            ),
            "\n[sentiment]",
            "\n[[categories]]\nname = \"security\"\npoints = 20\nnegated_phrases = [\"recognize\", \"mine\", \"by us\"]\n",
        );
        let run = |body: &str| run_with(&rules, "Question", body);
        // The customer denying right before it, or the phrase naming the
        // customer: three times the phrase's weight, beside a billing
        // phrase of one (3 / 4 x 3 / 4).
        let t = run("an invoice I don't recognize");
        assert_eq!(&*t.category, "security");
        assert_eq!(
            category_reason(&t),
            "security (disowned phrase \"recognize\", confidence 0.56)"
        );
        for body in [
            "we do not recognize this invoice",
            "I didn't recognize the invoice",
            "an invoice that isn't mine",
            "the invoice is not mine",
            "an invoice not by us",
        ] {
            let t = run(body);
            assert_eq!(&*t.category, "security", "{body}");
            assert!(category_reason(&t).contains("disowned phrase"), "{body}");
        }
        // Negated but not disowned: nobody speaking, an inability, a third
        // person, a negator too far, or a negation that adds ("not just
        // mine"): it weighs what the invoice weighs, and billing, the
        // earlier category, wins the tie.
        for body in [
            "the invoice was not recognized",
            "I can't recognize the invoice",
            "they don't recognize the invoice",
            "I don't really quite recognize the invoice",
            "the invoice is not just mine",
            "an invoice not only by us",
            // A phrase naming the customer is disowned right after "not",
            // "isn't", …: not a passive report ("not sent by us").
            "an invoice not sent by us",
            "an invoice that can't be mine",
        ] {
            let t = run(body);
            assert_eq!(&*t.category, "billing", "{body}");
            assert!(!category_reason(&t).contains("disowned"), "{body}");
        }
    }

    #[test]
    fn a_disowned_action_counts_only_disowned_and_outweighs_the_topic() {
        let rules = rules_with(
            &RULES.replace(
                "negators = [\"not\"]",
                "negators = [\"not\", \"didn't\", \"never\", \"don't\"]",
            ),
            "\n[sentiment]",
            "\n[[categories]]\nname = \"security\"\npoints = 20\ndisowned_phrases = [\"make\", \"made\"]\n",
        );
        let run = |body: &str| run_with(&rules, "Question", body);
        // Disowned by the customer, the clause ends after it: three times
        // the phrase's weight, beside a billing phrase of one (3 / 4 x 3 / 4).
        let t = run("there is an invoice I didn't make.");
        assert_eq!(&*t.category, "security");
        assert_eq!(
            category_reason(&t),
            "security (disowned action \"make\", confidence 0.56)"
        );
        for body in [
            "an invoice we did not make",
            "an invoice that I never made!",
            "an invoice I didn't actually make, help",
            "an invoice I have not made\\nthanks",
            "an invoice I didn\u{2019}t make",
            // The sentence goes on past the relative clause, or the
            // object is pointed at.
            "an invoice I didn't make shows in my app",
            "an invoice we did not make is on our account",
            "I didn't make this invoice",
            "We did not make those invoices.",
        ] {
            assert_eq!(&*run(body).category, "security", "{body}");
        }
        // Its object after it, nobody speaking, the negator too far, a
        // clause between, or not negated: no evidence (the billing phrase
        // decides).
        for body in [
            "I didn't make any changes to the invoice",
            "the invoice was not made",
            "I don't know how the invoice was made",
            "I did not, invoice make",
            "I made the invoice.",
            "the invoice they did not make",
            "I didn't make an invoice",
            "I didn't make it to the invoice",
        ] {
            let t = run(body);
            assert_eq!(&*t.category, "billing", "{body}");
            assert!(!category_reason(&t).contains("disowned"), "{body}");
        }
    }

    #[test]
    fn an_override_can_ask_for_a_clear_category() {
        let rules = rules_with(
            RULES,
            "[[overrides]]",
            "[[overrides]]\nname = \"clear outage: P1\"\nwhen = { category = \"outage\", min_category_confidence = 0.6 }\nset = \"P1\"\n\n",
        );
        let run = |subject: &str, body: &str| run_with(&rules, subject, body);
        // One subject phrase: 2 / 3 = 0.67, clear.
        let clear = run("Outage", "");
        assert_eq!(&*clear.priority, "P1");
        // One body phrase beside a billing phrase: 0.5 x 0.5 = 0.25, not.
        let stray = run("Question", "is the invoice portal down?");
        assert_eq!(&*stray.category, "outage");
        assert_ne!(&*stray.priority, "P1");
        assert!(stray.reasons.iter().all(|r| r.factor != "override"));
    }

    /// Two categories by meaning: security (20 points, a phrase
    /// "hacked") and account (8), at `clear_lead`.
    fn lead_rules(clear_lead: &str) -> Rules {
        rules_with(
            RULES,
            "\n[sentiment]",
            &format!(
                "\n[[categories]]\nname = \"security\"\npoints = 20\nphrases = [\"hacked\"]\n\
                 examples = [\"Someone hacked into our account.\"]\n\
                 [[categories]]\nname = \"account\"\npoints = 8\n\
                 examples = [\"Please change the email address on my profile.\"]\n\
                 [semantic]\nthreshold = 0.3\nclear_lead = {clear_lead}\n"
            ),
        )
    }

    fn category_points(t: &Triage) -> i64 {
        category_of(t).points
    }

    #[test]
    fn a_choice_by_meaning_is_as_sure_as_its_lead() {
        let sem = |threshold: f32, clear_lead: f32| crate::rules::Semantic {
            examples: vec![],
            severity_examples: vec![],
            severity_threshold: 0.6,
            threshold,
            phrase_bonus: 0.1,
            phrases_decide_at: 1.0,
            clear_lead,
            question: None,
            failure_excludes: vec![],
            impact_excludes: vec![],
            praise_excludes: vec![],
            wants: Default::default(),
            wantless_excludes: vec![],
            wish: None,
            wish_words: Default::default(),
        };
        let near = |score: f32, runner_up: Option<f32>| Nearest {
            label: 0,
            score,
            example: "e".into(),
            cosine: score,
            runner_up: runner_up.map(|r| (1, r)),
        };
        let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
        // A tie is a toss-up; a lead of clear_lead is sure, half of it
        // halfway.
        assert!(close(
            lead_confidence(&sem(0.3, 0.1), &near(0.9, Some(0.9))),
            0.5
        ));
        assert!(close(
            lead_confidence(&sem(0.3, 0.1), &near(1.1, Some(0.9))),
            1.0
        ));
        assert!(close(
            lead_confidence(&sem(0.3, 0.1), &near(1.0, Some(0.95))),
            0.75
        ));
        // Never surer than the score.
        assert!(close(
            lead_confidence(&sem(0.3, 0.1), &near(0.6, Some(0.2))),
            0.6
        ));
        // No runner-up: the lead is over the threshold.
        assert!(close(
            lead_confidence(&sem(0.9, 0.1), &near(0.95, None)),
            0.75
        ));
        // clear_lead 0: as sure as the score.
        assert!(close(
            lead_confidence(&sem(0.3, 0.0), &near(0.7, Some(0.7))),
            0.7
        ));
    }

    #[test]
    fn a_category_by_meaning_earns_its_points_as_far_as_it_is_sure() {
        let rules = lead_rules("0.1");
        // The example itself: far ahead, all the points.
        let sure = run_with(&rules, "", "Someone hacked into our account.");
        assert_eq!(&*sure.category, "security");
        assert_eq!(category_points(&sure), 20);
        assert!(!category_reason(&sure).contains(" of its "));
        // Between the two examples: part of them, as the reason says, and
        // the reasons still sum to the score.
        let body = "Someone changed the email address on our account.";
        let t = run_with(&rules, "", body);
        let conf = t.confidence.category;
        assert!(conf < 1.0, "{conf}");
        let own = if &*t.category == "security" {
            20.0
        } else {
            8.0
        };
        let p = (own * f64::from(conf)).round() as i64;
        assert_eq!(category_points(&t), p, "{}", category_reason(&t));
        assert!(
            category_reason(&t).ends_with(&format!(": {p} of its {own} points)")),
            "{}",
            category_reason(&t)
        );
        assert_eq!(t.reasons.iter().map(|r| r.points).sum::<i64>(), t.score);
        // Its own phrase found: all the points, and surer than the lead
        // alone makes it.
        let backed = run_with(
            &rules,
            "",
            "We were hacked, someone changed the email address.",
        );
        assert_eq!(&*backed.category, "security");
        assert_eq!(category_points(&backed), 20, "{}", category_reason(&backed));
        assert!(category_reason(&backed).contains("phrase \"hacked\""));
    }

    /// A short message that reads like another category's example decides
    /// by its disowned phrase, without the examples, at `phrases_decide_at`
    /// confidence; not disowned, the example decides.
    #[test]
    fn a_disowned_phrase_decides_without_the_examples() {
        let rules_at = |decides_at: &str| {
            rules_with(
                &RULES.replace("negators = [\"not\"]", "negators = [\"not\", \"don't\"]"),
                "\n[sentiment]",
                &format!(
                    "\n[[categories]]\nname = \"security\"\npoints = 20\n\
                     negated_phrases = [\"recognize\"]\n\
                     examples = [\"Someone hacked into our account.\"]\n\
                     [[categories]]\nname = \"payments\"\npoints = 5\nphrases = [\"payment\"]\n\
                     examples = [\"Our card payment failed.\"]\n\
                     [semantic]\nthreshold = 0.3\nphrases_decide_at = {decides_at}\n"
                ),
            )
        };
        let rules = rules_at("0.66");
        let t = run_with(&rules, "Question", "I do not recognize the card payment.");
        assert_eq!(&*t.category, "security");
        assert_eq!(
            category_reason(&t),
            "security (disowned phrase \"recognize\", confidence 0.66)"
        );
        // Negated, not disowned (nobody speaking): the example decides.
        let t = run_with(
            &rules,
            "Question",
            "The importer does not recognize the card payment.",
        );
        assert_eq!(&*t.category, "payments");
        assert!(category_reason(&t).contains("resembles the example"));
        // At phrases_decide_at 1 the examples are always consulted.
        let t = run_with(
            &rules_at("1.0"),
            "Question",
            "I do not recognize the card payment.",
        );
        assert!(category_reason(&t).contains("resembles the example"));
    }

    #[test]
    fn severity_examples_decide_when_no_severity_phrase_does() {
        let rules = rules_with(
            RULES,
            "[sentiment]",
            "[severity]\ndefault = \"medium\"\n\
             [[severity.levels]]\nname = \"critical\"\npoints = 20\nphrases = [\"sev1\"]\n\
             examples = [\"Nobody in the company can log in, the whole business has stopped.\"]\n\
             [[severity.levels]]\nname = \"medium\"\npoints = 3\n\
             examples = [\"How do I change the email address on my account?\"]\n\
             [[severity.levels]]\nname = \"low\"\n\
             examples = [\"The button label has a small typo.\"]\n\n",
        );
        let sev = |subject: &str, body: &str| severity_of(&rules, subject, body);
        let (level, detail) = sev(
            "Login",
            "Nobody in our company can log in and the business has stopped.",
        );
        assert_eq!(level, "critical", "{detail}");
        assert!(
            detail.contains("resembles the example \"Nobody in the company"),
            "{detail}"
        );
        let (level, detail) = sev("Label", "There is a small typo on the button label.");
        assert_eq!(level, "low", "{detail}");
        // A phrase decides before any example.
        let (level, detail) = sev("Label", "sev1: there is a small typo on the button label.");
        assert_eq!(level, "critical", "{detail}");
        assert!(detail.contains("phrase \"sev1\""), "{detail}");
        // Other languages are left to the phrases.
        let (level, _) = sev(
            "Anmeldung",
            "Niemand in der Firma kann sich anmelden, das ganze Geschäft steht still.",
        );
        assert_eq!(level, "medium");
    }

    #[test]
    fn what_a_whole_group_cannot_do_is_a_phrase_of_the_unmet_category() {
        let rules = rules_with(
            &RULES
                .replace(
                    "expectations = [\"working\"]",
                    "expectations = [\"open\", \"arrive\"]",
                )
                .replace(
                    "negators = [\"not\"]",
                    "negators = [\"not\", \"can't\", \"hasn't\"]\nsubject_negators = [\"none\"]",
                ),
            "[sentiment]",
            "[severity]\ndefault = \"medium\"\n\
             [[severity.levels]]\nname = \"high\"\npoints = 12\n\
             [[severity.levels]]\nname = \"medium\"\npoints = 3\n\
             [severity.stated_impact]\nlevel = \"high\"\nunmet_category = \"outage\"\n\
             verbs = [\"affect\"]\nscopes = [\"team\", \"money\"]\n\n",
        );
        let category = |body: &str| run_with(&rules, "", body).category.to_string();
        for body in [
            "Since nine none of our agents can open the inbox.",
            "Our customers can't open the invoice page.",
        ] {
            assert_eq!(category(body), "outage", "{body}");
        }
        // No group as the subject: a thing, one person, a verb of impact,
        // what fails for a group.
        for body in [
            "Our money transfer hasn't arrived.",
            "I can't open the inbox.",
            "This is affecting our team.",
            "The invoices will not arrive for any of our users.",
        ] {
            assert_ne!(category(body), "outage", "{body}");
        }
    }

    #[test]
    fn a_stated_impact_is_a_phrase_of_its_level() {
        let rules = rules_with_severity_reading(
            "[severity.stated_impact]\nlevel = \"high\"\n\
             verbs = [\"affect\", \"disrupt\"]\nscopes = [\"team\", \"operations\"]\n\
             window = 3",
        );
        let sev = |subject: &str, body: &str| severity_of(&rules, subject, body);
        // The verb's forms, its scope a few words on, quoted as written.
        let (level, detail) = sev(
            "Sync",
            "The sync stopped and this is affecting our  sales team's daily work.",
        );
        assert_eq!(level, "high", "{detail}");
        assert_eq!(detail, "high (impact stated: \"affecting our sales team\")");
        // The scope before the participle: a state stated ("Operations
        // disrupted", "our team is affected").
        let (level, detail) = sev("Operations disrupted", "The import failed.");
        assert_eq!(
            (level.as_str(), detail.as_str()),
            ("high", "high (impact stated: \"Operations disrupted\")")
        );
        let (level, detail) = sev("Import", "Since Monday our team is badly affected.");
        assert_eq!(level, "medium", "an adverb between: {detail}");
        let (level, detail) = sev("Import", "Since Monday our whole team is affected.");
        assert_eq!(
            detail, "high (impact stated: \"team is affected\")",
            "{level}"
        );
        let (level, _) = sev("Import", "It disrupted operations twice.");
        assert_eq!(level, "high");
        // Not negated, not past the window or its clause, not the scope
        // before an active verb (the subject of another verb), not either
        // alone.
        for body in [
            "The outage did not affect our team.",
            "This affects the nightly export of the reports our team reads.",
            "This affects the export, and our team is waiting.",
            "Our team says the bug affects the export.",
            "This affects the export.",
            "Our team cannot export.",
        ] {
            let (level, detail) = sev("Export", body);
            assert_eq!(level, "medium", "{body}: {detail}");
        }
        // In a question that reports no problem, a level down.
        let (level, detail) = sev("Upgrade", "Will the upgrade affect our team?");
        assert_eq!(level, "medium", "{detail}");
        assert!(
            detail.contains("in a question reporting no problem"),
            "{detail}"
        );
        // In the subject too, and only there: the subject's verb does not
        // reach the body's scope.
        let (level, _) = sev("Export crash disrupting operations", "Please help.");
        assert_eq!(level, "high");
        let (level, _) = sev("This affects", "our team");
        assert_eq!(level, "medium");
    }

    /// An expectation its subject says no one of a scope meets is a stated
    /// impact ("none of our users can log in").
    #[test]
    fn no_one_of_a_scope_meeting_an_expectation_is_a_stated_impact() {
        let src = RULES
            .replacen(
                "expectations = [\"working\"]",
                "expectations = [\"working\", \"log in\"]\n\
             subject_negators = [\"none\", \"nobody\", \"no one\"]",
                1,
            )
            .replacen(
                "negators = [\"not\"]",
                "negators = [\"not\", \"can't\", \"cannot\", \"unable to\"]",
                1,
            );
        let rules = rules_with(
            &src,
            "[sentiment]",
            "[severity]\ndefault = \"medium\"\n\
             [[severity.levels]]\nname = \"high\"\npoints = 12\n\
             [[severity.levels]]\nname = \"medium\"\npoints = 3\n\
             [severity.stated_impact]\nlevel = \"high\"\n\
             verbs = [\"affect\"]\nscopes = [\"team\", \"users\"]\n\n",
        );
        let sev = |body: &str| severity_of(&rules, "Login", body);
        for (body, quote) in [
            (
                "Since the update none of our users can log in.",
                "none of our users can log in",
            ),
            (
                "Nobody on the team can log in since 9am.",
                "Nobody on the team can log in",
            ),
            (
                "No one in our support team's office can log in.",
                "No one in our support team's office can log in",
            ),
            // A number's separator is no clause break.
            (
                "Since 9am none of our 2,000 users can log in.",
                "none of our 2,000 users can log in",
            ),
        ] {
            let (level, detail) = sev(body);
            assert_eq!(level, "high", "{body}: {detail}");
            assert_eq!(detail, format!("high (impact stated: \"{quote}\")"));
        }
        // A scope as the subject of an expectation negated as an action
        // (a negator that takes a verb right before it).
        for (body, quote) in [
            ("Our users can't log in since 9am.", "users can't log in"),
            (
                "Since the update our team's admins cannot log in.",
                "team's admins cannot log in",
            ),
            (
                "Most users are unable to log in.",
                "users are unable to log in",
            ),
        ] {
            let (level, detail) = sev(body);
            assert_eq!(
                detail,
                format!("high (impact stated: \"{quote}\")"),
                "{level}"
            );
        }
        // An expectation that fails for people, or for a whole scope, named
        // after it.
        for (body, quote) in [
            (
                "Since 9am the login is not working for any of our users.",
                "not working for any of our users",
            ),
            (
                "SSO is not working for users in the EU.",
                "not working for users",
            ),
            (
                "None of the reports are working for the whole team.",
                "None of the reports are working for the whole team",
            ),
        ] {
            let (level, detail) = sev(body);
            assert_eq!(
                detail,
                format!("high (impact stated: \"{quote}\")"),
                "{level}"
            );
        }
        // No scope in the subject, the scope elsewhere, nothing expected,
        // not negated by the subject nor as an action, the speaker alone,
        // a scope after "for" that may be a purpose, or one of a scope: no
        // impact stated.
        for body in [
            "None of the links work.",
            "Nobody can say why the export is slow.",
            "Nothing is working for our team.",
            "Our users can log in again.",
            "The team is not working today.",
            "I can't log in.",
            "Our users said the app is slow, I can't log in.",
            "Login does not work for one of our users.",
            "The new login is not working for a customer of ours.",
            "Login is not working. We asked for all users to be invited.",
        ] {
            let (level, detail) = sev(body);
            assert_eq!(level, "medium", "{body}: {detail}");
        }
    }

    #[test]
    fn how_a_customer_asks_yields_to_what_about() {
        let rules = rules_with(
            RULES,
            "[sentiment]",
            "[[categories]]\nname = \"how_to\"\npoints = 0\nphrases = [\"export\"]\n\
             asking_phrases = [\"how do i\"]\n\n",
        );
        let cat = |body: &str| {
            let t = run_with(&rules, "Hi", body);
            (t.category.to_string(), category_reason(&t))
        };
        // Another category's phrase says what about: it decides.
        assert_eq!(cat("How do I download an invoice?").0, "billing");
        // Nothing else: how they ask decides, and is the reason.
        let (c, detail) = cat("How do I rename a project?");
        assert_eq!(c, "how_to");
        assert!(detail.contains("phrase \"how do i\""), "{detail}");
        // Its own category's phrase does not stop it: both count.
        let (c, detail) = cat("How do I export a report?");
        assert_eq!(c, "how_to");
        // (Two phrases in the body: confidence 0.67, one alone 0.5.)
        assert!(detail.contains("confidence 0.67"), "{detail}");
    }

    /// The question form counts once, by the question bonus: tickets and
    /// examples are compared without their asking phrases, which add no
    /// phrase bonus to a question that reports no problem.
    #[test]
    fn the_question_form_counts_once() {
        let rules = rules_with(
            RULES,
            "\n[sentiment]",
            "\n[[categories]]\nname = \"account\"\npoints = 8\n\
             examples = [\"Please change the email address on my user profile.\"]\n\
             [[categories]]\nname = \"how_to\"\npoints = 0\nasking_phrases = [\"how do i\"]\n\
             examples = [\"How do I set up the integration with our CRM?\"]\n\
             [semantic]\nthreshold = 0.3\nquestion_category = \"how_to\"\nquestion_bonus = 0.15\n",
        );
        // The example is read without "How do I". (Test code: rules
        // without their examples, or without this one, fail the test.)
        let sem = rules.semantic.as_ref().expect("examples compiled");
        let how_to = sem
            .examples
            .iter()
            .find(|e| &*e.texts[0] == "How do I set up the integration with our CRM?")
            .expect("the how_to example");
        let mut v = Vec::new();
        let model = crate::embed::StaticModel::builtin();
        let mut scratch = crate::embed::EmbedScratch::default();
        model.embed(
            &["set up the integration with our CRM?"],
            &mut v,
            &mut scratch,
        );
        assert!(crate::embed::cosine(&v, &how_to.vectors[0]) > 0.999);
        // What it asks about decides; how it asks, when nothing else does.
        let t = run_with(&rules, "", "How do I update my profile details?");
        assert_eq!(&*t.category, "account", "{}", category_reason(&t));
        let t = run_with(&rules, "", "How do I connect our CRM?");
        assert_eq!(&*t.category, "how_to", "{}", category_reason(&t));
        assert!(category_reason(&t).contains("a question reporting no problem"));
    }

    /// Praise or thanks that reports no failure is not put in
    /// `praise_excludes` by meaning; a phrase of it still counts, and a
    /// word the lexicon rates positive is no praise.
    #[test]
    fn praise_is_no_fault_report_by_meaning() {
        let rules = shipped_with(SHIPPED);
        let cat = |rules: &Rules, body: &str| run_with(rules, "", body).category.to_string();
        let thanks = "Thanks, the sync works perfectly again since your fix.";
        assert_eq!(cat(&rules, thanks), "other");
        // A phrase of it still counts.
        assert_eq!(
            cat(
                &rules,
                "Love the new planner, great work! But the PDF export is broken since this morning."
            ),
            "bug"
        );
        // Without the list, the example decides.
        let without =
            shipped_with(&SHIPPED.replacen("praise_excludes = [\"bug\", \"outage\"]", "", 1));
        assert_eq!(cat(&without, thanks), "bug");
    }

    /// A message that states an impact (a severity phrase above the
    /// default, an impact or a data loss read) is not put in
    /// `impact_excludes` by meaning; a deadline is no impact, nor is a calm
    /// question.
    #[test]
    fn a_stated_impact_is_no_message_of_no_request() {
        let rules = shipped_with(SHIPPED);
        let cat = |rules: &Rules, body: &str| run_with(rules, "Office", body).category.to_string();
        let drops = "Incoming calls cut out after a few seconds for everyone in the office.";
        assert_ne!(cat(&rules, drops), "other");
        // Without the list, the example of an absence decides.
        let without = shipped_with(&SHIPPED.replacen("impact_excludes = [\"other\"]", "", 1));
        assert_eq!(cat(&without, drops), "other");
        // A time the customer needs something by reports no problem.
        assert_eq!(
            cat(
                &rules,
                "I am out of the office until Monday, I need the notes by Friday."
            ),
            "other"
        );
    }

    /// A word of the whole and a group after it states the impact in a
    /// message that reports a problem; not in one that reports none, nor
    /// negated.
    #[test]
    fn a_whole_group_in_a_problem_report_is_a_stated_impact() {
        let rules = shipped_with(SHIPPED);
        let sev = |body: &str| severity_of(&rules, "Payroll", body);
        for (body, quote) in [
            (
                "The payroll export calculated wrong overtime for all employees.",
                "all employees",
            ),
            (
                "Synchronisation has stopped for all of our 40 locations.",
                "all of our 40 locations",
            ),
            (
                "Nothing loads since 8am. Our whole support team is idle.",
                "whole support team",
            ),
        ] {
            let (level, detail) = sev(body);
            assert_eq!(level, "high", "{body}: {detail}");
            assert!(detail.contains(&format!("\"{quote}\"")), "{body}: {detail}");
        }
        for body in [
            "Please send the newsletter to all our employees.",
            "Not all employees see wrong totals in the export.",
            "Hi all, the export shows wrong totals in one report.",
        ] {
            assert_eq!(sev(body).0, "medium", "{body}");
        }
    }

    /// A severity phrase right after a greeting or thanks names whom the
    /// customer writes to; not after a sentence's end.
    #[test]
    fn whom_a_greeting_addresses_is_not_who_is_affected() {
        for (text, at, yes) in [
            ("Hello everyone", "everyone", true),
            ("Good morning, everyone.", "everyone", true),
            ("Thank you everyone for the help", "everyone", true),
            ("thanks to everyone who helped", "everyone", true),
            ("Thank you, everyone", "everyone", true),
            ("Thanks. Everyone is blocked", "Everyone", false),
            ("It is down for everyone", "everyone", false),
            ("everyone", "everyone", false),
            ("Thanks you. to everyone", "everyone", false),
        ] {
            let at = text.find(at).expect("in the text") as u32;
            assert_eq!(addressed(text, at), yes, "{text}");
        }
    }

    /// A phrase of a category that befalls things said of another
    /// category's phrase — right before it, or after it and a form of "be",
    /// "get", "look" — counts that phrase for itself; not one apart.
    #[test]
    fn what_befell_a_thing_decides_over_the_thing() {
        let rules = shipped_with(SHIPPED);
        let run = |rules: &Rules, body: &str| run_with(rules, "", body);
        for (body, said) in [
            (
                "There is a fraudulent payment on my card.",
                "\"fraudulent\" said of \"payment\"",
            ),
            (
                "My password was stolen yesterday.",
                "\"stolen\" said of \"password\"",
            ),
            (
                "Our credit card has just been stolen.",
                "\"stolen\" said of \"credit card\"",
            ),
            (
                "This payment looks fraudulent to me.",
                "\"fraudulent\" said of \"payment\"",
            ),
            ("The login page is down.", "\"is down\" said of \"login\""),
        ] {
            let t = run(&rules, body);
            let expected = if body.contains("down") {
                "outage"
            } else {
                "security"
            };
            assert_eq!(t.category.to_string(), expected, "{body}");
            assert!(
                category_of(&t).detail.contains(said),
                "{body}: {:?}",
                category_of(&t)
            );
        }
        // Apart from it, or negated, the thing's phrase keeps its category;
        // a failure said of a failure is one ("error 503": no noun between).
        for body in [
            "The payment failed because our bank flagged it as fraud prevention.",
            "The payment was not fraudulent, it was ours; why is it still pending?",
            "We get an error 503 on the invoice page.",
        ] {
            let c = run(&rules, body).category.to_string();
            assert!(c != "security" && c != "outage", "{body}: {c}");
        }
        // Without the lists the thing's category wins by meaning.
        let without = shipped_with(&SHIPPED.replace("befalls = [\"billing\", \"account\"]", ""));
        assert_eq!(
            run(&without, "There is a fraudulent payment on my card.")
                .category
                .to_string(),
            "billing"
        );
    }

    /// A near time with a word of need is a deadline: a phrase of its
    /// level, quoted from the marker.
    #[test]
    fn a_stated_deadline_is_a_phrase_of_its_level() {
        let rules = rules_with_severity_reading(
            "[severity.deadline]\nlevel = \"high\"\n\
             times = [\"today\", \"tomorrow\", \"friday\", \"noon\"]\n\
             markers = [\"need\", \"due\"]\nprepositions = [\"by\", \"before\"]\n\
             window = 4",
        );
        let sev = |body: &str| severity_of(&rules, "Export", body);
        for (body, quote) in [
            // A marker a few words before the time, its forms too.
            (
                "The export fails and the report is due tomorrow.",
                "due tomorrow",
            ),
            (
                "We needed it for the audit today.",
                "needed it for the audit today",
            ),
            // A preposition right before the time, or words of its phrase.
            ("The export fails, please fix it by Friday.", "by Friday"),
            (
                "Please fix it by this coming Friday.",
                "by this coming Friday",
            ),
            ("Please fix it before noon.", "before noon"),
        ] {
            let (level, detail) = sev(body);
            assert_eq!(level, "high", "{body}: {detail}");
            assert_eq!(
                detail,
                format!("high (deadline stated: \"{quote}\")"),
                "{body}"
            );
        }
        for body in [
            // A time alone, a marker alone.
            "The export has failed since Friday.",
            "It failed again today.",
            "We need help with the export.",
            // A preposition whose object is no time.
            "I was charged by your system today.",
            // Too far, in another clause.
            "We need the quarterly report for the board meeting tomorrow.",
            "We need the export, but the meeting is tomorrow.",
            // Denied.
            "The export is broken, no need to fix it today.",
            "We don't need it before Friday.",
            "No need to look at it before Friday.",
            // Said to do.
            "Not really urgent, by Friday is fine.",
        ] {
            let (level, detail) = sev(body);
            assert_eq!(level, "medium", "{body}: {detail}");
        }
        // A negator in another part of the clause denies nothing.
        let (level, detail) = sev("It isn't fixed and we need it today.");
        assert_eq!(level, "high", "{detail}");
    }

    /// Data reported lost is a phrase of its level, quoted from the thing to
    /// the loss (or from the loss to the thing); a thing that lacks
    /// something, a loss denied or supposed, is none.
    #[test]
    fn data_reported_lost_is_a_phrase_of_its_level() {
        let rules = rules_with_severity_reading(
            "[severity.data_loss]\nlevel = \"high\"\n\
             things = [\"data\", \"record\", \"file\", \"database\", \"history\", \"contact\"]\n\
             losses = [\"lost\", \"missing\", \"gone\", \"deleted\", \"corrupted\", \"wiped\"]",
        );
        let sev = |body: &str| severity_of(&rules, "Sync", body);
        for (body, quote) in [
            // The loss after the thing: linking words, a qualified noun,
            // words after it that start no object.
            (
                "Since the update some records are missing entirely.",
                "records are missing",
            ),
            (
                "The database tables got corrupted overnight.",
                "database tables got corrupted",
            ),
            (
                "After the migration 200 files went missing from the archive.",
                "files went missing",
            ),
            ("Our data is gone.", "data is gone"),
            // A time after the loss, no object.
            (
                "The database became corrupted this morning.",
                "database became corrupted",
            ),
            // The loss before the thing, words of quantity between (a
            // qualifying noun first).
            ("The sync wiped all our contacts.", "wiped all our contacts"),
            (
                "We lost all of our project history when the import ran.",
                "lost all of our project history",
            ),
            // Not denied by a negator farther back.
            (
                "I don't know why the records are missing.",
                "records are missing",
            ),
        ] {
            let (level, detail) = sev(body);
            assert_eq!(level, "high", "{body}: {detail}");
            assert_eq!(
                detail,
                format!("high (data loss stated: \"{quote}\")"),
                "{body}"
            );
        }
        for body in [
            // Lacking something, another verb.
            "The export file is missing a column.",
            "The file is missing rows and some columns are empty.",
            "The spreadsheet lost its formatting.",
            "The export file is missing this column.",
            "Has the file gone through processing yet?",
            // An adjective before the thing names a folder as often.
            "Where do deleted files go?",
            // Denied, supposed.
            "The sync failed but no data was lost.",
            "We have not lost any files, the upload is just slow.",
            "What happens if the records are deleted?",
            "Please keep a copy in case data is lost.",
            // A loss said of no thing of data.
            "My invoice is missing.",
            "I lost my password.",
        ] {
            let (level, detail) = sev(body);
            assert_eq!(level, "medium", "{body}: {detail}");
        }
    }

    #[test]
    fn a_data_loss_reading_is_checked() {
        let bad = errors_with_section;
        let errs = bad(
            "[severity.data_loss]\nlevel = \"worst\"\nthings = [\"data\"]\nlosses = [\"lost\"]",
        );
        assert!(
            errs.contains("severity.data_loss.level") && errs.contains("worst"),
            "{errs}"
        );
        let errs = bad("[severity.data_loss]\nlevel = \"high\"\nthings = []\nlosses = [\"lost\"]");
        assert!(errs.contains("severity.data_loss.things"), "{errs}");
        let errs = bad(
            "[severity.data_loss]\nlevel = \"high\"\nthings = [\"data\"]\nlosses = [\"went missing\"]",
        );
        assert!(
            errs.contains("severity.data_loss.losses[0]") && errs.contains("one word each"),
            "{errs}"
        );
        let errs = bad(
            "[severity.data_loss]\nlevel = \"high\"\nthings = [\"files\"]\nlosses = [\"file\"]",
        );
        assert!(errs.contains("severity.data_loss.losses[0]"), "{errs}");
    }

    #[test]
    fn a_deadline_is_checked() {
        let bad = errors_with_section;
        let errs = bad(
            "[severity.deadline]\nlevel = \"soonest\"\ntimes = [\"today\"]\nmarkers = [\"due\"]",
        );
        assert!(
            errs.contains("severity.deadline.level") && errs.contains("soonest"),
            "{errs}"
        );
        let errs = bad("[severity.deadline]\nlevel = \"high\"\ntimes = []\nmarkers = [\"due\"]");
        assert!(errs.contains("severity.deadline.times"), "{errs}");
        let errs = bad(
            "[severity.deadline]\nlevel = \"high\"\ntimes = [\"today\"]\nmarkers = [\"due\"]\nprepositions = [\"by the\"]",
        );
        assert!(
            errs.contains("severity.deadline.prepositions[0]") && errs.contains("one word each"),
            "{errs}"
        );
        let errs = bad(
            "[severity.deadline]\nlevel = \"high\"\ntimes = [\"today\"]\nmarkers = [\"today\"]",
        );
        assert!(errs.contains("severity.deadline.markers[0]"), "{errs}");
    }

    #[test]
    fn a_stated_impact_is_checked() {
        let bad = errors_with_section;
        let errs = bad("[severity.stated_impact]\nlevel = \"urgentest\"\nverbs = [\"affect\"]\nscopes = [\"team\"]");
        assert!(
            errs.contains("severity.stated_impact.level") && errs.contains("urgentest"),
            "{errs}"
        );
        let errs = bad("[severity.stated_impact]\nlevel = \"high\"\nverbs = [\"impact\"]\nscopes = [\"impacts\"]");
        assert!(errs.contains("severity.stated_impact.scopes[0]"), "{errs}");
        let errs =
            bad("[severity.stated_impact]\nlevel = \"high\"\nverbs = []\nscopes = [\"team\"]");
        assert!(errs.contains("severity.stated_impact.verbs"), "{errs}");
        let errs = bad(
            "[severity.stated_impact]\nlevel = \"high\"\nverbs = [\"affect\"]\nscopes = [\"sales team\"]",
        );
        assert!(errs.contains("a scope is one word"), "{errs}");
    }

    #[test]
    fn language_codes_are_checked() {
        let src = RULES.to_string() + "\n[language]\ncovered = [\"english\"]\n";
        let errs = Rules::from_str("t.toml", &src).unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.to_string().contains("language.covered[0]")),
            "{errs:?}"
        );
    }

    #[test]
    fn set_override_stops_and_ceiling_bounds() {
        let c = Customer {
            customer_id: "C".into(),
            account_type: Some("enterprise".into()),
            vip: true,
            ..Customer::default()
        };
        let t = run(&ticket("outage", r#","tags":["test"]"#), Some(&c));
        assert_eq!(&*t.priority, "P3");
        let overrides: Vec<_> = t
            .reasons
            .iter()
            .filter(|r| r.factor == "override")
            .collect();
        assert_eq!(overrides.len(), 1);
        assert!(
            overrides[0].detail.contains("P1 → P3"),
            "{}",
            overrides[0].detail
        );

        let t = run(&ticket("invoice invoice", ""), Some(&c));
        // enterprise 15 + vip 10 + billing 5 + age 3 = 33: P2, under the ceiling anyway.
        assert_eq!(&*t.priority, "P2");
        assert!(t
            .reasons
            .iter()
            .any(|r| r.detail == "billing at most P2: ceiling P2 (no change)"));
        assert_eq!(&*t.queue, "billing");
    }

    #[test]
    fn ageing_is_capped() {
        let t = run(
            r#"{"ticket_id":"T","customer_id":"C","created_at":"2026-11-20T09:00:00Z","subject":"x"}"#,
            None,
        );
        let age = t.reasons.iter().find(|r| r.factor == "age").unwrap();
        assert_eq!(age.points, 5);
        assert!(age.detail.contains("capped"));
    }

    #[test]
    fn deterministic() {
        let a = run(&ticket("Site is DOWN!!! angry", ""), None);
        let b = run(&ticket("Site is DOWN!!! angry", ""), None);
        assert_eq!(a, b);
    }

    /// Graded urgency counts a phrase once, whichever of its forms the text
    /// uses and wherever they stand ("urgent" … "deadline" … "urgently").
    #[test]
    fn urgency_counts_each_phrase_once_across_its_forms() {
        let shipped = shipped_with(SHIPPED);
        let t = run_with(
            &shipped,
            "Urgent: production is down, deadline Friday",
            "All users are affected, please look at it urgently.",
        );
        let u = t
            .reasons
            .iter()
            .find(|r| r.factor == "urgency")
            .expect("an urgency reason");
        // "urgent", "production is down", "deadline", "all users" and the
        // impact stated ("users are affected").
        assert!(
            u.detail.starts_with("5 impact or urgency phrases: "),
            "{}",
            u.detail
        );
        assert_eq!(u.detail.matches("\"urgent\"").count(), 1, "{}", u.detail);
    }
}
