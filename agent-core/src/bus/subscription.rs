//! A subscriber's end of a topic: its mailbox, and the settling a transport that acknowledges
//! does at each receive.

use std::sync::Arc;

use crate::envelope::Envelope;
use crate::mailbox::{Mailbox, MailboxSnapshot};

/// One subscriber's end of a topic. Dropping it unsubscribes; messages still queued are counted
/// as abandoned.
///
/// **Settling.** Over a transport that acknowledges (NATS), the message a `recv` returned is
/// acknowledged when the subscriber calls `recv` or `try_recv` again (or [`Subscription::settle`]),
/// so handle a message before asking for the next. One still in hand when the subscription is dropped (or its process dies),
/// and those still queued, are not acknowledged: a durable subscription
/// ([`Bus::subscribe_durable`](crate::bus::Bus::subscribe_durable)) gets them again when its name returns; an anonymous one's
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

/// A transport's part in a subscription's receive step, for a transport that acknowledges what
/// its subscribers handled (a networked one). The settle rule is implicit: the message one
/// `recv` returned counts as handled when the subscriber calls `recv` (or `try_recv`) again.
pub trait Settle: Send + Sync + std::fmt::Debug + 'static {
    /// The subscriber is back for another message: the one it took last is handled.
    fn handled(&self);

    /// The subscriber took the oldest message of its mailbox.
    fn took(&self);
}
