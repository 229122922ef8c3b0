//! The common ticket event read without serde: a flat object of strings,
//! a number, a list of tags and a few small objects, in compact JSON.
//!
//! serde_json reads a string a byte at a time, checks its UTF-8 apart, and
//! dispatches every key and value through its visitors. Here strings are cut
//! at the quotes found 16 bytes at a time (their UTF-8 checked only when a
//! byte of 0x80 or above is in them), `custom_fields` and `requester` are read
//! when they hold plain strings, whole numbers and booleans, and any other
//! value (`triage`, unknown keys, the rest) is handed to serde_json whole.
//!
//! This path only ever *accepts*: anything it does not read exactly as
//! serde_json would — a control byte in a string, a `\u` escape, an escaped
//! key, `null`, a repeated key, nesting deeper than [`MAX_DEPTH`], any
//! syntax error — gives up (`None`) and the input is
//! decoded by serde_json from the start, which also writes the error. So a
//! record is accepted or rejected exactly as before, with the same fields
//! (a test compares both on generated and mangled inputs).

use std::borrow::Cow;

use std::collections::BTreeMap;

use super::{Fields, RawTicket, RawValue, Requester, Str, Strict, MAX_CUSTOM_FIELDS, MAX_TAGS};
use crate::simd::string_run;

/// Deepest nesting of a value handed to serde_json: far inside its limit
/// of 128, so that a value read on its own meets no limit that the whole
/// document would have met.
const MAX_DEPTH: usize = 32;

/// The ticket, or `None` when serde_json must decide.
pub(super) fn decode(bytes: &[u8]) -> Option<RawTicket<'_>> {
    let mut r = Reader {
        b: bytes,
        i: 0,
        handed: 0,
    };
    let mut t = RawTicket::default();
    let mut requester = false;
    r.ws();
    r.object(|r, key| {
        match key {
            "ticket_id" => r.string_once(&mut t.ticket_id)?,
            "customer_id" => r.string_once(&mut t.customer_id)?,
            "created_at" => r.string_once(&mut t.created_at)?,
            "subject" => r.string_once(&mut t.subject)?,
            "body" => r.string_once(&mut t.body)?,
            "channel" => r.string_once(&mut t.channel)?,
            "reported_priority" => r.string_once(&mut t.reported_priority)?,
            "affected_users" => {
                if t.affected_users.is_some() {
                    return None;
                }
                let n = std::str::from_utf8(r.scalar()).ok()?;
                t.affected_users = Some(serde_json::from_str(n).ok()?);
            }
            "tags" => {
                if t.tags.is_some() {
                    return None;
                }
                t.tags = Some(r.tags()?);
            }
            "custom_fields" => {
                if t.custom_fields.is_some() {
                    return None;
                }
                let start = r.i;
                t.custom_fields = Some(match r.fields() {
                    Some(f) => f,
                    None => {
                        r.i = start;
                        r.handed(|v| serde_json::from_slice::<Fields>(v).ok())?
                    }
                });
            }
            "requester" => {
                if requester {
                    return None;
                }
                requester = true;
                let start = r.i;
                t.requester_name = match r.strings("name") {
                    Some(name) => name,
                    None => {
                        r.i = start;
                        r.handed(|v| serde_json::from_slice::<Requester>(v).ok())?.0
                    }
                };
            }
            "triage" => {
                if t.triage {
                    return None;
                }
                t.triage = true;
                r.handed(|v| serde_json::from_slice::<Strict>(v).ok())?;
            }
            _ => {
                r.handed(|v| serde_json::from_slice::<Strict>(v).ok())?;
            }
        }
        Some(())
    })?;
    r.ws();
    (r.i == bytes.len()).then_some(t)
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    /// Values handed to serde_json so far (see [`Reader::handed`]).
    handed: usize,
}

/// Most values of one record handed to serde_json one by one: each call
/// sets up a parser, so a record of thousands of small unknown fields is
/// cheaper read by serde_json whole (and bounded work per record stays
/// bounded).
const MAX_HANDED: usize = 16;

impl<'a> Reader<'a> {
    /// The next value read by `read` (serde_json on its bytes), at most
    /// [`MAX_HANDED`] times per record.
    fn handed<T>(&mut self, read: impl FnOnce(&'a [u8]) -> Option<T>) -> Option<T> {
        self.handed += 1;
        if self.handed > MAX_HANDED {
            return None;
        }
        read(self.value()?)
    }

    /// Skips JSON whitespace.
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// A key without escapes.
    fn key(&mut self) -> Option<&'a str> {
        match self.string()? {
            Cow::Borrowed(k) => Some(k),
            Cow::Owned(_) => None,
        }
    }

