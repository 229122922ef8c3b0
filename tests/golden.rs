//! Golden test: the example tickets through `triage score` with the shipped rules
//! must give exactly the checked-in output `tests/data/golden/triaged.jsonl`.
//!
//! When a change to the rules or the engine is *meant* to change the output, look
//! at the diff this test prints, then rewrite the file and review it in git:
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test --test golden
//! git diff tests/data/golden/triaged.jsonl
//! ```
//!
//! Beyond the byte-for-byte comparison this checks properties that hold for any
//! rules: the input fields of every ticket go out unchanged, the reasons' points
//! sum to the score, tickets keep their order, the examples still cover every
//! strategy of the default rules, and `triage test` passes on the shipped cases.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{Map, Value};

/// The fixed "now" of the golden run (ageing and `triaged_at` depend on it).
const NOW: &str = "2026-11-24T15:00:00Z";
const RULES: &str = "config/rules.toml";
const CASES: &str = "config/rules.test.toml";
const CUSTOMERS: &str = "examples/customers.jsonl";
const TICKETS: &str = "examples/tickets.jsonl";
const GOLDEN: &str = "tests/data/golden/triaged.jsonl";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let p = root().join(rel);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn triage(args: &[&str], stdin_file: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_triage"));
    cmd.args(args).current_dir(root());
    match stdin_file {
        Some(f) => cmd.stdin(fs::File::open(root().join(f)).expect("open stdin file")),
        None => cmd.stdin(Stdio::null()),
    };
    cmd.output().expect("run the triage binary")
}

/// `triage score` over the example tickets; panics unless every line was triaged.
fn score_examples() -> String {
    let out = triage(
        &[
            "score",
            "--rules",
            RULES,
            "--customers",
            CUSTOMERS,
            "--now",
            NOW,
        ],
        Some(TICKETS),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "triage score failed ({}):\n{stderr}",
        out.status
    );
    assert!(
        stderr.trim().is_empty(),
        "triage score wrote to stderr on good input:\n{stderr}"
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

fn parse_line(line: &str, what: &str, n: usize) -> Map<String, Value> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => m,
        Ok(other) => panic!("{what} line {n} is not a JSON object: {other}"),
        Err(e) => panic!("{what} line {n} is not JSON: {e}\n{line}"),
    }
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// Flattens a JSON value into `path → compact value` (`triage.sla.policy`,
/// `triage.reasons[3].detail`), for readable diffs.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            if m.is_empty() {
                out.insert(prefix.to_string(), "{}".into());
            }
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, v, out);
            }
        }
        Value::Array(a) => {
            if a.is_empty() {
                out.insert(prefix.to_string(), "[]".into());
            }
            for (i, v) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// A field-by-field diff of two JSON values; empty when they are equal.
fn json_diff(root: &str, want: &Value, got: &Value) -> String {
    let (mut w, mut g) = (BTreeMap::new(), BTreeMap::new());
    flatten(root, want, &mut w);
    flatten(root, got, &mut g);
    let keys: BTreeSet<&String> = w.keys().chain(g.keys()).collect();
    let mut out = String::new();
    for k in keys {
        match (w.get(k), g.get(k)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => {
                let _ = writeln!(out, "    {k}:\n      golden: {a}\n      actual: {b}");
            }
            (Some(a), None) => {
                let _ = writeln!(out, "    {k}: only in golden: {a}");
            }
            (None, Some(b)) => {
                let _ = writeln!(out, "    {k}: only in actual: {b}");
            }
            (None, None) => unreachable!(),
        }
    }
    out
}

fn ticket_id(m: &Map<String, Value>) -> String {
    m.get("ticket_id")
        .and_then(Value::as_str)
        .unwrap_or("(no ticket_id)")
        .to_string()
}

#[test]
fn example_tickets_match_the_golden_output() {
    let actual = score_examples();
    let golden_path = root().join(GOLDEN);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0") {
        fs::create_dir_all(golden_path.parent().unwrap()).unwrap();
        fs::write(&golden_path, &actual).unwrap();
        eprintln!(
            "rewrote {} ({} lines)",
            golden_path.display(),
            lines(&actual).len()
        );
        return;
    }
    let golden = fs::read_to_string(&golden_path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e}\nCreate it with: UPDATE_GOLDEN=1 cargo test --test golden",
            golden_path.display()
        )
    });
    let (want, got) = (lines(&golden), lines(&actual));
    let mut report = String::new();
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        if w == g {
            continue;
        }
        let (wm, gm) = (
            parse_line(w, "golden", i + 1),
            parse_line(g, "actual", i + 1),
        );
        let id = ticket_id(&gm);
        let _ = writeln!(report, "line {} ticket {id}:", i + 1);
        let diff = json_diff("", &Value::Object(wm.clone()), &Value::Object(gm.clone()));
        if diff.is_empty() {
            let _ = writeln!(
                report,
                "    same JSON, different bytes (key order or number formatting)"
            );
        } else {
            report.push_str(&diff);
        }
    }
    if want.len() != got.len() {
        let _ = writeln!(
            report,
            "golden has {} lines, actual output has {}",
            want.len(),
            got.len()
        );
        let extra = if want.len() > got.len() { &want } else { &got };
        for (i, l) in extra.iter().enumerate().skip(want.len().min(got.len())) {
            let m = parse_line(l, "extra", i + 1);
            let _ = writeln!(
                report,
                "    line {} ticket {} is only in one of them",
                i + 1,
                ticket_id(&m)
            );
        }
    }
    assert!(
        report.is_empty(),
        "triage output differs from {GOLDEN}:\n{report}\n\
         If the change is intended: UPDATE_GOLDEN=1 cargo test --test golden, then review git diff {GOLDEN}"
    );
}

