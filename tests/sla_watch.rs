//! `triage watch` against a real broker (Apache Kafka, started by `tests/common`, or
//! `TRIAGE_TEST_BROKERS`): the binary runs with a rules file whose `fast` policy has targets of
//! seconds on a 24x7 calendar, and the test plays the triage service (triaged records) and the help
//! desk (lifecycle events). Every test has its own topics and group and a bounded run time; a test
//! that cannot get its broker fails loudly.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use jiff::{SignedDuration, Timestamp};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{json, Value};

/// One record read from an output topic.
#[derive(Debug, Clone)]
struct Out {
    offset: i64,
    key: String,
    value: Value,
    headers: BTreeMap<String, String>,
}

impl Out {
    fn json(&self) -> &Value {
        &self.value
    }
    fn key_str(&self) -> String {
        self.key.clone()
    }
}

/// Reads one topic from the beginning, outside any group.
struct Reader {
    c: BaseConsumer,
    records: Vec<Out>,
}

impl Reader {
    fn new(bootstrap: &str, topic: &str) -> Reader {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", "triage-sla-test-reader")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "10")
            .create()
            .expect("reader");
        let md = c
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("metadata");
        let mut tpl = TopicPartitionList::new();
        for p in md.topics()[0].partitions() {
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
                .unwrap();
        }
        c.assign(&tpl).expect("assign");
        Reader {
            c,
            records: Vec::new(),
        }
    }

    /// Polls until `done(&records)` or the timeout; returns whether done.
    fn read_until(&mut self, timeout: Duration, mut done: impl FnMut(&[Out]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.records) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            if let Some(Ok(m)) = self.c.poll(Duration::from_millis(50)) {
                let mut headers = BTreeMap::new();
                if let Some(h) = m.headers() {
                    for hd in h.iter() {
                        headers.insert(
                            hd.key.to_string(),
                            String::from_utf8_lossy(hd.value.unwrap_or_default()).into_owned(),
                        );
                    }
                }
                self.records.push(Out {
                    offset: m.offset(),
                    key: String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                    value: serde_json::from_slice(m.payload().unwrap_or_default())
                        .unwrap_or(Value::Null),
                    headers,
                });
            }
        }
    }
}

/// Targets of the `fast` policy per level: (first response, resolution), seconds.
const FAST: [(&str, i64, i64); 4] = [("P1", 4, 8), ("P2", 6, 12), ("P3", 8, 16), ("P4", 10, 20)];

struct Topics {
    prefix: String,
    triaged: Vec<String>,
    lifecycle: String,
    signals: String,
    acks: String,
    changelog: String,
    group: String,
}

impl Topics {
    fn new(test: &str) -> Topics {
        let n = Names::new(test);
        let p = n.prefix.clone();
        Topics {
            triaged: (1..=4)
                .map(|i| format!("{p}.tickets.triaged.p{i}"))
                .collect(),
            lifecycle: format!("{p}.tickets.lifecycle"),
            signals: format!("{p}.tickets.sla"),
            acks: format!("{p}.tickets.acks"),
            changelog: format!("{p}.sla-changelog"),
            group: format!("{p}.watch"),
            prefix: p,
        }
    }

    fn level_topic(&self, priority: &str) -> &str {
        let i: usize = priority.trim_start_matches('P').parse().unwrap();
        &self.triaged[i - 1]
    }

    /// Creates the inputs and outputs with `partitions` each (the lifecycle topic with
    /// `lifecycle_partitions`); the watcher creates the changelog.
    async fn create(&self, b: &str, partitions: i32, lifecycle_partitions: i32) {
        let mut specs: Vec<(String, i32, bool)> = self
            .triaged
            .iter()
            .map(|t| (t.clone(), partitions, false))
            .collect();
        specs.push((self.lifecycle.clone(), lifecycle_partitions, false));
        specs.push((self.signals.clone(), partitions, false));
        specs.push((self.acks.clone(), partitions, false));
        create(b, &specs).await;
    }
}

