//! The rules file, as written by a support lead (TOML). Every field is documented
//! here; these doc comments are the reference (`README.md` links here, and
//! `config/rules.toml` is a worked example of every strategy).
//!
//! Unknown keys are errors (`deny_unknown_fields`): a typo never silently turns
//! a rule off. Points are whole numbers; the score is their sum.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::calendar::CalendarConfig;

/// The whole rules file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// A name for this policy, e.g. `"2026-11.1"`. Outputs carry
    /// `rules_version = "<version>+<hash>"`, where `<hash>` is a short hash of
    /// the file's bytes, so an edit without a version bump is still visible.
    #[serde(default)]
    pub version: Option<String>,

    /// Priority levels, most urgent first. A ticket gets the first level whose
    /// `min_score` its score reaches; the last level takes everything else and
    /// has no `min_score`.
    pub levels: Vec<LevelConfig>,

    /// Points from who the customer is (customer strategies).
    #[serde(default)]
    pub customer: CustomerConfig,

    /// The segment used for a ticket whose customer is not in the table, and
    /// for fields a customer record leaves out.
    #[serde(default)]
    pub unknown_customer: DefaultSegmentConfig,

    /// Request categories, detected from subject + body by phrase. Order
    /// breaks ties (earlier wins).
    #[serde(default)]
    pub categories: Vec<CategoryConfig>,

    /// The category of a ticket in which no category phrase was found.
    #[serde(default = "default_category")]
    pub default_category: String,

    /// Idioms: word groups whose words mean something else together than
    /// the rules' phrases inside them ("drop down" and "scroll down" are no
    /// outage's "down", "error free" no bug's "error"). A category, severity
    /// or condition phrase inside an idiom is not counted (the idiom hides
    /// it, as a longer phrase of a category hides a shorter one: the
    /// leftmost, longest match wins), and the idiom counts for nothing
    /// itself; a phrase elsewhere in the ticket still counts. Matched as
    /// phrases are (case-insensitively, inflections too: "drop downs",
    /// "scrolling down"; a hyphen is a word boundary, so "drop down" also
    /// reads "drop-down"). The sentiment lexicon does not rate their words
    /// ("drop" in "drag and drop"); the sentence model does not read them.
    /// An idiom that holds no phrase of the rules nor a word the lexicon
    /// rates hides nothing (a warning); one that is a phrase itself is an
    /// error.
    #[serde(default)]
    pub idioms: Vec<String>,

    /// Categories by meaning: how `categories[].examples` count.
    #[serde(default)]
    pub semantic: SemanticConfig,

    /// Severity levels detected from the text.
    #[serde(default)]
    pub severity: SeverityConfig,

    /// Sentiment (the emotional side of the request) detected from the text.
    #[serde(default)]
    pub sentiment: SentimentConfig,

    /// The languages the rules' phrases and examples are written in.
    #[serde(default)]
    pub language: LanguageConfig,

    /// Mail no person wrote: automatic replies and delivery failure notices.
    #[serde(default)]
    pub automatic: AutomaticConfig,

    /// Points for the priority the customer selected: keys `low`, `normal`,
    /// `high`, `urgent`. A missing key is 0 points.
    #[serde(default)]
    pub reported_priority: BTreeMap<String, i64>,

    /// Business impact from the ticket's `affected_users`.
    #[serde(default)]
    pub impact: ImpactConfig,

    /// Ageing (first come, first served): points for time since `created_at`.
    #[serde(default)]
    pub ageing: AgeingConfig,

    /// Extra points when a condition holds: tags, channel, custom fields,
    /// phrases, or any combination with the other facts. All that match add up.
    #[serde(default)]
    pub conditions: Vec<ConditionConfig>,

    /// Overrides ("pick and choose"), applied in order after the score has
    /// picked a level. See [`OverrideConfig`].
    #[serde(default)]
    pub overrides: Vec<OverrideConfig>,

    /// Where a ticket should be worked: skill queue and support tier.
    #[serde(default)]
    pub routing: RoutingConfig,

    /// SLA policies, their targets per level, and calendars.
    pub sla: SlaConfig,

    /// Trained text classifiers the engine consults (see `triage train`).
    #[serde(default)]
    pub models: ModelsConfig,

    /// Customer acknowledgment: a message telling the customer how long they
    /// will wait. Optional.
    #[serde(default)]
    pub acknowledgment: Option<AcknowledgmentConfig>,
}

/// `[language]`: which languages the rules read. Every ticket's language is
/// detected from its text (`triage.language` in the output; `text_language`
/// in conditions and routing). The phrases, examples and sentiment lexicon
/// read one language each; a ticket in a language they do not read is
/// flagged (a `language` reason, `language_covered = false` in conditions
/// and routing) instead of passing as a plain `other` ticket.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageConfig {
    /// ISO 639-1 codes of the languages the rules are written in. Default
    /// `["en"]` (the shipped phrases, the bundled sentence model and the
    /// sentiment lexicon are English).
    #[serde(default = "default_covered")]
    pub covered: Vec<String>,
    /// Points for a ticket whose text is in a language not in `covered`
    /// (its category and sentiment rest on thin evidence). Default 0.
    #[serde(default)]
    pub uncovered_points: i64,
    /// Read a mistyped word of English text ("inovice", "pealties", "acount")
    /// as the word one edit away that was meant — a letter missing, extra,
    /// wrong, or two swapped — before phrases, examples and the lexicon read
    /// the text. Only words of at least 5 letters that are no word of the
    /// bundled dictionaries or of these rules' phrases are corrected; the
    /// rules' phrase words are preferred, then the most common dictionary
    /// word. Each correction is listed in a `spelling` reason (0 points).
    /// Default true.
    #[serde(default = "yes")]
    pub spelling: bool,
}

/// `[automatic]`: mail that no person wrote to the support team — an
/// automatic reply ("Automatic reply: …", "Out of Office: …", "OOO") or a
/// delivery failure notice ("Undeliverable: …", "Delivery Status
/// Notification (Failure)"; "Mail delivery failed" only with a delivery
/// status report in the body), told by the subject as mail servers and
/// clients write it (in English, German, French, Spanish, Italian and
/// Dutch). Its text is not read as a request (the subject it answers and
/// its "for urgent matters" are no customer's words): it gets the default
/// category and severity, neutral sentiment, an `automatic` reason with
/// `points`, and `automatic = true` in conditions, overrides and routing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomaticConfig {
    /// Tell such mail apart. Default true; false reads it as any ticket.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Points for such mail. Default 0.
    #[serde(default)]
    pub points: i64,
}

impl Default for AutomaticConfig {
    fn default() -> Self {
        AutomaticConfig {
            enabled: true,
            points: 0,
        }
    }
}

