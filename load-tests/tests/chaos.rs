//! Two seeded fault schedules on every test run (`load-tests chaos --seeds N` runs as
//! many as you like): real worker and publisher processes, a real server behind per-client
//! proxies, and a three-node cluster with R3 streams; every invariant must hold after each. A
//! failing seed replays with `load-tests chaos --seed <SEED> [--cluster]`.

use std::path::Path;

use load_tests::chaos::{run_seed, Topology};
use rstest::rstest;

const BIN: &str = env!("CARGO_BIN_EXE_load-tests");

async fn holds(seed: u64, topology: Topology) {
    let outcome = run_seed(seed, topology, Path::new(BIN))
        .await
        .unwrap_or_else(|e| panic!("seed {seed} could not be set up: {e}"));
    assert!(outcome.faults.len() >= 2, "{outcome:?}");
    assert_eq!(outcome.checked, 9);
    let flag = if topology == Topology::Cluster {
        " --cluster"
    } else {
        ""
    };
    assert!(
        outcome.violations.is_empty(),
        "seed {seed} ({}) broke: {:?}; replay: load-tests chaos --seed {seed}{flag}",
        outcome.faults.join(", "),
        outcome.violations
    );
}

/// A worker's link stalled, the server killed, the publisher's link black-holed.
#[rstest]
#[case::link_stall_server_kill_black_hole(1)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_server(#[case] seed: u64) {
    holds(seed, Topology::Single).await;
}

/// A partitioned member, then the jobs stream's leader paused.
#[rstest]
#[case::a_member_partitioned_then_the_leader_paused(13)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_node_cluster(#[case] seed: u64) {
    holds(seed, Topology::Cluster).await;
}
