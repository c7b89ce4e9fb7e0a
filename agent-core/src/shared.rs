//! [`AgentShared`]: the state an agent shares with its addresses and the registry (its mailbox,
//! health, counters, end signal), generic over the agent's message and reply types only, so
//! that the registry and the runtime can hold it without knowing the agent.

use std::sync::{Arc, OnceLock};

use tokio::sync::{oneshot, Notify};
use tokio::task::AbortHandle;

use tokio::time::Instant;

use crate::deadlines::Deadlines;
use crate::error::HandlerFailure;
use crate::health::{Health, HealthCell};
use crate::id::{AgentId, TraceId};
use crate::mailbox::Mailbox;
use crate::metrics::{AgentSnapshot, AgentStats};

/// The reply channel of an ask.
pub(crate) type ReplyTo<R> = oneshot::Sender<Result<R, HandlerFailure>>;

/// What sits in an agent's mailbox: the message, its trace id, its enqueue instant if it is
/// one of the measured messages (see [`crate::Timing`]), and for an ask where the reply goes.
pub(crate) struct Letter<M, R> {
    pub(crate) msg: M,
    pub(crate) trace_id: TraceId,
    pub(crate) enqueued_at: Option<Instant>,
    pub(crate) reply: Option<ReplyTo<R>>,
}

/// What every agent of one runtime shares: the sweeper of its asks' deadlines, and the signal
/// that one of its agents ended (each waiter re-checks its own agent's health). One signal per
/// runtime rather than one per agent keeps 32 bytes out of every agent; it is awaited only by
/// [`crate::Address::stopped`].
#[derive(Debug, Default)]
pub(crate) struct Commons {
    pub(crate) deadlines: Deadlines,
    pub(crate) ended: Notify,
}

impl AsRef<Deadlines> for Commons {
    fn as_ref(&self) -> &Deadlines {
        &self.deadlines
    }
}

/// The state an agent shares with its addresses and the registry. `K` is the agent's type, kept
/// only in the type (no bytes): the registry's probe reads its name for the metrics' labels.
///
/// `repr(C)` keeps the order: the fields written rarely first, then the mailbox (its senders'
/// side, its rarely written middle, its receiver's side), then the counters the agent's own task
/// writes on every message, next to the receiver's side of the mailbox and away from the senders'.
#[repr(C)]
pub(crate) struct AgentShared<M, R, K> {
    pub(crate) id: AgentId,
    pub(crate) name: Option<Arc<str>>,
    /// What the agents of its runtime share.
    pub(crate) commons: Arc<Commons>,
    pub(crate) abort: OnceLock<AbortHandle>,
    /// One tell in this many is measured; 0: none (see [`crate::Timing`]).
    pub(crate) tell_period: u32,
    /// Each handled message runs in a span ([`crate::RuntimeConfig::trace_spans`]).
    pub(crate) trace_spans: bool,
    pub(crate) health: HealthCell,
    pub(crate) kind: std::marker::PhantomData<fn() -> K>,
    pub(crate) mailbox: Mailbox<Letter<M, R>>,
    pub(crate) stats: AgentStats,
}

impl<M, R, K> AgentShared<M, R, K> {
    /// Whether the next tell is one of the measured ones: decided by the mailbox's send count,
    /// read without its lock (so under concurrent senders the period is approximate).
    #[inline]
    pub(crate) fn measure_tell(&self) -> bool {
        self.tell_period != 0 && self.mailbox.offered_relaxed() % u64::from(self.tell_period) == 0
    }

    pub(crate) fn snapshot(&self) -> AgentSnapshot {
        self.stats.snapshot(
            self.id,
            self.name.as_deref(),
            self.health.get(),
            self.mailbox.snapshot(),
        )
    }

    /// Its counters without its name (nothing allocated).
    #[cfg(feature = "openmetrics")]
    pub(crate) fn counts(&self) -> AgentSnapshot {
        self.stats
            .snapshot(self.id, None, self.health.get(), self.mailbox.snapshot())
    }

    /// Marks the agent ended and wakes everyone waiting in [`Address::stopped`].
    pub(crate) fn end(&self, health: Health) {
        self.health.set(health);
        self.commons.ended.notify_waiters();
    }
}