impl Default for LanguageConfig {
    fn default() -> Self {
        LanguageConfig {
            covered: default_covered(),
            uncovered_points: 0,
            spelling: true,
        }
    }
}

fn default_covered() -> Vec<String> {
    vec!["en".into()]
}

fn default_category() -> String {
    "other".into()
}

/// One priority level: `[[levels]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelConfig {
    /// The level's name, e.g. `"P1"`; used in outputs, overrides, SLA targets.
    pub name: String,
    /// The lowest score that reaches this level. Must decrease strictly from
    /// one level to the next; the last level has none (it takes the rest).
    #[serde(default)]
    pub min_score: Option<i64>,
    /// The Kafka topic tickets of this level are published to.
    #[serde(default)]
    pub topic: Option<String>,
    /// What the level means, for people reading the file.
    #[serde(default)]
    pub description: Option<String>,
}

/// Customer strategies: `[customer]`. Every map is value → points; a value
/// not in a map scores 0.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerConfig {
    /// Account-type strategy, e.g. `{ enterprise = 20, business = 10 }`.
    #[serde(default)]
    pub account_type: BTreeMap<String, i64>,
    /// Plan-based strategy (support sold as a product), e.g. `{ premium = 20 }`.
    #[serde(default)]
    pub support_plan: BTreeMap<String, i64>,
    /// Points for a VIP customer.
    #[serde(default)]
    pub vip: i64,
    /// Persona strategy, e.g. `{ power_user = 5, developer = 5 }`.
    #[serde(default)]
    pub persona: BTreeMap<String, i64>,
    /// Customer-category strategy, e.g. `{ new = 5, at_risk = 12 }`.
    #[serde(default)]
    pub lifecycle: BTreeMap<String, i64>,
    /// ARR bands: the band with the highest `min` not above the customer's
    /// ARR gives its points.
    #[serde(default)]
    pub arr_bands: Vec<ArrBand>,
}

/// One ARR band: `[[customer.arr_bands]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrBand {
    /// Lower bound of annual recurring revenue, inclusive.
    pub min: f64,
    /// Points for customers in this band.
    pub points: i64,
}

/// The default segment: `[unknown_customer]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultSegmentConfig {
    /// Default `"unknown"`.
    #[serde(default = "unknown")]
    pub account_type: String,
    /// Default `"basic"`.
    #[serde(default = "basic")]
    pub support_plan: String,
    /// Default false.
    #[serde(default)]
    pub vip: bool,
    /// Default `"unknown"`.
    #[serde(default = "unknown")]
    pub persona: String,
    /// Default `"unknown"`.
    #[serde(default = "unknown")]
    pub lifecycle: String,
    /// Default 0.
    #[serde(default)]
    pub arr: f64,
    /// Points added for any ticket whose customer is not in the table (may be
    /// negative). Default 0.
    #[serde(default)]
    pub points: i64,
}

impl Default for DefaultSegmentConfig {
    fn default() -> Self {
        DefaultSegmentConfig {
            account_type: unknown(),
            support_plan: basic(),
            vip: false,
            persona: unknown(),
            lifecycle: unknown(),
            arr: 0.0,
            points: 0,
        }
    }
}

fn unknown() -> String {
    "unknown".into()
}
fn basic() -> String {
    "basic".into()
}

