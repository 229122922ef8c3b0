//! `triage run`: the Kafka service. Tickets in, triaged tickets out per
//! priority level, at least once, nothing lost.
//!
//! ```text
//!  customers (compacted) ──► customers::run_loader ──► CustomerTable ─┐
//!                                                                      │ enrich
//!  tickets.raw ──► pipeline (consumer group) ── decode ─► engine ◄────┘
//!                      │           │ bad input               │
//!                      │           ▼                         ▼ encode
//!                      │     tickets.dlq            tickets.triaged.<level>
//!                      │           └──── producer (idempotent) ┘
//!                      └── offset tracker ◄── delivery reports: commit only what was acknowledged
//!  rules file ──► reload (file change, SIGHUP) ──► ArcSwap<Active>
//! ```
//!
//! Modules, one job each: [`config`] (service.toml and `TRIAGE_*`),
//! [`format`](mod@format) (json | avro codecs), [`customers`] (the customer
//! table), [`tracker`] (per-partition ordered offsets), [`kafka`] (clients and
//! their callbacks), [`pipeline`] (consume → triage → produce), [`rounds`]
//! (the `workers` threads), [`reload`] (rules hot reload), [`logging`],
//! [`demo`] (`triage demo`). The shutdown signal is a parameter of [`run`], so
//! tests can stop the service.

pub mod callbacks;
pub mod config;
pub mod customers;
pub mod demo;
pub mod format;
pub mod kafka;
pub mod pipeline;
pub mod reload;
pub mod rounds;
pub mod tracker;

use crate::edge::config::FileConfig as _;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use rdkafka::producer::Producer as _;
use tracing::{error, info, warn};

use crate::edge::{load_rules, main_with_runtime, EdgeError, Http, Worker};
use crate::http::{Check, Probe, Readiness};
use crate::metrics::{HotMetrics, Metrics, RuleMetrics};
use crate::rules::Rules;

pub use config::{Config, ConfigError, Format};
pub use customers::CustomerTable;

/// Rules in use, with their metric handles. Swapped whole on reload.
pub struct Active {
    pub rules: Rules,
    pub metrics: RuleMetrics,
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Edge(#[from] EdgeError),
    #[error("customers seed: {0}")]
    Seed(String),
    #[error("{0}")]
    Codec(String),
    #[error("drain timed out: {0} record(s) were not acknowledged; their inputs were not committed and will be processed again")]
    DrainTimeout(usize),
}

/// State shared by the pipeline thread, the customer-table thread, the
/// producer's delivery callback, the HTTP server and the rules watcher.
pub(crate) struct Shared {
    pub config: Config,
    pub metrics: Arc<Metrics>,
    pub hot: HotMetrics,
    pub table: CustomerTable,
    pub codec: format::RegistryCodec,
    pub rules: ArcSwap<Active>,
    /// The shadow rules (`shadow_rules_path`), when configured.
    pub shadow: ArcSwapOption<Rules>,
    pub tracker: Mutex<tracker::Tracker<pipeline::SlotInfo>>,
    /// Signalled by delivery reports while someone waits for in-flight
    /// records (`Tracker::waiting`).
    pub drained: Condvar,
    /// Set by a failed delivery report; the pipeline rewinds.
    pub delivery_failed: AtomicBool,
    /// Dead letters the broker refused for good, to be sent again smaller
    /// by the pipeline thread (filled by the delivery callback).
    pub refused: Mutex<Vec<pipeline::Refused>>,
    pub producer_connected: AtomicBool,
    /// The schema registry does not answer and records wait for it.
    pub registry_down: AtomicBool,
    /// Assigned partitions of the input topic.
    pub assigned: AtomicUsize,
    /// Bumped on every assignment and revocation (the pipeline checks it
    /// while it collects a round of records).
    pub rebalances: AtomicU64,
    stop: AtomicBool,
    /// Ticket consumption may start (table caught up or waited long enough).
    catch_up: Mutex<bool>,
    catch_up_cv: Condvar,
}

impl Shared {
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
        let _g = self.catch_up.lock().expect("not poisoned");
        self.catch_up_cv.notify_all();
    }

    /// Lets ticket consumption start.
    pub fn catch_up_done(&self) {
        let mut g = self.catch_up.lock().expect("not poisoned");
        *g = true;
        self.catch_up_cv.notify_all();
    }

    /// Blocks until the table caught up (or the loader gave up waiting);
    /// `false` if the service is stopping.
    pub fn wait_for_catch_up(&self) -> bool {
        let mut g = self.catch_up.lock().expect("not poisoned");
        while !*g && !self.stopping() {
            g = self
                .catch_up_cv
                .wait_timeout(g, Duration::from_millis(200))
                .expect("not poisoned")
                .0;
        }
        !self.stopping()
    }
}

