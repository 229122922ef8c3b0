//! The rules: parsed from TOML ([`config`]), checked for policy mistakes
//! (`triage validate`), and compiled into [`Rules`], which the engine reads.
//!
//! Compiling is pure: it takes the file's text. Reading the file (and model
//! files) happens in [`load_file`], at the edge.

pub mod cond;
pub mod config;
pub mod diag;

use std::collections::{BTreeMap, HashMap};

/// A map from a name in the rules (a plan, an account type) to its value,
/// looked up for every ticket: foldhash, not the default SipHash (five
/// lookups a ticket cost ~170 instructions each; the keys come from the
/// rules file, not from tickets).
pub type NameMap<V> = HashMap<Arc<str>, V, foldhash::fast::FixedState>;
use std::path::Path;
use std::sync::Arc;

use jiff::SignedDuration;

use crate::calendar::Calendar;
use crate::classifier::Model;
use crate::text::{Detector, DetectorBuilder, Target};

use cond::{Cond, Names, Scope};
use config::{AgeingConfig, ImpactConfig, IntensityConfig, ModelConfig, RulesConfig};
pub use diag::{Diagnostic, Diagnostics, Severity};

/// A priority level.
#[derive(Debug, Clone)]
pub struct Level {
    pub name: Arc<str>,
    pub min_score: Option<i64>,
    pub topic: Arc<str>,
}

/// A named label with its points (category, severity).
#[derive(Debug, Clone)]
pub struct Labelled {
    pub name: Arc<str>,
    pub points: i64,
}

/// A category's or a severity level's example sentences, embedded
/// ([`crate::embed`]).
#[derive(Debug, Clone)]
pub struct Examples {
    /// The category's (or severity level's) index.
    pub label: u16,
    pub texts: Vec<Arc<str>>,
    /// Unit vectors, one per text.
    pub vectors: Vec<Vec<f32>>,
    /// The normalised mean of `vectors`.
    pub centroid: Vec<f32>,
}

/// Semantic categories: the examples and how they count.
#[derive(Debug, Clone)]
pub struct Semantic {
    pub examples: Vec<Examples>,
    /// Severity levels' examples.
    pub severity_examples: Vec<Examples>,
    pub severity_threshold: f32,
    pub threshold: f32,
    pub phrase_bonus: f32,
    pub phrases_decide_at: f32,
    /// The lead over the runner-up at which a choice by meaning is sure.
    pub clear_lead: f32,
    /// The category a question with no problem in it leans towards, and by
    /// how much.
    pub question: Option<(u16, f32)>,
    /// Categories a message reporting a failure is not chosen for by
    /// meaning.
    pub failure_excludes: Vec<u16>,
    /// Categories a message stating an impact is not chosen for by meaning.
    pub impact_excludes: Vec<u16>,
    /// Categories a positive message that reports no failure is not chosen
    /// for by meaning.
    pub praise_excludes: Vec<u16>,
    /// Words (every form) that say the customer wants something.
    pub wants: WordSet,
    /// Categories a message that asks nothing and wants nothing is not
    /// chosen for by meaning.
    pub wantless_excludes: Vec<u16>,
    /// The category a wish with no problem in it leans towards, and by how
    /// much.
    pub wish: Option<(u16, f32)>,
    /// Words (every form) of a benefit that make a modal before them a wish.
    pub wish_words: WordSet,
}

/// Words of the rules, every form of them, looked up as the lexicon's
/// words are: those that say the customer wants something
/// (`[semantic].wants`), those of a benefit a wish names
/// (`[semantic].wish_words`).
pub type WordSet = std::collections::HashSet<Box<str>, foldhash::fast::FixedState>;

/// A scoring condition.
#[derive(Debug, Clone)]
pub struct ConditionRule {
    pub name: Arc<str>,
    pub cond: Cond,
    pub points: i64,
}

/// What an override does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Set(u16),
    Floor(u16),
    Ceiling(u16),
}

#[derive(Debug, Clone)]
pub struct OverrideRule {
    pub name: Arc<str>,
    pub cond: Cond,
    pub action: Action,
}

/// An SLA policy, compiled.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: Arc<str>,
    pub calendar: usize,
    /// Per level (same order as `Rules::levels`): first response, resolution.
    pub targets: Vec<(SignedDuration, SignedDuration)>,
}

/// Customer strategy points.
#[derive(Debug, Clone, Default)]
pub struct CustomerPoints {
    pub account_type: NameMap<i64>,
    pub support_plan: NameMap<i64>,
    pub vip: i64,
    pub persona: NameMap<i64>,
    pub lifecycle: NameMap<i64>,
    /// Sorted by `min`, descending.
    pub arr_bands: Vec<(f64, i64)>,
}

/// The default segment.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub account_type: Arc<str>,
    pub support_plan: Arc<str>,
    pub vip: bool,
    pub persona: Arc<str>,
    pub lifecycle: Arc<str>,
    pub arr: f64,
    pub unknown_points: i64,
}

/// Sentiment settings.
#[derive(Debug, Clone)]
pub struct SentimentRule {
    /// The valence lexicon with the rules' adjustments (`lexicon = true`).
    pub lexicon: Option<Arc<crate::sentiment::Lexicon>>,
    pub negative_threshold: f32,
    pub positive_threshold: f32,
    /// Points for negative, neutral, positive.
    pub points: [i64; 3],
    pub intensity: IntensityConfig,
}

/// A trained model the engine consults for one field.
#[derive(Debug, Clone)]
pub struct ModelRule {
    pub model: Arc<Model>,
    pub auto_apply_confidence: f32,
    /// Per model label: the field value it maps to (an index into the
    /// field's names for category/severity/priority; for queue, the name).
    pub labels: Vec<Arc<str>>,
    /// For category/severity/priority: per model label, the index.
    pub index: Vec<u16>,
}

/// Models by field.
#[derive(Debug, Clone, Default)]
pub struct Models {
    pub category: Option<ModelRule>,
    pub severity: Option<ModelRule>,
    pub queue: Option<ModelRule>,
    pub priority: Option<ModelRule>,
}

/// Compiled rules: everything the engine needs, nothing it must look up by
/// string on the hot path except customer attributes.
#[derive(Debug, Clone)]
pub struct Rules {
    pub version: Arc<str>,
    pub levels: Vec<Level>,
    pub customer: CustomerPoints,
    pub defaults: Defaults,
    pub categories: Vec<Labelled>,
    /// Per category: its phrases negated say the problem is absent
    /// (`categories[].absent_if_negated`).
    pub absent_if_negated: Vec<bool>,
    /// Per category: the categories whose phrases its phrases said of them
    /// take (`categories[].befalls`).
    pub befalls: Vec<Vec<u16>>,
    pub default_category: u16,
    /// Categories by meaning (`None`: no category has examples).
    pub semantic: Option<Semantic>,
    pub severities: Vec<Labelled>,
    pub default_severity: u16,
    /// `[severity.grading]`.
    pub severity_grading: config::GradingConfig,
    /// `[severity.stated_impact]`: the level a stated impact is a phrase
    /// of, and the most words between its verb and its scope.
    pub stated_impact: Option<StatedImpact>,
    /// `[severity.deadline]`: the level a deadline the customer states is
    /// a phrase of, and how it is read.
    pub deadline: Option<Deadline>,
    /// `[severity.data_loss]`: the level data the customer reports lost is
    /// a phrase of, and the words of loss.
    pub data_loss: Option<DataLoss>,
    pub sentiment: SentimentRule,
    /// Points for low, normal, high, urgent.
    pub reported_priority: [i64; 4],
    /// `[language]`: the languages the rules read, and the points for text
    /// in another.
    pub language: LanguageRule,
    /// `[automatic]`: tell mail no person wrote apart (`None`: off), and its
    /// points.
    pub automatic: Option<i64>,
    /// `[language] spelling`: mistyped English words read as the phrase or
    /// dictionary word one edit away (`None`: off).
    pub speller: Option<Arc<crate::spell::Speller>>,
    pub impact: ImpactConfig,
    pub ageing: AgeingConfig,
    pub conditions: Vec<ConditionRule>,
    pub overrides: Vec<OverrideRule>,
    pub queues: Vec<(Cond, Arc<str>)>,
    pub tiers: Vec<(Cond, Arc<str>)>,
    pub default_queue: Arc<str>,
    pub default_tier: Arc<str>,
    pub policies: Vec<Policy>,
    pub by_plan: NameMap<usize>,
    pub default_policy: usize,
    pub calendars: Vec<Calendar>,
    pub detector: Detector,
    /// Number of `phrases_any` phrases.
    pub condition_phrases: usize,
    pub models: Models,
    pub acknowledgment: Option<Arc<str>>,
}