/// One request category: `[[categories]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryConfig {
    /// e.g. `"outage"`.
    pub name: String,
    /// Points for a ticket of this category.
    #[serde(default)]
    pub points: i64,
    /// Phrases that indicate it, matched case-insensitively on word
    /// boundaries, with their inflections (a phrase written once matches
    /// the words that share its stems: "cancel" also matches "cancelled",
    /// "cancellation"). A phrase counts its words but the grammatical ones
    /// ("reset password" two, "how do i" and "log in" one: a question's or a
    /// verb's small words say nothing of the topic), twice in the subject. A
    /// phrase may belong to one category only (compared by stems).
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Phrases that indicate it only when negated — after a negator of
    /// `[sentiment] negators` ("not", "never", "don't", …) within
    /// `negation_window` words in the same clause: `"recognize"` under
    /// security reads "I don't recognize this charge" and "a login we did
    /// not recognise", not "please recognize the new domain". Matched and
    /// weighed like `phrases` (inflections too; one in the body does not
    /// decide alone); the reason says the phrase was negated. Disowned by
    /// the customer it weighs three times as much, like a disowned action:
    /// when the negator right before it (one word between at most) is the
    /// customer denying an action of theirs ("I don't recognize this
    /// charge", "we did not recognise": the denials of `disowned_phrases`)
    /// or a state ("I'm not recognizing", "we are not recognising"), or
    /// when the phrase names the customer ("me", "us", "mine", "ours",
    /// "myself", "ourselves") right after "not", "isn't", "wasn't", "aren't"
    /// or "weren't" (`"mine"` reads "a payment that is not mine", "it isn't
    /// mine"; not "no longer mine", "not just mine", and `"by us"` not "not
    /// sent by us", a word between; `"me"`, `"us"` only as what something
    /// is: "that was not me", "it wasn't us", not "(not me)"); the reason
    /// then says `disowned phrase "…"`. A phrase naming the customer counts
    /// only so ("I haven't received mine" is nothing). "Not just", "not only" negate nothing. It holds no
    /// negator itself, and shares its stems with no phrase of another
    /// category.
    #[serde(default)]
    pub negated_phrases: Vec<String>,
    /// A phrase of this category that is negated (after a negator of
    /// `[sentiment] negators` within `negation_window` words in its clause:
    /// "no outage on our side", "we were not hacked", "not a bug") says the
    /// problem is absent: it does not count, as a negated severity phrase
    /// does not ("no data loss"). For categories of problems; not for
    /// requests ("we never received the invoice" is billing). The examples
    /// may still choose the category by meaning. Default false.
    #[serde(default)]
    pub absent_if_negated: bool,
    /// Categories whose phrases name things this category's phrases say
    /// befell: one of its phrases said of a phrase of a listed category in
    /// the same clause — right before it ("a fraudulent payment", "stolen
    /// credit card", "suspicious login attempts"), or after it (and a noun
    /// it qualifies: "the login page is down") with up to three forms of
    /// "be", "get", "seem", "look", "appear" or adverbs between ("my
    /// password was stolen", "our account has just been hacked", "this
    /// charge looks suspicious", "login is down") — makes that phrase count
    /// for this category instead: it names what was befallen, not what the
    /// ticket is about. Not for a phrase negated. List the categories of
    /// things (shipped: security and outage take billing's and account's
    /// phrases); not one of what happens (a bug's "error" before an
    /// outage's "503" is one failure). The reason says `phrase "stolen" said
    /// of "password"`. Default none.
    #[serde(default)]
    pub befalls: Vec<String>,
    /// Actions that indicate it when the customer disowns them: the phrase (a verb)
    /// right after a negator of `[sentiment] negators` (one word between at most)
    /// that denies an action — "didn't", "don't", "never", "haven't", "hasn't",
    /// "hadn't", or "not" after "did", "do", "have", "has", "had" (not an inability,
    /// "can't", nor a state, "am not") — spoken by the customer ("I" or "we" right
    /// before it or with up to two auxiliaries or adverbs between: "I definitely did
    /// not"; or in a clause after a denied belief: "I don't think I made this
    /// payment", "we do not believe we authorized it") — or a negated passive naming the
    /// customer ("a purchase that wasn't made by me", "was never authorized by us"; not
    /// "no changes made by us", "couldn't be created by me"), and
    /// the thing acted on shown: standing before the verb,
    /// the clause ending after it or the sentence going on past it with a
    /// preposition or its own verb ("on", "from", "shows", "is", …), pointed at
    /// after it ("this", "these", "those"; not "that": "I didn't make that
    /// clear"), or "it" ending the clause ("I did not do it."). `"make"` under
    /// security reads
    /// "a payment I didn't make", "there are logins we did not make!", "a payment I
    /// didn't make shows in my app", "I didn't make this payment", and `"request"`
    /// "a reset email I never requested."; not "I didn't make any changes" (the
    /// verb has another object after it), "the payment was not made" (no one
    /// speaking disowns it), "we can't do" (an inability) nor "please make me an
    /// admin". Denied after it, the verb left out, counts too: "I" or "we"
    /// right before the verb and its sentence ending in "but I didn't" ("The
    /// app says I made a withdrawal, but I didn't.", "the log says we created
    /// these keys but we never did"; not "I made a payment but I didn't get
    /// the invoice"). Only the verb's
    /// forms count ("authorized", not "authorization"). A disowned action weighs
    /// three times what its phrase weighs: the construction says what happened was
    /// not the customer's doing, which outweighs a word naming what it was done to
    /// ("payment"). The reason says `disowned action "make"`. Regular inflections
    /// match; list irregular ones ("made") as well. It holds no negator, and shares
    /// its stems with no phrase of another category. (English: the subject and the
    /// word order are English ones.)
    #[serde(default)]
    pub disowned_phrases: Vec<String>,
    /// Phrases that say how the customer asks, not what about ("how do i",
    /// "is it possible", "where can i"): matched and weighed like `phrases`,
    /// they count only when no other category's phrase is found — the topic
    /// decides ("How do I delete my account?" is account, "How do I export
    /// a report?" stays here). The sentence model reads neither a ticket's
    /// nor an example's asking phrases (examples are compared by topic), and
    /// in a question that reports no problem their weight adds nothing to
    /// the examples' phrase bonus: the form counts once, as
    /// `[semantic].question_bonus` ("How do I update my profile details?"
    /// is account). Nor do they alone decide without the examples at
    /// `phrases_decide_at` ("Quick question" in the subject). Optional;
    /// usually the question category's.
    #[serde(default)]
    pub asking_phrases: Vec<String>,
    /// Words for someone other than the customer (`"someone"`,
    /// `"somebody"`) that indicate it when that person intrudes on the
    /// customer's things: the word, then ("else", and up to four
    /// auxiliaries, modals or adverbs between) a verb of intrusion — using,
    /// accessing, logging in, taking, stealing, withdrawing, spending,
    /// buying, copying, changing, resetting,
    /// opening, signing, transferring, ordering, trying, making, entering,
    /// breaking, knowing (charging only for "someone else": "someone charged
    /// my card twice" is a billing error, "someone else charged my card" is
    /// not) — in the past or as a participle (not after "be": "someone else
    /// was charged" is acted on), or in progress after "be" ("is using"),
    /// or "have" itself before what is had ("has
    /// my card", "has access to"), and the customer's own ("my", "our",
    /// "mine", "ours") within four words after the verb in the clause —
    /// "someone used my card", "somebody is logging into our account",
    /// "someone might have access to my card", "someone else knows my
    /// password" — or the word after such a verb and "by" ("a payment made
    /// by someone else", "my card was used by somebody"). Not a request
    /// ("can someone check my invoice?"), an identified person ("someone
    /// from your team", "someone who", "someone named Anna"; a place that
    /// names no one does not identify: "someone from an unknown IP logged
    /// into our account", "somebody in another country"), nor another
    /// verb ("someone updated my ticket", "someone told me", "created by
    /// someone else"). Weighs three times its phrase, like a disowned
    /// action, and decides like one; the reason says `stranger "someone"`.
    /// (English.)
    #[serde(default)]
    pub strangers: Vec<String>,
    /// Example requests of this category, in the customer's words (a few
    /// sentences; see `[semantic]`). A ticket is compared with them by
    /// meaning, not words: "why did you bill me two times" resembles "I was
    /// charged twice on my invoice". The reason names the example it
    /// resembled most.
    #[serde(default)]
    pub examples: Vec<String>,
}

