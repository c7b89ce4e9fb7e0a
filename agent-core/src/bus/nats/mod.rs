//! The bus on NATS JetStream (feature `nats`): topics, shared consumer groups and work queues
//! that span processes and machines, with the same accounting as local mailboxes.
//!
//! - Every publish carries a message id and is retried with the same id until the stream
//!   acknowledges it, so a lost acknowledgement never stores a message twice
//!   ([`NatsCounters::deduplicated`] counts what the server dropped).
//! - [`NatsTransport::group`] and [`WorkQueue::join`] give durable consumers with explicit
//!   acknowledgement: a [`Delivery`] is acknowledged after its handler succeeds, negatively
//!   acknowledged (delivered again after [`NatsConfig::nak_delay`]) after it fails, delivered
//!   again after [`NatsConfig::ack_wait`] if its process dies, and moved to the dead-letter
//!   stream after [`NatsConfig::max_deliver`] deliveries.
//! - The [`Transport`] implementation (for [`crate::Bus`]) gives each subscriber its own consumer
//!   and acknowledges a message once the subscriber's local mailbox took it.
//!
//! Delivery is at least once; with handlers idempotent by [`Delivery::message_id`] the effect is
//! once. ARCHITECTURE.md describes the guarantees and failure modes.

mod accounting;
mod config;
mod consume;
mod error;
mod publish;
mod queue;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::stream::{self, RetentionPolicy, StorageType};
use async_nats::jetstream::{self};
use dashmap::DashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::task::JoinHandle;

pub use accounting::{
    ConnectionHealth, ConnectionState, ConsumerSnapshot, NatsCounters, NatsSnapshot,
};
pub use config::NatsConfig;
pub use consume::{Delivery, NatsConsumer, Retry};
pub use error::NatsError;
pub use publish::Published;
pub use queue::WorkQueue;

use self::accounting::Counters;
use self::config::{check_name, check_token};
use self::consume::{spawn_pump, Settler, Sink};
use crate::bus::{BusSnapshot, Fanout, Subscription, TopicSnapshot, Transport};
use crate::envelope::Envelope;
use crate::error::BusError;
use crate::id::TraceId;
use crate::mailbox::{Capacity, Mailbox, MailboxConfig, MailboxSnapshot, OverflowPolicy};

/// The oldest server this transport works with (consumer inactivity thresholds, nak delays and
/// the publish de-duplication it relies on are all there by 2.10).
pub const MIN_SERVER_VERSION: (u64, u64) = (2, 10);
const MIN_SERVER_VERSION_TEXT: &str = "2.10.0";

/// What every handle of one connection shares; not generic, so most of the transport compiles
/// once.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) js: jetstream::Context,
    pub(crate) config: NatsConfig,
    pub(crate) counters: Arc<Counters>,
    /// Prefix of the message ids this process mints: unique per connection.
    publisher: String,
    next_id: AtomicU64,
}

impl Shared {
    fn subject(&self, kind: &str, name: &str) -> String {
        format!("{}.{kind}.{name}", self.config.subject_prefix)
    }