impl Rules {
    pub fn level_index(&self, name: &str) -> Option<u16> {
        self.levels
            .iter()
            .position(|l| &*l.name == name)
            .map(|i| i as u16)
    }

    /// Output topics, one per level.
    pub fn topics(&self) -> Vec<Arc<str>> {
        self.levels.iter().map(|l| l.topic.clone()).collect()
    }

    /// Compiles rules from text without reading model files (a rules file
    /// that names models fails with a clear error).
    pub fn from_str(file: &str, src: &str) -> Result<Loaded, Vec<Diagnostic>> {
        compile(file, src, &mut |p| {
            Err(format!("model {p:?}: models are loaded by load_file"))
        })
    }
}

/// `[language]`, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguageRule {
    pub covered: Vec<Arc<str>>,
    pub uncovered_points: i64,
}

impl LanguageRule {
    /// Whether the rules read `lang` (`None`: could not be told — covered).
    pub fn covers(&self, lang: Option<&str>) -> bool {
        lang.is_none_or(|l| self.covered.iter().any(|c| **c == *l))
    }
}

/// Rules that compiled, with any warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub rules: Rules,
    pub warnings: Vec<Diagnostic>,
}

/// A word rated at least this positive by the lexicon (VADER's "nice" 1.8,
/// "great" 3.1, "best" 3.2; not "security" 1.4, "credit" 1.6, "legal" 0.5)
/// stays rated inside a topic phrase of several words.
const EVALUATION: f32 = 1.8;

/// `[severity.stated_impact]` compiled (see
/// [`config::StatedImpactConfig`]).
#[derive(Debug, Clone)]
pub struct StatedImpact {
    /// Index into the severity levels.
    pub level: u16,
    /// The most words between a verb and its scope.
    pub window: u32,
    /// The scopes' word forms ([`crate::text::word_forms`]: "users",
    /// "user"), lower case, sorted. (Read after a verb only, not by the
    /// phrase automaton: "team" and "users" are common words, a verb of
    /// impact a rare one.)
    pub scopes: Vec<String>,
    /// The category an expectation a whole scope cannot meet counts for.
    pub unmet_category: Option<u16>,
    /// The words of the whole as written, lower case, sorted (the phrase
    /// automaton finds them, [`Target::Whole`], by their stems too).
    pub wholes: Vec<String>,
}

/// `[severity.deadline]` compiled (see [`config::DeadlineConfig`]). Its
/// times are phrases of the detector ([`Target::DeadlineTime`]).
#[derive(Debug, Clone)]
pub struct Deadline {
    /// Index into the severity levels.
    pub level: u16,
    /// The most words between a marker and its time.
    pub window: u32,
    /// The markers' word forms ([`crate::text::word_forms`]: "need",
    /// "needs", "needed"), lower case, sorted. (Read before a time only,
    /// not by the phrase automaton: "by" and "need" are common words, a
    /// time a rarer one.)
    pub markers: Vec<String>,
    /// The prepositions' word forms, as the markers'.
    pub prepositions: Vec<String>,
    /// The first letters of the markers and prepositions (bit `c - b'a'`,
    /// bit 26 for any other first character): most words are rejected by
    /// their first letter before any list is searched.
    pub initials: u32,
}

/// `[severity.data_loss]` compiled (see [`config::DataLossConfig`]). Its
/// things are phrases of the detector ([`Target::LossThing`]).
#[derive(Debug, Clone)]
pub struct DataLoss {
    /// Index into the severity levels.
    pub level: u16,
    /// The words of loss as written, lower case, sorted. (Read around a
    /// thing as written; the phrase automaton finds them too
    /// ([`Target::LossWord`], with their inflections), so that a text with
    /// none is not read word by word.)
    pub losses: Vec<String>,
    /// The first letters of the losses ([`initial_bit`]).
    pub initials: u32,
}

/// A word's bit in [`Deadline::initials`] and [`DataLoss::initials`]: its first letter's, lower case,
/// or bit 26 for any other first character.
pub fn initial_bit(w: &str) -> u32 {
    match w.as_bytes().first().map(u8::to_ascii_lowercase) {
        Some(c @ b'a'..=b'z') => 1 << (c - b'a'),
        _ => 1 << 26,
    }
}

/// The valence lexicon adjusted to the rules: the words of their own
/// sentiment phrases are theirs to rate, and the words of category and
/// severity phrases and of the phrases conditions, overrides and routing
/// look for are topics — what a ticket is about ("error", "security",
/// "suspicious login", "legal action"), rated as a named problem, not as the
/// customer's feeling — except, in a phrase of several words, a word the
/// lexicon rates clearly positive ("nice" in "would be nice",
/// [`EVALUATION`]), which stays an evaluation. Their single-word negators
/// negate; `neutral` words are not rated. `phrases`: what the detector was
/// given.
fn sentiment_lexicon(
    cfg: &RulesConfig,
    phrases: &[(String, Target)],
) -> Arc<crate::sentiment::Lexicon> {
    let s = &cfg.sentiment;
    let builtin = crate::sentiment::Lexicon::builtin();
    let forms = |own: bool| -> Vec<String> {
        phrases
            .iter()
            .filter(|(p, t)| match t {
                Target::Negative | Target::Positive | Target::Polite | Target::Expectation => {
                    own && !p.contains(' ')
                }
                // Read only negated: "don't recognize" stays a negated
                // action, not a topic. A stranger ("someone") names no
                // topic either.
                Target::Negator
                | Target::SubjectNegator
                | Target::NegatedCategory(_)
                | Target::DisownedCategory(_)
                | Target::StrangerCategory(_) => false,
                // A stated impact's words are read for it alone ("affect",
                // "team"): no topic of the ticket.
                Target::ImpactVerb
                | Target::DeadlineTime
                | Target::LossThing
                | Target::LossWord
                | Target::Whole => false,
                // An idiom's words mean something else together: no topic.
                Target::Idiom => false,
                _ => !own,
            })
            .flat_map(|(p, _)| {
                // In a phrase of several words a word the lexicon rates
                // clearly positive is the customer's evaluation, not the
                // topic ("nice" in "would be nice", "nice to have"); milder
                // ones name it ("legal action", "security incident", "credit
                // card"). The rules' `neutral` list mutes any other.
                let several = !own && p.contains(' ');
                p.split(' ')
                    .filter(move |w| !(several && builtin.rates_at_least(w, EVALUATION)))
                    .flat_map(crate::text::word_forms)
            })
            .collect()
    };
    let (words, topics) = (forms(true), forms(false));
    let neutral: Vec<String> = s
        .neutral
        .iter()
        .flat_map(|w| crate::text::word_forms(&crate::text::normalise(w)))
        .collect();
    // A negator written without its apostrophe ("dont") negates too, as in
    // the phrases.
    let negators: Vec<String> = s
        .negators
        .iter()
        .flat_map(|n| {
            let bare = crate::text::without_apostrophe(&n.to_ascii_lowercase());
            std::iter::once(n.clone()).chain(bare)
        })
        .collect();
    Arc::new(builtin.adjusted(
        words.iter().map(String::as_str),
        topics.iter().map(String::as_str),
        neutral.iter().map(String::as_str),
        negators.iter().map(String::as_str),
    ))
}

/// The speller of `[language] spelling`: corrections towards the words of
/// every phrase the detector was given (negators aside) as written, and
/// their inflections that are dictionary words ("invoices"; not a made-up
/// form).
fn speller(phrases: &[(String, Target)]) -> Arc<crate::spell::Speller> {
    let dictionary = crate::spell::Dictionary::builtin();
    let mut words: Vec<String> = Vec::new();
    for (p, _) in phrases.iter().filter(|(_, t)| {
        !matches!(
            t,
            Target::Negator
                | Target::SubjectNegator
                | Target::Idiom
                | Target::LossWord
                | Target::Whole
        )
    }) {
        for w in p.split(' ') {
            for (i, f) in crate::text::word_forms(w).into_iter().enumerate() {
                if i == 0 || dictionary.is_word(&f) {
                    words.push(f);
                }
            }
        }
    }
    Arc::new(crate::spell::Speller::new(
        words.iter().map(String::as_str),
        dictionary,
    ))
}

