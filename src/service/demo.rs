//! `triage demo`: the whole service on a fresh machine with nothing
//! installed. Starts librdkafka's in-process mock cluster (or uses
//! `--brokers`), creates the topics, loads the example customers into the
//! customers topic, produces the example tickets plus a few malformed
//! records, runs the real service ([`super::run`]) until every input has an
//! output, stops it (drain, commit) and prints what happened: per priority
//! the count, a sample ticket with its top reasons and its SLA due time, and
//! the dead letters with their reasons.
//!
//! Delivery guarantee: the demo's own producer waits for every input to be
//! acknowledged before the service starts; the report reads the outputs from
//! the end offsets measured before anything was produced, so earlier data on
//! a real cluster is not counted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use super::config::{CommonConfig, Config};

/// Arguments of `triage demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Use these brokers (host:port) instead of an in-process mock cluster.
    #[arg(long)]
    pub brokers: Option<String>,
    /// The rules file.
    #[arg(long, default_value = "config/rules.toml")]
    pub rules: PathBuf,
    /// Customer records (JSON lines) to load into the customers topic.
    #[arg(long, default_value = "examples/customers.jsonl")]
    pub customers: PathBuf,
    /// Ticket events (JSON lines) to triage.
    #[arg(long, default_value = "examples/tickets.jsonl")]
    pub tickets: PathBuf,
    /// Malformed inputs (one per line) that must be dead-lettered; a record
    /// over the size limit is always added. Built-in ones if the file is
    /// missing.
    #[arg(long, default_value = "examples/tickets-bad.jsonl")]
    pub bad: PathBuf,
    /// Give up if the outputs are not all there after this many seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout_seconds: u64,
}

/// One output record, as the report needs it.
#[derive(Debug, Clone)]
pub struct Output {
    pub topic: String,
    pub key: String,
    pub value: Vec<u8>,
    pub headers: BTreeMap<String, String>,
}

/// What the demo saw.
#[derive(Debug, Default)]
pub struct Report {
    pub tickets_sent: usize,
    pub bad_sent: usize,
    pub customers_sent: usize,
    pub outputs: Vec<Output>,
    pub seconds: f64,
    pub rules_version: String,
}

/// `triage demo`.
pub fn main_demo(a: &DemoArgs) -> Result<ExitCode, String> {
    crate::edge::logging::init_stderr("error");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let report = rt.block_on(demo(a))?;
    rt.shutdown_timeout(Duration::from_secs(1));
    print!("{}", render(&report));
    let expected = report.tickets_sent + report.bad_sent;
    if report.outputs.len() < expected {
        return Err(format!(
            "only {} of {expected} outputs arrived within {} s",
            report.outputs.len(),
            a.timeout_seconds
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn read_lines(path: &PathBuf) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect())
}

fn field(line: &str, name: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    v.get(name)?.as_str().map(str::to_string)
}

/// The malformed inputs: (key, value). The lines of `file` when it exists
/// (else one per reason the JSON decoder can give), plus one record over the
/// size limit.
pub fn malformed(file: &std::path::Path, max_message_bytes: usize) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = match std::fs::read_to_string(file) {
        Ok(t) => t
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                let key = field(l, "ticket_id")
                    .filter(|k| !k.is_empty())
                    .unwrap_or_else(|| format!("BAD-{}", i + 1));
                (key, l.as_bytes().to_vec())
            })
            .collect(),
        Err(_) => vec![
            ("BAD-1".into(), b"this is not JSON".to_vec()),
            (
                "BAD-2".into(),
                br#"{"ticket_id":"BAD-2","created_at":"2026-11-02T09:00:00Z","subject":"no customer_id"}"#.to_vec(),
            ),
            (
                "BAD-3".into(),
                br#"{"ticket_id":"BAD-3","customer_id":"C-1","created_at":"yesterday","subject":"bad timestamp"}"#.to_vec(),
            ),
        ],
    };
    let big = format!(
        r#"{{"ticket_id":"BAD-BIG","customer_id":"C-1","created_at":"2026-11-02T09:00:00Z","subject":"attachment inline","body":"{}"}}"#,
        "x".repeat(max_message_bytes + 1)
    );
    out.push(("BAD-BIG".into(), big.into_bytes()));
    out
}

