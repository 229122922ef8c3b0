//! Prometheus metrics of the service, in a private [`Registry`] served on
//! `/metrics` by [`crate::http`].
//!
//! One place per event: each event that is logged and counted is one method
//! here (`dead_letter`, `produce_error`, `rebalance`, …), so that the log line
//! and the counter can never disagree. Hot-path counters (one increment per
//! ticket) are resolved to handles once per rules version ([`RuleMetrics`]),
//! not looked up by label on every ticket.
//!
//! Names follow the Prometheus naming guide: base units (`_seconds`),
//! `_total` on counters, low-cardinality labels only (never a ticket or
//! customer id), and every known label value is initialised to 0.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus::{
    Counter, Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use tracing::{error, info, warn};

use crate::codec::DlqReason;
use crate::rules::Rules;

/// Customer-table record outcomes (`triage_customer_records_total{result}`).
pub const CUSTOMER_RESULTS: [&str; 3] = ["upsert", "delete", "decode_error"];

/// Produce error codes (`triage_produce_errors_total{code}`): librdkafka's
/// error names in lower case without the leading `_`; anything else is
/// `other`.
pub const PRODUCE_ERROR_CODES: [&str; 14] = [
    "msg_timed_out",
    "msg_size_too_large",
    "queue_full",
    "unknown_topic_or_part",
    "topic_authorization_failed",
    "invalid_record",
    "policy_violation",
    "invalid_topic",
    "not_enough_replicas",
    "record_list_too_large",
    "transport",
    "all_brokers_down",
    "fatal",
    "other",
];

/// Default bounds of `triage_ticket_age_at_publish_seconds`: common SLA
/// first-response targets (15 min … 2 days).
pub const AGE_BUCKETS: [f64; 8] = [
    900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0, 172800.0,
];

/// Bounds of `triage_sla_first_response_used_ratio`.
pub const USED_RATIO_BUCKETS: [f64; 5] = [0.25, 0.5, 0.75, 0.9, 1.0];

const PROCESSING_BUCKETS: [f64; 14] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25,
];

const DELIVERY_BUCKETS: [f64; 15] = [
    0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
];

/// Every metric of the service.
pub struct Metrics {
    pub(crate) registry: Registry,
    tickets_consumed: IntCounterVec,
    tickets_triaged: IntCounterVec,
    dead_letters: IntCounterVec,
    dead_letters_reduced: IntCounterVec,
    internal_errors: IntCounter,
    /// 1 while the schema registry answers (or none is configured), 0 while
    /// records wait for it.
    pub schema_registry_up: IntGauge,
    records_produced: IntCounterVec,
    produce_errors: IntCounterVec,
    customer_records: IntCounterVec,
    enrichment: IntCounterVec,
    sla_arrived_at_risk: IntCounterVec,
    rebalances: IntCounterVec,
    commit_failures: IntCounter,
    backpressure_seconds: Counter,
    rules_reloads: IntCounterVec,
    processing_seconds: Histogram,
    ticket_age_at_publish: HistogramVec,
    delivery_seconds: Histogram,
    sla_used_ratio: HistogramVec,
    consumer_lag: IntGaugeVec,
    consumer_lag_total: IntGaugeVec,
    /// Assigned partitions of the input topic.
    pub assigned_partitions: IntGauge,
    /// Records handed to the producer, not yet acknowledged.
    pub in_flight: IntGauge,
    /// librdkafka's producer queue (from statistics).
    pub producer_queue: IntGauge,
    /// Bytes the tickets consumer received from brokers (statistics).
    pub input_received_bytes: IntCounter,
    /// Customers in the table.
    pub customers: IntGauge,
    /// 1 once the table reached the customers topic's end offsets.
    pub customer_table_caught_up: IntGauge,
    /// 1 when `/readyz` answers 200.
    pub ready: IntGauge,
    rules_info: IntGaugeVec,
    rules_last_reload_success: IntGauge,
    shadow_decisions: IntCounterVec,
    shadow_queue: IntCounterVec,
    shadow_errors: IntCounter,
    shadow_rules_info: IntGaugeVec,
    current_shadow_version: Mutex<Option<String>>,
    /// Unix time of the last ticket handed to the producer.
    pub last_processed_timestamp: Gauge,
    /// Partitions with a lag series, by topic (to remove stale ones).
    lag_series: Mutex<HashMap<String, Vec<i32>>>,
    current_rules_version: Mutex<Option<String>>,
    input_topic: String,
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

fn histogram_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: Vec<f64>,
) -> HistogramVec {
    let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        .expect("valid metric");
    r.register(Box::new(h.clone())).expect("unique metric");
    h
}

