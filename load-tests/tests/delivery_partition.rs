//! Seed 002 EventBus 3.2: the server paused 2 s (SIGSTOP) mid-stream; none lost, no result stored twice.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_partition() {
    support::check("delivery_partition").await;
}