/// `[semantic]`: how example sentences (`categories[].examples`) decide the
/// category together with phrases. The ticket (subject and body) and each
/// example are embedded with the bundled static sentence model (see
/// `models/embeddings/NOTICE`); a category's similarity is the mean of the
/// ticket's cosine to its nearest example and to the centroid of its
/// examples. Each category's score is that similarity plus `phrase_bonus`
/// per unit of phrase weight (at most 3 units); the highest score wins if
/// it reaches `threshold`, else the phrases alone decide (most weight wins;
/// none: the default category). Without examples, phrases alone decide.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticConfig {
    /// Least score for a category to be chosen by meaning (0–1). Default 0.35.
    #[serde(default = "default_semantic_threshold")]
    pub threshold: f32,
    /// Score per unit of phrase weight (a one-word phrase in the body is 1,
    /// in the subject 2), at most 3 units. Default 0.1.
    #[serde(default = "default_phrase_bonus")]
    pub phrase_bonus: f32,
    /// Phrase confidence at or above which the phrases decide alone and the
    /// examples are not consulted (0–1; 1 consults them always). The phrase
    /// confidence is the winner's share of all category phrase weight times
    /// w / (w + 1) for its weight w: two body phrases of one category and no
    /// other give 0.67, one subject phrase 0.67, one body phrase 0.5.
    /// Reading by meaning costs most of the engine's time per ticket; a
    /// ticket that names its category plainly does not need it. A category
    /// whose phrases win with a disowned phrase or action among them ("a
    /// payment I didn't make", "I don't recognize this charge") decides as
    /// if its confidence reached this: the examples such a message resembles
    /// ("our card payment failed") name what was done, not that the
    /// customer did not do it; its confidence is then at least this (so a
    /// `min_category_confidence` at or below it is met). At 1 (the default)
    /// the examples are always consulted, a disowning too.
    #[serde(default = "default_phrases_decide_at")]
    pub phrases_decide_at: f32,
    /// How far (0–1) a category chosen by meaning must lead the runner-up —
    /// the next best category's score — to be sure of it. Its confidence
    /// (`triage.confidence.category`, what `min_category_confidence` reads)
    /// is 0.5 at a tie, a toss-up between the two, rising to 1 at this lead
    /// (with no runner-up, the lead is over `threshold`), and never above
    /// its score: text that resembles no example closely is no sure choice.
    /// The category earns its points times that confidence ("outage … 22 of
    /// its 35 points"); a category the phrases decide alone earns all of
    /// them. The lead tells a right choice from a wrong one where the
    /// similarity does not: a short routine request ("update info on my pro
    /// account") is about as near a security example as an account one,
    /// and then earns neither a security floor nor its full points. 0 takes
    /// every choice by meaning as sure as its score. Default 0.1.
    #[serde(default = "default_clear_lead")]
    pub clear_lead: f32,
    /// Least similarity (0–1) to a severity level's `examples` for a ticket
    /// without severity phrases to take that level; below it, the default
    /// severity stays. Default 0.6.
    #[serde(default = "default_severity_threshold")]
    pub severity_threshold: f32,
    /// The category a question leans towards: a ticket that asks (a `?`,
    /// or its subject or body opens with "how", "what", "can", "is", …; not
    /// "when", "what", "where", … before a subject, which open a clause:
    /// "When I paste text the formatting is garbled"; nor "would", "can",
    /// "does", … before "be", "not", "love", …, which leave the subject out
    /// of a statement: "Would be cool if I could pin chats") and
    /// reports no problem (its sentiment is not negative) adds
    /// `question_bonus` to this category's score. The examples tell what a
    /// request is about ("cards", "invoices"), the question form what it
    /// asks for: "how do the cards work?" wants an explanation. This bonus
    /// is all the form counts for by meaning: the examples are compared
    /// without the asking phrases, and theirs add no phrase bonus then (see
    /// `categories[].asking_phrases`). A question whose topic a phrase of
    /// another category names leans nowhere ("How can I add seats?":
    /// account's "seat"): the form yields to the topic, as the asking
    /// phrases do. A question holding another category's asking phrases
    /// leans towards that category instead (the one whose weigh most):
    /// "Could you add a calendar view?" asks for something new
    /// (feature_request's "could you add"), not how something is done.
    /// Unset: no category leans.
    #[serde(default)]
    pub question_category: Option<String>,
    /// Score a question adds to `question_category` (0–1). Default 0.1.
    #[serde(default = "default_phrase_bonus")]
    pub question_bonus: f32,
    /// Categories a message that reports a failure is not put in by meaning:
    /// a negated action or expectation ("the search doesn't return any
    /// results", "I have not been able to use this card"), an expectation
    /// not met ("was supposed to sync") or a recurrence ("keeps logging me
    /// out"). A request for something new reports nothing broken, however
    /// much its words resemble one ("Please add support for exporting
    /// reports as PDF"). Their phrases still count ("It would be great if
    /// the export didn't time out" is a feature request by its phrase).
    /// Default none.
    #[serde(default)]
    pub failure_excludes: Vec<String>,
    /// Categories a message that states an impact is not put in by
    /// meaning: a severity phrase above the default level counted, or an
    /// impact or data loss stated ("calls drop for everyone in our office",
    /// "300 orders are stuck"; not a deadline), outside a calm question. A message
    /// that says what a problem costs reports one, however much its words
    /// resemble "I am out of the office until Monday". Their phrases still
    /// count. Default none.
    #[serde(default)]
    pub impact_excludes: Vec<String>,
    /// Categories (names from `[[categories]]`) a positive message that
    /// reports no failure is not chosen for by meaning: "Thanks, the new
    /// keyboard works perfectly" resembles "This feature stopped working",
    /// and is no bug. Their phrases still count ("Love the app, but the
    /// export is broken" is a bug by "broken"). Default none.
    #[serde(default)]
    pub praise_excludes: Vec<String>,
    /// Words that say the customer wants something (English, one word
    /// each, matched with their inflections as phrases are: "please",
    /// "would", "need", "suggest", "option", …). See `wantless_excludes`.
    #[serde(default)]
    pub wants: Vec<String>,
    /// Categories a message that asks nothing and wants nothing — no
    /// question (a `?`, or an opening "how", "can", …), at least four
    /// words (a shorter label, "Supported browsers", says too little of its
    /// form) and none of `wants` — is not put in by meaning, unless a
    /// phrase of theirs counted. A request for something new, or for how to
    /// do something, asks or wants; a statement of what the product does
    /// ("The mobile app shows a blank screen after login", "The CSV export
    /// puts dates in the wrong format") reports it, however much it
    /// resembles "Please add support for exporting reports as PDF" or "Is
    /// it possible to export our data to a spreadsheet?". Default none.
    #[serde(default)]
    pub wantless_excludes: Vec<String>,
    /// The category a wish leans towards: a message that reports no
    /// problem (its sentiment is not negative, no failure) in which a modal
    /// ("would", "could", "'d") is followed, at most four words on and
    /// before any "not", by one of `wish_words` ("It would be really useful
    /// to tag tasks by client", "We'd love a dark mode", "Being able to
    /// schedule posts would save us hours") adds `wish_bonus` to this
    /// category's score, as a question adds `question_bonus` to
    /// `question_category`. A question leans by its question form instead,
    /// and a wish whose topic a phrase of another category names leans
    /// nowhere, as a question does ("It would be great to get a refund" is
    /// billing by "refund"). Unset: no category leans.
    #[serde(default)]
    pub wish_category: Option<String>,
    /// Score a wish adds to `wish_category` (0–1). Default 0.1.
    #[serde(default = "default_phrase_bonus")]
    pub wish_bonus: f32,
    /// Words of a benefit (English, one word each, matched with their
    /// inflections as phrases are: "useful", "love", "save", …) that make a
    /// modal before them a wish. See `wish_category`.
    #[serde(default)]
    pub wish_words: Vec<String>,
}

fn default_severity_threshold() -> f32 {
    0.6
}

fn default_semantic_threshold() -> f32 {
    0.35
}
fn default_phrase_bonus() -> f32 {
    0.1
}
fn default_clear_lead() -> f32 {
    0.1
}

