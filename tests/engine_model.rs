//! The engine with a trained model: the model's label, confidence and
//! alternatives appear in the output and in `reasons`; below the configured
//! confidence it only suggests and the keyword rules decide; overrides still
//! win; a model whose labels do not match the rules is refused.

use std::process::Command;

use triage::codec::json::decode_ticket;
use triage::engine::triage;
use triage::rules;

fn train(dir: &std::path::Path) -> std::path::PathBuf {
    let model = dir.join("category.model");
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["train", "--data", "tests/data/it-tickets-sample.jsonl"])
        .args([
            "--text-field",
            "text",
            "--label-field",
            "label",
            "--seed",
            "7",
            "-q",
        ])
        .arg("--out")
        .arg(&model)
        .output()
        .expect("run triage train");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    model
}

/// Rules whose categories are the IT-ticket labels, mapped to our names.
fn rules_with_model(model: &str, auto_apply: f32, map: bool) -> String {
    let label_map = if map {
        r#"label_map = { "Hardware" = "hardware", "HR Support" = "hr", "Access" = "access", "Miscellaneous" = "misc", "Storage" = "storage", "Purchase" = "purchase", "Internal Project" = "project", "Administrative rights" = "admin_rights" }"#
    } else {
        ""
    };
    format!(
        r#"
[[levels]]
name = "P1"
min_score = 50
topic = "p1"
[[levels]]
name = "P2"
topic = "p2"

[[categories]]
name = "access"
points = 10
phrases = ["password", "access"]
[[categories]]
name = "hardware"
points = 20
phrases = ["laptop", "monitor"]
[[categories]]
name = "hr"
phrases = ["holiday"]
[[categories]]
name = "misc"
phrases = ["misc"]
[[categories]]
name = "storage"
phrases = ["mailbox"]
[[categories]]
name = "purchase"
points = 40
phrases = ["purchase order"]
[[categories]]
name = "project"
phrases = ["project"]
[[categories]]
name = "admin_rights"
phrases = ["administrator"]

[[overrides]]
name = "purchases stay P2"
when = {{ category = "purchase" }}
ceiling = "P2"

[models.category]
path = "{model}"
auto_apply_confidence = {auto_apply}
{label_map}

[sla]
default_policy = "std"
[sla.policies.std]
targets.P1 = {{ first_response = "1h", resolution = "4h" }}
targets.P2 = {{ first_response = "4h", resolution = "1d" }}
"#
    )
}

const TICKET: &str = r#"{"ticket_id":"T-1","customer_id":"C-1","created_at":"2026-11-24T09:00:00Z","subject":"purchase order laptop","body":"please approve purchase order new laptop docking station monitor keyboard invoice supplier quote"}"#;

#[test]
fn model_suggests_below_threshold_and_decides_above_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let now = "2026-11-24T10:00:00Z".parse().unwrap();
    let ticket = decode_ticket(TICKET.as_bytes()).unwrap().ticket;

    // Threshold above any confidence: the model only suggests.
    let src = rules_with_model(model.to_str().unwrap(), 1.0, true);
    let r = rules::compile("r.toml", &src, &mut |p| {
        triage::files::load_model(std::path::Path::new(p))
            .map(std::sync::Arc::new)
            .map_err(|e| e.to_string())
    })
    .expect("rules with a model compile")
    .rules;
    let t = triage(&r, &ticket, None, now);
    let v = &t.models[0];
    assert_eq!(v.field, "category");
    assert!(!v.applied);
    assert!(!v.alternatives.is_empty() && v.alternatives.len() <= 3);
    assert_eq!(v.alternatives[0].0, v.label);
    // Keyword rules decided: "purchase order" is a two-word phrase counted
    // twice in the subject and once in the body, more than "laptop".
    assert_eq!(&*t.category, "purchase");
    let model_reason = t.reasons.iter().find(|r| r.factor == "model").unwrap();
    assert!(
        model_reason.detail.starts_with("category model suggests"),
        "{}",
        model_reason.detail
    );
    assert_eq!(model_reason.points, 0);
    let sum: i64 = t.reasons.iter().map(|r| r.points).sum();
    assert_eq!(sum, t.score);

    // Threshold 0: the model's label is used, overrides still apply after it.
    let src = rules_with_model(model.to_str().unwrap(), 0.0, true);
    let r = rules::compile("r.toml", &src, &mut |p| {
        triage::files::load_model(std::path::Path::new(p))
            .map(std::sync::Arc::new)
            .map_err(|e| e.to_string())
    })
    .unwrap()
    .rules;
    let t = triage(&r, &ticket, None, now);
    let v = &t.models[0];
    assert!(v.applied);
    assert_eq!(t.category, v.label);
    let cat = t.reasons.iter().find(|r| r.factor == "category").unwrap();
    assert!(cat.detail.contains("(model, confidence"), "{}", cat.detail);
    if &*t.category == "purchase" {
        assert_eq!(&*t.priority, "P2");
    }
}

#[test]
fn model_whose_labels_do_not_match_the_rules_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, rules_with_model("category.model", 0.5, false)).unwrap();
    let errs = triage::files::load_rules(&path).expect_err("labels do not match");
    let msg = errs
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(msg.contains("models.category.path"), "{msg}");
    assert!(msg.contains("do not match the rules"), "{msg}");
    assert!(msg.contains("Hardware"), "{msg}");
    // A corrupt model file is refused with the loader's error.
    std::fs::write(&model, b"not a model").unwrap();
    let errs = triage::files::load_rules(&path).expect_err("corrupt model");
    let msg = errs
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(msg.contains("models.category.path"), "{msg}");
    assert!(msg.contains("not a triage model"), "{msg}");
}
