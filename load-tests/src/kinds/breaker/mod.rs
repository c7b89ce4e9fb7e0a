//! Circuit breaker (seed 003's recommendations): `agents x ops_per_agent` calls, one every 10 ms,
//! through a breaker to a tool that is overloaded for a while; measures the failure rate and how
//! long after the overload the breaker closes again.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the breaker kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breaker {
    /// When the overload starts, ms after the start.
    pub overload_from_ms: u64,
    /// When it ends.
    pub overload_until_ms: u64,
}
