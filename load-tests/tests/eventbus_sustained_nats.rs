//! Seed 002 EventBus 3.1, sustained: 210 events/s from four publishers on NATS JetStream (a server this test starts); every event once and in order, no backlog left (latency reported, not gated).

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventbus_sustained_nats() {
    support::check("eventbus_sustained_nats").await;
}