/// Embeds the categories' example sentences (none: `None`), read as a
/// ticket's text is: without the words `detector` says the sentence model
/// does not read ([`crate::text::Detector::unread`]: idioms, asking phrases).
/// The index of the category `name`, or an error at `field` naming it.
fn category_named(
    cfg: &RulesConfig,
    d: &mut Diagnostics<'_>,
    field: String,
    name: &str,
) -> Option<u16> {
    let i = cfg.categories.iter().position(|c| c.name == name);
    if i.is_none() {
        d.error(field, format!("no category is named \"{name}\""));
    }
    i.map(|i| i as u16)
}

/// The index of the severity level named `name` among `names`, or an error
/// at `field` listing the levels.
/// Each word of the lists of `section` (its field, the words, whether the
/// field may not be empty) is one word.
fn one_word_each(d: &mut Diagnostics<'_>, section: &str, lists: &[(&str, &[String], bool)]) {
    for &(field, list, required) in lists {
        if required && list.is_empty() {
            d.error(format!("{section}.{field}"), "empty: nothing to find");
        }
        for (j, p) in list.iter().enumerate() {
            if p.trim().contains(char::is_whitespace) || p.trim().is_empty() {
                d.error(
                    format!("{section}.{field}[{j}]"),
                    format!("{p:?}: one word each"),
                );
            }
        }
    }
}

/// The words of `list` by their stem key, each with its index (the last of
/// words that share one).
fn by_stem(list: &[String]) -> HashMap<String, usize> {
    list.iter()
        .enumerate()
        .map(|(j, t)| (crate::text::stem_key(t), j))
        .collect()
}

fn severity_named(
    d: &mut Diagnostics<'_>,
    field: &str,
    name: &str,
    names: &[Arc<str>],
) -> Option<u16> {
    let i = names.iter().position(|n| **n == *name);
    if i.is_none() {
        d.error(
            field,
            format!(
                "{name:?} is not one of the severity levels ({})",
                names.iter().map(|n| &**n).collect::<Vec<_>>().join(", ")
            ),
        );
    }
    i.map(|i| i as u16)
}

fn compile_semantic(
    cfg: &RulesConfig,
    detector: &crate::text::Detector,
    d: &mut Diagnostics<'_>,
) -> Option<Semantic> {
    let sc = &cfg.semantic;
    if !(0.0..=1.0).contains(&sc.threshold) {
        d.error("semantic.threshold", "must be between 0 and 1");
    }
    if !(0.0..=1.0).contains(&sc.phrase_bonus) {
        d.error("semantic.phrase_bonus", "must be between 0 and 1");
    }
    if !(0.0..=1.0).contains(&sc.phrases_decide_at) {
        d.error("semantic.phrases_decide_at", "must be between 0 and 1");
    }
    if !(0.0..=1.0).contains(&sc.clear_lead) {
        d.error("semantic.clear_lead", "must be between 0 and 1");
    }
    if !(0.0..=1.0).contains(&sc.severity_threshold) {
        d.error("semantic.severity_threshold", "must be between 0 and 1");
    }
    let category =
        |d: &mut Diagnostics<'_>, field: String, name: &str| category_named(cfg, d, field, name);
    // A form's lean: the category it leans towards and its bonus.
    let mut lean = |field: &str, name: &Option<String>, bonus: f32| {
        if !(0.0..=1.0).contains(&bonus) {
            d.error(format!("semantic.{field}_bonus"), "must be between 0 and 1");
        }
        let name = name.as_deref()?;
        category(d, format!("semantic.{field}_category"), name).map(|i| (i, bonus))
    };
    let question = lean("question", &sc.question_category, sc.question_bonus);
    let wish = lean("wish", &sc.wish_category, sc.wish_bonus);
    let mut categories_named = |field: &str, names: &[String]| -> Vec<u16> {
        names
            .iter()
            .enumerate()
            .filter_map(|(k, name)| category(d, format!("semantic.{field}[{k}]"), name))
            .collect()
    };
    let failure_excludes = categories_named("failure_excludes", &sc.failure_excludes);
    let impact_excludes = categories_named("impact_excludes", &sc.impact_excludes);
    let praise_excludes = categories_named("praise_excludes", &sc.praise_excludes);
    let wantless_excludes = categories_named("wantless_excludes", &sc.wantless_excludes);
    // One word of letters each, with every form of it.
    let mut words = |field: &str, list: &[String]| {
        let mut set = WordSet::default();
        for (k, w) in list.iter().enumerate() {
            let norm = crate::text::normalise(w);
            if norm.is_empty() || !norm.chars().all(char::is_alphabetic) {
                d.error(
                    format!("semantic.{field}[{k}]"),
                    "must be one word of letters",
                );
                continue;
            }
            set.extend(
                crate::text::word_forms(&norm)
                    .into_iter()
                    .map(String::into_boxed_str),
            );
        }
        set
    };
    let wants = words("wants", &sc.wants);
    let wish_words = words("wish_words", &sc.wish_words);
    let model = crate::embed::StaticModel::builtin();
    let mut scratch = crate::embed::EmbedScratch::default();
    let (mut scan, mut unread) = (crate::text::Scan::default(), Vec::new());
    let mut embed_all = |at: &str, lists: &mut dyn Iterator<Item = &Vec<String>>| {
        let mut out = Vec::new();
        for (i, list) in lists.enumerate() {
            if list.is_empty() {
                continue;
            }
            let mut ex = Examples {
                label: i as u16,
                texts: Vec::new(),
                vectors: Vec::new(),
                centroid: vec![0.0; model.dims()],
            };
            for (j, t) in list.iter().enumerate() {
                let mut v = Vec::new();
                scan.clear();
                detector.scan(t, false, &mut scan);
                detector.unread(&scan, &mut unread);
                // The scan's matches are on word boundaries of `t`.
                let spans: Vec<(usize, usize)> = unread
                    .iter()
                    .map(|u| (u.1 as usize, u.2 as usize))
                    .collect();
                let read = crate::text::blanked(std::borrow::Cow::Borrowed(t.as_str()), &spans);
                if model.embed(&[&*read], &mut v, &mut scratch) == 0 {
                    d.error(
                        format!("{at}[{i}].examples[{j}]"),
                        "no word of this example is known to the sentence model",
                    );
                    continue;
                }
                ex.centroid.iter_mut().zip(&v).for_each(|(c, x)| *c += x);
                ex.texts.push(t.as_str().into());
                ex.vectors.push(v);
            }
            let norm = ex.centroid.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                ex.centroid.iter_mut().for_each(|x| *x /= norm);
            }
            if !ex.vectors.is_empty() {
                out.push(ex);
            }
        }
        out
    };
    let examples = embed_all(
        "categories",
        &mut cfg.categories.iter().map(|c| &c.examples),
    );
    let severity_examples = embed_all(
        "severity.levels",
        &mut cfg.severity.levels.iter().map(|l| &l.examples),
    );
    (!examples.is_empty() || !severity_examples.is_empty()).then_some(Semantic {
        examples,
        severity_examples,
        severity_threshold: sc.severity_threshold,
        threshold: sc.threshold,
        phrase_bonus: sc.phrase_bonus,
        phrases_decide_at: sc.phrases_decide_at,
        clear_lead: sc.clear_lead,
        question,
        failure_excludes,
        impact_excludes,
        praise_excludes,
        wants,
        wantless_excludes,
        wish,
        wish_words,
    })
}

/// Compiles the rules file at `path` and the model files it names (relative to
/// the rules file's directory), reading every file through `read` — the
/// caller's access to files (`std::fs::read` at the edge, a map in tests); the
/// core itself opens nothing. A file that cannot be read is a diagnostic
/// naming it.
pub fn load(
    path: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Loaded, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let cannot = |message: String| {
        vec![Diagnostic {
            severity: Severity::Error,
            file: file.clone(),
            line: 0,
            field: String::new(),
            message,
        }]
    };
    let bytes = read(path).map_err(|e| cannot(format!("cannot read: {e}")))?;
    let src = String::from_utf8(bytes).map_err(|e| cannot(format!("cannot read: {e}")))?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    compile(&file, &src, &mut |p| {
        Model::read(&base.join(p), read)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    })
}

