//! Human approvals with deadlines: a request waits for a person (or a test) answering through an
//! [`ApprovalInbox`], and takes its policy's default outcome when the deadline passes or nobody
//! is listening. Outcomes are counted and wait times recorded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::id::TraceId;

/// A person's (or the default's) answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Go ahead.
    Approved,
    /// Do not.
    Denied,
}

/// How long a request may wait, and what happens then.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// The longest wait for an answer.
    pub deadline: Duration,
    /// The outcome when the deadline passes (or no approver is listening).
    pub on_timeout: Decision,
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalOutcome {
    /// The decision that applies.
    pub decision: Decision,
    /// Whether it is the policy's default (deadline passed or no approver).
    pub defaulted: bool,
    /// How long the request waited (tokio's clock).
    pub waited: Duration,
}

/// A request as the approver sees it; answer with [`ApprovalRequest::approve`] or
/// [`ApprovalRequest::deny`]. Dropping it unanswered leaves the requester to its default.
#[derive(Debug)]
pub struct ApprovalRequest {
    /// What is to be approved.
    pub subject: String,
    /// The work it belongs to.
    pub trace_id: TraceId,
    /// When the default applies.
    pub deadline: Instant,
    answer: oneshot::Sender<Decision>,
}

impl ApprovalRequest {
    /// Approves.
    pub fn approve(self) {
        let _ = self.answer.send(Decision::Approved);
    }

    /// Denies.
    pub fn deny(self) {
        let _ = self.answer.send(Decision::Denied);
    }
}

/// Where approval requests arrive, for a person or a test to answer.
#[derive(Debug)]
pub struct ApprovalInbox {
    rx: mpsc::Receiver<ApprovalRequest>,
}

impl ApprovalInbox {
    /// The next request; `None` when every [`Approvals`] handle is gone.
    pub async fn next(&mut self) -> Option<ApprovalRequest> {
        self.rx.recv().await
    }
}

/// Raises approval requests and counts their outcomes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Approvals {
    tx: mpsc::Sender<ApprovalRequest>,
    stats: Arc<Stats>,
}

#[derive(Debug)]
struct Stats {
    approved: AtomicU64,
    denied: AtomicU64,
    timed_out: AtomicU64,
    wait: Mutex<Histogram<u64>>,
}

/// Approval counts and wait times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalsSnapshot {
    /// Approved by the approver.
    pub approved: u64,
    /// Denied by the approver.
    pub denied: u64,
    /// Decided by the default (deadline or no approver).
    pub timed_out: u64,
    /// Median wait, nanoseconds.
    pub wait_p50_ns: u64,
    /// 95th percentile wait, nanoseconds.
    pub wait_p95_ns: u64,
    /// Longest wait, nanoseconds.
    pub wait_max_ns: u64,
}

impl Approvals {
    /// An approval channel holding up to `capacity` unanswered requests.
    pub fn channel(capacity: usize) -> (Approvals, ApprovalInbox) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let stats = Arc::new(Stats {
            approved: AtomicU64::new(0),
            denied: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            wait: Mutex::new(
                Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
                    .expect("static histogram bounds"),
            ),
        });
        (Approvals { tx, stats }, ApprovalInbox { rx })
    }

    /// Asks for approval of `subject`; resolves when answered or at the deadline.
    pub async fn request(
        &self,
        subject: impl Into<String>,
        trace_id: TraceId,
        policy: ApprovalPolicy,
    ) -> ApprovalOutcome {
        let start = Instant::now();
        let deadline = start + policy.deadline;
        let (answer, answered) = oneshot::channel();
        let request = ApprovalRequest {
            subject: subject.into(),
            trace_id,
            deadline,
            answer,
        };
        let decided = match tokio::time::timeout_at(deadline, self.tx.send(request)).await {
            Ok(Ok(())) => match tokio::time::timeout_at(deadline, answered).await {
                Ok(Ok(decision)) => Some(decision),
                // Dropped unanswered, or the deadline passed.
                Ok(Err(_)) | Err(_) => None,
            },
            // Nobody is listening, or the inbox stayed full until the deadline.
            Ok(Err(_)) | Err(_) => None,
        };
        let waited = start.elapsed();
        let outcome = ApprovalOutcome {
            decision: decided.unwrap_or(policy.on_timeout),
            defaulted: decided.is_none(),
            waited,
        };
        let counter = match decided {
            Some(Decision::Approved) => &self.stats.approved,
            Some(Decision::Denied) => &self.stats.denied,
            None => &self.stats.timed_out,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.stats
            .wait
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .saturating_record(ns);
        outcome
    }

    /// Counts and wait percentiles.
    pub fn snapshot(&self) -> ApprovalsSnapshot {
        let h = self
            .stats
            .wait
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let q = |q: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(q)
            }
        };
        ApprovalsSnapshot {
            approved: self.stats.approved.load(Ordering::Relaxed),
            denied: self.stats.denied.load(Ordering::Relaxed),
            timed_out: self.stats.timed_out.load(Ordering::Relaxed),
            wait_p50_ns: q(0.5),
            wait_p95_ns: q(0.95),
            wait_max_ns: if h.is_empty() { 0 } else { h.max() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ApprovalPolicy = ApprovalPolicy {
        deadline: Duration::from_secs(2),
        on_timeout: Decision::Denied,
    };

    #[tokio::test(start_paused = true)]
    async fn answered_requests_and_deadlines_are_exact() {
        let (approvals, mut inbox) = Approvals::channel(8);
        // The approver approves the first request after 1.5 s, denies the second at once, and
        // ignores the third.
        let approver = tokio::spawn(async move {
            let first = inbox.next().await.unwrap();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert_eq!(first.subject, "send draft to lead-1");
            first.approve();
            inbox.next().await.unwrap().deny();
            let ignored = inbox.next().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(ignored);
        });
        let o = approvals
            .request("send draft to lead-1", TraceId::new(), POLICY)
            .await;
        assert_eq!(
            o,
            ApprovalOutcome {
                decision: Decision::Approved,
                defaulted: false,
                waited: Duration::from_millis(1500)
            }
        );
        let o = approvals
            .request("send draft to lead-2", TraceId::new(), POLICY)
            .await;
        assert_eq!(
            (o.decision, o.defaulted, o.waited),
            (Decision::Denied, false, Duration::ZERO)
        );
        let o = approvals
            .request("send draft to lead-3", TraceId::new(), POLICY)
            .await;
        assert_eq!(
            o,
            ApprovalOutcome {
                decision: Decision::Denied,
                defaulted: true,
                waited: Duration::from_secs(2)
            }
        );
        approver.await.unwrap();
        let s = approvals.snapshot();
        assert_eq!((s.approved, s.denied, s.timed_out), (1, 1, 1));
        assert_eq!(s.wait_max_ns / 1_000_000, 2000);
    }

    #[tokio::test(start_paused = true)]
    async fn no_approver_means_the_default_at_once() {
        let (approvals, inbox) = Approvals::channel(1);
        drop(inbox);
        let approve_by_default = ApprovalPolicy {
            on_timeout: Decision::Approved,
            ..POLICY
        };
        let o = approvals
            .request("x", TraceId::new(), approve_by_default)
            .await;
        assert_eq!(
            o,
            ApprovalOutcome {
                decision: Decision::Approved,
                defaulted: true,
                waited: Duration::ZERO
            }
        );
    }
}
