//! Structural checks of the deploy kit under `deploy/`.
//!
//! Every YAML file (Kubernetes manifests, multi-document ones included, compose, Prometheus,
//! Grafana provisioning) and the dashboard JSON must parse, and the facts that tie the pieces
//! together must hold: probes on `/healthz` and `/readyz`, a termination grace period longer
//! than the drain timeout, a KEDA ceiling equal to the partition count, dashboard and alert
//! queries that use only metric names the service exports, and a runbook section plus a firing
//! unit test for every alert. `promtool check/test rules` itself runs in `deploy/check.sh`.
//!
//! Needs the dev-dependency `serde_norway` (YAML); `serde_json` and `toml` come from the
//! crate's own dependencies.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value as Yaml;

// ---------------------------------------------------------------------------------------------
// The metric names the service exports (issue 4, plus the SLA-clock component of issue 5).
// A dashboard panel or alert that queries anything else is a typo or a metric nobody exports.

const COUNTERS: &[&str] = &[
    "triage_tickets_consumed_total",
    "triage_tickets_triaged_total",
    "triage_dead_letters_total",
    "triage_dead_letters_reduced_total",
    "triage_internal_errors_total",
    "triage_records_produced_total",
    "triage_produce_errors_total",
    "triage_backpressure_seconds_total",
    "triage_customer_records_total",
    "triage_enrichment_total",
    "triage_sla_arrived_at_risk_total",
    "triage_rebalances_total",
    "triage_commit_failures_total",
    "triage_rules_reloads_total",
    "triage_sla_signals_total",
];

const GAUGES: &[&str] = &[
    "triage_consumer_lag_records",
    "triage_consumer_lag_total_records",
    "triage_assigned_partitions",
    "triage_in_flight_records",
    "triage_producer_queue_records",
    "triage_customers",
    "triage_customer_table_caught_up",
    "triage_ready",
    "triage_rules_info",
    "triage_rules_last_reload_success",
    "triage_build_info",
    "triage_last_processed_timestamp_seconds",
    "triage_schema_registry_up",
    "triage_sla_open_tickets",
    // Prometheus' own per-target series (the service exports no `triage_up`).
    "up",
];

const HISTOGRAMS: &[&str] = &[
    "triage_processing_seconds",
    "triage_ticket_age_at_publish_seconds",
    "triage_delivery_seconds",
    "triage_sla_first_response_used_ratio",
    "triage_sla_elapsed_ratio",
    "triage_csat_score",
    "triage_sla_state_restore_seconds",
];

fn known_metric_names() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = COUNTERS
        .iter()
        .chain(GAUGES)
        .map(|s| s.to_string())
        .collect();
    for h in HISTOGRAMS {
        for suffix in ["_bucket", "_sum", "_count"] {
            names.insert(format!("{h}{suffix}"));
        }
    }
    names
}

// ---------------------------------------------------------------------------------------------
// Files

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn files_with_ext(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files_with_ext(&path, exts, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.contains(&e))
        {
            out.push(path);
        }
    }
}

fn yaml_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    files_with_ext(&deploy_dir(), &["yaml", "yml"], &mut files);
    files.sort();
    files
}

/// Every document of a (possibly multi-document) YAML file; empty documents are dropped.
fn yaml_docs(path: &Path) -> Vec<Yaml> {
    let text = read(path);
    let mut docs = Vec::new();
    for (i, doc) in serde_norway::Deserializer::from_str(&text).enumerate() {
        let value = Yaml::deserialize(doc).unwrap_or_else(|e| {
            panic!(
                "{} (document {}) is not valid YAML: {e}",
                path.display(),
                i + 1
            )
        });
        if !value.is_null() {
            docs.push(value);
        }
    }
    docs
}

fn yaml_doc(path: &Path) -> Yaml {
    let mut docs = yaml_docs(path);
    assert_eq!(
        docs.len(),
        1,
        "{} should hold exactly one YAML document",
        path.display()
    );
    docs.remove(0)
}

/// All Kubernetes objects of deploy/kubernetes, with the file each came from.
fn k8s_objects() -> Vec<(PathBuf, Yaml)> {
    let dir = deploy_dir().join("kubernetes");
    let mut files = Vec::new();
    files_with_ext(&dir, &["yaml", "yml"], &mut files);
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        if file.file_name().is_some_and(|n| n == "kustomization.yaml") {
            continue;
        }
        for doc in yaml_docs(&file) {
            objects.push((file.clone(), doc));
        }
    }
    objects
}

