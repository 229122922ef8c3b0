//! Helpers for the Kafka integration tests (`tests/kafka.rs`,
//! `tests/sla_watch.rs`).
//!
//! One broker per test process: Apache Kafka 4.x (KRaft, one node) on
//! 127.0.0.1 with free ports and a fresh data directory, started on first use
//! from the jars `make test` installs (`scripts/install-kafka.sh`, into
//! `~/.cache/triage/kafka` or `$TRIAGE_KAFKA_DIR`) — or the brokers in
//! `TRIAGE_TEST_BROKERS` when set. A test that needs the broker and cannot
//! get it PANICS with the reason; it never passes silently. Every test gets
//! its own topics and consumer group ([`Names`]), so tests run in parallel
//! against the one broker.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use triage::service::config::CommonConfig;
use triage::service::{Config, Handle};

/// Where `make test` installs Apache Kafka (outside the clone).
pub fn kafka_dir() -> PathBuf {
    if let Ok(p) = std::env::var("TRIAGE_KAFKA_DIR") {
        if !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/triage/kafka")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind an ephemeral port")
        .local_addr()
        .expect("local addr")
        .port()
}

/// A port on 127.0.0.1 that nothing listens on, outside the range the
/// system hands out for port 0 (32768 and above on Linux): a port from
/// [`free_port`] is free only until another test's server binds port 0
/// and may be given the same one, so "nothing listens there" would not
/// hold for the length of a test.
pub fn closed_port() -> u16 {
    // Start somewhere in 20000..32000 (by the process id, so that test
    // binaries running at once start apart) and take the first port a
    // connection is refused on.
    let start = 20_000 + (std::process::id() % 12_000) as u16;
    (start..32_000)
        .chain(20_000..start)
        .find(|&p| {
            std::net::TcpStream::connect_timeout(
                &std::net::SocketAddr::from(([127, 0, 0, 1], p)),
                Duration::from_millis(200),
            )
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
        })
        .expect("a closed port below 32000")
}

/// The largest record the test broker accepts (`message.max.bytes`), so
/// tests can send records above and below it.
pub const BROKER_MAX_MESSAGE_BYTES: usize = 2_000_000;

/// One Apache Kafka node: its data directory and ports, so that it can be
/// killed and started again on the same data (failure tests).
pub struct KafkaNode {
    pub bootstrap: String,
    pub broker_port: u16,
    pub controller_port: u16,
    pub dir: tempfile::TempDir,
    child: Mutex<Option<Child>>,
}

impl KafkaNode {
    /// Formats a fresh data directory and starts the node (waits until it
    /// answers metadata requests, up to 90 s; panics with its log if not).
    pub fn start() -> KafkaNode {
        let dir = tempfile::tempdir().expect("temp dir for kafka");
        let (bp, cp) = (free_port(), free_port());
        let node = KafkaNode {
            bootstrap: format!("127.0.0.1:{bp}"),
            broker_port: bp,
            controller_port: cp,
            dir,
            child: Mutex::new(None),
        };
        node.launch();
        node
    }

