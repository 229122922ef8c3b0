//! The engine alone, one core: decode + enrich + triage + encode of realistic
//! ~1 KB tickets (from `triage_lab::gen`, seed 1) against a 100,000-customer
//! table and the shipped `config/rules.toml`. Throughput is in tickets
//! (elements) per second; the target is ≥ 500,000 tickets/s per core for the
//! JSON path (issue 2).
//!
//! ```text
//! cargo bench --bench engine                 # everything
//! cargo bench --bench engine -- json/full    # one benchmark
//! ```
//!
//! Benchmarks (each iteration is one ticket; the batch is cycled, so caches
//! see 10,000 different tickets, as a service would):
//! - `json/full`: the service's own per-ticket function
//!   (`triage_core::process::process`): size checks, decode, look up the
//!   customer, triage (with level and category indices and the share of the
//!   first-response target used), encode — what the service does per record
//!   minus Kafka and metrics.
//! - `json/full_html`: `json/full` on the same tickets with the body sent as
//!   HTML mail (escaped, `<br>` lines, Gmail's reply markup quoting an
//!   earlier message); `json/html_text`: reading such a body as text alone
//!   (`triage::html::text`).
//! - `json/parts`: decode, lookup, triage and encode called one by one, as
//!   `json/full` was defined until the benchmark and the service shared one
//!   function (kept beside it to compare the two definitions in one run).
//! - `json/decode`, `json/lookup`, `json/triage`, `json/encode`: the parts.
//! - `avro/full`, `avro/decode`, `avro/encode`: the same with Confluent Avro
//!   frames in and out.
//! - `threads/json_round_1`, `threads/json_round_2`: `json/full` over rounds
//!   of 256 tickets on 1 and 2 threads of the service's own round pool
//!   (`workers`; the payloads copied for the helper as the service does);
//!   throughput in tickets, so the ratio is the scaling. `threads/json_halves_2`:
//!   the same rounds split into fixed halves instead, what the pool replaced.
//! - `floor/…`: the same tickets through the crates underneath with no
//!   triage semantics — serde_json skipping the whole record, aho-corasick's
//!   own overlapping search for the rules' phrases, one trivial pass over
//!   the text — the least a decode or a phrase search costs here.
//!
//! Profiling without criterion's statistics (fixed work, for callgrind):
//! `ENGINE_PROFILE=json/full:20000 target/release/deps/engine-… --bench`
//! runs that stage over 20,000 tickets and exits; subtract a run with `:0`
//! to remove the set-up from instruction counts.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use jiff::Timestamp;
use triage::codec::avro::{AvroCodec, AvroTicket};
use triage::codec::{json, Codec, Format};
use triage::customers::Interner;
use triage::engine::{triage_with, Scratch};
use triage::model::Triage;
use triage::process::{process, Limits, Outcome};
use triage::rules::Rules;
use triage::service::rounds::Pool;
use triage::service::CustomerTable;
use triage_lab::gen::{self, TicketSpec};

const TICKETS: usize = 10_000;
const CUSTOMERS: u64 = 100_000;
/// Tickets per round in the `threads` group (the service's round at most).
const ROUND: usize = 256;

struct Fixture {
    rules: Rules,
    table: CustomerTable,
    json: Vec<Vec<u8>>,
    /// The same tickets with the body sent as HTML mail: a Gmail reply
    /// quoting the support team's last message.
    html: Vec<Vec<u8>>,
    avro: Vec<Vec<u8>>,
    codec: Arc<AvroCodec>,
    wire_json: Codec,
    wire_avro: Codec,
    now: Timestamp,
}

