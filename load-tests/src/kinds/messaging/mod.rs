//! Messaging (seed 001, PhantomMesh profiles): `concurrency` senders spread
//! `agents x ops_per_agent` messages of `message_bytes` over `agents` receivers; every message
//! is checked for loss and for order per sender. Throughput and CPU per message are compared
//! with the same traffic over raw tokio channels, in the same process, rounds interleaved.

pub(crate) mod raw_tokio;
pub(crate) mod run;
pub(crate) mod traffic;

use serde::{Deserialize, Serialize};

/// The messaging kind's one parameter: whether the runtime is exported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Messaging {
    /// The runtime runs with an OpenMetrics collector attached and histograms on
    /// (`RuntimeConfig::histograms`): what the export costs a message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub metrics: bool,
}
