//! The one module of the core that needs `unsafe`: a cache prefetch hint and
//! the AVX2 build of the classifier's row accumulation, chosen at run time
//! when the CPU has AVX2. Both give the same bits as the portable code.

#![allow(unsafe_code)]

use super::features::tf_weight;
use super::model::{f32_at, ROW_HEAD};

#[inline(always)]
pub(super) fn prefetch(x: *const u8) {
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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn accumulate_avx2<const W: usize>(
    rows: &[u8],
    stride: usize,
    hits: &[(u32, u32)],
    sub: bool,
    out: &mut [f32],
) -> f32 {
    accumulate_generic::<W>(rows, stride, hits, sub, out)
}

/// [`accumulate_generic`] compiled for AVX2 when the CPU has it (same results).
#[inline]
pub(super) fn accumulate<const W: usize>(
    rows: &[u8],
    stride: usize,
    hits: &[(u32, u32)],
    sub: bool,
    out: &mut [f32],
) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { accumulate_avx2::<W>(rows, stride, hits, sub, out) };
    }
    accumulate_generic::<W>(rows, stride, hits, sub, out)
}
