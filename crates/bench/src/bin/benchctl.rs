//! `benchctl`: the Kafka side of `make bench` (bench/run.sh) — topics,
//! preloading a backlog of generated tickets, counting a drain on the output
//! topics, and an open-loop latency run.
//!
//! ```text
//! benchctl topics  --brokers B --partitions P [--delete] T…
//! benchctl load    --brokers B --topic T --count N [--format json|avro] [--seed S] [--customers M] [--bad-fraction F]
//! benchctl count   --brokers B --topics T1,T2… --expect N [--timeout S]
//! benchctl latency --brokers B --input T --outputs T1,T2… --rate R --seconds D [--warmup W]
//! ```
//!
//! Every result is one JSON object on stdout. `count` reads its topics from
//! the beginning and counts records, or with `--watermarks` only polls the
//! partitions' end offsets every 100 ms (no second consumer reading the
//! whole output: the broker's CPU stays with the drain measured).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use triage_lab::gen::{self, TicketSpec};

#[derive(Parser)]
#[command(about = "Benchmark helper: topics, backlog, drain counting, latency")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create (or delete) topics.
    Topics {
        #[arg(long)]
        brokers: String,
        #[arg(long, default_value_t = 4)]
        partitions: i32,
        #[arg(long)]
        delete: bool,
        topics: Vec<String>,
    },
    /// Produce generated tickets as fast as the broker takes them.
    Load {
        #[arg(long)]
        brokers: String,
        #[arg(long)]
        topic: String,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value = "json")]
        format: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 100_000)]
        customers: u64,
        #[arg(long, default_value_t = 0.0)]
        bad_fraction: f64,
        /// `created_at` base (RFC 3339 or `now`).
        #[arg(long, default_value = "now")]
        base: String,
    },
    /// Count records on topics (from the beginning) until `expect` or the
    /// timeout; reports the arrival rate between the first and the last.
    Count {
        #[arg(long)]
        brokers: String,
        #[arg(long, value_delimiter = ',')]
        topics: Vec<String>,
        #[arg(long)]
        expect: u64,
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// Give up after this many seconds without a new record (once some
        /// arrived).
        #[arg(long, default_value_t = 30)]
        idle: u64,
        /// Input bytes of the backlog (for MB/s of the input drained).
        #[arg(long, default_value_t = 0)]
        input_bytes: u64,
        /// Count by the partitions' end offsets (topics created empty for
        /// the drain) instead of reading the records.
        #[arg(long)]
        watermarks: bool,
    },
    /// Open-loop producer at a fixed rate + consumer of the outputs:
    /// latency from each record's CreateTime (its scheduled send time) to its
    /// arrival on an output topic.
    Latency {
        #[arg(long)]
        brokers: String,
        #[arg(long)]
        input: String,
        #[arg(long, value_delimiter = ',')]
        outputs: Vec<String>,
        #[arg(long)]
        rate: f64,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Samples of the first seconds are dropped.
        #[arg(long, default_value_t = 3)]
        warmup: u64,
        #[arg(long, default_value = "json")]
        format: String,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long, default_value_t = 100_000)]
        customers: u64,
    },
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn producer(brokers: &str, extra: &[(&str, &str)]) -> ThreadedProducer<DefaultProducerContext> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set("client.id", "benchctl")
        .set("compression.type", "none")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576");
    for (k, v) in extra {
        c.set(*k, *v);
    }
    c.create().expect("producer")
}

fn consumer(brokers: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("client.id", "benchctl-count")
        .set("group.id", "benchctl-unused")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "10")
        .set("queued.max.messages.kbytes", "262144")
        .create()
        .expect("consumer")
}

/// Assigns every partition of `topics` from the beginning.
fn assign_all(c: &BaseConsumer, topics: &[String]) -> usize {
    let mut tpl = TopicPartitionList::new();
    for t in topics {
        let md = c
            .fetch_metadata(Some(t), Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("metadata of {t}: {e}"));
        for mt in md.topics() {
            for p in mt.partitions() {
                tpl.add_partition_offset(mt.name(), p.id(), Offset::Beginning)
                    .expect("add partition");
            }
        }
    }
    let n = tpl.count();
    c.assign(&tpl).expect("assign");
    n
}

