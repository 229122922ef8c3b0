//! The one module of the core that needs `unsafe`: a cache prefetch hint,
//! and the AVX2 builds of the vector loops on the per-ticket path — the
//! classifier's row accumulation, the sentence embedding's row sum and
//! cosine — chosen at run time when the CPU has AVX2. Element-wise arithmetic
//! in a fixed order and no fused multiply-add: every build gives the same
//! bits as the portable code (tested).

#![allow(unsafe_code)]

use crate::classifier::features::tf_weight;
use crate::classifier::model::{f32_at, ROW_HEAD};

/// Defines `name`, which runs `generic` compiled for AVX2 when the CPU has
/// it (a twin with `target_feature`, chosen at run time) and the portable
/// build otherwise. The twin is the same source: the same bits, if the
/// generic code keeps a fixed order and uses no fused multiply-add.
macro_rules! avx2_dispatch {
    (
        $(#[$m:meta])*
        $vis:vis fn $name:ident $(<const $c:ident>)? ($($a:ident: $t:ty),* $(,)?)
            $(-> $r:ty)? = $generic:ident;
    ) => {
        $(#[$m])*
        #[inline]
        $vis fn $name $(<const $c: usize>)? ($($a: $t),*) $(-> $r)? {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn avx2 $(<const $c: usize>)? ($($a: $t),*) $(-> $r)? {
                $generic $(::<$c>)? ($($a),*)
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                return unsafe { avx2 $(::<$c>)? ($($a),*) };
            }
            $generic $(::<$c>)? ($($a),*)
        }
    };
}

#[inline(always)]
pub(crate) fn prefetch(x: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint; it never faults, even for invalid addresses.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(x.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Adds `tf·idf·row scale × q` of every hit row into `out` (length `W`);
/// returns the squared norm of the TF-IDF vector. Multiplications and additions
/// are done one by one in a fixed order (no fused multiply-add), so every
/// instruction set gives the same bits.
#[inline(always)]
fn accumulate_generic<const W: usize>(
    rows: &[u8],
    stride: usize,
    hits: &[(u32, u32)],
    sub: bool,
    out: &mut [f32],
) -> f32 {
    let mut acc = [0f32; W];
    let mut norm = 0f32;
    for &(r, c) in hits {
        let at = r as usize * stride;
        let row = &rows[at..at + ROW_HEAD + W];
        let tf = if c == 1 { 1.0 } else { tf_weight(c, sub) };
        let v = tf * f32_at(row, 0);
        norm += v * v;
        let u = v * f32_at(row, 4);
        let q: &[u8; W] = row[ROW_HEAD..].try_into().expect("row width");
        for i in 0..W {
            acc[i] += u * (q[i] as i8 as f32);
        }
    }
    out.copy_from_slice(&acc);
    norm
}

avx2_dispatch! {
    /// [`accumulate_generic`] compiled for AVX2 when the CPU has it (same results).
    pub(crate) fn accumulate<const W>(
        rows: &[u8],
        stride: usize,
        hits: &[(u32, u32)],
        sub: bool,
        out: &mut [f32],
    ) -> f32 = accumulate_generic;
}

// The sentence embedding's loops.

#[inline(always)]
fn add_row_generic(out: &mut [f32], row: &[u8], s: f32) {
    for (o, &x) in out.iter_mut().zip(row) {
        *o += s * f32::from(x as i8);
    }
}

/// Summed in 8 independent lanes: a plain `sum()` of floats keeps its
/// order and cannot be vectorized (it was a third of the engine's time
/// per ticket).
#[inline(always)]
fn cosine_generic(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        // `chunks_exact(8)`: every chunk has exactly 8 elements.
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

avx2_dispatch! {
    /// `out += s × row` (row as int8).
    pub(crate) fn add_row(out: &mut [f32], row: &[u8], s: f32) = add_row_generic;
}

avx2_dispatch! {
    /// The cosine of two unit vectors.
    pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f32 = cosine_generic;
}

#[cfg(test)]
mod embed_tests {
    #[test]
    fn both_builds_of_the_embedding_loops_give_the_same_bits() {
        let a: Vec<f32> = (0..131)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let b: Vec<f32> = (0..131)
            .map(|i| ((i * 53 % 89) as f32 - 44.0) / 3.0)
            .collect();
        let row: Vec<u8> = (0..131u32).map(|i| (i * 97 % 256) as u8).collect();
        let (mut x, mut y) = (a.clone(), a.clone());
        super::add_row_generic(&mut x, &row, 0.013);
        super::add_row(&mut y, &row, 0.013);
        assert_eq!(x, y);
        assert_eq!(
            super::cosine_generic(&a, &b).to_bits(),
            super::cosine(&a, &b).to_bits()
        );
    }
}
