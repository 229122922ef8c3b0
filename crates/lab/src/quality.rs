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

/// Detects `measure` for every row with `rules` and compares.
pub fn measure(
    rules: &triage_core::rules::Rules,
    rows: &[Row],
    measure: Measure,
    text_as: TextAs,
) -> (EvalReport, String, f64, Vec<i64>) {
    let now: Timestamp = "2026-11-24T12:00:00Z".parse().expect("a timestamp");
    let mut scratch = Scratch::default();
    let mut predicted = Vec::with_capacity(rows.len());
    let mut scores = Vec::with_capacity(rows.len());
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
        scores.push(out.score);
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
    (
        EvalReport::from_pairs(&labels, &pairs),
        fallback,
        share,
        scores,
    )
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
    let (report, fallback, share, scores) =
        measure(&loaded.rules, &rows, args.measure, args.text_as);
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
        let (_, _, _, scores) = measure(&rules, &rows, Measure::Priority, TextAs::Body);
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
