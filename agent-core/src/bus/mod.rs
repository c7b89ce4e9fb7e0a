//! Publish/subscribe topics. Every subscriber has its own [`Mailbox`](crate::mailbox::Mailbox) with the same overflow
//! policies and counters as an agent's, so a slow subscriber is accounted for, never silent.
//!
//! Delivery goes through a [`Transport`]: [`LocalTransport`] fans out in-process; a networked
//! transport (e.g. NATS JetStream) can implement the same trait without changing publishers or
//! subscribers.

mod local;
#[cfg(feature = "nats")]
pub mod nats;
mod snapshot;
mod subscription;
mod transport;

use std::sync::Arc;

use crate::envelope::Envelope;
use crate::error::BusError;
use crate::id::TraceId;
use crate::mailbox::MailboxConfig;
pub use local::LocalTransport;
pub use snapshot::{BusSnapshot, TopicSnapshot};
pub use subscription::{Settle, Subscription};
pub use transport::{Fanout, Transport};

/// A publish/subscribe bus for messages of type `M`.
#[derive(Debug)]
pub struct Bus<M, T = LocalTransport<M>> {
    transport: Arc<T>,
    _msg: std::marker::PhantomData<fn() -> M>,
}

impl<M, T> Clone for Bus<M, T> {
    fn clone(&self) -> Self {
        Bus {
            transport: Arc::clone(&self.transport),
            _msg: std::marker::PhantomData,
        }
    }
}

impl<M: Clone + Send + 'static> Default for Bus<M, LocalTransport<M>> {
    fn default() -> Self {
        Bus::with_transport(LocalTransport::default())
    }
}

impl<M: Clone + Send + 'static> Bus<M, LocalTransport<M>> {
    /// An in-process bus.
    pub fn local() -> Self {
        Bus::default()
    }
}

impl<M: Send + 'static, T: Transport<M>> Bus<M, T> {
    /// A bus delivering through `transport`.
    pub fn with_transport(transport: T) -> Self {
        Bus {
            transport: Arc::new(transport),
            _msg: std::marker::PhantomData,
        }
    }

    /// The transport, for what only it offers (a networked one's health and server-side
    /// counters).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Publishes `msg` on `topic` under a fresh trace id.
    pub async fn publish(&self, topic: &str, msg: M) -> Result<Fanout, BusError> {
        self.publish_traced(topic, msg, TraceId::new()).await
    }

    /// Publishes `msg` on `topic` as part of the work `trace_id` follows.
    pub async fn publish_traced(
        &self,
        topic: &str,
        msg: M,
        trace_id: TraceId,
    ) -> Result<Fanout, BusError> {
        self.transport
            .publish(topic, Envelope::new(msg, trace_id))
            .await
    }

    /// Publishes `msg` on `topic` under the caller's message id `id`, so that retrying a publish
    /// that failed (over NATS: [`BusError::Transport`] after the transport's own retries) cannot
    /// store it twice: the stream keeps one message per id within its `duplicate_window`. The
    /// in-process transport ignores the id (a publish that failed there delivered nothing).
    pub async fn publish_with_id(
        &self,
        topic: &str,
        id: &str,
        msg: M,
        trace_id: TraceId,
    ) -> Result<Fanout, BusError> {
        self.transport
            .publish_with_id(topic, id, Envelope::new(msg, trace_id))
            .await
    }

    /// Subscribes to `topic` with its own mailbox; the subscription sees every message published
    /// after this returns. Over NATS it is anonymous: its consumer goes with its process, so
    /// what the process held when it died (queued or in hand) is lost with it: at most once
    /// past the local mailbox. [`Bus::subscribe_durable`] is at least once across crashes.
    pub async fn subscribe(
        &self,
        topic: &str,
        mailbox: MailboxConfig,
    ) -> Result<Subscription<M>, BusError> {
        self.transport.subscribe(topic, mailbox).await
    }

    /// Subscribes to `topic` under `name`, a place that outlives this subscription: over NATS,
    /// a message is acknowledged only once handled (at the next `recv`), so a subscriber that
    /// crashes, or is dropped, with messages queued or in hand gets them again when a subscriber
    /// of that name returns, from where it left off. In process this is [`Bus::subscribe`].
    pub async fn subscribe_durable(
        &self,
        topic: &str,
        name: &str,
        mailbox: MailboxConfig,
    ) -> Result<Subscription<M>, BusError> {
        self.transport.subscribe_durable(topic, name, mailbox).await
    }

    /// Counters per topic and subscriber.
    pub fn snapshot(&self) -> BusSnapshot {
        self.transport.snapshot()
    }

    /// Closes the bus: publishes fail and every subscription ends after draining.
    pub fn close(&self) {
        self.transport.close();
    }
}