fn histogram(r: &Registry, name: &str, help: &str, buckets: &[f64]) -> Histogram {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
        .expect("valid metric");
    r.register(Box::new(h.clone())).expect("unique metric");
    h
}

/// `triage_ticket_age_at_publish_seconds` bounds: [`AGE_BUCKETS`] plus every
/// first-response and resolution target of the rules, so that "published
/// within the SLA" can be read off a bucket.
pub fn age_buckets(rules: &Rules) -> Vec<f64> {
    let mut b: Vec<f64> = AGE_BUCKETS.to_vec();
    for p in &rules.policies {
        for (fr, rs) in &p.targets {
            for d in [fr, rs] {
                let s = d.as_secs_f64();
                if s > 0.0 {
                    b.push(s);
                }
            }
        }
    }
    b.sort_by(|a, b| a.total_cmp(b));
    b.dedup();
    b
}

/// Maps a librdkafka error to a fixed `code` label.
pub fn produce_error_code(e: rdkafka::types::RDKafkaErrorCode) -> &'static str {
    use rdkafka::types::RDKafkaErrorCode as E;
    match e {
        E::MessageTimedOut => "msg_timed_out",
        E::MessageSizeTooLarge => "msg_size_too_large",
        E::QueueFull => "queue_full",
        E::UnknownTopicOrPartition | E::UnknownTopic | E::UnknownPartition => {
            "unknown_topic_or_part"
        }
        E::TopicAuthorizationFailed => "topic_authorization_failed",
        E::InvalidRecord | E::InvalidMessage | E::InvalidMessageSize => "invalid_record",
        E::PolicyViolation => "policy_violation",
        E::InvalidTopic => "invalid_topic",
        E::NotEnoughReplicas | E::NotEnoughReplicasAfterAppend => "not_enough_replicas",
        E::MessageBatchTooLarge => "record_list_too_large",
        E::BrokerTransportFailure => "transport",
        E::AllBrokersDown => "all_brokers_down",
        E::Fatal => "fatal",
        _ => "other",
    }
}

/// Whether a produce error `code` (from [`produce_error_code`]) is permanent:
/// the broker will refuse the same record again however often it is sent.
/// Permanent refusals never rewind: the triaged record's input becomes a
/// dead letter, a dead letter is sent again smaller. Everything else
/// (timeouts, transport, leadership, unknown topic during creation) is
/// retried by rewinding with a back-off.
pub fn produce_error_is_permanent(code: &str) -> bool {
    matches!(
        code,
        "msg_size_too_large"
            | "record_list_too_large"
            | "invalid_record"
            | "topic_authorization_failed"
            | "policy_violation"
            | "invalid_topic"
    )
}

