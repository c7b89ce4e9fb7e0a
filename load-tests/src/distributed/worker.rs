//! A worker process's loop: take a job from the shared queue, do it, publish its result under
//! an id derived from the job (so a job done twice, after a crash, leaves one result), then
//! acknowledge the job.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agent_core::bus::nats::NatsError;
use serde::{Deserialize, Serialize};

use super::{connect_waiting, nats_config, Done, Traffic, DUPLICATES, JOBS, RESULTS};

/// How a worker joins.
#[derive(Clone, Debug)]
pub struct WorkerArgs {
    /// The server or cluster.
    pub url: String,
    /// A number naming this worker in results.
    pub worker: u32,
    /// Jobs this process holds at once (delivered and not yet acknowledged).
    pub in_flight: usize,
    /// Kill this process with SIGKILL on receiving its n-th job, before doing it: a crash in
    /// the middle of a message, at a known point (the consumer-crash fault).
    pub crash_at_job: Option<u64>,
    /// How long to wait for a server that cannot be reached yet at start (zero: refuse at once).
    pub server_patience: Duration,
}

/// What a worker did (printed as one JSON line by `load-tests worker` when it leaves).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerSummary {
    /// Jobs done and acknowledged.
    pub done: u64,
    /// Jobs whose result the stream already had (done before by a worker that died before
    /// acknowledging): detected by the result's id, stored once.
    pub duplicates: u64,
}

/// Works until `stop` is set (then it finishes the job in hand and leaves; jobs queued locally
/// and unacknowledged go back to the others after the ack wait).
pub async fn work(args: &WorkerArgs, stop: Arc<AtomicBool>) -> Result<WorkerSummary, NatsError> {
    let nats = connect_waiting(nats_config(&args.url), args.server_patience).await?;
    let queue = nats.work_queue(JOBS).await?;
    let jobs = queue.join(args.in_flight).await?;
    let mut summary = WorkerSummary::default();
    let mut received = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let delivery = tokio::select! {
            d = jobs.recv() => d,
            _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
        };
        let Some(delivery) = delivery else { break };
        received += 1;
        if args.crash_at_job == Some(received) {
            // Nothing after this runs: the job in hand and those queued behind it are
            // unacknowledged, and the server gives them to another worker after the ack wait.
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
        }
        let Traffic::Job(job) = delivery.msg().clone() else {
            delivery.dead_letter("not a job").await?;
            continue;
        };
        if job.work_us > 0 {
            tokio::time::sleep(Duration::from_micros(job.work_us)).await;
        }
        let done = Traffic::Done(Done {
            seq: job.seq,
            worker: args.worker,
            attempt: delivery.attempt(),
            job_sequence: delivery.sequence(),
        });
        let trace = delivery.trace_id();
        let results = format!("{RESULTS}.{}", job.run);
        let published = nats
            .publish_with_id(&results, &job.result_id(), &done, trace)
            .await?;
        if published.duplicate {
            summary.duplicates += 1;
            let report = format!("{}-dup-{}-{}", job.run, job.seq, delivery.attempt());
            let topic = format!("{DUPLICATES}.{}", job.run);
            nats.publish_with_id(&topic, &report, &done, trace).await?;
        }
        delivery.ack().await?;
        summary.done += 1;
    }
    Ok(summary)
}
