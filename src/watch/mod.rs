//! `triage watch`: the SLA watcher — the Kafka edge of [`crate::clock`].
//!
//! ```text
//!  tickets.triaged.p1..p4 ─┐                       ┌─► tickets.sla    (warning, breached, met)
//!                          ├─► consumer group ─► clocks (state, timers) ─► tickets.acks   (optional)
//!  tickets.lifecycle ──────┘   (co-partitioned)    └─► triage-sla-changelog (compacted state)
//! ```
//!
//! One consumer group reads the triaged topics (from the rules' levels) and the lifecycle topic.
//! All of them, the signal and acknowledgment topics and the changelog must have the same number of
//! partitions and be keyed by `ticket_id` with the same partitioner, so that everything about a
//! ticket lives in partition *p* of every topic and is handled by the one instance that owns *p*
//! (range assignment). The watcher checks the partition counts at start and refuses to run if they
//! differ.
//!
//! # Delivery guarantee: each signal once, without transactions
//!
//! A signal is *decided* at most once per ticket, clock and threshold: the decision is recorded in
//! the ticket's state, which is written to the changelog. Between the decision and the broker's
//! acknowledgment the signal waits in the ticket's *outbox* (also in the changelog). Every flush
//! (every `commit_interval_ms`) writes the changed tickets, then a *watermark* record: per output
//! topic, the highest output offset of the partition whose effect is in the changelog records
//! written before it. The producer is idempotent, so a partition's records land in order: if the
//! watermark landed, so did everything written before it. Input offsets are stored (for the
//! auto-commit) only after the flush that reflects them is acknowledged.
//!
//! On assignment of partition *p* (and after a crash), the state is restored from changelog
//! partition *p*; then the outputs in partition *p* of the signal and acknowledgment topics
//! *after the watermark* are read, and each is marked as decided and delivered in its ticket's
//! state (or kept until the ticket is re-created from a replayed input). Outputs still in an
//! outbox and not found are sent again. Then the uncommitted inputs are replayed (a ticket's
//! state remembers the last lifecycle offset it applied, so a replay changes nothing twice),
//! and only when the partition has caught up with the input end offsets measured at assignment
//! do its timers fire — so events that happened while nobody watched are applied first.
//!
//! So after `kill -9` at any point: a signal that reached the broker is found (after the
//! watermark) or recorded (before it) and never sent again; a signal decided but not
//! acknowledged is in an outbox or is decided again from the replayed input or timer; nothing
//! committed is lost or repeated. Consumers of `tickets.sla` need no `read_committed`. Kafka
//! transactions would give the same for read-committed consumers only, and the outbox +
//! watermark scheme works on any broker and for any consumer.
//! Its limit: a zombie instance (a paused process whose partitions were reassigned) could still
//! send a signal after the new owner's restore read the topic's end — the window of a
//! session timeout; transactions with a fenced `transactional.id` would close it.
//!
//! Modules: [`config`] (`watch.toml`), [`kafka`] (clients, rebalance callbacks, co-partitioning
//! check), [`store`] (changelog records, restore), [`clocks`] (the owned tickets' clock states,
//! timers and flushes through the producer — the clock maths itself is [`crate::clock`]),
//! [`time`] (real or scaled time), [`metrics`]. Avro inputs are decoded by
//! [`crate::clock::avro`].

pub mod clocks;
pub mod config;
pub mod kafka;
pub mod metrics;
pub mod store;
pub mod time;

use crate::edge::config::FileConfig as _;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::message::Message;
use tracing::{error, info, warn};

use crate::edge::{load_rules, main_with_runtime, EdgeError, Http, Worker};
use crate::http::{Check, Probe};
use time::{ScaledTime, SystemTime, TimeSource};

pub use config::{WatchConfig, WatchConfigError};
pub use metrics::WatchMetrics;

/// Why the watcher could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Edge(#[from] EdgeError),
    #[error("acknowledgments = true, but the rules file {0} has no [acknowledgment] template")]
    NoAckTemplate(String),
    #[error("{0}")]
    Topics(String),
    #[error("refusing to run: the input and output topics are not co-partitioned ({0}). The SLA watcher needs the triaged topics, the lifecycle topic, the signal topic (and the acknowledgment topic) to have the same number of partitions, keyed by ticket_id with the same partitioner, so that one instance sees everything about a ticket")]
    CoPartitioning(String),
    #[error("changelog: {0}")]
    Restore(String),
    #[error("{0}")]
    Fatal(String),
    #[error("drain timed out: {0} record(s) were not acknowledged; their inputs were not committed and the next run reconciles them")]
    DrainTimeout(usize),
}

