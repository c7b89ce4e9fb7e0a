//! Settling: [`Delivery`] settles one delivered message with the server (ack, nak with delay, or
//! dead letter) and [`NatsConsumer`] is a durable consumer's local end. The pump that fills its
//! queue is in `pump.rs`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::jetstream;
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use super::accounting::ConsumerSnapshot;
use super::held::{Held, Hold, InHand};
use super::publish::{LEGACY_TRACE_HEADER, TRACEPARENT};
use super::settler::Settler;
use super::{NatsError, Shared};
use crate::id::TraceId;
use crate::mailbox::{Mailbox, MailboxSnapshot};

/// What happened to a message whose handler failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// It will be delivered again after the configured delay.
    Later,
    /// It had reached the delivery limit and is now in the dead-letter stream.
    DeadLettered,
}

/// One message delivered to a consumer, to be settled once handled: [`Delivery::ack`] after
/// success, [`Delivery::nak`] after a failure. While it is held (queued locally or being
/// handled) the server is told it is in progress, so it is not delivered again however long the
/// handler takes. Dropped unsettled (a consumer that leaves), or held by a process that dies, it
/// is delivered again after the ack wait, to this consumer or another member of its group.
#[derive(Debug)]
pub struct Delivery<M> {
    pub(crate) msg: M,
    pub(crate) trace_id: TraceId,
    pub(crate) message_id: String,
    pub(crate) attempt: u64,
    pub(crate) published_at: Option<SystemTime>,
    pub(crate) raw: jetstream::Message,
    pub(crate) settler: Arc<Settler>,
    /// Frees its room in the consumer's bound when the delivery is settled or dropped.
    pub(crate) _hold: Hold,
}

impl<M> Delivery<M> {
    /// The message.
    pub fn msg(&self) -> &M {
        &self.msg
    }

    /// The id it was published with (de-duplication key, the same on every delivery).
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// Which delivery of this message this is, from 1.
    pub fn attempt(&self) -> u64 {
        self.attempt
    }

    /// The stream's sequence number of the message: two deliveries with the same number are
    /// one stored message delivered twice; two numbers are two stored messages.
    pub fn sequence(&self) -> u64 {
        self.raw.info().map_or(0, |i| i.stream_sequence)
    }

    /// The publisher's trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// When the stream stored the message (the server's clock).
    pub fn published_at(&self) -> Option<SystemTime> {
        self.published_at
    }

    /// Handled: sends the acknowledgement, after which the server forgets the message for this
    /// consumer. The acknowledgement is sent, not confirmed (JetStream's plain ack): `Ok` means it
    /// left this process. If it is lost on the way, the server delivers the message again after
    /// the ack wait, so a handler must tolerate a repeat (de-duplicate by [`Delivery::message_id`]).
    pub async fn ack(self) -> Result<(), NatsError> {
        self.settler.ack(&self.raw, &self.message_id).await
    }

    /// Not handled: delivered again after the configured delay, or, if this was the last
    /// delivery allowed, moved to the dead-letter stream.
    pub async fn nak(self) -> Result<Retry, NatsError> {
        if self.attempt >= u64::from(self.settler.shared.config.max_deliver) {
            let reason = format!("handler failed on all {} deliveries", self.attempt);
            self.settler
                .dead_letter(&self.raw, &self.message_id, &reason)
                .await?;
            return Ok(Retry::DeadLettered);
        }
        self.settler.nak(&self.raw, &self.message_id).await?;
        Ok(Retry::Later)
    }

    /// Never to be handled: moved to the dead-letter stream now.
    pub async fn dead_letter(self, reason: &str) -> Result<(), NatsError> {
        self.settler
            .dead_letter(&self.raw, &self.message_id, reason)
            .await
    }
}

/// A decoded message and its metadata, before it has a destination.
pub(crate) struct Decoded<M> {
    pub(crate) msg: M,
    pub(crate) trace_id: TraceId,
    pub(crate) message_id: String,
    pub(crate) attempt: u64,
    pub(crate) published_at: Option<SystemTime>,
}

/// The message id, the delivery count and the decoded message (or why it is undecodable).
pub(crate) fn decode<M: DeserializeOwned>(
    raw: &jetstream::Message,
) -> (String, u64, Result<Decoded<M>, String>) {
    let info = raw.info().ok();
    let attempt = info.as_ref().map_or(1, |i| i.delivered.max(1) as u64);
    let sequence = info.as_ref().map_or(0, |i| i.stream_sequence);
    let header = |name: &str| {
        raw.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    let message_id = header(async_nats::header::NATS_MESSAGE_ID.as_ref())
        .unwrap_or_else(|| format!("seq-{sequence}"));
    let decoded = serde_json::from_slice::<M>(&raw.payload)
        .map_err(|e| format!("undecodable payload: {e}"))
        .map(|msg| Decoded {
            msg,
            trace_id: TraceId(
                header(TRACEPARENT)
                    .and_then(|v| TraceId::from_traceparent(&v).map(|t| t.0))
                    .or_else(|| header(LEGACY_TRACE_HEADER).and_then(|v| v.parse().ok()))
                    .unwrap_or(0),
            ),
            message_id: message_id.clone(),
            attempt,
            published_at: info.as_ref().and_then(|i| {
                let ns = u64::try_from(i.published.unix_timestamp_nanos()).ok()?;
                Some(UNIX_EPOCH + Duration::from_nanos(ns))
            }),
        });
    (message_id, attempt, decoded)
}

/// A durable consumer's local end: [`NatsConsumer::recv`] gives [`Delivery`]s to settle.
/// Dropping it stops pulling; messages queued locally and unsettled are delivered again after
/// the ack wait (to another member of the group, if any).
#[derive(Debug)]
pub struct NatsConsumer<M> {
    pub(crate) name: String,
    pub(crate) stream: String,
    pub(crate) mailbox: Arc<Mailbox<Delivery<M>>>,
    pub(crate) pump: JoinHandle<()>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) held: Arc<Held>,
}

impl<M> NatsConsumer<M> {
    /// The next delivery; `None` once the consumer is closed and drained.
    pub async fn recv(&self) -> Option<Delivery<M>> {
        self.mailbox.recv().await
    }

    /// The consumer's name on the server.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local queue's counters.
    pub fn local(&self) -> MailboxSnapshot {
        self.mailbox.snapshot()
    }

    /// How many deliveries this process holds unsettled, and the most it held at once: never
    /// more than the consumer's capacity (a worker's `in_flight`).
    pub fn in_hand(&self) -> InHand {
        self.held.in_hand()
    }

    /// The server's view of this consumer (lag, unacknowledged, redelivering) and the local queue.
    pub async fn snapshot(&self) -> Result<ConsumerSnapshot, NatsError> {
        self.shared
            .consumer_snapshot(&self.stream, &self.name, self.mailbox.snapshot())
            .await
    }
}

impl<M> Drop for NatsConsumer<M> {
    fn drop(&mut self) {
        self.pump.abort();
        drop(self.mailbox.abandon());
    }
}
