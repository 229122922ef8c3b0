//! `triage quality`: how well the rules' text detection agrees with people.
//!
//! Reads a labelled file (CSV with a header, or JSON lines), turns each row
//! into a ticket (the text as its body — a chat message or a mail without a
//! subject — from an unknown customer, at a fixed instant), triages it with
//! the rules, and compares the detected `category`, `severity` or
//! `sentiment` with the row's label after an optional label mapping.
//! Labels the mapping leaves out are skipped, not counted. Reports
//! accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix
//! and the share of rows detected as the fallback (`other` for categories,
//! `neutral` for sentiment). `make quality` runs it on the development sets.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jiff::Timestamp;

use crate::classifier::eval::EvalReport;
use triage_core::engine::{triage_with, Scratch};
use triage_core::model::Ticket;

/// Arguments of `triage quality`.
#[derive(clap::Args, Debug)]
pub struct QualityArgs {
    /// The rules file.
    #[arg(long)]
    pub rules: PathBuf,
    /// The labelled file: `.csv` (with a header row) or JSON lines.
    #[arg(long)]
    pub data: PathBuf,
    /// Column/field holding the text (repeat to join several).
    #[arg(long = "text-field", required = true)]
    pub text_fields: Vec<String>,
    /// Column/field holding the label.
    #[arg(long)]
    pub label_field: String,
    /// What to measure: category, severity or sentiment.
    #[arg(long, default_value = "category")]
    pub measure: Measure,
    /// Label mapping `FROM=TO` (repeatable; FROM may be a comma list). With
    /// any mapping, rows whose label is not mapped are skipped.
    #[arg(long = "map")]
    pub maps: Vec<String>,
    /// Where the text goes in the ticket.
    #[arg(long, default_value = "body")]
    pub text_as: TextAs,
    /// JSON instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// The labels from least to most urgent, comma-separated (after
    /// `--map`), e.g. `low,medium,high`: also report Spearman's rank
    /// correlation between the triage score and the label, over the rows
    /// whose label is listed — how well the score orders tickets the way
    /// people did.
    #[arg(long)]
    pub order: Option<String>,
    /// Exit 1 when macro-F1 is below this (a CI gate).
    #[arg(long)]
    pub min_macro_f1: Option<f64>,
    /// With `--measure category`: also triage the rows again with each
    /// `[semantic] threshold` from 0.20 to 0.60 (nine more runs) and report
    /// macro-F1 and the share left as `other` for each.
    #[arg(long)]
    pub thresholds: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Category,
    Severity,
    Sentiment,
    /// The priority level (map the file's labels to level names).
    Priority,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextAs {
    Subject,
    Body,
}

/// One labelled row: its text and (mapped) label.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub text: String,
    pub label: String,
}

/// The result of a quality run.
#[derive(Debug, serde::Serialize)]
pub struct QualityReport {
    pub measure: String,
    /// Rows read, rows measured (label mapped), rows skipped.
    pub rows: usize,
    pub measured: usize,
    pub skipped: usize,
    /// The fallback label (`other`, `neutral`) and the share detected as it.
    pub fallback: String,
    pub fallback_share: f64,
    /// Mean F1 over the labels people used (support > 0): the headline
    /// figure. The report's own macro-F1 also averages labels that were only
    /// predicted, which punishes a detector for every category the file has
    /// no example of.
    pub macro_f1_labels: f64,
    /// With `--order`: Spearman's ρ between score and label rank, and the
    /// rows it was computed over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spearman: Option<(f64, usize)>,
    /// With `--measure sentiment`: what other `[sentiment]` thresholds
    /// would give on the same rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cutoffs: Option<CutoffSweep>,
    /// With `--measure category --thresholds` and rules with example
    /// requests: what other `[semantic] threshold`s give.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantic_cutoffs: Option<SemanticSweep>,
    pub report: EvalReport,
}

/// Ranks with ties given their mean rank (1-based).
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = mean;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation (Pearson's on mean ranks); 0 when either
/// side is constant or there are fewer than two pairs.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.len() != y.len() || x.len() < 2 {
        return 0.0;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Mean F1 over the labels with support.
pub fn macro_f1_over_truth(r: &EvalReport) -> f64 {
    let f: Vec<f64> = r
        .per_class
        .iter()
        .filter(|c| c.support > 0)
        .map(|c| c.f1)
        .collect();
    if f.is_empty() {
        0.0
    } else {
        f.iter().sum::<f64>() / f.len() as f64
    }
}

/// Parses `FROM=TO` mappings (FROM may list several labels with commas).
pub fn parse_maps(maps: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for m in maps {
        let (from, to) = m
            .split_once('=')
            .ok_or_else(|| format!("--map {m:?}: expected FROM=TO"))?;
        for f in from.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            out.insert(f.to_string(), to.trim().to_string());
        }
    }
    Ok(out)
}

