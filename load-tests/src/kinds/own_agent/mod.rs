//! A team's own agent type under load, driven by [`crate::AgentLoad`] from the team's test:
//! `concurrency` senders ask `agents` agents for `ops_per_agent` requests each (closed loop), or
//! requests start on `arrival`'s schedule (open loop); each request is built with
//! `message_bytes` of payload by the test's own function. A scenario file naming this kind is
//! refused: only the test has the agent type.

pub(crate) mod run;

use agent_core::{MailboxConfig, RestartPolicy, RuntimeConfig};
use serde::{Deserialize, Serialize};

use crate::rule::Rule;

/// Parameters of the own-agent kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnAgent {
    /// The agent's Rust type, for the report.
    pub agent_type: String,
    /// Each agent's mailbox (`None`: the runtime's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<MailboxConfig>,
    /// Each agent's restart policy (`None`: the runtime's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartPolicy>,
    /// The agents' runtime (`None`: `RuntimeConfig::default()`); boxed, as it is large.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Box<RuntimeConfig>>,
    /// The test's own figures, read after each run into `extra.<name>` and gated by their rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<OwnMetric>,
}

/// A figure a team's test adds to its report and baseline ([`crate::AgentLoad::metric`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnMetric {
    /// Its key under `extra` in the report.
    pub name: String,
    /// How it is compared with its baseline.
    pub rule: Rule,
    /// The allowed relative deviation for `at_most`, `at_least` and `within`.
    pub tolerance: f64,
}

impl OwnAgent {
    /// The parameters of agents of type `A` with every default.
    pub(crate) fn of<A>() -> OwnAgent {
        OwnAgent {
            agent_type: std::any::type_name::<A>().to_owned(),
            mailbox: None,
            restart: None,
            runtime: None,
            metrics: Vec::new(),
        }
    }
}
