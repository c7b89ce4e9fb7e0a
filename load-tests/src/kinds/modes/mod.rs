//! Execution modes (seed 002, test 1.2): collaborative, autonomous, continuous and scheduled
//! work at once, each with the seed's number of agents and at its target rate, for
//! `duration_s`. Rates count work completed, not work started.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the modes kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modes {
    /// How long work arrives (virtual seconds); what arrived is then finished.
    pub duration_s: u64,
    /// Agents each collaborative task passes through, in turn (the seed: 10).
    pub collaborative_agents: usize,
    /// Workers pulling autonomous tasks from one queue (the seed: 50).
    pub autonomous_agents: usize,
    /// Agents each consuming their own stream (the seed: 20).
    pub continuous_agents: usize,
    /// Agents each running a periodic report (the seed: 15).
    pub scheduled_agents: usize,
}
