//! Training: hashed corpus, TF-IDF, one-vs-rest linear SVM and NB-SVM (dual
//! coordinate descent) and a one-hidden-layer network (SGD), calibration of their blend on
//! held-out documents, stratified K-fold cross-validation.
//!
//! Written by hand (no well-kept pure-Rust crate does this over hashed sparse
//! rows with deterministic results):
//! - The SVM solver is the dual coordinate descent method of Hsieh et al. (ICML
//!   2008), the algorithm behind LIBLINEAR and scikit-learn's `LinearSVC`: for
//!   each label `k`, minimise `½‖w‖² + Σᵢ Cᵢ·max(0, 1 − yᵢ·(w·xᵢ + b))²`, the bias
//!   being an extra constant feature as in LIBLINEAR. It converges to the optimum
//!   (no learning rate to tune) and each pass touches each non-zero once.
//! - The network is `softmax(W₂·relu(W₁ᵀx + b₁) + b₂)` over the same TF-IDF
//!   vector, trained by plain SGD on class-weighted cross-entropy with a linearly
//!   decaying learning rate (as fastText does); only the rows of `W₁` of the
//!   features present in a document are touched, so an epoch costs
//!   `O(nnz·H)`.
//! - The NB-SVM (Wang & Manning 2012) is the same solver over the features
//!   scaled by each label's log-count ratio; its weights are stored multiplied
//!   by the ratios, so it is a third linear model over the same TF-IDF vector.
//!
//! Determinism: all randomness comes from [`SplitMix64`] seeded by the user's
//! seed. The SVM and NB-SVM labels and the networks are trained as independent tasks on
//! worker threads, each task's result depends only on its inputs and is stored
//! by task index, so the model is byte-identical whatever the thread count.

use super::features::{count_sorted, idf, tf_weight, unit, FeatureConfig, SplitMix64};
use super::model::{Calibration, Model, Parts, TrainingInfo};
use super::ClassifierError;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Loss of the one-vs-rest SVMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// `max(0, 1 − y·s)²` (LIBLINEAR `-s 1`, `LinearSVC` default).
    SquaredHinge,
    /// `max(0, 1 − y·s)` (LIBLINEAR `-s 3`).
    Hinge,
}

/// Training settings. The defaults are the ones measured best on the IT-ticket
/// data (see the module docs of [`super`]).
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Featurization (stored in the model).
    pub features: FeatureConfig,
    /// SVM loss.
    pub loss: Loss,
    /// SVM regularisation: larger C fits the training data harder.
    pub c: f64,
    /// Maximum SVM passes over the data per label.
    pub max_iter: u32,
    /// SVM stopping tolerance on the projected-gradient spread (LIBLINEAR's `eps`).
    pub eps: f64,
    /// Weight each document by `n / (k · n_label)` ("balanced") in both models.
    pub class_weight: bool,
    /// Hidden units of each network; 0 = SVM only.
    pub hidden: usize,
    /// Add a third member: a one-vs-rest NB-SVM (Wang & Manning 2012), a
    /// linear SVM over the TF-IDF features scaled by each label's log-count
    /// ratio.
    pub nbsvm: bool,
    /// Networks trained from different seeds whose logits are averaged; the
    /// model stores them as one hidden layer of `networks × hidden` units.
    pub networks: usize,
    /// Network epochs.
    pub epochs: u32,
    /// Initial SGD learning rate (decays linearly to 0).
    pub learning_rate: f32,
    /// First-layer weights start uniform in `±init_scale`.
    pub init_scale: f32,
    /// Fraction of the documents (stratified) held out to fit the softmax
    /// temperatures and the blend weight; 0 = no calibration.
    pub calibration_fraction: f64,
    /// After calibrating, fit the weights again on all documents (the
    /// temperatures and blend weight fitted on the held-out part are kept).
    /// Doubles training time; without it the held-out documents are not learned.
    pub refit: bool,
    /// Seed for shuffles, splits and initial weights.
    pub seed: u64,
    /// Worker threads; 0 = available cores.
    pub threads: usize,
    /// Print progress to stderr.
    pub verbose: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            features: FeatureConfig::default(),
            loss: Loss::SquaredHinge,
            c: 0.5,
            max_iter: 100,
            eps: 0.1,
            class_weight: true,
            hidden: 32,
            nbsvm: true,
            networks: 1,
            epochs: 8,
            learning_rate: 0.1,
            init_scale: 0.1,
            calibration_fraction: 0.1,
            refit: true,
            seed: 42,
            threads: 0,
            verbose: false,
        }
    }
}

