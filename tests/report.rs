//! `triage report`: exact figures on a hand-made history, signals as the SLA source, the same
//! bytes twice, and the HTML page in headless Chromium.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

mod browser;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn triage(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "triage {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `triage report` with the shipped rules over `triaged` and `life`, then `extra`.
fn report(triaged: &Path, life: &Path, extra: &[&str]) -> String {
    let mut a = vec![
        "report",
        "--rules",
        "config/rules.toml",
        "--triaged",
        triaged.to_str().unwrap(),
        "--lifecycle",
        life.to_str().unwrap(),
    ];
    a.extend(extra);
    triage(&a)
}

/// `triage score` of `tickets` (JSON lines) at `now`.
fn score(dir: &Path, tickets: &str, customers: &Path, now: &str) -> PathBuf {
    let input = dir.join("tickets.jsonl");
    std::fs::write(&input, tickets).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args([
            "score",
            "--rules",
            "config/rules.toml",
            "--now",
            now,
            "--customers",
        ])
        .arg(customers)
        .current_dir(root())
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success());
    let p = dir.join("triaged.jsonl");
    std::fs::write(&p, out.stdout).unwrap();
    p
}

/// Three premium (24x7) tickets tagged `internal-test` (P4: first response 8h, resolution 5d),
/// opened at 00:00 on 2 November, and their history.
fn hand_made(dir: &Path) -> (PathBuf, PathBuf) {
    let customers = dir.join("customers.jsonl");
    std::fs::write(
        &customers,
        "{\"customer_id\":\"C-P\",\"support_plan\":\"premium\",\"account_type\":\"enterprise\"}\n\
         {\"customer_id\":\"C-Q\",\"support_plan\":\"premium\",\"account_type\":\"smb\"}\n",
    )
    .unwrap();
    let t = |id: &str, c: &str| {
        format!("{{\"ticket_id\":\"{id}\",\"customer_id\":\"{c}\",\"created_at\":\"2026-11-02T00:00:00Z\",\"channel\":\"email\",\"subject\":\"Question about the export format\",\"tags\":[\"internal-test\"]}}\n")
    };
    let triaged = score(
        dir,
        &[t("A", "C-P"), t("B", "C-P"), t("C", "C-Q")].concat(),
        &customers,
        "2026-11-02T00:00:00Z",
    );
    let e = |id: &str, at: &str, rest: &str| {
        format!("{{\"ticket_id\":\"{id}\",\"at\":\"2026-11-{at}Z\",{rest}}}\n")
    };
    let life = dir.join("lifecycle.jsonl");
    std::fs::write(
        &life,
        [
            // A: answered at 2h (met); raised to P2 at 3h (resolution re-targeted to 8h);
            // solved at 10h (breached); CSAT 5.
            e("A", "02T02:00:00", "\"type\":\"first_response\""),
            e(
                "A",
                "02T03:00:00",
                "\"type\":\"priority_changed\",\"priority\":\"P2\"",
            ),
            e(
                "A",
                "02T10:00:00",
                "\"type\":\"status_changed\",\"status\":\"solved\"",
            ),
            e("A", "02T11:00:00", "\"type\":\"satisfaction\",\"score\":5"),
            // B: answered at 9h (breached 8h); re-categorized as billing; solved at 24h (met
            // 5d); CSAT 2.
            e("B", "02T09:00:00", "\"type\":\"first_response\""),
            e(
                "B",
                "02T09:30:00",
                "\"type\":\"category_changed\",\"category\":\"billing\"",
            ),
            e(
                "B",
                "03T00:00:00",
                "\"type\":\"status_changed\",\"status\":\"solved\"",
            ),
            e("B", "03T01:00:00", "\"type\":\"satisfaction\",\"score\":2"),
            // C: nothing (at the end, 25h: first response breached, resolution open).
        ]
        .concat(),
    )
    .unwrap();
    (triaged, life)
}

fn find(rows: &Value, pred: impl Fn(&Value) -> bool) -> &Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| pred(r))
        .unwrap_or_else(|| panic!("no such row in {rows:#}"))
}