#[test]
fn output_keeps_every_input_field_and_the_ticket_order() {
    let input = read(TICKETS);
    let output = score_examples();
    let (inp, out) = (lines(&input), lines(&output));
    assert_eq!(inp.len(), out.len(), "one output line per input ticket");
    for (n, (i, o)) in inp.iter().zip(&out).enumerate() {
        let n = n + 1;
        let im = parse_line(i, "input", n);
        let mut om = parse_line(o, "output", n);
        assert_eq!(
            ticket_id(&im),
            ticket_id(&om),
            "line {n}: output is not in input order"
        );
        let id = ticket_id(&im);
        assert!(
            !im.contains_key("triage"),
            "example {id} must not carry a triage object"
        );
        assert!(
            om.remove("triage").is_some_and(|t| t.is_object()),
            "{id}: no triage object"
        );
        // Same fields, same values, same order.
        let diff = json_diff("", &Value::Object(im.clone()), &Value::Object(om.clone()));
        assert!(diff.is_empty(), "{id}: input fields changed:\n{diff}");
        assert_eq!(
            im.keys().collect::<Vec<_>>(),
            om.keys().collect::<Vec<_>>(),
            "{id}: input field order changed"
        );
        // And byte for byte: the triage object is added, nothing is rewritten.
        let body = &i[..i.rfind('}').expect("an object")];
        assert!(
            o.starts_with(body),
            "{id}: the input bytes are not passed through unchanged"
        );
    }
}