fn object_of_kind(kind: &str) -> Yaml {
    let found: Vec<Yaml> = k8s_objects()
        .into_iter()
        .filter(|(_, o)| o["kind"].as_str() == Some(kind))
        .map(|(_, o)| o)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {kind} in deploy/kubernetes, found {}",
        found.len()
    );
    found.into_iter().next().unwrap()
}

/// The service.toml that the Kubernetes ConfigMap carries.
fn k8s_service_toml() -> String {
    let configmap = k8s_objects()
        .into_iter()
        .map(|(_, o)| o)
        .find(|o| o["kind"].as_str() == Some("ConfigMap") && !o["data"]["service.toml"].is_null())
        .expect("a ConfigMap with data.service.toml");
    str_at(&configmap["data"]["service.toml"], "service.toml").to_string()
}

fn str_at<'a>(v: &'a Yaml, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} should be a string, is {v:?}"))
}

fn u64_at(v: &Yaml, what: &str) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("{what} should be a non-negative integer, is {v:?}"))
}

/// `drain_timeout_seconds` of a service.toml text.
fn drain_timeout(service_toml: &str, what: &str) -> u64 {
    let table: toml::Table = service_toml
        .parse()
        .unwrap_or_else(|e| panic!("{what} is not valid TOML: {e}"));
    let value = table
        .get("drain_timeout_seconds")
        .and_then(|v| v.as_integer())
        .unwrap_or_else(|| panic!("{what} should set drain_timeout_seconds"));
    u64::try_from(value).expect("drain_timeout_seconds >= 0")
}

/// `30s`, `1m30s`, `2m`, `45` -> seconds.
fn duration_seconds(s: &str) -> u64 {
    let mut total = 0;
    let mut number = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number
            .parse()
            .unwrap_or_else(|_| panic!("bad duration {s:?}"));
        number.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => panic!("bad duration unit in {s:?}"),
        };
    }
    if !number.is_empty() {
        total += number.parse::<u64>().unwrap();
    }
    total
}

// ---------------------------------------------------------------------------------------------
// PromQL: the metric names a query selects.

const PROMQL_KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
    "atan2",
    "start",
    "end",
    // aggregation operators may be followed by `by (...)` / `without (...)` before their `(`
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];
const PROMQL_LABEL_LIST_KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}
fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// Index just past the bracket that closes the one at `open`.
fn skip_balanced(b: &[u8], open: usize, o: u8, c: u8) -> usize {
    let mut depth = 0;
    let mut i = open;
    while i < b.len() {
        if b[i] == o {
            depth += 1;
        } else if b[i] == c {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        } else if matches!(b[i], b'"' | b'\'' | b'`') {
            i = skip_string(b, i) - 1;
        }
        i += 1;
    }
    panic!(
        "unbalanced {} in PromQL {:?}",
        o as char,
        String::from_utf8_lossy(b)
    );
}

fn skip_string(b: &[u8], start: usize) -> usize {
    let quote = b[start];
    let mut i = start + 1;
    while i < b.len() {
        if b[i] == b'\\' && quote != b'`' {
            i += 2;
            continue;
        }
        if b[i] == quote {
            return i + 1;
        }
        i += 1;
    }
    panic!(
        "unterminated string in PromQL {:?}",
        String::from_utf8_lossy(b)
    );
}

fn promql_metric_names(expr: &str) -> BTreeSet<String> {
    let b = expr.as_bytes();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b'"' | b'\'' | b'`') {
            i = skip_string(b, i);
        } else if c == b'{' {
            // label matchers: label names and values, never metric names
            i = skip_balanced(b, i, b'{', b'}');
        } else if c == b'[' {
            // range or subquery duration
            i = skip_balanced(b, i, b'[', b']');
        } else if c == b'$' {
            // Grafana variable ($__rate_interval, $priority, ${datasource})
            i += 1;
            if i < b.len() && b[i] == b'{' {
                i = skip_balanced(b, i, b'{', b'}');
            } else {
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
            }
        } else if c.is_ascii_digit()
            || (c == b'.' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            // numbers and durations: 0.95, 1e3, 0x1f, 5m, 1h30m
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
        } else if is_ident_start(c) {
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            let word = &expr[start..i];
            let mut j = i;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let lower = word.to_ascii_lowercase();
            if PROMQL_LABEL_LIST_KEYWORDS.contains(&lower.as_str()) {
                if j < b.len() && b[j] == b'(' {
                    i = skip_balanced(b, j, b'(', b')');
                }
            } else if PROMQL_KEYWORDS.contains(&lower.as_str()) || (j < b.len() && b[j] == b'(') {
                // keyword, aggregation or function call
            } else {
                names.insert(word.to_string());
            }
        } else {
            i += 1;
        }
    }
    names
}

