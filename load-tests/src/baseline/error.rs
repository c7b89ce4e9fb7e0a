//! Why a baseline cannot be used or a run cannot be compared; every variant names the file.

use std::path::PathBuf;

use thiserror::Error;

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
    /// Blessing was asked of a run that was cut short or broke an invariant.
    #[error("{path}: refusing to bless scenario {scenario:?} from a run that {why}")]
    BlessRefused {
        /// The file that would have been written.
        path: PathBuf,
        /// The scenario.
        scenario: String,
        /// What was wrong with the run.
        why: String,
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
