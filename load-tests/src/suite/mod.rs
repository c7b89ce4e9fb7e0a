//! The suite as the CLI runs it: which scenarios (the standard ones at the published reports' full scale, or
//! at test scale with `--quick`, plus a user's TOML file), running them one after another with
//! progress, comparing each with its baseline without panicking, and the suite report (JSON)
//! that the console tables, the HTML report, `compare` and `bless` read.

pub mod console;
pub mod html;
pub mod plots;
pub mod user;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::baseline::{self, gates, BaselineError};
use crate::catalog;
use crate::report::{Environment, Report};
use crate::runner::{self, RunError, RunOptions};
use crate::scenario::Scenario;

/// Version of the suite report's layout (each scenario's report keeps its own version).
pub const SUITE_SCHEMA_VERSION: u32 = 1;

/// The published sustained-load duration (seed 000: `test_sustained_load(50, 3)`, three minutes).
pub use crate::kinds::steps::PUBLISHED_SUSTAINED_S;

/// The standard suite at the published reports' full scale, as each kind defines it
/// ([`crate::kinds::rules::Rules::full_scale`]): the messaging profiles at the published totals
/// (up to 1,000,000 messages), the open-loop load for `sustained_s` seconds. Scaled scenarios get
/// their own names (`*_full`, or `<name>_<N>s` for a duration other than the published one), so
/// each is compared with a baseline of the same size.
pub fn full_suite(sustained_s: u64) -> Vec<Scenario> {
    catalog::standard()
        .into_iter()
        .map(|s| full_scale(s, sustained_s))
        .collect()
}

/// `s` at its published full scale (unchanged when the suite already runs it so).
pub fn full_scale(s: Scenario, sustained_s: u64) -> Scenario {
    s.kind.rules().full_scale(&s, sustained_s).unwrap_or(s)
}

/// Whether `name` matches `pattern`: an exact name, or a glob with `*` (any run of characters)
/// and `?` (one character).
pub fn matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

/// The scenarios of `all` that match any of `patterns` (all when there are none), in order.
/// A pattern that matches nothing is an error naming it.
pub fn select(all: Vec<Scenario>, patterns: &[String]) -> Result<Vec<Scenario>, String> {
    if patterns.is_empty() {
        return Ok(all);
    }
    if let Some(p) = patterns
        .iter()
        .find(|p| !all.iter().any(|s| matches(p, &s.name)))
    {
        return Err(format!(
            "--scenario {p:?} matches no scenario (see the `list` subcommand)"
        ));
    }
    Ok(all
        .into_iter()
        .filter(|s| patterns.iter().any(|p| matches(p, &s.name)))
        .collect())
}

/// How a scenario's run compares with what it must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every gated metric within its baseline and no invariant violated.
    Pass,
    /// A gated metric outside its baseline, or an invariant violated.
    Regression,
    /// No baseline to compare with (a user scenario, or a new size); invariants still hold.
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

/// One gated metric compared with its baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The metric's path in the report.
    pub metric: String,
    /// The baseline's value.
    pub baseline: f64,
    /// This run's value.
    pub actual: f64,
    /// The rule (`exact`, `at_most`, `at_least`, `within`).
    pub rule: String,
    /// Its tolerance (a fraction).
    pub tolerance: f64,
    /// Whether it held (a check not compared holds).
    pub passed: bool,
    /// Why it was not compared, or why it cannot be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Check {
    /// The change against the baseline in percent; `None` when the baseline is zero.
    pub fn delta_pct(&self) -> Option<f64> {
        baseline::delta_pct(self.baseline, self.actual)
    }
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
    pub checks: Vec<Check>,
    /// Invariants the run broke (lost messages, leaks, ...), whatever the baseline says.
    pub violations: Vec<String>,
    /// Where a failed instruction count went: the functions whose own count moved most.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
}

impl SuiteReport {
    /// Whether any scenario regressed.
    pub fn regressed(&self) -> bool {
        self.results
            .iter()
            .any(|r| r.verdict == Verdict::Regression)
    }

    /// Reads a suite report written by `run`, naming the file in errors.
    pub fn read(path: &Path) -> Result<SuiteReport, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}: not a suite report (line {}, column {}): {e}",
                path.display(),
                e.line(),
                e.column()
            )
        })
    }
}