/// Ticket `i` for a topic, with its key.
struct Source {
    spec: TicketSpec,
    avro: Option<triage::codec::avro::AvroCodec>,
    scratch: Vec<u8>,
}

impl Source {
    fn new(format: &str, seed: u64, customers: u64, base: &str, bad: f64) -> Source {
        let mut spec = TicketSpec::new(seed, customers, gen::parse_base(base).expect("--base"));
        spec.bad_fraction = bad;
        let avro = match format {
            "json" => None,
            "avro" => Some(triage::codec::avro::AvroCodec::bundled()),
            f => panic!("--format json|avro, got {f}"),
        };
        Source {
            spec,
            avro,
            scratch: Vec::new(),
        }
    }

    fn ticket(&mut self, i: u64, out: &mut Vec<u8>) {
        out.clear();
        match &self.avro {
            None => {
                gen::ticket_json(&self.spec, i, out);
            }
            Some(c) => {
                gen::ticket_avro(&self.spec, c, i, &mut self.scratch, out);
            }
        }
    }
}

fn key_of(i: u64) -> String {
    format!("T-{:09}", i + 1)
}

fn main() {
    match Cli::parse().cmd {
        Cmd::Topics {
            brokers,
            partitions,
            delete,
            topics,
        } => {
            let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
                .set("bootstrap.servers", &brokers)
                .create()
                .expect("admin client");
            let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
            let names: Vec<&str> = topics.iter().map(String::as_str).collect();
            let results = if delete {
                block_on(admin.delete_topics(&names, &opts))
            } else {
                let new: Vec<NewTopic<'_>> = names
                    .iter()
                    .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
                    .collect();
                block_on(admin.create_topics(&new, &opts))
            };
            let mut ok = 0;
            for r in results.expect("admin request") {
                match r {
                    Ok(_) => ok += 1,
                    Err((t, RDKafkaErrorCode::TopicAlreadyExists)) => {
                        eprintln!("benchctl: {t} exists");
                        ok += 1
                    }
                    Err((t, e)) => eprintln!("benchctl: {t}: {e}"),
                }
            }
            println!(
                "{{\"topics\":{},\"ok\":{ok},\"delete\":{delete}}}",
                topics.len()
            );
        }
        Cmd::Load {
            brokers,
            topic,
            count,
            format,
            seed,
            customers,
            bad_fraction,
            base,
        } => {
            let mut src = Source::new(&format, seed, customers, &base, bad_fraction);
            let p = producer(
                &brokers,
                &[("linger.ms", "20"), ("batch.num.messages", "10000")],
            );
            let t0 = Instant::now();
            let mut buf = Vec::with_capacity(4096);
            let mut bytes = 0u64;
            for i in 0..count {
                src.ticket(i, &mut buf);
                bytes += buf.len() as u64;
                let key = key_of(i);
                let mut rec = BaseRecord::<str, [u8]>::to(&topic).key(&key).payload(&buf);
                loop {
                    match p.send(rec) {
                        Ok(()) => break,
                        Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                            rec = r;
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err((e, _)) => panic!("produce: {e}"),
                    }
                }
                if (i + 1) % 100_000 == 0 {
                    eprintln!(
                        "benchctl load: {} records, {:.1} s",
                        i + 1,
                        t0.elapsed().as_secs_f64()
                    );
                }
            }
            p.flush(Duration::from_secs(300)).expect("flush");
            let s = t0.elapsed().as_secs_f64();
            println!(
                "{{\"records\":{count},\"bytes\":{bytes},\"seconds\":{s:.3},\"rate\":{:.0},\"mean_bytes\":{:.0}}}",
                count as f64 / s,
                bytes as f64 / count.max(1) as f64
            );
        }
        Cmd::Count {
            brokers,
            topics,
            expect,
            timeout,
            idle,
            input_bytes,
            watermarks,
        } => {
            let c = consumer(&brokers);
            let parts = assign_all(&c, &topics);
            // benchctl is a benchmark tool: a failure ends the run loudly.
            let tpl = c.assignment().expect("assignment");
            let ends: Vec<(String, i32)> = tpl
                .elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition()))
                .collect();
            if watermarks {
                c.unassign().expect("unassign");
            }
            let start = Instant::now();
            let deadline = start + Duration::from_secs(timeout);
            let (mut n, mut bytes) = (0u64, 0u64);
            let (mut first, mut last): (Option<Instant>, Option<Instant>) = (None, None);
            let mut first_wall = 0u64;
            let mut last_note = Instant::now();
            let why = loop {
                if n >= expect {
                    break "complete";
                }
                let now = Instant::now();
                if now >= deadline {
                    break "timeout";
                }
                if last.is_some_and(|l| now - l > Duration::from_secs(idle)) {
                    break "idle";
                }
                if now - last_note > Duration::from_secs(10) {
                    last_note = now;
                    eprintln!(
                        "benchctl count: {n}/{expect} after {:.0} s",
                        (now - start).as_secs_f64()
                    );
                }
                if watermarks {
                    std::thread::sleep(Duration::from_millis(100));
                    let total: i64 = ends
                        .iter()
                        .map(|(t, p)| {
                            c.fetch_watermarks(t, *p, Duration::from_secs(5))
                                .map_or(0, |(_, hi)| hi)
                        })
                        .sum();
                    let total = total.max(0) as u64;
                    if total > n {
                        let t = Instant::now();
                        if first.is_none() {
                            first = Some(t);
                            first_wall = now_us();
                        }
                        last = Some(t);
                        n = total;
                    }
                    continue;
                }
                match c.poll(Duration::from_millis(100)) {
                    Some(Ok(m)) => {
                        let t = Instant::now();
                        if first.is_none() {
                            first = Some(t);
                            first_wall = now_us();
                        }
                        last = Some(t);
                        n += 1;
                        bytes += m.payload_len() as u64;
                    }
                    Some(Err(e)) => eprintln!("benchctl count: {e}"),
                    None => {}
                }
            };
            let secs = match (first, last) {
                (Some(a), Some(b)) => (b - a).as_secs_f64(),
                _ => 0.0,
            };
            let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
            let in_mbps = if secs > 0.0 {
                input_bytes as f64 * (n as f64 / expect.max(1) as f64) / secs / 1e6
            } else {
                0.0
            };
            println!(
                "{{\"result\":\"{why}\",\"partitions\":{parts},\"count\":{n},\"expect\":{expect},\"out_bytes\":{bytes},\"seconds\":{secs:.3},\"rate\":{rate:.0},\"out_mbps\":{:.2},\"in_mbps\":{in_mbps:.2},\"first_output_unix_us\":{first_wall}}}",
                if secs > 0.0 { bytes as f64 / secs / 1e6 } else { 0.0 },
            );
        }
        Cmd::Latency {
            brokers,
            input,
            outputs,
            rate,
            seconds,
            warmup,
            format,
            seed,
            customers,
        } => latency(
            &brokers, &input, &outputs, rate, seconds, warmup, &format, seed, customers,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn latency(
    brokers: &str,
    input: &str,
    outputs: &[String],
    rate: f64,
    seconds: u64,
    warmup: u64,
    format: &str,
    seed: u64,
    customers: u64,
) {
    let total = (rate * seconds as f64) as u64;
    // Scheduled send time (µs since the epoch) of record i.
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let done = Arc::new(AtomicBool::new(false));

    let c = consumer(brokers);
    assign_all(&c, outputs);
    let sent_c = sent.clone();
    let done_c = done.clone();
    // Set by the reader when the first record (a probe) comes out: the
    // pipeline under test is consuming, producing and being read.
    let live = Arc::new(AtomicBool::new(false));
    let live_r = live.clone();
    let reader = std::thread::spawn(move || {
        let mut lat_us: Vec<u64> = Vec::with_capacity(total as usize);
        let mut seen = 0u64;
        let mut drain_until: Option<Instant> = None;
        loop {
            if done_c.load(Ordering::Acquire) && drain_until.is_none() {
                drain_until = Some(Instant::now() + Duration::from_secs(5));
            }
            if drain_until.is_some_and(|d| Instant::now() > d) || seen >= total {
                break;
            }
            if let Some(Ok(m)) = c.poll(Duration::from_millis(50)) {
                let arrived = now_us();
                live_r.store(true, Ordering::Release);
                let Some(i) = m
                    .key()
                    .and_then(|k| std::str::from_utf8(k).ok())
                    .and_then(|k| k.strip_prefix("T-"))
                    .and_then(|k| k.parse::<u64>().ok())
                else {
                    continue;
                };
                let i = i - 1;
                if let Some(s) = sent_c.get(i as usize) {
                    seen += 1;
                    let s = s.load(Ordering::Acquire);
                    if s > 0 && i >= (rate * warmup as f64) as u64 {
                        lat_us.push(arrived.saturating_sub(s));
                    }
                }
            }
        }
        (lat_us, seen)
    });

    let mut src = Source::new(format, seed, customers, "now", 0.0);
    // Generating a ticket takes longer than the send interval at high rates:
    // a pool of generated JSON tickets is cycled, each copy with its own
    // ticket_id (the output key the reader matches on).
    let pool: Vec<Vec<u8>> = if format == "json" {
        (0..total.min(4096))
            .map(|i| {
                let mut b = Vec::new();
                src.ticket(i, &mut b);
                b
            })
            .collect()
    } else {
        Vec::new()
    };
    const ID: &[u8] = b"\"ticket_id\":\"T-";
    let p = producer(brokers, &[("linger.ms", "5")]);
    let mut buf = Vec::with_capacity(4096);
    // Probes (ticket T-999999998, outside the measured range) until one
    // arrives: consumer group joined, first fetches done, outputs readable.
    // Only then does the open-loop run start.
    let probe_wait = Instant::now();
    while !live.load(Ordering::Acquire) && probe_wait.elapsed() < Duration::from_secs(120) {
        let key = key_of(999_999_998);
        if pool.is_empty() {
            src.ticket(999_999_998, &mut buf);
        } else {
            buf.clear();
            buf.extend_from_slice(&pool[0]);
            let at = buf
                .windows(ID.len())
                .position(|w| w == ID)
                .expect("ticket_id")
                + ID.len();
            buf[at..at + 9].copy_from_slice(&key.as_bytes()[2..]);
        }
        let _ = p.send(BaseRecord::<str, [u8]>::to(input).key(&key).payload(&buf));
        std::thread::sleep(Duration::from_millis(200));
    }
    let probe_s = probe_wait.elapsed().as_secs_f64();
    let t0 = now_us() + 200_000;
    let interval = 1e6 / rate;
    let mut behind_max = 0u64;
    for i in 0..total {
        let due = t0 + (i as f64 * interval) as u64;
        let now = now_us();
        if due > now {
            let wait = due - now;
            if wait > 1500 {
                std::thread::sleep(Duration::from_micros(wait - 1000));
            }
            while now_us() < due {
                std::hint::spin_loop();
            }
        } else {
            behind_max = behind_max.max(now - due);
        }
        let key = key_of(i);
        if pool.is_empty() {
            src.ticket(i, &mut buf);
        } else {
            buf.clear();
            buf.extend_from_slice(&pool[i as usize % pool.len()]);
            let at = buf
                .windows(ID.len())
                .position(|w| w == ID)
                .expect("generated JSON starts with its ticket_id")
                + ID.len();
            buf[at..at + 9].copy_from_slice(&key.as_bytes()[2..]);
        }
        // CreateTime = the scheduled send time (open loop: a late send still
        // counts from when it was due).
        sent[i as usize].store(due, Ordering::Release);
        let mut rec = BaseRecord::<str, [u8]>::to(input)
            .key(&key)
            .payload(&buf)
            .timestamp((due / 1000) as i64);
        loop {
            match p.send(rec) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    rec = r;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => panic!("produce: {e}"),
            }
        }
    }
    let _ = p.flush(Duration::from_secs(30));
    done.store(true, Ordering::Release);
    let (mut lat, seen) = reader.join().expect("reader");
    lat.sort_unstable();
    let q = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[i] as f64 / 1000.0
    };
    println!(
        "{{\"rate\":{rate:.0},\"live_after_s\":{probe_s:.1},\"sent\":{total},\"received\":{seen},\"samples\":{},\"p50_ms\":{:.2},\"p90_ms\":{:.2},\"p99_ms\":{:.2},\"p999_ms\":{:.2},\"max_ms\":{:.2},\"producer_behind_max_ms\":{:.2}}}",
        lat.len(),
        q(0.5),
        q(0.9),
        q(0.99),
        q(0.999),
        lat.last().map_or(0.0, |m| *m as f64 / 1000.0),
        behind_max as f64 / 1000.0
    );
}