impl Metrics {
    /// Registers every metric; label values known up front (topics, reasons,
    /// the rules' levels and categories) start at 0.
    pub fn new(
        input_topic: &str,
        customers_topic: &str,
        dlq_topic: &str,
        rules: &Rules,
    ) -> Metrics {
        let r = Registry::new();
        let tickets_consumed = counter_vec(
            &r,
            "triage_tickets_consumed_total",
            "Ticket records read from the input topic.",
            &["topic"],
        );
        let tickets_triaged = counter_vec(
            &r,
            "triage_tickets_triaged_total",
            "Tickets triaged, by priority level and category.",
            &["priority", "category"],
        );
        let dead_letters = counter_vec(
            &r,
            "triage_dead_letters_total",
            "Input records sent to the dead-letter topic, by reason.",
            &["reason"],
        );
        let dead_letters_reduced = counter_vec(
            &r,
            "triage_dead_letters_reduced_total",
            "Dead letters the broker refused and that were sent again smaller, by how (truncated, no_value).",
            &["how"],
        );
        let internal_errors = counter(
            &r,
            "triage_internal_errors_total",
            "Records whose decoding, triage or encoding panicked (dead-lettered as internal_error; a bug).",
        );
        let schema_registry_up = IntGauge::new(
            "triage_schema_registry_up",
            "1 while the schema registry answers (or none is configured); 0 while records wait for it.",
        )
        .expect("valid metric");
        r.register(Box::new(schema_registry_up.clone()))
            .expect("unique metric");
        schema_registry_up.set(1);
        let records_produced = counter_vec(
            &r,
            "triage_records_produced_total",
            "Records acknowledged by the broker, by output topic.",
            &["topic"],
        );
        let produce_errors = counter_vec(
            &r,
            "triage_produce_errors_total",
            "Records the producer could not deliver (after librdkafka's retries), by error code.",
            &["code"],
        );
        let customer_records = counter_vec(
            &r,
            "triage_customer_records_total",
            "Customer-table records applied, by result.",
            &["result"],
        );
        let enrichment = counter_vec(
            &r,
            "triage_enrichment_total",
            "Customer lookups of triaged tickets: hit (customer known) or miss.",
            &["result"],
        );
        let sla_arrived_at_risk = counter_vec(
            &r,
            "triage_sla_arrived_at_risk_total",
            "Tickets published with the configured fraction of their first-response target already used (at_risk) or past due (breached).",
            &["priority", "state"],
        );
        let rebalances = counter_vec(
            &r,
            "triage_rebalances_total",
            "Consumer-group rebalances of this instance, by kind.",
            &["kind"],
        );
        let commit_failures = counter(
            &r,
            "triage_commit_failures_total",
            "Offset commits that failed (the next commit retries them).",
        );
        let backpressure_seconds = Counter::new(
            "triage_backpressure_seconds_total",
            "Seconds consumption was held because max_in_flight records were unacknowledged \
             (rate: the fraction of time the output side is the bottleneck).",
        )
        .expect("valid metric");
        r.register(Box::new(backpressure_seconds.clone()))
            .expect("unique metric");
        let rules_reloads = counter_vec(
            &r,
            "triage_rules_reloads_total",
            "Rules reloads (file change or SIGHUP), by result.",
            &["result"],
        );
        let processing_seconds = histogram(
            &r,
            "triage_processing_seconds",
            "Time from reading a ticket to handing its output to the producer: decode, enrich, triage, encode.",
            &PROCESSING_BUCKETS,
        );
        let ticket_age_at_publish = histogram_vec(
            &r,
            "triage_ticket_age_at_publish_seconds",
            "Time from the ticket's created_at to the broker's acknowledgement of its triaged record, by priority.",
            &["priority"],
            age_buckets(rules),
        );
        let delivery_seconds = histogram(
            &r,
            "triage_delivery_seconds",
            "Time from handing a record to the producer to the broker's acknowledgement.",
            &DELIVERY_BUCKETS,
        );
        let sla_used_ratio = histogram_vec(
            &r,
            "triage_sla_first_response_used_ratio",
            "Fraction of the first-response target (in the SLA calendar's open time) already used when the ticket was triaged, by priority.",
            &["priority"],
            USED_RATIO_BUCKETS.to_vec(),
        );
        let consumer_lag = gauge_vec(
            &r,
            "triage_consumer_lag_records",
            "Consumer lag per assigned partition (librdkafka statistics).",
            &["topic", "partition"],
        );
        let consumer_lag_total = gauge_vec(
            &r,
            "triage_consumer_lag_total_records",
            "Consumer lag summed over this instance's partitions (librdkafka statistics).",
            &["topic"],
        );
        let assigned_partitions = gauge(
            &r,
            "triage_assigned_partitions",
            "Partitions of the input topic assigned to this instance.",
        );
        let in_flight = gauge(
            &r,
            "triage_in_flight_records",
            "Records handed to the producer and not yet acknowledged.",
        );
        let producer_queue = gauge(
            &r,
            "triage_producer_queue_records",
            "Messages in librdkafka's producer queue (statistics msg_cnt).",
        );
        let input_received_bytes = counter(
            &r,
            "triage_input_received_bytes_total",
            "Bytes the tickets consumer received from brokers (librdkafka statistics rxbytes; what is fetched twice counts twice).",
        );
        let customers = gauge(&r, "triage_customers", "Customers in the in-memory table.");
        let customer_table_caught_up = gauge(
            &r,
            "triage_customer_table_caught_up",
            "1 once the customer table has reached the customers topic's end offsets measured at start.",
        );
        let ready = gauge(&r, "triage_ready", "1 when /readyz answers 200.");
        let shadow_decisions = counter_vec(
            &r,
            "triage_shadow_decisions_total",
            "Tickets by live priority and the shadow rules' priority (shadow_rules_path).",
            &["live", "shadow"],
        );
        let shadow_queue = counter_vec(
            &r,
            "triage_shadow_queue_total",
            "Tickets by live queue and the shadow rules' queue (shadow_rules_path).",
            &["live", "shadow"],
        );
        let shadow_errors = counter(
            &r,
            "triage_shadow_errors_total",
            "Tickets the shadow rules failed on (a panic inside them; the live output is unaffected).",
        );
        let shadow_rules_info = gauge_vec(
            &r,
            "triage_shadow_rules_info",
            "The shadow rules in use (value 1, label version); absent without shadow rules.",
            &["version"],
        );
        let rules_info = gauge_vec(
            &r,
            "triage_rules_info",
            "The rules version in use (value 1).",
            &["version"],
        );
        let rules_last_reload_success = gauge(
            &r,
            "triage_rules_last_reload_success",
            "1 if the last rules load succeeded, 0 if it failed (the old rules stay).",
        );
        let build_info = gauge_vec(
            &r,
            "triage_build_info",
            "Build information (value 1).",
            &["version", "librdkafka_version"],
        );
        let last_processed_timestamp = Gauge::new(
            "triage_last_processed_timestamp_seconds",
            "Unix time at which the last ticket was processed.",
        )
        .expect("valid metric");
        r.register(Box::new(last_processed_timestamp.clone()))
            .expect("unique metric");

        tickets_consumed.with_label_values(&[input_topic]);
        for reason in DlqReason::ALL {
            dead_letters.with_label_values(&[reason.as_str()]);
        }
        records_produced.with_label_values(&[dlq_topic]);
        for how in ["truncated", "no_value"] {
            dead_letters_reduced.with_label_values(&[how]);
        }
        for code in PRODUCE_ERROR_CODES {
            produce_errors.with_label_values(&[code]);
        }
        for res in CUSTOMER_RESULTS {
            customer_records.with_label_values(&[res]);
        }
        for res in ["hit", "miss"] {
            enrichment.with_label_values(&[res]);
        }
        for kind in ["assign", "revoke"] {
            rebalances.with_label_values(&[kind]);
        }
        for res in ["success", "failure"] {
            rules_reloads.with_label_values(&[res]);
        }
        consumer_lag_total.with_label_values(&[input_topic]);
        consumer_lag_total.with_label_values(&[customers_topic]);
        let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), librdkafka.as_str()])
            .set(1);
        rules_last_reload_success.set(1);

        Metrics {
            registry: r,
            tickets_consumed,
            tickets_triaged,
            dead_letters,
            dead_letters_reduced,
            internal_errors,
            schema_registry_up,
            records_produced,
            produce_errors,
            customer_records,
            enrichment,
            sla_arrived_at_risk,
            rebalances,
            commit_failures,
            backpressure_seconds,
            rules_reloads,
            processing_seconds,
            ticket_age_at_publish,
            delivery_seconds,
            sla_used_ratio,
            consumer_lag,
            consumer_lag_total,
            assigned_partitions,
            in_flight,
            producer_queue,
            input_received_bytes,
            customers,
            customer_table_caught_up,
            ready,
            rules_info,
            shadow_decisions,
            shadow_queue,
            shadow_errors,
            shadow_rules_info,
            current_shadow_version: Mutex::new(None),
            rules_last_reload_success,
            last_processed_timestamp,
            lag_series: Mutex::new(HashMap::new()),
            current_rules_version: Mutex::new(None),
            input_topic: input_topic.to_string(),
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        render(&self.registry)
    }

    /// Handles for the per-ticket counters of one rules version; initialises
    /// their label values to 0 and marks the version as the one in use.
    pub fn for_rules(&self, rules: &Rules) -> RuleMetrics {
        let levels = &rules.levels;
        let triaged = levels
            .iter()
            .map(|l| {
                rules
                    .categories
                    .iter()
                    .map(|c| {
                        self.tickets_triaged
                            .with_label_values(&[&*l.name, &*c.name])
                    })
                    .collect()
            })
            .collect();
        let produced = levels
            .iter()
            .map(|l| self.records_produced.with_label_values(&[&*l.topic]))
            .collect();
        let age = levels
            .iter()
            .map(|l| self.ticket_age_at_publish.with_label_values(&[&*l.name]))
            .collect();
        let used_ratio = levels
            .iter()
            .map(|l| self.sla_used_ratio.with_label_values(&[&*l.name]))
            .collect();
        let at_risk = levels
            .iter()
            .map(|l| {
                [
                    self.sla_arrived_at_risk
                        .with_label_values(&[&*l.name, "at_risk"]),
                    self.sla_arrived_at_risk
                        .with_label_values(&[&*l.name, "breached"]),
                ]
            })
            .collect();
        RuleMetrics {
            triaged,
            produced,
            age,
            used_ratio,
            at_risk,
        }
    }

    /// Handles for the per-record counters that do not depend on the rules.
    pub fn hot(&self, dlq_topic: &str) -> HotMetrics {
        HotMetrics {
            consumed: self
                .tickets_consumed
                .with_label_values(&[&self.input_topic]),
            dlq_produced: self.records_produced.with_label_values(&[dlq_topic]),
            hit: self.enrichment.with_label_values(&["hit"]),
            miss: self.enrichment.with_label_values(&["miss"]),
            processing: self.processing_seconds.clone(),
            delivery: self.delivery_seconds.clone(),
            in_flight: self.in_flight.clone(),
            backpressure_seconds: self.backpressure_seconds.clone(),
            last_processed: self.last_processed_timestamp.clone(),
        }
    }

    /// An input record that cannot be triaged is being dead-lettered: one
    /// warning (ids and the reason, never the record's content) and the
    /// counter.
    pub fn dead_letter(
        &self,
        reason: DlqReason,
        detail: &str,
        topic: &str,
        partition: i32,
        offset: i64,
    ) {
        warn!(
            reason = reason.as_str(),
            detail, topic, partition, offset, "record sent to the dead-letter topic"
        );
        self.dead_letters
            .with_label_values(&[reason.as_str()])
            .inc();
    }

    /// Decoding, triaging or encoding one record panicked: a bug. The
    /// record is dead-lettered as `internal_error`; the log has the panic
    /// message (which names an invariant, never ticket text); the dead
    /// letter's own log line that follows has its partition and offset.
    pub fn internal_error(&self, panic: &str) {
        error!(
            panic,
            "internal error on one record: dead-lettered as internal_error, the stream goes on"
        );
        self.internal_errors.inc();
    }

    /// The broker refused a dead letter for good; it is sent again smaller
    /// (`how`: `truncated` to fewer bytes, or `no_value`).
    pub fn dead_letter_reduced(
        &self,
        how: &'static str,
        code: &str,
        topic: &str,
        partition: i32,
        offset: i64,
    ) {
        warn!(
            how,
            code,
            topic,
            partition,
            offset,
            "the broker refused a dead letter; sending it again smaller"
        );
        self.dead_letters_reduced.with_label_values(&[how]).inc();
    }

    /// A record could not be delivered (after librdkafka's own retries) or
    /// could not be enqueued; it will be produced again (the input offset is
    /// not committed past it).
    pub fn produce_error(
        &self,
        code: &'static str,
        error: &dyn std::fmt::Display,
        topic: &str,
        partition: i32,
        offset: i64,
    ) {
        error!(
            code,
            %error,
            topic,
            source_partition = partition,
            source_offset = offset,
            "record not delivered; its input will be processed again"
        );
        self.produce_errors.with_label_values(&[code]).inc();
    }

    /// A customer record was applied (`upsert` / `delete`).
    pub fn customer_record(&self, result: &'static str) {
        self.customer_records.with_label_values(&[result]).inc();
    }

    /// A customer record could not be decoded: skipped, the table keeps the
    /// old value.
    pub fn customer_decode_error(&self, detail: &str, topic: &str, partition: i32, offset: i64) {
        warn!(
            detail,
            topic, partition, offset, "customer record skipped: cannot decode"
        );
        self.customer_records
            .with_label_values(&["decode_error"])
            .inc();
    }

    /// A rebalance of this instance: `assign` or `revoke`.
    pub fn rebalance(&self, kind: &'static str, partitions: &[i32], assigned_now: usize) {
        info!(kind, ?partitions, assigned = assigned_now, "rebalance");
        self.rebalances.with_label_values(&[kind]).inc();
        self.assigned_partitions.set(assigned_now as i64);
    }

    /// An offset commit failed.
    pub fn commit_failed(&self, error: &dyn std::fmt::Display) {
        warn!(%error, "offset commit failed; the next commit includes these offsets");
        self.commit_failures.inc();
    }

    /// Offsets were committed (synchronously, on rebalance or shutdown).
    pub fn committed(&self, why: &'static str, offsets: &[(i32, i64)]) {
        info!(why, ?offsets, "offsets committed");
    }

    /// New rules are in use.
    pub fn rules_loaded(&self, version: &str, path: &str, initial: bool) {
        if initial {
            info!(version, path, "rules loaded");
        } else {
            info!(version, path, "rules reloaded");
            self.rules_reloads.with_label_values(&["success"]).inc();
        }
        let mut cur = self.current_rules_version.lock().expect("not poisoned");
        if let Some(old) = cur.take() {
            if old != version {
                let _ = self.rules_info.remove_label_values(&[&old]);
            }
        }
        self.rules_info.with_label_values(&[version]).set(1);
        *cur = Some(version.to_string());
        self.rules_last_reload_success.set(1);
    }

    /// Shadow rules are in use (at start or after a reload).
    pub fn shadow_loaded(&self, version: &str, path: &str) {
        info!(version, path, "shadow rules loaded");
        let mut cur = self.current_shadow_version.lock().expect("not poisoned");
        if let Some(old) = cur.take() {
            if old != version {
                let _ = self.shadow_rules_info.remove_label_values(&[&old]);
            }
        }
        self.shadow_rules_info.with_label_values(&[version]).set(1);
        *cur = Some(version.to_string());
    }

    /// One ticket decided by the live and the shadow rules.
    pub fn shadow_decided(&self, live: (&str, &str), shadow: (&str, &str)) {
        self.shadow_decisions
            .with_label_values(&[live.0, shadow.0])
            .inc();
        self.shadow_queue
            .with_label_values(&[live.1, shadow.1])
            .inc();
    }

    /// The shadow rules panicked on a ticket (the live decision stands).
    pub fn shadow_failed(&self, panic: &str) {
        error!(
            panic,
            "the shadow rules failed on a ticket; its live triage is unaffected"
        );
        self.shadow_errors.inc();
    }

    /// A reload failed; the old rules stay. Every diagnostic is logged.
    pub fn rules_reload_failed(&self, path: &str, problems: &[String]) {
        for p in problems {
            error!(path, problem = %p, "rules reload rejected");
        }
        error!(
            path,
            errors = problems.len(),
            "rules reload failed; keeping the rules in use"
        );
        self.rules_reloads.with_label_values(&["failure"]).inc();
        self.rules_last_reload_success.set(0);
    }

    /// Consumer lag from librdkafka statistics: sets the series of the
    /// partitions reported, removes those no longer reported.
    pub fn set_lag(&self, topic: &str, lags: &[(i32, i64)]) {
        let mut series = self.lag_series.lock().expect("not poisoned");
        let old = series.entry(topic.to_string()).or_default();
        for p in old.iter() {
            if !lags.iter().any(|(q, _)| q == p) {
                let _ = self
                    .consumer_lag
                    .remove_label_values(&[topic, &p.to_string()]);
            }
        }
        let mut total = 0;
        let mut now = Vec::with_capacity(lags.len());
        for &(p, lag) in lags {
            self.consumer_lag
                .with_label_values(&[topic, &p.to_string()])
                .set(lag);
            total += lag;
            now.push(p);
        }
        *old = now;
        self.consumer_lag_total
            .with_label_values(&[topic])
            .set(total);
    }
}

