//! Compact static sentence embeddings for semantic categories: a table of
//! one vector per WordPiece token (model2vec-style, distilled from
//! all-MiniLM-L6-v2 by `scripts/distill-embeddings.py`; licence and
//! provenance in `models/embeddings/NOTICE`), mean-pooled and L2-normalised.
//! The model ships inside the binary (`include_bytes!`): no file I/O here.
//!
//! Tokenization is BERT's uncased basic tokenizer followed by greedy
//! longest-match WordPiece, as the source model's: text cleaned (control
//! characters dropped, whitespace unified), lower-cased, accents stripped
//! (NFD without combining marks), split on whitespace with each punctuation
//! character a token of its own, CJK ideographs single tokens; words are
//! split into the longest vocabulary pieces (`##` for continuations), a word
//! with no split is skipped (model2vec drops `[UNK]`). No `[CLS]`/`[SEP]`.
//! Pooling: the plain mean of the token rows (their SIF weights are baked
//! in), L2-normalised; at most [`MAX_TOKENS`] tokens of the first
//! [`MAX_CHARS`] characters.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Characters of a text that are read (model2vec: 512 tokens × ~6).
pub const MAX_CHARS: usize = 3072;

/// An ASCII white space byte, as `char::is_whitespace` says.
fn is_space(c: u8) -> bool {
    c.is_ascii_whitespace() || c == 0x0b
}

/// The characters read against a limit, a run of white space counting as
/// one (and none before the first word): the tokenizer reads no white
/// space, and a text with blanked or indented lines reads as far as the
/// same words.
struct Window {
    chars: usize,
    cap: usize,
    after_space: bool,
}

impl Window {
    /// Counts one character (`space`: a white space one); `false` once the
    /// limit is passed.
    #[inline]
    fn admit(&mut self, space: bool) -> bool {
        self.chars += usize::from(!(space && self.after_space));
        self.after_space = space;
        self.chars <= self.cap
    }
}

/// Tokens pooled, at most.
pub const MAX_TOKENS: usize = 512;
/// Longest word WordPiece splits (longer ones are skipped, as `[UNK]`).
const MAX_WORD_CHARS: usize = 100;

const VOCAB: &str = include_str!("../../../models/embeddings/vocab.txt");
const MATRIX: &[u8] = include_bytes!("../../../models/embeddings/embeddings.bin");

/// A static embedding model: vocabulary and int8 rows with a scale each.
pub struct StaticModel {
    dims: usize,
    vocab: HashMap<&'static str, u32, foldhash::fast::FixedState>,
    scales: Vec<f32>,
    rows: &'static [u8],
    /// Bytes of the longest vocabulary piece, without its `##`.
    max_piece: usize,
    /// `vocab.txt` as parsed (row order).
    lines: &'static str,
    /// The row of each ASCII punctuation mark as a word of its own.
    punct: [Option<u32>; 128],
}

impl std::fmt::Debug for StaticModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StaticModel({} tokens x {} dims)",
            self.scales.len(),
            self.dims
        )
    }
}

