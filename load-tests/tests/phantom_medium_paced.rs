//! Seed 001 (PhantomMesh) medium profile paced at 6,500 msg/s: no loss, FIFO per sender, latency from each
//! message's due time beside raw tokio on the same schedule, instructions per message.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phantom_medium_paced() {
    support::check("phantom_medium_paced").await;
}
