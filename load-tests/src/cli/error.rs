//! Every way a command can fail, as a typed value with its exit code ([`Exit`]).

use std::path::PathBuf;

use agent_core::bus::nats::NatsError;
use thiserror::Error;

use crate::baseline::BaselineError;
use crate::distributed::OutboxError;
use crate::engine::user::UserScenarioError;
use crate::engine::{ReportFileError, SuiteError};
use crate::instructions::CountError;
use crate::runner::RunError;

/// The exit codes, nextest-style: one table, shown in `--help` and the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every scenario within its baseline (or without one, its invariants holding).
    Pass = 0,
    /// A regression: a gated metric outside its baseline, or a broken invariant; for `compare`,
    /// instructions per operation rose by more than the gate's tolerance.
    Regression = 1,
    /// Bad usage or input: a flag, a scenario file, a report or baseline file given.
    BadInput = 2,
    /// Could not run: a prerequisite missing (nats-server that cannot be installed, valgrind,
    /// a companion binary; the run goes on without what needs it and says what fixes it), or an
    /// I/O or internal failure (a report that cannot be written, a worker that crashed).
    Failure = 3,
    /// Stopped by Ctrl-C (the partial report is still written).
    Interrupted = 130,
}

impl Exit {
    /// The table, for `--help`.
    pub const HELP: &'static str = "Exit codes: 0 every scenario within its baseline (or \
        without one); 1 a regression (a gated metric outside its baseline, or a broken \
        invariant; for `compare`, instructions per operation rose by more than 1%); 2 bad usage \
        or input (a flag, a scenario file, a report or baseline file); 3 could not run: a \
        prerequisite missing (nats-server, valgrind, a companion binary: the rest runs, the \
        report says what fixes it) or an I/O or internal failure (a report that cannot be \
        written, a worker that crashed); 130 \
        stopped by Ctrl-C (the partial report is still written).";
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// A command's failure.
#[derive(Debug, Error)]
pub enum CliError {
    /// A scenario file was refused.
    #[error(transparent)]
    Scenarios(#[from] UserScenarioError),
    /// A `--scenario` pattern matched nothing.
    #[error("--scenario {0:?} matches no scenario (see the `list` subcommand)")]
    NoMatch(String),
    /// `--baselines` names no directory.
    #[error("--baselines {0}: no such directory (every scenario would run without a baseline and pass unchecked)")]
    NoBaselines(PathBuf),
    /// A baseline file could not be used or written.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// A report file given could not be read.
    #[error(transparent)]
    ReportFile(#[from] ReportFileError),
    /// `compare` was given two reports with no scenario in common.
    #[error("{0} and {1} share no scenario")]
    NothingShared(PathBuf, PathBuf),
    /// `bless` was given patterns matching no scenario of the report.
    #[error("no scenario in {report} matches {patterns:?}")]
    NothingToBless {
        /// The report.
        report: PathBuf,
        /// The patterns.
        patterns: Vec<String>,
    },
    /// The suite could not run.
    #[error(transparent)]
    Suite(#[from] SuiteError),
    /// A scenario (the counting child's) cannot run.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Instructions cannot be counted.
    #[error("{0} (or pass --no-instructions)")]
    Count(#[from] CountError),
    /// A command-line value is out of range.
    #[error("{flag}: {problem}")]
    BadArgument {
        /// The flag.
        flag: &'static str,
        /// What is wrong with its value.
        problem: String,
    },
    /// The NATS server could not be used (`--nats`, `worker`, `publisher`).
    #[error("--nats: {0}")]
    Nats(#[from] NatsError),
    /// A chaos schedule could not be set up (no server, a process that would not start): not
    /// run, which is not a violation.
    #[error("chaos seed {seed} not run: {reason}")]
    ChaosSetup {
        /// The seed.
        seed: u64,
        /// Why.
        reason: String,
    },
    /// A publisher's outbox could not be used.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// A history file (or branch) that cannot be read.
    #[error(transparent)]
    HistoryFile(#[from] crate::history::record::ParseError),
    /// The history could not be read or written (git missing, not a repository, a branch
    /// that moved under an append).
    #[error("history: {0}")]
    History(String),
    /// A file or folder could not be read, created or written.
    #[error("{path}: cannot {what}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
}

impl CliError {
    /// The exit code this failure ends the process with.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Scenarios(_)
            | CliError::NoMatch(_)
            | CliError::NoBaselines(_)
            | CliError::ReportFile(_)
            | CliError::NothingShared(..)
            | CliError::NothingToBless { .. }
            | CliError::Run(_)
            | CliError::HistoryFile(_)
            | CliError::BadArgument { .. } => Exit::BadInput,
            CliError::Baseline(e) => CliError::exit_of_baseline(e),
            CliError::Suite(e) => match e {
                SuiteError::Invalid(_) => Exit::BadInput,
                SuiteError::Baseline(b) => CliError::exit_of_baseline(b),
                _ => Exit::Failure,
            },
            CliError::Nats(e) => CliError::exit_of_nats(e),
            CliError::Count(_)
            | CliError::Io { .. }
            | CliError::Outbox(_)
            | CliError::History(_)
            | CliError::ChaosSetup { .. } => Exit::Failure,
        }
    }

    /// A server that cannot be used as given is bad input; a failure on the way is not.
    fn exit_of_nats(e: &NatsError) -> Exit {
        match e {
            NatsError::Config { .. }
            | NatsError::Unreachable { .. }
            | NatsError::NoJetStream { .. }
            | NatsError::OldServer { .. }
            | NatsError::BadName { .. } => Exit::BadInput,
            _ => Exit::Failure,
        }
    }

    fn exit_of_baseline(e: &BaselineError) -> Exit {
        match e {
            BaselineError::Io { .. } | BaselineError::Write { .. } => Exit::Failure,
            _ => Exit::BadInput,
        }
    }
}