/// Parses a target duration: `"15m"`, `"4h"`, `"1h30m"`, `"2d"`, `"90s"`,
/// `"0"`. Units: s, m, h, d (24 hours).
pub fn parse_duration(s: &str) -> Result<SignedDuration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(SignedDuration::ZERO);
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    let mut any = false;
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else if c.is_whitespace() {
            continue;
        } else {
            let n: i64 = num
                .parse()
                .map_err(|_| format!("{s:?}: expected a number before {c:?}"))?;
            num.clear();
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return Err(format!("{s:?}: unknown unit {c:?} (use s, m, h, d)")),
            };
            total = n
                .checked_mul(unit)
                .and_then(|x| total.checked_add(x))
                .ok_or_else(|| format!("{s:?}: too large"))?;
            any = true;
        }
    }
    if !num.is_empty() || !any {
        return Err(format!(
            "{s:?}: expected a duration like \"15m\", \"4h\", \"1h30m\", \"2d\""
        ));
    }
    Ok(SignedDuration::from_secs(total))
}

/// FNV-1a, 64 bit: a stable content hash for `rules_version`.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

type ModelLoader<'a> = dyn FnMut(&str) -> Result<Arc<Model>, String> + 'a;

/// Parses, checks and compiles. Errors (and warnings found before the first
/// error) come back as diagnostics; warnings of a good file come with it.
pub fn compile(
    file: &str,
    src: &str,
    load_model: &mut ModelLoader<'_>,
) -> Result<Loaded, Vec<Diagnostic>> {
    let mut d = Diagnostics::new(file, src);
    let cfg: RulesConfig = match toml::from_str(src) {
        Ok(c) => c,
        Err(e) => {
            d.at_span(e.span(), e.message().trim().to_string());
            return Err(d.list);
        }
    };
    let rules = build(&cfg, src, &mut d, load_model);
    match rules {
        Some(rules) if !d.has_errors() => Ok(Loaded {
            rules,
            warnings: d.list,
        }),
        _ => {
            d.list.sort_by_key(|x| (x.severity, x.line));
            Err(d.list)
        }
    }
}

fn point_map(m: &BTreeMap<String, i64>) -> NameMap<i64> {
    m.iter().map(|(k, v)| (Arc::from(k.as_str()), *v)).collect()
}

