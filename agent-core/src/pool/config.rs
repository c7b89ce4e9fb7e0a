//! What a pool is configured with: its size, slots per worker, dispatch rule, and the workers'
//! mailbox and restart policy.

use serde::{Deserialize, Serialize};

use crate::mailbox::MailboxConfig;
use crate::supervision::RestartPolicy;

/// How a lease picks its worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dispatch {
    /// Each lease takes the next worker in turn.
    #[default]
    RoundRobin,
    /// Each lease takes the worker with the fewest leases out (the first such, scanning from a
    /// rotating start so ties spread out).
    LeastLoaded,
}

/// A pool's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// The pool's name (workers are registered as `name/0`, `name/1`, ...).
    pub name: String,
    /// How many worker agents.
    pub workers: usize,
    /// Concurrent leases allowed per worker; the semaphore holds `workers * slots_per_worker`.
    pub slots_per_worker: usize,
    /// How leases pick workers.
    pub dispatch: Dispatch,
    /// The workers' mailbox (runtime default if `None`).
    pub worker_mailbox: Option<MailboxConfig>,
    /// The workers' restart policy (runtime default if `None`).
    pub restart: Option<RestartPolicy>,
}

impl PoolConfig {
    /// A pool named `name` of `workers` workers, one slot each, round-robin.
    pub fn new(name: impl Into<String>, workers: usize) -> PoolConfig {
        PoolConfig {
            name: name.into(),
            workers,
            slots_per_worker: 1,
            dispatch: Dispatch::RoundRobin,
            worker_mailbox: None,
            restart: None,
        }
    }

    /// This config with the given dispatch.
    pub fn with_dispatch(mut self, dispatch: Dispatch) -> PoolConfig {
        self.dispatch = dispatch;
        self
    }
}
