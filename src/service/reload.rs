//! Rules hot reload: on SIGHUP and when the rules file's content changes
//! (checked every `rules_watch_interval_ms`), load and validate the new
//! rules; if valid (and every output topic they name exists), swap them in
//! without pausing the stream — the next ticket is triaged with them and its
//! output carries the new `rules_version`. If not, keep the rules in use and
//! log every diagnostic. The shadow rules (`shadow_rules_path`) are watched and reloaded the
//! same way; an invalid shadow file keeps the shadow in use.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::producer::Producer as _;
use tokio::sync::watch;
use tracing::info;

use super::kafka::Producer;
use super::{Active, Shared};
use crate::edge::load_rules;

fn content_hash(path: &std::path::Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    Some(h.finish())
}

/// Watches the rules file until `stop` turns true.
pub(crate) async fn watch(
    shared: Arc<Shared>,
    producer: Producer,
    mut stop: watch::Receiver<bool>,
) {
    let path = shared.config.common.rules_path.clone();
    let shadow_path = shared.config.shadow_rules_path.clone();
    let mut last = content_hash(&path);
    let mut last_shadow = shadow_path.as_deref().and_then(content_hash);
    let mut tick =
        tokio::time::interval(Duration::from_millis(shared.config.rules_watch_interval_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        #[cfg(unix)]
        let sighup = async {
            match hup.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let sighup = std::future::pending::<()>();
        let forced = tokio::select! {
            _ = tick.tick() => false,
            _ = sighup => true,
            _ = stop.wait_for(|s| *s) => return,
        };
        if let Some(sp) = &shadow_path {
            let now = content_hash(sp);
            if forced || now != last_shadow {
                info!(path = %sp.display(), forced, "reloading the shadow rules");
                last_shadow = now;
                let s = shared.clone();
                let _ = tokio::task::spawn_blocking(move || reload_shadow(&s)).await;
            }
        }
        let now = content_hash(&path);
        if !forced && now == last {
            continue;
        }
        if forced {
            info!(path = %path.display(), "SIGHUP: reloading rules");
        } else {
            info!(path = %path.display(), "rules file changed: reloading");
        }
        last = now;
        let s = shared.clone();
        let p = producer.clone();
        let _ = tokio::task::spawn_blocking(move || reload(&s, &p)).await;
    }
}

/// Loads, validates and swaps in the rules; returns whether they were
/// swapped in.
pub(crate) fn reload(shared: &Shared, producer: &Producer) -> bool {
    let path = &shared.config.common.rules_path;
    let shown = path.display().to_string();
    let loaded = match load_rules(path) {
        Ok(l) => l,
        Err(e) => {
            shared.metrics.rules_reload_failed(&shown, &e.diagnostics);
            return false;
        }
    };
    // Output topics must exist, or records to them would stall the stream.
    let old_topics = shared.rules.load().rules.topics();
    let new_topics: Vec<_> = loaded
        .rules
        .topics()
        .into_iter()
        .filter(|t| !old_topics.contains(t))
        .collect();
    if !new_topics.is_empty() {
        match producer
            .client()
            .fetch_metadata(None, Duration::from_secs(10))
        {
            Ok(md) => {
                let missing: Vec<String> = new_topics
                    .iter()
                    .filter(|t| {
                        !md.topics()
                            .iter()
                            .any(|m| m.name() == &***t && m.error().is_none())
                    })
                    .map(|t| format!("output topic {t} does not exist"))
                    .collect();
                if !missing.is_empty() {
                    shared.metrics.rules_reload_failed(&shown, &missing);
                    return false;
                }
            }
            Err(e) => {
                shared.metrics.rules_reload_failed(
                    &shown,
                    &[format!("cannot check the new output topics: {e}")],
                );
                return false;
            }
        }
    }
    if let Err(e) = shared.codec.prepare_topics(&new_topics) {
        shared.metrics.rules_reload_failed(&shown, &[e]);
        return false;
    }
    let version = loaded.rules.version.clone();
    let active = Active {
        metrics: shared.metrics.for_rules(&loaded.rules),
        rules: loaded.rules,
    };
    shared.rules.store(Arc::new(active));
    shared.metrics.rules_loaded(&version, &shown, false);
    true
}

/// Loads and swaps in the shadow rules; an invalid file keeps the shadow in use. Returns whether
/// they were swapped in.
pub(crate) fn reload_shadow(shared: &Shared) -> bool {
    let Some(path) = &shared.config.shadow_rules_path else {
        return false;
    };
    let shown = path.display().to_string();
    match load_rules(path) {
        Ok(l) => {
            shared.metrics.shadow_loaded(&l.rules.version, &shown);
            shared.shadow.store(Some(Arc::new(l.rules)));
            true
        }
        Err(e) => {
            shared.metrics.rules_reload_failed(&shown, &e.diagnostics);
            false
        }
    }
}
