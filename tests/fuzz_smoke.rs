//! The fuzz smoke run of `make test`: every fuzz target's checks
//! (tests/fuzz/checks.rs) over the corpus kept in `fuzz/corpus/<target>/`
//! (grown by `make fuzz`, coverage-guided), the crashes turned regressions in
//! `fuzz/regressions/<target>/`, and a bounded number of deterministic
//! mutations of both. Needs nothing beyond the stable toolchain; the
//! coverage-guided campaign itself is `make fuzz` (nightly, cargo fuzz).

#[path = "fuzz/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

/// Mutations per target (bounded by count, not time); rules files compile
/// a whole policy each, so they get fewer.
fn mutations(target: &str) -> usize {
    if target == "rules_file" {
        300
    } else {
        4_000
    }
}

fn inputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<(PathBuf, Vec<u8>)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .map(|p| {
                let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                (p, b)
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to the parsers.
const INTERESTING: &[u8] = b"\x00\x01\x7f\x80\xff{}[]\",:\\u0123456789-+.eE \n\tntf";

fn mutate(rng: &mut Rng, a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut v = a.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                let n = 1 + rng.below((v.len() - i).min(16));
                v.drain(i..i + n);
            }
            4 if !v.is_empty() => {
                // Repeat a chunk (long strings, deep nesting, big counts).
                let i = rng.below(v.len());
                let n = 1 + rng.below((v.len() - i).min(8));
                let chunk = v[i..i + n].to_vec();
                for _ in 0..1 + rng.below(64) {
                    v.splice(i..i, chunk.iter().copied());
                }
            }
            5 if !b.is_empty() => {
                // Splice with another input.
                let i = rng.below(v.len() + 1);
                let j = rng.below(b.len());
                v.truncate(i);
                v.extend_from_slice(&b[j..]);
            }
            _ => {
                let i = rng.below(v.len() + 1);
                v.truncate(i);
            }
        }
    }
    v
}

#[test]
fn every_fuzz_target_holds_on_its_corpus_regressions_and_mutations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, check) in checks::TARGETS {
        let corpus = inputs(&root.join("corpus").join(name));
        let regressions = inputs(&root.join("regressions").join(name));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{name} is empty: the smoke run needs the committed corpus"
        );
        for (path, data) in corpus.iter().chain(&regressions) {
            let r = std::panic::catch_unwind(|| check(data));
            assert!(r.is_ok(), "{name}: {} fails", path.display());
        }
        let all: Vec<&[u8]> = corpus
            .iter()
            .chain(&regressions)
            .map(|(_, d)| d.as_slice())
            .collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        let n = mutations(name);
        for i in 0..n {
            let a = all[rng.below(all.len())];
            let b = all[rng.below(all.len())];
            let data = mutate(&mut rng, a, b);
            let r = std::panic::catch_unwind(|| check(&data));
            assert!(
                r.is_ok(),
                "{name}: mutation {i} fails; input (hex): {}",
                data.iter().map(|b| format!("{b:02x}")).collect::<String>()
            );
        }
        eprintln!(
            "{name}: {} corpus, {} regression(s), {n} mutations: ok",
            corpus.len(),
            regressions.len()
        );
    }
}

// ---------------------------------------------------------------------------
// The seed corpus: written once by
// `cargo test --test fuzz_smoke -- --ignored write_seed_corpus`, then grown
// by `make fuzz` (coverage-guided) and minimized (`cargo fuzz cmin`).
// ---------------------------------------------------------------------------

fn zigzag(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        let b = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
}

fn avro_str(out: &mut Vec<u8>, s: &[u8]) {
    zigzag(out, s.len() as i64);
    out.extend_from_slice(s);
}

/// The four required strings of every fuzz writer schema.
fn avro_head(created_at: &str) -> Vec<u8> {
    let mut d = Vec::new();
    avro_str(&mut d, b"T-1");
    avro_str(&mut d, b"C-1");
    avro_str(&mut d, created_at.as_bytes());
    avro_str(&mut d, b"Login broken since the upgrade");
    d
}

