//! The deadlines of asks waiting for their reply, enforced by one sweeper task per runtime
//! instead of one tokio timer per ask.
//!
//! An asker that finds no reply yet registers its deadline and waker in a slot table (a mutex
//! taken twice per ask, uncontended unless many threads ask agents of the same shard at once)
//! and unregisters when the reply comes. Arming and cancelling a tokio timer per ask costs more,
//! and with tokio's I/O driver on it usually costs a wake-up of the driver too. The sweeper sleeps
//! until the earliest registered deadline, wakes the askers whose deadline has passed, and sleeps
//! again; registrations that are later than the deadline it sleeps until (the common case: the
//! same timeout asked over and over) do not touch it at all.
//!
//! The sweeper runs on tokio's clock, so under a paused clock deadlines are exact. It is spawned
//! by the first ask that needs it, ends when the runtime is dropped, and is spawned again if the
//! tokio runtime it ran on has gone.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

use tokio::sync::{oneshot, Notify};
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// Slot tables; an ask uses the one its agent's id picks, so the tables' growth (and with it
/// allocation counts) depends only on the asks themselves, never on which thread runs them.
const SHARDS: usize = 4;

/// `target` when the sweeper must be woken by any registration (it is not sleeping on a
/// deadline, or it is not running).
const NONE: u64 = u64::MAX;

/// The deadline table of one runtime. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Deadlines {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    shards: [Mutex<Table>; SHARDS],
    /// The deadline the sweeper sleeps until, in nanoseconds after `epoch`; [`NONE`] when any
    /// registration must wake it.
    target: AtomicU64,
    epoch: Instant,
    /// Wakes the sweeper (kept apart so that it can outlive `Shared` and learn of its end).
    wake: Arc<Notify>,
    sweeper: Mutex<Option<AbortHandle>>,
}

#[derive(Debug, Default)]
struct Table {
    slots: Vec<Slot>,
    /// Free slots' indices.
    free: Vec<usize>,
}

#[derive(Debug)]
enum Slot {
    Free,
    Waiting { deadline: Instant, waker: Waker },
    Expired,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            shared: Arc::new(Shared {
                shards: Default::default(),
                target: AtomicU64::new(NONE),
                epoch: Instant::now(),
                wake: Arc::new(Notify::new()),
                sweeper: Mutex::new(None),
            }),
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The sweeper holds only a weak reference: wake it so that it sees the end and returns.
        self.wake.notify_one();
    }
}

/// Why a reply did not come.
#[derive(Debug)]
pub(crate) enum NoReply {
    /// The deadline passed first.
    Elapsed,
    /// The reply slot was dropped unanswered.
    Dropped,
}

impl Deadlines {
    /// Waits for `rx` until `deadline`; `shard_key` picks the slot table (the agent's id).
    pub(crate) fn wait<T>(
        &self,
        rx: oneshot::Receiver<T>,
        deadline: Instant,
        shard_key: u64,
    ) -> ReplyWait<'_, T> {
        ReplyWait {
            deadlines: self,
            rx,
            deadline,
            shard: (shard_key % SHARDS as u64) as usize,
            slot: None,
        }
    }

    fn table(&self, shard: usize) -> MutexGuard<'_, Table> {
        // No user code runs under this lock, so a poisoned lock still guards a consistent table.
        self.shared.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, shard: usize, deadline: Instant, waker: Waker) -> usize {
        let mut table = self.table(shard);
        let slot = Slot::Waiting { deadline, waker };
        let index = match table.free.pop() {
            Some(i) => {
                table.slots[i] = slot;
                i
            }
            None => {
                table.slots.push(slot);
                table.slots.len() - 1
            }
        };
        drop(table);
        let at = self.nanos(deadline);
        if at < self.shared.target.load(Ordering::SeqCst) {
            let before = self.shared.target.fetch_min(at, Ordering::SeqCst);
            if at < before {
                self.wake_sweeper();
            }
        }
        index
    }

    fn unregister(&self, shard: usize, index: usize) {
        let mut table = self.table(shard);
        table.slots[index] = Slot::Free;
        table.free.push(index);
    }

    /// Whether the slot has expired; if not, makes sure it will wake `waker`.
    fn expired(&self, shard: usize, index: usize, waker: &Waker) -> bool {
        let mut table = self.table(shard);
        match &mut table.slots[index] {
            Slot::Expired => true,
            Slot::Waiting { waker: w, .. } => {
                if !w.will_wake(waker) {
                    *w = waker.clone();
                }
                false
            }
            Slot::Free => unreachable!("a registered ask's slot is freed only by the ask"),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.shared.epoch)
            .as_nanos()
            .min(u128::from(NONE - 1)) as u64
    }

    /// Wakes the sweeper, spawning it if it is not running.
    fn wake_sweeper(&self) {
        let mut sweeper = self
            .shared
            .sweeper
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match sweeper.as_ref() {
            Some(handle) if !handle.is_finished() => self.shared.wake.notify_one(),
            _ => {
                let task = tokio::spawn(sweep(
                    Arc::downgrade(&self.shared),
                    Arc::clone(&self.shared.wake),
                ));
                *sweeper = Some(task.abort_handle());
            }
        }
    }
}