fn default_phrases_decide_at() -> f32 {
    1.0
}

impl Default for SemanticConfig {
    fn default() -> Self {
        SemanticConfig {
            threshold: default_semantic_threshold(),
            phrase_bonus: default_phrase_bonus(),
            clear_lead: default_clear_lead(),
            phrases_decide_at: default_phrases_decide_at(),
            severity_threshold: default_severity_threshold(),
            question_category: None,
            question_bonus: default_phrase_bonus(),
            failure_excludes: vec![],
            impact_excludes: vec![],
            praise_excludes: vec![],
            wants: vec![],
            wantless_excludes: vec![],
            wish_category: None,
            wish_bonus: default_phrase_bonus(),
            wish_words: vec![],
        }
    }
}

/// `[severity]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityConfig {
    /// Severity levels, most severe first.
    #[serde(default = "default_severities")]
    pub levels: Vec<SeverityLevelConfig>,
    /// The severity of a ticket in which no severity phrase was found.
    #[serde(default = "medium")]
    pub default: String,
    /// Points for corroborating evidence (see [`GradingConfig`]).
    #[serde(default)]
    pub grading: GradingConfig,
    /// What a problem does to the customer's business, said as a verb and
    /// what it hits (see [`StatedImpactConfig`]). Optional.
    #[serde(default)]
    pub stated_impact: Option<StatedImpactConfig>,
    /// A near time the customer needs something by, said with a word of
    /// need (see [`DeadlineConfig`]). Optional.
    #[serde(default)]
    pub deadline: Option<DeadlineConfig>,
    /// Data the customer has lost, said as what befell it (see
    /// [`DataLossConfig`]). Optional.
    #[serde(default)]
    pub data_loss: Option<DataLossConfig>,
}

/// `[severity.data_loss]`: data the customer reports lost — "some records
/// are missing", "the database got corrupted", "our files have disappeared",
/// "the sync wiped all our contacts" — as a phrase of `level`, as "data
/// loss" written out is. One of `things` (matched as phrases are, with
/// their inflections) and one of `losses` (one word each, as written: no
/// forms) in one clause: the loss after the thing, a noun qualified first
/// and up to three forms of "be", "have", "get", "went" or adverbs between
/// ("the database tables are corrupted", "records went missing"), and then
/// the clause's end or a word that does not start an object ("missing from
/// the report", "lost during the migration", "gone since Monday"; not "the
/// export file is missing a column", "the sheet lost its formatting"); or the
/// loss before the thing with one to three words of quantity or a
/// determiner between ("lost all our data", "wiped the database"; not
/// "deleted files" alone, which names a folder as often). Not with a
/// negator right before ("no data was lost", "we have not lost any files"),
/// nor as a supposition ("if the records are deleted", "in case data is
/// lost"); in a question that reports no problem ("Are deleted files kept?")
/// it counts a level down, as phrases do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataLossConfig {
    /// The severity level data loss is a phrase of (a name from
    /// `[[severity.levels]]`).
    pub level: String,
    /// Words of the customer's data ("data", "records", "files",
    /// "database"), one word each, matched as phrases are ("record" also
    /// "records").
    pub things: Vec<String>,
    /// Words of what befell it ("lost", "missing", "gone", "deleted",
    /// "corrupted", "disappeared"), one word each, as written: list each
    /// form that says it ("corrupt", "corrupted").
    pub losses: Vec<String>,
}

/// `[severity.deadline]`: a near time the customer needs something by — "we
/// need it fixed before the end of the day", "the report is due tomorrow",
/// "it must work by Friday" — as a phrase of `level`. One of `times` with
/// one of `markers` before it in its clause, at most `window` words between
/// ("needed for the audit tomorrow"; "need the report for the board meeting
/// tomorrow", five words between, is too far at the default window of 4),
/// or right after one of `prepositions` but for words of the time's phrase
/// ("by Friday", "before noon on Monday"; not "charged by your system
/// today"). A time matches as a phrase does (its inflections); a marker is
/// one word, matched with its forms ("need" also "needs", "needed"). Not
/// with a negator between, nor right before the marker ("we don't need it
/// by Friday", "no need to fix it today").
/// A time alone ("since Monday", "it failed today") and a marker alone
/// ("we need help") say nothing; in a question that reports no problem it
/// counts a level down, as phrases do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineConfig {
    /// The severity level a deadline is a phrase of (a name from
    /// `[[severity.levels]]`).
    pub level: String,
    /// Words of a near time ("today", "tomorrow", "tonight", "friday",
    /// "eod"), one word each.
    pub times: Vec<String>,
    /// Words that say something is needed by a time a few words on
    /// ("due", "need", "must", "deadline"), one word each.
    pub markers: Vec<String>,
    /// Words that take the time as their object ("by", "before",
    /// "within"): only words of the time's phrase between ("by this coming
    /// Friday", "before noon on Monday"; not "charged by your system
    /// today"), one word each.
    #[serde(default)]
    pub prepositions: Vec<String>,
    /// The most words between a marker and its time. Default 4.
    #[serde(default = "stated_impact_window")]
    pub window: u32,
}

