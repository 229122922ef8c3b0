//! Prometheus metrics of the SLA watcher, in its own [`Registry`] served on its own `/metrics`
//! (the watcher is a separate process from `triage run`). Same conventions as
//! [`crate::metrics`]: one method per logged-and-counted event, base units, `_total` on
//! counters, no ticket or customer ids in labels, every known label value initialised to 0.

use std::sync::Arc;

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};
use tracing::{info, warn};

use crate::clock::{AckRecord, ClockKind, SignalKind, SignalRecord, SlaState};
use crate::rules::Rules;

/// `triage_sla_records_total{input}`: which input a record came from.
pub const INPUTS: [&str; 2] = ["triaged", "lifecycle"];
/// `triage_sla_records_total{result}`: what became of it.
pub const RESULTS: [&str; 6] = [
    "applied",
    "buffered",
    "duplicate",
    "ignored",
    "dropped",
    "invalid",
];

/// Bounds of `triage_sla_elapsed_ratio`: fractions of the target.
pub const RATIO_BUCKETS: [f64; 12] = [
    0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0,
];
/// Bounds of `triage_csat_score`: the scores.
pub const CSAT_BUCKETS: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];
const RESTORE_BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
const DELAY_BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0];

/// Every metric of the watcher.
pub struct WatchMetrics {
    pub(crate) registry: Registry,
    open_tickets: IntGaugeVec,
    signals: IntCounterVec,
    elapsed_ratio: HistogramVec,
    csat: HistogramVec,
    restore_seconds: Histogram,
    records: IntCounterVec,
    acks: IntCounter,
    signal_delay: Histogram,
    orphans_expired: IntCounter,
    /// Tickets (and not-yet-triaged lifecycle buffers) held in memory.
    pub tracked: IntGauge,
    /// Assigned partitions (per input topic).
    pub assigned_partitions: IntGauge,
    /// 1 when `/readyz` answers 200.
    pub ready: IntGauge,
}

