//! Seed 002 EventBus 3.1, sustained: 210 events/s from four publishers on the in-process bus; every event once and in order, no backlog left (latency reported, not gated).

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventbus_sustained_local() {
    support::check("eventbus_sustained_local").await;
}
