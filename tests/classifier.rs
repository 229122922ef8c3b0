//! Classifier: quality on the shipped sample, determinism, exact metrics,
//! model-file validation, CLI quality gate.

use std::path::Path;
use std::process::ExitCode;
use std::sync::OnceLock;
use triage_lab::classifier::cli::{run_eval, run_train, EvalArgs, TrainArgs};
use triage_lab::classifier::train::stratified_holdout;
use triage_lab::classifier::{data, Corpus, EvalReport, Model, ModelError, TrainConfig};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/it-tickets-sample.jsonl"
);

const LABELS: [&str; 8] = [
    "Access",
    "Administrative rights",
    "HR Support",
    "Hardware",
    "Internal Project",
    "Miscellaneous",
    "Purchase",
    "Storage",
];

fn sample() -> &'static Vec<(String, String)> {
    static S: OnceLock<Vec<(String, String)>> = OnceLock::new();
    S.get_or_init(|| {
        let ds = data::read_jsonl(Path::new(SAMPLE), &["text".into()], "label").unwrap();
        assert!(ds.skipped.is_empty());
        assert_eq!(ds.docs.len(), 2900);
        ds.docs
    })
}

/// A small, quick configuration for tests that only need *a* model.
fn small_cfg(seed: u64) -> TrainConfig {
    let mut cfg = TrainConfig {
        hidden: 8,
        epochs: 3,
        seed,
        ..TrainConfig::default()
    };
    cfg.features.hash_bits = 16;
    cfg
}

fn train_on(docs: &[(String, String)], cfg: &TrainConfig) -> Model {
    let corpus = Corpus::build(docs, cfg.features).unwrap();
    let texts: Vec<&str> = docs.iter().map(|d| d.0.as_str()).collect();
    triage_lab::classifier::train(&corpus, &texts, cfg).unwrap()
}

/// A model trained on the first 600 sample tickets, shared by the file tests.
fn small_model() -> &'static (Model, Vec<u8>) {
    static M: OnceLock<(Model, Vec<u8>)> = OnceLock::new();
    M.get_or_init(|| {
        let m = train_on(&sample()[..600], &small_cfg(7));
        let b = m.to_bytes();
        (m, b)
    })
}

#[test]
fn trained_on_sample_split_beats_floor() {
    let docs = sample();
    let corpus = Corpus::build(docs, TrainConfig::default().features).unwrap();
    let all: Vec<usize> = (0..docs.len()).collect();
    let (tr, te) = stratified_holdout(&all, &corpus.y, corpus.labels.len(), 0.2, 1);
    let train_docs: Vec<(String, String)> = tr.iter().map(|&i| docs[i].clone()).collect();
    let model = train_on(&train_docs, &TrainConfig::default());
    assert_eq!(model.labels(), LABELS);
    let pairs: Vec<(usize, usize)> = te
        .iter()
        .map(|&i| {
            let y = model.labels().iter().position(|l| *l == docs[i].1).unwrap();
            (y, model.predict(&docs[i].0).label)
        })
        .collect();
    let rep = EvalReport::from_pairs(model.labels(), &pairs);
    eprintln!(
        "sample split: macro-F1 {:.4} accuracy {:.4}",
        rep.macro_f1, rep.accuracy
    );
    // Measured: macro-F1 0.8250, accuracy 0.8138 on these 580 held-out tickets
    // (2,320 training tickets; the full 33k-ticket file gives 0.866 by 5-fold CV).
    assert!(
        rep.macro_f1 > 0.78,
        "macro-F1 {} below the floor 0.78",
        rep.macro_f1
    );
    assert!(rep.accuracy > 0.76, "accuracy {}", rep.accuracy);
}

#[test]
fn same_seed_gives_byte_identical_model() {
    let docs = &sample()[..600];
    let a = &small_model().1;
    let b = train_on(docs, &small_cfg(7)).to_bytes();
    assert!(a == &b, "same seed, different bytes");
    // thread count does not matter
    let mut one = small_cfg(7);
    one.threads = 1;
    assert!(a == &train_on(docs, &one).to_bytes(), "1 thread differs");
    // a different seed does change the network's initial weights
    assert!(a != &train_on(docs, &small_cfg(8)).to_bytes());
    // an ensemble of networks is deterministic too, and stored as one wider layer
    let mut two = small_cfg(7);
    two.networks = 2;
    let e = train_on(docs, &two);
    assert_eq!(e.hidden(), 16);
    assert!(e.to_bytes() == train_on(docs, &two).to_bytes());
    two.threads = 1;
    assert!(e.to_bytes() == train_on(docs, &two).to_bytes());
}

