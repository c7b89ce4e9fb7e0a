//! Seed 002 EventBus 3.2: the publisher process dies after a send, before its outbox knew; the restart replays it, the stream drops the duplicate, none lost.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_publisher_crash() {
    support::check("delivery_publisher_crash").await;
}