/// Compares `report` with its baseline under `dir` (if one exists) and checks its invariants.
pub fn judge(dir: &Path, report: Report) -> Result<ScenarioResult, BaselineError> {
    let violations = report.violations();
    if report.partial {
        return Ok(ScenarioResult {
            report,
            verdict: Verdict::Partial,
            baseline: None,
            checks: Vec::new(),
            violations,
            notes: Vec::new(),
        });
    }
    let path = baseline::path_for(dir, &report.scenario);
    if !path.exists() {
        let verdict = if violations.is_empty() {
            Verdict::NoBaseline
        } else {
            Verdict::Regression
        };
        return Ok(ScenarioResult {
            report,
            verdict,
            baseline: None,
            checks: Vec::new(),
            violations,
            notes: Vec::new(),
        });
    }
    let comparison = baseline::Baseline::load(&path, &report.scenario)?.compare(
        &report,
        &gates::gates_for(&report.config),
        &path,
    )?;
    let checks: Vec<Check> = comparison.rows.iter().map(check).collect();
    let verdict = if checks.iter().all(|c| c.passed) && violations.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Regression
    };
    Ok(ScenarioResult {
        report,
        verdict,
        baseline: Some(path),
        checks,
        violations,
        notes: comparison.notes,
    })
}

fn check(r: &baseline::Row) -> Check {
    Check {
        metric: r.metric.clone(),
        baseline: r.baseline,
        actual: r.actual,
        rule: r.rule.as_str().to_owned(),
        tolerance: r.tolerance,
        passed: r.passed,
        note: r.note.clone(),
    }
}

/// What can stop a suite run.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A scenario cannot run as written.
    #[error(transparent)]
    Invalid(#[from] RunError),
    /// A baseline file is broken.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// The tokio runtime could not be built.
    #[error("cannot start a tokio runtime: {0}")]
    Runtime(std::io::Error),
    /// Instructions could not be counted.
    #[error(transparent)]
    Count(#[from] crate::instructions::CountError),
    /// The heap-profiling worker could not run a scenario.
    #[error("{worker}: running scenario {scenario} failed: {problem}")]
    Worker {
        /// The worker binary.
        worker: PathBuf,
        /// The scenario.
        scenario: String,
        /// What went wrong.
        problem: String,
    },
}

/// The programs a suite run starts besides itself.
#[derive(Clone, Debug)]
pub struct Helpers {
    /// Runs each heap-profiled scenario in its own process (`load-tests-heap`), so that this
    /// process, which runs the real-time scenarios, has no counting allocator and never pauses
    /// tokio's clock.
    pub heap_worker: PathBuf,
    /// The binary whose instructions are counted under valgrind (this build's `load-tests`);
    /// `None` skips counting (`--no-instructions`).
    pub counter: Option<PathBuf>,
}

/// Runs `scenario` in this process on a runtime matching its clock, with a heap profiler when it
/// profiles the heap (which needs dhat's global allocator: [`heap_worker_main`] has it).
///
/// [`heap_worker_main`]: crate::cli::heap_worker_main
pub fn run_here(scenario: &Scenario, options: &RunOptions) -> Result<Report, SuiteError> {
    let rt = runner::runtime_for(scenario.clock).map_err(SuiteError::Runtime)?;
    // Heap counts are exact and gated; the profiler starts inside the runtime, as in the tests,
    // so entering it is not counted.
    let profile = scenario.profiles_heap();
    let report = rt.block_on(async {
        let profiler = if profile {
            crate::resources::wait_for_main_thread_to_sleep();
            crate::resources::HeapProfiler::start()
        } else {
            None
        };
        let report = runner::run(scenario, options).await;
        drop(profiler);
        report
    });
    drop(rt);
    Ok(report?)
}

/// Runs `scenario` in the heap worker and reads its report back.
fn run_in_worker(worker: &Path, scenario: &Scenario) -> Result<Report, SuiteError> {
    let fail = |problem: String| SuiteError::Worker {
        worker: worker.to_owned(),
        scenario: scenario.name.clone(),
        problem,
    };
    let dir = tempfile::tempdir().map_err(|e| fail(format!("temporary directory: {e}")))?;
    let file = dir.path().join("scenario.json");
    std::fs::write(
        &file,
        serde_json::to_string(scenario).expect("scenarios serialize"),
    )
    .map_err(|e| fail(format!("writing {}: {e}", file.display())))?;
    let out = std::process::Command::new(worker)
        .arg(&file)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot start it: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!("it exited with {}", out.status)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| fail(format!("its report is not JSON: {e}")))
}

/// Observes a suite run (the CLI draws progress bars).
pub trait Observer {
    /// Scenario `index` of `total` starts; it will do `ops` operations. When the scenario's
    /// heap is profiled ([`Scenario::profiles_heap`]), the observer must not allocate until
    /// [`Observer::finish`]: every allocation in the process is counted.
    fn start(&mut self, index: usize, total: usize, scenario: &Scenario, ops: u64);
    /// Returns the callback the runner calls with operations done.
    fn progress(&mut self) -> Option<Arc<dyn Fn(u64) + Send + Sync>>;
    /// The scenario finished.
    fn finish(&mut self, result: &ScenarioResult);
}