async fn demo(a: &DemoArgs) -> Result<Report, String> {
    let started = Instant::now();
    let loaded = crate::files::load_rules(&a.rules).map_err(|d| {
        let lines: Vec<String> = d.iter().map(|x| x.to_string()).collect();
        format!(
            "{}: invalid rules:\n{}",
            a.rules.display(),
            lines.join("\n")
        )
    })?;
    let customers = read_lines(&a.customers)?;
    let tickets = read_lines(&a.tickets)?;

    let mut cfg = Config {
        group_id: format!(
            "triage-demo-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_millisecond()
        ),
        max_message_bytes: 64 * 1024,
        http_listen: "127.0.0.1:0".parse().expect("valid address"),
        customers_catch_up_timeout_seconds: 20,
        common: CommonConfig {
            rules_path: a.rules.clone(),
            drain_timeout_seconds: 10,
            log_level: "error".into(),
            ..CommonConfig::default()
        },
        ..Config::default()
    };
    cfg.common
        .librdkafka
        .insert("fetch.wait.max.ms".into(), "10".into());
    cfg.common
        .librdkafka
        .insert("statistics.interval.ms".into(), "1000".into());

    let mut topics: Vec<String> = loaded
        .rules
        .topics()
        .iter()
        .map(|t| t.to_string())
        .collect();
    topics.push(cfg.dead_letter_topic.clone());
    let _mock;
    match &a.brokers {
        None => {
            let mock = MockCluster::new(1).map_err(|e| format!("mock cluster: {e}"))?;
            mock.create_topic(&cfg.input_topic, 3, 1)
                .map_err(|e| format!("mock cluster: {e}"))?;
            mock.create_topic(&cfg.customers_topic, 1, 1)
                .map_err(|e| format!("mock cluster: {e}"))?;
            for t in &topics {
                mock.create_topic(t, 1, 1)
                    .map_err(|e| format!("mock cluster: {e}"))?;
            }
            cfg.common.bootstrap_servers = mock.bootstrap_servers();
            _mock = Some(mock);
        }
        Some(b) => {
            cfg.common.bootstrap_servers = b.clone();
            let mut all = topics.clone();
            all.push(cfg.input_topic.clone());
            all.push(cfg.customers_topic.clone());
            create_topics(b, &all, &cfg.customers_topic).await?;
            _mock = None;
        }
    }
    let bootstrap = cfg.common.bootstrap_servers.clone();

    // Outputs are read from the end offsets before anything is produced;
    // the service's group starts at the input's current end.
    let starts = {
        let b = bootstrap.clone();
        let mut ts = topics.clone();
        ts.push(cfg.input_topic.clone());
        tokio::task::spawn_blocking(move || end_offsets(&b, &ts))
            .await
            .map_err(|e| e.to_string())??
    };
    {
        let b = bootstrap.clone();
        let g = cfg.group_id.clone();
        let input = cfg.input_topic.clone();
        let s = starts.clone();
        tokio::task::spawn_blocking(move || commit_start(&b, &g, &input, &s))
            .await
            .map_err(|e| e.to_string())??;
    }

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("message.max.bytes", "2000000")
        .create()
        .map_err(|e| format!("producer: {e}"))?;
    let mut sends = Vec::new();
    for line in &customers {
        let key = field(line, "customer_id").unwrap_or_default();
        sends.push((cfg.customers_topic.clone(), key, line.as_bytes().to_vec()));
    }
    for line in &tickets {
        let key = field(line, "ticket_id").unwrap_or_default();
        sends.push((cfg.input_topic.clone(), key, line.as_bytes().to_vec()));
    }
    let bad = malformed(&a.bad, cfg.max_message_bytes);
    for (k, v) in &bad {
        sends.push((cfg.input_topic.clone(), k.clone(), v.clone()));
    }
    let futs: Vec<_> = sends
        .iter()
        .map(|(t, k, v)| {
            producer.send(
                FutureRecord::to(t).key(k.as_bytes()).payload(v.as_slice()),
                Duration::from_secs(30),
            )
        })
        .collect();
    for f in futs {
        f.await
            .map_err(|(e, _)| format!("producing the examples: {e}"))?;
    }

    // Run the real service until every input has its output.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let svc = tokio::spawn(super::run(cfg.clone(), async move {
        let _ = stop_rx.await;
    }));
    let expected = tickets.len() + bad.len();
    let deadline = Instant::now() + Duration::from_secs(a.timeout_seconds);
    let outputs = {
        let b = bootstrap.clone();
        let s = starts.clone();
        let ts = topics.clone();
        tokio::task::spawn_blocking(move || collect(&b, &ts, &s, expected, deadline))
            .await
            .map_err(|e| e.to_string())??
    };
    let _ = stop_tx.send(());
    match svc.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("service: {e}")),
        Err(e) => return Err(format!("service: {e}")),
    }
    Ok(Report {
        tickets_sent: tickets.len(),
        bad_sent: bad.len(),
        customers_sent: customers.len(),
        outputs,
        seconds: started.elapsed().as_secs_f64(),
        rules_version: loaded.rules.version.to_string(),
    })
}