/// Reads labelled rows; `maps` (if not empty) maps labels and drops the
/// unmapped. Returns the rows and how many were skipped.
pub fn read_rows(
    path: &Path,
    text_fields: &[String],
    label_field: &str,
    maps: &BTreeMap<String, String>,
) -> Result<(Vec<Row>, usize), String> {
    let name = path.display();
    let raw: Vec<(String, String)> = if path.extension().is_some_and(|e| e == "csv") {
        let mut r = csv::Reader::from_path(path).map_err(|e| format!("{name}: {e}"))?;
        let headers = r.headers().map_err(|e| format!("{name}: {e}"))?.clone();
        let col = |f: &str| {
            headers
                .iter()
                .position(|h| h == f)
                .ok_or_else(|| format!("{name}: no column {f:?} (columns: {headers:?})"))
        };
        let text_cols = text_fields
            .iter()
            .map(|f| col(f))
            .collect::<Result<Vec<_>, _>>()?;
        let label_col = col(label_field)?;
        let mut out = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| format!("{name}: row {}: {e}", i + 2))?;
            let text: Vec<&str> = text_cols.iter().filter_map(|&c| rec.get(c)).collect();
            out.push((
                text.join("\n"),
                rec.get(label_col).unwrap_or("").to_string(),
            ));
        }
        out
    } else {
        // The classifier's reader (`triage train`/`eval` read the same files).
        crate::classifier::data::read_jsonl(path, text_fields, label_field)
            .map_err(|e| e.to_string())?
            .docs
    };
    let mut rows = Vec::with_capacity(raw.len());
    let mut skipped = 0;
    for (text, label) in raw {
        let label = if maps.is_empty() {
            Some(label)
        } else {
            maps.get(&label).cloned()
        };
        match label {
            Some(label) => rows.push(Row { text, label }),
            None => skipped += 1,
        }
    }
    Ok((rows, skipped))
}

/// What [`measure`] found.
#[derive(Debug)]
pub struct Measured {
    pub report: EvalReport,
    /// The fallback label and the share of rows detected as it.
    pub fallback: String,
    pub share: f64,
    /// Each row's triage score.
    pub scores: Vec<i64>,
    /// Each row's sentiment score (−1 … 1, as in the output).
    pub sentiment: Vec<f32>,
}

/// Detects `measure` for every row with `rules` and compares.
pub fn measure(
    rules: &triage_core::rules::Rules,
    rows: &[Row],
    measure: Measure,
    text_as: TextAs,
) -> Measured {
    let now: Timestamp = "2026-11-24T12:00:00Z".parse().expect("a timestamp");
    let mut scratch = Scratch::default();
    let mut predicted = Vec::with_capacity(rows.len());
    let mut scores = Vec::with_capacity(rows.len());
    let mut sentiment = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let id = format!("Q-{i}");
        let (subject, body) = match text_as {
            TextAs::Subject => (r.text.as_str(), None),
            TextAs::Body => ("", Some(r.text.as_str().into())),
        };
        let t = Ticket {
            ticket_id: id.as_str().into(),
            customer_id: "quality-unknown-customer".into(),
            created_at: now,
            subject: subject.into(),
            body,
            channel: None,
            requester_name: None,
            reported_priority: None,
            affected_users: None,
            tags: Vec::new(),
            custom_fields: BTreeMap::new(),
        };
        let out = triage_with(rules, &t, None, now, &mut scratch);
        scores.push(out.score);
        sentiment.push(out.sentiment.score);
        predicted.push(match measure {
            Measure::Priority => out.priority.to_string(),
            Measure::Category => out.category.to_string(),
            Measure::Severity => out.severity.to_string(),
            Measure::Sentiment => out.sentiment.label.as_str().to_string(),
        });
    }
    let fallback = match measure {
        Measure::Category => rules.categories[rules.default_category as usize]
            .name
            .to_string(),
        Measure::Severity => rules.severities[rules.default_severity as usize]
            .name
            .to_string(),
        Measure::Sentiment => "neutral".to_string(),
        Measure::Priority => rules
            .levels
            .last()
            .map_or_else(String::new, |l| l.name.to_string()),
    };
    let truth: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    let report = compare(&truth, predicted.iter().map(String::as_str));
    let share = if rows.is_empty() {
        0.0
    } else {
        predicted.iter().filter(|p| **p == fallback).count() as f64 / rows.len() as f64
    };
    Measured {
        report,
        fallback,
        share,
        scores,
        sentiment,
    }
}

