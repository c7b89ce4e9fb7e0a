//! Seed 001 (PhantomMesh) low profile: no loss, FIFO per sender, throughput as a ratio to raw tokio.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phantom_low() {
    support::check("phantom_low").await;
}
