//! Seed 002 EventBus 3.2: a worker process SIGKILLs itself holding jobs; none lost, its jobs redelivered, no result stored twice.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_consumer_crash() {
    support::check("delivery_consumer_crash").await;
}
