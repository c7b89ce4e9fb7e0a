//! The JetStream transport behind [`crate::Bus`]: each subscriber gets its own consumer, and a
//! message is acknowledged once the subscriber's local mailbox took it (naked when the mailbox
//! refused it, so it comes back after the nak delay).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::consume::{spawn_pump, Sink};
use super::{check_topic, NatsError, NatsTransport};
use crate::bus::{BusSnapshot, Fanout, Subscription, TopicSnapshot, Transport};
use crate::envelope::Envelope;
use crate::error::BusError;
use crate::mailbox::{Capacity, Mailbox, MailboxConfig, MailboxSnapshot};

/// A local subscription's bookkeeping, for [`Transport::snapshot`] and
/// [`NatsTransport::snapshot_all`].
#[derive(Debug)]
pub(super) struct Subscriber<M> {
    pub(super) consumer: String,
    pub(super) mailbox: Arc<Mailbox<Envelope<M>>>,
}

#[derive(Debug)]
pub(super) struct TopicRecord<M> {
    pub(super) published: AtomicU64,
    pub(super) subscribers: Mutex<Vec<Subscriber<M>>>,
}

impl<M> Default for TopicRecord<M> {
    fn default() -> Self {
        TopicRecord {
            published: AtomicU64::new(0),
            subscribers: Mutex::new(Vec::new()),
        }
    }
}

impl<M> Transport<M> for NatsTransport<M>
where
    M: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    async fn publish(&self, topic: &str, env: Envelope<M>) -> Result<Fanout, BusError> {
        let id = self.shared.mint_id();
        Transport::publish_with_id(self, topic, &id, env).await
    }

    async fn publish_with_id(
        &self,
        topic: &str,
        id: &str,
        env: Envelope<M>,
    ) -> Result<Fanout, BusError> {
        NatsTransport::publish_with_id(self, topic, id, &env.msg, env.trace_id)
            .await
            .map_err(|e| match e {
                NatsError::Closed => BusError::Closed,
                other => BusError::Transport(other.to_string()),
            })?;
        // The stream is the one subscriber a publish reaches; its consumers fan out from there.
        Ok(Fanout {
            queued: 1,
            ..Fanout::default()
        })
    }

    async fn subscribe(
        &self,
        topic: &str,
        mailbox: MailboxConfig,
    ) -> Result<Subscription<M>, BusError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(BusError::Closed);
        }
        check_topic(topic).map_err(|e| BusError::Transport(e.to_string()))?;
        let queue = Arc::new(Mailbox::new(mailbox).map_err(BusError::InvalidMailbox)?);
        let in_flight = match mailbox.capacity {
            Capacity::Bounded(n) => n,
            Capacity::Unbounded => 1024,
        };
        let name = format!("sub-{}", self.shared.mint_id());
        let filter = self.shared.subject("topic", topic);
        let config = pull::Config {
            deliver_policy: DeliverPolicy::New,
            // A departed subscriber's consumer is removed by the server.
            inactive_threshold: std::time::Duration::from_secs(60),
            ..self.shared.consumer_config(&name, filter, in_flight)
        };
        let consumer = self
            .shared
            .consumer(&self.shared.config.stream, config)
            .await
            .map_err(|e| BusError::Transport(e.to_string()))?;
        let pump = spawn_pump(
            consumer,
            self.shared.settler(&self.shared, topic),
            in_flight,
            Sink::Envelopes(Arc::clone(&queue)),
        );
        self.pumps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(pump);
        self.topics
            .entry(topic.to_owned())
            .or_default()
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Subscriber {
                consumer: name,
                mailbox: Arc::clone(&queue),
            });
        Ok(Subscription::new(Arc::from(topic), queue))
    }

    fn snapshot(&self) -> BusSnapshot {
        let mut topics: Vec<TopicSnapshot> = self
            .topics
            .iter()
            .map(|t| {
                let list = t.subscribers.lock().unwrap_or_else(PoisonError::into_inner);
                let snapshots: Vec<MailboxSnapshot> =
                    list.iter().map(|s| s.mailbox.snapshot()).collect();
                TopicSnapshot {
                    topic: t.key().clone(),
                    published: t.published.load(Ordering::Relaxed),
                    subscribers: list.iter().filter(|s| !s.mailbox.is_closed()).count() as u64,
                    mailboxes: MailboxSnapshot::total(&snapshots),
                }
            })
            .collect();
        topics.sort_by(|a, b| a.topic.cmp(&b.topic));
        BusSnapshot { topics }
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for pump in self
            .pumps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            pump.abort();
        }
        for t in self.topics.iter() {
            for s in t
                .subscribers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
            {
                s.mailbox.close();
            }
        }
    }
}
