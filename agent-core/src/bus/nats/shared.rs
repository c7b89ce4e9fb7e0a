//! What every handle of one connection shares: the JetStream context, the settings, the
//! counters, and the stream and consumer plumbing built on them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy};
use async_nats::jetstream::stream::{self, RetentionPolicy, StorageType};
use async_nats::jetstream::{self};

use super::accounting::Counters;
use super::consume::Settler;
use super::held::{progress_interval, spawn_progress, Held};
use super::{ConsumerSnapshot, NatsConfig, NatsError};
use crate::mailbox::MailboxSnapshot;

/// What every handle of one connection shares; not generic, so most of the transport compiles
/// once.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) js: jetstream::Context,
    pub(crate) config: NatsConfig,
    pub(crate) counters: Arc<Counters>,
    /// Prefix of the message ids this process mints: unique per connection.
    pub(crate) publisher: String,
    pub(crate) next_id: AtomicU64,
}

impl Shared {
    pub(crate) fn subject(&self, kind: &str, name: &str) -> String {
        format!("{}.{kind}.{name}", self.config.subject_prefix)
    }

    /// A message id no other publish of any process uses.
    pub(crate) fn mint_id(&self) -> String {
        format!(
            "{}-{}",
            self.publisher,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Creates the stream if it is missing and returns its duplicate window, refused when it
    /// does not outlast a publish's retries.
    pub(crate) async fn ensure_stream(
        &self,
        name: String,
        subjects: String,
        retention: RetentionPolicy,
    ) -> Result<Duration, NatsError> {
        let config = stream::Config {
            name: name.clone(),
            subjects: vec![subjects],
            retention,
            storage: StorageType::File,
            duplicate_window: self.config.duplicate_window,
            num_replicas: self.config.replicas,
            ..Default::default()
        };
        let mut stream =
            self.js
                .get_or_create_stream(config)
                .await
                .map_err(|e| NatsError::JetStream {
                    action: format!("create stream {name}"),
                    reason: e.to_string(),
                })?;
        // A stream that existed keeps its own window: check it against this publisher's retries.
        let window = stream
            .info()
            .await
            .map_err(|e| NatsError::JetStream {
                action: format!("read stream {name}"),
                reason: e.to_string(),
            })?
            .config
            .duplicate_window;
        let needed = self.config.publish_retry_span();
        if window <= needed {
            return Err(NatsError::DuplicateWindow {
                stream: name,
                window,
                needed,
            });
        }
        Ok(window)
    }

    /// A pull consumer on `stream` with explicit acknowledgement.
    pub(crate) async fn consumer(
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
        let wanted = config.filter_subject.clone();
        let stream = self.js.get_stream(stream).await.map_err(|e| fail(&e))?;
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(&name, config)
            .await
            .map_err(|e| fail(&e))?;
        // A name is per stream: an existing consumer of that name reading other subjects would
        // silently take messages meant for it.
        let has = &consumer.cached_info().config.filter_subject;
        if *has != wanted {
            return Err(fail(&format!(
                "a consumer of that name already reads {has:?}, not {wanted:?} (a group name is \
                 shared by every topic of the stream)"
            )));
        }
        Ok(consumer)
    }

    pub(crate) fn consumer_config(
        &self,
        name: &str,
        filter: String,
        capacity: usize,
    ) -> pull::Config {
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

    /// Room for `bound` unsettled messages, reported in progress while held.
    pub(crate) fn held(&self, bound: usize) -> Arc<Held> {
        let held = Held::new(bound);
        spawn_progress(
            self.js.client(),
            &held,
            progress_interval(self.config.ack_wait),
        );
        held
    }

    pub(crate) fn settler(&self, shared: &Arc<Shared>, of: &str) -> Arc<Settler> {
        Arc::new(Settler {
            shared: Arc::clone(shared),
            dead_subject: self.subject("dead", of),
        })
    }

    pub(crate) async fn consumer_snapshot(
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
