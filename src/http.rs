//! The service's HTTP endpoints (axum): `/metrics` (Prometheus text format),
//! `/healthz` (alive: the process answers) and `/readyz` (ready to do work:
//! partitions assigned, customer table caught up, producer connected; the
//! body says what is not ready). Plus [`healthcheck`], the client behind
//! `triage healthcheck` (the container image has no curl).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// One readiness condition.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// A sentence for the `/readyz` body.
    pub detail: String,
}

/// The answer of `/readyz`.
#[derive(Debug, Clone)]
pub struct Readiness {
    pub ready: bool,
    pub checks: Vec<Check>,
}

impl Readiness {
    /// The `/readyz` body: one line per condition, the failing ones first.
    pub fn body(&self) -> String {
        let mut s = String::from(if self.ready { "ready\n" } else { "not ready\n" });
        let mut checks: Vec<&Check> = self.checks.iter().collect();
        checks.sort_by_key(|c| c.ok);
        for c in checks {
            s.push_str(if c.ok { "ok   " } else { "FAIL " });
            s.push_str(c.name);
            s.push_str(": ");
            s.push_str(&c.detail);
            s.push('\n');
        }
        s
    }
}

/// What the endpoints read.
pub trait Probe: Send + Sync + 'static {
    /// The checks behind `/readyz`.
    fn checks(&self) -> Vec<Check>;
    /// The `…_ready` gauge that mirrors `/readyz`, and the registry `/metrics` renders.
    fn exposition(&self) -> (&prometheus::IntGauge, &prometheus::Registry);

    /// Ready when every check passes; sets the gauge.
    fn readiness(&self) -> Readiness {
        let checks = self.checks();
        let ready = checks.iter().all(|c| c.ok);
        self.exposition().0.set(ready as i64);
        Readiness { ready, checks }
    }

    /// The metrics, with the ready gauge brought up to date first.
    fn metrics_text(&self) -> String {
        self.readiness();
        crate::metrics::render(self.exposition().1)
    }
}

/// The routes.
pub fn router(probe: Arc<dyn Probe>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(probe)
}

async fn metrics(State(p): State<Arc<dyn Probe>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        p.metrics_text(),
    )
}

async fn readyz(State(p): State<Arc<dyn Probe>>) -> impl IntoResponse {
    let r = p.readiness();
    let code = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, r.body())
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    probe: Arc<dyn Probe>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(probe))
        .with_graceful_shutdown(shutdown)
        .await
}

/// `triage healthcheck --url URL`: `Ok` iff the URL answers 200 within
/// `timeout`.
pub fn healthcheck(url: &str, timeout: Duration) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    match agent.get(url).call() {
        Ok(resp) if resp.status().as_u16() == 200 => Ok(()),
        Ok(resp) => Err(format!("{url}: HTTP {}", resp.status().as_u16())),
        Err(e) => Err(format!("{url}: {e}")),
    }
}

/// Arguments of `triage healthcheck`.
#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// The URL to probe.
    #[arg(long, default_value = "http://127.0.0.1:9464/healthz")]
    pub url: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 3)]
    pub timeout_seconds: u64,
}

/// `triage healthcheck`: exit 0 iff the URL answers 200.
pub fn main_healthcheck(a: &HealthcheckArgs) -> Result<std::process::ExitCode, String> {
    healthcheck(&a.url, Duration::from_secs(a.timeout_seconds))
        .map(|()| std::process::ExitCode::SUCCESS)
}
