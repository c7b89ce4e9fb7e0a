//! Load across processes on NATS JetStream: worker processes sharing a work queue
//! (`load-tests worker`), a publisher with an on-disk outbox (`load-tests publisher`), a
//! durable bus subscriber (`load-tests subscriber`), and the
//! fleet of child processes a delivery scenario starts, kills and restarts.
//!
//! One run's traffic is told apart from another's on the same server by its run id: jobs carry
//! it, results and duplicate reports go to topics named after it. The work queue is shared
//! (`jobs`), so a worker started by hand on another machine with `--nats URL` joins whatever
//! run is going on.

mod collect;
mod fleet;
mod outbox;
mod publisher;
mod server;
mod subscriber;
mod traffic;
mod worker;

pub use collect::{Collector, Results};
pub use fleet::Fleet;
pub use outbox::{Outbox, OutboxError, Pending};
pub use publisher::{
    check_horizon, publish_jobs, publish_jobs_with, PublisherArgs, PublisherError,
    PublisherSummary, REPLAY_HORIZON,
};
pub use server::{fleet_bin, RunServer};
pub use subscriber::{subscribe, SubscriberArgs, SubscriberError, EVENTS};
pub use traffic::{
    connect_waiting, nats_config, run_id, Done, Job, Traffic, DUPLICATES, JOBS, RESULTS,
    SERVER_PATIENCE,
};
pub use worker::{work, WorkerArgs, WorkerSummary};