#[test]
fn model_round_trips_and_predicts_probabilities() {
    let (m, bytes) = small_model();
    let back = Model::from_bytes(bytes).unwrap();
    assert_eq!(&back, m);
    assert_eq!(back.to_bytes(), *bytes);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.model");
    assert_eq!(
        triage_lab::classifier::save_model(m, &path).unwrap(),
        bytes.len() as u64
    );
    assert_eq!(&triage_lab::classifier::load_model(&path).unwrap(), m);

    for (text, _) in &sample()[600..700] {
        let p = m.predict(text);
        assert_eq!(p, back.predict(text));
        assert!(p.confidence > 0.0 && p.confidence <= 1.0);
        assert_eq!(p.alternatives.len(), 3);
        assert_eq!(p.alternatives[0], (p.label, p.confidence));
        assert!(p.alternatives.windows(2).all(|w| w[0].1 >= w[1].1));
        let mut s = m.scratch();
        let sum: f32 = m.probabilities_with(text, &mut s).iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "probabilities sum to {sum}");
    }
    // the default has all three members: 8 SVM + 8 NB-SVM + 8 hidden columns
    assert_eq!(m.weight_columns(), 24);
    assert!(m.nb_calibration().is_some());
    let (_, _, ws) = m.calibration();
    let (_, wn) = m.nb_calibration().unwrap();
    assert!((0.0..=1.0).contains(&ws) && (0.0..=1.0).contains(&wn) && ws + wn <= 1.0 + 1e-6);
    // SVM-only, SVM + network and SVM + NB-SVM models round-trip too
    let mut sizes = Vec::new();
    for (hidden, nbsvm, cols) in [(0, false, 8), (8, false, 16), (0, true, 16)] {
        let mut cfg = small_cfg(7);
        cfg.hidden = hidden;
        cfg.nbsvm = nbsvm;
        let m0 = train_on(&sample()[..300], &cfg);
        assert_eq!(m0.hidden(), hidden);
        assert_eq!(m0.weight_columns(), cols);
        assert_eq!(m0.nb_calibration().is_some(), nbsvm);
        let b0 = m0.to_bytes();
        let back0 = Model::from_bytes(&b0).unwrap();
        assert_eq!(back0, m0);
        for (text, _) in &sample()[300..320] {
            assert_eq!(back0.predict(text), m0.predict(text));
            let mut s = m0.scratch();
            let sum: f32 = m0.probabilities_with(text, &mut s).iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "probabilities sum to {sum}");
        }
        sizes.push(b0.len());
    }
    assert!(sizes.iter().all(|&n| n < bytes.len()));

    // empty and unseen text still classify
    let p = m.predict("");
    assert!(p.label < 8 && p.confidence > 0.0);
    let p = m.predict("zzqx unknownword ☃");
    assert!(p.label < 8);
}