impl StaticModel {
    /// The model bundled in the binary (parsed once).
    pub fn builtin() -> &'static StaticModel {
        static M: OnceLock<StaticModel> = OnceLock::new();
        // Invariant: the bundled files are checked by `builtin_model_loads`.
        M.get_or_init(|| StaticModel::parse(VOCAB, MATRIX).expect("the bundled model parses"))
    }

    /// Parses `vocab.txt` and `embeddings.bin` (format in
    /// `scripts/distill-embeddings.py`).
    pub fn parse(vocab: &'static str, bin: &'static [u8]) -> Result<StaticModel, String> {
        let u32_at = |i: usize| -> Result<u32, String> {
            bin.get(i..i + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| "embeddings: truncated header".to_string())
        };
        if bin.get(0..4) != Some(b"M2V8") || u32_at(4)? != 1 {
            return Err("embeddings: not an M2V8 v1 file".into());
        }
        let rows = u32_at(8)? as usize;
        let dims = u32_at(12)? as usize;
        let scales_end = 16 + 4 * rows;
        if bin.len() != scales_end + rows * dims || dims == 0 {
            return Err(format!(
                "embeddings: {} bytes, expected {} for {rows} x {dims}",
                bin.len(),
                scales_end + rows * dims
            ));
        }
        let scales = bin[16..scales_end]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let mut map =
            HashMap::with_capacity_and_hasher(rows, foldhash::fast::FixedState::default());
        for (i, t) in vocab.lines().enumerate() {
            map.insert(t, i as u32);
        }
        if map.len() != rows {
            return Err(format!(
                "embeddings: {} vocabulary entries for {rows} rows",
                map.len()
            ));
        }
        let max_piece = vocab
            .lines()
            .map(|t| t.strip_prefix("##").unwrap_or(t).len())
            .max()
            .unwrap_or(0);
        let mut punct = [None; 128];
        for (c, row) in punct.iter_mut().enumerate() {
            let c = c as u8;
            if c.is_ascii_punctuation() {
                *row = map
                    .get(char::from(c).encode_utf8(&mut [0; 4]) as &str)
                    .copied();
            }
        }
        Ok(StaticModel {
            punct,
            lines: vocab,
            max_piece,
            dims,
            vocab: map,
            scales,
            rows: &bin[scales_end..],
        })
    }

    /// The vocabulary's whole words of ASCII letters, in row order, each
    /// with its row's length: the distillation's frequency weighting makes a
    /// frequent word's row short, so a smaller value is a more common word.
    pub fn whole_words(&self) -> impl Iterator<Item = (&'static str, f32)> + '_ {
        self.lines.lines().enumerate().filter_map(|(i, w)| {
            if w.is_empty() || !w.bytes().all(|b| b.is_ascii_lowercase()) {
                return None;
            }
            // `parse` checked one row of `dims` and one scale per line.
            let row = &self.rows[i * self.dims..(i + 1) * self.dims];
            let sq: f32 = row.iter().map(|&x| f32::from(x as i8).powi(2)).sum();
            Some((w, self.scales[i] * sq.sqrt()))
        })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The unit embedding of `texts` read as one text (zero when no token is
    /// known), into `out` (resized to `dims`); `scratch` is reused between
    /// calls. Returns the number of tokens pooled.
    pub fn embed(&self, texts: &[&str], out: &mut Vec<f32>, scratch: &mut EmbedScratch) -> usize {
        self.embed_counted(texts, MAX_CHARS, out, scratch).tokens
    }

    /// [`StaticModel::embed`] of the first `max_chars` characters, also
    /// counting the words read (a text split into many pieces per word is
    /// one the model hardly knows).
    pub fn embed_counted(
        &self,
        texts: &[&str],
        max_chars: usize,
        out: &mut Vec<f32>,
        scratch: &mut EmbedScratch,
    ) -> Read {
        scratch.words = 0;
        out.clear();
        out.resize(self.dims, 0.0);
        let mut n = 0usize;
        let mut window = Window {
            chars: 0,
            cap: max_chars.min(MAX_CHARS),
            after_space: true,
        };
        'texts: for (t, text) in texts.iter().enumerate() {
            let mut word = std::mem::take(&mut scratch.word);
            word.clear(); // (a cut text leaves its last word)
            if text.is_ascii() {
                // The common case: characters are bytes, so the limit cuts
                // the bytes; byte by byte, lower-cased as read, so that
                // `word` is already what WordPiece looks up. Where the
                // limit cuts is counted only for a text that may reach it
                // (and how far it reaches, only when a text follows).
                let all = text.as_bytes();
                let (end, cut) = if window.chars + all.len() <= window.cap {
                    if t + 1 < texts.len() {
                        for &c in all {
                            window.admit(is_space(c));
                        }
                    }
                    (all.len(), false)
                } else {
                    let end = all
                        .iter()
                        .position(|&c| !window.admit(is_space(c)))
                        .unwrap_or(all.len());
                    (end, end < all.len())
                };
                // (`end <= all.len()`: the length or a position in it.)
                for &c in &all[..end] {
                    if c.is_ascii_alphanumeric() {
                        word.push(c.to_ascii_lowercase() as char);
                        continue;
                    }
                    if (c as char).is_whitespace() {
                        n += self.pieces(&word, out, scratch);
                        word.clear();
                    } else if c.is_ascii_punctuation() {
                        n += self.pieces(&word, out, scratch);
                        word.clear();
                        n += self.punctuation(c, out, scratch);
                    } else {
                        // control characters: cleaned away
                        continue;
                    }
                    if n >= MAX_TOKENS {
                        scratch.word = word;
                        break 'texts;
                    }
                }
                if cut {
                    // (as below: a word cut by the limit is not read)
                    scratch.word = word;
                    break 'texts;
                }
                n += self.pieces(&word, out, scratch);
                word.clear();
                scratch.word = word;
                continue;
            }
            for c in text.chars() {
                if !window.admit(c.is_whitespace()) {
                    scratch.word = word;
                    break 'texts;
                }
                if c.is_whitespace() {
                    n += self.word(&word, out, scratch);
                    word.clear();
                } else if c.is_control() || c == '\u{fffd}' || is_format(c) {
                    // cleaned away
                } else if is_punctuation(c) || is_cjk(c) {
                    n += self.word(&word, out, scratch);
                    word.clear();
                    word.push(c);
                    n += self.word(&word, out, scratch);
                    word.clear();
                } else {
                    word.push(c);
                }
                if n >= MAX_TOKENS {
                    scratch.word = word;
                    break 'texts;
                }
            }
            n += self.word(&word, out, scratch);
            word.clear();
            scratch.word = word;
        }
        let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            out.iter_mut().for_each(|x| *x /= norm);
        }
        Read {
            tokens: n,
            words: scratch.words,
        }
    }

    /// [`StaticModel::pieces`] of the one-character word `c`, an ASCII
    /// punctuation mark, from the table made when the model was parsed.
    #[inline]
    fn punctuation(&self, c: u8, out: &mut [f32], scratch: &mut EmbedScratch) -> usize {
        scratch.words += 1;
        match self.punct.get(usize::from(c)).copied().flatten() {
            Some(id) => {
                // `out` is `dims` long (`embed_counted` sized it), as for
                // every row `pieces` adds.
                self.add_row(id, &mut out[..self.dims]);
                1
            }
            None => 0,
        }
    }

    /// WordPiece on one (uncleaned-case) word; adds its pieces' rows.
    fn word(&self, raw: &str, out: &mut [f32], scratch: &mut EmbedScratch) -> usize {
        if raw.is_empty() {
            return 0;
        }
        let mut w = std::mem::take(&mut scratch.lower);
        w.clear();
        if raw.is_ascii() {
            w.extend(raw.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            for c in raw.chars().flat_map(char::to_lowercase).nfd() {
                if !is_combining_mark(c) {
                    w.push(c);
                }
            }
            if w.is_empty() {
                // nothing but marks: a word read, no piece
                scratch.words += 1;
                scratch.lower = w;
                return 0;
            }
        }
        let n = self.pieces(&w, out, scratch);
        scratch.lower = w;
        n
    }

    /// WordPiece on one cleaned, lower-cased word; adds its pieces' rows.
    /// Returns the pieces added (0 for a word with no split).
    fn pieces(&self, w: &str, out: &mut [f32], scratch: &mut EmbedScratch) -> usize {
        if w.is_empty() {
            return 0;
        }
        scratch.words += 1;
        if w.len() > MAX_WORD_CHARS && w.chars().count() > MAX_WORD_CHARS {
            return 0;
        }
        let d = self.dims;
        // Most words are a vocabulary entry of their own: one lookup.
        if w.len() <= self.max_piece + 2 {
            if let Some(&id) = self.vocab.get(w) {
                self.add_row(id, &mut out[..d]);
                return 1;
            }
        }
        // Greedy longest match first; the whole word or nothing (as BERT).
        let pieces = &mut scratch.pieces;
        pieces.clear();
        let mut start = 0;
        let piece = &mut scratch.piece;
        while start < w.len() {
            // No vocabulary piece is longer than `max_piece` bytes: the
            // longest match starts there, not at the end of a long word.
            let mut end = w
                .len()
                .min(start + self.max_piece + if start > 0 { 0 } else { 2 });
            let mut found = None;
            while end > start {
                if w.is_char_boundary(end) {
                    piece.clear();
                    if start > 0 {
                        piece.push_str("##");
                    }
                    piece.push_str(&w[start..end]);
                    if let Some(&id) = self.vocab.get(piece.as_str()) {
                        found = Some(id);
                        break;
                    }
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    pieces.push(id);
                    start = end;
                }
                None => return 0,
            }
        }
        for &id in pieces.iter() {
            self.add_row(id, &mut out[..d]);
        }
        pieces.len()
    }

    /// Adds row `id` (int8 times its scale) to `out` (`dims` long).
    #[inline]
    fn add_row(&self, id: u32, out: &mut [f32]) {
        let d = self.dims;
        let r = id as usize;
        let s = self.scales[r];
        crate::simd::add_row(out, &self.rows[r * d..(r + 1) * d], s);
    }
}

/// Reused buffers of [`StaticModel::embed`].
#[derive(Debug, Default, Clone)]
pub struct EmbedScratch {
    word: String,
    lower: String,
    piece: String,
    pieces: Vec<u32>,
    words: usize,
}

/// What [`StaticModel::embed_counted`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// Word pieces pooled.
    pub tokens: usize,
    /// Words (and punctuation marks) read.
    pub words: usize,
}

