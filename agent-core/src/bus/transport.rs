//! The seam between the bus and how messages reach subscribers.

use std::future::Future;

use super::snapshot::BusSnapshot;
use super::subscription::Subscription;
use crate::envelope::Envelope;
use crate::error::BusError;
use crate::mailbox::MailboxConfig;

/// What one publish did, subscriber by subscriber.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fanout {
    /// Subscribers whose mailbox queued the message.
    pub queued: u64,
    /// Subscribers whose drop policy discarded a message (the new one or their oldest).
    pub dropped: u64,
    /// Subscribers whose mailbox refused it (full under reject, or closed).
    pub rejected: u64,
    /// Subscribers whose block timeout expired.
    pub timed_out: u64,
}

/// Delivers published envelopes to subscribers. [`super::LocalTransport`] is the in-process one.
///
/// **Contract:** every subscriber's messages pass through a [`crate::Mailbox`] (the one inside
/// the [`Subscription`]), so its counters account for every message whatever the transport. What
/// a full mailbox does differs: in process its overflow policy acts (drop, reject, block); over
/// NATS the transport pulls no more than the mailbox has room for, so the policy does not act,
/// and a message that finds it full anyway is not dropped but nak'd, to be delivered again
/// (`bus/nats/pump.rs`).
pub trait Transport<M>: Send + Sync + 'static {
    /// Delivers `env` to every current subscriber of `topic`.
    fn publish(
        &self,
        topic: &str,
        env: Envelope<M>,
    ) -> impl Future<Output = Result<Fanout, BusError>> + Send;

    /// Delivers `env` like [`Transport::publish`], under the caller's message id `id`: a
    /// transport that can lose an acknowledgement (a networked one) stores a message whose id it
    /// already holds only once, so an application may retry a failed publish with the same id.
    /// The default ignores the id: in process there is no acknowledgement to lose, and a
    /// publish that returned an error delivered nothing.
    fn publish_with_id(
        &self,
        topic: &str,
        id: &str,
        env: Envelope<M>,
    ) -> impl Future<Output = Result<Fanout, BusError>> + Send {
        let _ = id;
        self.publish(topic, env)
    }

    /// Adds a subscriber to `topic` whose messages queue in a mailbox made with `mailbox`. It sees
    /// every message published after this returns.
    fn subscribe(
        &self,
        topic: &str,
        mailbox: MailboxConfig,
    ) -> impl Future<Output = Result<Subscription<M>, BusError>> + Send;

    /// Adds a subscriber named `name` to `topic`, whose place survives the subscriber: a
    /// networked transport keeps the messages it has not acknowledged and resumes with them when a
    /// subscriber of that name comes back, in this process or another (after a crash too).
    /// Subscribers sharing a name at once share its messages. The default is
    /// [`Transport::subscribe`]: in process there is no place left to resume once the process
    /// has gone.
    fn subscribe_durable(
        &self,
        topic: &str,
        name: &str,
        mailbox: MailboxConfig,
    ) -> impl Future<Output = Result<Subscription<M>, BusError>> + Send {
        let _ = name;
        self.subscribe(topic, mailbox)
    }

    /// Counters per topic.
    fn snapshot(&self) -> BusSnapshot;

    /// Refuses further publishes and closes every subscriber's mailbox (queued messages stay).
    fn close(&self);
}
