//! Submitting a run's jobs at a steady rate, through an outbox on disk when one is given.

use std::path::PathBuf;
use std::time::Duration;

use agent_core::bus::nats::{NatsConfig, NatsError};
use agent_core::TraceId;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{connect_waiting, nats_config, Job, Outbox, OutboxError, Traffic, JOBS};

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
    /// The longest a job may wait in the outbox and still be stored once when replayed: the
    /// stream's duplicate window must outlast it plus a publish's retries, checked at start.
    pub replay_horizon: Duration,
    /// How long to wait for a server that cannot be reached yet at start (zero: refuse at once).
    pub server_patience: Duration,
}

/// The replay horizon a publisher promises by default: an outage of up to five minutes.
pub const REPLAY_HORIZON: Duration = Duration::from_secs(300);

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
    /// Replayed jobs that had waited in the outbox longer than the replay horizon: the stream
    /// may have forgotten their ids and stored them twice (an idempotent consumer absorbs it).
    #[serde(default)]
    pub replayed_past_horizon: u64,
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
    /// The stream would forget a job's id before the outbox could replay it.
    #[error(
        "the jobs stream remembers message ids for {window:?}, which does not cover the outbox's \
         replay horizon ({horizon:?}) plus a publish's retries ({span:?}): a job replayed late \
         would be stored twice; lengthen the stream's duplicate_window or shorten the horizon"
    )]
    Horizon {
        /// The stream's duplicate window.
        window: Duration,
        /// The replay horizon asked for.
        horizon: Duration,
        /// How long one publish's retries can last.
        span: Duration,
    },
}

/// Refuses a horizon the stream's duplicate window does not cover.
pub fn check_horizon(
    window: Duration,
    horizon: Duration,
    span: Duration,
) -> Result<(), PublisherError> {
    if window <= horizon + span {
        return Err(PublisherError::Horizon {
            window,
            horizon,
            span,
        });
    }
    Ok(())
}

/// Replays the outbox, then submits the remaining jobs at `rate_per_s`.
pub async fn publish_jobs(args: &PublisherArgs) -> Result<PublisherSummary, PublisherError> {
    publish_jobs_with(nats_config(&args.url), args).await
}

/// [`publish_jobs`] with transport settings of the caller's (`args.url` unused).
pub async fn publish_jobs_with(
    config: NatsConfig,
    args: &PublisherArgs,
) -> Result<PublisherSummary, PublisherError> {
    let nats = connect_waiting(config, args.server_patience).await?;
    let queue = nats.work_queue(JOBS).await?;
    let outbox = args.outbox.as_deref().map(Outbox::open).transpose()?;
    if outbox.is_some() {
        let span = nats.config().publish_retry_span();
        check_horizon(queue.duplicate_window(), args.replay_horizon, span)?;
    }
    let mut summary = PublisherSummary::default();
    let (replay, first) = match &outbox {
        Some(o) => o.unacknowledged()?,
        None => (Vec::new(), 0),
    };
    for pending in replay {
        if pending.age() > args.replay_horizon {
            summary.replayed_past_horizon += 1;
            eprintln!(
                "load-tests publisher: job {} waited {:?} in the outbox, past the replay horizon \
                 ({:?}): replayed, and may be stored twice",
                pending.job.seq,
                pending.age(),
                args.replay_horizon
            );
        }
        let job = pending.job;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_horizon_the_window_does_not_cover_is_refused_with_the_numbers() {
        let s = Duration::from_secs;
        assert!(check_horizon(s(600), s(300), s(109)).is_ok());
        let refused = check_horizon(s(120), s(300), s(49))
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("120s") && refused.contains("300s") && refused.contains("49s"),
            "{refused}"
        );
        // The window must outlast both together, not each alone.
        assert!(check_horizon(s(120), s(71), s(49)).is_err());
    }
}
