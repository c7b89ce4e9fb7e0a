//! Bounded mailboxes with an explicit overflow policy, and counters that account for every message.
//!
//! Senders take one mutex around the shared queue for each send, so policy decisions and the
//! sender-side counters are made atomically. The single receiver takes the whole queue in one
//! swap when its own batch ("hand") runs out, so on a busy mailbox it touches the shared lock once
//! per batch instead of once per message. Messages in hand still count toward the capacity and
//! are still "pending", so overflow policies behave exactly as if the receiver took them one by
//! one. Under [`OverflowPolicy::DropOldest`] the receiver takes one message at a time, so the oldest
//! undelivered message is always in the shared queue where a sender can evict it.
//!
//! Receivers and blocked senders park on [`tokio::sync::Notify`] and are woken only when someone is
//! waiting.

mod config;
mod stats;

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::PoisonError;

use tokio::time::Instant;

use crate::deadlines::deadline_after;
use crate::error::SendError;
use crate::sync::{AtomicU64, AtomicUsize, Mutex, MutexGuard, Notify, Ordering};
pub use config::{Capacity, MailboxConfig, OverflowPolicy, DEFAULT_CAPACITY};
pub use stats::MailboxSnapshot;
pub(crate) use stats::MailboxStats;
use stats::{bump, CacheLine};

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
    // Senders write their side on every send and the receiver writes its side on every receive;
    // each side has cache lines of its own so that neither side's writes evict the other's data.
    // The fields below them are written rarely.
    senders: CacheLine<SenderSide<T>>,
    receiver: CacheLine<ReceiverSide<T>>,
    /// Senders waiting for room, readable by the receiver without the state lock. Written only
    /// when a sender blocks, so the receiver's read of it on every message stays a cache hit.
    blocked: AtomicUsize,
    /// Wakes the receiver.
    rx: Notify,
    /// Wakes senders blocked on a full mailbox.
    tx: Notify,
    config: MailboxConfig,
    limit: usize,
    /// Whether the receiver takes the whole queue at once (every policy but drop-oldest).
    batch: bool,
}

#[derive(Debug)]
struct SenderSide<T> {
    state: Mutex<State<T>>,
    stats: MailboxStats,
}

#[derive(Debug)]
struct ReceiverSide<T> {
    /// The receiver's current batch, oldest first. Only the receiver (and `abandon`, `snapshot`)
    /// lock it, so the lock is uncontended. Lock order: `hand` before `state`.
    hand: Mutex<VecDeque<T>>,
    /// `hand.len()`, published for senders that find the mailbox apparently full.
    hand_len: AtomicUsize,
    /// Messages handed to the receiver; written under the hand lock.
    delivered: AtomicU64,
}

#[derive(Debug)]
struct State<T> {
    queue: VecDeque<T>,
    closed: bool,
    rx_waiting: bool,
    /// The size of the receiver's batch when it last took the lock: an upper bound of `hand_len`,
    /// so a sender that sees room by it needs no look at the receiver's cache line.
    hand_at_refill: usize,
}

