//! The bad-input matrix against the real broker (Apache Kafka): dozens of
//! kinds of hostile records interleaved with good tickets on several
//! partitions. Every bad one must reach the dead-letter topic with the right
//! reason (its value unchanged, or cut with headers saying so when the
//! dead-letter topic refuses it whole), every good one must be triaged into
//! output that parses, the service must stay up, and the committed offsets
//! must reach the end of every partition. Bad customer records are counted
//! and skipped. Plus the flood: many records, half of them bad, nothing lost
//! (its throughput against an all-good run is a benchmark figure in
//! BENCHMARKS.md, printed here, never asserted).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;

/// What must become of a record.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Triaged: on a level topic, parses, keeps the input's fields.
    Good,
    /// Dead-lettered with this reason, value unchanged.
    Dead(&'static str),
    /// Dead-lettered with this reason; the dead-letter topic refused it
    /// whole, so it came again cut to its first 64 KiB.
    DeadCut(&'static str),
}

struct Case {
    name: &'static str,
    value: Option<Vec<u8>>,
    expect: Expect,
}

const T: &str = r#""customer_id":"C-1","created_at":"2026-11-24T10:00:00Z""#;

fn ticket(id: &str, extra: &str) -> Vec<u8> {
    format!(r#"{{"ticket_id":"{id}",{T},"subject":"Invoice question"{extra}}}"#).into_bytes()
}

/// The hostile kinds (each with the key `B-<n>`; the ticket id inside, when
/// there is one, is the key too).
fn bad_cases() -> Vec<Case> {
    use Expect::*;
    let c = |name, value: Vec<u8>, expect| Case {
        name,
        value: Some(value),
        expect,
    };
    let deep = format!(r#","x":{}{}"#, "[".repeat(300), "]".repeat(300));
    let many_tags = format!(r#","tags":[{}]"#, vec!["\"t\""; 2_000].join(","));
    let many_fields = format!(
        r#","custom_fields":{{{}}}"#,
        (0..2_000)
            .map(|i| format!("\"f{i}\":1"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut avro_frame = vec![0u8, 0, 0, 0, 1];
    avro_frame.extend_from_slice(b"\x06T-1\x06C-1");
    vec![
        // JSON values that are not objects.
        c(
            "array in field order",
            br#"["B","C-1","2026-11-24T10:00:00Z","subject"]"#.to_vec(),
            Dead("schema_error"),
        ),
        c(
            "array with a brace",
            br#"["B","C-1","2026-11-24T10:00:00Z","sub}ject"]"#.to_vec(),
            Dead("schema_error"),
        ),
        c(
            "string",
            br#""a ticket as a string""#.to_vec(),
            Dead("schema_error"),
        ),
        c("number", b"42".to_vec(), Dead("schema_error")),
        c("boolean", b"true".to_vec(), Dead("schema_error")),
        c("null", b"null".to_vec(), Dead("schema_error")),
        c("empty object", b"{}".to_vec(), Dead("schema_error")),
        Case {
            name: "tombstone",
            value: None,
            expect: Dead("decode_error"),
        },
        c("empty value", Vec::new(), Dead("decode_error")),
        // Encodings.
        c(
            "invalid UTF-8 in subject",
            bad_utf8_subject(),
            Dead("decode_error"),
        ),
        c(
            "invalid UTF-8 in an unknown field",
            {
                let mut v = ticket("B", r#","x":"#).to_vec();
                v.truncate(v.len() - 1);
                v.extend_from_slice(b"\"\xff\xfe\"}");
                v
            },
            Dead("decode_error"),
        ),
        c(
            "raw NUL in a string",
            format!("{{\"ticket_id\":\"B\",{T},\"subject\":\"a\0b\"}}").into_bytes(),
            Dead("decode_error"),
        ),
        c(
            "raw control character",
            format!("{{\"ticket_id\":\"B\",{T},\"subject\":\"a\u{1b}b\"}}").into_bytes(),
            Dead("decode_error"),
        ),
        c(
            "lone surrogate in subject",
            format!(r#"{{"ticket_id":"B",{T},"subject":"\ud800"}}"#).into_bytes(),
            Dead("decode_error"),
        ),
        c(
            "lone surrogate in an unknown field",
            ticket("B", r#","x":"\udc00x""#),
            Dead("decode_error"),
        ),
        c(
            "byte-order mark",
            [b"\xef\xbb\xbf".as_slice(), &ticket("B", "")].concat(),
            Dead("decode_error"),
        ),
        c(
            "trailing garbage",
            [ticket("B", "").as_slice(), b" }"].concat(),
            Dead("decode_error"),
        ),
        c(
            "truncated",
            ticket("B", "")[..40].to_vec(),
            Dead("decode_error"),
        ),
        c(
            "not JSON at all",
            b"<ticket>B</ticket>".to_vec(),
            Dead("decode_error"),
        ),
        c(
            "Avro frame on a JSON topic",
            avro_frame,
            Dead("decode_error"),
        ),
        // Shapes.
        c(
            "duplicate key",
            ticket("B", r#","subject":"again""#),
            Dead("schema_error"),
        ),
        c(
            "missing required field",
            br#"{"ticket_id":"B","created_at":"2026-11-24T10:00:00Z","subject":""}"#.to_vec(),
            Dead("schema_error"),
        ),
        c(
            "wrong type",
            format!(r#"{{"ticket_id":7,{T},"subject":""}}"#).into_bytes(),
            Dead("schema_error"),
        ),
        c(
            "requester as an array",
            ticket("B", r#","requester":["a","b"]"#),
            Dead("schema_error"),
        ),
        c("2,000 tags", ticket("B", &many_tags), Dead("schema_error")),
        c(
            "2,000 custom fields",
            ticket("B", &many_fields),
            Dead("schema_error"),
        ),
        c(
            "custom field holding an array",
            ticket("B", r#","custom_fields":{"a":[1]}"#),
            Dead("schema_error"),
        ),
        // Numbers and nesting.
        c(
            "number out of range",
            ticket("B", r#","x":1e999"#),
            Dead("decode_error"),
        ),
        c(
            "huge integer",
            ticket("B", r#","affected_users":123456789012345678901234567890"#),
            Dead("invalid_field"),
        ),
        c(
            "negative count",
            ticket("B", r#","affected_users":-1"#),
            Dead("invalid_field"),
        ),
        c("nesting 300 deep", ticket("B", &deep), Dead("decode_error")),
        // Fields.
        c(
            "bad timestamp",
            br#"{"ticket_id":"B","customer_id":"C-1","created_at":"yesterday","subject":""}"#
                .to_vec(),
            Dead("invalid_field"),
        ),
        c(
            "bad reported priority",
            ticket("B", r#","reported_priority":"asap""#),
            Dead("invalid_field"),
        ),
        c(
            "blank ticket id",
            format!(r#"{{"ticket_id":"  ",{T},"subject":""}}"#).into_bytes(),
            Dead("invalid_field"),
        ),
        // Sizes: above max_message_bytes (1 MiB) and above the producer's
        // own limit, so the dead letter is refused at once and sent cut.
        c(
            "1.5 MB record",
            ticket("B", &format!(r#","body":"{}""#, "y".repeat(1_500_000))),
            DeadCut("too_large"),
        ),
        // Under max_message_bytes, but its triaged record is over the
        // output topics' limit (64 KiB) and the dead letter over the
        // dead-letter topic's (300 kB): refused twice by the broker.
        c(
            "500 kB record",
            ticket("B", &format!(r#","body":"{}""#, "z".repeat(500_000))),
            DeadCut("too_large"),
        ),
        // Refused output only: 100 kB, dead-lettered whole.
        c(
            "100 kB record",
            ticket("B", &format!(r#","body":"{}""#, "w".repeat(100_000))),
            Dead("too_large"),
        ),
    ]
}

/// A ticket whose subject has a byte that is not UTF-8 (Latin-1 é).
fn bad_utf8_subject() -> Vec<u8> {
    format!(r#"{{"ticket_id":"B",{T},"subject":"caf#"}}"#)
        .into_bytes()
        .into_iter()
        .map(|b| if b == b'#' { 0xe9 } else { b })
        .collect()
}

/// Good tickets that look odd but are valid.
fn odd_good() -> Vec<(&'static str, String)> {
    vec![
        ("escaped controls", r#","body":"a\u0000b\u001bc\n""#.into()),
        ("brace in subject", r#","x":"}}}""#.into()),
        (
            "a triage key to replace",
            r#","triage":{"priority":"P1"}"#.into(),
        ),
        (
            "unknown nested fields",
            r#","meta":{"a":[1,2,{"b":null}],"c":-0.5e-3}"#.into(),
        ),
        ("valid surrogate pair", r#","x":"\ud83d\ude00""#.into()),
        (
            "requester",
            r#","requester":{"name":"N","email":"e@x"}"#.into(),
        ),
    ]
}

/// Creates the test's topics: 3 input partitions; output topics that take
/// at most 64 KiB, a dead-letter topic that takes at most 300 kB.
async fn topics(b: &str, names: &Names, input_partitions: i32) {
    let mut specs: Vec<TopicSpec<'_>> = vec![
        (names.input.clone(), input_partitions, vec![]),
        (
            names.customers.clone(),
            2,
            vec![("cleanup.policy", "compact")],
        ),
        (names.dlq.clone(), 1, vec![("max.message.bytes", "300000")]),
    ];
    for o in &names.outputs {
        specs.push((o.clone(), 2, vec![("max.message.bytes", "65536")]));
    }
    create_configured(b, &specs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_record_is_dead_lettered_with_its_reason_and_every_good_one_triaged() {
    let b = broker();
    let names = Names::new("matrix");
    topics(b, &names, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), &names);

    // Bad customer records first: counted and skipped, the table goes on.
    let p = producer(b);
    let bad_customers: Vec<(String, Option<Vec<u8>>)> = vec![
        (
            "C-1".into(),
            Some(br#"{"customer_id":"C-1","account_type":"enterprise","vip":true}"#.to_vec()),
        ),
        ("C-2".into(), Some(b"[\"C-2\",\"enterprise\"]".to_vec())),
        ("C-3".into(), Some(b"not json".to_vec())),
        (
            "C-4".into(),
            Some(br#"{"customer_id":"C-4","arr":"lots"}"#.to_vec()),
        ),
        ("C-5".into(), Some(b"{\"customer_id\":\"C-\xff\"}".to_vec())),
        ("C-6".into(), Some(vec![0, 0, 0, 0, 9, 1, 2])),
    ];
    produce(&p, &names.customers, &bad_customers).await;

    // Interleave: good, bad, good, bad … over 3 partitions.
    let mut recs: Vec<(i32, String, Option<Vec<u8>>)> = Vec::new();
    let mut expect: HashMap<String, (&'static str, Expect, Option<Vec<u8>>)> = HashMap::new();
    let mut n_good = 0;
    let cases = bad_cases();
    for (i, case) in cases.iter().enumerate() {
        let part = (i % 3) as i32;
        let gk = format!("G-{i}");
        let gv = ticket(&gk, "");
        recs.push((part, gk.clone(), Some(gv.clone())));
        expect.insert(gk, ("good", Expect::Good, Some(gv)));
        n_good += 1;
        let bk = format!("B-{i}");
        // Cases that carry the ticket id "B": make it the key.
        let v = case.value.as_ref().map(|v| {
            let needle = b"\"ticket_id\":\"B\"";
            match v.windows(needle.len()).position(|w| w == needle) {
                Some(at) => {
                    let mut out = Vec::with_capacity(v.len() + 8);
                    out.extend_from_slice(&v[..at]);
                    out.extend_from_slice(format!("\"ticket_id\":\"{bk}\"").as_bytes());
                    out.extend_from_slice(&v[at + needle.len()..]);
                    out
                }
                None => v.clone(),
            }
        });
        recs.push((part, bk.clone(), v.clone()));
        expect.insert(bk, (case.name, case.expect, v));
    }
    for (i, (name, extra)) in odd_good().into_iter().enumerate() {
        let k = format!("O-{i}");
        let v = ticket(&k, &extra);
        recs.push(((i % 3) as i32, k.clone(), Some(v.clone())));
        expect.insert(k, (name, Expect::Good, Some(v)));
        n_good += 1;
    }
    produce_to(&p, &names.input, &recs).await;

    let mut cfg = config(b, &names, &rules);
    // Batches below the smallest topic limit (see the README: batch.size).
    cfg.common
        .librdkafka
        .insert("batch.size".into(), "32768".into());
    let svc = Running::start(cfg).await;
    let mut r = Reader::new(b, &names.out_topics());
    let total = recs.len();
    let done = r.read_until(Duration::from_secs(120), |x| x.keys.len() >= total);
    let missing: Vec<&String> = expect.keys().filter(|k| !r.keys.contains(*k)).collect();
    assert!(
        done,
        "only {} of {total} came out; missing {missing:?}",
        r.keys.len()
    );

    let mut failures = Vec::new();
    for (key, (name, exp, value)) in &expect {
        let outs: Vec<&Rec> = r.records.iter().filter(|x| &x.key_str() == key).collect();
        let out = outs[0];
        let ok = match exp {
            Expect::Good => {
                let parsed: Result<serde_json::Map<String, serde_json::Value>, _> =
                    serde_json::from_slice(out.value.as_deref().unwrap_or_default());
                names.outputs.contains(&out.topic)
                    && parsed.is_ok_and(|m| {
                        m.get("triage").is_some_and(|t| t["priority"].is_string())
                            && m["ticket_id"] == key.as_str()
                    })
            }
            Expect::Dead(reason) => {
                out.topic == names.dlq
                    && out.headers.get("dlq-reason").map(String::as_str) == Some(*reason)
                    && &out.value == value
                    && out.headers["dlq-source-topic"] == names.input
                    && !out.headers.contains_key("dlq-truncated")
            }
            Expect::DeadCut(reason) => {
                let v = value.as_deref().unwrap_or_default();
                out.topic == names.dlq
                    && out.headers.get("dlq-reason").map(String::as_str) == Some(*reason)
                    && out.value.as_deref() == Some(&v[..65_536])
                    && out.headers.get("dlq-original-size") == Some(&v.len().to_string())
                    && out.headers.get("dlq-truncated").map(String::as_str) == Some("65536")
                    && out.headers.contains_key("dlq-refused")
            }
        };
        // No ticket text in the detail.
        let detail_ok = out
            .headers
            .get("dlq-detail")
            .is_none_or(|d| !d.contains("Invoice question") && !d.contains("sub}ject"));
        if !ok || !detail_ok {
            failures.push(format!(
                "{key} ({name}): expected {exp:?}, got topic {} headers {:?} value {} bytes",
                out.topic,
                out.headers,
                out.value.as_ref().map_or(0, Vec::len)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Still up: a ticket sent now is triaged.
    produce_to(
        &p,
        &names.input,
        &[(0, "LAST".into(), Some(ticket("LAST", "")))],
    )
    .await;
    assert!(r.read_until(Duration::from_secs(30), |x| x.has("LAST")));
    let m = svc.handle.metrics_text();
    assert_eq!(
        sample(&m, "triage_customer_records_total{result=\"decode_error\"}"),
        Some(5.0),
        "bad customer records counted"
    );
    assert_eq!(sample(&m, "triage_internal_errors_total"), Some(0.0));
    // At least one per bad record (a rewind after a refused output processes
    // the records after it again, so some may be dead-lettered twice).
    let dead = cases.len() as f64;
    assert!(sum(&m, "triage_dead_letters_total") >= dead);
    // The committed offsets reach the end of every partition.
    let deadline = Instant::now() + Duration::from_secs(30);
    let ends = watermarks(b, &names.input, 3);
    loop {
        let c = committed(b, &names.group, &names.input, 3);
        if c == ends {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "committed {c:?}, end offsets {ends:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    svc.stop().await.expect("clean stop");
    eprintln!(
        "matrix: {} bad kinds, {n_good} good tickets, all accounted for",
        cases.len()
    );
}

/// High watermarks of a topic's partitions.
fn watermarks(b: &str, topic: &str, partitions: i32) -> Vec<i64> {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", b)
        .create()
        .expect("consumer");
    (0..partitions)
        .map(|p| {
            c.fetch_watermarks(topic, p, Duration::from_secs(10))
                .expect("watermarks")
                .1
        })
        .collect()
}

/// The flood: `n` records, every other one bad (of every kind in turn), on
/// 3 partitions. Nothing is lost; throughput is printed next to an all-good
/// run of the same size (the benchmark figure; never asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_that_is_half_bad_loses_nothing() {
    let n: usize = std::env::var("TRIAGE_FLOOD_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let b = broker();
    let small: Vec<Case> = bad_cases()
        .into_iter()
        .filter(|c| c.value.as_ref().is_some_and(|v| v.len() < 64 * 1024))
        .collect();
    let mut rates = Vec::new();
    for half_bad in [false, true] {
        let names = Names::new(if half_bad { "flood-bad" } else { "flood-good" });
        topics(b, &names, 3).await;
        let dir = tempfile::tempdir().unwrap();
        let rules = rules_file(dir.path(), &names);
        let recs: Vec<(i32, String, Option<Vec<u8>>)> = (0..n)
            .map(|i| {
                let k = format!("F-{i}");
                let v = if half_bad && i % 2 == 1 {
                    small[(i / 2) % small.len()].value.clone()
                } else {
                    Some(ticket(&k, ""))
                };
                ((i % 3) as i32, k, v)
            })
            .collect();
        let p = producer(b);
        produce_to(&p, &names.input, &recs).await;
        let mut cfg = config(b, &names, &rules);
        cfg.common
            .librdkafka
            .insert("batch.size".into(), "32768".into());
        cfg.common.log_level = "error".into();
        let svc = Running::start(cfg).await;
        let mut r = Reader::new(b, &names.out_topics());
        // From the first output to the last (service start left out).
        let mut first: Option<Instant> = None;
        let done = r.read_until(Duration::from_secs(300), |x| {
            if first.is_none() && !x.records.is_empty() {
                first = Some(Instant::now());
            }
            x.keys.len() >= n
        });
        let took = first.map_or(Duration::from_secs(1), |f| f.elapsed());
        svc.stop().await.expect("clean stop");
        assert!(done, "{} of {n} records came out", r.keys.len());
        let dead = r.records.iter().filter(|x| x.topic == names.dlq).count();
        if half_bad {
            assert!(
                dead >= n / 2,
                "{dead} dead letters for {} bad records",
                n / 2
            );
        }
        rates.push(n as f64 / took.as_secs_f64());
        eprintln!(
            "flood ({}): {n} records in {:.2} s from first to last output ({:.0}/s), {dead} dead letters, {} duplicates",
            if half_bad { "half bad" } else { "all good" },
            took.as_secs_f64(),
            rates.last().unwrap(),
            r.records.len() - r.keys.len()
        );
    }
    eprintln!(
        "flood: half-bad / all-good throughput ratio {:.2}",
        rates[1] / rates[0]
    );
}

/// A schema registry that does not answer: records that need an unknown
/// writer schema wait while the consumer keeps serving the group (the wait,
/// 10 s, is longer than `max.poll.interval.ms`, 6 s: a consumer that slept
/// instead of polling would be evicted); `/readyz` says why it is not ready;
/// after `schema_registry_max_wait_seconds` the record is dead-lettered as
/// `unknown_schema`, and later ones at once while the registry stays down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_outage_degrades_without_eviction_then_dead_letters_by_the_rule() {
    use triage::codec::avro::AvroCodec;
    let b = broker();
    let names = Names::new("registry-down");
    create_topics(b, &names, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), &names);
    let codec = AvroCodec::bundled();
    let mut recs = Vec::new();
    for i in 0..3 {
        let mut v = Vec::new();
        codec
            .encode_ticket_from_json(&ticket(&format!("A-{i}"), ""), &mut v)
            .unwrap();
        recs.push((0, format!("A-{i}"), Some(v)));
    }
    let p = producer(b);
    produce_to(&p, &names.input, &recs).await;

    let mut cfg = config(b, &names, &rules);
    cfg.input_format = triage::service::Format::Avro;
    cfg.output_format = Some(triage::service::Format::Json);
    // Nothing listens there (a port no other test's server can be given).
    cfg.schema_registry_url = Some(format!("http://127.0.0.1:{}", closed_port()));
    cfg.schema_registry_max_wait_seconds = 10;
    cfg.common
        .librdkafka
        .insert("max.poll.interval.ms".into(), "6000".into());
    let t0 = Instant::now();
    let svc = Running::start(cfg).await;
    // Waiting: not ready, and /readyz says it is the registry. The wait
    // begins once the group is joined and the first record fetched — about
    // 7 s after the start on a broker just started, as the group's first
    // rebalance waits — and lasts 10 s: looked for until 30 s (it stops at
    // the first sight).
    let mut saw_wait = false;
    while t0.elapsed() < Duration::from_secs(30) {
        let r = svc.handle.readiness();
        if !r.ready && r.body().contains("FAIL schema_registry") {
            saw_wait = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_wait, "readyz never reported the registry");
    let mut r = Reader::new(b, &names.out_topics());
    assert!(
        r.read_until(Duration::from_secs(60), |x| x.keys.len() >= 3),
        "only {} of 3 dead letters",
        r.keys.len()
    );
    let waited = t0.elapsed();
    for rec in &r.records {
        assert_eq!(rec.topic, names.dlq);
        assert_eq!(rec.headers["dlq-reason"], "unknown_schema");
        assert!(
            rec.headers["dlq-detail"].contains("did not answer"),
            "{:?}",
            rec.headers
        );
    }
    assert!(
        waited >= Duration::from_secs(10),
        "gave up after {waited:?}"
    );
    let m = svc.handle.metrics_text();
    assert_eq!(sample(&m, "triage_schema_registry_up"), Some(0.0));
    assert_eq!(
        sample(&m, "triage_rebalances_total{kind=\"revoke\"}"),
        Some(0.0),
        "the instance was evicted from the group while it waited"
    );
    assert_eq!(svc.handle.assigned_partitions(), 1);
    svc.stop().await.expect("clean stop");
}