fn fixture() -> Fixture {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = triage::files::load_rules(&root.join("config/rules.toml"))
        .unwrap_or_else(|d| panic!("config/rules.toml: {d:?}"))
        .rules;
    let base: Timestamp = "2026-11-02T12:00:00Z".parse().unwrap();
    let spec = TicketSpec::new(1, CUSTOMERS, base);
    let table = CustomerTable::default();
    let mut interner = Interner::default();
    for i in 0..CUSTOMERS {
        let c = gen::customer(1, i);
        table.upsert(&c.customer_id, interner.profile(&c));
    }
    let codec = AvroCodec::bundled();
    let mut json = Vec::with_capacity(TICKETS);
    let mut avro = Vec::with_capacity(TICKETS);
    let mut scratch = Vec::new();
    for i in 0..TICKETS as u64 {
        let mut j = Vec::with_capacity(2048);
        gen::ticket_json(&spec, i, &mut j);
        let mut a = Vec::with_capacity(2048);
        gen::ticket_avro(&spec, &codec, i, &mut scratch, &mut a);
        json.push(j);
        avro.push(a);
    }
    let codec = Arc::new(codec);
    let html = json.iter().map(|j| as_html_mail(j)).collect();
    Fixture {
        rules,
        table,
        json,
        html,
        avro,
        wire_json: Codec::json(),
        wire_avro: Codec::new(Format::Avro, Format::Avro, Some(codec.clone())),
        codec,
        // An hour after the newest ticket: ageing points vary.
        now: "2026-11-02T13:00:00Z".parse().unwrap(),
    }
}

/// The JSON ticket `j` with its body as a mail client sends it in HTML: the
/// text escaped, its lines as `<br>`, in Gmail's reply markup quoting an
/// earlier message.
fn as_html_mail(j: &[u8]) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(j).expect("generated JSON");
    let body = v["body"].as_str().unwrap_or("");
    let mut text = String::with_capacity(body.len() + 64);
    for c in body.chars() {
        match c {
            '&' => text.push_str("&amp;"),
            '<' => text.push_str("&lt;"),
            '>' => text.push_str("&gt;"),
            '\'' => text.push_str("&#39;"),
            '"' => text.push_str("&quot;"),
            '\n' => text.push_str("<br>"),
            c => text.push(c),
        }
    }
    let html = format!(
        "<div dir=\"ltr\">{text}</div><br><div class=\"gmail_quote\"><div dir=\"ltr\" \
         class=\"gmail_attr\">On Mon, Nov 2, 2026 at 9:14 AM Support &lt;support@example.com&gt; \
         wrote:<br></div><blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;\
         border-left:1px solid rgb(204,204,204);padding-left:1ex\"><div dir=\"ltr\">Hello,<br>\
         <br>Thanks for your patience: we are looking into it and will get back to you.<br><br>\
         Best regards,<br>Support</div></blockquote></div>"
    );
    v["body"] = serde_json::Value::String(html);
    serde_json::to_vec(&v).expect("serializes")
}

/// `json_full` as the round pool's work.
fn json_work(f: &Fixture, scratch: &mut Scratch, input: &[u8], out: &mut Vec<u8>) {
    json_full(f, input, scratch, out);
}

