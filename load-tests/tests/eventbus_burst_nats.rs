//! Seed 002 EventBus 3.1, burst: 500 events/s on NATS JetStream; every event once, backlog cleared.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventbus_burst_nats() {
    support::check("eventbus_burst_nats").await;
}
