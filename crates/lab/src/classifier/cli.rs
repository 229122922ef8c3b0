//! `triage train` and `triage eval`: argument structs and their runners.
//!
//! Results go to stdout, progress and warnings to stderr.

use super::data::{read_jsonl, Dataset};
use super::eval::EvalReport;
use super::train::{cross_validate, train, Corpus, TrainConfig};
use super::{ClassifierError, FeatureConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Train a ticket classifier from labelled JSON lines.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// Labelled tickets, one JSON object per line.
    #[arg(long, value_name = "LABELLED.jsonl")]
    pub data: PathBuf,
    /// Field(s) holding the text; repeat to concatenate several (joined by a space,
    /// missing fields count as empty).
    #[arg(long = "text-field", value_name = "F", default_value = "text", action = clap::ArgAction::Append)]
    pub text_field: Vec<String>,
    /// Field holding the label to learn (category, queue, priority, …).
    #[arg(long = "label-field", value_name = "L", default_value = "label")]
    pub label_field: String,
    /// Where to write the model (optional with --cv).
    #[arg(long, value_name = "MODEL")]
    pub out: Option<PathBuf>,
    /// Report stratified K-fold cross-validated macro-F1 first.
    #[arg(long, value_name = "K")]
    pub cv: Option<usize>,
    /// Seed: the same data, settings and seed give a byte-identical model.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// SVM regularisation constant C.
    #[arg(long = "svm-c", default_value_t = 0.5)]
    pub svm_c: f64,
    /// Hidden units of each network blended with the SVM (0 = SVM only).
    #[arg(long, default_value_t = 32)]
    pub hidden: usize,
    /// No NB-SVM member (SVM and network only).
    #[arg(long = "no-nbsvm")]
    pub no_nbsvm: bool,
    /// Networks trained from different seeds, their logits averaged.
    #[arg(long, default_value_t = 1)]
    pub networks: usize,
    /// Network training epochs.
    #[arg(long, default_value_t = 8)]
    pub epochs: u32,
    /// log2 of the number of feature hash buckets.
    #[arg(long = "hash-bits", default_value_t = 20)]
    pub hash_bits: u8,
    /// Words only (no word pairs).
    #[arg(long = "no-bigrams")]
    pub no_bigrams: bool,
    /// Do not weight labels inversely to their frequency.
    #[arg(long = "no-class-weight")]
    pub no_class_weight: bool,
    /// Fraction held out to calibrate confidences (then the model is refitted on all).
    #[arg(long = "calibration-fraction", default_value_t = 0.1)]
    pub calibration_fraction: f64,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print the cross-validation result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Evaluate a model on labelled JSON lines.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Model file written by `triage train`.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Labelled tickets, one JSON object per line.
    #[arg(long, value_name = "HELDOUT.jsonl")]
    pub data: PathBuf,
    /// Field(s) holding the text (as for train).
    #[arg(long = "text-field", value_name = "F", default_value = "text", action = clap::ArgAction::Append)]
    pub text_field: Vec<String>,
    /// Field holding the true label.
    #[arg(long = "label-field", value_name = "L", default_value = "label")]
    pub label_field: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 when macro-F1 is below X (a CI quality gate).
    #[arg(long = "min-macro-f1", value_name = "X")]
    pub min_macro_f1: Option<f64>,
}

