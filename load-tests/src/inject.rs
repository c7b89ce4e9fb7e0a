//! Regressions the suite can inject on purpose, to prove that the baseline gate catches them.
//! Only the scenario agents and drivers of this crate read it; agent-core knows nothing of it.

use serde::{Deserialize, Serialize};

/// A deliberate regression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Injection {
    /// One extra heap allocation (freed at once) per message handled.
    ExtraAllocationPerMessage,
    /// One leaked heap block per operation.
    LeakPerOperation,
    /// One message counted as sent but never sent.
    LoseOneMessage,
    /// Every handler does its work twice over (simulated waits doubled; in real-time messaging,
    /// each message costs an extra spin as long as the calibration's whole per-message cost).
    Slowdown2x,
}