fn build(
    cfg: &RulesConfig,
    src: &str,
    d: &mut Diagnostics<'_>,
    load_model: &mut ModelLoader<'_>,
) -> Option<Rules> {
    let hash = fnv1a(src.as_bytes());
    let version: Arc<str> = match &cfg.version {
        Some(v) => format!("{v}+{:08x}", hash as u32).into(),
        None => format!("{:08x}", hash as u32).into(),
    };

    // Levels.
    if cfg.levels.is_empty() {
        d.error("levels", "at least one priority level is needed");
    }
    let mut levels = vec![];
    let mut prev: Option<i64> = None;
    let n_levels = cfg.levels.len();
    for (i, l) in cfg.levels.iter().enumerate() {
        if cfg.levels[..i].iter().any(|o| o.name == l.name) {
            d.error(
                format!("levels[{i}].name"),
                format!("duplicate level {:?}", l.name),
            );
        }
        let last = i + 1 == n_levels;
        match (l.min_score, last) {
            (Some(_), true) if n_levels > 1 => d.warning(
                format!("levels[{i}].min_score"),
                "the last level takes every score below the one before it; its min_score is ignored",
            ),
            (None, false) => d.error(
                format!("levels[{i}].min_score"),
                format!("level {:?} needs a min_score (only the last level may omit it)", l.name),
            ),
            _ => {}
        }
        if let (Some(p), Some(m), false) = (prev, l.min_score, last) {
            if m >= p {
                d.error(
                    format!("levels[{i}].min_score"),
                    format!(
                        "thresholds must decrease strictly: {:?} has min_score {m}, not below {p} of the level before",
                        l.name
                    ),
                );
            }
        }
        if !last {
            prev = l.min_score.or(prev);
        }
        let topic = match &l.topic {
            Some(t) if !t.trim().is_empty() => t.clone(),
            _ => {
                d.error(
                    format!("levels[{i}].topic"),
                    format!("level {:?} has no output topic", l.name),
                );
                String::new()
            }
        };
        levels.push(Level {
            name: l.name.as_str().into(),
            min_score: if last { None } else { l.min_score },
            topic: topic.into(),
        });
    }
    let level_names: Vec<Arc<str>> = levels.iter().map(|l| l.name.clone()).collect();
    let level_of = |name: &str| level_names.iter().position(|n| &**n == name);

    // Categories.
    let mut categories: Vec<Labelled> = cfg
        .categories
        .iter()
        .map(|c| Labelled {
            name: c.name.as_str().into(),
            points: c.points,
        })
        .collect();
    for (i, c) in cfg.categories.iter().enumerate() {
        if cfg.categories[..i].iter().any(|o| o.name == c.name) {
            d.error(
                format!("categories[{i}].name"),
                format!("duplicate category {:?}", c.name),
            );
        }
        if c.phrases.is_empty()
            && c.negated_phrases.is_empty()
            && c.disowned_phrases.is_empty()
            && c.strangers.is_empty()
            && c.examples.is_empty()
            && c.name != cfg.default_category
        {
            d.warning(
                format!("categories[{i}].phrases"),
                format!(
                    "category {:?} has no phrases, so it is never detected",
                    c.name
                ),
            );
        }
    }
    let default_category = match categories
        .iter()
        .position(|c| *c.name == *cfg.default_category)
    {
        Some(i) => i as u16,
        None => {
            categories.push(Labelled {
                name: cfg.default_category.as_str().into(),
                points: 0,
            });
            (categories.len() - 1) as u16
        }
    };
    let cat_names: Vec<Arc<str>> = categories.iter().map(|c| c.name.clone()).collect();
    let absent_if_negated: Vec<bool> = categories
        .iter()
        .map(|c| {
            cfg.categories
                .iter()
                .any(|k| *k.name == *c.name && k.absent_if_negated)
        })
        .collect();
    let mut befalls: Vec<Vec<u16>> = vec![Vec::new(); categories.len()];
    for (i, c) in cfg.categories.iter().enumerate() {
        for (k, name) in c.befalls.iter().enumerate() {
            let field = format!("categories[{i}].befalls[{k}]");
            if *name == c.name {
                d.error(field, "a category cannot take its own phrases");
            } else if let Some(j) = category_named(cfg, d, field, name) {
                // (`i` indexes the configured categories, which the
                // compiled ones start with.)
                befalls[i].push(j);
            }
        }
    }

    // Severities.
    let severities: Vec<Labelled> = cfg
        .severity
        .levels
        .iter()
        .map(|s| Labelled {
            name: s.name.as_str().into(),
            points: s.points,
        })
        .collect();
    let sev_names: Vec<Arc<str>> = severities.iter().map(|s| s.name.clone()).collect();
    let default_severity =
        severity_named(d, "severity.default", &cfg.severity.default, &sev_names).unwrap_or(0);

    // Phrases: one automaton for everything.
    let mut builder = DetectorBuilder::new();
    // Stems → (category, kind): plain, negated and disowned phrases are
    // compared with each other too (the same words would count for both).
    let mut seen: HashMap<String, (String, &str)> = HashMap::new();
    let negators: Vec<String> = cfg
        .sentiment
        .negators
        .iter()
        .map(|n| crate::text::normalise(n))
        .filter(|n| !n.is_empty())
        .collect();
    if negators.is_empty() {
        // The first category with negated or disowned phrases.
        let first = cfg.categories.iter().enumerate().find_map(|(i, c)| {
            if !c.negated_phrases.is_empty() {
                Some((i, "negated_phrases"))
            } else if !c.disowned_phrases.is_empty() {
                Some((i, "disowned_phrases"))
            } else {
                None
            }
        });
        if let Some((i, list)) = first {
            d.warning(
                format!("categories[{i}].{list}"),
                format!(
                    "{} count only after a negator, and [sentiment] negators lists none",
                    list.replace('_', " ")
                ),
            );
        }
    }
    for (i, c) in cfg.categories.iter().enumerate() {
        let lists = [
            ("phrases", &c.phrases, Target::Category(i as u16)),
            (
                "negated_phrases",
                &c.negated_phrases,
                Target::NegatedCategory(i as u16),
            ),
            (
                "disowned_phrases",
                &c.disowned_phrases,
                Target::DisownedCategory(i as u16),
            ),
            (
                "strangers",
                &c.strangers,
                Target::StrangerCategory(i as u16),
            ),
            (
                "asking_phrases",
                &c.asking_phrases,
                Target::AskingCategory(i as u16),
            ),
        ];
        for (list, phrases, target) in lists {
            let kind = match target {
                Target::NegatedCategory(_) => "negated phrase",
                Target::DisownedCategory(_) => "disowned action",
                Target::StrangerCategory(_) => "stranger",
                Target::AskingCategory(_) => "asking phrase",
                _ => "phrase",
            };
            for (j, p) in phrases.iter().enumerate() {
                // Compared by stems: "error" and "errors" match the same
                // text, as do "doesn't work" and "doesnt work".
                let norm = crate::text::stem_key(
                    &crate::text::without_apostrophe(p).unwrap_or_else(|| p.clone()),
                );
                let at = format!("categories[{i}].{list}[{j}]");
                if norm.is_empty() {
                    d.error(at, "empty phrase");
                    continue;
                }
                let written = crate::text::normalise(p);
                if kind != "phrase" && kind != "stranger" {
                    // It counts only after a negator: one of its own would
                    // need a second before it.
                    let padded = format!(" {written} ");
                    if let Some(n) = negators.iter().find(|n| padded.contains(&format!(" {n} "))) {
                        d.error(
                            at.clone(),
                            format!(
                                "{kind} {written:?} holds the negator {n:?}: write it without (it counts only after a negator)"
                            ),
                        );
                        continue;
                    }
                }
                match seen.get(&norm) {
                    Some((other, was)) if *other != c.name => d.error(
                        at,
                        format!(
                            "{kind} {written:?}{} is listed under both {other:?}{} and {:?}: overlapping categories make triage ambiguous",
                            if norm == written {
                                String::new()
                            } else {
                                format!(" (stems {norm:?})")
                            },
                            if *was == kind {
                                String::new()
                            } else {
                                format!(" (as a {was})")
                            },
                            c.name
                        ),
                    ),
                    Some((_, was)) if *was == kind => d.warning(
                        at,
                        format!(
                            "{kind} {p:?} is listed twice (same stems {norm:?} as another {kind} of the category)"
                        ),
                    ),
                    Some((_, was)) => d.warning(
                        at,
                        format!(
                            "{p:?} is both a {was} and a {kind} of the category (same stems {norm:?}): it can count twice"
                        ),
                    ),
                    None => {
                        seen.insert(norm.clone(), (c.name.clone(), kind));
                    }
                }
                builder.add(p, target);
            }
        }
    }
    let mut sev_seen: HashMap<String, (String, &str)> = HashMap::new();
    for (i, s) in cfg.severity.levels.iter().enumerate() {
        let lists = [("phrases", &s.phrases), ("cues", &s.cues)];
        for (list, phrases) in lists {
            for (j, p) in phrases.iter().enumerate() {
                let norm = crate::text::stem_key(p);
                let at = format!("severity.levels[{i}].{list}[{j}]");
                if let Some((other, other_list)) = sev_seen.get(&norm) {
                    if *other != s.name || *other_list != list {
                        d.error(
                            at,
                            format!(
                                "phrase {norm:?} is listed under severities {other:?} ({other_list}) and {:?} ({list})",
                                s.name
                            ),
                        );
                        continue;
                    }
                }
                sev_seen.insert(norm, (s.name.clone(), list));
                builder.add(
                    p,
                    if list == "cues" {
                        Target::SeverityCue(i as u16)
                    } else {
                        Target::Severity(i as u16)
                    },
                );
            }
        }
    }
    let stated_impact = cfg.severity.stated_impact.as_ref().and_then(|im| {
        let level = severity_named(d, "severity.stated_impact.level", &im.level, &sev_names);
        for (field, list) in [("verbs", &im.verbs), ("scopes", &im.scopes)] {
            if list.is_empty() {
                d.error(
                    format!("severity.stated_impact.{field}"),
                    "empty: nothing to find",
                );
            }
        }
        let verbs = by_stem(&im.verbs);
        let mut scopes = Vec::with_capacity(im.scopes.len());
        for (j, p) in im.scopes.iter().enumerate() {
            let key = crate::text::stem_key(p);
            let at = format!("severity.stated_impact.scopes[{j}]");
            if let Some(&v) = verbs.get(&key) {
                d.error(
                    at,
                    format!(
                        "{p:?} is also verbs[{v}] (same stems): a verb and its scope must differ"
                    ),
                );
            } else if key.contains(' ') {
                d.error(at, format!("{p:?}: a scope is one word"));
            } else {
                // Its forms, not its stem: "production" is not "product",
                // nor "productivity" (one Snowball stem).
                // (Lower case as the engine reads words: `normalise` folds
                // ASCII only.)
                // Not a participle ("working" in "it isn't working" is the
                // verb, no one's work), unless written so.
                let written = crate::text::normalise(p).to_lowercase();
                scopes.extend(
                    crate::text::word_forms(&written)
                        .into_iter()
                        .filter(|f| !f.ends_with("ing") || *f == written),
                );
            }
        }
        scopes.sort_unstable();
        scopes.dedup();
        for p in &im.verbs {
            builder.add(p, Target::ImpactVerb);
        }
        one_word_each(
            d,
            "severity.stated_impact",
            &[("wholes", &im.wholes, false)],
        );
        let mut wholes: Vec<String> = im.wholes.iter().map(|w| w.trim().to_lowercase()).collect();
        wholes.sort_unstable();
        wholes.dedup();
        for w in &wholes {
            builder.add(w, Target::Whole);
        }
        let unmet_category = im.unmet_category.as_deref().and_then(|name| {
            category_named(cfg, d, "severity.stated_impact.unmet_category".into(), name)
        });
        Some(StatedImpact {
            level: level?,
            window: im.window,
            scopes,
            unmet_category,
            wholes,
        })
    });
    let deadline = cfg.severity.deadline.as_ref().and_then(|dl| {
        let level = severity_named(d, "severity.deadline.level", &dl.level, &sev_names);
        one_word_each(
            d,
            "severity.deadline",
            &[
                ("times", &dl.times, true),
                ("markers", &dl.markers, false),
                ("prepositions", &dl.prepositions, false),
            ],
        );
        let times = by_stem(&dl.times);
        let mut forms = |field: &str, list: &[String]| {
            let mut out = Vec::with_capacity(list.len() * 3);
            for (j, p) in list.iter().enumerate() {
                if let Some(&t) = times.get(&crate::text::stem_key(p)) {
                    d.error(
                        format!("severity.deadline.{field}[{j}]"),
                        format!(
                            "{p:?} is also times[{t}] (same stems): a marker and its time must differ"
                        ),
                    );
                }
                // (Lower case as the engine reads words.)
                out.extend(crate::text::word_forms(
                    &crate::text::normalise(p).to_lowercase(),
                ));
            }
            out.sort_unstable();
            out.dedup();
            out
        };
        let markers = forms("markers", &dl.markers);
        let prepositions = forms("prepositions", &dl.prepositions);
        for t in &dl.times {
            builder.add(t, Target::DeadlineTime);
        }
        Some(Deadline {
            level: level?,
            window: dl.window,
            initials: markers
                .iter()
                .chain(&prepositions)
                .fold(0, |m, w| m | initial_bit(w)),
            markers,
            prepositions,
        })
    });
    let data_loss = cfg.severity.data_loss.as_ref().and_then(|dl| {
        let level = severity_named(d, "severity.data_loss.level", &dl.level, &sev_names);
        one_word_each(
            d,
            "severity.data_loss",
            &[("things", &dl.things, true), ("losses", &dl.losses, true)],
        );
        let things = by_stem(&dl.things);
        let mut losses = Vec::with_capacity(dl.losses.len());
        for (j, p) in dl.losses.iter().enumerate() {
            if let Some(&t) = things.get(&crate::text::stem_key(p)) {
                d.error(
                    format!("severity.data_loss.losses[{j}]"),
                    format!(
                        "{p:?} is also things[{t}] (same stems): a loss and its thing must differ"
                    ),
                );
            }
            // (Lower case as the engine reads words.)
            losses.push(crate::text::normalise(p).to_lowercase());
        }
        losses.sort_unstable();
        losses.dedup();
        for t in &dl.things {
            builder.add(t, Target::LossThing);
        }
        for l in &dl.losses {
            builder.add(l, Target::LossWord);
        }
        Some(DataLoss {
            level: level?,
            initials: losses.iter().fold(0, |m, w| m | initial_bit(w)),
            losses,
        })
    });
    let s = &cfg.sentiment;
    for (j, p) in s.negative.iter().enumerate() {
        if s.positive
            .iter()
            .any(|q| crate::text::stem_key(q) == crate::text::stem_key(p))
        {
            d.error(
                format!("sentiment.negative[{j}]"),
                format!("phrase {p:?} is both negative and positive"),
            );
        }
        builder.add(p, Target::Negative);
    }
    for p in &s.positive {
        builder.add(p, Target::Positive);
    }
    for p in &s.politeness {
        builder.add(p, Target::Polite);
    }
    for p in &s.expectations {
        builder.add(p, Target::Expectation);
    }
    for p in &s.negators {
        builder.add(p, Target::Negator);
    }
    for p in &s.subject_negators {
        builder.add(p, Target::SubjectNegator);
    }
    if s.negative_threshold >= s.positive_threshold {
        d.error(
            "sentiment.negative_threshold",
            "negative_threshold must be below positive_threshold",
        );
    }
    let mut sent_points = [0i64; 3];
    for (k, v) in &s.points {
        match crate::model::SentimentLabel::parse(k) {
            Some(l) => sent_points[l as usize] = *v,
            None => d.error(
                format!("sentiment.points.{k}"),
                "unknown sentiment label; known: negative, neutral, positive",
            ),
        }
    }
    let mut reported = [0i64; 4];
    for (k, v) in &cfg.reported_priority {
        match crate::model::ReportedPriority::parse(k) {
            Some(p) => reported[p as usize] = *v,
            None => d.error(
                format!("reported_priority.{k}"),
                "unknown reported priority; known: low, normal, high, urgent",
            ),
        }
    }

    let mut covered: Vec<Arc<str>> = vec![];
    for (i, code) in cfg.language.covered.iter().enumerate() {
        if !crate::lang::is_code(code) {
            d.error(
                format!("language.covered[{i}]"),
                format!("{code:?} is not an ISO 639-1 code (two lower-case letters, e.g. \"en\")"),
            );
        } else if !covered.iter().any(|c| **c == **code) {
            covered.push(Arc::from(code.as_str()));
        }
    }

    // Conditions, overrides, routing share phrase registration.
    let mut phrases: Vec<String> = vec![];
    let names = Names {
        categories: &cat_names,
        severities: &sev_names,
        levels: &level_names,
    };
    let mut compile_when = |when: &config::When,
                            scope: Scope,
                            at: &str,
                            d: &mut Diagnostics<'_>,
                            builder: &mut DetectorBuilder|
     -> Cond {
        let mut errors = vec![];
        let cond = Cond::compile(
            when,
            &names,
            scope,
            &mut |p| {
                let norm = crate::text::normalise(p);
                let i = match phrases.iter().position(|x| *x == norm) {
                    Some(i) => i,
                    None => {
                        phrases.push(norm);
                        phrases.len() - 1
                    }
                };
                builder.add(p, Target::Phrase(i as u16));
                i as u16
            },
            &mut errors,
        );
        for (field, msg) in errors {
            let path = if field.is_empty() {
                format!("{at}.when")
            } else {
                format!("{at}.when.{field}")
            };
            d.error(path, msg);
        }
        cond
    };

    let conditions: Vec<ConditionRule> = cfg
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| ConditionRule {
            name: c.name.as_str().into(),
            cond: compile_when(
                &c.when,
                Scope::Condition,
                &format!("conditions[{i}]"),
                d,
                &mut builder,
            ),
            points: c.points,
        })
        .collect();

    let mut overrides: Vec<OverrideRule> = vec![];
    for (i, o) in cfg.overrides.iter().enumerate() {
        let at = format!("overrides[{i}]");
        let cond = compile_when(&o.when, Scope::Override, &at, d, &mut builder);
        let mut actions = vec![];
        for (key, v, mk) in [
            ("set", &o.set, Action::Set as fn(u16) -> Action),
            ("floor", &o.floor, Action::Floor),
            ("ceiling", &o.ceiling, Action::Ceiling),
        ] {
            if let Some(name) = v {
                match level_of(name) {
                    Some(l) => actions.push(mk(l as u16)),
                    None => d.error(
                        format!("{at}.{key}"),
                        format!("unknown level {name:?}; levels: {}", level_names.join(", ")),
                    ),
                }
            }
        }
        if o.set.is_none() && o.floor.is_none() && o.ceiling.is_none() {
            d.error(
                at.clone(),
                format!("override {:?} needs one of set, floor, ceiling", o.name),
            );
        } else if [&o.set, &o.floor, &o.ceiling]
            .iter()
            .filter(|x| x.is_some())
            .count()
            > 1
        {
            d.error(
                at.clone(),
                format!(
                    "override {:?} has more than one of set, floor, ceiling",
                    o.name
                ),
            );
        }
        let Some(&action) = actions.first() else {
            continue;
        };
        // Shadowing: an earlier `set` whose condition covers this one stops
        // evaluation before this override is reached.
        if let Some(prev) = overrides
            .iter()
            .find(|p| matches!(p.action, Action::Set(_)) && p.cond.covers(&cond))
        {
            d.error(
                format!("{at}.when"),
                format!(
                    "override {:?} can never fire: the earlier override {:?} sets the level for every ticket it matches",
                    o.name, prev.name
                ),
            );
        }
        match action {
            Action::Floor(0) if n_levels > 0 => {}
            Action::Floor(l) if l as usize + 1 == n_levels => d.warning(
                format!("{at}.floor"),
                format!(
                    "a floor at the least urgent level {:?} never changes anything",
                    level_names[l as usize]
                ),
            ),
            Action::Ceiling(0) => d.warning(
                format!("{at}.ceiling"),
                format!(
                    "a ceiling at the most urgent level {:?} never changes anything",
                    level_names[0]
                ),
            ),
            _ => {}
        }
        overrides.push(OverrideRule {
            name: o.name.as_str().into(),
            cond,
            action,
        });
    }

    let queues: Vec<(Cond, Arc<str>)> = cfg
        .routing
        .queues
        .iter()
        .enumerate()
        .map(|(i, q)| {
            (
                compile_when(
                    &q.when,
                    Scope::Routing,
                    &format!("routing.queues[{i}]"),
                    d,
                    &mut builder,
                ),
                Arc::from(q.queue.as_str()),
            )
        })
        .collect();
    let tiers: Vec<(Cond, Arc<str>)> = cfg
        .routing
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                compile_when(
                    &t.when,
                    Scope::Routing,
                    &format!("routing.tiers[{i}]"),
                    d,
                    &mut builder,
                ),
                Arc::from(t.tier.as_str()),
            )
        })
        .collect();
    for (kind, rules) in [("queues", &queues), ("tiers", &tiers)] {
        for (i, (c, _)) in rules.iter().enumerate() {
            if let Some(j) = rules[..i].iter().position(|(p, _)| p.covers(c)) {
                d.warning(
                    format!("routing.{kind}[{i}].when"),
                    format!("never used: routing.{kind}[{j}] matches every ticket this rule matches, and the first match wins"),
                );
            }
        }
    }
    let condition_phrases = phrases.len();

    // Calendars and policies.
    let mut calendars = vec![Calendar::always("24x7")];
    for (name, c) in &cfg.sla.calendars {
        if name == "24x7" {
            d.error(
                format!("sla.calendars.{name}"),
                "\"24x7\" is built in; choose another name",
            );
            continue;
        }
        match Calendar::from_config(name, c) {
            Ok(cal) => calendars.push(cal),
            Err(errs) => {
                for e in errs {
                    let path = if e.field.is_empty() {
                        format!("sla.calendars.{name}")
                    } else {
                        format!("sla.calendars.{name}.{}", e.field)
                    };
                    d.error(path, e.message);
                }
            }
        }
    }
    let mut policies = vec![];
    for (name, p) in &cfg.sla.policies {
        let at = format!("sla.policies.{name}");
        let calendar = match calendars.iter().position(|c| c.name() == p.calendar) {
            Some(i) => i,
            None => {
                if !cfg.sla.calendars.contains_key(&p.calendar) {
                    d.error(
                        format!("{at}.calendar"),
                        format!("unknown calendar {:?}; define it under [sla.calendars.{}] or use \"24x7\"", p.calendar, p.calendar),
                    );
                }
                0
            }
        };
        let mut targets = vec![];
        for l in &levels {
            match p.targets.get(&*l.name) {
                Some(t) => {
                    let fr = parse_duration(&t.first_response).unwrap_or_else(|e| {
                        d.error(format!("{at}.targets.{}.first_response", l.name), e);
                        SignedDuration::ZERO
                    });
                    let rs = parse_duration(&t.resolution).unwrap_or_else(|e| {
                        d.error(format!("{at}.targets.{}.resolution", l.name), e);
                        SignedDuration::ZERO
                    });
                    if rs < fr {
                        d.error(
                            format!("{at}.targets.{}.resolution", l.name),
                            format!(
                                "resolution target {} is shorter than the first-response target {}",
                                t.resolution, t.first_response
                            ),
                        );
                    }
                    targets.push((fr, rs));
                }
                None => {
                    d.error(
                        format!("{at}.targets"),
                        format!("no target for level {:?}", l.name),
                    );
                    targets.push((SignedDuration::ZERO, SignedDuration::ZERO));
                }
            }
        }
        for k in p.targets.keys() {
            if level_of(k).is_none() {
                d.error(format!("{at}.targets.{k}"), format!("unknown level {k:?}"));
            }
        }
        for i in 1..targets.len() {
            for (what, a, b) in [
                ("first_response", targets[i - 1].0, targets[i].0),
                ("resolution", targets[i - 1].1, targets[i].1),
            ] {
                if a > b {
                    d.error(
                        format!("{at}.targets.{}.{what}", levels[i - 1].name),
                        format!(
                            "the more urgent level {:?} has a longer {what} target ({}) than {:?} ({})",
                            levels[i - 1].name,
                            fmt_duration(a),
                            levels[i].name,
                            fmt_duration(b)
                        ),
                    );
                }
            }
        }
        policies.push(Policy {
            name: name.as_str().into(),
            calendar,
            targets,
        });
    }
    let policy_of = |name: &str| policies.iter().position(|p| &*p.name == name);
    let default_policy = policy_of(&cfg.sla.default_policy).unwrap_or_else(|| {
        d.error(
            "sla.default_policy",
            format!("unknown policy {:?}", cfg.sla.default_policy),
        );
        0
    });
    let mut by_plan = NameMap::default();
    for (plan, pol) in &cfg.sla.by_plan {
        match policy_of(pol) {
            Some(i) => {
                by_plan.insert(Arc::from(plan.as_str()), i);
            }
            None => d.error(
                format!("sla.by_plan.{plan}"),
                format!("unknown policy {pol:?}"),
            ),
        }
    }
    if policies.is_empty() {
        d.error("sla.policies", "at least one SLA policy is needed");
    }

    // Models.
    let mut models = Models::default();
    let mc = &cfg.models;
    for (field, mcfg) in [
        ("category", &mc.category),
        ("severity", &mc.severity),
        ("queue", &mc.queue),
        ("priority", &mc.priority),
    ] {
        let Some(mcfg) = mcfg else { continue };
        let known: Option<&[Arc<str>]> = match field {
            "category" => Some(&cat_names),
            "severity" => Some(&sev_names),
            "priority" => Some(&level_names),
            _ => None,
        };
        if let Some(rule) = model_rule(field, mcfg, known, d, load_model) {
            match field {
                "category" => models.category = Some(rule),
                "severity" => models.severity = Some(rule),
                "queue" => models.queue = Some(rule),
                _ => models.priority = Some(rule),
            }
        }
    }

    // Idioms, after every phrase they may hide.
    let hideable: Vec<Vec<String>> = builder
        .added()
        .iter()
        .filter(|(_, t)| t.hidden_by_idioms())
        .map(|(p, _)| {
            crate::text::stem_key(p)
                .split(' ')
                .map(String::from)
                .collect()
        })
        .collect();
    for (j, p) in cfg.idioms.iter().enumerate() {
        let at = format!("idioms[{j}]");
        let key: Vec<String> = crate::text::stem_key(p)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect();
        if key.is_empty() {
            d.error(at, "empty idiom");
            continue;
        }
        if hideable.contains(&key) {
            d.error(
                at,
                format!("{p:?} is also a phrase of the rules (same stems): an idiom would hide it"),
            );
            continue;
        }
        let rated = || {
            let lexicon = crate::sentiment::Lexicon::builtin();
            crate::text::normalise(p)
                .split(' ')
                .any(|w| lexicon.rates(&w.to_lowercase()))
        };
        if !hideable
            .iter()
            .any(|h| key.windows(h.len()).any(|w| w == h.as_slice()))
            && !rated()
        {
            d.warning(
                at,
                format!(
                    "idiom {p:?} holds no category, severity or condition phrase nor a word the \
                     sentiment lexicon rates: it hides nothing"
                ),
            );
        }
        builder.add(p, Target::Idiom);
    }

    let phrases = builder.take_added();
    let detector = match builder.build(s.negation_window) {
        Ok(det) => det,
        Err(e) => {
            d.error("", format!("cannot build the phrase matcher: {e}"));
            return None;
        }
    };
    let semantic = compile_semantic(cfg, &detector, d);

    let mut arr_bands: Vec<(f64, i64)> = cfg
        .customer
        .arr_bands
        .iter()
        .map(|b| (b.min, b.points))
        .collect();
    arr_bands.sort_by(|a, b| b.0.total_cmp(&a.0));
    let u = &cfg.unknown_customer;
    Some(Rules {
        version,
        levels,
        absent_if_negated,
        befalls,
        customer: CustomerPoints {
            account_type: point_map(&cfg.customer.account_type),
            support_plan: point_map(&cfg.customer.support_plan),
            vip: cfg.customer.vip,
            persona: point_map(&cfg.customer.persona),
            lifecycle: point_map(&cfg.customer.lifecycle),
            arr_bands,
        },
        defaults: Defaults {
            account_type: u.account_type.as_str().into(),
            support_plan: u.support_plan.as_str().into(),
            vip: u.vip,
            persona: u.persona.as_str().into(),
            lifecycle: u.lifecycle.as_str().into(),
            arr: u.arr,
            unknown_points: u.points,
        },
        categories,
        default_category,
        semantic,
        severities,
        default_severity,
        severity_grading: cfg.severity.grading.clone(),
        stated_impact,
        deadline,
        data_loss,
        sentiment: SentimentRule {
            lexicon: s.lexicon.then(|| sentiment_lexicon(cfg, &phrases)),
            negative_threshold: s.negative_threshold,
            positive_threshold: s.positive_threshold,
            points: sent_points,
            intensity: s.intensity.clone(),
        },
        reported_priority: reported,
        language: LanguageRule {
            covered,
            uncovered_points: cfg.language.uncovered_points,
        },
        automatic: cfg.automatic.enabled.then_some(cfg.automatic.points),
        speller: cfg.language.spelling.then(|| speller(&phrases)),
        impact: cfg.impact.clone(),
        ageing: cfg.ageing.clone(),
        conditions,
        overrides,
        queues,
        tiers,
        default_queue: cfg.routing.default_queue.as_str().into(),
        default_tier: cfg.routing.default_tier.as_str().into(),
        policies,
        by_plan,
        default_policy,
        calendars,
        detector,
        condition_phrases,
        models,
        acknowledgment: cfg
            .acknowledgment
            .as_ref()
            .map(|a| Arc::from(a.template.as_str())),
    })
}