/// `[severity.stated_impact]`: the impact a customer states in a clause of their
/// own — "this is affecting our sales team's daily work", "it halted
/// production", "disrupting operations" — as a phrase of `level`. A verb
/// and a scope match as phrases do (their inflections, misspellings), the
/// scope after the verb in the same clause, at most `window` words between
/// ("affecting our sales team's daily work": "affecting" … "team", three
/// words between). Not negated ("it does not affect our customers"); in a
/// question that reports no problem ("Will the upgrade affect our users?")
/// it counts as a cue does, a level down, as phrases do. A scope alone
/// ("our team") and a verb alone ("this affects the export") say nothing.
/// An expectation ([`SentimentConfig::expectations`]) that a subject of
/// no one names a scope in ([`SentimentConfig::subject_negators`]: "none
/// of our users can log in", "nobody on the team can access it") states
/// the impact too, quoted from the subject to the expectation. So does a
/// scope named before what befalls it, in its clause and within the
/// window: the subject of a verb of impact right after a copula or right
/// after the scope ("our customers are affected", "our whole sales team is
/// stuck", "Operations disrupted"; not "our team says the bug affects the
/// export"), or of an expectation negated by a negator that takes a verb
/// ("our users can't log in", "customers cannot pay"; not "I can't log
/// in", nor "the team is not working today"), quoted from the scope. And an
/// expectation that fails (negated, or by a subject of no one) for a scope
/// named after "for" in its clause: people (a noun of [`ImpactConfig::people`]:
/// "the dashboard will not load for any of our users", "emails never arrive
/// for our customers") or any scope after a word of the whole ("all", "any",
/// "every", "whole", "entire": "nothing syncs for the whole team"); not after
/// a word of one ("for one of our users", "for a customer", "for my team"),
/// nor a scope that may be a purpose ("does not work for our workflow"),
/// quoted from the negator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatedImpactConfig {
    /// The severity level a stated impact is a phrase of (a name from
    /// `[[severity.levels]]`).
    pub level: String,
    /// Verbs of impact ("affect", "impact", "disrupt", "halt").
    pub verbs: Vec<String>,
    /// What they hit that makes it the business's problem ("team",
    /// "operations", "customers", "production"): one word each, matched
    /// with its inflections ("users" also "user"), not by its stem alone
    /// ("production" is not "product"). A plural in "-ies" does not give
    /// its singular: list both ("deliveries", "delivery").
    pub scopes: Vec<String>,
    /// The most words between the verb and its scope (either side). Default 4.
    #[serde(default = "stated_impact_window")]
    pub window: u32,
    /// The category (a name from `[[categories]]`) an expectation that a
    /// whole group of people cannot meet counts as a phrase of: no one of a
    /// group ("none of our 60 agents can open the app", "nobody on the team
    /// can access it") or a group as the subject ("our customers cannot
    /// pay") — a service a whole group cannot use is down. The group is
    /// people (`[impact] people`, "team", "company", "office"): "our money
    /// transfer hasn't arrived" names none. What fails for a group ("emails
    /// never arrive for our customers") and a verb of impact ("this is
    /// affecting our team") count for severity only. Unset: for no category.
    #[serde(default)]
    pub unmet_category: Option<String>,
    /// Words of the whole ("all", "every", "whole", "entire"; one word
    /// each): one with a group at most `window` words on in its clause —
    /// people (`[impact] people`), a team, the company, its offices,
    /// stores, branches, sites, locations or departments — only
    /// possessives, numbers, "of", "the" and nouns between, states the
    /// impact in a message that reports a problem (it reads negative, or an
    /// expectation is not met): "the export calculated wrong overtime for
    /// all employees", "sync has stopped for all of our 40 locations". Not
    /// after a negator ("not all users"), nor a greeting ("Hi all"); not
    /// in a message that reports nothing ("please send the newsletter to all
    /// our employees"). Default none.
    #[serde(default)]
    pub wholes: Vec<String>,
}

fn stated_impact_window() -> u32 {
    4
}

impl Default for SeverityConfig {
    fn default() -> Self {
        SeverityConfig {
            levels: default_severities(),
            default: medium(),
            grading: GradingConfig::default(),
            stated_impact: None,
            deadline: None,
            data_loss: None,
        }
    }
}

fn medium() -> String {
    "medium".into()
}

fn default_severities() -> Vec<SeverityLevelConfig> {
    ["critical", "high", "medium", "low"]
        .into_iter()
        .map(|n| SeverityLevelConfig {
            name: n.into(),
            points: 0,
            phrases: vec![],
            cues: vec![],
            examples: vec![],
        })
        .collect()
}

/// One severity level: `[[severity.levels]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityLevelConfig {
    /// e.g. `"critical"`.
    pub name: String,
    /// Points for a ticket of this severity.
    #[serde(default)]
    pub points: i64,
    /// Phrases that indicate it (same matching as categories). A negated
    /// phrase ("not urgent") does not count. In a question that reports no
    /// problem (a "?" or an opening question word, sentiment above
    /// `negative_threshold`: "How many users can I add?") the phrases of
    /// levels above the default count as `cues` do, a level down.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Words people use loosely for this level ("urgent", "asap",
    /// "critical"): one alone counts for the next level down, so that one
    /// loose word in polite prose does not decide; with a phrase of this
    /// level or a more severe one, or a second distinct cue of this level
    /// ("urgent … critical"), it counts for this level (not in a question
    /// that reports no problem). Same matching as `phrases`.
    #[serde(default)]
    pub cues: Vec<String>,
    /// Requests of this severity in the customer's words, compared by
    /// meaning with a ticket in which no severity phrase or cue was found
    /// (see `[semantic].severity_threshold`). Optional.
    #[serde(default)]
    pub examples: Vec<String>,
}

/// `[severity.grading]`: urgency graded by how much evidence there is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingConfig {
    /// Points for each distinct phrase or cue, beyond the first, of a level
    /// more severe than the default, when the ticket's severity is more
    /// severe than the default: production down *and* all users *and* a
    /// deadline ranks above production down alone. Default 0.
    #[serde(default)]
    pub per_extra_phrase: i64,
    /// At most this many points from `per_extra_phrase` (0: no cap). Default 0.
    #[serde(default)]
    pub max: i64,
}

