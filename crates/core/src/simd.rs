//! The one module of the core that needs `unsafe`: a cache prefetch hint,
//! and the AVX2 builds of the vector loops on the per-ticket path — the
//! classifier's row accumulation, the sentence embedding's row sum and
//! cosine — chosen at run time when the CPU has AVX2. Element-wise arithmetic
//! in a fixed order and no fused multiply-add: every build gives the same
//! bits as the portable code (tested). And the byte classes the sentiment
//! tokenizer reads: a text's whitespace 32 bytes at a time (AVX2), a short
//! word's punctuation, capitals and lower-case form 16 bytes at a time
//! (SSE2, which every x86-64 CPU has); each compared with the byte tables by
//! a test.

#![allow(unsafe_code)]

use crate::classifier::features::tf_weight;
use crate::classifier::model::{f32_at, ROW_HEAD};
use crate::text::bytes::Classes16;

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

// The whitespace of a text ([`Spaces`]).

/// Sets the bits of `b`'s ASCII whitespace in `bits` (zeroed, long enough)
/// 32 bytes at a time when the CPU has AVX2; returns the bytes done (the
/// rest are left to the portable code).
pub(crate) fn spaces(b: &[u8], bits: &mut [u64]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { spaces_avx2(b, bits) };
    }
    let _ = (b, bits);
    0
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn spaces_avx2(b: &[u8], bits: &mut [u64]) -> usize {
    use std::arch::x86_64::*;
    let splat = |x: u8| _mm256_set1_epi8(x as i8);
    // `u8::is_ascii_whitespace`: space, and 9..=13 but 11. Signed
    // comparisons: bytes of 0x80 and above are negative, below 9.
    let (above, below, space, vt) = (splat(8), splat(14), splat(b' '), splat(0x0B));
    let chunks = b.chunks_exact(32);
    let done = b.len() - chunks.remainder().len();
    for (c, chunk) in chunks.enumerate() {
        // SAFETY: `chunk` holds exactly 32 bytes; an unaligned load.
        let v = unsafe { _mm256_loadu_si256(chunk.as_ptr().cast()) };
        let controls = _mm256_and_si256(_mm256_cmpgt_epi8(v, above), _mm256_cmpgt_epi8(below, v));
        let ws = _mm256_or_si256(
            _mm256_andnot_si256(_mm256_cmpeq_epi8(v, vt), controls),
            _mm256_cmpeq_epi8(v, space),
        );
        bits[c / 2] |= (_mm256_movemask_epi8(ws) as u32 as u64) << (c % 2 * 32);
    }
    done
}

/// The classes of 16 bytes ([`Classes16`]): SSE2 (every x86-64 CPU has it),
/// else byte by byte.
#[inline(always)]
pub(crate) fn classes16(a: &[u8; 16]) -> Classes16 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of x86-64: every x86-64 CPU has it.
    return unsafe { classes16_sse2(a) };
    #[cfg(not(target_arch = "x86_64"))]
    Classes16::of_bytes(a)
}

/// The bytes of `v` within `lo..=hi` (ASCII bounds), as a byte mask.
/// Signed comparisons: bytes of 0x80 and above are negative, below every
/// ASCII bound, so they are in no range.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
#[inline]
fn within_sse2(v: std::arch::x86_64::__m128i, lo: u8, hi: u8) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::*;
    _mm_and_si128(
        _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1)),
        _mm_cmpgt_epi8(_mm_set1_epi8(hi as i8 + 1), v),
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
#[inline]
fn classes16_sse2(a: &[u8; 16]) -> Classes16 {
    {
        use std::arch::x86_64::*;
        let splat = |x: u8| _mm_set1_epi8(x as i8);
        // SAFETY: `a` holds 16 bytes; an unaligned load.
        let v = unsafe { _mm_loadu_si128(a.as_ptr().cast()) };
        // Bytes of 0x80 and above fall in no class (as in `class`).
        let within = |lo, hi| within_sse2(v, lo, hi);
        let upper = within(b'A', b'Z');
        let lower = within(b'a', b'z');
        let alnum = _mm_or_si128(_mm_or_si128(upper, lower), within(b'0', b'9'));
        let punct = _mm_andnot_si128(alnum, within(b'!', b'~'));
        let nul = _mm_cmpeq_epi8(v, _mm_setzero_si128());
        let lowered = _mm_or_si128(v, _mm_and_si128(upper, splat(0x20)));
        let mut out = [0u8; 16];
        // SAFETY: `out` holds 16 bytes; an unaligned store.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), lowered) };
        let bits = |m| _mm_movemask_epi8(m) as u32;
        Classes16 {
            punct: bits(punct),
            upper: bits(upper),
            lower: bits(lower),
            nul: bits(nul),
            lowered: u128::from_le_bytes(out),
        }
    }
}

