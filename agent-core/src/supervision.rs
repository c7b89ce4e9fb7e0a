//! Supervision: restart policies with backoff, and the reports of failed messages.
//!
//! A handler error or panic never leaves the agent's task: the lifecycle loop catches it, fails the
//! pending ask (if any), records a [`FailureReport`], and asks the [`RestartPolicy`] what to do.
//! The mailbox survives restarts, so messages queued behind the failed one are still delivered.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::id::{AgentId, TraceId};

/// What to do when an agent's handler or start hook fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "policy")]
pub enum RestartPolicy {
    /// Stop the agent on its first failure (health becomes failed; queued messages are abandoned).
    Never,
    /// Build a fresh agent from the factory after each failure, waiting a backoff first, unless
    /// more than `max_restarts` restarts would fall within `within`; then stop as failed.
    OnFailure {
        /// Restarts allowed within the window.
        max_restarts: u32,
        /// The sliding window.
        within: Duration,
        /// The wait before each restart.
        backoff: Backoff,
    },
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy::OnFailure {
            max_restarts: 3,
            within: Duration::from_secs(10),
            backoff: Backoff::default(),
        }
    }
}

/// Exponential backoff: `initial * factor^n`, capped at `max`, where `n` counts recent restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The largest wait.
    pub max: Duration,
    /// The growth factor per restart.
    pub factor: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_secs(1),
            factor: 2,
        }
    }
}

impl Backoff {
    /// The wait before restart number `n` (0-based).
    pub fn delay(&self, n: u32) -> Duration {
        let mult = self.factor.saturating_pow(n);
        self.initial.saturating_mul(mult).min(self.max)
    }
}

/// The decision after a failure.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterFailure {
    Restart(Duration),
    Stop,
}

/// The restart history of one agent, applied against its policy.
#[derive(Debug, Default)]
pub(crate) struct RestartWindow {
    /// Restarts within the window, oldest first (a `Vec`, 8 bytes smaller than a `VecDeque` in
    /// every agent's task; it holds at most `max_restarts` entries).
    recent: Vec<Instant>,
}

impl RestartWindow {
    pub(crate) fn decide(&mut self, policy: &RestartPolicy, now: Instant) -> AfterFailure {
        match *policy {
            RestartPolicy::Never => AfterFailure::Stop,
            RestartPolicy::OnFailure {
                max_restarts,
                within,
                backoff,
            } => {
                self.recent
                    .retain(|&t| now.saturating_duration_since(t) < within);
                if self.recent.len() >= max_restarts as usize {
                    return AfterFailure::Stop;
                }
                let n = self.recent.len() as u32;
                self.recent.push(now);
                AfterFailure::Restart(backoff.delay(n))
            }
        }
    }
}

/// Whether a failure was a returned error or a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCause {
    /// The handler or start hook returned an error.
    Error,
    /// The handler or start hook panicked.
    Panic,
}

/// One failed message (or start hook), as reported by the runtime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureReport {
    /// The agent that failed.
    pub agent: AgentId,
    /// Its name, if registered under one.
    pub agent_name: Option<String>,
    /// The trace id of the message that failed; `None` for a start hook.
    pub trace_id: Option<TraceId>,
    /// Error or panic.
    pub cause: FailureCause,
    /// The error's or panic's text.
    pub message: String,
    /// What the policy did about it.
    pub action: FailureAction,
}

/// What the runtime did after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum FailureAction {
    /// Restarted after this backoff.
    Restarted {
        /// The backoff waited, in milliseconds.
        backoff_ms: u64,
    },
    /// Stopped the agent as failed.
    Stopped,
}

/// A bounded log of recent failure reports plus the total ever reported.
#[derive(Debug)]
pub(crate) struct FailureLog {
    recent: Mutex<VecDeque<FailureReport>>,
    capacity: usize,
    total: AtomicU64,
}

impl FailureLog {
    pub(crate) fn new(capacity: usize) -> FailureLog {
        FailureLog {
            recent: Mutex::new(VecDeque::new()),
            capacity,
            total: AtomicU64::new(0),
        }
    }

    pub(crate) fn push(&self, report: FailureReport) {
        tracing::warn!(
            agent = %report.agent,
            trace_id = ?report.trace_id,
            cause = ?report.cause,
            action = ?report.action,
            "agent failure: {}",
            report.message
        );
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() == self.capacity {
            recent.pop_front();
        }
        if self.capacity > 0 {
            recent.push_back(report);
        }
    }

    pub(crate) fn recent(&self) -> Vec<FailureReport> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.iter().cloned().collect()
    }

    pub(crate) fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(50),
            factor: 2,
        };
        let delays: Vec<_> = (0..5).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [10, 20, 40, 50, 50]);
    }

    #[test]
    fn window_stops_after_max_restarts_and_forgets_old_ones() {
        let policy = RestartPolicy::OnFailure {
            max_restarts: 2,
            within: Duration::from_secs(1),
            backoff: Backoff::default(),
        };
        let mut w = RestartWindow::default();
        let t0 = Instant::now();
        assert_eq!(
            w.decide(&policy, t0),
            AfterFailure::Restart(Duration::from_millis(10))
        );
        assert_eq!(
            w.decide(&policy, t0),
            AfterFailure::Restart(Duration::from_millis(20))
        );
        assert_eq!(w.decide(&policy, t0), AfterFailure::Stop);
        // A second later the window is empty again.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(
            w.decide(&policy, t1),
            AfterFailure::Restart(Duration::from_millis(10))
        );
    }

    #[test]
    fn never_stops() {
        let mut w = RestartWindow::default();
        assert_eq!(
            w.decide(&RestartPolicy::Never, Instant::now()),
            AfterFailure::Stop
        );
    }
}
