//! The language a ticket is written in, from its text (ISO 639-1 codes).
//!
//! Two methods, cheapest first:
//! - **Function words** for the languages common in support mail (English,
//!   German, French, Spanish, Portuguese, Italian, Dutch): among the first
//!   [`WORDS`] words (fewer when the first 20 already decide), the language
//!   whose short grammatical words ("the",
//!   "und", "avec", "não", …) occur most wins, if it has at least two and more
//!   than any other. Prose of a dozen words decides; a word-list lookup per
//!   word costs a few nanoseconds.
//! - **Character trigrams** (the `whatlang` crate, 70 languages) for text
//!   written mostly in another script (Cyrillic, Greek, Arabic, CJK, …) and
//!   for Latin-script prose with none of those function words (Polish,
//!   Swedish, Turkish, …: at most one function word in eight words or more);
//!   only a reliable answer counts there. It costs ~50 µs per text, so it reads only the
//!   tickets the first method cannot place, and only the first
//!   [`TRIGRAM_BYTES`] bytes.
//!
//! `None`: too short or too mixed to tell (a subject of three words, a log
//! line). Callers treat that as "whatever the rules read".

use std::sync::OnceLock;

/// Words of subject and body read for function words.
pub const WORDS: usize = 60;

/// Bytes of text the trigram detector reads.
const TRIGRAM_BYTES: usize = 400;

/// Words needed before Latin text without function words goes to the
/// trigram detector (shorter text: too little to tell).
const TRIGRAM_MIN_WORDS: u32 = 8;

/// The function-word languages, in mask-bit order.
const LANGS: [&str; 7] = ["en", "de", "fr", "es", "pt", "it", "nl"];

/// Short grammatical words of each language (lower case). A word shared by
/// several languages counts for each of them; the distinctive ones decide.
const FUNCTION_WORDS: [&[&str]; 7] = [
    // en
    &[
        "the", "a", "an", "to", "of", "and", "in", "is", "it", "for", "on", "my", "we", "i", "you",
        "our", "this", "that", "with", "not", "be", "are", "was", "have", "can", "please", "from",
        "at", "as", "but", "or", "your", "me", "us", "do", "does", "will", "if", "when", "has",
        "would", "could", "there", "been", "they", "what", "how", "no", "am", "any",
    ],
    // de
    &[
        "der", "die", "das", "und", "ist", "nicht", "mit", "ein", "eine", "einen", "ich", "wir",
        "sie", "zu", "auf", "bitte", "für", "von", "den", "dem", "auch", "wie", "es", "haben",
        "kann", "sind", "wird", "uns", "mein", "meine", "kein", "keine", "noch", "aber", "oder",
        "bei", "nach", "im", "wurde", "werden", "können", "in", "als", "um", "da", "er",
    ],
    // fr
    &[
        "le", "la", "les", "et", "est", "pas", "nous", "vous", "une", "des", "du", "que", "ne",
        "pour", "avec", "dans", "sur", "votre", "notre", "je", "mon", "ma", "mes", "ce", "cette",
        "il", "elle", "sont", "au", "aux", "un", "merci", "qui", "en", "de", "me", "se", "non",
        "j'ai", "c'est", "n'est",
    ],
    // es
    &[
        "el", "los", "las", "y", "es", "para", "con", "una", "por", "del", "al", "que", "la", "no",
        "mi", "mis", "su", "pero", "como", "está", "estoy", "gracias", "lo", "se", "en", "un",
        "de", "me", "a", "muy", "hay",
    ],
    // pt
    &[
        "não", "uma", "com", "para", "que", "os", "as", "um", "da", "do", "dos", "das", "em", "no",
        "na", "meu", "minha", "obrigado", "você", "está", "é", "se", "de", "me", "a", "ao", "mas",
        "por",
    ],
    // it
    &[
        "il", "di", "che", "non", "per", "con", "una", "del", "della", "sono", "mi", "la", "le",
        "gli", "un", "è", "ho", "grazie", "anche", "come", "ma", "nel", "lo", "a", "da", "se",
    ],
    // nl
    &[
        "het", "een", "niet", "ik", "zijn", "de", "en", "van", "is", "dat", "op", "te", "met",
        "voor", "we", "mijn", "wij", "geen", "bedankt", "kan", "er", "in", "als", "ook", "maar",
    ],
];

