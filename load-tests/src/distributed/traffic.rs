//! What travels between a delivery run's processes, and the settings they all connect with.

use std::time::Duration;

use agent_core::bus::nats::NatsConfig;
use serde::{Deserialize, Serialize};

/// The work queue every worker joins.
pub const JOBS: &str = "jobs";
/// Results go to `results.<run>`.
pub const RESULTS: &str = "results";
/// A worker whose result the stream already had reports it on `duplicates.<run>`.
pub const DUPLICATES: &str = "duplicates";

/// A unit of work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The run it belongs to.
    pub run: String,
    /// Its number within the run, from 0.
    pub seq: u64,
    /// Simulated work per job, in microseconds (a real sleep in the worker).
    pub work_us: u64,
}

impl Job {
    /// Its message id: the same on every submission, so the stream stores it once.
    pub fn id(&self) -> String {
        format!("{}-job-{}", self.run, self.seq)
    }

    /// The id of its result: the same whichever worker produces it, so the stream keeps one.
    pub fn result_id(&self) -> String {
        format!("{}-done-{}", self.run, self.seq)
    }
}

/// A finished job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    /// The job's number.
    pub seq: u64,
    /// The process that did it.
    pub worker: u32,
    /// Which delivery of the job it was.
    pub attempt: u64,
    /// The job's sequence number in the jobs stream: in job order for one publisher, since it
    /// waits for each job's acknowledgement before the next (the order the chaos runs check).
    #[serde(default)]
    pub job_sequence: u64,
}

/// Every message of a delivery run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Traffic {
    /// Work to do.
    Job(Job),
    /// Work done.
    Done(Done),
}

/// The transport settings every process of a run uses: short ack wait and ping interval, so a
/// crash or a partition is noticed in about a second, publish retries that outlast a broker
/// restart (up to 109 s), and a duplicate window (10 min) that covers them plus the publisher's
/// replay horizon (5 min). Given three or more servers (a cluster), streams are created with
/// three replicas, so they keep every acknowledged message through the loss of a node.
pub fn nats_config(url: &str) -> NatsConfig {
    NatsConfig {
        stream: "LOADTEST".to_owned(),
        subject_prefix: "loadtest".to_owned(),
        ack_wait: Duration::from_secs(1),
        nak_delay: Duration::from_millis(100),
        ping_interval: Duration::from_millis(500),
        publish_ack_timeout: Duration::from_secs(1),
        publish_attempts: 40,
        duplicate_window: Duration::from_secs(600),
        replicas: if url.split(',').count() >= 3 { 3 } else { 1 },
        name: format!("load-tests-{}", std::process::id()),
        ..NatsConfig::new(url)
    }
}

/// How long the processes a run starts wait for an unreachable server at start (a process
/// restarted while its server is down, as after a crash of both).
pub const SERVER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Connects, trying a server that cannot be reached yet again every 250 ms for up to `patience`
/// (zero: once); any other refusal (no JetStream, too old) is returned at once.
pub async fn connect_waiting(
    config: NatsConfig,
    patience: std::time::Duration,
) -> Result<agent_core::bus::nats::NatsTransport<Traffic>, agent_core::bus::nats::NatsError> {
    use agent_core::bus::nats::{NatsError, NatsTransport};
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match NatsTransport::connect(config.clone()).await {
            Err(NatsError::Unreachable { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            other => return other,
        }
    }
}

/// A fresh run id: process id and time, in characters valid in subjects and names.
pub fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("r{}x{:x}", std::process::id(), nanos & 0xffff_ffff_ffff)
}