impl TrainConfig {
    fn threads(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            self.threads
        }
    }

    /// Checks the settings are in range.
    pub fn validate(&self) -> Result<(), ClassifierError> {
        let bad = |m: String| Err(ClassifierError::Config(m));
        self.features.validate().map_err(ClassifierError::Config)?;
        if !(self.c.is_finite() && self.c > 0.0) {
            return bad(format!("C must be a positive number, not {}", self.c));
        }
        if self.hidden > super::model::MAX_HIDDEN {
            return bad(format!(
                "hidden {} > {}",
                self.hidden,
                super::model::MAX_HIDDEN
            ));
        }
        if self.hidden > 0 && self.networks == 0 {
            return bad("networks must be at least 1 with a hidden layer".into());
        }
        if self.hidden * self.networks.max(1) > super::model::MAX_HIDDEN {
            return bad(format!(
                "{} networks × {} hidden units > {}",
                self.networks,
                self.hidden,
                super::model::MAX_HIDDEN
            ));
        }
        if self.hidden > 0 && self.epochs == 0 {
            return bad("epochs must be at least 1 with a hidden layer".into());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!(
                "learning rate {} must be positive",
                self.learning_rate
            ));
        }
        if !(0.0..0.9).contains(&self.calibration_fraction) {
            return bad(format!(
                "calibration fraction {} not in [0, 0.9)",
                self.calibration_fraction
            ));
        }
        Ok(())
    }
}

/// Texts hashed into `(bucket, count)` rows once, labels as indices.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Label names, sorted; `y` indexes into this.
    pub labels: Vec<String>,
    /// Label index per document.
    pub y: Vec<u32>,
    features: FeatureConfig,
    offsets: Vec<usize>,
    ids: Vec<u32>,
    counts: Vec<u32>,
}

impl Corpus {
    /// Hashes `docs` (`(text, label)`). The label set is the sorted distinct labels.
    pub fn build<S: AsRef<str>, L: AsRef<str>>(
        docs: &[(S, L)],
        features: FeatureConfig,
    ) -> Result<Corpus, ClassifierError> {
        features.validate().map_err(ClassifierError::Config)?;
        let mut labels: Vec<String> = docs.iter().map(|d| d.1.as_ref().to_string()).collect();
        labels.sort();
        labels.dedup();
        let y = docs
            .iter()
            .map(|d| {
                labels
                    .binary_search_by(|l| l.as_str().cmp(d.1.as_ref()))
                    .unwrap() as u32
            })
            .collect();
        let mut offsets = Vec::with_capacity(docs.len() + 1);
        offsets.push(0);
        let mut ids = Vec::new();
        let mut counts = Vec::new();
        let mut buf = Vec::new();
        let mut pairs = Vec::new();
        for d in docs {
            buf.clear();
            pairs.clear();
            features.hash_features(d.0.as_ref(), &mut buf);
            count_sorted(&mut buf, &mut pairs);
            for &(i, c) in &pairs {
                ids.push(i);
                counts.push(c);
            }
            offsets.push(ids.len());
        }
        Ok(Corpus {
            labels,
            y,
            features,
            offsets,
            ids,
            counts,
        })
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Documents per label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut n = vec![0; self.labels.len()];
        for &y in &self.y {
            n[y as usize] += 1;
        }
        n
    }

    fn row(&self, i: usize) -> (&[u32], &[u32]) {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        (&self.ids[a..b], &self.counts[a..b])
    }
}

/// Sparse rows (compact feature ids) with TF-IDF, L2-normalised values.
struct Csr {
    offsets: Vec<usize>,
    ids: Vec<u32>,
    vals: Vec<f32>,
}

impl Csr {
    fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        (&self.ids[a..b], &self.vals[a..b])
    }
    fn rows(&self) -> usize {
        self.offsets.len() - 1
    }
}

/// IDF over `docs`, the buckets kept (df ≥ min_df, ascending) and the TF-IDF rows
/// of `docs` over compact column ids (index into the kept buckets).
fn prepare(corpus: &Corpus, docs: &[usize]) -> (Vec<u32>, Vec<f32>, Csr) {
    let f = &corpus.features;
    let mut df = vec![0u32; f.dim()];
    for &d in docs {
        for &i in corpus.row(d).0 {
            df[i as usize] += 1;
        }
    }
    let mut col = vec![u32::MAX; f.dim()];
    let mut buckets = Vec::new();
    let mut idfv = Vec::new();
    for (b, &c) in df.iter().enumerate() {
        let w = idf(docs.len(), c, f.min_df);
        if w > 0.0 {
            col[b] = buckets.len() as u32;
            buckets.push(b as u32);
            idfv.push(w);
        }
    }
    let sub = f.sublinear_tf;
    let mut offsets = Vec::with_capacity(docs.len() + 1);
    offsets.push(0);
    let mut ids = Vec::new();
    let mut vals = Vec::new();
    for &d in docs {
        let (ri, rc) = corpus.row(d);
        let start = ids.len();
        let mut norm = 0f64;
        for (&i, &c) in ri.iter().zip(rc) {
            let j = col[i as usize];
            if j != u32::MAX {
                let v = tf_weight(c, sub) * idfv[j as usize];
                norm += (v as f64) * (v as f64);
                ids.push(j);
                vals.push(v);
            }
        }
        if norm > 0.0 {
            let inv = (1.0 / norm.sqrt()) as f32;
            for v in &mut vals[start..] {
                *v *= inv;
            }
        }
        offsets.push(ids.len());
    }
    (buckets, idfv, Csr { offsets, ids, vals })
}

