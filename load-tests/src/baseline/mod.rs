//! The baseline gate: `baselines/<scenario>.json` holds, for each gated metric, a value and a
//! rule; a run's report is compared with it, and a regression fails the test with a table.
//!
//! Which metrics a scenario gates, and with which rule, is decided in code ([`gates::gates_for`]);
//! the file holds the values (and the rules, so a reviewer sees them in `git diff`). Baselines are
//! rewritten only through `UPDATE_BASELINES=1`, never when `CI` is set.

mod file;
pub mod gates;
mod table;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::report::Report;
pub use file::{Baseline, CountedWith, Gate, Rule, BASELINE_SCHEMA_VERSION, INSTRUCTIONS_METRIC};
pub use table::{delta_pct, Comparison, Row};

/// The environment variable that rewrites baselines from the current run.
pub const UPDATE_VAR: &str = "UPDATE_BASELINES";

/// A baseline that cannot be used, or a run that cannot be compared. Every variant names the file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// No baseline file for the scenario.
    #[error("{path}: no baseline for scenario {scenario:?}; create it by running this scenario with {UPDATE_VAR}=1 (for example `{UPDATE_VAR}=1 cargo nextest run -p load-tests`) and review it with `git diff`")]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
        /// The scenario.
        scenario: String,
    },
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON, or has a field of the wrong type or an unknown field.
    #[error("{path}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A field has a value the gate cannot use.
    #[error("{path}: field `{field}`: {problem}")]
    InvalidField {
        /// The file.
        path: PathBuf,
        /// The field, as a path into the file.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// The baseline lacks a metric the scenario gates.
    #[error("{path}: missing metric {metric:?}, which scenario {scenario:?} gates; re-bless with {UPDATE_VAR}=1 to add it")]
    MissingMetric {
        /// The file.
        path: PathBuf,
        /// The scenario.
        scenario: String,
        /// The metric.
        metric: String,
    },
    /// The baseline names a metric the scenario does not gate, or the report does not have.
    #[error("{path}: field `metrics.{metric}`: unknown metric for scenario {scenario:?}")]
    UnknownMetric {
        /// The file.
        path: PathBuf,
        /// The scenario.
        scenario: String,
        /// The metric.
        metric: String,
    },
    /// Rewriting baselines was asked for with `CI` set.
    #[error("{path}: refusing to rewrite baselines while CI is set ({UPDATE_VAR} is for a developer's machine; commit the blessed file instead)")]
    BlessInCi {
        /// The file that would have been written.
        path: PathBuf,
    },
    /// The file could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Where the baseline of `scenario` lives under `dir`.
pub fn path_for(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("{scenario}.json"))
}

/// What [`gate`] did.
#[derive(Debug)]
pub enum Outcome {
    /// Compared with the baseline; `Comparison::passed` says whether it held.
    Compared(Comparison),
    /// The baseline was (re)written from this run.
    Blessed(PathBuf),
}

/// What the environment asks of the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateMode {
    /// `UPDATE_BASELINES=1`: rewrite baselines from this run.
    pub bless: bool,
    /// `CI` is set: never rewrite.
    pub ci: bool,
}

impl GateMode {
    /// Reads `UPDATE_BASELINES` and `CI` from the environment.
    pub fn from_env() -> GateMode {
        GateMode {
            bless: std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1"),
            ci: std::env::var_os("CI").is_some(),
        }
    }
}

/// Compares `report` with its baseline under `dir`, or rewrites the baseline when
/// `UPDATE_BASELINES=1` (refused when `CI` is set).
pub fn gate(dir: &Path, report: &Report) -> Result<Outcome, BaselineError> {
    gate_with(dir, report, GateMode::from_env())
}

/// [`gate`] with the mode given rather than read from the environment.
pub fn gate_with(dir: &Path, report: &Report, mode: GateMode) -> Result<Outcome, BaselineError> {
    let path = path_for(dir, &report.scenario);
    let wanted = gates::gates_for(&report.config);
    if mode.bless {
        if mode.ci {
            return Err(BaselineError::BlessInCi { path });
        }
        let baseline = Baseline::bless(report, &wanted, &path)?;
        baseline.write(&path)?;
        return Ok(Outcome::Blessed(path));
    }
    let baseline = Baseline::load(&path, &report.scenario)?;
    baseline
        .compare(report, &wanted, &path)
        .map(Outcome::Compared)
}
