//! Scheduled day (seed 002's scheduled-task accuracy): `agents` interval jobs, one run every
//! `interval_s`, over a simulated day of `hours`: drift, missed and duplicate firings.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the scheduled-day kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledDay {
    /// The day's length.
    pub hours: u64,
    /// Seconds between runs of each job.
    pub interval_s: u64,
}
