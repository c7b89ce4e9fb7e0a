//! Bounded mailboxes with an explicit overflow policy, and counters that account for every message.
//!
//! One mutex guards the queue and the counters' writes, so each send and receive is one short
//! critical section and the conservation laws in [`MailboxSnapshot`] hold exactly. Receivers and
//! blocked senders park on [`tokio::sync::Notify`]; they are woken only when someone is waiting, so a
//! busy mailbox costs one uncontended lock per operation.

mod stats;

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::error::SendError;
pub use stats::MailboxSnapshot;
pub(crate) use stats::MailboxStats;

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

    fn limit(&self) -> usize {
        match self.capacity {
            Capacity::Bounded(n) => n,
            Capacity::Unbounded => usize::MAX,
        }
    }
}

/// What happened to an accepted send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    /// The message is queued.
    Queued,
    /// The message is queued; the oldest queued message was discarded to make room.
    DroppedOldest,
    /// The mailbox was full and the message was discarded.
    DroppedNewest,
}

/// A single-receiver queue with an overflow policy and exact counters.
#[derive(Debug)]
pub struct Mailbox<T> {
    state: Mutex<State<T>>,
    /// Wakes the receiver.
    rx: Notify,
    /// Wakes senders blocked on a full queue.
    tx: Notify,
    config: MailboxConfig,
    limit: usize,
    stats: MailboxStats,
}

#[derive(Debug)]
struct State<T> {
    queue: VecDeque<T>,
    closed: bool,
    rx_waiting: bool,
    tx_waiting: usize,
}

