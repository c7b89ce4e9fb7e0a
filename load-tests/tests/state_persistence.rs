//! Seed 002: 20 agents x 160 saves to disk, states verified after reopening.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_persistence() {
    support::check("state_persistence").await;
}