#[test]
fn eval_figures_are_exact_on_hand_made_case() {
    // labels a, b, c, d (d never occurs); truth/prediction pairs:
    // a→a ×3, a→b ×1, b→b ×2, b→a ×2, c→a ×1, c→c ×1
    let mut pairs = vec![(0, 0); 3];
    pairs.push((0, 1));
    pairs.extend([(1, 1), (1, 1), (1, 0), (1, 0), (2, 0), (2, 2)]);
    let r = EvalReport::from_pairs(&["a", "b", "c", "d"], &pairs);
    assert_eq!(r.total, 10);
    assert_eq!(r.correct, 6);
    assert_eq!(r.accuracy, 0.6);
    assert_eq!(
        r.confusion,
        vec![
            vec![3, 1, 0, 0],
            vec![2, 2, 0, 0],
            vec![1, 0, 1, 0],
            vec![0, 0, 0, 0]
        ]
    );
    let close = |x: f64, y: f64| (x - y).abs() < 1e-12;
    // a: TP 3, FP 3 (2 from b, 1 from c), FN 1 → P 1/2, R 3/4, F1 0.6
    let a = &r.per_class[0];
    assert!(close(a.precision, 0.5) && close(a.recall, 0.75) && close(a.f1, 0.6));
    assert_eq!((a.support, a.predicted), (4, 6));
    // b: TP 2, FP 1, FN 2 → P 2/3, R 1/2, F1 4/7
    let b = &r.per_class[1];
    assert!(close(b.precision, 2.0 / 3.0) && close(b.recall, 0.5) && close(b.f1, 4.0 / 7.0));
    // c: TP 1, FP 0, FN 1 → P 1, R 1/2, F1 2/3
    let c = &r.per_class[2];
    assert!(close(c.precision, 1.0) && close(c.recall, 0.5) && close(c.f1, 2.0 / 3.0));
    // d: no support, never predicted → zero denominators give 0, left out of the mean
    let d = &r.per_class[3];
    assert_eq!((d.precision, d.recall, d.f1, d.support), (0.0, 0.0, 0.0, 0));
    assert!(close(r.macro_f1, (0.6 + 4.0 / 7.0 + 2.0 / 3.0) / 3.0));
    assert!(close(r.macro_precision, (0.5 + 2.0 / 3.0 + 1.0) / 3.0));
    assert!(close(r.macro_recall, (0.75 + 0.5 + 0.5) / 3.0));
    assert!(close(
        r.weighted_f1,
        (0.6 * 4.0 + 4.0 / 7.0 * 4.0 + 2.0 / 3.0 * 2.0) / 10.0
    ));
    let text = r.render_text();
    assert!(text.contains("accuracy 0.6000"), "{text}");
    assert!(text.contains("macro-F1 0.6127"), "{text}");
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(json["confusion"][1][0], 2);
    assert_eq!(json["per_class"][0]["label"], "a");

    // a predicted-only label counts in the mean with F1 0
    let r = EvalReport::from_pairs(&["x", "y"], &[(0, 0), (0, 1)]);
    assert!(close(r.macro_f1, (2.0 / 3.0 + 0.0) / 2.0));
    // nothing at all
    let r = EvalReport::from_pairs(&["x", "y"], &[]);
    assert_eq!((r.accuracy, r.macro_f1), (0.0, 0.0));
}