impl<T> Mailbox<T> {
    /// A mailbox with `config`; the config must be valid (see [`MailboxConfig`]).
    pub fn new(config: MailboxConfig) -> Result<Mailbox<T>, &'static str> {
        config.validate()?;
        Ok(Mailbox {
            senders: CacheLine(SenderSide {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    closed: false,
                    rx_waiting: false,
                    hand_at_refill: 0,
                }),
                stats: MailboxStats::default(),
            }),
            receiver: CacheLine(ReceiverSide {
                hand: Mutex::new(VecDeque::new()),
                hand_len: AtomicUsize::new(0),
                delivered: AtomicU64::new(0),
            }),
            blocked: AtomicUsize::new(0),
            rx: Notify::new(),
            tx: Notify::new(),
            limit: config.limit(),
            batch: config.overflow != OverflowPolicy::DropOldest,
            config,
        })
    }

    /// The configuration this mailbox was made with.
    pub fn config(&self) -> MailboxConfig {
        self.config
    }

    /// Offers `item`, applying the overflow policy if the mailbox is full.
    ///
    /// Cancel-safe: a send dropped while it waits for room counts as timed out.
    pub async fn send(&self, item: T) -> Result<Enqueued, SendError<T>> {
        self.send_until(item, None).await
    }

    /// [`Mailbox::send`], giving up waiting for room at `deadline` as well as at the policy's own
    /// timeout (whichever comes first), with [`SendError::Timeout`].
    pub async fn send_until(
        &self,
        item: T,
        deadline: Option<Instant>,
    ) -> Result<Enqueued, SendError<T>> {
        #[cfg(feature = "inject-regressions")]
        crate::inject::on_send(self.stats().offered_count());
        let mut item = item;
        let timeout = {
            let mut dropped = None; // Declared first: dropped after the lock is released.
            let mut st = self.lock();
            #[cfg(feature = "inject-regressions")]
            crate::inject::while_locked();
            self.stats().offered();
            match self.try_push(&mut st, item, &mut dropped) {
                Ok(outcome) => return Ok(outcome),
                Err(Refused::Closed(back)) => {
                    self.stats().rejected();
                    return Err(SendError::Closed(back));
                }
                Err(Refused::Rejected(back)) => return Err(SendError::Full(back)),
                Err(Refused::Full(back)) => item = back,
            }
            self.stats().blocked();
            match self.config.overflow {
                OverflowPolicy::Block { timeout } => timeout,
                _ => unreachable!("only the block policy refuses a send for lack of room"),
            }
        };
        let deadline = match (timeout.map(|t| deadline_after(Instant::now(), t)), deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut waiter = Waiter {
            mailbox: self,
            registered: false,
            settled: false,
        };
        loop {
            let mut room = pin!(self.tx.notified());
            {
                let mut dropped = None; // Declared first: dropped after the lock is released.
                let mut st = self.lock();
                if waiter.registered {
                    self.blocked.fetch_sub(1, Ordering::SeqCst);
                    waiter.registered = false;
                }
                match self.try_push(&mut st, item, &mut dropped) {
                    Ok(outcome) => {
                        waiter.settled = true;
                        return Ok(outcome);
                    }
                    Err(Refused::Closed(back)) => {
                        self.stats().rejected();
                        waiter.settled = true;
                        return Err(SendError::Closed(back));
                    }
                    Err(Refused::Full(back) | Refused::Rejected(back)) => item = back,
                }
                // Registered while the lock is held, so a close after this point wakes us.
                room.as_mut().enable();
                self.blocked.fetch_add(1, Ordering::SeqCst);
                waiter.registered = true;
                // The receiver frees room without the state lock: it publishes `hand_len`, then
                // reads `blocked` (both relaxed, so it may miss us for a moment). Look once more
                // after publishing `blocked`; if we still miss each other, the receiver's next
                // refill or park, both under the state lock, sees `blocked` and wakes us.
                if self.has_room_exact(&st) {
                    continue;
                }
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
        #[cfg(feature = "inject-regressions")]
        crate::inject::on_send(self.stats().offered_count());
        let mut dropped = None; // Declared first: dropped after the lock is released.
        let mut st = self.lock();
        #[cfg(feature = "inject-regressions")]
        crate::inject::while_locked();
        self.stats().offered();
        match self.try_push(&mut st, item, &mut dropped) {
            Ok(outcome) => Ok(outcome),
            Err(Refused::Closed(back)) => {
                self.stats().rejected();
                Err(SendError::Closed(back))
            }
            Err(Refused::Rejected(back)) => Err(SendError::Full(back)),
            Err(Refused::Full(back)) => {
                self.stats().rejected();
                Err(SendError::Full(back))
            }
        }
    }

    /// Takes the next message, waiting for one; `None` once the mailbox is closed and empty.
    ///
    /// A mailbox has one receiver: calling this from two tasks at once is a logic error (messages
    /// are still delivered exactly once, but wake-ups may be missed).
    pub async fn recv(&self) -> Option<T> {
        self.recv_noting_wait().await.0
    }

    /// [`Mailbox::recv`], also telling whether the receiver had to wait (so a caller that keeps
    /// its own clock knows whether its last reading is still "now").
    pub(crate) async fn recv_noting_wait(&self) -> (Option<T>, bool) {
        let mut waited = false;
        loop {
            let arrival = {
                let mut hand = self.lock_hand();
                if let Some(item) = self.take(&mut hand) {
                    #[cfg(feature = "inject-regressions")]
                    if crate::inject::lose_this() {
                        drop(item);
                        continue;
                    }
                    return (Some(item), waited);
                }
                let mut st = self.lock();
                if let Some(item) = self.refill(&mut st, &mut hand) {
                    #[cfg(feature = "inject-regressions")]
                    if crate::inject::lose_this() {
                        drop(item);
                        continue;
                    }
                    return (Some(item), waited);
                }
                if st.closed {
                    return (None, waited);
                }
                st.rx_waiting = true;
                self.rx.notified()
            };
            // Not registered until first polled, but `rx_waiting` makes the next send call
            // `notify_one`, which leaves a permit if we are not registered yet: no lost wake-up.
            arrival.await;
            waited = true;
        }
    }

    /// Takes the next message if one is queued.
    pub fn try_recv(&self) -> Option<T> {
        let mut hand = self.lock_hand();
        if let Some(item) = self.take(&mut hand) {
            return Some(item);
        }
        let mut st = self.lock();
        self.refill(&mut st, &mut hand)
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
    /// Returns them, oldest first, so that the caller decides how they are dropped (e.g. failing
    /// pending asks).
    pub fn abandon(&self) -> Vec<T> {
        let mut hand = self.lock_hand();
        let mut st = self.lock();
        st.closed = true;
        st.rx_waiting = false;
        let items: Vec<T> = hand.drain(..).chain(st.queue.drain(..)).collect();
        self.receiver.0.hand_len.store(0, Ordering::SeqCst);
        st.hand_at_refill = 0;
        self.stats().abandoned(items.len() as u64);
        drop(st);
        drop(hand);
        self.rx.notify_one();
        self.tx.notify_waiters();
        items
    }

    /// Whether the mailbox refuses sends.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Messages accepted and not yet delivered, dropped or abandoned.
    pub fn len(&self) -> usize {
        let hand = self.lock_hand();
        let st = self.lock();
        hand.len() + st.queue.len()
    }

    /// Whether no message is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An exact copy of the counters, taken with both locks held, so the conservation laws hold.
    pub fn snapshot(&self) -> MailboxSnapshot {
        let hand = self.lock_hand();
        let st = self.lock();
        let delivered = self.receiver.0.delivered.load(Ordering::Relaxed);
        self.stats().snapshot(
            delivered,
            self.capacity(),
            Some(hand.len() + st.queue.len()),
        )
    }

    /// A copy of the counters read without any lock: cheap, for monitoring a busy mailbox. Each
    /// counter is exact but they may be read mid-update relative to each other; `pending` is
    /// derived from them.
    pub fn snapshot_relaxed(&self) -> MailboxSnapshot {
        let delivered = self.receiver.0.delivered.load(Ordering::Relaxed);
        self.stats().snapshot(delivered, self.capacity(), None)
    }

    /// Sends offered so far, read without the lock.
    #[inline]
    pub(crate) fn offered_relaxed(&self) -> u64 {
        self.stats().offered_count()
    }

    pub(crate) fn delivered_total(&self) -> u64 {
        self.receiver.0.delivered.load(Ordering::Relaxed)
    }

    fn stats(&self) -> &MailboxStats {
        &self.senders.0.stats
    }

    fn capacity(&self) -> Option<usize> {
        match self.config.capacity {
            Capacity::Bounded(n) => Some(n),
            Capacity::Unbounded => None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No user code runs under this lock (a message a policy drops is dropped after it is
        // released), so a poisoned lock still guards consistent state.
        self.senders
            .0
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_hand(&self) -> MutexGuard<'_, VecDeque<T>> {
        self.receiver
            .0
            .hand
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a send may enqueue now, reading the receiver's batch size only when the cheap
    /// upper bound says the mailbox might be full.
    fn has_room(&self, st: &State<T>) -> bool {
        st.queue.len() + st.hand_at_refill < self.limit || self.has_room_exact(st)
    }

    fn has_room_exact(&self, st: &State<T>) -> bool {
        st.queue.len() + self.receiver.0.hand_len.load(Ordering::SeqCst) < self.limit
    }

    /// Enqueues `item` or applies the overflow policy. A message the policy drops goes to
    /// `dropped`, which the caller declares before taking the lock so that it is dropped after the
    /// lock is released: its `Drop` is user code, which may send to this mailbox or panic.
    fn try_push(
        &self,
        st: &mut State<T>,
        item: T,
        dropped: &mut Option<T>,
    ) -> Result<Enqueued, Refused<T>> {
        if st.closed {
            return Err(Refused::Closed(item));
        }
        let outcome = if self.has_room(st) {
            Enqueued::Queued
        } else {
            match self.config.overflow {
                OverflowPolicy::Block { .. } => return Err(Refused::Full(item)),
                OverflowPolicy::Reject => {
                    self.stats().rejected();
                    return Err(Refused::Rejected(item));
                }
                OverflowPolicy::DropNewest => {
                    self.stats().accepted();
                    self.stats().dropped(1);
                    *dropped = Some(item);
                    return Ok(Enqueued::DroppedNewest);
                }
                OverflowPolicy::DropOldest => {
                    // The receiver takes one message at a time under this policy, so the oldest
                    // undelivered message is at the front of the shared queue.
                    *dropped = st.queue.pop_front();
                    self.stats().dropped(1);
                    Enqueued::DroppedOldest
                }
            }
        };
        st.queue.push_back(item);
        self.stats().accepted();
        let bound = st.queue.len() + st.hand_at_refill;
        if bound as u64 > self.stats().max_depth() {
            let depth = st.queue.len() + self.receiver.0.hand_len.load(Ordering::Relaxed);
            self.stats().observe_depth(depth);
        }
        if st.rx_waiting {
            st.rx_waiting = false;
            self.rx.notify_one();
        }
        Ok(outcome)
    }

    /// Delivers the next message of the receiver's batch.
    fn take(&self, hand: &mut VecDeque<T>) -> Option<T> {
        let item = hand.pop_front()?;
        bump(&self.receiver.0.delivered, 1);
        // Relaxed on purpose: a full barrier here per message costs more than the rest of the
        // receive. A blocked sender that misses this update is woken at the next refill.
        self.receiver
            .0
            .hand_len
            .store(hand.len(), Ordering::Relaxed);
        if self.blocked.load(Ordering::Relaxed) > 0 {
            self.tx.notify_one();
        }
        Some(item)
    }

    /// With the hand empty and the state lock held: takes the next batch (or, under drop-oldest,
    /// the next message) and delivers its first message.
    fn refill(&self, st: &mut State<T>, hand: &mut VecDeque<T>) -> Option<T> {
        debug_assert!(hand.is_empty());
        // Under the state lock, every blocked sender's registration is visible: wake one, since
        // the whole previous batch has been delivered and there is room.
        if self.blocked.load(Ordering::SeqCst) > 0 {
            self.tx.notify_one();
        }
        if self.batch {
            std::mem::swap(&mut st.queue, hand);
            st.hand_at_refill = hand.len();
            self.receiver.0.hand_len.store(hand.len(), Ordering::SeqCst);
            self.take(hand)
        } else {
            st.hand_at_refill = 0;
            let item = st.queue.pop_front()?;
            bump(&self.receiver.0.delivered, 1);
            if self.blocked.load(Ordering::SeqCst) > 0 {
                self.tx.notify_one();
            }
            Some(item)
        }
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
            let _st = self.mailbox.lock();
            if self.registered {
                self.mailbox.blocked.fetch_sub(1, Ordering::SeqCst);
            }
            if !self.settled {
                self.mailbox.stats().timed_out();
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
