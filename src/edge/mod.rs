//! The Kafka edge that `triage run` (the service) and `triage watch` (the SLA
//! watcher) share, so that both start, serve, drain and fail the same way:
//!
//! - [`config`]: the config files' shared error type, environment overrides and parsing;
//! - [`kafka`]: the base client configuration and the librdkafka log bridge;
//! - [`logging`]: `tracing` set-up (JSON lines off a terminal);
//! - here: the errors both binaries can fail with ([`EdgeError`]), rules loading
//!   ([`load_rules`], [`RulesError`]), the HTTP endpoints' lifetime
//!   ([`Http`]), the worker thread that runs the loop ([`Worker`]), the shutdown signal and the
//!   process entry ([`main_with_runtime`]).

pub mod config;
pub mod kafka;
pub mod logging;

use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use tracing::{error, info, warn};

use crate::http::Probe;
use crate::rules::{Loaded, Severity};

/// What the service and the watcher can both fail with at their edge.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// What was being done, and librdkafka's error.
    #[error("{0}: {1}")]
    Kafka(String, #[source] rdkafka::error::KafkaError),
    #[error("http_listen {addr}: {source}")]
    Http {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// A thread could not start, or panicked.
    #[error("{0}")]
    Thread(String),
}

impl EdgeError {
    /// A mistake in what the operator gave (the config, the rules, the listen address): the
    /// process exits with status 2 instead of 1.
    pub fn is_setup(&self) -> bool {
        matches!(
            self,
            EdgeError::Config(_) | EdgeError::Rules(_) | EdgeError::Http { .. }
        )
    }
}

/// The rules file has errors: every error-level diagnostic, one per line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {} error(s) in the rules:\n{}", .diagnostics.len(), .diagnostics.join("\n"))]
pub struct RulesError {
    pub path: String,
    /// The error-level diagnostics, each as `file:line: field: message`.
    pub diagnostics: Vec<String>,
}

/// Reads and compiles the rules file; warnings are logged, errors returned.
pub fn load_rules(path: &Path) -> Result<Loaded, RulesError> {
    match crate::files::load_rules(path) {
        Ok(l) => {
            for w in &l.warnings {
                warn!(warning = %w, "rules");
            }
            Ok(l)
        }
        Err(diags) => Err(RulesError {
            path: path.display().to_string(),
            diagnostics: diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| d.to_string())
                .collect(),
        }),
    }
}

/// `/metrics`, `/healthz` and `/readyz`, served until [`Http::stop`].
pub struct Http {
    addr: Option<SocketAddr>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Http {
    /// Binds `listen` and serves `probe`; the error is the bind's.
    pub async fn serve(listen: SocketAddr, probe: Arc<dyn Probe>) -> std::io::Result<Http> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr().ok();
        info!(addr = ?addr, "serving /metrics, /healthz, /readyz");
        let (stop, mut rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(crate::http::serve(listener, probe, async move {
            let _ = rx.wait_for(|s| *s).await;
        }));
        Ok(Http { addr, stop, task })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// A receiver that turns `true` when the edge stops (for other tasks).
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Stops serving (and tells every [`Http::stopping`] receiver).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The thread that runs a loop (the pipeline, the watcher), and a signal when
/// it ends.
pub struct Worker<T> {
    pub thread: std::thread::JoinHandle<T>,
    done: tokio::sync::oneshot::Receiver<()>,
}

impl<T: Send + 'static> Worker<T> {
    /// Starts `run` on a thread named `name`.
    pub fn spawn(
        name: &str,
        run: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<Worker<T>> {
        let (tx, done) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let r = run();
                let _ = tx.send(());
                r
            })?;
        Ok(Worker { thread, done })
    }

    /// Waits for `shutdown`, or for the loop to end on its own (then `true`,
    /// logged as an error).
    pub async fn until(&mut self, shutdown: impl Future<Output = ()>) -> bool {
        let early = tokio::select! {
            _ = shutdown => false,
            _ = &mut self.done => true,
        };
        if early {
            let thread = self.thread.thread().name().unwrap_or("worker");
            error!(thread, "the loop stopped on its own");
        }
        early
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!(signal = "SIGINT", "stop requested"),
        _ = term => info!(signal = "SIGTERM", "stop requested"),
    }
}

/// The process entry of `triage run` and `triage watch`: sets up logging,
/// starts a runtime, runs `run(shutdown_signal())`. An error `setup` accepts
/// (config, rules, topics, listen address) is one message and exit code 2
/// (`Err`); any other error is logged and exit code 1.
pub fn main_with_runtime<E, F>(
    log_level: &str,
    thread_name: &str,
    run: impl FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> F,
    setup: impl Fn(&E) -> bool,
) -> Result<ExitCode, String>
where
    E: Display,
    F: Future<Output = Result<(), E>>,
{
    logging::init(log_level);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(thread_name)
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    match rt.block_on(run(Box::pin(shutdown_signal()))) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            error!(error = %e, "stopped with an error");
            if setup(&e) {
                Err(e.to_string())
            } else {
                Ok(ExitCode::from(1))
            }
        }
    }
}
