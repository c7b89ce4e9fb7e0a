//! The `load-tests` command line: runs the load suite and writes its reports. The binaries in
//! `src/main.rs` and `src/bin/` are thin wrappers around [`main`] and [`heap_worker_main`].
//!
//! ```text
//! cargo run --release -p load-tests                   # the whole suite at the published reports' full scale
//! cargo run --release -p load-tests -- list           # scenarios, one line each
//! cargo run --release -p load-tests -- run --scenario 'phantom_*' --quick
//! cargo run --release -p load-tests -- compare old.json new.json
//! cargo run --release -p load-tests -- bless --scenario '*_full'
//! cargo run --release -p load-tests -- history --html target/history.html
//! ```

mod args;
mod bars;
mod chaos;
mod compare;
mod distributed;
mod error;
mod history;
mod live;
mod run;

use args::{default_baselines, default_report_dir, scenarios, RunArgs, Source};
pub use error::{CliError, Exit};
pub use run::heap_worker_main;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::engine::{self, SuiteReport};
use crate::scenario::Scenario;

#[derive(Parser, Debug)]
#[command(
    name = "load-tests",
    about = "Runs agent-core's load suite and writes JSON and HTML reports",
    after_help = Exit::HELP,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `run`'s options, when no subcommand is given.
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lists the scenarios with one-line descriptions.
    List {
        #[command(flatten)]
        source: Source,
    },
    /// Runs the suite (the default): progress, a table per scenario, a summary, reports.
    Run(RunArgs),
    /// Compares two suite reports: a table of deltas per scenario. Exits 1 when a scenario's
    /// instructions per operation rose by more than the instruction gate's tolerance (counts are
    /// exact, so this is a noise-free verdict between two builds, e.g. a branch and its base).
    Compare {
        /// The older report (JSON written by `run`).
        a: PathBuf,
        /// The newer report.
        b: PathBuf,
    },
    /// Rewrites baselines from a run's report (refused when CI is set).
    Bless {
        /// The suite report to bless from [default: <target dir>/load-report/report.json].
        /// Repeatable: each scenario is then blessed from the first report that has it, with its
        /// real-time ratios to raw tokio replaced by their median over all the reports (one run's
        /// ratio is a draw from a spread; the median of several is a steadier baseline).
        #[arg(long)]
        report: Vec<PathBuf>,
        /// Only scenarios matching this name or glob (repeatable).
        #[arg(long)]
        scenario: Vec<String>,
        /// The baselines directory.
        #[arg(long, default_value = default_baselines())]
        baselines: PathBuf,
        /// Restart the drift series of the baselines written at their new values, for this
        /// reason (kept in each file). Without it, each keeps its reference point.
        #[arg(long, value_name = "WHY")]
        accept_drift: Option<String>,
    },
    /// Every gated figure over the commits: the values blessed into baselines/ across the git
    /// log and the gate runs recorded on the perf-history branch; change points in the real-time
    /// ratios; `--html` draws them. `history record` appends a run's figures.
    History(history::HistoryArgs),
    /// Joins a load test as a worker process: takes jobs from the shared work queue on the NATS
    /// server until SIGTERM or Ctrl-C (start several, on any machines, with the same --nats).
    Worker(distributed::WorkerOptions),
    /// Submits a run's jobs at a steady rate through an outbox on disk (the child side of the
    /// publisher-crash scenario).
    #[command(hide = true)]
    Publisher(distributed::PublisherOptions),
    /// Runs seeded fault schedules against real worker and publisher processes and a real
    /// server (or, with --cluster, a three-node cluster) and checks the delivery guarantees
    /// after each: none lost, stored once, in order, none dead-lettered, lag back to zero,
    /// nothing left running. Prints the faults by kind and the seeds of any failure.
    Chaos(chaos::ChaosOptions),
    /// Handles a run's events under a durable subscription name, recording each (the child side
    /// of the subscriber-crash test).
    #[command(hide = true)]
    Subscriber(distributed::SubscriberOptions),
    /// Runs one scenario's counting form inside the window callgrind counts (the child side of
    /// instruction counting; started by the suite under valgrind, not by hand).
    #[command(name = crate::instructions::CHILD_COMMAND, hide = true)]
    CountInstructions {
        /// The scenario, as JSON.
        scenario: PathBuf,
    },
}

/// Parses the command line and runs the command (the `load-tests` binary's `main`).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::List { source }) => list(&source),
        Some(Command::Run(args)) => run::run(&args),
        None => run::run(&cli.run),
        Some(Command::Compare { a, b }) => compare::compare(&a, &b),
        Some(Command::Bless {
            report,
            scenario,
            baselines,
            accept_drift,
        }) => bless(
            &if report.is_empty() {
                vec![default_report_dir().join("report.json")]
            } else {
                report
            },
            &scenario,
            &baselines,
            accept_drift.as_deref(),
        ),
        Some(Command::CountInstructions { scenario }) => count_instructions(&scenario),
        Some(Command::History(args)) => history::history(&args),
        Some(Command::Worker(o)) => distributed::worker(&o),
        Some(Command::Publisher(o)) => distributed::publisher(&o),
        Some(Command::Subscriber(o)) => distributed::subscriber(&o),
        Some(Command::Chaos(o)) => chaos::chaos(&o),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("load-tests: {e}");
            e.exit().into()
        }
    }
}

fn list(source: &Source) -> Result<Exit, CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for s in scenarios(source)? {
        let line = writeln!(
            out,
            "{:<32} {:<8} {:>9} ops  {}",
            s.name,
            format!("{:?}", s.clock).to_lowercase(),
            s.total_ops(),
            s.description
        );
        // A closed pipe (`list | head`) ends the listing; it is not an error.
        if line.is_err() {
            break;
        }
    }
    Ok(Exit::Pass)
}

fn count_instructions(file: &Path) -> Result<Exit, CliError> {
    let text = std::fs::read_to_string(file).map_err(|source| CliError::Io {
        path: file.to_owned(),
        what: "read",
        source,
    })?;
    let scenario: Scenario =
        serde_json::from_str(&text).map_err(|e| crate::engine::ReportFileError::Parse {
            path: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
    let ops = crate::instructions::run_counted(&scenario)?;
    println!("ops={ops}");
    Ok(Exit::Pass)
}

fn bless(
    reports: &[PathBuf],
    patterns: &[String],
    dir: &Path,
    accept_drift: Option<&str>,
) -> Result<Exit, CliError> {
    let suites = reports
        .iter()
        .map(|r| SuiteReport::read(r))
        .collect::<Result<Vec<_>, _>>()?;
    let written = engine::bless(&suites, dir, patterns, accept_drift)?;
    if written.is_empty() {
        return Err(CliError::NothingToBless {
            report: reports[0].clone(),
            patterns: patterns.to_vec(),
        });
    }
    for p in &written {
        println!("wrote {}", p.display());
    }
    Ok(Exit::Pass)
}