#[test]
fn every_triage_object_is_complete_and_consistent() {
    let customers: BTreeSet<String> = lines(&read(CUSTOMERS))
        .iter()
        .enumerate()
        .map(|(i, l)| ticket_field(&parse_line(l, "customer", i + 1), "customer_id"))
        .collect();
    let levels = ["P1", "P2", "P3", "P4"];
    for (n, line) in lines(&score_examples()).iter().enumerate() {
        let m = parse_line(line, "output", n + 1);
        let id = ticket_id(&m);
        let t = m["triage"].as_object().unwrap();
        for key in [
            "priority",
            "score",
            "category",
            "severity",
            "sentiment",
            "customer_known",
            "segment",
            "queue",
            "tier",
            "sla",
            "reasons",
            "rules_version",
            "triaged_at",
        ] {
            assert!(t.contains_key(key), "{id}: triage.{key} is missing");
        }
        let score = t["score"].as_i64().expect("score is an integer");
        let reasons = t["reasons"].as_array().unwrap();
        let sum: i64 = reasons
            .iter()
            .map(|r| r["points"].as_i64().expect("points are integers"))
            .sum();
        assert_eq!(sum, score, "{id}: reasons sum to {sum}, score is {score}");
        for r in reasons {
            assert!(
                r["factor"].as_str().is_some_and(|s| !s.is_empty())
                    && r["detail"].as_str().is_some_and(|s| !s.is_empty()),
                "{id}: a reason without factor or detail: {r}"
            );
        }
        let priority = t["priority"].as_str().unwrap();
        assert!(
            levels.contains(&priority),
            "{id}: unknown priority {priority}"
        );
        assert_eq!(t["triaged_at"], NOW, "{id}: triaged_at is not --now");
        let known = customers.contains(&ticket_field(&m, "customer_id"));
        assert_eq!(t["customer_known"], known, "{id}: customer_known");
        let label = t["sentiment"]["label"].as_str().unwrap();
        assert!(
            ["negative", "neutral", "positive"].contains(&label),
            "{id}: sentiment {label}"
        );
        let s = t["sentiment"]["score"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&s), "{id}: sentiment score {s}");
        let sla = t["sla"].as_object().unwrap();
        let created: jiff::Timestamp = m["created_at"].as_str().unwrap().parse().unwrap();
        let fr: jiff::Timestamp = sla["first_response_due"].as_str().unwrap().parse().unwrap();
        let rs: jiff::Timestamp = sla["resolution_due"].as_str().unwrap().parse().unwrap();
        assert!(
            created <= fr && fr <= rs,
            "{id}: deadlines out of order: {created} {fr} {rs}"
        );
    }
}

fn ticket_field(m: &Map<String, Value>, key: &str) -> String {
    m[key].as_str().unwrap_or_default().to_string()
}