fn model_rule(
    field: &str,
    mcfg: &ModelConfig,
    known: Option<&[Arc<str>]>,
    d: &mut Diagnostics<'_>,
    load_model: &mut ModelLoader<'_>,
) -> Option<ModelRule> {
    let at = format!("models.{field}");
    if !(0.0..=1.0).contains(&mcfg.auto_apply_confidence) {
        d.error(
            format!("{at}.auto_apply_confidence"),
            "must be between 0 and 1",
        );
    }
    let model = match load_model(&mcfg.path) {
        Ok(m) => m,
        Err(e) => {
            d.error(format!("{at}.path"), e);
            return None;
        }
    };
    let labels: Vec<Arc<str>> = model
        .labels()
        .iter()
        .map(|l| Arc::from(mcfg.label_map.get(l).unwrap_or(l).as_str()))
        .collect();
    let mut index = vec![];
    if let Some(known) = known {
        let missing: Vec<&str> = labels
            .iter()
            .filter(|l| !known.contains(l))
            .map(|l| &**l)
            .collect();
        if !missing.is_empty() {
            d.error(
                format!("{at}.path"),
                format!(
                    "the model's labels do not match the rules: {} not among the {field} names ({}); map them with label_map",
                    missing.join(", "),
                    known.iter().map(|k| &**k).collect::<Vec<_>>().join(", ")
                ),
            );
            return None;
        }
        index = labels
            .iter()
            .map(|l| known.iter().position(|k| k == l).unwrap_or(0) as u16)
            .collect();
    }
    for k in mcfg.label_map.keys() {
        if !model.labels().contains(k) {
            d.warning(format!("{at}.label_map.{k}"), "the model has no such label");
        }
    }
    Some(ModelRule {
        model,
        auto_apply_confidence: mcfg.auto_apply_confidence,
        labels,
        index,
    })
}