/// The service's per-ticket function ([`process`]) on one record: size check,
/// decode, customer lookup, triage with level/category indices and the SLA
/// fraction, encode, size check.
#[inline(always)]
fn full(
    f: &Fixture,
    codec: &Codec,
    input: &[u8],
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> usize {
    let limits = Limits {
        max_input_bytes: 1_048_576,
        max_output_bytes: 1_048_576,
    };
    match process(
        codec, &f.rules, &f.table, input, f.now, limits, scratch, out,
    ) {
        Outcome::Triaged(t) => out.len() + t.level as usize,
        Outcome::Dead(e) => panic!("generated tickets triage: {e}"),
    }
}

/// [`full`] on a JSON ticket.
#[inline(always)]
fn json_full(f: &Fixture, input: &[u8], scratch: &mut Scratch, out: &mut Vec<u8>) -> usize {
    full(f, &f.wire_json, input, scratch, out)
}

/// Decode + lookup + triage + encode of one JSON ticket, called one by one:
/// what `json/full` measured until the per-ticket function was shared with
/// the service (without its size checks, indices and SLA fraction).
#[inline(always)]
fn json_parts(f: &Fixture, input: &[u8], scratch: &mut Scratch, out: &mut Vec<u8>) -> usize {
    let d = json::decode_ticket(input).expect("generated tickets are valid");
    let lookup = f.table.lookup(&d.ticket.customer_id);
    let t = triage_with(&f.rules, &d.ticket, lookup.get(), f.now, scratch);
    drop(lookup);
    out.clear();
    json::encode_triaged(input, d.had_triage, &t, out).expect("encodes");
    out.len()
}

#[inline(always)]
fn avro_full(f: &Fixture, input: &[u8], scratch: &mut Scratch, out: &mut Vec<u8>) -> usize {
    full(f, &f.wire_avro, input, scratch, out)
}

/// One ticket per iteration, cycling through `inputs`, each through `run`
/// (a per-ticket function with its scratch and output buffer).
fn cycle(
    b: &mut criterion::Bencher<'_>,
    f: &Fixture,
    inputs: &[Vec<u8>],
    mut run: impl FnMut(&Fixture, &[u8], &mut Scratch, &mut Vec<u8>) -> usize,
) {
    let (mut scratch, mut out, mut i) = (Scratch::default(), Vec::with_capacity(8192), 0);
    b.iter(|| {
        i = (i + 1) % inputs.len();
        black_box(run(f, &inputs[i], &mut scratch, &mut out))
    })
}

/// A field of each JSON ticket of `inputs`, decoded once before measuring.
fn each_decoded<T>(inputs: &[Vec<u8>], pick: impl Fn(triage::model::Ticket<'_>) -> T) -> Vec<T> {
    inputs
        .iter()
        .map(|j| {
            pick(
                json::decode_ticket(j)
                    .expect("generated tickets decode")
                    .ticket,
            )
        })
        .collect()
}

fn triaged(f: &Fixture) -> Vec<Triage> {
    let mut scratch = Scratch::default();
    f.json
        .iter()
        .map(|input| {
            let d = json::decode_ticket(input).unwrap();
            let lookup = f.table.lookup(&d.ticket.customer_id);
            triage_with(&f.rules, &d.ticket, lookup.get(), f.now, &mut scratch)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let f = Arc::new(fixture());
    let mean = f.json.iter().map(Vec::len).sum::<usize>() / f.json.len();
    let mean_avro = f.avro.iter().map(Vec::len).sum::<usize>() / f.avro.len();
    eprintln!(
        "engine bench: {} tickets (JSON mean {mean} B, Avro mean {mean_avro} B), {} customers",
        f.json.len(),
        f.table.len()
    );
    let n = f.json.len();

    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("full", |b| cycle(b, &f, &f.json, json_full));
    // The same tickets sent as HTML mail (`Fixture::html`): what reading
    // the markup as text costs, as a ratio to `full` in the same run.
    g.bench_function("full_html", |b| cycle(b, &f, &f.html, json_full));
    g.bench_function("html_text", |b| {
        let bodies = each_decoded(&f.html, |t| t.body.unwrap_or_default().into_owned());
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % n;
            black_box(triage::html::text(&bodies[i]).len())
        })
    });
    g.bench_function("parts", |b| cycle(b, &f, &f.json, json_parts));
    g.bench_function("decode", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % n;
            let d = json::decode_ticket(black_box(&f.json[i])).unwrap();
            black_box(d.ticket.created_at)
        })
    });
    g.bench_function("lookup", |b| {
        let ids = each_decoded(&f.json, |t| t.customer_id.into_owned());
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % n;
            let l = f.table.lookup(black_box(&ids[i]));
            black_box(l.get().map(|p| p.vip))
        })
    });
    {
        let decoded: Vec<json::Decoded<'_>> = f
            .json
            .iter()
            .map(|j| json::decode_ticket(j).unwrap())
            .collect();
        g.bench_function("triage", |b| {
            let (mut scratch, mut i) = (Scratch::default(), 0);
            b.iter(|| {
                i = (i + 1) % n;
                let d = &decoded[i];
                let lookup = f.table.lookup(&d.ticket.customer_id);
                let t = triage_with(&f.rules, &d.ticket, lookup.get(), f.now, &mut scratch);
                black_box(t.score)
            })
        });
    }
    {
        // The cost of semantic categories (example sentences embedded and
        // compared per ticket), measured in the same run: the shipped rules
        // and the same rules without their examples (phrases only).
        let decoded: Vec<json::Decoded<'_>> = f
            .json
            .iter()
            .map(|j| json::decode_ticket(j).unwrap())
            .collect();
        let mut phrases_only = f.rules.clone();
        phrases_only.semantic = None;
        g.bench_function("triage_phrases_only", |b| {
            let (mut scratch, mut i) = (Scratch::default(), 0);
            b.iter(|| {
                i = (i + 1) % n;
                let d = &decoded[i];
                let lookup = f.table.lookup(&d.ticket.customer_id);
                let t = triage_with(&phrases_only, &d.ticket, lookup.get(), f.now, &mut scratch);
                black_box(t.score)
            })
        });
    }
    let triages = triaged(&f);
    g.bench_function("encode", |b| {
        let (mut out, mut i) = (Vec::with_capacity(8192), 0);
        b.iter(|| {
            i = (i + 1) % n;
            out.clear();
            json::encode_triaged(&f.json[i], false, &triages[i], &mut out).expect("encodes");
            black_box(out.len())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("avro");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("full", |b| cycle(b, &f, &f.avro, avro_full));
    g.bench_function("decode", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % n;
            let a = f.codec.decode_ticket(black_box(&f.avro[i])).unwrap();
            black_box(a.ticket().created_at)
        })
    });
    let decoded: Vec<AvroTicket> = f
        .avro
        .iter()
        .map(|a| f.codec.decode_ticket(a).unwrap())
        .collect();
    g.bench_function("encode", |b| {
        let (mut out, mut i) = (Vec::with_capacity(8192), 0);
        b.iter(|| {
            i = (i + 1) % n;
            out.clear();
            f.codec
                .encode_triaged(&decoded[i], &triages[i], &mut out)
                .unwrap();
            black_box(out.len())
        })
    });
    g.finish();

    // Floors: what the same bytes cost through the crates underneath, with
    // no triage semantics — the least a JSON decode or a phrase search could
    // cost here. Read next to json/decode and json/triage.
    // Rounds of 256 tickets on 1 and 2 threads through the service's own
    // round pool (`workers`): blocks of 8 claimed by each thread. Beside it,
    // what the pool replaced: each thread given a fixed half (spawned per
    // round), to show why claiming.
    let mut g = c.benchmark_group("threads");
    g.throughput(Throughput::Elements(ROUND as u64));
    g.measurement_time(Duration::from_secs(5));
    let slices: Vec<&[u8]> = f.json.iter().map(Vec::as_slice).collect();
    for k in [1usize, 2] {
        g.bench_function(format!("json_round_{k}"), |b| {
            let mut pool = Pool::new(f.clone(), k, "bench", json_work);
            let mut start = 0;
            b.iter(|| {
                start = (start + ROUND) % (n - ROUND);
                let results = pool.run(&slices[start..start + ROUND]);
                black_box(results.iter().map(Vec::len).sum::<usize>());
                pool.recycle(results);
            })
        });
    }
    g.bench_function("json_halves_2", |b| {
        let mut state: Vec<(Scratch, Vec<u8>)> = (0..2)
            .map(|_| (Scratch::default(), Vec::with_capacity(8192)))
            .collect();
        let mut start = 0;
        b.iter(|| {
            start = (start + ROUND) % (n - ROUND);
            let batch = &f.json[start..start + ROUND];
            let f = &*f;
            let [(s0, o0), (s1, o1)] = &mut state[..] else {
                unreachable!()
            };
            let (first, second) = batch.split_at(ROUND / 2);
            std::thread::scope(|s| {
                let h = s.spawn(move || {
                    second
                        .iter()
                        .map(|t| json_full(f, t, s1, o1))
                        .sum::<usize>()
                });
                let total: usize = first.iter().map(|t| json_full(f, t, s0, o0)).sum();
                black_box(total + h.join().expect("no panic"))
            })
        })
    });
    g.finish();

    let mut g = c.benchmark_group("floor");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("serde_json_skip", |b| {
        // serde_json parsing the ticket and keeping nothing.
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % n;
            let v: serde::de::IgnoredAny = serde_json::from_slice(black_box(&f.json[i])).unwrap();
            black_box(v)
        })
    });
    {
        let texts: Vec<String> = f
            .json
            .iter()
            .map(|j| {
                let d = json::decode_ticket(j).unwrap();
                format!(
                    "{} {}",
                    d.ticket.subject,
                    d.ticket.body.as_deref().unwrap_or("")
                )
            })
            .collect();
        let phrases: Vec<&str> = f.rules.detector.phrases().map(|(p, _)| p).collect();
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&phrases)
            .unwrap();
        g.bench_function("aho_corasick_overlapping", |b| {
            // The crate's own overlapping search for the rules' phrases over
            // subject and body: counting matches, no boundaries, no families.
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % n;
                black_box(ac.find_overlapping_iter(black_box(&texts[i])).count())
            })
        });
        g.bench_function("byte_pass", |b| {
            // One pass over the same text doing almost nothing per byte.
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % n;
                black_box(texts[i].bytes().filter(|&c| c == b'!').count())
            })
        });
    }
    g.finish();
}

