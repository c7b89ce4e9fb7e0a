//! Cron schedule accuracy (seed 002's scheduled-task accuracy, test 6.2, its "cron: daily at a
//! specific time" and "interval: every 5 minutes"): real cron expressions through agent-core's
//! scheduler over simulated days on the virtual clock; every firing is checked against the
//! times the expression itself gives: fired, missed, duplicates, drift.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the cron kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronScheduleKind {
    /// The jobs.
    pub jobs: Vec<CronJob>,
    /// Simulated days, from Monday 2026-01-05 00:00 UTC.
    pub days: u64,
    /// How long each firing's work takes, milliseconds (a report being produced).
    pub work_ms: u64,
}

/// One job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronJob {
    /// Its name in reports (letters, digits and '_').
    pub name: String,
    /// A cron expression: five fields, or six with seconds first.
    pub expression: String,
}
