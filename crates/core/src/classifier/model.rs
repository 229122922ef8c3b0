//! The trained model: prediction and the binary file format (the byte layout is
//! documented in the [module docs](super)).

use super::features::{tf_weight, FeatureConfig};
use super::ModelError;
use crate::simd::{accumulate, prefetch};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// Magic bytes at the start of every model file.
pub const MAGIC: &[u8; 8] = b"TRIAGEML";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;
/// Bytes before the JSON header: magic, version, reserved, total length, header length.
const FIXED: usize = 8 + 4 + 4 + 8 + 4;
/// Upper bound on the hidden layer width accepted from a file.
pub const MAX_HIDDEN: usize = 1024;
/// Upper bound on the number of labels accepted from a file.
pub const MAX_LABELS: usize = 4096;

/// How the model was trained (informational; stored in the header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// Algorithm summary.
    pub algorithm: String,
    /// SVM regularisation constant.
    pub c: f64,
    /// Whether classes were weighted inversely to their frequency.
    pub class_weight: bool,
    /// Network epochs (0 without a hidden layer).
    pub epochs: u32,
    /// Seed used.
    pub seed: u64,
    /// Documents the weights were fitted on.
    pub documents: u64,
    /// Documents held out to fit the temperatures and blend weight.
    pub calibration_documents: u64,
    /// Training documents per label (same order as the labels).
    pub class_counts: Vec<u64>,
    /// Version of the program that trained it.
    pub created_by: String,
}

/// JSON header of the model file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    labels: Vec<String>,
    features: FeatureConfig,
    hidden: usize,
    svm_temperature: f32,
    mlp_temperature: f32,
    svm_weight: f32,
    nbsvm: bool,
    nb_temperature: f32,
    nb_weight: f32,
    training: TrainingInfo,
}

/// A trained text classifier: TF-IDF features → a blend of a one-vs-rest linear
/// SVM and a one-hidden-layer network (see the [module docs](super)).
/// `&Model` is `Sync`; prediction takes `&self`.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    labels: Vec<String>,
    features: FeatureConfig,
    hidden: usize,
    svm_temperature: f32,
    mlp_temperature: f32,
    svm_weight: f32,
    /// Whether the NB-SVM member is present (its K columns follow the SVM's).
    nbsvm: bool,
    nb_temperature: f32,
    /// Weight of the NB-SVM in the blend; the network has `1 − svm − nb`.
    nb_weight: f32,
    training: TrainingInfo,
    /// Bucket → row: a presence bit per bucket with the number of rows before
    /// each 64-bucket block (256 KiB for `2^20` buckets, so it stays in L2).
    index: Vec<RankBlock>,
    /// Rows of `stride` bytes in 64-byte aligned memory: IDF (`f32`), row
    /// scale (`f32`), then `width` quantized weights (`i8`: K SVM weights, H
    /// hidden weights, zero padding to a multiple of 8). `stride` is a power
    /// of two up to 64 (or a multiple of 64), so a row never straddles a cache
    /// line when it fits in one.
    rows: Vec<Line>,
    stride: usize,
    /// Number of quantized weights per row, padded to a multiple of 8.
    width: usize,
    /// Bucket id of each row (ascending).
    row_bucket: Vec<u32>,
    /// Per weight column (K SVM columns, then H hidden columns): weight =
    /// `q · row scale · column scale`.
    col_scale: Vec<f32>,
    svm_bias: Vec<f32>,
    /// NB-SVM biases (K, or none without the member).
    nb_bias: Vec<f32>,
    b1: Vec<f32>,
    /// K × H output weights (row per label).
    w2: Vec<f32>,
    b2: Vec<f32>,
}

/// 64 buckets' presence bits and the number of rows of all earlier blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, align(16))]
struct RankBlock {
    bits: u64,
    base: u32,
}

/// One cache line of row storage.
#[derive(Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(64))]
struct Line([u8; 64]);

impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Line(..)")
    }
}

/// Bytes of a row before its quantized weights: IDF and row scale.
pub(crate) const ROW_HEAD: usize = 8;