/// `[sentiment]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentConfig {
    /// Phrases that express a negative feeling ("frustrated", "unacceptable").
    /// Negated ("not a problem") they count as half a positive.
    #[serde(default)]
    pub negative: Vec<String>,
    /// Phrases that express a positive feeling ("thanks", "great").
    /// Negated ("not happy") they count as negative.
    #[serde(default)]
    pub positive: Vec<String>,
    /// Politeness ("thanks", "thank you"): counts as positive only in a
    /// ticket with no negative evidence (a thank-you note is positive; a
    /// polite complaint is still a complaint). Negated, it counts nothing.
    #[serde(default)]
    pub politeness: Vec<String>,
    /// Neutral words for something the customer expects to happen
    /// ("working", "arrives"); negated ("not working", "never arrives") they
    /// count as negative.
    #[serde(default)]
    pub expectations: Vec<String>,
    /// Words that negate a phrase that follows within `negation_window` words
    /// in the same clause ("not", "never", "can't"). A contraction also
    /// negates written with a typographic apostrophe ("can’t") or none
    /// ("cant", "dont"). Articles and quantifiers between a negator and a
    /// phrase that is no expectation are not counted ("haven't had a single
    /// problem", "not any more errors"). "without", listed, negates only
    /// such phrases ("without any problems"; "without logging in" negates no
    /// expectation). A negated phrase followed in its clause by "until" or
    /// "till" within four words is not negated: "never had a problem until
    /// the update" reports one.
    #[serde(default)]
    pub negators: Vec<String>,
    /// Words that stand for no one or nothing as a clause's subject
    /// ("nobody", "none", "nothing", "neither"). They negate only an
    /// expectation or a category's phrase that is the clause's verb
    /// ("Nothing loads for anyone" negates outage's `negated_phrases`
    /// "load", which then counts; "Nothing is down on our side" says the
    /// outage is absent, see `absent_if_negated`), up to eight words on in the
    /// same clause: right after the word, after the rest of the subject
    /// ("of …", "on …"), or after an auxiliary, a modal or "to" — "none of
    /// the links in the email work", "nobody on the team can log in",
    /// "nothing seems to load" are negative; "Nobody else needs access" is
    /// not ("access" is what "needs" acts on). Nothing else after them is
    /// negated: "None of these problems have been fixed" keeps its negative
    /// "problem", "Nobody on the entire team …" its severity phrase,
    /// "nothing but love" its praise.
    #[serde(default)]
    pub subject_negators: Vec<String>,
    /// Read the whole message with the bundled valence lexicon (VADER's
    /// 7,500 rated words, emoticons and emoji; `models/sentiment/NOTICE`) as
    /// well as the phrases above: rated words with negation, intensifiers
    /// ("very", "slightly"), contrast ("…, but …"), capitals and exclamation
    /// marks. The phrases above count as words rated ±2 (the lexicon's own
    /// rating of their single words is replaced); politeness counts only in
    /// a message with nothing negative; positive words in a message with a
    /// negative phrase count half (politeness and sarcasm in a complaint).
    /// The score is then the lexicon's compound, -1 … +1. Default true;
    /// false: the phrases alone decide, `(positive − negative) / (positive +
    /// negative + 1)` amplified by intensity.
    #[serde(default = "yes")]
    pub lexicon: bool,
    /// Words the lexicon rates that say nothing about feelings in a support
    /// request ("please", "help", "free" as in "free plan", "credit" as in
    /// "credit card"), with their inflections: not rated. Negated, one the
    /// lexicon does not rate negative is a failure report ("didn't help at
    /// all", "wasn't credited", "I don't like the new menu"), even when it
    /// is a word of a category phrase ("help" in "it would help") — not one
    /// of the sentiment phrases or expectations above, which count it
    /// themselves. Only with `lexicon`.
    #[serde(default)]
    pub neutral: Vec<String>,
    /// How many words may stand between a negator and the phrase it negates.
    /// A contraction right after "why" reaches five words (when this is not
    /// 0) for category negated phrases and expectations: the question puts
    /// its subject between the negator and the verb ("why isn't my
    /// disposable virtual card working?").
    #[serde(default = "two")]
    pub negation_window: u32,
    /// A score at or below this is `negative`.
    #[serde(default = "neg_threshold")]
    pub negative_threshold: f32,
    /// A score at or above this is `positive`.
    #[serde(default = "pos_threshold")]
    pub positive_threshold: f32,
    /// Points per label: keys `negative`, `neutral`, `positive`. With the
    /// lexicon, the points (and the intensity points) go by the customer's
    /// feeling: the score read without the negative words of category,
    /// severity and condition phrases ("error", "crash"), which make the
    /// message's label negative but do not say the customer is upset. The
    /// reason says so when the two differ; `sentiment` in conditions is the
    /// label, as output.
    #[serde(default)]
    pub points: BTreeMap<String, i64>,
    /// Intensity: exclamation marks and words in capitals.
    #[serde(default)]
    pub intensity: IntensityConfig,
}

impl Default for SentimentConfig {
    fn default() -> Self {
        SentimentConfig {
            negative: vec![],
            positive: vec![],
            politeness: vec![],
            expectations: vec![],
            negators: vec![],
            subject_negators: vec![],
            lexicon: yes(),
            neutral: vec![],
            negation_window: two(),
            negative_threshold: neg_threshold(),
            positive_threshold: pos_threshold(),
            points: BTreeMap::new(),
            intensity: IntensityConfig::default(),
        }
    }
}

fn two() -> u32 {
    2
}
fn yes() -> bool {
    true
}
fn neg_threshold() -> f32 {
    -0.25
}
fn pos_threshold() -> f32 {
    0.25
}

/// `[sentiment.intensity]`. Intensity is a number 0…1: each `!` adds
/// `per_exclamation` (at most `max_exclamations` count), each word of 4+
/// letters in capitals adds `per_caps_word`. It amplifies the sentiment score
/// and, for a negative ticket, adds `round(intensity × points)` points.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntensityConfig {
    #[serde(default = "per_excl")]
    pub per_exclamation: f32,
    #[serde(default = "max_excl")]
    pub max_exclamations: u32,
    #[serde(default = "per_caps")]
    pub per_caps_word: f32,
    /// Points at full intensity for a negative ticket.
    #[serde(default)]
    pub points: i64,
}

impl Default for IntensityConfig {
    fn default() -> Self {
        IntensityConfig {
            per_exclamation: per_excl(),
            max_exclamations: max_excl(),
            per_caps_word: per_caps(),
            points: 0,
        }
    }
}

fn per_excl() -> f32 {
    0.15
}
fn max_excl() -> u32 {
    5
}
fn per_caps() -> f32 {
    0.1
}

/// `[impact]`: points = round(`per_decade` × log10(affected_users)), at most
/// `max` (so 1 user gives 0, 10 users `per_decade`, 100 users twice that).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactConfig {
    #[serde(default)]
    pub per_decade: f64,
    #[serde(default)]
    pub max: i64,
    /// When the ticket has no `affected_users`, read the number of people
    /// the text names ("400 crew members", "1,200 customers", "hundreds of
    /// users"; "several" and "multiple" users count as 5, "many" and
    /// "numerous" as 10) instead — only in a ticket that reports a problem (severity
    /// above the default, or negative sentiment), so that "we have 300
    /// users and would like SSO" adds nothing. Default false.
    #[serde(default)]
    pub from_text: bool,
    /// The words for people that `from_text` counts (lower case, as
    /// written, plural): the noun right after the number or one word later.
    /// Default: users, people, employees, staff, members, customers,
    /// clients, colleagues, agents, students, patients, drivers, operators.
    #[serde(default = "default_people")]
    pub people: Vec<String>,
}

impl Default for ImpactConfig {
    fn default() -> Self {
        ImpactConfig {
            per_decade: 0.0,
            max: 0,
            from_text: false,
            people: default_people(),
        }
    }
}

fn default_people() -> Vec<String> {
    [
        "users",
        "people",
        "employees",
        "staff",
        "members",
        "customers",
        "clients",
        "colleagues",
        "agents",
        "students",
        "patients",
        "drivers",
        "operators",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `[ageing]`: points = floor(hours since `created_at` × `points_per_hour`),
/// at most `max`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeingConfig {
    #[serde(default)]
    pub points_per_hour: f64,
    #[serde(default)]
    pub max: i64,
}

/// `[[conditions]]`: `points` when `when` holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionConfig {
    /// Shown in `reasons`.
    pub name: String,
    pub when: When,
    pub points: i64,
}

