//! The suite report (JSON) that the console tables, the HTML report, `compare` and `bless`
//! read: each scenario's report with its judgement.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::baseline::{self, BaselineError, GateMode, Row, Verdict};
use crate::report::{Environment, Report};

/// Version of the suite report's layout; 2: scenario reports of schema 3 (`yardstick`,
/// `rng_seed`).
pub const SUITE_SCHEMA_VERSION: u32 = 2;

/// A report or scenario file given on the command line that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    /// It could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not what it should be.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
}

/// One scenario's run, compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The report, in the same schema the tests write.
    pub report: Report,
    /// The verdict.
    pub verdict: Verdict,
    /// The baseline file compared with, if there was one.
    pub baseline: Option<PathBuf>,
    /// Every gated metric.
    pub checks: Vec<Row>,
    /// Invariants the run broke (lost messages, leaks, ...), whatever the baseline says.
    pub violations: Vec<String>,
    /// Where a failed instruction count went: the functions whose own count moved most.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ScenarioResult {
    /// Gated rows this run could not compare (bound to another build profile, or not counted):
    /// each carries its reason as a note, and holds.
    pub fn rows_not_compared(&self) -> usize {
        self.checks.iter().filter(|c| c.note.is_some()).count()
    }
}

/// Everything a suite run produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// [`SUITE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Stopped early (Ctrl-C): later scenarios did not run, the last may be partial.
    pub partial: bool,
    /// Run with `--quick` (test scale instead of the published reports' full scale).
    pub quick: bool,
    /// When it started, seconds since the Unix epoch.
    pub started_unix_s: u64,
    /// Wall-clock duration of the whole run.
    pub wall_s: f64,
    /// Where it ran.
    pub environment: Environment,
    /// The CPU's model name (from `/proc/cpuinfo`; "unknown" elsewhere).
    pub cpu_model: String,
    /// One entry per scenario run, in order.
    pub results: Vec<ScenarioResult>,
    /// What could not run for want of a prerequisite (a scenario, or the instruction counts),
    /// with the reason and the fix; neither a pass nor a regression.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<super::NotRun>,
}

impl SuiteReport {
    /// Whether any scenario regressed.
    pub fn regressed(&self) -> bool {
        self.results
            .iter()
            .any(|r| r.verdict == Verdict::Regression)
    }

    /// Reads a suite report written by `run`, naming the file in errors.
    pub fn read(path: &Path) -> Result<SuiteReport, ReportFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReportFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let parse = |e: serde_json::Error| ReportFileError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(parse)?;
        let version = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(SUITE_SCHEMA_VERSION)) {
            return Err(ReportFileError::Parse {
                path: path.to_owned(),
                line: 1,
                column: 1,
                message: format!(
                    "field `schema_version`: is {}, this build reads suite reports of version \
                     {SUITE_SCHEMA_VERSION} (run the suite again with this build)",
                    value
                        .get("schema_version")
                        .map_or("missing".into(), ToString::to_string)
                ),
            });
        }
        serde_json::from_str(&text).map_err(parse)
    }
}

/// Judges `report` against its baseline under `dir`, if it has one ([`baseline::judge`]).
pub fn judge(dir: &Path, report: Report) -> Result<ScenarioResult, BaselineError> {
    let j = baseline::judge(dir, &report)?;
    let (baseline, checks, notes) = match j.comparison {
        Some(c) => (Some(c.path), c.rows, c.notes),
        None => (None, Vec::new(), Vec::new()),
    };
    Ok(ScenarioResult {
        report,
        verdict: j.verdict,
        baseline,
        checks,
        violations: j.violations,
        notes,
    })
}

/// Rewrites the baselines under `dir` from the results of `suites` whose scenario matches
/// `patterns` (all when empty), each through [`baseline::bless`] (refused under `CI`, and for a
/// run cut short or with a broken invariant). A scenario is blessed from the first suite that
/// has it; with several suites, its real-time ratios to raw tokio are the median of theirs.
/// Returns the files written.
pub fn bless(
    suites: &[SuiteReport],
    dir: &Path,
    patterns: &[String],
    accept_drift: Option<&str>,
) -> Result<Vec<PathBuf>, BaselineError> {
    let mut mode = GateMode::from_env();
    if let Some(why) = accept_drift {
        mode.accept_drift = Some(why.to_owned());
    }
    let mut seen = std::collections::BTreeSet::new();
    suites
        .iter()
        .flat_map(|s| &s.results)
        .filter(|r| {
            patterns.is_empty()
                || patterns
                    .iter()
                    .any(|p| super::select::matches(p, &r.report.scenario))
        })
        .filter(|r| seen.insert(r.report.scenario.clone()))
        .map(|r| {
            let mut report = r.report.clone();
            median_ratios(&mut report, suites);
            baseline::bless(dir, &report, &mode)
        })
        .collect()
}

/// Replaces `report`'s real-time ratios with their median over every report of its scenario in
/// `suites` (cut-short runs left out).
fn median_ratios(report: &mut crate::report::Report, suites: &[SuiteReport]) {
    let runs: Vec<_> = suites
        .iter()
        .flat_map(|s| &s.results)
        .filter(|r| r.report.scenario == report.scenario && !r.report.partial)
        .filter_map(|r| r.report.yardstick.clone())
        .collect();
    if let Some(y) = report.yardstick.as_mut() {
        set_medians(y, &runs);
    }
}

/// Sets `y`'s throughput and CPU ratios to their medians over `runs` (the project's one
/// median, `stats::median`), unchanged when there are none.
fn set_medians(y: &mut crate::report::Yardstick, runs: &[crate::report::Yardstick]) {
    if runs.is_empty() {
        return;
    }
    let of = |f: fn(&crate::report::Yardstick) -> f64| {
        crate::stats::median(&runs.iter().map(f).collect::<Vec<_>>())
    };
    y.throughput_ratio = of(|y| y.throughput_ratio);
    y.cpu_ratio = of(|y| y.cpu_ratio);
}

#[cfg(test)]
mod tests {
    use super::set_medians;
    use crate::report::Yardstick;

    fn ratios(throughput: f64, cpu: f64) -> Yardstick {
        Yardstick {
            throughput_ratio: throughput,
            cpu_ratio: cpu,
            ..Yardstick::default()
        }
    }

    #[test]
    fn blessing_from_several_runs_takes_the_median_ratio() {
        let mut y = ratios(0.5, 1.0);
        let runs = [
            ratios(0.5, 1.0),
            ratios(0.9, 4.0),
            ratios(0.7, 2.0),
            ratios(0.8, 3.0),
        ];
        set_medians(&mut y, &runs[..3]);
        assert_eq!((y.throughput_ratio, y.cpu_ratio), (0.7, 2.0));
        // An even count takes the upper middle, as `stats::median` does everywhere.
        set_medians(&mut y, &runs);
        assert_eq!((y.throughput_ratio, y.cpu_ratio), (0.8, 3.0));
        set_medians(&mut y, &[]);
        assert_eq!((y.throughput_ratio, y.cpu_ratio), (0.8, 3.0));
    }
}