    fn launch(&self) {
        let home = kafka_dir();
        if !home.join("VERSION").exists() {
            panic!(
                "Apache Kafka is not installed in {} and TRIAGE_TEST_BROKERS is not set: \
                 run `make test` (installs it) or `make kafka`, or set TRIAGE_KAFKA_DIR. \
                 These tests need a real broker and do not pass without one.",
                home.display()
            );
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kafka-node.sh");
        let data = self.dir.path().join("data");
        let log_path = self.dir.path().join("kafka.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("kafka log file");
        // The broker must die with the test process: a watchdog shell kills
        // it when its parent (this process) is gone.
        let watchdog = format!(
            "\"$0\" \"$@\" & child=$!; \
             while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; \
             kill -9 $child 2>/dev/null; wait $child",
            parent = std::process::id()
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(watchdog)
            .arg("bash")
            .arg(&script)
            .arg(&home)
            .arg(&data)
            .arg(self.broker_port.to_string())
            .arg(self.controller_port.to_string())
            .arg("--override")
            .arg(format!("message.max.bytes={BROKER_MAX_MESSAGE_BYTES}"))
            .env("KAFKA_HEAP_OPTS", "-Xms256m -Xmx768m")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start kafka ({}): {e}", script.display()));
        *self.child.lock().unwrap() = Some(child);
        if let Err(e) = wait_for_broker(&self.bootstrap, Duration::from_secs(90)) {
            self.kill();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!(
                "kafka did not come up on {}: {e}\n--- kafka log ---\n{}",
                self.bootstrap,
                last_lines(&log, 60)
            );
        }
        eprintln!(
            "test broker: Apache Kafka {} on {} (dir {})",
            std::fs::read_to_string(home.join("VERSION"))
                .unwrap_or_default()
                .trim(),
            self.bootstrap,
            self.dir.path().display()
        );
    }

    /// SIGKILL the broker (the JVM, not just the shell around it).
    pub fn kill(&self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            // The watchdog shell's child is the JVM (kafka-node.sh execs it).
            let _ = Command::new("pkill")
                .args(["-9", "-P", &c.id().to_string()])
                .status();
            let _ = c.kill();
            let _ = c.wait();
        }
        // Wait until the port is free again.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline
            && std::net::TcpStream::connect(("127.0.0.1", self.broker_port)).is_ok()
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts the node again on the same data directory and ports.
    pub fn restart(&self) {
        self.launch();
    }
}

fn last_lines(s: &str, n: usize) -> String {
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(n)..].join("\n")
}

struct Broker {
    bootstrap: String,
    _node: Option<KafkaNode>,
}

static BROKER: OnceLock<Broker> = OnceLock::new();

/// The broker the back-pressure test runs on: the test broker (a stand-in
/// broker's memory storage once needed one of its own).
pub fn memory_broker() -> &'static str {
    broker()
}

/// The test broker's bootstrap servers. Starts Apache Kafka on first use.
pub fn broker() -> &'static str {
    &BROKER
        .get_or_init(|| {
            if let Ok(b) = std::env::var("TRIAGE_TEST_BROKERS") {
                if !b.trim().is_empty() {
                    wait_for_broker(&b, Duration::from_secs(30)).unwrap_or_else(|e| {
                        panic!("TRIAGE_TEST_BROKERS={b}: broker not reachable: {e}")
                    });
                    return Broker {
                        bootstrap: b,
                        _node: None,
                    };
                }
            }
            let node = KafkaNode::start();
            Broker {
                bootstrap: node.bootstrap.clone(),
                _node: Some(node),
            }
        })
        .bootstrap
}