/// The examples are documentation: they must keep showing every strategy of the
/// default rules. Names are read from `config/rules.toml`, so a new category,
/// condition, override, queue, tier or policy without an example fails here.
#[test]
fn examples_cover_every_strategy_of_the_default_rules() {
    let rules: toml::Table = read(RULES).parse().expect("rules.toml parses");
    let names = |arr: &str, key: &str| -> BTreeSet<String> {
        let mut v = &toml::Value::Table(rules.clone());
        for part in arr.split('.') {
            v = &v[part];
        }
        v.as_array()
            .unwrap_or_else(|| panic!("{arr} is not an array"))
            .iter()
            .map(|x| x[key].as_str().unwrap().to_string())
            .collect()
    };
    let output = score_examples();
    let outs: Vec<Map<String, Value>> = lines(&output)
        .iter()
        .enumerate()
        .map(|(i, l)| parse_line(l, "output", i + 1))
        .collect();
    let seen = |f: &dyn Fn(&Map<String, Value>) -> Vec<String>| -> BTreeSet<String> {
        outs.iter()
            .flat_map(|m| f(m["triage"].as_object().unwrap()))
            .collect()
    };
    let field =
        |k: &'static str| seen(&move |t| vec![t[k].as_str().unwrap_or_default().to_string()]);
    let reasons_of = |factor: &'static str| {
        seen(&move |t| {
            t["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["factor"] == factor)
                .map(|r| r["detail"].as_str().unwrap().to_string())
                .collect()
        })
    };
    let mut missing: Vec<String> = vec![];
    fn need(
        missing: &mut Vec<String>,
        what: &str,
        want: BTreeSet<String>,
        have: &BTreeSet<String>,
    ) {
        for w in want {
            if !have.contains(&w) {
                missing.push(format!("{what} {w:?}"));
            }
        }
    }
    let with = |mut set: BTreeSet<String>, key: &str| {
        set.insert(rules["routing"][key].as_str().unwrap().to_string());
        set
    };
    need(
        &mut missing,
        "category",
        names("categories", "name"),
        &field("category"),
    );
    need(
        &mut missing,
        "severity",
        names("severity.levels", "name"),
        &field("severity"),
    );
    need(
        &mut missing,
        "priority",
        names("levels", "name"),
        &field("priority"),
    );
    need(
        &mut missing,
        "queue",
        with(names("routing.queues", "queue"), "default_queue"),
        &field("queue"),
    );
    need(
        &mut missing,
        "tier",
        with(names("routing.tiers", "tier"), "default_tier"),
        &field("tier"),
    );
    let policies: BTreeSet<String> = rules["sla"]["policies"]
        .as_table()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    need(
        &mut missing,
        "SLA policy",
        policies,
        &seen(&|t| vec![t["sla"]["policy"].as_str().unwrap().to_string()]),
    );
    need(
        &mut missing,
        "sentiment",
        ["negative", "neutral", "positive"].map(String::from).into(),
        &seen(&|t| vec![t["sentiment"]["label"].as_str().unwrap().to_string()]),
    );
    need(
        &mut missing,
        "condition",
        names("conditions", "name"),
        &reasons_of("condition"),
    );
    // Every override fires at least once, and at least once it changes the level.
    let overrides = reasons_of("override");
    for name in names("overrides", "name") {
        let prefix = format!("{name}: ");
        let details: Vec<&String> = overrides
            .iter()
            .filter(|d| d.starts_with(&prefix))
            .collect();
        if details.is_empty() {
            missing.push(format!("override {name:?} firing"));
        } else if details.iter().all(|d| d.ends_with("(no change)")) {
            missing.push(format!("override {name:?} changing the level"));
        }
    }
    // The customer side, calendars and the capped or optional factors.
    let flags = seen(&|t| {
        let mut v = vec![];
        if t["customer_known"] == false {
            v.push("unknown customer".to_string());
        }
        if t["segment"]["vip"] == true {
            v.push("vip".into());
        }
        for k in [
            "account_type",
            "support_plan",
            "persona",
            "lifecycle",
            "language",
        ] {
            if let Some(s) = t["segment"][k].as_str() {
                v.push(format!("{k}={s}"));
            }
        }
        v.push(format!(
            "calendar={}",
            t["sla"]["calendar"].as_str().unwrap()
        ));
        v.push(format!(
            "timezone={}",
            t["sla"]["timezone"].as_str().unwrap()
        ));
        for r in t["reasons"].as_array().unwrap() {
            let f = r["factor"].as_str().unwrap();
            v.push(format!("factor={f}"));
            if r["detail"].as_str().unwrap().contains("(capped)") {
                v.push(format!("capped={f}"));
            }
            if f == "sla" {
                v.push("contract policy fallback".into());
            }
        }
        v
    });
    let want: BTreeSet<String> = [
        "unknown customer",
        "vip",
        "contract policy fallback",
        "account_type=enterprise",
        "account_type=business",
        "account_type=smb",
        "account_type=free",
        "support_plan=premium",
        "support_plan=standard",
        "support_plan=basic",
        "persona=admin",
        "persona=developer",
        "persona=power_user",
        "persona=casual",
        "lifecycle=new",
        "lifecycle=active",
        "lifecycle=at_risk",
        "lifecycle=churning",
        "language=en",
        "language=de",
        "language=fr",
        "calendar=24x7",
        "calendar=business",
        "timezone=America/New_York",
        "timezone=Europe/Berlin",
        "timezone=Asia/Tokyo",
        "timezone=Australia/Sydney",
        "factor=arr",
        "factor=intensity",
        "factor=reported_priority",
        "factor=impact",
        "factor=age",
        "capped=impact",
        "capped=age",
    ]
    .map(String::from)
    .into();
    need(&mut missing, "example of", want, &flags);
    assert!(
        missing.is_empty(),
        "the examples do not show:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn shipped_rule_unit_tests_pass() {
    let out = triage(&["test", RULES, CASES], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "triage test {RULES} {CASES} failed ({}):\n{stdout}{stderr}",
        out.status
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.contains(" passed, 0 failed"),
        "unexpected summary: {summary}"
    );
}

#[test]
fn shipped_rules_validate_without_warnings() {
    let out = triage(&["validate", RULES], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "triage validate {RULES}:\n{stdout}");
    assert!(
        stdout.contains(": ok (") && stdout.contains("; 0 warning(s);"),
        "{stdout}"
    );
}
