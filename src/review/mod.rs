//! `triage replay` (and `triage report`): the policy-review commands' edge. Reads tickets,
//! customers and lifecycle history from files or topics, and hands them to
//! [`triage_review`], which decides, counts and renders without I/O.

pub mod topics;

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jiff::Timestamp;
use triage_review::replay::{replay_batch, Baseline, History, Labels, Replay, Replayer};

use crate::clock::{LifecycleEvent, Settings};
use crate::model::Profile;

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
    /// Tickets, one JSON object per line (ticket events, or triaged tickets with `--recorded`).
    #[arg(long, required_unless_present = "topic", conflicts_with = "topic")]
    pub tickets: Option<PathBuf>,
    /// Read tickets from these topics instead (comma-separated), between `--from` and `--to`.
    #[arg(long, value_delimiter = ',')]
    pub topic: Vec<String>,
    /// Bootstrap servers for the `--*topic` options.
    #[arg(long, env = "TRIAGE_BROKERS")]
    pub brokers: Option<String>,
    /// Records at or after this instant (RFC 3339; record timestamps); default: the beginning.
    #[arg(long)]
    pub from: Option<Timestamp>,
    /// Records before this instant; default: the end of the topics when the replay started.
    #[arg(long)]
    pub to: Option<Timestamp>,
    /// Customer records, one JSON object per line.
    #[arg(long, conflicts_with = "customers_topic")]
    pub customers: Option<PathBuf>,
    /// Read the customers from this (compacted) topic, to its end.
    #[arg(long)]
    pub customers_topic: Option<String>,
    /// Lifecycle events, one JSON object per line: projects which tickets would have met or
    /// breached their targets.
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
    /// Print the report as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML page with charts here.
    #[arg(long)]
    pub html: Option<PathBuf>,
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
            match LifecycleEvent::from_json(&rec) {
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

fn customers(a: &ReplayArgs) -> Result<HashMap<String, Profile>, String> {
    match (&a.customers, &a.customers_topic) {
        (Some(p), _) => crate::cli::read_customers(p),
        (None, Some(t)) => {
            let brokers = brokers(a)?;
            let mut out = HashMap::new();
            topics::read(
                brokers,
                std::slice::from_ref(t),
                None,
                None,
                &mut |_, key, value| match (key, value) {
                    (Some(k), None) => {
                        out.remove(&*String::from_utf8_lossy(k));
                    }
                    (_, Some(v)) => {
                        if let Ok(c) = triage_core::codec::decode_customer_json(v) {
                            out.insert(c.customer_id.clone(), Profile::from_customer(&c));
                        }
                    }
                    _ => {}
                },
            )?;
            Ok(out)
        }
        (None, None) => Ok(HashMap::new()),
    }
}

fn brokers(a: &ReplayArgs) -> Result<&str, String> {
    a.brokers
        .as_deref()
        .ok_or_else(|| "reading topics needs --brokers (or TRIAGE_BROKERS)".to_string())
}

fn lifecycle(a: &ReplayArgs) -> Result<Option<Lifecycle>, String> {
    let mut bad = 0usize;
    let mut first_bad = None;
    let mut on_bad = |n: usize, e: String| {
        bad += 1;
        first_bad.get_or_insert((n, e));
    };
    let l = match (&a.lifecycle, &a.lifecycle_topic) {
        (Some(p), _) => Lifecycle::collect(read_lines(p)?, &mut on_bad),
        (None, Some(t)) => {
            let mut recs = Vec::new();
            let mut n = 0;
            topics::read(
                brokers(a)?,
                std::slice::from_ref(t),
                None,
                None,
                &mut |_, _, v| {
                    n += 1;
                    if let Some(v) = v {
                        recs.push((n, v.to_vec()));
                    }
                },
            )?;
            Lifecycle::collect(recs, &mut on_bad)
        }
        (None, None) => return Ok(None),
    };
    if let Some((n, e)) = first_bad {
        eprintln!("lifecycle: {bad} record(s) are not lifecycle events and were ignored; the first, record {n}: {e}");
    }
    Ok(Some(l))
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
    let settings = match &a.watch_config {
        Some(p) => crate::watch::config::WatchConfig::load(p)
            .map_err(|e| e.to_string())?
            .settings(),
        None => Settings::default(),
    };
    let table = customers(a)?;
    let mut life = lifecycle(a)?;
    let as_of = a.as_of.or(life.as_ref().and_then(|l| l.last));
    if let (Some(l), Some(t)) = (&mut life, as_of) {
        l.cut(t);
    }
    let history_ctx = match (&life, as_of) {
        (Some(_), Some(t)) => Some((&settings, t)),
        _ => None,
    };
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let mut replayers: Vec<Replayer<'_>> = (0..threads)
        .map(|_| Replayer::new(&candidate.rules, baseline, history_ctx))
        .collect();
    let mut replay = Replay::new(
        Replay::levels_of(&candidate.rules, base_loaded.as_ref().map(|l| &l.rules)),
        a.samples,
    );
    let lookup = |id: &str| -> &[LifecycleEvent] { life.as_ref().map_or(&[], |l| l.of(id)) };
    let history: Option<&History<'_>> = history_ctx.map(|_| &lookup as &History<'_>);
    let mut batch: Vec<(usize, Vec<u8>)> = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<(usize, Vec<u8>)>, replay: &mut Replay| {
        replay_batch(&mut replayers, batch, &table, history, replay);
        batch.clear();
    };
    if let Some(p) = &a.tickets {
        for rec in read_lines(p)? {
            batch.push(rec);
            if batch.len() == BATCH {
                flush(&mut batch, &mut replay);
            }
        }
    } else {
        // Records are taken in (topic, partition, offset) order, so that the report does not
        // depend on how partitions interleaved on the wire.
        let mut pending = Vec::new();
        topics::read(brokers(a)?, &a.topic, a.from, a.to, &mut |pos, _, v| {
            if let Some(v) = v {
                pending.push((pos, v.to_vec()));
            }
        })?;
        pending.sort_by_key(|(pos, _)| *pos);
        for (n, (_, rec)) in pending.into_iter().enumerate() {
            let rec = (n + 1, rec);
            batch.push(rec);
            if batch.len() == BATCH {
                flush(&mut batch, &mut replay);
            }
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
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let text = if a.json {
        let mut s = serde_json::to_string_pretty(&report).expect("serializable");
        s.push('\n');
        s
    } else {
        triage_review::text::replay(&report)
    };
    out.write_all(text.as_bytes())
        .map_err(|e| format!("stdout: {e}"))?;
    if let Some(p) = &a.html {
        std::fs::write(p, triage_review::html::replay(&report))
            .map_err(|e| format!("{}: {e}", p.display()))?;
        if !a.json {
            writeln!(out, "wrote {}", p.display()).map_err(|e| format!("stdout: {e}"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
