//! `triage replay`: no change against itself, a hand-made change moves exactly the tickets it
//! should, breach projection on a hand-computed lifecycle history, determinism, and the HTML page
//! in headless Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod browser;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn triage(args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "triage {args:?}: {stderr}");
    (stdout, stderr)
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    serde_json::from_str(&triage(&a).0).expect("JSON report")
}

/// `triage replay --rules RULES --baseline config/rules.toml` and `more`.
fn against_shipped<'a>(rules: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "replay",
        "--rules",
        rules,
        "--baseline",
        "config/rules.toml",
    ];
    a.extend_from_slice(more);
    a
}

/// [`against_shipped`] over a tickets, customers and lifecycle file.
fn over_files<'a>(rules: &'a Path, files: &'a [PathBuf; 3]) -> Vec<&'a str> {
    let [t, c, l] = files.each_ref().map(|p| p.to_str().unwrap());
    against_shipped(
        rules.to_str().unwrap(),
        &["--tickets", t, "--customers", c, "--lifecycle", l],
    )
}

/// The shipped rules with one more override: churning customers at least P2.
fn churn_rules(dir: &Path) -> PathBuf {
    let s = std::fs::read_to_string(root().join("config/rules.toml")).unwrap();
    let anchor = "[[overrides]]\nname = \"explicit escalation by an account manager\"";
    assert!(s.contains(anchor));
    let s = s.replace(
        anchor,
        &format!("[[overrides]]\nname = \"churning customers: at least P2\"\nwhen = {{ lifecycle = \"churning\" }}\nfloor = \"P2\"\n\n{anchor}"),
    );
    let p = dir.join("rules.churn.toml");
    std::fs::write(&p, s).unwrap();
    p
}

const EXAMPLES: [&str; 4] = [
    "--tickets",
    "examples/tickets.jsonl",
    "--customers",
    "examples/customers.jsonl",
];

/// The example tickets, one a line.
fn example_tickets() -> u64 {
    let text = std::fs::read_to_string(root().join("examples/tickets.jsonl")).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).count() as u64
}

#[test]
fn the_shipped_rules_against_themselves_change_nothing() {
    let args = against_shipped("config/rules.toml", &EXAMPLES);
    let r = json(&args);
    assert_eq!(r["tickets"], example_tickets());
    assert_eq!(r["skipped"], 0);
    assert_eq!(r["changed"]["any"], 0);
    assert!(r["moves"].as_array().unwrap().is_empty());
    assert!(r["samples"].as_array().unwrap().is_empty());
    assert!(r["rules"].as_array().unwrap().is_empty());
    let matrix = r["matrix"].as_array().unwrap();
    let mut diagonal = 0;
    for (i, row) in matrix.iter().enumerate() {
        for (j, v) in row.as_array().unwrap().iter().enumerate() {
            if i == j {
                diagonal += v.as_u64().unwrap();
            } else {
                assert_eq!(v, 0);
            }
        }
    }
    assert_eq!(diagonal, example_tickets());
    let (text, _) = triage(&args);
    assert!(
        text.contains("no change: every ticket is decided the same way"),
        "{text}"
    );
}

#[test]
fn the_recorded_decisions_against_the_rules_that_made_them_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args([
            "score",
            "--rules",
            "config/rules.toml",
            "--customers",
            "examples/customers.jsonl",
            "--now",
            "2026-11-20T12:00:00Z",
        ])
        .current_dir(root())
        .stdin(std::fs::File::open(root().join("examples/tickets.jsonl")).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let triaged = dir.path().join("triaged.jsonl");
    std::fs::write(&triaged, &out.stdout).unwrap();
    let r = json(&[
        "replay",
        "--rules",
        "config/rules.toml",
        "--recorded",
        "--tickets",
        triaged.to_str().unwrap(),
        "--customers",
        "examples/customers.jsonl",
    ]);
    assert_eq!(r["tickets"], example_tickets());
    assert_eq!(r["changed"]["any"], 0, "{r:#}");
    assert_eq!(r["baseline"], "the recorded decisions");
    // Raw tickets have nothing recorded to compare with: each is skipped with the reason.
    let mut args = vec!["replay", "--rules", "config/rules.toml", "--recorded"];
    args.extend(EXAMPLES);
    let r = json(&args);
    assert_eq!(r["tickets"], 0);
    assert_eq!(r["skipped"], example_tickets());
    assert!(r["notes"][0]
        .as_str()
        .unwrap()
        .contains("no recorded `triage` object"));
}