/// Runs `scenarios` one after another, each on a runtime matching its clock, compares each with
/// `baselines`, and stops after the current scenario when `stop` is set (the report is then
/// marked partial).
pub fn run_suite(
    scenarios: &[Scenario],
    baselines: &Path,
    quick: bool,
    stop: &Arc<AtomicBool>,
    observer: &mut dyn Observer,
    helpers: &Helpers,
) -> Result<SuiteReport, SuiteError> {
    for s in scenarios {
        runner::validate(s)?;
    }
    let started = Instant::now();
    let started_unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut results = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        observer.start(i, scenarios.len(), scenario, scenario.total_ops());
        let options = RunOptions {
            progress: observer.progress(),
            stop: Some(Arc::clone(stop)),
            ..RunOptions::default()
        };
        let mut report = if scenario.profiles_heap() {
            match run_in_worker(&helpers.heap_worker, scenario) {
                // Ctrl-C reaches the worker too: what it ran is lost, the suite stops here.
                Err(_) if stop.load(Ordering::Relaxed) => break,
                r => r?,
            }
        } else {
            run_here(scenario, &options)?
        };
        if let Some(counter) = &helpers.counter {
            report.instructions = crate::instructions::count(counter, scenario)?;
        }
        let result = judge(baselines, report)?;
        observer.finish(&result);
        results.push(result);
    }
    let partial = results.len() < scenarios.len() || results.iter().any(|r| r.report.partial);
    Ok(SuiteReport {
        schema_version: SUITE_SCHEMA_VERSION,
        partial,
        quick,
        started_unix_s,
        wall_s: started.elapsed().as_secs_f64(),
        environment: Environment::current(),
        cpu_model: cpu_model(),
        results,
    })
}

/// The CPU's model name, for naming the machine in reports.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Rewrites the baselines under `dir` from `suite`'s results whose scenario matches `patterns`
/// (all when empty). Refuses under `CI`, and for a scenario whose run was cut short or broke an
/// invariant. Returns the files written.
pub fn bless(suite: &SuiteReport, dir: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, String> {
    if std::env::var_os("CI").is_some() {
        return Err("refusing to rewrite baselines: CI is set (bless on a developer machine and commit the result)".into());
    }
    let mut written = Vec::new();
    for r in &suite.results {
        if !patterns.is_empty() && !patterns.iter().any(|p| matches(p, &r.report.scenario)) {
            continue;
        }
        if r.report.partial {
            return Err(format!(
                "refusing to bless {}: its run was cut short (partial)",
                r.report.scenario
            ));
        }
        if !r.violations.is_empty() {
            return Err(format!(
                "refusing to bless {}: it broke invariants: {}",
                r.report.scenario,
                r.violations.join("; ")
            ));
        }
        let path = baseline::path_for(dir, &r.report.scenario);
        let b = baseline::Baseline::bless(&r.report, &gates::gates_for(&r.report.config), &path)
            .map_err(|e| e.to_string())?;
        b.write(&path).map_err(|e| e.to_string())?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(matches("phantom_*", "phantom_extreme_full"));
        assert!(matches("*_full", "phantom_low_full"));
        assert!(matches("veritas_concurrent_1?0", "veritas_concurrent_100"));
        assert!(!matches("phantom_*", "veritas_streaming"));
        assert!(matches("scheduled_day", "scheduled_day"));
        assert!(!matches("scheduled", "scheduled_day"));
    }

    #[test]
    fn full_scale_reaches_the_published_totals() {
        let suite = full_suite(PUBLISHED_SUSTAINED_S);
        let extreme = suite
            .iter()
            .find(|s| s.name == "phantom_extreme_full")
            .unwrap();
        assert_eq!(extreme.total_ops(), 1_000_000);
        let sustained = suite
            .iter()
            .find(|s| s.name == "veritas_sustained_full")
            .unwrap();
        // 500 ops/s for three minutes.
        assert_eq!(sustained.total_ops(), 90_000);
        let short = full_scale(catalog::by_name("veritas_sustained").unwrap(), 60);
        assert_eq!(
            (short.name.as_str(), short.total_ops()),
            ("veritas_sustained_60s", 30_000)
        );
    }

    #[test]
    fn a_pattern_matching_nothing_is_named() {
        let err = select(catalog::standard(), &["nope*".into()]).unwrap_err();
        assert!(err.contains("\"nope*\""), "{err}");
    }
}