#[test]
fn promql_metric_name_extraction() {
    let got = promql_metric_names(
        r#"histogram_quantile(0.95, sum by (le, priority) (rate(triage_x_bucket{priority=~"$priority", a="b}"}[$__rate_interval])))
           / on (instance) group_left(version) triage_rules_info offset 5m
           and sum without (instance) (up{job="triage"} == 1) > bool 0.5e3 unless time() - foo:bar[10m:1m]"#,
    );
    let want: BTreeSet<String> = ["triage_x_bucket", "triage_rules_info", "up", "foo:bar"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn every_yaml_file_parses() {
    let files = yaml_files();
    let rel: BTreeSet<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(deploy_dir())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    for expected in [
        "compose.yaml",
        "prometheus/prometheus.yml",
        "prometheus/alerts.yml",
        "prometheus/alerts.test.yml",
        "kubernetes/deployment.yaml",
        "kubernetes/configmap.yaml",
        "kubernetes/service.yaml",
        "kubernetes/servicemonitor.yaml",
        "kubernetes/pdb.yaml",
        "kubernetes/keda-scaledobject.yaml",
        "kubernetes/kustomization.yaml",
    ] {
        assert!(
            rel.contains(expected),
            "deploy/{expected} is missing (found {rel:?})"
        );
    }
    let mut multi_document = 0;
    for file in &files {
        let docs = yaml_docs(file);
        assert!(
            !docs.is_empty(),
            "{} holds no YAML document",
            file.display()
        );
        if docs.len() > 1 {
            multi_document += 1;
        }
        for doc in &docs {
            assert!(
                doc.is_mapping(),
                "{}: every document should be a mapping",
                file.display()
            );
        }
    }
    assert!(
        multi_document > 0,
        "expected at least one multi-document manifest to exercise that path"
    );
}

#[test]
fn kubernetes_manifests_are_well_formed_and_listed() {
    let objects = k8s_objects();
    let mut kinds = BTreeSet::new();
    for (file, o) in &objects {
        let what = file.display();
        let api = str_at(&o["apiVersion"], &format!("{what}: apiVersion"));
        let kind = str_at(&o["kind"], &format!("{what}: kind"));
        let name = str_at(
            &o["metadata"]["name"],
            &format!("{what}: {kind} metadata.name"),
        );
        assert!(!api.is_empty() && !name.is_empty());
        kinds.insert(kind.to_string());
        if kind != "Namespace" {
            assert!(
                o["metadata"]["namespace"].is_null(),
                "{what}: {kind}/{name} hard-codes a namespace (kustomization.yaml sets it)"
            );
        }
    }
    for kind in [
        "Deployment",
        "ConfigMap",
        "Service",
        "ServiceMonitor",
        "PodDisruptionBudget",
        "ScaledObject",
    ] {
        assert!(
            kinds.contains(kind),
            "no {kind} under deploy/kubernetes (found {kinds:?})"
        );
    }

    let dir = deploy_dir().join("kubernetes");
    let kustomization = yaml_doc(&dir.join("kustomization.yaml"));
    let resources = kustomization["resources"]
        .as_sequence()
        .expect("kustomization resources");
    let mut listed_kinds = BTreeSet::new();
    for r in resources {
        let file = dir.join(str_at(r, "kustomization resource"));
        assert!(
            file.is_file(),
            "kustomization.yaml lists {} which does not exist",
            file.display()
        );
        for doc in yaml_docs(&file) {
            listed_kinds.insert(doc["kind"].as_str().unwrap_or_default().to_string());
        }
    }
    for kind in [
        "Deployment",
        "ConfigMap",
        "Service",
        "PodDisruptionBudget",
        "ScaledObject",
    ] {
        assert!(
            listed_kinds.contains(kind),
            "kustomization.yaml applies no {kind}"
        );
    }
    assert!(
        !listed_kinds.contains("Secret"),
        "kustomization.yaml must not apply the example Secret"
    );
}

#[test]
fn deployment_probes_grace_period_and_security() {
    let deployment = object_of_kind("Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let containers = pod["containers"].as_sequence().expect("containers");
    let c = containers
        .iter()
        .find(|c| c["name"].as_str() == Some("triage"))
        .expect("container named triage");

    // the named port the probes use is the service's 9464
    let ports = c["ports"].as_sequence().expect("container ports");
    let http = ports
        .iter()
        .find(|p| p["name"].as_str() == Some("http"))
        .expect("port named http");
    assert_eq!(u64_at(&http["containerPort"], "containerPort"), 9464);

    let probe_path = |probe: &str| -> String {
        let get = &c[probe]["httpGet"];
        assert!(!get.is_null(), "{probe} should be an httpGet probe");
        let port = &get["port"];
        assert!(
            port.as_str() == Some("http") || port.as_u64() == Some(9464),
            "{probe} should probe port 9464"
        );
        str_at(&get["path"], probe).to_string()
    };
    assert_eq!(probe_path("livenessProbe"), "/healthz");
    assert_eq!(probe_path("readinessProbe"), "/readyz");
    let startup = probe_path("startupProbe");
    assert!(startup == "/healthz" || startup == "/readyz");
    // the startup budget must cover loading a customer table: at least a minute
    let budget = u64_at(
        &c["startupProbe"]["periodSeconds"],
        "startupProbe.periodSeconds",
    ) * u64_at(
        &c["startupProbe"]["failureThreshold"],
        "startupProbe.failureThreshold",
    );
    assert!(budget >= 60, "startupProbe allows only {budget} s");

    // graceful termination longer than the drain timeout, in both service configs
    let grace = u64_at(
        &pod["terminationGracePeriodSeconds"],
        "terminationGracePeriodSeconds",
    );
    let image_drain = drain_timeout(
        &read(&deploy_dir().join("service.toml")),
        "deploy/service.toml",
    );
    let k8s_drain = drain_timeout(&k8s_service_toml(), "configmap.yaml service.toml");
    for drain in [image_drain, k8s_drain] {
        assert!(
            grace > drain,
            "terminationGracePeriodSeconds ({grace}) must exceed drain_timeout_seconds ({drain})"
        );
    }

    // non-root, read-only root filesystem, no privilege escalation
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    assert_eq!(
        u64_at(&pod["securityContext"]["runAsUser"], "runAsUser"),
        10001
    );
    assert_eq!(
        c["securityContext"]["readOnlyRootFilesystem"].as_bool(),
        Some(true)
    );
    assert_eq!(
        c["securityContext"]["allowPrivilegeEscalation"].as_bool(),
        Some(false)
    );

    // requests and limits
    for kind in ["requests", "limits"] {
        assert!(
            !c["resources"][kind]["memory"].is_null(),
            "resources.{kind}.memory is missing"
        );
    }
    assert!(
        !c["resources"]["requests"]["cpu"].is_null(),
        "resources.requests.cpu is missing"
    );

    // config and rules mounted at /etc/triage from ConfigMaps, as a directory (no subPath, so
    // that rules updates reach the pod), and SASL settings from a Secret
    let mounts = c["volumeMounts"].as_sequence().expect("volumeMounts");
    let config_mount = mounts
        .iter()
        .find(|m| m["mountPath"].as_str() == Some("/etc/triage"))
        .expect("mount at /etc/triage");
    assert!(
        config_mount["subPath"].is_null(),
        "the config mount must not use subPath"
    );
    let volume_name = str_at(&config_mount["name"], "mount name");
    let volume = pod["volumes"]
        .as_sequence()
        .expect("volumes")
        .iter()
        .find(|v| v["name"].as_str() == Some(volume_name))
        .expect("volume of the config mount");
    let text = serde_norway::to_string(volume).unwrap();
    assert!(
        text.contains("configMap"),
        "the /etc/triage volume should come from ConfigMaps: {text}"
    );
    assert!(
        text.contains("rules.toml") && text.contains("service.toml"),
        "both files mounted: {text}"
    );
    let args: Vec<&str> = c["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args, ["run", "--config", "/etc/triage/service.toml"]);
    let env_from = serde_norway::to_string(&c["envFrom"]).unwrap();
    assert!(
        env_from.contains("secretRef"),
        "credentials should come from a Secret via envFrom"
    );
}

#[test]
fn keda_ceiling_is_the_partition_count() {
    let so = object_of_kind("ScaledObject");
    let deployment = object_of_kind("Deployment");
    assert_eq!(
        so["spec"]["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );
    let max = u64_at(&so["spec"]["maxReplicaCount"], "maxReplicaCount");
    let min = u64_at(&so["spec"]["minReplicaCount"], "minReplicaCount");
    assert!(min >= 1 && min <= max);
    if let Some(replicas) = deployment["spec"]["replicas"].as_u64() {
        assert!(
            replicas <= max,
            "Deployment replicas ({replicas}) above KEDA's maxReplicaCount ({max})"
        );
    }

    let trigger = so["spec"]["triggers"]
        .as_sequence()
        .expect("triggers")
        .iter()
        .find(|t| t["type"].as_str() == Some("kafka"))
        .expect("a kafka trigger")
        .clone();
    let lag_threshold = u64_at(&trigger["metadata"]["lagThreshold"], "lagThreshold");
    assert!(lag_threshold > 0);

    // the trigger watches the group and topic the service consumes
    let service: toml::Table = k8s_service_toml()
        .parse()
        .expect("configmap.yaml service.toml");
    assert_eq!(
        trigger["metadata"]["topic"].as_str(),
        service["input_topic"].as_str()
    );
    assert_eq!(
        trigger["metadata"]["consumerGroup"].as_str(),
        service["group_id"].as_str()
    );

    // maxReplicaCount = partitions of the input topic, as created by the local stack
    let compose = yaml_doc(&deploy_dir().join("compose.yaml"));
    let script = serde_norway::to_string(&compose["services"]["kafka-init"]["command"]).unwrap();
    let topic = service["input_topic"].as_str().unwrap();
    let after_topic = &script[script
        .find(topic)
        .expect("kafka-init creates the input topic")..];
    let partitions: u64 = after_topic
        .split("--partitions")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("--partitions N after the input topic in kafka-init");
    assert_eq!(
        max, partitions,
        "maxReplicaCount should equal the partition count of {topic}"
    );
}

#[test]
fn pdb_and_monitoring_select_the_pods() {
    let deployment = object_of_kind("Deployment");
    let pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        .as_mapping()
        .expect("pod labels")
        .clone();
    let selects = |selector: &Yaml, what: &str| {
        let m = selector["matchLabels"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{what}: matchLabels"));
        for (k, v) in m {
            assert_eq!(
                pod_labels.get(k),
                Some(v),
                "{what} selects {k:?}={v:?}, which the pods do not carry"
            );
        }
    };
    selects(
        &object_of_kind("PodDisruptionBudget")["spec"]["selector"],
        "PodDisruptionBudget",
    );
    selects(
        &object_of_kind("ServiceMonitor")["spec"]["selector"],
        "ServiceMonitor (via the Service labels)",
    );
    let service = object_of_kind("Service");
    for (k, v) in service["spec"]["selector"]
        .as_mapping()
        .expect("Service selector")
    {
        assert_eq!(pod_labels.get(k), Some(v), "Service selects {k:?}={v:?}");
    }
    let port = service["spec"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some("http"))
        .expect("Service port http")
        .clone();
    assert_eq!(u64_at(&port["port"], "Service port"), 9464);
    let sm = object_of_kind("ServiceMonitor");
    let endpoint = &sm["spec"]["endpoints"][0];
    assert_eq!(endpoint["port"].as_str(), Some("http"));
    assert_eq!(endpoint["path"].as_str(), Some("/metrics"));
}

#[test]
fn compose_stack_is_complete() {
    let compose = yaml_doc(&deploy_dir().join("compose.yaml"));
    let services = compose["services"].as_mapping().expect("services");
    for name in ["kafka", "kafka-init", "triage", "prometheus", "grafana"] {
        assert!(
            services.contains_key(name),
            "compose.yaml has no service {name}"
        );
    }
    let s = &compose["services"];
    assert!(str_at(&s["kafka"]["image"], "kafka image").starts_with("apache/kafka:"));
    let env = &s["kafka"]["environment"];
    assert!(
        str_at(&env["KAFKA_PROCESS_ROLES"], "KAFKA_PROCESS_ROLES").contains("controller"),
        "KRaft mode"
    );

    let init = serde_norway::to_string(&s["kafka-init"]["command"]).unwrap();
    for topic in [
        "tickets.raw",
        "customers",
        "tickets.dlq",
        "tickets.triaged.p1",
        "tickets.triaged.p4",
    ] {
        assert!(init.contains(topic), "kafka-init does not create {topic}");
    }
    assert!(
        init.contains("cleanup.policy=compact"),
        "the customers topic must be compacted"
    );

    let triage = &s["triage"];
    assert_eq!(
        triage["build"]["dockerfile"].as_str(),
        Some("deploy/Dockerfile")
    );
    assert_eq!(triage["build"]["context"].as_str(), Some(".."));
    assert_eq!(
        triage["depends_on"]["kafka-init"]["condition"].as_str(),
        Some("service_completed_successfully")
    );
    assert!(
        !triage["healthcheck"].is_null(),
        "the triage service should have a healthcheck"
    );
    let grace = duration_seconds(str_at(&triage["stop_grace_period"], "stop_grace_period"));
    let drain = drain_timeout(
        &read(&deploy_dir().join("service.toml")),
        "deploy/service.toml",
    );
    assert!(
        grace > drain,
        "stop_grace_period ({grace} s) must exceed drain_timeout_seconds ({drain})"
    );

    // bind-mounted files exist (paths are relative to deploy/)
    for service in ["prometheus", "grafana", "triage"] {
        for v in s[service]["volumes"]
            .as_sequence()
            .map(|v| v.as_slice())
            .unwrap_or_default()
        {
            let spec = str_at(v, "volume");
            let source = spec.split(':').next().unwrap();
            if source.starts_with("./") {
                let path = deploy_dir().join(source);
                assert!(
                    path.exists(),
                    "{service} mounts {source}, which does not exist"
                );
            }
        }
    }

    // the container config points the service at the compose broker and listens on 9464
    let service_toml: toml::Table = read(&deploy_dir().join("service.toml"))
        .parse()
        .expect("deploy/service.toml");
    assert_eq!(
        service_toml["bootstrap_servers"].as_str(),
        Some("kafka:9092")
    );
    assert_eq!(service_toml["http_listen"].as_str(), Some("0.0.0.0:9464"));
}

#[test]
fn prometheus_config_scrapes_triage_and_loads_the_alerts() {
    let dir = deploy_dir().join("prometheus");
    let config = yaml_doc(&dir.join("prometheus.yml"));
    let rule_files = config["rule_files"].as_sequence().expect("rule_files");
    assert!(!rule_files.is_empty());
    for f in rule_files {
        let path = dir.join(str_at(f, "rule file"));
        assert!(
            path.is_file(),
            "rule file {} (relative to prometheus.yml) does not exist",
            path.display()
        );
    }
    let jobs = config["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs");
    let triage = jobs
        .iter()
        .find(|j| j["job_name"].as_str() == Some("triage"))
        .expect("job triage");
    let targets = serde_norway::to_string(&triage["static_configs"]).unwrap();
    assert!(
        targets.contains(":9464"),
        "job triage should scrape port 9464: {targets}"
    );

    let tests = yaml_doc(&dir.join("alerts.test.yml"));
    for f in tests["rule_files"]
        .as_sequence()
        .expect("alerts.test.yml rule_files")
    {
        assert!(dir.join(str_at(f, "rule file")).is_file());
    }
}

#[derive(Debug)]
struct Alert {
    name: String,
    expr: String,
    severity: String,
    runbook_url: String,
}

fn alerts() -> Vec<Alert> {
    let doc = yaml_doc(&deploy_dir().join("prometheus/alerts.yml"));
    let mut alerts = Vec::new();
    for group in doc["groups"].as_sequence().expect("groups") {
        for rule in group["rules"].as_sequence().expect("rules") {
            let Some(name) = rule["alert"].as_str() else {
                continue;
            };
            alerts.push(Alert {
                name: name.to_string(),
                expr: str_at(&rule["expr"], "expr").to_string(),
                severity: rule["labels"]["severity"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                runbook_url: rule["annotations"]["runbook_url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            });
        }
    }
    alerts
}

/// `## Heading` lines of RUNBOOK.md.
fn runbook_sections() -> BTreeSet<String> {
    read(&deploy_dir().join("RUNBOOK.md"))
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|h| h.trim().to_string())
        .collect()
}

#[test]
fn every_alert_has_a_runbook_section_a_severity_and_known_metrics() {
    let alerts = alerts();
    assert!(
        alerts.len() >= 10,
        "expected the full alert set, found {}",
        alerts.len()
    );
    let sections = runbook_sections();
    let known = known_metric_names();
    let mut names = BTreeSet::new();
    for a in &alerts {
        assert!(
            names.insert(a.name.clone()),
            "alert {} defined twice",
            a.name
        );
        assert!(
            sections.contains(&a.name),
            "RUNBOOK.md has no section `## {}`",
            a.name
        );
        let anchor = a.name.to_lowercase();
        assert!(
            a.runbook_url.ends_with(&format!("RUNBOOK.md#{anchor}")),
            "{}: runbook_url {:?} should point at RUNBOOK.md#{anchor}",
            a.name,
            a.runbook_url
        );
        let severity_ok = ["critical", "warning"].contains(&a.severity.as_str())
            || (a.severity.contains("critical") && a.severity.contains("warning"));
        assert!(severity_ok, "{}: severity label {:?}", a.name, a.severity);
        for m in promql_metric_names(&a.expr) {
            assert!(
                known.contains(&m),
                "alert {} uses unknown metric {m}",
                a.name
            );
        }
    }
    // and no runbook section for an alert that does not exist (renamed or removed)
    for s in sections.iter().filter(|s| s.starts_with("Triage")) {
        assert!(
            names.contains(s),
            "RUNBOOK.md has a section for {s}, which is not an alert"
        );
    }
}

#[test]
fn every_alert_has_a_firing_unit_test() {
    let tests = yaml_doc(&deploy_dir().join("prometheus/alerts.test.yml"));
    let mut firing: BTreeMap<String, usize> = BTreeMap::new();
    let mut silent = 0;
    for t in tests["tests"].as_sequence().expect("tests") {
        for case in t["alert_rule_test"]
            .as_sequence()
            .map(|v| v.as_slice())
            .unwrap_or_default()
        {
            let name = str_at(&case["alertname"], "alertname").to_string();
            let expected = case["exp_alerts"]
                .as_sequence()
                .map(|s| s.len())
                .unwrap_or(0);
            if expected > 0 {
                *firing.entry(name).or_default() += 1;
            } else {
                silent += 1;
            }
        }
    }
    for a in alerts() {
        assert!(
            firing.contains_key(&a.name),
            "alerts.test.yml has no case where {} fires",
            a.name
        );
    }
    assert!(
        silent >= 5,
        "expected several not-firing cases, found {silent}"
    );
}

#[test]
fn dashboard_panels_query_only_known_metrics() {
    let path = deploy_dir().join("grafana/dashboard.json");
    let dash: serde_json::Value =
        serde_json::from_str(&read(&path)).expect("dashboard.json is valid JSON");
    assert_eq!(dash["uid"], "triage-overview");
    let variables: BTreeSet<&str> = dash["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert!(
        variables.contains("datasource"),
        "the dashboard should pick its datasource through ${{datasource}}"
    );

    let known = known_metric_names();
    let mut panels = Vec::new();
    fn collect<'a>(list: &'a [serde_json::Value], out: &mut Vec<&'a serde_json::Value>) {
        for p in list {
            out.push(p);
            if let Some(children) = p["panels"].as_array() {
                collect(children, out);
            }
        }
    }
    collect(dash["panels"].as_array().expect("panels"), &mut panels);
    let mut ids = BTreeSet::new();
    let mut queried = BTreeSet::new();
    let mut with_queries = 0;
    for p in &panels {
        let title = p["title"].as_str().unwrap_or("?");
        assert!(
            ids.insert(p["id"].as_i64().expect("panel id")),
            "duplicate panel id in {title}"
        );
        if p["type"] == "row" {
            continue;
        }
        assert!(p["gridPos"].is_object(), "{title}: gridPos");
        let targets = p["targets"]
            .as_array()
            .unwrap_or_else(|| panic!("panel {title} has no targets"));
        assert!(!targets.is_empty(), "panel {title} has no queries");
        with_queries += 1;
        for t in targets {
            let expr = t["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("panel {title}: target without expr"));
            let names = promql_metric_names(expr);
            assert!(!names.is_empty(), "panel {title}: no metric in {expr}");
            for m in names {
                assert!(
                    known.contains(&m),
                    "panel {title} queries unknown metric {m} in {expr}"
                );
                queried.insert(m);
            }
        }
    }
    assert!(
        with_queries >= 10,
        "expected a full dashboard, found {with_queries} panels with queries"
    );

    // the panels the issue asks for
    for m in [
        "triage_tickets_triaged_total",
        "triage_ticket_age_at_publish_seconds_bucket",
        "triage_sla_first_response_used_ratio_bucket",
        "triage_consumer_lag_total_records",
        "triage_consumer_lag_records",
        "triage_dead_letters_total",
        "triage_rules_reloads_total",
        "triage_sla_open_tickets",
    ] {
        assert!(queried.contains(m), "no panel shows {m}");
    }
    assert!(
        panels.iter().any(|p| p["type"] == "heatmap"),
        "the SLA-risk heat map is missing"
    );

    // template variable queries: label_values(metric, label)
    for v in dash["templating"]["list"].as_array().unwrap() {
        if let Some(def) = v["definition"].as_str() {
            if let Some(rest) = def.strip_prefix("label_values(") {
                let metric = rest.split([',', ')', '{']).next().unwrap().trim();
                assert!(
                    known.contains(metric),
                    "variable {} uses unknown metric {metric}",
                    v["name"]
                );
            }
        }
    }
}

#[test]
fn grafana_provisioning_points_at_the_dashboard() {
    let dir = deploy_dir().join("grafana/provisioning");
    let ds = yaml_doc(&dir.join("datasources/prometheus.yaml"));
    let first = &ds["datasources"][0];
    assert_eq!(first["type"].as_str(), Some("prometheus"));
    let providers = yaml_doc(&dir.join("dashboards/triage.yaml"));
    let path = str_at(
        &providers["providers"][0]["options"]["path"],
        "provider path",
    )
    .to_string();
    // compose mounts deploy/grafana/dashboard.json below that path
    let compose = yaml_doc(&deploy_dir().join("compose.yaml"));
    let mounts = serde_norway::to_string(&compose["services"]["grafana"]["volumes"]).unwrap();
    assert!(
        mounts.contains(&format!("./grafana/dashboard.json:{path}/")),
        "grafana mounts the dashboard under {path}"
    );
}

#[test]
fn dockerfile_builds_a_non_root_image_with_the_shipped_config() {
    let dockerfile = read(&deploy_dir().join("Dockerfile"));
    let instructions: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let has = |prefix: &str| instructions.iter().any(|l| l.starts_with(prefix));
    assert!(has("FROM rust:"), "builder stage from rust");
    assert!(
        has("FROM debian:${DEBIAN_RELEASE}-slim") || has("FROM debian:bookworm-slim"),
        "slim runtime"
    );
    assert!(has("USER 10001"), "non-root user 10001");
    assert!(has("EXPOSE 9464"));
    assert!(has("STOPSIGNAL SIGTERM"));
    assert!(has("HEALTHCHECK"));
    assert!(dockerfile.contains("cargo build --release --locked"));
    assert!(has(r#"ENTRYPOINT ["triage"]"#));
    assert!(has(
        r#"CMD ["run", "--config", "/etc/triage/service.toml"]"#
    ));
    // what the runtime stage copies from the build context must exist
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for line in instructions
        .iter()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from="))
    {
        let words: Vec<&str> = line
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        for src in &words[1..words.len() - 1] {
            if *src != "." {
                assert!(
                    root.join(src).exists(),
                    "the Dockerfile copies {src}, which does not exist"
                );
            }
        }
    }
    let ignore = read(&deploy_dir().join("Dockerfile.dockerignore"));
    assert!(
        ignore
            .lines()
            .any(|l| l.trim().trim_end_matches('/') == "target"),
        "the build context must exclude target/"
    );
    assert!(
        ignore.lines().any(|l| l.trim() == "!deploy/service.toml"),
        "deploy/service.toml must stay in the context"
    );
}
