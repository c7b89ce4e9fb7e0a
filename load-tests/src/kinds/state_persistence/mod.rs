//! State persistence (seed 002): `agents` agents each save their state `ops_per_agent` times to a
//! durable store on disk while a heartbeat agent keeps answering; every state is verified after
//! reopening the store.

mod run;

use serde::{Deserialize, Serialize};

/// The state-persistence kind has no parameters of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatePersistence {}
