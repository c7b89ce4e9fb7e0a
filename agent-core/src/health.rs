//! Agent health states, observable from outside the agent's task.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

use serde::{Deserialize, Serialize};

/// Where an agent is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Its start hook is running (first start or a restart).
    Starting,
    /// Handling messages.
    Running,
    /// Its mailbox is closed; it is draining or running its stop hook.
    Stopping,
    /// It stopped cleanly.
    Stopped,
    /// It stopped because its restart policy gave up, or it was aborted at a shutdown deadline.
    Failed,
}

impl Health {
    /// Whether the agent has ended (stopped or failed).
    pub fn is_terminal(self) -> bool {
        matches!(self, Health::Stopped | Health::Failed)
    }

    fn from_u8(v: u8) -> Health {
        match v {
            0 => Health::Starting,
            1 => Health::Running,
            2 => Health::Stopping,
            3 => Health::Stopped,
            _ => Health::Failed,
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Health::Starting => "starting",
            Health::Running => "running",
            Health::Stopping => "stopping",
            Health::Stopped => "stopped",
            Health::Failed => "failed",
        };
        f.write_str(s)
    }
}

/// An atomically updated [`Health`].
#[derive(Debug)]
pub(crate) struct HealthCell(AtomicU8);

impl HealthCell {
    pub(crate) fn new() -> HealthCell {
        HealthCell(AtomicU8::new(Health::Starting as u8))
    }

    pub(crate) fn get(&self) -> Health {
        Health::from_u8(self.0.load(Ordering::Acquire))
    }

    pub(crate) fn set(&self, health: Health) {
        self.0.store(health as u8, Ordering::Release);
    }
}
