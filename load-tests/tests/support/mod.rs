//! Shared by every scenario test: running a standard scenario, counting its instructions, and
//! gating its report against `baselines/`. A test whose scenario profiles the heap installs dhat
//! as its binary's global allocator with `support::count_heap!()` (each test file is its own
//! binary, so each has one heap profiler); real-time scenarios do not, so that no counting
//! allocator's lock is in what they time.
#![allow(dead_code, unused_macros, unused_imports, unreachable_pub)] // Each test binary uses a different part.

use std::path::PathBuf;

use load_tests::baseline::{self, gates::gates_for, Baseline, Comparison, Outcome};
use load_tests::resources::{self, HeapProfiler};
use load_tests::{catalog, run, Report, RunOptions, Scenario};

/// Installs dhat's allocator as this test binary's global allocator.
macro_rules! count_heap {
    () => {
        #[global_allocator]
        static ALLOC: dhat::Alloc = dhat::Alloc;
    };
}
pub(crate) use count_heap;

/// The checked-in baselines.
pub fn baselines_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../baselines")
}

/// The standard scenario `name`.
pub fn scenario(name: &str) -> Scenario {
    catalog::by_name(name).unwrap_or_else(|| panic!("no standard scenario named {name:?}"))
}

/// Runs the standard scenario `name` and fails the test if it regressed against its baseline
/// (or rewrites the baseline under `UPDATE_BASELINES=1`).
pub async fn check(name: &str) {
    let mut report = measure(&scenario(name), &RunOptions::default()).await;
    report.instructions = count_instructions(&report.config);
    save(&report);
    let violations = report.violations();
    assert!(
        violations.is_empty(),
        "scenario {name} broke its promises: {violations:#?}\nfull report: {}",
        save(&report).display()
    );
    match baseline::gate(&baselines_dir(), &report) {
        Ok(Outcome::Compared(c)) if c.passed() => eprintln!("{c}"),
        Ok(Outcome::Compared(c)) => panic!("\n{c}\nfull report: {}", save(&report).display()),
        Ok(Outcome::Blessed(path)) => eprintln!("blessed {}", path.display()),
        Err(e) => panic!("{e}"),
    }
}

/// Runs `scenario` with a heap profiler where the scenario counts the heap, and saves the report
/// under `target/load-reports/` for inspection.
pub async fn measure(scenario: &Scenario, options: &RunOptions) -> Report {
    let profiler = if scenario.profiles_heap() {
        resources::wait_for_main_thread_to_sleep();
        Some(HeapProfiler::start().expect("dhat is this test binary's allocator"))
    } else {
        None
    };
    let report = run(scenario, options)
        .await
        .expect("standard scenarios are valid");
    drop(profiler);
    save(&report);
    report
}

/// Instructions per operation of `scenario`'s counting form, counted under valgrind by this
/// package's `load-tests` binary (`None` for scenarios not counted). Panics with the install
/// command when valgrind is missing: the gate never passes silently.
pub fn count_instructions(
    scenario: &Scenario,
) -> Option<load_tests::instructions::InstructionReport> {
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_load-tests"));
    load_tests::instructions::count(exe, scenario).unwrap_or_else(|e| panic!("{e}"))
}

/// Compares `report` with its committed baseline, never rewriting it.
pub fn compare(report: &Report) -> Comparison {
    let path = baseline::path_for(&baselines_dir(), &report.scenario);
    let b = Baseline::load(&path, &report.scenario).unwrap_or_else(|e| panic!("{e}"));
    b.compare(report, &gates_for(&report.config), &path)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn save(report: &Report) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("load-reports");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{}.json", report.scenario));
    let _ = std::fs::write(&path, report.to_json());
    path
}