pub fn wait_for_broker(bootstrap: &str, timeout: Duration) -> Result<(), String> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("log_level", "0")
        .create()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    while Instant::now() < deadline {
        match c.fetch_metadata(None, Duration::from_secs(2)) {
            Ok(md) if !md.brokers().is_empty() => return Ok(()),
            Ok(_) => last = "no brokers in metadata".into(),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(last)
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Per-test topic and group names.
#[derive(Debug, Clone)]
pub struct Names {
    pub prefix: String,
    pub input: String,
    pub customers: String,
    pub dlq: String,
    pub group: String,
    /// Output topics, one per level of the shipped rules (P1..P4).
    pub outputs: Vec<String>,
}

impl Names {
    pub fn new(test: &str) -> Names {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let prefix = format!(
            "t{}-{}-{n}-{test}",
            std::process::id(),
            jiff::Timestamp::now().as_millisecond() % 100_000_000
        );
        Names {
            input: format!("{prefix}.tickets.raw"),
            customers: format!("{prefix}.customers"),
            dlq: format!("{prefix}.tickets.dlq"),
            group: format!("{prefix}.group"),
            outputs: (1..=4)
                .map(|i| format!("{prefix}.tickets.triaged.p{i}"))
                .collect(),
            prefix,
        }
    }

    /// Every topic, for creation.
    pub fn all_topics(&self) -> Vec<String> {
        let mut v = vec![self.input.clone(), self.customers.clone(), self.dlq.clone()];
        v.extend(self.outputs.iter().cloned());
        v
    }

    /// Outputs and the dead-letter topic.
    pub fn out_topics(&self) -> Vec<String> {
        let mut v = self.outputs.clone();
        v.push(self.dlq.clone());
        v
    }
}

/// The shipped rules with this test's output topics, written into `dir`.
pub fn rules_file(dir: &Path, names: &Names) -> PathBuf {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/rules.toml"))
        .expect("config/rules.toml");
    let text = src.replace(
        "topic = \"tickets.triaged.p",
        &format!("topic = \"{}.tickets.triaged.p", names.prefix),
    );
    assert_ne!(text, src, "rules topics not rewritten");
    let p = dir.join("rules.toml");
    std::fs::write(&p, text).expect("write rules");
    p
}

/// A service config for `names` on `bootstrap`, tuned for tests:
/// `fetch.wait.max.ms=10` (short fetch waits for fast tests),
/// statistics every 500 ms, short session timeouts for fast rebalances.
pub fn config(bootstrap: &str, names: &Names, rules: &Path) -> Config {
    let mut c = Config {
        group_id: names.group.clone(),
        input_topic: names.input.clone(),
        customers_topic: names.customers.clone(),
        dead_letter_topic: names.dlq.clone(),
        http_listen: "127.0.0.1:0".parse().unwrap(),
        customers_catch_up_timeout_seconds: 30,
        rules_watch_interval_ms: 200,
        common: CommonConfig {
            bootstrap_servers: bootstrap.into(),
            rules_path: rules.to_path_buf(),
            drain_timeout_seconds: 15,
            log_level: "info".into(),
            ..CommonConfig::default()
        },
        ..Config::default()
    };
    for (k, v) in [
        ("fetch.wait.max.ms", "10"),
        ("statistics.interval.ms", "500"),
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "500"),
        ("topic.metadata.refresh.interval.ms", "2000"),
    ] {
        c.common.librdkafka.insert(k.into(), v.into());
    }
    c
}

/// The same config as a TOML file (for the binary).
pub fn config_toml(c: &Config) -> String {
    let mut s = String::new();
    let q = |v: &str| format!("{v:?}");
    s += &format!("bootstrap_servers = {}\n", q(&c.common.bootstrap_servers));
    s += &format!("group_id = {}\n", q(&c.group_id));
    s += &format!("input_topic = {}\n", q(&c.input_topic));
    s += &format!("customers_topic = {}\n", q(&c.customers_topic));
    s += &format!("dead_letter_topic = {}\n", q(&c.dead_letter_topic));
    s += &format!(
        "rules_path = {}\n",
        q(&c.common.rules_path.display().to_string())
    );
    s += &format!("http_listen = {}\n", q(&c.http_listen.to_string()));
    s += &format!(
        "drain_timeout_seconds = {}\n",
        c.common.drain_timeout_seconds
    );
    s += &format!(
        "customers_catch_up_timeout_seconds = {}\n",
        c.customers_catch_up_timeout_seconds
    );
    s += &format!("rules_watch_interval_ms = {}\n", c.rules_watch_interval_ms);
    s += &format!("max_message_bytes = {}\n", c.max_message_bytes);
    s += &format!("max_in_flight = {}\n", c.max_in_flight);
    s += &format!("log_level = {}\n", q(&c.common.log_level));
    s += "[librdkafka]\n";
    for (k, v) in &c.common.librdkafka {
        s += &format!("{} = {}\n", q(k), q(v));
    }
    s
}

pub fn admin(bootstrap: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client")
}

/// Creates topics (`partitions` each; the customers topic compacted).
pub async fn create_topics(bootstrap: &str, names: &Names, input_partitions: i32) {
    let mut specs: Vec<(String, i32, bool)> = vec![
        (names.input.clone(), input_partitions, false),
        (names.customers.clone(), 2, true),
        (names.dlq.clone(), 1, false),
    ];
    for o in &names.outputs {
        specs.push((o.clone(), 2, false));
    }
    create(bootstrap, &specs).await;
}

pub async fn create(bootstrap: &str, specs: &[(String, i32, bool)]) {
    let with: Vec<TopicSpec<'_>> = specs
        .iter()
        .map(|(t, p, compact)| {
            let c = if *compact {
                vec![("cleanup.policy", "compact")]
            } else {
                vec![]
            };
            (t.clone(), *p, c)
        })
        .collect();
    create_configured(bootstrap, &with).await
}

/// Creates topics with topic configs (`max.message.bytes`, …).
/// A topic to create: name, partitions, topic configs.
pub type TopicSpec<'a> = (String, i32, Vec<(&'a str, &'a str)>);

pub async fn create_configured(bootstrap: &str, specs: &[TopicSpec<'_>]) {
    let a = admin(bootstrap);
    let new: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|(t, p, configs)| {
            let mut nt = NewTopic::new(t, *p, TopicReplication::Fixed(1));
            for (k, v) in configs {
                nt = nt.set(k, v);
            }
            nt
        })
        .collect();
    let res = a
        .create_topics(
            &new,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(20))),
        )
        .await
        .expect("create topics");
    for r in res {
        if let Err((t, e)) = r {
            assert_eq!(
                e,
                rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists,
                "creating topic {t}"
            );
        }
    }
    // Wait until the metadata shows them.
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("consumer");
    let deadline = Instant::now() + Duration::from_secs(20);
    for (t, p, _) in specs {
        loop {
            let ok = c
                .fetch_metadata(Some(t), Duration::from_secs(5))
                .ok()
                .and_then(|md| {
                    md.topics()
                        .first()
                        .map(|m| m.error().is_none() && m.partitions().len() == *p as usize)
                })
                .unwrap_or(false);
            if ok {
                break;
            }
            assert!(Instant::now() < deadline, "topic {t} did not appear");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

pub fn producer(bootstrap: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("message.max.bytes", "4000000")
        .create()
        .expect("producer")
}

/// Produces records (key, value; `None` value = tombstone) and waits for
/// every acknowledgement. All are enqueued first, so they go out in
/// multi-record batches as an intake system's would (awaiting each send in
/// turn would make every record a batch of its own).
pub async fn produce(p: &FutureProducer, topic: &str, records: &[(String, Option<Vec<u8>>)]) {
    let recs: Vec<Outgoing<'_>> = records.iter().map(|(k, v)| (None, k, v)).collect();
    produce_records(p, topic, &recs).await
}

/// [`produce`] with an explicit partition per record (`(partition, key,
/// value)`).
pub async fn produce_to(
    p: &FutureProducer,
    topic: &str,
    records: &[(i32, String, Option<Vec<u8>>)],
) {
    let recs: Vec<Outgoing<'_>> = records
        .iter()
        .map(|(part, k, v)| (Some(*part), k, v))
        .collect();
    produce_records(p, topic, &recs).await
}

/// A record to produce: partition (or the partitioner's choice), key, value.
type Outgoing<'a> = (Option<i32>, &'a String, &'a Option<Vec<u8>>);

async fn produce_records(p: &FutureProducer, topic: &str, records: &[Outgoing<'_>]) {
    let mut futs = Vec::with_capacity(records.len());
    for &(part, k, v) in records {
        let mut r = FutureRecord::<[u8], [u8]>::to(topic).key(k.as_bytes());
        if let Some(part) = part {
            r = r.partition(part);
        }
        if let Some(v) = v {
            r = r.payload(v.as_slice());
        }
        loop {
            match p.send_result(r) {
                Ok(f) => break futs.push(f),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    r = back;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err((e, _)) => panic!("produce to {topic}: {e}"),
            }
        }
    }
    for f in futs {
        f.await
            .expect("delivery future not cancelled")
            .unwrap_or_else(|(e, _)| panic!("produce to {topic}: {e}"));
    }
}

/// Produces JSON lines keyed by their `key_field`.
pub async fn produce_json(p: &FutureProducer, topic: &str, key_field: &str, lines: &[Vec<u8>]) {
    let recs: Vec<(String, Option<Vec<u8>>)> = lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap_or_default();
            let k = v[key_field].as_str().unwrap_or("").to_string();
            (k, Some(l.clone()))
        })
        .collect();
    produce(p, topic, &recs).await;
}

/// One consumed output record.
#[derive(Debug, Clone)]
pub struct Rec {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: BTreeMap<String, String>,
}

impl Rec {
    pub fn key_str(&self) -> String {
        String::from_utf8_lossy(self.key.as_deref().unwrap_or_default()).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(self.value.as_deref().unwrap_or_default())
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Reads topics from the beginning (outside any group).
pub struct Reader {
    c: BaseConsumer,
    pub records: Vec<Rec>,
    /// Distinct keys of `records`.
    pub keys: HashSet<String>,
}

impl Reader {
    pub fn new(bootstrap: &str, topics: &[String]) -> Reader {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", "triage-test-reader")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "10")
            .create()
            .expect("reader");
        let mut tpl = TopicPartitionList::new();
        for t in topics {
            let md = c
                .fetch_metadata(Some(t), Duration::from_secs(10))
                .expect("metadata");
            for p in md.topics()[0].partitions() {
                tpl.add_partition_offset(t, p.id(), Offset::Beginning)
                    .unwrap();
            }
        }
        c.assign(&tpl).expect("assign");
        Reader {
            c,
            records: Vec::new(),
            keys: HashSet::new(),
        }
    }

    /// Polls until `done(&records)` or the timeout; returns whether done.
    pub fn read_until(&mut self, timeout: Duration, mut done: impl FnMut(&Reader) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            if let Some(r) = self.c.poll(Duration::from_millis(100)) {
                let m = match r {
                    Ok(m) => m,
                    // Brokers down (fault-injection tests): keep reading.
                    Err(e) => {
                        eprintln!("reader: {e}");
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    }
                };
                let mut headers = BTreeMap::new();
                if let Some(h) = m.headers() {
                    for hd in h.iter() {
                        headers.insert(
                            hd.key.to_string(),
                            String::from_utf8_lossy(hd.value.unwrap_or_default()).into_owned(),
                        );
                    }
                }
                self.keys
                    .insert(String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned());
                self.records.push(Rec {
                    topic: m.topic().to_string(),
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec),
                    headers,
                });
            }
        }
    }

    /// Whether a record with this key was read.
    pub fn has(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }
}

/// A service running in this process.
pub struct Running {
    pub handle: Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    join: Option<tokio::task::JoinHandle<Result<(), triage::service::ServiceError>>>,
}

impl Running {
    pub async fn start(cfg: Config) -> Running {
        // Service logs on stderr with TRIAGE_TEST_LOG=info (or a filter).
        if let Ok(level) = std::env::var("TRIAGE_TEST_LOG") {
            triage::edge::logging::init_stderr(&level);
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (htx, hrx) = tokio::sync::oneshot::channel::<Handle>();
        let join = tokio::spawn(triage::service::run_with(
            cfg,
            async move {
                let _ = rx.await;
            },
            move |h| {
                let _ = htx.send(h);
            },
        ));
        let handle = match tokio::time::timeout(Duration::from_secs(60), hrx).await {
            Ok(Ok(h)) => h,
            _ => {
                let r = join.await;
                panic!("service did not start: {r:?}");
            }
        };
        Running {
            handle,
            stop: Some(tx),
            join: Some(join),
        }
    }

    /// Waits (bounded) until `/readyz` would answer 200.
    pub async fn wait_ready(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.handle.readiness();
            if r.ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "service not ready:\n{}",
                r.body()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops (SIGTERM equivalent) and returns the run's result.
    pub async fn stop(mut self) -> Result<(), triage::service::ServiceError> {
        let _ = self.stop.take().expect("running").send(());
        tokio::time::timeout(Duration::from_secs(60), self.join.take().expect("running"))
            .await
            .expect("service stops within 60 s")
            .expect("service task")
    }
}

/// Runs the real binary.
pub struct Binary {
    pub child: Child,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Binary {
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Binary {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_triage"));
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn triage");
        let log = Arc::new(Mutex::new(Vec::new()));
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            });
        }
        Binary { child, log }
    }

    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(st.success(), "kill -{sig}");
    }

    /// Waits for exit (bounded); `None` on timeout.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET a URL; (status, body).
pub fn http_get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap_or_default();
    (status, body)
}

