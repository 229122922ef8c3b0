//! `triage replay` (and `triage report`): the policy-review commands' edge. Reads tickets,
//! customers and lifecycle history from files or topics, and hands them to
//! [`triage_review`], which decides, counts and renders without I/O.

pub mod topics;

use crate::edge::config::FileConfig as _;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jiff::Timestamp;
use triage_review::replay::{replay_batch, Baseline, History, Labels, Replay, Replayer};

use crate::clock::{LifecycleEvent, Settings};
use crate::customers::{apply, Applied, CustomerTable};

/// Where the records come from besides a file, the lifecycle history, and its end: what
/// `triage replay` and `triage report` share.
#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// Read the records from these topics instead of a file (comma-separated), between `--from`
    /// and `--to`.
    #[arg(long, value_delimiter = ',')]
    pub topic: Vec<String>,
    /// Bootstrap servers for the `--*topic` options.
    #[arg(long, env = "TRIAGE_BROKERS")]
    pub brokers: Option<String>,
    /// Records at or after this instant (RFC 3339; record timestamps); default: the beginning.
    #[arg(long)]
    pub from: Option<Timestamp>,
    /// Records before this instant; default: the end of the topics when the read started.
    #[arg(long)]
    pub to: Option<Timestamp>,
    /// Lifecycle events, one JSON object per line: what agents and customers did after triage
    /// (responses, waits, solves, priority and category changes, CSAT).
    #[arg(long, conflicts_with = "lifecycle_topic")]
    pub lifecycle: Option<PathBuf>,
    /// Read lifecycle events from this topic (`tickets.lifecycle`), to its end.
    #[arg(long)]
    pub lifecycle_topic: Option<String>,
    /// The end of the history: clocks still running then count as open unless past due.
    /// Default: the last lifecycle event.
    #[arg(long)]
    pub as_of: Option<Timestamp>,
    /// The SLA watcher's config (warning thresholds, which statuses pause which clock);
    /// default: the watcher's defaults.
    #[arg(long)]
    pub watch_config: Option<PathBuf>,
}

/// How a review is printed.
#[derive(clap::Args, Debug)]
pub struct OutputArgs {
    /// Print the report as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML page with charts here.
    #[arg(long)]
    pub html: Option<PathBuf>,
}

/// `triage replay`: a candidate rules file over recorded tickets, beside a baseline.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The candidate rules file.
    #[arg(long)]
    pub rules: PathBuf,
    /// The baseline rules file (what is live today).
    #[arg(
        long,
        conflicts_with = "recorded",
        required_unless_present = "recorded"
    )]
    pub baseline: Option<PathBuf>,
    /// Compare with what was actually decided: the `triage` object of each input record (the
    /// records of the priority topics, or a file of them).
    #[arg(long)]
    pub recorded: bool,
    /// Tickets, one JSON object per line (ticket events, or triaged tickets with `--recorded`);
    /// or `--topic`.
    #[arg(long, required_unless_present = "topic", conflicts_with = "topic")]
    pub tickets: Option<PathBuf>,
    #[command(flatten)]
    pub history: HistoryArgs,
    /// Customer records, one JSON object per line.
    #[arg(long, conflicts_with = "customers_topic")]
    pub customers: Option<PathBuf>,
    /// Read the customers from this (compacted) topic, to its end.
    #[arg(long)]
    pub customers_topic: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Sample tickets kept per priority move.
    #[arg(long, default_value_t = 3)]
    pub samples: usize,
    /// Rules listed in "changed most".
    #[arg(long, default_value_t = 20)]
    pub top_rules: usize,
    /// Worker threads (default: the machine's cores). The report does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

const BATCH: usize = 16_384;

/// Lifecycle events by ticket id, each ticket's in the order they happened (ties: input order).
pub struct Lifecycle {
    by_ticket: HashMap<String, Vec<LifecycleEvent>>,
    /// The latest event instant.
    pub last: Option<Timestamp>,
}

