//! The load-test harness for agent-core: scenarios as data, a runner that measures them honestly
//! (HdrHistogram latency split into queue and service time, heap counted by the allocator,
//! throughput on real time only as a ratio to raw tokio measured in the same process), JSON
//! reports with a versioned schema, and the baseline gate that fails the build on a regression.

pub mod attribution;
pub mod baseline;
pub mod catalog;
pub mod chaos;
pub mod cli;
pub mod distributed;
pub mod drive;
pub mod engine;
pub mod format;
pub mod gate;
pub mod history;
pub mod instructions;
mod invariants;
pub mod kinds;
pub mod load_test;
pub mod metrics;
pub mod nested_cargo;
mod own_process;
pub mod report;
pub mod resources;
pub mod rule;
pub mod runner;
pub mod scenario;
pub mod stats;
pub mod workload;

pub use baseline::{Baseline, BaselineError, Comparison, Rule};
#[doc(hidden)]
pub use dhat; // For `count_heap!`.
pub use load_test::{check_standard, AgentLoad};
pub use report::{Report, SCHEMA_VERSION};
pub use runner::{run, runtime_for, RunError, RunOptions};
pub use scenario::{Arrival, Clock, Kind, Scenario, WorkflowType, Workload};

// The workspace README's examples compile (and those not marked `no_run` run) as doctests here:
// they use agent-core and load-tests both.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