/// The value of one sample in a Prometheus text exposition (exact series
/// text, e.g. `triage_dead_letters_total{reason="too_large"}`).
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, v) = l.rsplit_once(' ')?;
        (name == series).then(|| v.parse().ok())?
    })
}

/// The sum of every sample of a metric family (all label sets).
pub fn sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.starts_with(name) && matches!(l.as_bytes().get(name.len()), Some(b'{') | Some(b' '))
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// Committed offsets of a group for a topic, per partition.
pub fn committed(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> Vec<i64> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let got = c
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets");
    (0..partitions)
        .map(|p| match got.find_partition(topic, p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => o,
            _ => 0,
        })
        .collect()
}

/// Flushes a producer (after fire-and-forget sends).
pub fn flush(p: &FutureProducer) {
    p.flush(Duration::from_secs(30)).expect("flush");
}

pub fn headers_of(h: &[(&str, &str)]) -> OwnedHeaders {
    let mut o = OwnedHeaders::new();
    for (k, v) in h {
        o = o.insert(rdkafka::message::Header {
            key: k,
            value: Some(*v),
        });
    }
    o
}

/// Sum of the high watermarks of the topics (records stored, for diagnostics).
pub fn stored(bootstrap: &str, topics: &[String]) -> i64 {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("consumer");
    let mut total = 0;
    for t in topics {
        let md = c
            .fetch_metadata(Some(t), Duration::from_secs(10))
            .expect("metadata");
        for p in md.topics()[0].partitions() {
            let (lo, hi) = c
                .fetch_watermarks(t, p.id(), Duration::from_secs(10))
                .expect("watermarks");
            total += hi - lo;
        }
    }
    total
}