/// Open-addressing table: a word of up to 8 bytes packed into a `u64` →
/// the mask of languages it belongs to.
struct Table {
    keys: Box<[u64]>,
    masks: Box<[u8]>,
}

const SLOTS: usize = 1024;

fn slot(k: u64) -> usize {
    (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize
}

/// `w` as an integer, if it has 1–8 bytes.
fn pack(w: &[u8]) -> Option<u64> {
    if w.is_empty() || w.len() > 8 {
        return None;
    }
    let mut k = [0u8; 8];
    k[..w.len()].copy_from_slice(w);
    Some(u64::from_le_bytes(k))
}

impl Table {
    fn get() -> &'static Table {
        static TABLE: OnceLock<Table> = OnceLock::new();
        TABLE.get_or_init(|| {
            let mut t = Table {
                keys: vec![0u64; SLOTS].into_boxed_slice(),
                masks: vec![0u8; SLOTS].into_boxed_slice(),
            };
            for (bit, words) in FUNCTION_WORDS.iter().enumerate() {
                for w in *words {
                    let k = pack(w.as_bytes()).expect("function words are 1-8 bytes");
                    let mut i = slot(k);
                    while t.keys[i] != 0 && t.keys[i] != k {
                        i = (i + 1) % SLOTS;
                    }
                    t.keys[i] = k;
                    t.masks[i] |= 1 << bit;
                }
            }
            t
        })
    }

    fn mask(&self, k: u64) -> u8 {
        let mut i = slot(k);
        loop {
            match self.keys[i] {
                0 => return 0,
                x if x == k => return self.masks[i],
                _ => i = (i + 1) % SLOTS,
            }
        }
    }
}

/// What one pass over the words found.
#[derive(Debug, Default)]
struct Counts {
    hits: [u32; 7],
    words: u32,
    latin_letters: u32,
    other_letters: u32,
}

impl Counts {
    /// The words read so far already decide: at least [`EARLY_WORDS`] words,
    /// one language's function words [`EARLY_HITS`] or more and three times
    /// any other's. Most prose is placed within its first two sentences; the
    /// rest of the [`WORDS`] would not change the answer.
    fn decided(&self) -> bool {
        if (self.words as usize) < EARLY_WORDS || self.other_letters > self.latin_letters {
            return false;
        }
        let (_, top, second) = self.leaders();
        top >= EARLY_HITS && top >= 3 * second
    }

    /// The language with the most function words (the first on a tie), its
    /// count and the most any other language has.
    fn leaders(&self) -> (usize, u32, u32) {
        // `hits` is a fixed array of `LANGS.len()` (7) counts: `i` runs
        // below its length and `best` is always one of those `i` (or 0).
        let mut best = 0;
        for i in 1..self.hits.len() {
            if self.hits[i] > self.hits[best] {
                best = i;
            }
        }
        let second = (self.hits.iter().enumerate())
            .filter(|&(i, _)| i != best)
            .map(|(_, &h)| h)
            .max()
            .unwrap_or(0);
        (best, self.hits[best], second)
    }
}

/// Words read before [`Counts::decided`] may stop the count.
const EARLY_WORDS: usize = 20;

/// Function words of one language that decide early.
const EARLY_HITS: u32 = 6;

