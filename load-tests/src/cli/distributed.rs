//! `load-tests worker` and `load-tests publisher`: the processes of a load test that spans
//! processes or machines (see [`crate::distributed`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Args;

use super::{CliError, Exit};
use crate::distributed::{
    self, PublisherArgs, PublisherError, SubscriberArgs, SubscriberError, WorkerArgs,
};

/// `load-tests worker`'s options.
#[derive(Args, Debug)]
pub(super) struct WorkerOptions {
    /// The NATS server or cluster (comma-separated URLs).
    #[arg(long, value_name = "URL")]
    nats: String,
    /// A number naming this worker in results.
    #[arg(long, default_value_t = 0)]
    id: u32,
    /// Jobs held at once (delivered, not yet acknowledged).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=4096))]
    in_flight: u64,
    /// Kill this process (SIGKILL) on receiving its n-th job, before doing it: a crash in the
    /// middle of a message, for fault tests.
    #[arg(long, value_name = "N")]
    crash_at_job: Option<u64>,
    /// Wait up to this long for a server that cannot be reached yet (a worker restarted while
    /// its server is down) instead of refusing at once.
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    wait_for_server: u64,
}

/// `load-tests publisher`'s options.
#[derive(Args, Debug)]
pub(super) struct PublisherOptions {
    /// The NATS server or cluster (comma-separated URLs).
    #[arg(long, value_name = "URL")]
    nats: String,
    /// The run the jobs belong to.
    #[arg(long)]
    run: String,
    /// Jobs in the run.
    #[arg(long)]
    jobs: u64,
    /// Jobs per second.
    #[arg(long)]
    rate: f64,
    /// Simulated work per job, in microseconds.
    #[arg(long, default_value_t = 0)]
    work_us: u64,
    /// The outbox file (replayed with the same message ids at start).
    #[arg(long, value_name = "FILE")]
    outbox: Option<PathBuf>,
    /// Kill this process (SIGKILL) once job N is acknowledged, before the outbox records it.
    #[arg(long, value_name = "N")]
    crash_after_job: Option<u64>,
    /// The longest a job may wait in the outbox and still be stored once when replayed; the
    /// jobs stream's duplicate window must cover it plus a publish's retries (checked at start).
    #[arg(long, value_name = "SECS", default_value_t = distributed::REPLAY_HORIZON.as_secs())]
    replay_horizon_secs: u64,
    /// Wait up to this long for a server that cannot be reached yet instead of refusing at once.
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    wait_for_server: u64,
}

/// `load-tests subscriber`'s options.
#[derive(Args, Debug)]
pub(super) struct SubscriberOptions {
    /// The NATS server or cluster (comma-separated URLs).
    #[arg(long, value_name = "URL")]
    nats: String,
    /// The run whose events (topic `events.<run>`) it takes.
    #[arg(long)]
    run: String,
    /// The durable subscription's name.
    #[arg(long)]
    name: String,
    /// Messages held at once (its mailbox's capacity).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=4096))]
    capacity: u64,
    /// Time to handle one message, in milliseconds.
    #[arg(long, default_value_t = 0)]
    handle_ms: u64,
    /// The file each handled message's number is appended to.
    #[arg(long, value_name = "FILE")]
    record: PathBuf,
    /// Kill this process (SIGKILL) while handling its n-th message, before recording it.
    #[arg(long, value_name = "N")]
    crash_at: Option<u64>,
}

/// A runtime with tokio's I/O driver, for the commands that talk to a NATS server.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            path: PathBuf::from("tokio runtime"),
            what: "start",
            source,
        })
}

/// Works until SIGTERM or Ctrl-C, then prints a JSON summary line.
pub(super) fn worker(o: &WorkerOptions) -> Result<Exit, CliError> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // SIGTERM and SIGINT: finish the job in hand, then leave.
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("load-tests worker: SIGTERM will not stop cleanly: {e}");
    }
    let args = WorkerArgs {
        url: o.nats.clone(),
        worker: o.id,
        in_flight: o.in_flight as usize,
        crash_at_job: o.crash_at_job,
        server_patience: std::time::Duration::from_secs(o.wait_for_server),
    };
    let summary = runtime()?.block_on(distributed::work(&args, stop))?;
    println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    Ok(Exit::Pass)
}

/// Submits the run's jobs, then prints a JSON summary line.
pub(super) fn publisher(o: &PublisherOptions) -> Result<Exit, CliError> {
    if !(o.rate.is_finite() && o.rate > 0.0) {
        return Err(CliError::BadArgument {
            flag: "--rate",
            problem: format!("{} is not a positive number of jobs per second", o.rate),
        });
    }
    let args = PublisherArgs {
        url: o.nats.clone(),
        run: o.run.clone(),
        jobs: o.jobs,
        rate_per_s: o.rate,
        work_us: o.work_us,
        outbox: o.outbox.clone(),
        crash_after_job: o.crash_after_job,
        replay_horizon: std::time::Duration::from_secs(o.replay_horizon_secs),
        server_patience: std::time::Duration::from_secs(o.wait_for_server),
    };
    let summary = runtime()?
        .block_on(distributed::publish_jobs(&args))
        .map_err(|e| match e {
            PublisherError::Nats(n) => CliError::Nats(n),
            PublisherError::Outbox(o) => CliError::Outbox(o),
            horizon @ PublisherError::Horizon { .. } => CliError::BadArgument {
                flag: "--replay-horizon-secs",
                problem: horizon.to_string(),
            },
        })?;
    println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    Ok(Exit::Pass)
}

/// Handles a durable subscription's messages until SIGTERM or Ctrl-C, then prints how many.
pub(super) fn subscriber(o: &SubscriberOptions) -> Result<Exit, CliError> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("load-tests subscriber: SIGTERM will not stop cleanly: {e}");
    }
    let args = SubscriberArgs {
        url: o.nats.clone(),
        run: o.run.clone(),
        name: o.name.clone(),
        capacity: o.capacity as usize,
        handle: std::time::Duration::from_millis(o.handle_ms),
        record: o.record.clone(),
        crash_at: o.crash_at,
    };
    let handled = runtime()?
        .block_on(distributed::subscribe(&args, stop))
        .map_err(|e| match e {
            SubscriberError::Nats(n) => CliError::Nats(n),
            SubscriberError::Bus(b) => {
                CliError::Nats(agent_core::bus::nats::NatsError::JetStream {
                    action: "subscribe".to_owned(),
                    reason: b.to_string(),
                })
            }
            SubscriberError::Record { path, source } => CliError::Io {
                path,
                what: "append to",
                source,
            },
        })?;
    println!("{{\"handled\":{handled}}}");
    Ok(Exit::Pass)
}
