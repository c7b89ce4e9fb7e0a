//! Memory per agent (seed 002's resource utilization, test 4.1): agents added in steps (the
//! seed's "add 10, measure, add 10 more, measure"), the live heap counted by the allocator after
//! each step, then a long soak on the virtual clock in which every agent keeps handling
//! messages while the live heap is sampled each simulated hour: its slope must be flat.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the agent-memory kind. The scenario's `agents` are added `step` at a time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentMemory {
    /// Agents added per step.
    pub step: usize,
    /// Simulated hours of the soak.
    pub soak_hours: u64,
    /// Seconds between two messages to each agent during the soak.
    pub message_every_s: u64,
}