/// One binary SVM by dual coordinate descent. Returns (weights, bias, iterations).
#[allow(clippy::too_many_arguments)]
fn train_binary(
    x: &Csr,
    pos: &[bool],
    cost: &[f64],
    dim: usize,
    loss: Loss,
    max_iter: u32,
    eps: f64,
    seed: u64,
) -> (Vec<f32>, f32, u32) {
    let n = x.rows();
    let mut w = vec![0f64; dim];
    let mut b = 0f64; // weight of the constant bias feature (value 1)
    let mut alpha = vec![0f64; n];
    let (diag, upper): (Vec<f64>, Vec<f64>) = match loss {
        Loss::SquaredHinge => (
            cost.iter().map(|c| 0.5 / c).collect(),
            vec![f64::INFINITY; n],
        ),
        Loss::Hinge => (vec![0.0; n], cost.to_vec()),
    };
    let qd: Vec<f64> = (0..n)
        .map(|i| {
            let (_, v) = x.row(i);
            v.iter().map(|&a| (a as f64) * (a as f64)).sum::<f64>() + 1.0 + diag[i]
        })
        .collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut rng = SplitMix64(seed);
    let mut iters = 0;
    for it in 0..max_iter {
        iters = it + 1;
        rng.shuffle(&mut order);
        let mut pg_max = f64::NEG_INFINITY;
        let mut pg_min = f64::INFINITY;
        for &s in &order {
            let i = s as usize;
            let yi = if pos[i] { 1.0 } else { -1.0 };
            let (ids, vals) = x.row(i);
            let mut dot = b;
            for (&j, &v) in ids.iter().zip(vals) {
                dot += w[j as usize] * v as f64;
            }
            let g = yi * dot - 1.0 + diag[i] * alpha[i];
            let a = alpha[i];
            let pg = if a == 0.0 {
                g.min(0.0)
            } else if a >= upper[i] {
                g.max(0.0)
            } else {
                g
            };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let na = (a - g / qd[i]).max(0.0).min(upper[i]);
                alpha[i] = na;
                let d = (na - a) * yi;
                if d != 0.0 {
                    for (&j, &v) in ids.iter().zip(vals) {
                        w[j as usize] += d * v as f64;
                    }
                    b += d;
                }
            }
        }
        if pg_max - pg_min <= eps {
            break;
        }
    }
    (w.iter().map(|&v| v as f32).collect(), b as f32, iters)
}

/// Stratified split of `0..n` into `k` folds (each class's documents are shuffled
/// with the seed and dealt round-robin). Returns the fold index of every document.
pub fn stratified_folds(y: &[u32], n_classes: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix64(seed ^ 0xF01D_F01D);
    let mut fold = vec![0usize; y.len()];
    let mut offset = 0;
    for cl in 0..n_classes {
        let mut members: Vec<usize> = (0..y.len()).filter(|&i| y[i] as usize == cl).collect();
        rng.shuffle(&mut members);
        for (j, &i) in members.iter().enumerate() {
            fold[i] = (j + offset) % k;
        }
        offset += members.len();
    }
    fold
}

/// The network's trained weights.
struct Net {
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
}

