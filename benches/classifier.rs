//! Classifier benchmarks: prediction throughput on ~300-character tickets and
//! training time on the shipped sample.
//!
//! `cargo bench --bench classifier`. The prediction benchmark uses a model
//! trained on the full shared data file (`../shared/data/it-tickets-train.jsonl`)
//! when it is present, since a full-size model is what production sees (its
//! rows do not all fit in cache); otherwise on the shipped sample. Criterion
//! reports "thrpt" in tickets/s on one thread (= per core).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;
use triage_lab::classifier::{data, train, Corpus, Model, TrainConfig};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/it-tickets-sample.jsonl"
);
const FULL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/it-tickets-train.jsonl"
);

fn read(path: &str) -> Vec<(String, String)> {
    data::read_jsonl(Path::new(path), &["text".into()], "label")
        .expect("data file")
        .docs
}

fn fit(docs: &[(String, String)]) -> Model {
    let cfg = TrainConfig::default();
    let corpus = Corpus::build(docs, cfg.features).unwrap();
    let texts: Vec<&str> = docs.iter().map(|d| d.0.as_str()).collect();
    train(&corpus, &texts, &cfg).unwrap()
}

fn bench_predict(c: &mut Criterion) {
    let sample = read(SAMPLE);
    let (model, source) = if Path::new(FULL).exists() {
        (fit(&read(FULL)), "full")
    } else {
        (fit(&sample), "sample")
    };
    // ~300-character tickets (250..=350 chars), mean reported below
    let texts: Vec<&str> = sample
        .iter()
        .map(|d| d.0.as_str())
        .filter(|t| (250..=350).contains(&t.len()))
        .collect();
    let mean = texts.iter().map(|t| t.len()).sum::<usize>() as f64 / texts.len() as f64;
    eprintln!(
        "predict: {} texts of mean {:.0} chars; model trained on {source} data, {} feature rows, {} bytes",
        texts.len(),
        mean,
        model.stored_features(),
        model.to_bytes().len()
    );
    let mut g = c.benchmark_group("classifier");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function(format!("predict_300_chars_{source}_model"), |b| {
        b.iter(|| {
            i = (i + 1) % texts.len();
            black_box(model.predict(black_box(texts[i])))
        })
    });
    let mut scratch = model.scratch();
    g.bench_function(format!("probabilities_300_chars_{source}_model"), |b| {
        b.iter(|| {
            i = (i + 1) % texts.len();
            black_box(model.probabilities_with(black_box(texts[i]), &mut scratch)[0])
        })
    });
    g.finish();
}

fn bench_train(c: &mut Criterion) {
    let sample = read(SAMPLE);
    let mut g = c.benchmark_group("classifier");
    g.sample_size(10);
    g.throughput(Throughput::Elements(sample.len() as u64));
    g.bench_function("train_sample_2900", |b| {
        b.iter_batched(|| (), |_| black_box(fit(&sample)), BatchSize::PerIteration)
    });
    g.finish();
}

criterion_group!(benches, bench_predict, bench_train);
criterion_main!(benches);