async fn create_topics(brokers: &str, topics: &[String], compacted: &str) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .map_err(|e| format!("admin client: {e}"))?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| {
            let nt = NewTopic::new(t, 3, TopicReplication::Fixed(1));
            if t == compacted {
                nt.set("cleanup.policy", "compact")
            } else {
                nt
            }
        })
        .collect();
    let res = admin
        .create_topics(
            &new,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .map_err(|e| format!("creating topics: {e}"))?;
    for r in res {
        if let Err((t, code)) = r {
            if code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists {
                return Err(format!("creating topic {t}: {code}"));
            }
        }
    }
    Ok(())
}

fn plain_consumer(brokers: &str, group: &str) -> Result<BaseConsumer, String> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .map_err(|e| format!("consumer: {e}"))
}

type Starts = Vec<(String, i32, i64)>;

fn end_offsets(brokers: &str, topics: &[String]) -> Result<Starts, String> {
    let c = plain_consumer(brokers, "triage-demo-reader")?;
    let mut out = Vec::new();
    for t in topics {
        let md = c
            .fetch_metadata(Some(t), Duration::from_secs(10))
            .map_err(|e| format!("metadata of {t}: {e}"))?;
        let parts: Vec<i32> = md
            .topics()
            .first()
            .map(|m| m.partitions().iter().map(|p| p.id()).collect())
            .unwrap_or_default();
        for p in parts {
            let (_, high) = c
                .fetch_watermarks(t, p, Duration::from_secs(10))
                .map_err(|e| format!("end offset of {t}/{p}: {e}"))?;
            out.push((t.clone(), p, high));
        }
    }
    Ok(out)
}

fn commit_start(brokers: &str, group: &str, input: &str, starts: &Starts) -> Result<(), String> {
    let c = plain_consumer(brokers, group)?;
    let mut tpl = TopicPartitionList::new();
    for (t, p, o) in starts.iter().filter(|(t, _, _)| t == input) {
        tpl.add_partition_offset(t, *p, Offset::Offset(*o))
            .map_err(|e| e.to_string())?;
    }
    if tpl.count() > 0 {
        c.commit(&tpl, CommitMode::Sync)
            .map_err(|e| format!("setting the demo group's start: {e}"))?;
    }
    Ok(())
}

