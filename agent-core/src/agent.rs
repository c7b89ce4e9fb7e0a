//! The [`Agent`] trait that user code implements, and the [`Context`] its handlers receive.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::address::Address;
use crate::id::{AgentId, TraceId};
use crate::runtime::AgentRuntime;

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
    enqueued_at: Instant,
    /// When the handler started; `None` with timing off (then read lazily).
    started_at: Option<Instant>,
}

impl<A: Agent> Context<A> {
    pub(crate) fn new(address: Address<A>, runtime: AgentRuntime) -> Context<A> {
        Context {
            address,
            runtime,
            trace_id: TraceId(0),
            enqueued_at: Instant::now(),
            started_at: None,
        }
    }

    pub(crate) fn begin(
        &mut self,
        trace_id: TraceId,
        enqueued_at: Instant,
        started_at: Option<Instant>,
    ) {
        self.trace_id = trace_id;
        self.enqueued_at = enqueued_at;
        self.started_at = started_at;
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

    /// How long the current message waited in the mailbox before its handler started.
    ///
    /// With [`crate::RuntimeConfig::timing`] off the runtime does not read the clock at handler
    /// start, so this reads it now: the result then includes the handler's own time so far.
    pub fn queue_time(&self) -> Duration {
        let started = self.started_at.unwrap_or_else(Instant::now);
        started.saturating_duration_since(self.enqueued_at)
    }

    /// When the current message was enqueued.
    pub fn enqueued_at(&self) -> Instant {
        self.enqueued_at
    }
}
