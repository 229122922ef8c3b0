//! Evaluation metrics: accuracy, per-class precision/recall/F1/support, macro-F1,
//! confusion matrix.
//!
//! Conventions (as scikit-learn with `zero_division=0`):
//! - precision = TP / (TP + FP), recall = TP / (TP + FN),
//!   F1 = 2·P·R / (P + R); any of them whose denominator is 0 is **0**.
//! - macro-F1 is the unweighted mean of the per-class F1 over the labels that
//!   occur in the truth or in the predictions (a label absent from both says
//!   nothing about the model and is left out of the mean, but still listed).
//! - weighted-F1 is the support-weighted mean of per-class F1.
//! - accuracy = correct / total (0 when there are no pairs).
//! - `confusion[t][p]` counts documents of true label `t` predicted as `p`
//!   (rows = true, columns = predicted).

use serde::Serialize;
use std::fmt::Write as _;

/// Metrics for one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// Label name.
    pub label: String,
    /// TP / (TP + FP), 0 if nothing was predicted as this label.
    pub precision: f64,
    /// TP / (TP + FN), 0 if the label has no support.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 if both are 0.
    pub f1: f64,
    /// Number of documents whose true label this is.
    pub support: u64,
    /// Number of documents predicted as this label.
    pub predicted: u64,
}

/// An evaluation of predictions against truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Label names; indices in `confusion` and `per_class` follow this order.
    pub labels: Vec<String>,
    /// Number of evaluated documents.
    pub total: u64,
    /// Number predicted correctly.
    pub correct: u64,
    /// correct / total.
    pub accuracy: f64,
    /// Unweighted mean F1 over labels present in truth or predictions.
    pub macro_f1: f64,
    /// Unweighted mean precision over the same labels.
    pub macro_precision: f64,
    /// Unweighted mean recall over the same labels.
    pub macro_recall: f64,
    /// Support-weighted mean F1.
    pub weighted_f1: f64,
    /// Per-label metrics.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<u64>>,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

impl EvalReport {
    /// Builds the report from `(true index, predicted index)` pairs.
    ///
    /// # Panics
    /// If an index is not below `labels.len()`.
    pub fn from_pairs<S: AsRef<str>>(labels: &[S], pairs: &[(usize, usize)]) -> EvalReport {
        let k = labels.len();
        let mut confusion = vec![vec![0u64; k]; k];
        for &(t, p) in pairs {
            assert!(
                t < k && p < k,
                "label index out of range: ({t}, {p}) with {k} labels"
            );
            confusion[t][p] += 1;
        }
        let correct: u64 = (0..k).map(|i| confusion[i][i]).sum();
        let total = pairs.len() as u64;
        let mut per_class = Vec::with_capacity(k);
        let (mut sf1, mut sp, mut sr, mut present, mut wf1) = (0.0, 0.0, 0.0, 0usize, 0.0);
        for c in 0..k {
            let tp = confusion[c][c];
            let support: u64 = confusion[c].iter().sum();
            let predicted: u64 = (0..k).map(|t| confusion[t][c]).sum();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            if support > 0 || predicted > 0 {
                present += 1;
                sf1 += f1;
                sp += precision;
                sr += recall;
            }
            wf1 += f1 * support as f64;
            per_class.push(ClassMetrics {
                label: labels[c].as_ref().to_string(),
                precision,
                recall,
                f1,
                support,
                predicted,
            });
        }
        let mean = |s: f64| {
            if present == 0 {
                0.0
            } else {
                s / present as f64
            }
        };
        EvalReport {
            labels: labels.iter().map(|l| l.as_ref().to_string()).collect(),
            total,
            correct,
            accuracy: ratio(correct, total),
            macro_f1: mean(sf1),
            macro_precision: mean(sp),
            macro_recall: mean(sr),
            weighted_f1: if total == 0 { 0.0 } else { wf1 / total as f64 },
            per_class,
            confusion,
        }
    }

    /// Human-readable report: summary, per-class table, confusion matrix.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let w = self
            .labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(5)
            .max(12);
        let _ = writeln!(
            s,
            "documents {}   accuracy {:.4}   macro-F1 {:.4}   weighted-F1 {:.4}",
            self.total, self.accuracy, self.macro_f1, self.weighted_f1
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<w$}  {:>9}  {:>9}  {:>9}  {:>8}",
            "label", "precision", "recall", "f1", "support"
        );
        for m in &self.per_class {
            let _ = writeln!(
                s,
                "{:<w$}  {:>9.4}  {:>9.4}  {:>9.4}  {:>8}",
                m.label, m.precision, m.recall, m.f1, m.support
            );
        }
        let _ = writeln!(
            s,
            "{:<w$}  {:>9.4}  {:>9.4}  {:>9.4}  {:>8}",
            "macro avg", self.macro_precision, self.macro_recall, self.macro_f1, self.total
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "confusion matrix (rows = true, columns = predicted):");
        let cw = self
            .confusion
            .iter()
            .flatten()
            .map(|v| v.to_string().len())
            .max()
            .unwrap_or(1)
            .max(self.labels.len().to_string().len() + 1)
            .max(3);
        let iw = format!("[{}]", self.labels.len()).len();
        let _ = write!(s, "{:<w$} {:iw$}", "", "");
        for c in 0..self.labels.len() {
            let _ = write!(s, " {:>cw$}", format!("[{}]", c + 1));
        }
        let _ = writeln!(s);
        for (t, row) in self.confusion.iter().enumerate() {
            let _ = write!(s, "{:<w$} {:>iw$}", self.labels[t], format!("[{}]", t + 1));
            for v in row {
                let _ = write!(s, " {:>cw$}", v);
            }
            let _ = writeln!(s);
        }
        s
    }
}