/// State shared by the loop, the consumer's rebalance callbacks and the HTTP server.
pub(crate) struct Shared {
    pub config: WatchConfig,
    pub metrics: Arc<WatchMetrics>,
    pub clocks: Mutex<clocks::Clocks>,
    pub stop: AtomicBool,
    pub assigned: AtomicUsize,
    pub restoring: AtomicBool,
    pub caught_up: AtomicBool,
}

impl Shared {}

impl Probe for Shared {
    fn checks(&self) -> Vec<Check> {
        let assigned = self.assigned.load(Ordering::Acquire);
        let restoring = self.restoring.load(Ordering::Acquire);
        let caught_up = self.caught_up.load(Ordering::Acquire);
        vec![
            Check {
                name: "partitions_assigned",
                ok: assigned > 0,
                detail: format!(
                    "{assigned} partition(s) assigned (group {})",
                    self.config.group_id
                ),
            },
            Check {
                name: "state_restored",
                ok: !restoring,
                detail: if restoring {
                    "restoring state from the changelog".into()
                } else {
                    "state restored".into()
                },
            },
            Check {
                name: "caught_up",
                ok: caught_up,
                detail: if caught_up {
                    "inputs caught up; timers running".into()
                } else {
                    "replaying the input backlog; timers held".into()
                },
            },
        ]
    }

    fn exposition(&self) -> (&prometheus::IntGauge, &prometheus::Registry) {
        (&self.metrics.ready, &self.metrics.registry)
    }
}

/// The time source of a config: real time, or scaled virtual time.
pub fn time_source(cfg: &WatchConfig) -> Arc<dyn TimeSource> {
    if (cfg.time_scale - 1.0).abs() < f64::EPSILON && cfg.time_scale_epoch.is_none() {
        Arc::new(SystemTime)
    } else {
        let epoch = cfg.time_scale_epoch.unwrap_or_else(jiff::Timestamp::now);
        Arc::new(ScaledTime::new(epoch, cfg.time_scale).expect("validated"))
    }
}

/// Runs the watcher until `shutdown` completes (or a fatal error), then drains: stop
/// consuming, write the state, wait for the acknowledgments, commit.
pub async fn run(
    config: WatchConfig,
    time: Arc<dyn TimeSource>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), WatchError> {
    let rules = load_rules(&config.common.rules_path)
        .map_err(EdgeError::from)?
        .rules;
    let mut settings = config.settings();
    if config.acknowledgments {
        match &rules.acknowledgment {
            Some(t) => settings.ack_template = Some(t.clone()),
            None => {
                return Err(WatchError::NoAckTemplate(
                    config.common.rules_path.display().to_string(),
                ))
            }
        }
    }
    let mut triaged: Vec<String> = rules.topics().iter().map(|t| t.to_string()).collect();
    triaged.sort();
    triaged.dedup();
    let topics = clocks::Topics {
        triaged: triaged.iter().cloned().collect(),
        lifecycle: config.lifecycle_topic.clone(),
        signals: config.signals_topic.clone(),
        acks: config.acknowledgments.then(|| config.acks_topic.clone()),
        changelog: config.changelog_topic.clone(),
    };

    // Co-partitioning: every input and output topic has the same number of partitions.
    let probe: rdkafka::consumer::BaseConsumer = kafka::base_config(&config, "probe")
        .create()
        .map_err(|e| EdgeError::Kafka("create a metadata client".into(), e))?;
    let mut checked = topics.inputs();
    checked.extend(topics.outputs().into_iter().map(|o| o.topic));
    let counts = tokio::task::block_in_place(|| kafka::partition_counts(probe.client(), &checked))?;
    let partitions = kafka::check_co_partitioning(&counts)?;
    let changelog = tokio::task::block_in_place(|| {
        kafka::partition_counts(probe.client(), std::slice::from_ref(&topics.changelog))
    })?;
    match changelog[&topics.changelog] {
        Some(n) if n == partitions => {}
        Some(n) => {
            return Err(WatchError::CoPartitioning(format!(
                "the changelog {} has {n} partitions, the inputs {partitions}",
                topics.changelog
            )))
        }
        None if config.create_changelog => kafka::create_changelog(&config, partitions).await?,
        None => {
            return Err(WatchError::Topics(format!(
                "the changelog topic {} does not exist; create it (compacted, {partitions} partitions) or set create_changelog = true",
                topics.changelog
            )))
        }
    }
    info!(partitions, topics = ?checked, "topics are co-partitioned");

    let metrics = Arc::new(WatchMetrics::new(&rules));
    let (tx, rx) = std::sync::mpsc::channel();
    let producer = kafka::producer(&config, tx)?;
    let core = clocks::Clocks::new(
        &rules,
        settings,
        time,
        metrics.clone(),
        producer,
        rx,
        clocks::ClocksConfig {
            topics,
            restore_config: kafka::restore_config(&config),
            restore_timeout: Duration::from_secs(120),
            drain_timeout: config.common.drain_timeout(),
            catch_up_timeout: config.catch_up_timeout(),
            commit_interval: config.commit_interval(),
        },
    );
    let shared = Arc::new(Shared {
        metrics,
        clocks: Mutex::new(core),
        stop: AtomicBool::new(false),
        assigned: AtomicUsize::new(0),
        restoring: AtomicBool::new(false),
        caught_up: AtomicBool::new(false),
        config,
    });
    let http = Http::serve(shared.config.http_listen, shared.clone())
        .await
        .map_err(|source| EdgeError::Http {
            addr: shared.config.http_listen,
            source,
        })?;

    let consumer = kafka::consumer(&shared.config, shared.clone())?;
    let mut subscribed: Vec<&str> = triaged.iter().map(String::as_str).collect();
    subscribed.push(&shared.config.lifecycle_topic);
    consumer
        .subscribe(&subscribed)
        .map_err(|e| EdgeError::Kafka("subscribe".into(), e))?;
    info!(topics = ?subscribed, group = %shared.config.group_id, "watching");

    let mut looping = {
        let s = shared.clone();
        Worker::spawn("sla-watch", move || run_loop(&s, &consumer))
            .map_err(|e| WatchError::Fatal(format!("cannot start the watch thread: {e}")))?
    };
    if !looping.until(shutdown).await {
        info!("shutting down: draining");
    }
    shared.stop.store(true, Ordering::Release);
    let result = tokio::task::spawn_blocking(move || looping.thread.join())
        .await
        .map_err(|e| WatchError::Fatal(format!("watch thread: {e}")))?
        .map_err(|_| WatchError::Fatal("the watch thread panicked".into()))?;
    http.stop().await;
    if result.is_ok() {
        info!("stopped");
    }
    result
}