impl Lifecycle {
    /// Collects events; `bad` gets (record number, reason) for records that are not events.
    pub fn collect(
        records: impl IntoIterator<Item = (usize, Vec<u8>)>,
        bad: &mut dyn FnMut(usize, String),
    ) -> Lifecycle {
        let mut by_ticket: HashMap<String, Vec<LifecycleEvent>> = HashMap::new();
        let mut last: Option<Timestamp> = None;
        for (n, rec) in records {
            // A lifecycle event in the Avro format is a Confluent frame (magic byte 0).
            let decoded = if rec.first() == Some(&0) {
                crate::clock::avro::decode_lifecycle(&rec)
            } else {
                LifecycleEvent::from_json(&rec)
            };
            match decoded {
                Ok(e) => {
                    last = Some(last.map_or(e.at, |l| l.max(e.at)));
                    by_ticket.entry(e.ticket_id.clone()).or_default().push(e);
                }
                Err(e) => bad(n, e),
            }
        }
        for v in by_ticket.values_mut() {
            v.sort_by_key(|e| e.at);
        }
        Lifecycle { by_ticket, last }
    }

    /// Drops events after `as_of`.
    pub fn cut(&mut self, as_of: Timestamp) {
        for v in self.by_ticket.values_mut() {
            v.retain(|e| e.at <= as_of);
        }
    }

    pub fn of(&self, ticket_id: &str) -> &[LifecycleEvent] {
        self.by_ticket.get(ticket_id).map_or(&[], |v| v.as_slice())
    }

    pub fn tickets(&self) -> usize {
        self.by_ticket.len()
    }
}

/// A ticket's lifecycle events by id (none without a history).
fn events_of<'l>(life: Option<&'l Lifecycle>) -> impl Fn(&str) -> &'l [LifecycleEvent] + Sync + 'l {
    move |id| life.map_or(&[], |l| l.of(id))
}

/// Non-empty lines of a JSON-lines file, numbered from 1.
pub fn read_lines(path: &Path) -> Result<impl Iterator<Item = (usize, Vec<u8>)>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, f);
    let mut n = 0;
    let shown = path.display().to_string();
    Ok(std::iter::from_fn(move || loop {
        let mut line = Vec::new();
        match r.read_until(b'\n', &mut line) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => {
                eprintln!("{shown}: {e}");
                return None;
            }
        }
        n += 1;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if !line.iter().all(u8::is_ascii_whitespace) {
            return Some((n, line));
        }
    }))
}

fn load_rules(path: &Path) -> Result<crate::rules::Loaded, String> {
    crate::cli::load_rules(path)
}

/// The customer table, as the service keeps it: seeded from a JSON-lines file
/// ([`crate::service::customers::seed`]), or loaded from the customers topic to its end with
/// the service's own upsert and tombstone handling ([`crate::customers::apply`]; JSON records,
/// or Avro frames of the bundled customer schema).
fn customers(a: &ReplayArgs) -> Result<CustomerTable, String> {
    let table = CustomerTable::default();
    match (&a.customers, &a.customers_topic) {
        (Some(p), _) => {
            crate::service::customers::seed(&table, p)?;
        }
        (None, Some(t)) => {
            let avro = crate::codec::avro::AvroCodec::bundled();
            let decode = |v: &[u8]| {
                if v.first() == Some(&0) {
                    avro.decode_customer(v).map_err(|e| e.to_string())
                } else {
                    crate::codec::decode_customer_json(v)
                }
            };
            let (mut bad, mut first_bad) = (0usize, None);
            topics::read(
                brokers(a)?,
                std::slice::from_ref(t),
                None,
                None,
                &mut |pos, key, value| {
                    if let Applied::Error(e) = apply(&table, decode, key, value) {
                        bad += 1;
                        first_bad.get_or_insert((pos.partition, pos.offset, e));
                    }
                },
            )?;
            if let Some((p, o, e)) = first_bad {
                eprintln!("customers: {bad} record(s) could not be read and were skipped; the first, partition {p} offset {o}: {e}");
            }
        }
        (None, None) => {}
    }
    Ok(table)
}

fn brokers(a: &ReplayArgs) -> Result<&str, String> {
    a.history
        .brokers
        .as_deref()
        .ok_or_else(|| "reading topics needs --brokers (or TRIAGE_BROKERS)".to_string())
}

/// A triaged ticket in the Avro format (a Confluent frame, read with the bundled schema) as the
/// JSON the JSON format publishes; any other record as it is (JSON, or a frame that then fails
/// as not JSON, with the reason).
fn as_json((n, rec): (usize, Vec<u8>)) -> (usize, Vec<u8>) {
    if rec.first() == Some(&0) {
        if let Ok(json) = crate::clock::avro::triaged_json(&rec) {
            return (n, json);
        }
    }
    (n, rec)
}

/// Numbered records (from 1).
type Records = Box<dyn Iterator<Item = (usize, Vec<u8>)>>;

