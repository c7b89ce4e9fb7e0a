//! Work queues: one stream per queue with work-queue retention (a message leaves the stream once
//! acknowledged) and one shared durable consumer, so any number of worker processes, on any
//! machines, share the work and a worker that dies mid-message loses nothing.

use std::sync::Arc;

use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::context::ConsumerInfoErrorKind;
use async_nats::jetstream::stream::RetentionPolicy;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::config::check_name;
use super::join::join;
use super::{publish, NatsConsumer, NatsError, Published, Shared};
use crate::id::TraceId;

/// The name of every work queue's one consumer, which all workers share.
const WORKERS: &str = "workers";

/// A work queue on JetStream. Submitters and workers may be in different processes: each opens
/// the queue by name.
#[derive(Debug)]
pub struct WorkQueue<M> {
    shared: Arc<Shared>,
    name: String,
    stream: String,
    subject: String,
    window: std::time::Duration,
    _msg: std::marker::PhantomData<fn() -> M>,
}

/// How much work a queue holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Backlog {
    /// Messages no worker has been given yet.
    pub waiting: u64,
    /// Messages given to a worker and not yet acknowledged.
    pub in_progress: u64,
}

impl<M> WorkQueue<M>
where
    M: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    pub(crate) async fn open(shared: Arc<Shared>, name: &str) -> Result<WorkQueue<M>, NatsError> {
        check_name(name).map_err(|reason| NatsError::BadName {
            what: "queue",
            name: name.to_owned(),
            reason,
        })?;
        let stream = format!("{}_Q_{name}", shared.config.stream);
        let subject = shared.subject("queue", name);
        let window = shared
            .ensure_stream(stream.clone(), subject.clone(), RetentionPolicy::WorkQueue)
            .await?;
        Ok(WorkQueue {
            shared,
            name: name.to_owned(),
            stream,
            subject,
            window,
            _msg: std::marker::PhantomData,
        })
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long the queue's stream remembers a message id, as the server has it: a job submitted
    /// again under its id later than this after it was stored (an outbox replayed after a longer
    /// outage) is stored twice.
    pub fn duplicate_window(&self) -> std::time::Duration {
        self.window
    }

    /// Adds `msg` under message id `id` (submitting the same id again within the duplicate
    /// window adds nothing: replay an outbox freely).
    pub async fn submit(
        &self,
        id: &str,
        msg: &M,
        trace_id: TraceId,
    ) -> Result<Published, NatsError> {
        let body = publish::encode(&self.subject, msg, trace_id)?;
        self.shared.publish_encoded(&self.subject, id, &body).await
    }

    /// Joins as a worker: up to `in_flight` messages are handed to this process at a time
    /// (delivered and not yet settled: it pulls no more than it has room for, see
    /// [`NatsConsumer::in_hand`]); the others wait for whichever worker is free. All workers
    /// together hold at most [`NatsConfig::work_queue_max_ack_pending`](super::NatsConfig).
    pub async fn join(&self, in_flight: usize) -> Result<NatsConsumer<M>, NatsError> {
        let all = self.shared.config.work_queue_max_ack_pending as usize;
        let config = pull::Config {
            durable_name: Some(WORKERS.to_owned()),
            ..self
                .shared
                .consumer_config(WORKERS, self.subject.clone(), all)
        };
        join(&self.shared, &self.stream, config, &self.name, in_flight).await
    }

    /// The name of the server leading the queue's stream on a cluster (its RAFT leader, which
    /// orders every write), or `None` on a single server or while no leader is elected.
    pub async fn stream_leader(&self) -> Result<Option<String>, NatsError> {
        let action = format!("read stream {}", self.stream);
        self.shared
            .until_settled(&action, || async {
                let mut stream = self
                    .shared
                    .js
                    .get_stream(&self.stream)
                    .await
                    .map_err(|e| (true, e.to_string()))?;
                let info = stream.info().await.map_err(|e| (true, e.to_string()))?;
                Ok(info.cluster.as_ref().and_then(|c| c.leader.clone()))
            })
            .await
    }

    /// Waits up to `within` for the queue to hold nothing (acknowledgements reach the server a
    /// moment after they are sent, and it applies them asynchronously); returns the last backlog
    /// seen, empty unless the time ran out.
    pub async fn until_empty(&self, within: std::time::Duration) -> Result<Backlog, NatsError> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let b = self.backlog().await?;
            if b.waiting + b.in_progress == 0 || tokio::time::Instant::now() >= deadline {
                return Ok(b);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// How much work waits and how much is being worked on (also before any worker joined: then
    /// everything the stream holds waits).
    pub async fn backlog(&self) -> Result<Backlog, NatsError> {
        // Work-queue retention: the stream holds exactly the messages not yet acknowledged.
        let held = self.shared.stream_messages(&self.stream).await?;
        let action = format!("read consumer {WORKERS} on stream {}", self.stream);
        let in_progress = self
            .shared
            .until_settled(&action, || async {
                let stream = self
                    .shared
                    .js
                    .get_stream(&self.stream)
                    .await
                    .map_err(|e| (true, e.to_string()))?;
                match stream.consumer_info(WORKERS).await {
                    Ok(info) => Ok(info.num_ack_pending as u64),
                    // No worker ever joined.
                    Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => Ok(0),
                    Err(e) => Err((
                        matches!(
                            e.kind(),
                            ConsumerInfoErrorKind::TimedOut
                                | ConsumerInfoErrorKind::Request
                                | ConsumerInfoErrorKind::Offline
                        ),
                        e.to_string(),
                    )),
                }
            })
            .await?;
        Ok(Backlog {
            waiting: held.saturating_sub(in_progress),
            in_progress,
        })
    }
}
