//! Reason details built piece by piece. `format!` goes through the
//! formatting machinery (about a thousand instructions a call with a float
//! in it) and every ticket builds several details; these writers give the
//! same text as `{}` for integers and `{:.N}` for floats.

/// The decimal digits of `n` at the end of `buf`.
pub(crate) fn digits(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    // A u64 has at most 20 decimal digits: `i` stays within the 20 bytes.
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Characters of a ticket's text a detail quotes, at most.
pub(crate) const EXCERPT_CHARS: usize = 60;

/// A reason's detail, written as `format!` would write it.
#[derive(Debug, Default)]
pub(crate) struct Detail(String);

impl Detail {
    pub(crate) fn new() -> Detail {
        Detail(String::with_capacity(96))
    }

    /// Text as it is.
    pub(crate) fn s(mut self, text: &str) -> Detail {
        self.0.push_str(text);
        self
    }

    /// Words quoted from a ticket: whitespace runs as one space, at most
    /// [`EXCERPT_CHARS`] characters, spaces included (then "…"); `more` (if
    /// any) after a space, within the same bound.
    pub(crate) fn excerpt(mut self, text: &str, more: &str) -> Detail {
        let mut n = 0;
        let mut space = false;
        let words = text.split_whitespace().chain(more.split_whitespace());
        for w in words {
            for c in space.then_some(' ').into_iter().chain(w.chars()) {
                if n >= EXCERPT_CHARS {
                    self.0.push('…');
                    return self;
                }
                self.0.push(c);
                n += 1;
            }
            space = true;
        }
        self
    }

    /// An unsigned integer, as `{}` writes it.
    pub(crate) fn u(mut self, v: u64) -> Detail {
        self.push_digits(v);
        self
    }

    /// A signed integer, as `{}` writes it.
    pub(crate) fn i(mut self, v: i64) -> Detail {
        if v < 0 {
            self.0.push('-');
        }
        self.push_digits(v.unsigned_abs());
        self
    }

    /// A float with `places` (at most 3) decimals, as `{:.places}` writes
    /// it.
    ///
    /// `v × 10^places` is computed in `f64`; rounding is monotone, so the
    /// computed product lies on the same side of every `k + 0.5` as the exact
    /// one, or on it: then (an exact tie, or a product that rounded onto
    /// one) and for negative zero, infinities, NaN and huge values the
    /// formatting machinery writes it.
    pub(crate) fn f(mut self, v: f64, places: usize) -> Detail {
        const SCALE: [f64; 4] = [1.0, 10.0, 100.0, 1000.0];
        // `places` at most 3: `SCALE` (4 entries) is read within bounds.
        let places = places.min(3);
        let scaled = v * SCALE[places];
        let rounded = scaled.round();
        if !scaled.is_finite()
            || scaled.abs() >= 1e15
            || (rounded - scaled).abs() == 0.5
            || (rounded == 0.0 && v.is_sign_negative())
        {
            use std::fmt::Write as _;
            // Writing to a String cannot fail.
            let _ = write!(self.0, "{v:.places$}");
            return self;
        }
        if rounded < 0.0 {
            self.0.push('-');
        }
        let whole = rounded.abs() as u64;
        let unit = SCALE[places] as u64;
        self.push_digits(whole / unit);
        if places > 0 {
            self.0.push('.');
            let mut buf = [0u8; 20];
            let frac = digits(whole % unit + unit, &mut buf);
            // `frac` is "1" then the `places` digits.
            self.push_ascii(&frac[1..]);
        }
        self
    }

    pub(crate) fn done(self) -> String {
        self.0
    }

    fn push_digits(&mut self, n: u64) {
        let mut buf = [0u8; 20];
        let d = digits(n, &mut buf);
        self.push_ascii(d);
    }

    fn push_ascii(&mut self, d: &[u8]) {
        // Decimal digits are ASCII.
        self.0.push_str(std::str::from_utf8(d).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixed(v: f64, places: usize) -> String {
        Detail::new().f(v, places).done()
    }

    #[test]
    fn an_excerpt_is_one_line_and_bounded() {
        let e = |a: &str, b: &str| Detail::new().excerpt(a, b).done();
        assert_eq!(e("doesn't\n\n  load", ""), "doesn't load");
        assert_eq!(e("not", "render"), "not render");
        assert_eq!(e("", "render"), "render");
        let long = "é".repeat(200);
        let cut = e(&long, "x");
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        // Exactly at the bound: nothing cut; a word after it is cut, with
        // the space before it, whichever part it is in.
        let fits = "a".repeat(EXCERPT_CHARS);
        assert_eq!(e(&fits, ""), fits);
        assert_eq!(e(&fits, "x"), format!("{fits}…"));
        assert_eq!(e(&format!("{fits} x y"), ""), format!("{fits}…"));
        let short = "a".repeat(EXCERPT_CHARS - 2);
        assert_eq!(e(&short, "xyz"), format!("{short} x…"));
        // Many short words: bounded all the same.
        let many = "ab ".repeat(1000);
        assert_eq!(e(&many, &many).chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn writes_as_format_does() {
        for (v, p) in [
            (0.0, 2),
            (-0.0, 2),
            (-0.001, 2),
            (0.125, 2),
            (0.375, 2),
            (2.5, 0),
            (0.05, 1),
            (1.0 / 3.0, 2),
            (99.995, 2),
            (-12.345, 1),
            (f64::NAN, 2),
            (f64::INFINITY, 1),
            (1e300, 2),
            (123456.789, 3),
        ] {
            assert_eq!(fixed(v, p), format!("{v:.p$}"), "{v} with {p} places");
        }
        for n in [0u64, 7, 10, 1234567890] {
            assert_eq!(Detail::new().u(n).done(), n.to_string());
        }
        assert_eq!(Detail::new().u(u64::MAX).done(), u64::MAX.to_string());
        assert_eq!(
            Detail::new().s("a ").u(3).s(" b ").f(0.5, 2).done(),
            "a 3 b 0.50"
        );
    }

    proptest! {
        #[test]
        fn any_f32_or_f64_as_format(bits in any::<u32>(), wide in any::<u64>(), p in 0usize..=3) {
            let v = f64::from(f32::from_bits(bits));
            prop_assert_eq!(fixed(v, p), format!("{v:.p$}"));
            let v = f64::from_bits(wide);
            prop_assert_eq!(fixed(v, p), format!("{v:.p$}"));
        }

        #[test]
        fn small_values_as_format(x in -10_000i32..10_000, d in 0u32..1000, p in 0usize..=3) {
            // Values near the cut points, where rounding decides.
            let v = f64::from(x) / 100.0 + f64::from(d) * 1e-6;
            prop_assert_eq!(fixed(v, p), format!("{v:.p$}"));
            let v = f64::from(x as f32 / 100.0);
            prop_assert_eq!(fixed(v, p), format!("{v:.p$}"));
        }
    }
}
