//! Submitting a run's jobs at a steady rate, through an outbox on disk when one is given.

use std::path::PathBuf;
use std::time::Duration;

use agent_core::bus::nats::{NatsError, NatsTransport};
use agent_core::TraceId;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{nats_config, Job, Outbox, OutboxError, Traffic, JOBS};

/// What to publish.
#[derive(Clone, Debug)]
pub struct PublisherArgs {
    /// The server or cluster.
    pub url: String,
    /// The run the jobs belong to.
    pub run: String,
    /// Jobs in the run, numbered from 0.
    pub jobs: u64,
    /// Jobs per second.
    pub rate_per_s: f64,
    /// Simulated work per job, in microseconds.
    pub work_us: u64,
    /// The outbox file; without one a job accepted in memory is lost if the process dies before
    /// the stream acknowledged it.
    pub outbox: Option<PathBuf>,
    /// Kill this process with SIGKILL once job `n` is sent and acknowledged but before the outbox
    /// has recorded the acknowledgement: from the outbox's view, a crash after the send whose
    /// outcome it cannot know (the publisher-crash fault). A restarted publisher replays that job
    /// and the stream drops it as a duplicate.
    pub crash_after_job: Option<u64>,
}

/// What a publisher did (printed as one JSON line by `load-tests publisher`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherSummary {
    /// Jobs submitted for the first time by this process.
    pub submitted: u64,
    /// Jobs found in the outbox at start and submitted again.
    pub replayed: u64,
    /// Submissions the stream answered as duplicates (it already had the job).
    pub deduplicated: u64,
    /// Publish attempts repeated after a lost or late acknowledgement.
    pub retries: u64,
}

/// Why publishing stopped.
#[derive(Debug, Error)]
pub enum PublisherError {
    /// The transport failed.
    #[error(transparent)]
    Nats(#[from] NatsError),
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// Replays the outbox, then submits the remaining jobs at `rate_per_s`.
pub async fn publish_jobs(args: &PublisherArgs) -> Result<PublisherSummary, PublisherError> {
    let nats = NatsTransport::<Traffic>::connect(nats_config(&args.url)).await?;
    let queue = nats.work_queue(JOBS).await?;
    let outbox = args.outbox.as_deref().map(Outbox::open).transpose()?;
    let mut summary = PublisherSummary::default();
    let (replay, first) = match &outbox {
        Some(o) => o.unacknowledged()?,
        None => (Vec::new(), 0),
    };
    for job in replay {
        let seq = job.seq;
        if queue
            .submit(&job.id(), &Traffic::Job(job), TraceId(seq))
            .await?
            .duplicate
        {
            summary.deduplicated += 1;
        }
        summary.replayed += 1;
        if let Some(o) = &outbox {
            o.acknowledged(seq)?;
        }
    }
    let period = Duration::from_secs_f64(1.0 / args.rate_per_s.max(1e-3));
    let mut pace = tokio::time::interval(period);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for seq in first..args.jobs {
        pace.tick().await;
        let job = Job {
            run: args.run.clone(),
            seq,
            work_us: args.work_us,
        };
        if let Some(o) = &outbox {
            o.accept(&job)?;
        }
        let published = queue
            .submit(&job.id(), &Traffic::Job(job), TraceId(seq))
            .await?;
        if published.duplicate {
            summary.deduplicated += 1;
        } else {
            summary.submitted += 1;
        }
        if args.crash_after_job == Some(seq) {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
        }
        if let Some(o) = &outbox {
            o.acknowledged(seq)?;
        }
    }
    summary.retries = nats.counters().publish_retries;
    Ok(summary)
}