/// `ENGINE_PROFILE=<stage>:<tickets>`: fixed work for callgrind / perf.
/// Only [`run_stage`] does the measured work, so
/// `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*run_stage*'`
/// counts nothing of the set-up.
fn profile(spec: &str) {
    let (stage, count) = spec.split_once(':').unwrap_or((spec, "20000"));
    let count: usize = count.parse().expect("ENGINE_PROFILE=<stage>:<tickets>");
    let f = fixture();
    let decoded: Vec<json::Decoded<'_>> = f
        .json
        .iter()
        .map(|j| json::decode_ticket(j).unwrap())
        .collect();
    let triages = triaged(&f);
    let sum = run_stage(&f, stage, count, &decoded, &triages);
    eprintln!("{stage}: {count} tickets, checksum {sum}");
}

#[inline(never)]
fn run_stage(
    f: &Fixture,
    stage: &str,
    count: usize,
    decoded: &[json::Decoded<'_>],
    triages: &[Triage],
) -> usize {
    let n = f.json.len();
    let (mut scratch, mut out) = (Scratch::default(), Vec::with_capacity(8192));
    let mut sum = 0usize;
    match stage {
        "json/full" => {
            for i in 0..count {
                sum += json_full(f, &f.json[i % n], &mut scratch, &mut out);
            }
        }
        "json/full_html" => {
            for i in 0..count {
                sum += json_full(f, &f.html[i % n], &mut scratch, &mut out);
            }
        }
        "json/parts" => {
            for i in 0..count {
                sum += json_parts(f, &f.json[i % n], &mut scratch, &mut out);
            }
        }
        "json/decode" => {
            for i in 0..count {
                sum += json::decode_ticket(&f.json[i % n])
                    .unwrap()
                    .ticket
                    .subject
                    .len();
            }
        }
        "json/triage" => {
            for i in 0..count {
                let d = &decoded[i % n];
                let lookup = f.table.lookup(&d.ticket.customer_id);
                sum += triage_with(&f.rules, &d.ticket, lookup.get(), f.now, &mut scratch).score
                    as usize;
            }
        }
        "json/encode" => {
            for i in 0..count {
                out.clear();
                json::encode_triaged(&f.json[i % n], false, &triages[i % n], &mut out)
                    .expect("encodes");
                sum += out.len();
            }
        }
        "avro/full" => {
            for i in 0..count {
                sum += avro_full(f, &f.avro[i % n], &mut scratch, &mut out);
            }
        }
        other => panic!("unknown stage {other}"),
    }
    sum
}

fn main() {
    if let Ok(spec) = std::env::var("ENGINE_PROFILE") {
        profile(&spec);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
