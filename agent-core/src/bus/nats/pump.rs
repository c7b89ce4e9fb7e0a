//! The pump: pulls a consumer's messages, never more than the room its process has
//! ([`Held`]), decodes them, checks the delivery limit and hands them to a local queue.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{self};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinHandle;

use super::accounting::bump;
use super::consume::{decode, Delivery};
use super::held::Held;
use super::settler::Settler;
use super::unsettled::{Unsettled, Unsettling};
use crate::envelope::Envelope;
use crate::error::SendError;
use crate::mailbox::{Enqueued, Mailbox};

/// How long one pull request waits on the server for messages.
const PULL_EXPIRES: Duration = Duration::from_secs(2);
/// How long past its expiry a pull is given up on when the server never said it ended (a server
/// that died or was cut off mid-pull): then it is made again, on the connection as it is now.
const PULL_GRACE: Duration = Duration::from_millis(500);
/// The pause before pulling again after a pull failed.
const REOPEN_PAUSE: Duration = Duration::from_millis(250);
/// How often a pump waiting for room or messages checks whether its queue closed.
const CLOSED_CHECK: Duration = Duration::from_millis(200);

/// Where a pump puts what it pulls.
pub(crate) enum Sink<M> {
    /// Deliveries the caller settles after handling them.
    Deliveries(Arc<Mailbox<Delivery<M>>>),
    /// Envelopes for a plain subscription, acknowledged when the subscriber comes back for the
    /// next one ([`Unsettled`]); naked when the mailbox refused them.
    Envelopes(Arc<Mailbox<Envelope<M>>>, Arc<Unsettled>),
}

impl<M> Sink<M> {
    fn is_closed(&self) -> bool {
        match self {
            Sink::Deliveries(m) => m.is_closed(),
            Sink::Envelopes(m, _) => m.is_closed(),
        }
    }
}

/// Pulls `consumer`'s messages into `sink` until the sink closes, each pull asking for no more
/// than the room `held` has, so the process never holds more than its bound. A failed pull (a
/// restarted server, a deleted consumer) is made again.
pub(crate) fn spawn_pump<M>(
    consumer: PullConsumer,
    settler: Arc<Settler>,
    held: Arc<Held>,
    sink: Sink<M>,
) -> JoinHandle<()>
where
    M: DeserializeOwned + Send + 'static,
{
    tokio::spawn(async move {
        let mut closed_check = tokio::time::interval(CLOSED_CHECK);
        while !sink.is_closed() {
            let mut room = tokio::select! {
                room = held.room() => room,
                _ = closed_check.tick() => continue,
            };
            let pulled = consumer
                .batch()
                .max_messages(room.len())
                .expires(PULL_EXPIRES)
                .messages()
                .await;
            let mut messages = match pulled {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot pull from a consumer; retrying");
                    tokio::time::sleep(REOPEN_PAUSE).await;
                    continue;
                }
            };
            let given_up_at = tokio::time::Instant::now() + PULL_EXPIRES + PULL_GRACE;
            loop {
                let next = tokio::select! {
                    next = messages.next() => next,
                    _ = closed_check.tick() => {
                        if sink.is_closed() { return; }
                        continue;
                    }
                    // A message already sent to the abandoned pull is delivered again after the
                    // ack wait.
                    _ = tokio::time::sleep_until(given_up_at) => break,
                };
                match next {
                    Some(Ok(raw)) => {
                        let Some(permit) = room.pop() else { break };
                        if !hand_over(raw, permit, &held, &settler, &sink).await {
                            return;
                        }
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "pull ended");
                        break;
                    }
                    None => break,
                }
            }
        }
    })
}

/// Hands one pulled message to the sink; false once the sink is closed.
async fn hand_over<M: DeserializeOwned>(
    raw: jetstream::Message,
    permit: OwnedSemaphorePermit,
    held: &Arc<Held>,
    settler: &Arc<Settler>,
    sink: &Sink<M>,
) -> bool {
    let counters = &settler.shared.counters;
    bump(&counters.delivered);
    let hold = held.hold(raw.reply.clone(), permit);
    let (id, attempt, decoded) = decode::<M>(&raw);
    if attempt > 1 {
        bump(&counters.redelivered);
    }
    let limit = u64::from(settler.shared.config.max_deliver);
    let outcome = match decoded {
        Err(reason) => {
            bump(&counters.undecodable);
            settler.dead_letter(&raw, &id, &reason).await
        }
        Ok(_) if attempt > limit => {
            let reason = format!("delivered {attempt} times, limit {limit}");
            settler.dead_letter(&raw, &id, &reason).await
        }
        Ok(d) => match sink {
            Sink::Deliveries(mailbox) => {
                let delivery = Delivery {
                    msg: d.msg,
                    trace_id: d.trace_id,
                    message_id: d.message_id,
                    attempt: d.attempt,
                    published_at: d.published_at,
                    raw,
                    settler: Arc::clone(settler),
                    _hold: hold,
                };
                match mailbox.send(delivery).await {
                    Ok(_) => Ok(()),
                    // Left unsettled: the server delivers it again after the ack wait.
                    Err(SendError::Closed(_)) => return false,
                    Err(SendError::Full(d) | SendError::Timeout(d)) => {
                        settler.nak(&d.raw, &d.message_id).await
                    }
                }
            }
            Sink::Envelopes(mailbox, unsettled) => {
                // The mailbox's capacity is the room the pump pulls into, so it has room for every
                // message held: its overflow policy never acts. The arms below keep the count
                // right should it ever (drop-oldest cannot: it never finds the mailbox full).
                unsettled.queue(Unsettling { raw, id, hold });
                match mailbox.send(Envelope::new(d.msg, d.trace_id)).await {
                    Ok(Enqueued::Queued | Enqueued::DroppedOldest) => Ok(()),
                    // Discarded by the subscriber's policy (counted as dropped): settled.
                    Ok(Enqueued::DroppedNewest) => match unsettled.unqueue_newest() {
                        Some(u) => settler.ack(&u.raw, &u.id).await,
                        None => Ok(()),
                    },
                    Err(SendError::Closed(_)) => return false,
                    Err(SendError::Full(_) | SendError::Timeout(_)) => {
                        match unsettled.unqueue_newest() {
                            Some(u) => settler.nak(&u.raw, &u.id).await,
                            None => Ok(()),
                        }
                    }
                }
            }
        },
    };
    if let Err(e) = outcome {
        // The server will deliver it again after the ack wait.
        tracing::warn!(error = %e, "could not settle a delivery");
    }
    true
}
