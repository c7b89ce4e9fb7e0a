//! Delivery under faults (seed 002, test 3.2): jobs at a steady rate through worker processes
//! sharing a NATS JetStream work queue, with one fault injected a second in; every job must get
//! exactly one stored result. `agents` is 1 and `ops_per_agent` the number of jobs (checked).

mod run;

use serde::{Deserialize, Serialize};

/// The fault a delivery scenario injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// A worker process is SIGKILLed while it holds jobs.
    ConsumerCrash,
    /// The server is paused (SIGSTOP) for 2 s, then resumed: every connection stalls, as in a
    /// network partition. Needs a server the run starts.
    Partition,
    /// The server is SIGKILLed and restarted a second later on the same port and store. Needs a
    /// server the run starts.
    BrokerRestart,
    /// The publisher process is SIGKILLed, then restarted; it replays its outbox.
    PublisherCrash,
}

impl Fault {
    /// Whether the fault acts on the server (so `--nats` cannot run it).
    pub fn on_server(self) -> bool {
        matches!(self, Fault::Partition | Fault::BrokerRestart)
    }
}

/// Parameters of the delivery kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnderFault {
    /// The fault.
    pub fault: Fault,
    /// Jobs in the run.
    pub jobs: u64,
    /// Jobs submitted per second.
    pub rate_per_s: f64,
    /// Simulated work per job, in microseconds.
    pub work_us: u64,
    /// Worker processes.
    pub workers: usize,
}
