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
//! by the first ask that needs it, on the tokio runtime that owns the agents: the one the
//! `AgentRuntime`'s first agent was spawned on ([`Deadlines::set_home`]), whichever runtime the
//! ask was made on (a sweeper on a current-thread runtime whose `block_on` has returned would
//! never run, and no ask would time out). It holds only a weak reference to the table's owner (the
//! runtime's `Commons`, in `shared.rs`): it ends when that is dropped, and is spawned again if
//! the tokio runtime it ran on has gone (then on the asking one, if the home runtime is gone).
//! What it costs in allocations, once per runtime: its task, and one slot table per shard that
//! asks use (grown to the peak of concurrent asks there).

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// Slot tables; an ask uses the one its agent's id picks, so the tables' growth (and with it
/// allocation counts) depends only on the asks themselves, never on which thread runs them.
const SHARDS: usize = 4;

/// `target` when the sweeper must be woken by any registration (it is not sleeping on a
/// deadline, or it is not running).
const NONE: u64 = u64::MAX;

/// The end of a table's free list.
const NIL: usize = usize::MAX;

/// The deadline tables of one runtime, embedded in whatever owns them (behind an `Arc`).
#[derive(Debug)]
pub(crate) struct Deadlines {
    shards: [Mutex<Table>; SHARDS],
    /// The deadline the sweeper sleeps until, in nanoseconds after `epoch`; [`NONE`] when any
    /// registration must wake it.
    target: AtomicU64,
    epoch: Instant,
    sweeper: Mutex<Sweeper>,
    /// The tokio runtime the sweeper is spawned on: the one the first agent was spawned on.
    home: OnceLock<Handle>,
}

#[derive(Debug, Default)]
struct Sweeper {
    task: Option<AbortHandle>,
    /// The sweeper's waker while it waits, and whether it has been woken since it last looked.
    waker: Option<Waker>,
    woken: bool,
}

/// A slab: waiting asks, with the free slots chained through it.
#[derive(Debug)]
struct Table {
    slots: Vec<Slot>,
    free: usize,
}

#[derive(Debug)]
enum Slot {
    Free { next: usize },
    Waiting { deadline: Instant, waker: Waker },
    Expired,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            shards: std::array::from_fn(|_| {
                Mutex::new(Table {
                    slots: Vec::new(),
                    free: NIL,
                })
            }),
            target: AtomicU64::new(NONE),
            epoch: Instant::now(),
            sweeper: Mutex::new(Sweeper::default()),
            home: OnceLock::new(),
        }
    }
}

impl Drop for Deadlines {
    fn drop(&mut self) {
        // The sweeper holds only a weak reference: wake it so that it sees the end and returns.
        if let Some(waker) = self.lock_sweeper().waker.take() {
            waker.wake();
        }
    }
}

/// Roughly 30 years: what a deadline past the clock's range becomes (tokio's own `timeout` does
/// the same), so that `Duration::MAX` means "no deadline" instead of an overflow.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// The instant `timeout` after `now`, or [`FAR_FUTURE`] from now when that is past the clock's
/// range.
pub(crate) fn deadline_after(now: Instant, timeout: Duration) -> Instant {
    now.checked_add(timeout).unwrap_or_else(|| now + FAR_FUTURE)
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
    /// Notes the tokio runtime the calling agent spawn runs on, if none is noted yet: the sweeper
    /// will run there.
    pub(crate) fn set_home(&self) {
        if self.home.get().is_none() {
            if let Ok(handle) = Handle::try_current() {
                let _ = self.home.set(handle);
            }
        }
    }

    /// Waits for `rx` until `deadline`, with the deadlines of `owner`; `shard_key` picks the slot
    /// table (the agent's id).
    pub(crate) fn wait<O, T>(
        owner: &Arc<O>,
        rx: oneshot::Receiver<T>,
        deadline: Instant,
        shard_key: u64,
    ) -> ReplyWait<'_, O, T>
    where
        O: AsRef<Deadlines> + Send + Sync + 'static,
    {
        ReplyWait {
            owner,
            rx,
            deadline,
            shard: (shard_key % SHARDS as u64) as usize,
            slot: None,
        }
    }

    fn table(&self, shard: usize) -> MutexGuard<'_, Table> {
        // No user code runs under these locks, so a poisoned lock still guards consistent state.
        self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_sweeper(&self) -> MutexGuard<'_, Sweeper> {
        self.sweeper.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register<O>(owner: &Arc<O>, shard: usize, deadline: Instant, waker: Waker) -> usize
    where
        O: AsRef<Deadlines> + Send + Sync + 'static,
    {
        let this: &Deadlines = (**owner).as_ref();
        let mut table = this.table(shard);
        let slot = Slot::Waiting { deadline, waker };
        let index = match table.free {
            NIL => {
                table.slots.push(slot);
                table.slots.len() - 1
            }
            i => {
                let Slot::Free { next } = std::mem::replace(&mut table.slots[i], slot) else {
                    unreachable!("the free list chains free slots only");
                };
                table.free = next;
                i
            }
        };
        drop(table);
        let at = this.nanos(deadline);
        if at < this.target.load(Ordering::SeqCst) {
            let before = this.target.fetch_min(at, Ordering::SeqCst);
            if at < before {
                wake_sweeper(owner);
            }
        }
        index
    }

    fn unregister(&self, shard: usize, index: usize) {
        let mut table = self.table(shard);
        table.slots[index] = Slot::Free { next: table.free };
        table.free = index;
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
            Slot::Free { .. } => unreachable!("a registered ask's slot is freed only by the ask"),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch)
            .as_nanos()
            .min(u128::from(NONE - 1)) as u64
    }

    /// Expires every slot whose deadline has passed and returns the earliest deadline left (the
    /// one the sweeper sleeps until, also published in `target`).
    fn expire_due(&self) -> Option<Instant> {
        // From here on every registration wakes the sweeper again (the wake is remembered), so one
        // that lands in a table already swept is not missed.
        self.target.store(NONE, Ordering::SeqCst);
        let now = Instant::now();
        let mut earliest: Option<Instant> = None;
        for shard in 0..SHARDS {
            let mut table = self.table(shard);
            for slot in &mut table.slots {
                let Slot::Waiting { deadline, .. } = slot else {
                    continue;
                };
                if *deadline <= now {
                    if let Slot::Waiting { waker, .. } = std::mem::replace(slot, Slot::Expired) {
                        // The asker takes its own table lock only after this one is released.
                        waker.wake();
                    }
                } else {
                    earliest = Some(earliest.map_or(*deadline, |e| e.min(*deadline)));
                }
            }
        }
        let at = earliest?;
        self.target.fetch_min(self.nanos(at), Ordering::SeqCst);
        Some(at)
    }
}

