//! Failure tests that need a real broker (Apache Kafka), run by `make chaos`
//! (`cargo test --test chaos -- --ignored --test-threads=1 --nocapture`):
//!
//! - SIGKILL the service mid-stream and restart it, 10 times in a row, under
//!   load: no ticket lost, duplicates counted, time to partitions measured;
//! - kill -9 the broker under load and restart it on the same data: nothing
//!   lost, the service recovers without a restart of its own;
//! - three instances joining and leaving one by one under load: nothing
//!   lost, order per input partition kept.
//!
//! Each prints its figures (runs, losses, duplicates, recovery times); each
//! is bounded in time. The SLA watcher's kill -9 tests are in
//! `tests/sla_watch.rs` (part of `make test`).

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

const PARTITIONS: i32 = 3;

/// A ticket whose id says its input partition and sequence: `I-<p>-<seq>`.
fn ticket(p: i32, seq: u64) -> (String, Vec<u8>) {
    let id = format!("I-{p}-{seq:07}");
    let v = format!(
        r#"{{"ticket_id":"{id}","customer_id":"C-{}","created_at":"2026-11-24T10:00:00Z","subject":"Cannot export invoices","body":"The export button fails since this morning."}}"#,
        seq % 50
    );
    (id, v.into_bytes())
}

