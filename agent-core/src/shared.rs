//! [`AgentShared`]: the state an agent shares with its addresses and the registry (its mailbox,
//! health, counters, end signal), generic over the agent's message and reply types only, so
//! that the registry and the runtime can hold it without knowing the agent.

use std::sync::{Arc, OnceLock};

use tokio::sync::{oneshot, Notify};
use tokio::task::AbortHandle;

use crate::envelope::Envelope;
use crate::error::HandlerFailure;
use crate::health::{Health, HealthCell};
use crate::id::AgentId;
use crate::mailbox::Mailbox;
use crate::metrics::{AgentSnapshot, AgentStats};

/// The reply channel of an ask.
pub(crate) type ReplyTo<R> = oneshot::Sender<Result<R, HandlerFailure>>;

/// What sits in an agent's mailbox: the envelope plus, for an ask, where the reply goes.
pub(crate) struct Letter<M, R> {
    pub(crate) env: Envelope<M>,
    pub(crate) reply: Option<ReplyTo<R>>,
}

/// The state an agent shares with its addresses and the registry.
pub(crate) struct AgentShared<M, R> {
    pub(crate) id: AgentId,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) mailbox: Mailbox<Letter<M, R>>,
    pub(crate) health: HealthCell,
    pub(crate) stats: AgentStats,
    pub(crate) ended: Notify,
    pub(crate) abort: OnceLock<AbortHandle>,
}

impl<M, R> AgentShared<M, R> {
    pub(crate) fn snapshot(&self) -> AgentSnapshot {
        self.stats.snapshot(
            self.id,
            self.name.as_deref(),
            self.health.get(),
            self.mailbox.snapshot(),
        )
    }

    /// Marks the agent ended and wakes everyone waiting in [`Address::stopped`].
    pub(crate) fn end(&self, health: Health) {
        self.health.set(health);
        self.ended.notify_waiters();
    }
}
