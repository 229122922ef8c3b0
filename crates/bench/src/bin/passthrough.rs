//! `passthrough`: the benchmark's ceiling. A bare rdkafka consume → produce
//! loop with the client settings and the at-least-once offset handling of
//! `triage run` — same consumer and producer properties (the service's
//! defaults, then the config's `[librdkafka]` table, then the pinned ones),
//! same offset tracker (`triage::service::tracker`: an input offset is
//! stored only after its output and every earlier one of the partition were
//! acknowledged), same store interval, same back-pressure bound — but no
//! decoding, no triage, no encoding: each input record goes out unchanged
//! (key, value, two headers) to one of the output topics.
//!
//! ```text
//! passthrough --config service.toml --output-topics a,b,c,d [--group G] [--exit-after N]
//! ```
//!
//! Reads `bootstrap_servers`, `group_id`, `input_topic`, `max_in_flight`,
//! `max_message_bytes` and `[librdkafka]` from the service's config file
//! (and `TRIAGE_*` overrides). Runs until SIGTERM/SIGINT kills it, or until
//! `--exit-after` records were acknowledged (then commits and exits).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use triage::edge::config::FileConfig as _;

use clap::Parser;
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use triage::service::tracker::{hold, Failure, Tracker};
use triage::service::Config;

/// Same as the service pipeline.
const STORE_EVERY: Duration = Duration::from_millis(200);

#[derive(Parser)]
#[command(about = "Bare consume → produce with the service's client settings (benchmark baseline)")]
struct Args {
    /// The service's config file (service.toml).
    #[arg(long)]
    config: PathBuf,
    /// Output topics, comma separated; records are spread over them by
    /// input offset (as triage spreads them over its level topics).
    #[arg(long, value_delimiter = ',')]
    output_topics: Vec<String>,
    /// Consumer group (default: the config's `group_id`).
    #[arg(long)]
    group: Option<String>,
    /// Exit (after committing) once this many records were acknowledged.
    #[arg(long)]
    exit_after: Option<u64>,
}

struct Shared {
    tracker: Mutex<Tracker<()>>,
    drained: Condvar,
    acked: AtomicU64,
    failed: AtomicU64,
    delivery_failed: AtomicBool,
}

struct Ctx {
    shared: Arc<Shared>,
    input_topic: String,
    consumer: bool,
}

impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if (level as i32) <= (RDKafkaLogLevel::Warning as i32) {
            eprintln!("passthrough: librdkafka {fac}: {message}");
        }
    }
}

impl ConsumerContext for Ctx {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if !self.consumer {
            return;
        }
        let parts = |tpl: &TopicPartitionList| -> Vec<i32> {
            tpl.elements_for_topic(&self.input_topic)
                .iter()
                .map(|e| e.partition())
                .collect()
        };
        match rebalance {
            Rebalance::Assign(tpl) => {
                let mut t = self.shared.tracker.lock().unwrap();
                for p in parts(tpl) {
                    if !t.is_assigned(p) {
                        t.assign(p);
                    }
                }
            }
            Rebalance::Revoke(tpl) => {
                let ps = parts(tpl);
                wait_in_flight(&self.shared, &ps, Instant::now() + Duration::from_secs(20));
                let offsets = self.shared.tracker.lock().unwrap().committable(&ps);
                commit(consumer, &self.input_topic, &offsets);
                let mut t = self.shared.tracker.lock().unwrap();
                for p in ps {
                    t.revoke(p);
                }
            }
            Rebalance::Error(e) => eprintln!("passthrough: rebalance error: {e}"),
        }
    }
}

impl ProducerContext for Ctx {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, slot: usize) {
        let s = &self.shared;
        let mut t = s.tracker.lock().unwrap();
        match result {
            Ok(_) => {
                t.ack(slot);
                s.acked.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                t.fail(slot, Failure { code: "delivery" });
                s.failed.fetch_add(1, Ordering::Relaxed);
                s.delivery_failed.store(true, Ordering::Release);
                eprintln!("passthrough: delivery failed: {e}");
            }
        }
        if t.waiting {
            s.drained.notify_all();
        }
    }
}

fn wait_in_flight(shared: &Shared, partitions: &[i32], deadline: Instant) -> usize {
    triage::service::tracker::wait_in_flight(&shared.tracker, &shared.drained, partitions, deadline)
}

fn commit(consumer: &BaseConsumer<Ctx>, topic: &str, offsets: &[(i32, i64)]) {
    if offsets.is_empty() {
        return;
    }
    let mut tpl = TopicPartitionList::new();
    for &(p, o) in offsets {
        let _ = tpl.add_partition_offset(topic, p, Offset::Offset(o));
    }
    if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
        eprintln!("passthrough: commit: {e}");
    }
}

/// The service's common client settings (`service::kafka::common`).
fn common(cfg: &Config, role: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.common.bootstrap_servers)
        .set("client.id", format!("passthrough-{role}"))
        .set("statistics.interval.ms", "5000")
        .set_log_level(RDKafkaLogLevel::Info);
    c
}

fn finish(mut c: ClientConfig, cfg: &Config, pinned: &[(&str, &str)]) -> ClientConfig {
    for (k, v) in &cfg.common.librdkafka {
        c.set(k, v);
    }
    for (k, v) in pinned {
        c.set(*k, *v);
    }
    c
}

