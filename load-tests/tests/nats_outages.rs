//! Outages longer than the windows the transport relies on, each as one hand-written fault
//! schedule on the chaos harness (real worker and publisher processes, a real server behind
//! per-client proxies), with every chaos invariant checked after:
//! - a worker cut off (black hole) for three times the ack wait while it holds jobs: its jobs go
//!   to the other worker, its late work is absorbed (results stored once), nothing is lost or
//!   dead-lettered;
//! - the publisher cut off longer than the ack wait, with its acknowledgements held back (a
//!   one-way stall): it retries under the same ids, and the stream stores each job once.
//!
//! The outage longer than the de-duplication window is in agent-core/tests/nats_dedup.rs.

use std::path::Path;
use std::time::Duration;

use load_tests::chaos::{run_schedule, Client, Fault, Schedule, Scheduled, Topology};

const BIN: &str = env!("CARGO_BIN_EXE_load-tests");

/// Both outages in one run (their targets differ): a worker black-holed for three ack waits
/// while it holds jobs, and the publisher's acknowledgements held back past the ack wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_past_the_ack_wait_lose_nothing_and_store_each_job_once() {
    let at = Duration::from_millis(600);
    let schedule = Schedule {
        seed: 0,
        faults: vec![
            Scheduled {
                at,
                lasts: Duration::from_secs(3),
                fault: Fault::BlackHole(Client::Worker(0)),
            },
            Scheduled {
                at,
                lasts: Duration::from_millis(2500),
                fault: Fault::OneWayStall(Client::Publisher, false),
            },
        ],
    };
    let outcome = run_schedule(schedule, Topology::Single, Path::new(BIN))
        .await
        .unwrap();
    assert!(outcome.violations.is_empty(), "{outcome:?}");
    assert!(
        outcome.redelivered > 0,
        "the cut-off worker's jobs were to be redelivered: {outcome:?}"
    );
}