/// Produces `total` tickets round-robin over the partitions at about
/// `rate`/s in the background; returns the ids once all are acknowledged.
fn load(
    bootstrap: &str,
    topic: &str,
    total: u64,
    rate: u64,
) -> (
    tokio::task::JoinHandle<HashSet<String>>,
    Arc<AtomicU64>,
    Arc<AtomicBool>,
) {
    let p: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "300000")
        .create()
        .expect("producer");
    let topic = topic.to_string();
    let sent = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let (s2, d2) = (sent.clone(), done.clone());
    let h = tokio::spawn(async move {
        let mut ids = HashSet::new();
        let mut futs = Vec::new();
        let start = Instant::now();
        let mut seq = [0u64; PARTITIONS as usize];
        for i in 0..total {
            let part = (i % PARTITIONS as u64) as i32;
            let (id, v) = ticket(part, seq[part as usize]);
            seq[part as usize] += 1;
            let mut rec = FutureRecord::to(&topic)
                .partition(part)
                .key(id.as_bytes())
                .payload(&v);
            loop {
                match p.send_result(rec) {
                    Ok(f) => break futs.push(f),
                    Err((_, back)) => {
                        rec = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            ids.insert(id);
            s2.fetch_add(1, Ordering::Relaxed);
            // Pace: i records by i / rate seconds.
            let due = Duration::from_secs_f64(i as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        for f in futs {
            f.await
                .expect("not cancelled")
                .unwrap_or_else(|(e, _)| panic!("load: delivery failed: {e}"));
        }
        p.flush(Duration::from_secs(60)).expect("flush");
        d2.store(true, Ordering::Release);
        ids
    });
    (h, sent, done)
}

fn service_config(b: &str, names: &Names, dir: &std::path::Path) -> std::path::PathBuf {
    let rules = rules_file(dir, names);
    let mut cfg = config(b, names, &rules);
    cfg.http_listen = "127.0.0.1:0".parse().unwrap();
    cfg.common.log_level = "info".into();
    let path = dir.join("service.toml");
    std::fs::write(&path, config_toml(&cfg)).unwrap();
    path
}

/// Losses, duplicates, and whether each (output partition, input partition)
/// saw its tickets' first occurrences in input order.
fn account(r: &Reader, ids: &HashSet<String>) -> (Vec<String>, usize, usize) {
    let lost: Vec<String> = ids
        .iter()
        .filter(|i| !r.keys.contains(*i))
        .cloned()
        .collect();
    let dups = r.records.len() - r.keys.len();
    let mut seen = HashSet::new();
    let mut last: HashMap<(String, i32, String), u64> = HashMap::new();
    let mut out_of_order = 0;
    for rec in &r.records {
        let key = rec.key_str();
        if !seen.insert(key.clone()) {
            continue;
        }
        let mut it = key.split('-').skip(1);
        let (Some(p), Some(seq)) = (it.next(), it.next().and_then(|s| s.parse::<u64>().ok()))
        else {
            continue;
        };
        let slot = (rec.topic.clone(), rec.partition, p.to_string());
        if let Some(prev) = last.get(&slot) {
            if *prev > seq {
                out_of_order += 1;
            }
        }
        last.insert(slot, seq);
    }
    (lost, dups, out_of_order)
}

/// A test's topics and service config on the shared broker, the load
/// (30,000 tickets at 1,000/s) started, and a reader of its outputs.
struct Stream {
    _dir: tempfile::TempDir,
    cfg_arg: String,
    load: tokio::task::JoinHandle<HashSet<String>>,
    sent: Arc<AtomicU64>,
    reader: Reader,
}

const RATE: u64 = 1_000;

async fn stream(name: &str) -> Stream {
    let b = broker();
    let names = Names::new(name);
    create_topics(b, &names, PARTITIONS).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg_arg = service_config(b, &names, dir.path()).display().to_string();
    let (load, sent, _) = load(b, &names.input, 30_000, RATE);
    let reader = Reader::new(b, &names.out_topics());
    Stream {
        _dir: dir,
        cfg_arg,
        load,
        sent,
        reader,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "make chaos"]
async fn sigkill_the_service_ten_times_under_load_loses_nothing() {
    let s = stream("chaos-kill").await;
    let (cfg_arg, h, sent, mut r, rate) = (s.cfg_arg, s.load, s.sent, s.reader, RATE);
    let mut assign_times = Vec::new();
    for kill in 1..=10 {
        let started = Instant::now();
        let mut svc = Binary::spawn(&["run", "--config", &cfg_arg], &[]);
        let assigned = svc.wait_log("\"kind\":\"assign\"", Duration::from_secs(60));
        assert!(
            assigned,
            "run {kill}: no assignment in 60 s\n{}",
            svc.log_text()
        );
        assign_times.push(started.elapsed());
        // Let it work a little, then SIGKILL mid-stream.
        let before = r.len();
        r.read_until(Duration::from_secs(3), |x| x.len() >= before + 1_500);
        svc.signal("KILL");
        svc.wait_timeout(Duration::from_secs(10)).expect("killed");
        eprintln!(
            "kill {kill}: assigned after {:.1} s, {} outputs so far, {} sent",
            assign_times.last().unwrap().as_secs_f64(),
            r.len(),
            sent.load(Ordering::Relaxed)
        );
    }
    let started = Instant::now();
    let mut last = Binary::spawn(&["run", "--config", &cfg_arg], &[]);
    assert!(last.wait_log("\"kind\":\"assign\"", Duration::from_secs(60)));
    assign_times.push(started.elapsed());
    let ids = h.await.expect("load task");
    let done = r.read_until(Duration::from_secs(180), |x| x.keys.len() >= ids.len());
    let (lost, dups, out_of_order) = account(&r, &ids);
    last.signal("TERM");
    last.wait_timeout(Duration::from_secs(30));
    let max_assign = assign_times.iter().max().unwrap();
    eprintln!(
        "chaos sigkill: 10 kills under {rate}/s, {} tickets, {} lost, {dups} duplicates, {out_of_order} out of order; time to partitions after each start: max {:.1} s, mean {:.1} s",
        ids.len(),
        lost.len(),
        max_assign.as_secs_f64(),
        assign_times.iter().map(Duration::as_secs_f64).sum::<f64>() / assign_times.len() as f64
    );
    assert!(
        done && lost.is_empty(),
        "lost {} (first: {:?})",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    assert_eq!(out_of_order, 0);
    // The broker hands the dead member's partitions over when its session
    // (session.timeout.ms = 6 s in tests) expires; a rebalance on top.
    assert!(
        *max_assign <= Duration::from_secs(6 + 6),
        "a restarted instance waited {max_assign:?} for its partitions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "make chaos"]
async fn kill_9_the_broker_under_load_and_restart_it_loses_nothing() {
    // A broker of its own: this test kills it.
    let node = KafkaNode::start();
    let b = node.bootstrap.clone();
    let names = Names::new("chaos-broker");
    create_topics(&b, &names, PARTITIONS).await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), &names);
    let mut cfg = config(&b, &names, &rules);
    cfg.common.log_level = "warn".into();
    let svc = Running::start(cfg).await;
    let (total, rate) = (20_000u64, 1_000u64);
    let (h, _, _) = load(&b, &names.input, total, rate);
    let mut r = Reader::new(&b, &names.out_topics());
    assert!(r.read_until(Duration::from_secs(60), |x| x.len() >= 3_000));
    let killed_at = r.len();
    node.kill();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    node.restart();
    let up = Instant::now();
    eprintln!(
        "broker down {:.1} s (SIGKILL, restart on the same data)",
        (up - down).as_secs_f64()
    );
    // The reader lost its connection too; read everything again.
    let mut r = Reader::new(&b, &names.out_topics());
    let recovered = r.read_until(Duration::from_secs(120), |x| x.len() > killed_at);
    let recovery = up.elapsed();
    let ids = h.await.expect("load task");
    let done = r.read_until(Duration::from_secs(180), |x| x.keys.len() >= ids.len());
    let (lost, dups, out_of_order) = account(&r, &ids);
    let m = svc.handle.metrics_text();
    svc.stop()
        .await
        .expect("the service stops cleanly: it never had to restart");
    eprintln!(
        "chaos broker: {} tickets, {} lost, {dups} duplicates, {out_of_order} out of order; new outputs {:.1} s after the broker was back; produce errors {}",
        ids.len(),
        lost.len(),
        recovery.as_secs_f64(),
        sum(&m, "triage_produce_errors_total")
    );
    assert!(recovered, "no output after the broker came back");
    assert!(
        done && lost.is_empty(),
        "lost {} (first: {:?})",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    assert_eq!(out_of_order, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "make chaos"]
async fn three_instances_join_and_leave_one_by_one_under_load_in_order() {
    let s = stream("chaos-join").await;
    let (cfg_arg, h, mut r) = (s.cfg_arg, s.load, s.reader);
    let mut running: BTreeMap<usize, Binary> = BTreeMap::new();
    let mut log = Vec::new();
    // Join: A, B, C, 4 s apart; leave: A, B (SIGTERM), 4 s apart; C drains.
    for i in 0..3 {
        running.insert(i, Binary::spawn(&["run", "--config", &cfg_arg], &[]));
        let t = Instant::now();
        r.read_until(Duration::from_secs(4), |_| false);
        log.push(format!(
            "join {i} ({:.1} s, {} outputs)",
            t.elapsed().as_secs_f64(),
            r.len()
        ));
    }
    for i in 0..2 {
        let mut inst = running.remove(&i).unwrap();
        inst.signal("TERM");
        let st = inst
            .wait_timeout(Duration::from_secs(30))
            .expect("leaves on SIGTERM");
        assert!(st.success(), "instance {i}: {st:?}\n{}", inst.log_text());
        r.read_until(Duration::from_secs(4), |_| false);
        log.push(format!("leave {i} ({} outputs)", r.len()));
    }
    let ids = h.await.expect("load task");
    let done = r.read_until(Duration::from_secs(180), |x| x.keys.len() >= ids.len());
    let (lost, dups, out_of_order) = account(&r, &ids);
    let mut last = running.remove(&2).unwrap();
    last.signal("TERM");
    last.wait_timeout(Duration::from_secs(30));
    eprintln!(
        "chaos join/leave: {}; {} tickets, {} lost, {dups} duplicates, {out_of_order} out of order",
        log.join(", "),
        ids.len(),
        lost.len()
    );
    assert!(
        done && lost.is_empty(),
        "lost {} (first: {:?})",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    assert_eq!(out_of_order, 0, "order per input partition broken");
}