#[test]
fn a_new_override_moves_exactly_the_tickets_it_should() {
    let dir = tempfile::tempdir().unwrap();
    let rules = churn_rules(dir.path());
    let r = json(&against_shipped(rules.to_str().unwrap(), &EXAMPLES));
    // The example customers C-UMBRELLA and C-NOMAD are churning; their tickets T-1010 and T-1046
    // were P3, the floor lifts them to P2 (they also get P2's SLA targets and tier). Their other
    // tickets were P2 or above already; no other ticket changes.
    assert_eq!(r["changed"]["priority"], 2, "{r:#}");
    assert_eq!(r["changed"]["queue"], 0);
    assert_eq!(r["changed"]["category"], 0);
    assert_eq!(
        r["moves"],
        serde_json::json!([{"from": "P3", "to": "P2", "tickets": 2}])
    );
    let ids: Vec<&str> = r["samples"][0]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ticket_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["T-1010", "T-1046"]);
    let s = &r["samples"][0]["tickets"][0];
    assert!(s["after"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["detail"].as_str().unwrap().contains("churning customers")));
    let fr = &r["targets"][0];
    assert_eq!(fr["tightened"], 2);
    assert_eq!(fr["loosened"], 0);
    let mix: Vec<(String, u64, u64)> = r["mix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["level"].as_str().unwrap().to_string(),
                m["before"].as_u64().unwrap(),
                m["after"].as_u64().unwrap(),
            )
        })
        .collect();
    let p2 = mix.iter().find(|m| m.0 == "P2").unwrap();
    let p3 = mix.iter().find(|m| m.0 == "P3").unwrap();
    assert_eq!(p2.2, p2.1 + 2);
    assert_eq!(p3.2 + 2, p3.1);
}

#[test]
fn the_report_is_the_same_byte_for_byte_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let rules = churn_rules(dir.path());
    let gen = |what: &str, count: &str| {
        let mut a = vec!["gen", what, "--count", count, "--seed", "7"];
        if what != "customers" {
            a.extend(["--customers", "300"]);
        }
        triage(&a).0
    };
    let tickets = dir.path().join("t.jsonl");
    let customers = dir.path().join("c.jsonl");
    let life = dir.path().join("l.jsonl");
    std::fs::write(&tickets, gen("tickets", "3000")).unwrap();
    std::fs::write(&customers, gen("customers", "300")).unwrap();
    std::fs::write(&life, gen("lifecycle", "3000")).unwrap();
    let files = [tickets, customers, life];
    let replay = |extra: &[&str]| {
        let mut a = over_files(&rules, &files);
        a.extend(extra);
        triage(&a).0
    };
    let run = |threads: &str| replay(&["--threads", threads, "--json"]);
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("3"));
    // The page of the same replay: every chart drawn in Chromium, no console error.
    let page = browser::artifacts().join("replay.html");
    replay(&["--html", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page loads nothing"
    );
    assert_eq!(browser::check_page(&page, "replay"), 11);
    let r: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(r["tickets"], 3000);
    assert_eq!(r["projected"], 3000);
    assert!(r["changed"]["priority"].as_u64().unwrap() > 0);
}