/// The loop: poll inputs (at most until the next timer), fire timers, handle delivery reports,
/// flush, store offsets. Then drain.
fn run_loop(
    shared: &Shared,
    consumer: &rdkafka::consumer::BaseConsumer<kafka::ConsumerCtx>,
) -> Result<(), WatchError> {
    let mut last_gauges = std::time::Instant::now();
    while !shared.stop.load(Ordering::Acquire) {
        let wait = shared.clocks.lock().expect("not poisoned").poll_wait();
        let mut batch = 0;
        let mut next = consumer.poll(wait);
        while let Some(r) = next {
            match r {
                Ok(m) => {
                    let mut core = shared.clocks.lock().expect("not poisoned");
                    core.on_record(m.topic(), m.partition(), m.offset(), m.payload());
                }
                Err(e) => warn!(error = %e, "consumer error"),
            }
            batch += 1;
            if batch >= 500 {
                break;
            }
            next = consumer.poll(Duration::ZERO);
        }
        let offsets = {
            let mut core = shared.clocks.lock().expect("not poisoned");
            core.check_catch_ups();
            core.fire_timers();
            let mut offsets = core.drain_deliveries();
            core.flush(false);
            offsets.extend(core.drain_deliveries());
            if let Some(f) = core.fatal() {
                error!(error = f, "stopping");
                return Err(WatchError::Fatal(f.to_string()));
            }
            shared.caught_up.store(core.caught_up(), Ordering::Release);
            if last_gauges.elapsed() >= Duration::from_secs(1) {
                last_gauges = std::time::Instant::now();
                shared.metrics.tracked.set(core.tracked() as i64);
            }
            offsets
        };
        kafka::store(consumer, &offsets);
    }
    let (offsets, left) = shared.clocks.lock().expect("not poisoned").shutdown();
    kafka::store_and_commit(consumer, &offsets, "shutdown");
    if left > 0 {
        return Err(WatchError::DrainTimeout(left));
    }
    Ok(())
}

/// Arguments of `triage watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The watcher's configuration (TOML, see docs/sla-clocks.md); `TRIAGE_WATCH_<FIELD>`
    /// environment variables override its fields.
    #[arg(long, short)]
    pub config: PathBuf,
}

/// `triage watch`: loads the config, sets up logging, runs until SIGTERM or SIGINT. Setup errors
/// (config, rules, topics, co-partitioning) are one message and exit code 2; a fatal error while
/// running is exit code 1.
pub fn main_watch(args: &WatchArgs) -> Result<ExitCode, String> {
    let config = WatchConfig::load(&args.config).map_err(|e| e.to_string())?;
    let time = time_source(&config);
    let level = config.common.log_level.clone();
    main_with_runtime(
        &level,
        "triage-watch-rt",
        |shutdown| run(config, time, shutdown),
        |e| match e {
            WatchError::Edge(e) => e.is_setup(),
            WatchError::NoAckTemplate(_)
            | WatchError::Topics(_)
            | WatchError::CoPartitioning(_) => true,
            _ => false,
        },
    )
}