fn load_data(
    path: &std::path::Path,
    text_fields: &[String],
    label_field: &str,
) -> Result<Dataset, ClassifierError> {
    let ds = read_jsonl(path, text_fields, label_field)?;
    if !ds.skipped.is_empty() {
        for s in ds.skipped.iter().take(10) {
            eprintln!("{}:{}: skipped: {}", path.display(), s.line, s.reason);
        }
        if ds.skipped.len() > 10 {
            eprintln!("… and {} more", ds.skipped.len() - 10);
        }
        eprintln!(
            "{}: {} line(s) skipped, {} used",
            path.display(),
            ds.skipped.len(),
            ds.docs.len()
        );
    }
    if ds.docs.is_empty() {
        return Err(ClassifierError::Data(format!(
            "{}: no usable labelled lines (label field \"{}\")",
            path.display(),
            label_field
        )));
    }
    Ok(ds)
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// Runs `triage train`.
pub fn run_train(args: &TrainArgs) -> Result<ExitCode, ClassifierError> {
    if args.out.is_none() && args.cv.is_none() {
        return Err(ClassifierError::Config(
            "nothing to do: give --out MODEL and/or --cv K".into(),
        ));
    }
    let cfg = TrainConfig {
        features: FeatureConfig {
            hash_bits: args.hash_bits,
            word_ngrams: if args.no_bigrams { 1 } else { 2 },
            ..FeatureConfig::default()
        },
        c: args.svm_c,
        class_weight: !args.no_class_weight,
        hidden: args.hidden,
        networks: args.networks,
        nbsvm: !args.no_nbsvm,
        epochs: args.epochs,
        calibration_fraction: args.calibration_fraction,
        seed: args.seed,
        threads: args.threads,
        verbose: !args.quiet,
        ..TrainConfig::default()
    };
    cfg.validate()?;
    let t0 = Instant::now();
    let ds = load_data(&args.data, &args.text_field, &args.label_field)?;
    let corpus = Corpus::build(&ds.docs, cfg.features)?;
    if corpus.labels.len() < 2 {
        return Err(ClassifierError::Data(format!(
            "{}: need at least 2 distinct labels, found {}",
            args.data.display(),
            corpus.labels.len()
        )));
    }
    let texts: Vec<&str> = ds.docs.iter().map(|d| d.0.as_str()).collect();
    let counts = corpus.class_counts();
    if !args.quiet {
        eprintln!(
            "read {} documents, {} labels, hashed in {:.2}s",
            corpus.len(),
            corpus.labels.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    if !args.json {
        println!(
            "{} documents ({} skipped lines)",
            corpus.len(),
            ds.skipped.len()
        );
        for (l, n) in corpus.labels.iter().zip(&counts) {
            println!("  {n:>7}  {l}");
        }
    }
    if let Some(k) = args.cv {
        let t = Instant::now();
        let rep = cross_validate(&corpus, &texts, &cfg, k)?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&rep).expect("report serialises")
            );
        } else {
            println!("{k}-fold stratified cross-validation:");
            for f in &rep.folds {
                println!(
                    "  fold {}: macro-F1 {:.4}  accuracy {:.4}  ({} train / {} test, trained in {:.1}s)",
                    f.fold, f.macro_f1, f.accuracy, f.train_docs, f.test_docs, f.train_seconds
                );
            }
            println!(
                "  mean macro-F1 {:.4} (sd {:.4})  mean accuracy {:.4}  [{:.1}s]",
                rep.mean_macro_f1,
                rep.std_macro_f1,
                rep.mean_accuracy,
                t.elapsed().as_secs_f64()
            );
            println!();
            println!("pooled out-of-fold predictions:");
            print!("{}", rep.pooled.render_text());
        }
    }
    if let Some(out) = &args.out {
        let t = Instant::now();
        let model = train(&corpus, &texts, &cfg)?;
        let secs = t.elapsed().as_secs_f64();
        let size = super::save_model(&model, out).map_err(|source| ClassifierError::Model {
            path: out.clone(),
            source,
        })?;
        let (ts, tm, a) = model.calibration();
        let (tn, b) = model.nb_calibration().unwrap_or((1.0, 0.0));
        let msg = format!(
            "trained on {} documents in {:.1}s; wrote {} ({}, {} bytes: {} feature rows × {} weights, format v{}); calibration: temperatures svm {:.3}, nb-svm {:.3}, network {:.3}; blend weights svm {:.2}, nb-svm {:.2}",
            corpus.len(),
            secs,
            out.display(),
            human_bytes(size),
            size,
            model.stored_features(),
            model.weight_columns(),
            super::FORMAT_VERSION,
            ts,
            tn,
            tm,
            a,
            b
        );
        if args.json {
            eprintln!("{msg}");
        } else {
            println!("{msg}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `triage eval`. Data labels unknown to the model are kept as extra
/// labels (the model can never predict them, so they count as errors).
pub fn run_eval(args: &EvalArgs) -> Result<ExitCode, ClassifierError> {
    if let Some(x) = args.min_macro_f1 {
        if !(0.0..=1.0).contains(&x) {
            return Err(ClassifierError::Config(format!(
                "--min-macro-f1 {x} is not in 0..=1"
            )));
        }
    }
    let model = super::load_model(&args.model).map_err(|source| ClassifierError::Model {
        path: args.model.clone(),
        source,
    })?;
    let ds = load_data(&args.data, &args.text_field, &args.label_field)?;
    let mut labels: Vec<String> = model.labels().to_vec();
    let mut unknown = std::collections::BTreeMap::<String, usize>::new();
    let mut truth = Vec::with_capacity(ds.docs.len());
    for (_, l) in &ds.docs {
        let idx = match labels.iter().position(|m| m == l) {
            Some(i) => i,
            None => {
                labels.push(l.clone());
                labels.len() - 1
            }
        };
        if idx >= model.labels().len() {
            *unknown.entry(l.clone()).or_default() += 1;
        }
        truth.push(idx);
    }
    for (l, n) in &unknown {
        eprintln!(
            "warning: label \"{l}\" ({n} documents) is not known to the model; counted as errors"
        );
    }
    let t = Instant::now();
    let mut scratch = model.scratch();
    let pairs: Vec<(usize, usize)> = ds
        .docs
        .iter()
        .zip(&truth)
        .map(|((text, _), &y)| (y, model.predict_with(text, &mut scratch).label))
        .collect();
    let secs = t.elapsed().as_secs_f64();
    let rep = EvalReport::from_pairs(&labels, &pairs);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rep).expect("report serialises")
        );
    } else {
        print!("{}", rep.render_text());
        eprintln!(
            "classified {} tickets in {:.3}s ({:.0} tickets/s, one thread)",
            pairs.len(),
            secs,
            pairs.len() as f64 / secs.max(1e-9)
        );
    }
    if let Some(x) = args.min_macro_f1 {
        if rep.macro_f1 < x {
            eprintln!(
                "quality gate failed: macro-F1 {:.4} is below --min-macro-f1 {x}",
                rep.macro_f1
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