    /// A message id no other publish of any process uses.
    fn mint_id(&self) -> String {
        format!(
            "{}-{}",
            self.publisher,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }

    async fn ensure_stream(
        &self,
        name: String,
        subjects: String,
        retention: RetentionPolicy,
    ) -> Result<(), NatsError> {
        let config = stream::Config {
            name: name.clone(),
            subjects: vec![subjects],
            retention,
            storage: StorageType::File,
            duplicate_window: self.config.duplicate_window,
            ..Default::default()
        };
        self.js
            .get_or_create_stream(config)
            .await
            .map(drop)
            .map_err(|e| NatsError::JetStream {
                action: format!("create stream {name}"),
                reason: e.to_string(),
            })
    }

    /// A pull consumer on `stream` with explicit acknowledgement.
    async fn consumer(
        &self,
        stream: &str,
        config: pull::Config,
    ) -> Result<jetstream::consumer::PullConsumer, NatsError> {
        let name = config
            .durable_name
            .clone()
            .or_else(|| config.name.clone())
            .unwrap_or_default();
        let fail = |e: &dyn std::fmt::Display| NatsError::JetStream {
            action: format!("create consumer {name} on stream {stream}"),
            reason: e.to_string(),
        };
        let stream = self.js.get_stream(stream).await.map_err(|e| fail(&e))?;
        stream
            .get_or_create_consumer(&name, config)
            .await
            .map_err(|e| fail(&e))
    }

    fn consumer_config(&self, name: &str, filter: String, capacity: usize) -> pull::Config {
        pull::Config {
            name: Some(name.to_owned()),
            filter_subject: filter,
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.config.ack_wait,
            // The transport dead-letters past max_deliver itself; the server never gives up.
            max_deliver: -1,
            max_ack_pending: i64::try_from(capacity).unwrap_or(i64::MAX),
            ..Default::default()
        }
    }

    fn settler(&self, shared: &Arc<Shared>, of: &str) -> Arc<Settler> {
        Arc::new(Settler {
            shared: Arc::clone(shared),
            dead_subject: self.subject("dead", of),
        })
    }

    async fn consumer_snapshot(
        &self,
        stream: &str,
        name: &str,
        local: MailboxSnapshot,
    ) -> Result<ConsumerSnapshot, NatsError> {
        let info = self
            .js
            .get_consumer_from_stream::<pull::Config, _, _>(name, stream)
            .await
            .map_err(|e| NatsError::JetStream {
                action: format!("look up consumer {name} on stream {stream}"),
                reason: e.to_string(),
            })?
            .get_info()
            .await
            .map_err(|e| NatsError::JetStream {
                action: format!("read consumer {name} on stream {stream}"),
                reason: e.to_string(),
            })?;
        Ok(ConsumerSnapshot {
            name: name.to_owned(),
            stream: stream.to_owned(),
            pending: info.num_pending,
            ack_pending: info.num_ack_pending as u64,
            redelivering: info.num_redelivered as u64,
            local,
        })
    }
}

/// A local subscription's bookkeeping, for [`Transport::snapshot`] and
/// [`NatsTransport::snapshot_all`].
#[derive(Debug)]
struct Subscriber<M> {
    consumer: String,
    mailbox: Arc<Mailbox<Envelope<M>>>,
}

#[derive(Debug)]
struct TopicRecord<M> {
    published: AtomicU64,
    subscribers: Mutex<Vec<Subscriber<M>>>,
}

impl<M> Default for TopicRecord<M> {
    fn default() -> Self {
        TopicRecord {
            published: AtomicU64::new(0),
            subscribers: Mutex::new(Vec::new()),
        }
    }
}

/// A random number from the standard library's per-process hash keys (no RNG dependency needed
/// for an id prefix).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64,
    );
    h.finish()
}

/// The bus on NATS JetStream. Messages travel as JSON.
#[derive(Debug)]
pub struct NatsTransport<M> {
    shared: Arc<Shared>,
    topics: DashMap<String, TopicRecord<M>>,
    pumps: Mutex<Vec<JoinHandle<()>>>,
    closed: AtomicBool,
}