/// The report of the `predicted` labels against the rows' `truth` (one
/// each, in order): every label on either side is a class, in sorted order.
fn compare<'a>(truth: &[&'a str], predicted: impl Iterator<Item = &'a str> + Clone) -> EvalReport {
    let mut names: BTreeSet<&str> = truth.iter().copied().collect();
    names.extend(predicted.clone());
    let names: Vec<&str> = names.into_iter().collect();
    // Every label looked up was collected into the sorted `names` above.
    let idx = |l: &str| names.binary_search(&l).expect("collected");
    let pairs: Vec<(usize, usize)> = truth
        .iter()
        .zip(predicted)
        .map(|(t, p)| (idx(t), idx(p)))
        .collect();
    EvalReport::from_pairs(&names, &pairs)
}

/// One sentiment cut-off tried: the negative label's precision, recall and
/// F1 and the macro-F1 over the labelled classes (as
/// [`QualityReport::macro_f1_labels`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Cutoff {
    pub negative_threshold: f32,
    pub positive_threshold: f32,
    pub negative_precision: f64,
    pub negative_recall: f64,
    pub negative_f1: f64,
    pub macro_f1: f64,
}

/// What other `[sentiment]` cut-offs would have given on the same rows: the
/// labels are the scores read against each pair of thresholds, exactly as
/// the engine reads them (a score at or below `negative_threshold` is
/// negative, else at or above `positive_threshold` positive, else neutral),
/// so no row is triaged again.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CutoffSweep {
    /// The rules' own thresholds.
    pub rules: Cutoff,
    /// Each negative threshold of the grid with the rules' positive one.
    pub negative: Vec<Cutoff>,
    /// The pair of the grid (negative thresholds from −0.05 to −0.60,
    /// positive ones from 0.05 to 0.60, in steps of 0.05) with the highest
    /// macro-F1 (the first found on ties, the thresholds nearest zero
    /// first).
    pub best: Cutoff,
}

/// One `[semantic] threshold` tried on the category measurement.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SemanticCutoff {
    pub threshold: f32,
    /// Mean F1 over the labels people used, and the share detected as the
    /// fallback category.
    pub macro_f1: f64,
    pub fallback_share: f64,
}

/// The category measurement with other `[semantic] threshold`s.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SemanticSweep {
    /// The rules' own threshold.
    pub rules_threshold: f32,
    pub cutoffs: Vec<SemanticCutoff>,
}

/// `[semantic] threshold`s tried: 0.20, 0.25, … 0.60.
const SEMANTIC_CUTOFFS: [f32; 9] = [0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60];

/// The category measurement again with each `[semantic] threshold` of
/// [`SEMANTIC_CUTOFFS`] (the rows triaged again with that one value
/// changed); `None` when the rules describe no category by examples.
pub fn sweep_semantic(
    rules: &triage_core::rules::Rules,
    rows: &[Row],
    text_as: TextAs,
) -> Option<Vec<SemanticCutoff>> {
    rules.semantic.as_ref().filter(|s| !s.examples.is_empty())?;
    let mut r = rules.clone();
    Some(
        SEMANTIC_CUTOFFS
            .iter()
            .map(|&t| {
                if let Some(s) = r.semantic.as_mut() {
                    s.threshold = t;
                }
                let m = measure(&r, rows, Measure::Category, text_as);
                SemanticCutoff {
                    threshold: t,
                    macro_f1: macro_f1_over_truth(&m.report),
                    fallback_share: m.share,
                }
            })
            .collect(),
    )
}

/// Thresholds tried, by size: 0.05, 0.10, … 0.60.
const CUTOFFS: [f32; 12] = [
    0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60,
];

