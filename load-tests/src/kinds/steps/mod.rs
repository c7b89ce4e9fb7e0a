//! Steps (seed 000's concurrent agents, seed 003's workflows, sustained load): `agents` step
//! agents each perform `ops_per_agent` workload steps. In a closed loop, `concurrency` drivers
//! share the agents and ask for one step after another; in an open loop, steps start on
//! `arrival`'s schedule whatever earlier ones are doing, and latency runs from each step's
//! intended start. `message_bytes` is not used.

pub(crate) mod agent;
pub(crate) mod run;

use serde::{Deserialize, Serialize};

/// The published sustained-load duration (seed 000: `test_sustained_load(50, 3)`, three
/// minutes): an open-loop scenario's full scale.
pub const PUBLISHED_SUSTAINED_S: u64 = 180;

/// The steps kind has no parameters of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Steps {}