impl WatchMetrics {
    /// Registers every metric; priorities (the rules' levels), categories, clocks, signals and
    /// states start at 0.
    pub fn new(rules: &Rules) -> WatchMetrics {
        let r = Registry::new();
        let open_tickets = IntGaugeVec::new(
            Opts::new(
                "triage_sla_open_tickets",
                "Open (not solved or closed) tickets watched, by priority and SLA state: ok, at_risk (a warning fired), breached, paused (no clock running).",
            ),
            &["priority", "state"],
        )
        .expect("valid metric");
        let signals = IntCounterVec::new(
            Opts::new(
                "triage_sla_signals_total",
                "SLA signals acknowledged by the broker, by signal (warning, breached, met), priority and clock.",
            ),
            &["signal", "priority", "clock"],
        )
        .expect("valid metric");
        let elapsed_ratio = HistogramVec::new(
            HistogramOpts::new(
                "triage_sla_elapsed_ratio",
                "First-response and resolution time as a fraction of the target, observed when the clock first stops (met or late).",
            )
            .buckets(RATIO_BUCKETS.to_vec()),
            &["priority", "clock"],
        )
        .expect("valid metric");
        let csat = HistogramVec::new(
            HistogramOpts::new(
                "triage_csat_score",
                "Customer satisfaction scores (1-5) by the ticket's priority and category.",
            )
            .buckets(CSAT_BUCKETS.to_vec()),
            &["priority", "category"],
        )
        .expect("valid metric");
        let restore_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "triage_sla_state_restore_seconds",
                "Time to restore one partition's state from the changelog (and reconcile outputs found on the broker) after assignment.",
            )
            .buckets(RESTORE_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        let records = IntCounterVec::new(
            Opts::new(
                "triage_sla_records_total",
                "Input records by input (triaged, lifecycle) and result: applied, buffered (lifecycle before its triaged ticket), duplicate (replay), ignored (changed nothing), dropped (buffer full), invalid.",
            ),
            &["input", "result"],
        )
        .expect("valid metric");
        let acks = IntCounter::new(
            "triage_sla_acks_total",
            "Customer acknowledgments acknowledged by the broker.",
        )
        .expect("valid metric");
        let signal_delay = Histogram::with_opts(
            HistogramOpts::new(
                "triage_sla_signal_delay_seconds",
                "Wall time between the moment a threshold was crossed and the watcher's decision (timer precision plus input lag).",
            )
            .buckets(DELAY_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        let orphans_expired = IntCounter::new(
            "triage_sla_orphans_expired_total",
            "Lifecycle buffers given up because no triaged ticket came within orphan_ttl_seconds.",
        )
        .expect("valid metric");
        let tracked = IntGauge::new(
            "triage_sla_tracked_tickets",
            "Tickets (and lifecycle buffers) held in memory, including solved ones within retention.",
        )
        .expect("valid metric");
        let assigned_partitions = IntGauge::new(
            "triage_sla_assigned_partitions",
            "Partitions (per input topic) assigned to this instance.",
        )
        .expect("valid metric");
        let ready =
            IntGauge::new("triage_sla_ready", "1 when /readyz answers 200.").expect("valid metric");
        for c in [
            Box::new(open_tickets.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(signals.clone()),
            Box::new(elapsed_ratio.clone()),
            Box::new(csat.clone()),
            Box::new(restore_seconds.clone()),
            Box::new(records.clone()),
            Box::new(acks.clone()),
            Box::new(signal_delay.clone()),
            Box::new(orphans_expired.clone()),
            Box::new(tracked.clone()),
            Box::new(assigned_partitions.clone()),
            Box::new(ready.clone()),
        ] {
            r.register(c).expect("unique metric");
        }
        for l in &rules.levels {
            let p = &*l.name;
            for s in SlaState::ALL {
                open_tickets.with_label_values(&[p, s.as_str()]).set(0);
            }
            for c in ClockKind::ALL {
                for s in SignalKind::ALL {
                    signals.with_label_values(&[s.as_str(), p, c.as_str()]);
                }
                elapsed_ratio.with_label_values(&[p, c.as_str()]);
            }
            for cat in &rules.categories {
                csat.with_label_values(&[p, &cat.name]);
            }
        }
        for i in INPUTS {
            for res in RESULTS {
                records.with_label_values(&[i, res]);
            }
        }
        WatchMetrics {
            registry: r,
            open_tickets,
            signals,
            elapsed_ratio,
            csat,
            restore_seconds,
            records,
            acks,
            signal_delay,
            orphans_expired,
            tracked,
            assigned_partitions,
            ready,
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        crate::metrics::render(&self.registry)
    }

    /// A signal was acknowledged by the broker: logged and counted.
    pub fn signal_delivered(&self, s: &SignalRecord, partition: i32, offset: i64) {
        info!(
            ticket_id = %s.ticket_id,
            signal = s.signal.as_str(),
            clock = s.clock.as_str(),
            threshold = s.threshold,
            priority = %s.priority,
            at = %s.at,
            due = ?s.due.map(|d| d.to_string()),
            time_left_seconds = s.time_left_seconds,
            partition,
            offset,
            "sla signal"
        );
        self.signals
            .with_label_values(&[s.signal.as_str(), &s.priority, s.clock.as_str()])
            .inc();
    }

    /// A signal was decided (timer or event): how late after the crossing.
    pub fn signal_decided(&self, s: &SignalRecord) {
        let d = s.emitted_at.duration_since(s.at).as_secs_f64().max(0.0);
        self.signal_delay.observe(d);
    }

    /// An acknowledgment was acknowledged by the broker.
    pub fn ack_delivered(&self, a: &AckRecord, partition: i32, offset: i64) {
        info!(
            ticket_id = %a.ticket_id,
            priority = %a.priority,
            first_response_due = %a.first_response_due,
            partition,
            offset,
            "customer acknowledgment"
        );
        self.acks.inc();
    }

    /// A clock stopped for the first time.
    pub fn clock_stopped(&self, priority: &str, clock: ClockKind, ratio: f64) {
        self.elapsed_ratio
            .with_label_values(&[priority, clock.as_str()])
            .observe(ratio);
    }

    /// A satisfaction score arrived.
    pub fn csat(&self, priority: &str, category: &str, score: u8) {
        self.csat
            .with_label_values(&[priority, category])
            .observe(f64::from(score));
    }

    /// One input record and what became of it.
    pub fn record(&self, input: &'static str, result: &'static str) {
        self.records.with_label_values(&[input, result]).inc();
    }

    /// An input record that cannot be read: logged (no ticket text) and counted.
    pub fn invalid(
        &self,
        input: &'static str,
        topic: &str,
        partition: i32,
        offset: i64,
        error: &str,
    ) {
        warn!(
            input,
            topic, partition, offset, error, "invalid input record skipped"
        );
        self.record(input, "invalid");
    }

    /// A ticket moved between open-ticket states (`None`: not an open ticket).
    pub fn open_moved(
        &self,
        from: Option<&(Arc<str>, SlaState)>,
        to: Option<&(Arc<str>, SlaState)>,
    ) {
        if from == to {
            return;
        }
        if let Some((p, s)) = from {
            self.open_tickets.with_label_values(&[p, s.as_str()]).dec();
        }
        if let Some((p, s)) = to {
            self.open_tickets.with_label_values(&[p, s.as_str()]).inc();
        }
    }

    /// A partition was restored.
    pub fn restored(
        &self,
        partition: i32,
        seconds: f64,
        entries: usize,
        found: usize,
        resent: usize,
    ) {
        info!(
            partition,
            seconds,
            entries,
            outputs_found_on_broker = found,
            outputs_resent = resent,
            "partition state restored from the changelog"
        );
        self.restore_seconds.observe(seconds);
    }

    /// A lifecycle buffer expired without a triaged ticket.
    pub fn orphan_expired(&self, ticket_id: &str, events: usize, partition: i32) {
        warn!(
            ticket_id,
            events,
            partition,
            "lifecycle events of a ticket that was never triaged were given up; if this is frequent, check that the lifecycle topic is keyed by ticket_id and partitioned like the triaged topics (same partitioner)"
        );
        self.orphans_expired.inc();
    }
}
