//! Pool exhaustion (seed 003): `concurrency` requests at once for a pool of `slots` workers, each
//! holding a slot for the workload's duration and waiting at most `acquire_timeout_ms` for one.
//! `agents`, `ops_per_agent` and `message_bytes` are not used.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the pool-exhaustion kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolExhaustion {
    /// Slots in the pool (one worker each).
    pub slots: usize,
    /// How long a request waits for a slot.
    pub acquire_timeout_ms: u64,
}
