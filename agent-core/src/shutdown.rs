//! Graceful shutdown: stop accepting, drain until a deadline, abandon what is left, run stop
//! hooks, and account for every agent and message.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::health::Health;
use crate::runtime::AgentRuntime;

/// How a shutdown proceeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownConfig {
    /// How long agents may keep draining their mailboxes. After it, queued messages are abandoned.
    pub drain_deadline: Duration,
    /// After abandoning, how long a handler already running may take to finish before its task is
    /// aborted (its stop hook then does not run).
    pub grace: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            drain_deadline: Duration::from_secs(5),
            grace: Duration::from_secs(1),
        }
    }
}

/// What a shutdown did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownReport {
    /// Agents live when the shutdown began.
    pub agents: u64,
    /// Agents that ended cleanly (drained, stop hook run).
    pub stopped: u64,
    /// Agents that ended as failed during the shutdown.
    pub failed: u64,
    /// Agents whose task was aborted after the grace period.
    pub aborted: u64,
    /// Messages delivered to handlers after the shutdown began.
    pub drained: u64,
    /// Queued messages discarded at the deadline.
    pub abandoned: u64,
    /// Whether every agent finished draining before the deadline.
    pub drained_in_time: bool,
    /// How long the shutdown took, in milliseconds (tokio's clock).
    pub elapsed_ms: u64,
}

impl AgentRuntime {
    /// Shuts the runtime down: no new agents or messages are accepted, agents drain their mailboxes
    /// until the deadline, what is still queued then is abandoned, and tasks still running after the
    /// grace period are aborted. When this returns, every agent task of this runtime has finished
    /// (on a multi-threaded runtime tokio drops its record of a finished task a moment later).
    pub async fn shutdown(&self, config: ShutdownConfig) -> ShutdownReport {
        let began = Instant::now();
        self.stop_accepting();
        let probes = self.probes();
        let delivered_before: u64 = probes.iter().map(|p| p.delivered_total()).sum();
        for p in &probes {
            p.close();
        }
        let tracker = self.tracker();
        tracker.close();

        let drained_in_time = tokio::time::timeout(config.drain_deadline, tracker.wait())
            .await
            .is_ok();
        let mut abandoned = 0;
        // Which agents' tasks were asked to abort: an abort that finds the task in its last poll
        // does not take effect, and the task ends by itself (stopped, not aborted).
        // (Filled only when tasks are aborted, so that a shutdown that drains allocates nothing.)
        let mut abort_asked: Vec<bool> = Vec::new();
        if !drained_in_time {
            for p in &probes {
                abandoned += p.abandon();
            }
            if tokio::time::timeout(config.grace, tracker.wait())
                .await
                .is_err()
            {
                abort_asked = probes.iter().map(|p| p.abort()).collect();
                tracker.wait().await;
            }
        }

        let delivered_after: u64 = probes.iter().map(|p| p.delivered_total()).sum();
        let failed = probes
            .iter()
            .filter(|p| p.health() == Health::Failed)
            .count() as u64;
        let aborted = probes
            .iter()
            .zip(&abort_asked)
            .filter(|(p, asked)| **asked && p.health() == Health::Failed)
            .count() as u64;
        ShutdownReport {
            agents: probes.len() as u64,
            stopped: probes.len() as u64 - failed,
            failed: failed - aborted,
            aborted,
            drained: delivered_after - delivered_before,
            abandoned,
            drained_in_time,
            elapsed_ms: began.elapsed().as_millis() as u64,
        }
    }
}
