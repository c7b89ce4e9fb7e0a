//! Seed 001 (PhantomMesh) high profile paced at 10,000 msg/s: no loss, FIFO per sender, latency from each
//! message's due time beside raw tokio on the same schedule, instructions per message.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phantom_high_paced() {
    support::check("phantom_high_paced").await;
}
