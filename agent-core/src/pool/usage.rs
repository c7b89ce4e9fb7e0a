//! A pool's counters: slots in use over time (for the time-weighted average) and the snapshot
//! they are reported in.

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Slots in use over time, for the time-weighted average.
pub(super) struct Usage {
    pub(super) in_use: u64,
    pub(super) max_in_use: u64,
    pub(super) since: Instant,
    pub(super) last_change: Instant,
    /// Integral of `in_use` over time, in slot-nanoseconds.
    pub(super) area: u128,
}

impl Usage {
    pub(super) fn change(&mut self, now: Instant, up: bool) {
        self.area +=
            u128::from(self.in_use) * now.saturating_duration_since(self.last_change).as_nanos();
        self.last_change = now;
        if up {
            self.in_use += 1;
            self.max_in_use = self.max_in_use.max(self.in_use);
        } else {
            self.in_use -= 1;
        }
    }

    pub(super) fn average(&self, now: Instant) -> f64 {
        let total = now.saturating_duration_since(self.since).as_nanos();
        if total == 0 {
            return self.in_use as f64;
        }
        let area = self.area
            + u128::from(self.in_use) * now.saturating_duration_since(self.last_change).as_nanos();
        area as f64 / total as f64
    }
}

/// A pool's counters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolSnapshot {
    /// The pool's name.
    pub name: String,
    /// Worker agents now.
    pub workers: u64,
    /// Slots (concurrent leases allowed) now.
    pub capacity: u64,
    /// Leases out now.
    pub in_use: u64,
    /// The most leases out at once.
    pub max_in_use: u64,
    /// Successful acquires.
    pub acquires: u64,
    /// Acquires that found no free slot and had to wait.
    pub waits: u64,
    /// Acquires that gave up at their timeout.
    pub exhaustions: u64,
    /// Time-weighted average of leases out since the pool was made.
    pub avg_in_use: f64,
    /// `avg_in_use / capacity`.
    pub avg_utilization: f64,
}