impl Probe for Shared {
    fn checks(&self) -> Vec<Check> {
        let assigned = self.assigned.load(Ordering::Acquire);
        let caught_up = self.table.caught_up();
        let connected = self.producer_connected.load(Ordering::Acquire);
        vec![
            Check {
                name: "partitions_assigned",
                ok: assigned > 0,
                detail: if assigned > 0 {
                    format!(
                        "{assigned} partition(s) of {} assigned",
                        self.config.input_topic
                    )
                } else {
                    format!(
                        "no partition of {} assigned to this instance (group {}): joining, rebalancing, or more instances than partitions",
                        self.config.input_topic, self.config.group_id
                    )
                },
            },
            Check {
                name: "customer_table_caught_up",
                ok: caught_up,
                detail: if caught_up {
                    format!("{} customers loaded", self.table.len())
                } else {
                    format!(
                        "customer table still loading {} ({} customers so far)",
                        self.config.customers_topic,
                        self.table.len()
                    )
                },
            },
            Check {
                name: "producer_connected",
                ok: connected,
                detail: if connected {
                    "producer connected to the brokers".into()
                } else {
                    format!(
                        "producer not connected to {}",
                        self.config.common.bootstrap_servers
                    )
                },
            },
            Check {
                name: "schema_registry",
                ok: !self.registry_down.load(Ordering::Acquire),
                detail: if self.registry_down.load(Ordering::Acquire) {
                    "the schema registry does not answer: records that need a schema not cached yet wait (see schema_registry_max_wait_seconds)".into()
                } else if self.config.schema_registry_url.is_some() {
                    "schema registry answers".into()
                } else {
                    "no schema registry configured".into()
                },
            },
        ]
    }

    fn exposition(&self) -> (&prometheus::IntGauge, &prometheus::Registry) {
        (&self.metrics.ready, &self.metrics.registry)
    }
}

/// A running service, for callers that need to look inside while it runs
/// (tests, the demo): the table, readiness, the bound HTTP address.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
    http_addr: Arc<Mutex<Option<std::net::SocketAddr>>>,
}

impl Handle {
    pub fn table(&self) -> &CustomerTable {
        &self.shared.table
    }
    pub fn readiness(&self) -> Readiness {
        self.shared.readiness()
    }
    pub fn metrics_text(&self) -> String {
        self.shared.metrics_text()
    }
    /// The address `/metrics` listens on (useful with port 0).
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        *self.http_addr.lock().expect("not poisoned")
    }
    /// Partitions of the input topic assigned to this instance.
    pub fn assigned_partitions(&self) -> usize {
        self.shared.assigned.load(Ordering::Acquire)
    }
    pub fn rules_version(&self) -> Arc<str> {
        self.shared.rules.load().rules.version.clone()
    }
}

/// Runs the service until `shutdown` completes (or a fatal error), then
/// drains: stop consuming, wait for in-flight records, commit, flush.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), ServiceError> {
    run_with(config, shutdown, |_| {}).await
}

