//! The `triage` command line: a thin layer over the library. It parses
//! arguments, sets up logging and calls into `triage::…`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "triage",
    version,
    about = "Support-ticket triage: enrich, categorize, score, stamp SLA deadlines, route — offline or on Kafka."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Triage JSON lines from stdin to stdout with a rules file.
    Score(ScoreArgs),
    /// Check a rules file: syntax and policy mistakes.
    Validate(ValidateArgs),
    /// Run rule unit tests (expected priority, category, queue, tier, SLA due).
    Test(TestArgs),
    /// Train a text classifier on labelled JSON lines.
    Train(triage_lab::classifier::cli::TrainArgs),
    /// Evaluate a trained classifier on held-out JSON lines.
    Eval(triage_lab::classifier::cli::EvalArgs),
    /// Measure the rules' category, severity or sentiment detection against a labelled file.
    Quality(triage_lab::quality::QualityArgs),
    /// Generate synthetic tickets or customers (benchmarks, demos).
    Gen(triage_lab::gen::GenArgs),
    /// Run the Kafka service until SIGTERM/SIGINT.
    Run(triage::service::RunArgs),
    /// Run the service end to end on an in-process Kafka mock cluster.
    Demo(triage::service::demo::DemoArgs),
    /// Exit 0 iff the URL answers HTTP 200 (the container health check).
    Healthcheck(triage::http::HealthcheckArgs),
    /// What-if: a candidate rules file over recorded tickets beside a baseline (priority moves,
    /// load, SLA targets, projected breaches), as text, JSON or an HTML page.
    Replay(triage::review::ReplayArgs),
    /// The review of a period: volume, response and resolution times against target, SLA
    /// outcomes, CSAT, common requests, repeat customers, rules fired, agents' corrections.
    Report(triage::review::ReportArgs),
    /// Watch SLA clocks of triaged tickets until SIGTERM/SIGINT (docs/sla-clocks.md).
    Watch(triage::watch::WatchArgs),
}

#[derive(clap::Args)]
struct ScoreArgs {
    /// The rules file.
    #[arg(long)]
    rules: PathBuf,
    /// Customer records, one JSON object per line.
    #[arg(long)]
    customers: Option<PathBuf>,
    /// The instant to triage at (RFC 3339); default: now. Fix it for
    /// reproducible output.
    #[arg(long)]
    now: Option<jiff::Timestamp>,
}

#[derive(clap::Args)]
struct ValidateArgs {
    /// The rules file.
    rules: PathBuf,
}

#[derive(clap::Args)]
struct TestArgs {
    /// The rules file.
    rules: PathBuf,
    /// The test cases (TOML).
    cases: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Score(a) => triage::cli::score(&a.rules, a.customers.as_deref(), a.now),
        Command::Validate(a) => triage::cli::validate(&a.rules),
        Command::Test(a) => triage::cli::test(&a.rules, &a.cases),
        Command::Train(a) => triage_lab::classifier::cli::run_train(&a).map_err(|e| e.to_string()),
        Command::Eval(a) => triage_lab::classifier::cli::run_eval(&a).map_err(|e| e.to_string()),
        Command::Gen(a) => triage_lab::gen::cli(a),
        Command::Quality(a) => triage_lab::quality::run(&a),
        Command::Run(a) => triage::service::main_run(&a),
        Command::Demo(a) => triage::service::demo::main_demo(&a),
        Command::Healthcheck(a) => triage::http::main_healthcheck(&a),
        Command::Watch(a) => triage::watch::main_watch(&a),
        Command::Replay(a) => triage::review::main_replay(&a),
        Command::Report(a) => triage::review::main_report(&a),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("triage: {msg}");
            ExitCode::from(2)
        }
    }
}
