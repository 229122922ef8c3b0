//! The command line as a user meets it: `triage score` on input with bad lines,
//! `triage validate` on rules files with policy mistakes, `triage test` with a
//! failing case. Every test asserts on what is printed (line numbers, fields,
//! messages), not only on the exit status.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const RULES: &str = "config/rules.toml";
const NOW: &str = "2026-11-24T15:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `triage` in `dir` with `stdin` as standard input.
fn triage_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the triage binary");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn triage(args: &[&str], stdin: &[u8]) -> Output {
    triage_in(&root(), args, stdin)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn read(rel: &str) -> String {
    fs::read_to_string(root().join(rel)).unwrap()
}

// ------------------------------------------------------------------ triage score

/// What each line of examples/tickets-bad.jsonl must be reported as.
const BAD_LINES: [(&str, &str); 7] = [
    ("decode_error", "not valid JSON"),
    ("schema_error", "required field `ticket_id` is missing"),
    // The field and the types, never the value (no ticket text in errors).
    (
        "schema_error",
        "`ticket_id`: invalid type: integer, expected a string",
    ),
    ("invalid_field", "`created_at` is not an RFC 3339 timestamp"),
    (
        "invalid_field",
        "`affected_users` must be a whole number >= 0, got -12",
    ),
    (
        "invalid_field",
        "`reported_priority` must be one of low, normal, high, urgent; got 4 bytes",
    ),
    ("invalid_field", "`ticket_id` is empty"),
];

/// Lines that once stopped `triage score` (a JSON array in field order made
/// the encoder panic; a line that is not UTF-8 ended the run): each is that
/// line's error and the run goes on.
#[test]
fn score_survives_arrays_and_bytes_that_are_not_utf8() {
    let good = r#"{"ticket_id":"T-1","customer_id":"C-1","created_at":"2026-11-24T10:00:00Z","subject":"hello"}"#;
    let mut stdin: Vec<u8> = Vec::new();
    stdin.extend_from_slice(br#"["T-1","C-1","2026-11-24T10:00:00Z","sub}ject"]"#);
    stdin.push(b'\n');
    stdin.extend_from_slice(b"{\"ticket_id\":\"T-\xff\"}\n");
    stdin.extend_from_slice(good.as_bytes());
    stdin.push(b'\n');
    stdin.extend_from_slice(b"\"just a string\"\n");
    stdin.extend_from_slice(good.as_bytes());
    stdin.extend_from_slice(b"\r\n");
    let out = triage(&["score", "--rules", RULES, "--now", NOW], &stdin);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    let errs: Vec<&str> = stderr.lines().collect();
    assert!(errs[0].starts_with("line 1: schema_error: "), "{stderr}");
    assert!(errs[1].starts_with("line 2: decode_error: "), "{stderr}");
    assert!(errs[2].starts_with("line 4: schema_error: "), "{stderr}");
    assert!(!stderr.contains("sub}ject") && !stderr.contains("just a string"));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).expect("output parses");
        assert_eq!(v["ticket_id"], "T-1");
        assert!(v["triage"]["priority"].is_string());
    }
}

