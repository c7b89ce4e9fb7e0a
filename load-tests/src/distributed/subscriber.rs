//! A durable bus subscriber's loop (`load-tests subscriber`): takes each message of a run's
//! events topic under a subscription name, handles it (a pause), and records its number in a
//! file before it asks for the next, which is when the transport acknowledges it. Killed
//! mid-message and started again under the same name, it must get every message it had not
//! finished: the bus's at-least-once promise for durable subscriptions, checked from outside.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agent_core::bus::nats::NatsError;
use agent_core::{Bus, MailboxConfig, OverflowPolicy};

use super::{connect_waiting, nats_config, Traffic};

/// Events of run `r` go to topic `events.<r>`.
pub const EVENTS: &str = "events";

/// How a subscriber runs.
#[derive(Clone, Debug)]
pub struct SubscriberArgs {
    /// The server or cluster.
    pub url: String,
    /// The run whose events it takes.
    pub run: String,
    /// The durable subscription's name.
    pub name: String,
    /// Its mailbox's capacity: how many messages it holds at once.
    pub capacity: usize,
    /// How long handling one message takes.
    pub handle: Duration,
    /// Where each handled message's number is appended, one per line.
    pub record: PathBuf,
    /// Kill this process (SIGKILL) while handling its n-th message, before recording it.
    pub crash_at: Option<u64>,
}

/// Why a subscriber stopped.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    /// The transport failed.
    #[error(transparent)]
    Nats(#[from] NatsError),
    /// Subscribing failed.
    #[error("subscribe: {0}")]
    Bus(#[from] agent_core::BusError),
    /// The record file could not be written.
    #[error("{path}: {source}")]
    Record {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

/// Subscribes, prints `subscribed` on stdout, and handles messages until `stop` is set; returns
/// how many it handled.
pub async fn subscribe(
    args: &SubscriberArgs,
    stop: Arc<AtomicBool>,
) -> Result<u64, SubscriberError> {
    let record_error = |source| SubscriberError::Record {
        path: args.record.clone(),
        source,
    };
    let mut record = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.record)
        .map_err(record_error)?;
    let nats = connect_waiting(nats_config(&args.url), std::time::Duration::ZERO).await?;
    let bus = Bus::with_transport(nats);
    let topic = format!("{EVENTS}.{}", args.run);
    let mailbox = MailboxConfig::bounded(args.capacity, OverflowPolicy::Block { timeout: None });
    let events = bus.subscribe_durable(&topic, &args.name, mailbox).await?;
    println!("subscribed");
    let mut taken = 0u64;
    let mut handled = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let next = tokio::select! {
            next = events.recv() => next,
            _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
        };
        let Some(envelope) = next else { break };
        taken += 1;
        if args.crash_at == Some(taken) {
            // Mid-message: this one in hand, those behind it queued locally, none acknowledged.
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
        }
        tokio::time::sleep(args.handle).await;
        let seq = match envelope.msg {
            Traffic::Job(job) => job.seq,
            Traffic::Done(done) => done.seq,
        };
        writeln!(record, "{seq}").map_err(record_error)?;
        handled += 1;
    }
    Ok(handled)
}
