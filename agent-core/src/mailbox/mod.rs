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
//! The receiver parks by leaving its waker in the shared state, under the lock a sender takes
//! anyway; blocked senders park on [`tokio::sync::Notify`]. Either is woken only when waiting.
//!
//! A send that finds room completes without suspending (`Mailbox::offer`): callers try it first
//! and build a waiting future only when it says so, so that a large message is not copied into
//! a chain of nested futures on the common path.

mod config;
mod stats;
mod wait;

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::sync::PoisonError;
use std::task::{Poll, Waker};

use tokio::time::Instant;

use crate::error::SendError;
use crate::sync::{AtomicU64, AtomicUsize, Mutex, MutexGuard, Notify, Ordering};
pub use config::{Capacity, MailboxConfig, OverflowPolicy, DEFAULT_CAPACITY};
use stats::bump;
pub use stats::MailboxSnapshot;
pub(crate) use stats::MailboxStats;

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
///
/// Laid out for two cores: senders touch their side (the state lock, the queue's header, the
/// bound, the first counters) on every send and the receiver touches its side on every message.
/// `repr(C)` keeps the order, with at least 128 bytes of rarely touched fields between
/// what the two sides touch, so that neither a shared cache line nor a prefetch of the line next
/// to one a side touches (AMD's and Intel's L2 prefetchers fetch such lines, in 128-byte pairs or
/// up and down) puts a line the other side writes into a side's cache: each side's writes stay
/// hits. Distance instead of alignment costs no padding before the cell (an `align(64)` mailbox
/// made each agent's shared cell an aligned allocation with up to a line of padding) and does not
/// depend on where the allocator puts the cell. A test checks the distance.
#[derive(Debug)]
#[repr(C)]
pub struct Mailbox<T> {
    senders: SenderSide<T>,
    /// Wakes senders blocked on a full mailbox.
    tx: Notify,
    config: MailboxConfig,
    /// Rarely touched bytes that complete the distance between the sides.
    _spacer: [u64; SPACER_WORDS],
    receiver: ReceiverSide<T>,
}

/// Filler between the sides: the rarely touched fields come to 104 bytes.
const SPACER_WORDS: usize = 3;

#[derive(Debug)]
#[repr(C)]
struct SenderSide<T> {
    state: Mutex<State<T>>,
    /// The bound in messages (`usize::MAX` if unbounded).
    limit: usize,
    /// Every send touches its leading counters; the rest are rarely written.
    stats: MailboxStats,
}

#[derive(Debug)]
#[repr(C)]
struct ReceiverSide<T> {
    /// Whether the receiver takes the whole queue at once (every policy but drop-oldest).
    batch: bool,
    /// Senders waiting for room, read by the receiver on every message without the state lock.
    /// Written only when a sender blocks, so that read stays a cache hit.
    blocked: AtomicUsize,
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
    /// The size of the receiver's batch when it last took the lock: an upper bound of `hand_len`,
    /// so a sender that sees room by it needs no look at the receiver's cache line.
    hand_at_refill: usize,
    /// The parked receiver's waker: the next send takes it and wakes the receiver.
    rx_waker: Option<Waker>,
    closed: bool,
}

/// The outcome of [`Mailbox::offer`].
pub(crate) enum Offered<T> {
    /// The send is settled: accepted (perhaps dropped by the policy) or refused.
    Done(Result<Enqueued, SendError<T>>),
    /// Full under the block policy: the message back, to wait for room with
    /// [`Mailbox::wait_for_room`] (already counted as offered and blocked).
    MustWait(T),
}

