//! The CLI's engine: which scenarios a run takes ([`select`]), running them one after another
//! (heap-profiled ones in a worker process, instructions counted under valgrind) with progress,
//! judging each against its baseline without panicking, and the suite report ([`SuiteReport`])
//! that the console tables, the HTML report, `compare` and `bless` read.

pub mod console;
pub mod history_page;
pub mod html;
pub mod plots;
mod prerequisites;
mod select;
mod suite_report;
pub mod user;

pub use prerequisites::{Helpers, NotRun, INSTALL_VALGRIND};
pub use select::{full_scale, full_suite, matches, select, FullScale};
pub use suite_report::{
    bless, judge, ReportFileError, ScenarioResult, SuiteReport, SUITE_SCHEMA_VERSION,
};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::baseline::BaselineError;
pub use crate::baseline::Verdict;
use crate::catalog::{Basis, PublishedClaim};
use crate::report::{Environment, Report};
use crate::runner::{self, RunError, RunOptions};
use crate::scenario::Scenario;

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

/// Runs `scenario` in this process on a runtime matching its clock, with a heap profiler when it
/// profiles the heap (which needs dhat's global allocator: [`heap_worker_main`] has it).
///
/// [`heap_worker_main`]: crate::cli::heap_worker_main
pub fn run_here(scenario: &Scenario, options: &RunOptions) -> Result<Report, SuiteError> {
    let rt = runner::runtime_for_scenario(scenario).map_err(SuiteError::Runtime)?;
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
    /// Returns the callback the runner calls with each sample's queue depth and live heap bytes.
    fn sampled(&mut self) -> Option<crate::drive::context::SampleSink> {
        None
    }
    /// The scenario finished.
    fn finish(&mut self, result: &ScenarioResult);
    /// The instruction counts of `total` scenarios are being made (before any runs); returns
    /// the callback called as each one is done.
    fn counting(&mut self, _total: usize) -> Option<Arc<dyn Fn() + Send + Sync>> {
        None
    }
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
    // A scenario whose prerequisite is missing does not run: it is reported, not judged.
    let mut not_run: Vec<NotRun> = helpers.counting_unavailable.iter().cloned().collect();
    let runnable: Vec<Scenario> = scenarios
        .iter()
        .filter(|s| match prerequisites::missing(s, helpers) {
            Some(missing) => {
                not_run.push(missing);
                false
            }
            None => true,
        })
        .cloned()
        .collect();
    let scenarios = &runnable[..];
    let started = Instant::now();
    let started_unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let counted_one = match helpers.counter {
        Some(_) => observer.counting(scenarios.len()),
        None => None,
    };
    let mut counts = count_all(scenarios, helpers, stop, counted_one.as_deref());
    let mut results = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        observer.start(i, scenarios.len(), scenario, scenario.total_ops());
        let options = RunOptions {
            progress: observer.progress(),
            sampled: observer.sampled(),
            stop: Some(Arc::clone(stop)),
            nats: helpers.nats.clone(),
            fleet_bin: Some(helpers.fleet.clone()),
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
        if let Some(counted) = counts[i].take() {
            report.instructions = counted?;
        }
        let result = judge(baselines, report)?;
        observer.finish(&result);
        results.push(result);
    }
    let partial = results.len() < scenarios.len() || results.iter().any(|r| r.report.partial);
    Ok(SuiteReport {
        schema_version: SUITE_SCHEMA_VERSION,
        not_run,
        partial,
        quick,
        started_unix_s,
        wall_s: started.elapsed().as_secs_f64(),
        environment: Environment::current(),
        cpu_model: crate::report::cpu_model(),
        results,
    })
}

/// What counting one scenario's instructions gave.
type Counted =
    Result<Option<crate::instructions::InstructionReport>, crate::instructions::CountError>;

/// The scenarios' instruction counts, made before any scenario runs, as many at once as there
/// are cores: a count is exact whatever else runs (and most of its time is valgrind starting),
/// a real-time run is not, so no count may run beside one. Keyed by the scenario's index.
fn count_all(
    scenarios: &[Scenario],
    helpers: &Helpers,
    stop: &AtomicBool,
    counted_one: Option<&(dyn Fn() + Send + Sync)>,
) -> Vec<Option<Counted>> {
    let done: Vec<std::sync::Mutex<Option<Counted>>> = scenarios
        .iter()
        .map(|_| std::sync::Mutex::default())
        .collect();
    if let Some(counter) = &helpers.counter {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(scenario) = scenarios.get(i) else {
                        break;
                    };
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let counted = crate::instructions::count(counter, scenario);
                    if let Some(tick) = counted_one {
                        tick();
                    }
                    *done[i]
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(counted);
                });
            }
        });
    }
    done.into_iter()
        .map(|d| {
            d.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect()
}

/// A scenario's result beside what a published report claimed for it.
pub(crate) type Claimed<'a> = (&'a ScenarioResult, &'static PublishedClaim);

/// The published claims about the suite's scenarios: those our figures answer like for like,
/// and those where our figures restate the scenario's inputs (model checks), in suite order.
pub(crate) fn claims(suite: &SuiteReport) -> (Vec<Claimed<'_>>, Vec<Claimed<'_>>) {
    suite
        .results
        .iter()
        .filter_map(|r| Some((r, crate::catalog::published_claim(&r.report.scenario)?)))
        .partition(|(_, c)| c.basis == Basis::LikeForLike)
}

/// How a table names a clock.
pub(crate) fn clock_name(clock: crate::scenario::Clock) -> &'static str {
    match clock {
        crate::scenario::Clock::Real => "real",
        crate::scenario::Clock::Virtual => "virtual",
    }
}