fn count(texts: &[&str; 2]) -> Counts {
    let table = Table::get();
    let mut c = Counts::default();
    let mut word = [0u8; 8];
    'texts: for t in texts {
        let b = t.as_bytes();
        let mut i = 0;
        while i < b.len() {
            // Skip to the next word.
            let x = b[i];
            let is_word_byte = x.is_ascii_alphanumeric() || x == b'\'' || x >= 0x80;
            if !is_word_byte {
                i += 1;
                continue;
            }
            let start = i;
            let mut len = 0usize;
            let mut fits = true;
            while i < b.len() {
                let x = b[i];
                if x.is_ascii_alphabetic() {
                    c.latin_letters += 1;
                } else if x >= 0x80 {
                    // A non-ASCII character: Latin (accented letters up to
                    // U+024F), another script's letter, or a separator.
                    let ch = t[i..].chars().next().unwrap_or(' ');
                    if !ch.is_alphanumeric() {
                        break;
                    }
                    if (ch as u32) < 0x250 {
                        c.latin_letters += 1;
                    } else {
                        c.other_letters += 1;
                    }
                    let n = ch.len_utf8();
                    let mut lower = [0u8; 4];
                    let mut lc = ch.to_lowercase();
                    let l = match (lc.next(), lc.next()) {
                        (Some(l), None) => l.encode_utf8(&mut lower).len(),
                        _ => ch.encode_utf8(&mut lower).len(),
                    };
                    if len + l <= 8 {
                        word[len..len + l].copy_from_slice(&lower[..l]);
                        len += l;
                    } else {
                        fits = false;
                    }
                    i += n;
                    continue;
                } else if !(x.is_ascii_digit() || x == b'\'') {
                    break;
                }
                if len < 8 {
                    word[len] = x.to_ascii_lowercase();
                    len += 1;
                } else {
                    fits = false;
                }
                i += 1;
            }
            if i == start {
                // A non-letter character outside a word: step over it.
                i += t[i..].chars().next().map_or(1, char::len_utf8);
                continue;
            }
            c.words += 1;
            if fits {
                if let Some(k) = pack(&word[..len]) {
                    let m = table.mask(k);
                    if m != 0 {
                        for (bit, h) in c.hits.iter_mut().enumerate() {
                            *h += u32::from(m >> bit & 1);
                        }
                    }
                }
            }
            if c.words as usize >= WORDS || (c.words % 4 == 0 && c.decided()) {
                break 'texts;
            }
        }
    }
    c
}

/// The ticket's language (ISO 639-1), or `None` when the text is too short
/// or too mixed to tell. `texts`: subject and body.
pub fn detect(texts: &[&str; 2]) -> Option<&'static str> {
    let c = count(texts);
    if c.other_letters > c.latin_letters {
        return trigrams(texts, false);
    }
    let (best, top, second) = c.leaders();
    if top >= 2 && top > second {
        return Some(LANGS[best]);
    }
    if top < 2 && c.words >= TRIGRAM_MIN_WORDS {
        return trigrams(texts, true);
    }
    None
}

/// The trigram detector's answer on the first [`TRIGRAM_BYTES`] bytes;
/// with `reliable_only`, only an answer it is sure of.
fn trigrams(texts: &[&str; 2], reliable_only: bool) -> Option<&'static str> {
    let mut buf = String::with_capacity(TRIGRAM_BYTES + 4);
    for t in texts {
        let room = TRIGRAM_BYTES.saturating_sub(buf.len());
        if room == 0 {
            break;
        }
        buf.push_str(crate::text::prefix(t, room));
        buf.push('\n');
    }
    let info = whatlang::detect(&buf)?;
    if reliable_only && !info.is_reliable() {
        return None;
    }
    iso639_1(info.lang())
}

/// A whatlang language as its ISO 639-1 code (all 70 have one).
fn iso639_1(l: whatlang::Lang) -> Option<&'static str> {
    use whatlang::Lang::*;
    Some(match l {
        Epo => "eo",
        Eng => "en",
        Rus => "ru",
        Cmn => "zh",
        Spa => "es",
        Por => "pt",
        Ita => "it",
        Ben => "bn",
        Fra => "fr",
        Deu => "de",
        Ukr => "uk",
        Kat => "ka",
        Ara => "ar",
        Hin => "hi",
        Jpn => "ja",
        Heb => "he",
        Yid => "yi",
        Pol => "pl",
        Amh => "am",
        Jav => "jv",
        Kor => "ko",
        Nob => "nb",
        Dan => "da",
        Swe => "sv",
        Fin => "fi",
        Tur => "tr",
        Nld => "nl",
        Hun => "hu",
        Ces => "cs",
        Ell => "el",
        Bul => "bg",
        Bel => "be",
        Mar => "mr",
        Kan => "kn",
        Ron => "ro",
        Slv => "sl",
        Hrv => "hr",
        Srp => "sr",
        Mkd => "mk",
        Lit => "lt",
        Lav => "lv",
        Est => "et",
        Tam => "ta",
        Vie => "vi",
        Urd => "ur",
        Tha => "th",
        Guj => "gu",
        Uzb => "uz",
        Pan => "pa",
        Aze => "az",
        Ind => "id",
        Tel => "te",
        Pes => "fa",
        Mal => "ml",
        Ori => "or",
        Mya => "my",
        Nep => "ne",
        Sin => "si",
        Khm => "km",
        Tuk => "tk",
        Aka => "ak",
        Zul => "zu",
        Sna => "sn",
        Afr => "af",
        Lat => "la",
        Slk => "sk",
        Cat => "ca",
        Tgl => "tl",
        Hye => "hy",
        Cym => "cy",
    })
}