fn main() {
    let args = Args::parse();
    let cfg = Config::load(&args.config).unwrap_or_else(|e| {
        eprintln!("passthrough: {e}");
        std::process::exit(2)
    });
    if args.output_topics.is_empty() {
        eprintln!("passthrough: --output-topics is required");
        std::process::exit(2);
    }
    let group = args.group.clone().unwrap_or_else(|| cfg.group_id.clone());
    let shared = Arc::new(Shared {
        tracker: Mutex::new(Tracker::default()),
        drained: Condvar::new(),
        acked: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        delivery_failed: AtomicBool::new(false),
    });
    let ctx = |consumer| Ctx {
        shared: shared.clone(),
        input_topic: cfg.input_topic.clone(),
        consumer,
    };

    // Consumer: `service::kafka::tickets_consumer`.
    let mut c = common(&cfg, "consumer");
    c.set("group.id", &group)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("queued.max.messages.kbytes", "65536");
    let c = finish(
        c,
        &cfg,
        &[("enable.auto.offset.store", "false"), ("group.id", &group)],
    );
    let consumer: BaseConsumer<Ctx> = c.create_with_context(ctx(true)).expect("consumer");

    // Producer: `service::kafka::producer`.
    let mut p = common(&cfg, "producer");
    p.set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .set("compression.type", "none")
        .set("message.max.bytes", cfg.producer_max_bytes().to_string());
    let p = finish(p, &cfg, &[("enable.idempotence", "true")]);
    let producer: ThreadedProducer<Ctx> = p.create_with_context(ctx(false)).expect("producer");

    consumer.subscribe(&[&cfg.input_topic]).expect("subscribe");
    eprintln!(
        "passthrough: {} → {} (group {group})",
        cfg.input_topic,
        args.output_topics.join(",")
    );

    let topics = &args.output_topics;
    let mut dirty = Vec::new();
    let mut last_store = Instant::now();
    let mut last_report = Instant::now();
    let mut consumed = 0u64;
    let max = cfg.max_in_flight;
    loop {
        if let Some(n) = args.exit_after {
            if shared.acked.load(Ordering::Relaxed) >= n {
                break;
            }
        }
        if shared.delivery_failed.swap(false, Ordering::AcqRel) {
            // The service rewinds; a baseline against a local broker never
            // sees this. Report it loudly instead.
            eprintln!(
                "passthrough: a delivery failed ({} so far)",
                shared.failed.load(Ordering::Relaxed)
            );
        }
        if last_store.elapsed() >= STORE_EVERY {
            last_store = Instant::now();
            shared.tracker.lock().unwrap().take_dirty(&mut dirty);
            if !dirty.is_empty() {
                let mut tpl = TopicPartitionList::with_capacity(dirty.len());
                for &(p, o) in &dirty {
                    let _ = tpl.add_partition_offset(&cfg.input_topic, p, Offset::Offset(o));
                }
                let _ = consumer.store_offsets(&tpl);
            }
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            eprintln!(
                "passthrough: consumed {consumed}, acknowledged {}",
                shared.acked.load(Ordering::Relaxed)
            );
        }
        // Back-pressure as the service (the same `tracker::hold`): at
        // max_in_flight, stop taking records until a quarter was
        // acknowledged; a record that comes with a tick's poll is sent.
        let in_flight = shared.tracker.lock().unwrap().in_flight();
        if in_flight >= max {
            hold(
                &shared.tracker,
                &shared.drained,
                max,
                || false,
                |_, tick| {
                    if tick {
                        if let Some(Ok(m)) = consumer.poll(Duration::ZERO) {
                            consumed += 1;
                            send(&producer, &shared, topics, &m);
                        }
                    }
                },
            );
            continue;
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(m)) => {
                consumed += 1;
                send(&producer, &shared, topics, &m);
            }
            Some(Err(e)) => eprintln!("passthrough: consumer error: {e}"),
        }
    }
    let left = wait_in_flight(&shared, &[], Instant::now() + Duration::from_secs(20));
    shared.tracker.lock().unwrap().take_dirty(&mut dirty);
    let offsets = shared.tracker.lock().unwrap().committable(&[]);
    commit(&consumer, &cfg.input_topic, &offsets);
    let _ = producer.flush(Duration::from_secs(5));
    eprintln!(
        "passthrough: done: consumed {consumed}, acknowledged {}, unacknowledged {left}",
        shared.acked.load(Ordering::Relaxed)
    );
}

/// One record out, registered in the tracker first (as the service does).
fn send<M: Message>(producer: &ThreadedProducer<Ctx>, shared: &Shared, topics: &[String], m: &M) {
    let (partition, offset) = (m.partition(), m.offset());
    let slot = shared.tracker.lock().unwrap().begin(partition, offset, ());
    let topic = &topics[offset as usize % topics.len()];
    let headers = OwnedHeaders::new_with_capacity(2)
        .insert(Header {
            key: "triage-priority",
            value: Some("P3"),
        })
        .insert(Header {
            key: "content-type",
            value: Some("application/octet-stream"),
        });
    let mut record: BaseRecord<'_, [u8], [u8], usize> = BaseRecord::with_opaque_to(topic, slot)
        .payload(m.payload().unwrap_or(&[]))
        .headers(headers);
    if let Some(k) = m.key() {
        record = record.key(k);
    }
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                std::thread::sleep(Duration::from_millis(2));
            }
            Err((e, _)) => {
                eprintln!("passthrough: produce: {e}");
                shared
                    .tracker
                    .lock()
                    .unwrap()
                    .fail(slot, Failure { code: "produce" });
                return;
            }
        }
    }
}
