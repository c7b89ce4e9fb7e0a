//! Shared by the scenario suites (`scenarios_*.rs`): one call to [`load_tests::check_standard`],
//! the path a team's own load tests take too ([`load_tests::AgentLoad`]). The virtual-clock suite
//! installs dhat as its binary's global allocator with `load_tests::count_heap!()`; the real-time
//! ones do not, so that no counting allocator's lock is in what they time.

use std::path::{Path, PathBuf};

use load_tests::catalog;

/// One scenario at a time in a process. nextest runs every case in a process of its own, so this
/// never waits there; `cargo test` runs a binary's cases on threads of one process, and each case
/// measures in a child process of its own (`load_tests::check_standard`): this keeps two such
/// children from sharing the cores a real-time ratio needs.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs the standard scenario `name` and fails the test if it broke a promise or regressed
/// against its baseline (or rewrites the baseline under `UPDATE_BASELINES=1`).
pub(crate) async fn check(name: &str) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let scenario =
        catalog::by_name(name).unwrap_or_else(|| panic!("no standard scenario named {name:?}"));
    let baselines = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../baselines");
    let counter = Path::new(env!("CARGO_BIN_EXE_load-tests"));
    load_tests::check_standard(&scenario, counter, &baselines).await;
}