#[test]
fn score_reports_each_bad_line_and_triages_the_rest() {
    let good: Vec<String> = read("examples/tickets.jsonl")
        .lines()
        .take(4)
        .map(String::from)
        .collect();
    let bad: Vec<String> = read("examples/tickets-bad.jsonl")
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(bad.len(), BAD_LINES.len(), "one bad line per kind");

    // good, bad, bad, good, bad, (blank), bad, good, bad, bad, bad, good
    let mut input: Vec<String> = vec![];
    let mut expect_bad: Vec<(usize, usize)> = vec![]; // (line number, kind)
    let mut expect_good: Vec<String> = vec![];
    let mut push_good = |input: &mut Vec<String>, i: usize| {
        input.push(good[i].clone());
        let v: Value = serde_json::from_str(&good[i]).unwrap();
        expect_good.push(v["ticket_id"].as_str().unwrap().to_string());
    };
    let mut push_bad = |input: &mut Vec<String>, k: usize| {
        input.push(bad[k].clone());
        expect_bad.push((input.len(), k));
    };
    push_good(&mut input, 0);
    push_bad(&mut input, 0);
    push_bad(&mut input, 1);
    push_good(&mut input, 1);
    push_bad(&mut input, 2);
    input.push(String::new()); // a blank line is skipped but still counted
    push_bad(&mut input, 3);
    push_good(&mut input, 2);
    push_bad(&mut input, 4);
    push_bad(&mut input, 5);
    push_bad(&mut input, 6);
    push_good(&mut input, 3);
    let stdin = input.join("\n") + "\n";

    let out = triage(
        &[
            "score",
            "--rules",
            RULES,
            "--customers",
            "examples/customers.jsonl",
            "--now",
            NOW,
        ],
        stdin.as_bytes(),
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "exit status; stderr:\n{stderr}");

    // Every bad line: `line N: <reason>: <detail>` with the right number.
    let err_lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        err_lines.len(),
        BAD_LINES.len() + 1,
        "one line per bad input plus a summary:\n{stderr}"
    );
    for (i, &(n, k)) in expect_bad.iter().enumerate() {
        let (reason, detail) = BAD_LINES[k];
        let line = err_lines[i];
        let prefix = format!("line {n}: {reason}: ");
        assert!(
            line.starts_with(&prefix) && line.contains(detail),
            "bad line {n} (kind {k}): expected {prefix:?}…{detail:?}, got {line:?}"
        );
    }
    assert_eq!(
        err_lines.last().copied(),
        Some("triage score: 4 triaged, 7 failed")
    );

    // The good lines are on stdout, triaged, in order.
    let ids: Vec<String> = stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("stdout is JSON lines");
            assert!(v["triage"]["priority"].is_string(), "not triaged: {l}");
            v["ticket_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids, expect_good);
}

#[test]
fn score_with_only_good_lines_exits_zero() {
    let input = read("examples/tickets.jsonl");
    let out = triage(&["score", "--rules", RULES, "--now", NOW], input.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), input.lines().count());
    // Without --customers every customer is unknown: the default segment.
    for l in stdout.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["triage"]["customer_known"], false, "{l}");
        assert_eq!(v["triage"]["segment"]["support_plan"], "basic", "{l}");
    }
}

// ------------------------------------------------------------------ triage validate

/// A small, valid rules file. Each broken variant below changes one thing.
const BASE: &str = r#"version = "cli-test"

[[levels]]
name = "P1"
min_score = 50
topic = "tickets.p1"

[[levels]]
name = "P2"
min_score = 20
topic = "tickets.p2"

[[levels]]
name = "P3"
topic = "tickets.p3"

[[categories]]
name = "outage"
points = 30
phrases = ["down", "outage"]

[[categories]]
name = "bug"
points = 10
phrases = ["error", "crash"]

[[overrides]]
name = "internal tests"
when = { tags_any = ["internal-test"] }
set = "P3"

[sla]
default_policy = "standard"

[sla.policies.standard]
calendar = "office"
targets.P1 = { first_response = "1h", resolution = "8h" }
targets.P2 = { first_response = "4h", resolution = "2d" }
targets.P3 = { first_response = "8h", resolution = "5d" }

[sla.calendars.office]
kind = "business_hours"
timezone = "America/New_York"
hours.mon = ["09:00-17:00"]
hours.fri = ["09:00-17:00"]
"#;

/// 1-based number of the first line of `src` containing `marker`.
fn line_of(src: &str, marker: &str) -> usize {
    src.lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("marker {marker:?} not in:\n{src}"))
        + 1
}

fn replace_once(src: &str, from: &str, to: &str) -> String {
    assert_eq!(src.matches(from).count(), 1, "{from:?} must occur once");
    src.replacen(from, to, 1)
}

fn validate(dir: &Path, name: &str, src: &str) -> (Option<i32>, String) {
    fs::write(dir.join(name), src).unwrap();
    let out = triage_in(dir, &["validate", name], b"");
    (out.status.code(), text(&out.stdout) + &text(&out.stderr))
}