/// Whether `code` looks like an ISO 639-1 code (two lower-case letters), for
/// checking rules files.
pub fn is_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(subject: &str, body: &str) -> Option<&'static str> {
        detect(&[subject, body])
    }

    #[test]
    fn support_mail_in_the_common_languages() {
        assert_eq!(
            lang(
                "Dashboard down",
                "Our production dashboard has been down since this morning and none of the users can log in."
            ),
            Some("en")
        );
        assert_eq!(
            lang(
                "Anmeldung",
                "Seit heute Morgen können wir uns nicht mehr anmelden. Bitte helfen Sie uns, die Rechnung ist auch falsch."
            ),
            Some("de")
        );
        assert_eq!(
            lang(
                "Connexion",
                "Bonjour, je n'arrive plus à me connecter à mon compte depuis hier. Pouvez-vous nous aider avec cette erreur ?"
            ),
            Some("fr")
        );
        assert_eq!(
            lang(
                "Factura",
                "Hola, me cobraron dos veces la factura del mes pasado y no puedo descargar el recibo. Gracias."
            ),
            Some("es")
        );
        assert_eq!(
            lang(
                "Senha",
                "Olá, não consigo entrar na minha conta desde ontem e o suporte não responde. Obrigado."
            ),
            Some("pt")
        );
        assert_eq!(
            lang(
                "Fattura",
                "Buongiorno, non riesco ad accedere al mio account e la fattura di questo mese è sbagliata. Grazie."
            ),
            Some("it")
        );
        assert_eq!(
            lang(
                "Inloggen",
                "Hallo, ik kan niet meer inloggen op mijn account en de factuur van deze maand is niet correct."
            ),
            Some("nl")
        );
    }

    #[test]
    fn other_scripts_and_other_latin_languages_go_to_trigrams() {
        assert_eq!(
            lang(
                "Не могу войти",
                "Здравствуйте, с утра не могу войти в личный кабинет, пишет ошибку сервера."
            ),
            Some("ru")
        );
        assert_eq!(
            lang(
                "ログインできません",
                "今朝からログインできません。至急対応をお願いします。"
            ),
            Some("ja")
        );
        assert_eq!(
            lang(
                "Problem z logowaniem",
                "Dzień dobry, od rana nie mogę zalogować się do panelu, system pokazuje błąd serwera przy każdej próbie."
            ),
            Some("pl")
        );
    }

    #[test]
    fn too_little_text_is_not_guessed() {
        assert_eq!(lang("Invoice", ""), None);
        assert_eq!(lang("export csv", ""), None);
        assert_eq!(lang("ERR_CONN_RESET 0x80040154", ""), None);
        assert_eq!(lang("", ""), None);
    }

    #[test]
    fn odd_bytes_do_not_break_the_word_walk() {
        for t in [
            "’’’",
            "a\u{0}b",
            "\u{feff}the and",
            "🙂🙂 the app is down and we can't log in",
            "é",
            "ÉÉÉÉÉÉÉÉÉÉÉÉ the",
            "İstanbul",
            "ß",
        ] {
            let _ = lang(t, t);
        }
        assert_eq!(
            lang("🙂 the app is down and we can't log in", ""),
            Some("en")
        );
    }
}
