//! The baseline gate: `baselines/<scenario>.json` holds, for each gated metric, a value and a
//! rule; a run's report is compared with it, and a regression fails the test with a table.
//!
//! Which metrics a scenario gates, and with which rule, is decided in code ([`gates::gates_for`]);
//! the file holds the values (and the rules, so a reviewer sees them in `git diff`). Baselines are
//! rewritten only through `UPDATE_BASELINES=1`, never when `CI` is set.

pub mod drift;
mod error;
mod file;
pub mod gates;
mod reference;
mod table;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::gate::{Gate, Rule};
use crate::report::Report;
pub use error::{BaselineError, UPDATE_VAR};
pub use file::{Baseline, CountedWith, BASELINE_SCHEMA_VERSION};
pub use table::{Comparison, Row};

/// Where the baseline of `scenario` lives under `dir`.
pub fn path_for(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("{scenario}.json"))
}

/// How a run compares with what it must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every gated metric within its baseline and no invariant broken.
    Pass,
    /// A gated metric outside its baseline, or an invariant broken.
    Regression,
    /// No baseline to compare with (a scenario of the user's, or a new size); its invariants
    /// hold.
    NoBaseline,
    /// Cut short by Ctrl-C; not compared.
    Partial,
}

impl Verdict {
    /// The word shown in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Regression => "REGRESSION",
            Verdict::NoBaseline => "no baseline",
            Verdict::Partial => "partial",
        }
    }
}

/// A run judged: its invariants, then its gated metrics against its baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Invariants the run broke, whatever the baseline says.
    pub violations: Vec<String>,
    /// The comparison with the baseline, when there is one and the run is complete.
    pub comparison: Option<Comparison>,
}

/// Judges `report`: its invariants, then its gated metrics against `dir`'s baseline for it. A
/// missing baseline is [`Verdict::NoBaseline`] (the caller decides whether that is allowed).
/// The one judging path of the tests and the CLI.
pub fn judge(dir: &Path, report: &Report) -> Result<Judgement, BaselineError> {
    let violations = report.violations();
    let path = path_for(dir, &report.scenario);
    let comparison = if report.partial || !path.exists() {
        None
    } else {
        let baseline = Baseline::load(&path, &report.scenario)?;
        let mut c = baseline.compare(report, &gates::gates_for(&report.config), &path)?;
        drift::check(&baseline, report, &mut c);
        Some(c)
    };
    let verdict = if report.partial {
        Verdict::Partial
    } else if !violations.is_empty() || comparison.as_ref().is_some_and(|c| !c.passed()) {
        Verdict::Regression
    } else if comparison.is_none() {
        Verdict::NoBaseline
    } else {
        Verdict::Pass
    };
    Ok(Judgement {
        verdict,
        violations,
        comparison,
    })
}

/// Writes `report`'s baseline under `dir`: its values for the metrics its scenario gates. Refused
/// when `CI` is set ([`GateMode::ci`]), and for a run that was cut short or broke an invariant.
/// The one bless path of the tests (`UPDATE_BASELINES=1`) and the CLI (`bless`).
pub fn bless(dir: &Path, report: &Report, mode: &GateMode) -> Result<PathBuf, BaselineError> {
    let path = path_for(dir, &report.scenario);
    if mode.ci {
        return Err(BaselineError::BlessInCi { path });
    }
    let refused = |why: String| BaselineError::BlessRefused {
        path: path.clone(),
        scenario: report.scenario.clone(),
        why,
    };
    if report.partial {
        return Err(refused("was cut short (partial)".into()));
    }
    let violations = report.violations();
    if !violations.is_empty() {
        return Err(refused(format!(
            "broke invariants: {}",
            violations.join("; ")
        )));
    }
    let gates = gates::gates_for(&report.config);
    let counts_gated = gates.iter().any(|g| g.metric.starts_with("instructions."));
    if counts_gated && report.instructions.is_none() {
        return Err(refused(
            "counted no instructions (--no-instructions, or no valgrind): bless from a run that \
             counted them (`bless` takes several --report, the counted one among them)"
                .into(),
        ));
    }
    let mut baseline = Baseline::from_report(report, &gates, &path)?;
    let old = path
        .exists()
        .then(|| Baseline::load(&path, &report.scenario).ok())
        .flatten();
    baseline.reference =
        drift::next_reference(old.as_ref(), &baseline, mode.accept_drift.as_deref());
    baseline.write(&path)?;
    Ok(path)
}

/// What [`gate`] did.
#[derive(Debug)]
pub enum Outcome {
    /// Judged against the baseline.
    Judged(Judgement),
    /// The baseline was (re)written from this run.
    Blessed(PathBuf),
}

/// What the environment asks of the gate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GateMode {
    /// `UPDATE_BASELINES=1`: rewrite baselines from this run.
    pub bless: bool,
    /// `CI` is set: never rewrite.
    pub ci: bool,
    /// [`drift::ACCEPT_DRIFT_VAR`]: the baselines written restart their drift series, for this
    /// reason.
    pub accept_drift: Option<String>,
}

impl GateMode {
    /// Reads `UPDATE_BASELINES` and `CI` from the environment.
    pub fn from_env() -> GateMode {
        GateMode {
            bless: std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1"),
            ci: std::env::var_os("CI").is_some(),
            accept_drift: std::env::var(drift::ACCEPT_DRIFT_VAR)
                .ok()
                .filter(|r| !r.trim().is_empty()),
        }
    }
}

/// What a test does with its report: [`bless`] under `UPDATE_BASELINES=1`, else [`judge`], where
/// a missing baseline is an error (a gated test must have one).
pub fn gate(dir: &Path, report: &Report) -> Result<Outcome, BaselineError> {
    gate_with(dir, report, &GateMode::from_env())
}

/// [`gate`] with the mode given rather than read from the environment.
pub fn gate_with(dir: &Path, report: &Report, mode: &GateMode) -> Result<Outcome, BaselineError> {
    if mode.bless {
        return bless(dir, report, mode).map(Outcome::Blessed);
    }
    let path = path_for(dir, &report.scenario);
    if !report.partial && !path.exists() {
        return Err(BaselineError::Missing {
            path,
            scenario: report.scenario.clone(),
        });
    }
    judge(dir, report).map(Outcome::Judged)
}