/// One-hidden-layer network by SGD (see the module docs).
#[allow(clippy::too_many_arguments)]
fn train_net(
    x: &Csr,
    y: &[u32],
    class_w: &[f32],
    h: usize,
    cfg: &TrainConfig,
    seed: u64,
    stage: &str,
    t0: Instant,
) -> Net {
    let nc = class_w.len();
    let r = x.ids.iter().map(|&j| j as usize + 1).max().unwrap_or(0);
    let mut rng = SplitMix64(seed ^ 0x4E37_0001);
    let init = cfg.init_scale;
    let mut w1: Vec<f32> = (0..r * h).map(|_| unit(&mut rng) * init).collect();
    let mut b1 = vec![0f32; h];
    let s2 = 1.0 / (h as f32).sqrt();
    let mut w2: Vec<f32> = (0..nc * h).map(|_| unit(&mut rng) * s2).collect();
    let mut b2 = vec![0f32; nc];
    let n = x.rows();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let total = (cfg.epochs as usize * n) as f32;
    let mut step = 0f32;
    let mut pre = vec![0f32; h];
    let mut hid = vec![0f32; h];
    let mut gh = vec![0f32; h];
    let mut p = vec![0f32; nc];
    for ep in 0..cfg.epochs {
        rng.shuffle(&mut order);
        let mut loss = 0f64;
        for &o in &order {
            let o = o as usize;
            let lr = cfg.learning_rate * (1.0 - step / total).max(0.0);
            step += 1.0;
            let (ids, vals) = x.row(o);
            let yi = y[o] as usize;
            // forward
            pre.copy_from_slice(&b1);
            for (&j, &v) in ids.iter().zip(vals) {
                let row = &w1[j as usize * h..(j as usize + 1) * h];
                for (a, &w) in pre.iter_mut().zip(row) {
                    *a += v * w;
                }
            }
            for (o, &a) in hid.iter_mut().zip(&pre) {
                *o = a.max(0.0);
            }
            for c in 0..nc {
                let mut s = b2[c];
                for (&a, &b) in w2[c * h..(c + 1) * h].iter().zip(&hid) {
                    s += a * b;
                }
                p[c] = s;
            }
            let m = p.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let mut z = 0.0;
            for v in p.iter_mut() {
                *v = (*v - m).exp();
                z += *v;
            }
            for v in p.iter_mut() {
                *v /= z;
            }
            loss -= (p[yi].max(1e-12) as f64).ln();
            // backward
            let cw = class_w[yi];
            gh.iter_mut().for_each(|g| *g = 0.0);
            for c in 0..nc {
                let g = (p[c] - if c == yi { 1.0 } else { 0.0 }) * cw;
                let row = &mut w2[c * h..(c + 1) * h];
                let lg = lr * g;
                for ((w, gg), &hv) in row.iter_mut().zip(gh.iter_mut()).zip(&hid) {
                    *gg += g * *w;
                    *w -= lg * hv;
                }
                b2[c] -= lg;
            }
            for (gg, &a) in gh.iter_mut().zip(&pre) {
                if a <= 0.0 {
                    *gg = 0.0;
                }
            }
            for (b, &g) in b1.iter_mut().zip(&gh) {
                *b -= lr * g;
            }
            for (&j, &v) in ids.iter().zip(vals) {
                let row = &mut w1[j as usize * h..(j as usize + 1) * h];
                let lv = lr * v;
                for (w, &g) in row.iter_mut().zip(&gh) {
                    *w -= lv * g;
                }
            }
        }
        if cfg.verbose {
            eprintln!(
                "  [{stage}] network epoch {}/{}: mean loss {:.4} ({:.1}s)",
                ep + 1,
                cfg.epochs,
                loss / n.max(1) as f64,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    Net { w1, b1, w2, b2 }
}

/// The logit average of `nets` networks of `h` hidden units over `r` rows and
/// `k` labels, as one network of `nets·h` units.
fn average_nets(nets: &[Net], h: usize, r: usize, k: usize) -> Net {
    let n = nets.len();
    let ht = n * h;
    let mut out = Net {
        w1: vec![0f32; r * ht],
        b1: Vec::with_capacity(ht),
        w2: vec![0f32; k * ht],
        b2: vec![0f32; k],
    };
    if n == 0 {
        return Net {
            w1: Vec::new(),
            b1: Vec::new(),
            w2: Vec::new(),
            b2: Vec::new(),
        };
    }
    let inv = 1.0 / n as f32;
    for (i, net) in nets.iter().enumerate() {
        for j in 0..r {
            out.w1[j * ht + i * h..j * ht + (i + 1) * h]
                .copy_from_slice(&net.w1[j * h..(j + 1) * h]);
        }
        out.b1.extend_from_slice(&net.b1);
        for c in 0..k {
            for u in 0..h {
                out.w2[c * ht + i * h + u] = net.w2[c * h + u] * inv;
            }
            out.b2[c] += net.b2[c] * inv;
        }
    }
    out
}

enum TaskOut {
    Svm(Vec<f32>, f32),
    Nb(Vec<f32>, f32),
    Net(Net),
}

/// Fits IDF, SVMs and network on `docs` (no calibration).
fn fit_parts(
    corpus: &Corpus,
    docs: &[usize],
    cfg: &TrainConfig,
    seed: u64,
    stage: &str,
) -> Result<Model, ClassifierError> {
    let k = corpus.labels.len();
    let t0 = Instant::now();
    let (buckets, idfv, x) = prepare(corpus, docs);
    let r = buckets.len();
    let mut class_n = vec![0usize; k];
    for &d in docs {
        class_n[corpus.y[d] as usize] += 1;
    }
    if let Some(c) = (0..k).find(|&c| class_n[c] == 0) {
        return Err(ClassifierError::Data(format!(
            "label \"{}\" has no training documents",
            corpus.labels[c]
        )));
    }
    let class_w: Vec<f32> = class_n
        .iter()
        .map(|&n| {
            if cfg.class_weight {
                (docs.len() as f64 / (k as f64 * n as f64)) as f32
            } else {
                1.0
            }
        })
        .collect();
    let y: Vec<u32> = docs.iter().map(|&d| corpus.y[d]).collect();
    let cost: Vec<f64> = y
        .iter()
        .map(|&c| cfg.c * class_w[c as usize] as f64)
        .collect();
    // Tasks 0..nets are the networks (the longest), then one task per SVM label.
    let nets = if cfg.hidden > 0 { cfg.networks } else { 0 };
    let nb = if cfg.nbsvm { k } else { 0 };
    let ntasks = nets + k + nb;
    // NB-SVM: per label, the log ratio of the (add-one smoothed, normalised)
    // document counts of each feature inside and outside the label.
    let nb_ratio: Vec<Vec<f32>> = if cfg.nbsvm {
        let mut df = vec![vec![0u32; r]; k];
        for (i, &c) in y.iter().enumerate() {
            for &j in x.row(i).0 {
                df[c as usize][j as usize] += 1;
            }
        }
        let all: Vec<u32> = (0..r).map(|j| (0..k).map(|c| df[c][j]).sum()).collect();
        (0..k)
            .map(|c| {
                let p: Vec<f64> = df[c].iter().map(|&d| 1.0 + d as f64).collect();
                let q: Vec<f64> = (0..r).map(|j| 1.0 + (all[j] - df[c][j]) as f64).collect();
                let (ps, qs): (f64, f64) = (p.iter().sum(), q.iter().sum());
                p.iter()
                    .zip(&q)
                    .map(|(&a, &b)| ((a / ps) / (b / qs)).ln() as f32)
                    .collect()
            })
            .collect()
    } else {
        Vec::new()
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<TaskOut>>> = Mutex::new((0..ntasks).map(|_| None).collect());
    let threads = cfg.threads().clamp(1, ntasks);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let t = next.fetch_add(1, Ordering::Relaxed);
                if t >= ntasks {
                    break;
                }
                let out = if t < nets {
                    let nseed = seed ^ (t as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
                    TaskOut::Net(train_net(
                        &x, &y, &class_w, cfg.hidden, cfg, nseed, stage, t0,
                    ))
                } else if t >= nets + k {
                    let cl = t - nets - k;
                    let ratio = &nb_ratio[cl];
                    let xs = Csr {
                        offsets: x.offsets.clone(),
                        ids: x.ids.clone(),
                        vals: x
                            .ids
                            .iter()
                            .zip(&x.vals)
                            .map(|(&j, &v)| v * ratio[j as usize])
                            .collect(),
                    };
                    let pos: Vec<bool> = y.iter().map(|&c| c as usize == cl).collect();
                    let npos = pos.iter().filter(|&&p| p).count() as f64;
                    let n = pos.len() as f64;
                    let (cp, cn) = if cfg.class_weight {
                        (n / (2.0 * npos), n / (2.0 * (n - npos).max(1.0)))
                    } else {
                        (1.0, 1.0)
                    };
                    let cost_nb: Vec<f64> = pos
                        .iter()
                        .map(|&p| cfg.c * if p { cp } else { cn })
                        .collect();
                    let cseed = seed ^ (cl as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    let (w, b, _) = train_binary(
                        &xs,
                        &pos,
                        &cost_nb,
                        r,
                        cfg.loss,
                        cfg.max_iter,
                        cfg.eps,
                        cseed,
                    );
                    let w = w.iter().zip(ratio).map(|(&a, &q)| a * q).collect();
                    TaskOut::Nb(w, b)
                } else {
                    let cl = t - nets;
                    let pos: Vec<bool> = y.iter().map(|&c| c as usize == cl).collect();
                    let cseed = seed ^ (cl as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    let (w, b, passes) =
                        train_binary(&x, &pos, &cost, r, cfg.loss, cfg.max_iter, cfg.eps, cseed);
                    if cfg.verbose {
                        eprintln!(
                            "  [{stage}] svm label {}/{} \"{}\": {} passes ({:.1}s)",
                            cl + 1,
                            k,
                            corpus.labels[cl],
                            passes,
                            t0.elapsed().as_secs_f64()
                        );
                    }
                    TaskOut::Svm(w, b)
                };
                results.lock().unwrap()[t] = Some(out);
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    let mut svm_w = Vec::with_capacity(k);
    let mut svm_b = Vec::with_capacity(k);
    let mut nb_w = Vec::with_capacity(nb);
    let mut nb_b = Vec::with_capacity(nb);
    for r in results.iter_mut().skip(nets) {
        match r.take() {
            Some(TaskOut::Svm(w, b)) => {
                svm_w.push(w);
                svm_b.push(b);
            }
            Some(TaskOut::Nb(w, b)) => {
                nb_w.push(w);
                nb_b.push(b);
            }
            _ => unreachable!("every SVM task ran"),
        }
    }
    let trained: Vec<Net> = results[..nets]
        .iter_mut()
        .map(|r| match r.take() {
            Some(TaskOut::Net(n)) => n,
            _ => unreachable!("every network task ran"),
        })
        .collect();
    let net = average_nets(&trained, cfg.hidden, r, k);
    let algorithm = format!(
        "tfidf + ovr-svm({}, dcd){}{}",
        match cfg.loss {
            Loss::SquaredHinge => "squared-hinge",
            Loss::Hinge => "hinge",
        },
        if cfg.nbsvm { " + ovr-nbsvm" } else { "" },
        if cfg.hidden > 0 {
            if nets > 1 {
                format!(" + {nets} × mlp(relu {}, sgd), logits averaged", cfg.hidden)
            } else {
                format!(" + mlp(relu {}, sgd)", cfg.hidden)
            }
        } else {
            String::new()
        }
    );
    Ok(Model::from_parts(Parts {
        labels: corpus.labels.clone(),
        features: corpus.features,
        buckets,
        idf: idfv,
        svm_w,
        svm_b,
        nb_w,
        nb_b,
        hidden: nets * cfg.hidden,
        w1: net.w1,
        b1: net.b1,
        w2: net.w2,
        b2: net.b2,
        training: TrainingInfo {
            algorithm,
            c: cfg.c,
            class_weight: cfg.class_weight,
            epochs: if cfg.hidden > 0 { cfg.epochs } else { 0 },
            seed: cfg.seed,
            documents: docs.len() as u64,
            calibration_documents: 0,
            class_counts: class_n.iter().map(|&n| n as u64).collect(),
            created_by: concat!("triage ", env!("CARGO_PKG_VERSION")).into(),
        },
    }))
}

/// Splits `docs` into (fit, held out): for each label, a seeded shuffle and the
/// first `round(fraction · n_label)` documents held out (none from labels with
/// fewer than 3 documents).
pub fn stratified_holdout(
    docs: &[usize],
    y: &[u32],
    n_classes: usize,
    fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = SplitMix64(seed ^ 0xCA1B_0000);
    let mut hold = vec![false; docs.len()];
    for cl in 0..n_classes {
        let mut members: Vec<usize> = (0..docs.len())
            .filter(|&i| y[docs[i]] as usize == cl)
            .collect();
        if members.len() < 3 {
            continue;
        }
        rng.shuffle(&mut members);
        let m = ((fraction * members.len() as f64).round() as usize).min(members.len() - 1);
        for &i in &members[..m] {
            hold[i] = true;
        }
    }
    let fit = (0..docs.len())
        .filter(|&i| !hold[i])
        .map(|i| docs[i])
        .collect();
    let held = (0..docs.len())
        .filter(|&i| hold[i])
        .map(|i| docs[i])
        .collect();
    (fit, held)
}

fn nll(probs: impl Iterator<Item = f64>) -> f64 {
    let mut s = 0.0;
    let mut n = 0usize;
    for p in probs {
        s -= p.max(1e-12).ln();
        n += 1;
    }
    s / n.max(1) as f64
}

fn softmax64(s: &[f32], t: f64) -> Vec<f64> {
    let m = s.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
    let e: Vec<f64> = s.iter().map(|&v| ((v as f64 - m) / t).exp()).collect();
    let z: f64 = e.iter().sum();
    e.into_iter().map(|v| v / z).collect()
}

/// Fits the softmax temperature `T` minimising the mean negative log-likelihood
/// of the true labels under `softmax(scores / T)`: golden-section search on
/// `ln T ∈ [ln 0.005, ln 20]`.
pub fn fit_temperature(scores: &[Vec<f32>], truth: &[u32]) -> f32 {
    let f = |t: f64| {
        nll(scores
            .iter()
            .zip(truth)
            .map(|(s, &y)| softmax64(s, t)[y as usize]))
    };
    let (mut a, mut b) = ((0.005f64).ln(), (20.0f64).ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c.exp()), f(d.exp()));
    for _ in 0..40 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c.exp());
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d.exp());
        }
    }
    ((a + b) / 2.0).exp() as f32
}

/// Fits each present member's temperature, then the blend weights (a grid of
/// step 0.05 over the simplex), all by minimum negative log-likelihood of the
/// held-out labels.
fn calibrate(
    svm: &[Vec<f32>],
    nb: &[Vec<f32>],
    net: &[Vec<f32>],
    truth: &[u32],
    cfg: &TrainConfig,
) -> Calibration {
    let mut cal = Calibration {
        svm_t: fit_temperature(svm, truth),
        nb_t: 1.0,
        mlp_t: 1.0,
        svm_weight: 1.0,
        nb_weight: 0.0,
    };
    let has_nb = cfg.nbsvm;
    let has_net = cfg.hidden > 0;
    if has_nb {
        cal.nb_t = fit_temperature(nb, truth);
    }
    if has_net {
        cal.mlp_t = fit_temperature(net, truth);
    }
    if !has_nb && !has_net {
        return cal;
    }
    let probs = |s: &[Vec<f32>], t: f32| -> Vec<f64> {
        s.iter()
            .zip(truth)
            .map(|(v, &y)| softmax64(v, t as f64)[y as usize])
            .collect()
    };
    let ps = probs(svm, cal.svm_t);
    let pb = if has_nb {
        probs(nb, cal.nb_t)
    } else {
        vec![0.0; truth.len()]
    };
    let pn = if has_net {
        probs(net, cal.mlp_t)
    } else {
        vec![0.0; truth.len()]
    };
    const STEPS: usize = 20;
    let mut best = (f64::INFINITY, 1.0, 0.0);
    for i in 0..=STEPS {
        for j in 0..=STEPS - i {
            let (a, b) = (i as f64 / STEPS as f64, j as f64 / STEPS as f64);
            // the weights of absent members stay 0
            if (!has_nb && j > 0) || (!has_net && i + j != STEPS) {
                continue;
            }
            let c = 1.0 - a - b;
            let v = nll((0..truth.len()).map(|d| a * ps[d] + b * pb[d] + c * pn[d]));
            if v < best.0 {
                best = (v, a, b);
            }
        }
    }
    cal.svm_weight = best.1 as f32;
    cal.nb_weight = best.2 as f32;
    cal
}

/// Trains on `docs` the way a shipped model is trained: hold out
/// `calibration_fraction` (stratified), fit the weights on the rest, fit the
/// temperatures and blend weight on the held-out documents.
fn fit(
    corpus: &Corpus,
    texts: &[&str],
    docs: &[usize],
    cfg: &TrainConfig,
    seed: u64,
    stage: &str,
) -> Result<Model, ClassifierError> {
    let k = corpus.labels.len();
    if k < 2 {
        return Err(ClassifierError::Data(format!(
            "need at least 2 distinct labels to train, found {k}"
        )));
    }
    let (fit_docs, held) = if cfg.calibration_fraction > 0.0 {
        stratified_holdout(docs, &corpus.y, k, cfg.calibration_fraction, seed)
    } else {
        (docs.to_vec(), Vec::new())
    };
    if cfg.verbose {
        eprintln!(
            "[{stage}] fitting on {} documents, calibrating on {}",
            fit_docs.len(),
            held.len()
        );
    }
    let mut m = fit_parts(corpus, &fit_docs, cfg, seed, stage)?;
    if held.is_empty() {
        return Ok(m);
    }
    let mut scratch = m.scratch();
    let mut svm = Vec::with_capacity(held.len());
    let mut nb = Vec::with_capacity(held.len());
    let mut net = Vec::with_capacity(held.len());
    for &d in &held {
        let raw = m.raw_with(texts[d], &mut scratch);
        svm.push(raw.svm.to_vec());
        nb.push(raw.nb.to_vec());
        net.push(raw.net.to_vec());
    }
    let truth: Vec<u32> = held.iter().map(|&d| corpus.y[d]).collect();
    let cal = calibrate(&svm, &nb, &net, &truth, cfg);
    if cfg.verbose {
        eprintln!(
            "[{stage}] calibration: temperatures svm {:.4}, nb-svm {:.4}, network {:.4}; weights svm {:.2}, nb-svm {:.2}",
            cal.svm_t, cal.nb_t, cal.mlp_t, cal.svm_weight, cal.nb_weight
        );
    }
    if cfg.refit {
        if cfg.verbose {
            eprintln!("[{stage}] refitting on all {} documents", docs.len());
        }
        m = fit_parts(corpus, docs, cfg, seed, stage)?;
    }
    m.set_calibration(cal);
    m.set_calibration_documents(held.len() as u64);
    Ok(m)
}

/// Trains a model on the whole corpus (`texts[i]` is document `i`'s text).
pub fn train(corpus: &Corpus, texts: &[&str], cfg: &TrainConfig) -> Result<Model, ClassifierError> {
    cfg.validate()?;
    if texts.len() != corpus.len() {
        return Err(ClassifierError::Config(format!(
            "{} texts for {} documents",
            texts.len(),
            corpus.len()
        )));
    }
    let all: Vec<usize> = (0..corpus.len()).collect();
    fit(corpus, texts, &all, cfg, cfg.seed, "train")
}

/// Result of one cross-validation fold.
#[derive(Debug, Clone, Serialize)]
pub struct FoldResult {
    /// Fold number (1-based).
    pub fold: usize,
    /// Training documents.
    pub train_docs: usize,
    /// Held-out documents.
    pub test_docs: usize,
    /// Held-out accuracy.
    pub accuracy: f64,
    /// Held-out macro-F1.
    pub macro_f1: f64,
    /// Training seconds.
    pub train_seconds: f64,
}

/// Cross-validation summary.
#[derive(Debug, Clone, Serialize)]
pub struct CvReport {
    /// Per fold.
    pub folds: Vec<FoldResult>,
    /// Mean of fold macro-F1s.
    pub mean_macro_f1: f64,
    /// Sample standard deviation of fold macro-F1s.
    pub std_macro_f1: f64,
    /// Mean of fold accuracies.
    pub mean_accuracy: f64,
    /// Report over all out-of-fold predictions pooled.
    pub pooled: super::eval::EvalReport,
}

/// Stratified K-fold cross-validation. Each fold is trained exactly as
/// [`train`] trains a shipped model (IDF, weights and calibration fitted on the
/// training part only) and scored on the held-out part through
/// [`Model::predict_with`].
pub fn cross_validate(
    corpus: &Corpus,
    texts: &[&str],
    cfg: &TrainConfig,
    k: usize,
) -> Result<CvReport, ClassifierError> {
    cfg.validate()?;
    if k < 2 || k > corpus.len() {
        return Err(ClassifierError::Config(format!(
            "--cv {} needs 2 <= K <= number of documents ({})",
            k,
            corpus.len()
        )));
    }
    let folds = stratified_folds(&corpus.y, corpus.labels.len(), k, cfg.seed);
    let mut results = Vec::new();
    let mut pooled = Vec::with_capacity(corpus.len());
    for f in 0..k {
        let t0 = Instant::now();
        let tr: Vec<usize> = (0..corpus.len()).filter(|&i| folds[i] != f).collect();
        let te: Vec<usize> = (0..corpus.len()).filter(|&i| folds[i] == f).collect();
        let stage = format!("cv {}/{}", f + 1, k);
        let m = fit(
            corpus,
            texts,
            &tr,
            cfg,
            cfg.seed.wrapping_add(f as u64 + 1),
            &stage,
        )?;
        let secs = t0.elapsed().as_secs_f64();
        let mut scratch = m.scratch();
        let pairs: Vec<(usize, usize)> = te
            .iter()
            .map(|&i| {
                (
                    corpus.y[i] as usize,
                    m.predict_with(texts[i], &mut scratch).label,
                )
            })
            .collect();
        pooled.extend_from_slice(&pairs);
        let rep = super::eval::EvalReport::from_pairs(&corpus.labels, &pairs);
        if cfg.verbose {
            eprintln!(
                "cv fold {}/{}: macro-F1 {:.4}  accuracy {:.4}  ({} train / {} test, {:.1}s)",
                f + 1,
                k,
                rep.macro_f1,
                rep.accuracy,
                tr.len(),
                te.len(),
                secs
            );
        }
        results.push(FoldResult {
            fold: f + 1,
            train_docs: tr.len(),
            test_docs: te.len(),
            accuracy: rep.accuracy,
            macro_f1: rep.macro_f1,
            train_seconds: secs,
        });
    }
    let n = results.len() as f64;
    let mean = results.iter().map(|r| r.macro_f1).sum::<f64>() / n;
    let var = results
        .iter()
        .map(|r| (r.macro_f1 - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0).max(1.0);
    let mean_acc = results.iter().map(|r| r.accuracy).sum::<f64>() / n;
    Ok(CvReport {
        folds: results,
        mean_macro_f1: mean,
        std_macro_f1: var.sqrt(),
        mean_accuracy: mean_acc,
        pooled: super::eval::EvalReport::from_pairs(&corpus.labels, &pooled),
    })
}
