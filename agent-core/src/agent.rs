//! An agent: the [`Agent`] trait that user code implements, the [`Context`] its handlers
//! receive, and the [`Address`] others send to it with (tell, ask) and watch or stop it by. The
//! three are generic over one another, so they live together.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use std::fmt;

use tokio::sync::oneshot;

use crate::deadlines::{deadline_after, Deadlines, NoReply};
use crate::error::{AskError, SendError};
use crate::health::Health;
use crate::id::{AgentId, TraceId};
use crate::mailbox::{Enqueued, MailboxSnapshot, Offered};
use crate::metrics::AgentSnapshot;
use crate::runtime::AgentRuntime;
use crate::shared::{AgentShared, Letter};

/// The error a handler or start hook returns to report that the agent itself is in trouble.
///
/// Failures that are part of normal work (a tool that answered "no") belong in `Reply`; a
/// `HandlerError` triggers the agent's restart policy.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An agent: state plus an async handler for typed messages.
///
/// The runtime owns the agent inside one tokio task and calls the handler for one message at a
/// time, in mailbox order. A handler that returns an error or panics is reported and the agent is
/// restarted or stopped according to its [`crate::RestartPolicy`]; the runtime stays up.
///
/// Implementations may write the methods as `async fn`, as long as the futures are `Send`.
pub trait Agent: Send + Sized + 'static {
    /// The messages this agent accepts.
    type Msg: Send + 'static;
    /// What a handler answers; [`Address::ask`] returns it, [`Address::tell`] discards it.
    type Reply: Send + 'static;

    /// Handles one message.
    fn handle(
        &mut self,
        msg: Self::Msg,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Result<Self::Reply, HandlerError>> + Send;

    /// Runs before the first message, and again after each restart. An error counts as a failure.
    fn on_start(
        &mut self,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs once when the agent stops (after draining, at shutdown or on a final failure).
    fn on_stop(&mut self, ctx: &mut Context<Self>) -> impl Future<Output = ()> + Send {
        let _ = ctx;
        async {}
    }
}

/// What a handler knows about itself and the message it is handling.
#[derive(Debug)]
pub struct Context<A: Agent> {
    address: Address<A>,
    runtime: AgentRuntime,
    trace_id: TraceId,
    /// The current message's time in the mailbox, if it is a measured one.
    queue_time: Option<Duration>,
}

impl<A: Agent> Context<A> {
    pub(crate) fn new(address: Address<A>, runtime: AgentRuntime) -> Context<A> {
        Context {
            address,
            runtime,
            trace_id: TraceId(0),
            queue_time: None,
        }
    }

    pub(crate) fn begin(&mut self, trace_id: TraceId, queue_time: Option<Duration>) {
        self.trace_id = trace_id;
        self.queue_time = queue_time;
    }

    /// This agent's id.
    pub fn id(&self) -> AgentId {
        self.address.id()
    }

    /// This agent's registered name, if it has one.
    pub fn name(&self) -> Option<&Arc<str>> {
        self.address.name()
    }

    /// An address to send to this agent (e.g. to hand to others for replies).
    pub fn address(&self) -> &Address<A> {
        &self.address
    }

    /// The runtime this agent lives in, to look up or spawn other agents.
    pub fn runtime(&self) -> &AgentRuntime {
        &self.runtime
    }

    /// The trace id of the message being handled; pass it on with `tell_traced` to follow the work.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// How long the current message waited in the mailbox before its handler started, exact;
    /// `None` unless it is one of the measured messages ([`crate::Timing`]: every ask, one tell
    /// in 16 by default).
    pub fn queue_time(&self) -> Option<Duration> {
        self.queue_time
    }
}

/// A cheap, cloneable handle to one agent.
pub struct Address<A: Agent> {
    pub(crate) cell: Arc<AgentShared<A::Msg, A::Reply, A>>,
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
    ///
    /// (An `async fn` in all but name: it returns [`Address::tell_traced`]'s future directly, one
    /// future fewer for the message to be copied through.)
    pub fn tell(
        &self,
        msg: A::Msg,
    ) -> impl Future<Output = Result<Enqueued, SendError<A::Msg>>> + Send + '_ {
        self.tell_traced(msg, TraceId::new())
    }

    /// Sends without waiting for a reply, as part of the work `trace_id` follows.
    ///
    /// (An `async fn` in all but name: an async block stores its arguments once, an `async fn`
    /// twice, and the future's size is paid by every task that awaits it.)
    #[allow(clippy::manual_async_fn)]
    pub fn tell_traced(
        &self,
        msg: A::Msg,
        trace_id: TraceId,
    ) -> impl Future<Output = Result<Enqueued, SendError<A::Msg>>> + Send + '_ {
        async move {
            let letter = Letter {
                msg,
                trace_id,
                enqueued_at: self.cell.measure_tell().then(Instant::now),
                reply: None,
            };
            // Only a send that must wait for room builds the waiting future.
            let sent = match self.cell.mailbox.offer(letter) {
                Offered::Done(result) => result,
                Offered::MustWait(letter) => self.cell.mailbox.wait_for_room(letter, None).await,
            };
            sent.map_err(|e| e.map(|l| l.msg))
        }
    }

    /// Sends without waiting for room: under the block policy a full mailbox refuses at once.
    pub fn try_tell(&self, msg: A::Msg) -> Result<Enqueued, SendError<A::Msg>> {
        let letter = Letter {
            msg,
            trace_id: TraceId::new(),
            enqueued_at: self.cell.measure_tell().then(Instant::now),
            reply: None,
        };
        self.cell
            .mailbox
            .try_send(letter)
            .map_err(|e| e.map(|l| l.msg))
    }

    /// Sends and waits for the handler's reply; `timeout` covers waiting for room and for the reply.
    /// If it runs out while waiting for room, the message comes back in
    /// [`AskError::Send`]`(`[`SendError::Timeout`]`)`; if while waiting for the reply, [`AskError::Timeout`].
    ///
    /// (An `async fn` in all but name, like [`Address::tell`].)
    pub fn ask(
        &self,
        msg: A::Msg,
        timeout: Duration,
    ) -> impl Future<Output = Result<A::Reply, AskError<A::Msg>>> + Send + '_ {
        self.ask_traced(msg, TraceId::new(), timeout)
    }

    /// [`Address::ask`] as part of the work `trace_id` follows.
    #[allow(clippy::manual_async_fn)]
    pub fn ask_traced(
        &self,
        msg: A::Msg,
        trace_id: TraceId,
        timeout: Duration,
    ) -> impl Future<Output = Result<A::Reply, AskError<A::Msg>>> + Send + '_ {
        async move {
            #[cfg(feature = "inject-regressions")]
            crate::inject::on_ask();
            let (tx, rx) = oneshot::channel();
            // One clock read serves the deadline and, with timing on, the envelope.
            let now = Instant::now();
            let deadline = deadline_after(now, timeout);
            let letter = Letter {
                msg,
                trace_id,
                enqueued_at: (self.cell.tell_period != 0).then_some(now),
                reply: Some(tx),
            };
            // No timer on the send: it is armed only if the send has to wait for room.
            let sent = match self.cell.mailbox.offer(letter) {
                Offered::Done(result) => result,
                Offered::MustWait(letter) => {
                    self.cell
                        .mailbox
                        .wait_for_room(letter, Some(deadline))
                        .await
                }
            };
            match sent {
                Err(e) => return Err(AskError::Send(e.map(|l| l.msg))),
                Ok(Enqueued::DroppedNewest) => return Err(AskError::Dropped),
                Ok(Enqueued::Queued | Enqueued::DroppedOldest) => {}
            }
            // No timer for the reply either: the runtime's deadline sweeper enforces the deadline.
            match Deadlines::wait(&self.cell.commons, rx, deadline, self.cell.id.get()).await {
                Err(NoReply::Elapsed) => Err(AskError::Timeout(timeout)),
                Err(NoReply::Dropped) => Err(AskError::Dropped),
                Ok(Err(failure)) => Err(AskError::Failed(failure)),
                Ok(Ok(reply)) => Ok(reply),
            }
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
            let ended = self.cell.commons.ended.notified();
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
