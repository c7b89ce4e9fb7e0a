//! Execution modes (seed 002): collaborative, autonomous, continuous and scheduled work at once,
//! each at its target rate, for `duration_s`.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the modes kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modes {
    /// How long the modes run (virtual seconds).
    pub duration_s: u64,
}