/// BERT's punctuation: ASCII 33–47, 58–64, 91–96, 123–126, and Unicode
/// punctuation (approximated by the general punctuation blocks).
fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(c as u32,
        0x00A1 | 0x00A7 | 0x00AB | 0x00B6 | 0x00B7 | 0x00BB | 0x00BF
        | 0x2010..=0x2027 | 0x2030..=0x205E | 0x3001..=0x3003 | 0x3008..=0x3011
        | 0x3014..=0x301F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF3D | 0xFF5B..=0xFF65)
}

/// Format characters (Cf) BERT's cleaning drops: zero-width and bidi marks.
fn is_format(c: char) -> bool {
    matches!(c as u32, 0x00AD | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0xFEFF)
}

/// CJK ideographs (BERT puts spaces around each).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// Cosine of two unit vectors ([`crate::simd::cosine`]).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    crate::simd::cosine(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_model_loads() {
        let m = StaticModel::builtin();
        assert_eq!(m.dims(), 128);
    }

    /// The Python reference (scripts/distill-embeddings.py writes
    /// selftest.jsonl): the same unit embedding, to int8 precision.
    #[test]
    fn embeddings_match_the_reference_implementation() {
        let m = StaticModel::builtin();
        let mut out = Vec::new();
        let mut s = EmbedScratch::default();
        let cases = include_str!("../../../tests/data/embeddings/selftest.jsonl");
        for line in cases.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = v["text"].as_str().unwrap();
            let want: Vec<f32> = v["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            m.embed(&[text], &mut out, &mut s);
            if want.iter().all(|x| *x == 0.0) {
                assert!(out.iter().all(|x| *x == 0.0), "{text:?}: not zero");
                continue;
            }
            let cos = cosine(&out, &want);
            assert!(cos > 0.999, "{text:?}: cosine {cos} to the reference");
        }
    }

    #[test]
    fn the_ascii_path_reads_as_the_general_one() {
        let m = StaticModel::builtin();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut s = EmbedScratch::default();
        for text in [
            "Our invoice was charged twice!! Please refund ASAP.",
            "tab\there,new\nline\x01ctl\x7fdel (paren) e-mail foo@bar.com 3.14",
            "Supercalifragilisticexpialidociouslyunknownword xqzt",
            "Mid\x01Word \x01start ab\x01CD\x02ef\x03 Pay\x7f",
            "",
            "   ",
        ] {
            // A zero-width space is cleaned away, and sends the text down
            // the general path.
            let general = format!("{text}\u{200b}");
            let ra = m.embed_counted(&[text, "second part"], 280, &mut a, &mut s);
            let rb = m.embed_counted(&[&general, "second part"], 280, &mut b, &mut s);
            assert_eq!(ra, rb, "{text:?}");
            assert_eq!(a, b, "{text:?}");
        }
        // Cut mid-word by the character limit, the same way.
        let long = "word ".repeat(100);
        let ra = m.embed_counted(&[&long], 37, &mut a, &mut s);
        let rb = m.embed_counted(&[&format!("\u{200b}{long}")], 38, &mut b, &mut s);
        assert_eq!((ra, &a), (rb, &b));
        // At every limit across two texts: mid-word, on punctuation, on a
        // control character, at a text's end.
        let mixed = "Can't log-in: er\x01Ror\x01 503, (again)!\tPlease help";
        let general = format!("\u{200b}{mixed}");
        for cap in 0..80 {
            let ra = m.embed_counted(&[mixed, "second part."], cap, &mut a, &mut s);
            let rb = m.embed_counted(&[&general, "second part."], cap + 1, &mut b, &mut s);
            assert_eq!((ra, &a), (rb, &b), "limit {cap}");
        }
    }

    #[test]
    fn similar_requests_are_closer_than_unrelated_ones() {
        let m = StaticModel::builtin();
        let mut s = EmbedScratch::default();
        let e = |t: &str, s: &mut EmbedScratch| {
            let mut v = Vec::new();
            m.embed(&[t], &mut v, s);
            v
        };
        let a = e("I was charged twice for my subscription", &mut s);
        let b = e("Why did you bill me two times this month?", &mut s);
        let c = e("The export button crashes the app", &mut s);
        assert!(cosine(&a, &b) > cosine(&a, &c) + 0.1);
        let zero = e("", &mut s);
        assert!(zero.iter().all(|x| *x == 0.0));
    }
}
