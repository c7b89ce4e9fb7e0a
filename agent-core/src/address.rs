//! [`Address`]: the typed handle used to send to an agent (tell, ask) and to watch or stop it.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};
use tokio::task::AbortHandle;

use crate::agent::Agent;
use crate::envelope::Envelope;
use crate::error::{AskError, HandlerFailure, SendError};
use crate::health::{Health, HealthCell};
use crate::id::{AgentId, TraceId};
use crate::mailbox::{Enqueued, Mailbox, MailboxSnapshot};
use crate::metrics::{AgentSnapshot, AgentStats};

/// A cheap, cloneable handle to one agent.
pub struct Address<A: Agent> {
    pub(crate) cell: Arc<Cell<A>>,
}

impl<A: Agent> Clone for Address<A> {
    fn clone(&self) -> Self {
        Address {
            cell: Arc::clone(&self.cell),
        }
    }
}

impl<A: Agent> fmt::Debug for Address<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("id", &self.cell.id)
            .field("name", &self.cell.name)
            .field("health", &self.cell.health.get())
            .finish()
    }
}

/// The reply channel of an ask.
pub(crate) type ReplyTo<R> = oneshot::Sender<Result<R, HandlerFailure>>;

/// What sits in an agent's mailbox: the envelope plus, for an ask, where the reply goes.
pub(crate) struct Letter<A: Agent> {
    pub(crate) env: Envelope<A::Msg>,
    pub(crate) reply: Option<ReplyTo<A::Reply>>,
}

/// The state an agent shares with its addresses and the registry.
pub(crate) struct Cell<A: Agent> {
    pub(crate) id: AgentId,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) mailbox: Mailbox<Letter<A>>,
    pub(crate) health: HealthCell,
    pub(crate) stats: AgentStats,
    pub(crate) ended: Notify,
    pub(crate) abort: OnceLock<AbortHandle>,
}

impl<A: Agent> Address<A> {
    /// This agent's id.
    pub fn id(&self) -> AgentId {
        self.cell.id
    }

    /// This agent's registered name.
    pub fn name(&self) -> Option<&Arc<str>> {
        self.cell.name.as_ref()
    }

    /// Where the agent is in its life.
    pub fn health(&self) -> Health {
        self.cell.health.get()
    }

    /// Sends without waiting for a reply, under a fresh trace id.
    pub async fn tell(&self, msg: A::Msg) -> Result<Enqueued, SendError<A::Msg>> {
        self.tell_traced(msg, TraceId::new()).await
    }

    /// Sends without waiting for a reply, as part of the work `trace_id` follows.
    pub async fn tell_traced(
        &self,
        msg: A::Msg,
        trace_id: TraceId,
    ) -> Result<Enqueued, SendError<A::Msg>> {
        let letter = Letter {
            env: Envelope::new(msg, trace_id),
            reply: None,
        };
        self.cell
            .mailbox
            .send(letter)
            .await
            .map_err(|e| e.map(|l| l.env.msg))
    }

    /// Sends without waiting for room: under the block policy a full mailbox refuses at once.
    pub fn try_tell(&self, msg: A::Msg) -> Result<Enqueued, SendError<A::Msg>> {
        let letter = Letter {
            env: Envelope::new(msg, TraceId::new()),
            reply: None,
        };
        self.cell
            .mailbox
            .try_send(letter)
            .map_err(|e| e.map(|l| l.env.msg))
    }

    /// Sends and waits for the handler's reply; `timeout` covers waiting for room and for the reply.
    /// If it runs out while waiting for room, the message comes back in
    /// [`AskError::Send`]`(`[`SendError::Timeout`]`)`; if while waiting for the reply, [`AskError::Timeout`].
    pub async fn ask(&self, msg: A::Msg, timeout: Duration) -> Result<A::Reply, AskError<A::Msg>> {
        self.ask_traced(msg, TraceId::new(), timeout).await
    }

    /// [`Address::ask`] as part of the work `trace_id` follows.
    pub async fn ask_traced(
        &self,
        msg: A::Msg,
        trace_id: TraceId,
        timeout: Duration,
    ) -> Result<A::Reply, AskError<A::Msg>> {
        #[cfg(feature = "inject-regressions")]
        crate::inject::on_ask();
        let (tx, rx) = oneshot::channel();
        let letter = Letter {
            env: Envelope::new(msg, trace_id),
            reply: Some(tx),
        };
        // One clock read serves both the envelope and the deadline.
        let deadline = letter.env.enqueued_at + timeout;
        // No timer on the send: it is armed only if the send has to wait for room.
        match self.cell.mailbox.send_until(letter, Some(deadline)).await {
            Err(e) => return Err(AskError::Send(e.map(|l| l.env.msg))),
            Ok(Enqueued::DroppedNewest) => return Err(AskError::Dropped),
            Ok(Enqueued::Queued | Enqueued::DroppedOldest) => {}
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Err(_elapsed) => Err(AskError::Timeout(timeout)),
            Ok(Err(_closed)) => Err(AskError::Dropped),
            Ok(Ok(Err(failure))) => Err(AskError::Failed(failure)),
            Ok(Ok(Ok(reply))) => Ok(reply),
        }
    }

    /// Asks the agent to stop: its mailbox refuses new messages, it handles what is queued, runs
    /// its stop hook and ends. Returns at once; await [`Address::stopped`] to wait for the end.
    pub fn stop(&self) {
        self.cell.mailbox.close();
    }

    /// Waits until the agent has stopped or failed.
    pub async fn stopped(&self) -> Health {
        loop {
            let ended = self.cell.ended.notified();
            let health = self.cell.health.get();
            if health.is_terminal() {
                return health;
            }
            ended.await;
        }
    }

    /// The agent's counters.
    pub fn snapshot(&self) -> AgentSnapshot {
        self.cell.snapshot()
    }

    /// The agent's mailbox counters, taken consistently under the mailbox lock.
    pub fn mailbox(&self) -> MailboxSnapshot {
        self.cell.mailbox.snapshot()
    }
}

impl<A: Agent> Cell<A> {
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
