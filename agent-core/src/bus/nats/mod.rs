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
//!   stream after [`NatsConfig::max_deliver`] deliveries. A process holds at most its capacity
//!   unsettled (it pulls no further ahead), and reports what it holds in progress three times
//!   per ack wait, so a slow handler's message is neither redelivered nor dead-lettered.
//! - The [`Transport`](crate::bus::Transport) implementation (for [`crate::Bus`]) gives each
//!   subscriber a consumer of its own and acknowledges a message when the subscriber, having
//!   taken it, calls `recv` again (the settle step of [`crate::bus::Subscription`]). A durable
//!   subscription ([`crate::Bus::subscribe_durable`]) resumes where a crashed process left off;
//!   an anonymous one's consumer is removed by the server once its subscriber is gone, so what
//!   that process held is lost with it (at most once past the local mailbox).
//!
//! Delivery is at least once; with handlers idempotent by [`Delivery::message_id`] the effect is
//! once. ARCHITECTURE.md describes the guarantees and failure modes.

mod accounting;
mod config;
mod consume;
mod error;
mod for_bus;
mod held;
mod join;
mod publish;
mod pump;
mod queue;
mod settler;
mod shared;
mod topic_record;
mod unsettled;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::stream::RetentionPolicy;
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
pub use held::InHand;
pub use publish::Published;
pub use queue::WorkQueue;

use self::accounting::Counters;
use self::config::{check_name, check_topic};
use self::join::join;
pub(crate) use self::shared::Shared;
use self::topic_record::TopicRecord;
use crate::id::TraceId;

/// The oldest server this transport works with (consumer inactivity thresholds, nak delays and
/// the publish de-duplication it relies on are all there by 2.10).
pub const MIN_SERVER_VERSION: (u64, u64) = (2, 10);
const MIN_SERVER_VERSION_TEXT: &str = "2.10.0";

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
    /// The bus stream's duplicate window, as the server has it.
    window: std::time::Duration,
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
        let window = shared
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
            window,
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
            match self.topics.get(topic) {
                Some(t) => t.published.fetch_add(1, Ordering::Relaxed),
                None => self
                    .topics
                    .entry(topic.to_owned())
                    .or_default()
                    .published
                    .fetch_add(1, Ordering::Relaxed),
            };
        }
        Ok(published)
    }

    /// How long the bus stream remembers a message id (its `duplicate_window` on the server,
    /// which for a stream that existed may differ from [`NatsConfig::duplicate_window`]): a
    /// message published again under its id later than this after it was stored is stored twice.
    pub fn duplicate_window(&self) -> std::time::Duration {
        self.window
    }

    /// The configuration this transport connected with.
    pub fn config(&self) -> &NatsConfig {
        &self.shared.config
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
        let config = pull::Config {
            durable_name: Some(group.to_owned()),
            ..self.shared.consumer_config(group, filter, capacity)
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
        self.shared.stream_messages(&name).await
    }

    /// This process's counters.
    pub fn counters(&self) -> NatsCounters {
        self.shared.counters.snapshot()
    }
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