/// The ASCII capitals, small letters and `!` of 64 bytes, one bit per byte
/// (bit `k` is byte `k`): SSE2 (every x86-64 CPU has it), else byte by byte.
#[inline(always)]
pub(crate) fn letters64(a: &[u8; 64]) -> [u64; 3] {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of x86-64: every x86-64 CPU has it.
    return unsafe { letters64_sse2(a) };
    #[cfg(not(target_arch = "x86_64"))]
    letters64_bytes(a)
}

/// [`letters64`] byte by byte.
#[cfg(any(test, not(target_arch = "x86_64")))]
pub(crate) fn letters64_bytes(a: &[u8; 64]) -> [u64; 3] {
    let mut m = [0u64; 3];
    for (k, &b) in a.iter().enumerate() {
        m[0] |= u64::from(b.is_ascii_uppercase()) << k;
        m[1] |= u64::from(b.is_ascii_lowercase()) << k;
        m[2] |= u64::from(b == b'!') << k;
    }
    m
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
#[inline]
fn letters64_sse2(a: &[u8; 64]) -> [u64; 3] {
    use std::arch::x86_64::*;
    let splat = |x: u8| _mm_set1_epi8(x as i8);
    let mut m = [0u64; 3];
    for (q, chunk) in a.chunks_exact(16).enumerate() {
        // SAFETY: `chunk` holds 16 bytes; an unaligned load.
        let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
        let bits = |x| u64::from(_mm_movemask_epi8(x) as u16) << (16 * q);
        m[0] |= bits(within_sse2(v, b'A', b'Z'));
        m[1] |= bits(within_sse2(v, b'a', b'z'));
        m[2] |= bits(_mm_cmpeq_epi8(v, splat(b'!')));
    }
    m
}

/// The position of the first ASCII digit in `b`: 16 bytes at a time with
/// SSE2 (every x86-64 CPU has it), the rest byte by byte.
pub(crate) fn find_digit(b: &[u8]) -> Option<usize> {
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        for chunk in b.chunks_exact(16) {
            // SAFETY: SSE2 is part of x86-64; `chunk` holds 16 bytes (an
            // unaligned load).
            let m = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast());
                _mm_movemask_epi8(within_sse2(v, b'0', b'9')) as u32
            };
            if m != 0 {
                return Some(done + m.trailing_zeros() as usize);
            }
            done += 16;
        }
    }
    b[done..]
        .iter()
        .position(u8::is_ascii_digit)
        .map(|k| done + k)
}

/// A byte that ends a JSON string's plain run: a quote, a backslash or a
/// control character (below 0x20).
fn string_stop(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The first byte in `b` that ends a JSON string's plain run
/// ([`string_stop`]), and whether a byte of 0x80 or above comes before it
/// (else the run is ASCII, so UTF-8): 16 bytes at a time with SSE2.
pub(crate) fn find_string_stop(b: &[u8]) -> (Option<usize>, bool) {
    let mut done = 0;
    let mut high = false;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        for chunk in b.chunks_exact(16) {
            // SAFETY: SSE2 is part of x86-64; `chunk` holds 16 bytes (an
            // unaligned load).
            let (stop, top) = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast());
                let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                let control = within_sse2(v, 0, 0x1f);
                let stop = _mm_or_si128(_mm_or_si128(quote, backslash), control);
                (_mm_movemask_epi8(stop) as u32, _mm_movemask_epi8(v) as u32)
            };
            if stop != 0 {
                let k = stop.trailing_zeros();
                let before = top & ((1u32 << k) - 1);
                return (Some(done + k as usize), high || before != 0);
            }
            high |= top != 0;
            done += 16;
        }
    }
    for (k, &c) in b[done..].iter().enumerate() {
        if string_stop(c) {
            return (Some(done + k), high);
        }
        high |= c >= 0x80;
    }
    (None, high)
}