impl<M> NatsTransport<M>
where
    M: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Connects, checks the server (reachable, JetStream enabled, at least
    /// [`MIN_SERVER_VERSION`]), and creates the bus and dead-letter streams if they are missing.
    pub async fn connect(config: NatsConfig) -> Result<NatsTransport<M>, NatsError> {
        let addrs = config.validate()?;
        let counters = Arc::new(Counters::default());
        let events = Arc::clone(&counters);
        let client = async_nats::ConnectOptions::new()
            .name(&config.name)
            .ping_interval(config.ping_interval)
            .connection_timeout(config.connect_timeout)
            .event_callback(move |event| {
                let events = Arc::clone(&events);
                async move { events.on_event(&event) }
            })
            .connect(addrs)
            .await
            .map_err(|e| NatsError::Unreachable {
                url: config.url.clone(),
                reason: e.to_string(),
            })?;
        let info = client.server_info();
        if !version_at_least(&info.version, MIN_SERVER_VERSION) {
            return Err(NatsError::OldServer {
                url: config.url.clone(),
                version: info.version,
                required: MIN_SERVER_VERSION_TEXT,
            });
        }
        if !info.jetstream {
            return Err(NatsError::NoJetStream { url: config.url });
        }
        let js = jetstream::context::ContextBuilder::new()
            .timeout(config.publish_ack_timeout)
            .build(client);
        let publisher = format!(
            "{:x}-{}-{}",
            random_u64(),
            std::process::id(),
            info.client_id
        );
        let shared = Arc::new(Shared {
            js,
            config,
            counters,
            publisher,
            next_id: AtomicU64::new(0),
        });
        let prefix = &shared.config.subject_prefix;
        shared
            .ensure_stream(
                shared.config.stream.clone(),
                format!("{prefix}.topic.>"),
                RetentionPolicy::Limits,
            )
            .await?;
        shared
            .ensure_stream(
                format!("{}_DEAD", shared.config.stream),
                format!("{prefix}.dead.>"),
                RetentionPolicy::Limits,
            )
            .await?;
        Ok(NatsTransport {
            shared,
            topics: DashMap::new(),
            pumps: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        })
    }

    /// Publishes `msg` on `topic` with message id `id`: publishing the same id again within the
    /// duplicate window (a replay after a crash) stores nothing new.
    pub async fn publish_with_id(
        &self,
        topic: &str,
        id: &str,
        msg: &M,
        trace_id: TraceId,
    ) -> Result<Published, NatsError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(NatsError::Closed);
        }
        check_topic(topic)?;
        let subject = self.shared.subject("topic", topic);
        let body = publish::encode(&subject, msg, trace_id)?;
        let published = self.shared.publish_encoded(&subject, id, &body).await?;
        if !published.duplicate {
            self.topics
                .entry(topic.to_owned())
                .or_default()
                .published
                .fetch_add(1, Ordering::Relaxed);
        }
        Ok(published)
    }

    /// A fresh message id, unique across processes.
    pub fn next_message_id(&self) -> String {
        self.shared.mint_id()
    }

    /// Joins consumer group `group` on `topic`: every message of the topic goes to one member of
    /// the group, whichever process it is in. At most `capacity` messages are delivered and
    /// unacknowledged at once per group (the consumer's max-ack-pending), so the local queue
    /// never overflows; the rest wait in the stream as the group's lag.
    pub async fn group(
        &self,
        topic: &str,
        group: &str,
        capacity: usize,
    ) -> Result<NatsConsumer<M>, NatsError> {
        check_topic(topic)?;
        check_name(group).map_err(|reason| NatsError::BadName {
            what: "group",
            name: group.to_owned(),
            reason,
        })?;
        let filter = self.shared.subject("topic", topic);
        let config = self.shared.consumer_config(group, filter, capacity);
        let config = pull::Config {
            durable_name: Some(group.to_owned()),
            ..config
        };
        let stream = self.shared.config.stream.clone();
        join(&self.shared, &stream, config, topic, capacity).await
    }

    /// A work queue named `name` (its own stream, each message removed once acknowledged).
    pub async fn work_queue(&self, name: &str) -> Result<WorkQueue<M>, NatsError> {
        WorkQueue::open(Arc::clone(&self.shared), name).await
    }

    /// The connection's state and how often it was lost.
    pub fn health(&self) -> ConnectionHealth {
        self.shared.counters.health()
    }

    /// Everything counted, with the server's view of each local subscriber's consumer.
    pub async fn snapshot_all(&self) -> Result<NatsSnapshot, NatsError> {
        let mut subscribers = Vec::new();
        for topic in self.topics.iter() {
            let list = topic
                .subscribers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for s in list.iter() {
                subscribers.push((s.consumer.clone(), s.mailbox.snapshot()));
            }
        }
        let mut consumers = Vec::new();
        for (name, local) in subscribers {
            let stream = &self.shared.config.stream;
            consumers.push(self.shared.consumer_snapshot(stream, &name, local).await?);
        }
        Ok(NatsSnapshot {
            stream: self.shared.config.stream.clone(),
            connection: self.health(),
            counters: self.shared.counters.snapshot(),
            consumers,
        })
    }

    /// Messages in the dead-letter stream (from every process).
    pub async fn dead_letters(&self) -> Result<u64, NatsError> {
        let name = format!("{}_DEAD", self.shared.config.stream);
        let fail = |e: &dyn std::fmt::Display| NatsError::JetStream {
            action: format!("read stream {name}"),
            reason: e.to_string(),
        };
        let mut stream = self
            .shared
            .js
            .get_stream(&name)
            .await
            .map_err(|e| fail(&e))?;
        let info = stream.info().await.map_err(|e| fail(&e))?;
        Ok(info.state.messages)
    }

    /// This process's counters.
    pub fn counters(&self) -> NatsCounters {
        self.shared.counters.snapshot()
    }
}

