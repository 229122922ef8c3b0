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
use crate::engine::{triage_with, Scratch};
use crate::model::Ticket;

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
    /// Exit 1 when macro-F1 is below this (a CI gate).
    #[arg(long)]
    pub min_macro_f1: Option<f64>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Category,
    Severity,
    Sentiment,
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
    pub report: EvalReport,
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

/// Detects `measure` for every row with `rules` and compares.
pub fn measure(
    rules: &crate::rules::Rules,
    rows: &[Row],
    measure: Measure,
    text_as: TextAs,
) -> (EvalReport, String, f64) {
    let now: Timestamp = "2026-11-24T12:00:00Z".parse().expect("a timestamp");
    let mut scratch = Scratch::default();
    let mut predicted = Vec::with_capacity(rows.len());
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
            reported_priority: None,
            affected_users: None,
            tags: Vec::new(),
            custom_fields: BTreeMap::new(),
        };
        let out = triage_with(rules, &t, None, now, &mut scratch);
        predicted.push(match measure {
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
    };
    let mut labels: BTreeSet<String> = rows.iter().map(|r| r.label.clone()).collect();
    labels.extend(predicted.iter().cloned());
    let labels: Vec<String> = labels.into_iter().collect();
    let idx = |l: &str| labels.iter().position(|x| x == l).expect("collected");
    let pairs: Vec<(usize, usize)> = rows
        .iter()
        .zip(&predicted)
        .map(|(r, p)| (idx(&r.label), idx(p)))
        .collect();
    let share = if rows.is_empty() {
        0.0
    } else {
        predicted.iter().filter(|p| **p == fallback).count() as f64 / rows.len() as f64
    };
    (EvalReport::from_pairs(&labels, &pairs), fallback, share)
}

/// `triage quality`.
pub fn run(args: &QualityArgs) -> Result<ExitCode, String> {
    let loaded = crate::rules::load_file(&args.rules).map_err(|d| {
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
    let (report, fallback, share) = measure(&loaded.rules, &rows, args.measure, args.text_as);
    let q = QualityReport {
        measure: format!("{:?}", args.measure).to_lowercase(),
        rows: rows.len() + skipped,
        measured: rows.len(),
        skipped,
        fallback,
        fallback_share: share,
        macro_f1_labels: macro_f1_over_truth(&report),
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
        s.push_str(&q.report.render_text());
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
