//! Seed 003 (Netra): CPU- and memory-heavy workflows at once, against raw tokio.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netra_resource_contention() {
    support::check("netra_resource_contention").await;
}
