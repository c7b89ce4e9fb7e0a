//! What a scenario needs besides this process (a NATS server, the heap worker, valgrind), checked
//! before it runs: a scenario whose prerequisite is missing is "not run" with the reason and the
//! command that fixes it, counted apart from passes and regressions (exit 3), never a run whose
//! every message is counted lost.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;

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
    /// The binary delivery scenarios start as worker and publisher processes (this one).
    pub fleet: PathBuf,
    /// The NATS server or cluster the bus scenarios use (`--nats`); `None` starts one per
    /// scenario.
    pub nats: Option<String>,
    /// Why instructions are not counted although they were asked for (valgrind missing): the
    /// suite runs the rest and reports this as not run.
    pub counting_unavailable: Option<NotRun>,
}

/// Something the suite could not do, why, and how to make it possible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotRun {
    /// A scenario's name, or what part of the run was left out ("instruction counts").
    pub what: String,
    /// Why.
    pub reason: String,
    /// The command (or step) that fixes it.
    pub fix: String,
}

impl std::fmt::Display for NotRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not run: {}: {}; fix: {}",
            self.what, self.reason, self.fix
        )
    }
}

/// The fix for valgrind missing.
pub const INSTALL_VALGRIND: &str =
    "sudo apt-get install valgrind (Debian, Ubuntu; or pass --no-instructions)";

/// Why `scenario` cannot run with `helpers`, if it cannot.
pub(super) fn missing(scenario: &Scenario, helpers: &Helpers) -> Option<NotRun> {
    let not_run = |reason: String, fix: &str| NotRun {
        what: scenario.name.clone(),
        reason,
        fix: fix.to_owned(),
    };
    if scenario.profiles_heap() && !helpers.heap_worker.is_file() {
        return Some(not_run(
            format!(
                "its heap worker {} is missing",
                helpers.heap_worker.display()
            ),
            "cargo build --release -p load-tests --bins (cargo run builds it by itself)",
        ));
    }
    if scenario.kind.rules().needs_network() && helpers.nats.is_none() {
        if let Err(e) = nats_testkit::server_binary() {
            // The error ends with the same command, on a line of its own.
            let reason = e.to_string();
            let reason = reason.split("\n  by hand:").next().unwrap_or_default();
            return Some(not_run(reason.to_owned(), nats_testkit::BY_HAND));
        }
    }
    None
}