/// The sweeper: expires due slots, then sleeps until the earliest remaining deadline or until a
/// registration with an earlier one wakes it. Returns when the runtime is gone.
async fn sweep(shared: Weak<Shared>, wake: Arc<Notify>) {
    // If this task is dropped with its tokio runtime, the next registration must spawn another.
    struct Gone(Weak<Shared>);
    impl Drop for Gone {
        fn drop(&mut self) {
            if let Some(shared) = self.0.upgrade() {
                shared.target.store(NONE, Ordering::SeqCst);
            }
        }
    }
    let _gone = Gone(shared.clone());
    loop {
        let next = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let deadlines = Deadlines { shared };
            deadlines.expire_due()
        };
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}

impl Deadlines {
    /// Expires every slot whose deadline has passed and returns the earliest deadline left (the
    /// one the sweeper sleeps until, also published in `target`).
    fn expire_due(&self) -> Option<Instant> {
        // From here on every registration wakes the sweeper again (a notify leaves a permit), so
        // one that lands in a table already swept is not missed.
        self.shared.target.store(NONE, Ordering::SeqCst);
        let now = Instant::now();
        let mut earliest: Option<Instant> = None;
        let mut due = Vec::new();
        for shard in 0..SHARDS {
            let mut table = self.table(shard);
            for slot in &mut table.slots {
                if let Slot::Waiting { deadline, .. } = slot {
                    if *deadline <= now {
                        if let Slot::Waiting { waker, .. } = std::mem::replace(slot, Slot::Expired)
                        {
                            due.push(waker);
                        }
                    } else {
                        earliest = Some(earliest.map_or(*deadline, |e| e.min(*deadline)));
                    }
                }
            }
        }
        for waker in due {
            waker.wake();
        }
        let at = earliest?;
        let published = self.shared.target.fetch_min(self.nanos(at), Ordering::SeqCst);
        // A registration since the store above may have lowered the target: it also woke us.
        let _ = published;
        Some(at)
    }
}

/// The future of [`Deadlines::wait`]: the reply, or [`NoReply`].
#[derive(Debug)]
pub(crate) struct ReplyWait<'a, T> {
    deadlines: &'a Deadlines,
    rx: oneshot::Receiver<T>,
    deadline: Instant,
    shard: usize,
    slot: Option<usize>,
}

impl<T> Future for ReplyWait<'_, T> {
    type Output = Result<T, NoReply>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // The reply wins over a deadline that passed while it was on its way (as with a timer).
        if let Poll::Ready(reply) = Pin::new(&mut this.rx).poll(cx) {
            if let Some(index) = this.slot.take() {
                this.deadlines.unregister(this.shard, index);
            }
            return Poll::Ready(reply.map_err(|_| NoReply::Dropped));
        }
        match this.slot {
            None => {
                let index = this
                    .deadlines
                    .register(this.shard, this.deadline, cx.waker().clone());
                this.slot = Some(index);
                Poll::Pending
            }
            Some(index) => {
                if this.deadlines.expired(this.shard, index, cx.waker()) {
                    this.slot = None;
                    this.deadlines.unregister(this.shard, index);
                    Poll::Ready(Err(NoReply::Elapsed))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<T> Drop for ReplyWait<'_, T> {
    fn drop(&mut self) {
        if let Some(index) = self.slot.take() {
            self.deadlines.unregister(self.shard, index);
        }
    }
}