fn collect(
    brokers: &str,
    topics: &[String],
    starts: &Starts,
    expected: usize,
    deadline: Instant,
) -> Result<Vec<Output>, String> {
    let c = plain_consumer(brokers, "triage-demo-reader")?;
    let mut tpl = TopicPartitionList::new();
    for (t, p, o) in starts.iter().filter(|(t, _, _)| topics.contains(t)) {
        tpl.add_partition_offset(t, *p, Offset::Offset(*o))
            .map_err(|e| e.to_string())?;
    }
    c.assign(&tpl).map_err(|e| format!("assign: {e}"))?;
    let mut out = Vec::new();
    while out.len() < expected && Instant::now() < deadline {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let mut headers = BTreeMap::new();
                if let Some(h) = m.headers() {
                    for hd in h.iter() {
                        headers.insert(
                            hd.key.to_string(),
                            String::from_utf8_lossy(hd.value.unwrap_or_default()).into_owned(),
                        );
                    }
                }
                out.push(Output {
                    topic: m.topic().to_string(),
                    key: String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                    value: m.payload().unwrap_or_default().to_vec(),
                    headers,
                });
            }
            Some(Err(e)) => return Err(format!("reading outputs: {e}")),
            None => {}
        }
    }
    Ok(out)
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The printed report.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let mut by_level: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    let mut dead = Vec::new();
    for o in &r.outputs {
        if let Some(reason) = o.headers.get("dlq-reason") {
            dead.push((
                o.key.clone(),
                reason.clone(),
                o.headers.get("dlq-detail").cloned().unwrap_or_default(),
            ));
            continue;
        }
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&o.value) {
            let level = v["triage"]["priority"].as_str().unwrap_or("?").to_string();
            by_level.entry(level).or_default().push(v);
        }
    }
    let _ = writeln!(
        s,
        "triage demo: {} customers loaded, {} tickets + {} malformed records produced; rules {}; {:.1} s\n",
        r.customers_sent, r.tickets_sent, r.bad_sent, r.rules_version, r.seconds
    );
    let _ = writeln!(
        s,
        "{:<6} {:>5}  sample ticket (highest score), its top reasons, its SLA",
        "level", "count"
    );
    for (level, vs) in &by_level {
        // The sample: the highest score of the level.
        let sample = vs
            .iter()
            .max_by_key(|v| v["triage"]["score"].as_i64().unwrap_or(0))
            .expect("non-empty");
        let t = &sample["triage"];
        let _ = writeln!(
            s,
            "{:<6} {:>5}  {} {:?} (score {}, {} / {}, queue {} {})",
            level,
            vs.len(),
            sample["ticket_id"].as_str().unwrap_or("?"),
            clip(sample["subject"].as_str().unwrap_or(""), 48),
            t["score"],
            t["category"].as_str().unwrap_or("?"),
            t["severity"].as_str().unwrap_or("?"),
            t["queue"].as_str().unwrap_or("?"),
            t["tier"].as_str().unwrap_or("?"),
        );
        let mut reasons: Vec<&serde_json::Value> = t["reasons"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|x| x["points"].as_i64().unwrap_or(0) != 0)
                    .collect()
            })
            .unwrap_or_default();
        reasons.sort_by_key(|x| -x["points"].as_i64().unwrap_or(0).abs());
        for x in reasons.iter().take(3) {
            let _ = writeln!(
                s,
                "{:<13}{:+4}  {}: {}",
                "",
                x["points"].as_i64().unwrap_or(0),
                x["factor"].as_str().unwrap_or("?"),
                clip(x["detail"].as_str().unwrap_or(""), 60)
            );
        }
        let _ = writeln!(
            s,
            "{:<13}SLA {} ({}): first response due {}, resolution due {}",
            "",
            t["sla"]["policy"].as_str().unwrap_or("?"),
            t["sla"]["calendar"].as_str().unwrap_or("?"),
            t["sla"]["first_response_due"].as_str().unwrap_or("?"),
            t["sla"]["resolution_due"].as_str().unwrap_or("?"),
        );
    }
    let _ = writeln!(s, "\ndead letters: {}", dead.len());
    dead.sort();
    for (key, reason, detail) in &dead {
        let _ = writeln!(s, "  {key:<8} {reason:<14} {}", clip(detail, 90));
    }
    let triaged: usize = by_level.values().map(Vec::len).sum();
    let _ = writeln!(
        s,
        "\n{} of {} tickets triaged, {} of {} malformed records dead-lettered.",
        triaged,
        r.tickets_sent,
        dead.len(),
        r.bad_sent
    );
    s
}