impl<T> Mailbox<T> {
    /// A mailbox with `config`; the config must be valid (see [`MailboxConfig`]).
    pub fn new(config: MailboxConfig) -> Result<Mailbox<T>, &'static str> {
        config.validate()?;
        Ok(Mailbox {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                closed: false,
                rx_waiting: false,
                tx_waiting: 0,
            }),
            rx: Notify::new(),
            tx: Notify::new(),
            limit: config.limit(),
            config,
            stats: MailboxStats::default(),
        })
    }

    /// The configuration this mailbox was made with.
    pub fn config(&self) -> MailboxConfig {
        self.config
    }

    /// Offers `item`, applying the overflow policy if the queue is full.
    ///
    /// Cancel-safe: a send dropped while it waits for room counts as timed out.
    pub async fn send(&self, item: T) -> Result<Enqueued, SendError<T>> {
        let mut item = item;
        let timeout = {
            let mut st = self.lock();
            self.stats.offered();
            match self.try_push(&mut st, item) {
                Ok(outcome) => return Ok(outcome),
                Err(Refused::Closed(back)) => {
                    self.stats.rejected();
                    return Err(SendError::Closed(back));
                }
                Err(Refused::Rejected(back)) => return Err(SendError::Full(back)),
                Err(Refused::Full(back)) => item = back,
            }
            self.stats.blocked();
            match self.config.overflow {
                OverflowPolicy::Block { timeout } => timeout,
                _ => unreachable!("only the block policy refuses a send for lack of room"),
            }
        };
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut waiter = Waiter {
            mailbox: self,
            registered: false,
            settled: false,
        };
        loop {
            let mut room = pin!(self.tx.notified());
            {
                let mut st = self.lock();
                if waiter.registered {
                    st.tx_waiting -= 1;
                    waiter.registered = false;
                }
                match self.try_push(&mut st, item) {
                    Ok(outcome) => {
                        waiter.settled = true;
                        return Ok(outcome);
                    }
                    Err(Refused::Closed(back)) => {
                        self.stats.rejected();
                        waiter.settled = true;
                        return Err(SendError::Closed(back));
                    }
                    Err(Refused::Full(back) | Refused::Rejected(back)) => item = back,
                }
                st.tx_waiting += 1;
                waiter.registered = true;
                // Registered while the lock is held, so a close or a receive after this point wakes us.
                room.as_mut().enable();
            }
            let woke = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, room).await.is_ok(),
                None => {
                    room.await;
                    true
                }
            };
            if !woke {
                // The waiter's drop unregisters and counts the timeout under the lock.
                drop(waiter);
                return Err(SendError::Timeout(item));
            }
        }
    }

    /// Offers `item` without waiting: under the block policy a full mailbox refuses it as [`SendError::Full`].
    pub fn try_send(&self, item: T) -> Result<Enqueued, SendError<T>> {
        let mut st = self.lock();
        self.stats.offered();
        match self.try_push(&mut st, item) {
            Ok(outcome) => Ok(outcome),
            Err(Refused::Closed(back)) => {
                self.stats.rejected();
                Err(SendError::Closed(back))
            }
            Err(Refused::Rejected(back)) => Err(SendError::Full(back)),
            Err(Refused::Full(back)) => {
                self.stats.rejected();
                Err(SendError::Full(back))
            }
        }
    }

    /// Takes the next message, waiting for one; `None` once the mailbox is closed and empty.
    pub async fn recv(&self) -> Option<T> {
        loop {
            let mut arrival = pin!(self.rx.notified());
            {
                let mut st = self.lock();
                if let Some(item) = self.pop(&mut st) {
                    return Some(item);
                }
                if st.closed {
                    return None;
                }
                st.rx_waiting = true;
                arrival.as_mut().enable();
            }
            arrival.await;
        }
    }

    /// Takes the next message if one is queued.
    pub fn try_recv(&self) -> Option<T> {
        let mut st = self.lock();
        self.pop(&mut st)
    }

    /// Refuses further sends; queued messages stay and can still be received.
    pub fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.rx_waiting = false;
        drop(st);
        self.rx.notify_one();
        self.tx.notify_waiters();
    }

    /// Closes the mailbox and discards every queued message, counting them as abandoned.
    /// Returns them so that the caller decides how they are dropped (e.g. failing pending asks).
    pub fn abandon(&self) -> Vec<T> {
        let mut st = self.lock();
        st.closed = true;
        let items: Vec<T> = st.queue.drain(..).collect();
        self.stats.abandoned(items.len() as u64);
        drop(st);
        self.rx.notify_one();
        self.tx.notify_waiters();
        items
    }

    /// Whether the mailbox refuses sends.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Messages queued now.
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether no message is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A consistent copy of the counters (taken under the lock, so the conservation laws hold exactly).
    pub fn snapshot(&self) -> MailboxSnapshot {
        let _st = self.lock();
        self.stats.snapshot(self.capacity())
    }

    /// A copy of the counters read without the lock: cheap, but counters may be mid-update relative
    /// to each other.
    pub fn snapshot_relaxed(&self) -> MailboxSnapshot {
        self.stats.snapshot(self.capacity())
    }

    pub(crate) fn delivered_total(&self) -> u64 {
        self.stats.delivered_total()
    }

    fn capacity(&self) -> Option<usize> {
        match self.config.capacity {
            Capacity::Bounded(n) => Some(n),
            Capacity::Unbounded => None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No user code runs under this lock, so a poisoned lock still guards consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn try_push(&self, st: &mut State<T>, item: T) -> Result<Enqueued, Refused<T>> {
        if st.closed {
            return Err(Refused::Closed(item));
        }
        let outcome = if st.queue.len() < self.limit {
            Enqueued::Queued
        } else {
            match self.config.overflow {
                OverflowPolicy::Block { .. } => return Err(Refused::Full(item)),
                OverflowPolicy::Reject => {
                    self.stats.rejected();
                    return Err(Refused::Rejected(item));
                }
                OverflowPolicy::DropNewest => {
                    self.stats.accepted(st.queue.len());
                    self.stats.dropped(1);
                    return Ok(Enqueued::DroppedNewest);
                }
                OverflowPolicy::DropOldest => {
                    st.queue.pop_front();
                    self.stats.dropped(1);
                    Enqueued::DroppedOldest
                }
            }
        };
        st.queue.push_back(item);
        self.stats.accepted(st.queue.len());
        if st.rx_waiting {
            st.rx_waiting = false;
            self.rx.notify_one();
        }
        Ok(outcome)
    }

    fn pop(&self, st: &mut State<T>) -> Option<T> {
        let item = st.queue.pop_front()?;
        self.stats.delivered(st.queue.len());
        if st.tx_waiting > 0 {
            self.tx.notify_one();
        }
        Some(item)
    }
}

/// Keeps a blocked send's bookkeeping right however the send ends, including by cancellation.
struct Waiter<'a, T> {
    mailbox: &'a Mailbox<T>,
    registered: bool,
    settled: bool,
}

impl<T> Drop for Waiter<'_, T> {
    fn drop(&mut self) {
        if self.registered || !self.settled {
            let mut st = self.mailbox.lock();
            if self.registered {
                st.tx_waiting -= 1;
            }
            if !self.settled {
                self.mailbox.stats.timed_out();
            }
        }
    }
}

enum Refused<T> {
    Closed(T),
    /// Full under the block policy: the caller waits.
    Full(T),
    /// Full under the reject policy: already counted.
    Rejected(T),
}