#[test]
#[ignore = "writes the seed corpus into fuzz/corpus (run by hand)"]
fn write_seed_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<(&str, String, Vec<u8>)> = Vec::new();
    let mut add = |t: &'static str, name: &str, b: Vec<u8>| seeds.push((t, name.to_string(), b));

    // JSON tickets: the examples, then hostile shapes.
    let examples = std::fs::read_to_string(root.join("examples/tickets.jsonl")).unwrap();
    for (i, l) in examples.lines().enumerate().step_by(4) {
        add(
            "json_ticket",
            &format!("example-{i}"),
            l.as_bytes().to_vec(),
        );
    }
    let base = r#""ticket_id":"T-1","customer_id":"C-1","created_at":"2026-11-24T10:00:00Z","subject":"Cannot log in""#;
    let hostile: Vec<(&str, String)> = vec![
        (
            "array",
            r#"["T-1","C-1","2026-11-24T10:00:00Z","sub}ject"]"#.into(),
        ),
        ("string", r#""just a string""#.into()),
        ("number", "12345".into()),
        ("null", "null".into()),
        ("bool", "true".into()),
        ("empty-object", "{}".into()),
        (
            "triage-key",
            format!(r#"{{{base},"triage":{{"priority":"P1"}}}}"#),
        ),
        ("duplicate-key", format!(r#"{{{base},"subject":"again"}}"#)),
        ("lone-surrogate", format!(r#"{{{base},"x":"\ud800"}}"#)),
        ("huge-number", format!(r#"{{{base},"x":1e999}}"#)),
        (
            "big-int",
            format!(r#"{{{base},"affected_users":123456789012345678901234567890}}"#),
        ),
        ("negative", format!(r#"{{{base},"affected_users":-1}}"#)),
        (
            "deep",
            format!(r#"{{{base},"x":{}{}}}"#, "[".repeat(200), "]".repeat(200)),
        ),
        ("tags", format!(r#"{{{base},"tags":["a","b","\u0000"]}}"#)),
        (
            "custom",
            format!(r#"{{{base},"custom_fields":{{"plan":"x","n":1.5,"b":true,"bad":[1]}}}}"#),
        ),
        (
            "requester",
            format!(r#"{{{base},"requester":{{"email":"a@b.c","name":5}}}}"#),
        ),
        (
            "nul-and-controls",
            format!("{{{base},\"body\":\"a\\u0000b\\u001fc\\t\"}}"),
        ),
        ("bom", format!("\u{feff}{{{base}}}")),
        ("trailing", format!("{{{base}}} x")),
        ("whitespace", format!(" \n{{ {base} }}\n ")),
        (
            "bad-time",
            r#"{"ticket_id":"T","customer_id":"C","created_at":"yesterday","subject":"s"}"#.into(),
        ),
        (
            "priority",
            format!(r#"{{{base},"reported_priority":"urgent","channel":"chat"}}"#),
        ),
    ];
    for (n, s) in hostile {
        add("json_ticket", n, s.into_bytes());
    }
    add(
        "json_ticket",
        "not-utf8",
        b"{\"ticket_id\":\"T-\xff\"}".to_vec(),
    );

    // Avro: a whole frame of the bundled schema (pick byte 0), then datums
    // for each fuzz writer schema (pick = index + 1 … see checks.rs).
    let codec = triage::codec::avro::AvroCodec::bundled();
    for (i, l) in examples.lines().enumerate().step_by(8) {
        let mut f = Vec::new();
        if codec.encode_ticket_from_json(l.as_bytes(), &mut f).is_ok() {
            add("avro_ticket", &format!("frame-{i}"), f);
        }
    }
    for pick in 1u8..=5 {
        let idx = (pick as usize) % checks::WRITER_SCHEMAS.len();
        let mut d = vec![pick];
        d.extend(avro_head("2026-11-24T10:00:00Z"));
        match idx {
            0 => {
                // Bundled ticket schema: body, channel … all null (branch 0).
                d.extend(std::iter::repeat_n(0u8, 12));
            }
            1 => {
                // array<null> of 60000 items, then an empty-record array.
                zigzag(&mut d, 60_000);
                zigzag(&mut d, 0);
                zigzag(&mut d, 3);
                zigzag(&mut d, 0);
            }
            2 => {
                // A small tree: one kid with no kids, label "x".
                zigzag(&mut d, 1);
                zigzag(&mut d, 0);
                zigzag(&mut d, 1);
                avro_str(&mut d, b"x");
                zigzag(&mut d, 0);
                zigzag(&mut d, 0);
            }
            3 => {
                zigzag(&mut d, 1);
                avro_str(&mut d, b"vip");
                zigzag(&mut d, 0);
                zigzag(&mut d, 1);
                avro_str(&mut d, b"plan");
                zigzag(&mut d, 3);
                avro_str(&mut d, b"gold");
                zigzag(&mut d, 0);
                zigzag(&mut d, 1);
                avro_str(&mut d, b"k");
                zigzag(&mut d, 1000);
                zigzag(&mut d, 0);
                zigzag(&mut d, 0);
            }
            _ => {
                d.truncate(1);
                avro_str(&mut d, b"T-1");
                avro_str(&mut d, b"C-1");
                avro_str(&mut d, b"2026-11-24T10:00:00Z");
                zigzag(&mut d, 1);
                avro_str(&mut d, b"subject");
                zigzag(&mut d, 1);
                zigzag(&mut d, 5);
                zigzag(&mut d, 1);
                d.extend_from_slice(&1.5f32.to_le_bytes());
            }
        }
        add("avro_ticket", &format!("schema-{idx}"), d);
    }

    // Customers: "key\nvalue" or a bare value.
    let customers = std::fs::read_to_string(root.join("examples/customers.jsonl")).unwrap();
    for (i, l) in customers.lines().enumerate().step_by(3) {
        add("customer", &format!("example-{i}"), l.as_bytes().to_vec());
    }
    add("customer", "tombstone", b"C-1\n".to_vec());
    add("customer", "array", b"[\"C-1\",\"enterprise\"]".to_vec());
    add(
        "customer",
        "bad-arr",
        br#"{"customer_id":"C-1","account_type":"enterprise","arr":"a lot of money"}"#.to_vec(),
    );
    add(
        "customer",
        "key-not-utf8",
        b"C-\xff\n{\"customer_id\":\"C-1\"}".to_vec(),
    );

    // Lifecycle events and triaged records.
    for f in ["lifecycle_event.json", "triaged_ticket.json"] {
        let b = std::fs::read(root.join("schemas/examples").join(f)).unwrap();
        add("lifecycle", f, b);
    }
    add(
        "lifecycle",
        "bad-kind",
        br#"{"ticket_id":"T-1","event":"exploded","at":"2026-11-24T10:00:00Z"}"#.to_vec(),
    );
    add(
        "lifecycle",
        "avro-junk",
        b"\x00\x00\x00\x00\x07\xff\xff\xff".to_vec(),
    );

    // Rules files: the shipped policy, its tests file, and small broken ones.
    add(
        "rules_file",
        "shipped",
        std::fs::read(root.join("config/rules.toml")).unwrap(),
    );
    add("rules_file", "empty", Vec::new());
    add(
        "rules_file",
        "levels-only",
        b"[[levels]]\nname = \"P1\"\nmin_score = 10\ntopic = \"t\"\n".to_vec(),
    );
    add("rules_file", "bad-toml", b"[[levels]\nname = ".to_vec());

    for (t, name, bytes) in seeds {
        let dir = root.join("fuzz/corpus").join(t);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}
