//! Per-agent and runtime-wide counters and their serializable snapshots.
//!
//! Counters are atomics written by a single owner (an agent's own task, or under the mailbox
//! lock), so an update is a relaxed load and store, and anyone can read them without a lock.
//! Per-message timing (queue and service time) is sampled, or off ([`crate::Timing`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::health::Health;
use crate::id::AgentId;
use crate::mailbox::MailboxSnapshot;

/// A counter with one writer: increments are a plain load and store.
#[derive(Debug, Default)]
pub(crate) struct SoloCounter(AtomicU64);

impl SoloCounter {
    pub(crate) fn add(&self, n: u64) {
        self.0
            .store(self.0.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }
    pub(crate) fn max(&self, n: u64) {
        if n > self.0.load(Ordering::Relaxed) {
            self.0.store(n, Ordering::Relaxed);
        }
    }
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counters an agent's task keeps about its own handling.
#[derive(Debug, Default)]
pub(crate) struct AgentStats {
    pub(crate) handled: SoloCounter,
    pub(crate) errors: SoloCounter,
    pub(crate) panics: SoloCounter,
    pub(crate) restarts: SoloCounter,
    pub(crate) timed: SoloCounter,
    pub(crate) queue_ns: SoloCounter,
    pub(crate) max_queue_ns: SoloCounter,
    pub(crate) service_ns: SoloCounter,
    pub(crate) max_service_ns: SoloCounter,
}

impl AgentStats {
    pub(crate) fn record_times(&self, queue: Duration, service: Duration) {
        let q = queue.as_nanos() as u64;
        let s = service.as_nanos() as u64;
        self.timed.add(1);
        self.queue_ns.add(q);
        self.max_queue_ns.max(q);
        self.service_ns.add(s);
        self.max_service_ns.max(s);
    }

    pub(crate) fn snapshot(
        &self,
        id: AgentId,
        name: Option<&str>,
        health: Health,
        mailbox: MailboxSnapshot,
    ) -> AgentSnapshot {
        AgentSnapshot {
            id,
            name: name.map(str::to_owned),
            health,
            mailbox,
            handled: self.handled.get(),
            errors: self.errors.get(),
            panics: self.panics.get(),
            restarts: self.restarts.get(),
            timed: self.timed.get(),
            queue_time_total_ns: self.queue_ns.get(),
            queue_time_max_ns: self.max_queue_ns.get(),
            service_time_total_ns: self.service_ns.get(),
            service_time_max_ns: self.max_service_ns.get(),
        }
    }
}

/// One agent's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSnapshot {
    /// The agent.
    pub id: AgentId,
    /// Its registered name.
    pub name: Option<String>,
    /// Its health when the snapshot was taken.
    pub health: Health,
    /// Its mailbox's counters.
    pub mailbox: MailboxSnapshot,
    /// Messages its handler completed (successfully or not: `handled` counts every return).
    pub handled: u64,
    /// Handler or start-hook errors.
    pub errors: u64,
    /// Handler or start-hook panics.
    pub panics: u64,
    /// Restarts performed by its policy.
    pub restarts: u64,
    /// Messages whose queue and service times were measured (see [`crate::Timing`]); the four
    /// time figures below are over these messages only.
    #[serde(default)]
    pub timed: u64,
    /// Sum of the measured messages' queue times (enqueue to handler start).
    pub queue_time_total_ns: u64,
    /// Longest queue time among the measured messages.
    pub queue_time_max_ns: u64,
    /// Sum of the measured messages' handler service times.
    pub service_time_total_ns: u64,
    /// Longest service time among the measured messages.
    pub service_time_max_ns: u64,
}

/// Counters kept once per runtime.
#[derive(Debug, Default)]
pub(crate) struct RuntimeCounters {
    pub(crate) spawned: AtomicU64,
    pub(crate) stopped: AtomicU64,
    pub(crate) failed: AtomicU64,
}

/// The whole runtime at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeSnapshot {
    /// Agents ever spawned.
    pub agents_spawned: u64,
    /// Agents registered now (not yet ended).
    pub agents_live: u64,
    /// Agents that ended cleanly.
    pub agents_stopped: u64,
    /// Agents that ended as failed.
    pub agents_failed: u64,
    /// Failures reported (errors and panics, in handlers and start hooks).
    pub failures_reported: u64,
    /// Mailbox counters summed over every agent, live and ended.
    pub mailboxes: MailboxSnapshot,
    /// Messages handled, summed over every agent, live and ended.
    pub handled: u64,
    /// Restarts, summed over every agent, live and ended.
    pub restarts: u64,
    /// Panics, summed over every agent, live and ended.
    pub panics: u64,
}
