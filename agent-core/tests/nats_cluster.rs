//! The transport on a three-node JetStream cluster from nats-testkit: streams created with
//! `replicas: 3` keep every acknowledged message through the loss of a node (the client moves
//! to another member).

use std::collections::BTreeSet;
use std::time::Duration;

use agent_core::bus::nats::{NatsConfig, NatsTransport};
use agent_core::TraceId;
use nats_testkit::NatsCluster;
use tokio::time::timeout;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r3_streams_keep_every_acknowledged_message_through_a_node_loss() {
    let mut cluster = NatsCluster::start(3).unwrap();
    let config = NatsConfig {
        replicas: 3,
        ping_interval: Duration::from_millis(300),
        ..NatsConfig::new(cluster.url())
    };
    let nats = NatsTransport::<u64>::connect(config).await.unwrap();
    let queue = nats.work_queue("orders").await.unwrap();
    for n in 0..50u64 {
        queue
            .submit(&format!("o-{n}"), &n, TraceId(n))
            .await
            .unwrap();
    }
    // Every member holds a copy; lose one (the transport retries through the election if it
    // led the stream). Not the first URL's, which the client most likely uses: that adds a
    // reconnect, which `nats.rs` and the chaos runs cover, and 10 s to this test.
    cluster.node(2).kill();
    for n in 50..100u64 {
        queue
            .submit(&format!("o-{n}"), &n, TraceId(n))
            .await
            .unwrap();
    }
    let worker = queue.join(8).await.unwrap();
    let mut got = BTreeSet::new();
    while got.len() < 100 {
        let job = timeout(Duration::from_secs(30), worker.recv())
            .await
            .expect("every acknowledged message is there")
            .unwrap();
        got.insert(*job.msg());
        job.ack().await.unwrap();
    }
    assert_eq!(got, (0..100).collect());
}