/// The shipped rules with this test's level topics and the `fast` policy.
fn rules_file(dir: &Path, t: &Topics) -> PathBuf {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/rules.toml"))
        .expect("config/rules.toml");
    let mut text = src.replace(
        "topic = \"tickets.triaged.p",
        &format!("topic = \"{}.tickets.triaged.p", t.prefix),
    );
    assert_ne!(text, src, "rules topics not rewritten");
    text.push_str("\n[sla.policies.fast]\ncalendar = \"24x7\"\n");
    for (l, fr, rs) in FAST {
        text.push_str(&format!(
            "targets.{l} = {{ first_response = \"{fr}s\", resolution = \"{rs}s\" }}\n"
        ));
    }
    let p = dir.join("rules.toml");
    std::fs::write(&p, text).expect("write rules");
    p
}

struct Watcher {
    bin: Binary,
    http: String,
}

fn watch_config(dir: &Path, b: &str, t: &Topics, extra: &str) -> (PathBuf, String) {
    let rules = rules_file(dir, t);
    let port = free_port();
    let text = format!(
        r#"bootstrap_servers = "{b}"
group_id = "{group}"
rules_path = "{rules}"
lifecycle_topic = "{lifecycle}"
signals_topic = "{signals}"
acks_topic = "{acks}"
changelog_topic = "{changelog}"
acknowledgments = true
changelog_replication_factor = 1
http_listen = "127.0.0.1:{port}"
drain_timeout_seconds = 5
catch_up_timeout_seconds = 20
{extra}
[librdkafka]
"fetch.wait.max.ms" = "10"
"session.timeout.ms" = "6000"
"heartbeat.interval.ms" = "500"
"topic.metadata.refresh.interval.ms" = "2000"
"#,
        group = t.group,
        rules = rules.display(),
        lifecycle = t.lifecycle,
        signals = t.signals,
        acks = t.acks,
        changelog = t.changelog,
    );
    let p = dir.join("watch.toml");
    std::fs::write(&p, text).expect("write watch.toml");
    (p, format!("http://127.0.0.1:{port}"))
}