#[test]
fn validate_accepts_the_base_file() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = validate(dir.path(), "base.toml", BASE);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with("base.toml: ok (3 levels, 3 categories, 1 overrides, 1 SLA policies; 0 warning(s); rules_version cli-test+"),
        "{out}"
    );
}

struct Broken {
    file: &'static str,
    src: String,
    /// The line the diagnostic must point at: the first line containing this.
    marker: &'static str,
    field: &'static str,
    message: &'static str,
}

/// `src` with negators, which negated phrases need.
fn with_negators(src: &str) -> String {
    format!("{src}\n[sentiment]\nnegators = [\"not\", \"never\"]\n")
}

fn broken_files() -> Vec<Broken> {
    vec![
        Broken {
            file: "thresholds.toml",
            src: replace_once(BASE, "min_score = 20", "min_score = 50"),
            marker: "min_score = 50\ntopic = \"tickets.p2\"",
            field: "levels[1].min_score",
            message: "thresholds must decrease strictly: \"P2\" has min_score 50, not below 50 of the level before",
        },
        Broken {
            file: "overlap.toml",
            // The same phrase (case and spaces do not matter) under two categories.
            src: replace_once(BASE, r#"phrases = ["error", "crash"]"#, r#"phrases = ["error", " Down "]"#),
            marker: r#"phrases = ["error", " Down "]"#,
            field: "categories[1].phrases[1]",
            message: "phrase \"down\" is listed under both \"outage\" and \"bug\": overlapping categories make triage ambiguous",
        },
        Broken {
            file: "negated_overlap.toml",
            // A negated phrase under two categories (by stems: "worked" is "work").
            src: with_negators(
                &replace_once(
                    BASE,
                    r#"phrases = ["error", "crash"]"#,
                    "phrases = [\"error\", \"crash\"]\nnegated_phrases = [\"worked\"]",
                )
                .replacen(
                    r#"phrases = ["down", "outage"]"#,
                    "phrases = [\"down\", \"outage\"]\nnegated_phrases = [\"work\"]",
                    1,
                ),
            ),
            marker: "negated_phrases = [\"worked\"]",
            field: "categories[1].negated_phrases[0]",
            message: "negated phrase \"worked\" (stems \"work\") is listed under both \"outage\" and \"bug\": overlapping categories make triage ambiguous",
        },
        Broken {
            file: "negated_plain.toml",
            // A negated phrase with the stems of another category's plain phrase: "not
            // down" would count for both.
            src: with_negators(&replace_once(
                BASE,
                r#"phrases = ["error", "crash"]"#,
                "phrases = [\"error\", \"crash\"]\nnegated_phrases = [\"Down\"]",
            )),
            marker: "negated_phrases = [\"Down\"]",
            field: "categories[1].negated_phrases[0]",
            message: "negated phrase \"down\" is listed under both \"outage\" (as a phrase) and \"bug\": overlapping categories make triage ambiguous",
        },
        Broken {
            file: "negated_negator.toml",
            // A negated phrase that holds a negator would need a second one before it.
            src: with_negators(&replace_once(
                BASE,
                r#"phrases = ["error", "crash"]"#,
                "phrases = [\"error\", \"crash\"]\nnegated_phrases = [\"work\", \"Not  authorized\"]",
            )),
            marker: "negated_phrases = [\"work\", \"Not  authorized\"]",
            field: "categories[1].negated_phrases[1]",
            message: "negated phrase \"not authorized\" holds the negator \"not\": write it without (it counts only after a negator)",
        },
        Broken {
            file: "disowned_negated.toml",
            // A disowned phrase with the stems of another category's negated phrase.
            src: with_negators(
                &replace_once(
                    BASE,
                    r#"phrases = ["error", "crash"]"#,
                    "phrases = [\"error\", \"crash\"]\nnegated_phrases = [\"work\"]",
                )
                .replacen(
                    r#"phrases = ["down", "outage"]"#,
                    "phrases = [\"down\", \"outage\"]\ndisowned_phrases = [\"worked\"]",
                    1,
                ),
            ),
            marker: "negated_phrases = [\"work\"]",
            field: "categories[1].negated_phrases[0]",
            message: "negated phrase \"work\" is listed under both \"outage\" (as a disowned action) and \"bug\": overlapping categories make triage ambiguous",
        },
        Broken {
            file: "shadowed.toml",
            src: format!(
                "{BASE}\n[[overrides]]\nname = \"internal outage drills\"\nwhen = {{ tags_any = [\"internal-test\"], category = \"outage\" }}\nfloor = \"P1\"\n"
            ),
            marker: "category = \"outage\" }",
            field: "overrides[1].when",
            message: "override \"internal outage drills\" can never fire: the earlier override \"internal tests\" sets the level for every ticket it matches",
        },
        Broken {
            file: "sla_order.toml",
            src: replace_once(BASE, r#"targets.P1 = { first_response = "1h""#, r#"targets.P1 = { first_response = "6h""#),
            marker: "targets.P1 =",
            field: "sla.policies.standard.targets.P1.first_response",
            message: "the more urgent level \"P1\" has a longer first_response target (6h) than \"P2\" (4h)",
        },
        Broken {
            file: "closed.toml",
            src: BASE.replace("hours.mon = [\"09:00-17:00\"]\n", "").replace("hours.fri = [\"09:00-17:00\"]\n", ""),
            marker: "[sla.calendars.office]",
            field: "sla.calendars.office.hours",
            message: "a \"business_hours\" calendar needs at least one open interval",
        },
        Broken {
            file: "question.toml",
            src: format!("{BASE}\n[semantic]\nquestion_category = \"how-to\"\n"),
            marker: "question_category = ",
            field: "semantic.question_category",
            message: "no category is named \"how-to\"",
        },
        Broken {
            file: "wants.toml",
            // `wants` are single words: a phrase there would never match.
            src: format!(
                "{BASE}\n[semantic]\nwants = [\"please\", \"would like\"]\nwantless_excludes = [\"bug\"]\n"
            ),
            marker: "wants = ",
            field: "semantic.wants[1]",
            message: "must be one word of letters",
        },
        Broken {
            file: "wantless.toml",
            src: format!("{BASE}\n[semantic]\nwantless_excludes = [\"feature-request\"]\n"),
            marker: "wantless_excludes = ",
            field: "semantic.wantless_excludes[0]",
            message: "no category is named \"feature-request\"",
        },
        Broken {
            file: "wish.toml",
            src: format!("{BASE}\n[semantic]\nwish_category = \"wishlist\"\n"),
            marker: "wish_category = ",
            field: "semantic.wish_category",
            message: "no category is named \"wishlist\"",
        },
        Broken {
            file: "wishbonus.toml",
            src: format!("{BASE}\n[semantic]\nwish_bonus = 1.5\n"),
            marker: "wish_bonus = ",
            field: "semantic.wish_bonus",
            message: "must be between 0 and 1",
        },
        Broken {
            file: "wishwords.toml",
            // A word of benefit is one word: "so useful" would never match.
            src: format!("{BASE}\n[semantic]\nwish_words = [\"useful\", \"so useful\"]\n"),
            marker: "wish_words = ",
            field: "semantic.wish_words[1]",
            message: "must be one word of letters",
        },
        Broken {
            file: "unmet.toml",
            src: format!(
                "{BASE}\n[severity]\ndefault = \"medium\"\n[[severity.levels]]\nname = \"high\"\npoints = 12\n[[severity.levels]]\nname = \"medium\"\npoints = 3\n[severity.stated_impact]\nlevel = \"high\"\nverbs = [\"affect\"]\nscopes = [\"team\"]\nunmet_category = \"downtime\"\n"
            ),
            marker: "unmet_category = ",
            field: "severity.stated_impact.unmet_category",
            message: "no category is named \"downtime\"",
        },
        Broken {
            file: "deadline.toml",
            src: format!(
                "{BASE}\n[severity]\ndefault = \"medium\"\n[[severity.levels]]\nname = \"high\"\npoints = 12\n[[severity.levels]]\nname = \"medium\"\npoints = 3\n[severity.deadline]\nlevel = \"high\"\ntimes = [\"today\"]\nmarkers = [\"due\"]\nprepositions = [\"by the\"]\n"
            ),
            marker: "prepositions = ",
            field: "severity.deadline.prepositions[0]",
            message: "\"by the\": one word each",
        },
        Broken {
            file: "befalls.toml",
            src: replace_once(BASE, "phrases = [\"down\", \"outage\"]\n", "phrases = [\"down\", \"outage\"]\nbefalls = [\"bugs\"]\n"),
            marker: "befalls = ",
            field: "categories[0].befalls[0]",
            message: "no category is named \"bugs\"",
        },
        Broken {
            file: "befalls_self.toml",
            src: replace_once(BASE, "phrases = [\"down\", \"outage\"]\n", "phrases = [\"down\", \"outage\"]\nbefalls = [\"bug\", \"outage\"]\n"),
            marker: "befalls = ",
            field: "categories[0].befalls[1]",
            message: "a category cannot take its own phrases",
        },
        Broken {
            file: "praise.toml",
            src: format!("{BASE}\n[semantic]\npraise_excludes = [\"bugs\"]\n"),
            marker: "praise_excludes = ",
            field: "semantic.praise_excludes[0]",
            message: "no category is named \"bugs\"",
        },
        Broken {
            file: "timezone.toml",
            src: replace_once(BASE, "America/New_York", "Europe/Atlantis"),
            marker: "Europe/Atlantis",
            field: "sla.calendars.office.timezone",
            message: "unknown IANA time zone \"Europe/Atlantis\"",
        },
        Broken {
            file: "topic.toml",
            src: replace_once(BASE, "topic = \"tickets.p2\"\n", ""),
            marker: "name = \"P2\"",
            field: "levels[1].topic",
            message: "level \"P2\" has no output topic",
        },
        Broken {
            file: "typo.toml",
            src: replace_once(BASE, "min_score = 20", "min_scor = 20"),
            marker: "min_scor = 20",
            field: "levels[1].min_scor",
            message: "unknown field `min_scor`, expected one of `name`, `min_score`, `topic`, `description`",
        },
    ]
}

#[test]
fn validate_reports_each_policy_mistake_at_its_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = vec![];
    for b in broken_files() {
        let (code, out) = validate(dir.path(), b.file, &b.src);
        let line = match b.marker {
            // The level table that lacks the key: its header line.
            m if m.starts_with("name = ") => line_of(&b.src, m) - 1,
            // Multi-line marker: the line where it starts.
            m if m.contains('\n') => {
                let at = b.src.find(m).unwrap();
                b.src[..at].matches('\n').count() + 1
            }
            m => line_of(&b.src, m),
        };
        let want = format!("{}:{line}: {}: error: {}", b.file, b.field, b.message);
        let errors = out.lines().filter(|l| l.contains(": error: ")).count();
        let ok = code == Some(1)
            && out.lines().any(|l| l.starts_with(&want))
            && errors == 1
            && out.contains(&format!("{}: 1 error(s), 0 warning(s)", b.file));
        if !ok {
            failures.push(format!(
                "{}: expected exit 1 and a line starting\n  {want}\ngot exit {code:?}:\n{out}",
                b.file
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn validate_prints_warnings_but_accepts_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!(
        "{BASE}\n[[categories]]\nname = \"billing\"\npoints = 5\n\n[[overrides]]\nname = \"bugs never above P1\"\nwhen = {{ category = \"bug\" }}\nceiling = \"P1\"\n"
    );
    let (code, out) = validate(dir.path(), "warn.toml", &src);
    assert_eq!(code, Some(0), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "two warnings and the summary:\n{out}");
    assert_eq!(
        lines[0],
        format!(
            "warn.toml:{}: categories[2].phrases: warning: category \"billing\" has no phrases, so it is never detected",
            line_of(&src, "name = \"billing\"") - 1
        )
    );
    assert_eq!(
        lines[1],
        format!(
            "warn.toml:{}: overrides[1].ceiling: warning: a ceiling at the most urgent level \"P1\" never changes anything",
            line_of(&src, "ceiling = \"P1\"")
        )
    );
    assert!(
        lines[2].starts_with(
            "warn.toml: ok (3 levels, 4 categories, 2 overrides, 1 SLA policies; 2 warning(s);"
        ),
        "{out}"
    );
    assert!(!out.contains(": error: "), "{out}");
}

#[test]
fn validate_reports_errors_and_warnings_apart() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!(
        "{}\n[[categories]]\nname = \"billing\"\npoints = 5\n",
        replace_once(BASE, "America/New_York", "Europe/Atlantis")
    );
    let (code, out) = validate(dir.path(), "both.toml", &src);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(": sla.calendars.office.timezone: error: unknown IANA time zone"),
        "{out}"
    );
    assert!(
        out.contains(": categories[2].phrases: warning: category \"billing\" has no phrases"),
        "{out}"
    );
    assert!(out.contains("both.toml: 1 error(s), 1 warning(s)"), "{out}");
}

// ------------------------------------------------------------------ triage test

const CASES: &str = r#"now = "2026-11-24T15:00:00Z"

[[cases]]
name = "billing question"
[cases.ticket]
ticket_id = "CLI-1"
customer_id = "C-NOBODY"
created_at = "2026-11-24T14:30:00Z"
subject = "Invoice for October"
[cases.expect]
category = "billing"
queue = "billing"
priority = "P3"
customer_known = false

[[cases]]
name = "wrong expectations"
[cases.ticket]
ticket_id = "CLI-2"
customer_id = "C-NOBODY"
created_at = "2026-11-24T14:30:00Z"
subject = "Invoice for October"
[cases.expect]
priority = "P1"
queue = "technical"
sla_policy = "premium"
min_score = 20
reasons_include = ["condition: production environment"]
"#;

#[test]
fn test_command_prints_a_readable_diff_for_a_failing_case() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("cases.toml"), CASES).unwrap();
    let rules = root().join(RULES);
    let out = triage_in(
        dir.path(),
        &["test", rules.to_str().unwrap(), "cases.toml"],
        b"",
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(!stdout.contains("FAIL billing question"), "{stdout}");
    // Billing 10 + default severity medium 3 = 13 for an unknown customer
    // (P3 by the floor for a clear billing request).
    let expected = [
        "FAIL wrong expectations",
        "    priority: expected P1, got P3",
        "    queue: expected technical, got billing",
        "    sla.policy: expected premium, got basic",
        "    score: expected >= 20, got 13",
        "    reasons: expected one containing \"condition: production environment\"",
        "    score 13 from:",
        "        +0  customer: customer C-NOBODY not in the table: default segment",
        "       +10  category: billing (phrase \"invoice\"",
        "        +3  severity: medium (default; no severity phrase found)",
    ];
    let mut at = 0;
    for want in expected {
        match stdout[at..].find(want) {
            Some(i) => at += i + want.len(),
            None => panic!("expected, in this order, {want:?} in:\n{stdout}"),
        }
    }
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("1 passed, 1 failed (2 cases, rules_version "),
        "{last}"
    );
}

#[test]
fn test_command_rejects_a_mistyped_case_file_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = CASES.replace("queue = \"technical\"", "queeu = \"technical\"");
    fs::write(dir.path().join("cases.toml"), &cases).unwrap();
    let rules = root().join(RULES);
    let out = triage_in(
        dir.path(),
        &["test", rules.to_str().unwrap(), "cases.toml"],
        b"",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let line = line_of(&cases, "queeu = ");
    assert!(
        stderr.starts_with(&format!("triage: cases.toml:{line}: unknown field `queeu`")),
        "{stderr}"
    );
}