/// One classification.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Index into [`Model::labels`] of the best label.
    pub label: usize,
    /// Calibrated probability of `label` (see [`Model::predict`]).
    pub confidence: f32,
    /// Up to three `(label index, probability)` pairs, best first; the first is
    /// `(label, confidence)`.
    pub alternatives: Vec<(usize, f32)>,
}

/// Reusable buffers for allocation-free scoring.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    ids: Vec<u32>,
    table: Vec<u32>,
    hits: Vec<(u32, u32)>,
    acc: Vec<f32>,
    svm: Vec<f32>,
    nb: Vec<f32>,
    probs: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Temperatures and blend weights fitted on held-out documents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub svm_t: f32,
    pub nb_t: f32,
    pub mlp_t: f32,
    pub svm_weight: f32,
    pub nb_weight: f32,
}

/// Raw member outputs before calibration (see [`Model::raw_with`]).
pub struct Raw<'a> {
    /// SVM decision values.
    pub svm: &'a [f32],
    /// NB-SVM decision values (empty without that member).
    pub nb: &'a [f32],
    /// Network logits (empty without a hidden layer).
    pub net: &'a [f32],
}

/// Weights produced by training, over compact feature rows.
pub struct Parts {
    pub labels: Vec<String>,
    pub features: FeatureConfig,
    /// Bucket of each compact row, ascending.
    pub buckets: Vec<u32>,
    /// IDF of each compact row.
    pub idf: Vec<f32>,
    /// K × R SVM weights.
    pub svm_w: Vec<Vec<f32>>,
    pub svm_b: Vec<f32>,
    /// K × R NB-SVM weights (already multiplied by the log-count ratios), or none.
    pub nb_w: Vec<Vec<f32>>,
    pub nb_b: Vec<f32>,
    /// Network, when `hidden > 0`: R × H first-layer weights, H biases, K × H, K.
    pub hidden: usize,
    pub w1: Vec<f32>,
    pub b1: Vec<f32>,
    pub w2: Vec<f32>,
    pub b2: Vec<f32>,
    pub training: TrainingInfo,
}

