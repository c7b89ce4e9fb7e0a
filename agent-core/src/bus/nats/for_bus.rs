//! The JetStream transport behind [`crate::Bus`]: each subscriber gets a consumer of its own (an
//! anonymous one, removed by the server a minute after its subscriber left; or a durable one,
//! named, that waits for its subscriber to come back), pulls no more than its mailbox holds, and
//! acknowledges a message when the subscriber comes back for the next ([`Unsettled`]).

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::config::check_name;
use super::config::check_topic;
use super::pump::{spawn_pump, Sink};
use super::settler::Settler;
use super::topic_record::Subscriber;
use super::unsettled::Unsettled;
use super::{NatsError, NatsTransport};
use crate::bus::{BusSnapshot, Fanout, Subscription, TopicSnapshot, Transport};
use crate::envelope::Envelope;
use crate::error::BusError;
use crate::mailbox::{Capacity, Mailbox, MailboxConfig, MailboxSnapshot};

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
        let name = format!("sub-{}", self.shared.mint_id());
        self.subscribe_as(topic, Consumer::Anonymous(name), mailbox)
            .await
    }

    async fn subscribe_durable(
        &self,
        topic: &str,
        name: &str,
        mailbox: MailboxConfig,
    ) -> Result<Subscription<M>, BusError> {
        check_name(name).map_err(|reason| {
            BusError::Transport(
                NatsError::BadName {
                    what: "subscription",
                    name: name.to_owned(),
                    reason,
                }
                .to_string(),
            )
        })?;
        self.subscribe_as(topic, Consumer::Durable(durable_name(name)), mailbox)
            .await
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

/// A subscriber's consumer on the server.
enum Consumer {
    /// Removed by the server a minute after its subscriber left.
    Anonymous(String),
    /// Kept until deleted ([`NatsTransport::delete_subscription`]).
    Durable(String),
}

/// The consumer name of the durable subscription `name` (apart from group names).
pub(super) fn durable_name(name: &str) -> String {
    format!("durable-{name}")
}

impl<M> NatsTransport<M>
where
    M: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    async fn subscribe_as(
        &self,
        topic: &str,
        consumer: Consumer,
        mailbox: MailboxConfig,
    ) -> Result<Subscription<M>, BusError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(BusError::Closed);
        }
        check_topic(topic).map_err(|e| BusError::Transport(e.to_string()))?;
        let queue = Arc::new(Mailbox::new(mailbox).map_err(BusError::InvalidMailbox)?);
        // The mailbox holds everything the process holds, so its policy never has to act.
        let in_flight = match mailbox.capacity {
            Capacity::Bounded(n) => n,
            Capacity::Unbounded => 1024,
        };
        let filter = self.shared.subject("topic", topic);
        let (name, config) = match consumer {
            Consumer::Anonymous(name) => {
                let config = pull::Config {
                    deliver_policy: DeliverPolicy::New,
                    inactive_threshold: std::time::Duration::from_secs(60),
                    ..self.shared.consumer_config(&name, filter, in_flight)
                };
                (name, config)
            }
            Consumer::Durable(name) => {
                let config = pull::Config {
                    durable_name: Some(name.clone()),
                    // Where it starts the first time; afterwards it resumes where it was.
                    deliver_policy: DeliverPolicy::New,
                    ..self.shared.consumer_config(&name, filter, in_flight)
                };
                (name, config)
            }
        };
        let consumer = self
            .shared
            .consumer(&self.shared.config.stream, config)
            .await
            .map_err(|e| BusError::Transport(e.to_string()))?;
        let settler = Settler::new(&self.shared, topic);
        let unsettled = Unsettled::new(Arc::clone(&settler));
        let pump = spawn_pump(
            consumer,
            settler,
            self.shared.held(in_flight),
            Sink::Envelopes(Arc::clone(&queue), Arc::clone(&unsettled)),
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
        Ok(Subscription::settled_by(Arc::from(topic), queue, unsettled))
    }

    /// Deletes the durable subscription `name` from the server: its place and the messages it
    /// had not acknowledged are gone. Subscribing under the name again starts afresh.
    pub async fn delete_subscription(&self, name: &str) -> Result<(), NatsError> {
        let consumer = durable_name(name);
        let stream = &self.shared.config.stream;
        let fail = |e: &dyn std::fmt::Display| NatsError::JetStream {
            action: format!("delete consumer {consumer} on stream {stream}"),
            reason: e.to_string(),
        };
        self.shared
            .js
            .get_stream(stream)
            .await
            .map_err(|e| fail(&e))?
            .delete_consumer(&consumer)
            .await
            .map_err(|e| fail(&e))?;
        Ok(())
    }
}
