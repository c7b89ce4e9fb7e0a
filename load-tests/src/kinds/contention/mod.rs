//! Resource contention (seed 003): CPU-heavy and memory-heavy workflows at once, `ops_per_agent`
//! steps each, compared with the same work on raw tokio in the same process.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the contention kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contention {
    /// Concurrent CPU-heavy workflows.
    pub cpu_workflows: usize,
    /// Concurrent memory-heavy workflows.
    pub memory_workflows: usize,
    /// CPU rounds per step of a CPU-heavy workflow.
    pub cpu_iterations: u64,
    /// Bytes allocated and touched per step of a memory-heavy workflow.
    pub alloc_bytes: usize,
}
