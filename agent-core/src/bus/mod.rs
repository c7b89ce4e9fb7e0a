//! Publish/subscribe topics. Every subscriber has its own [`Mailbox`] with the same overflow
//! policies and counters as an agent's, so a slow subscriber is accounted for, never silent.
//!
//! Delivery goes through a [`Transport`]: [`LocalTransport`] fans out in-process; a networked
//! transport (e.g. NATS JetStream) can implement the same trait without changing publishers or
//! subscribers.

mod local;
#[cfg(feature = "nats")]
pub mod nats;
mod transport;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::envelope::Envelope;
use crate::error::BusError;
use crate::id::TraceId;
use crate::mailbox::{Mailbox, MailboxConfig, MailboxSnapshot};
pub use local::LocalTransport;
pub use transport::{Fanout, Settle, Transport};

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

/// One subscriber's end of a topic. Dropping it unsubscribes; messages still queued are counted
/// as abandoned.
///
/// **Settling.** Over a transport that acknowledges (NATS), the message a `recv` returned is
/// acknowledged when the subscriber calls `recv` or `try_recv` again (or [`Subscription::settle`]),
/// so handle a message before asking for the next. One still in hand when the subscription is dropped (or its process dies),
/// and those still queued, are not acknowledged: a durable subscription
/// ([`Bus::subscribe_durable`]) gets them again when its name returns; an anonymous one's
/// consumer is removed by the server, so past its local mailbox it is at most once.
#[derive(Debug)]
pub struct Subscription<M> {
    topic: Arc<str>,
    mailbox: Arc<Mailbox<Envelope<M>>>,
    settle: Option<Arc<dyn Settle>>,
}

impl<M> Subscription<M> {
    /// Wraps a mailbox a transport feeds.
    pub fn new(topic: Arc<str>, mailbox: Arc<Mailbox<Envelope<M>>>) -> Subscription<M> {
        Subscription {
            topic,
            mailbox,
            settle: None,
        }
    }

    /// Wraps a mailbox a transport feeds and settles with `settle` at each receive.
    pub fn settled_by(
        topic: Arc<str>,
        mailbox: Arc<Mailbox<Envelope<M>>>,
        settle: Arc<dyn Settle>,
    ) -> Subscription<M> {
        Subscription {
            topic,
            mailbox,
            settle: Some(settle),
        }
    }

    /// The next message; `None` once the bus is closed and this subscription drained. The
    /// message the previous call returned counts as handled (see the type's docs).
    pub async fn recv(&self) -> Option<Envelope<M>> {
        let Some(settle) = &self.settle else {
            return self.mailbox.recv().await;
        };
        settle.handled();
        let next = self.mailbox.recv().await;
        if next.is_some() {
            settle.took();
        }
        next
    }

    /// The next message if one is queued (settling like [`Subscription::recv`]).
    pub fn try_recv(&self) -> Option<Envelope<M>> {
        let Some(settle) = &self.settle else {
            return self.mailbox.try_recv();
        };
        settle.handled();
        let next = self.mailbox.try_recv();
        if next.is_some() {
            settle.took();
        }
        next
    }

    /// Marks the message the last `recv` returned as handled now rather than at the next
    /// `recv`: what a subscriber that is done calls before it leaves, so the last message it
    /// handled is not delivered again. Nothing happens in process, or with no message in hand.
    pub fn settle(&self) {
        if let Some(settle) = &self.settle {
            settle.handled();
        }
    }

    /// The topic subscribed to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// This subscriber's mailbox counters.
    pub fn snapshot(&self) -> MailboxSnapshot {
        self.mailbox.snapshot()
    }
}

impl<M> Drop for Subscription<M> {
    fn drop(&mut self) {
        drop(self.mailbox.abandon());
    }
}

/// Counters of one topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicSnapshot {
    /// The topic.
    pub topic: String,
    /// Messages published on it.
    pub published: u64,
    /// Subscribers now.
    pub subscribers: u64,
    /// Mailbox counters summed over its subscribers, current and departed.
    pub mailboxes: MailboxSnapshot,
}

/// Counters of a whole bus.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusSnapshot {
    /// Per topic, sorted by name.
    pub topics: Vec<TopicSnapshot>,
}
