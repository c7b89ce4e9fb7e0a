//! Per-mailbox counters. Each has a single writer at a time (the sender-side counters here, under
//! the mailbox's state lock; `delivered`, kept by the receiver side of the mailbox, under its hand
//! lock), so an update is a plain load and store (no read-modify-write), and anyone can read them
//! without a lock.

use serde::{Deserialize, Serialize};

use crate::sync::{AtomicU64, Ordering};

/// Lock-free counters of one mailbox.
///
/// **Invariant** (checked by property tests; exact whenever read through [`super::Mailbox::snapshot`]):
/// `offered = accepted + rejected + timed_out` and
/// `accepted = delivered + dropped + abandoned + pending`.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct MailboxStats {
    // Touched by every send: the first `TOUCHED_ON_EVERY_SEND` bytes.
    offered: AtomicU64,
    accepted: AtomicU64,
    max_depth: AtomicU64,
    // Written only when a send is refused, times out, blocks or is dropped, or on abandon.
    rejected: AtomicU64,
    timed_out: AtomicU64,
    dropped: AtomicU64,
    abandoned: AtomicU64,
    blocked_sends: AtomicU64,
}

/// Increments a counter that only the lock holder writes.
#[inline]
pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.store(counter.load(Ordering::Relaxed) + by, Ordering::Relaxed);
}

impl MailboxStats {
    /// The leading bytes every send touches (`offered`, `accepted` written, `max_depth` read);
    /// the rest are written only when a send is refused, dropped, times out or blocks.
    #[cfg(test)]
    pub(crate) const TOUCHED_ON_EVERY_SEND: usize = 24;

    #[inline]
    pub(crate) fn offered(&self) {
        bump(&self.offered, 1);
    }
    #[inline]
    pub(crate) fn offered_count(&self) -> u64 {
        self.offered.load(Ordering::Relaxed)
    }
    #[inline]
    pub(crate) fn rejected(&self) {
        bump(&self.rejected, 1);
    }
    #[inline]
    pub(crate) fn timed_out(&self) {
        bump(&self.timed_out, 1);
    }
    #[inline]
    pub(crate) fn blocked(&self) {
        bump(&self.blocked_sends, 1);
    }
    #[inline]
    pub(crate) fn accepted(&self) {
        bump(&self.accepted, 1);
    }
    #[inline]
    pub(crate) fn max_depth(&self) -> u64 {
        self.max_depth.load(Ordering::Relaxed)
    }
    #[inline]
    pub(crate) fn observe_depth(&self, depth: usize) {
        let depth = depth as u64;
        if depth > self.max_depth.load(Ordering::Relaxed) {
            self.max_depth.store(depth, Ordering::Relaxed);
        }
    }
    #[inline]
    pub(crate) fn dropped(&self, n: u64) {
        bump(&self.dropped, n);
    }
    #[inline]
    pub(crate) fn abandoned(&self, n: u64) {
        bump(&self.abandoned, n);
    }

    /// The counters; `pending` is the queue length, which the caller reads under the lock (or
    /// derives, for a relaxed read).
    #[inline]
    pub(crate) fn snapshot(
        &self,
        delivered: u64,
        capacity: Option<usize>,
        pending: Option<usize>,
    ) -> MailboxSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let (accepted, dropped, abandoned) = (
            get(&self.accepted),
            get(&self.dropped),
            get(&self.abandoned),
        );
        let pending = match pending {
            Some(p) => p as u64,
            None => accepted.saturating_sub(delivered + dropped + abandoned),
        };
        MailboxSnapshot {
            capacity: capacity.map(|c| c as u64),
            offered: get(&self.offered),
            accepted,
            rejected: get(&self.rejected),
            timed_out: get(&self.timed_out),
            delivered,
            dropped,
            abandoned,
            pending,
            max_depth: get(&self.max_depth),
            blocked_sends: get(&self.blocked_sends),
        }
    }
}

/// A point-in-time copy of one mailbox's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxSnapshot {
    /// The bound, or `None` for an unbounded mailbox.
    pub capacity: Option<u64>,
    /// Sends attempted.
    pub offered: u64,
    /// Sends that the mailbox took (including ones a drop policy discarded later or at once).
    pub accepted: u64,
    /// Sends refused: full under [`super::OverflowPolicy::Reject`], or mailbox closed.
    pub rejected: u64,
    /// Sends that gave up after the block timeout.
    pub timed_out: u64,
    /// Messages handed to the receiver.
    pub delivered: u64,
    /// Accepted messages discarded by a drop policy.
    pub dropped: u64,
    /// Accepted messages discarded undelivered when the mailbox was closed without draining.
    pub abandoned: u64,
    /// Messages waiting now (current queue depth).
    pub pending: u64,
    /// The deepest the queue has been.
    pub max_depth: u64,
    /// Sends that had to wait for room at least once (block policy).
    pub blocked_sends: u64,
}

impl MailboxSnapshot {
    /// Whether both conservation laws hold for this snapshot.
    pub fn is_conserved(&self) -> bool {
        self.offered == self.accepted + self.rejected + self.timed_out
            && self.accepted == self.delivered + self.dropped + self.abandoned + self.pending
    }

    /// Sums many snapshots (for totals across mailboxes); the capacity is `None` if any is unbounded.
    pub fn total<'a>(snapshots: impl IntoIterator<Item = &'a MailboxSnapshot>) -> MailboxSnapshot {
        let mut total = MailboxSnapshot {
            capacity: Some(0),
            ..MailboxSnapshot::default()
        };
        for s in snapshots {
            total.absorb(s);
        }
        total
    }

    /// Adds another snapshot's counters to this one; the capacity becomes `None` if either is unbounded.
    pub fn absorb(&mut self, other: &MailboxSnapshot) {
        self.capacity = match (self.capacity, other.capacity) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        self.offered += other.offered;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.timed_out += other.timed_out;
        self.delivered += other.delivered;
        self.dropped += other.dropped;
        self.abandoned += other.abandoned;
        self.pending += other.pending;
        self.max_depth = self.max_depth.max(other.max_depth);
        self.blocked_sends += other.blocked_sends;
    }
}