/// Per-ticket handles that do not depend on the rules.
#[derive(Clone)]
pub struct HotMetrics {
    pub consumed: IntCounter,
    pub dlq_produced: IntCounter,
    pub hit: IntCounter,
    pub miss: IntCounter,
    pub processing: Histogram,
    pub delivery: Histogram,
    pub in_flight: IntGauge,
    pub backpressure_seconds: Counter,
    pub last_processed: Gauge,
}

/// Per-ticket handles for one rules version, indexed by level (and category).
pub struct RuleMetrics {
    /// `[level][category]`.
    pub triaged: Vec<Vec<IntCounter>>,
    /// `[level]`: records acknowledged on the level's topic.
    pub produced: Vec<IntCounter>,
    /// `[level]`.
    pub age: Vec<Histogram>,
    /// `[level]`.
    pub used_ratio: Vec<Histogram>,
    /// `[level]`: at_risk, breached.
    pub at_risk: Vec<[IntCounter; 2]>,
}

/// Shared handle.
pub type SharedMetrics = Arc<Metrics>;

/// The Prometheus text exposition of a registry (the service's and the watcher's).
pub fn render(registry: &Registry) -> String {
    let mut buf = Vec::with_capacity(16 * 1024);
    TextEncoder::new()
        .encode(&registry.gather(), &mut buf)
        .expect("text encoding cannot fail");
    String::from_utf8(buf).expect("the text format is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/rules.toml");
        crate::files::load_rules(std::path::Path::new(path))
            .expect("shipped rules load")
            .rules
    }

    #[test]
    fn known_labels_start_at_zero_and_names_are_fixed() {
        let r = rules();
        let m = Metrics::new("tickets.raw", "customers", "tickets.dlq", &r);
        m.for_rules(&r);
        let text = m.render();
        for needle in [
            "triage_dead_letters_total{reason=\"too_large\"} 0",
            "triage_dead_letters_total{reason=\"unknown_schema\"} 0",
            "triage_tickets_consumed_total{topic=\"tickets.raw\"} 0",
            "triage_customer_records_total{result=\"decode_error\"} 0",
            "triage_enrichment_total{result=\"miss\"} 0",
            "triage_rebalances_total{kind=\"revoke\"} 0",
            "triage_rules_reloads_total{result=\"failure\"} 0",
            "triage_produce_errors_total{code=\"msg_timed_out\"} 0",
            "triage_sla_arrived_at_risk_total{priority=\"P1\",state=\"breached\"} 0",
            "triage_records_produced_total{topic=\"tickets.triaged.p4\"} 0",
            "triage_commit_failures_total 0",
            "triage_backpressure_seconds_total 0",
            "triage_build_info{",
            "triage_ticket_age_at_publish_seconds_bucket{priority=\"P1\",le=\"900\"} 0",
            "triage_sla_first_response_used_ratio_bucket{priority=\"P2\",le=\"0.9\"} 0",
            "triage_processing_seconds_count 0",
            "triage_delivery_seconds_count 0",
            "triage_consumer_lag_total_records{topic=\"customers\"} 0",
        ] {
            assert!(text.contains(needle), "missing {needle}\n{text}");
        }
    }

    #[test]
    fn rules_info_keeps_one_version() {
        let r = rules();
        let m = Metrics::new("in", "c", "dlq", &r);
        m.rules_loaded("v1", "r.toml", true);
        m.rules_loaded("v2", "r.toml", false);
        let text = m.render();
        assert!(text.contains("triage_rules_info{version=\"v2\"} 1"));
        assert!(!text.contains("version=\"v1\""));
        assert!(text.contains("triage_rules_reloads_total{result=\"success\"} 1"));
    }

    #[test]
    fn lag_series_follow_the_assignment() {
        let r = rules();
        let m = Metrics::new("in", "c", "dlq", &r);
        m.set_lag("in", &[(0, 5), (1, 7)]);
        assert!(m
            .render()
            .contains("triage_consumer_lag_total_records{topic=\"in\"} 12"));
        m.set_lag("in", &[(1, 2)]);
        let text = m.render();
        assert!(!text.contains("partition=\"0\""), "{text}");
        assert!(text.contains("triage_consumer_lag_total_records{topic=\"in\"} 2"));
    }

    #[test]
    fn age_buckets_include_rule_targets() {
        let b = age_buckets(&rules());
        assert!(b.windows(2).all(|w| w[0] < w[1]));
        for x in AGE_BUCKETS {
            assert!(b.contains(&x));
        }
    }
}
