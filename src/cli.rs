//! The offline commands — `triage score`, `validate` and `test` — as library
//! functions, so tests can call them. They read files and stdin (this is the
//! edge); the triage itself is [`crate::engine`].

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

use jiff::Timestamp;
use serde::Deserialize;

use crate::codec::{json, Codec};
use crate::engine::{triage_with, Scratch};
use crate::model::{Customer, Profile, Triage};
use crate::process::{process, Limits, Outcome};
use crate::rules::{self, Loaded, Severity};

/// Loads rules, printing diagnostics; `Err` carries a one-line summary.
pub fn load_rules(path: &Path) -> Result<Loaded, String> {
    match crate::files::load_rules(path) {
        Ok(l) => {
            for w in &l.warnings {
                eprintln!("{w}");
            }
            Ok(l)
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            let n = diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            Err(format!("{}: {n} error(s) in the rules", path.display()))
        }
    }
}

/// Reads customer records (JSON lines) into prepared profiles.
pub fn read_customers(path: &Path) -> Result<HashMap<String, Profile>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let c: Customer = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: not a customer record: {e}", path.display(), i + 1))?;
        out.insert(c.customer_id.clone(), Profile::from_customer(&c));
    }
    Ok(out)
}

/// `triage score`: JSON lines in, triaged JSON lines out. Bad lines are
/// reported on stderr with their number and reason; the rest go on.
pub fn score(
    rules_path: &Path,
    customers: Option<&Path>,
    now: Option<Timestamp>,
) -> Result<ExitCode, String> {
    let loaded = load_rules(rules_path)?;
    let table = match customers {
        Some(p) => read_customers(p)?,
        None => HashMap::new(),
    };
    let now = now.unwrap_or_else(Timestamp::now);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (ok, failed) = score_stream(
        &loaded.rules,
        &table,
        now,
        stdin.lock(),
        &mut out,
        &mut |n, msg| eprintln!("line {n}: {msg}"),
    )
    .map_err(|e| format!("writing output: {e}"))?;
    out.flush().map_err(|e| format!("writing output: {e}"))?;
    if failed > 0 {
        eprintln!("triage score: {ok} triaged, {failed} failed");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The loop behind `triage score`; returns (triaged, failed).
pub fn score_stream(
    rules: &rules::Rules,
    table: &HashMap<String, Profile>,
    now: Timestamp,
    input: impl BufRead,
    out: &mut impl Write,
    on_error: &mut dyn FnMut(usize, String),
) -> std::io::Result<(usize, usize)> {
    let codec = Codec::json();
    let mut scratch = Scratch::default();
    let mut buf = Vec::with_capacity(4096);
    let mut line = Vec::with_capacity(4096);
    let (mut ok, mut failed) = (0, 0);
    let mut input = input;
    let mut n = 0;
    loop {
        line.clear();
        // Bytes, not `lines()`: a line that is not UTF-8 is that line's
        // error (decode_error), not the end of the run.
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        n += 1;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        buf.clear();
        let r = crate::isolate::isolate(|| {
            process(
                &codec,
                rules,
                table,
                &line,
                now,
                Limits::NONE,
                &mut scratch,
                &mut buf,
            )
        });
        match r {
            Ok(Outcome::Triaged(_)) => {
                buf.push(b'\n');
                out.write_all(&buf)?;
                ok += 1;
            }
            Ok(Outcome::Dead(e)) => {
                on_error(n, e.to_string());
                failed += 1;
            }
            Err(panic) => {
                scratch = Scratch::default();
                on_error(n, format!("internal_error: {panic}"));
                failed += 1;
            }
        }
    }
    Ok((ok, failed))
}

/// `triage validate`: prints every diagnostic; non-zero on errors.
pub fn validate(path: &Path) -> Result<ExitCode, String> {
    match crate::files::load_rules(path) {
        Ok(l) => {
            for w in &l.warnings {
                println!("{w}");
            }
            println!(
                "{}: ok ({} levels, {} categories, {} overrides, {} SLA policies; {} warning(s); rules_version {})",
                path.display(),
                l.rules.levels.len(),
                l.rules.categories.len(),
                l.rules.overrides.len(),
                l.rules.policies.len(),
                l.warnings.len(),
                l.rules.version
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(diags) => {
            for d in &diags {
                println!("{d}");
            }
            let errors = diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            println!(
                "{}: {errors} error(s), {} warning(s)",
                path.display(),
                diags.len() - errors
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// A file of rule unit tests (`triage test RULES CASES`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The instant every case is triaged at, unless it gives its own.
    pub now: Option<Timestamp>,
    /// Customers the cases refer to by `customer_id`.
    #[serde(default)]
    pub customers: Vec<Customer>,
    pub cases: Vec<Case>,
}

/// One rule unit test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub now: Option<Timestamp>,
    /// The ticket event, as in the input topic (timestamps as strings).
    pub ticket: toml::Table,
    /// A customer record just for this case (else looked up in `customers`).
    pub customer: Option<Customer>,
    pub expect: Expect,
}

/// Expected fields; only those given are checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub priority: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
    pub sentiment: Option<String>,
    pub queue: Option<String>,
    pub tier: Option<String>,
    pub customer_known: Option<bool>,
    pub sla_policy: Option<String>,
    pub first_response_due: Option<Timestamp>,
    pub resolution_due: Option<Timestamp>,
    pub min_score: Option<i64>,
    pub max_score: Option<i64>,
    /// Substrings that must each appear in some reason, written as
    /// `"factor: detail"`.
    #[serde(default)]
    pub reasons_include: Vec<String>,
    /// Substrings that must appear in no reason (same form): "impact"
    /// asserts that nothing added impact points.
    #[serde(default)]
    pub reasons_exclude: Vec<String>,
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => J::from(*f),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Runs one case; `Ok(None)` when it passes, `Ok(Some(diff))` when not.
pub fn run_case(
    rules: &rules::Rules,
    customers: &HashMap<String, Profile>,
    default_now: Option<Timestamp>,
    case: &Case,
) -> Result<Option<String>, String> {
    let json = serde_json::to_vec(&toml_to_json(&toml::Value::Table(case.ticket.clone())))
        .map_err(|e| e.to_string())?;
    let decoded = json::decode_ticket(&json).map_err(|e| format!("ticket: {e}"))?;
    let own = case.customer.as_ref().map(Profile::from_customer);
    let customer = own
        .as_ref()
        .or_else(|| customers.get(decoded.ticket.customer_id.as_ref()));
    let now = case
        .now
        .or(default_now)
        .ok_or("no `now`: give one for the file or the case")?;
    let t = triage_with(
        rules,
        &decoded.ticket,
        customer,
        now,
        &mut Scratch::default(),
    );
    Ok(diff(&case.expect, &t))
}

fn diff(e: &Expect, t: &Triage) -> Option<String> {
    let mut out = String::new();
    let mut check = |field: &str, want: Option<String>, got: String| {
        if let Some(w) = want {
            if w != got {
                let _ = writeln!(out, "    {field}: expected {w}, got {got}");
            }
        }
    };
    check("priority", e.priority.clone(), t.priority.to_string());
    check("category", e.category.clone(), t.category.to_string());
    check("severity", e.severity.clone(), t.severity.to_string());
    check(
        "sentiment",
        e.sentiment.clone(),
        t.sentiment.label.as_str().into(),
    );
    check("queue", e.queue.clone(), t.queue.to_string());
    check("tier", e.tier.clone(), t.tier.to_string());
    check(
        "customer_known",
        e.customer_known.map(|b| b.to_string()),
        t.customer_known.to_string(),
    );
    check("sla.policy", e.sla_policy.clone(), t.sla.policy.to_string());
    check(
        "sla.first_response_due",
        e.first_response_due.map(|x| x.to_string()),
        t.sla.first_response_due.to_string(),
    );
    check(
        "sla.resolution_due",
        e.resolution_due.map(|x| x.to_string()),
        t.sla.resolution_due.to_string(),
    );
    if let Some(m) = e.min_score {
        if t.score < m {
            let _ = writeln!(out, "    score: expected >= {m}, got {}", t.score);
        }
    }
    if let Some(m) = e.max_score {
        if t.score > m {
            let _ = writeln!(out, "    score: expected <= {m}, got {}", t.score);
        }
    }
    for want in &e.reasons_include {
        if !t
            .reasons
            .iter()
            .any(|r| format!("{}: {}", r.factor, r.detail).contains(want.as_str()))
        {
            let _ = writeln!(out, "    reasons: expected one containing {want:?}");
        }
    }
    for unwanted in &e.reasons_exclude {
        if let Some(r) = t
            .reasons
            .iter()
            .find(|r| format!("{}: {}", r.factor, r.detail).contains(unwanted.as_str()))
        {
            let _ = writeln!(
                out,
                "    reasons: expected none containing {unwanted:?}, got \"{}: {}\"",
                r.factor, r.detail
            );
        }
    }
    if out.is_empty() {
        return None;
    }
    let _ = writeln!(out, "    score {} from:", t.score);
    for r in &t.reasons {
        let _ = writeln!(out, "      {:+4}  {}: {}", r.points, r.factor, r.detail);
    }
    Some(out)
}

/// Outcome of a case file.
pub struct TestReport {
    pub passed: usize,
    pub failed: Vec<(String, String)>,
}

/// Runs every case of a case file against compiled rules.
pub fn run_cases(rules: &rules::Rules, file: &CaseFile) -> TestReport {
    let customers: HashMap<String, Profile> = file
        .customers
        .iter()
        .map(|c| (c.customer_id.clone(), Profile::from_customer(c)))
        .collect();
    let mut report = TestReport {
        passed: 0,
        failed: vec![],
    };
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &file.cases {
        *names.entry(&case.name).or_default() += 1;
        match run_case(rules, &customers, file.now, case) {
            Ok(None) => report.passed += 1,
            Ok(Some(d)) => report.failed.push((case.name.clone(), d)),
            Err(e) => report
                .failed
                .push((case.name.clone(), format!("    {e}\n"))),
        }
    }
    for (name, n) in names {
        if n > 1 {
            report
                .failed
                .push((name.to_string(), format!("    case name used {n} times\n")));
        }
    }
    report
}

/// `triage test`.
pub fn test(rules_path: &Path, cases_path: &Path) -> Result<ExitCode, String> {
    let loaded = load_rules(rules_path)?;
    let text = std::fs::read_to_string(cases_path)
        .map_err(|e| format!("{}: {e}", cases_path.display()))?;
    let file: CaseFile = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| rules::diag::line_of(&text, s.start))
            .unwrap_or(0);
        format!("{}:{line}: {}", cases_path.display(), e.message().trim())
    })?;
    let report = run_cases(&loaded.rules, &file);
    for (name, d) in &report.failed {
        println!("FAIL {name}\n{d}");
    }
    println!(
        "{} passed, {} failed ({} cases, rules_version {})",
        report.passed,
        report.failed.len(),
        file.cases.len(),
        loaded.rules.version
    );
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
