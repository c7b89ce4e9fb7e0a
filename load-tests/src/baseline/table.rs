//! The result of a comparison, printed as a table: metric, baseline, actual, delta, tolerance,
//! verdict.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::format::{delta_pct, num};
use crate::gate::Rule;

/// One gated metric compared with its baseline (in suite reports too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The metric's path in the report.
    pub metric: String,
    /// The baseline value.
    pub baseline: f64,
    /// This run's value.
    pub actual: f64,
    /// The rule applied.
    pub rule: Rule,
    /// The tolerance applied (a fraction).
    pub tolerance: f64,
    /// Whether it held (a row not compared holds).
    pub passed: bool,
    /// Why it was not compared, or why it cannot be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Row {
    /// `(actual - baseline) / |baseline|` in percent; `None` when the baseline is zero.
    pub fn delta_pct(&self) -> Option<f64> {
        delta_pct(self.baseline, self.actual)
    }
}

/// A report compared with its baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The scenario.
    pub scenario: String,
    /// The baseline file.
    pub path: PathBuf,
    /// One row per gated metric.
    pub rows: Vec<Row>,
    /// Lines printed under the table (where an instruction count went).
    pub notes: Vec<String>,
}

impl Comparison {
    /// Whether every metric held.
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|r| r.passed)
    }

    /// The rows that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.passed)
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() { "PASS" } else { "REGRESSION" };
        writeln!(
            f,
            "{verdict}: scenario {} against {}",
            self.scenario,
            self.path.display()
        )?;
        let width = self
            .rows
            .iter()
            .map(|r| r.metric.len())
            .max()
            .unwrap_or(6)
            .max(6);
        writeln!(
            f,
            "{:<width$}  {:>16}  {:>16}  {:>9}  {:>16}  verdict",
            "metric", "baseline", "actual", "delta %", "tolerance"
        )?;
        for r in &self.rows {
            let delta = r
                .delta_pct()
                .map_or_else(|| "-".to_owned(), |d| format!("{d:+.2}"));
            let tol = match r.rule {
                Rule::Exact => "exact".to_owned(),
                rule => format!("{} {:.0}%", rule.as_str(), r.tolerance * 100.0),
            };
            writeln!(
                f,
                "{:<width$}  {:>16}  {:>16}  {:>9}  {:>16}  {}",
                r.metric,
                num(r.baseline),
                num(r.actual),
                delta,
                tol,
                match (r.passed, &r.note) {
                    (true, None) => "ok".to_owned(),
                    (false, None) => "FAIL".to_owned(),
                    (true, Some(n)) => format!("skipped: {n}"),
                    (false, Some(n)) => format!("FAIL: {n}"),
                }
            )?;
        }
        for n in &self.notes {
            writeln!(f, "{n}")?;
        }
        Ok(())
    }
}