/// [`CutoffSweep`] of the rows' `labels` and sentiment `scores` with the
/// rules' thresholds `rules` (negative, positive).
pub fn sweep_cutoffs(labels: &[&str], scores: &[f32], rules: (f32, f32)) -> CutoffSweep {
    let cutoff = |n: f32, p: f32| {
        let predicted = scores.iter().map(|&s| {
            if s <= n {
                "negative"
            } else if s >= p {
                "positive"
            } else {
                "neutral"
            }
        });
        let r = compare(labels, predicted);
        // A label neither labelled nor predicted has no figures: zero.
        let neg = r.labels.iter().position(|l| l == "negative");
        let (precision, recall, f1) = neg.map_or((0.0, 0.0, 0.0), |k| {
            // `per_class` has one entry per label, in `labels` order.
            let c = &r.per_class[k];
            (c.precision, c.recall, c.f1)
        });
        Cutoff {
            negative_threshold: n,
            positive_threshold: p,
            negative_precision: precision,
            negative_recall: recall,
            negative_f1: f1,
            macro_f1: macro_f1_over_truth(&r),
        }
    };
    let mut best = cutoff(-CUTOFFS[0], CUTOFFS[0]);
    for &n in &CUTOFFS {
        for &p in &CUTOFFS {
            let c = cutoff(-n, p);
            if c.macro_f1 > best.macro_f1 {
                best = c;
            }
        }
    }
    CutoffSweep {
        rules: cutoff(rules.0, rules.1),
        negative: CUTOFFS.iter().map(|&n| cutoff(-n, rules.1)).collect(),
        best,
    }
}