/// Creates (or finds) the consumer and starts pulling into a fresh local queue.
async fn join<M>(
    shared: &Arc<Shared>,
    stream: &str,
    config: pull::Config,
    of: &str,
    capacity: usize,
) -> Result<NatsConsumer<M>, NatsError>
where
    M: DeserializeOwned + Send + 'static,
{
    if capacity == 0 {
        return Err(NatsError::Config {
            field: "capacity",
            reason: "must be at least 1".to_owned(),
        });
    }
    let name = config.durable_name.clone().unwrap_or_default();
    let consumer = shared.consumer(stream, config).await?;
    let mailbox = Arc::new(
        Mailbox::new(MailboxConfig::bounded(
            capacity,
            OverflowPolicy::Block { timeout: None },
        ))
        .map_err(|reason| NatsError::Config {
            field: "capacity",
            reason: reason.to_owned(),
        })?,
    );
    let pump = spawn_pump(
        consumer,
        shared.settler(shared, of),
        capacity,
        Sink::Deliveries(Arc::clone(&mailbox)),
    );
    Ok(NatsConsumer {
        name,
        stream: stream.to_owned(),
        mailbox,
        pump,
        shared: Arc::clone(shared),
    })
}

fn check_topic(topic: &str) -> Result<(), NatsError> {
    topic
        .split('.')
        .try_for_each(check_token)
        .map_err(|reason| NatsError::BadName {
            what: "topic",
            name: topic.to_owned(),
            reason,
        })
}

/// Whether `version` ("2.10.7", "v2.11.0-beta") is at least `min` (major, minor).
fn version_at_least(version: &str, min: (u64, u64)) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u64>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= min
}

impl<M> Transport<M> for NatsTransport<M>
where
    M: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    async fn publish(&self, topic: &str, env: Envelope<M>) -> Result<Fanout, BusError> {
        let id = self.shared.mint_id();
        let published = self
            .publish_with_id(topic, &id, &env.msg, env.trace_id)
            .await
            .map_err(|e| match e {
                NatsError::Closed => BusError::Closed,
                other => BusError::Transport(other.to_string()),
            })?;
        // The stream is the one subscriber a publish reaches; its consumers fan out from there.
        let _ = published;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_versions_compare_by_major_and_minor() {
        assert!(version_at_least("2.10.0", (2, 10)));
        assert!(version_at_least("2.15.1", (2, 10)));
        assert!(version_at_least("v3.0.0-beta", (2, 10)));
        assert!(!version_at_least("2.9.25", (2, 10)));
        assert!(!version_at_least("garbage", (2, 10)));
    }
}