#[test]
fn corrupt_truncated_foreign_and_wrong_version_files_are_rejected() {
    let bytes = &small_model().1;
    // truncated anywhere
    for cut in [bytes.len() - 1, bytes.len() / 2, 30, 12, 3] {
        match Model::from_bytes(&bytes[..cut]) {
            Err(ModelError::Truncated { expected, actual }) => {
                assert_eq!(actual, cut as u64);
                assert!(expected > actual);
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    let e = Model::from_bytes(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    // a flipped byte in the weights or the header
    for at in [bytes.len() - 100, bytes.len() / 2, 40] {
        let mut b = bytes.clone();
        b[at] ^= 0x40;
        assert!(
            matches!(
                Model::from_bytes(&b),
                Err(ModelError::ChecksumMismatch { .. })
            ),
            "flip at {at}"
        );
    }
    let mut b = bytes.clone();
    b[bytes.len() / 2] ^= 1;
    assert!(Model::from_bytes(&b)
        .unwrap_err()
        .to_string()
        .contains("checksum"));
    // trailing garbage
    let mut b = bytes.clone();
    b.extend_from_slice(b"junk");
    assert!(matches!(Model::from_bytes(&b), Err(ModelError::Corrupt(_))));
    // another format version (checked before the checksum): the previous
    // format (1, f32 rows) and a future one
    assert_eq!(triage_lab::classifier::FORMAT_VERSION, 2);
    for v in [1u32, 3] {
        let mut b = bytes.clone();
        b[8..12].copy_from_slice(&v.to_le_bytes());
        match Model::from_bytes(&b) {
            Err(
                e @ ModelError::UnsupportedVersion {
                    found,
                    supported: 2,
                },
            ) if found == v => {
                let msg = e.to_string();
                assert!(msg.contains(&format!("version {v}")), "{msg}");
                assert!(msg.contains("retrain"), "{msg}");
            }
            other => panic!("version {v}: {other:?}"),
        }
    }
    // not a model at all
    for junk in [
        &b""[..],
        b"{\"text\": \"hello\"}\n",
        b"\x89PNG\r\n\x1a\n0000000000000000",
    ] {
        let e = Model::from_bytes(junk).unwrap_err();
        assert!(matches!(e, ModelError::NotAModel), "{e:?}");
        assert!(e.to_string().contains("not a triage model"));
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tickets.jsonl");
    std::fs::write(&p, "{\"text\":\"x\",\"label\":\"y\"}\n").unwrap();
    assert!(matches!(
        triage_lab::classifier::load_model(&p),
        Err(ModelError::NotAModel)
    ));
    let missing = dir.path().join("nope.model");
    let e = triage_lab::classifier::load_model(&missing).unwrap_err();
    assert!(matches!(e, ModelError::Io { .. }));
    assert!(e.to_string().contains("nope.model"));
}

#[test]
fn label_mismatch_names_missing_and_extra_labels() {
    let (m, _) = small_model();
    m.check_labels(&LABELS).unwrap();
    let mut shuffled = LABELS;
    shuffled.reverse();
    m.check_labels(&shuffled).unwrap();
    let expected = ["Access", "Hardware", "Network", "HR Support"];
    match m.check_labels(&expected) {
        Err(e @ ModelError::LabelMismatch { .. }) => {
            let ModelError::LabelMismatch { missing, extra } = &e else {
                unreachable!()
            };
            assert_eq!(missing, &["Network"]);
            assert_eq!(
                extra,
                &[
                    "Administrative rights",
                    "Internal Project",
                    "Miscellaneous",
                    "Purchase",
                    "Storage"
                ]
            );
            let msg = e.to_string();
            assert!(
                msg.contains("\"Network\"") && msg.contains("\"Storage\""),
                "{msg}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn jsonl_reader_skips_bad_lines_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.jsonl");
    std::fs::write(
        &p,
        concat!(
            "{\"subject\":\"printer\",\"body\":\"is broken\",\"cat\":\"Hardware\"}\n",
            "not json\n",
            "\n",
            "{\"subject\":\"vpn\",\"cat\":null}\n",
            "{\"body\":\"only body\",\"cat\":\"Access\"}\r\n",
            "[1,2]\n",
            "{\"subject\":\"x\",\"cat\":\"\"}\n",
        ),
    )
    .unwrap();
    let ds = data::read_jsonl(&p, &["subject".into(), "body".into()], "cat").unwrap();
    assert_eq!(
        ds.docs,
        vec![
            ("printer is broken".to_string(), "Hardware".to_string()),
            (" only body".to_string(), "Access".to_string())
        ]
    );
    let lines: Vec<usize> = ds.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![2, 4, 6, 7]);
    assert!(ds.skipped[0].reason.contains("invalid JSON"));
    assert!(ds.skipped[1].reason.contains("cat"));
}

#[test]
fn cli_train_then_eval_gate() {
    let dir = tempfile::tempdir().unwrap();
    let train_path = dir.path().join("train.jsonl");
    let held_path = dir.path().join("held.jsonl");
    let lines: Vec<&str> = std::fs::read_to_string(SAMPLE)
        .unwrap()
        .leak()
        .lines()
        .collect();
    std::fs::write(&train_path, lines[..700].join("\n") + "\nbroken line\n").unwrap();
    std::fs::write(&held_path, lines[2700..].join("\n")).unwrap();
    let model_path = dir.path().join("t.model");
    let targs = TrainArgs {
        data: train_path,
        text_field: vec!["text".into()],
        label_field: "label".into(),
        out: Some(model_path.clone()),
        cv: Some(2),
        seed: 3,
        svm_c: 0.5,
        hidden: 8,
        networks: 1,
        no_nbsvm: false,
        epochs: 2,
        hash_bits: 16,
        no_bigrams: false,
        no_class_weight: false,
        calibration_fraction: 0.1,
        threads: 0,
        json: false,
        quiet: true,
    };
    assert_eq!(run_train(&targs).unwrap(), ExitCode::SUCCESS);
    let m = triage_lab::classifier::load_model(&model_path).unwrap();
    assert_eq!(m.labels(), LABELS);
    assert_eq!(m.training_info().documents, 700);

    let mut eargs = EvalArgs {
        model: model_path.clone(),
        data: held_path,
        text_field: vec!["text".into()],
        label_field: "label".into(),
        json: false,
        min_macro_f1: Some(0.99),
    };
    assert_eq!(run_eval(&eargs).unwrap(), ExitCode::from(1));
    eargs.min_macro_f1 = Some(0.05);
    eargs.json = true;
    assert_eq!(run_eval(&eargs).unwrap(), ExitCode::SUCCESS);
    eargs.min_macro_f1 = None;
    assert_eq!(run_eval(&eargs).unwrap(), ExitCode::SUCCESS);

    // a corrupt model is a clear error naming the file
    let mut b = std::fs::read(&model_path).unwrap();
    let n = b.len();
    b.truncate(n - 10);
    std::fs::write(&model_path, b).unwrap();
    let e = run_eval(&eargs).unwrap_err().to_string();
    assert!(e.contains("t.model") && e.contains("truncated"), "{e}");
}