/// "4h", "1h30m", "2d", "15m", "45s".
pub fn fmt_duration(d: SignedDuration) -> String {
    let mut s = d.as_secs();
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if s < 0 {
        out.push('-');
        s = -s;
    }
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= n {
            out.push_str(&format!("{}{unit}", s / n));
            s %= n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m").unwrap().as_secs(), 900);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("2d").unwrap().as_secs(), 172_800);
        assert_eq!(parse_duration("0").unwrap().as_secs(), 0);
        assert_eq!(parse_duration(" 1h 5s ").unwrap().as_secs(), 3605);
        assert!(parse_duration("4").is_err());
        assert!(parse_duration("4w").is_err());
        assert!(parse_duration("h").is_err());
        assert_eq!(fmt_duration(SignedDuration::from_secs(5400)), "1h30m");
        assert_eq!(fmt_duration(SignedDuration::from_secs(172_800)), "2d");
    }

    /// The warnings of a small policy with these `[[categories]]` and
    /// `[sentiment]` lines.
    fn warnings(categories: &str, sentiment: &str) -> Vec<(String, String)> {
        let src = format!(
            "version = \"t\"\n[[levels]]\nname = \"P1\"\nmin_score = 10\ntopic = \"p1\"\n[[levels]]\nname = \"P2\"\ntopic = \"p2\"\n{categories}\n[sentiment]\n{sentiment}\n[sla]\ndefault_policy = \"s\"\n[sla.policies.s]\ntargets.P1 = {{ first_response = \"1h\", resolution = \"4h\" }}\ntargets.P2 = {{ first_response = \"4h\", resolution = \"1d\" }}\n"
        );
        // Test code: a policy that does not compile fails the test.
        match Rules::from_str("t.toml", &src) {
            Ok(l) => l
                .warnings
                .into_iter()
                .map(|w| (w.field, w.message))
                .collect(),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn idioms_are_checked_against_the_phrases() {
        let src = |idioms: &str| {
            format!(
                "version = \"t\"\nidioms = [{idioms}]\n[[levels]]\nname = \"P1\"\ntopic = \"p1\"\n[[categories]]\nname = \"outage\"\nphrases = [\"down\"]\n[sla]\ndefault_policy = \"s\"\n[sla.policies.s]\ntargets.P1 = {{ first_response = \"1h\", resolution = \"4h\" }}\n"
            )
        };
        // Test code: a policy that does not compile fails the test.
        // "drop" is rated by the lexicon: "drag and drop" hides it.
        let l = Rules::from_str(
            "t.toml",
            &src("\"drop down\", \"drag and drop\", \"pick and mix\""),
        )
        // Test code: as above.
        .unwrap();
        let w: Vec<_> = l
            .warnings
            .iter()
            .map(|w| (&*w.field, &*w.message))
            .collect();
        assert_eq!(
            w,
            [(
                "idioms[2]",
                "idiom \"pick and mix\" holds no category, severity or condition phrase nor a \
                 word the sentiment lexicon rates: it hides nothing"
            )]
        );
        // An idiom that is a phrase (by stems) would hide it: an error.
        let Err(e) = Rules::from_str("t.toml", &src("\"downs\"")) else {
            panic!("an idiom that is a phrase compiles")
        };
        assert_eq!(e[0].field, "idioms[0]");
        assert!(
            e[0].message.contains("is also a phrase of the rules"),
            "{e:?}"
        );
        let Err(e) = Rules::from_str("t.toml", &src("\" \"")) else {
            panic!("an empty idiom compiles")
        };
        assert_eq!((&*e[0].field, &*e[0].message), ("idioms[0]", "empty idiom"));
    }

    #[test]
    fn negated_phrases_are_checked_against_the_negators_and_their_category() {
        let bug =
            "[[categories]]\nname = \"bug\"\nphrases = [\"crash\"]\nnegated_phrases = [\"work\"]";
        assert!(warnings(bug, "negators = [\"not\"]").is_empty());
        // Without negators they never count.
        assert_eq!(
            warnings(bug, ""),
            [(
                "categories[0].negated_phrases".to_string(),
                "negated phrases count only after a negator, and [sentiment] negators lists none"
                    .to_string()
            )]
        );
        // A phrase and a negated phrase of one category with the same stems:
        // negated, it would count twice.
        let twice =
            "[[categories]]\nname = \"bug\"\nphrases = [\"works\"]\nnegated_phrases = [\"work\"]";
        let w = warnings(twice, "negators = [\"not\"]");
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].0, "categories[0].negated_phrases[0]");
        assert!(
            w[0].1.contains("both a phrase and a negated phrase"),
            "{w:?}"
        );
    }

    #[test]
    fn a_negator_without_its_apostrophe_negates_in_the_lexicon() {
        let src = "version = \"t\"\n[[levels]]\nname = \"P1\"\ntopic = \"p1\"\n[sentiment]\nlexicon = true\nnegators = [\"haven't\"]\n[sla]\ndefault_policy = \"s\"\n[sla.policies.s]\ntargets.P1 = { first_response = \"1h\", resolution = \"4h\" }\n";
        // Test code: the policy compiles and has the lexicon.
        let rules = Rules::from_str("t.toml", src).unwrap().rules;
        let lex = rules.sentiment.lexicon.as_ref().unwrap();
        let mut scratch = crate::sentiment::SentimentScratch::default();
        let mut score = |t: &str| lex.score(t, "", Default::default(), &mut scratch).compound;
        assert!(score("I enjoyed it") > 0.0);
        assert!(score("I haven't enjoyed it") < 0.0);
        // Not a negator of the lexicon's own: from the rules' "haven't".
        assert!(score("I havent enjoyed it") < 0.0);
    }

    #[test]
    fn disowned_phrases_are_checked_like_negated_ones() {
        let security = "[[categories]]\nname = \"security\"\nphrases = [\"hacked\"]\ndisowned_phrases = [\"make\"]";
        assert!(warnings(security, "negators = [\"not\"]").is_empty());
        assert_eq!(
            warnings(security, ""),
            [(
                "categories[0].disowned_phrases".to_string(),
                "disowned phrases count only after a negator, and [sentiment] negators lists none"
                    .to_string()
            )]
        );
        // Negated and disowned in one category: disowned, it counts twice.
        let twice = "[[categories]]\nname = \"security\"\nnegated_phrases = [\"makes\"]\ndisowned_phrases = [\"make\"]";
        let w = warnings(twice, "negators = [\"not\"]");
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].0, "categories[0].disowned_phrases[0]");
        assert!(
            w[0].1
                .contains("both a negated phrase and a disowned action"),
            "{w:?}"
        );
        // Errors: a negator inside, the stems of another category's phrase.
        let src = |categories: &str| {
            format!(
                "version = \"t\"\n[[levels]]\nname = \"P1\"\ntopic = \"p1\"\n{categories}\n[sentiment]\nnegators = [\"not\", \"never\"]\n[sla]\ndefault_policy = \"s\"\n[sla.policies.s]\ntargets.P1 = {{ first_response = \"1h\", resolution = \"4h\" }}\n"
            )
        };
        for (categories, field, says) in [
            (
                "[[categories]]\nname = \"security\"\ndisowned_phrases = [\"never made\"]",
                "categories[0].disowned_phrases[0]",
                "disowned action \"never made\" holds the negator \"never\"",
            ),
            (
                "[[categories]]\nname = \"billing\"\nphrases = [\"made\"]\n[[categories]]\nname = \"security\"\ndisowned_phrases = [\"made\"]",
                "categories[1].disowned_phrases[0]",
                "disowned action \"made\" is listed under both \"billing\" (as a phrase) and \"security\"",
            ),
        ] {
            // Test code: these policies must not compile.
            let e = Rules::from_str("t.toml", &src(categories)).unwrap_err();
            assert!(
                e.iter().any(|d| d.field == field && d.message.contains(says)),
                "{e:?}"
            );
        }
    }
}
