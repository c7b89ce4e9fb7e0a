//! Seed 001 (PhantomMesh) extreme profile, one round: no loss, FIFO per sender, ratio to raw tokio.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phantom_extreme() {
    support::check("phantom_extreme").await;
}
