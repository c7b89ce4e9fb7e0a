//! Steps (seed 000's concurrent agents, seed 003's workflows, sustained load): `agents` step
//! agents each perform `ops_per_agent` workload steps. In a closed loop, `concurrency` drivers
//! share the agents and ask for one step after another; in an open loop, steps start on
//! `arrival`'s schedule whatever earlier ones are doing, and latency runs from each step's
//! intended start. `message_bytes` is not used.

pub(crate) mod agent;
pub(crate) mod run;

use serde::{Deserialize, Serialize};

/// The steps kind has no parameters of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Steps {}