/// [`run`], calling `started` with a [`Handle`] once the service is set up.
pub async fn run_with(
    config: Config,
    shutdown: impl Future<Output = ()>,
    started: impl FnOnce(Handle),
) -> Result<(), ServiceError> {
    let rules_path = config.common.rules_path.display().to_string();
    let loaded = load_rules(&config.common.rules_path).map_err(EdgeError::from)?;
    let codec = {
        let cfg = config.clone();
        let topics = loaded.rules.topics();
        tokio::task::spawn_blocking(move || format::RegistryCodec::from_config(&cfg, &topics))
            .await
            .map_err(|e| EdgeError::Thread(e.to_string()))?
            .map_err(ServiceError::Codec)?
    };
    let metrics = Arc::new(Metrics::new(
        &config.input_topic,
        &config.customers_topic,
        &config.dead_letter_topic,
        &loaded.rules,
    ));
    let active = Active {
        metrics: metrics.for_rules(&loaded.rules),
        rules: loaded.rules,
    };
    metrics.rules_loaded(&active.rules.version, &rules_path, true);
    let shadow = match &config.shadow_rules_path {
        Some(p) => {
            let l = load_rules(p).map_err(EdgeError::from)?;
            metrics.shadow_loaded(&l.rules.version, &p.display().to_string());
            Some(Arc::new(l.rules))
        }
        None => None,
    };
    let hot = metrics.hot(&config.dead_letter_topic);
    let shared = Arc::new(Shared {
        metrics,
        hot,
        table: CustomerTable::default(),
        codec,
        rules: ArcSwap::from_pointee(active),
        shadow: ArcSwapOption::new(shadow),
        tracker: Mutex::new(tracker::Tracker::default()),
        drained: Condvar::new(),
        delivery_failed: AtomicBool::new(false),
        refused: Mutex::new(Vec::new()),
        registry_down: AtomicBool::new(false),
        producer_connected: AtomicBool::new(false),
        assigned: AtomicUsize::new(0),
        rebalances: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        catch_up: Mutex::new(false),
        catch_up_cv: Condvar::new(),
        config,
    });
    let cfg = &shared.config;

    // Seed file first: the topic's records then win.
    if let Some(path) = &cfg.customers_seed_path {
        let n = customers::seed(&shared.table, path).map_err(ServiceError::Seed)?;
        shared.metrics.customers.set(shared.table.len() as i64);
        info!(path = %path.display(), customers = n, "customer table seeded");
    }

    let http = Http::serve(cfg.http_listen, shared.clone())
        .await
        .map_err(|source| EdgeError::Http {
            addr: cfg.http_listen,
            source,
        })?;
    let http_addr = http.addr();

    let producer = kafka::producer(cfg, shared.clone())?;
    {
        // First contact; statistics keep producer_connected current after.
        let p = producer.clone();
        let s = shared.clone();
        tokio::task::spawn_blocking(move || {
            match p.client().fetch_metadata(None, Duration::from_secs(10)) {
                Ok(md) => {
                    s.producer_connected.store(true, Ordering::Release);
                    let rules = s.rules.load();
                    let mut wanted: Vec<String> =
                        rules.rules.topics().iter().map(|t| t.to_string()).collect();
                    wanted.push(s.config.dead_letter_topic.clone());
                    for t in wanted {
                        if !md
                            .topics()
                            .iter()
                            .any(|m| m.name() == t && m.error().is_none())
                        {
                            warn!(topic = %t, "output topic does not exist (yet); records to it wait in the producer until it does");
                        }
                    }
                }
                Err(e) => warn!(error = %e, "cannot reach the brokers yet"),
            }
        });
    }

    let loader = {
        let s = shared.clone();
        std::thread::Builder::new()
            .name("customer-table".into())
            .spawn(move || {
                let r = customers::run_loader(s);
                if let Err(e) = &r {
                    error!(error = %e, "the customer table stopped loading");
                }
                r
            })
            .map_err(|e| EdgeError::Thread(e.to_string()))?
    };
    let mut pipeline = {
        let s = shared.clone();
        let p = producer.clone();
        Worker::spawn("pipeline", move || pipeline::run(s, p))
            .map_err(|e| EdgeError::Thread(e.to_string()))?
    };
    let watcher = tokio::spawn(reload::watch(
        shared.clone(),
        producer.clone(),
        http.stopping(),
    ));

    started(Handle {
        shared: shared.clone(),
        http_addr: Arc::new(Mutex::new(http_addr)),
    });

    if !pipeline.until(shutdown).await {
        info!(
            drain_timeout_seconds = shared.config.common.drain_timeout_seconds,
            "shutting down: draining"
        );
    }
    shared.request_stop();
    let http_stopped = tokio::spawn(http.stop());
    let drain_deadline = Instant::now() + shared.config.common.drain_timeout();
    let joined = tokio::task::spawn_blocking(move || {
        let r = pipeline.thread.join();
        let _ = loader.join();
        r
    });
    let result = match tokio::time::timeout_at(drain_deadline.into(), joined).await {
        Ok(Ok(Ok(Ok(d)))) if d.unacknowledged == 0 => Ok(()),
        Ok(Ok(Ok(Ok(d)))) => Err(ServiceError::DrainTimeout(d.unacknowledged)),
        Ok(Ok(Ok(Err(e)))) => Err(e),
        Ok(Ok(Err(_))) | Ok(Err(_)) => {
            Err(EdgeError::Thread("the pipeline thread panicked".into()).into())
        }
        Err(_) => Err(ServiceError::DrainTimeout(
            shared.tracker.lock().map(|t| t.in_flight()).unwrap_or(0),
        )),
    };
    watcher.abort();
    let _ = http_stopped.await;
    drop(producer);
    if result.is_ok() {
        info!("stopped");
    }
    result
}

/// Arguments of `triage run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The service configuration (TOML); `TRIAGE_<FIELD>` environment
    /// variables override its fields.
    #[arg(long, short)]
    pub config: PathBuf,
}

/// `triage run`: loads the config, sets up logging, runs until SIGTERM or
/// SIGINT. A config error is one line on stderr and exit code 2.
pub fn main_run(args: &RunArgs) -> Result<ExitCode, String> {
    let config = Config::load(&args.config).map_err(|e| e.to_string())?;
    let level = config.common.log_level.clone();
    main_with_runtime(
        &level,
        "triage-rt",
        |shutdown| run(config, shutdown),
        |e| match e {
            ServiceError::Edge(e) => e.is_setup(),
            ServiceError::Seed(_) | ServiceError::Codec(_) => true,
            ServiceError::DrainTimeout(_) => false,
        },
    )
}
