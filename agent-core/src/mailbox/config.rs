//! What a mailbox is configured with: its bound ([`Capacity`]) and what a send does when the
//! bound is reached ([`OverflowPolicy`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The default bound of a mailbox.
pub const DEFAULT_CAPACITY: usize = 1024;

/// What a send does when the mailbox is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "policy")]
pub enum OverflowPolicy {
    /// Wait for room; with a timeout, give up after it and hand the message back.
    Block {
        /// How long to wait for room; `None` waits as long as it takes.
        timeout: Option<Duration>,
    },
    /// Fail at once and hand the message back.
    Reject,
    /// Discard the oldest queued message to make room for the new one.
    DropOldest,
    /// Discard the new message; the queue is left as it was.
    DropNewest,
}

impl Default for OverflowPolicy {
    fn default() -> Self {
        OverflowPolicy::Block { timeout: None }
    }
}

/// How big a mailbox is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    /// At most this many queued messages.
    Bounded(usize),
    /// No bound: only by explicit choice, since a slow receiver then grows memory without limit.
    Unbounded,
}

/// A mailbox's size and overflow policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxConfig {
    /// The bound.
    pub capacity: Capacity,
    /// What a send does when the bound is reached.
    pub overflow: OverflowPolicy,
}

impl Default for MailboxConfig {
    fn default() -> Self {
        MailboxConfig {
            capacity: Capacity::Bounded(DEFAULT_CAPACITY),
            overflow: OverflowPolicy::default(),
        }
    }
}

impl MailboxConfig {
    /// A bounded mailbox with the given policy.
    pub fn bounded(capacity: usize, overflow: OverflowPolicy) -> MailboxConfig {
        MailboxConfig {
            capacity: Capacity::Bounded(capacity),
            overflow,
        }
    }

    /// An unbounded mailbox.
    pub fn unbounded() -> MailboxConfig {
        MailboxConfig {
            capacity: Capacity::Unbounded,
            overflow: OverflowPolicy::Reject,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), &'static str> {
        match self.capacity {
            Capacity::Bounded(0) => Err("capacity must be at least 1"),
            _ => Ok(()),
        }
    }

    pub(super) fn limit(&self) -> usize {
        match self.capacity {
            Capacity::Bounded(n) => n,
            Capacity::Unbounded => usize::MAX,
        }
    }
}