impl Watcher {
    /// Starts `triage watch` and waits (bounded) until it is ready: partitions assigned, state
    /// restored, input backlog applied.
    fn start(config: &Path, http: &str) -> Watcher {
        let bin = Binary::spawn(
            &["watch", "--config", &config.display().to_string()],
            &[("RUST_LOG", "info,librdkafka=warn")],
        );
        let mut w = Watcher {
            bin,
            http: http.to_string(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = w.bin.child.try_wait().expect("try_wait") {
                panic!(
                    "triage watch exited early ({status}):\n{}",
                    w.bin.log_text()
                );
            }
            if let Ok((200, _)) = try_get(&format!("{}/readyz", w.http)) {
                return w;
            }
            assert!(
                Instant::now() < deadline,
                "triage watch not ready within 60 s:\n{}",
                w.bin.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn metrics(&self) -> String {
        http_get(&format!("{}/metrics", self.http)).1
    }

    /// Waits (bounded) until `series` has `value` (delivery reports are counted a moment after
    /// the record is readable), then returns the exposition.
    fn metrics_when(&self, series: &str, value: f64) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let m = self.metrics();
            if sample(&m, series) == Some(value) || Instant::now() >= deadline {
                return m;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(mut self) {
        self.bin.signal("TERM");
        let s = self.bin.wait_timeout(Duration::from_secs(30));
        assert!(
            s.is_some_and(|s| s.success()),
            "triage watch did not stop cleanly ({s:?}):\n{}",
            self.bin.log_text()
        );
    }
}

fn try_get(url: &str) -> Result<(u16, String), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(url).call().map_err(|e| e.to_string())?;
    Ok((
        r.status().as_u16(),
        r.body_mut().read_to_string().unwrap_or_default(),
    ))
}

/// Now, to the millisecond (clean RFC 3339 in the records).
fn now_ms() -> Timestamp {
    Timestamp::from_millisecond(Timestamp::now().as_millisecond()).unwrap()
}

/// `s` seconds, exact to the millisecond.
fn secs(s: f64) -> SignedDuration {
    SignedDuration::from_millis((s * 1000.0).round() as i64)
}

/// A triaged ticket as the triage service writes it, on the `fast` policy.
fn triaged(id: &str, priority: &str, created: Timestamp) -> Vec<u8> {
    let (_, fr, rs) = FAST
        .iter()
        .find(|(l, _, _)| *l == priority)
        .copied()
        .unwrap();
    serde_json::to_vec(&json!({
        "ticket_id": id,
        "customer_id": "C-TEST",
        "created_at": created.to_string(),
        "subject": "It does not work",
        "triage": {
            "priority": priority,
            "score": 42,
            "category": "bug",
            "severity": "medium",
            "queue": "app",
            "tier": "L1",
            "sla": {
                "policy": "fast",
                "calendar": "24x7",
                "timezone": "UTC",
                "first_response_due": (created + SignedDuration::from_secs(fr)).to_string(),
                "resolution_due": (created + SignedDuration::from_secs(rs)).to_string(),
                "first_response_target_seconds": fr,
                "resolution_target_seconds": rs
            },
            "reasons": [],
            "rules_version": "test",
            "triaged_at": created.to_string()
        }
    }))
    .unwrap()
}

fn lifecycle(id: &str, kind: &str, at: Timestamp, extra: Value) -> Vec<u8> {
    let mut v = json!({"ticket_id": id, "type": kind, "at": at.to_string()});
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    serde_json::to_vec(&v).unwrap()
}

async fn send(p: &rdkafka::producer::FutureProducer, topic: &str, id: &str, value: Vec<u8>) {
    produce(p, topic, &[(id.to_string(), Some(value))]).await;
}

/// Sleeps until the real clock reaches `t`.
async fn until(t: Timestamp) {
    let d = t.duration_since(Timestamp::now());
    if d.is_positive() {
        tokio::time::sleep(Duration::try_from(d).unwrap()).await;
    }
}

/// (signal_id → record) of every signal read so far; panics on a repeated signal_id.
fn by_id(records: &[Out]) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    for r in records {
        let v = r.json();
        let id = v["signal_id"].as_str().expect("signal_id").to_string();
        assert_eq!(
            r.key_str(),
            v["ticket_id"].as_str().unwrap(),
            "keyed by ticket_id"
        );
        if let Some(prev) = m.insert(id.clone(), v.clone()) {
            panic!("signal {id} sent twice:\n{prev}\n{v}");
        }
    }
    m
}

fn ts(v: &Value) -> Timestamp {
    v.as_str().expect("timestamp").parse().expect("RFC 3339")
}

/// Checks a signal: its crossing instant exactly, and that it was decided within `slack` of it.
fn assert_signal(s: &BTreeMap<String, Value>, id: &str, at: Timestamp, slack: f64) -> Value {
    let v = s
        .get(id)
        .unwrap_or_else(|| panic!("no signal {id}; got {:?}", s.keys().collect::<Vec<_>>()))
        .clone();
    assert_eq!(ts(&v["at"]), at, "{id}: at");
    let delay = ts(&v["emitted_at"]).duration_since(at).as_secs_f64();
    assert!(
        (0.0..slack).contains(&delay),
        "{id}: decided {delay:.3} s after the crossing (allowed < {slack} s)"
    );
    v
}

fn signals_of(s: &BTreeMap<String, Value>, ticket: &str) -> Vec<String> {
    s.keys()
        .filter(|k| k.starts_with(&format!("{ticket}:")))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_response_warns_then_breaches_on_time_and_acknowledges() {
    let b = broker();
    let t = Topics::new("warn");
    t.create(b, 2, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let (cfg, http) = watch_config(dir.path(), b, &t, "");
    let w = Watcher::start(&cfg, &http);
    let p = producer(b);

    // P2 on `fast`: first response 6 s, resolution 12 s.
    let created = now_ms();
    send(
        &p,
        t.level_topic("P2"),
        "T-warn",
        triaged("T-warn", "P2", created),
    )
    .await;
    let mut r = Reader::new(b, &t.signals);
    let want = [
        "T-warn:first_response:warning:0.5",
        "T-warn:first_response:warning:0.75",
        "T-warn:first_response:warning:0.9",
        "T-warn:first_response:breached",
        "T-warn:resolution:warning:0.5",
    ];
    let ok = r.read_until(Duration::from_secs(20), |recs| {
        let ids: Vec<String> = recs
            .iter()
            .map(|r| r.json()["signal_id"].as_str().unwrap_or("").to_string())
            .collect();
        want.iter().all(|w| ids.iter().any(|i| i == w))
    });
    let s = by_id(&r.records);
    assert!(
        ok,
        "signals missing; got {:?}\n{}",
        s.keys(),
        w.bin.log_text()
    );
    for (id, frac) in [(want[0], 0.5), (want[1], 0.75), (want[2], 0.9)] {
        let v = assert_signal(&s, id, created + secs(6.0 * frac), 2.0);
        assert_eq!(v["signal"], "warning");
        assert_eq!(v["threshold"], json!(frac));
        assert_eq!(ts(&v["due"]), created + secs(6.0));
        assert_eq!(v["priority"], "P2");
        assert_eq!(v["queue"], "app");
        assert_eq!(v["customer_id"], "C-TEST");
        assert_eq!(v["target_seconds"], 6);
    }
    let v = assert_signal(&s, want[3], created + secs(6.0), 2.0);
    assert_eq!(v["signal"], "breached");
    assert_eq!(v["time_left_seconds"], 0);
    assert_signal(&s, want[4], created + secs(6.0), 2.0);
    // Signals come in time order on the ticket's partition, each with its headers.
    let fr: Vec<&Out> = r
        .records
        .iter()
        .filter(|r| r.json()["clock"] == "first_response")
        .collect();
    assert!(fr.windows(2).all(|w| w[0].offset < w[1].offset));
    assert_eq!(
        fr[3].headers.get("sla-signal").map(String::as_str),
        Some("breached")
    );
    assert_eq!(
        fr[0].headers.get("sla-clock").map(String::as_str),
        Some("first_response")
    );

    // The customer acknowledgment, once, rendered from the rules' template.
    let mut acks = Reader::new(b, &t.acks);
    assert!(acks.read_until(Duration::from_secs(5), |r| !r.is_empty()));
    let a = acks.records[0].json();
    assert_eq!(a["ticket_id"], "T-warn");
    assert_eq!(ts(&a["first_response_due"]), created + secs(6.0));
    let msg = a["message"].as_str().unwrap();
    assert!(
        msg.contains("T-warn") && msg.contains("P2") && msg.contains("6 seconds"),
        "{msg}"
    );

    let m = w.metrics_when(
        r#"triage_sla_signals_total{clock="first_response",priority="P2",signal="breached"}"#,
        1.0,
    );
    assert_eq!(
        sample(
            &m,
            r#"triage_sla_signals_total{clock="first_response",priority="P2",signal="warning"}"#
        ),
        Some(3.0),
        "signals counted as delivered:\n{m}"
    );
    assert_eq!(
        sample(
            &m,
            r#"triage_sla_signals_total{clock="first_response",priority="P2",signal="breached"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            r#"triage_sla_open_tickets{priority="P2",state="breached"}"#
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(sample(&m, "triage_sla_acks_total"), Some(1.0));
    w.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_before_target_is_met_and_never_breached() {
    let b = broker();
    let t = Topics::new("met");
    t.create(b, 2, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let (cfg, http) = watch_config(dir.path(), b, &t, "");
    let w = Watcher::start(&cfg, &http);
    let p = producer(b);

    // P1: first response 4 s, resolution 8 s. Answered after 1 s, solved after 2 s.
    let created = now_ms();
    send(
        &p,
        t.level_topic("P1"),
        "T-met",
        triaged("T-met", "P1", created),
    )
    .await;
    // T-early: the help desk's first response arrives before the triaged ticket.
    let early = now_ms();
    send(
        &p,
        &t.lifecycle,
        "T-early",
        lifecycle("T-early", "first_response", early + secs(0.5), json!({})),
    )
    .await;
    until(created + secs(1.0)).await;
    send(
        &p,
        &t.lifecycle,
        "T-met",
        lifecycle(
            "T-met",
            "first_response",
            created + secs(1.0),
            json!({"actor": "agent-1"}),
        ),
    )
    .await;
    // The triaged record reaches the watcher after the response's instant (an event stamped in
    // the future would count as "now").
    until(early + secs(0.7)).await;
    send(
        &p,
        t.level_topic("P1"),
        "T-early",
        triaged("T-early", "P1", early),
    )
    .await;
    until(created + secs(2.0)).await;
    send(
        &p,
        &t.lifecycle,
        "T-met",
        lifecycle(
            "T-met",
            "status_changed",
            created + secs(2.0),
            json!({"status": "solved"}),
        ),
    )
    .await;
    send(
        &p,
        &t.lifecycle,
        "T-met",
        lifecycle(
            "T-met",
            "satisfaction",
            created + secs(2.5),
            json!({"score": 5}),
        ),
    )
    .await;

    // Past both first-response targets and T-met's resolution target.
    until(created + secs(9.5)).await;
    let mut r = Reader::new(b, &t.signals);
    r.read_until(Duration::from_secs(3), |_| false);
    let s = by_id(&r.records);
    assert_eq!(
        signals_of(&s, "T-met"),
        ["T-met:first_response:met", "T-met:resolution:met"],
        "{s:#?}"
    );
    let v = assert_signal(&s, "T-met:first_response:met", created + secs(1.0), 2.0);
    assert_eq!(v["time_left_seconds"], 3);
    assert_eq!(v["elapsed_seconds"], 1);
    assert_eq!(ts(&v["due"]), created + secs(4.0));
    assert_signal(&s, "T-met:resolution:met", created + secs(2.0), 2.0);
    // T-early: met from the buffered event; its resolution clock still runs (warnings at 4 s…).
    let early_met = &s["T-early:first_response:met"];
    assert_eq!(ts(&early_met["at"]), early + secs(0.5));
    assert!(!s.contains_key("T-early:first_response:breached"));
    assert!(s.contains_key("T-early:resolution:warning:0.5"), "{s:#?}");

    // No acknowledgment for T-early (answered before triage reached the watcher).
    let mut acks = Reader::new(b, &t.acks);
    acks.read_until(Duration::from_secs(2), |_| false);
    let ids: Vec<String> = acks.records.iter().map(Out::key_str).collect();
    assert_eq!(ids, ["T-met"]);

    let m = w.metrics();
    assert_eq!(
        sample(
            &m,
            r#"triage_sla_signals_total{clock="first_response",priority="P1",signal="met"}"#
        ),
        Some(2.0),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            r#"triage_csat_score_count{category="bug",priority="P1"}"#
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(&m, r#"triage_csat_score_sum{category="bug",priority="P1"}"#),
        Some(5.0)
    );
    assert_eq!(
        sample(
            &m,
            r#"triage_sla_elapsed_ratio_count{clock="first_response",priority="P1"}"#
        ),
        Some(2.0),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            r#"triage_sla_records_total{input="lifecycle",result="buffered"}"#
        ),
        Some(1.0)
    );
    w.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_shift_the_deadline_by_the_paused_time() {
    let b = broker();
    let t = Topics::new("pause");
    t.create(b, 2, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let (cfg, http) = watch_config(dir.path(), b, &t, "");
    let w = Watcher::start(&cfg, &http);
    let p = producer(b);

    // P1: resolution 8 s. Answered at 0.5 s, pending (waiting on the customer) from 1 s to 3 s:
    // the resolution clock is paused for 2 s, so it is due at 10 s instead of 8 s.
    let created = now_ms();
    send(
        &p,
        t.level_topic("P1"),
        "T-pause",
        triaged("T-pause", "P1", created),
    )
    .await;
    until(created + secs(0.5)).await;
    send(
        &p,
        &t.lifecycle,
        "T-pause",
        lifecycle("T-pause", "agent_reply", created + secs(0.5), json!({})),
    )
    .await;
    until(created + secs(1.0)).await;
    send(
        &p,
        &t.lifecycle,
        "T-pause",
        lifecycle(
            "T-pause",
            "status_changed",
            created + secs(1.0),
            json!({"status": "waiting_on_customer"}),
        ),
    )
    .await;
    until(created + secs(2.0)).await;
    let m = w.metrics_when(
        r#"triage_sla_open_tickets{priority="P1",state="paused"}"#,
        1.0,
    );
    assert_eq!(
        sample(
            &m,
            r#"triage_sla_open_tickets{priority="P1",state="paused"}"#
        ),
        Some(1.0),
        "{m}"
    );
    until(created + secs(3.0)).await;
    send(
        &p,
        &t.lifecycle,
        "T-pause",
        lifecycle("T-pause", "customer_reply", created + secs(3.0), json!({})),
    )
    .await;

    let mut r = Reader::new(b, &t.signals);
    let ok = r.read_until(Duration::from_secs(15), |recs| {
        recs.iter()
            .any(|r| r.json()["signal_id"] == "T-pause:resolution:breached")
    });
    let s = by_id(&r.records);
    assert!(ok, "no breach; got {:?}\n{}", s.keys(), w.bin.log_text());
    assert_eq!(
        signals_of(&s, "T-pause"),
        [
            "T-pause:first_response:met",
            "T-pause:resolution:breached",
            "T-pause:resolution:warning:0.5",
            "T-pause:resolution:warning:0.75",
            "T-pause:resolution:warning:0.9",
        ]
    );
    let due = created + secs(10.0);
    for (id, elapsed) in [
        ("T-pause:resolution:warning:0.5", 4.0),
        ("T-pause:resolution:warning:0.75", 6.0),
        ("T-pause:resolution:warning:0.9", 7.2),
        ("T-pause:resolution:breached", 8.0),
    ] {
        // Crossed `elapsed` seconds of running time after creation, plus the 2 s paused.
        let v = assert_signal(&s, id, created + secs(elapsed + 2.0), 2.0);
        assert_eq!(v["paused_seconds"], 2, "{id}");
        assert_eq!(ts(&v["due"]), due, "{id}");
    }
    w.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_after_signals_before_their_state_is_written_neither_loses_nor_repeats() {
    // The first instance writes its changelog every 4 s: the tickets are in it, the first
    // warnings are not (they are found on the broker after the watermark).
    kill_and_restart("kill", 4000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_before_any_state_is_written_neither_loses_nor_repeats() {
    // The first instance never writes its changelog: the second finds signals and acks of
    // tickets it has no state for, replays the inputs and must not send them again.
    kill_and_restart("kill0", 600_000).await;
}

/// Kill -9 and restart: neither loses nor repeats a signal that was committed, and restores the
/// open clocks. `commit_interval_ms` of the first instance decides how much of its state was
/// written when it dies.
async fn kill_and_restart(name: &str, commit_interval_ms: u64) {
    let b = broker();
    let t = Topics::new(name);
    t.create(b, 2, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let (cfg_a, http_a) = watch_config(
        dir.path(),
        b,
        &t,
        &format!("commit_interval_ms = {commit_interval_ms}"),
    );
    let a = Watcher::start(&cfg_a, &http_a);
    let p = producer(b);

    // P4: first response 10 s, resolution 20 s. Three tickets, one answered while nobody watches.
    let created = now_ms();
    for id in ["T-k1", "T-k2", "T-k3"] {
        send(&p, t.level_topic("P4"), id, triaged(id, "P4", created)).await;
    }
    let mut r = Reader::new(b, &t.signals);
    let ok = r.read_until(Duration::from_secs(15), |recs| {
        recs.iter()
            .filter(|r| r.json()["threshold"] == json!(0.5))
            .count()
            == 3
    });
    assert!(ok, "first warnings missing:\n{}", a.bin.log_text());
    let mut a = a;
    a.bin.signal("KILL");
    a.bin.wait_timeout(Duration::from_secs(10)).expect("killed");
    let before = by_id(&r.records);
    assert_eq!(before.len(), 3, "{before:#?}");
    let log_a = a.bin.log_text();
    drop(a);
    // While nobody watches: T-k2 gets its first response (after its 0.5 warning at 5 s).
    send(
        &p,
        &t.lifecycle,
        "T-k2",
        lifecycle("T-k2", "first_response", created + secs(6.0), json!({})),
    )
    .await;
    until(created + secs(6.5)).await;

    // The second instance (normal commit interval) takes over after the session timeout.
    let (cfg_b, http_b) = watch_config(dir.path(), b, &t, "");
    let bw = Watcher::start(&cfg_b, &http_b);
    let ok = r.read_until(Duration::from_secs(25), |recs| {
        recs.iter()
            .filter(|r| {
                r.json()["signal_id"]
                    .as_str()
                    .is_some_and(|i| i.ends_with(":resolution:breached"))
            })
            .count()
            == 3
    });
    let s = by_id(&r.records); // panics on any repeated signal
    assert!(
        ok,
        "resolution breaches missing; got {:?}\n{}",
        s.keys(),
        bw.bin.log_text()
    );
    assert!(
        bw.bin.log_text().contains("partition state restored"),
        "{}",
        bw.bin.log_text()
    );
    for l in bw
        .bin
        .log_text()
        .lines()
        .filter(|l| l.contains("state restored"))
    {
        eprintln!("second instance: {l}");
    }
    // Nothing committed before the kill was lost or sent again.
    for (id, v) in &before {
        assert_eq!(&s[id], v, "{id} changed");
    }
    // The restored clocks ran on: the resolution breaches at exactly 20 s, decided by the second
    // instance, and T-k2's response applied at its own instant (met, no breach).
    for id in ["T-k1", "T-k2", "T-k3"] {
        let v = assert_signal(
            &s,
            &format!("{id}:resolution:breached"),
            created + secs(20.0),
            2.0,
        );
        assert_eq!(v["paused_seconds"], 0);
    }
    assert_eq!(ts(&s["T-k2:first_response:met"]["at"]), created + secs(6.0));
    assert!(!s.contains_key("T-k2:first_response:breached"));
    for id in ["T-k1", "T-k3"] {
        assert_eq!(
            ts(&s[&format!("{id}:first_response:breached")]["at"]),
            created + secs(10.0)
        );
    }
    // Acknowledgments: once per ticket across both runs.
    let mut acks = Reader::new(b, &t.acks);
    acks.read_until(Duration::from_secs(2), |_| false);
    let mut ack_count: HashMap<String, usize> = HashMap::new();
    for rec in &acks.records {
        *ack_count.entry(rec.key_str()).or_default() += 1;
    }
    assert_eq!(ack_count.len(), 3, "{ack_count:?}");
    assert!(
        ack_count.values().all(|n| *n == 1),
        "{ack_count:?}\n{log_a}"
    );
    let m = bw.metrics();
    assert!(
        sample(&m, "triage_sla_state_restore_seconds_count").unwrap_or(0.0) >= 1.0,
        "{m}"
    );
    assert_eq!(sum(&m, "triage_sla_open_tickets"), 3.0, "{m}");
    bw.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_scale_runs_the_clocks_on_virtual_time() {
    let b = broker();
    let t = Topics::new("scale");
    t.create(b, 2, 2).await;
    let dir = tempfile::tempdir().unwrap();
    // Virtual time runs 5x faster from `epoch`: P4's 10-second first-response target lasts 2 s.
    let epoch = now_ms();
    let (cfg, http) = watch_config(
        dir.path(),
        b,
        &t,
        &format!("time_scale = 5.0\ntime_scale_epoch = \"{epoch}\""),
    );
    let w = Watcher::start(&cfg, &http);
    let p = producer(b);
    let virtual_now = || {
        let real = Timestamp::now().duration_since(epoch).as_nanos();
        epoch + SignedDuration::from_nanos_i128(real * 5)
    };
    let created = Timestamp::from_millisecond(virtual_now().as_millisecond()).unwrap();
    let real_start = Instant::now();
    send(
        &p,
        t.level_topic("P4"),
        "T-scale",
        triaged("T-scale", "P4", created),
    )
    .await;
    let mut r = Reader::new(b, &t.signals);
    let ok = r.read_until(Duration::from_secs(10), |recs| {
        recs.iter()
            .any(|r| r.json()["signal_id"] == "T-scale:first_response:breached")
    });
    let real = real_start.elapsed();
    let s = by_id(&r.records);
    assert!(ok, "no breach; got {:?}\n{}", s.keys(), w.bin.log_text());
    // 10 virtual seconds = 2 real seconds (plus the broker's round trips).
    assert!(real < Duration::from_secs(5), "took {real:?} of real time");
    // Crossings are exact in virtual time; decided within 2 virtual seconds (0.4 real).
    assert_signal(
        &s,
        "T-scale:first_response:warning:0.5",
        created + secs(5.0),
        2.0,
    );
    assert_signal(
        &s,
        "T-scale:first_response:breached",
        created + secs(10.0),
        2.0,
    );
    w.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mis_partitioned_topics_are_refused() {
    let b = broker();
    let t = Topics::new("copart");
    t.create(b, 2, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = watch_config(dir.path(), b, &t, "");
    let mut bin = Binary::spawn(&["watch", "--config", &cfg.display().to_string()], &[]);
    let status = bin
        .wait_timeout(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("triage watch did not refuse:\n{}", bin.log_text()));
    assert_eq!(status.code(), Some(2), "{}", bin.log_text());
    let log = bin.log_text();
    assert!(log.contains("not co-partitioned"), "{log}");
    assert!(log.contains(&format!("{}: 3", t.lifecycle)), "{log}");
    assert!(log.contains(&format!("{}: 2", t.triaged[0])), "{log}");
}
