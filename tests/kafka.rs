//! The Kafka service against a real broker (Apache Kafka, started by
//! `tests/common`, or `TRIAGE_TEST_BROKERS`) and against librdkafka's mock
//! cluster for fault injection. Each test has its own topics and group and
//! a bounded run time; a test that cannot get its broker fails loudly.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::*;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::FutureRecord;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use triage::codec::json;
use triage::model::{Customer, Profile};
use triage_lab::gen;

const SEED: u64 = 7;

fn customers(n: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut v = Vec::new();
            gen::customer_json(SEED, i, &mut v);
            v
        })
        .collect()
}

/// `n` valid tickets, ids `T-000000001`…, from customers `0..n_customers`
/// (a few unknown).
fn tickets(n: u64, n_customers: u64) -> Vec<Vec<u8>> {
    let spec = gen::TicketSpec::new(SEED, n_customers, jiff::Timestamp::now());
    (0..n)
        .map(|i| {
            let mut v = Vec::new();
            let kind = gen::ticket_json(&spec, i, &mut v);
            assert!(kind.is_good());
            v
        })
        .collect()
}

fn id_of(line: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(line).unwrap();
    v["ticket_id"].as_str().unwrap().to_string()
}

/// The lead's examples when present, else generated data.
fn example_data() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let read = |f: &str| -> Option<Vec<Vec<u8>>> {
        let t = std::fs::read_to_string(dir.join(f)).ok()?;
        Some(
            t.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.as_bytes().to_vec())
                .collect(),
        )
    };
    match (read("customers.jsonl"), read("tickets.jsonl")) {
        (Some(c), Some(t)) if !t.is_empty() => (c, t),
        _ => (customers(200), tickets(300, 200)),
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Fresh topics on `b` (`partitions` for the input), a temporary directory
/// and the shipped rules rewritten for those topics in it.
async fn topics_and_rules(
    b: &str,
    prefix: &str,
    partitions: i32,
) -> (Names, tempfile::TempDir, std::path::PathBuf) {
    let names = Names::new(prefix);
    create_topics(b, &names, partitions).await;
    let dir = tmp();
    let rules = rules_file(dir.path(), &names);
    (names, dir, rules)
}

fn level_topic(names: &Names, priority: &str) -> String {
    let i: usize = priority.trim_start_matches('P').parse().expect("P<n>");
    names.outputs[i - 1].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_land_on_their_level_topics_with_the_engines_output_keyed_by_ticket_id() {
    let b = broker();
    let names = Names::new("examples");
    create_topics(b, &names, 3).await;
    let dir = tmp();
    let rules_path = rules_file(dir.path(), &names);
    let rules = triage::files::load_rules(&rules_path).unwrap().rules;
    let (customers, tickets) = example_data();
    let p = producer(b);
    produce_json(&p, &names.customers, "customer_id", &customers).await;
    produce_json(&p, &names.input, "ticket_id", &tickets).await;

    let svc = Running::start(config(b, &names, &rules_path)).await;
    let mut r = Reader::new(b, &names.out_topics());
    let n = tickets.len();
    assert!(
        r.read_until(Duration::from_secs(90), |r| r.len() >= n),
        "only {} of {n} outputs",
        r.records.len()
    );
    svc.stop().await.expect("clean stop");

    let profiles: HashMap<String, Profile> = customers
        .iter()
        .map(|l| {
            let c: Customer = serde_json::from_slice(l).unwrap();
            (c.customer_id.clone(), Profile::from_customer(&c))
        })
        .collect();
    let inputs: HashMap<String, &Vec<u8>> = tickets.iter().map(|l| (id_of(l), l)).collect();
    let mut seen = HashSet::new();
    for rec in &r.records {
        let key = rec.key_str();
        let input = inputs
            .get(&key)
            .unwrap_or_else(|| panic!("output for unknown key {key}"));
        match json::decode_ticket(input) {
            Err(e) => {
                assert_eq!(rec.topic, names.dlq);
                assert_eq!(rec.headers["dlq-reason"], e.reason.as_str());
            }
            Ok(d) => {
                let out = rec.json();
                let t = &out["triage"];
                let priority = t["priority"].as_str().unwrap();
                assert_eq!(rec.topic, level_topic(&names, priority), "{key}");
                assert_eq!(rec.headers["triage-priority"], priority);
                assert_eq!(rec.headers["content-type"], "application/json");
                // Every input field unchanged.
                let inv: serde_json::Value = serde_json::from_slice(input).unwrap();
                for (k, v) in inv.as_object().unwrap() {
                    assert_eq!(&out[k], v, "{key}: field {k}");
                }
                // Exactly what the engine says at the same instant.
                let now: jiff::Timestamp = t["triaged_at"].as_str().unwrap().parse().unwrap();
                let want = triage::engine::triage(
                    &rules,
                    &d.ticket,
                    profiles.get(d.ticket.customer_id.as_ref()),
                    now,
                );
                // Through the same writer (f32 fields print the same way).
                let want: serde_json::Value =
                    serde_json::from_slice(&serde_json::to_vec(&want).unwrap()).unwrap();
                assert_eq!(t, &want, "{key}");
            }
        }
        seen.insert(key);
    }
    assert_eq!(seen.len(), n, "every ticket has an output");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_update_or_tombstone_changes_how_later_tickets_are_triaged() {
    let b = broker();
    let (names, _dir, rules) = topics_and_rules(b, "custupd", 1).await;
    let p = producer(b);
    let big = br#"{"customer_id":"C-UPD","account_type":"enterprise","support_plan":"premium","vip":true,"persona":"admin","lifecycle":"at_risk","arr":2000000}"#;
    let keep = br#"{"customer_id":"C-KEEP","account_type":"enterprise","support_plan":"premium","vip":true}"#;
    produce(
        &p,
        &names.customers,
        &[
            ("C-UPD".into(), Some(big.to_vec())),
            ("C-KEEP".into(), Some(keep.to_vec())),
        ],
    )
    .await;
    let svc = Running::start(config(b, &names, &rules)).await;
    svc.wait_ready(Duration::from_secs(60)).await;
    let mut r = Reader::new(b, &names.out_topics());
    let ticket = |id: &str| {
        format!(
            r#"{{"ticket_id":"{id}","customer_id":"C-UPD","created_at":"{}","subject":"Login fails","body":"Cannot log in since this morning"}}"#,
            jiff::Timestamp::now()
        )
        .into_bytes()
    };
    let triage_of = |r: &mut Reader, id: &str| -> serde_json::Value {
        assert!(
            r.read_until(Duration::from_secs(30), |r| r.has(id)),
            "no output for {id}"
        );
        r.records.iter().find(|x| x.key_str() == id).unwrap().json()["triage"].clone()
    };

    produce(&p, &names.input, &[("T-1".into(), Some(ticket("T-1")))]).await;
    let t1 = triage_of(&mut r, "T-1");
    assert_eq!(t1["customer_known"], true);
    assert_eq!(t1["segment"]["account_type"], "enterprise");

    let small = br#"{"customer_id":"C-UPD","account_type":"free","support_plan":"basic","vip":false,"persona":"casual","lifecycle":"active","arr":0}"#;
    produce(
        &p,
        &names.customers,
        &[("C-UPD".into(), Some(small.to_vec()))],
    )
    .await;
    // A record that cannot be decoded: skipped, counted, old value kept.
    produce(
        &p,
        &names.customers,
        &[("C-KEEP".into(), Some(b"{broken".to_vec()))],
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while svc
        .handle
        .table()
        .get("C-UPD")
        .and_then(|c| c.account_type)
        .as_deref()
        != Some("free")
    {
        assert!(Instant::now() < deadline, "customer update not applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    produce(&p, &names.input, &[("T-2".into(), Some(ticket("T-2")))]).await;
    let t2 = triage_of(&mut r, "T-2");
    assert_eq!(t2["customer_known"], true);
    assert_eq!(t2["segment"]["account_type"], "free");
    assert!(t2["score"].as_i64() < t1["score"].as_i64(), "{t1} vs {t2}");

    produce(&p, &names.customers, &[("C-UPD".into(), None)]).await;
    while svc.handle.table().get("C-UPD").is_some() {
        assert!(Instant::now() < deadline, "tombstone not applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    produce(&p, &names.input, &[("T-3".into(), Some(ticket("T-3")))]).await;
    let t3 = triage_of(&mut r, "T-3");
    assert_eq!(t3["customer_known"], false);

    let m = svc.handle.metrics_text();
    assert_eq!(
        sample(
            &m,
            r#"triage_customer_records_total{result="decode_error"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, r#"triage_customer_records_total{result="delete"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, r#"triage_customer_records_total{result="upsert"}"#),
        Some(3.0)
    );
    assert!(
        svc.handle.table().get("C-KEEP").unwrap().vip,
        "bad record kept the old value"
    );
    svc.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_kind_is_dead_lettered_with_its_reason_and_the_service_stays_up() {
    let b = broker();
    let (names, _dir, rules) = topics_and_rules(b, "dlq", 1).await;
    let mut cfg = config(b, &names, &rules);
    cfg.max_message_bytes = 2048;
    let good = |id: &str| {
        format!(r#"{{"ticket_id":"{id}","customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","subject":"Question about invoices"}}"#).into_bytes()
    };
    let big = format!(
        r#"{{"ticket_id":"BIG","customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","subject":"x","body":"{}"}}"#,
        "y".repeat(3000)
    );
    /// (key, value or a tombstone, expected dlq-reason or none for a good ticket)
    type Case<'a> = (&'a str, Option<Vec<u8>>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("G-1", Some(good("G-1")), None),
        ("NOTJSON", Some(b"definitely not json".to_vec()), Some("decode_error")),
        ("TRUNC", Some(br#"{"ticket_id":"TRUNC","custo"#.to_vec()), Some("decode_error")),
        ("EMPTY", None, Some("decode_error")),
        ("ARRAY", Some(b"[1,2,3]".to_vec()), Some("schema_error")),
        ("MISSING", Some(br#"{"ticket_id":"MISSING","created_at":"2026-11-02T09:00:00Z","subject":""}"#.to_vec()), Some("schema_error")),
        ("WRONGTYPE", Some(br#"{"ticket_id":5,"customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","subject":""}"#.to_vec()), Some("schema_error")),
        ("BADTIME", Some(br#"{"ticket_id":"BADTIME","customer_id":"C-1","created_at":"yesterday","subject":""}"#.to_vec()), Some("invalid_field")),
        ("NEGATIVE", Some(br#"{"ticket_id":"NEGATIVE","customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","subject":"","affected_users":-1}"#.to_vec()), Some("invalid_field")),
        ("BIG", Some(big.into_bytes()), Some("too_large")),
        ("G-2", Some(good("G-2")), None),
    ];
    let p = producer(b);
    let recs: Vec<(String, Option<Vec<u8>>)> = cases
        .iter()
        .map(|(k, v, _)| (k.to_string(), v.clone()))
        .collect();
    produce(&p, &names.input, &recs).await;
    let svc = Running::start(cfg).await;
    let mut r = Reader::new(b, &names.out_topics());
    assert!(
        r.read_until(Duration::from_secs(60), |x| x.len() >= cases.len()),
        "only {} outputs",
        r.records.len()
    );
    for (offset, (key, value, reason)) in cases.iter().enumerate() {
        let out = r.records.iter().find(|x| x.key_str() == *key).expect(key);
        match reason {
            None => assert!(names.outputs.contains(&out.topic), "{key} on {}", out.topic),
            Some(reason) => {
                assert_eq!(out.topic, names.dlq, "{key}");
                assert_eq!(
                    out.headers["dlq-reason"], *reason,
                    "{key}: {:?}",
                    out.headers
                );
                assert!(!out.headers["dlq-detail"].is_empty());
                assert_eq!(out.headers["dlq-source-topic"], names.input);
                assert_eq!(out.headers["dlq-source-partition"], "0");
                assert_eq!(out.headers["dlq-source-offset"], offset.to_string());
                assert_eq!(&out.value, value, "{key}: value unchanged");
            }
        }
    }
    // Still up: a ticket sent now is triaged.
    produce(&p, &names.input, &[("G-3".into(), Some(good("G-3")))]).await;
    assert!(r.read_until(Duration::from_secs(30), |x| x.has("G-3")));
    let m = svc.handle.metrics_text();
    for (reason, n) in [
        ("decode_error", 3.0),
        ("schema_error", 3.0),
        ("invalid_field", 2.0),
        ("too_large", 1.0),
        ("unknown_schema", 0.0),
    ] {
        assert_eq!(
            sample(
                &m,
                &format!("triage_dead_letters_total{{reason=\"{reason}\"}}")
            ),
            Some(n),
            "{reason}"
        );
    }
    svc.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_in_avro_out_and_unknown_schema_ids_are_dead_lettered() {
    use triage::codec::avro::AvroCodec;
    let b = broker();
    let (names, dir, rules) = topics_and_rules(b, "avro", 1).await;
    let mut cfg = config(b, &names, &rules);
    cfg.input_format = triage::service::Format::Avro;
    let codec = AvroCodec::bundled();
    let p = producer(b);
    let custs: Vec<(String, Option<Vec<u8>>)> = customers(20)
        .iter()
        .map(|l| {
            let c: Customer = serde_json::from_slice(l).unwrap();
            let mut v = Vec::new();
            codec.encode_customer(&c, &mut v);
            (c.customer_id.clone(), Some(v))
        })
        .collect();
    produce(&p, &names.customers, &custs).await;
    let mut recs: Vec<(String, Option<Vec<u8>>)> = tickets(30, 20)
        .iter()
        .map(|l| {
            let mut v = Vec::new();
            codec.encode_ticket_from_json(l, &mut v).unwrap();
            (id_of(l), Some(v))
        })
        .collect();
    recs.push(("UNKNOWN-ID".into(), Some(vec![0, 0, 0, 0x27, 0x0f, 2, 4])));
    recs.push(("NOT-A-FRAME".into(), Some(b"{\"json\":true}".to_vec())));
    produce(&p, &names.input, &recs).await;
    let svc = Running::start(cfg).await;
    let mut r = Reader::new(b, &names.out_topics());
    assert!(r.read_until(Duration::from_secs(60), |x| x.len() >= recs.len()));
    svc.stop().await.expect("clean stop");
    let unknown = r
        .records
        .iter()
        .find(|x| x.key_str() == "UNKNOWN-ID")
        .unwrap();
    assert_eq!(unknown.headers["dlq-reason"], "unknown_schema");
    let nf = r
        .records
        .iter()
        .find(|x| x.key_str() == "NOT-A-FRAME")
        .unwrap();
    assert_eq!(nf.headers["dlq-reason"], "decode_error");
    let mut known = 0;
    for rec in r.records.iter().filter(|x| x.topic != names.dlq) {
        assert_eq!(rec.headers["content-type"], "application/vnd.apache.avro");
        let v = rec.value.as_deref().unwrap();
        assert_eq!(v[0], 0, "Confluent magic byte");
        assert_eq!(
            u32::from_be_bytes(v[1..5].try_into().unwrap()),
            codec.triaged_schema_id()
        );
        let back = codec.decode_ticket(v).expect("triaged output decodes");
        assert_eq!(back.ticket_id(), rec.key_str());
        assert_eq!(
            rec.topic,
            level_topic(&names, &rec.headers["triage-priority"])
        );
        known += 1;
    }
    assert_eq!(known, 30);
    // The review commands read Avro priority topics: `triage replay --recorded` with the same
    // rules sees no change, `triage report` every ticket.
    let levels: Vec<String> = names
        .out_topics()
        .into_iter()
        .filter(|t| *t != names.dlq)
        .collect();
    let run = |args: &[&str]| review_json(args, &rules, b, &levels.join(","));
    let cust_file = dir.path().join("customers.jsonl");
    std::fs::write(&cust_file, customers(20).join(&b'\n')).unwrap();
    let replay = run(&[
        "replay",
        "--recorded",
        "--customers",
        cust_file.to_str().unwrap(),
    ]);
    assert_eq!(replay["tickets"], 30, "{replay:#}");
    assert_eq!(replay["skipped"], 0);
    assert_eq!(replay["changed"]["any"], 0, "{replay:#}");
    let report = run(&["report"]);
    assert_eq!(report["tickets"], 30, "{report:#}");
}

/// `triage <args> --rules RULES --brokers B --topic TOPICS --json` (a review command over
/// topics): its JSON output, the run asserted successful.
fn review_json(
    args: &[&str],
    rules: &std::path::Path,
    brokers: &str,
    topics: &str,
) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .arg("--rules")
        .arg(rules)
        .args(["--brokers", brokers, "--topic", topics, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Config with enough tickets that a kill lands mid-stream.
fn stream_setup(
    names: &Names,
    dir: &std::path::Path,
    http: u16,
) -> (std::path::PathBuf, triage::service::Config) {
    let rules = rules_file(dir, names);
    let mut cfg = config(broker(), names, &rules);
    cfg.http_listen = format!("127.0.0.1:{http}").parse().unwrap();
    cfg.common.log_level = "info".into();
    let path = dir.join("service.toml");
    std::fs::write(&path, config_toml(&cfg)).unwrap();
    (path, cfg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_then_restart_loses_no_ticket() {
    let b = broker();
    let names = Names::new("sigkill");
    create_topics(b, &names, 3).await;
    let dir = tmp();
    let (path, _) = stream_setup(&names, dir.path(), free_port());
    let n = 6_000u64;
    let input = tickets(n, 500);
    let p = producer(b);
    produce_json(&p, &names.customers, "customer_id", &customers(500)).await;
    produce_json(&p, &names.input, "ticket_id", &input).await;
    let ids: HashSet<String> = input.iter().map(|l| id_of(l)).collect();

    let cfg_arg = path.display().to_string();
    let mut first = Binary::spawn(&["run", "--config", &cfg_arg], &[]);
    let mut r = Reader::new(b, &names.out_topics());
    let started = r.read_until(Duration::from_secs(150), |x| x.len() >= 600);
    assert!(
        started,
        "service produced too little:\n{}",
        first.log_text()
    );
    first.signal("KILL");
    first.wait_timeout(Duration::from_secs(10)).expect("killed");
    let at_kill = r.records.len();
    r.read_until(Duration::from_secs(1), |_| false);
    let before_restart = r.keys.len();
    assert!(
        before_restart < n as usize,
        "the service finished before it was killed; the test did not kill it mid-stream"
    );

    // Restart at once: the broker gives the dead member's partitions to the
    // new one when its session (session.timeout.ms=6000 in tests) expires.
    let restarted = Instant::now();
    let mut second = Binary::spawn(&["run", "--config", &cfg_arg], &[]);
    let assigned = second.wait_log("\"kind\":\"assign\"", Duration::from_secs(120));
    let time_to_assign = restarted.elapsed();
    let done = r.read_until(Duration::from_secs(180), |x| x.keys.len() >= n as usize);
    let got = r.keys.clone();
    let lost: Vec<&String> = ids.iter().filter(|i| !got.contains(*i)).take(10).collect();
    if !(done && lost.is_empty()) {
        let status = second.child.try_wait().ok().flatten();
        let tail = last_lines(&second.log_text(), 40);
        let first_tail = last_lines(&first.log_text(), 15);
        panic!(
            "missing {} of {n} tickets (first 10: {lost:?}); {} records read; committed {:?}; restarted instance assigned: {assigned} after {time_to_assign:?}, exit status {status:?}\n--- first instance (last lines) ---\n{}\n--- restarted instance (last lines) ---\n{}",
            n as usize - got.len(),
            r.len(),
            committed(b, &names.group, &names.input, 3),
            first_tail,
            tail
        );
    }
    let dups = r.records.len() - got.len();
    eprintln!(
        "sigkill: {n} tickets, {at_kill} outputs when killed, {before_restart} distinct before restart, {dups} duplicates after restart (allowed); the restarted instance got partitions after {time_to_assign:?} and finished in {:?}",
        restarted.elapsed()
    );
    second.signal("TERM");
    let st = second
        .wait_timeout(Duration::from_secs(30))
        .expect("exits after SIGTERM");
    assert!(st.success(), "{st:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_partitions_and_stopping_one_loses_nothing() {
    let b = broker();
    let (names, _dir, rules) = topics_and_rules(b, "twoinst", 4).await;
    let p = producer(b);
    produce_json(&p, &names.customers, "customer_id", &customers(100)).await;
    let a = Running::start(config(b, &names, &rules)).await;
    a.wait_ready(Duration::from_secs(60)).await;
    // B triages on 3 threads: its rounds see both rebalances.
    let mut cb = config(b, &names, &rules);
    cb.workers = 3;
    let bsvc = Running::start(cb).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(a.handle.assigned_partitions() > 0 && bsvc.handle.assigned_partitions() > 0) {
        assert!(
            Instant::now() < deadline,
            "partitions not shared: a={} b={}",
            a.handle.assigned_partitions(),
            bsvc.handle.assigned_partitions()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        a.handle.assigned_partitions() + bsvc.handle.assigned_partitions(),
        4
    );

    let n = 4000u64;
    let input = tickets(n, 100);
    let (first, rest) = input.split_at(1500);
    produce_json(&p, &names.input, "ticket_id", first).await;
    let mut r = Reader::new(b, &names.out_topics());
    assert!(r.read_until(Duration::from_secs(120), |x| x.len() >= 700));
    // Stop A while work is flowing; B takes over its partitions.
    let p2 = p.clone();
    let rest = rest.to_vec();
    let topic = names.input.clone();
    let more = tokio::spawn(async move { produce_json(&p2, &topic, "ticket_id", &rest).await });
    a.stop().await.expect("A drains cleanly");
    more.await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while bsvc.handle.assigned_partitions() != 4 {
        assert!(
            Instant::now() < deadline,
            "B did not take over all partitions"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ids: HashSet<String> = input.iter().map(|l| id_of(l)).collect();
    let done = r.read_until(Duration::from_secs(120), |x| x.keys.len() >= n as usize);
    let got = r.keys.clone();
    let lost: Vec<&String> = ids.iter().filter(|i| !got.contains(*i)).take(10).collect();
    assert!(done && lost.is_empty(), "lost (first 10): {lost:?}");
    eprintln!(
        "two instances: {} duplicates (allowed)",
        r.records.len() - got.len()
    );
    bsvc.stop().await.expect("B drains cleanly");
}

/// `workers` > 1: records are triaged in parallel but published in input
/// order. One input partition, so input order is ticket-id order; on every
/// output partition the ids must come in increasing order, each exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_workers_publish_every_ticket_once_in_input_order() {
    let b = broker();
    let (names, _dir, rules) = topics_and_rules(b, "workers", 1).await;
    let p = producer(b);
    produce_json(&p, &names.customers, "customer_id", &customers(100)).await;
    let n = 3_000u64;
    let input = tickets(n, 100);
    let bad: Vec<(String, Option<Vec<u8>>)> = (0..5)
        .map(|i| (format!("BAD-{i}"), Some(b"{not json".to_vec())))
        .collect();
    // Bad records in the middle of the stream, between two halves.
    produce_json(&p, &names.input, "ticket_id", &input[..1500]).await;
    produce(&p, &names.input, &bad).await;
    produce_json(&p, &names.input, "ticket_id", &input[1500..]).await;
    let mut cfg = config(b, &names, &rules);
    cfg.workers = 4;
    cfg.max_in_flight = 500;
    let svc = Running::start(cfg).await;
    let mut r = Reader::new(b, &names.out_topics());
    let total = n as usize + bad.len();
    let done = r.read_until(Duration::from_secs(120), |x| x.len() >= total);
    svc.stop().await.expect("clean stop");
    assert!(done, "only {} of {total} outputs", r.len());
    assert_eq!(r.records.len(), total, "every input exactly once");
    let mut last: HashMap<(String, i32), String> = HashMap::new();
    let mut dead = 0;
    for rec in &r.records {
        let key = rec.key_str();
        if rec.topic == names.dlq {
            assert!(key.starts_with("BAD-"), "{key} dead-lettered");
            assert_eq!(rec.headers["dlq-reason"], "decode_error");
            dead += 1;
            continue;
        }
        let slot = (rec.topic.clone(), rec.partition);
        if let Some(prev) = last.get(&slot) {
            assert!(
                *prev < key,
                "{key} published after {prev} on {slot:?}: out of input order"
            );
        }
        last.insert(slot, key);
    }
    assert_eq!(dead, bad.len());
}

/// Back-pressure must not lose or skip records: with a tiny `max_in_flight`,
/// every ticket must come out, and back-pressure must have held consumption.
/// (It once paused partitions, and a stand-in broker answered the fetch
/// after a resume from the next batch, skipping the rest of the current one.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_pressure_at_a_tiny_max_in_flight_skips_nothing() {
    let b = memory_broker();
    let (names, _dir, rules) = topics_and_rules(b, "backpressure", 3).await;
    let n = 4_000u64;
    let input = tickets(n, 100);
    let p = producer(b);
    produce_json(&p, &names.input, "ticket_id", &input).await;
    let mut cfg = config(b, &names, &rules);
    // Few enough that consumption is held whatever the machine's speed: at
    // 40 the engine could be slow enough (a loaded machine) that acks kept
    // up and nothing was held.
    cfg.max_in_flight = 8;
    cfg.customers_catch_up_timeout_seconds = 5;
    let svc = Running::start(cfg).await;
    let mut r = Reader::new(b, &names.out_topics());
    let done = r.read_until(Duration::from_secs(120), |x| x.keys.len() >= n as usize);
    let ids: HashSet<String> = input.iter().map(|l| id_of(l)).collect();
    let missing: Vec<&String> = ids.iter().filter(|i| !r.keys.contains(*i)).collect();
    let held = sample(
        &svc.handle.metrics_text(),
        "triage_backpressure_seconds_total",
    )
    .expect("back-pressure metric");
    svc.stop().await.expect("clean stop");
    assert!(
        done && missing.is_empty(),
        "{} of {n} tickets never came out (first 10: {:?})",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(held > 0.0, "back-pressure never held consumption");
    eprintln!(
        "back-pressure: {n} tickets, held {held:.3} s, {} duplicates",
        r.records.len() - r.keys.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_sigterm_drains_commits_and_exits_zero() {
    let b = broker();
    let names = Names::new("sigterm");
    create_topics(b, &names, 3).await;
    let dir = tmp();
    let http = free_port();
    let (path, _) = stream_setup(&names, dir.path(), http);
    let n = 5000u64;
    let input = tickets(n, 100);
    let p = producer(b);
    // Where each ticket landed, to check the committed offsets.
    let mut at: HashMap<(i32, i64), String> = HashMap::new();
    let ids: Vec<String> = input.iter().map(|l| id_of(l)).collect();
    let futs: Vec<_> = input
        .iter()
        .zip(&ids)
        .map(|(l, id)| {
            p.send(
                FutureRecord::to(&names.input)
                    .key(id.as_bytes())
                    .payload(l.as_slice()),
                Duration::from_secs(60),
            )
        })
        .collect();
    for (id, f) in ids.iter().zip(futs) {
        let d = f.await.expect("produce");
        at.insert((d.partition, d.offset), id.clone());
    }
    let cfg_arg = path.display().to_string();
    let mut bin = Binary::spawn(&["run", "--config", &cfg_arg], &[]);
    let url = format!("http://127.0.0.1:{http}");
    // Healthcheck subcommand against the live service.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut hc = Binary::spawn(&["healthcheck", "--url", &format!("{url}/healthz")], &[]);
        if hc.wait_timeout(Duration::from_secs(10)).unwrap().success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "healthcheck never passed:\n{}",
            bin.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut hc = Binary::spawn(
        &["healthcheck", "--url", &format!("{url}/no-such-path")],
        &[],
    );
    assert!(
        !hc.wait_timeout(Duration::from_secs(10)).unwrap().success(),
        "404 is unhealthy"
    );

    let mut r = Reader::new(b, &names.out_topics());
    assert!(
        r.read_until(Duration::from_secs(120), |x| x.len() >= 500),
        "{}",
        bin.log_text()
    );
    bin.signal("HUP");
    assert!(
        bin.wait_log("rules reloaded", Duration::from_secs(20)),
        "SIGHUP did not reload:\n{}",
        bin.log_text()
    );
    let (_, metrics) = http_get(&format!("{url}/metrics"));
    assert_eq!(
        sample(&metrics, r#"triage_rules_reloads_total{result="success"}"#),
        Some(1.0)
    );

    let t0 = Instant::now();
    bin.signal("TERM");
    let st = bin
        .wait_timeout(Duration::from_secs(25))
        .expect("exits within the drain timeout");
    assert!(st.success(), "exit status {st:?}\n{}", bin.log_text());
    eprintln!("sigterm: exited 0 after {:?}", t0.elapsed());
    assert!(bin.log_text().contains("drained"), "{}", bin.log_text());

    // Every input below the committed offsets has its output. The reader
    // may trail the service (the suite runs in parallel on two cores): read
    // until every such output is there, or 60 s.
    let committed = committed(b, &names.group, &names.input, 3);
    let want: Vec<&String> = at
        .iter()
        .filter(|((part, off), _)| *off < committed[*part as usize])
        .map(|(_, id)| id)
        .collect();
    r.read_until(Duration::from_secs(60), |x| {
        want.iter().all(|id| x.keys.contains(*id))
    });
    let got = r.keys.clone();
    let mut covered = 0;
    for ((part, off), id) in &at {
        if *off < committed[*part as usize] {
            assert!(
                got.contains(id),
                "committed past {id} (partition {part} offset {off}) without its output"
            );
            covered += 1;
        }
    }
    assert!(covered > 0, "nothing committed: {committed:?}");
    eprintln!(
        "sigterm: committed {committed:?}, {covered} inputs covered, {} outputs",
        got.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_rules_reload_keeps_the_old_rules_and_a_valid_one_swaps_them_in() {
    let b = broker();
    let (names, _dir, rules) = topics_and_rules(b, "reload", 1).await;
    let original = std::fs::read_to_string(&rules).unwrap();
    let svc = Running::start(config(b, &names, &rules)).await;
    svc.wait_ready(Duration::from_secs(60)).await;
    let v1 = svc.handle.rules_version().to_string();
    let p = producer(b);
    let mut r = Reader::new(b, &names.out_topics());
    let t = |id: &str| {
        format!(r#"{{"ticket_id":"{id}","customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","subject":"help"}}"#).into_bytes()
    };
    let version_of = |r: &mut Reader, id: &str| -> String {
        assert!(r.read_until(Duration::from_secs(30), |x| x.has(id)), "{id}");
        r.records.iter().find(|x| x.key_str() == id).unwrap().json()["triage"]["rules_version"]
            .as_str()
            .unwrap()
            .to_string()
    };
    produce(&p, &names.input, &[("R-1".into(), Some(t("R-1")))]).await;
    assert_eq!(version_of(&mut r, "R-1"), v1);

    std::fs::write(&rules, original.replace("[[levels]]", "[[levelz]]")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = svc.handle.metrics_text();
        if sample(&m, r#"triage_rules_reloads_total{result="failure"}"#) == Some(1.0) {
            assert_eq!(sample(&m, "triage_rules_last_reload_success"), Some(0.0));
            assert_eq!(
                sample(&m, &format!("triage_rules_info{{version=\"{v1}\"}}")),
                Some(1.0)
            );
            break;
        }
        assert!(Instant::now() < deadline, "invalid rules not noticed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    produce(&p, &names.input, &[("R-2".into(), Some(t("R-2")))]).await;
    assert_eq!(version_of(&mut r, "R-2"), v1, "old rules kept");

    std::fs::write(
        &rules,
        original.replace("version = \"", "version = \"reloaded-"),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while svc.handle.rules_version().as_ref() == v1 {
        assert!(Instant::now() < deadline, "valid rules not swapped in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let v2 = svc.handle.rules_version().to_string();
    assert!(v2.starts_with("reloaded-"), "{v2}");
    produce(&p, &names.input, &[("R-3".into(), Some(t("R-3")))]).await;
    assert_eq!(version_of(&mut r, "R-3"), v2);
    let m = svc.handle.metrics_text();
    assert_eq!(sample(&m, "triage_rules_last_reload_success"), Some(1.0));
    assert_eq!(
        sample(&m, &format!("triage_rules_info{{version=\"{v2}\"}}")),
        Some(1.0)
    );
    svc.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_exactly_the_tickets_sent_and_pass_promtool() {
    let b = broker();
    let (names, _dir, rules) = topics_and_rules(b, "metrics", 2).await;
    let p = producer(b);
    produce_json(&p, &names.customers, "customer_id", &customers(50)).await;
    let good = tickets(300, 60);
    produce_json(&p, &names.input, "ticket_id", &good).await;
    let bad: Vec<(String, Option<Vec<u8>>)> = (0..7)
        .map(|i| {
            (
                format!("BAD-{i}"),
                Some(format!("not json {i}").into_bytes()),
            )
        })
        .collect();
    produce(&p, &names.input, &bad).await;
    let total = good.len() + bad.len();
    let svc = Running::start(config(b, &names, &rules)).await;
    let mut r = Reader::new(b, &names.out_topics());
    assert!(r.read_until(Duration::from_secs(60), |x| x.len() >= total));
    let url = format!("http://{}", svc.handle.http_addr().unwrap());
    // Delivery reports may trail the records by a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let (status, text) = http_get(&format!("{url}/metrics"));
        assert_eq!(status, 200);
        if sum(&text, "triage_records_produced_total") as usize >= total
            || Instant::now() > deadline
        {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let t = total as f64;
    let g = good.len() as f64;
    assert_eq!(
        sample(
            &text,
            &format!("triage_tickets_consumed_total{{topic=\"{}\"}}", names.input)
        ),
        Some(t)
    );
    assert_eq!(sum(&text, "triage_tickets_triaged_total"), g);
    assert_eq!(sum(&text, "triage_dead_letters_total"), bad.len() as f64);
    assert_eq!(sum(&text, "triage_records_produced_total"), t);
    assert_eq!(sum(&text, "triage_enrichment_total"), g);
    assert_eq!(sample(&text, "triage_processing_seconds_count"), Some(t));
    assert_eq!(sample(&text, "triage_delivery_seconds_count"), Some(t));
    assert_eq!(sum(&text, "triage_ticket_age_at_publish_seconds_count"), g);
    assert_eq!(sum(&text, "triage_sla_first_response_used_ratio_count"), g);
    assert_eq!(sum(&text, "triage_produce_errors_total"), 0.0);
    assert_eq!(sample(&text, "triage_in_flight_records"), Some(0.0));
    assert_eq!(sample(&text, "triage_customers"), Some(50.0));
    assert_eq!(sample(&text, "triage_ready"), Some(1.0));
    assert!(text.contains("triage_build_info{"));
    // Lag from statistics (every 500 ms in tests): present, and 0 once done.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, text) = http_get(&format!("{url}/metrics"));
        if sample(
            &text,
            &format!(
                "triage_consumer_lag_total_records{{topic=\"{}\"}}",
                names.input
            ),
        ) == Some(0.0)
            && text.contains(&format!(
                "triage_consumer_lag_records{{partition=\"0\",topic=\"{}\"}}",
                names.input
            ))
        {
            break;
        }
        assert!(Instant::now() < deadline, "no lag series:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (code, body) = http_get(&format!("{url}/readyz"));
    assert_eq!(code, 200, "{body}");
    let (code, _) = http_get(&format!("{url}/healthz"));
    assert_eq!(code, 200);

    match std::process::Command::new("promtool").arg("--version").output() {
        Err(_) => eprintln!("promtool not installed: `apt-get install -y prometheus` provides it; skipping the lint only"),
        Ok(_) => {
            use std::io::Write;
            let mut child = std::process::Command::new("promtool")
                .args(["check", "metrics"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "promtool check metrics:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    svc.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_not_ready_before_the_customer_table_caught_up_and_ready_after() {
    let b = broker();
    let names = Names::new("ready");
    // Everything but the customers topic: the table cannot catch up yet.
    let mut specs = vec![
        (names.input.clone(), 1, false),
        (names.dlq.clone(), 1, false),
    ];
    specs.extend(names.outputs.iter().map(|o| (o.clone(), 1, false)));
    create(b, &specs).await;
    let dir = tmp();
    let rules = rules_file(dir.path(), &names);
    let mut cfg = config(b, &names, &rules);
    cfg.customers_catch_up_timeout_seconds = 120;
    let cfg2 = cfg.clone();
    let svc = Running::start(cfg).await;
    let url = format!("http://{}/readyz", svc.handle.http_addr().unwrap());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (code, body) = http_get(&url);
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("FAIL customer_table_caught_up"), "{body}");
    assert_eq!(
        sample(
            &svc.handle.metrics_text(),
            "triage_customer_table_caught_up"
        ),
        Some(0.0)
    );

    create(b, &[(names.customers.clone(), 2, true)]).await;
    let n = 3000;
    produce_json(&producer(b), &names.customers, "customer_id", &customers(n)).await;
    // The first instance may have measured the end offsets while the
    // customers were still arriving (then "caught up" means that snapshot):
    // it only has to become ready.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (code, body) = http_get(&url);
        if code == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "never ready:\n{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        sample(
            &svc.handle.metrics_text(),
            "triage_customer_table_caught_up"
        ),
        Some(1.0)
    );
    svc.stop().await.expect("clean stop");

    // A new instance starts with every customer in the topic: whenever it
    // says ready, the whole table is there.
    let svc = Running::start(cfg2).await;
    let url = format!("http://{}/readyz", svc.handle.http_addr().unwrap());
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut saw_not_ready = false;
    loop {
        let len = svc.handle.table().len();
        let (code, body) = http_get(&url);
        if code == 200 {
            assert_eq!(svc.handle.table().len(), n as usize, "{body}");
            assert!(len <= n as usize);
            assert!(body.contains("ok   customer_table_caught_up"), "{body}");
            break;
        }
        saw_not_ready = true;
        assert!(Instant::now() < deadline, "never ready:\n{body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !saw_not_ready {
        eprintln!("readyz: the restarted instance was ready at its first probe");
    }
    svc.stop().await.expect("clean stop");
}

// ------------------------------------------------------------------ mock cluster

fn mock_names(
    mock: &MockCluster<'_, rdkafka::producer::DefaultProducerContext>,
    test: &str,
    partitions: i32,
) -> Names {
    let names = Names::new(test);
    mock.create_topic(&names.input, partitions, 1).unwrap();
    mock.create_topic(&names.customers, 1, 1).unwrap();
    mock.create_topic(&names.dlq, 1, 1).unwrap();
    for o in &names.outputs {
        mock.create_topic(o, 3, 1).unwrap();
    }
    names
}

/// The mock cluster checks producer sequence numbers only for transactional
/// producers (librdkafka `rd_kafka_mock_validate_records`). A real broker
/// rejects a batch that follows a failed one (OUT_OF_ORDER_SEQUENCE), and
/// librdkafka relies on that: when a later batch is acknowledged it takes
/// the earlier ones as written. Against the mock, with several requests in
/// flight, a failed batch would then count as delivered without being
/// stored — a mock artifact, not a service property. One request in flight
/// per connection keeps the fault tests about the service.
fn mock_config(bs: &str, names: &Names, rules: &std::path::Path) -> triage::service::Config {
    let mut cfg = config(bs, names, rules);
    cfg.common
        .librdkafka
        .insert("max.in.flight.requests.per.connection".into(), "1".into());
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_brokers_down_for_seconds_under_load_then_up_loses_nothing() {
    let mock = MockCluster::new(1).unwrap();
    let bs = mock.bootstrap_servers();
    let names = mock_names(&mock, "mockdown", 3);
    let dir = tmp();
    let rules = rules_file(dir.path(), &names);
    let p = producer(&bs);
    produce_json(&p, &names.customers, "customer_id", &customers(100)).await;
    // The mock keeps 5 MiB per partition (older records are deleted): stay
    // well below it, duplicates included.
    let n = 8_000u64;
    let input = tickets(n, 100);
    produce_json(&p, &names.input, "ticket_id", &input).await;
    let mut cfg = mock_config(&bs, &names, &rules);
    cfg.max_in_flight = 2000;
    let svc = Running::start(cfg).await;
    let mut r = Reader::new(&bs, &names.out_topics());
    assert!(r.read_until(Duration::from_secs(60), |x| x.len() >= 1000));
    mock.broker_down(1).unwrap();
    let at_down = r.records.len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    mock.broker_up(1).unwrap();
    let ids: HashSet<String> = input.iter().map(|l| id_of(l)).collect();
    let done = r.read_until(Duration::from_secs(120), |x| x.keys.len() >= n as usize);
    let got = r.keys.clone();
    let lost: Vec<&String> = ids.iter().filter(|i| !got.contains(*i)).take(10).collect();
    let m = svc.handle.metrics_text();
    assert!(
        done && lost.is_empty(),
        "lost (first 10): {lost:?}; read {} records; stored {}\n{}",
        r.len(),
        stored(&bs, &names.out_topics()),
        m.lines()
            .filter(|l| !l.starts_with('#') && !l.contains("_bucket"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(at_down < n as usize, "the outage did not happen under load");
    eprintln!(
        "mock outage: {at_down} outputs at the outage, {} duplicates",
        r.records.len() - got.len()
    );
    svc.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_transient_produce_errors_are_retried_and_nothing_is_lost() {
    let mock = MockCluster::new(1).unwrap();
    let bs = mock.bootstrap_servers();
    let names = mock_names(&mock, "mockerr", 2);
    let dir = tmp();
    let rules = rules_file(dir.path(), &names);
    let p = producer(&bs);
    let n = 3000u64;
    let input = tickets(n, 10);
    produce_json(&p, &names.input, "ticket_id", &input).await;
    // From now on, the next produce requests fail with retriable errors.
    let mut errs = vec![RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; 8];
    errs.extend([RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION; 4]);
    errs.extend([RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT; 2]);
    mock.request_errors(RDKafkaApiKey::Produce, &errs);
    let svc = Running::start(mock_config(&bs, &names, &rules)).await;
    let mut r = Reader::new(&bs, &names.out_topics());
    let done = r.read_until(Duration::from_secs(90), |x| x.keys.len() >= n as usize);
    let got = r.keys.clone();
    let ids: HashSet<String> = input.iter().map(|l| id_of(l)).collect();
    let lost: Vec<&String> = ids.iter().filter(|i| !got.contains(*i)).take(10).collect();
    let m = svc.handle.metrics_text();
    assert!(
        done && lost.is_empty(),
        "lost (first 10): {lost:?}; read {} records; stored {}\n{}",
        r.len(),
        stored(&bs, &names.out_topics()),
        m.lines()
            .filter(|l| !l.starts_with('#') && !l.contains("_bucket"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        sum(&m, "triage_produce_errors_total"),
        0.0,
        "retried inside the producer"
    );
    eprintln!(
        "mock produce errors: {} duplicates",
        r.records.len() - got.len()
    );
    svc.stop().await.expect("clean stop");
}

// ------------------------------------------------------------------ binary

#[test]
fn demo_runs_end_to_end_on_the_mock_cluster() {
    let dir = tmp();
    let c = dir.path().join("customers.jsonl");
    let t = dir.path().join("tickets.jsonl");
    let join = |v: Vec<Vec<u8>>| {
        v.into_iter()
            .map(|l| String::from_utf8(l).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    std::fs::write(&c, join(customers(40))).unwrap();
    std::fs::write(&t, join(tickets(60, 40))).unwrap();
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/config/rules.toml");
    let mut bin = Binary::spawn(
        &[
            "demo",
            "--rules",
            rules,
            "--customers",
            c.to_str().unwrap(),
            "--tickets",
            t.to_str().unwrap(),
            "--bad",
            dir.path().join("no-such-file").to_str().unwrap(),
        ],
        &[],
    );
    let st = bin
        .wait_timeout(Duration::from_secs(120))
        .expect("demo finishes");
    let out = bin.log_text();
    assert!(st.success(), "{out}");
    assert!(
        out.contains("60 of 60 tickets triaged, 4 of 4 malformed records dead-lettered"),
        "{out}"
    );
    for reason in ["decode_error", "schema_error", "invalid_field", "too_large"] {
        assert!(out.contains(reason), "{reason}:\n{out}");
    }
}

#[test]
fn a_config_error_names_file_and_field_and_exits_non_zero() {
    let dir = tmp();
    let path = dir.path().join("service.toml");
    std::fs::write(&path, "group_id = \"g\"\nmax_in_flite = 5\n").unwrap();
    let mut bin = Binary::spawn(&["run", "--config", path.to_str().unwrap()], &[]);
    let st = bin.wait_timeout(Duration::from_secs(20)).expect("exits");
    assert!(!st.success());
    std::thread::sleep(Duration::from_millis(100));
    let out = bin.log_text();
    assert!(
        out.contains(&format!("{}:2", path.display())) && out.contains("max_in_flite"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1, "one line: {out}");

    std::fs::write(&path, "sla_at_risk_fraction = 3.0\n").unwrap();
    let mut bin = Binary::spawn(&["run", "--config", path.to_str().unwrap()], &[]);
    assert!(!bin.wait_timeout(Duration::from_secs(20)).unwrap().success());
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        bin.log_text().contains("sla_at_risk_fraction"),
        "{}",
        bin.log_text()
    );

    let mut bin = Binary::spawn(
        &["run", "--config", path.to_str().unwrap()],
        &[("TRIAGE_MAX_IN_FLIGHT", "many")],
    );
    std::fs::write(&path, "").unwrap();
    assert!(!bin.wait_timeout(Duration::from_secs(20)).unwrap().success());
}

/// The last `n` lines of a log.
fn last_lines(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `/metrics` at `url` once `done` holds of it (polled every 100 ms for up to 15 s; `what`
/// is the failure message).
async fn metrics_until(url: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, t) = http_get(url);
        if done(&t) {
            return t;
        }
        assert!(Instant::now() < deadline, "{what}:\n{t}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The shipped rules (on the test's topics) with two changes: churning customers at least P2,
/// billing tickets to a queue `billing-2`.
fn shadow_rules_file(dir: &std::path::Path, live: &std::path::Path) -> std::path::PathBuf {
    let s = std::fs::read_to_string(live).unwrap();
    let anchor = "[[overrides]]\nname = \"explicit escalation by an account manager\"";
    assert!(s.contains(anchor));
    let s = s.replace(
        anchor,
        &format!("[[overrides]]\nname = \"churning customers: at least P2\"\nwhen = {{ lifecycle = \"churning\" }}\nfloor = \"P2\"\n\n{anchor}"),
    );
    let q = "when = { category = \"billing\" }\nqueue = \"billing\"";
    assert!(s.contains(q));
    let s = s.replace(
        q,
        "when = { category = \"billing\" }\nqueue = \"billing-2\"",
    );
    let p = dir.join("rules.shadow.toml");
    std::fs::write(&p, s).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_rules_never_change_an_output_and_their_metrics_count_exactly() {
    let b = broker();
    let (names, dir, rules_path) = topics_and_rules(b, "shadow", 2).await;
    let shadow_path = shadow_rules_file(dir.path(), &rules_path);
    let live = triage::files::load_rules(&rules_path).unwrap().rules;
    let shadow = triage::files::load_rules(&shadow_path).unwrap().rules;
    let customers = customers(300);
    let tickets = tickets(600, 320);
    let p = producer(b);
    produce_json(&p, &names.customers, "customer_id", &customers).await;
    produce_json(&p, &names.input, "ticket_id", &tickets).await;
    let mut cfg = config(b, &names, &rules_path);
    cfg.shadow_rules_path = Some(shadow_path.clone());
    let svc = Running::start(cfg).await;
    let mut r = Reader::new(b, &names.out_topics());
    let n = tickets.len();
    assert!(r.read_until(Duration::from_secs(90), |r| r.len() >= n));
    let url = format!("http://{}/metrics", svc.handle.http_addr().unwrap());
    let (_, text) = http_get(&url);
    // The shadow rules reload like the rules: a changed file is picked up, an invalid one is
    // refused and the shadow in use stays.
    std::fs::write(&shadow_path, std::fs::read_to_string(&rules_path).unwrap()).unwrap();
    let live_info = format!("triage_shadow_rules_info{{version=\"{}\"}} 1", live.version);
    let t = metrics_until(&url, "the shadow rules were not reloaded", |t| {
        t.contains(&live_info)
    })
    .await;
    // The old version's series is gone.
    assert!(!t.contains(&format!(
        "triage_shadow_rules_info{{version=\"{}\"}}",
        shadow.version
    )));
    std::fs::write(&shadow_path, "not = [valid").unwrap();
    let t = metrics_until(&url, "the invalid shadow rules were not refused", |t| {
        sample(t, "triage_rules_reloads_total{result=\"failure\"}") == Some(1.0)
    })
    .await;
    assert!(t.contains(&live_info), "the shadow in use stays");
    svc.stop().await.expect("clean stop");
    // The shadow file again, for the replay below.
    let shadow_path = shadow_rules_file(dir.path(), &rules_path);

    let profiles: HashMap<String, Profile> = customers
        .iter()
        .map(|l| {
            let c: Customer = serde_json::from_slice(l).unwrap();
            (c.customer_id.clone(), Profile::from_customer(&c))
        })
        .collect();
    let inputs: HashMap<String, &Vec<u8>> = tickets.iter().map(|l| (id_of(l), l)).collect();
    let codec = triage::codec::Codec::json();
    let mut scratch = triage::engine::Scratch::default();
    let mut pairs: HashMap<(String, String), u64> = HashMap::new();
    let mut queues: HashMap<(String, String), u64> = HashMap::new();
    let mut moved = 0;
    for rec in &r.records {
        let key = rec.key_str();
        let input = inputs[&key];
        let out = rec.json();
        let now: jiff::Timestamp = out["triage"]["triaged_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        // The value is byte for byte what the live rules alone produce at that instant.
        let mut want = Vec::new();
        let o = triage::process::process(
            &codec,
            &live,
            &profiles,
            input,
            now,
            triage::process::Limits::NONE,
            &mut scratch,
            &mut want,
        );
        assert!(matches!(o, triage::process::Outcome::Triaged(_)));
        assert_eq!(
            rec.value.as_deref(),
            Some(&want[..]),
            "{key}: value changed"
        );
        assert_eq!(
            rec.topic,
            level_topic(&names, out["triage"]["priority"].as_str().unwrap())
        );
        // The header is the shadow rules' decision at the same instant.
        let d = json::decode_ticket(input).unwrap();
        let s = triage::engine::triage(
            &shadow,
            &d.ticket,
            profiles.get(d.ticket.customer_id.as_ref()),
            now,
        );
        let h: serde_json::Value = serde_json::from_str(&rec.headers["triage-shadow"]).unwrap();
        assert_eq!(h["priority"], &*s.priority, "{key}");
        assert_eq!(h["queue"], &*s.queue, "{key}");
        assert_eq!(h["rules_version"], &*shadow.version);
        let live_p = out["triage"]["priority"].as_str().unwrap().to_string();
        let live_q = out["triage"]["queue"].as_str().unwrap().to_string();
        moved += usize::from(live_p != *s.priority);
        *pairs.entry((live_p, s.priority.to_string())).or_default() += 1;
        *queues.entry((live_q, s.queue.to_string())).or_default() += 1;
    }
    assert_eq!(r.records.len(), n, "one output per ticket");
    assert!(
        moved > 0,
        "the shadow rules moved no ticket: the test proves nothing"
    );
    assert!(queues
        .keys()
        .any(|(l, s)| l == "billing" && s == "billing-2"));
    // The metrics count exactly those pairs.
    for ((l, s), c) in &pairs {
        let series = format!("triage_shadow_decisions_total{{live=\"{l}\",shadow=\"{s}\"}}");
        assert_eq!(sample(&text, &series), Some(*c as f64), "{series}");
    }
    assert_eq!(sum(&text, "triage_shadow_decisions_total"), n as f64);
    for ((l, s), c) in &queues {
        let series = format!("triage_shadow_queue_total{{live=\"{l}\",shadow=\"{s}\"}}");
        assert_eq!(sample(&text, &series), Some(*c as f64), "{series}");
    }
    assert_eq!(sum(&text, "triage_shadow_errors_total"), 0.0);
    assert!(text.contains(&format!(
        "triage_shadow_rules_info{{version=\"{}\"}} 1",
        shadow.version
    )));

    // `triage replay` of the priority topics against what was recorded, with the shadow rules
    // as the candidate, sees the same moves (each ticket decided as of when it was triaged).
    let cust_file = dir.path().join("customers.jsonl");
    std::fs::write(
        &cust_file,
        customers
            .iter()
            .map(|c| [c.as_slice(), b"\n"].concat())
            .collect::<Vec<_>>()
            .concat(),
    )
    .unwrap();
    let topics = names.out_topics().join(",");
    let cust = cust_file.to_str().unwrap();
    let rep = review_json(
        &["replay", "--recorded", "--customers", cust],
        &shadow_path,
        b,
        &topics,
    );
    assert_eq!(rep["tickets"], n);
    // `triage report` reads the same topics: every ticket, each once, with its routing.
    let report = review_json(&["report"], &rules_path, b, &topics);
    assert_eq!(report["tickets"], n);
    let by_priority: u64 = report["totals"]["priority"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["count"].as_u64().unwrap())
        .sum();
    assert_eq!(by_priority, n as u64);
    let mut live_counts: HashMap<&str, u64> = HashMap::new();
    for ((live, _), c) in &pairs {
        *live_counts.entry(live.as_str()).or_default() += c;
    }
    for k in report["totals"]["priority"].as_array().unwrap() {
        assert_eq!(
            k["count"].as_u64(),
            live_counts.get(k["key"].as_str().unwrap()).copied(),
            "{k}"
        );
    }
    let levels: Vec<String> = rep["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    for (i, row) in rep["matrix"].as_array().unwrap().iter().enumerate() {
        for (j, c) in row.as_array().unwrap().iter().enumerate() {
            let want = pairs
                .get(&(levels[i].clone(), levels[j].clone()))
                .copied()
                .unwrap_or(0);
            assert_eq!(c.as_u64().unwrap(), want, "{} → {}", levels[i], levels[j]);
        }
    }
}
