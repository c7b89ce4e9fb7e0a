//! Seed 002 EventBus 3.2: the server SIGKILLed and restarted on its store mid-stream; none lost, no result stored twice.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_broker_restart() {
    support::check("delivery_broker_restart").await;
}