/// `triage quality`.
pub fn run(args: &QualityArgs) -> Result<ExitCode, String> {
    let loaded = triage_core::rules::load(&args.rules, &|p| std::fs::read(p)).map_err(|d| {
        d.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let maps = parse_maps(&args.maps)?;
    let (rows, skipped) = read_rows(&args.data, &args.text_fields, &args.label_field, &maps)?;
    if rows.is_empty() {
        return Err(format!(
            "{}: no labelled rows to measure",
            args.data.display()
        ));
    }
    let Measured {
        report,
        fallback,
        share,
        scores,
        sentiment,
    } = measure(&loaded.rules, &rows, args.measure, args.text_as);
    let semantic_cutoffs = if args.thresholds && args.measure == Measure::Category {
        let own = loaded.rules.semantic.as_ref().map(|s| s.threshold);
        own.zip(sweep_semantic(&loaded.rules, &rows, args.text_as))
            .map(|(rules_threshold, cutoffs)| SemanticSweep {
                rules_threshold,
                cutoffs,
            })
    } else {
        None
    };
    let sr = &loaded.rules.sentiment;
    let cutoffs = (args.measure == Measure::Sentiment).then(|| {
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        sweep_cutoffs(
            &labels,
            &sentiment,
            (sr.negative_threshold, sr.positive_threshold),
        )
    });
    let spearman = args.order.as_deref().map(|order| {
        let order: Vec<&str> = order.split(',').map(str::trim).collect();
        let (x, y): (Vec<f64>, Vec<f64>) = rows
            .iter()
            .zip(&scores)
            .filter_map(|(r, &s)| {
                let rank = order.iter().position(|o| *o == r.label)?;
                Some((s as f64, rank as f64))
            })
            .unzip();
        (spearman(&x, &y), x.len())
    });
    let q = QualityReport {
        measure: format!("{:?}", args.measure).to_lowercase(),
        rows: rows.len() + skipped,
        measured: rows.len(),
        skipped,
        fallback,
        fallback_share: share,
        macro_f1_labels: macro_f1_over_truth(&report),
        spearman,
        cutoffs,
        semantic_cutoffs,
        report,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&q).map_err(|e| e.to_string())?
        );
    } else {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}: {} of {} rows measured ({} skipped: label not mapped)\n{} macro-F1 over the labelled classes {:.4}; detected as `{}`: {:.1} %",
            args.data.display(),
            q.measured,
            q.rows,
            q.skipped,
            q.measure,
            q.macro_f1_labels,
            q.fallback,
            100.0 * q.fallback_share
        );
        if let (Some((rho, n)), Some(order)) = (q.spearman, &args.order) {
            let _ = writeln!(
                s,
                "Spearman rho of score vs label order ({}): {rho:.4} over {n} rows",
                order.replace(',', " < ")
            );
        }
        s.push_str(&q.report.render_text());
        if let Some(c) = &q.cutoffs {
            render_cutoffs(&mut s, c);
        }
        if let Some(c) = &q.semantic_cutoffs {
            let _ = writeln!(
                s,
                "\n[semantic] threshold (the rules': {:.2}), the rows triaged again with each; macro-F1 over the labelled classes:\nthreshold  macro-F1  `{}`",
                c.rules_threshold, q.fallback
            );
            for x in &c.cutoffs {
                let _ = writeln!(
                    s,
                    "{:>9.2}  {:>8.4}  {:>5.1} %",
                    x.threshold,
                    x.macro_f1,
                    100.0 * x.fallback_share
                );
            }
        }
        print!("{s}");
    }
    if let Some(min) = args.min_macro_f1 {
        if q.macro_f1_labels < min {
            eprintln!(
                "triage quality: macro-F1 {:.4} is below {min}",
                q.macro_f1_labels
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The text report of a [`CutoffSweep`].
fn render_cutoffs(s: &mut String, c: &CutoffSweep) {
    let _ = writeln!(
        s,
        "\nsentiment cut-offs on the same scores (positive_threshold {:.2}); macro-F1 over the labelled classes:\nnegative_threshold  negative precision  recall      F1  macro-F1",
        c.rules.positive_threshold
    );
    for x in &c.negative {
        let _ = writeln!(
            s,
            "{:>18.2}  {:>18.4}  {:>6.4}  {:>6.4}  {:>8.4}",
            x.negative_threshold,
            x.negative_precision,
            x.negative_recall,
            x.negative_f1,
            x.macro_f1
        );
    }
    let _ = writeln!(
        s,
        "the rules' negative_threshold {:.2} / positive_threshold {:.2}: macro-F1 {:.4}; best on the grid: {:.2} / {:.2}, macro-F1 {:.4}",
        c.rules.negative_threshold,
        c.rules.positive_threshold,
        c.rules.macro_f1,
        c.best.negative_threshold,
        c.best.positive_threshold,
        c.best.macro_f1
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_on_known_cases() {
        let up = [1.0, 2.0, 3.0, 4.0];
        assert!((spearman(&up, &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&up, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&up, &[1.0, 1.0, 1.0, 1.0]), 0.0);
        assert_eq!(spearman(&[1.0], &[1.0]), 0.0);
        // Ties take their mean rank: x ranks 1, 2.5, 2.5, 4; y ranks 1..4.
        // Pearson on ranks: sum dx*dy = 4.5, sum dx^2 = 4.5, sum dy^2 = 5.
        let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &up);
        assert!((rho - 4.5 / (4.5f64 * 5.0).sqrt()).abs() < 1e-12, "{rho}");
    }

    #[test]
    fn a_cutoff_sweep_reads_the_scores_as_the_engine_does() {
        let shipped = include_str!("../../../config/rules.toml");
        let rows: Vec<Row> = [
            (
                "The export fails every time and support never answers.",
                "negative",
            ),
            ("This is ridiculous, third time this week.", "negative"),
            ("The page is a bit slow today.", "negative"),
            ("Nobody has replied to my ticket.", "negative"),
            ("Please send me last month's invoice.", "neutral"),
            ("How do I add a user?", "neutral"),
            ("The report doesn't show the totals.", "neutral"),
            ("Thanks, that fixed it!", "positive"),
            ("Great work on the new dashboard, love it.", "positive"),
            ("The new editor is nice.", "positive"),
            ("Not bad at all, it works fine now.", "positive"),
        ]
        .iter()
        .map(|(t, l)| Row {
            text: t.to_string(),
            label: l.to_string(),
        })
        .collect();
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        let run = |src: &str| {
            let rules = triage_core::rules::Rules::from_str("rules.toml", src)
                .expect("the rules compile")
                .rules;
            let thresholds = (
                rules.sentiment.negative_threshold,
                rules.sentiment.positive_threshold,
            );
            let m = measure(&rules, &rows, Measure::Sentiment, TextAs::Body);
            (m, thresholds)
        };
        let (m, thresholds) = run(shipped);
        let sweep = sweep_cutoffs(&labels, &m.sentiment, thresholds);
        // The sweep's figures for a cut-off are the report of a run with it.
        let agrees = |r: &EvalReport, c: &Cutoff| {
            let neg = r.labels.iter().position(|l| l == "negative").unwrap();
            assert_eq!(c.negative_precision, r.per_class[neg].precision);
            assert_eq!(c.negative_recall, r.per_class[neg].recall);
            assert_eq!(c.negative_f1, r.per_class[neg].f1);
            assert_eq!(c.macro_f1, macro_f1_over_truth(r));
        };
        agrees(&m.report, &sweep.rules);
        assert!(sweep.best.macro_f1 >= sweep.rules.macro_f1);
        assert_eq!(sweep.negative.len(), CUTOFFS.len());
        // The rows' scores fall between the cut-offs compared below.
        assert!(sweep.negative[5].negative_recall < sweep.negative[0].negative_recall);
        // Rules with another cut-off triage the rows to what the sweep read
        // from the first run's scores.
        for (i, t) in [(2, "-0.15"), (5, "-0.30")] {
            let src = shipped.replace(
                "negative_threshold = -0.05",
                &format!("negative_threshold = {t}"),
            );
            assert_ne!(src, shipped, "the shipped rules set negative_threshold");
            let (m2, th) = run(&src);
            assert_eq!(th.0, -CUTOFFS[i]);
            agrees(&m2.report, &sweep.negative[i]);
            // … and to other labels than the shipped cut-off did.
            assert_ne!(sweep.negative[i], sweep.rules, "{t}");
        }
    }

    #[test]
    fn a_semantic_sweep_is_the_measurement_with_each_threshold() {
        let shipped = include_str!("../../../config/rules.toml");
        let rules = |src: &str| {
            triage_core::rules::Rules::from_str("rules.toml", src)
                .expect("the rules compile")
                .rules
        };
        let rows: Vec<Row> = [
            ("I was billed twice this month.", "billing"),
            ("Why did my card get charged again?", "billing"),
            ("I can't get into my profile anymore.", "account"),
            ("Please update the email on my login.", "account"),
            ("Where do I find the setting for reminders?", "how_to"),
            (
                "Someone signed in to our workspace from abroad.",
                "security",
            ),
            // No phrase, and only loosely like an example: `other` at the
            // highest thresholds.
            ("the colleague who left still shows up", "account"),
            ("I would like my money back", "billing"),
        ]
        .iter()
        .map(|(t, l)| Row {
            text: t.to_string(),
            label: l.to_string(),
        })
        .collect();
        let r = rules(shipped);
        let own = r.semantic.as_ref().unwrap().threshold;
        let sweep = sweep_semantic(&r, &rows, TextAs::Body).expect("the rules have examples");
        assert_eq!(sweep.len(), SEMANTIC_CUTOFFS.len());
        for x in &sweep {
            let src = shipped.replace(
                &format!("\nthreshold = {own}\n"),
                &format!("\nthreshold = {}\n", x.threshold),
            );
            assert!(
                x.threshold == own || src != shipped,
                "{x:?}: the file names no such threshold"
            );
            let m = measure(&rules(&src), &rows, Measure::Category, TextAs::Body);
            assert_eq!(x.macro_f1, macro_f1_over_truth(&m.report), "{x:?}");
            assert_eq!(x.fallback_share, m.share, "{x:?}");
        }
        // The thresholds matter on these rows: the highest leaves more as `other`.
        assert!(
            sweep.last().unwrap().fallback_share > sweep[0].fallback_share,
            "{sweep:?}"
        );
        // Rules without examples have nothing to sweep.
        let mut plain = r.clone();
        plain.semantic = None;
        assert!(sweep_semantic(&plain, &rows, TextAs::Body).is_none());
    }

    #[test]
    fn the_score_orders_labelled_priorities() {
        let rules = triage_core::rules::Rules::from_str(
            "rules.toml",
            include_str!("../../../config/rules.toml"),
        )
        .expect("the shipped rules compile")
        .rules;
        let rows: Vec<Row> = [
            ("How do I change the logo on my invoices?", "low"),
            ("Could you add a dark mode some day? No rush.", "low"),
            (
                "The export to CSV fails with an error for one user.",
                "medium",
            ),
            ("Search is slow sometimes for me.", "medium"),
            (
                "Production is down for all users, we are losing money!",
                "high",
            ),
            (
                "Nobody can log in since the release, the whole team is blocked.",
                "high",
            ),
        ]
        .iter()
        .map(|(t, l)| Row {
            text: t.to_string(),
            label: l.to_string(),
        })
        .collect();
        let scores = measure(&rules, &rows, Measure::Priority, TextAs::Body).scores;
        let y: Vec<f64> = rows
            .iter()
            .map(|r| {
                ["low", "medium", "high"]
                    .iter()
                    .position(|o| *o == r.label)
                    .unwrap() as f64
            })
            .collect();
        let x: Vec<f64> = scores.iter().map(|&s| s as f64).collect();
        let rho = spearman(&x, &y);
        assert!(rho > 0.8, "scores {scores:?}, rho {rho}");
    }
}
