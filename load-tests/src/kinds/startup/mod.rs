//! Startup (seed 002's scaling benchmark): fleets of agents whose start hooks take `init_us`,
//! started one after another; measures the time until every agent of a fleet is registered and
//! healthy. The common fields other than `clock` are not used.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the startup kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Startup {
    /// Fleet sizes, started one after another.
    pub counts: Vec<usize>,
    /// Simulated initialisation per agent (connect, load config), in microseconds.
    pub init_us: u64,
}