/// Records of a JSON-lines file, or of topics (in (topic, partition, offset) order, so that
/// what is built from them does not depend on how partitions interleaved on the wire).
fn records(
    file: Option<&Path>,
    topics: &[String],
    brokers: Option<&str>,
    range: (Option<Timestamp>, Option<Timestamp>),
) -> Result<Records, String> {
    if let Some(p) = file {
        return Ok(Box::new(read_lines(p)?));
    }
    let brokers =
        brokers.ok_or_else(|| "reading topics needs --brokers (or TRIAGE_BROKERS)".to_string())?;
    let mut pending = Vec::new();
    topics::read(brokers, topics, range.0, range.1, &mut |pos, _, v| {
        if let Some(v) = v {
            pending.push((pos, v.to_vec()));
        }
    })?;
    pending.sort_by_key(|(pos, _)| *pos);
    Ok(Box::new(
        pending
            .into_iter()
            .enumerate()
            .map(|(n, (_, rec))| (n + 1, rec)),
    ))
}

/// Lifecycle history from a file or a topic (read to its end); `None` without either.
fn lifecycle(
    file: Option<&Path>,
    topic: Option<&String>,
    brokers: Option<&str>,
) -> Result<Option<Lifecycle>, String> {
    if file.is_none() && topic.is_none() {
        return Ok(None);
    }
    let mut bad = 0usize;
    let mut first_bad = None;
    let l = Lifecycle::collect(
        records(
            file,
            topic.map(std::slice::from_ref).unwrap_or(&[]),
            brokers,
            (None, None),
        )?,
        &mut |n, e| {
            bad += 1;
            first_bad.get_or_insert((n, e));
        },
    );
    if let Some((n, e)) = first_bad {
        eprintln!("lifecycle: {bad} record(s) are not lifecycle events and were ignored; the first, record {n}: {e}");
    }
    Ok(Some(l))
}

/// The clock settings, the lifecycle history (cut at its end) and that end.
fn load_history(
    h: &HistoryArgs,
) -> Result<(Settings, Option<Lifecycle>, Option<Timestamp>), String> {
    let settings = settings(h.watch_config.as_deref())?;
    let mut life = lifecycle(
        h.lifecycle.as_deref(),
        h.lifecycle_topic.as_ref(),
        h.brokers.as_deref(),
    )?;
    let as_of = h.as_of.or(life.as_ref().and_then(|l| l.last));
    if let (Some(l), Some(t)) = (&mut life, as_of) {
        l.cut(t);
    }
    Ok((settings, life, as_of))
}

/// Prints the summary or the JSON, and writes the page when asked.
fn emit<R: serde::Serialize>(
    o: &OutputArgs,
    report: &R,
    text: fn(&R) -> String,
    page: fn(&R) -> String,
) -> Result<(), String> {
    let out = if o.json {
        to_json(report)
    } else {
        text(report)
    };
    output(&out, o.html.as_deref().map(|p| (p, page(report))), o.json)
}

fn threads(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

fn settings(watch_config: Option<&Path>) -> Result<Settings, String> {
    match watch_config {
        Some(p) => Ok(crate::watch::config::WatchConfig::load(p)
            .map_err(|e| e.to_string())?
            .settings()),
        None => Ok(Settings::default()),
    }
}

/// Prints `text` (the summary or the JSON) and writes the HTML page when asked.
fn output(text: &str, html: Option<(&Path, String)>, json: bool) -> Result<(), String> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())
        .map_err(|e| format!("stdout: {e}"))?;
    if let Some((p, page)) = html {
        std::fs::write(p, page).map_err(|e| format!("{}: {e}", p.display()))?;
        if !json {
            writeln!(out, "wrote {}", p.display()).map_err(|e| format!("stdout: {e}"))?;
        }
    }
    Ok(())
}

fn to_json(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("serializable");
    s.push('\n');
    s
}