#[test]
fn figures_on_a_hand_made_history_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (triaged, life) = hand_made(dir.path());
    let out = report(&triaged, &life, &["--json"]);
    assert_eq!(
        out,
        report(&triaged, &life, &["--json"]),
        "the same report twice"
    );
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["tickets"], 3);
    assert_eq!(r["with_history"], 2);
    assert_eq!(r["totals"]["priority"], json!([{"key": "P4", "count": 3}]));
    assert_eq!(
        r["totals"]["channel"],
        json!([{"key": "email", "count": 3}])
    );
    assert_eq!(
        r["totals"]["segment"],
        json!([{"key": "enterprise", "count": 2}, {"key": "smb", "count": 1}])
    );
    assert_eq!(
        r["volume"]["priority"],
        json!([{"day": "2026-11-02", "key": "P4", "tickets": 3}])
    );
    // Open time (24x7) to the stop: first responses at 2h (A) and 9h (B); C never answered.
    let fr = find(&r["times"], |t| t["clock"] == "first_response");
    assert_eq!(fr["tickets"], 3);
    assert_eq!(fr["stopped"], 2);
    assert_eq!(fr["p50_hours"], 2.0);
    assert_eq!(fr["p90_hours"], 9.0);
    assert_eq!(fr["within_target"], 1);
    // A's first-response target became P2's 1h with the change; B's and C's stayed 8h.
    assert_eq!(fr["target_hours"], 8.0);
    let res = find(&r["times"], |t| t["clock"] == "resolution");
    assert_eq!(res["stopped"], 2);
    assert_eq!(res["p50_hours"], 10.0);
    assert_eq!(res["p90_hours"], 24.0);
    assert_eq!(res["within_target"], 1);
    assert_eq!(r["sla_source"], "lifecycle");
    let all = |clock: &str| {
        find(&r["sla"], |x| {
            x["clock"] == clock && x["dimension"] == "all"
        })
    };
    let f = all("first_response");
    assert_eq!(
        (f["met"].clone(), f["breached"].clone(), f["open"].clone()),
        (json!(1), json!(2), json!(0))
    );
    let f = all("resolution");
    assert_eq!(
        (f["met"].clone(), f["breached"].clone(), f["open"].clone()),
        (json!(1), json!(1), json!(1))
    );
    let c = find(&r["csat"], |c| c["dimension"] == "all");
    assert_eq!(c["responses"], 2);
    assert_eq!(c["mean"], 3.5);
    assert_eq!(c["satisfied_share"], 0.5);
    assert_eq!(r["repeat"]["customers"], 2);
    assert_eq!(r["repeat"]["repeat_customers"], 1);
    assert_eq!(r["repeat"]["tickets_from_repeat_customers"], 2);
    assert_eq!(r["repeat"]["top"], json!([{"key": "C-P", "count": 2}]));
    let a = &r["agent_changes"];
    assert_eq!(a["priority_changed"], 1);
    assert_eq!(a["priority_raised"], 1);
    assert_eq!(
        a["priority_moves"],
        json!([{"from": "P4", "to": "P2", "tickets": 1}])
    );
    assert_eq!(a["category_changed"], 1);
    assert_eq!(a["category_moves"][0]["to"], "billing");
    let most = &r["rules"]["most"];
    assert_eq!(most[0]["count"], 3);
    assert!(r["rules"]["never_fired"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "override: feature requests never above P3"));
}

#[test]
fn signals_are_the_sla_source_when_given_and_count_once_per_id() {
    let dir = tempfile::tempdir().unwrap();
    let (triaged, life) = hand_made(dir.path());
    let template: Value = serde_json::from_slice(
        &std::fs::read(root().join("schemas/examples/sla_signal.json")).unwrap(),
    )
    .unwrap();
    let sig = |ticket: &str, clock: &str, kind: &str| {
        let mut v = template.clone();
        v["ticket_id"] = json!(ticket);
        v["priority"] = json!("P4");
        v["queue"] = json!("internal");
        v["clock"] = json!(clock);
        v["signal"] = json!(kind);
        v["signal_id"] = json!(format!("{ticket}:{clock}:{kind}"));
        if kind == "met" {
            v["threshold"] = Value::Null;
        }
        format!("{v}\n")
    };
    let signals = dir.path().join("signals.jsonl");
    std::fs::write(
        &signals,
        [
            sig("A", "first_response", "met"),
            sig("B", "first_response", "warning"),
            sig("B", "first_response", "breached"),
            sig("B", "first_response", "breached"), // replayed: the same id
            sig("C", "first_response", "breached"),
            "not a signal\n".to_string(),
        ]
        .concat(),
    )
    .unwrap();
    let r: Value = serde_json::from_str(&report(
        &triaged,
        &life,
        &["--signals", signals.to_str().unwrap(), "--json"],
    ))
    .unwrap();
    assert_eq!(r["sla_source"], "signals");
    let f = find(&r["sla"], |x| {
        x["clock"] == "first_response" && x["dimension"] == "all"
    });
    assert_eq!(
        (f["met"].clone(), f["warned"].clone(), f["breached"].clone()),
        (json!(1), json!(1), json!(2))
    );
    let plan = find(&r["sla"], |x| {
        x["clock"] == "first_response" && x["dimension"] == "plan"
    });
    assert_eq!(plan["key"], "premium");
    assert!(r["notes"].as_array().unwrap().iter().any(|n| n
        .as_str()
        .unwrap()
        .contains("1 signal record(s) were not SLA signals")));
}

#[test]
fn the_report_page_draws_every_chart_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let gen = |what: &str| {
        let mut a = vec!["gen", what, "--count", "2000", "--seed", "11"];
        if what != "customers" {
            a.extend(["--customers", "200"]);
        }
        triage(&a)
    };
    let customers = dir.path().join("c.jsonl");
    std::fs::write(&customers, gen("customers")).unwrap();
    let triaged = score(
        dir.path(),
        &gen("tickets"),
        &customers,
        "2026-11-02T12:00:00Z",
    );
    let life = dir.path().join("l.jsonl");
    std::fs::write(&life, gen("lifecycle")).unwrap();
    let page = browser::artifacts().join("report.html");
    let text = report(&triaged, &life, &["--html", page.to_str().unwrap()]);
    assert!(text.contains("report: 2000 tickets"), "{text}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert_eq!(browser::check_page(&page, "report"), 14);
}
