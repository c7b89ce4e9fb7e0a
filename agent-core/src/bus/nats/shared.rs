//! What every handle of one connection shares: the JetStream context, the settings, the
//! counters, and the stream and consumer plumbing built on them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy};
use async_nats::jetstream::stream::{self, RetentionPolicy, StorageType};
use async_nats::jetstream::{self};

use super::accounting::Counters;
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

/// Whether a JetStream error says the service is unavailable for now (HTTP-like status 503,
/// as while a cluster has no leader), as opposed to a request it will never accept.
fn unavailable(e: &jetstream::Error) -> bool {
    e.code() == 503
}

/// A stream lookup's failure for [`Shared::until_settled`]: whether it passes, and why.
fn lookup_failed(e: &jetstream::context::GetStreamError) -> (bool, String) {
    use jetstream::context::GetStreamErrorKind as G;
    let passes = match e.kind() {
        G::Request => true,
        G::JetStream(j) => unavailable(&j),
        _ => false,
    };
    (passes, e.to_string())
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
        let action = format!("create stream {name}");
        let window = self
            .until_settled(&action, || async {
                let mut stream =
                    self.js
                        .get_or_create_stream(config.clone())
                        .await
                        .map_err(|e| {
                            use jetstream::context::CreateStreamErrorKind as K;
                            let passes = match e.kind() {
                                K::TimedOut | K::JetStreamUnavailable => true,
                                K::JetStream(j) => unavailable(&j),
                                _ => false,
                            };
                            (passes, e.to_string())
                        })?;
                // A stream that existed keeps its own window: checked below against this
                // publisher's retries.
                let info = stream.info().await.map_err(|e| (true, e.to_string()))?;
                Ok(info.config.duplicate_window)
            })
            .await?;
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

    /// Runs a JetStream API call again, with the publish backoff and up to `publish_attempts`
    /// times, while it fails for a reason that passes (a request that timed out, JetStream
    /// unavailable while a cluster elects a leader after a member was lost); `call` says which
    /// failures pass. A process started while a member of its cluster is down thus waits for
    /// the election instead of failing.
    pub(crate) async fn until_settled<T, F, Fut>(
        &self,
        action: &str,
        mut call: F,
    ) -> Result<T, NatsError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, (bool, String)>>,
    {
        let mut pause = self.config.publish_backoff;
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(t) => return Ok(t),
                Err((true, reason)) if attempt < self.config.publish_attempts => {
                    tracing::debug!(action, attempt, %reason, "JetStream not ready; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(super::config::MAX_BACKOFF);
                    attempt += 1;
                }
                Err((_, reason)) => {
                    return Err(NatsError::JetStream {
                        action: action.to_owned(),
                        reason,
                    })
                }
            }
        }
    }

    /// How many messages stream `name` holds (retried like setup calls while the cluster is
    /// electing a leader).
    pub(crate) async fn stream_messages(&self, name: &str) -> Result<u64, NatsError> {
        self.until_settled(&format!("read stream {name}"), || async {
            let mut stream = self
                .js
                .get_stream(name)
                .await
                .map_err(|e| lookup_failed(&e))?;
            let info = stream.info().await.map_err(|e| (true, e.to_string()))?;
            Ok(info.state.messages)
        })
        .await
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
        let action = format!("create consumer {name} on stream {stream}");
        let wanted = config.filter_subject.clone();
        let consumer: jetstream::consumer::PullConsumer = self
            .until_settled(&action, || async {
                use jetstream::stream::ConsumerErrorKind as C;
                let got = self
                    .js
                    .get_stream(stream)
                    .await
                    .map_err(|e| lookup_failed(&e))?;
                got.get_or_create_consumer(&name, config.clone())
                    .await
                    .map_err(|e| {
                        let passes = match e.kind() {
                            C::TimedOut | C::Request => true,
                            C::JetStream(j) => unavailable(&j),
                            _ => false,
                        };
                        (passes, e.to_string())
                    })
            })
            .await?;
        // A name is per stream: an existing consumer of that name reading other subjects would
        // silently take messages meant for it.
        let has = &consumer.cached_info().config.filter_subject;
        if *has != wanted {
            return Err(NatsError::JetStream {
                action,
                reason: format!(
                    "a consumer of that name already reads {has:?}, not {wanted:?} (a group name \
                     is shared by every topic of the stream)"
                ),
            });
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