/// The plain run at the start of `b` (a JSON string's bytes after its
/// opening quote or an escape): the text up to the first byte that ends it
/// ([`string_stop`]) and that byte's position; `None` when no such byte
/// follows or the run is not UTF-8. A run of ASCII (the common case, known
/// from the same scan) is not checked again.
pub(crate) fn string_run(b: &[u8]) -> Option<(&str, usize)> {
    let (stop, high) = find_string_stop(b);
    let stop = stop?;
    let run = &b[..stop];
    let text = if high {
        std::str::from_utf8(run).ok()?
    } else {
        // SAFETY: `find_string_stop` found no byte of 0x80 or above before
        // `stop`: the run is ASCII, which is UTF-8.
        unsafe { std::str::from_utf8_unchecked(run) }
    };
    Some((text, stop))
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

#[cfg(test)]
mod space_tests {
    use crate::text::bytes::Spaces;

    #[test]
    fn the_vector_whitespace_is_the_byte_by_byte_one() {
        // Every byte value, at every offset of a chunk and across chunks.
        let mut text: Vec<u8> = (0..=255u8).collect();
        text.extend((0..=255u8).rev());
        text.extend(b" \t\x0b\x0c\r\n".repeat(20));
        for len in [0, 1, 31, 32, 33, 63, 64, 65, 100, text.len()] {
            for from in [0, 1, 7] {
                let b = &text[from.min(len)..len];
                let (mut fast, mut slow) = (Spaces::default(), Spaces::default());
                fast.of(b);
                slow.build(b, |_, _| 0);
                assert_eq!(fast, slow, "{len} from {from}");
            }
        }
    }

    #[test]
    fn the_vector_digit_search_is_the_byte_search() {
        let mut text: Vec<u8> = (0..=255u8).filter(|b| !b.is_ascii_digit()).collect();
        text.extend(text.clone());
        for at in [
            None,
            Some(0),
            Some(1),
            Some(15),
            Some(16),
            Some(17),
            Some(300),
            Some(490),
        ] {
            let mut t = text.clone();
            if let Some(k) = at {
                t[k] = b'0' + (k % 10) as u8;
                t.push(b'9');
            }
            for from in [0, 1, 15, 16, 33] {
                let b = &t[from..];
                assert_eq!(
                    super::find_digit(b),
                    b.iter().position(u8::is_ascii_digit),
                    "{at:?} from {from}"
                );
            }
        }
    }

    #[test]
    fn the_string_stop_search_is_the_byte_test() {
        for seed in 0..256u32 {
            // Mostly letters, some non-ASCII bytes, a stop here and there.
            let t: Vec<u8> = (0..80u32)
                .map(|k| {
                    let x = seed
                        .wrapping_mul(2_654_435_761)
                        .wrapping_add(k.wrapping_mul(40_503))
                        .rotate_left(k % 13);
                    match (x >> 7) % 41 {
                        0 => b'"',
                        1 => b'\\',
                        2 => (x % 0x20) as u8,
                        3 | 4 => 0x80 | (x % 0x80) as u8,
                        5 => 0x20,
                        _ => b'a' + (x % 26) as u8,
                    }
                })
                .collect();
            for from in [0, 1, 15, 16, 33, 79] {
                let b = &t[from..];
                let stop = b.iter().position(|&c| super::string_stop(c));
                let high = b[..stop.unwrap_or(b.len())].iter().any(|&c| c >= 0x80);
                assert_eq!(
                    super::find_string_stop(b),
                    (stop, high),
                    "{seed} from {from}"
                );
                let run = stop.and_then(|k| Some((std::str::from_utf8(&b[..k]).ok()?, k)));
                assert_eq!(super::string_run(b), run, "{seed} from {from}");
            }
        }
        // Valid UTF-8 runs of every length around the 16-byte steps.
        let text = "naïve café — 16 bytes ünd mehr, \"quoted\" \\ and\tmore ✓ done\"";
        for from in 0..text.len() {
            let b = &text.as_bytes()[from..];
            let stop = b.iter().position(|&c| super::string_stop(c));
            let run = stop.and_then(|k| Some((std::str::from_utf8(&b[..k]).ok()?, k)));
            assert_eq!(super::string_run(b), run, "from {from}");
        }
    }

    #[test]
    fn the_vector_letters_of_64_bytes_are_the_byte_tests() {
        for start in 0..=255u8 {
            let a: [u8; 64] =
                std::array::from_fn(|k| start.wrapping_add((k as u8).wrapping_mul(29)));
            assert_eq!(super::letters64(&a), super::letters64_bytes(&a), "{a:?}");
        }
    }

    #[test]
    fn the_vector_classes_of_16_bytes_are_the_byte_tables() {
        for start in (0..=255u8).step_by(3) {
            let a: [u8; 16] = std::array::from_fn(|k| start.wrapping_add(k as u8 * 17));
            assert_eq!(
                super::classes16(&a),
                crate::text::bytes::Classes16::of_bytes(&a),
                "{a:?}"
            );
        }
    }
}