/// `[[overrides]]`: when `when` holds, exactly one of `set` (this level, and
/// no later override is looked at), `floor` (at least this urgent) or
/// `ceiling` (at most this urgent). Overrides run in file order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideConfig {
    /// Shown in `reasons`.
    pub name: String,
    pub when: When,
    #[serde(default)]
    pub set: Option<String>,
    #[serde(default)]
    pub floor: Option<String>,
    #[serde(default)]
    pub ceiling: Option<String>,
}

/// A condition: every key given must hold (AND). A key with a list holds if
/// any value matches (OR). Available everywhere a `when` appears, except
/// `min_score`/`max_score` (overrides and routing only) and `priority`
/// (routing only).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub category: Option<OneOrMany>,
    pub severity: Option<OneOrMany>,
    pub sentiment: Option<OneOrMany>,
    pub channel: Option<OneOrMany>,
    pub reported_priority: Option<OneOrMany>,
    pub account_type: Option<OneOrMany>,
    pub support_plan: Option<OneOrMany>,
    pub persona: Option<OneOrMany>,
    pub lifecycle: Option<OneOrMany>,
    /// The customer's support language (the customer record's `language`).
    pub language: Option<OneOrMany>,
    /// The language the ticket's text reads as (ISO 639-1, e.g. "de"),
    /// detected from subject and body; does not hold when it cannot be told.
    pub text_language: Option<OneOrMany>,
    /// Whether the text is in a language the rules read (`[language]
    /// covered`); text too short to tell counts as covered.
    pub language_covered: Option<bool>,
    /// Whether the ticket is mail no person wrote: an automatic reply or a
    /// delivery failure notice (see `[automatic]`; never true when it is
    /// disabled).
    pub automatic: Option<bool>,
    /// The category's confidence (0–1: `triage.confidence.category`, or the
    /// model's when a model decided the category) is at least this. Phrases
    /// alone give one body phrase and no other category's 0.5, two 0.67, one
    /// subject phrase 0.67; a choice by meaning 0.5 at a tie with the next
    /// category up to 1 at a lead of `[semantic] clear_lead` (see there). An
    /// override that should not fire on one stray phrase ("compromised" in a
    /// connectivity ticket) or a near tie asks for 0.65 or more (the shipped
    /// security floor).
    pub min_category_confidence: Option<f32>,
    /// The SLA policy the customer's contract names.
    pub sla_policy: Option<OneOrMany>,
    /// The level after scoring (routing only).
    pub priority: Option<OneOrMany>,
    pub vip: Option<bool>,
    pub customer_known: Option<bool>,
    /// The ticket has at least one of these tags.
    pub tags_any: Option<Vec<String>>,
    /// The subject or body contains at least one of these phrases
    /// (case-insensitive, word boundaries).
    pub phrases_any: Option<Vec<String>>,
    pub min_arr: Option<f64>,
    pub max_arr: Option<f64>,
    pub min_affected_users: Option<u64>,
    pub min_age_hours: Option<f64>,
    pub min_score: Option<i64>,
    pub max_score: Option<i64>,
    /// Conditions on custom fields: field name → a value (string, number,
    /// bool), a list of values, or `{ min = …, max = … }` for numbers.
    pub custom_fields: Option<BTreeMap<String, CustomMatch>>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// How a custom field is matched.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum CustomMatch {
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Scalar>),
    Range(RangeMatch),
}

/// A scalar custom-field value.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Number(f64),
    String(String),
}

/// `{ min = …, max = … }`, both inclusive, either optional.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RangeMatch {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// `[routing]`: first matching rule wins, else the default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Default `"general"`.
    #[serde(default = "general")]
    pub default_queue: String,
    /// Default `"L1"`.
    #[serde(default = "l1")]
    pub default_tier: String,
    /// Skill queues: `[[routing.queues]] when = {…} queue = "…"`.
    #[serde(default)]
    pub queues: Vec<QueueRule>,
    /// Support tiers: `[[routing.tiers]] when = {…} tier = "L2"`.
    #[serde(default)]
    pub tiers: Vec<TierRule>,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            default_queue: general(),
            default_tier: l1(),
            queues: vec![],
            tiers: vec![],
        }
    }
}

fn general() -> String {
    "general".into()
}
fn l1() -> String {
    "L1".into()
}

/// One queue rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueRule {
    pub when: When,
    pub queue: String,
}

/// One tier rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierRule {
    pub when: When,
    pub tier: String,
}

/// `[sla]`. The policy is the customer contract's `sla_policy` when it names
/// a policy here, else `by_plan[support_plan]`, else `default_policy`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    pub default_policy: String,
    /// Support plan → policy name.
    #[serde(default)]
    pub by_plan: BTreeMap<String, String>,
    /// Policies by name: `[sla.policies.<name>]`.
    pub policies: BTreeMap<String, PolicyConfig>,
    /// Calendars by name: `[sla.calendars.<name>]`. `"24x7"` is built in.
    #[serde(default)]
    pub calendars: BTreeMap<String, CalendarConfig>,
}

/// One SLA policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// A calendar name from `[sla.calendars]`, or `"24x7"`.
    #[serde(default = "always")]
    pub calendar: String,
    /// Targets per level name; every level needs one.
    pub targets: BTreeMap<String, TargetConfig>,
}

fn always() -> String {
    "24x7".into()
}

/// Targets of one level, as durations of calendar (open) time:
/// `"15m"`, `"4h"`, `"2d"`, `"1h30m"` (units s, m, h, d = 24 h).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    pub first_response: String,
    pub resolution: String,
}

/// `[models]`: trained classifiers (see `triage train`), by field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    pub category: Option<ModelConfig>,
    pub severity: Option<ModelConfig>,
    pub queue: Option<ModelConfig>,
    pub priority: Option<ModelConfig>,
}

/// One model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Model file, relative to the rules file.
    pub path: String,
    /// At or above this confidence the model's label is used; below it the
    /// label is only recorded as a suggestion and the keyword rules decide.
    #[serde(default = "auto_apply")]
    pub auto_apply_confidence: f32,
    /// Map the model's labels to this field's names, e.g. `{ Hardware = "bug" }`.
    /// Labels not in the map are used as they are.
    #[serde(default)]
    pub label_map: BTreeMap<String, String>,
}

fn auto_apply() -> f32 {
    0.8
}

/// `[acknowledgment]`: the message sent to the customer on triage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgmentConfig {
    /// Template with `{ticket_id}`, `{priority}`, `{first_response_due}`,
    /// `{first_response_in}` (e.g. "4 hours"), `{queue}`.
    pub template: String,
}
