//! Sequential (seed 000's leak test): one agent performs `agents x ops_per_agent` operations one
//! after another; the heap is sampled every `sample_every` operations, and nothing may stay live
//! after teardown. `concurrency` and `message_bytes` are not used.

pub(crate) mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the sequential kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sequential {
    /// Operations between heap samples.
    pub sample_every: usize,
}
