//! The Avro path end to end against a real schema registry: Apicurio
//! Registry (from Maven Central, `make apicurio`), which serves the Confluent
//! Schema Registry API under `/apis/ccompat/v7`, and Apache Kafka. A
//! producer registers the ticket schema and writes Confluent-framed records
//! with apache-avro (not this crate's encoder); the service resolves the
//! writer schema by id, triages, registers the triaged schema under each
//! output topic's subject and writes Avro; the test reads the outputs back
//! with the schema the registry holds for their id.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apache_avro::types::Value;
use apache_avro::Schema;
use common::*;

/// A running Apicurio Registry on a free port (killed on drop).
struct Apicurio {
    url: String,
    child: Child,
}

impl Drop for Apicurio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn apicurio_dir() -> PathBuf {
    if let Ok(p) = std::env::var("TRIAGE_APICURIO_DIR") {
        if !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/triage/apicurio")
}

fn start_apicurio() -> Apicurio {
    let jar = apicurio_dir().join("dist/registry.jar");
    assert!(
        jar.exists(),
        "Apicurio Registry is not installed at {}: run `make test` or `make apicurio` \
         (or set TRIAGE_APICURIO_DIR). This test needs a real registry.",
        jar.display()
    );
    let port = free_port();
    let log = tempfile::NamedTempFile::new().unwrap();
    let child = Command::new("java")
        .args([
            "-Xmx384m",
            "-Dquarkus.http.host=127.0.0.1",
            &format!("-Dquarkus.http.port={port}"),
            "-jar",
        ])
        .arg(&jar)
        .stdin(Stdio::null())
        .stdout(log.reopen().unwrap())
        .stderr(log.reopen().unwrap())
        .spawn()
        .expect("start apicurio (java)");
    let base = format!("http://127.0.0.1:{port}/apis/ccompat/v7");
    let reg = Apicurio {
        url: base.clone(),
        child,
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = ureq::get(&format!("{base}/subjects")).call() {
            if r.status() == 200 {
                break;
            }
        }
        if Instant::now() > deadline {
            panic!(
                "Apicurio did not answer on {base} in 120 s:\n{}",
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    reg
}

/// Registers `schema` under `subject` as a producer's serializer would.
fn register(url: &str, subject: &str, schema: &str) -> u32 {
    let body = serde_json::json!({ "schema": schema }).to_string();
    let mut r = ureq::post(&format!("{url}/subjects/{subject}/versions"))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .send(body.as_bytes())
        .unwrap_or_else(|e| panic!("register {subject}: {e}"));
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    v["id"].as_u64().expect("an id") as u32
}

fn schema_by_id(url: &str, id: u32) -> Schema {
    let mut r = ureq::get(&format!("{url}/schemas/ids/{id}"))
        .call()
        .unwrap_or_else(|e| panic!("schema {id}: {e}"));
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    Schema::parse_str(v["schema"].as_str().expect("schema text")).expect("parses")
}

fn ticket_value(i: usize) -> Value {
    let s = |x: &str| Value::String(x.to_string());
    let opt = |v: Option<Value>| match v {
        None => Value::Union(0, Box::new(Value::Null)),
        Some(v) => Value::Union(1, Box::new(v)),
    };
    Value::Record(vec![
        ("ticket_id".into(), s(&format!("AV-{i}"))),
        ("customer_id".into(), s("C-1")),
        ("created_at".into(), s("2026-11-24T10:00:00Z")),
        (
            "subject".into(),
            s("Payment failed and the invoice is wrong"),
        ),
        (
            "body".into(),
            opt(Some(s("We were charged twice this month."))),
        ),
        ("channel".into(), opt(Some(s("email")))),
        ("requester".into(), opt(None)),
        ("reported_priority".into(), opt(Some(s("high")))),
        ("affected_users".into(), opt(Some(Value::Long(12)))),
        ("tags".into(), Value::Array(vec![s("billing")])),
        ("custom_fields".into(), Value::Map(Default::default())),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_through_a_real_schema_registry_end_to_end() {
    let reg = start_apicurio();
    let b = broker();
    let names = Names::new("apicurio");
    create_topics(b, &names, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), &names);

    // The producer's side: register the ticket schema, write Confluent frames.
    let text = include_str!("../schemas/ticket_event.avsc");
    let schema = Schema::parse_str(text).unwrap();
    let id = register(&reg.url, &format!("{}-value", names.input), text);
    let n = 20;
    let recs: Vec<(String, Option<Vec<u8>>)> = (0..n)
        .map(|i| {
            let mut frame = vec![0u8];
            frame.extend_from_slice(&id.to_be_bytes());
            frame.extend(apache_avro::to_avro_datum(&schema, ticket_value(i)).unwrap());
            (format!("AV-{i}"), Some(frame))
        })
        .collect();
    let p = producer(b);
    produce(&p, &names.input, &recs).await;

    let mut cfg = config(b, &names, &rules);
    cfg.input_format = triage::service::Format::Avro;
    cfg.schema_registry_url = Some(reg.url.clone());
    let svc = Running::start(cfg).await;
    let mut r = Reader::new(b, &names.out_topics());
    assert!(
        r.read_until(Duration::from_secs(60), |x| x.keys.len() >= n),
        "only {} of {n} outputs",
        r.keys.len()
    );
    svc.stop().await.expect("clean stop");

    // The consumer's side: every output is Avro, framed with an id the
    // registry knows, and decodes with the schema it returns.
    let mut triaged_id = None;
    for rec in &r.records {
        assert_ne!(rec.topic, names.dlq, "dead-lettered: {:?}", rec.headers);
        let v = rec.value.as_deref().unwrap();
        assert_eq!(v[0], 0, "Confluent magic byte");
        let out_id = u32::from_be_bytes(v[1..5].try_into().unwrap());
        assert!(triaged_id.is_none_or(|t| t == out_id));
        triaged_id = Some(out_id);
        let out_schema = schema_by_id(&reg.url, out_id);
        let mut datum = &v[5..];
        let value = apache_avro::from_avro_datum(&out_schema, &mut datum, None).expect("decodes");
        let Value::Record(fields) = value else {
            panic!("not a record")
        };
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("ticket_id"), Some(Value::String(rec.key_str())));
        let Some(Value::Record(t)) = get("triage") else {
            panic!("no triage record")
        };
        let cat = t
            .iter()
            .find(|(n, _)| n == "category")
            .map(|(_, v)| v.clone());
        assert_eq!(cat, Some(Value::String("billing".into())), "{t:?}");
    }
    // The service registered the triaged schema under the output subjects.
    let body = ureq::get(&format!("{}/subjects", reg.url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let subjects: Vec<String> = serde_json::from_str(&body).unwrap();
    for o in &names.outputs {
        assert!(
            subjects.contains(&format!("{o}-value")),
            "{o}-value not registered: {subjects:?}"
        );
    }
}
