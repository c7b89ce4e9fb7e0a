//! A team's own agent type under load, driven by [`crate::AgentLoad`] from the team's test:
//! `concurrency` senders ask `agents` agents for `ops_per_agent` requests each (closed loop), or
//! requests start on `arrival`'s schedule (open loop); each request is built with
//! `message_bytes` of payload by the test's own function. A scenario file naming this kind is
//! refused: only the test has the agent type.

pub(crate) mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the own-agent kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnAgent {
    /// The agent's Rust type, for the report.
    pub agent_type: String,
}
