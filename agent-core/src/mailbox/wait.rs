//! A send that waits for room: under the block policy, a sender that finds the mailbox full
//! registers as blocked, parks on the mailbox's sender `Notify`, and tries again when the
//! receiver frees room, until its timeout or deadline.

use std::future::Future;
use std::pin::pin;

use tokio::time::Instant;

use super::{Enqueued, Mailbox, OverflowPolicy, Refused};
use crate::deadlines::deadline_after;
use crate::error::SendError;
use crate::sync::Ordering;

impl<T> Mailbox<T> {
    /// Waits for room for an item that [`Mailbox::offer`] handed back, until the policy's
    /// timeout or `deadline`, whichever comes first.
    ///
    /// Cancel-safe: dropped while it waits, the send counts as timed out.
    // An async block rather than an `async fn`, which would store its arguments twice.
    #[allow(clippy::manual_async_fn)]
    pub(crate) fn wait_for_room(
        &self,
        mut item: T,
        deadline: Option<Instant>,
    ) -> impl Future<Output = Result<Enqueued, SendError<T>>> + '_ {
        async move {
            let timeout = match self.config.overflow {
                OverflowPolicy::Block { timeout } => timeout,
                _ => None,
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
                    let mut wake = None;
                    let mut st = self.lock();
                    if waiter.registered {
                        self.receiver.blocked.fetch_sub(1, Ordering::SeqCst);
                        waiter.registered = false;
                    }
                    match self.try_push(&mut st, item, &mut dropped, &mut wake) {
                        Ok(outcome) => {
                            waiter.settled = true;
                            drop(st);
                            if let Some(waker) = wake {
                                waker.wake();
                            }
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
                    self.receiver.blocked.fetch_add(1, Ordering::SeqCst);
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
                self.mailbox.receiver.blocked.fetch_sub(1, Ordering::SeqCst);
            }
            if !self.settled {
                self.mailbox.stats().timed_out();
            }
        }
    }
}