/// Wakes the sweeper of `owner`'s deadlines, spawning it if it is not running.
fn wake_sweeper<O>(owner: &Arc<O>)
where
    O: AsRef<Deadlines> + Send + Sync + 'static,
{
    let mut sweeper = (**owner).as_ref().lock_sweeper();
    match &sweeper.task {
        Some(task) if !task.is_finished() => {
            sweeper.woken = true;
            if let Some(waker) = sweeper.waker.take() {
                waker.wake();
            }
        }
        _ => {
            let this: &Deadlines = (**owner).as_ref();
            let home = this
                .home
                .get()
                .map(|h| h.spawn(sweep(Arc::downgrade(owner))));
            // A home runtime that has shut down cancels the task at once: sweep here instead.
            let task = match home {
                Some(task) if !task.is_finished() => task,
                _ => tokio::spawn(sweep(Arc::downgrade(owner))),
            };
            *sweeper = Sweeper {
                task: Some(task.abort_handle()),
                waker: None,
                woken: false,
            };
        }
    }
}

/// The sweeper: expires due slots, then sleeps until the earliest remaining deadline or until a
/// registration with an earlier one wakes it. Returns when the owner is gone.
async fn sweep<O>(owner: Weak<O>)
where
    O: AsRef<Deadlines> + Send + Sync + 'static,
{
    // If this task is dropped with its tokio runtime, the next registration must spawn another.
    struct Gone<O: AsRef<Deadlines>>(Weak<O>);
    impl<O: AsRef<Deadlines>> Drop for Gone<O> {
        fn drop(&mut self) {
            if let Some(owner) = self.0.upgrade() {
                (*owner).as_ref().target.store(NONE, Ordering::SeqCst);
            }
        }
    }
    let _gone = Gone(owner.clone());
    loop {
        let next = match owner.upgrade() {
            Some(o) => (*o).as_ref().expire_due(),
            None => return,
        };
        let mut sleep = pin!(next.map(tokio::time::sleep_until));
        std::future::poll_fn(|cx| {
            let Some(o) = owner.upgrade() else {
                return Poll::Ready(());
            };
            let mut sweeper = (*o).as_ref().lock_sweeper();
            if std::mem::take(&mut sweeper.woken) {
                return Poll::Ready(());
            }
            if let Some(sleep) = sleep.as_mut().as_pin_mut() {
                if sleep.poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            sweeper.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }
}

/// The future of [`Deadlines::wait`]: the reply, or [`NoReply`].
#[derive(Debug)]
pub(crate) struct ReplyWait<'a, O: AsRef<Deadlines> + Send + Sync + 'static, T> {
    owner: &'a Arc<O>,
    rx: oneshot::Receiver<T>,
    deadline: Instant,
    shard: usize,
    slot: Option<usize>,
}

impl<O: AsRef<Deadlines> + Send + Sync + 'static, T> ReplyWait<'_, O, T> {
    fn deadlines(&self) -> &Deadlines {
        (**self.owner).as_ref()
    }
}

impl<O: AsRef<Deadlines> + Send + Sync + 'static, T> Future for ReplyWait<'_, O, T> {
    type Output = Result<T, NoReply>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // The reply wins over a deadline that passed while it was on its way (as with a timer).
        if let Poll::Ready(reply) = Pin::new(&mut this.rx).poll(cx) {
            if let Some(index) = this.slot.take() {
                this.deadlines().unregister(this.shard, index);
            }
            return Poll::Ready(reply.map_err(|_| NoReply::Dropped));
        }
        match this.slot {
            None => {
                let index =
                    Deadlines::register(this.owner, this.shard, this.deadline, cx.waker().clone());
                this.slot = Some(index);
                Poll::Pending
            }
            Some(index) => {
                if this.deadlines().expired(this.shard, index, cx.waker()) {
                    this.slot = None;
                    this.deadlines().unregister(this.shard, index);
                    Poll::Ready(Err(NoReply::Elapsed))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<O: AsRef<Deadlines> + Send + Sync + 'static, T> Drop for ReplyWait<'_, O, T> {
    fn drop(&mut self) {
        if let Some(index) = self.slot.take() {
            self.deadlines().unregister(self.shard, index);
        }
    }
}
