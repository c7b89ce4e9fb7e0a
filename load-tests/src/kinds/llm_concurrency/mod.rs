//! LLM concurrency (seed 002): `concurrency` simultaneous callers make `ops_per_agent` simulated
//! LLM calls each under a token-bucket limit, honouring its "retry after".

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the LLM-concurrency kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConcurrency {
    /// Requests the bucket holds.
    pub bucket_capacity: u32,
    /// Requests per second it refills.
    pub refill_per_s: f64,
}