/// Three premium (24x7) tickets and one more, all P4 under both policies (tag `internal-test`),
/// opened at 00:00; the candidate tightens premium P4 from 8h / 5d to 4h / 2d.
#[test]
fn breach_projection_on_a_hand_computed_history() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(root().join("config/rules.toml")).unwrap();
    let line = "targets.P4 = { first_response = \"8h\", resolution = \"5d\" }";
    assert_eq!(base.matches(line).count(), 1);
    let cand = dir.path().join("cand.toml");
    std::fs::write(
        &cand,
        base.replace(
            line,
            "targets.P4 = { first_response = \"4h\", resolution = \"2d\" }",
        ),
    )
    .unwrap();
    let customers = dir.path().join("c.jsonl");
    std::fs::write(
        &customers,
        "{\"customer_id\":\"C-P\",\"support_plan\":\"premium\",\"timezone\":\"UTC\"}\n",
    )
    .unwrap();
    let tickets = dir.path().join("t.jsonl");
    let t = |id: &str| {
        format!("{{\"ticket_id\":\"{id}\",\"customer_id\":\"C-P\",\"created_at\":\"2026-11-02T00:00:00Z\",\"subject\":\"Question about exports\",\"tags\":[\"internal-test\"]}}\n")
    };
    std::fs::write(&tickets, [t("A"), t("B"), t("C"), t("D")].concat()).unwrap();
    let e = |id: &str, at: &str, rest: &str| {
        format!("{{\"ticket_id\":\"{id}\",\"at\":\"2026-11-{at}Z\",{rest}}}\n")
    };
    let fr = "\"type\":\"first_response\"";
    let life = dir.path().join("l.jsonl");
    std::fs::write(
        &life,
        [
            // A: answered after 6h (met 8h, breached 4h); never solved.
            e("A", "02T06:00:00", fr),
            // B: answered after 1h (met both); never solved.
            e("B", "02T01:00:00", fr),
            // C: never answered.
            // D: answered after 2h; waits on the customer for a day (pending pauses the
            // resolution clock); solved at 3d 1h: 2d 1h of running time (met 5d, breached 2d).
            e("D", "02T02:00:00", fr),
            e(
                "D",
                "03T00:00:00",
                "\"type\":\"status_changed\",\"status\":\"pending\"",
            ),
            e(
                "D",
                "04T00:00:00",
                "\"type\":\"status_changed\",\"status\":\"open\"",
            ),
            e(
                "D",
                "05T01:00:00",
                "\"type\":\"status_changed\",\"status\":\"solved\"",
            ),
        ]
        .concat(),
    )
    .unwrap();
    let files = [tickets, customers, life];
    let replay = |extra: &[&str]| {
        let mut a = over_files(&cand, &files);
        a.extend(extra);
        json(&a)
    };
    let r = replay(&[]);
    assert_eq!(r["tickets"], 4);
    assert_eq!(r["changed"]["priority"], 0);
    assert_eq!(r["projected"], 4);
    let row = |clock: &str, dim: &str, key: &str| {
        r["sla"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["clock"] == clock && x["dimension"] == dim && x["key"] == key)
            .unwrap_or_else(|| panic!("no row {clock} {dim} {key}: {r:#}"))
            .clone()
    };
    let f = |m: u64, b: u64, o: u64| serde_json::json!({"met": m, "breached": b, "open": o});
    // As of the last event (D solved, 3d 1h after opening):
    // first response — before: A, B, D met; C breached. After: B, D met; A, C breached.
    let x = row("first_response", "all", "all");
    assert_eq!(x["before"], f(3, 1, 0));
    assert_eq!(x["after"], f(2, 2, 0));
    // resolution — before: D met, A B C open (3d 1h < 5d). After: all four breached (> 2d).
    let x = row("resolution", "all", "all");
    assert_eq!(x["before"], f(1, 0, 3));
    assert_eq!(x["after"], f(0, 4, 0));
    let x = row("resolution", "plan", "premium");
    assert_eq!(x["after"], f(0, 4, 0));
    let x = row("first_response", "priority", "P4");
    assert_eq!(x["before"], f(3, 1, 0));
    // An earlier end of the history, 2d 0h after opening: A, B and C reach the candidate's 2d
    // exactly then, which is a breach (the watcher's timer fires at the due instant).
    let r2 = replay(&["--as-of", "2026-11-04T00:00:00Z"]);
    let x = r2["sla"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["clock"] == "resolution" && x["dimension"] == "all")
        .unwrap()
        .clone();
    // D at 2d: 2d minus the pending day (03T→04T) = 1d of running time; open.
    assert_eq!(x["after"], f(0, 3, 1));
    assert_eq!(x["before"], f(0, 0, 4));
}