    /// A string field, once.
    fn string_once(&mut self, slot: &mut Option<Str<'a>>) -> Option<()> {
        if slot.is_some() {
            return None;
        }
        *slot = Some(Str(self.string()?));
        Some(())
    }

    /// A string: borrowed when it has no escapes; the two-character escapes
    /// decoded; `\u` escapes, control bytes and bytes that are not UTF-8
    /// left to serde_json.
    ///
    /// In bounds: `at` is where [`string_run`] found a byte in the input
    /// after `from`, so `self.b[at]` exists.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        // The text so far when an escape came before.
        let mut owned: Option<String> = None;
        let mut from = self.i;
        loop {
            let (run, k) = string_run(self.b.get(from..)?)?;
            let at = from + k;
            match self.b[at] {
                b'"' => {
                    self.i = at + 1;
                    return Some(match owned {
                        None => Cow::Borrowed(run),
                        Some(mut s) => {
                            s.push_str(run);
                            Cow::Owned(s)
                        }
                    });
                }
                b'\\' => {
                    // Room for the rest of a typical field (a body with
                    // line breaks).
                    let s = owned.get_or_insert_with(|| {
                        String::with_capacity((self.b.len() - from).min(4096))
                    });
                    s.push_str(run);
                    s.push(unescape(*self.b.get(at + 1)?)?);
                    from = at + 2;
                }
                _ => return None, // a control byte
            }
        }
    }

    /// The bytes up to the next delimiter (a number, `true`, …), for serde_json.
    fn scalar(&mut self) -> &'a [u8] {
        let start = self.i;
        while let Some(c) = self.b.get(self.i) {
            if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.i += 1;
        }
        &self.b[start..self.i]
    }

    /// After an item of an object or a list: `true` past a comma (another
    /// item follows), `false` past `close`.
    fn next_item(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let c = *self.b.get(self.i)?;
        self.i += 1;
        match c {
            b',' => Some(true),
            _ if c == close => Some(false),
            _ => None,
        }
    }

    /// The items of an object whose values `item` reads (`None` gives up),
    /// keys without escapes, up to the closing brace.
    fn object(&mut self, mut item: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            let key = self.key()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            item(self, key)?;
            if !self.next_item(b'}')? {
                return Some(());
            }
        }
    }

    /// `custom_fields` of strings, booleans and whole numbers of up to 15
    /// digits (exact in an `f64`, as serde_json reads them); anything else
    /// is left to serde_json.
    fn fields(&mut self) -> Option<Fields<'a>> {
        let mut m = BTreeMap::new();
        self.object(|r, key| {
            if m.len() == MAX_CUSTOM_FIELDS {
                return None;
            }
            let v = match r.b.get(r.i)? {
                b'"' => RawValue::String(Str(r.string()?)),
                _ => match r.scalar() {
                    b"true" => RawValue::Bool(true),
                    b"false" => RawValue::Bool(false),
                    n => RawValue::Number(whole(n)? as f64),
                },
            };
            // The last of a repeated key wins, as in serde's map.
            m.insert(Str(Cow::Borrowed(key)), v);
            Some(())
        })?;
        Some(Fields(m))
    }

    /// An object of strings (`requester`), and the value of its first key
    /// `kept`; anything else is left to serde_json.
    fn strings(&mut self, kept: &str) -> Option<Option<Cow<'a, str>>> {
        let mut value = None;
        self.object(|r, key| {
            if r.b.get(r.i)? != &b'"' {
                return None;
            }
            let s = r.string()?;
            if key == kept && value.is_none() {
                value = Some(s);
            }
            Some(())
        })?;
        Some(value)
    }

    /// `["a", "b"]`: strings, at most [`MAX_TAGS`].
    fn tags(&mut self) -> Option<Vec<Str<'a>>> {
        self.eat(b'[')?;
        let mut v = Vec::new();
        self.ws();
        if self.eat(b']').is_some() {
            return Some(v);
        }
        loop {
            self.ws();
            if v.len() == MAX_TAGS {
                return None;
            }
            v.push(Str(self.string()?));
            if !self.next_item(b']')? {
                return Some(v);
            }
        }
    }

    /// The bytes of one value (its extent only: serde_json reads it), at
    /// most [`MAX_DEPTH`] deep.
    fn value(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        let mut depth = 0usize;
        loop {
            match *self.b.get(self.i)? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return None;
                    }
                    self.i += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.i += 1;
                }
                b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => {
                    if depth == 0 {
                        return None;
                    }
                    self.i += 1;
                }
                _ => {
                    if self.scalar().is_empty() {
                        return None;
                    }
                }
            }
            if depth == 0 {
                return Some(&self.b[start..self.i]);
            }
        }
    }
}

