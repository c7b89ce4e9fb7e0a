//! Seed 000 (VERITAS) test 1: 100 agents x 5 steps of 1 ms simulated work, all at once.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn veritas_concurrent_100() {
    support::check("veritas_concurrent_100").await;
}
