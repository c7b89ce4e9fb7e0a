//! Shared by every standard scenario's test: one call to [`load_tests::check_standard`], the
//! path a team's own load tests take too ([`load_tests::AgentLoad`]). A test whose scenario runs
//! on the virtual clock installs dhat as its binary's global allocator with
//! `load_tests::count_heap!()` (each test file is its own binary, so each has one heap
//! profiler); real-time scenarios do not, so that no counting allocator's lock is in what they
//! time.

use std::path::{Path, PathBuf};

use load_tests::catalog;

/// Runs the standard scenario `name` and fails the test if it broke a promise or regressed
/// against its baseline (or rewrites the baseline under `UPDATE_BASELINES=1`).
pub(crate) async fn check(name: &str) {
    let scenario =
        catalog::by_name(name).unwrap_or_else(|| panic!("no standard scenario named {name:?}"));
    let baselines = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../baselines");
    let counter = Path::new(env!("CARGO_BIN_EXE_load-tests"));
    load_tests::check_standard(&scenario, counter, &baselines).await;
}