/// The character a two-character escape (`\n`, `\"`, …) stands for;
/// `None` for `\u` (left to serde_json) and invalid escapes.
fn unescape(c: u8) -> Option<char> {
    Some(match c {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

/// A JSON integer of at most 15 digits (no leading zero, no fraction or
/// exponent, not `-0`): exact as an `f64`.
fn whole(n: &[u8]) -> Option<i64> {
    let digits = n.strip_prefix(b"-").unwrap_or(n);
    if digits.is_empty()
        || n == b"-0"
        || digits.len() > 15
        || (digits.len() > 1 && digits[0] == b'0')
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    std::str::from_utf8(n).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{RawTicket, RawValue};

    /// Everything a decoded ticket holds, to compare the two readers.
    fn view(t: &RawTicket<'_>) -> String {
        let s = |v: &Option<super::Str<'_>>| format!("{:?}", v.as_ref().map(|s| &*s.0));
        let fields = t.custom_fields.as_ref().map(|f| {
            f.0.iter()
                .map(|(k, v)| {
                    let v = match v {
                        RawValue::Bool(b) => format!("bool {b}"),
                        RawValue::Number(n) => format!("number {:?}", n.to_bits()),
                        RawValue::String(s) => format!("string {:?}", &*s.0),
                        RawValue::Other => "other".to_string(),
                    };
                    format!("{:?}={v}", &*k.0)
                })
                .collect::<Vec<_>>()
        });
        format!(
            "{} {} {} {} {} {} {} {:?} {:?} {:?} {}",
            s(&t.ticket_id),
            s(&t.customer_id),
            s(&t.created_at),
            s(&t.subject),
            s(&t.body),
            s(&t.channel),
            s(&t.reported_priority),
            t.affected_users.as_ref().map(|n| n.to_string()),
            t.tags
                .as_ref()
                .map(|v| v.iter().map(|s| s.0.to_string()).collect::<Vec<_>>()),
            fields,
            t.triage
        )
    }

    /// Whether the fast reader took `input`; when it did, serde_json reads
    /// the same ticket from it.
    fn agrees(input: &[u8]) -> bool {
        let fast = super::decode(input);
        let slow = serde_json::from_slice::<RawTicket<'_>>(input);
        match (&fast, &slow) {
            (Some(f), Ok(s)) => {
                assert_eq!(view(f), view(s), "{:?}", String::from_utf8_lossy(input))
            }
            (Some(f), Err(e)) => panic!(
                "fast read {} where serde_json fails ({e}): {:?}",
                view(f),
                String::from_utf8_lossy(input)
            ),
            (None, _) => {}
        }
        fast.is_some()
    }

    const SEEDS: &[&str] = &[
        r#"{"ticket_id":"T-1","customer_id":"C-1","created_at":"2026-11-01T12:36:08Z","subject":"Outage: nobody can log in","body":"Good morning,\n\nIt is \"down\" \\ again \/ \t tabs.\r\nBest,\nNora","channel":"email","requester":{"email":"nora@example.com","name":"Nora"},"tags":["after-release","vip"],"custom_fields":{"days_to_renewal":182,"environment":"production","beta":true,"x":false}}"#,
        r#"{"ticket_id":"T-2","customer_id":"C-2","created_at":"2026-11-02T10:02:58.000Z","subject":"Café — naïve 😀","body":"Ünïcödé ✓ text","affected_users":11,"tags":[],"custom_fields":{},"reported_priority":"high"}"#,
        "{\n  \"ticket_id\": \"T-3\",\n  \"customer_id\": \"C-3\",\n  \"created_at\": \"2026-11-03T00:00:00Z\",\n  \"subject\": \"pretty\",\n  \"extra\": [1, 2.5, -3e4, null, true, {\"a\": [\"b\"]}],\n  \"triage\": {\"priority\": \"P1\"}\n}\n",
        r#"{"ticket_id":"T-4","customer_id":"C-4","created_at":"2026-11-04T00:00:00Z","subject":"s","custom_fields":{"n":-0,"f":1.5,"e":1e3,"big":12345678901234567890,"s":"\u00e9"},"requester":{"nested":{"a":1}},"body":null}"#,
        r#"{"ticket_id":"T-8","customer_id":"C-8","created_at":"2026-11-04T00:00:00Z","subject":"s","custom_fields":{"n":-0},"requester":{"id":7}}"#,
        r#"{"ticket_id":"T\u002d5","customer_id":"C-5","created_at":"2026-11-05T00:00:00Z","subject":"\ud83d\ude00 \u00e9","tags":["a\nb"],"affected_users":-1}"#,
        r#"{"subject":"dup","subject":"again","ticket_id":"T-6"}"#,
        r#"{"ticket_id":"T-9","customer_id":"C-9","created_at":"2026-11-04T00:00:00Z","subject":"s","requester":{"name":"Jane \"JD\" Doe","name":"Other"}}"#,
        r#"{"ticket_id":"T-10","customer_id":"C-10","created_at":"2026-11-04T00:00:00Z","subject":"s","requester":{"name":5,"email":"x@example.com"}}"#,
        r#"[{"ticket_id":"T-7"}]"#,
        r#"{}"#,
    ];

    #[test]
    fn the_fast_reader_takes_plain_tickets_and_agrees_with_serde_json() {
        // Compact tickets, escapes and non-ASCII text take the fast path.
        assert!(agrees(SEEDS[0].as_bytes()));
        assert!(agrees(SEEDS[1].as_bytes()));
        assert!(agrees(SEEDS[2].as_bytes()));
        // Values it hands to serde_json whole.
        assert!(agrees(SEEDS[4].as_bytes()));
        // What it leaves to serde_json: `null`, `\u` escapes, repeats.
        for s in SEEDS {
            agrees(s.as_bytes());
        }
        // Every cut of every seed.
        for s in SEEDS {
            for k in 0..s.len() {
                agrees(&s.as_bytes()[..k]);
            }
        }
    }

    #[test]
    fn the_requester_s_name_is_kept_by_both_readers() {
        // The first `name` when a string (escapes decoded), none when not.
        for (seed, name) in [
            (0, Some("Nora")),
            (4, None),
            (7, Some("Jane \"JD\" Doe")),
            (8, None),
        ] {
            let bytes = SEEDS[seed].as_bytes();
            assert!(agrees(bytes), "{seed}");
            let t = crate::codec::json::decode_ticket(bytes)
                .expect("valid")
                .ticket;
            assert_eq!(t.requester_name.as_deref(), name, "{seed}");
        }
    }

    #[test]
    fn a_record_of_many_unknown_fields_is_left_to_serde_json() {
        let mut few = String::from(
            r#"{"ticket_id":"T-9","customer_id":"C-9","created_at":"2026-11-09T00:00:00Z","subject":"s""#,
        );
        let mut many = few.clone();
        for k in 0..super::MAX_HANDED {
            few.push_str(&format!(r#","x{k}":[{k}]"#));
        }
        for k in 0..1_000 {
            many.push_str(&format!(r#","x{k}":[{k}]"#));
        }
        few.push('}');
        many.push('}');
        assert!(agrees(few.as_bytes()));
        assert!(!agrees(many.as_bytes()));
        assert!(serde_json::from_slice::<RawTicket<'_>>(many.as_bytes()).is_ok());
    }

    #[test]
    fn the_fuzz_corpus_reads_as_serde_json_reads_it() {
        // Inputs coverage-guided fuzzing kept (`make fuzz`): hostile,
        // truncated and odd tickets.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/json_ticket");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let (mut n, mut fast) = (0, 0);
        for e in entries.flatten() {
            if let Ok(input) = std::fs::read(e.path()) {
                n += 1;
                fast += usize::from(agrees(&input));
            }
        }
        assert!(n == 0 || fast > 0, "{fast} of {n} read by the fast path");
    }

    /// Bytes that change how JSON reads.
    const TOKENS: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b" ",
        b"\n",
        b"\x01",
        b"\x7f",
        b"\xc3\xa9",
        b"\xc3",
        b"\xff",
        b"\\u00e9",
        b"\\ud83d",
        b"\\n",
        b"null",
        b"true",
        b"-0",
        b"1e400",
        b"0",
        b"\"x\":1,",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn mangled_tickets_are_read_as_serde_json_reads_them(
            seed in 0..SEEDS.len(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0..TOKENS.len(), 0..3u8), 1..4),
        ) {
            let mut b = SEEDS[seed].as_bytes().to_vec();
            for (at, token, op) in edits {
                let at = at.index(b.len() + 1);
                let t = TOKENS[token];
                match op {
                    0 => { b.splice(at..at, t.iter().copied()); }
                    1 => { let end = (at + t.len()).min(b.len()); b.splice(at..end, t.iter().copied()); }
                    _ => { if at < b.len() { b.remove(at); } }
                }
            }
            agrees(&b);
        }
    }
}
