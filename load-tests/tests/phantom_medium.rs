//! Seed 001 (PhantomMesh) medium profile: no loss, FIFO per sender, throughput as a ratio to raw tokio.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phantom_medium() {
    support::check("phantom_medium").await;
}