impl<T> Mailbox<T> {
    /// A mailbox with `config`; the config must be valid (see [`MailboxConfig`]).
    pub fn new(config: MailboxConfig) -> Result<Mailbox<T>, &'static str> {
        config.validate()?;
        Ok(Mailbox {
            senders: SenderSide {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    hand_at_refill: 0,
                    rx_waker: None,
                    closed: false,
                }),
                limit: config.limit(),
                stats: MailboxStats::default(),
            },
            tx: Notify::new(),
            config,
            _spacer: [0; SPACER_WORDS],
            receiver: ReceiverSide {
                batch: config.overflow != OverflowPolicy::DropOldest,
                blocked: AtomicUsize::new(0),
                hand: Mutex::new(VecDeque::new()),
                hand_len: AtomicUsize::new(0),
                delivered: AtomicU64::new(0),
            },
        })
    }

    /// The configuration this mailbox was made with.
    pub fn config(&self) -> MailboxConfig {
        self.config
    }

    /// Offers `item`, applying the overflow policy if the mailbox is full.
    ///
    /// Cancel-safe: a send dropped while it waits for room counts as timed out.
    pub fn send(&self, item: T) -> impl Future<Output = Result<Enqueued, SendError<T>>> + '_ {
        self.send_until(item, None)
    }

    /// [`Mailbox::send`], giving up waiting for room at `deadline` as well as at the policy's own
    /// timeout (whichever comes first), with [`SendError::Timeout`].
    pub async fn send_until(
        &self,
        item: T,
        deadline: Option<Instant>,
    ) -> Result<Enqueued, SendError<T>> {
        match self.offer(item) {
            Offered::Done(result) => result,
            Offered::MustWait(item) => self.wait_for_room(item, deadline).await,
        }
    }

    /// The part of a send that needs no waiting: counts the offer and enqueues the item or
    /// applies the overflow policy, or, full under the block policy, hands the item back to wait
    /// for room with [`Mailbox::wait_for_room`].
    #[inline]
    pub(crate) fn offer(&self, item: T) -> Offered<T> {
        #[cfg(feature = "inject-regressions")]
        crate::inject::on_send(self.stats().offered_count());
        let mut dropped = None; // Declared first: dropped after the lock is released.
        let mut wake = None;
        let mut st = self.lock();
        #[cfg(feature = "inject-regressions")]
        crate::inject::while_locked();
        self.stats().offered();
        let offered = match self.try_push(&mut st, item, &mut dropped, &mut wake) {
            Ok(outcome) => Offered::Done(Ok(outcome)),
            Err(Refused::Closed(back)) => {
                self.stats().rejected();
                Offered::Done(Err(SendError::Closed(back)))
            }
            Err(Refused::Rejected(back)) => Offered::Done(Err(SendError::Full(back))),
            Err(Refused::Full(back)) => {
                self.stats().blocked();
                match self.config.overflow {
                    OverflowPolicy::Block { .. } => Offered::MustWait(back),
                    _ => unreachable!("only the block policy refuses a send for lack of room"),
                }
            }
        };
        drop(st);
        if let Some(waker) = wake {
            waker.wake();
        }
        offered
    }

    /// Offers `item` without waiting: under the block policy a full mailbox refuses it as [`SendError::Full`].
    pub fn try_send(&self, item: T) -> Result<Enqueued, SendError<T>> {
        #[cfg(feature = "inject-regressions")]
        crate::inject::on_send(self.stats().offered_count());
        let mut dropped = None; // Declared first: dropped after the lock is released.
        let mut wake = None;
        let mut st = self.lock();
        #[cfg(feature = "inject-regressions")]
        crate::inject::while_locked();
        self.stats().offered();
        let result = match self.try_push(&mut st, item, &mut dropped, &mut wake) {
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
        };
        drop(st);
        if let Some(waker) = wake {
            waker.wake();
        }
        result
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
    pub(crate) fn recv_noting_wait(&self) -> impl Future<Output = (Option<T>, bool)> + '_ {
        let mut waited = false;
        poll_fn(move |cx| match self.poll_recv(cx.waker()) {
            Poll::Ready(item) => Poll::Ready((item, waited)),
            Poll::Pending => {
                waited = true;
                Poll::Pending
            }
        })
    }

    /// Takes the next message (`None` once closed and empty), or with none queued leaves
    /// `waker` for the next send to wake.
    #[inline]
    // It loops only to skip a message the `inject-regressions` feature drops on purpose.
    #[cfg_attr(not(feature = "inject-regressions"), allow(clippy::never_loop))]
    fn poll_recv(&self, waker: &Waker) -> Poll<Option<T>> {
        loop {
            let mut hand = self.lock_hand();
            if let Some(item) = self.take(&mut hand) {
                #[cfg(feature = "inject-regressions")]
                if crate::inject::lose_this() {
                    drop(item);
                    continue;
                }
                return Poll::Ready(Some(item));
            }
            let mut st = self.lock();
            if let Some(item) = self.refill(&mut st, &mut hand) {
                #[cfg(feature = "inject-regressions")]
                if crate::inject::lose_this() {
                    drop(item);
                    continue;
                }
                return Poll::Ready(Some(item));
            }
            if st.closed {
                return Poll::Ready(None);
            }
            match &st.rx_waker {
                Some(parked) if parked.will_wake(waker) => {}
                _ => st.rx_waker = Some(waker.clone()),
            }
            return Poll::Pending;
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
        let wake = st.rx_waker.take();
        drop(st);
        if let Some(waker) = wake {
            waker.wake();
        }
        self.tx.notify_waiters();
    }

    /// Closes the mailbox and discards every queued message, counting them as abandoned.
    /// Returns them, oldest first, so that the caller decides how they are dropped (e.g. failing
    /// pending asks).
    pub fn abandon(&self) -> Vec<T> {
        let mut hand = self.lock_hand();
        let mut st = self.lock();
        st.closed = true;
        let wake = st.rx_waker.take();
        let items: Vec<T> = hand.drain(..).chain(st.queue.drain(..)).collect();
        self.receiver.hand_len.store(0, Ordering::SeqCst);
        st.hand_at_refill = 0;
        self.stats().abandoned(items.len() as u64);
        drop(st);
        drop(hand);
        if let Some(waker) = wake {
            waker.wake();
        }
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
        let delivered = self.receiver.delivered.load(Ordering::Relaxed);
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
        let delivered = self.receiver.delivered.load(Ordering::Relaxed);
        self.stats().snapshot(delivered, self.capacity(), None)
    }

    /// Sends offered so far, read without the lock.
    #[inline]
    pub(crate) fn offered_relaxed(&self) -> u64 {
        self.stats().offered_count()
    }

    pub(crate) fn delivered_total(&self) -> u64 {
        self.receiver.delivered.load(Ordering::Relaxed)
    }

    fn stats(&self) -> &MailboxStats {
        &self.senders.stats
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
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_hand(&self) -> MutexGuard<'_, VecDeque<T>> {
        self.receiver
            .hand
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a send may enqueue now, reading the receiver's batch size only when the cheap
    /// upper bound says the mailbox might be full.
    fn has_room(&self, st: &State<T>) -> bool {
        st.queue.len() + st.hand_at_refill < self.senders.limit || self.has_room_exact(st)
    }

    fn has_room_exact(&self, st: &State<T>) -> bool {
        st.queue.len() + self.receiver.hand_len.load(Ordering::SeqCst) < self.senders.limit
    }

    /// Enqueues `item` or applies the overflow policy. A message the policy drops goes to
    /// `dropped`, which the caller declares before taking the lock so that it is dropped after the
    /// lock is released: its `Drop` is user code, which may send to this mailbox or panic. A
    /// parked receiver's waker goes to `wake`, for the caller to wake after releasing the lock.
    #[inline]
    fn try_push(
        &self,
        st: &mut State<T>,
        item: T,
        dropped: &mut Option<T>,
        wake: &mut Option<Waker>,
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
            let depth = st.queue.len() + self.receiver.hand_len.load(Ordering::Relaxed);
            self.stats().observe_depth(depth);
        }
        *wake = st.rx_waker.take();
        Ok(outcome)
    }

    /// Delivers the next message of the receiver's batch.
    fn take(&self, hand: &mut VecDeque<T>) -> Option<T> {
        let item = hand.pop_front()?;
        bump(&self.receiver.delivered, 1);
        // Relaxed on purpose: a full barrier here per message costs more than the rest of the
        // receive. A blocked sender that misses this update is woken at the next refill.
        self.receiver.hand_len.store(hand.len(), Ordering::Relaxed);
        if self.receiver.blocked.load(Ordering::Relaxed) > 0 {
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
        if self.receiver.blocked.load(Ordering::SeqCst) > 0 {
            self.tx.notify_one();
        }
        if self.receiver.batch {
            std::mem::swap(&mut st.queue, hand);
            st.hand_at_refill = hand.len();
            self.receiver.hand_len.store(hand.len(), Ordering::SeqCst);
            self.take(hand)
        } else {
            st.hand_at_refill = 0;
            let item = st.queue.pop_front()?;
            bump(&self.receiver.delivered, 1);
            if self.receiver.blocked.load(Ordering::SeqCst) > 0 {
                self.tx.notify_one();
            }
            Some(item)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The least distance, in bytes, between what senders touch on every send and what the
    /// receiver touches on every message: two cache lines, so that no line either side touches is
    /// next to one the other side writes, wherever the allocator puts the mailbox.
    const SIDE_GAP: usize = 128;

    /// Bytes between the end of what senders touch on every send (their side up to the leading
    /// counters) and the start of what the receiver touches on every message (its side).
    fn side_gap<T>() -> usize {
        let senders_end = std::mem::offset_of!(Mailbox<T>, senders)
            + std::mem::offset_of!(SenderSide<T>, stats)
            + MailboxStats::TOUCHED_ON_EVERY_SEND;
        std::mem::offset_of!(Mailbox<T>, receiver).saturating_sub(senders_end)
    }

    #[test]
    fn the_senders_and_the_receiver_never_share_a_pair_of_cache_lines() {
        for gap in [
            side_gap::<u64>(),
            side_gap::<[u8; 1024]>(),
            side_gap::<String>(),
        ] {
            assert!(
                gap >= SIDE_GAP,
                "{gap} bytes between the sides, want {SIDE_GAP}"
            );
        }
    }
}
