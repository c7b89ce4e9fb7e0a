//! What the NATS transport counts: every message published, retried, de-duplicated, delivered,
//! acknowledged, redelivered or dead-lettered, and the connection's health.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use serde::{Deserialize, Serialize};

use crate::mailbox::MailboxSnapshot;

/// The connection to the server, as the client last saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Connected; publishes and deliveries flow.
    Connected,
    /// Lost; the client is reconnecting. Publishes wait and are retried, deliveries pause.
    Disconnected,
    /// Closed for good.
    Closed,
}

/// The connection's state and how often it was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionHealth {
    /// The state now.
    pub state: ConnectionState,
    /// Times the connection was lost.
    pub disconnects: u64,
    /// Times it came back after a loss.
    pub reconnects: u64,
}

/// This process's counters, across all its topics, groups and queues.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatsCounters {
    /// Messages a stream stored for the first time on this process's publish.
    pub published: u64,
    /// Publish attempts repeated (same message id) after a lost or late acknowledgement.
    pub publish_retries: u64,
    /// Publishes the stream answered as duplicates of a message id it already held (a retry whose
    /// first attempt had arrived, or an outbox replay): stored once, counted here.
    pub deduplicated: u64,
    /// Publishes given up after every attempt.
    pub publish_failed: u64,
    /// Messages delivered to this process's consumers, redeliveries included.
    pub delivered: u64,
    /// Deliveries acknowledged (handled, or queued locally for a plain subscription).
    pub acked: u64,
    /// Deliveries negatively acknowledged (handler error, or a full local queue): delivered again
    /// after the configured delay.
    pub naked: u64,
    /// Deliveries that were not the message's first.
    pub redelivered: u64,
    /// Messages moved to the dead-letter stream (too many deliveries, or undecodable) and
    /// terminated.
    pub dead_lettered: u64,
    /// Messages whose payload was not valid JSON for the message type (dead-lettered too).
    pub undecodable: u64,
}

/// One consumer of this process: the server's view of its backlog and its local queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerSnapshot {
    /// The consumer's name on the server.
    pub name: String,
    /// The stream it reads.
    pub stream: String,
    /// Messages in the stream not yet delivered to it (its lag).
    pub pending: u64,
    /// Messages delivered and not yet acknowledged (by any member, for a shared group).
    pub ack_pending: u64,
    /// Messages the server has delivered more than once and not yet seen acknowledged.
    pub redelivering: u64,
    /// The local queue behind it, in this process.
    pub local: MailboxSnapshot,
}

/// Everything the transport accounts for; serializable like the bus's other snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatsSnapshot {
    /// The bus stream's name.
    pub stream: String,
    /// The connection.
    pub connection: ConnectionHealth,
    /// This process's counters.
    pub counters: NatsCounters,
    /// This process's consumers.
    pub consumers: Vec<ConsumerSnapshot>,
}

/// The live counters behind [`NatsCounters`] and [`ConnectionHealth`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) published: AtomicU64,
    pub(crate) publish_retries: AtomicU64,
    pub(crate) deduplicated: AtomicU64,
    pub(crate) publish_failed: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) acked: AtomicU64,
    pub(crate) naked: AtomicU64,
    pub(crate) redelivered: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) undecodable: AtomicU64,
    disconnects: AtomicU64,
    reconnects: AtomicU64,
    /// 0 connected, 1 disconnected, 2 closed.
    state: AtomicU8,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self) -> NatsCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        NatsCounters {
            published: get(&self.published),
            publish_retries: get(&self.publish_retries),
            deduplicated: get(&self.deduplicated),
            publish_failed: get(&self.publish_failed),
            delivered: get(&self.delivered),
            acked: get(&self.acked),
            naked: get(&self.naked),
            redelivered: get(&self.redelivered),
            dead_lettered: get(&self.dead_lettered),
            undecodable: get(&self.undecodable),
        }
    }

    pub(crate) fn health(&self) -> ConnectionHealth {
        ConnectionHealth {
            state: match self.state.load(Ordering::Acquire) {
                0 => ConnectionState::Connected,
                1 => ConnectionState::Disconnected,
                _ => ConnectionState::Closed,
            },
            disconnects: self.disconnects.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
        }
    }

    /// Records a client event: a loss, a return or the end of the connection.
    pub(crate) fn on_event(&self, event: &async_nats::Event) {
        match event {
            async_nats::Event::Disconnected => {
                bump(&self.disconnects);
                self.state.store(1, Ordering::Release);
                tracing::warn!("NATS connection lost; reconnecting");
            }
            async_nats::Event::Connected => {
                if self.state.swap(0, Ordering::AcqRel) == 1 {
                    bump(&self.reconnects);
                    tracing::info!("NATS connection back");
                }
            }
            async_nats::Event::Closed => self.state.store(2, Ordering::Release),
            other => tracing::warn!(event = %other, "NATS client event"),
        }
    }
}
