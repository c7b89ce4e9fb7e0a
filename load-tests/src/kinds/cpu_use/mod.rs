//! CPU use (seed 002's resource utilization, test 4.2: CPU at idle, under load, during agent
//! startup): one process, three phases on the real clock, the process's CPU time (user +
//! system, `getrusage`) over each phase's wall time. Absolute real-time figures: reported
//! beside the seed's criteria, never gated; the message counts are.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the CPU-use kind. The scenario's `agents` are started, left idle, then sent
/// `rate_per_s` messages a second (the scenario's `message_bytes` each) for `load_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuUse {
    /// How long the agents sit idle, milliseconds.
    pub idle_ms: u64,
    /// Messages per second in the load phase.
    pub rate_per_s: f64,
    /// How long the load phase lasts, milliseconds.
    pub load_ms: u64,
}