/// Runs `triage replay`.
pub fn main_replay(a: &ReplayArgs) -> Result<ExitCode, String> {
    let candidate = load_rules(&a.rules)?;
    let base_loaded = a.baseline.as_deref().map(load_rules).transpose()?;
    let baseline = match &base_loaded {
        Some(l) => Baseline::Rules(&l.rules),
        None => Baseline::Recorded,
    };
    let labels = Labels {
        candidate: format!("{} ({})", a.rules.display(), candidate.rules.version),
        baseline: match (&a.baseline, &base_loaded) {
            (Some(p), Some(l)) => format!("{} ({})", p.display(), l.rules.version),
            _ => "the recorded decisions".to_string(),
        },
    };
    let table = customers(a)?;
    let (settings, life, as_of) = load_history(&a.history)?;
    let history_ctx = match (&life, as_of) {
        (Some(_), Some(t)) => Some((&settings, t)),
        _ => None,
    };
    let threads = threads(a.threads);
    let mut replayers: Vec<Replayer<'_>> = (0..threads)
        .map(|_| Replayer::new(&candidate.rules, baseline, history_ctx))
        .collect();
    let mut replay = Replay::new(
        Replay::levels_of(&candidate.rules, base_loaded.as_ref().map(|l| &l.rules)),
        a.samples,
    );
    let lookup = events_of(life.as_ref());
    let history: Option<&History<'_>> = history_ctx.map(|_| &lookup as &History<'_>);
    let mut batch: Vec<(usize, Vec<u8>)> = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<(usize, Vec<u8>)>, replay: &mut Replay| {
        replay_batch(&mut replayers, batch, &table, history, replay);
        batch.clear();
    };
    let h = &a.history;
    for rec in records(
        a.tickets.as_deref(),
        &h.topic,
        h.brokers.as_deref(),
        (h.from, h.to),
    )?
    .map(as_json)
    {
        batch.push(rec);
        if batch.len() == BATCH {
            flush(&mut batch, &mut replay);
        }
    }
    flush(&mut batch, &mut replay);
    if let Some(l) = &life {
        replay.note(format!(
            "lifecycle history: {} tickets, as of {}",
            l.tickets(),
            as_of.map_or("-".into(), |t| t.to_string())
        ));
    }
    let report = replay.finish(labels, a.top_rules);
    emit(
        &a.output,
        &report,
        triage_review::text::replay,
        triage_review::html::replay,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `triage report`: the continuous-improvement review of a period.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// The rules in use (calendars and targets for the clocks; rule names for "never fired").
    #[arg(long)]
    pub rules: PathBuf,
    /// Triaged tickets, one JSON object per line (what the priority topics hold); or `--topic`.
    #[arg(long, required_unless_present = "topic", conflicts_with = "topic")]
    pub triaged: Option<PathBuf>,
    #[command(flatten)]
    pub history: HistoryArgs,
    /// The SLA watcher's signals, one JSON object per line: warnings, breaches and met as
    /// signalled (instead of as projected from the lifecycle).
    #[arg(long, conflicts_with = "signals_topic")]
    pub signals: Option<PathBuf>,
    /// Read the signals from this topic (`tickets.sla`), to its end.
    #[arg(long)]
    pub signals_topic: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Entries per top list (phrases, customers, rules).
    #[arg(long, default_value_t = 15)]
    pub top: usize,
}

/// Runs `triage report`.
pub fn main_report(a: &ReportArgs) -> Result<ExitCode, String> {
    let rules = load_rules(&a.rules)?;
    let (settings, life, as_of) = load_history(&a.history)?;
    let history = match (&life, as_of) {
        (Some(_), Some(t)) => Some((&settings, t)),
        _ => None,
    };
    let mut b = triage_review::report::ReportBuilder::new(&rules.rules, history);
    let h = &a.history;
    let history = events_of(life.as_ref());
    for (n, rec) in records(
        a.triaged.as_deref(),
        &h.topic,
        h.brokers.as_deref(),
        (h.from, h.to),
    )?
    .map(as_json)
    {
        if let Err(e) = b.add(&rec, &history) {
            b.skip(format!("record {n}: {e}"));
        }
    }
    if a.signals.is_some() || a.signals_topic.is_some() {
        let mut bad = 0;
        for (_, rec) in records(
            a.signals.as_deref(),
            a.signals_topic.as_slice(),
            h.brokers.as_deref(),
            (None, None),
        )? {
            match serde_json::from_slice::<crate::clock::SignalRecord>(&rec) {
                Ok(s) => b.add_signal(s),
                Err(_) => bad += 1,
            }
        }
        if bad > 0 {
            b.note(format!(
                "{bad} signal record(s) were not SLA signals and were ignored"
            ));
        }
    }
    if let Some(l) = &life {
        b.note(format!(
            "lifecycle history: {} tickets, as of {}",
            l.tickets(),
            as_of.map_or("-".into(), |t| t.to_string())
        ));
    }
    let report = b.finish(a.top);
    emit(
        &a.output,
        &report,
        triage_review::text::report,
        triage_review::html::report,
    )?;
    Ok(ExitCode::SUCCESS)
}