#[inline(always)]
pub(crate) fn f32_at(b: &[u8], at: usize) -> f32 {
    f32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn accumulate_dyn(
    rows: &[u8],
    stride: usize,
    hits: &[(u32, u32)],
    sub: bool,
    acc: &mut [f32],
) -> f32 {
    let w = acc.len();
    let mut norm = 0f32;
    for &(r, c) in hits {
        let at = r as usize * stride;
        let row = &rows[at..at + ROW_HEAD + w];
        let tf = if c == 1 { 1.0 } else { tf_weight(c, sub) };
        let v = tf * f32_at(row, 0);
        norm += v * v;
        let u = v * f32_at(row, 4);
        for (a8, q8) in acc.chunks_exact_mut(8).zip(row[ROW_HEAD..].chunks_exact(8)) {
            for i in 0..8 {
                a8[i] += u * (q8[i] as i8 as f32);
            }
        }
    }
    norm
}

/// Quantized weights per row: the weight columns padded to a multiple of 8.
fn width_for(cols: usize) -> usize {
    cols.div_ceil(8) * 8
}

/// In-memory row length in bytes: a power of two up to 64, else a multiple of 64.
fn stride_for(width: usize) -> usize {
    let n = ROW_HEAD + width;
    if n <= 64 {
        n.next_power_of_two()
    } else {
        n.div_ceil(64) * 64
    }
}

/// Zeroed, 64-byte aligned row storage for `r` rows.
fn row_storage(r: usize, stride: usize) -> Vec<Line> {
    vec![Line([0; 64]); (r * stride).div_ceil(64)]
}

/// The rank index over `buckets` (ascending, `< dim`).
fn build_index(buckets: &[u32], dim: usize) -> Vec<RankBlock> {
    let mut index = vec![RankBlock::default(); dim.div_ceil(64)];
    for &b in buckets {
        index[b as usize >> 6].bits |= 1u64 << (b & 63);
    }
    let mut base = 0u32;
    for blk in index.iter_mut() {
        blk.base = base;
        base += blk.bits.count_ones();
    }
    index
}

/// Quantizes one row of `n` = weight / column scale values to `i8` with a
/// per-row scale (largest magnitude ↦ 127, round to nearest). Returns the scale.
fn quantize_row(n: &[f32], q: &mut [u8]) -> f32 {
    let m = n.iter().fold(0f32, |m, &v| m.max(v.abs()));
    if m == 0.0 {
        q.iter_mut().for_each(|x| *x = 0);
        return 0.0;
    }
    let s = m / 127.0;
    let inv = 127.0 / m;
    for (x, &v) in q.iter_mut().zip(n) {
        *x = ((v * inv).round().clamp(-127.0, 127.0) as i8) as u8;
    }
    s
}

fn softmax_into(scores: &[f32], inv_t: f32, out: &mut [f32]) {
    let m = scores.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let mut z = 0.0;
    for (o, &s) in out.iter_mut().zip(scores) {
        *o = ((s - m) * inv_t).exp();
        z += *o;
    }
    let iz = 1.0 / z;
    for o in out.iter_mut() {
        *o *= iz;
    }
}

impl Model {
    /// Builds the model from trained weights, quantizing the feature rows: each
    /// weight column (K SVM columns, H hidden columns) is divided by its root
    /// mean square over the rows, then each row is scaled so its largest
    /// magnitude is 127 and rounded to `i8`.
    pub fn from_parts(p: Parts) -> Model {
        let k = p.labels.len();
        let h = p.hidden;
        let r = p.buckets.len();
        let nb = !p.nb_w.is_empty();
        let kn = if nb { k } else { 0 };
        let cols = k + kn + h;
        let weight = |j: usize, c: usize| -> f32 {
            if c < k {
                p.svm_w[c][j]
            } else if c < k + kn {
                p.nb_w[c - k][j]
            } else {
                p.w1[j * h + (c - k - kn)]
            }
        };
        let mut col_scale = vec![1f32; cols];
        for (c, cs) in col_scale.iter_mut().enumerate() {
            let ss: f64 = (0..r).map(|j| (weight(j, c) as f64).powi(2)).sum();
            let rms = (ss / r.max(1) as f64).sqrt() as f32;
            if rms > 0.0 && rms.is_finite() {
                *cs = rms;
            }
        }
        let width = width_for(cols);
        let stride = stride_for(width);
        let mut rows = row_storage(r, stride);
        let bytes = bytemuck::cast_slice_mut::<Line, u8>(&mut rows);
        let mut n = vec![0f32; cols];
        for j in 0..r {
            for (c, v) in n.iter_mut().enumerate() {
                *v = weight(j, c) / col_scale[c];
            }
            let row = &mut bytes[j * stride..j * stride + ROW_HEAD + width];
            let s = quantize_row(&n, &mut row[ROW_HEAD..ROW_HEAD + cols]);
            row[0..4].copy_from_slice(&p.idf[j].to_le_bytes());
            row[4..8].copy_from_slice(&s.to_le_bytes());
        }
        Model {
            labels: p.labels,
            features: p.features,
            hidden: h,
            svm_temperature: 1.0,
            mlp_temperature: 1.0,
            svm_weight: if h == 0 && !nb { 1.0 } else { 0.5 },
            nbsvm: nb,
            nb_temperature: 1.0,
            nb_weight: 0.0,
            training: p.training,
            index: build_index(&p.buckets, p.features.dim()),
            rows,
            stride,
            width,
            row_bucket: p.buckets,
            col_scale,
            svm_bias: p.svm_b,
            nb_bias: if nb { p.nb_b } else { Vec::new() },
            b1: if h > 0 { p.b1 } else { Vec::new() },
            w2: if h > 0 { p.w2 } else { Vec::new() },
            // the format always stores K output biases (zero without a network)
            b2: if h > 0 { p.b2 } else { vec![0.0; k] },
        }
    }

    /// Temperatures and blend weights of the members; weights of absent
    /// members are ignored, the SVM gets what the others leave.
    pub fn set_calibration(&mut self, c: Calibration) {
        self.svm_temperature = c.svm_t;
        self.mlp_temperature = if self.hidden > 0 { c.mlp_t } else { 1.0 };
        self.nb_temperature = if self.nbsvm { c.nb_t } else { 1.0 };
        self.nb_weight = if self.nbsvm { c.nb_weight } else { 0.0 };
        self.svm_weight = if self.hidden > 0 {
            c.svm_weight
        } else {
            1.0 - self.nb_weight
        };
    }

    pub fn set_calibration_documents(&mut self, n: u64) {
        self.training.calibration_documents = n;
    }

    /// Label names; [`Prediction::label`] indexes into this. Sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Feature settings the model was trained with.
    pub fn feature_config(&self) -> &FeatureConfig {
        &self.features
    }

    /// Hidden layer width (0 = linear SVM only).
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// `(svm temperature, network temperature, svm weight in the blend)`.
    pub fn calibration(&self) -> (f32, f32, f32) {
        (self.svm_temperature, self.mlp_temperature, self.svm_weight)
    }

    /// `(NB-SVM temperature, NB-SVM weight in the blend)` when the model has
    /// the NB-SVM member.
    pub fn nb_calibration(&self) -> Option<(f32, f32)> {
        self.nbsvm.then_some((self.nb_temperature, self.nb_weight))
    }

    /// Training metadata.
    pub fn training_info(&self) -> &TrainingInfo {
        &self.training
    }

    /// Quantized weights per feature row: K SVM, K NB-SVM (when present), H hidden.
    pub fn weight_columns(&self) -> usize {
        self.col_scale.len()
    }

    /// Number of feature rows (buckets seen in training).
    pub fn stored_features(&self) -> usize {
        self.row_bucket.len()
    }

    /// Fresh buffers for [`Model::probabilities_with`] / [`Model::predict_with`].
    pub fn scratch(&self) -> Scratch {
        Scratch {
            ids: Vec::with_capacity(256),
            table: Vec::with_capacity(512),
            hits: Vec::with_capacity(256),
            acc: Vec::with_capacity(self.width.max(self.labels.len())),
            svm: Vec::with_capacity(self.labels.len()),
            nb: Vec::with_capacity(self.labels.len()),
            probs: Vec::with_capacity(self.labels.len()),
        }
    }

    /// Raw member outputs before calibration, computed into `scratch`.
    pub fn raw_with<'a>(&self, text: &str, scratch: &'a mut Scratch) -> Raw<'a> {
        let k = self.labels.len();
        let h = self.hidden;
        let stride = self.stride;
        let Scratch {
            ids,
            table,
            hits,
            acc,
            svm,
            nb,
            probs,
        } = scratch;
        ids.clear();
        self.features.hash_features(text, ids);
        // Count repeated buckets with a small open-addressing table (cheaper than
        // sorting), keeping first-occurrence order so the result is deterministic.
        let cap = (ids.len() * 2).next_power_of_two().max(16);
        let bits = cap.trailing_zeros();
        table.clear();
        table.resize(cap, u32::MAX);
        hits.clear();
        for &id in ids.iter() {
            let mut pos = (id.wrapping_mul(0x9E37_79B1) >> (32 - bits)) as usize;
            loop {
                let e = table[pos];
                if e == u32::MAX {
                    table[pos] = hits.len() as u32;
                    hits.push((id, 1));
                    break;
                }
                if hits[e as usize].0 == id {
                    hits[e as usize].1 += 1;
                    break;
                }
                pos = (pos + 1) & (cap - 1);
            }
        }
        // Bucket → row through the rank index (small enough to stay in cache),
        // then prefetch the rows: one cache line each when a row fits in one.
        let mut m = 0;
        for j in 0..hits.len() {
            let b = hits[j].0;
            let blk = self.index[b as usize >> 6];
            let bit = 1u64 << (b & 63);
            if blk.bits & bit != 0 {
                let r = blk.base + (blk.bits & (bit - 1)).count_ones();
                hits[m] = (r, hits[j].1);
                m += 1;
            }
        }
        hits.truncate(m);
        let rows = bytemuck::cast_slice::<Line, u8>(&self.rows);
        for &(r, _) in hits.iter() {
            let start = r as usize * stride;
            let mut off = 0;
            while off < stride {
                prefetch(rows[start + off..].as_ptr());
                off += 64;
            }
        }
        let width = self.width;
        acc.clear();
        acc.resize(width, 0.0);
        let sub = self.features.sublinear_tf;
        // Fixed-width kernels keep the accumulators in registers.
        let norm = match width {
            8 => accumulate::<8>(rows, stride, hits, sub, acc),
            16 => accumulate::<16>(rows, stride, hits, sub, acc),
            24 => accumulate::<24>(rows, stride, hits, sub, acc),
            32 => accumulate::<32>(rows, stride, hits, sub, acc),
            40 => accumulate::<40>(rows, stride, hits, sub, acc),
            48 => accumulate::<48>(rows, stride, hits, sub, acc),
            56 => accumulate::<56>(rows, stride, hits, sub, acc),
            _ => accumulate_dyn(rows, stride, hits, sub, acc),
        };
        let inv = if norm > 0.0 { 1.0 / norm.sqrt() } else { 0.0 };
        for (a, &c) in acc.iter_mut().zip(&self.col_scale) {
            *a *= c * inv;
        }
        svm.clear();
        svm.extend(acc[..k].iter().zip(&self.svm_bias).map(|(&s, &b)| s + b));
        nb.clear();
        let kn = self.nb_bias.len();
        nb.extend(
            acc[k..k + kn]
                .iter()
                .zip(&self.nb_bias)
                .map(|(&s, &b)| s + b),
        );
        probs.clear();
        if h > 0 {
            let hid = &mut acc[k + kn..k + kn + h];
            for (s, &b) in hid.iter_mut().zip(&self.b1) {
                *s = (*s + b).max(0.0);
            }
            for c in 0..k {
                let mut s = self.b2[c];
                for (&a, &b) in self.w2[c * h..(c + 1) * h].iter().zip(hid.iter()) {
                    s += a * b;
                }
                probs.push(s);
            }
        }
        Raw {
            svm,
            nb,
            net: probs,
        }
    }

    /// Class probabilities (one per label, summing to 1), computed into `scratch`.
    /// Allocation-free once the scratch buffers have grown.
    pub fn probabilities_with<'a>(&self, text: &str, scratch: &'a mut Scratch) -> &'a [f32] {
        let k = self.labels.len();
        self.raw_with(text, scratch);
        let Scratch {
            svm,
            nb,
            acc: tmp,
            probs,
            ..
        } = scratch;
        // probs holds the network logits; acc is free to reuse
        tmp.clear();
        tmp.resize(k, 0.0);
        if self.hidden > 0 {
            softmax_into(probs, 1.0 / self.mlp_temperature, tmp);
        }
        probs.clear();
        probs.resize(k, 0.0);
        softmax_into(svm, 1.0 / self.svm_temperature, probs);
        if self.hidden > 0 {
            let (a, m) = (self.svm_weight, 1.0 - self.svm_weight - self.nb_weight);
            for (p, &q) in probs.iter_mut().zip(tmp.iter()) {
                *p = a * *p + m * q;
            }
        } else {
            probs.iter_mut().for_each(|p| *p *= self.svm_weight);
        }
        if self.nbsvm {
            softmax_into(nb, 1.0 / self.nb_temperature, tmp);
            let b = self.nb_weight;
            for (p, &q) in probs.iter_mut().zip(tmp.iter()) {
                *p += b * q;
            }
        }
        probs
    }

    /// Classifies `text` using the caller's buffers.
    pub fn predict_with(&self, text: &str, scratch: &mut Scratch) -> Prediction {
        let probs = self.probabilities_with(text, scratch);
        let mut top = [(usize::MAX, f32::NEG_INFINITY); 3];
        for (i, &s) in probs.iter().enumerate() {
            if s > top[2].1 {
                let mut j = 2;
                while j > 0 && s > top[j - 1].1 {
                    top[j] = top[j - 1];
                    j -= 1;
                }
                top[j] = (i, s);
            }
        }
        let alternatives: Vec<(usize, f32)> = top
            .iter()
            .copied()
            .filter(|&(i, _)| i != usize::MAX)
            .collect();
        Prediction {
            label: alternatives[0].0,
            confidence: alternatives[0].1,
            alternatives,
        }
    }

    /// Classifies one text.
    ///
    /// `confidence` is the model's probability that `label` is right: the SVM
    /// scores and the network logits each go through a softmax with a temperature
    /// fitted by maximum likelihood on tickets held out from training, and the two
    /// distributions are averaged with a weight fitted the same way. Over the
    /// held-out tickets, a confidence of 0.8 is right about 80 % of the time.
    /// `alternatives` are the (up to) three most probable labels, best first.
    /// Ties go to the lower label index.
    pub fn predict(&self, text: &str) -> Prediction {
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => self.predict_with(text, &mut s),
            Err(_) => self.predict_with(text, &mut self.scratch()),
        })
    }

    /// Errors with [`ModelError::LabelMismatch`] unless the model's label set is
    /// exactly `expected` (order and duplicates do not matter), naming the
    /// labels the model lacks and the labels the rules do not know.
    pub fn check_labels(&self, expected: &[&str]) -> Result<(), ModelError> {
        let mut missing: Vec<String> = expected
            .iter()
            .filter(|e| !self.labels.iter().any(|l| l == *e))
            .map(|e| e.to_string())
            .collect();
        let extra: Vec<String> = self
            .labels
            .iter()
            .filter(|l| !expected.contains(&l.as_str()))
            .cloned()
            .collect();
        missing.sort();
        missing.dedup();
        if missing.is_empty() && extra.is_empty() {
            Ok(())
        } else {
            Err(ModelError::LabelMismatch { missing, extra })
        }
    }

    /// Reads the model file at `path` through `read` — the caller's access to
    /// files (`std::fs::read` at the edge); the core opens nothing.
    pub fn read(
        path: &std::path::Path,
        read: &dyn Fn(&std::path::Path) -> std::io::Result<Vec<u8>>,
    ) -> Result<Model, ModelError> {
        let bytes = read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Model::from_bytes(&bytes)
    }

    /// Serialises to the documented binary format. Deterministic: the same model
    /// gives the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let k = self.labels.len();
        let h = self.hidden;
        let header = Header {
            labels: self.labels.clone(),
            features: self.features,
            hidden: h,
            svm_temperature: self.svm_temperature,
            mlp_temperature: self.mlp_temperature,
            svm_weight: self.svm_weight,
            nbsvm: self.nbsvm,
            nb_temperature: self.nb_temperature,
            nb_weight: self.nb_weight,
            training: self.training.clone(),
        };
        let hjson = serde_json::to_vec(&header).expect("header serialises");
        let r = self.row_bucket.len();
        let kn = self.nb_bias.len();
        let cols = k + kn + h;
        let row_len = ROW_HEAD + cols;
        let total =
            FIXED + hjson.len() + 4 + r * 4 + r * row_len + (cols + k + kn + h + k * h + k) * 4 + 4;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(total as u64).to_le_bytes());
        out.extend_from_slice(&(hjson.len() as u32).to_le_bytes());
        out.extend_from_slice(&hjson);
        out.extend_from_slice(&(r as u32).to_le_bytes());
        for b in &self.row_bucket {
            out.extend_from_slice(&b.to_le_bytes());
        }
        let rows = bytemuck::cast_slice::<Line, u8>(&self.rows);
        for j in 0..r {
            out.extend_from_slice(&rows[j * self.stride..j * self.stride + row_len]);
        }
        for v in self
            .col_scale
            .iter()
            .chain(&self.svm_bias)
            .chain(&self.nb_bias)
            .chain(&self.b1)
            .chain(&self.w2)
            .chain(&self.b2)
        {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        debug_assert_eq!(out.len(), total);
        out
    }

    /// Parses the binary format, checking magic, version, length, checksum and
    /// contents, in that order.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        let len = bytes.len();
        if len < MAGIC.len() {
            return if !bytes.is_empty() && MAGIC.starts_with(bytes) {
                Err(ModelError::Truncated {
                    expected: FIXED as u64,
                    actual: len as u64,
                })
            } else {
                Err(ModelError::NotAModel)
            };
        }
        if &bytes[..8] != MAGIC {
            return Err(ModelError::NotAModel);
        }
        if len < 12 {
            return Err(ModelError::Truncated {
                expected: FIXED as u64,
                actual: len as u64,
            });
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
        if version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if len < FIXED + 4 {
            return Err(ModelError::Truncated {
                expected: (FIXED + 4) as u64,
                actual: len as u64,
            });
        }
        let total = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
        if (len as u64) < total {
            return Err(ModelError::Truncated {
                expected: total,
                actual: len as u64,
            });
        }
        if (len as u64) > total {
            return Err(ModelError::Corrupt(format!(
                "{} unexpected bytes after the end of the model ({} bytes declared)",
                len as u64 - total,
                total
            )));
        }
        let stored = u32::from_le_bytes(bytes[len - 4..].try_into().unwrap());
        let computed = crc32(&bytes[..len - 4]);
        if stored != computed {
            return Err(ModelError::ChecksumMismatch { stored, computed });
        }
        let body = &bytes[..len - 4];
        let mut pos = 24;
        let hlen = u32::from_le_bytes(body[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4;
        if body.len() - pos < hlen + 4 {
            return Err(ModelError::Corrupt(format!(
                "header length {hlen} runs past the end of the file"
            )));
        }
        let header: Header = serde_json::from_slice(&body[pos..pos + hlen])
            .map_err(|e| ModelError::Corrupt(format!("header is not valid: {e}")))?;
        pos += hlen;
        header
            .features
            .validate()
            .map_err(|e| ModelError::Corrupt(format!("feature settings: {e}")))?;
        let k = header.labels.len();
        let h = header.hidden;
        if !(2..=MAX_LABELS).contains(&k) {
            return Err(ModelError::Corrupt(format!(
                "{k} labels; need 2..={MAX_LABELS}"
            )));
        }
        if h > MAX_HIDDEN {
            return Err(ModelError::Corrupt(format!(
                "hidden layer of {h} > {MAX_HIDDEN}"
            )));
        }
        let mut sorted = header.labels.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != k {
            return Err(ModelError::Corrupt("duplicate labels".into()));
        }
        for (name, t) in [
            ("svm_temperature", header.svm_temperature),
            ("mlp_temperature", header.mlp_temperature),
            ("nb_temperature", header.nb_temperature),
        ] {
            if !(t.is_finite() && t > 0.0) {
                return Err(ModelError::Corrupt(format!(
                    "{name} {t} is not a positive number"
                )));
            }
        }
        let (ws, wn) = (header.svm_weight, header.nb_weight);
        if !(0.0..=1.0).contains(&ws)
            || !(0.0..=1.0).contains(&wn)
            || ws + wn > 1.0 + 1e-6
            || (!header.nbsvm && wn != 0.0)
        {
            return Err(ModelError::Corrupt(format!(
                "blend weights svm {ws}, nb {wn} are not in 0..=1 with a sum of at most 1"
            )));
        }
        let dim = header.features.dim();
        let r = u32::from_le_bytes(body[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4;
        if r > dim {
            return Err(ModelError::Corrupt(format!(
                "{r} rows but only {dim} buckets"
            )));
        }
        let kn = if header.nbsvm { k } else { 0 };
        let cols = k + kn + h;
        let row_len = ROW_HEAD + cols;
        let nfloats = cols + k + kn + h + k * h + k;
        let need = r * 4 + r * row_len + nfloats * 4;
        if body.len() - pos != need {
            return Err(ModelError::Corrupt(format!(
                "weights section is {} bytes, expected {need} for {r} rows, {k} labels, {h} hidden units",
                body.len() - pos
            )));
        }
        let mut row_bucket = Vec::with_capacity(r);
        for j in 0..r {
            let b = u32::from_le_bytes(body[pos + 4 * j..pos + 4 * j + 4].try_into().unwrap());
            if b as usize >= dim || row_bucket.last().is_some_and(|&p| b <= p) {
                return Err(ModelError::Corrupt(format!(
                    "bucket ids are not strictly increasing below {dim} (row {j})"
                )));
            }
            row_bucket.push(b);
        }
        pos += 4 * r;
        let width = width_for(cols);
        let stride = stride_for(width);
        let mut rows = row_storage(r, stride);
        let dst = bytemuck::cast_slice_mut::<Line, u8>(&mut rows);
        for (j, src) in body[pos..pos + r * row_len]
            .chunks_exact(row_len)
            .enumerate()
        {
            let (idf, scale) = (f32_at(src, 0), f32_at(src, 4));
            if !(idf.is_finite() && idf > 0.0) {
                return Err(ModelError::Corrupt(format!(
                    "IDF {idf} in row {j} is not a positive number"
                )));
            }
            if !(scale.is_finite() && scale >= 0.0) {
                return Err(ModelError::Corrupt(format!(
                    "row scale {scale} in row {j} is not a finite number ≥ 0"
                )));
            }
            dst[j * stride..j * stride + row_len].copy_from_slice(src);
        }
        pos += r * row_len;
        let mut floats: Vec<f32> = body[pos..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        if let Some(i) = floats.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::Corrupt(format!(
                "non-finite weight at float #{i} after the rows"
            )));
        }
        if let Some(c) = floats[..cols].iter().position(|&v| v <= 0.0) {
            return Err(ModelError::Corrupt(format!(
                "column scale #{c} is not positive"
            )));
        }
        let b2 = floats.split_off(floats.len() - k);
        let w2 = floats.split_off(floats.len() - k * h);
        let b1 = floats.split_off(floats.len() - h);
        let nb_bias = floats.split_off(floats.len() - kn);
        let svm_bias = floats.split_off(floats.len() - k);
        let col_scale = floats;
        Ok(Model {
            labels: header.labels,
            features: header.features,
            hidden: h,
            svm_temperature: header.svm_temperature,
            mlp_temperature: header.mlp_temperature,
            svm_weight: header.svm_weight,
            nbsvm: header.nbsvm,
            nb_temperature: header.nb_temperature,
            nb_weight: header.nb_weight,
            training: header.training,
            index: build_index(&row_bucket, dim),
            rows,
            stride,
            width,
            row_bucket,
            col_scale,
            svm_bias,
            nb_bias,
            b1,
            w2,
            b2,
        })
    }
}

/// CRC-32 (IEEE 802.3, reflected, as in zlib/PNG).
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    let mut c = !0u32;
    for &b in data {
        c = t[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_index_maps_buckets_to_rows() {
        let buckets = [0u32, 5, 63, 64, 200, 1023];
        let index = build_index(&buckets, 1024);
        assert_eq!(index.len(), 16);
        for b in 0..1024u32 {
            let blk = index[b as usize >> 6];
            let bit = 1u64 << (b & 63);
            let row = (blk.bits & bit != 0).then(|| blk.base + (blk.bits & (bit - 1)).count_ones());
            assert_eq!(
                row,
                buckets.iter().position(|&x| x == b).map(|r| r as u32),
                "{b}"
            );
        }
    }

    #[test]
    fn quantized_rows_are_close_and_sized_to_cache_lines() {
        let n = [0.5f32, -1.0, 0.25, 0.0, 0.003];
        let mut q = [0u8; 5];
        let s = quantize_row(&n, &mut q);
        assert_eq!(q[1] as i8, -127);
        for (&v, &x) in n.iter().zip(&q) {
            assert!((v - (x as i8) as f32 * s).abs() <= s / 2.0 + 1e-7);
        }
        assert_eq!(quantize_row(&[0.0; 3], &mut q[..3]), 0.0);
        // 8 labels: SVM only 16 bytes, + NB-SVM + 32 hidden units 64 bytes
        assert_eq!(stride_for(width_for(8)), 16);
        assert_eq!(stride_for(width_for(8 + 8 + 32)), 64);
        assert_eq!(stride_for(width_for(8 + 128)), 192);
        assert_eq!(std::mem::align_of::<Line>(), 64);
    }

    #[test]
    fn crc_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
