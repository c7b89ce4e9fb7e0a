//! What a driver works with: the run's options, its shared context (operations counted, runtimes
//! watched, the stop flag) and what it hands back to the runner.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agent_core::AgentRuntime;
use thiserror::Error;

use crate::metrics::LatencyRecorder;
use crate::report::{Delivery, Operations, PoolReport, Yardstick};
use crate::scenario::Scenario;

/// Interleaved rounds a side of a real-time scenario measured against raw tokio, by build
/// profile. Release (the CLI's full-scale runs): more rounds, which narrow the spread within a
/// run but not between runs or days ([`crate::gate::Gate::REAL_RATIO_TOLERANCE_RELEASE`]).
/// Debug (the test command): fewer, within its time budget.
pub const DEFAULT_ROUNDS: u32 = if cfg!(debug_assertions) { 7 } else { 25 };

/// Takes each time-series sample's queue depth and live heap bytes (`None` where the heap is not
/// counted).
pub type SampleSink = Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

/// How a run is carried out, beyond the scenario itself.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Interleaved rounds for real-time scenarios compared with a calibration (default
    /// [`DEFAULT_ROUNDS`]; the reported ratio is their median).
    pub rounds: Option<u32>,
    /// Called with the operations completed so far (for progress bars).
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    /// Called with each time-series sample's queue depth and live heap bytes (for live figures).
    pub sampled: Option<SampleSink>,
    /// Set to stop the run early; the report is then marked partial.
    pub stop: Option<Arc<AtomicBool>>,
    /// A run whose instructions are being counted ([`crate::instructions`]): real-time drivers
    /// do their traffic once, without the raw tokio calibration rounds.
    pub counting: bool,
    /// A NATS server or cluster (comma-separated URLs) for the bus scenarios; `None` starts one
    /// for each scenario (faults that need control of the server only run then).
    pub nats: Option<String>,
    /// The `load-tests` binary, which delivery scenarios start as worker and publisher
    /// processes; `None` uses this process's own executable if it is `load-tests`.
    pub fleet_bin: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("rounds", &self.rounds)
            .field("counting", &self.counting)
            .field("nats", &self.nats)
            .field("fleet_bin", &self.fleet_bin)
            .finish_non_exhaustive()
    }
}

/// A scenario that cannot run as written.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum RunError {
    /// A field is out of range; names the scenario and the field.
    #[error("scenario {scenario:?}: field `{field}`: {problem}")]
    Invalid {
        /// The scenario.
        scenario: String,
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The scenario's kind is driven only by its own test (a team's agent type).
    #[error("scenario {scenario:?}: field `kind.type`: kind `{kind}` runs only from the test that has its agent type (load_tests::AgentLoad), not from a file")]
    NeedsItsTest {
        /// The scenario.
        scenario: String,
        /// The kind.
        kind: &'static str,
    },
}

/// What a driver measured; the runner adds time, heap and OS figures around it.
#[derive(Debug, Default)]
pub(crate) struct DriverOutput {
    pub(crate) ops: Operations,
    pub(crate) latency: LatencyRecorder,
    pub(crate) delivery: Option<Delivery>,
    pub(crate) pool: Option<PoolReport>,
    pub(crate) yardstick: Option<Yardstick>,
    pub(crate) extra: BTreeMap<String, f64>,
    pub(crate) max_depth: u64,
    /// Overrides the measured elapsed time (for drivers that run several rounds and report one).
    pub(crate) elapsed: Option<Duration>,
}

/// Reads the depth of a queue the runner cannot see by itself.
pub(crate) type DepthSource = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Shared between the runner, its driver and the sampler.
pub(crate) struct RunContext {
    pub(crate) scenario: Scenario,
    pub(crate) options: RunOptions,
    pub(crate) ops_done: AtomicU64,
    pub(crate) watched: Mutex<Vec<AgentRuntime>>,
    /// Queues that are not an agent runtime's (a bus's subscribers, a broker's consumer lag),
    /// added to the queue-depth series.
    pub(crate) depth_sources: Mutex<Vec<DepthSource>>,
    /// Whether every runtime retired from the watch ([`RunContext::retire`]) was conserved.
    pub(crate) retired_conserved: AtomicBool,
}

impl RunContext {
    /// Counts `n` completed operations (for the time series and progress).
    pub(crate) fn done(&self, n: u64) {
        let total = self.ops_done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(progress) = &self.options.progress {
            progress(total);
        }
    }

    /// Adds a runtime whose mailboxes the sampler sums for the queue-depth series.
    pub(crate) fn watch(&self, runtime: &AgentRuntime) {
        self.watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(runtime.clone());
    }

    /// Adds `source` to the queue-depth series (it must not allocate: it runs in the sampler).
    pub(crate) fn watch_depth(&self, source: DepthSource) {
        self.depth_sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(source);
    }

    /// Makes room to watch `n` more runtimes now, so that watching them later allocates
    /// nothing (a driver that checks for leaks reserves before its setup point).
    pub(crate) fn reserve_watch(&self, n: usize) {
        self.watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reserve(n);
    }

    /// Stops watching `runtime` (so the run holds no handle on it and a driver can check that
    /// nothing it allocated is left), keeping whether its mailboxes account for every message.
    pub(crate) fn retire(&self, runtime: &AgentRuntime) {
        let conserved = runtime.snapshot().mailboxes.is_conserved();
        self.retired_conserved
            .fetch_and(conserved, Ordering::Relaxed);
        self.watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|rt| !rt.same_as(runtime));
    }

    /// Whether the run was asked to stop early.
    pub(crate) fn stopping(&self) -> bool {
        self.options
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    /// Lock stripes for the run's tallies: one on the virtual clock and in a counted run (one
    /// thread: more stripes would only add histograms to create and merge, harness work the
    /// instruction count would then dilute agent-core's per-message cost with), else
    /// [`crate::metrics::STRIPES`].
    pub(crate) fn stripes(&self) -> usize {
        if self.options.counting {
            1
        } else {
            crate::metrics::stripes(self.scenario.clock)
        }
    }

    pub(crate) fn rounds(&self) -> u32 {
        self.options.rounds.unwrap_or(DEFAULT_ROUNDS).max(1)
    }

    /// Messages pending in every watched runtime; allocation-free, so sampling does not show up
    /// in the run's heap figures.
    pub(crate) fn queue_depth(&self) -> u64 {
        self.watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(AgentRuntime::pending_messages)
            .sum::<u64>()
            + self
                .depth_sources
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .map(|source| source())
                .sum::<u64>()
    }
}
