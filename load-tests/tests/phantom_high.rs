//! Seed 001 (PhantomMesh) high profile: no loss, FIFO per sender, throughput as a ratio to raw tokio.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phantom_high() {
    support::check("phantom_high").await;
}
